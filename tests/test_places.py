"""Place search without an outside geocoder, and what an address has around it."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from mapapp.importers import run_import
from mapapp.places import distances_m, fibre_at, nearest, search_zones, zone_index
from tests.importers import fixtures


def frames():
    fibre = gpd.GeoDataFrame(
        {
            "zone_code": ["25056-Q09", "25056-Q11"],
            "zone_name": ["Planoise – Châteaufarine", "Bouloie – TEMIS"],
            "coverage": [0.98, 0.96],
            "as_of": ["2025", "2025"],
            "illustrative": [True, False],
            "source": ["illustratif", "ARCEP"],
        },
        geometry=[box(5.94, 47.20, 5.98, 47.24), box(5.98, 47.24, 6.01, 47.26)],
        crs=4326,
    )
    zones = gpd.GeoDataFrame(
        {
            "zone_code": ["25212", "250560101"],
            "zone_name": ["École-Valentin", "Planoise Ouest"],
            "zone_kind": ["commune", "iris"],
        },
        geometry=[box(5.97, 47.26, 6.0, 47.28), box(5.94, 47.20, 5.96, 47.22)],
        crs=4326,
    )
    communes = [
        {
            "code": "25056",
            "name": "Besançon",
            "west": 5.94,
            "south": 47.2,
            "east": 6.08,
            "north": 47.32,
            "count": 4,
        },
        {
            "code": "25212",
            "name": "École-Valentin",
            "west": 5.98,
            "south": 47.26,
            "east": 5.99,
            "north": 47.27,
            "count": 1,
        },
    ]
    return fibre, zones, communes


def test_zone_index_names_each_zone_once_with_its_kind():
    index = zone_index(*frames())
    kinds = {(z.kind, z.name) for z in index}
    assert kinds == {
        ("quarter", "Planoise – Châteaufarine"),
        ("quarter", "Bouloie – TEMIS"),
        ("commune", "École-Valentin"),  # from the zones, not twice from the addresses
        ("iris", "Planoise Ouest"),
        ("commune", "Besançon"),  # from the addresses: no contour, their extent
    }
    besancon = next(z for z in index if z.name == "Besançon")
    assert besancon.outline is None and besancon.bbox == (5.94, 47.2, 6.08, 47.32)


def test_search_matches_words_from_their_start_and_ranks_prefixes_first():
    index = zone_index(*frames())
    assert [z.name for z in search_zones(index, "planoise", 5)] == [
        "Planoise – Châteaufarine",
        "Planoise Ouest",
    ]
    assert [z.kind for z in search_zones(index, "ECOLE val", 5)] == ["commune"]
    assert search_zones(index, "noise", 5) == []  # not inside a word
    hit = search_zones(index, "temis", 1)[0].hit()
    assert hit["kind"] == "quarter" and hit["zone_code"] == "25056-Q11"
    assert hit["geometry"]["type"] == "Polygon" and len(hit["bbox"]) == 4


def test_fibre_at_a_point_and_nowhere():
    fibre, _zones, _communes = frames()
    here = fibre_at(fibre, 5.96, 47.22)
    assert here["zone_name"] == "Planoise – Châteaufarine"
    assert here["coverage"] == 0.98 and here["illustrative"] is True
    assert fibre_at(fibre, 6.2, 47.3) is None


def test_nearest_places_with_distances_in_metres():
    places = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "name": list("ABCD"),
            "status": ["open", "planned", "open", "closed"],
        },
        geometry=[
            Point(5.9585, 47.2218),
            Point(5.961, 47.2205),
            Point(6.0, 47.25),
            Point(6.02, 47.24),
        ],
        crs=4326,
    )
    found = nearest(places, 5.95852, 47.22189, {"open": "Ouvert"})
    assert [p["id"] for p in found] == ["a", "b", "c"]
    assert found[0]["distance_m"] < 15 and found[0]["status_label"] == "Ouvert"
    assert 200 < found[1]["distance_m"] < 260
    assert distances_m(6.0, 47.0, [6.0], [48.0])[0] == pytest.approx(111195, rel=1e-3)


def test_site_places_and_here_on_the_store(site, tmp_path):
    run_import(site.store, "addresses", fixtures.write_ban(tmp_path / "a.csv.gz"))
    hits = site.places("planoise")
    assert hits[0]["kind"] == "quarter"
    assert hits[0]["name"] == "Planoise – Châteaufarine"
    address = site.places("14 rue du luxembourg")
    assert [(h["kind"], h["name"]) for h in address] == [
        ("address", "14 Rue du Luxembourg, 25000 Besançon")
    ]
    communes = site.places("besancon")
    assert communes[0] == {**communes[0], "kind": "commune", "name": "Besançon"}
    around = site.here(5.95852, 47.22189, "en")
    assert around["fibre"]["zone_code"] == "25056-Q09"
    assert around["coworking"][0]["id"] == "le-numerique"
    assert around["coworking"][0]["status_label"] == "Under construction"


def test_places_api_answers_json_and_refuses_bad_input(client):
    hits = client.get("/api/places?q=planoise").json["hits"]
    assert hits and hits[0]["kind"] == "quarter"
    assert client.get("/api/places?q=a").status_code == 400
    here = client.get("/api/places/here?lat=47.22189&lon=5.95852&lang=fr").json
    assert here["coworking"][0]["status_label"] == "En travaux"
    assert client.get("/api/places/here?lat=48.8&lon=2.35").status_code == 400
    assert client.get("/api/places/here?lat=x&lon=2").status_code == 400
