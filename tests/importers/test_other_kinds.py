"""Education, fibre, zones and generic imports, and every malformed variant."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mapapp.errors import BadRequest
from mapapp.importers import run_import
from mapapp.importers.reading import ImportFileError
from tests.importers import fixtures


@pytest.mark.parametrize("lower", [False, True])
def test_annuaire_both_header_cases(store, tmp_path, lower):
    report = run_import(store, "education", fixtures.annuaire(tmp_path, lower=lower))
    schools = store.read("schools").set_index("id")
    assert set(schools.index) == {"0250011B", "0250012C"}
    assert schools.loc["0250011B", "students"] == 2000
    assert schools.loc["0250011B", "kind"] == "lycee"
    assert "vérifier" in schools.loc["0250011B", "digital_programmes"]
    assert schools.loc["0250012C"].geometry.y == pytest.approx(47.25, abs=0.02)  # L93
    assert report.dropped["outside the chosen communes"] == 1
    assert report.dropped["not an open lycée (Annuaire: type or état)"] == 2


@pytest.mark.parametrize("version", [1, 2])
def test_onisep_both_header_versions(store, tmp_path, version):
    run_import(store, "education", fixtures.onisep(tmp_path, version))
    schools = store.read("schools").set_index("id")
    assert schools.loc["0251215K", "kind"] == "engineering_school"
    assert schools.loc["0251397G", "kind"] == "iut"


def test_cartefibre_buildings_aggregate_into_the_quarters(store, tmp_path):
    report = run_import(
        store, "fibre", fixtures.cartefibre(tmp_path), edition="2026-06"
    )
    fibre = store.read("fibre").set_index("zone_code")
    centre = fibre.loc["25056-Q01"]
    assert centre["premises"] == 9  # 1 + 6.5 + 1, rounded
    assert centre["ftth_premises"] == 8 and centre["coverage"] == pytest.approx(
        0.889, abs=1e-3
    )
    assert not centre["illustrative"] and centre["source"].startswith("ARCEP")
    assert fibre.loc["25056-Q09", "premises"] == 24  # 23.5
    assert report.dropped["building outside every zone"] == 1
    assert "zone without any building" in report.dropped


def test_commune_contours_then_mci_commune_statistics(store, tmp_path):
    contours = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "25056", "nom": "Besançon"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [5.95, 47.21],
                            [6.08, 47.21],
                            [6.08, 47.31],
                            [5.95, 47.31],
                            [5.95, 47.21],
                        ]
                    ],
                },
            },
            {
                "type": "Feature",
                "properties": {"code": "75056", "nom": "Paris"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]]
                    ],
                },
            },
        ],
    }
    path = tmp_path / "communes.geojson"
    path.write_text(json.dumps(contours))
    zones = run_import(store, "zones", path)
    assert zones.kept == 1 and zones.dropped["outside the study area"] == 1
    stats = tmp_path / "commune_techno.csv"
    stats.write_text(
        "code_insee;nom_com;code_dep;code_reg;type;date;nbr;elig_ftth\n"
        "25056;Besançon;25;27;all;2026-06;83400;74500\n"
        "39300;Lons;39;27;all;2026-06;10000;9000\n",
        encoding="utf-8",
    )
    report = run_import(store, "fibre", stats, edition="2026-06")
    fibre = store.read("fibre")
    assert len(fibre) == 1 and fibre.iloc[0]["coverage"] == pytest.approx(
        0.893, abs=1e-3
    )
    assert report.dropped["commune without contour (outside the study area?)"] == 1


def test_iris_contours_in_lambert93_are_reprojected(store, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    iris = gpd.GeoDataFrame(
        {
            "INSEE_COM": ["25056"],
            "NOM_COM": ["Besançon"],
            "IRIS": ["0101"],
            "CODE_IRIS": ["250560101"],
            "NOM_IRIS": ["Centre"],
            "TYP_IRIS": ["H"],
        },
        geometry=[box(928000, 6686000, 929000, 6687000)],
        crs=2154,
    )
    path = tmp_path / "iris.gpkg"
    iris.to_file(path)
    run_import(store, "zones", path)
    zone = store.read("zones").iloc[0]
    assert zone["zone_kind"] == "iris" and zone["zone_code"] == "250560101"
    assert 6.0 < zone.geometry.centroid.x < 6.05


def test_generic_csv_with_a_column_mapping(store, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "nom;statut;lon;lat;postes\n"
        "Coworking A;open;6.02;47.24;12\n"
        "Coworking B;planned;6.03;47.25;x\n"
        "Coworking C;open;47.25;6.03;5\n",
        encoding="utf-8",
    )
    report = run_import(
        store,
        "generic",
        path,
        layer="coworking",
        source="Enquête 2026",
        mapping={"name": "nom", "status": "statut", "desks": "postes"},
        defaults={"kind": "coworking", "published": "1"},
        mode="merge",
    )
    cow = store.read("coworking").set_index("id")
    assert "coworking-a" in cow.index and cow.loc["coworking-a", "desks"] == 12
    assert "le-numerique" in cow.index  # merged, not replaced
    assert report.dropped["latitude and longitude swapped"] == 1
    # issue 20 item 6: an unreadable optional value is left out, the row kept
    assert any(k.startswith("desks") for k in report.emptied)
    assert "coworking-b" in cow.index and pd.isna(cow.loc["coworking-b", "desks"])


@pytest.mark.parametrize(
    "content,words",
    [
        (b"", "empty"),
        (b"\n\n", "line 1 is empty"),
        (b"siret|siren|etat\n1|2|3\n", "missing column"),
        (b"a b c\n1 2 3\n", "single column"),
        (b"PK\x03\x04rest-of-zip", "damaged or truncated"),
    ],
)
def test_malformed_files_get_a_specific_error_and_change_nothing(
    store, tmp_path, content, words
):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    version = store.data_version()
    with pytest.raises(ImportFileError, match=words):
        run_import(store, "sirene", path)
    assert store.data_version() == version and store.count("companies") == 22


def test_a_file_of_another_kind_is_named(store, tmp_path):
    with pytest.raises(ImportFileError, match="looks like a SIRENE file"):
        run_import(store, "education", fixtures.sirene(tmp_path))
    with pytest.raises(ImportFileError, match="not an ARCEP file"):
        run_import(store, "fibre", fixtures.annuaire(tmp_path))


def test_undecodable_byte_is_located(tmp_path):
    from mapapp.importers.reading import sniff

    path = tmp_path / "latin.csv"
    path.write_bytes(b"siret,nom\n1,ok\n2,caf\xe9\n")
    with pytest.raises(ImportFileError, match=r"line 3, byte 0xe9"):
        sniff(path, [["siret"]], "test", strict_encoding=True)


def test_unknown_kind_and_nothing_to_import(store, tmp_path):
    with pytest.raises(BadRequest, match="unknown import kind"):
        run_import(store, "cadastre", tmp_path / "x.csv")
    path = tmp_path / "empty-result.csv"
    fixtures.write_csv(
        path, fixtures.SIRENE_COLUMNS, [fixtures.sirene_row("81234567800045", etat="F")]
    )
    with pytest.raises(BadRequest, match="no row could be imported"):
        run_import(store, "sirene", path)
    assert store.count("companies") == 22


def test_cp1252_file_is_read_and_reported(store, tmp_path):
    report = run_import(
        store, "education", fixtures.annuaire(tmp_path, encoding="cp1252"), dry_run=True
    )
    assert report.kept == 2
    note = next(n for n in report.notes if "not UTF-8" in n)
    assert "line 2" in note and "cp1252" in note
    schools = report.frame.set_index("id")
    assert schools.loc["0250011B", "address"].startswith("1 rue Labbé")
