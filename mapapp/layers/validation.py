"""Validation of features against their layer: every problem, with where and why.

Each problem carries a ``code`` and its ``params`` (translated by the web layer with
Babel) and an English ``message`` for logs, the CLI and reports.
"""

from __future__ import annotations

import math
import re

import numpy as np
import shapely

from ..errors import Problem
from ..limits import ID_PATTERN, MAX_ID_LENGTH, MAX_TEXT_LENGTH, MAX_VERTICES
from ..study_area import reaches_into
from .model import Field, LayerSpec
from .outline import outline_problem

# The study area: a box (min_lon, min_lat, max_lon, max_lat), or any object with
# ``covers(geom)``, ``bounds`` and a description (mapapp.study_area.StudyArea: the
# metropolis contour or chosen communes).
Area = object

_TYPES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}

# English messages of the problem codes (the views translate the codes).
# Fields holding a web address: http(s) only (a ``javascript:`` or ``file:`` link is
# refused where it comes in, not only where it is shown).
URL_FIELDS = ("website", "source_url")
WEB_ADDRESS = re.compile(r"https?://[^\s/]+", re.IGNORECASE)

MESSAGES = {
    "required": "required field is missing or empty",
    "boolean_not_allowed": "expected {type}, got a boolean",
    "wrong_type": "expected {type}, got {got} {value!r}",
    "not_a_number": "not a number",
    "not_a_choice": "{value!r} is not one of: {allowed}",
    "below_minimum": "{value} is below the minimum {minimum}",
    "above_maximum": "{value} is above the maximum {maximum}",
    "too_long": "{length} characters, more than the {maximum} allowed",
    "bad_character": "contains a character that is not allowed in text ({char})",
    "not_a_web_address": "{value!r} is not a web address (http:// or https://)",
    "bad_id": "an id is 1 to {maximum} letters, digits, '-', '_' or '.', starting "
    "with a letter or a digit; got {value!r}",
    "missing_geometry": "missing or empty geometry",
    "too_many_vertices": "{count} vertices, more than the {maximum} allowed",
    "has_z": "3-D coordinates: give longitude and latitude only",
    "not_finite": "coordinates must be finite numbers",
    "wrong_geometry_type": "expected {expected}, got {got}",
    "invalid_geometry": "invalid geometry: {reason}",
    "self_intersection": "the outline crosses itself near lon={lon}, lat={lat}",
    "spike": "{count} spike(s) where the outline turns back on itself (the sharpest, "
    "{angle} degrees, near lon={lon}, lat={lat})",
    "too_jagged": "the outline is {ratio} times as long as its convex hull's, "
    "more than {maximum}: too jagged to analyse",
    "swapped": "latitude and longitude look swapped: GeoJSON wants "
    "[longitude, latitude], got x={x:.5f}, y={y:.5f}",
    "outside_area": "outside the study area {area}: bounds {bounds}",
    "unknown_field": "unknown field for layer {layer!r}",
    "duplicate_id": "duplicate id, already used by feature #{first}",
    "ftth_exceeds": "{ftth} FTTH premises exceed the {premises} premises",
    "coverage_mismatch": "coverage {coverage} does not match "
    "ftth_premises/premises = {ratio:.3f}",
}


def problem(source: str, feature: str, field: str, code: str, **params) -> Problem:
    """A :class:`Problem` with its English message made from ``code`` and params."""
    return Problem(
        source, feature, field, MESSAGES[code].format(**params), code, params
    )


# NUL and the other C0 controls but tab and newlines, DEL, lone surrogates (which
# cannot be encoded as UTF-8) and the two non-characters U+FFFE, U+FFFF: SQLite
# would keep some of them and PostgreSQL refuse them, so both refuse them here.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def check_text(value: str) -> tuple[str, dict] | None:
    """Return (code, params) when a text is too long or holds a forbidden character."""
    if len(value) > MAX_TEXT_LENGTH:
        return "too_long", {"length": len(value), "maximum": MAX_TEXT_LENGTH}
    bad = _BAD_CHARS.search(value)
    if bad:
        return "bad_character", {"char": f"U+{ord(bad.group()):04X}"}
    return None


def check_id(value: object) -> tuple[str, dict] | None:
    """Return (code, params) when a feature id is not a safe identifier."""
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return None
    return "bad_id", {"maximum": MAX_ID_LENGTH, "value": _clip(value)}


def _clip(value: object) -> object:
    """A value short enough to quote in a message (long texts are cut)."""
    if isinstance(value, str) and len(value) > 60:
        return value[:59] + "…"
    return value


