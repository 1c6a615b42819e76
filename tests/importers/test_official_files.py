"""Importers on files as the publishers ship them (issue 14): compressed files,
merge mode, edition, dry run, MESR labels and classification, several lines per
UAI, the SIRENE creation date."""

from __future__ import annotations

import gzip
import json
import zipfile

import pytest

from mapapp.cli import main
from mapapp.importers import run_import
from mapapp.importers.education import kind_of
from mapapp.importers.reading import ImportFileError
from tests.importers import fixtures

# The MESR export "Principaux établissements d'enseignement supérieur" with labels as
# headers: the first 48 of its 97 columns and two of its enrolment columns, verbatim,
# as seen in the 2024 edition
# (data.enseignementsup-recherche.gouv.fr, dataset
# fr-esr-principaux-etablissements-enseignement-superieur, copy in the public
# repository juliengossa/kpiESR, dataESR/). The rows are made for the tests.
MESR_LABELS = (
    "identifiant interne;libellé;nom court;sigle;type d'établissement;"
    "typologie d'universités et assimilés;secteur d'établissement;"
    "vague contractuelle;localisation;site internet;géolocalisation;"
    "uai - identifiant;anciens codes uai;siret;siren;rna;Identifiant wikidata;"
    "Elément wikidata;identifiant_idref;Identifiant ETER;Identifiant ROR;"
    "Elément ROR;Identifiant PIC;Identifiant OrgRef;Identifiant ISNI;Elément ISNI;"
    "Elément Funding Data;date_creation;texte_de_ref_creation_lib;"
    "texte_de_ref_creation;Code commune;Commune;Code unité urbaine;Unité urbaine;"
    "Code département;Département;Code académie;Académie;Code région;Région;"
    "Ancien code région;Ancienne région;Mention distribution;Adresse;Lieu dit;"
    "Boite postale;Code postal;Localité;"
    # …and, further on, one column of enrolled students per academic year
    "Effectifs d'étudiants inscrits 2021-22;Effectifs d'étudiants inscrits 2022-23"
).split(";")


def mesr_row(**values) -> list[str]:
    row = dict.fromkeys(MESR_LABELS, "")
    row.update(values)
    return [row[h] for h in MESR_LABELS]


def mesr(tmp):
    rows = [
        mesr_row(
            **{
                "libellé": "École nationale supérieure de mécanique et des "
                "microtechniques",
                "sigle": "ENSMM",
                "type d'établissement": "École",
                "secteur d'établissement": "public",
                "site internet": "https://www.ens2m.fr/",
                "géolocalisation": "47.25112, 5.99307",
                "uai - identifiant": "0250082D",
                "Code commune": "25056",
                "Commune": "Besançon",
                "Adresse": "26 rue de l'Épitaphe",
                "Code postal": "25030",
                "Effectifs d'étudiants inscrits 2021-22": "779.0",
                "Effectifs d'étudiants inscrits 2022-23": "759.0",
            }
        ),
        mesr_row(
            **{
                "libellé": "École privée du numérique",
                "type d'établissement": "École",
                "secteur d'établissement": "privé",
                "géolocalisation": "47.24, 6.02",
                "uai - identifiant": "0251111A;0252222B",
                "Code commune": "25056",
            }
        ),
        mesr_row(),  # the export's empty lines
    ]
    return fixtures.write_csv(
        tmp / "fr-esr-principaux-etablissements-enseignement-superieur.csv",
        MESR_LABELS,
        rows,
        sep=";",
    )


def test_mesr_labels_classification_sector_url_and_uais(store, tmp_path):
    report = run_import(store, "education", mesr(tmp_path), edition="2026-09")
    schools = store.read("schools").set_index("id")
    ensmm = schools.loc["0250082D"]
    assert ensmm["kind"] == "engineering_school"  # "École" + its name
    assert ensmm["website"] == "https://www.ens2m.fr/"
    assert ensmm["address"].startswith("26 rue de l'Épitaphe")
    assert ensmm.geometry.y == pytest.approx(47.25112)
    private = schools.loc["0251111A"]
    assert private["public_private"] == "private"
    assert private["uai"] == "0251111A, 0252222B"
    assert report.dropped["neither UAI nor name (an empty or unnamed line)"] == 1
    assert ensmm["source_date"] == "2026-09"  # the edition, not the import month
    assert ensmm["students"] == 759  # the latest year's enrolment


def test_merge_mode_keeps_the_annuaire_and_the_mesr(store, tmp_path):
    run_import(store, "education", fixtures.annuaire(tmp_path))
    report = run_import(store, "education", mesr(tmp_path), mode="merge")
    assert report.mode == "merge"
    ids = set(store.read("schools")["id"])
    assert {"0250011B", "0250082D"} <= ids  # the first file's lycée is kept


def test_several_lines_for_one_uai_make_one_establishment(store, tmp_path):
    rows = [
        fixtures.annuaire_row("0250011B", "Lycée polyvalent Jules Haag"),
        fixtures.annuaire_row("0250011B", "Lycée professionnel Jules Haag"),
    ]
    header = fixtures.ANNUAIRE_HEADER
    rows[0][header.index("Voie_generale")] = "1"
    rows[0][header.index("libelle_nature")] = "LYCEE POLYVALENT"
    rows[1][header.index("Voie_professionnelle")] = "1"
    rows[1][header.index("libelle_nature")] = "LYCEE PROFESSIONNEL"
    rows[1][header.index("Web")] = "https://jules-haag.example"
    path = fixtures.write_csv(tmp_path / "annuaire.csv", header, rows, sep=";")
    report = run_import(store, "education", path)
    schools = store.read("schools").set_index("id")
    haag = schools.loc["0250011B"]
    assert len(schools) == 1 and haag["name"] == "Lycée polyvalent Jules Haag"
    assert "LYCEE POLYVALENT ; LYCEE PROFESSIONNEL" in haag["digital_programmes"]
    assert haag["website"] == "https://jules-haag.example"  # from the second line
    assert "several official lines for one UAI" in " ".join(report.dropped)


