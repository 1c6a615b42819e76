"""The same odd bodies get the same answers on both stores (they used to be stored
on the GeoPackage and answered 500 on PostGIS), and CSV downloads are neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from shapely.geometry import Polygon

from mapapp import accounts, create_app
from tests.conftest import SEED
from tests.views.test_edit_api import SITE

BACKENDS = ["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)]
ODD = [
    ("NUL byte", {"name": "a\x00b"}, None, 422),
    ("lone surrogate", {"name": "a\ud800b"}, None, 422),
    ("control character", {"notes": "\x1b[31m"}, None, 422),
    ("3-D point", {}, [6.035, 47.246, 250.0], 201),
    ("huge id", {"id": "x" * 5000}, None, 422),
]


@pytest.fixture(params=BACKENDS)
def client_on(request, tmp_path):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "inst"),
        "DATA_DIR": str(SEED),
        "TILES": "none",
        "SECRET_KEY": "x",
    }
    if request.param == "postgis":
        from tests.postgis import schema_url

        config["DATABASE_URL"] = schema_url(request.getfixturevalue("pg_database"))
    app = create_app(config)
    store = app.extensions["mapapp.site"].store
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")
    yield app.test_client(), {"Authorization": f"Bearer {token}"}, store
    app.extensions["mapapp.site"].close()


@pytest.mark.parametrize(
    "props,coords,status", [o[1:] for o in ODD], ids=[o[0] for o in ODD]
)
def test_both_backends_answer_odd_values_alike(client_on, props, coords, status):
    client, headers, store = client_on
    body = {**SITE, "properties": {**SITE["properties"], "id": "odd", **props}}
    if coords:
        body["geometry"] = {"type": "Point", "coordinates": coords}
    r = client.post("/api/layers/coworking/features", json=body, headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert store.check() == []


def test_csv_downloads_neutralise_formulas(client_on):
    client, headers, store = client_on
    store.update("coworking", "le-numerique", {"name": '=HYPERLINK("http://x")'})
    public = client.get("/download/coworking.csv").get_data(as_text=True)
    planner = client.get("/planner/export/coworking.csv", headers=headers)
    scenarios = client.get("/planner/scenarios.csv", headers=headers)
    for text in (public, planner.get_data(as_text=True)):
        names = [row["name"] for row in csv.DictReader(io.StringIO(text))]
        assert '\'=HYPERLINK("http://x")' in names
        assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    assert scenarios.status_code == 200
    for row in csv.reader(io.StringIO(scenarios.get_data(as_text=True))):
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)


L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
WEB = "http://www.opengis.net/def/crs/EPSG/0/3857"
ODD_QUERIES = [
    ("huge offset", "offset=99999999999999999999999", 400),
    (
        "zero-size box in Lambert-93",
        f"bbox=925000,6685000,925000,6685000&bbox-crs={L93}",
        200,
    ),
    (
        "zero-size box in Web Mercator",
        f"bbox=670000,5980000,670000,5980000&bbox-crs={WEB}",
        200,
    ),
    (
        "zero-length line filter",
        "filter=S_INTERSECTS(geometry,LINESTRING(925000 6685000,925000 6685000))"
        f"&filter-crs={L93}",
        200,
    ),
]


@pytest.mark.parametrize(
    "query,status", [q[1:] for q in ODD_QUERIES], ids=[q[0] for q in ODD_QUERIES]
)
def test_both_backends_answer_odd_queries_alike(client_on, query, status):
    client, _headers, _store = client_on
    r = client.get(f"/ogc/collections/companies/items?{query}")
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    if status == 400:
        assert r.get_json()["code"] == "InvalidParameterValue"


def test_a_point_layer_with_nothing_published_is_an_empty_payload(client_on):
    client, headers, store = client_on
    for fid in store.read("coworking")["id"]:
        store.update("coworking", fid, {"published": False})
    binary = client.get("/api/layers/coworking.bin")
    assert binary.status_code == 200 and binary.data.startswith(b"MPTS")
    points = client.get("/api/layers/coworking.points").get_json()
    assert points["count"] == 0 and points["located"] == 0


@pytest.mark.parametrize(
    "text,status",
    [
        ("NOT " * 40 + "name = 'x'", 200),  # the deepest allowed
        ("NOT (" * 20 + "name = 'x'" + ")" * 20, 200),
        ("NOT " * 50 + "name = 'x'", 400),  # was a 500 on the GeoPackage
        ("name LIKE '\\'", 400),  # was a 500 on PostGIS
        ("name LIKE '%\\%%'", 200),
        ("illustrative = 1", 200),  # as GDAL writes booleans
        ("source_date >= DATE('2020-01-01')", 200),
        ("source_date < TIMESTAMP('2030-01-01T00:00:00Z')", 200),
    ],
)
def test_both_backends_answer_edge_filters_alike(client_on, text, status):
    client, _headers, _store = client_on
    r = client.get("/ogc/collections/coworking/items", query_string={"filter": text})
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    if status == 400:
        assert r.json["code"] == "InvalidParameterValue"


def test_both_backends_give_the_published_extent(client_on, no_full_snapshots):
    """The collection's extent comes from the layer's facts: its published features."""
    client, _headers, store = client_on
    published = store.read("coworking", published_only=True).total_bounds
    r = client.get("/ogc/collections/coworking")
    assert r.json["extent"]["spatial"]["bbox"] == [
        [round(float(v), 5) for v in published]
    ]


def test_both_backends_give_the_world_without_features(client_on, no_full_snapshots):
    client, _headers, store = client_on
    for fid in store.read("coworking")["id"]:
        store.update("coworking", fid, {"published": False})
    r = client.get("/ogc/collections/coworking")
    assert r.json["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    assert client.get("/data").status_code == 200


def test_both_backends_answer_an_or_of_polygons_alike(client_on):
    """A filter of 16 polygons joined by OR (issue 21, item 7: the GeoPackage
    answers it from the layer's points, PostGIS with its index): the placed
    companies GEOS finds in any of them, never those located at commune level
    only, though their commune's anchor lies inside."""
    client, _headers, store = client_on
    companies = store.read("companies")
    spots = companies.geometry.iloc[:16]
    assert (companies["precision"].iloc[:16] == "commune").any()
    polygons = [
        Polygon([(x + 0.004, y), (x, y + 0.003), (x - 0.002, y), (x, y - 0.005)])
        for x, y in zip(spots.x.round(4) + 0.001, spots.y.round(4), strict=True)
    ]
    text = " OR ".join(
        "S_INTERSECTS(geometry,POLYGON(("
        + ",".join(f"{x:.4f} {y:.4f}" for x, y in p.exterior.coords)
        + ")))"
        for p in polygons
    )
    r = client.get(
        "/ogc/collections/companies/items", query_string={"filter": text, "limit": 100}
    )
    placed = companies[companies["precision"] != "commune"]
    expected = {
        fid
        for fid, point in zip(placed["id"], placed.geometry, strict=True)
        if any(p.intersects(point) for p in polygons)
    }
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert {f["id"] for f in r.json["features"]} == expected
    assert r.json["numberMatched"] == len(expected) < len(companies)
