"""OGC API - Features beyond Core: the API definition (OpenAPI 3.0), queryables and
CQL2 filters (Part 3), CRS (Part 2), protocol details, faithful types."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from pyproj import Transformer

from tests.views.test_ogc import PUBLIC

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
LAMBERT93 = "http://www.opengis.net/def/crs/EPSG/0/2154"


def items(client, layer, **params):
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
    response = client.get(f"/ogc/collections/{layer}/items?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def ids(client, layer, **params):
    return {f["id"] for f in items(client, layer, **params).json["features"]}


# --- the API definition -----------------------------------------------------------


def test_landing_links_the_api_definition_and_its_docs(client):
    links = {link["rel"]: link for link in client.get("/ogc/?f=json").json["links"]}
    assert links["service-desc"]["type"] == OPENAPI
    assert links["service-doc"]["type"] == "text/html"
    api = client.get(urlsplit(links["service-desc"]["href"]).path)
    assert api.status_code == 200 and api.content_type == OPENAPI
    assert api.json["openapi"].startswith("3.0")
    doc = client.get(urlsplit(links["service-doc"]["href"]).path + "?f=html")
    assert "/collections/coworking/items" in doc.get_data(as_text=True)


def test_openapi_document_is_valid_and_describes_every_collection(client):
    from openapi_spec_validator import validate

    api = client.get("/ogc/api").json
    validate(api)
    for name in PUBLIC:
        assert f"/collections/{name}/items" in api["paths"]
    assert "/collections/zones/items" not in api["paths"]
    limit = api["components"]["parameters"]["limit"]["schema"]
    # a larger limit is read as the largest page (issue 22): no maximum to
    # refuse, the largest page is stated
    assert limit["default"] == 100 and "maximum" not in limit
    assert "10000" in api["components"]["parameters"]["limit"]["description"]
    params = api["paths"]["/collections/coworking/items"]["get"]["parameters"]
    status = next(p for p in params if p.get("name") == "status")
    assert set(status["schema"]["enum"]) >= {"open", "planned", "proposed"}
    desks = api["components"]["schemas"]["feature.coworking"]["properties"]
    assert desks["properties"]["properties"]["desks"]["type"] == "integer"


def test_conformance_declares_what_is_implemented(client):
    conf = client.get("/ogc/conformance").json["conformsTo"]
    for part in (
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
        "ogcapi-features-3/1.0/conf/queryables",
        "ogcapi-features-3/1.0/conf/features-filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/basic-spatial-functions",
    ):
        assert any(c.endswith(part) for c in conf), part
    assert not any("cql2-json" in c or "temporal" in c for c in conf)


# --- queryables and filters (Part 3) ------------------------------------------------


def test_queryables_are_a_json_schema_of_the_layer(client):
    r = client.get("/ogc/collections/coworking/queryables")
    assert r.content_type == "application/schema+json"
    props = r.json["properties"]
    assert props["desks"] == {
        "title": "Postes de travail",
        "type": "integer",
        "minimum": 0,
        "maximum": 5000,
    }
    assert props["geometry"]["format"] == "geometry-point"
    assert "published" not in props
    links = client.get("/ogc/collections/coworking").json["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)
    assert client.get("/ogc/collections/zones/queryables").status_code == 404


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("status = 'planned'", {"openlab-campus"}),
        ("desks > 35", {"proposition-viotte", "proposition-palente"}),
        ("desks BETWEEN 30 AND 40", {"proposition-gare-tgv", "proposition-palente"}),
        (
            "status IN ('planned', 'under_construction')",
            {"openlab-campus", "le-numerique"},
        ),
        ("name LIKE 'Proposition%' AND NOT desks >= 40", {"proposition-gare-tgv"}),
        ("desks IS NULL AND status <> 'open'", {"openlab-campus", "le-numerique"}),
        ("CASEI(name) LIKE '%viotte%'", {"proposition-viotte"}),
    ],
)
def test_filter_is_evaluated_on_the_server(client, cql, expected):
    response = items(client, "coworking", filter=cql, limit=50).json
    assert {f["id"] for f in response["features"]} == expected
    assert response["numberMatched"] == len(expected)


def test_filter_spatial_and_bbox_agree(client):
    temis = "5.985,47.247,5.996,47.256"
    by_bbox = ids(client, "companies", bbox=temis)
    by_filter = ids(
        client, "companies", filter=f"S_INTERSECTS(geometry, BBOX({temis}))"
    )
    assert by_bbox == by_filter and {"smartesting", "silmach"} <= by_bbox


def test_filter_never_serves_unpublished_features(client):
    assert ids(client, "coworking", filter="desks = 25") == set()


@pytest.mark.parametrize(
    "query",
    [
        "filter=status%20%3D",
        "filter=colour%3D'red'",
        "filter=desks%3D'many'",
        "filter=status%3D'a'&filter-lang=cql2-json",
        # filter-lang alone is accepted since issue 22 (checked, changes nothing);
        # an unknown one alone is still refused
        "filter-lang=cql2-json",
        "filter=status%3D'a'&filter-crs=EPSG:27572",
        "desks=many",
        "illustrative=perhaps",
    ],
)
def test_bad_filters_are_ogc_exceptions(client, query):
    r = client.get(f"/ogc/collections/coworking/items?{query}")
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.json["code"] == "InvalidParameterValue" and r.json["description"]


def test_property_parameters_are_typed(client):
    assert ids(client, "coworking", desks=60) == {"proposition-viotte"}
    assert len(ids(client, "coworking", illustrative="true")) == 3


# --- CRS (Part 2) ---------------------------------------------------------------


def test_items_in_lambert93_match_pyproj(client):
    plain = items(client, "companies", limit=50).json["features"]
    r = items(client, "companies", limit=50, crs=LAMBERT93)
    assert r.headers["Content-Crs"] == f"<{LAMBERT93}>"
    to93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    moved = {f["id"]: f["geometry"] for f in r.json["features"]}
    for feature in plain:
        if feature["geometry"] is None:  # located at commune level only (issue 20)
            assert moved[feature["id"]] is None
            continue
        moved[feature["id"]] = moved[feature["id"]]["coordinates"]
        x, y = to93.transform(*feature["geometry"]["coordinates"])
        assert moved[feature["id"]] == pytest.approx([x, y], abs=1.0)  # 5 decimals
        assert 900_000 < x < 960_000 and 6_650_000 < y < 6_720_000


def test_crs_default_and_epsg4326_axis_order(client):
    r = items(client, "schools", limit=1)
    assert r.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    lon, lat = r.json["features"][0]["geometry"]["coordinates"]
    r = items(
        client, "schools", limit=1, crs="http://www.opengis.net/def/crs/EPSG/0/4326"
    )
    assert r.json["features"][0]["geometry"]["coordinates"] == [lat, lon]


def test_bbox_crs_lambert93(client):
    to93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    x0, y0 = to93.transform(5.985, 47.247)
    x1, y1 = to93.transform(5.996, 47.256)
    found = ids(
        client, "companies", bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": LAMBERT93}
    )
    assert {"smartesting", "silmach"} <= found and "maty" not in found


def test_one_item_in_lambert93(client):
    r = client.get(f"/ogc/collections/schools/items/isba?crs={quote(LAMBERT93)}")
    assert r.headers["Content-Crs"] == f"<{LAMBERT93}>"
    x, y = r.json["geometry"]["coordinates"]
    assert 900_000 < x < 960_000


def test_collections_list_their_crs_honestly(client):
    c = client.get("/ogc/collections/companies").json
    assert c["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert LAMBERT93 in c["crs"] and c["storageCrs"] in c["crs"]
    r = client.get("/ogc/collections/companies/items?crs=EPSG:27572")
    assert r.status_code == 400 and r.json["code"] == "InvalidParameterValue"


# --- protocol details ---------------------------------------------------------------


def test_links_are_percent_encoded_and_round_trip(client):
    value = "Proposition 50% & co"
    cql = f"name <> '{value}'"
    page = items(client, "coworking", filter=cql, limit=2).json
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert " " not in nxt and "%25" in nxt and "%26" in nxt
    assert dict(parse_qsl(urlsplit(nxt).query))["filter"] == cql
    split = urlsplit(nxt)
    following = client.get(f"{split.path}?{split.query}").json
    assert following["numberMatched"] == page["numberMatched"]
    assert not {f["id"] for f in following["features"]} & {
        f["id"] for f in page["features"]
    }


def test_negotiated_responses_vary_on_accept(client):
    for url in ("/ogc/", "/ogc/collections/schools/items"):
        for accept in ("application/json", "text/html"):
            r = client.get(url, headers={"Accept": accept})
            assert "Accept" in [v.strip() for v in r.headers["Vary"].split(",")]


def test_unknown_ogc_paths_get_ogc_exceptions(client):
    for path in ("/ogc/nope", "/ogc/collections/schools/items/isba/more"):
        r = client.get(path, headers={"Accept": "application/json"})
        assert r.status_code == 404 and r.json["code"] == "NotFound", path


def test_bbox_across_the_antimeridian(client):
    assert ids(client, "schools", bbox="170,-10,-170,10") == set()
    # from 5° E eastwards round the world to 170° W: Besançon is inside
    everything = ids(client, "schools", limit=100)
    assert ids(client, "schools", bbox="5,40,-170,50", limit=100) == everything


def test_feature_ids_with_reserved_characters_round_trip(client):
    item = client.get("/ogc/collections/schools/items/isba").json
    assert item["links"][0]["href"].endswith("/collections/schools/items/isba")


# --- faithful types ----------------------------------------------------------------


def test_items_keep_integers_and_booleans(client):
    features = items(client, "coworking", limit=50).json["features"]
    viotte = next(f for f in features if f["id"] == "proposition-viotte")
    assert viotte["properties"]["desks"] == 60
    assert type(viotte["properties"]["desks"]) is int
    assert viotte["properties"]["illustrative"] is True
    assert viotte["properties"]["published"] is True
    fibre = items(client, "fibre", limit=1).json["features"][0]["properties"]
    assert type(fibre["premises"]) is int and type(fibre["coverage"]) is float


@pytest.mark.parametrize(
    "method,path,status,code",
    [
        ("post", "/ogc/collections", 405, "MethodNotAllowed"),
        ("get", "/ogc/collections/companies/items?filter=" + "a" * 3000, 400,
         "InvalidParameterValue"),
    ],
)  # fmt: skip
def test_errors_under_ogc_are_ogc_exceptions(client, method, path, status, code):
    r = getattr(client, method)(path)
    assert r.status_code == status and r.get_json()["code"] == code
    assert r.get_json()["description"]
