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
ranking table shows to explain a choice.
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
    w = np.array([weights.get(c, 0.0) for c in CRITERIA], dtype=float)
    values = cells[list(CRITERIA)].to_numpy(dtype=float)
    weighted = values * w
    cells["score"] = weighted.sum(axis=1) / w.sum()
    total = weighted.sum(axis=1, keepdims=True)
    shares = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
    for i, name in enumerate(CRITERIA):
        cells[f"{name}_share"] = shares[:, i]
    cells["rank"] = cells["score"].rank(ascending=False, method="first").astype(int)
    return cells.drop(columns=["centre"])


def top_cells(cells: gpd.GeoDataFrame, n: int = 5) -> list[dict]:
    """The ``n`` best cells with their criteria, shares and WGS84 centre."""
    best = cells.nsmallest(n, "rank")
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
                "criteria": {c: round(float(row[c]), 4) for c in CRITERIA},
                "shares": {c: round(float(row[f"{c}_share"]), 4) for c in CRITERIA},
                "jobs_within": round(float(row["jobs_value"]), 1),
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
