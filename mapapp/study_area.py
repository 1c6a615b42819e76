"""The study area: Grand Besançon Métropole's contour, a box, or chosen communes.

The shipped reference (``geodata/reference/``, see SOURCES.md there) holds the 67
member communes of Grand Besançon Métropole (EPCI 242500361) and their polygons;
the metropolis contour is their union. A setting may instead give a box
``min_lon,min_lat,max_lon,max_lat`` or a list of commune codes ``25056,25035``.
Features must lie inside the area; imported zones are kept when they intersect it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from .config import resource_dir

METROPOLIS = "metropolis"
METROPOLIS_NAME = "Grand Besançon Métropole"
# Points on the contour or a few metres outside it (coordinates rounded to 1 m,
# simplified outlines) are inside: about 30 m in degrees.
TOLERANCE_DEG = 0.0003


def reference_dir() -> Path:
    """The folder of the shipped reference files (commune list and contours)."""
    return resource_dir("geodata") / "reference"


@cache
def metropolis_communes() -> tuple[str, ...]:
    """INSEE codes of the 67 member communes of Grand Besançon Métropole."""
    with open(reference_dir() / "grand-besancon-communes.csv", encoding="utf-8") as f:
        return tuple(row["code_insee"] for row in csv.DictReader(f))


@cache
def commune_shapes() -> dict[str, tuple[str, BaseGeometry]]:
    """Code -> (name, WGS84 polygon) of the shipped commune contours."""
    path = reference_dir() / "communes-grand-besancon.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        f["properties"]["code"]: (f["properties"]["nom"], shape(f["geometry"]))
        for f in data["features"]
    }


def commune_anchor(code: str) -> tuple[float, float] | None:
    """Where a commune-level feature of this commune is anchored (lon, lat): a point
    inside the commune's polygon, the same for every such feature; None when the
    commune is not in the reference."""
    found = commune_shapes().get(code)
    if found is None:
        return None
    point = found[1].representative_point()
    return round(point.x, 5), round(point.y, 5)


@dataclass(frozen=True)
class StudyArea:
    """The area features must lie in: a WGS84 geometry with a description."""

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


def from_bbox(values: tuple[float, float, float, float]) -> StudyArea:
    """A box as a study area."""
    text = ",".join(f"{v:g}" for v in values)
    return StudyArea(box(*values), f"box {text}")


def from_communes(codes: list[str] | tuple[str, ...], name: str = "") -> StudyArea:
    """The union of the shipped contours of these communes; ValueError names the
    codes that are not in the reference."""
    shapes = commune_shapes()
    unknown = [c for c in codes if c not in shapes]
    if unknown:
        raise ValueError(
            f"unknown commune code(s) {', '.join(unknown)}; the shipped contours "
            f"cover the {len(shapes)} communes of {METROPOLIS_NAME}"
        )
    geometry = shapely.union_all([shapes[c][1] for c in codes])
    label = name or f"communes {', '.join(codes)}"
    return StudyArea(geometry, label, tuple(codes))


@cache
def metropolis() -> StudyArea:
    """Grand Besançon Métropole: the union of its 67 communes."""
    return from_communes(metropolis_communes(), METROPOLIS_NAME)


def parse_study_area(text: str) -> StudyArea:
    """``metropolis`` (or empty), a box ``a,b,c,d``, or commune codes ``25056,…``.

    Raise ValueError with the reason when the text is none of these."""
    from .config import parse_bbox

    text = str(text or "").strip()
    if text in ("", METROPOLIS):
        return metropolis()
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if all(len(p) == 5 and p[:2].isalnum() and p[2:].isdigit() for p in parts):
        return from_communes(parts)
    try:
        return from_bbox(parse_bbox(text))
    except ValueError as exc:
        raise ValueError(
            f"study area {text!r}: expected 'metropolis', a box "
            f"min_lon,min_lat,max_lon,max_lat or INSEE commune codes ({exc})"
        ) from None
