"""Key figures for the French Tech bid, for the whole area or one perimeter."""

from __future__ import annotations

import numpy as np
import shapely

from . import OPEN_STATUSES, PLANNED_STATUSES, Prepared
from .columns import by_value


def key_figures(data: Prepared, perimeter_m: shapely.Geometry | None = None) -> dict:
    """Establishments (located at a place; those located at commune level only are
    counted apart) and estimated jobs by sector, training places and students,
    coworking desks open and planned, and the share of premises with FTTH
    (premises-weighted; for a perimeter, zones count by the share of their area
    inside it)."""

    def inside(frame):
        if perimeter_m is None:
            return np.arange(len(frame))
        return frame.sindex.query(perimeter_m, predicate="intersects")

    hit = data.companies.within(perimeter_m)
    jobs = data.jobs[hit]
    by_sector = {
        s: {"establishments": count, "jobs_estimate": round(sum_, 1)}
        for s, count, sum_ in by_value(data.companies, "sector", hit, data.jobs)
    }
    schools = data.schools.iloc[inside(data.schools)]
    cow = data.coworking.iloc[inside(data.coworking)]
    open_desks = cow[cow["status"].isin(OPEN_STATUSES)]["desks"].dropna()
    planned = cow[cow["status"].isin(PLANNED_STATUSES)]
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
        "jobs_estimate": round(float(jobs.sum()), 1),
        "jobs_basis": data.jobs_basis,
        "jobs_left_out": round(float(data.jobs_left_out[hit].sum()), 1),
        "by_sector": by_sector,
        "training_places": int(len(schools)),
        "students": int(schools["students"].dropna().sum()),
        "training_without_students": int(schools["students"].isna().sum()),
        "coworking_open": int(cow["status"].isin(OPEN_STATUSES).sum()),
        "coworking_planned": int(len(planned)),
        "desks_open": int(open_desks.sum()),
        "desks_planned": int(planned["desks"].dropna().sum()),
        "premises": round(premises),
        "ftth_premises": round(ftth),
        "ftth_share": round(ftth / premises, 4) if premises else None,
        "fibre_illustrative": bool(zones["illustrative"].fillna(False).any())
        if "illustrative" in zones
        else False,
    }
