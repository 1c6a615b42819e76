"""The web side of issue 11: bodies and parameters refused with a 4xx (never a 5xx),
duplicates as 409, items from the published snapshot, uploads that leave nothing
behind and show no server path, pages that are never stored, /share sizes."""

from __future__ import annotations

import io
import json
import re
import threading

import pytest
from shapely.geometry import Point

from mapapp import accounts
from tests.forms import form_fields
from tests.views.test_auth import login
from tests.views.test_edit_api import SITE

FEATURES = "/api/layers/coworking/features"


@pytest.fixture
def token(store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    return accounts.new_token(store, "bot")


@pytest.fixture
def api(client, token):
    def call(method, path, json=None):
        headers = {"Authorization": f"Bearer {token}"}
        return client.open(path, method=method, json=json, headers=headers)

    return call


@pytest.fixture
def admin(client, store):
    """An administrator signed in; the import page's CSRF token."""
    accounts.create_user(store, "root", "admin", "long-enough-password")
    login(client, name="root")
    page = client.get("/planner/import").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def upload(client, csrf, name: str, data: bytes):
    form = {"csrf_token": csrf, "file": (io.BytesIO(data), name)}
    return client.post("/planner/import", data=form, content_type="multipart/form-data")


def site_with(**props):
    return {**SITE, "properties": {**SITE["properties"], **props}}


# --- the edit API ----------------------------------------------------------------


def test_duplicate_id_is_409_not_412(api):
    first = api("POST", FEATURES, site_with(id="chaprais"))
    again = api("POST", FEATURES, site_with(id="chaprais"))
    assert first.status_code == 201 and again.status_code == 409
    assert "already exists" in again.json["error"] and "current" not in again.json


def test_concurrent_adds_of_one_name_get_unique_ids(live_server, token):
    import urllib.request

    ids, statuses = [], []

    def add():
        req = urllib.request.Request(
            live_server.url + FEATURES,
            data=json.dumps(site_with(name="Tiers-lieu des Vaîtes")).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
            },
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            statuses.append(r.status)
            ids.append(json.loads(r.read())["id"])

    threads = [threading.Thread(target=add) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 6 and len(set(ids)) == 6


@pytest.mark.parametrize(
    "body,status",
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b'{"type": "Feature", "properties": ' * 40 + b"{}" + b"}" * 40, 400),
        (b'{"properties": {"name": "a', 400),
        (b"x" * (1024 * 1024 + 10), 413),
    ],
    ids=["100000 brackets", "nested features", "unterminated", "over 1 MB"],
)
def test_hostile_bodies_are_4xx(client, token, body, status):
    r = client.post(
        FEATURES,
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == status and r.is_json


@pytest.mark.parametrize(
    "props,code",
    [
        ({"name": "lone \ud800 surrogate"}, "bad_character"),
        ({"name": "NUL\x00byte"}, "bad_character"),
        ({"notes": "x" * 100_000}, "too_long"),
        ({"id": "a/b"}, "bad_id"),
        ({"id": "x" * 5000}, "bad_id"),
        ({"id": "with space"}, "bad_id"),
    ],
)
def test_bad_values_are_422_and_store_nothing(api, store, props, code):
    before = store.data_version()
    r = api("POST", FEATURES, site_with(**props))
    assert r.status_code == 422, r.get_data(as_text=True)[:200]
    assert r.json["problems"][0]["code"] == code
    assert store.data_version() == before


def test_a_million_vertex_polygon_is_refused(api, store):
    ring = Point(6.02, 47.24).buffer(0.01, quad_segs=250_000)
    body = {
        "type": "Feature",
        "properties": {"name": "Huge", "status": "candidate", "source": "x",
                       "source_date": "2026", "precision": "exact"},
        "geometry": json.loads(json.dumps(ring.__geo_interface__)),
    }  # fmt: skip
    r = api("POST", "/api/layers/perimeters/features", body)
    assert r.status_code in (413, 422)  # over 1 MB of JSON, or too many vertices


def test_heights_are_dropped_not_stored(api, store):
    body = site_with(id="with-height")
    body["geometry"] = {"type": "Point", "coordinates": [6.035, 47.246, 312.5]}
    r = api("POST", FEATURES, body)
    assert r.status_code == 201
    assert not store.get("coworking", "with-height")["geometry"].has_z


@pytest.mark.parametrize("hid", [2**64, -1, 0, "12a", True, None, 1.5])
def test_restore_with_an_impossible_history_id_is_4xx(api, hid):
    r = api("POST", f"{FEATURES}/le-numerique/restore", {"history_id": hid})
    assert r.status_code in (400, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/api/layers/companies.geojson?bbox=nan,47,6,48",
        "/api/layers/companies.geojson?bbox=5,47,6,inf",
        "/api/layers/companies.geojson?name=%00",
        "/api/layers/coworking.geojson?desks=99999999999999999999999",
        "/ogc/collections/companies/items?bbox=nan,nan,nan,nan",
        "/api/layers/coworking/features/a%00b",
        "/api/search?q=" + "x" * 3000,
    ],
)
def test_odd_parameters_are_4xx(api, url):
    r = api("GET", url)
    assert 400 <= r.status_code < 500, (url, r.status_code)


