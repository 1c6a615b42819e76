"""The JSON API: layers as GeoJSON, ETags, errors, liveness."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from tests.shipped import GRAND_BESANCON_BBOX as AREA

LAYERS = ["companies", "coworking", "schools", "fibre", "context", "perimeters"]


def test_healthz(client, store):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "data_version": store.data_version()}


def test_layers_index(client):
    names = [layer["name"] for layer in client.get("/api/layers").json["layers"]]
    assert names == LAYERS


@pytest.mark.parametrize("name", LAYERS)
def test_layer_geojson_is_valid_and_inside_the_area(client, name):
    response = client.get(f"/api/layers/{name}.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = response.json
    assert data["type"] == "FeatureCollection" and data["features"]
    for feature in data["features"]:
        geom = shape(feature["geometry"])
        assert geom.is_valid and not geom.is_empty
        minx, miny, maxx, maxy = geom.bounds
        assert (
            AREA[0] <= minx and maxx <= AREA[2] and AREA[1] <= miny and maxy <= AREA[3]
        )
        props = feature["properties"]
        assert {"source", "source_date", "precision"} <= set(props)
        assert feature["id"] == props["id"]


def test_layer_geojson_rounds_coordinates_to_5_decimals(client, store):
    store.update("context", "gare-viotte", geometry=Point(6.021812345, 47.247412345))
    data = client.get("/api/layers/context.geojson").json
    viotte = next(f for f in data["features"] if f["id"] == "gare-viotte")
    assert viotte["geometry"]["coordinates"] == [6.02181, 47.24741]


def test_layer_geojson_hides_unpublished(client):
    ids = {
        f["id"] for f in client.get("/api/layers/coworking.geojson").json["features"]
    }
    assert "le-numerique" in ids
    assert "proposition-clairs-soleils" not in ids
    props = client.get("/api/layers/coworking.geojson").json["features"][0][
        "properties"
    ]
    assert "published" not in props and "version" not in props


def test_layer_geojson_etag_and_304(client, store):
    first = client.get("/api/layers/schools.geojson")
    etag = first.headers["ETag"]
    again = client.get("/api/layers/schools.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304
    store.update("schools", "isba", {"students": 300})
    changed = client.get("/api/layers/schools.geojson", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_layer_geojson_bbox_and_filter(client):
    temis = client.get(
        "/api/layers/companies.geojson?bbox=5.985,47.247,5.996,47.256"
    ).json
    ids = {f["id"] for f in temis["features"]}
    assert "smartesting" in ids and "maty" not in ids
    software = client.get("/api/layers/companies.geojson?sector=software").json
    assert {f["properties"]["sector"] for f in software["features"]} == {"software"}


@pytest.mark.parametrize(
    "query,word",
    [
        ("bbox=1,2,3", "bbox"),
        ("colour=red", "colour"),
        ("published=0", "published"),
        ("bbox=6,47,5,48", "bbox"),
    ],
)
def test_layer_geojson_bad_query_is_400_naming_the_parameter(client, query, word):
    response = client.get(f"/api/layers/coworking.geojson?{query}")
    assert response.status_code == 400
    assert response.json["error"].startswith(word)


def test_unknown_layer_is_json_404(client):
    response = client.get("/api/layers/nope.geojson")
    assert response.status_code == 404
    assert response.is_json and "nope" in response.json["error"]


def test_overview_counts_a_large_layer_per_cell_above_its_threshold(app, client, store):
    app.config["INLINE_MAX_FEATURES"] = 5
    companies = store.read("companies", published_only=True)
    located = companies[companies["precision"] != "commune"]
    # under the overview threshold, the map page loads every point as today
    page = client.get("/embed").get_data(as_text=True)
    assert "companies.bin" in page and "companies.overview" not in page
    app.config["OVERVIEW_MIN_FEATURES"] = 5
    app.extensions["mapapp.site"].clear_caches()  # pages are kept per data version
    page = client.get("/embed").get_data(as_text=True)
    assert "companies.overview" in page and '"overviewZoom":13' in page
    # the page preloads the overview, not the points
    assert 'rel="preload" href="/api/layers/companies.overview' in page
    version = client.get("/api/layers/companies.overview").get_json()["version"]
    r = client.get(f"/api/layers/companies.overview?v={version}")
    assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
    body = r.get_json()
    assert body["count"] == len(companies) and body["located"] == len(located)
    assert sum(n for _x, _y, n in body["cells"]) == len(located)
    assert len(body["cells"]) < len(located)  # grouped: several points per cell
    # each cell sits among its points, inside the cell of OVERVIEW_CELL degrees
    cell = body["cell"]
    for x, y, n in body["cells"]:
        inside = located[
            (located.geometry.x // cell == x // cell)
            & (located.geometry.y // cell == y // cell)
        ]
        assert len(inside) == n
    assert sum(c[3] for c in body["communes"]) == len(companies) - len(located)
    assert client.get("/api/layers/companies.overview?v=0").status_code == 410
    assert client.get("/api/layers/fibre.overview").status_code == 404


def _tile_points(raw: bytes) -> tuple[dict, list[tuple[int, int, int, int]]]:
    """(header, [(position, x, y, category code)]) of a tile's bytes."""
    import json

    import numpy as np

    from mapapp.maps.compact import _unvarints

    size = int.from_bytes(raw[4:8], "little")
    head = json.loads(raw[8 : 8 + size])
    data = np.frombuffer(raw, dtype=np.uint8, offset=8 + size)
    n = head["count"]
    dx, used = _unvarints(data, n)
    dy, more = _unvarints(data[used:], n)
    codes = data[used + more : used + more + n].astype(int) - 1
    index, _ = _unvarints(data[used + more + n :], n)
    rows = zip(np.cumsum(index), np.cumsum(dx), np.cumsum(dy), codes, strict=True)
    return head, [tuple(int(v) for v in row) for row in rows]


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """West, south, east, north of an XYZ tile (the slippy-map formulas)."""
    import math

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / 2**z))))

    return x / 2**z * 360 - 180, lat(y + 1), (x + 1) / 2**z * 360 - 180, lat(y)


