"""The Base Adresse Nationale importer: streamed, gzip, study-area communes only."""

from __future__ import annotations

import gzip
import re

import pytest
from click.testing import CliRunner

from mapapp.importers import run_import
from mapapp.importers.reading import ImportFileError
from tests.importers import fixtures


def test_gzip_file_keeps_the_study_area_communes(store, tmp_path):
    path = fixtures.write_ban(tmp_path / "adresses-25.csv.gz")
    before = store.data_version()
    report = run_import(store, "addresses", path, edition="2026-11-02")
    assert report.written and report.data_version == before + 1
    assert report.rows_read == 7 and report.kept == 5
    assert report.dropped == {"commune outside the study area": 2}
    assert store.address_count() == 5
    communes = {c["code"]: c for c in store.address_communes()}
    assert set(communes) == {"25056", "25212"}
    assert communes["25056"]["count"] == 4
    hits = store.search_addresses("16 route de gray")
    assert [h["label"] for h in hits] == ["16 bis Route de Gray, 25000 Besançon"]
    assert hits[0]["source_date"] == "2026-11-02"


def test_plain_csv_and_explicit_communes(store, tmp_path):
    path = fixtures.write_ban(tmp_path / "adresses-25.csv", gz=False)
    report = run_import(store, "addresses", path, communes=["25212", "25462"])
    # École-Valentin is kept; Pontarlier, asked for but outside the study area, is not
    assert report.kept == 1 and store.address_count() == 1
    assert {c["code"] for c in store.address_communes()} == {"25212"}
    assert report.dropped == {
        "commune outside the study area": 4,
        "commune asked for, but outside the study area": 2,
    }


def test_search_needs_every_word_and_the_whole_number(store, tmp_path):
    run_import(store, "addresses", fixtures.write_ban(tmp_path / "a.csv.gz"))
    labels = [h["label"] for h in store.search_addresses("luxembourg")]
    assert labels == [
        "12 Rue du Luxembourg, 25000 Besançon",
        "14 Rue du Luxembourg, 25000 Besançon",
    ]
    first = store.search_addresses("14 rue du luxemb")[0]["label"]
    assert first.startswith("14 Rue du Luxembourg")
    assert store.search_addresses("1 rue du luxembourg") == []  # 1 is not 12 or 14
    assert store.search_addresses("ecole valentin mairie")[0]["code_insee"] == "25212"
    assert store.search_addresses("") == []


def test_reimport_replaces_every_address(store, tmp_path):
    run_import(store, "addresses", fixtures.write_ban(tmp_path / "a.csv.gz"))
    fewer = fixtures.BAN_ROWS[:1]
    run_import(store, "addresses", fixtures.write_ban(tmp_path / "b.csv.gz", fewer))
    assert store.address_count() == 1


def test_dry_run_writes_nothing(store, tmp_path):
    before = store.data_version()
    path = fixtures.write_ban(tmp_path / "a.csv.gz")
    report = run_import(store, "addresses", path, dry_run=True)
    assert report.kept == 5 and not report.written
    assert store.data_version() == before and store.address_count() == 0


def test_bad_rows_are_counted_with_their_reason(store, tmp_path):
    rows = fixtures.BAN_ROWS[:2] + [
        fixtures.ban_row("25056_x_00001", "1", "Rue X", "25056", "Besançon", "", ""),
        fixtures.ban_row("25056_x_00002", "2", "", "25056", "Besançon", 6.0, 47.2),
        fixtures.BAN_ROWS[0],
    ]
    report = run_import(store, "addresses", fixtures.write_ban(tmp_path / "a.gz", rows))
    assert report.kept == 2
    assert report.dropped["no coordinates"] == 1
    assert report.dropped["no street, commune or identifier"] == 1
    assert report.dropped["duplicate identifier (the first row is kept)"] == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        # mtime=0: the same bytes in every test worker (the ids are collected twice)
        (gzip.compress(b"a;b;c\n1;2;3\n", mtime=0), "missing column(s) id, numero"),
        (gzip.compress("id;numero\n".encode("utf-16"), mtime=0), "not UTF-8"),
    ],
    ids=["empty", "broken gzip", "other columns", "utf-16"],
)
def test_unreadable_files_change_nothing(store, tmp_path, content, message):
    path = tmp_path / "adresses-25.csv.gz"
    path.write_bytes(content)
    before = store.data_version()
    with pytest.raises(ImportFileError, match=re.escape(message)):
        run_import(store, "addresses", path)
    assert store.data_version() == before and store.address_count() == 0


def test_truncated_gzip_is_refused_and_nothing_is_written(store, tmp_path):
    path = fixtures.write_ban(tmp_path / "a.csv.gz")
    run_import(store, "addresses", path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFileError, match="damaged gzip"):
        run_import(store, "addresses", path)
    assert store.address_count() == 5  # the previous import stays whole


def test_no_address_in_the_area_writes_nothing(store, tmp_path):
    rows = fixtures.BAN_ROWS[5:]
    path = fixtures.write_ban(tmp_path / "a.csv.gz", rows)
    with pytest.raises(ImportFileError, match="no address of the study area"):
        run_import(store, "addresses", path)


def test_cli_imports_addresses(runner: CliRunner, tmp_path):
    from mapapp.cli import main

    assert runner.invoke(main, ["init"]).exit_code == 0
    path = fixtures.write_ban(tmp_path / "adresses-25.csv.gz")
    result = runner.invoke(main, ["import", "addresses", str(path)])
    assert result.exit_code == 0, result.output
    assert "7 rows read, 5 kept, 2 dropped" in result.output
    assert "2 commune(s) kept: 25056, 25212" in result.output


# Two lines of the Base Adresse Nationale's adresses-01.csv in its current 23-column
# layout, verbatim as quoted in the public repository CharlesPhonepraseuth/etl-hotel
# (app/docs/technical-doc.md): a commune of the Ain, far from Besançon.
BAN_01 = """\
id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles
01002_w4ld4h_00006;;6;;Place du Pese Lait;01640;01002;L'Abergement-de-Varey;;;887643.67;6547960.53;5.425179;46.005447;entrée;;;ABERGEMENT-DE-VAREY (L );PLACE DU PESE LAIT;commune;commune;1;01002000AE0005
01002_6zbsct_01082;;1082;;Chemin de la Ferm de la Montagne;01640;01002;L'Abergement-de-Varey;;;888177.96;6546947.6;5.431677;45.996182;entrée;;;ABERGEMENT-DE-VAREY (L );CHEMIN DE LA FERM DE LA MONTAGNE;commune;commune;1;010020000B0888
"""  # noqa: E501


def test_a_commune_asked_for_outside_the_study_area_is_not_imported(store, tmp_path):
    path = tmp_path / "adresses-01.csv"
    path.write_text(BAN_01, encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        run_import(store, "addresses", path, communes=["01002"])
    assert (
        "no address of the study area "
        "(2 dropped: 2 commune asked for, but outside the study area)"
    ) in refused.value.message
    assert store.address_count() == 0