def test_sirene_keeps_the_creation_date_and_the_register_headcount(store, tmp_path):
    run_import(store, "sirene", fixtures.sirene(tmp_path), edition="2026-10")
    row = store.read("companies").set_index("id").loc["81234567800011"]
    assert row["creation_date"] == "2015-03-01"
    assert row["headcount_source"] == "register" and row["headcount_date"] == "2023"
    assert row["status"] == "active"


def test_gzip_and_zip_are_read_as_published(store, tmp_path):
    plain = fixtures.sirene(tmp_path)
    gz = tmp_path / "StockEtablissement_utf8.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    zipped = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("LISEZMOI.txt", "")
        z.write(plain, "StockEtablissement_utf8.csv")
    expected = run_import(store, "sirene", plain, dry_run=True).kept
    assert run_import(store, "sirene", gz, dry_run=True).kept == expected == 3
    report = run_import(store, "sirene", zipped, dry_run=True)
    assert report.kept == 3
    assert report.file == "StockEtablissement_utf8.zip (StockEtablissement_utf8.csv)"


def test_a_truncated_gzip_is_named(store, tmp_path):
    gz = tmp_path / "geo_siret_25.csv.gz"
    body = gzip.compress(fixtures.sirene(tmp_path).read_bytes() * 50)
    gz.write_bytes(body[: len(body) // 2])
    with pytest.raises(ImportFileError, match="damaged or truncated"):
        run_import(store, "sirene", gz)


def test_dry_run_exits_like_the_real_run(runner, tmp_path):
    path = tmp_path / "closed.csv"
    fixtures.write_csv(
        path, fixtures.SIRENE_COLUMNS, [fixtures.sirene_row("81234567800045", etat="F")]
    )
    dry = runner.invoke(main, ["import", "sirene", str(path), "--dry-run"])
    real = runner.invoke(main, ["import", "sirene", str(path)])
    assert dry.exit_code == real.exit_code == 1
    assert "no row could be imported" in dry.output
    # the reasons are said even when nothing is kept (real files met this: a
    # department's Annuaire of primary schools, Etalab's sample of closed ones)
    assert "(1 dropped: 1 closed establishment (état F))" in dry.output
    assert dry.output == real.output


def test_dry_run_report_is_the_real_report(runner, tmp_path):
    path = fixtures.sirene(tmp_path)
    dry = runner.invoke(main, ["import", "sirene", str(path), "--dry-run"])
    real = runner.invoke(main, ["import", "sirene", str(path)])
    assert dry.exit_code == real.exit_code == 0
    assert dry.output.splitlines()[:-1] == real.output.splitlines()[:-1]
    assert "nothing written (dry run): would change the layer" in dry.output


def test_zones_crossing_the_metropolis_edge_are_kept(store, tmp_path):
    from tests.shipped import SHIPPED

    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "nom": name},
            "geometry": json.loads(json.dumps(shape.__geo_interface__)),
        }
        for code, (name, shape) in SHIPPED.shapes().items()
        if code in ("25105", "25056")  # Byans-sur-Doubs crosses the old box
    ]
    path = tmp_path / "communes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    run_import(store, "zones", path, edition="2025")
    zones = store.read("zones").set_index("zone_code")
    assert {"25105", "25056"} <= set(zones.index)
    assert zones.loc["25105", "source_date"] == "2025"


# (type, name) pairs as the MESR 2024 export writes them (juliengossa/kpiESR,
# dataESR/fr-esr-principaux-etablissements-enseignement-superieur.csv): the type says
# only "École" or "Grand établissement", so the kind comes from the name. The old rule
# made every "nationale supérieure" an engineering school (the architecture, landscape,
# theatre and library schools) and missed engineering schools without the word.
MESR_KINDS = [
    (
        "École",
        "École nationale supérieure de mécanique et des microtechniques",
        "engineering_school",
    ),
    ("École", "École nationale supérieure d'architecture de Strasbourg", "art_school"),
    ("École", "École nationale supérieure d’architecture de Versailles", "art_school"),
    ("École", "École nationale supérieure de paysage", "art_school"),
    (
        "École",
        "École nationale supérieure des arts et techniques du théâtre",
        "art_school",
    ),
    (
        "Grand établissement",
        "École nationale supérieure des sciences de l'information et des bibliothèques",
        "training_centre",
    ),
    (
        "École",
        "École nationale du génie de l'eau et de l'environnement de Strasbourg",
        "engineering_school",
    ),
    (
        "Grand établissement",
        "Arts et Métiers Sciences et Technologies",
        "engineering_school",
    ),
    ("École", "École supérieure d'électronique de l'Ouest", "engineering_school"),
    ("École", "ISEN Yncréa Méditerranée", "engineering_school"),
    (
        "École",
        "École pour l'informatique et les techniques avancées",
        "engineering_school",
    ),
    ("École", "Institut d'ingénierie informatique de Limoges", "engineering_school"),
    ("École", "Toulouse INP", "engineering_school"),
    ("École", "Université de technologie de Belfort-Montbéliard", "engineering_school"),
    ("Grand établissement", "Université de Lorraine", "university"),
    ("Université", "Université de Franche-Comté", "university"),
    ("École", "Toulouse Business School", "training_centre"),
]


@pytest.mark.parametrize("kind_text, name, kind", MESR_KINDS)
def test_mesr_kind_from_the_names_of_the_real_export(kind_text, name, kind):
    assert kind_of(kind_text, name) == kind
