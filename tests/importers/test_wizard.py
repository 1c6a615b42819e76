"""The import wizard's core: the kind recognised from the header as the importers
check it, previews, the layer and column mapping suggested from French and English
names, and the uploads kept in one place."""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from mapapp.importers import run_import, uploads
from mapapp.importers.wizard import (
    WizardProblem,
    import_options,
    inspect_file,
    kind_of,
    preview,
    suggest_layer,
    suggest_mapping,
)
from tests.importers import fixtures

FRENCH_SITES = (
    "nom;adresse;statut;type;postes;longitude;latitude;site web\n"
    "La Fabrique;12 rue Battant, Besançon;Ouvert;Espace de coworking;24;6.0195;47.2405;"
    "https://example.org\n"
    "Tiers-lieu des Prés;3 rue de Vesoul;Programmé;Tiers-lieu;;6.03;47.25;\n"
)


def test_official_files_are_recognised_from_their_header(tmp_path):
    assert inspect_file(fixtures.sirene(tmp_path)).kind == "sirene"
    assert inspect_file(fixtures.annuaire(tmp_path)).variant == "annuaire"
    summary = inspect_file(fixtures.cartefibre(tmp_path))
    assert (summary.kind, summary.variant) == ("fibre", "cartefibre")


def test_a_french_csv_is_generic_with_coworking_suggested(tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_text(FRENCH_SITES, encoding="utf-8")
    summary = inspect_file(path)
    assert summary.kind == "generic" and summary.layer == "coworking"
    assert summary.lonlat == ("longitude", "latitude")
    assert summary.samples["nom"] == ["La Fabrique", "Tiers-lieu des Prés"]
    assert summary.preview[0]["postes"] == "24"
    mapping = suggest_mapping("coworking", summary.columns)
    assert mapping["name"] == "nom" and mapping["desks"] == "postes"
    assert mapping["status"] == "statut" and mapping["website"] == "site web"
    assert mapping["address"] == "adresse" and mapping["kind"] == "type"


def test_english_names_are_suggested_too():
    mapping = suggest_mapping("coworking", ["Name", "Desks", "Operator", "lat", "lon"])
    assert mapping == {"name": "Name", "desks": "Desks", "operator": "Operator"}


def test_polygons_go_to_zones_or_perimeters():
    assert kind_of(["CODE_IRIS", "NOM_IRIS"], "Polygon") == ("zones", "iris")
    assert kind_of(["code", "nom"], "Polygon") == ("zones", "communes")
    assert kind_of(["nom", "statut"], "Polygon") == ("generic", None)
    assert suggest_layer(["nom", "statut"], "Polygon") == "perimeters"
    assert suggest_layer(["nom", "uai", "eleves"], "Point") == "schools"


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "a.csv", "empty"),
        (b"PK\x03\x04zip", "a.csv", "archive_unreadable"),
        (b"\n\nx", "a.csv", "no_header"),
        (b"a b c\n1 2 3\n", "a.csv", "single_column"),
        (b"nom;statut\nA;open\n", "a.csv", "no_coordinates"),
        (b"a;A;b\n1;2;3\n", "a.csv", "duplicate_columns"),
        (b"{not json", "a.geojson", "unreadable_vector"),
        (b'<OGRVRTDataSource><OGRVRTLayer name="x">', "a.geojson", "unreadable_vector"),
        (b"<?xml version='1.0'?><gml/>", "a.gpkg", "unreadable_vector"),
        (b"hello", "a.xlsx", "unknown_format"),
    ],
)
def test_files_that_cannot_be_imported_name_the_reason(tmp_path, content, name, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WizardProblem) as caught:
        inspect_file(path)
    assert caught.value.code == code


def test_official_files_may_come_gzipped_or_zipped(tmp_path):
    import gzip
    import zipfile

    plain = fixtures.sirene(tmp_path)
    gz = tmp_path / "StockEtablissement.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    zipped = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(plain, "StockEtablissement_utf8.csv")
    assert inspect_file(gz).kind == inspect_file(zipped).kind == "sirene"
    own = tmp_path / "lieux.csv.gz"
    own.write_bytes(gzip.compress(FRENCH_SITES.encode()))
    with pytest.raises(WizardProblem) as caught:
        inspect_file(own)
    assert caught.value.code == "archive"


