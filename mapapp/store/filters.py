"""Filters a store evaluates itself: a small expression tree, independent of any
query language.

The OGC API's CQL2 parser builds these nodes (so could any other caller); every
backend turns them into SQL with bound values (:meth:`SqlStore._filter_sql`), so a
filter runs in the database, never in Python over a whole layer. Geometries are in
WGS84 longitude/latitude, like the store's.

Null semantics are SQL's: a comparison with a missing value is unknown, and ``NOT``
of unknown is unknown, so a feature without ``desks`` matches neither ``desks > 10``
nor ``NOT desks > 10``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from ..errors import BadRequest
from ..layers import LayerSpec
from ..layers.validation import check_text

COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
PYTHON_TYPES = {
    "str": (str,),
    "int": (int, float),
    "float": (int, float),
    "bool": (bool,),
}


@dataclass(frozen=True)
class Compare:
    """``field op value``; ``casei`` compares strings case-insensitively."""

    field: str
    op: str
    value: object
    casei: bool = False


@dataclass(frozen=True)
class Like:
    """``field LIKE pattern``: ``%`` any run, ``_`` one character, ``\\`` escapes."""

    field: str
    pattern: str
    negate: bool = False
    casei: bool = False


@dataclass(frozen=True)
class Between:
    """``low <= field <= high`` (numbers)."""

    field: str
    low: float
    high: float
    negate: bool = False


@dataclass(frozen=True)
class In:
    """``field IN (values)``."""

    field: str
    values: tuple
    negate: bool = False
    casei: bool = False


@dataclass(frozen=True)
class IsNull:
    """The field has no value."""

    field: str
    negate: bool = False


@dataclass(frozen=True)
class Intersects:
    """The feature's geometry intersects ``geometry`` (WGS84 lon/lat)."""

    geometry: BaseGeometry


@dataclass(frozen=True)
class And:
    """Every part holds (no part: always true)."""

    parts: tuple


@dataclass(frozen=True)
class Or:
    """Some part holds (no part: never true)."""

    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


Filter = Compare | Like | Between | In | IsNull | Intersects | And | Or | Not


def check_filter(expr: Filter, spec: LayerSpec) -> None:
    """Raise BadRequest when ``expr`` names a field the layer lacks or compares a
    field with a value of another type (a store never guesses a conversion)."""
    if isinstance(expr, And | Or):
        for part in expr.parts:
            check_filter(part, spec)
        return
    if isinstance(expr, Not):
        check_filter(expr.part, spec)
        return
    if isinstance(expr, Intersects):
        return
    if expr.field not in spec.field_names:
        raise BadRequest(f"unknown field {expr.field!r} in layer {spec.name!r}")
    kind = spec.field(expr.field).type
    for value in _values(expr):
        if not _fits(value, kind):
            raise BadRequest(
                f"{expr.field} is of type {kind}: {value!r} cannot be compared to it"
            )
        if not _storable(value):
            raise BadRequest(f"{expr.field}: {value!r:.60} is not a value it can hold")
    if isinstance(expr, Like) and kind != "str":
        raise BadRequest(f"LIKE needs a text field; {expr.field} is of type {kind}")
    if isinstance(expr, Between) and kind not in ("int", "float"):
        raise BadRequest(f"BETWEEN needs a number field; {expr.field} is {kind}")


def _values(expr: Filter) -> tuple:
    if isinstance(expr, Compare):
        return (expr.value,)
    if isinstance(expr, In):
        return expr.values
    if isinstance(expr, Between):
        return (expr.low, expr.high)
    if isinstance(expr, Like):
        return (expr.pattern,)
    return ()


def _fits(value: object, kind: str) -> bool:
    if isinstance(value, bool) and kind != "bool":
        return False
    return isinstance(value, PYTHON_TYPES[kind])


def _storable(value: object) -> bool:
    """A value both databases compare alike: text without NUL or lone surrogates,
    64-bit integers, finite numbers (mapapp.limits)."""
    if isinstance(value, str):
        return check_text(value) is None
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``, ``\\`` escape) as an SQLite GLOB pattern, which
    is case-sensitive as CQL2 wants (SQLite's LIKE folds ASCII case)."""
    out, escaped = [], False
    for ch in pattern:
        if escaped:
            out.append(f"[{ch}]" if ch in "*?[" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append(f"[{ch}]" if ch in "*?[" else ch)
    if escaped:
        out.append("\\")
    return "".join(out)
