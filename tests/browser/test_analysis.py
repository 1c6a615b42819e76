"""The planner's analyses in a real browser: a click gives the catchment figures,
a weight changes the ranking, filters apply to the map and reach the URL."""

from __future__ import annotations

import pytest

from mapapp import accounts
from tests.browser.test_planner import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def planner_page(watched, live_server, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    sign_in(watched.page, live_server.url)
    return watched.page


def test_click_on_the_map_shows_the_catchment(planner_page):
    page = planner_page
    page.get_by_role("button", name="Cliquez la carte pour mesurer").click()
    point = page.evaluate("""() => { const m = mapappPlanner.map;
        m.setView([47.25, 5.99], 15, {animate: false});
        return m.latLngToContainerPoint([47.2445, 5.978]); }""")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("#catchment-result[data-ready=true]")
    text = page.locator("#catchment-result").inner_text()
    assert "800 m" in text and "Établissements numériques" in text
    assert "Gare la plus proche" in text


def test_a_weight_changes_the_ranking(planner_page):
    page = planner_page
    page.locator("#panel-suitability summary").click()
    page.get_by_role("button", name="Calculer la grille d'aptitude").click()
    page.wait_for_selector("#suitability-result[data-ready=true]")
    first = page.locator("#suitability-top tbody tr").first.inner_text()
    for name in ("jobs", "training", "fibre", "station"):
        page.locator(f"#w-{name}").fill("0")
        page.locator(f"#w-{name}").dispatch_event("change")
    page.wait_for_timeout(300)
    page.wait_for_selector("#suitability-result[data-ready=true]")
    shares = (
        page.locator("#suitability-top tbody tr")
        .first.locator(".shares")
        .get_attribute("aria-label")
    )
    assert "100 %" in shares  # one criterion explains the whole score
    assert (
        page.locator("#suitability-top tbody tr").first.inner_text() != first
        or "Loin des coworkings" in shares
    )


def test_filters_apply_to_the_map_and_the_url(planner_page):
    page = planner_page
    before = page.evaluate(
        "() => mapappPlanner.map._mapapp.layers.companies.group.getLayers().length"
    )
    page.get_by_label("Édition de logiciels").check()
    page.wait_for_function(
        "() => location.search.includes('companies.sector=software')"
    )
    after = page.evaluate(
        "() => mapappPlanner.map._mapapp.layers.companies.group.getLayers().length"
    )
    assert after == 4 < before  # 3 software companies placed, 1 badge (Onefit)
    href = page.locator("#exports-list a").first.get_attribute("href")
    assert "companies.sector=software" in href
