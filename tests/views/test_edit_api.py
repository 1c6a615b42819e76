"""The edit API: versions, If-Match and 412, validation, history, publishing."""

from __future__ import annotations

import pytest

from mapapp import accounts


@pytest.fixture
def token(store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    return accounts.new_token(store, "bot")


@pytest.fixture
def api(client, token):
    def call(method, path, json=None, version=None):
        headers = {"Authorization": f"Bearer {token}"}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return client.open(path, method=method, json=json, headers=headers)

    return call


SITE = {
    "type": "Feature",
    "properties": {
        "name": "Coworking des Chaprais",
        "kind": "coworking",
        "status": "planned",
        "desks": 40,
        "published": False,
        "source": "saisie",
        "source_date": "2026-11",
        "precision": "exact",
    },
    "geometry": {"type": "Point", "coordinates": [6.035, 47.246]},
}


def test_create_then_read_with_etag(api):
    created = api("POST", "/api/layers/coworking/features", SITE)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    assert created.json["id"] == "coworking-des-chaprais"
    again = api("POST", "/api/layers/coworking/features", SITE)
    assert again.json["id"] == "coworking-des-chaprais-2"
    read = api("GET", created.headers["Location"])
    assert read.json["properties"]["desks"] == 40


def test_two_planners_never_overwrite_each_other(api):
    path = "/api/layers/coworking/features/le-numerique"
    version = api("GET", path).json["version"]
    first = api("PATCH", path, {"properties": {"desks": 120}}, version=version)
    assert first.status_code == 200 and first.json["version"] == version + 1
    second = api("PATCH", path, {"properties": {"desks": 80}}, version=version)
    assert second.status_code == 412
    assert second.json["current"]["properties"]["desks"] == 120
    assert second.headers["ETag"] == f'"{version + 1}"'
    assert api("GET", path).json["properties"]["desks"] == 120


def test_write_without_if_match_is_428(api):
    r = api(
        "PATCH",
        "/api/layers/coworking/features/le-numerique",
        {"properties": {"desks": 1}},
    )
    assert r.status_code == 428 and "If-Match" in r.json["error"]


def test_invalid_edit_names_the_field_and_changes_nothing(api, store):
    version = store.data_version()
    r = api(
        "PATCH",
        "/api/layers/coworking/features/le-numerique",
        {"properties": {"desks": -3, "status": "dreaming"}},
        version=1,
    )
    assert r.status_code == 422
    assert {p["field"] for p in r.json["problems"]} == {"desks", "status"}
    outside = dict(SITE, geometry={"type": "Point", "coordinates": [2.35, 48.85]})
    assert api("POST", "/api/layers/coworking/features", outside).status_code == 422
    bad = dict(SITE, geometry={"type": "Nope"})
    assert api("POST", "/api/layers/coworking/features", bad).status_code == 400
    assert store.data_version() == version


def test_only_edited_layers_can_be_changed(api):
    r = api(
        "PATCH", "/api/layers/companies/features/maty", {"properties": {}}, version=1
    )
    assert r.status_code == 403


def test_delete_history_and_restore(api):
    path = "/api/layers/coworking/features/village-by-ca"
    assert api("DELETE", path, version=1).status_code == 204
    assert api("GET", path).status_code == 404
    deleted = api("GET", "/api/layers/coworking/deleted").json["deleted"]
    entry = next(d for d in deleted if d["id"] == "village-by-ca")
    restored = api("POST", path + "/restore", {"history_id": entry["history_id"]})
    assert restored.status_code == 200
    assert restored.json["properties"]["name"] == "Village by CA Besançon"
    actions = [h["action"] for h in api("GET", path + "/history").json["history"]]
    assert actions == ["restore", "delete"]
    assert all(
        h["author"] == "bot" for h in api("GET", path + "/history").json["history"]
    )


def test_perimeter_polygon_validated(api):
    ring = [[6.0, 47.24], [6.01, 47.24], [6.01, 47.25], [6.0, 47.25], [6.0, 47.24]]
    body = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "name": "Quartier test",
            "status": "candidate",
            "source": "saisie",
            "source_date": "2026",
            "precision": "exact",
            "published": True,
        },
    }
    assert api("POST", "/api/layers/perimeters/features", body).status_code == 201
    bowtie = [[6.0, 47.24], [6.01, 47.25], [6.01, 47.24], [6.0, 47.25], [6.0, 47.24]]
    body["geometry"]["coordinates"] = [bowtie]
    r = api("POST", "/api/layers/perimeters/features", body)
    assert r.status_code == 422 and r.json["problems"][0]["field"] == "geometry"


