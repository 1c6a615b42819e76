"""Importers on real published files (issue 20, items 6 to 12): ONISEP's
Idéo-Structures 2022 (tests/samples/onisep), the MESR 2024 export
(tests/samples/mesr), an Annuaire of Ille-et-Vilaine (tests/samples/annuaire)
and Lyon's IRIS with their own column names
(tests/samples/lyon). Each sample's README says where it comes from."""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from mapapp.cli import main
from mapapp.config import load_settings
from mapapp.errors import BadRequest
from mapapp.importers import read_report, run_import
from mapapp.importers.reading import ImportFileError
from mapapp.layers import REGISTRY, to_frame
from mapapp.site import Site
from mapapp.store.geopackage import GeoPackageStore

SAMPLES = Path(__file__).parent.parent / "samples"
ONISEP = SAMPLES / "onisep" / "ideo-structures-enseignement-superieur-2022-sample.csv"
MESR = (
    SAMPLES
    / "mesr"
    / "fr-esr-principaux-etablissements-enseignement-superieur-2024-sample.csv"
)
ANNUAIRE_35 = SAMPLES / "annuaire" / "fr-en-annuaire-education-35-2023-sample.csv"
LYON_GEOJSON = SAMPLES / "lyon" / "iris-lyon-1er-2e.geojson"
LYON_SHAPEFILE = SAMPLES / "lyon" / "iris-lyon-1er-2e-shp.zip"
ONISEP_PAGE = (
    "https://opendata.onisep.fr/data/5fa586da5c4b6/"
    "2-ideo-structures-d-enseignement-superieur.htm"
)
LYON_MAP = {"zone_code": "id", "zone_name": "libiris", "commune_code": "com"}


def onisep_rows() -> pd.DataFrame:
    return pd.read_csv(ONISEP, sep=";", dtype=str, encoding="utf-8-sig")


def metropolis_uais(store) -> set[str]:
    rows = onisep_rows()
    return set(rows[rows["commune (COG)"].isin(store.area.communes)]["code UAI"])


# --- item 6: ONISEP's file imports the metropolis' establishments -----------------


def test_onisep_keeps_the_metropolis_establishments_with_https_links(store):
    report = read_report(store, "education", ONISEP, edition="2022-03")
    frame = report.frame.set_index("id")
    assert report.rows_read == 318 and report.kept == 39
    assert set(frame.index) == metropolis_uais(store)
    assert all(
        w.startswith("https://www.onisep.fr/http/redirection/etablissement/")
        for w in frame["website"]
    )
    assert not any("web address" in reason for reason in report.dropped)
    assert any("39 web address(es) written without" in n for n in report.notes)


def test_an_unreadable_optional_value_is_left_out_never_the_row(store, tmp_path):
    """The real header and rows, one link made unreadable: that establishment is
    kept without its link, and the report says so with the value."""
    text = ONISEP.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    ensmm = next(r for r in rows if r[0] == "0250082D")
    ensmm[header.index("URL et ID Onisep")] = "javascript:alert(1)"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(rows)
    path = tmp_path / "onisep.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    report = read_report(store, "education", path, edition="2022-03")
    frame = report.frame.set_index("id")
    assert report.kept == 39 and "0250082D" in frame.index
    assert pd.isna(frame.loc["0250082D", "website"])
    reason = "website: not a web address (http:// or https://)"
    assert report.emptied == {reason: 1}
    assert "javascript:alert(1)" in report.emptied_examples[reason][0]


# --- item 7: reasons are codes, counted by code, with examples -------------------


def test_reasons_on_the_real_file_are_counted_by_code_with_examples(store):
    report = read_report(store, "education", ONISEP, edition="2022-03")
    assert report.dropped == {
        "outside the chosen communes": 276,
        "several official lines for one UAI, merged into one establishment": 3,
    }
    outside = report.codes["outside the chosen communes"]
    assert outside["code"] == "outside_communes"
    assert len(report.examples["outside the chosen communes"]) == 3
    lines = report.lines()
    assert "  dropped 276: outside the chosen communes" in lines


