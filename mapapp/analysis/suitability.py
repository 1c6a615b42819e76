"""Site suitability: a grid scored by weighted criteria, with the reasoning kept.

Each cell (default 250 m) gets five criteria scaled to 0..1:

- ``jobs``: estimated digital jobs within walking distance of the cell centre,
  divided by the grid's maximum;
- ``training``: training places within walking distance, divided by the maximum;
- ``fibre``: the FTTH coverage of the fibre zone holding the centre (0 outside);
- ``station``: nearness to a railway station, 1 at the station falling to 0 at
  ``STATION_SCALE_M`` and beyond;
- ``underserved``: distance to the nearest open or planned coworking place, 0 next
  to one rising to 1 at ``COWORKING_SCALE_M`` and beyond (under-served areas score
  higher).

The score is the weighted mean of the criteria (0..1); each criterion's *share* of a
cell's score is its weighted value over the weighted sum, which is what the
ranking table shows to explain a choice. A criterion without data (no establishment
with a known headcount band, no training place, no fibre zone with premises, no
station) is left out: it would score every cell 0, which is not what is known. The
other weights are renormalised and the grid says which were left out
(``cells.attrs["left_out"]``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from . import DEFAULT_RADIUS_M, Prepared
from .columns import disc_sums

CRITERIA = ("jobs", "training", "fibre", "station", "underserved")
DEFAULT_WEIGHTS = {name: 1.0 for name in CRITERIA}
STATION_SCALE_M = 5000.0
COWORKING_SCALE_M = 3000.0


def grid(extent: shapely.Geometry, cell_m: float) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres whose centre lies in ``extent`` (metric)."""
    minx, miny, maxx, maxy = extent.bounds
    xs = np.arange(minx + cell_m / 2, maxx, cell_m)
    ys = np.arange(miny + cell_m / 2, maxy, cell_m)
    cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
    centres = shapely.points(cx, cy)
    inside = shapely.contains_xy(extent, cx, cy) if len(cx) else np.array([], bool)
    cx, cy, centres = cx[inside], cy[inside], centres[inside]
    half = cell_m / 2
    cells = shapely.box(cx - half, cy - half, cx + half, cy + half)
    return gpd.GeoDataFrame(
        {"cx": cx, "cy": cy, "centre": centres}, geometry=cells, crs=2154
    )


