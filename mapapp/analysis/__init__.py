"""Planning analyses: pure functions on GeoDataFrames, metric work in Lambert-93.

- :class:`Prepared`: the layers once reprojected and indexed, shared by analyses;
- :mod:`.catchments`: what lies within walking distance of a place;
- :mod:`.suitability`: a weighted grid to rank places for the digital quarter;
- :mod:`.indicators`: the key figures of a French Tech bid;
- :mod:`.scenarios`: planned sites and candidate perimeters compared;
- :mod:`.filters`: the planner's filters on layers;
- :mod:`.timeline`: the ecosystem over time (creations per year);
- :mod:`.places`: place names (quarter, commune) from the zones;
- :mod:`.dossier`: the content of the printable dossier.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..naf import HEADCOUNT_CLASSES
from .columns import Points, by_value

METRIC_CRS = 2154  # Lambert-93
DEFAULT_RADIUS_M = 800  # about 10 minutes on foot
# Distances are straight lines ("as the crow flies"); a walking time is estimated
# from one, in one way everywhere the site gives one: a walk is DETOUR_FACTOR times
# longer than the straight line, at WALK_KMH.
WALK_KMH = 4.5
DETOUR_FACTOR = 1.3
MIN_RADIUS_M, MAX_RADIUS_M = 200, 3000
OPEN_STATUSES = ("open",)
PLANNED_STATUSES = ("planned", "under_construction", "proposed")

# Estimated jobs of an establishment from its INSEE headcount class: the middle of
# the class (1-2 -> 1.5, 20-49 -> 34.5...); "NN" and "00" (no employee at year end)
# count 0; an unknown class counts 0 and is reported apart.
JOBS_BY_CLASS = {
    code: (low + high) / 2 for code, (_fr, _en, low, high) in HEADCOUNT_CLASSES.items()
}
# Whose headcount classes the jobs estimate counts: the SIRENE register's bands only
# (the default), or also those taken from press articles ("all"), which count whole
# sites whose staff is mostly not digital (a factory, a jeweller's workshop).
JOBS_BASES = ("register", "all")
# Features whose precision is "commune" have no place of their own: point analyses
# leave them out and count them as "located at commune level only".
COMMUNE_LEVEL = "commune"
POINT_LAYERS = ("companies", "schools", "coworking")
# What a dossier says of the companies' sources (Prepared.companies_summary).
SUMMARY_FIELDS = ("source", "source_date", "illustrative", "precision", "licence")
# The companies' fields analyses read (Points codes them; a dossier lists them).
COMPANY_FIELDS = (
    "sector",
    "headcount_class",
    "headcount_source",
    "creation_date",
    "closure_date",
    "precision",
    "commune_code",
    "source",
    "source_date",
    "illustrative",
    "licence",
)


def metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in Lambert-93 (EPSG:2154), where distances are metres."""
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    out = gdf if gdf.crs.to_epsg() == METRIC_CRS else gdf.to_crs(METRIC_CRS)
    return out.reset_index(drop=True)


def jobs_estimate(classes, sources=None, basis: str = "all") -> np.ndarray:
    """Estimated jobs per establishment (0 where the class is unknown, and, with the
    ``register`` basis, where the class comes from the press; a class of unknown
    source counts, as before sources were recorded only SIRENE imports had one)."""
    # vectorised: a Python loop over 100,000 string cells took 0.35 s
    values = pd.Series(np.asarray(classes, dtype=object), dtype=object)
    jobs = np.array(values.map(JOBS_BY_CLASS).fillna(0.0), dtype=float)
    if basis == "register" and sources is not None:
        press = pd.Series(np.asarray(sources, dtype=object), dtype=object) == "press"
        jobs[press.to_numpy(dtype=bool)] = 0.0
    return jobs


def jobs_known(classes, sources=None, basis: str = "all") -> np.ndarray:
    """Whether each establishment's jobs estimate rests on a known headcount class
    (with the ``register`` basis, a class not taken from the press)."""
    values = pd.Series(np.asarray(classes, dtype=object), dtype=object)
    known = values.isin(list(JOBS_BY_CLASS)).to_numpy(dtype=bool, copy=True)
    if basis == "register" and sources is not None:
        press = pd.Series(np.asarray(sources, dtype=object), dtype=object) == "press"
        known &= ~press.to_numpy(dtype=bool)
    return known


def known_sum(values, known=None, digits: int | None = None) -> tuple:
    """(sum of the known values, how many values are unknown): the sum is None when
    there are values and none is known, never an unknown counted as 0. ``known``
    defaults to the values that are not NaN/None."""
    values = np.asarray(values, dtype=float)
    known = ~np.isnan(values) if known is None else np.asarray(known, dtype=bool)
    unknown = int(len(values) - known.sum())
    if len(values) and not known.any():
        return None, unknown
    total = float(values[known].sum())
    return (round(total, digits) if digits else int(round(total))), unknown


