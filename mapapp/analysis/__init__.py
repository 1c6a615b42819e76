"""Planning analyses: pure functions on GeoDataFrames, metric work in Lambert-93.

- :class:`Prepared`: the layers once reprojected and indexed, shared by analyses;
- :mod:`.catchments`: what lies within walking distance of a place;
- :mod:`.suitability`: a weighted grid to rank places for the digital quarter;
- :mod:`.indicators`: the key figures of a French Tech bid;
- :mod:`.filters`: the planner's filters on layers;
- :mod:`.timeline`: the ecosystem over time (creations per year);
- :mod:`.places`: place names (quarter, commune) from the zones.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from ..naf import HEADCOUNT_CLASSES

METRIC_CRS = 2154  # Lambert-93
DEFAULT_RADIUS_M = 800  # about 10 minutes on foot
MIN_RADIUS_M, MAX_RADIUS_M = 200, 3000
OPEN_STATUSES = ("open",)
PLANNED_STATUSES = ("planned", "under_construction", "proposed")

# Estimated jobs of an establishment from its INSEE headcount class: the middle of
# the class (1-2 -> 1.5, 20-49 -> 34.5...); "NN" and "00" (no employee at year end)
# count 0; an unknown class counts 0 and is reported apart.
JOBS_BY_CLASS = {
    code: (low + high) / 2 for code, (_fr, _en, low, high) in HEADCOUNT_CLASSES.items()
}


def metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in Lambert-93 (EPSG:2154), where distances are metres."""
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    out = gdf if gdf.crs.to_epsg() == METRIC_CRS else gdf.to_crs(METRIC_CRS)
    return out.reset_index(drop=True)


def jobs_estimate(classes) -> np.ndarray:
    """Estimated jobs per establishment (0 where the class is unknown)."""
    return np.array(
        [JOBS_BY_CLASS.get(c, 0.0) if isinstance(c, str) else 0.0 for c in classes],
        dtype=float,
    )


def _years(frame: gpd.GeoDataFrame, column: str) -> np.ndarray:
    from .timeline import years_of

    if column not in frame:
        return np.full(len(frame), np.nan)
    return years_of(frame[column])


class Prepared:
    """The analysis layers in Lambert-93 with their spatial indexes, built once.

    ``layers`` maps companies, schools, coworking, fibre and context to frames in
    any CRS (already filtered as the planner asked).
    """

    def __init__(self, layers: dict[str, gpd.GeoDataFrame]):
        self.companies = metric(layers["companies"])
        self.schools = metric(layers["schools"])
        self.coworking = metric(layers["coworking"])
        self.coworking = self.coworking[
            self.coworking["status"] != "closed"
        ].reset_index(drop=True)
        self.fibre = metric(layers["fibre"])
        context = metric(layers["context"])
        self.stations = context[context["kind"] == "station"].reset_index(drop=True)
        self.jobs = jobs_estimate(self.companies["headcount_class"])
        self.creation_years = _years(self.companies, "creation_date")
        self.closure_years = (  # only when an import keeps closed establishments
            _years(self.companies, "closure_date")
            if "closure_date" in self.companies
            else None
        )
        for frame in (
            self.companies,
            self.schools,
            self.coworking,
            self.fibre,
            self.stations,
        ):
            _ = frame.sindex  # build the spatial index now, not on the first query
