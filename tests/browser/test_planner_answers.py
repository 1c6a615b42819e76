"""The planner as a person uses it (issue 19, items 3, 5 and 6), on a 360x740 touch
phone and at 1280x800, in French and in English: the tools drawer and the results
sheet take the screen, unknown values read as unknown (never 0), the criterion
without data is said to be left out, the five best areas are five places, results
name the active filters, the grid toggle looks pressed; axe finds nothing."""

from __future__ import annotations

import re

import pytest

from mapapp import accounts
from tests.browser.axe import violations
from tests.browser.checks import inside_viewport, placement, visitor

pytestmark = pytest.mark.browser

WORDS = {
    "fr": {
        "name": "Nom",
        "password": "Mot de passe",
        "sign_in": "Se connecter",
        "tools": "Outils",
        "back": "Retour à la carte",
        "suitability": "Aptitude",
        "compute": "Calculer la grille d'aptitude",
        "hide": "Masquer les résultats",
        "show": "Afficher les résultats",
        "figures": "Chiffres clés",
        "unknown": r"inconnu \(\d+ sans valeur\)",
        "left_out": "Laissé de côté faute de données",
        "no_filter": "Aucun filtre",
        "filters": "Filtres actifs : Secteur : Édition de logiciels",
        "software": "Édition de logiciels",
        "grid": "Afficher la grille",
        "published": "Publié pour le territoire",
    },
    "en": {
        "name": "Name",
        "password": "Password",
        "sign_in": "Sign in",
        "tools": "Tools",
        "back": "Back to the map",
        "suitability": "Suitability",
        "compute": "Compute the suitability grid",
        "hide": "Hide the results",
        "show": "Show the results",
        "figures": "Key figures",
        "unknown": r"unknown \(\d+ without a value\)",
        "left_out": "Left out for want of data",
        "no_filter": "No filter",
        "filters": "Active filters: Sector: Software publishing",
        "software": "Software publishing",
        "grid": "Show the grid",
        "published": "Published for the territory",
    },
}


