"""SIRENE import: filters, names, coordinates, report, atomic write."""

from __future__ import annotations

import pytest

from mapapp.importers import run_import
from mapapp.importers.reading import ImportFileError
from tests.importers import fixtures


def test_sirene_keeps_active_digital_establishments_of_the_communes(store, tmp_path):
    report = run_import(store, "sirene", fixtures.sirene(tmp_path), edition="2026-10")
    assert report.written and report.rows_read == 9
    companies = store.read("companies").set_index("id")
    assert set(companies.index) == {
        "81234567800011",
        "81234567800029",
        "81234567800037",
    }
    assert companies.loc["81234567800011", "name"] == "LOGICIELS DU DOUBS (MAJ)"
    assert companies.loc["81234567800029", "name"] == "ATELIER WEB BISONTIN"
    assert companies.loc["81234567800037", "name"] == "SIREN 812345678"
    row = companies.loc["81234567800011"]
    assert row["sector"] == "software" and row["headcount_class"] == "11"
    # Lambert-93 of the stock without the geocoder's grade: approximate
    assert row["precision"] == "approximate"
    # issue 20 item 8: the source names its publisher and edition, with its page
    # and licence (it read "SIRENE 2026-10" before)
    assert row["source"] == "INSEE, base SIRENE des établissements (2026-10)"
    assert row["source_url"].startswith("https://www.data.gouv.fr/")
    assert row["licence"] == "lo-2.0" and row["source_date"] == "2026-10"
    assert row["address"] == "12 RUE DE LA REPUBLIQUE, 25000 BESANCON"
    assert row.geometry.x == pytest.approx(6.0241, abs=1e-4)
    assert companies.loc["81234567800037", "headcount_class"] == "NN"
    reasons = report.dropped
    assert reasons["closed establishment (état F)"] == 1
    assert reasons["NAF code outside the digital set"] == 1
    # by default, the 67 communes of the metropolis (25999 is not one)
    assert reasons["outside the chosen communes"] == 2
    assert reasons["no coordinates (neither geolocation nor Lambert-93)"] == 1
    assert reasons["duplicate identifier merged (the last row is kept)"] == 1
    text = "\n".join(report.lines())
    assert "9 rows read, 3 kept" in text and "e.g." in text


def test_sirene_with_the_geolocation_file(store, tmp_path):
    report = run_import(
        store, "sirene", fixtures.sirene(tmp_path), geoloc=fixtures.geoloc(tmp_path)
    )
    companies = store.read("companies").set_index("id")
    assert "81234567800086" in companies.index  # placed by the geolocation file
    assert companies.loc["81234567800037", "precision"] == "commune"  # quality 33
    assert any("quality 33" in n for n in report.notes)


def test_sirene_chosen_communes_and_dry_run(store, tmp_path):
    version = store.data_version()
    report = run_import(
        store, "sirene", fixtures.sirene(tmp_path), dry_run=True, communes=["25056"]
    )
    assert not report.written and report.kept == 3
    assert store.data_version() == version and store.count("companies") == 22


def test_sirene_unchanged_import_writes_nothing(store, tmp_path):
    path = fixtures.sirene(tmp_path)
    first = run_import(store, "sirene", path, edition="2026-10")
    again = run_import(store, "sirene", path, edition="2026-10")
    assert first.written and not again.written
    assert again.data_version == first.data_version


def test_sirene_semicolon_and_cp1252_are_read(store, tmp_path):
    report = run_import(
        store,
        "sirene",
        fixtures.sirene(tmp_path, sep=";", encoding="cp1252"),
        dry_run=True,
    )
    assert report.kept == 3


def test_sirene_missing_column(store, tmp_path):
    path = fixtures.sirene(tmp_path)
    text = path.read_text().replace("etatAdministratifEtablissement", "etat", 1)
    path.write_text(text)
    with pytest.raises(ImportFileError, match="missing column.*etatAdministratif"):
        run_import(store, "sirene", path)


