"""The suitability grid: criteria, weights, shares and ranking."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from mapapp.analysis.suitability import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    grid,
    score_grid,
    top_cells,
)


def test_grid_cells_cover_the_extent():
    cells = grid(box(0, 0, 1000, 500), 250)
    assert len(cells) == 8
    assert cells.geometry.area.unique().tolist() == [62500.0]


def test_scores_are_weighted_means_with_shares(prepared):
    cells = score_grid(prepared, DEFAULT_WEIGHTS, cell_m=250)
    values = cells[list(CRITERIA)].to_numpy()
    assert np.allclose(cells["score"], values.mean(axis=1))
    shares = cells[[f"{c}_share" for c in CRITERIA]].to_numpy().sum(axis=1)
    assert np.allclose(shares[cells["score"] > 0], 1.0)
    assert ((values >= 0) & (values <= 1)).all()


def test_criteria_values(prepared):
    cells = score_grid(prepared, DEFAULT_WEIGHTS, cell_m=250)
    # the cell holding the origin's north-east corner area: fibre zone z2 (100 %)
    east = cells[
        (cells["cx"] > 930000)
        & (cells["cx"] < 930250)
        & (cells["cy"] > 6700000)
        & (cells["cy"] < 6700250)
    ].iloc[0]
    assert east["fibre"] == 1.0
    assert east["station_m"] == pytest.approx(np.hypot(125, 1625), abs=1)
    # under-served: far from the open coworking w1 (closed w3 does not count)
    assert east["coworking_m"] == pytest.approx(np.hypot(125, 325), abs=1)


def test_weights_change_the_ranking(prepared):
    jobs_only = {c: 0.0 for c in CRITERIA} | {"jobs": 1.0}
    under_only = {c: 0.0 for c in CRITERIA} | {"underserved": 1.0}
    best_jobs = top_cells(score_grid(prepared, jobs_only, 250), 1)[0]
    best_under = top_cells(score_grid(prepared, under_only, 250), 1)[0]
    assert (best_jobs["lat"], best_jobs["lon"]) != (
        best_under["lat"],
        best_under["lon"],
    )
    assert best_jobs["shares"]["jobs"] == 1.0
    assert best_under["shares"]["underserved"] == 1.0


def test_top_cells_explain_the_ranking(prepared):
    top = top_cells(score_grid(prepared, DEFAULT_WEIGHTS, 250), 5)
    assert [t["rank"] for t in top] == [1, 2, 3, 4, 5]
    assert top[0]["score"] >= top[-1]["score"]
    assert set(top[0]["shares"]) == set(CRITERIA)


def test_a_criterion_without_data_is_left_out_and_weights_renormalised(world):
    from mapapp.analysis import Prepared
    from mapapp.analysis.suitability import weights_used

    world["companies"]["headcount_class"] = None  # no band known: no jobs data
    cells = score_grid(Prepared(world), DEFAULT_WEIGHTS, cell_m=250)
    assert cells.attrs["left_out"] == ["jobs"]
    others = [c for c in CRITERIA if c != "jobs"]
    # the mean of the four others, not of five with jobs at 0
    assert np.allclose(cells["score"], cells[others].to_numpy().mean(axis=1))
    assert top_cells(cells, 1)[0]["criteria"]["jobs"] is None
    used = weights_used(DEFAULT_WEIGHTS, cells.attrs["left_out"])
    assert used == {c: 0.25 for c in others}


def test_top_areas_merge_neighbouring_cells(prepared):
    from mapapp.analysis.suitability import top_areas

    cells = score_grid(prepared, DEFAULT_WEIGHTS, cell_m=250)
    areas = top_areas(cells, 3)
    assert [a["area"] for a in areas] == [1, 2, 3]
    ranks = [r for a in areas for r in a["ranks"]]
    assert len(ranks) == len(set(ranks)) and ranks[0] == 1
    assert sum(a["cells"] for a in areas) == len(ranks)
    centres = cells.set_index("rank")[["cx", "cy"]]
    firsts = [centres.loc[a["ranks"][0]] for a in areas]
    # two areas' best cells never touch (else they would be one area)
    for i, a in enumerate(firsts):
        for b in firsts[i + 1 :]:
            assert max(abs(a.cx - b.cx), abs(a.cy - b.cy)) > 250 * 1.01
    # every cell ranked above the last area's best cell is in some area
    assert set(range(1, areas[-1]["rank"] + 1)) <= set(ranks)
