"""Place search without an outside geocoder, and what a place has around it.

Quarters, IRIS zones and communes come from the zones the site holds (the fibre
quarters, the imported reference zones); communes also from the imported addresses;
addresses from the Base Adresse Nationale import. Each result says what it is.

Every place (a point, an address, a quarter, an IRIS zone, a commune) gets the same
answer: the fibre coverage there (or why there is no figure), the nearest open
coworking places and training places (those to come listed apart), the nearest
stations, each with its straight-line distance and an estimated walking time
(analysis.walk_minutes). A zone answers as a whole: distances from its
representative point, the fibre figure of the fibre zones inside it. Features
located at commune level only are never given a distance: they are listed apart,
for the commune of the place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from .analysis import COMMUNE_LEVEL, DETOUR_FACTOR, WALK_KMH, walk_minutes
from .store.addresses import query_words, search_key
from .text import fold

SIMPLIFY_DEG = 0.0002  # about 20 m: outlines drawn to show where a zone is
EARTH_M = 6_371_000


@dataclass(frozen=True)
class Zone:
    """A named zone the search can find: a quarter, an IRIS zone or a commune."""

    kind: str  # "quarter", "iris" or "commune"
    name: str
    code: str
    key: str  # search_key(name)
    bbox: tuple[float, float, float, float]
    lat: float
    lon: float
    outline: dict | None = None  # simplified GeoJSON geometry
    # the whole geometry (WGS84), for what lies in the zone; None when only the
    # extent is known (the communes of the imported addresses)
    shape: BaseGeometry | None = field(default=None, compare=False, repr=False)

    def hit(self) -> dict:
        """The zone as a search result."""
        return {
            "kind": self.kind,
            "name": self.name,
            "id": self.code,
            "zone_code": self.code,
            "lat": self.lat,
            "lon": self.lon,
            "bbox": [round(v, 5) for v in self.bbox],
            "geometry": self.outline,
        }


def _zone(kind: str, name: str, code: str, geom) -> Zone:
    point = geom.representative_point()
    outline = shapely.simplify(geom, SIMPLIFY_DEG, preserve_topology=True)
    outline = shapely.set_precision(outline, 1e-5)
    return Zone(
        kind,
        name,
        code,
        search_key(name),
        tuple(geom.bounds),
        round(point.y, 5),
        round(point.x, 5),
        # rings counterclockwise, as RFC 7946 asks of GeoJSON
        mapping(shapely.orient_polygons(outline, exterior_cw=False)),
        geom,
    )


def zone_index(
    fibre: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    address_communes: list[dict],
    communes: dict | None = None,
    quarters: tuple = (),
) -> list[Zone]:
    """Every zone a visitor may search for, without the same name twice per kind:
    fibre quarters, imported zones, the territory's quarters (``quarters``: (code,
    name, geometry)) and commune contours (``communes``: code -> (name, geometry)),
    and the communes of the imported addresses."""
    found: list[Zone] = []
    if fibre is not None:
        for row in fibre.itertuples():
            if row.geometry is not None and not row.geometry.is_empty:
                found.append(
                    _zone("quarter", row.zone_name, row.zone_code, row.geometry)
                )
    if zones is not None and len(zones):
        for row in zones.itertuples():
            if row.geometry is not None and not row.geometry.is_empty:
                kind = (
                    row.zone_kind if row.zone_kind in ("iris", "commune") else "quarter"
                )
                found.append(_zone(kind, row.zone_name, row.zone_code, row.geometry))
    found += [_zone("quarter", name, code, geom) for code, name, geom in quarters]
    known = {z.code for z in found if z.kind == "commune"}
    for code, (name, geom) in (communes or {}).items():
        if code not in known:
            found.append(_zone("commune", name, code, geom))
            known.add(code)
    for c in address_communes:
        if c["code"] in known:
            continue
        bbox = (c["west"], c["south"], c["east"], c["north"])
        found.append(
            Zone(
                "commune",
                c["name"],
                c["code"],
                search_key(c["name"]),
                bbox,
                round((bbox[1] + bbox[3]) / 2, 5),
                round((bbox[0] + bbox[2]) / 2, 5),
            )
        )
    seen, unique = set(), []
    for z in found:
        if (z.kind, z.key) not in seen:
            seen.add((z.kind, z.key))
            unique.append(z)
    return unique


def search_zones(index: list[Zone], query: str, limit: int) -> list[Zone]:
    """Zones whose name holds every word of ``query`` (from a word's start); names
    that begin with the query first, then communes, quarters, IRIS zones."""
    words = query_words(query)
    if not words:
        return []
    hits = [z for z in index if all(f" {w}" in z.key for w in words)]
    start = " " + " ".join(words)
    order = {"commune": 0, "quarter": 1, "iris": 2}
    hits.sort(key=lambda z: (not z.key.startswith(start), order[z.kind], len(z.name)))
    return hits[:limit]


def address_hit(row: dict) -> dict:
    """A stored address as a search result."""
    return {
        "kind": "address",
        "name": row["label"],
        "id": row["id"],
        "lat": round(row["lat"], 6),
        "lon": round(row["lon"], 6),
        "commune_code": row["code_insee"],
        "source": "Base Adresse Nationale",
        "source_date": row.get("source_date"),
    }


def distances_m(
    lon: float, lat: float, lons: np.ndarray, lats: np.ndarray
) -> np.ndarray:
    """Great-circle distances in metres from one point to many (haversine)."""
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    p1, p2 = math.radians(lat), np.radians(lats)
    dphi, dlmb = p2 - p1, np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(a))


def _flag(value) -> bool:
    """A stored boolean that may be missing (None or NaN) as a plain bool."""
    return bool(value) if value is not None and value == value else False


def _number(value):
    """A stored number that may be missing (None or NaN) as a number or None."""
    if value is None or value != value:
        return None
    return float(value) if isinstance(value, float) else int(value)


# --- the place asked about ------------------------------------------------------


def zone_of(index: list[Zone], kind: str, code: str) -> Zone | None:
    """The zone of ``kind`` with ``code`` in the place index, or None."""
    return next((z for z in index if z.kind == kind and z.code == code), None)


def commune_at(index: list[Zone], lon: float, lat: float) -> Zone | None:
    """The commune (with a contour) holding the point, or None."""
    for z in index:
        if z.kind == "commune" and z.shape is not None:
            if shapely.contains_xy(z.shape, lon, lat):
                return z
    return None


# --- fibre coverage of a place ----------------------------------------------------


def _zone_figures(row) -> dict:
    return {
        "zone_code": row["zone_code"],
        "zone_name": row["zone_name"],
        "coverage": _number(row.get("coverage")),
        "premises": _number(row.get("premises")),
        "ftth_premises": _number(row.get("ftth_premises")),
        "as_of": row.get("as_of"),
        "illustrative": _flag(row.get("illustrative")),
        "source": row.get("source"),
    }


def fibre_at(fibre: gpd.GeoDataFrame, lon: float, lat: float) -> dict | None:
    """The fibre zone holding the point: its name, figures, date and flags."""
    if fibre is None or not len(fibre):
        return None
    inside = shapely.contains_xy(fibre.geometry.values, lon, lat)
    return _zone_figures(fibre[inside].iloc[0]) if inside.any() else None


def _fibre_zones(fibre, lon: float, lat: float, place: Zone | None):
    """(fibre zone rows, basis) answering for a point or a zone: the zone of the
    same code, else the fibre zones whose representative point lies in the zone,
    else the zone holding the point (the zone's representative point)."""
    if fibre is None or not len(fibre):
        return [], "at_point"
    if place is not None:
        same = fibre[fibre["zone_code"] == place.code]
        if len(same):
            return [same.iloc[0]], "same_zone"
        if place.shape is not None:
            pts = fibre.geometry.representative_point()
            inside = shapely.contains_xy(place.shape, pts.x.values, pts.y.values)
            if inside.any():
                return [row for _i, row in fibre[inside].iterrows()], "in_place"
    inside = shapely.contains_xy(fibre.geometry.values, lon, lat)
    basis = "at_point" if place is None else "at_centre"
    return ([fibre[inside].iloc[0]] if inside.any() else []), basis


def fibre_answer(
    fibre: gpd.GeoDataFrame, lon: float, lat: float, place: Zone | None = None
) -> dict:
    """The fibre coverage of a point or a zone (see :func:`_fibre_zones`): the zones
    counted, their coverage together (FTTH-ready premises over premises, of the
    zones that have figures), or ``missing``: ``no_zone`` (no fibre zone there) or
    ``no_figure`` (the zones there have no figure)."""
    rows, basis = _fibre_zones(fibre, lon, lat, place)
    zones = [_zone_figures(r) for r in rows]
    known = [z for z in zones if z["coverage"] is not None]
    counted = [z for z in known if z["premises"] and z["ftth_premises"] is not None]
    answer = {
        "basis": basis,
        "zones": zones,
        "without_figure": len(zones) - len(known),
        "missing": None if known else ("no_figure" if zones else "no_zone"),
        "coverage": None,
        "premises": None,
        "ftth_premises": None,
        "as_of": max((z["as_of"] for z in known if z["as_of"]), default=None),
        "illustrative": any(z["illustrative"] for z in known),
    }
    if len(known) == 1:
        answer.update(
            {k: known[0][k] for k in ("coverage", "premises", "ftth_premises")}
        )
    elif counted and len(counted) == len(known):
        premises = sum(z["premises"] for z in counted)
        ftth = sum(z["ftth_premises"] for z in counted)
        answer.update(coverage=ftth / premises, premises=premises, ftth_premises=ftth)
    return answer


# --- the nearest features of a layer ----------------------------------------------


@dataclass(frozen=True)
class Listed:
    """How the answer lists one point layer: ``now`` the statuses listed nearest
    first (None: any), ``coming`` those listed apart (planned, under way), ``kinds``
    the only kinds kept (None: all), ``detail`` a field said on each line."""

    key: str
    layer: str
    now: tuple[str, ...] | None
    coming: tuple[str, ...] = ()
    kinds: tuple[str, ...] | None = None
    count: int = 3
    detail: str | None = None


# Closed places and the planners' proposals are not places to go to: left out.
ANSWER_LISTS = (
    Listed(
        "coworking",
        "coworking",
        ("open",),
        ("under_construction", "planned"),
        detail="opening",
    ),
    Listed(
        "schools",
        "schools",
        ("open", "unknown"),
        ("planned",),
        detail="digital_programmes",
    ),
    Listed("stations", "context", None, kinds=("station",), count=2),
)


def _item(row, lon: float, lat: float, labels: dict, rule: Listed) -> dict:
    status, kind = row.get("status"), row.get("kind")
    out = {
        "layer": rule.layer,
        "id": row["id"],
        "name": row.get("name"),
        "status": status,
        "status_label": labels["status"].get(status, status),
        "kind_label": labels["kind"].get(kind, kind),
        "precision": row.get("precision"),
        "lat": round(lat, 5),
        "lon": round(lon, 5),
    }
    if rule.detail:
        value = row.get(rule.detail)
        out[rule.detail] = None if value is None or value != value else value
    return out


def _wanted(frame: gpd.GeoDataFrame, rule: Listed, statuses) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    if statuses is not None and "status" in frame:
        keep &= frame["status"].isin(statuses).to_numpy()
    if rule.kinds is not None and "kind" in frame:
        keep &= frame["kind"].isin(rule.kinds).to_numpy()
    return keep


def _at_commune_level(frame: gpd.GeoDataFrame) -> np.ndarray:
    if "precision" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return (frame["precision"] == COMMUNE_LEVEL).to_numpy()


def _nearest_of(frame, keep, lon, lat, labels, rule, count) -> list[dict]:
    """The ``count`` kept features nearest the point, located ones only."""
    located = keep & ~_at_commune_level(frame)
    chosen = frame[located]
    if not len(chosen):
        return []
    pts = chosen.geometry.representative_point()
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    dist = distances_m(lon, lat, xs, ys)
    out = []
    for i in np.argsort(dist, kind="stable")[:count]:
        item = _item(chosen.iloc[int(i)], xs[i], ys[i], labels, rule)
        item["distance_m"] = int(round(float(dist[i])))
        item["walk_min"] = walk_minutes(float(dist[i]))
        out.append(item)
    return out


def listed(
    frame: gpd.GeoDataFrame,
    rule: Listed,
    lon: float,
    lat: float,
    labels: dict,
    communes: list[Zone],
    commune: Zone | None,
) -> dict:
    """One layer in the answer: ``nearest`` (status ``now``) and ``coming``, each
    with distance and walking time, and ``in_commune``: the features located at
    the level of the place's commune only, without a distance."""
    if frame is None or not len(frame):
        return {"nearest": [], "coming": [], "in_commune": []}
    now = _wanted(frame, rule, rule.now)
    coming = _wanted(frame, rule, rule.coming) if rule.coming else ~now & now
    answer = {
        "nearest": _nearest_of(frame, now, lon, lat, labels, rule, rule.count),
        "coming": _nearest_of(frame, coming, lon, lat, labels, rule, rule.count),
        "in_commune": [],
    }
    level = _at_commune_level(frame) & (now | coming)
    if commune is None or not level.any():
        return answer
    for _i, row in frame[level].iterrows():
        code = row.get("commune_code")
        if not isinstance(code, str):  # known by its anchor, inside its commune
            found = commune_at(communes, row.geometry.x, row.geometry.y)
            code = found.code if found else None
        if code == commune.code:
            p = row.geometry.representative_point()
            answer["in_commune"].append(_item(row, p.x, p.y, labels, rule))
    answer["in_commune"].sort(key=lambda item: fold(item["name"]))
    return answer


# --- the whole answer ---------------------------------------------------------------


def answer(
    frames: dict[str, gpd.GeoDataFrame],
    labels: dict[str, dict],
    index: list[Zone],
    lon: float,
    lat: float,
    place: Zone | None = None,
) -> dict:
    """What a point (``place`` None) or a zone of the place index has around it:
    the fibre coverage and every list of ANSWER_LISTS. ``frames`` holds the
    published ``fibre`` zones and the listed layers; ``labels`` each layer's status
    and kind labels (``{"status": {...}, "kind": {...}}``) in the asked language."""
    commune = place if place is not None and place.kind == "commune" else None
    commune = commune or commune_at(index, lon, lat)
    where = {
        "kind": place.kind if place else "point",
        "name": place.name if place else None,
        "code": place.code if place else None,
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "distances_from": "representative_point" if place else "point",
        "commune": {"code": commune.code, "name": commune.name} if commune else None,
    }
    out = {
        "place": where,
        "walking": {"speed_kmh": WALK_KMH, "detour_factor": DETOUR_FACTOR},
        "fibre": fibre_answer(frames.get("fibre"), lon, lat, place),
    }
    for rule in ANSWER_LISTS:
        out[rule.key] = listed(
            frames.get(rule.layer), rule, lon, lat, labels[rule.layer], index, commune
        )
    return out
