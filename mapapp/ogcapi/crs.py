"""Coordinate reference systems of the OGC API (Part 2) and of the downloads.

The store keeps WGS84 longitude/latitude (CRS84). Features can be served in
Lambert-93 (EPSG:2154, what French planners use), Web Mercator (EPSG:3857) and
EPSG:4326, whose axis order is latitude first, as its definition says; bounding
boxes and filter geometries can be given in any of them. Coordinates are rounded
to about a centimetre in metric systems and 1e-5 degree (about 1 m) in degrees.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
LAMBERT93 = EPSG_URI.format(2154)
SUPPORTED = (CRS84, EPSG_URI.format(4326), LAMBERT93, EPSG_URI.format(3857))
# How a CRS may be named besides its URI (Part 2 asks for URIs; people type codes).
_EPSG_NAME = re.compile(
    r"^(?:\[?EPSG:(\d+)\]?|urn:ogc:def:crs:EPSG::(\d+)|"
    r"https?://www\.opengis\.net/def/crs/EPSG/0/(\d+))$",
    re.I,
)
_CRS84_NAMES = {"crs84", "ogc:crs84", "[ogc:crs84]", "urn:ogc:def:crs:ogc:1.3:crs84"}


class CrsError(ValueError):
    """A CRS this service does not know or serve."""


def parse_crs(value: str) -> str:
    """The URI of a supported CRS named by its URI, ``EPSG:n`` or a URN."""
    text = value.strip()
    if text.lower().replace("https://", "http://") == CRS84.lower():
        return CRS84
    if text.lower() in _CRS84_NAMES:
        return CRS84
    match = _EPSG_NAME.match(text)
    uri = EPSG_URI.format(next(g for g in match.groups() if g)) if match else None
    if uri not in SUPPORTED:
        raise CrsError(
            f"unsupported CRS {value[:80]!r}; supported: {', '.join(SUPPORTED)}"
        )
    return uri


def short_name(uri: str) -> str:
    """``EPSG:2154`` or ``OGC:CRS84``: the name GDAL and pyproj take."""
    return "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[1]


def is_degrees(uri: str) -> bool:
    """True when the CRS's coordinates are angles (CRS84, EPSG:4326)."""
    return _crs(uri).is_geographic


def decimals(uri: str) -> int:
    """Decimals kept in output coordinates: about 1 m in degrees, 1 cm in metres."""
    return 5 if is_degrees(uri) else 2


@lru_cache(maxsize=8)
def _crs(uri: str) -> CRS:
    return CRS.from_user_input(short_name(uri))


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    # always_xy=False: coordinates in each CRS's own axis order (lat, lon for 4326)
    return Transformer.from_crs(_crs(source), _crs(target), always_xy=False)


def _apply(transformer: Transformer, geoms):
    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def from_crs84(geoms, uri: str):
    """Geometries (a shapely array or one geometry) moved from CRS84 to ``uri``."""
    if uri == CRS84:
        return geoms
    return _apply(_transformer(CRS84, uri), geoms)


def to_crs84(geom: BaseGeometry, uri: str) -> BaseGeometry:
    """A geometry given in ``uri`` moved to CRS84; from a projected CRS its edges
    are first cut in short pieces, so a straight edge there follows its curve in
    degrees."""
    if uri == CRS84:
        return geom
    if not is_degrees(uri) and geom.length > 0:  # a point or a zero-size box
        geom = shapely.segmentize(geom, max(geom.length / 256, 1.0))
    moved = _apply(_transformer(uri, CRS84), geom)
    if not np.isfinite(shapely.get_coordinates(moved)).all():
        raise CrsError(f"coordinates outside the area where {short_name(uri)} holds")
    return moved


def bbox_geometry(bbox: list[float], uri: str) -> BaseGeometry:
    """The area of an OGC ``bbox`` (4 numbers, in the axis order of ``uri``) as a
    CRS84 geometry. A box whose west edge is east of its east edge crosses the
    antimeridian (OGC API - Features 1, 7.15.3) and becomes two boxes."""
    x0, y0, x1, y1 = bbox
    if uri == CRS84 and x0 > x1:
        return shapely.MultiPolygon([box(x0, y0, 180, y1), box(-180, y0, x1, y1)])
    if uri == EPSG_URI.format(4326) and y0 > y1:  # latitude first
        return to_crs84(
            shapely.MultiPolygon([box(x0, y0, x1, 180), box(x0, -180, x1, y1)]), uri
        )
    if x0 > x1 or y0 > y1:
        raise CrsError("bbox: the minimum of an axis is above its maximum")
    return to_crs84(box(x0, y0, x1, y1), uri)
