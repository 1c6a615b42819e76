"""Catchments: what lies within walking distance of a place or of a perimeter.

Distances are straight-line metres in Lambert-93 (the street network is not
modelled; 800 m is about ten minutes on foot at 4.8 km/h).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..layers.outline import SIMPLIFY_M, simplified
from . import Prepared, jobs_by_sector, known_sum

# An outline with more vertices than this (once simplified) is buffered in steps:
# GEOS's one-step buffer of a jagged 1,000-vertex outline by 800 m nodes millions
# of crossings of its raw offset curve (seconds to minutes, gigabytes).
DIRECT_VERTICES = 200
FIRST_STEP_M = 8.0
BUFFER_TOLERANCE_M = SIMPLIFY_M  # what the steps may add to the outline's own


def buffer_steps(radius_m: float) -> list[float]:
    """Buffer distances doubling from FIRST_STEP_M that add up to ``radius_m``."""
    steps, step, done = [], FIRST_STEP_M, 0.0
    while done < radius_m:
        steps.append(min(step, radius_m - done))
        done += steps[-1]
        step *= 2
    return steps


def catchment_area(place_m: BaseGeometry, radius_m: float) -> BaseGeometry:
    """The metric area within ``radius_m`` of a metric place, its work bounded by
    the outline's size whatever its shape.

    A polygon is first simplified within SIMPLIFY_M metres (layers.outline). A
    simple outline (at most DIRECT_VERTICES) is buffered at once, as it always
    was; a detailed one in doubling steps, each simplified within
    BUFFER_TOLERANCE_M / steps: a buffer by a + b is the buffer by a buffered by
    b, and each step smooths the detail smaller than itself, so no step meets
    more than a few neighbouring vertices. The result is within SIMPLIFY_M +
    BUFFER_TOLERANCE_M metres of the exact buffer.
    """
    shape = simplified(place_m)
    if shapely.get_num_coordinates(shape) <= DIRECT_VERTICES:
        return shape.buffer(radius_m, quad_segs=16)
    steps = buffer_steps(radius_m)
    tolerance = BUFFER_TOLERANCE_M / len(steps)
    for step in steps:
        # no more segments per quarter circle than the tolerance needs
        segments = math.pi / 4 / math.acos(max(1 - tolerance / step, -1.0))
        quad_segs = min(16, max(1, math.ceil(segments)))
        buffered = shape.buffer(step, quad_segs=quad_segs)
        shape = shapely.simplify(buffered, tolerance, preserve_topology=False)
        if not shape.is_valid or shape.is_empty:  # plain Douglas-Peucker may fold
            shape = shapely.make_valid(shape) if not shape.is_empty else buffered
    return shape


def analysis_shape(place: BaseGeometry) -> BaseGeometry:
    """A WGS84 place as analyses use it: in Lambert-93, an outline simplified
    within SIMPLIFY_M metres and made valid if it was stored invalid."""
    return simplified(to_metric(place))


def to_metric(place: BaseGeometry) -> BaseGeometry:
    """A WGS84 geometry in Lambert-93."""
    return gpd.GeoSeries([place], crs=4326).to_crs(2154).iloc[0]


def catchment(
    data: Prepared,
    place: BaseGeometry,
    radius_m: float,
    area: BaseGeometry | None = None,
) -> dict:
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
    ``area``: the metric :func:`catchment_area` when the caller keeps it.
    """
    place_m = analysis_shape(place)
    area = catchment_area(place_m, radius_m) if area is None else area
    schools = data.schools.iloc[data.schools.sindex.query(area, predicate="intersects")]
    students, students_unknown = known_sum(schools["students"])
    cow = data.coworking.iloc[data.coworking.sindex.query(area, predicate="intersects")]
    desks, desks_unknown = known_sum(cow["desks"])
    return {
        "radius_m": radius_m,
        **data.commune_level(area),
        "companies": companies_within(data, area),
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


def companies_within(data: Prepared, area: BaseGeometry) -> dict:
    """The catchment's companies: count, estimated jobs (and what the other basis
    would add), those without a headcount class, and the same by sector. The
    estimate of establishments none of which has a known band is None, with the
    count of those lacking one (``jobs_unknown``), never 0."""
    hit = data.companies.within(area)
    headcounts = data.companies.fields.get("headcount_class")
    by_sector = jobs_by_sector(data.companies, hit, data.jobs, data.jobs_known, "count")
    jobs_total, jobs_unknown = known_sum(data.jobs[hit], data.jobs_known[hit], 1)
    return {
        "count": int(len(hit)),
        "jobs_estimate": jobs_total,
        "jobs_unknown": jobs_unknown,
        "jobs_basis": data.jobs_basis,
        "jobs_left_out": round(float(data.jobs_left_out[hit].sum()), 1),
        "without_headcount": int(
            len(hit) if headcounts is None else (headcounts[0][hit] < 0).sum()
        ),
        "by_sector": by_sector,
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
