"""axe-core (npm package, installed by package.json) finds no violation on the public
pages, the sign-in page and the planner workspace, with their panels open and closed,
on a phone and on a desktop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapapp import accounts
from tests.browser.checks import visitor

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
READY = ".folium-map[data-mapapp-ready=true]"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"axe-core is required in CI: run `npm ci` ({AXE} is missing)")
        pytest.skip("axe-core not installed: run `npm ci`")
    return AXE.read_text(encoding="utf-8")


def violations(page, axe_source: str) -> list[str]:
    """axe's violations on the page as it is now (every rule but experimental ones)."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=axe_source)
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => v.id + ' (' + v.impact + '): ' +
                v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return found


def states(page, path: str):
    """The map page in each of its states: as loaded, panels, card, search, legend."""
    yield "as loaded"
    if page.locator(".mapapp-panel:not([hidden])").count():
        page.locator(".mapapp-panel .mapapp-card-close").click()
        yield "panel closed"
    for name, button in (
        ("info", ".mapapp-panel-button >> nth=0"),
        ("list", ".mapapp-panel-button >> nth=1"),
    ):
        page.locator(button).click()
        page.locator(".mapapp-panel:not([hidden])").wait_for()
        yield f"{name} panel open"
        page.locator(".mapapp-panel .mapapp-card-close").click()
    page.locator(".mapapp-legend summary").click()
    yield "layers and legend open"
    page.locator(".mapapp-legend summary").click()
    page.locator(".mapapp-search input").fill("numérique")
    page.locator(".mapapp-search-hit").first.wait_for()
    yield "search results"
    page.locator(".mapapp-search-hit").first.click()
    page.locator(".mapapp-card").wait_for()
    yield "card open"
    # issue 19: the answer card of a place, and the list from that place
    page.locator(".mapapp-search input").fill("saint-vit")
    page.locator(".mapapp-search-hit", has_text="Saint-Vit").first.click()
    page.locator(".mapapp-answer .mapapp-distance-note").wait_for()
    yield "answer card open"
    page.locator(".mapapp-panel-button >> nth=1").click()
    page.locator(".mapapp-panel:not([hidden])").wait_for()
    page.locator(".mapapp-panel select >> nth=0").select_option("context")
    page.locator(".mapapp-widen").wait_for()
    yield "list: nothing in view, a way to widen it"
    page.locator(".mapapp-widen").click()
    page.locator(".mapapp-browse-distance").first.wait_for()
    yield "list: nearest first from the place"


@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize("path", ["/?lang=fr", "/embed?lang=fr", "/?lang=en"])
def test_map_pages_have_no_violation(browser, live_server, axe_source, device, path):
    context = visitor(browser, device, bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + path)
    page.wait_for_selector(READY)
    found = {state: violations(page, axe_source) for state in states(page, path)}
    context.close()
    assert found == {state: [] for state in found}


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_an_overview_has_no_violation(browser, live_server, app, axe_source, device):
    app.config["INLINE_MAX_FEATURES"] = 5
    app.config["OVERVIEW_MIN_FEATURES"] = 5  # companies: an overview, then tiles
    app.extensions["mapapp.site"].clear_caches()
    context = visitor(browser, device, bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/?lang=fr&zoom=11&layers=companies")
    page.wait_for_selector(READY)
    found = {"overview": violations(page, axe_source)}
    page.locator(".mapapp-cell-key").first.focus()
    found["a circle focused"] = violations(page, axe_source)
    page.keyboard.press("Enter")
    page.evaluate("() => window.mapapp.map.setZoom(14, {animate: false})")
    page.wait_for_function(
        """() => { const g = window.mapapp.map._mapapp.layers.companies.group;
                   return !g.overview && g.chunks.length > 0; }"""
    )
    found["tiles drawn"] = violations(page, axe_source)
    context.close()
    assert found == {state: [] for state in found}


@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize(
    "path",
    [
        "/list?lang=fr",
        "/list?lang=fr&layer=coworking&sort=date&dir=desc",
        "/share?lang=fr",
        "/share?lang=en",
        "/data?lang=en",
        "/nope?lang=fr",
        "/auth/login?lang=fr",
    ],
)
def test_text_pages_have_no_violation(browser, live_server, axe_source, device, path):
    context = visitor(browser, device, bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + path)
    page.wait_for_load_state("load")
    if path.startswith("/share"):
        page.frame_locator("#share-preview").locator(READY).wait_for(timeout=20000)
    found = violations(page, axe_source)
    context.close()
    assert found == []


def test_planner_workspace_has_no_violation(browser, live_server, axe_source, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    context = visitor(browser, "desktop", bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/planner/?lang=fr")
    page.get_by_label("Nom").fill("alice")
    page.get_by_label("Mot de passe").fill("long-enough-password")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector(READY)
    found = {"as loaded": violations(page, axe_source)}
    page.evaluate(
        "() => document.querySelectorAll('details').forEach(d => d.open = false)"
    )
    found["panels closed"] = violations(page, axe_source)
    page.evaluate(
        "() => document.querySelectorAll('details').forEach(d => d.open = true)"
    )
    found["panels open"] = violations(page, axe_source)
    page.get_by_label("Rechercher par nom").fill("numérique")
    page.locator(".mapapp-search-hit").first.wait_for()
    found["search results"] = violations(page, axe_source)
    context.close()
    assert found == {state: [] for state in found}