# --- items come from the published snapshot --------------------------------------


def test_item_is_served_from_the_snapshot_not_the_live_row(client, site, store):
    points = client.get("/api/layers/coworking.points")
    version = site.data_version()
    snap, full = site.snapshot("coworking"), site.snapshot("coworking", full=True)
    index = snap.index_of("le-numerique")
    # a planner saves a draft and unpublishes it just after the map was loaded,
    # while this request is between its snapshot and its answer
    store.update("coworking", "le-numerique", {"name": "DRAFT", "published": False})
    stale = {False: snap, True: full}
    site.snapshot = lambda name, full=False: stale[full]
    item = client.get(f"/api/layers/coworking/items/{index}?v={version}")
    assert points.status_code == 200 and item.status_code == 200
    assert item.json["properties"]["name"] != "DRAFT"
    assert "published" not in item.json["properties"]


def test_immutable_only_with_the_current_version(client, site):
    version = site.data_version()
    with_v = client.get(f"/api/layers/coworking/items/0?v={version}")
    without = client.get("/api/layers/coworking/items/0")
    old = client.get(f"/api/layers/coworking/items/0?v={version - 1}")
    assert "immutable" in with_v.headers["Cache-Control"]
    assert "immutable" not in without.headers["Cache-Control"]
    assert old.status_code == 410
    points = client.get("/api/layers/coworking.points")
    assert "immutable" not in points.headers["Cache-Control"]
    binary = client.get("/api/layers/coworking.bin")
    assert "immutable" not in binary.headers["Cache-Control"]
    current = client.get(f"/api/layers/coworking.bin?v={version}")
    assert "immutable" in current.headers["Cache-Control"]


# --- pages never stored ------------------------------------------------------------


def test_planner_import_and_sign_in_pages_are_not_stored(client, store, admin):
    for url in ("/planner/", "/planner/import", "/auth/login"):
        r = client.get(url)
        assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"], url


# --- uploads ---------------------------------------------------------------------


def _uploads(app) -> list[str]:
    folder = app.instance_path + "/uploads"
    import os

    return sorted(
        os.path.relpath(os.path.join(d, f), folder)
        for d, _dirs, files in os.walk(folder)
        for f in files
    )


def test_an_uploaded_json_file_previews_and_imports(
    app, client, store, admin, tmp_path
):
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": "enquete-1", "name": "Site A",
                                   "kind": "coworking", "status": "planned"},
                    "geometry": {"type": "Point", "coordinates": [6.02, 47.24]},
                }
            ],
        }
    ).encode()  # fmt: skip
    sent = upload(client, admin, "sites.json", data)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    pending = sent.headers["Location"].split("/")[-2]
    assert _uploads(app) == [f"{pending}/.state.json", f"{pending}/sites.json"]
    columns = client.get(sent.headers["Location"]).get_data(as_text=True)
    fields = form_fields(columns, sent.headers["Location"])
    step = client.post(sent.headers["Location"], data={**fields, "action": "next"})
    assert step.status_code == 303, step.get_data(as_text=True)[-800:]
    options = client.post(
        step.headers["Location"], data={"csrf_token": admin, "source": "Enquête 2026"}
    )
    assert options.status_code == 303
    done = client.post(
        options.headers["Location"].replace("/report", "/confirm"),
        data={"csrf_token": admin},
    )
    assert done.status_code == 200, done.get_data(as_text=True)[-800:]
    saved = store.get("coworking", "enquete-1")["properties"]
    assert pending not in saved["source"] and "/" not in saved["source"]
    assert _uploads(app) == []
    entry = store.private.history("coworking", "enquete-1")[0]
    assert entry["author"] == "root" and "sites.json" in entry["note"]


def test_failed_uploads_leave_nothing_and_show_no_server_path(app, client, admin):
    broken = b"SQLite format 3\x00" + b"\x00" * 52 + b"GPKG" + b"\x00" * 200
    vrt = b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd'
    for name, data in (("broken.gpkg", broken), ("sites.vrt", vrt), ("x.geojson", vrt)):
        r = upload(client, admin, name, data)
        page = r.get_data(as_text=True)
        assert r.status_code == 400, page[-500:]
        assert name.replace("sites", "") in page  # the file, or its kind refused
        assert app.instance_path not in page and "/tmp" not in page
    assert _uploads(app) == []


def test_unconfirmed_uploads_expire(app, client, admin, tmp_path):
    import os
    import time

    from tests.importers import fixtures

    sent = upload(client, admin, "stock.csv", fixtures.sirene(tmp_path).read_bytes())
    pending = sent.headers["Location"].split("/")[-2]
    folder = os.path.join(app.instance_path, "uploads", pending)
    past = time.time() - 2 * 3600
    for entry in [folder, *(os.path.join(folder, f) for f in os.listdir(folder))]:
        os.utime(entry, (past, past))
    state = os.path.join(folder, ".state.json")
    with open(state, encoding="utf-8") as f:
        kept = json.load(f)
    kept["created"] = past
    with open(state, "w", encoding="utf-8") as f:
        json.dump(kept, f)
    late = client.get(f"/planner/import/{pending}/report")
    assert late.status_code == 400 and _uploads(app) == []