# The header of a StockEtablissement joined with StockUniteLegale and geocoded with the
# Base Adresse Nationale's CSV geocoder, as published in the public repository
# gordesch/diag (data/tables/sirene-all.geocoded.csv, 92 columns, cp1252). Run through
# the importer as published, every company was named "SIREN n" and placed
# "approximate", though the file names the legal unit and grades each point.
JOINED_GEOCODED = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,"
    "trancheEffectifsEtablissement,anneeEffectifsEtablissement,"
    "activitePrincipaleRegistreMetiersEtablissement,"
    "dateDernierTraitementEtablissement,etablissementSiege,"
    "etatAdministratifUniteLegale,statutDiffusionUniteLegale,"
    "unitePurgeeUniteLegale,dateCreationUniteLegale,categorieJuridiqueUniteLegale,"
    "denominationUniteLegale,sigleUniteLegale,denominationUsuelle1UniteLegale,"
    "denominationUsuelle2UniteLegale,denominationUsuelle3UniteLegale,"
    "sexeUniteLegale,nomUniteLegale,nomUsageUniteLegale,prenom1UniteLegale,"
    "prenom2UniteLegale,prenom3UniteLegale,prenom4UniteLegale,"
    "prenomUsuelUniteLegale,pseudonymeUniteLegale,activitePrincipaleUniteLegale,"
    "nomenclatureActivitePrincipaleUniteLegale,identifiantAssociationUniteLegale,"
    "economieSocialeSolidaireUniteLegale,caractereEmployeurUniteLegale,"
    "trancheEffectifsUniteLegale,anneeEffectifsUniteLegale,nicSiegeUniteLegale,"
    "dateDernierTraitementUniteLegale,categorieEntreprise,anneeCategorieEntreprise,"
    "complementAdresseEtablissement,numeroVoieEtablissement,"
    "indiceRepetitionEtablissement,typeVoieEtablissement,libelleVoieEtablissement,"
    "codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,"
    "codeCommuneEtablissement,codeCedexEtablissement,libelleCedexEtablissement,"
    "codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
    "complementAdresse2Etablissement,numeroVoie2Etablissement,"
    "indiceRepetition2Etablissement,typeVoie2Etablissement,"
    "libelleVoie2Etablissement,codePostal2Etablissement,"
    "libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,"
    "distributionSpeciale2Etablissement,codeCommune2Etablissement,"
    "codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,"
    "etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,"
    "enseigne3Etablissement,denominationUsuelleEtablissement,"
    "activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,"
    "caractereEmployeurEtablissement,latitude,longitude,result_label,result_score,"
    "result_type,result_id,result_housenumber,result_name,result_street,"
    "result_postcode,result_city,result_context,result_citycode,result_oldcitycode,"
    "result_oldcity,result_district"
).split(",")


def test_sirene_joined_with_the_legal_units_and_geocoded_by_the_ban(store, tmp_path):
    row = dict.fromkeys(JOINED_GEOCODED, "")
    row.update(
        siren="812345678",
        nic="00011",
        siret="81234567800011",
        dateCreationEtablissement="2012-05-01",
        trancheEffectifsEtablissement="11",
        denominationUniteLegale="LOGICIELS DU DOUBS",
        codeCommuneEtablissement="25056",
        etatAdministratifEtablissement="A",
        activitePrincipaleEtablissement="62.01Z",
        latitude="47.24012",
        longitude="6.02213",
        result_type="housenumber",
    )
    path = tmp_path / "sirene-all.geocoded.csv"
    fixtures.write_csv(path, JOINED_GEOCODED, [[row[h] for h in JOINED_GEOCODED]])
    report = run_import(store, "sirene", path)
    assert report.kept == 1
    company = store.read("companies").set_index("id").loc["81234567800011"]
    assert company["name"] == "LOGICIELS DU DOUBS"
    assert company["precision"] == "exact"
