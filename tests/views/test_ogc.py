"""OGC API - Features: JSON and HTML, paging, bbox, filters, GDAL as a client."""

from __future__ import annotations

import json

import pyogrio
import pytest

PUBLIC = ["companies", "coworking", "schools", "fibre", "context", "perimeters"]


def test_landing_and_conformance(client):
    landing = client.get("/ogc/?f=json").json
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "license"} <= rels
    conf = client.get("/ogc/conformance").json["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conf)
    assert any(c.endswith("/conf/geojson") for c in conf)


def test_collections_list_only_public_layers(client):
    data = client.get("/ogc/collections").json
    assert [c["id"] for c in data["collections"]] == PUBLIC
    coworking = client.get("/ogc/collections/coworking").json
    assert coworking["license"].startswith("Licence Ouverte")
    assert coworking["extent"]["spatial"]["bbox"][0][0] > 5.7
    assert any(link["rel"] == "items" for link in coworking["links"])
    assert {
        link["type"] for link in coworking["links"] if link["rel"] == "enclosure"
    } == {"application/geo+json", "text/csv", "application/geopackage+sqlite3"}
    assert client.get("/ogc/collections/zones").status_code == 404


def test_collections_never_read_a_whole_layer(client, no_full_snapshots):
    """The collection documents come from the layers' facts (a few fields)."""
    listed = client.get("/ogc/collections")
    assert listed.status_code == 200 and len(listed.json["collections"]) == 6
    companies = client.get("/ogc/collections/companies")
    assert companies.status_code == 200 and "22" in companies.json["description"]
    html = client.get("/ogc/collections/companies?f=html")
    assert html.status_code == 200


@pytest.mark.parametrize("name", ["coworking", "companies", "perimeters"])
def test_collection_extent_is_the_published_features(client, store, name):
    """The companies located at commune level only count with their anchor point,
    as in the layer's snapshot."""
    published = store.read(name, published_only=True).total_bounds
    bbox = client.get(f"/ogc/collections/{name}").json["extent"]["spatial"]["bbox"]
    assert bbox == [[round(float(v), 5) for v in published]]


def test_collection_extent_leaves_out_unpublished_features(client, store):
    """The seed's unpublished coworking place lies east of the published ones."""
    east = round(float(store.read("coworking").total_bounds[2]), 5)
    bbox = client.get("/ogc/collections/coworking").json["extent"]["spatial"]["bbox"]
    assert bbox[0][2] < east


def test_collection_of_previous_facts_is_not_kept(client, app, store, monkeypatch):
    """While a layer's new facts are read the previous ones are served: that
    document is made for the request only, the next one gives the new facts."""
    from mapapp.site import Site

    site = app.extensions["mapapp.site"]
    before = site.layer_facts("coworking", "en")
    store.delete("coworking", store.read("coworking", published_only=True)["id"][0])
    current = Site.layer_facts
    monkeypatch.setattr(Site, "layer_facts", lambda self, name, lang: before)
    stale = client.get("/ogc/collections/coworking?lang=en").json["description"]
    monkeypatch.setattr(Site, "layer_facts", current)
    fresh = client.get("/ogc/collections/coworking?lang=en").json["description"]
    assert "(10 published features)" in stale and "(9 published" in fresh


def test_items_paging(client):
    page = client.get("/ogc/collections/companies/items?limit=10")
    assert page.mimetype == "application/geo+json"
    data = page.json
    assert data["numberMatched"] == 22 and data["numberReturned"] == 10
    nxt = next(link["href"] for link in data["links"] if link["rel"] == "next")
    assert "offset=10" in nxt
    last = client.get("/ogc/collections/companies/items?limit=10&offset=20").json
    assert last["numberReturned"] == 2
    assert not any(link["rel"] == "next" for link in last["links"])
    assert any(link["rel"] == "prev" for link in last["links"])
    ids = (
        [f["id"] for f in data["features"]]
        + [
            f["id"]
            for f in client.get(
                "/ogc/collections/companies/items?limit=10&offset=10"
            ).json["features"]
        ]
        + [f["id"] for f in last["features"]]
    )
    assert len(set(ids)) == 22


def test_items_bbox_and_property_filter(client):
    temis = client.get(
        "/ogc/collections/companies/items?bbox=5.985,47.247,5.996,47.256"
    ).json
    assert {"smartesting", "silmach"} <= {f["id"] for f in temis["features"]}
    assert "maty" not in {f["id"] for f in temis["features"]}
    proposed = client.get("/ogc/collections/coworking/items?status=proposed").json
    assert proposed["numberMatched"] == 3  # the unpublished fourth is not served
    assert {f["properties"]["status"] for f in proposed["features"]} == {"proposed"}


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=abc",
        "offset=-1",
        "bbox=1,2,3",
        "colour=red",
        "published=false",
        "f=xml",
        "bbox=1,2,3,4&bbox-crs=EPSG:27572",  # Lambert II: not served
    ],
)
def test_items_bad_parameters_are_ogc_exceptions(client, query):
    r = client.get(f"/ogc/collections/companies/items?{query}")
    assert r.status_code == 400
    assert r.json["code"] == "InvalidParameterValue" and r.json["description"]