def check_value(spec_field: Field, value: object) -> tuple[str, dict] | None:
    """Return (code, params) of what is wrong with one value, or None."""
    expected = _TYPES[spec_field.type]
    if isinstance(value, bool) and spec_field.type != "bool":
        return "boolean_not_allowed", {"type": spec_field.type}
    if not isinstance(value, expected):
        got = type(value).__name__
        return "wrong_type", {
            "type": spec_field.type,
            "got": got,
            "value": _clip(value),
        }
    if isinstance(value, str):
        bad = check_id(value) if spec_field.name == "id" else check_text(value)
        if bad:
            return bad
        if spec_field.name in URL_FIELDS and not WEB_ADDRESS.match(value):
            return "not_a_web_address", {"value": _clip(value)}
    if isinstance(value, float) and math.isnan(value):
        return "not_a_number", {}
    if spec_field.choices is not None and value not in spec_field.choices:
        return "not_a_choice", {
            "value": _clip(value),
            "allowed": ", ".join(spec_field.choices),
        }
    if spec_field.minimum is not None and value < spec_field.minimum:
        return "below_minimum", {"value": value, "minimum": spec_field.minimum}
    if spec_field.maximum is not None and value > spec_field.maximum:
        return "above_maximum", {"value": value, "maximum": spec_field.maximum}
    return None


def check_geometry(geom, spec: LayerSpec, area: Area) -> tuple[str, dict] | None:
    """Return (code, params) for a bad geometry, or None."""
    if geom is None or geom.is_empty:
        return "missing_geometry", {}
    kinds = {"Point": {"Point"}, "Polygon": {"Polygon", "MultiPolygon"}}[spec.geometry]
    if geom.geom_type not in kinds:
        return "wrong_geometry_type", {"expected": spec.geometry, "got": geom.geom_type}
    count = shapely.get_num_coordinates(geom)
    if count > MAX_VERTICES:  # before is_valid, whose cost grows with the vertices
        return "too_many_vertices", {"count": int(count), "maximum": MAX_VERTICES}
    if shapely.has_z(geom):
        return "has_z", {}
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return "not_finite", {}
    if spec.editable and spec.geometry == "Polygon":  # outlines planners draw
        bad = outline_problem(geom)
        if bad:
            return bad
    if not geom.is_valid:
        return "invalid_geometry", {"reason": shapely.is_valid_reason(geom)}
    # Points lie in the study area; zones and perimeters need only reach into it
    # (a commune or an IRIS crossing the metropolis's edge is kept whole).
    inside = inside_area if spec.geometry == "Point" else touches_area
    if inside(geom, area):
        return None
    gx0, gy0, gx1, gy1 = geom.bounds
    if inside(shapely.transform(geom, lambda xy: xy[:, ::-1]), area):
        return "swapped", {"x": gx0, "y": gy0}
    bounds = f"({gx0:.5f}, {gy0:.5f}, {gx1:.5f}, {gy1:.5f})"
    return "outside_area", {"area": str(area), "bounds": bounds}


def touches_area(geom, area: Area) -> bool:
    """True when a geometry reaches into the study area."""
    if hasattr(area, "intersects"):
        return area.intersects(geom)
    return reaches_into(geom, shapely.box(*area))


def inside_area(geom, area: Area) -> bool:
    """True when a geometry lies in the study area (a box, or a contour)."""
    if hasattr(area, "covers"):
        return area.covers(geom)
    minx, miny, maxx, maxy = area
    gx0, gy0, gx1, gy1 = geom.bounds
    return gx0 >= minx and gx1 <= maxx and gy0 >= miny and gy1 <= maxy


def _feature_label(index: int, props: dict) -> str:
    fid = props.get("id")
    label = f"#{index + 1}" + (f" (id {fid!r})" if fid else "")
    if props.get("name"):
        label += f" {props['name']!r}"
    return label


def _check_fields(spec: LayerSpec, props: dict) -> list[tuple[str, str, dict]]:
    found = []
    for f in spec.fields:
        value = props.get(f.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if f.required:
                found.append((f.name, "required", {}))
            continue
        wrong = check_value(f, value)
        if wrong:
            found.append((f.name, *wrong))
    for extra in sorted(set(props) - set(spec.field_names)):
        found.append((extra, "unknown_field", {"layer": spec.name}))
    return found


def validate_records(
    records: list[dict], spec: LayerSpec, area: Area, source: str
) -> list[Problem]:
    """Check records ``{"properties", "geometry"}`` against ``spec``.

    Returns every problem (an empty list when all is well); ``source`` names the
    file or request the records came from.
    """
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, rec in enumerate(records):
        props = rec["properties"]
        label = _feature_label(index, props)
        found = _check_fields(spec, props)
        bad_geom = check_geometry(rec["geometry"], spec, area)
        if bad_geom:
            found.append(("geometry", *bad_geom))
        if spec.check is not None:
            found += spec.check(props)
        fid = props.get("id")
        if isinstance(fid, str) and fid:
            if fid in seen:
                found.append(("id", "duplicate_id", {"first": seen[fid] + 1}))
            else:
                seen[fid] = index
        problems += [problem(source, label, f, code, **p) for f, code, p in found]
    return problems