def test_layer_tiles_partition_the_located_points_exactly(app, client, store):
    app.config["INLINE_MAX_FEATURES"] = 5
    whole = client.get("/api/layers/companies.points").get_json()
    v, scale = whole["version"], whole["scale"]
    xs = [sum(whole["dx"][: i + 1]) for i in range(whole["count"])]
    ys = [sum(whole["dy"][: i + 1]) for i in range(whole["count"])]
    # every tile of level 13 over the area (the map's tiles), empty ones included
    z = 13
    west, south, east, north = AREA
    cols = range(int((west + 180) / 360 * 2**z), int((east + 180) / 360 * 2**z) + 1)
    rows = [r for r in range(2**z) if _tile_bounds(z, 0, r)[1] < north]
    rows = [r for r in rows if _tile_bounds(z, 0, r)[3] > south]
    seen = []
    for x in cols:
        for y in rows:
            r = client.get(f"/api/layers/companies/tiles/{z}/{x}/{y}.bin?v={v}")
            assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
            head, points = _tile_points(r.data)
            assert head["tile"] == [z, x, y] and head["version"] == v
            w, s, e, n = _tile_bounds(z, x, y)
            for index, px, py, code in points:
                # the point the whole payload has at that position, in this tile
                assert (px, py, code) == (xs[index], ys[index], whole["c"][index])
                assert w <= px / scale < e and s <= py / scale < n
            seen += [p[0] for p in points]
    # each located point in exactly one tile; the commune-level ones in none
    assert sorted(seen) == list(range(whole["located"]))
    assert len(cols) * len(rows) > 4 and whole["located"] < whole["count"]


def test_layer_tile_of_a_coarser_level_holds_its_four_children(app, client):
    app.config["INLINE_MAX_FEATURES"] = 5
    v = client.get("/api/layers/companies.points").get_json()["version"]
    url = f"/api/layers/companies/tiles/{{}}/{{}}/{{}}.bin?v={v}"
    x, y = 8464, 5745  # level 14: Temis, in the north-west of the city
    children = []
    for dx in (0, 1):
        for dy in (0, 1):
            children += _tile_points(
                client.get(url.format(15, 2 * x + dx, 2 * y + dy)).data
            )[1]
    _head, parent = _tile_points(client.get(url.format(14, x, y)).data)
    assert parent and sorted(children) == parent


def test_layer_tile_of_an_old_version_is_gone_and_a_bad_tile_not_found(
    app, client, store
):
    app.config["INLINE_MAX_FEATURES"] = 5
    v = client.get("/api/layers/companies.points").get_json()["version"]
    tile = "/api/layers/companies/tiles/13/4233/2873.bin"
    assert client.get(f"{tile}?v={v}").status_code == 200
    store.update("companies", "smartesting", {"name": "Smartesting SAS"})
    gone = client.get(f"{tile}?v={v}")
    assert gone.status_code == 410 and "reload" in gone.json["error"]
    assert client.get(tile).headers["Cache-Control"] == "no-cache"
    for bad in ("9/132/89", "17/67731/45971", "13/8192/2873", "13/4233/8192"):
        assert client.get(f"/api/layers/companies/tiles/{bad}.bin").status_code == 404
    assert client.get("/api/layers/fibre/tiles/13/4233/2873.bin").status_code == 404
