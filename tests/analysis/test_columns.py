"""The companies as columns give the numbers a direct GeoPandas computation gives,
on a small random layer (points on cell edges and circle edges included)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from mapapp.analysis import (
    COMPANY_FIELDS,
    Prepared,
    jobs_estimate,
    jobs_known,
    known_sum,
)
from mapapp.analysis.catchments import companies_within
from mapapp.analysis.columns import Points, disc_sums, filter_points
from mapapp.analysis.dossier import sources, warnings
from mapapp.analysis.filters import apply_filters
from mapapp.analysis.indicators import key_figures
from mapapp.analysis.suitability import grid, score_grid
from mapapp.analysis.timeline import ecosystem, timeline, year_of, years_of
from tests.analysis.conftest import ORIGIN

SECTORS = np.array(["software", "it_services", "telecom", "hardware"], dtype=object)
CLASSES = np.array(["NN", "00", "01", "03", "12", "21", "41", None], dtype=object)
DATES = np.array(["2015-03-01", "2019", "01/02/2021", "2024-06", None, "n/a"], object)


@pytest.fixture
def layer() -> gpd.GeoDataFrame:
    """3,000 companies around ORIGIN; some on whole metres (cell and circle edges)."""
    rng = np.random.default_rng(7)
    n = 3000
    x = ORIGIN[0] + rng.normal(0, 900, n)
    y = ORIGIN[1] + rng.normal(0, 900, n)
    x[:300], y[:300] = np.round(x[:300] / 25) * 25, np.round(y[:300] / 25) * 25
    x[300], y[300] = ORIGIN[0] + 800, ORIGIN[1]  # exactly 800 m from the origin
    return gpd.GeoDataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "sector": SECTORS[rng.integers(0, len(SECTORS), n)],
            "headcount_class": CLASSES[rng.integers(0, len(CLASSES), n)],
            "headcount_source": np.where(rng.random(n) < 0.1, "press", None),
            "creation_date": DATES[rng.integers(0, len(DATES), n)],
            "commune_code": np.where(rng.random(n) < 0.5, "25056", None),
        },
        geometry=shapely.points(x, y),
        crs=2154,
    )


@pytest.fixture
def data(world, layer) -> Prepared:
    return Prepared({**world, "companies": layer})


@pytest.mark.parametrize(
    "area",
    [
        Point(ORIGIN).buffer(800, quad_segs=16),
        box(ORIGIN[0] - 500, ORIGIN[1] - 25, ORIGIN[0] + 475, ORIGIN[1] + 1000),
        Point(ORIGIN[0] + 5000, ORIGIN[1]).buffer(100),  # nobody there
    ],
)
def test_points_within_an_area_are_those_geopandas_finds(layer, area):
    points = Points.from_frame(layer, COMPANY_FIELDS)
    found = set(layer["id"].iloc[layer.sindex.query(area, predicate="intersects")])
    ids = np.asarray(layer["id"])[points.order]
    assert set(ids[points.within(area)]) == found


def test_catchment_companies_match_a_geopandas_computation(data, layer):
    area = Point(ORIGIN).buffer(800, quad_segs=16)
    inside = layer.iloc[layer.sindex.query(area, predicate="intersects")]
    jobs = jobs_estimate(
        inside["headcount_class"], inside["headcount_source"], "register"
    )
    known = jobs_known(
        inside["headcount_class"], inside["headcount_source"], "register"
    )
    everything = jobs_estimate(inside["headcount_class"], None, "all")
    result = companies_within(data, area)
    assert result["count"] == len(inside)
    assert (result["jobs_estimate"], result["jobs_unknown"]) == known_sum(
        jobs, known, 1
    )
    assert result["jobs_unknown"] > 0  # the layer holds unknown bands
    assert result["jobs_left_out"] == round(float((everything - jobs).sum()), 1)
    assert result["without_headcount"] == int(inside["headcount_class"].isna().sum())
    sectors = inside["sector"].to_numpy()
    expected = {}
    for s in sorted(set(sectors)):
        estimate, unknown = known_sum(jobs[sectors == s], known[sectors == s], 1)
        expected[s] = {
            "count": int((sectors == s).sum()),
            "jobs_estimate": estimate,
            "jobs_unknown": unknown,
        }
    assert result["by_sector"] == expected
    figures = key_figures(data, area)
    assert figures["establishments"] == len(inside)
    assert figures["jobs_estimate"] == result["jobs_estimate"]


@pytest.mark.parametrize("cell_m", [250, 100])
@pytest.mark.parametrize("radius", [800, 650])
def test_grid_jobs_within_walking_distance_match_strtree_dwithin(
    data, layer, cell_m, radius
):
    extent = box(ORIGIN[0] - 2000, ORIGIN[1] - 1500, ORIGIN[0] + 1800, ORIGIN[1] + 2100)
    cells = grid(extent, cell_m)
    weights = jobs_estimate(
        layer["headcount_class"], layer["headcount_source"], "register"
    )
    tree = shapely.STRtree(layer.geometry.values)
    left, right = tree.query(cells["centre"].values, "dwithin", distance=radius)
    expected = np.bincount(left, weights=weights[right], minlength=len(cells))
    lattice = (extent.bounds[0] + cell_m / 2, extent.bounds[1] + cell_m / 2, cell_m)
    got = disc_sums(
        data.companies, data.jobs, (cells["cx"], cells["cy"]), lattice, radius
    )
    assert np.array_equal(got, expected)
    scored = score_grid(data, {"jobs": 1.0}, cell_m, extent, radius)
    assert np.array_equal(scored["jobs_value"].to_numpy(), expected)


def test_timeline_matches_year_by_year_counts():
    rng = np.random.default_rng(3)
    created = rng.integers(1990, 2025, 5000).astype(float)
    created[rng.random(5000) < 0.1] = np.nan
    closed = created + rng.integers(0, 15, 5000)
    closed[rng.random(5000) < 0.6] = np.nan
    closed[:50] = 1995.0  # some closed before they were created (typing errors)
    t = timeline(created, closed, first=2000, last=2024)
    alive = ~np.isnan(created)
    years = np.arange(2000, 2025)
    assert t["created"] == [int((created == y).sum()) for y in years]
    assert t["closed"] == [int((closed == y).sum()) for y in years]
    assert t["existing"] == [
        int((alive & (created <= y) & ~(closed <= y)).sum()) for y in years
    ]
    assert t["existing_before"] == int(
        (alive & (created < 2000) & ~(closed < 2000)).sum()
    )


def test_years_are_read_as_one_by_one(layer):
    dates = list(layer["creation_date"]) + [2015, float("nan")]
    expected = np.array([year_of(v) for v in dates])
    assert np.array_equal(years_of(dates), expected, equal_nan=True)


def test_ecosystem_of_an_area_matches_the_frame(data, layer):
    area = Point(ORIGIN).buffer(800, quad_segs=16)
    inside = layer.iloc[layer.sindex.query(area, predicate="intersects")]
    expected = timeline(years_of(inside["creation_date"]), None, 2015, 2024)
    assert ecosystem(data, area, 2015, 2024) == expected


def test_filters_keep_the_rows_apply_filters_keeps(layer):
    points = Points.from_frame(layer, COMPANY_FIELDS)
    wanted = {"sector": {"software", "telecom"}, "headcount_class": {"01", "12"}}
    kept = filter_points(points, wanted)
    expected = apply_filters("companies", layer, {"companies": wanted})
    assert 0 < len(kept) == len(expected)
    assert sorted(kept.values("sector")) == sorted(expected["sector"])
    assert sorted(kept.x) == sorted(expected.geometry.x)


def test_companies_summary_gives_the_sources_and_warnings_of_the_frame(world, layer):
    rng = np.random.default_rng(5)
    n = len(layer)
    layer = layer.assign(
        source=np.where(rng.random(n) < 0.7, "SIRENE 2026-10", "presse"),
        source_date=np.array(["2026-10", "2025-01", None], object)[
            rng.integers(0, 3, n)
        ],
        illustrative=rng.random(n) < 0.2,
        precision=np.array(["exact", "approximate", "commune"])[rng.integers(0, 3, n)],
    )
    data = Prepared({**world, "companies": layer})
    summary = data.companies_summary()
    at_commune = int((layer["precision"] == "commune").sum())
    assert len(summary) <= 2 * 3 * 2 * 2 + at_commune  # placed: one row a combination
    assert summary["features"].sum() == n
    assert sources({"companies": summary}) == sources({"companies": layer})
    assert warnings({"companies": summary}) == warnings({"companies": layer})
