"""CQL2 text (OGC 21-065) filters, parsed into the store's filter nodes.

What is understood: comparisons (``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``),
``AND``/``OR``/``NOT`` and parentheses, ``TRUE``/``FALSE`` (``1``/``0`` for a
boolean property, as GDAL writes them), ``DATE('…')`` and ``TIMESTAMP('…')``
(compared with the ISO dates the layers hold as text), ``[NOT] LIKE`` (``%``,
``_``, ``\\`` escapes), ``[NOT] BETWEEN``, ``[NOT] IN (…)``, ``IS [NOT] NULL``,
``CASEI(…)`` for case-insensitive comparison, and ``S_INTERSECTS(geometry, …)``
with a ``BBOX(…)`` or any WKT geometry literal. Strings are single-quoted, a quote
doubled inside (``'l''Usine'``); property names may be double-quoted.

A small hand-written recursive-descent parser rather than a library: pygeofilter
0.4's CQL2-text grammar rejects doubled quotes (which GDAL sends), reads ``_`` in
LIKE as ``.`` and refuses a property named ``x``. Every node is checked against the
layer's queryables (names, types, operators) so a bad filter gets a precise 400
rather than an SQL error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from ..limits import MAX_FILTER_GEOMETRIES, MAX_FILTER_VERTICES
from ..store.filters import (
    And,
    Between,
    Compare,
    Filter,
    In,
    Intersects,
    IsNull,
    Like,
    Not,
    Or,
)
from .crs import CRS84, CrsError, to_crs84

MAX_LENGTH = 8000  # characters of one filter
MAX_DEPTH = 40  # nesting of parentheses and NOTs
GEOMETRY = "geometry"  # the name of the geometry queryable
WKT_TYPES = (
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.:]*)|(?P<quoted>\"(?:[^\"]|\"\")+\")"
    r"|(?P<op><>|<=|>=|=|<|>|\(|\)|,))"
)
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class Cql2Error(ValueError):
    """A filter that cannot be parsed or does not fit the layer; says where."""


@dataclass
class Token:
    kind: str  # str, num, name, quoted, op, end
    text: str
    pos: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


@dataclass(frozen=True)
class _Prop:
    name: str
    casei: bool = False


@dataclass(frozen=True)
class _Lit:
    value: object
    casei: bool = False


def tokenize(text: str) -> list[Token]:
    """The tokens of a filter; Cql2Error at the first character not understood."""
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise Cql2Error(f"unexpected character {text[pos]!r} at position {pos}")
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse_filter(text: str, queryables: dict[str, str], crs: str = CRS84) -> Filter:
    """Parse CQL2 text into a store filter.

    ``queryables`` maps the property names a filter may use to their types (``str``,
    ``int``, ``float``, ``bool``; ``geometry`` for the geometry); ``crs`` is the
    ``filter-crs`` of geometry literals.
    """
    if len(text) > MAX_LENGTH:
        raise Cql2Error(f"the filter is longer than {MAX_LENGTH} characters")
    parser = _Parser(text, tokenize(text), queryables, crs)
    expr = parser.expression(0)
    parser.expect_end()
    return expr


# Temporal literals of CQL2. DATE('…') and TIMESTAMP('…') are compared with the
# dates the layers hold as ISO 8601 text ('2025', '2025-06', '2025-06-30'), as
# text; INTERVAL needs the temporal operators, which are not implemented.
TEMPORAL = ("DATE", "TIMESTAMP", "INTERVAL")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz])")


def temporal_text(kind: str, text: str) -> str:
    """A DATE or TIMESTAMP literal's value as the ISO text the layers hold; Cql2Error
    when it is not a real date (or a UTC instant)."""
    pattern = _DATE if kind == "DATE" else _TIMESTAMP
    match = pattern.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        if kind == "DATE":
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}")
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        example = "'2025-06-30'" if kind == "DATE" else "'2025-06-30T12:00:00Z'"
        raise Cql2Error(f"{kind}({text!r}): expected {kind}({example})") from None


class _Parser:
    """Recursive descent over the tokens; one method per grammar rule."""

    def __init__(self, text: str, tokens: list[Token], queryables: dict, crs: str):
        self.text, self.tokens, self.i = text, tokens, 0
        self.queryables, self.crs = queryables, crs
        self.geometries = self.vertices = 0  # spatial terms and their coordinates

    # --- tokens -------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, word: str) -> bool:
        if self.tok.word == word or (self.tok.kind == "op" and self.tok.text == word):
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word}")

    def expect_end(self) -> None:
        if self.tok.kind != "end":
            self.fail("expected the end of the filter")

    def fail(self, what: str):
        found = repr(self.tok.text) if self.tok.text else "the end of the filter"
        raise Cql2Error(f"{what} at position {self.tok.pos}, found {found}")

    # --- boolean structure --------------------------------------------------------

    def expression(self, depth: int) -> Filter:
        if depth > MAX_DEPTH:
            self.fail(f"more than {MAX_DEPTH} nested levels")
        parts = [self.term(depth)]
        while self.accept("OR"):
            parts.append(self.term(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def term(self, depth: int) -> Filter:
        parts = [self.factor(depth)]
        while self.accept("AND"):
            parts.append(self.factor(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self, depth: int) -> Filter:
        if self.accept("NOT"):
            # NOTs nest like parentheses (in the SQL too): the same bound
            if depth + 1 > MAX_DEPTH:
                self.fail(f"more than {MAX_DEPTH} nested levels")
            return Not(self.factor(depth + 1))
        if self.accept("("):
            inner = self.expression(depth + 1)
            self.expect(")")
            return inner
        if self.accept("TRUE"):
            return And(())
        if self.accept("FALSE"):
            return Or(())
        if self.tok.word == "S_INTERSECTS":
            return self.spatial()
        return self.predicate()

    # --- predicates ---------------------------------------------------------------

    def predicate(self) -> Filter:
        start = self.tok
        left = self.operand()
        negate = self.accept("NOT")
        if self.accept("LIKE"):
            return self.like(left, self.operand(), negate, start)
        if self.accept("ILIKE"):  # not CQL2; GDAL 3.6 sends it for LIKE
            return self.like(replace(left, casei=True), self.operand(), negate, start)
        if self.accept("BETWEEN"):
            low = self.operand()
            self.expect("AND")
            return self.between(left, low, self.operand(), negate, start)
        if self.accept("IN"):
            return self.in_list(left, negate, start)
        if negate:
            self.fail("expected LIKE, BETWEEN or IN after NOT")
        if self.accept("IS"):
            negate = self.accept("NOT")
            self.expect("NULL")
            return IsNull(self.property_of(left, start).name, negate)
        if self.tok.kind == "op" and self.tok.text in _FLIP:
            op = self.take().text
            return self.compare(left, op, self.operand(), start)
        self.fail("expected a comparison, LIKE, BETWEEN, IN or IS NULL")

    def compare(self, left, op: str, right, start: Token) -> Filter:
        if isinstance(left, _Lit) and isinstance(right, _Prop):
            left, right, op = right, left, _FLIP[op]
        prop = self.property_of(left, start)
        value = self.literal_for(prop, right, start)
        casei = prop.casei or right.casei
        return Compare(prop.name, op, value, casei and isinstance(value, str))

    def like(self, left, pattern, negate: bool, start: Token) -> Filter:
        prop = self.property_of(left, start)
        if self.queryables[prop.name] != "str":
            raise Cql2Error(f"LIKE needs a text property; {prop.name} is not one")
        text = self.literal_for(prop, pattern, start)
        if re.search(r"(?<!\\)(?:\\\\)*\\$", text):
            raise Cql2Error(
                f"at position {start.pos}: the LIKE pattern ends with the escape "
                "character \\ (write \\\\ for a backslash)"
            )
        return Like(prop.name, text, negate, prop.casei or pattern.casei)

    def between(self, left, low, high, negate: bool, start: Token) -> Filter:
        prop = self.property_of(left, start)
        if self.queryables[prop.name] not in ("int", "float"):
            raise Cql2Error(f"BETWEEN needs a number property; {prop.name} is not one")
        values = [self.literal_for(prop, v, start) for v in (low, high)]
        return Between(prop.name, values[0], values[1], negate)

    def in_list(self, left, negate: bool, start: Token) -> Filter:
        prop = self.property_of(left, start)
        self.expect("(")
        items = [self.operand()]
        while self.accept(","):
            items.append(self.operand())
        self.expect(")")
        values = tuple(self.literal_for(prop, v, start) for v in items)
        casei = prop.casei or any(v.casei for v in items)
        return In(
            prop.name, values, negate, casei and self.queryables[prop.name] == "str"
        )

    # --- operands -----------------------------------------------------------------

    def operand(self):
        token = self.take()
        if token.word == "CASEI" and self.accept("("):
            inner = self.operand()
            self.expect(")")
            return replace(inner, casei=True)
        if token.kind == "str":
            return _Lit(token.text[1:-1].replace("''", "'"))
        if token.kind == "num":
            number = float(token.text)
            exact = not re.search(r"[.eE]", token.text)
            return _Lit(int(token.text) if exact else number)
        if token.word in ("TRUE", "FALSE"):
            return _Lit(token.word == "TRUE")
        if token.kind == "quoted":
            return _Prop(token.text[1:-1].replace('""', '"'))
        if token.word in ("DATE", "TIMESTAMP") and self.accept("("):
            if self.tok.kind != "str":
                self.fail(f"expected a quoted {token.word.lower()}")
            text = self.take().text[1:-1]
            self.expect(")")
            return _Lit(temporal_text(token.word, text))
        if token.word in TEMPORAL and self.tok.text == "(":
            raise Cql2Error(
                f"at position {token.pos}: INTERVAL(…) is not supported (no "
                "temporal operator is implemented; compare dates with DATE(…))"
            )
        if token.kind == "name" and token.word not in _KEYWORDS:
            return _Prop(token.text)
        self.i -= 1
        self.fail("expected a property name or a value")

    def property_of(self, operand, start: Token) -> _Prop:
        if not isinstance(operand, _Prop):
            raise Cql2Error(
                f"at position {start.pos}: one side of a comparison must be a property"
            )
        if operand.name not in self.queryables or operand.name == GEOMETRY:
            names = ", ".join(n for n in self.queryables if n != GEOMETRY)
            raise Cql2Error(
                f"unknown property {operand.name!r}; the queryables are {names}"
            )
        return operand

    def literal_for(self, prop: _Prop, operand, start: Token) -> object:
        if not isinstance(operand, _Lit):
            raise Cql2Error(
                f"at position {start.pos}: comparing two properties is not supported"
            )
        kind, value = self.queryables[prop.name], operand.value
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "bool" and type(value) is int and value in (0, 1):
            return bool(value)  # GDAL writes booleans as 0 and 1
        ok = {
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int | float) and not isinstance(value, bool),
            "float": isinstance(value, float),
        }[kind]
        if not ok:
            expected = {"str": "a 'quoted' text", "bool": "TRUE, FALSE, 1 or 0"}.get(
                kind, "a number"
            )
            raise Cql2Error(
                f"{prop.name} is compared to {value!r}: expected {expected}"
            )
        return value

    # --- spatial ------------------------------------------------------------------

    def spatial(self) -> Filter:
        self.take()
        self.expect("(")
        first = self.spatial_argument()
        self.expect(",")
        second = self.spatial_argument()
        self.expect(")")
        geoms = [g for g in (first, second) if isinstance(g, BaseGeometry)]
        if len(geoms) != 1:
            raise Cql2Error(
                f"S_INTERSECTS compares the property {GEOMETRY!r} with one geometry"
            )
        self.count_spatial(geoms[0])
        return Intersects(geoms[0])

    def count_spatial(self, geom: BaseGeometry) -> None:
        """Bound the work of a filter's spatial terms (each is a spatial-index
        query and an exact test): their number and their vertices."""
        self.geometries += 1
        self.vertices += shapely.get_num_coordinates(geom)
        if self.geometries > MAX_FILTER_GEOMETRIES:
            raise Cql2Error(
                f"more than {MAX_FILTER_GEOMETRIES} spatial terms (S_INTERSECTS) in "
                "one filter: the limit is MAX_FILTER_GEOMETRIES"
            )
        if self.vertices > MAX_FILTER_VERTICES:
            raise Cql2Error(
                f"the geometries of the filter have more than {MAX_FILTER_VERTICES} "
                "vertices in all: the limit is MAX_FILTER_VERTICES"
            )

    def spatial_argument(self):
        token = self.tok
        if token.word == "BBOX":
            return self.bbox_literal()
        if token.word in WKT_TYPES:
            return self.wkt_literal()
        operand = self.operand()
        if not (isinstance(operand, _Prop) and operand.name == GEOMETRY):
            raise Cql2Error(
                f"at position {token.pos}: expected {GEOMETRY!r}, BBOX(…) or a WKT "
                "geometry"
            )
        return operand

    def bbox_literal(self) -> BaseGeometry:
        self.take()
        self.expect("(")
        numbers = [self.number()]
        while self.accept(","):
            numbers.append(self.number())
        self.expect(")")
        if len(numbers) == 6:
            numbers = numbers[:2] + numbers[3:5]
        if len(numbers) != 4:
            raise Cql2Error("BBOX takes 4 (or 6) numbers")
        west, south, east, north = numbers
        if south > north:
            raise Cql2Error("BBOX: the south edge is north of the north edge")
        return self.in_crs84(box(west, south, east, north))

    def number(self) -> float:
        if self.tok.kind != "num":
            self.fail("expected a number")
        return float(self.take().text)

    def wkt_literal(self) -> BaseGeometry:
        start, depth = self.take().pos, 0
        while True:
            token = self.take()
            if token.kind == "end":
                raise Cql2Error(f"unclosed geometry starting at position {start}")
            depth += {"(": 1, ")": -1}.get(token.text if token.kind == "op" else "", 0)
            if depth == 0 and token.text == ")":
                break
        wkt = self.text[start : token.pos + 1]
        try:
            geom = shapely.from_wkt(wkt)
        except (ShapelyError, ValueError) as exc:
            raise Cql2Error(f"invalid geometry at position {start}: {exc}") from None
        if geom is None or geom.is_empty:
            raise Cql2Error(f"empty geometry at position {start}")
        return self.in_crs84(geom)

    def in_crs84(self, geom: BaseGeometry) -> BaseGeometry:
        try:
            return to_crs84(geom, self.crs)
        except CrsError as exc:
            raise Cql2Error(str(exc)) from None


_KEYWORDS = {
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "CASEI",
    "S_INTERSECTS",
    "BBOX",
    *WKT_TYPES,
}