# --- /share --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        'width=100%25" onload="alert(1)',
        "height=500><script>alert(1)</script>",
        "width=<img src=x onerror=alert(1)>&height=1e9",
    ],
)
def test_share_never_echoes_a_size_it_did_not_validate(client, query):
    page = client.get(f"/share?{query}").get_data(as_text=True)
    snippet = re.search(r'<textarea id="share-code"[^>]*>(.*?)</textarea>', page, re.S)[
        1
    ]
    preview = re.search(r'<iframe id="share-preview"[^>]*>', page)[0]
    inputs = re.findall(r'<input id="share-(?:width|height)"[^>]*>', page)
    for part in (snippet, preview, *inputs):
        assert "onload" not in part and "onerror" not in part and "script" not in part
    assert 'width="100%"' in snippet.replace("&#34;", '"')


def test_share_keeps_valid_sizes(client):
    page = client.get("/share?width=640px&height=80%25").get_data(as_text=True)
    assert 'width="640"' in page.replace(
        "&#34;", '"'
    ) and 'height="80%"' in page.replace("&#34;", '"')


# --- caches ----------------------------------------------------------------------


def test_visitors_cannot_grow_the_page_cache_with_centers(client, site):
    for n in range(40):  # the same place, written with ever more decimals
        client.get(f"/embed?center=47.2378{'0' * n}1,6.0241")
    entries, _bytes = site.pages.size
    assert entries <= 3
    for n in range(300):  # distinct places: bounded in bytes
        client.get(f"/embed?center={47.2 + n / 1000:.3f},6.0241")
    entries, held = site.pages.size
    assert held <= site.pages.max_bytes and entries <= site.pages.max_entries


def test_suitability_cell_outside_100_to_1000_is_refused(client, store):
    accounts.create_user(store, "pl", "planner", "long-enough-password")
    login(client, name="pl")
    for cell in (50, 99, 1001, 5000):
        r = client.get(f"/api/analysis/suitability?cell={cell}")
        assert r.status_code == 400, cell


@pytest.mark.parametrize(
    "props,french",
    [
        ({"notes": "x" * 3000}, "Trop long : 3000 caractères"),
        ({"name": "a\x00"}, "Contient un caractère non autorisé"),
        ({"id": "a b"}, "Un identifiant se compose"),
    ],
)
def test_limit_problems_are_said_in_the_page_language(client, token, props, french):
    r = client.post(
        FEATURES + "?lang=fr",
        json=site_with(**props),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422 and r.json["problems"][0]["message"].startswith(french)


def test_skipping_the_wizard_column_step_is_a_4xx(client, admin):
    data = b"name;longitude;latitude\nA;6.02;47.24\n"
    sent = upload(client, admin, "sites.csv", data)
    report = sent.headers["Location"].replace("/columns", "/report")
    assert client.get(report).status_code == 400  # it was a 500 (no layer chosen)


def zipped_shapefile(folder) -> bytes:
    """A Shapefile of two planned sites with French column names, zipped."""
    import zipfile

    import geopandas as gpd
    import pyogrio

    frame = gpd.GeoDataFrame(
        {"nom": ["Site Saint-Ferjeux", "Site Montrapon"], "statut": ["planned"] * 2,
         "type": ["coworking"] * 2},
        geometry=[Point(5.99, 47.23), Point(6.01, 47.25)],
        crs=4326,
    )  # fmt: skip
    pyogrio.write_dataframe(frame, folder / "sites.shp", driver="ESRI Shapefile")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in folder.glob("sites.*"):
            archive.write(part, part.name)
    return buffer.getvalue()


def test_a_zipped_shapefile_goes_through_the_wizard(client, store, admin, tmp_path):
    sent = upload(client, admin, "sites.zip", zipped_shapefile(tmp_path))
    assert sent.status_code == 303, sent.get_data(as_text=True)[-800:]
    columns = client.get(sent.headers["Location"]).get_data(as_text=True)
    fields = form_fields(columns, sent.headers["Location"])
    assert fields.get("map.name") == "nom"  # suggested from the French name
    step = client.post(sent.headers["Location"], data={**fields, "action": "next"})
    assert step.status_code == 303, step.get_data(as_text=True)[-800:]
    options = client.post(
        step.headers["Location"], data={"csrf_token": admin, "source": "Étude 2026"}
    )
    assert options.status_code == 303
    done = client.post(
        options.headers["Location"].replace("/report", "/confirm"),
        data={"csrf_token": admin},
    )
    assert done.status_code == 200, done.get_data(as_text=True)[-800:]
    names = set(store.read("coworking")["name"])
    assert {"Site Saint-Ferjeux", "Site Montrapon"} <= names
