"""Standards to the letter (issue 22): RFC 7946 winding on every output, CORS for
the public read-only routes only, Allow on 405, HSTS, no caching of planners'
answers, OGC API details (limit, datetime, ids, timeStamp, schemas), the CSP."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest
import shapely
from shapely.geometry import shape

from mapapp import accounts

ORIGIN = {"Origin": "https://journal.example"}


def _exteriors(geojson: dict) -> list:
    features = geojson.get("features", [geojson])
    polygons = []
    for feature in features:
        geometry = feature.get("geometry", feature)
        if geometry and geometry["type"] in ("Polygon", "MultiPolygon"):
            geom = shape(geometry)
            polygons += list(getattr(geom, "geoms", [geom]))
    return polygons


@pytest.mark.parametrize(
    "url",
    [
        "/api/layers/fibre.geojson",
        "/api/layers/perimeters.geojson",
        "/download/fibre.geojson",
        "/download/perimeters.geojson?crs=EPSG:2154",
        "/ogc/collections/fibre/items",
        "/ogc/collections/perimeters/items/perimetre-temis-bouloie",
        "/ogc/collections/fibre/items?crs=http://www.opengis.net/def/crs/EPSG/0/2154",
    ],
)
def test_every_polygon_output_is_wound_counterclockwise(client, url):
    polygons = _exteriors(json.loads(client.get(url).data))
    assert polygons, url
    assert all(p.exterior.is_ccw for p in polygons), url
    assert not any(r.is_ccw for p in polygons for r in p.interiors), url


def test_latitude_first_output_is_wound_on_the_map_not_in_its_axes(client):
    # EPSG:4326 swaps the axes: a ring counterclockwise on the ground reads
    # clockwise as (lat, lon) numbers
    data = client.get(
        "/ogc/collections/fibre/items?crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    ).json
    assert not any(p.exterior.is_ccw for p in _exteriors(data))


def test_csv_wkt_and_places_outlines_are_wound_counterclockwise(client):
    rows = csv.DictReader(io.StringIO(client.get("/download/fibre.csv").data.decode()))
    shapes = [shapely.from_wkt(r["wkt"]) for r in rows]
    assert shapes and all(
        p.exterior.is_ccw for s in shapes for p in getattr(s, "geoms", [s])
    )
    hits = client.get("/api/places?q=battant").json["hits"]
    outlines = [h["geometry"] for h in hits if h.get("geometry")]
    assert outlines and all(p.exterior.is_ccw for p in _exteriors(outlines[0]))


def test_catchment_area_is_wound_counterclockwise(client, store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")
    r = client.get(
        "/api/analysis/catchment?lat=47.2378&lon=6.0241",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    assert shape(r.json["area"]).exterior.is_ccw
    # planners' answers are never stored by a cache
    assert r.headers["Cache-Control"] == "private, no-store"


# --- CORS ----------------------------------------------------------------------

PUBLIC_READS = [
    "/api/layers",
    "/api/layers/coworking.geojson",
    "/api/layers/coworking.bin",
    "/api/layers/coworking.overview",
    "/api/layers/coworking/tiles/13/4232/2872.bin",
    "/api/search?q=numerique",
    "/api/places?q=battant",
    "/api/openapi.json",
    "/healthz",
    "/ogc/",
    "/ogc/collections/coworking/items",
    "/download/coworking.csv",
]
PUBLIC_ERRORS = [
    "/api/layers/nope.geojson",
    "/api/layers/coworking/tiles/9/0/0.bin",
    "/api/search",
    "/api/places/here?lat=1&lon=1",
    "/ogc/collections/nope",
    "/ogc/collections/coworking/items?limit=zero",
    "/ogc/nowhere",
]


@pytest.mark.parametrize("url", PUBLIC_READS + PUBLIC_ERRORS)
def test_public_reads_and_their_errors_are_readable_from_any_origin(client, url):
    r = client.get(url, headers=ORIGIN)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", (url, r.status_code)
    assert "ETag" in r.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("url", ["/api/layers/coworking.geojson", "/ogc/collections"])
def test_a_conditional_get_preflight_is_answered(client, url):
    r = client.options(
        url,
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in r.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    "method,url",
    [
        ("GET", "/api/analysis/catchment?lat=47.24&lon=6.02"),
        ("GET", "/api/layers/coworking/deleted"),
        ("GET", "/api/layers/coworking/features/le-numerique"),
        ("OPTIONS", "/api/layers/coworking/features/le-numerique"),
        ("POST", "/api/layers/coworking/features"),
        ("GET", "/planner/"),
        ("GET", "/auth/login"),
    ],
)
def test_planner_and_private_routes_are_never_shared(client, method, url):
    r = client.open(url, method=method, headers=ORIGIN)
    assert not any(h.startswith("Access-Control-") for h in r.headers.keys()), url


def test_signed_in_unpublished_layer_is_not_shared(client, store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")
    r = client.get(
        "/api/layers/coworking.geojson?include=unpublished",
        headers={**ORIGIN, "Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_planner_json_is_never_stored(client, store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    auth = {"Authorization": f"Bearer {accounts.new_token(store, 'bot')}"}
    for url in (
        "/api/layers/coworking/deleted",
        "/api/analysis/figures",
        "/api/analysis/timeline",
    ):
        r = client.get(url, headers=auth)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "private, no-store", url


# --- methods and transport ---------------------------------------------------------


@pytest.mark.parametrize(
    "method,url",
    [
        ("POST", "/api/search"),
        ("TRACE", "/ogc/collections"),
        ("DELETE", "/healthz"),
        ("PUT", "/"),
        ("POST", "/ogc/collections/coworking/items"),
    ],
)
def test_405_says_what_is_allowed(client, method, url):
    r = client.open(url, method=method)
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}


def test_hsts_over_https_only(client):
    secure = client.get("/healthz", base_url="https://carte.example.fr")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


# --- OGC API details -----------------------------------------------------------


def test_limit_above_the_largest_page_is_clamped_with_next(client, monkeypatch):
    from mapapp.ogcapi import features

    monkeypatch.setattr(features, "MAX_LIMIT", 5)
    data = client.get("/ogc/collections/companies/items?limit=50").json
    assert data["numberReturned"] == 5
    nxt = next(link["href"] for link in data["links"] if link["rel"] == "next")
    assert "offset=5" in nxt


@pytest.mark.parametrize(
    "value,status",
    [
        ("2025-06-30", 200),
        ("2025-06-30T12:00:00Z", 200),
        ("../2025-06-30T12:00:00+02:00", 200),
        ("2025-01-01/..", 200),
        ("yesterday", 400),
        ("2025-06-30T12:00", 400),
    ],
)
def test_datetime_is_checked_then_matches_everything(client, value, status):
    r = client.get("/ogc/collections/coworking/items", query_string={"datetime": value})
    assert r.status_code == status
    if status == 200:
        everything = client.get("/ogc/collections/coworking/items").json
        assert r.json["numberMatched"] == everything["numberMatched"]


@pytest.mark.parametrize("fid", ["\x14", "a b", "x" * 101, "-leading"])
def test_an_id_no_feature_can_have_is_not_found(client, fid):
    r = client.get(f"/ogc/collections/coworking/items/{fid}?f=json")
    assert r.status_code == 404 and r.json["code"] == "NotFound"


def test_empty_filter_is_a_bad_parameter_and_documented_as_such(client):
    assert client.get("/ogc/collections/coworking/items?filter=").status_code == 400
    api = client.get("/ogc/api").json
    assert api["components"]["parameters"]["filter"]["schema"]["minLength"] == 1
    params = api["paths"]["/collections/coworking/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/datetime"} in params
    feature_id = api["components"]["parameters"]["featureId"]["schema"]
    assert re.fullmatch(feature_id["pattern"].strip("^$"), "le-numerique")


def test_timestamp_is_the_time_of_the_request(client):
    url = "/ogc/collections/coworking/items?limit=1"
    first = client.get(url)
    time.sleep(1.1)
    second = client.get(url, headers={"Accept-Encoding": "gzip"})
    import gzip

    later = json.loads(gzip.decompress(second.data))
    assert later["timeStamp"] > first.json["timeStamp"]
    assert later["features"] == first.json["features"]
    assert first.headers["ETag"].startswith("W/")
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_collections_link_their_schemas(client):
    info = client.get("/ogc/collections/schools").json
    links = {(link["rel"], link["type"]): link["href"] for link in info["links"]}
    described = links[("describedBy", "application/schema+json")]
    schema = client.get(described).json
    attributes = schema["properties"]["properties"]["properties"]
    assert attributes["students"]["type"] == "integer"
    assert attributes["students"]["nullable"] is True
    assert attributes["illustrative"]["type"] == "boolean"
    assert "id" not in attributes  # the feature's own id, apart
    part5 = client.get(
        links[
            ("http://www.opengis.net/def/rel/ogc/1.0/schema", "application/schema+json")
        ]
    ).json
    assert part5["properties"]["students"]["type"] == ["integer", "null"]
    assert part5["properties"]["id"]["x-ogc-role"] == "id"
    assert part5["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    assert client.get("/ogc/collections/schools/schema?f=html").status_code == 200
    bad = client.get("/ogc/collections/schools/schema?profile=gml")
    assert bad.status_code == 400


def test_default_first_page_starts_with_a_value_of_each_typed_property(client):
    page = client.get("/ogc/collections/schools/items?limit=2").json["features"]
    assert page[0]["properties"]["students"] is not None
    # paging still gives every feature once
    ids = []
    for offset in range(0, 40, 3):
        url = f"/ogc/collections/schools/items?limit=3&offset={offset}"
        ids += [f["id"] for f in client.get(url).json["features"]]
    total = client.get("/ogc/collections/schools/items?limit=1").json["numberMatched"]
    assert len(ids) == len(set(ids)) == total


# --- CSP -----------------------------------------------------------------------


def test_csp_allows_the_map_script_and_no_injected_one(client, monkeypatch):
    from mapapp.views import public

    real = public.render_template

    def with_injection(*args, **kwargs):
        html = real(*args, **kwargs)
        # as if data had found its way into the page as a script element
        return html.replace("</body>", "<script>window.injected = 1</script></body>")

    monkeypatch.setattr(public, "render_template", with_injection)
    r = client.get("/embed?lang=en")
    html = r.get_data(as_text=True)
    policy = r.headers["Content-Security-Policy"]
    allowed = re.findall(r"'sha256-[^']+'", policy.split("script-src")[1].split(";")[0])
    import base64
    import hashlib

    def digest(body: str) -> str:
        value = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        return f"'sha256-{value}'"

    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert scripts[-1] == "window.injected = 1"
    # folium's settings and the map: allowed; the injected one: not
    assert all(digest(body) in allowed for body in scripts[:-1])
    assert digest("window.injected = 1") not in allowed
    assert len(allowed) == len(scripts) - 1


@pytest.mark.parametrize("name", ["companies", "coworking", "schools", "fibre"])
def test_every_served_feature_holds_to_its_schemas(client, name):
    """The schemas declare only what holds: each served feature validates."""
    import jsonschema

    part5 = client.get(f"/ogc/collections/{name}/schema").json
    part5["properties"].pop("geometry")
    flat = jsonschema.Draft202012Validator(part5)
    features = client.get(f"/ogc/collections/{name}/items?limit=1000").json["features"]
    assert features
    for feature in features:
        flat.validate(feature["properties"])
    profile = client.get(f"/ogc/collections/{name}/schema?profile=geojson").json
    attributes = profile["properties"]["properties"]["properties"]
    for feature in features:
        for key, value in feature["properties"].items():
            if key == "id":
                continue
            rule = attributes[key]
            if value is None:
                assert rule.get("nullable"), key
            elif "enum" in rule:
                assert value in rule["enum"], key
