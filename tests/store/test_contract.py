"""The store contract (store/base.py), run against every backend."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from mapapp.errors import BadRequest, Conflict, NotFound, ValidationError


def new_site(**props):
    base = {
        "id": "test-site",
        "name": "Site test",
        "kind": "coworking",
        "status": "planned",
        "desks": 20,
        "published": False,
        "source": "test",
        "source_date": "2026-11",
        "precision": "exact",
    }
    base.update(props)
    return base


def test_store_lists_layers(store):
    assert store.exists()
    assert store.layer_names() == [
        "companies",
        "coworking",
        "schools",
        "fibre",
        "context",
        "perimeters",
    ]


def test_store_read_returns_fields_version_and_wgs84(store, seed_layers):
    frame = store.read("companies")
    assert len(frame) == len(seed_layers["companies"])
    assert frame.crs.to_epsg() == 4326
    assert set(seed_layers["companies"].columns) - {"geometry"} <= set(frame.columns)
    assert (frame["version"] == 1).all()


def test_store_read_keeps_types(store):
    cow = store.read("coworking").set_index("id")
    assert cow.loc["proposition-viotte", "desks"] == 60
    assert cow.loc["proposition-viotte", "illustrative"] is True
    assert cow.loc["proposition-clairs-soleils", "published"] is False


def test_store_read_bbox(store):
    temis = (5.985, 47.247, 5.996, 47.256)
    ids = set(store.read("companies", bbox=temis)["id"])
    assert {"smartesting", "vix-technology", "silmach"} <= ids
    assert "maty" not in ids and "flowbird" not in ids


def test_store_read_filters(store):
    frame = store.read("coworking", filters={"status": "proposed"})
    assert set(frame["status"]) == {"proposed"}
    with pytest.raises(BadRequest):
        store.read("coworking", filters={"nope": 1})


def test_store_read_published_only(store):
    all_ids = set(store.read("coworking")["id"])
    public = set(store.read("coworking", published_only=True)["id"])
    assert "proposition-clairs-soleils" in all_ids - public
    assert store.count("coworking", published_only=True) == len(public)


def test_store_unknown_layer_is_not_found(store):
    with pytest.raises(NotFound):
        store.read("nope")


def test_store_get(store):
    feature = store.get("schools", "lycee-jules-haag")
    assert feature["properties"]["name"] == "Lycée Jules-Haag"
    assert feature["geometry"].equals_exact(Point(6.0133, 47.2392), 1e-9)
    with pytest.raises(NotFound):
        store.get("schools", "missing")


def test_store_add_bumps_data_version(store):
    before = store.data_version()
    saved = store.add("coworking", new_site(), Point(6.02, 47.24))
    assert saved["version"] == 1
    assert store.data_version() == before + 1
    assert store.get("coworking", "test-site")["properties"]["desks"] == 20


def test_store_add_invalid_changes_nothing(store):
    before = store.data_version()
    with pytest.raises(ValidationError):
        store.add("coworking", new_site(status="dreaming"), Point(6.02, 47.24))
    with pytest.raises(ValidationError):
        store.add("coworking", new_site(), Point(47.24, 6.02))
    assert store.data_version() == before
    with pytest.raises(NotFound):
        store.get("coworking", "test-site")


def test_store_add_duplicate_id_conflicts(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    with pytest.raises(Conflict):
        store.add("coworking", new_site(), Point(6.03, 47.24))


def test_store_update_with_version(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    saved = store.update("coworking", "test-site", {"desks": 35}, expected_version=1)
    assert saved["version"] == 2 and saved["properties"]["desks"] == 35
    moved = store.update("coworking", "test-site", geometry=Point(6.03, 47.25))
    assert moved["geometry"].x == pytest.approx(6.03)
    # the spatial index follows the move
    assert "test-site" in set(
        store.read("coworking", bbox=(6.025, 47.245, 6.035, 47.255))["id"]
    )


def test_store_update_stale_version_conflicts_and_keeps_data(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    store.update("coworking", "test-site", {"desks": 35}, expected_version=1)
    with pytest.raises(Conflict):
        store.update("coworking", "test-site", {"desks": 99}, expected_version=1)
    assert store.get("coworking", "test-site")["properties"]["desks"] == 35


def test_store_update_invalid_rolls_back(store):
    before = store.data_version()
    with pytest.raises(ValidationError):
        store.update("coworking", "le-numerique", {"desks": -5})
    assert store.data_version() == before
    assert store.get("coworking", "le-numerique")["version"] == 1


def test_store_delete(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    with pytest.raises(Conflict):
        store.delete("coworking", "test-site", expected_version=7)
    store.delete("coworking", "test-site", expected_version=1)
    with pytest.raises(NotFound):
        store.get("coworking", "test-site")
    assert store.check() == []


def test_store_replace_layers_is_atomic(store, seed_layers):
    before = store.data_version()
    broken = seed_layers["schools"].copy()
    broken.loc[0, "id"] = broken.loc[1, "id"]  # violates the unique id
    with pytest.raises(Exception):  # noqa: B017 - backend-specific integrity error
        store.replace_layers(
            {"companies": seed_layers["companies"].head(3), "schools": broken}
        )
    assert store.data_version() == before
    assert store.count("companies") == len(seed_layers["companies"])


def test_store_create_continues_the_data_version(store, seed_layers):
    before = store.data_version()
    store.add("coworking", new_site(), Point(6.02, 47.24))
    assert store.create(seed_layers) > before + 1
    with pytest.raises(NotFound):
        store.get("coworking", "test-site")


def test_store_check_passes(store):
    assert store.check() == []
