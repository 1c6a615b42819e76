"""The drill of issue 18: a new point layer takes one registration.

Everything a new layer needs is its :class:`LayerSpec` (here, in this file; in the
app, a ``register(...)`` beside the built-in ones in mapapp/layers/builtin.py) and,
if an official file feeds it, its importer entry. Registered on a store made before
it existed, the layer is drawn on the map, listed, described on the open-data page,
served by the OGC API, downloadable with its own licence, importable with the
generic importer, and has a symbol of its own.
"""

from __future__ import annotations

import json

import pytest

from mapapp.importers import for_layer, run_import
from mapapp.layers import (
    REGISTRY,
    Category,
    Field,
    LayerSpec,
    register,
    unregister,
)
from mapapp.layers.builtin import COMMON_FIELDS, NAME

FABLAB_KINDS = {
    "fablab": ("Fablab", "Fablab", "#117733"),
    "makerspace": ("Makerspace", "Makerspace", "#CC6677"),
}

FABLABS = LayerSpec(
    name="fablabs",
    title={"fr": "Fablabs et makerspaces", "en": "Fablabs and makerspaces"},
    geometry="Point",
    fields=COMMON_FIELDS
    + (
        NAME,
        Field(
            "kind",
            "str",
            {"fr": "Type", "en": "Type"},
            required=True,
            choices={k: {"fr": v[0], "en": v[1]} for k, v in FABLAB_KINDS.items()},
        ),
        Field("address", "str", {"fr": "Adresse", "en": "Address"}),
        Field("website", "str", {"fr": "Site web", "en": "Website"}),
    ),
    popup=("kind", "address", "website"),
    category_field="kind",
    categories=tuple(
        Category(k, {"fr": fr, "en": en}, c) for k, (fr, en, c) in FABLAB_KINDS.items()
    ),
    color="#117733",
    symbol="pentagon",
    licence="cc-by-4.0",
    attribution={
        "fr": "Réseau français des fablabs, annuaire 2026",
        "en": "French fablab network, 2026 directory",
    },
)

CSV = (
    "nom;type;adresse;longitude;latitude\n"
    "Fablab des Fabriques;Fablab;2 rue des Fabriques;6,0215;47,2412\n"
    "Makerspace Bouloie;makerspace;16 route de Gray;5,9912;47,2468\n"
)


@pytest.fixture
def fablabs(store):
    """The layer registered after the store was made (the app's store is a copy of
    the seed store), taken out again after the test."""
    assert "fablabs" not in store.layer_names()
    register(FABLABS)
    yield FABLABS
    unregister("fablabs")


def imported(store, tmp_path):
    path = tmp_path / "fablabs.csv"
    path.write_text(CSV, encoding="utf-8")
    return run_import(
        store,
        "generic",
        path,
        layer="fablabs",
        mapping={"name": "nom", "kind": "type", "address": "adresse"},
        source="Réseau français des fablabs",
        defaults={"precision": "exact"},
    )


def test_a_new_layer_is_imported_with_the_generic_importer(store, fablabs, tmp_path):
    assert [i.kind for i in for_layer("fablabs")] == ["generic"]
    report = imported(store, tmp_path)
    assert report.written and report.kept == 2, report.lines()
    frame = store.read("fablabs").set_index("id")
    assert dict(frame["kind"]) == {
        "fablab-des-fabriques": "fablab",
        "makerspace-bouloie": "makerspace",
    }
    assert set(frame["source"]) == {"Réseau français des fablabs"}


def test_a_new_layer_is_drawn_with_its_own_symbol(client, store, fablabs, tmp_path):
    imported(store, tmp_path)
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert "Fablabs et makerspaces" in page and "Fablab des Fabriques" in page
    points = [s.symbol for s in REGISTRY.values() if s.public and s.geometry == "Point"]
    assert points.count("pentagon") == 1  # no other point layer has its symbol
    assert '"symbol":"pentagon","shape":[[0,-1.1]' in page
    embed = client.get("/embed?layers=fablabs").get_data(as_text=True)
    assert "Makerspace Bouloie" in embed


def test_a_new_layer_is_listed_and_described(client, store, fablabs, tmp_path):
    imported(store, tmp_path)
    listed = client.get("/list?layer=fablabs&lang=en").get_data(as_text=True)
    assert "Fablab des Fabriques" in listed and "Makerspace Bouloie" in listed
    data = client.get("/data?lang=en").get_data(as_text=True)
    assert "Fablabs and makerspaces" in data
    assert "Creative Commons Attribution 4.0" in data
    assert "French fablab network, 2026 directory" in data
    assert "/download/fablabs.geojson" in data


def test_a_new_layer_is_served_by_the_ogc_api(client, store, fablabs, tmp_path):
    imported(store, tmp_path)
    collections = client.get("/ogc/collections?f=json").json
    assert "fablabs" in [c["id"] for c in collections["collections"]]
    items = client.get("/ogc/collections/fablabs/items?f=json").json
    assert sorted(f["properties"]["name"] for f in items["features"]) == [
        "Fablab des Fabriques",
        "Makerspace Bouloie",
    ]


def test_a_new_layer_downloads_with_its_licence(client, store, fablabs, tmp_path):
    imported(store, tmp_path)
    got = client.get("/download/fablabs.geojson?lang=fr")
    assert got.status_code == 200
    collection = json.loads(got.data)
    assert len(collection["features"]) == 2
    meta = collection["metadata"]
    assert meta["licence"]["id"] == "cc-by-4.0"
    assert meta["attribution"] == "Réseau français des fablabs, annuaire 2026"
    gpkg = client.get("/download/fablabs.gpkg")
    assert gpkg.status_code == 200 and gpkg.data[:16] == b"SQLite format 3\x00"


def test_an_empty_new_layer_answers_everywhere(client, fablabs):
    """Registered, nothing imported yet: every page answers, none is a 404."""
    for path in (
        "/",
        "/embed?layers=fablabs",
        "/list?layer=fablabs",
        "/data",
        "/ogc/collections/fablabs",
        "/ogc/collections/fablabs/items?f=json",
        "/download/fablabs.csv",
        "/api/layers/fablabs.geojson",
    ):
        assert client.get(path).status_code == 200, path