def test_publish_shows_at_once_on_the_public_map(api, client):
    created = api("POST", "/api/layers/coworking/features", SITE).json
    embed = client.get("/embed").get_data(as_text=True)
    public = client.get("/api/layers/coworking.geojson").json
    assert created["id"] not in embed
    assert created["id"] not in {f["id"] for f in public["features"]}
    path = f"/api/layers/coworking/features/{created['id']}"
    api("PATCH", path, {"properties": {"published": True}}, version=1)
    assert created["id"] in client.get("/embed").get_data(as_text=True)
    assert created["id"] in client.get("/list").get_data(as_text=True)
    ids = {
        f["id"] for f in client.get("/api/layers/coworking.geojson").json["features"]
    }
    assert created["id"] in ids


def test_signed_in_planners_see_unpublished(api, client):
    r = api("GET", "/api/layers/coworking.geojson?include=unpublished")
    ids = {f["id"] for f in r.json["features"]}
    assert "proposition-clairs-soleils" in ids
    assert r.headers["Cache-Control"] == "private, no-store"
    anonymous = client.get("/api/layers/coworking.geojson?include=unpublished").json
    assert "proposition-clairs-soleils" not in {f["id"] for f in anonymous["features"]}


def test_validation_problems_in_the_page_language(api):
    path = "/api/layers/coworking/features/le-numerique"
    fr = api("PATCH", path + "?lang=fr", {"properties": {"desks": -3}}, version=1)
    assert fr.json["problems"][0]["message"] == "Doit valoir au moins 0."
    outside = api(
        "PATCH",
        path + "?lang=en",
        {"geometry": {"type": "Point", "coordinates": [2.35, 48.85]}},
        version=1,
    )
    assert outside.json["problems"][0]["message"] == "Outside the study area."


def test_spiky_or_crossing_perimeters_refused_in_the_page_language(api):
    import math

    angle = [2 * math.pi * i / 2000 for i in range(2000)]
    radius = [1000.0 if i % 2 == 0 else 50.0 for i in range(2000)]  # a star
    ring = [
        [6.02 + r * math.cos(a) / 75_560, 47.24 + r * math.sin(a) / 111_320]
        for r, a in zip(radius, angle, strict=True)
    ]
    body = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        "properties": {
            "name": "Quartier étoilé",
            "status": "candidate",
            "source": "saisie",
            "source_date": "2026",
            "precision": "exact",
        },
    }
    fr = api("POST", "/api/layers/perimeters/features?lang=fr", body)
    assert fr.status_code == 422
    assert fr.json["problems"][0]["message"].startswith("Le contour a 2")
    assert "pointe" in fr.json["problems"][0]["message"]
    en = api("POST", "/api/layers/perimeters/features?lang=en", body)
    assert "spike" in en.json["problems"][0]["message"]
    bowtie = [[6.0, 47.24], [6.01, 47.25], [6.01, 47.24], [6.0, 47.25], [6.0, 47.24]]
    body["geometry"]["coordinates"] = [bowtie]
    crossing = api("POST", "/api/layers/perimeters/features?lang=fr", body)
    assert crossing.json["problems"][0]["message"] == (
        "Le contour se recoupe près de 6.005, 47.245 : redessinez-le sans croisement."
    )


def test_the_history_names_the_imported_file_and_a_whole_import_is_undone(api, store):
    """Issue 19 item 5: the history says which file an import came from, and one
    request undoes the whole import, not row by row."""
    frame = store.read("coworking").drop(columns=["version"])
    first = frame["id"].iloc[0]
    edited = frame.copy()
    edited.loc[edited["id"] == first, "name"] = "Nom venu du fichier"
    store.replace_layers(
        {"coworking": edited},
        author="paul",
        note="generic import of recensement-2026.csv (merge)",
    )
    history = api("GET", f"/api/layers/coworking/features/{first}/history").json
    entry = history["history"][0]
    assert entry["author"] == "paul"
    assert entry["import"] == {
        "kind": "generic",
        "file": "recensement-2026.csv",
        "mode": "merge",
    }
    undone = api(
        "POST", "/api/layers/coworking/imports/undo", {"history_id": entry["id"]}
    )
    assert undone.status_code == 200, undone.json
    assert undone.json["restored"] == 1
    assert store.get("coworking", first)["properties"]["name"] != "Nom venu du fichier"
    # done once: the features have changed since, a second undo is refused
    again = api(
        "POST", "/api/layers/coworking/imports/undo", {"history_id": entry["id"]}
    )
    assert again.status_code == 412
    # an edit is not an import
    edit = api("GET", f"/api/layers/coworking/features/{first}/history").json
    assert edit["history"][0]["import"] is None
    wrong = api(
        "POST",
        "/api/layers/coworking/imports/undo",
        {"history_id": edit["history"][0]["id"]},
    )
    assert wrong.status_code == 404