@pytest.fixture
def open_planner(browser, live_server, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    contexts = []

    def start(device: str, lang: str):
        locale = "fr-FR" if lang == "fr" else "en-GB"
        context = visitor(browser, device, locale, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        w = WORDS[lang]
        page.goto(f"{live_server.url}/planner/?lang={lang}")
        page.get_by_label(w["name"]).fill("alice")
        page.get_by_label(w["password"]).fill("long-enough-password")
        page.get_by_role("button", name=w["sign_in"]).click()
        page.wait_for_selector("#results[data-ready=true]")
        return page, w

    yield start
    for context in contexts:
        context.close()


def covers_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    view = page.viewport_size
    return (
        box["x"] <= 0.5
        and box["y"] <= 0.5
        and box["width"] >= view["width"] - 1
        and box["height"] >= view["height"] - 1
    )


def visible_text(page, selector: str, pattern: str) -> None:
    """Text matching ``pattern`` is shown inside the viewport, not covered."""
    found = page.locator(selector).get_by_text(re.compile(pattern)).first
    found.scroll_into_view_if_needed()
    found.evaluate("e => e.setAttribute('data-look', '1')")
    box = placement(page, "[data-look='1']")
    found.evaluate("e => e.removeAttribute('data-look')")
    assert inside_viewport(box) and box["covered"] == 0, (pattern, box)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_on_a_phone_the_tools_drawer_and_the_results_sheet_take_the_screen(
    open_planner, lang
):
    page, w = open_planner("phone", lang)
    # the map has the screen; the tools wait behind one button
    assert page.locator("#planner-tools").is_hidden()
    assert page.locator(".folium-map").bounding_box()["height"] > 400
    page.get_by_role("button", name=w["tools"], exact=True).tap()
    assert covers_screen(page, "#planner-tools")
    assert (
        page.get_by_role("button", name=w["tools"]).get_attribute("aria-expanded")
        == "true"
    )
    assert violations(page) == []
    page.get_by_role("button", name=w["back"]).tap()
    assert page.locator("#planner-tools").is_hidden()
    # compute the grid from the drawer: the results sheet takes the screen
    page.get_by_role("button", name=w["tools"], exact=True).tap()
    page.locator("#panel-suitability summary").tap()
    page.get_by_role("button", name=w["compute"]).tap()
    page.wait_for_selector("#suitability-result[data-ready=true]")
    assert page.locator("#planner-tools").is_hidden()
    assert covers_screen(page, "#results")
    visible_text(page, "#suitability-result", w["left_out"])
    assert violations(page) == []
    # a row gives the map back, its area highlighted
    page.locator("#suitability-top tbody tr").first.locator("button").tap()
    assert page.locator("#results-body").is_hidden()
    assert page.locator(".folium-map").bounding_box()["height"] > 400
    page.get_by_role("button", name=w["show"]).tap()
    assert covers_screen(page, "#results")
    page.get_by_role("button", name=w["hide"]).tap()
    assert page.locator("#results-body").is_hidden()
    assert violations(page) == []


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_key_figures_say_unknown_never_zero_and_name_the_filters(open_planner, lang):
    page, w = open_planner("desktop", lang)
    page.get_by_role("button", name=w["show"]).click()
    page.get_by_role("tab", name=w["figures"]).click()
    ready = page.locator("#figures-result[data-ready=true]")
    ready.wait_for()
    visible_text(page, "#figures-result", w["unknown"])
    visible_text(page, "#figures-result", w["no_filter"])
    assert w["published"] in ready.inner_text()
    # the jobs row reads unknown, not 0
    jobs = ready.locator("tbody tr").nth(1).locator("td").first.inner_text()
    assert re.match(w["unknown"], jobs), jobs
    page.get_by_label(w["software"]).check()
    page.wait_for_function(
        "() => /companies.sector=software/.test(location.search)"
        " && document.querySelector('#figures-result[data-ready=true]')"
    )
    visible_text(page, "#figures-result", re.escape(w["filters"]))
    assert violations(page) == []


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_five_best_areas_are_five_places_and_the_grid_toggle_looks_pressed(
    open_planner, lang
):
    page, w = open_planner("desktop", lang)
    page.locator("#panel-suitability summary").click()
    page.get_by_role("button", name=w["compute"]).click()
    page.wait_for_selector("#suitability-result[data-ready=true]")
    visible_text(page, "#suitability-result", w["left_out"])
    names = page.locator("#suitability-top tbody tr button").all_inner_texts()
    assert len(names) == 5 and len(set(names)) == 5, names
    toggle = page.get_by_role("button", name=w["grid"])
    on = toggle.evaluate("b => getComputedStyle(b).backgroundColor")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    off = toggle.evaluate("b => getComputedStyle(b).backgroundColor")
    assert on != off  # seen, not only announced
    assert violations(page) == []


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_history_names_the_imported_file_and_undoes_the_whole_import(
    open_planner, store, device
):
    frame = store.read("coworking").drop(columns=["version"])
    first, second = frame["id"].iloc[0], frame["id"].iloc[1]
    edited = frame.copy()
    edited.loc[edited["id"].isin([first, second]), "desks"] = 999
    store.replace_layers(
        {"coworking": edited},
        author="paul",
        note="generic import of lieux-2026.csv (merge)",
    )
    page, w = open_planner(device, "fr")
    page.evaluate(
        """(id) => { const m = window.mapapp.map;
        const f = window.mapapp.findFeature(m, 'coworking', id);
        m.fire('mapapp:featureopen', {layerName: 'coworking', id: id, layer: f.layer}); }""",
        first,
    )
    history = page.locator("#history-list")
    history.get_by_text("importé depuis le fichier « lieux-2026.csv »").wait_for()
    if device == "phone":  # the form opens in the drawer, which takes the screen
        assert covers_screen(page, "#planner-tools")
    entry = history.locator("li").first
    entry.scroll_into_view_if_needed()
    entry.evaluate("e => e.setAttribute('data-look', '1')")
    box = placement(page, "#history-list [data-look='1']")
    assert inside_viewport(box) and box["covered"] == 0, box
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Annuler tout cet import").click()
    page.get_by_text(re.compile(r"Import annulé : 0 retirés, 2 rétablis")).wait_for()
    for fid in (first, second):
        assert store.get("coworking", fid)["properties"]["desks"] != 999
    assert violations(page) == []


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_dossier_prints_page_one_first_in_both_languages(
    open_planner, live_server, lang
):
    from tests.browser.test_workspace import pdf_pages

    page, _w = open_planner("desktop", lang)
    page.goto(f"{live_server.url}/planner/dossier?lang={lang}")
    assert 2 <= len(pdf_pages(page.pdf(format="A4", print_background=True))) <= 3
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 703, "height": 1000})  # 186 mm at 96 dpi
    assert page.locator(".page-one").bounding_box()["height"] <= 273 / 25.4 * 96
    answer = page.locator("#dossier-answer li").all_inner_texts()
    assert len(answer) == 3
    unknown = "inconnu (" if lang == "fr" else "unknown ("
    assert unknown in answer[1]  # estimated jobs: unknown, never 0
    assert violations(page) == []
