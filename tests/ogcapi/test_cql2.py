"""The CQL2-text parser: the grammar it accepts and the errors it gives."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from mapapp.ogcapi.cql2 import Cql2Error, parse_filter
from mapapp.ogcapi.crs import LAMBERT93
from mapapp.store.filters import (
    And,
    Between,
    Compare,
    In,
    Intersects,
    IsNull,
    Like,
    Not,
    Or,
)

Q = {
    "status": "str",
    "name": "str",
    "desks": "int",
    "coverage": "float",
    "illustrative": "bool",
    "x": "str",
    "geometry": "geometry",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status='planned'", Compare("status", "=", "planned")),
        ("status <> 'open'", Compare("status", "<>", "open")),
        ("desks >= 10", Compare("desks", ">=", 10)),
        ("10 < desks", Compare("desks", ">", 10)),
        ("coverage > 0.95", Compare("coverage", ">", 0.95)),
        ("desks > -1.5e1", Compare("desks", ">", -15.0)),
        ("illustrative = TRUE", Compare("illustrative", "=", True)),
        ("name = 'l''Usine'", Compare("name", "=", "l'Usine")),
        ("\"status\" = 'a'", Compare("status", "=", "a")),
        ("x = 'y'", Compare("x", "=", "y")),
        ("CASEI(name) = casei('ÉCOLE')", Compare("name", "=", "ÉCOLE", True)),
        ("name LIKE 'A_b%'", Like("name", "A_b%")),
        ("name NOT LIKE 'A%'", Like("name", "A%", negate=True)),
        ("name ILIKE 'a%'", Like("name", "a%", casei=True)),
        ("desks BETWEEN 1 AND 30", Between("desks", 1, 30)),
        ("desks NOT BETWEEN 1 AND 30", Between("desks", 1, 30, True)),
        ("status IN ('a', 'b')", In("status", ("a", "b"))),
        ("status NOT IN ('a')", In("status", ("a",), True)),
        ("name IS NULL", IsNull("name")),
        ("name IS NOT NULL", IsNull("name", True)),
        ("TRUE", And(())),
        ("FALSE", Or(())),
    ],
)
def test_cql2_predicates(text, expected):
    assert parse_filter(text, Q) == expected


def test_cql2_precedence_and_or_not():
    expr = parse_filter("NOT status = 'a' AND desks > 1 OR name IS NULL", Q)
    assert expr == Or(
        (
            And((Not(Compare("status", "=", "a")), Compare("desks", ">", 1))),
            IsNull("name"),
        )
    )
    grouped = parse_filter("(status = 'a' OR status = 'b') AND desks > 1", Q)
    assert isinstance(grouped, And) and isinstance(grouped.parts[0], Or)


def test_cql2_keywords_are_case_insensitive():
    assert parse_filter("status = 'a' and not desks between 1 and 2", Q) == And(
        (Compare("status", "=", "a"), Not(Between("desks", 1, 2)))
    )


def test_cql2_spatial_literals():
    bbox = parse_filter("S_INTERSECTS(geometry, BBOX(5.9, 47.2, 6.1, 47.3))", Q)
    assert isinstance(bbox, Intersects)
    assert bbox.geometry.bounds == (5.9, 47.2, 6.1, 47.3)
    point = parse_filter("S_INTERSECTS(POINT(6.02 47.24), geometry)", Q)
    assert point.geometry.equals(Point(6.02, 47.24))
    polygon = parse_filter(
        "s_intersects(geometry, POLYGON((6 47, 6.1 47, 6.1 47.1, 6 47)))", Q
    )
    assert polygon.geometry.geom_type == "Polygon"


def test_cql2_geometry_in_filter_crs():
    expr = parse_filter(
        "S_INTERSECTS(geometry, POINT(928404 6686557))", Q, crs=LAMBERT93
    )
    assert expr.geometry.x == pytest.approx(6.02, abs=1e-5)
    assert expr.geometry.y == pytest.approx(47.24, abs=1e-5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status = 'a' AND", "end of the filter"),
        ("status = 3", "expected a 'quoted' text"),
        ("desks = '3'", "expected a number"),
        ("illustrative = 2", "TRUE, FALSE, 1 or 0"),
        ("NOT " * 50 + "status = 'a'", "nested levels"),
        ("name LIKE '\\'", "ends with the escape character"),
        ("name LIKE 'a\\\\\\'", "ends with the escape character"),
        ("name = DATE('2020-02-30')", r"expected DATE\('2025-06-30'\)"),
        ("name = TIMESTAMP('2020-01-01 00:00')", "expected TIMESTAMP"),
        ("name = DATE(2020)", "expected a quoted date"),
        ("colour = 'red'", "unknown property 'colour'"),
        ("published = TRUE", "unknown property 'published'"),
        ("status = name", "two properties"),
        ("'a' = 'b'", "must be a property"),
        ("desks LIKE '1%'", "LIKE needs a text property"),
        ("status BETWEEN 'a' AND 'b'", "BETWEEN needs a number"),
        ("status = 'unclosed", "unexpected character"),
        ("status ~ 'a'", "unexpected character"),
        ("S_INTERSECTS(geometry, POINT(6 47)", r"expected \) at position 34"),
        ("S_INTERSECTS(geometry, POINT(6 47", "unclosed geometry"),
        ("S_INTERSECTS(geometry, POLYGON((6 47, 7 47)))", "invalid geometry"),
        ("S_INTERSECTS(status, BBOX(1, 2, 3, 4))", "expected 'geometry'"),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", r"4 \(or 6\) numbers"),
        ("(" * 50 + "status = 'a'" + ")" * 50, "nested levels"),
        ("status = '" + "a" * 9000 + "'", "longer than"),
    ],
)
def test_cql2_errors_say_what_and_where(text, message):
    with pytest.raises(Cql2Error, match=message):
        parse_filter(text, Q)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("creation_date > DATE('2020-01-01')", "2020-01-01"),
        ("creation_date >= TIMESTAMP('2020-01-01T10:00:00Z')", "2020-01-01T10:00:00Z"),
        (
            "creation_date < timestamp('2020-01-01t10:00:00.250z')",
            "2020-01-01T10:00:00Z",
        ),
    ],
)
def test_cql2_date_and_timestamp_literals_compare_as_iso_text(text, value):
    # basic-cql2 has them; the layers hold dates as ISO 8601 text
    assert parse_filter(text, {"creation_date": "str"}).value == value


def test_cql2_intervals_are_refused_by_name():
    with pytest.raises(Cql2Error, match=r"INTERVAL\(…\) is not supported"):
        parse_filter("x = INTERVAL('2020-01-01', '2021-01-01')", {"x": "str"})


def test_cql2_booleans_as_gdal_writes_them():
    # GDAL's OAPIF driver sends -where "illustrative = 1" as it is
    assert parse_filter("illustrative = 1", Q) == Compare("illustrative", "=", True)
    assert parse_filter("illustrative <> 0", Q) == Compare("illustrative", "<>", False)


def test_cql2_bounds_the_spatial_terms():
    term = "S_INTERSECTS(geometry, POLYGON((6 47, 6.1 47, 6.1 47.1, 6 47)))"
    assert isinstance(parse_filter(" OR ".join([term] * 16), Q), Or)
    with pytest.raises(Cql2Error, match="more than 16 spatial terms.*MAX_FILTER"):
        parse_filter(" OR ".join([term] * 17), Q)


def test_cql2_bounds_the_vertices_of_its_geometries():
    points = ",".join(["6 47"] * 501)
    with pytest.raises(Cql2Error, match="more than 500 vertices.*MAX_FILTER_VERTICES"):
        parse_filter(f"S_INTERSECTS(geometry, MULTIPOINT({points}))", Q)
