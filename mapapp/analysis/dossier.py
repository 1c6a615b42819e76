"""The printable dossier of the whole area, a perimeter or a planned site: key
figures, catchment, the ecosystem over time, the sources with their dates and the
warnings about illustrative or approximate data, gathered from the GeoDataFrames.
The web layer renders it (A4, print CSS); nothing here knows about Flask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ..layers import LayerSpec
from ..maps.static import PointColumns, static_map
from . import COMMUNE_LEVEL, Prepared, metric
from .catchments import analysis_shape, catchment, to_metric
from .indicators import key_figures
from .timeline import ecosystem

TIMELINE_YEARS = 10  # the dossier shows the last ten years
MAP_LAYERS = ("fibre", "perimeters", "companies", "schools", "coworking", "context")


@dataclass
class Scope:
    """What a dossier is about: ``kind`` is ``area``, ``perimeter`` or ``site``."""

    kind: str
    name: str | None = None
    id: str | None = None
    geometry: BaseGeometry | None = None  # WGS84; None for the whole area


def _features(frame: pd.DataFrame) -> np.ndarray:
    """How many features each row stands for: its ``features`` column in a
    summary (Prepared.companies_summary), else one."""
    if "features" in frame:
        return frame["features"].to_numpy(dtype=np.int64)
    return np.ones(len(frame), dtype=np.int64)


def sources(frames: dict[str, gpd.GeoDataFrame]) -> list[dict]:
    """Per layer and source: the number of features and the latest source date
    (a frame may be a summary whose rows count ``features`` each)."""
    rows = []
    for layer, frame in frames.items():
        if frame.empty or "source" not in frame:
            continue
        dates = frame.get("source_date", pd.Series("", index=frame.index))
        table = pd.DataFrame(
            {
                "source": frame["source"].fillna("?").astype(str),
                "date": dates.fillna("").astype(str),
                "n": _features(frame),
            }
        )
        grouped = table.groupby("source", sort=True).agg(
            size=("n", "sum"), max=("date", "max")
        )
        rows += [
            {
                "layer": layer,
                "source": source,
                "features": int(size),
                "latest_date": latest or None,
            }
            for source, (size, latest) in grouped.iterrows()
        ]
    return rows


def warnings(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, dict[str, int]]:
    """Per layer, how many features are illustrative and how many approximate."""
    out: dict[str, dict[str, int]] = {}
    for layer, frame in frames.items():
        if frame.empty:
            continue
        n = _features(frame)
        illustrative = (
            int(n[frame["illustrative"].fillna(False).astype(bool).to_numpy()].sum())
            if "illustrative" in frame
            else 0
        )
        approximate = (
            int(n[(frame["precision"] == "approximate").to_numpy()].sum())
            if "precision" in frame
            else 0
        )
        if illustrative or approximate:
            out[layer] = {"illustrative": illustrative, "approximate": approximate}
    return out


def placed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The features with a place of their own (commune-level ones are not drawn)."""
    if "precision" not in frame:
        return frame
    return frame[frame["precision"] != COMMUNE_LEVEL]


def _drawn(data: Prepared, frames: dict, name: str):
    """What the map draws of a layer: the placed companies from their columns (the
    frame of the companies may be a summary), other layers' placed features."""
    if name != "companies":
        return placed(frames[name])
    points = data.companies
    codes, values = points.fields.get("sector", (np.full(len(points), -1), []))
    return PointColumns(points.x, points.y, codes, values)


def place_names(frames: dict[str, gpd.GeoDataFrame]) -> list[tuple[float, float, str]]:
    """Names to print on the map (metric x, y, text): each quarter of the fibre
    layer (named by quarter in the shipped data) at a point inside it, and each
    station."""
    out: list[tuple[float, float, str]] = []
    fibre = frames.get("fibre")
    if fibre is not None and not fibre.empty and "zone_name" in fibre:
        zones = metric(fibre[fibre["zone_name"].notna()])
        seen = set()
        for name, point in zip(
            zones["zone_name"], zones.geometry.representative_point(), strict=True
        ):
            if name not in seen:
                seen.add(name)
                out.append((point.x, point.y, str(name)))
    context = frames.get("context")
    if context is not None and not context.empty and "kind" in context:
        stations = metric(placed(context[context["kind"] == "station"]))
        for name, point in zip(stations["name"], stations.geometry, strict=True):
            # beside the symbol, not on it
            out.append((point.x, point.y - 260, str(name)))
    return out


def number_sites(
    rows: list[dict] | None, frames: dict[str, gpd.GeoDataFrame]
) -> list[tuple[float, float, int]]:
    """Number the compared sites (``number`` 1..n, in the table's order) and give
    where each number goes on the map (metric x, y, number)."""
    where = []
    for number, row in enumerate(rows or (), start=1):
        row["number"] = number
        frame = frames.get(row["layer"])
        if frame is None or frame.empty:
            continue
        hit = metric(frame[frame["id"].astype(str) == str(row["id"])])
        if hit.empty:
            continue
        point = hit.geometry.iloc[0].representative_point()
        where.append((point.x, point.y, number))
    return where


def dossier(
    data: Prepared,
    frames: dict[str, gpd.GeoDataFrame],
    specs: dict[str, LayerSpec],
    scope: Scope,
    radius_m: float,
    scenarios: list[dict] | None = None,
    own: dict | None = None,
    area: BaseGeometry | None = None,
) -> dict:
    """Everything a dossier shows; ``frames`` are the (filtered) layers in WGS84
    (the companies' may be a summary: the map draws ``data.companies``).

    Key figures and the timeline count inside the perimeter, or within walking
    distance of a site; the catchment table is the walking distance around either
    (``area``: its metric area when the caller keeps it). ``scenarios`` (the
    whole area's dossier) are numbered as on the map; ``own`` is the scenario row
    of the site or perimeter a dossier is about.
    """
    around = None
    focus = inside = None
    if scope.geometry is not None:
        around = catchment(data, scope.geometry, radius_m, area)
        focus = to_metric(around["area"])
        inside = analysis_shape(scope.geometry) if scope.kind == "perimeter" else focus
    outlines = [] if focus is None else [focus]
    if scope.kind == "perimeter":
        outlines.append(inside)
    last = date.today().year
    return {
        "scope": scope,
        "radius_m": radius_m,
        "figures": key_figures(data, inside),
        "catchment": around,
        "timeline": ecosystem(data, inside, first=last - TIMELINE_YEARS + 1, last=last),
        "scenarios": scenarios,
        "own": own,
        "best": max(
            (r for r in scenarios or () if r["suitability"] is not None),
            key=lambda r: r["suitability"],
            default=None,
        ),
        "sources": sources(frames),
        "warnings": warnings(frames),
        "map_png": static_map(
            {n: (_drawn(data, frames, n), specs[n]) for n in MAP_LAYERS if n in frames},
            focus=focus,
            outlines=outlines,
            size=(7.4, 5.2),
            names=place_names(frames),
            numbers=number_sites(scenarios, frames),
        ),
        "made": date.today().isoformat(),
    }