def test_options_of_a_mapped_import_run_it(store, tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_text(FRENCH_SITES, encoding="utf-8")
    summary = inspect_file(path)
    kind, options = import_options(
        summary,
        "coworking",
        {
            "mapping": suggest_mapping("coworking", summary.columns),
            "source": "Recensement des tiers-lieux 2026",
            "edition": "2026-09",
            "publish": False,
        },
    )
    report = run_import(store, kind, path, **options)
    assert report.kept == 2 and report.written
    site = store.get("coworking", "la-fabrique")["properties"]
    assert site["status"] == "open" and site["kind"] == "coworking"  # from labels
    assert site["published"] is False and site["source_date"] == "2026-09"
    assert site["source"] == "Recensement des tiers-lieux 2026"


def test_validation_drops_keep_their_code_for_translation(store, tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_text(FRENCH_SITES, encoding="utf-8")
    report = preview(store, "generic", path, layer="coworking", mapping={"name": "nom"})
    assert report.kept == 0
    coded = next(iter(report.codes.values()))
    assert coded["code"] == "required" and coded["field"] in ("kind", "status")
    assert coded["labels"] == ["La Fabrique", "Tiers-lieu des Prés"]


def test_uploads_keep_the_original_name_and_belong_to_their_owner(tmp_path):
    up = uploads.save(
        tmp_path, io.BytesIO(b"a;b\n"), "../../etc/Mes lieux.csv", "root", 1
    )
    assert up.path.name == "Mes lieux.csv" and up.path.parent.parent == tmp_path
    again = uploads.load(tmp_path, up.token, "root")
    assert again.path.read_bytes() == b"a;b\n"
    with pytest.raises(uploads.Expired):
        uploads.load(tmp_path, up.token, "someone-else")
    uploads.discard(again)
    with pytest.raises(uploads.Expired):
        uploads.load(tmp_path, up.token, "root")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["state.json", ".state.json", "..", ""])
def test_an_upload_cannot_take_the_place_of_the_state(tmp_path, name):
    up = uploads.save(tmp_path, io.BytesIO(b"x;y\n"), name, "root", 1)
    assert not up.path.name.startswith(".") and up.path.read_bytes() == b"x;y\n"
    assert uploads.load(tmp_path, up.token, "root").path == up.path


def test_too_large_uploads_leave_nothing(tmp_path):
    with pytest.raises(uploads.TooLarge):
        uploads.save(tmp_path, io.BytesIO(b"x" * (1024 * 1024 + 1)), "big.csv", "r", 1)
    assert list(tmp_path.iterdir()) == []


def test_old_uploads_are_purged(tmp_path):
    up = uploads.save(tmp_path, io.BytesIO(b"a"), "a.csv", "root", 1)
    state = json.loads((up.folder / uploads.STATE).read_text())
    state["created"] = time.time() - uploads.MAX_AGE_S - 1
    (up.folder / uploads.STATE).write_text(json.dumps(state))
    with pytest.raises(uploads.Expired):
        uploads.load(tmp_path, up.token, "root")
    other = uploads.save(tmp_path, io.BytesIO(b"b"), "b.csv", "root", 1)
    past = time.time() - uploads.MAX_AGE_S - 10
    os.utime(other.folder, (past, past))
    assert uploads.purge(tmp_path) == 1 and list(tmp_path.iterdir()) == []


# --- issue 20, item 11: a city's own IRIS file, mapped in the wizard --------------


@pytest.mark.parametrize(
    "sample", ["iris-lyon-1er-2e.geojson", "iris-lyon-1er-2e-shp.zip"]
)
def test_a_city_iris_file_is_mapped_and_read_by_the_zones_importer(sample, tmp_path):
    from pathlib import Path

    from mapapp.layers import REGISTRY, to_frame
    from mapapp.store.geopackage import GeoPackageStore

    path = Path(__file__).parent.parent / "samples" / "lyon" / sample
    summary = inspect_file(path)
    assert summary.kind == "generic" and summary.geometry == "Polygon"
    assert summary.layer == "zones"
    mapping = suggest_mapping("zones", summary.columns)
    assert mapping == {"zone_code": "id", "zone_name": "libiris", "commune_code": "com"}
    kind, options = import_options(
        summary,
        "zones",
        {
            "mapping": mapping,
            "defaults": {"zone_name": "ignored", "zone_kind": ""},
            "source": "Métropole de Lyon",
            "edition": "2017-12",
            "mode": "replace",
        },
    )
    assert kind == "zones" and options["mapping"] == mapping
    assert options["defaults"] == {}  # only the kind may be one value for all
    store = GeoPackageStore(tmp_path / "lyon.gpkg", (4.70, 45.60, 5.10, 45.90))
    store.create({name: to_frame([], spec) for name, spec in REGISTRY.items()})
    try:
        report = run_import(store, kind, path, **options)
        assert report.kept == 26 and report.written
        zone = store.get("zones", "iris-693810101")["properties"]
        assert zone["zone_name"] == "Terreaux-Bat-d-Argent"
        assert zone["source"] == "Métropole de Lyon (2017-12)"
    finally:
        store.close()
