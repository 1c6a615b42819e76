"""The study area: the territory's contour, some of its communes, or a box.

The territory profile (:mod:`mapapp.territory`) holds the communes and their
contours; the study area is all of them by default (``territory``, or its older
name ``metropolis``), a list of their INSEE codes, or a box
``min_lon,min_lat,max_lon,max_lat``. Features must lie inside the area; imported
zones are kept when they intersect it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from .territory import Territory, TerritoryError

# The whole territory: empty, ``territory``, or ``metropolis`` (its former name).
WHOLE = ("", "territory", "metropolis")
# Points on the contour or a few metres outside it (coordinates rounded to 1 m,
# simplified outlines) are inside: about 30 m in degrees.
TOLERANCE_DEG = 0.0003


@dataclass(frozen=True)
class StudyArea:
    """The area features must lie in: a WGS84 geometry with a description, and the
    territory's communes it is made of or reaches into (importers keep the rows of
    these communes unless told otherwise)."""

    geometry: BaseGeometry
    description: str
    communes: tuple[str, ...] = field(default=())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """The area's box (min_lon, min_lat, max_lon, max_lat)."""
        return tuple(round(v, 5) for v in self.geometry.bounds)

    def covers(self, geom: BaseGeometry) -> bool:
        """True when ``geom`` lies in the area (within the tolerance)."""
        return self._tolerant.covers(geom)

    def intersects(self, geom: BaseGeometry) -> bool:
        """True when ``geom`` reaches into the area (see :func:`reaches_into`)."""
        return reaches_into(geom, self.geometry)

    @property
    def _tolerant(self) -> BaseGeometry:
        return _buffered(self.geometry)

    def __str__(self) -> str:
        return self.description


# A zone reaches into the area when at least this share of it lies inside: a
# neighbouring commune that only shares a border (or a sliver of a simplified one)
# does not.
MIN_SHARE_INSIDE = 0.01


def reaches_into(geom: BaseGeometry, area: BaseGeometry) -> bool:
    """True when a polygon has a share of its area inside ``area`` (other
    geometries: when they meet it)."""
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.area == 0:
        return area.intersects(geom)
    if not area.intersects(geom):
        return False
    return area.intersection(geom).area >= MIN_SHARE_INSIDE * geom.area


@cache
def _buffered(geometry: BaseGeometry) -> BaseGeometry:
    grown = geometry.buffer(TOLERANCE_DEG)
    shapely.prepare(grown)
    return grown


def from_bbox(
    values: tuple[float, float, float, float], territory: Territory | None = None
) -> StudyArea:
    """A box as a study area (with the territory's communes reaching into it)."""
    text = ",".join(f"{v:g}" for v in values)
    geometry = box(*values)
    communes = ()
    if territory is not None:
        communes = tuple(
            c.code
            for c in territory.communes.values()
            if reaches_into(c.geometry, geometry)
        )
    return StudyArea(geometry, f"box {text}", communes)


def from_communes(
    codes: list[str] | tuple[str, ...], territory: Territory, name: str = ""
) -> StudyArea:
    """The union of the contours of these communes of the territory; ValueError
    names the codes the territory does not hold."""
    unknown = [c for c in codes if c not in territory.communes]
    if unknown:
        raise TerritoryError(
            f"unknown commune code(s) {', '.join(unknown[:20])}: the territory "
            f"{territory.name['fr']} ({territory.folder}) has "
            f"{len(territory.communes)} communes; MAPAPP_TERRITORY chooses another "
            "territory (docs/deploy.md)"
        )
    geometry = shapely.union_all([territory.communes[c].geometry for c in codes])
    label = name or f"communes {', '.join(codes)}"
    return StudyArea(geometry, label, tuple(codes))


@cache
def whole(territory: Territory) -> StudyArea:
    """The whole territory: the union of its communes."""
    return StudyArea(territory.contour, territory.name["fr"], territory.codes)


def parse_study_area(text: str, territory: Territory) -> StudyArea:
    """``territory`` (or ``metropolis``, or empty), a box ``a,b,c,d``, or INSEE
    codes of the territory's communes.

    Raise ValueError with the reason when the text is none of these."""
    from .config import parse_bbox

    text = str(text or "").strip()
    if text.lower() in WHOLE:
        return whole(territory)
    parts = [p.strip().upper() for p in text.split(",") if p.strip()]
    if all(len(p) == 5 and p[:2].isalnum() and p[2:].isdigit() for p in parts):
        return from_communes(parts, territory)
    try:
        return from_bbox(parse_bbox(text), territory)
    except ValueError as exc:
        raise ValueError(
            f"study area {text[:100]!r}: expected 'territory' (the whole territory), "
            f"a box min_lon,min_lat,max_lon,max_lat or INSEE commune codes ({exc})"
        ) from None
