"""The import wizard in a real browser, in French: a CSV with a ``nom`` column mapped
by the user, previews that follow the columns chosen, the report by reason in the
page language, then the import; axe-core finds nothing to fix on any step."""

from __future__ import annotations

import pytest

from mapapp import accounts
from tests.browser.axe import violations

pytestmark = pytest.mark.browser

FRENCH_CSV = (
    "nom;adresse;etat;postes;longitude;latitude\n"
    "La Fabrique;12 rue Battant, Besançon;Ouvert;24;6.0195;47.2405\n"
    "Le Hangar;3 rue de Vesoul, Besançon;Programmé;;6.03;47.25\n"
    "Loin d'ici;Paris;Ouvert;3;2.35;48.85\n"
)


@pytest.fixture
def admin_page(browser, live_server, store):
    accounts.create_user(store, "root", "admin", "long-enough-password")
    context = browser.new_context(locale="fr-FR", bypass_csp=True)  # axe is injected
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/planner/import?lang=fr")
    page.get_by_label("Nom").fill("root")
    page.get_by_label("Mot de passe").fill("long-enough-password")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("h1")
    page.errors = errors
    yield page
    context.close()


def test_a_french_csv_mapped_by_the_user_is_imported(admin_page, store, tmp_path, app):
    page = admin_page
    assert violations(page) == []
    csv = tmp_path / "tiers-lieux.csv"
    csv.write_text(FRENCH_CSV, encoding="utf-8")
    page.get_by_label(
        "Fichier (CSV, GeoJSON, GeoPackage ou Shapefile zippé ; au plus 50 Mo)"
    ).set_input_files(str(csv))
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_selector("h2:has-text('2. Type et colonnes')")
    assert "Reconnu comme : Votre propre fichier" in page.locator("main").inner_text()
    assert page.get_by_label("Importer dans la couche").input_value() == "coworking"
    # the planner maps the name: first nothing, then the column `nom`
    name = page.get_by_label("Nom *")
    name.select_option("")
    assert page.locator("#preview-name").inner_text() == ""
    name.select_option("nom")
    assert page.locator("#preview-name").inner_text() == (
        "La Fabrique · Le Hangar · Loin d'ici"
    )
    page.get_by_label("État *").select_option("etat")
    page.get_by_label("Valeur pour toutes les lignes : Type").select_option("coworking")
    assert violations(page) == []
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_selector("h2:has-text('3. Source et publication')")
    source = page.get_by_label("Source des données (affichée avec chaque objet) *")
    # the file's name says nothing of who published the data: no default
    assert source.input_value() == ""
    source.fill("Recensement des tiers-lieux 2026")
    page.get_by_label("Édition (date des données, par ex. 2026-10)").fill("2026-10")
    assert page.get_by_label(
        "Garder les lignes importées non publiées", exact=False
    ).is_checked()
    assert violations(page) == []
    page.get_by_role("button", name="Voir le rapport").click()
    page.wait_for_selector("h2:has-text('4. Rapport')")
    report = page.locator("main").inner_text()
    assert "3 lignes lues" in report and "2 gardées" in report and "1 écartée" in report
    assert "hors de la zone d'étude" in report and "Loin d'ici" in report
    assert "restent non publiées" in report
    assert store.count("coworking") == 11  # nothing written yet
    instance = str(app.extensions["mapapp.site"].settings.instance_dir)
    assert instance not in report and "uploads" not in report
    assert violations(page) == []
    page.get_by_role(
        "button", name="Importer ces 2 lignes dans Coworking et tiers-lieux"
    ).click()
    page.wait_for_selector("h2:has-text('Import effectué')")
    assert "Écrit en une transaction" in page.locator("main").inner_text()
    site = store.get("coworking", "la-fabrique")["properties"]
    assert site["status"] == "open" and site["published"] is False
    assert site["source"] == "Recensement des tiers-lieux 2026"
    assert site["source_date"] == "2026-10" and site["desks"] == 24
    assert store.count("coworking") == 13
    assert (
        list(
            (app.extensions["mapapp.site"].settings.instance_dir / "uploads").iterdir()
        )
        == []
    )
    assert page.errors == []


def test_a_required_field_left_out_is_said_in_french(admin_page, store, tmp_path):
    page = admin_page
    csv = tmp_path / "lieux.csv"
    csv.write_text(FRENCH_CSV, encoding="utf-8")
    page.get_by_label("Fichier (CSV", exact=False).set_input_files(str(csv))
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("État *").select_option("")
    page.get_by_role("button", name="Continuer").click()
    problems = page.locator("#wizard-problems").inner_text()
    assert "État est obligatoire" in problems
    assert violations(page) == []


def test_an_archive_is_refused_with_its_own_name(admin_page, store, tmp_path):
    page = admin_page
    zipped = tmp_path / "sirene-25.csv"
    zipped.write_bytes(b"PK\x03\x04 not really a zip")
    page.get_by_label("Fichier (CSV", exact=False).set_input_files(str(zipped))
    page.get_by_role("button", name="Continuer").click()
    error = page.locator("#wizard-error").inner_text()
    assert "sirene-25.csv est une archive compressée endommagée" in error
    assert violations(page) == []