# --- item 12: the first reason a row meets counts, its place first ---------------


def test_an_annuaire_of_another_departement_is_outside_first(store):
    """Ille-et-Vilaine's Annuaire: every row is outside the chosen communes (most
    of them are not open lycées either: that reason came first before)."""
    report = read_report(store, "education", ANNUAIRE_35)
    assert report.rows_read == 200
    assert report.dropped == {"outside the chosen communes": 200}
    with pytest.raises(BadRequest, match="200 outside the chosen communes"):
        run_import(store, "education", ANNUAIRE_35)


def test_the_same_annuaire_for_its_own_communes_keeps_its_open_lycees(tmp_path):
    rows = pd.read_csv(ANNUAIRE_35, sep=";", dtype=str, encoding="utf-8-sig")
    rennes = rows[rows["Code_commune"] == "35238"]
    box = (-1.80, 48.05, -1.60, 48.16)
    store = GeoPackageStore(tmp_path / "rennes.gpkg", box)
    store.create({name: to_frame([], spec) for name, spec in REGISTRY.items()})
    try:
        report = read_report(store, "education", ANNUAIRE_35, communes=["35238"])
        lycees = rennes[rennes["Type_etablissement"] == "Lycée"]
        assert report.kept == lycees["Identifiant_de_l_etablissement"].nunique()
        others = len(rennes) - len(lycees)
        assert report.dropped["not an open lycée (Annuaire: type or état)"] == others
        assert report.dropped["outside the chosen communes"] == 200 - len(rennes)
    finally:
        store.close()


def test_a_point_outside_the_area_is_dropped_for_its_place_not_a_field(store, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name;kind;status;longitude;latitude\nLoin;coworking;ouvert-ish;2.35;48.85\n",
        encoding="utf-8",
    )
    report = read_report(store, "generic", path, layer="coworking", source="x")
    assert list(report.dropped) == ["outside the study area"]


# --- items 8 and 10: provenance, and the merge with the shipped schools by UAI ---


def test_cli_import_of_onisep_merges_with_the_shipped_schools_by_uai(runner):
    before = runner.invoke(main, ["import", "education", str(ONISEP), "--dry-run"])
    assert before.exit_code == 0, before.output
    done = runner.invoke(
        main,
        ["import", "education", str(ONISEP), "--mode", "merge", "--edition", "2022-03"],
    )
    assert done.exit_code == 0, done.output
    assert "matched features already in the layer by uai" in done.output
    settings = load_settings(dict(os.environ))
    site = Site(settings)
    try:
        schools = site.store.read("schools")
        uais = schools["uai"].dropna()
        assert not uais.duplicated().any(), uais[uais.duplicated()].tolist()
        ufr = schools.set_index("id").loc["ufr-st"]
        # the shipped id and the hand-curated programmes stay; the file's values
        # and provenance come in
        assert ufr["uai"] == "0251291T"
        assert "Ingénierie systèmes et logiciels" in ufr["digital_programmes"]
        assert ufr["source"] == (
            "ONISEP, Idéo-Structures d'enseignement supérieur (2022-03)"
        )
        assert ufr["source_url"] == ONISEP_PAGE and ufr["licence"] == "odbl-1.0"
        assert ufr["website"].startswith("https://www.onisep.fr/")
        new = schools[schools["source_date"] == "2022-03"]
        assert len(new) >= 39
        assert set(new["uai"]) >= metropolis_uais(site.store)
    finally:
        site.close()


def test_mesr_features_are_dated_by_the_file_not_the_import(store, tmp_path):
    path = tmp_path / MESR.name
    shutil.copyfile(MESR, path)
    published = datetime(2024, 1, 10, 12, 0).timestamp()
    os.utime(path, (published, published))
    report = read_report(store, "education", path)
    frame = report.frame.set_index("id")
    assert set(frame.index) == {"0250082D", "0251215K"}
    row = frame.loc["0251215K"]
    assert row["source_date"] == "2024-01"
    assert row["source"].startswith(
        "Ministère de l'Enseignement supérieur et de la Recherche, "
    )
    assert row["source_url"].startswith("https://data.enseignementsup-recherche")
    assert row["licence"] == "lo-2.0"
    assert row["students"] > 20000  # the latest enrolment year of the export


