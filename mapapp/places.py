"""Place search without an outside geocoder, and what a place has around it.

Quarters, IRIS zones and communes come from the zones the site holds (the fibre
quarters, the imported reference zones); communes also from the imported addresses;
addresses from the Base Adresse Nationale import. Each result says what it is. For
an address the site tells the fibre coverage there and the nearest coworking places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping

from .store.addresses import query_words, search_key

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


def fibre_at(fibre: gpd.GeoDataFrame, lon: float, lat: float) -> dict | None:
    """The fibre zone holding the point: its name, coverage, date and flags."""
    if fibre is None or not len(fibre):
        return None
    inside = shapely.contains_xy(fibre.geometry.values, lon, lat)
    if not inside.any():
        return None
    row = fibre[inside].iloc[0]
    coverage = row.get("coverage")
    return {
        "zone_code": row["zone_code"],
        "zone_name": row["zone_name"],
        "coverage": None
        if coverage is None or coverage != coverage
        else float(coverage),
        "as_of": row.get("as_of"),
        "illustrative": _flag(row.get("illustrative")),
        "source": row.get("source"),
    }


def nearest(
    frame: gpd.GeoDataFrame, lon: float, lat: float, labels: dict, count: int = 3
) -> list[dict]:
    """The ``count`` features of a point layer nearest the point, with distances."""
    if frame is None or not len(frame):
        return []
    pts = frame.geometry.representative_point()
    dist = distances_m(lon, lat, pts.x.to_numpy(), pts.y.to_numpy())
    out = []
    for i in np.argsort(dist)[:count]:
        row = frame.iloc[int(i)]
        status = row.get("status")
        out.append(
            {
                "id": row["id"],
                "name": row["name"],
                "status": status,
                "status_label": labels.get(status, status),
                "distance_m": int(round(float(dist[i]))),
                "lat": round(pts.iloc[int(i)].y, 5),
                "lon": round(pts.iloc[int(i)].x, 5),
            }
        )
    return out
