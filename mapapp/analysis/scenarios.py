"""Scenario comparison: planned coworking sites and candidate perimeters side by side.

Each site or perimeter gets its catchment figures, the fibre coverage there, the
distance to the nearest station and the suitability score of the grid cell it is in.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from . import PLANNED_STATUSES, Prepared
from .catchments import analysis_shape, catchment
from .suitability import score_at


def candidates(
    frames: dict[str, gpd.GeoDataFrame],
) -> list[tuple[str, gpd.GeoDataFrame]]:
    """(layer, frame) of what a scenario compares: the coworking sites planned, under
    construction or proposed, and every candidate perimeter."""
    sites = frames["coworking"]
    sites = sites[sites["status"].isin(PLANNED_STATUSES)]
    return [("coworking", sites), ("perimeters", frames["perimeters"])]


def scenario_rows(
    data: Prepared,
    cells: gpd.GeoDataFrame,
    frames: dict[str, gpd.GeoDataFrame],
    radius_m: float,
    area_of: Callable[[BaseGeometry, float], BaseGeometry] | None = None,
) -> list[dict]:
    """One row per candidate (see :func:`candidates`) with its figures;
    ``area_of(place, radius_m)`` gives a candidate's metric catchment area when the
    caller keeps them (computed here otherwise)."""
    rows = []
    for layer, frame in candidates(frames):
        for _i, row in frame.iterrows():
            area = None if area_of is None else area_of(row.geometry, radius_m)
            c = catchment(data, row.geometry, radius_m, area)
            rows.append(
                {
                    "layer": layer,
                    "id": row["id"],
                    "name": row["name"],
                    "status": row["status"],
                    "published": bool(row.get("published")),
                    "companies": c["companies"]["count"],
                    "jobs_estimate": c["companies"]["jobs_estimate"],
                    "jobs_unknown": c["companies"]["jobs_unknown"],
                    "schools": c["schools"]["count"],
                    "students": c["schools"]["students"],
                    "students_unknown": c["schools"]["without_students"],
                    "coworking_desks": c["coworking"]["desks"],
                    "desks_unknown": c["coworking"]["without_desks"],
                    "fibre_coverage": c["fibre_coverage"],
                    "nearest_station_m": c["nearest_station_m"],
                    "suitability": score_at(cells, analysis_shape(row.geometry)),
                }
            )
    return rows
