"""Outlines a planner draws or imports (perimeters), made fit for analysis.

A perimeter's catchment is its buffer (800 m by default), and the work of a buffer
grows with how jagged the outline is, not only with its vertices: a 2,000-vertex
star took GEOS 2 minutes and 1.7 GB. So an outline is checked where it comes in
(the editor, an import) and is simplified before any analysis:

- ``SIMPLIFY_M``: analyses use the outline simplified within 5 metres
  (Douglas-Peucker, topology kept): a drawn or traced outline's detail below that
  is noise at the scale of a walking distance;
- a self-intersecting outline is refused, saying where it crosses itself;
- a *spike* (a vertex where the outline turns back on itself, at less than
  ``SPIKE_DEGREES``, once simplified) is refused, saying where;
- a *jagged* outline (once simplified, more than ``MAX_JAGGEDNESS`` times as long
  as its convex hull's) is refused: no street-following perimeter comes near that
  (a staircase of parcels is 1.4), a zigzag or a scribble does.

Measures are taken in local metres (an equirectangular projection at the
outline's centre: within 0.1 % over a metropolis), so no CRS is needed here.
"""

from __future__ import annotations

import math
import re

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

SIMPLIFY_M = 5.0  # analyses use outlines simplified within this many metres
SPIKE_DEGREES = 10.0  # a turn sharper than this is a spike (a needle)
MAX_JAGGEDNESS = 8.0  # outline length over its convex hull's, once simplified
_WHERE = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")
_M_PER_DEGREE = 111_320.0


def local_metres(geom: BaseGeometry) -> tuple[BaseGeometry, callable]:
    """(the WGS84 geometry in local metres, the function mapping metres back)."""
    lon0, lat0 = shapely.centroid(shapely.envelope(geom)).coords[0]
    kx = _M_PER_DEGREE * math.cos(math.radians(lat0))
    ky = _M_PER_DEGREE

    def to_metres(xy):
        return np.column_stack([(xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * ky])

    def back(xy):
        return np.column_stack([xy[:, 0] / kx + lon0, xy[:, 1] / ky + lat0])

    return shapely.transform(geom, to_metres), back


def simplified(geom_m: BaseGeometry, tolerance: float = SIMPLIFY_M) -> BaseGeometry:
    """A metric polygon simplified within ``tolerance`` metres, still valid (points
    and lines are returned as they are)."""
    if geom_m.geom_type not in ("Polygon", "MultiPolygon"):
        return geom_m
    if not geom_m.is_valid:  # stored before outlines were checked: never a crash
        geom_m = shapely.make_valid(geom_m)
    out = shapely.simplify(geom_m, tolerance, preserve_topology=True)
    return out if not out.is_empty else geom_m


def _rings(geom_m: BaseGeometry) -> list[np.ndarray]:
    polygons = getattr(geom_m, "geoms", [geom_m])
    rings = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            rings.append(shapely.get_coordinates(ring)[:-1])
    return rings


def turn_angles(ring: np.ndarray) -> np.ndarray:
    """The angle in degrees between the two edges at each vertex of a ring (180:
    straight on; near 0: the outline turns back on itself)."""
    before = np.roll(ring, 1, axis=0) - ring
    after = np.roll(ring, -1, axis=0) - ring
    norms = np.hypot(*before.T) * np.hypot(*after.T)
    cos = np.divide(
        (before * after).sum(axis=1), norms, out=np.ones(len(ring)), where=norms > 0
    )
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def outline_problem(geom: BaseGeometry) -> tuple[str, dict] | None:
    """(code, params) when a WGS84 polygon is unfit for analysis, or None: codes
    ``self_intersection`` (``lon``, ``lat``), ``spike`` (``count``, ``angle``,
    ``lon``, ``lat``) and ``too_jagged`` (``ratio``, ``maximum``)."""
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        if "Self-intersection" not in reason:
            return None  # said by the general check (invalid_geometry)
        found = _WHERE.search(reason)
        lon, lat = (float(found[1]), float(found[2])) if found else (None, None)
        return "self_intersection", {"lon": lon, "lat": lat}
    metres, back = local_metres(geom)
    shape = simplified(metres)
    spikes, first = 0, None
    for ring in _rings(shape):
        if len(ring) < 3:
            continue
        angles = turn_angles(ring)
        sharp = np.flatnonzero(angles < SPIKE_DEGREES)
        if len(sharp) and first is None:
            k = sharp[np.argmin(angles[sharp])]
            first = (float(angles[k]), back(ring[k : k + 1])[0])
        spikes += len(sharp)
    if spikes:
        angle, (lon, lat) = first
        return "spike", {
            "count": spikes,
            "angle": round(angle, 1),
            "lon": round(float(lon), 5),
            "lat": round(float(lat), 5),
        }
    hull = shapely.convex_hull(shape).length
    ratio = shape.length / hull if hull > 0 else 1.0
    if ratio > MAX_JAGGEDNESS:
        return "too_jagged", {"ratio": round(ratio, 1), "maximum": MAX_JAGGEDNESS}
    return None