# --- item 11: a city's own IRIS file, with a column mapping ----------------------


@pytest.fixture
def lyon_store(tmp_path):
    """A store whose study area covers Lyon, empty."""
    store = GeoPackageStore(tmp_path / "lyon.gpkg", (4.70, 45.60, 5.10, 45.90))
    store.create({name: to_frame([], spec) for name, spec in REGISTRY.items()})
    yield store
    store.close()


@pytest.mark.parametrize("sample", [LYON_GEOJSON, LYON_SHAPEFILE])
def test_lyon_iris_refused_without_a_mapping_with_the_columns(lyon_store, sample):
    with pytest.raises(ImportFileError) as refused:
        run_import(lyon_store, "zones", sample)
    message = refused.value.message
    assert "found objectid, id, dep, uu2010, com, libcom" in message
    assert "--map zone_code=COLUMN" in message


@pytest.mark.parametrize("sample", [LYON_GEOJSON, LYON_SHAPEFILE])
def test_lyon_iris_imported_with_a_column_mapping(lyon_store, sample):
    report = run_import(
        lyon_store, "zones", sample, mapping=LYON_MAP, source="Métropole de Lyon"
    )
    assert report.kept == 26 and report.written
    zones = lyon_store.read("zones").set_index("id")
    terreaux = zones.loc["iris-693810101"]
    assert terreaux["zone_code"] == "693810101" and terreaux["zone_kind"] == "iris"
    assert (
        terreaux["zone_name"] == "Terreaux-Bat-d-Argent"
        and terreaux["commune_code"] == "69381"
    )
    assert terreaux["source"].startswith("Métropole de Lyon (")
    # WGS84 whatever the file's CRS (the Shapefile is in Lambert-93)
    x0, y0, x1, y1 = zones.total_bounds
    assert 4.80 < x0 < x1 < 4.86 and 45.72 < y0 < y1 < 45.78


def test_cli_zones_with_map_and_a_bad_mapping(runner, tmp_path, monkeypatch):
    # a store of Lyon: its box as the study area, no seed layer
    monkeypatch.setenv("MAPAPP_STUDY_AREA", "4.70,45.60,5.10,45.90")
    (tmp_path / "no-seed").mkdir()
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "no-seed"))
    wrong = runner.invoke(
        main, ["import", "zones", str(LYON_GEOJSON), "--map", "zone_code=iris"]
    )
    assert wrong.exit_code == 1 and "no column 'iris'" in wrong.output
    bad_field = runner.invoke(
        main, ["import", "zones", str(LYON_GEOJSON), "--map", "population=p12_pop"]
    )
    assert bad_field.exit_code == 1 and "zones take zone_code" in bad_field.output
    args = ["import", "zones", str(LYON_GEOJSON), "--source", "Métropole de Lyon"]
    for field, column in LYON_MAP.items():
        args += ["--map", f"{field}={column}"]
    done = runner.invoke(main, args + ["--set", "zone_kind=iris"])
    assert done.exit_code == 0, done.output
    assert "26 kept" in done.output


def test_zones_set_takes_a_kind_only(lyon_store):
    with pytest.raises(BadRequest, match="one of iris, commune, quarter"):
        read_report(
            lyon_store,
            "zones",
            LYON_GEOJSON,
            mapping=LYON_MAP,
            defaults={"zone_kind": "arrondissement"},
        )


def test_a_second_merge_of_the_same_file_changes_nothing(store):
    first = run_import(store, "education", ONISEP, mode="merge", edition="2022-03")
    assert first.written
    count = len(store.read("schools"))
    again = run_import(store, "education", ONISEP, mode="merge", edition="2022-03")
    assert not again.written and len(store.read("schools")) == count
    uais = store.read("schools")["uai"].dropna()
    assert not uais.duplicated().any()
