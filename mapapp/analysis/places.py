"""Place names for points of an analysis (the best suitability cells, a dossier's
scope), taken from the zones the app holds: the quarter (an IRIS zone of the
``zones`` layer, else a fibre zone, which the shipped data names by quarter) and
the commune (a commune contour of the ``zones`` layer)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from . import metric


def _name_at(points_m: gpd.GeoSeries, zones_m: gpd.GeoDataFrame) -> list[str | None]:
    """Per point, the ``zone_name`` of the first zone holding it (None outside)."""
    names: list[str | None] = [None] * len(points_m)
    if zones_m.empty or not len(points_m):
        return names
    left, right = zones_m.sindex.query(points_m.values, predicate="within")
    values = zones_m["zone_name"].to_numpy()
    for i, j in zip(left[::-1], right[::-1], strict=True):  # the first zone wins
        value = values[j]
        names[i] = value if isinstance(value, str) and value else names[i]
    return names


def _kind(zones: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    if zones is None or zones.empty or "zone_kind" not in zones:
        return zones.iloc[0:0] if zones is not None else gpd.GeoDataFrame()
    return zones[zones["zone_kind"] == kind]


def place_names(
    points_m: gpd.GeoSeries,
    zones: gpd.GeoDataFrame | None,
    fibre: gpd.GeoDataFrame | None = None,
) -> list[dict]:
    """For each point (Lambert-93), ``{"quarter", "commune", "label"}``.

    ``quarter`` comes from the IRIS zones of ``zones``, else from the fibre zones
    (named by quarter in the shipped data); ``commune`` from its commune zones.
    ``label`` joins what is known ("Croix-Rousse, Lyon") or is None.
    """
    empty = gpd.GeoDataFrame({"zone_name": []}, geometry=[], crs=2154)

    def prepared(frame):
        if frame is None or frame.empty or "zone_name" not in frame:
            return empty
        return metric(frame[["zone_name", "geometry"]])

    iris = prepared(_kind(zones, "iris"))
    quarters = iris if not iris.empty else prepared(fibre)
    communes = prepared(_kind(zones, "commune"))
    quarter = _name_at(points_m, quarters)
    commune = _name_at(points_m, communes)
    out = []
    for q, c in zip(quarter, commune, strict=True):
        parts = [p for p in (q, c) if p]
        out.append({"quarter": q, "commune": c, "label": ", ".join(parts) or None})
    return out


def name_cells(top: list[dict], zones, fibre) -> list[dict]:
    """The best cells of :func:`~.suitability.top_cells` with their ``place``."""
    if not top:
        return top
    lon = np.array([c["lon"] for c in top])
    lat = np.array([c["lat"] for c in top])
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(2154)
    for cell, place in zip(top, place_names(points, zones, fibre), strict=True):
        cell["place"] = place
    return top


def distinguish(top: list[dict], landmarks: gpd.GeoDataFrame | None) -> list[dict]:
    """Areas that would read alike (the same quarter and commune twice) told apart: each
    gets ``place["near"]``, the nearest named landmark (a station, a school, a
    coworking place) and its distance, and, when even that repeats, a ``number``
    (1, 2...) among its namesakes."""
    groups: dict = {}
    for cell in top:
        groups.setdefault((cell.get("place") or {}).get("label"), []).append(cell)
    named = (
        metric(landmarks[landmarks["name"].notna()][["name", "geometry"]])
        if landmarks is not None and not landmarks.empty and "name" in landmarks
        else None
    )
    for cells in groups.values():
        if len(cells) < 2:
            continue
        if named is not None and not named.empty:
            points = gpd.GeoSeries(
                gpd.points_from_xy(
                    [c["lon"] for c in cells], [c["lat"] for c in cells]
                ),
                crs=4326,
            ).to_crs(2154)
            idx, dist = named.sindex.nearest(points.values, return_distance=True)
            for (i, j), d in zip(idx.T, dist, strict=True):
                place = cells[i].setdefault("place", {"label": None})
                place["near"] = str(named["name"].iloc[j])
                place["near_m"] = round(float(d))
        nears = [c["place"].get("near") for c in cells if c.get("place")]
        if len(set(nears)) < len(cells):
            for k, cell in enumerate(cells, start=1):
                cell.setdefault("place", {"label": None})["number"] = k
    return top
