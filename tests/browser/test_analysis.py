"""The planner's analyses in a real browser: a click gives the catchment figures,
a weight changes the ranking, filters apply to the map and reach the URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

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
    table = page.locator("#suitability-top").element_handle()
    for name in ("jobs", "training", "fibre", "station"):
        page.locator(f"#w-{name}").fill("0")
        page.locator(f"#w-{name}").dispatch_event("change")
    # the grid is computed again (150 ms after the last change): the old ranking goes
    page.wait_for_function("(table) => !table.isConnected", arg=table)
    bar = page.locator(
        "#suitability-result[data-ready=true] #suitability-top tbody tr"
    ).first.locator(".shares")
    # one criterion explains the whole score
    expect(bar).to_have_attribute("aria-label", re.compile("100 %"))
    shares = bar.get_attribute("aria-label")
    assert (
        page.locator("#suitability-top tbody tr").first.inner_text() != first
        or "Loin des coworkings" in shares
    )


def test_a_late_answer_never_overwrites_the_latest_grid(planner_page):
    page = planner_page
    page.locator("#panel-suitability summary").click()
    page.get_by_role("button", name="Calculer la grille d'aptitude").click()
    page.wait_for_selector("#suitability-result[data-ready=true]")
    held: list = []
    asked = re.compile(r"/api/analysis/suitability\?")
    page.route(asked, lambda route: held.append(route))

    def change(name: str, count: int) -> None:
        page.locator(f"#w-{name}").fill("0")
        page.locator(f"#w-{name}").dispatch_event("change")
        for _ in range(100):  # asked 150 ms after the change
            if len(held) == count:
                return
            page.wait_for_timeout(50)
        raise AssertionError("the grid was not asked again")

    change("jobs", 1)
    change("training", 2)
    with page.expect_response(asked):
        held[1].continue_()  # the answer to the latest weights comes first
    page.wait_for_selector("#suitability-result[data-ready=true]")
    latest = page.locator("#suitability-result").inner_html()
    with page.expect_response(asked):
        held[0].continue_()  # then the earlier one, late
    page.evaluate("() => new Promise(r => setTimeout(r, 200))")
    assert page.locator("#suitability-result").inner_html() == latest


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