def _within_counts(
    centres, tree, radius: float, n: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Per centre, the number (or the weight sum) of tree items within ``radius``."""
    if n == 0 or len(centres) == 0:
        return np.zeros(len(centres))
    left, right = tree.query(centres, predicate="dwithin", distance=radius)
    w = None if weights is None else weights[right]
    return np.bincount(left, weights=w, minlength=len(centres)).astype(float)


def _nearest(centres, targets) -> np.ndarray:
    if len(targets) == 0:
        return np.full(len(centres), np.inf)
    tree = shapely.STRtree(targets)
    _idx, dist = tree.query_nearest(centres, return_distance=True, all_matches=False)
    return dist


def criteria_without_data(data: Prepared) -> list[str]:
    """The criteria the data cannot measure (left out of the score, not 0)."""
    missing = []
    if not bool(data.jobs_known.any()):
        missing.append("jobs")
    if data.schools.empty:
        missing.append("training")
    premises = data.fibre["premises"].to_numpy(dtype=float) if len(data.fibre) else []
    if not len(premises) or not (premises > 0).any():
        missing.append("fibre")
    if data.stations.empty:
        missing.append("station")
    return missing


def weights_used(weights: dict[str, float], left_out: list[str]) -> dict[str, float]:
    """The weights as shares of their sum once the criteria without data are left
    out (what the score really weighs); {} when nothing is left to weigh."""
    kept = {c: float(weights.get(c, 0.0)) for c in CRITERIA if c not in left_out}
    total = sum(kept.values())
    return {c: round(w / total, 4) for c, w in kept.items()} if total > 0 else {}


def score_grid(
    data: Prepared,
    weights: dict[str, float],
    cell_m: float = 250,
    extent: shapely.Geometry | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
) -> gpd.GeoDataFrame:
    """The scored grid (Lambert-93): criteria columns, ``score`` and ``rank``.

    ``extent`` defaults to the union of the fibre zones (the commune the data
    covers). Weights of the five criteria must be >= 0 and not all zero.
    """
    if extent is None:
        extent = shapely.union_all(data.fibre.geometry.values)
    cells = grid(extent, cell_m)
    centres = cells["centre"].values
    # the companies: binned on the grid, only those near a circle's edge measured
    minx, miny = extent.bounds[:2]
    jobs = disc_sums(
        data.companies,
        data.jobs,
        (cells["cx"].to_numpy(), cells["cy"].to_numpy()),
        (minx + cell_m / 2, miny + cell_m / 2, cell_m),
        radius_m,
    )
    training = _within_counts(
        centres,
        shapely.STRtree(data.schools.geometry.values),
        radius_m,
        len(data.schools),
    )
    cells["jobs_value"] = jobs
    cells["training_value"] = training
    cells["jobs"] = jobs / jobs.max() if jobs.max() > 0 else 0.0
    cells["training"] = training / training.max() if training.max() > 0 else 0.0
    fibre = np.zeros(len(cells))
    if len(data.fibre):
        left, right = data.fibre.sindex.query(centres, predicate="within")
        cov = data.fibre["coverage"].to_numpy(dtype=float)
        fibre[left] = cov[right]
    cells["fibre"] = fibre
    d_station = _nearest(centres, data.stations.geometry.values)
    cells["station_m"] = d_station
    cells["station"] = np.clip(1 - d_station / STATION_SCALE_M, 0, 1)
    d_cow = _nearest(centres, data.coworking.geometry.values)
    cells["coworking_m"] = d_cow
    cells["underserved"] = np.clip(d_cow / COWORKING_SCALE_M, 0, 1)
    return _score(cells.drop(columns=["centre"]), weights, criteria_without_data(data))


def _score(cells: gpd.GeoDataFrame, weights: dict, left_out: list[str]):
    """The cells with ``score`` (weighted mean of the criteria but those
    ``left_out``), each criterion's ``*_share`` and ``rank``; ``attrs["left_out"]``
    names the criteria left out."""
    w = np.array(
        [0.0 if c in left_out else weights.get(c, 0.0) for c in CRITERIA], dtype=float
    )
    values = cells[list(CRITERIA)].to_numpy(dtype=float)
    weighted = values * w
    cells["score"] = weighted.sum(axis=1) / w.sum() if w.sum() > 0 else 0.0
    total = weighted.sum(axis=1, keepdims=True)
    shares = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
    for i, name in enumerate(CRITERIA):
        cells[f"{name}_share"] = shares[:, i]
    cells["rank"] = cells["score"].rank(ascending=False, method="first").astype(int)
    cells.attrs["left_out"] = left_out
    return cells


def top_cells(cells: gpd.GeoDataFrame, n: int = 5) -> list[dict]:
    """The ``n`` best cells with their criteria, shares and WGS84 centre."""
    return _describe(cells.nsmallest(n, "rank"), cells.attrs.get("left_out", []))


def _touching(cx, cy, i: int, members: list[int], cell_m: float) -> bool:
    """Whether cell ``i`` shares a side or a corner with one of ``members``."""
    reach = cell_m * 1.01
    return any(
        abs(cx[i] - cx[j]) <= reach and abs(cy[i] - cy[j]) <= reach for j in members
    )


def top_areas(cells: gpd.GeoDataFrame, n: int = 5, scan: int = 300) -> list[dict]:
    """The ``n`` best areas: cells taken best first, a cell touching an area already
    found joins it (neighbours are one place, not five rows), until the next cell
    would start an area ``n + 1``. Each area is described by its best cell
    (:func:`top_cells`) with ``area`` (1..n), ``cells`` and the member ``ranks``."""
    ranked = cells.nsmallest(scan, "rank")
    if ranked.empty:
        return []
    minx, _miny, maxx, _maxy = ranked.geometry.iloc[0].bounds
    cell_m = maxx - minx
    cx, cy = ranked["cx"].to_numpy(), ranked["cy"].to_numpy()
    areas: list[list[int]] = []
    for i in range(len(ranked)):
        joined = next((a for a in areas if _touching(cx, cy, i, a, cell_m)), None)
        if joined is not None:
            joined.append(i)
        elif len(areas) < n:
            areas.append([i])
        else:
            break
    ranks = ranked["rank"].to_numpy()
    out = _describe(ranked.iloc[[a[0] for a in areas]], cells.attrs.get("left_out", []))
    for k, (row, members) in enumerate(zip(out, areas, strict=True)):
        row.update(
            area=k + 1, cells=len(members), ranks=[int(ranks[j]) for j in members]
        )
    return out


def _describe(best: gpd.GeoDataFrame, left_out: list[str]) -> list[dict]:
    """Cells as dicts: rank, score, criteria, shares, WGS84 centre and distances."""
    centres = gpd.GeoSeries(shapely.points(best["cx"], best["cy"]), crs=2154).to_crs(
        4326
    )
    out = []
    for (_, row), centre in zip(best.iterrows(), centres, strict=True):
        out.append(
            {
                "rank": int(row["rank"]),
                "score": round(float(row["score"]), 4),
                "lat": round(centre.y, 5),
                "lon": round(centre.x, 5),
                "criteria": {
                    c: None if c in left_out else round(float(row[c]), 4)
                    for c in CRITERIA
                },
                "shares": {c: round(float(row[f"{c}_share"]), 4) for c in CRITERIA},
                "jobs_within": None
                if "jobs" in left_out
                else round(float(row["jobs_value"]), 1),
                "training_within": int(row["training_value"]),
                "station_m": round(float(row["station_m"]), 1),
                "coworking_m": None
                if np.isinf(row["coworking_m"])
                else round(float(row["coworking_m"]), 1),
            }
        )
    return out


def score_at(cells: gpd.GeoDataFrame, place_m: shapely.Geometry) -> float | None:
    """The score of the cell holding a (metric) point, or the best cell a perimeter
    covers; None outside the grid."""
    hit = cells.sindex.query(place_m, predicate="intersects")
    if len(hit) == 0:
        return None
    return round(float(cells["score"].to_numpy()[hit].max()), 4)
