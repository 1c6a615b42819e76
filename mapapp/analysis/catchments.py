"""Catchments: what lies within walking distance of a place or of a perimeter.

Distances are straight-line metres in Lambert-93 (the street network is not
modelled; 800 m is about ten minutes on foot at 4.8 km/h).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from . import Prepared, jobs_by_sector, known_sum


def to_metric(place: BaseGeometry) -> BaseGeometry:
    """A WGS84 geometry in Lambert-93."""
    return gpd.GeoSeries([place], crs=4326).to_crs(2154).iloc[0]


def catchment(data: Prepared, place: BaseGeometry, radius_m: float) -> dict:
    """Figures within ``radius_m`` of ``place`` (a WGS84 point or polygon).

    Counts companies (by sector, with estimated jobs), schools and their students,
    open or planned coworking places and their desks; gives the fibre coverage at
    the place and the distance to the nearest station; ``area`` is the catchment
    polygon in WGS84. Features located at commune level only are not counted in the
    catchment; those of the communes it reaches are counted apart. Estimated jobs
    follow ``data.jobs_basis`` (the register's bands unless the planner asked for
    press figures too); ``jobs_left_out`` is what the other bands would add. A sum
    of values all unknown is None (``jobs_unknown``, ``without_students``,
    ``without_desks`` count the features lacking the value), never 0.
    """
    place_m = to_metric(place)
    area = place_m.buffer(radius_m, quad_segs=16)
    hit = data.companies.sindex.query(area, predicate="intersects")
    sectors = data.companies["sector"].to_numpy()[hit]
    jobs, known = data.jobs[hit], data.jobs_known[hit]
    by_sector = jobs_by_sector(sectors, jobs, known, "count")
    jobs_total, jobs_unknown = known_sum(jobs, known, 1)
    headcounts = data.companies["headcount_class"].to_numpy()[hit]
    schools = data.schools.iloc[data.schools.sindex.query(area, predicate="intersects")]
    students, students_unknown = known_sum(schools["students"])
    cow = data.coworking.iloc[data.coworking.sindex.query(area, predicate="intersects")]
    desks, desks_unknown = known_sum(cow["desks"])
    return {
        "radius_m": radius_m,
        **data.commune_level(area),
        "companies": {
            "count": int(len(hit)),
            "jobs_estimate": jobs_total,
            "jobs_unknown": jobs_unknown,
            "jobs_basis": data.jobs_basis,
            "jobs_left_out": round(float(data.jobs_left_out[hit].sum()), 1),
            "without_headcount": int(
                sum(1 for h in headcounts if not isinstance(h, str))
            ),
            "by_sector": by_sector,
        },
        "schools": {
            "count": int(len(schools)),
            "students": students,
            "without_students": students_unknown,
        },
        "coworking": {
            "count": int(len(cow)),
            "desks": desks,
            "without_desks": desks_unknown,
            "by_status": {k: int(v) for k, v in cow["status"].value_counts().items()},
        },
        "fibre_coverage": fibre_coverage_at(data, place_m),
        "nearest_station_m": nearest_station_m(data, place_m),
        "area": gpd.GeoSeries([area], crs=2154).to_crs(4326).iloc[0],
    }


def fibre_coverage_at(data: Prepared, place_m: BaseGeometry) -> float | None:
    """Coverage (0..1) at a place: its zone's, or for a perimeter the coverage of the
    zones it overlaps weighted by their premises in the overlap; None outside."""
    idx = data.fibre.sindex.query(place_m, predicate="intersects")
    if len(idx) == 0:
        return None
    zones = data.fibre.iloc[idx]
    if place_m.geom_type == "Point":
        share = np.ones(len(zones))
    else:
        share = shapely.area(
            shapely.intersection(zones.geometry.values, place_m)
        ) / shapely.area(zones.geometry.values)
    premises = zones["premises"].to_numpy(dtype=float) * share
    if premises.sum() <= 0:
        return None
    ftth = zones["ftth_premises"].to_numpy(dtype=float) * share
    return round(float(ftth.sum() / premises.sum()), 4)


def nearest_station_m(data: Prepared, place_m: BaseGeometry) -> float | None:
    """Straight-line metres from the place to the nearest railway station."""
    if data.stations.empty:
        return None
    return round(
        float(shapely.distance(data.stations.geometry.values, place_m).min()), 1
    )
