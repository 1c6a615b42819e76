"""Key figures for the French Tech bid, for the whole area or one perimeter."""

from __future__ import annotations

import numpy as np
import shapely

from . import OPEN_STATUSES, PLANNED_STATUSES, Prepared, jobs_by_sector, known_sum


def key_figures(data: Prepared, perimeter_m: shapely.Geometry | None = None) -> dict:
    """Establishments (located at a place; those located at commune level only are
    counted apart) and estimated jobs by sector, training places and students,
    coworking desks open and planned, and the share of premises with FTTH
    (premises-weighted; for a perimeter, zones count by the share of their area
    inside it). A sum whose values are all unknown is None, with the count of
    features lacking the value beside it (``*_unknown``): unknown is never 0."""

    def inside(frame):
        if perimeter_m is None:
            return np.arange(len(frame))
        return frame.sindex.query(perimeter_m, predicate="intersects")

    hit = data.companies.within(perimeter_m)
    jobs, known = data.jobs[hit], data.jobs_known[hit]
    by_sector = jobs_by_sector(
        data.companies, hit, data.jobs, data.jobs_known, "establishments"
    )
    jobs_total, jobs_unknown = known_sum(jobs, known, 1)
    schools = data.schools.iloc[inside(data.schools)]
    cow = data.coworking.iloc[inside(data.coworking)]
    open_desks = known_sum(cow[cow["status"].isin(OPEN_STATUSES)]["desks"])
    planned = cow[cow["status"].isin(PLANNED_STATUSES)]
    planned_desks = known_sum(planned["desks"])
    students, students_unknown = known_sum(schools["students"])
    zones = data.fibre.iloc[inside(data.fibre)]
    if perimeter_m is None or zones.empty:
        share = np.ones(len(zones))
    else:
        share = shapely.area(
            shapely.intersection(zones.geometry.values, perimeter_m)
        ) / shapely.area(zones.geometry.values)
    premises = float((zones["premises"].to_numpy(dtype=float) * share).sum())
    ftth = float((zones["ftth_premises"].to_numpy(dtype=float) * share).sum())
    return {
        "establishments": int(len(hit)),
        **data.commune_level(perimeter_m),
        "jobs_estimate": jobs_total,
        "jobs_unknown": jobs_unknown,
        "jobs_basis": data.jobs_basis,
        "jobs_left_out": round(float(data.jobs_left_out[hit].sum()), 1),
        "by_sector": by_sector,
        "training_places": int(len(schools)),
        "students": students,
        "students_unknown": students_unknown,
        "training_without_students": students_unknown,
        "coworking_open": int(cow["status"].isin(OPEN_STATUSES).sum()),
        "coworking_planned": int(len(planned)),
        "desks_open": open_desks[0],
        "desks_open_unknown": open_desks[1],
        "desks_planned": planned_desks[0],
        "desks_planned_unknown": planned_desks[1],
        "premises": round(premises),
        "ftth_premises": round(ftth),
        "ftth_share": round(ftth / premises, 4) if premises else None,
        "fibre_illustrative": bool(zones["illustrative"].fillna(False).any())
        if "illustrative" in zones
        else False,
    }
