"""Place search without an outside geocoder, and what every place has around it (the
answer card's data: issue 19)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from mapapp.analysis import walk_minutes
from mapapp.importers import run_import
from mapapp.places import (
    ANSWER_LISTS,
    distances_m,
    fibre_answer,
    fibre_at,
    listed,
    search_zones,
    zone_index,
)
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


LABELS = {"status": {"open": "Ouvert", "planned": "Programmé"}, "kind": {}}
COWORKING = next(rule for rule in ANSWER_LISTS if rule.key == "coworking")


def places_frame():
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "name": list("ABCDEF"),
            "status": ["open", "planned", "open", "closed", "open", "proposed"],
            "opening": [None, "2027", None, None, None, None],
            "precision": ["exact"] * 4 + ["commune", "exact"],
        },
        geometry=[
            Point(5.9585, 47.2218),
            Point(5.961, 47.2205),
            Point(6.0, 47.25),
            Point(5.9586, 47.2219),  # closed, nearest of all: never listed
            Point(5.96, 47.22),  # located at commune level: no distance
            Point(5.9587, 47.2219),  # a planners' proposal: not a place to go to
        ],
        crs=4326,
    )


def test_listed_puts_open_places_nearest_first_and_those_to_come_apart():
    found = listed(places_frame(), COWORKING, 5.95852, 47.22189, LABELS, [], None)
    assert [p["id"] for p in found["nearest"]] == ["a", "c"]
    assert found["nearest"][0]["distance_m"] < 15
    assert found["nearest"][0]["status_label"] == "Ouvert"
    assert [(p["id"], p["opening"]) for p in found["coming"]] == [("b", "2027")]
    assert 200 < found["coming"][0]["distance_m"] < 260
    assert found["in_commune"] == []  # no commune known for the place
    assert distances_m(6.0, 47.0, [6.0], [48.0])[0] == pytest.approx(111195, rel=1e-3)


def test_listed_names_commune_level_places_of_the_commune_without_distance():
    commune = next(z for z in zone_index(*frames()) if z.name == "École-Valentin")
    frame = places_frame()
    frame.loc[4, "geometry"] = Point(5.98, 47.27)  # the commune's anchor
    found = listed(frame, COWORKING, 5.985, 47.265, LABELS, [commune], commune)
    assert [p["id"] for p in found["in_commune"]] == ["e"]
    assert "distance_m" not in found["in_commune"][0]
    assert "e" not in [p["id"] for p in found["nearest"]]


def test_walking_time_is_one_assumption_from_the_straight_line():
    # 4.5 km/h on a path 1.3 times the straight line: 1 km takes about 17 minutes
    assert walk_minutes(1000) == 17
    assert walk_minutes(10) == 1  # never 0
    assert walk_minutes(4500 / 1.3) == 60


def test_fibre_answer_for_a_point_a_zone_and_nowhere():
    fibre, _zones, _communes = frames()
    at = fibre_answer(fibre, 5.96, 47.22)
    assert (at["basis"], at["coverage"], at["missing"]) == ("at_point", 0.98, None)
    assert at["zones"][0]["zone_name"] == "Planoise – Châteaufarine"
    nowhere = fibre_answer(fibre, 6.2, 47.3)
    assert (nowhere["missing"], nowhere["coverage"], nowhere["zones"]) == (
        "no_zone",
        None,
        [],
    )
    iris = next(z for z in zone_index(*frames()) if z.kind == "iris")
    assert fibre_answer(fibre, iris.lon, iris.lat, iris)["basis"] == "at_centre"


def test_fibre_answer_of_a_commune_counts_the_zones_in_it_together():
    fibre, zones, communes = frames()
    fibre["premises"] = [1000, 3000]
    fibre["ftth_premises"] = [980, 2880]
    commune = gpd.GeoDataFrame(
        {"zone_code": ["25056"], "zone_name": ["Besançon"], "zone_kind": ["commune"]},
        geometry=[box(5.9, 47.15, 6.1, 47.3)],
        crs=4326,
    )
    place = next(z for z in zone_index(fibre, commune, []) if z.kind == "commune")
    whole = fibre_answer(fibre, place.lon, place.lat, place)
    assert whole["basis"] == "in_place" and len(whole["zones"]) == 2
    assert whole["coverage"] == pytest.approx(3860 / 4000)
    assert whole["premises"] == 4000 and whole["illustrative"] is True
    fibre["coverage"] = [None, 0.96]  # a zone without a figure: said, not counted
    partial = fibre_answer(fibre, place.lon, place.lat, place)
    assert partial["without_figure"] == 1 and partial["coverage"] == 0.96
    fibre["coverage"] = [None, None]
    assert fibre_answer(fibre, 5.96, 47.22)["missing"] == "no_figure"


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
    assert around["fibre"]["zones"][0]["zone_code"] == "25056-Q09"
    assert around["place"]["commune"] == {"code": "25056", "name": "Besançon"}
    # the nearest OPEN place first; Le Numérique, 10 m away, is under construction
    assert around["coworking"]["nearest"][0]["id"] == "fabrique-numerique-planoise"
    coming = around["coworking"]["coming"][0]
    assert (coming["id"], coming["status_label"], coming["opening"]) == (
        "le-numerique",
        "Under construction",
        "2027",
    )
    assert coming["distance_m"] < 20 and coming["walk_min"] == 1
    school = around["schools"]["nearest"][0]
    assert (
        school["id"] == "access-code-school" and "web" in school["digital_programmes"]
    )
    assert [s["id"] for s in around["schools"]["coming"]] == ["le-numerique-formation"]
    assert {s["id"] for s in around["stations"]["nearest"]} == {
        "gare-viotte",
        "gare-tgv",
    }
    assert around["walking"] == {"speed_kmh": 4.5, "detour_factor": 1.3}


def test_site_answers_for_a_commune_as_a_whole(site):
    besancon = site.here_zone("commune", "25056", "fr")
    assert besancon["place"]["distances_from"] == "representative_point"
    assert besancon["fibre"]["basis"] == "in_place"
    assert len(besancon["fibre"]["zones"]) == 14  # every quarter of the commune
    assert 0 < besancon["fibre"]["coverage"] < 1
    saint_vit = site.here_zone("commune", "25527", "fr")
    assert saint_vit["fibre"]["missing"] == "no_zone"
    assert saint_vit["coworking"]["nearest"]  # the nearest, however far
    assert saint_vit["coworking"]["nearest"][0]["distance_m"] > 10_000
    quarter = site.here_zone("quarter", "25056-Q09", "fr")
    assert quarter["fibre"]["basis"] == "same_zone"
    assert quarter["fibre"]["coverage"] == 0.98


def test_places_api_answers_json_and_refuses_bad_input(client):
    hits = client.get("/api/places?q=planoise").json["hits"]
    assert hits and hits[0]["kind"] == "quarter"
    assert client.get("/api/places?q=a").status_code == 400
    here = client.get("/api/places/here?lat=47.22189&lon=5.95852&lang=fr").json
    assert here["coworking"]["coming"][0]["status_label"] == "En travaux"
    zone = client.get("/api/places/here?kind=commune&code=25527&lang=fr").json
    assert zone["place"]["name"] == "Saint-Vit"
    assert client.get("/api/places/here?lat=48.8&lon=2.35").status_code == 400
    assert client.get("/api/places/here?lat=x&lon=2").status_code == 400
    assert client.get("/api/places/here?kind=commune&code=00000").status_code == 404
    assert client.get("/api/places/here?kind=country&code=FR").status_code == 400
    assert client.get("/api/places/here?kind=commune").status_code == 400


def test_the_answer_is_described_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").json
    here = doc["paths"]["/api/places/here"]["get"]
    assert {"lat", "lon", "kind", "code"} <= {p["name"] for p in here["parameters"]}
    body = here["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/answer"}
    answer = doc["components"]["schemas"]["answer"]["properties"]
    assert {"place", "walking", "fibre", "coworking", "schools", "stations"} <= set(
        answer
    )
