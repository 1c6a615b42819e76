"""Schemathesis hooks: what a CQL2-text filter is, for the ``cql2-text`` format of
the OGC API definition (a grammar, which no OpenAPI pattern can say).

Loaded by ``SCHEMATHESIS_HOOKS=tests.cql2_strategy`` (tests/views/
test_openapi_fuzz.py does it for the command line); it generates filters on the
properties every collection has, combined with AND, OR, NOT and parentheses.
"""

from __future__ import annotations

import hypothesis.strategies as st
import schemathesis

_WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzéèABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'",
    max_size=12,
)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_PATTERN = st.builds(
    lambda head, tail: _quoted(head + tail),
    _WORD,
    st.sampled_from(["%", "_", "", "%x", "\\%"]),
)
_DATE = st.dates().map(lambda d: f"DATE('{d.isoformat()}')")
_COORD = st.floats(min_value=-80, max_value=80, allow_nan=False).map(
    lambda v: f"{v:.4f}"
)


def _bbox(a: str, b: str, c: str, d: str) -> str:
    south, north = sorted((float(b), float(d)))
    return f"S_INTERSECTS(geometry, BBOX({a}, {south}, {c}, {north}))"


_PREDICATE = st.one_of(
    st.builds(lambda v: f"id = {_quoted(v)}", _WORD),
    st.builds(
        lambda p, neg: f"source {neg}LIKE {p}", _PATTERN, st.sampled_from(["", "NOT "])
    ),
    st.builds(
        lambda v: f"illustrative = {v}", st.sampled_from(["TRUE", "FALSE", "1", "0"])
    ),
    st.builds(
        lambda op, d: f"source_date {op} {d}", st.sampled_from(["<", ">=", "<>"]), _DATE
    ),
    st.builds(lambda neg: f"notes IS {neg}NULL", st.sampled_from(["", "NOT "])),
    st.builds(
        lambda vs: f"id IN ({', '.join(map(_quoted, vs))})",
        st.lists(_WORD, min_size=1, max_size=3),
    ),
    st.builds(lambda v: f"CASEI(source) = CASEI({_quoted(v)})", _WORD),
    st.builds(_bbox, _COORD, _COORD, _COORD, _COORD),
    st.sampled_from(["TRUE", "FALSE"]),
)


def _combine(inner):
    return st.one_of(
        st.builds(lambda a, b: f"{a} AND {b}", inner, inner),
        st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
        inner.map(lambda a: f"NOT ({a})"),
        inner.map(lambda a: f"({a})"),
    )


CQL2_TEXT = st.recursive(_PREDICATE, _combine, max_leaves=6)

schemathesis.openapi.format("cql2-text", CQL2_TEXT)