def jobs_by_sector(
    points: Points, idx: np.ndarray, jobs, known, count_key: str
) -> dict:
    """Per sector of the points ``idx``: how many establishments (under
    ``count_key``), their estimated jobs (None when no band is known) and how many
    lack a band (``bincount`` over the sector codes, never a frame)."""
    known_idx = idx[np.asarray(known, dtype=bool)[idx]]
    with_band = {
        sector: (count, total)
        for sector, count, total in by_value(points, "sector", known_idx, jobs)
    }
    out = {}
    for sector, count, _total in by_value(points, "sector", idx, jobs):
        banded, total = with_band.get(sector, (0, 0.0))
        out[sector] = {
            count_key: count,
            "jobs_estimate": round(total, 1) if banded else None,
            "jobs_unknown": count - banded,
        }
    return out


def _split(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(features with a place of their own, commune-level ones)."""
    if "precision" not in frame:
        return frame, frame.iloc[0:0]
    at_commune = (frame["precision"] == COMMUNE_LEVEL).to_numpy()
    return (
        frame[~at_commune].reset_index(drop=True),
        frame[at_commune].reset_index(drop=True),
    )


def _years(frame: gpd.GeoDataFrame, column: str, missing=np.nan) -> np.ndarray | None:
    """Years of a date column (NaN where unknown); ``missing`` when it is absent."""
    from .timeline import years_of

    if column not in frame:
        return None if missing is None else np.full(len(frame), missing)
    return years_of(frame[column])


class Prepared:
    """The analysis layers in Lambert-93 with their spatial indexes, built once.

    ``layers`` maps companies, schools, coworking, fibre and context to frames in
    any CRS (already filtered as the planner asked); ``communes`` maps the
    territory's INSEE codes to (name, WGS84 contour), to place commune-level
    features. The companies are held as columns (:class:`~.columns.Points`):
    ``companies`` gives them ready, with the commune-level ones as a frame, in
    place of ``layers["companies"]`` (a million companies are never a frame).
    """

    def __init__(
        self,
        layers: dict[str, gpd.GeoDataFrame],
        jobs: str = "register",
        communes: dict | None = None,
        companies: tuple[Points, gpd.GeoDataFrame] | None = None,
    ):
        self.communes = communes or {}
        coworking = metric(layers["coworking"])
        layers = {
            **layers,
            "coworking": coworking[coworking["status"] != "closed"],
        }
        self.at_commune: dict[str, gpd.GeoDataFrame] = {}
        for name in ("schools", "coworking"):
            placed, self.at_commune[name] = _split(metric(layers[name]))
            setattr(self, name, placed)
        if companies is None:
            placed, at_commune = _split(metric(layers["companies"]))
            companies = (Points.from_frame(placed, COMPANY_FIELDS), at_commune)
        self.companies: Points = companies[0]
        self.at_commune = {"companies": metric(companies[1]), **self.at_commune}
        self.fibre = metric(layers["fibre"])
        context = metric(layers["context"])
        placed_context, _at_commune = _split(context)
        self.stations = placed_context[placed_context["kind"] == "station"].reset_index(
            drop=True
        )
        self.jobs_basis = jobs if jobs in JOBS_BASES else "register"
        self.jobs = _jobs(self.companies, self.jobs_basis)
        # which estimates rest on a known band: the others are unknown, not 0
        self.jobs_known = _jobs_known(self.companies, self.jobs_basis)
        # what the other basis would add: said beside the estimate
        self.jobs_left_out = _jobs(self.companies, "all") - self.jobs
        # creation (and, when an import keeps them, closure) years for the timeline
        self.creation_years = _point_years(self.companies, "creation_date")
        self.closure_years = _point_years(self.companies, "closure_date", None)
        at_commune = self.at_commune["companies"]
        self.commune_creation_years = _years(at_commune, "creation_date")
        self.commune_closure_years = _years(at_commune, "closure_date", None)
        for frame in self.frames:
            _ = frame.sindex  # build the spatial index now, not on the first query

    def companies_summary(self) -> pd.DataFrame:
        """The companies (placed and commune-level) as one row per distinct
        source, source date, illustrative flag, precision and licence, with the
        number of ``features`` each row stands for (what a dossier's sources,
        warnings and licences need, without a row per company)."""
        points = self.companies
        names = [f for f in SUMMARY_FIELDS if f in points.fields]
        at_commune = pd.DataFrame(self.at_commune["companies"]).drop(
            columns="geometry", errors="ignore"
        )
        at_commune = at_commune.reindex(columns=names).assign(features=1)
        if not names or not len(points):
            placed = pd.DataFrame({"features": [len(points)]}) if len(points) else None
            return pd.concat([placed, at_commune], ignore_index=True)
        codes = pd.DataFrame({name: points.codes(name) for name in names})
        counts = codes.groupby(names, dropna=False).size()
        combos = counts.index.to_frame(index=False)
        summary = pd.DataFrame(
            {
                name: np.array([*points.fields[name][1], None], dtype=object)[
                    combos[name].to_numpy()
                ]
                for name in names
            }
        ).assign(features=counts.to_numpy())
        return pd.concat([summary, at_commune], ignore_index=True)

    def layers_with_commune_level(self) -> dict[str, gpd.GeoDataFrame]:
        """The schools and coworking places whole again: placed and commune-level
        features (metric; coworking without the closed places). The companies are
        :attr:`companies` (placed, as columns) and ``at_commune["companies"]``."""
        return {
            name: pd.concat(
                [getattr(self, name), self.at_commune[name]], ignore_index=True
            )
            for name in ("schools", "coworking")
        }

    @property
    def frames(self) -> tuple[gpd.GeoDataFrame, ...]:
        """The prepared frames but the companies' columns (to measure the memory
        they hold)."""
        return (self.schools, self.coworking, self.fibre, self.stations)

    def commune_level(self, area_m=None) -> dict:
        """Features located at commune level only, by layer: all of them, or those of
        the communes ``area_m`` (a Lambert-93 geometry) reaches into."""
        shapes = self.communes
        counts = {}
        for name, frame in self.at_commune.items():
            if area_m is None or frame.empty:
                counts[name] = int(len(frame))
                continue
            codes = _commune_codes(frame, shapes)
            known = tuple(sorted({c for c in codes if c}))
            touched = _communes_reached(known, shapes, area_m)
            counts[name] = int(sum(1 for c in codes if c in touched))
        return {"located_at_commune_level_only": counts}


def _jobs(points: Points, basis: str) -> np.ndarray:
    """:func:`jobs_estimate` of coded points, computed once per class and source."""
    if "headcount_class" not in points.fields:
        return np.zeros(len(points))
    codes, classes = points.fields["headcount_class"]
    jobs = np.append(jobs_estimate(classes), 0.0)[codes]
    if basis == "register" and "headcount_source" in points.fields:
        codes, sources = points.fields["headcount_source"]
        press = np.array([s == "press" for s in sources] + [False])
        jobs[press[codes]] = 0.0
    return jobs


def _jobs_known(points: Points, basis: str) -> np.ndarray:
    """:func:`jobs_known` of coded points, computed once per class and source (no
    class recorded: every estimate unknown)."""
    if "headcount_class" not in points.fields:
        return np.zeros(len(points), dtype=bool)
    codes, classes = points.fields["headcount_class"]
    known = np.append(jobs_known(classes), False)[codes]
    if basis == "register" and "headcount_source" in points.fields:
        codes, sources = points.fields["headcount_source"]
        press = np.array([s == "press" for s in sources] + [False])
        known &= ~press[codes]
    return known


def _point_years(points: Points, name: str, missing=np.nan) -> np.ndarray | None:
    """:func:`_years` of a coded field, computed once per distinct date."""
    from .timeline import years_of

    if name not in points.fields:
        return None if missing is None else np.full(len(points), missing)
    codes, dates = points.fields[name]
    return np.append(years_of(dates), np.nan)[codes]


def _commune_codes(frame: gpd.GeoDataFrame, shapes: dict) -> list[str | None]:
    """The commune of each commune-level feature: its ``commune_code``, else the
    commune whose contour holds its anchor point (None when none does)."""
    given = frame["commune_code"] if "commune_code" in frame else None
    codes = [None] * len(frame) if given is None else given.tolist()
    missing = [i for i, c in enumerate(codes) if not isinstance(c, str) or not c]
    if missing:
        points = frame.geometry.iloc[missing].to_crs(4326)
        for i, point in zip(missing, points, strict=True):
            codes[i] = next(
                (c for c, (_n, geom) in shapes.items() if geom.covers(point)), None
            )
    return codes


def _communes_reached(codes: tuple[str, ...], shapes: dict, area_m) -> set[str]:
    """Which of these communes a metric geometry reaches into."""
    known = [c for c in codes if c in shapes]
    if not known:
        return set()
    polygons = gpd.GeoSeries([shapes[c][1] for c in known], crs=4326).to_crs(METRIC_CRS)
    return {c for c, p in zip(known, polygons, strict=True) if p.intersects(area_m)}


def walk_minutes(distance_m: float) -> int:
    """Minutes on foot for a straight-line distance (WALK_KMH, DETOUR_FACTOR), at
    least one."""
    return max(1, round(distance_m * DETOUR_FACTOR / (WALK_KMH * 1000 / 60)))