def test_item_and_missing_item(client):
    item = client.get("/ogc/collections/schools/items/isba").json
    assert item["properties"]["name"].startswith("ISBA")
    assert (
        client.get(
            "/ogc/collections/coworking/items/proposition-clairs-soleils"
        ).status_code
        == 404
    )
    assert client.get("/ogc/collections/schools/items/nope").json["code"] == "NotFound"


def test_html_by_f_and_by_accept(client):
    assert "<h1>" in client.get("/ogc/collections?f=html").get_data(as_text=True)
    html = client.get(
        "/ogc/collections/schools/items", headers={"Accept": "text/html"}
    ).get_data(as_text=True)
    assert "Lycée Jules-Haag" in html
    assert client.get("/ogc/", headers={"Accept": "application/json"}).is_json


def test_downloads_in_three_formats_with_metadata(client, tmp_path):
    gj = client.get("/download/coworking.geojson")
    data = json.loads(gj.data)
    assert len(data["features"]) == 10 and data["metadata"]["licence"]["title"]
    assert data["metadata"]["sources"]
    rows = client.get("/download/schools.csv").get_data(as_text=True).splitlines()
    assert len(rows) == 18 and "longitude" in rows[0]  # header + 17 schools
    path = tmp_path / "fibre.gpkg"
    path.write_bytes(client.get("/download/fibre.gpkg").data)
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == 14
    assert "Licence Ouverte" in pyogrio.read_info(path)["layer_metadata"]["licence"]
    assert client.get("/download/zones.csv").status_code == 404
    page = client.get("/data?lang=fr").get_data(as_text=True)
    assert "Licence Ouverte" in page and "/download/companies.gpkg" in page


def test_open_data_page_never_reads_a_whole_layer(client, no_full_snapshots):
    """Its counts, sources and licences come from the layers' facts."""
    page = client.get("/data?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "(22 features)" in text and "/download/companies.gpkg" in text


@pytest.fixture
def server_process(tmp_path, seed_dir):
    """The app served by `mapapp serve` in another process (GDAL holds the GIL while
    it reads, so an in-process server thread could not answer it)."""
    from tests.servers import start_server, stop

    proc, base = start_server(
        {
            "MAPAPP_INSTANCE_PATH": str(tmp_path / "srv"),
            "MAPAPP_DATA_DIR": str(seed_dir),
            "MAPAPP_TILES": "none",
        }
    )
    yield base
    stop(proc)


def test_gdal_reads_every_public_collection(server_process):
    import urllib.request

    from tests.gdal_client import gdal

    url = f"OAPIF:{server_process}/ogc/"
    layers = gdal("result = [n for n, _ in pyogrio.list_layers(args[0])]", url)
    assert sorted(layers) == sorted(PUBLIC)
    read = "result = {n: list(pyogrio.read_dataframe(args[0], layer=n)['id']) "
    read += "for n in args[1:]}"
    ids = gdal(read, url, *PUBLIC)
    for name in PUBLIC:
        with urllib.request.urlopen(f"{server_process}/api/layers/{name}.geojson") as r:
            api = json.loads(r.read())
        assert sorted(ids[name]) == sorted(f["id"] for f in api["features"]), name


@pytest.mark.parametrize(
    "bbox", ["nan,47,6,48", "5,nan,6,48", "inf,47,6,48", "5,47,6,1e400", "-inf,0,0,0"]
)
def test_items_bbox_must_be_finite(client, bbox):
    r = client.get(f"/ogc/collections/companies/items?bbox={bbox}")
    assert r.status_code == 400 and r.json["code"] == "InvalidParameterValue"
