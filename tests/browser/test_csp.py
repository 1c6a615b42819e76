"""No inline style or script runs unless the page's CSP names it by hash: every page,
the map's popups and controls, the planner's tools, with 'unsafe-inline' nowhere."""

from __future__ import annotations

import urllib.request

import pytest

from mapapp import accounts
from tests.browser.conftest import open_map
from tests.browser.test_planner import sign_in

pytestmark = pytest.mark.browser

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`));
"""
MAPS = ["/", "/embed?feature=coworking:le-numerique"]
PAGES = ["/share", "/list", "/data", "/auth/login"]


def _header(url: str) -> str:
    with urllib.request.urlopen(url) as r:
        return r.headers["Content-Security-Policy"]


def _click_around(page) -> None:
    """Open popups and controls, as a visitor would."""
    for selector in (".leaflet-marker-icon", ".leaflet-interactive"):
        for element in page.query_selector_all(selector)[:4]:
            try:
                element.click(timeout=1000)
            except Exception:  # noqa: BLE001, S112 - hidden behind another: fine
                continue
    page.keyboard.press("Escape")


def test_public_pages_need_no_inline_style(watched, live_server):
    page = watched.page
    page.context.add_init_script(LISTEN)
    for path in MAPS + PAGES:
        policy = _header(live_server.url + path)
        assert "'unsafe-inline'" not in policy and "style-src 'self'" in policy
        if path in MAPS:
            open_map(watched, live_server.url + path)
        else:
            page.goto(live_server.url + path)
        _click_around(page)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == [], path
    assert [e for e in watched.errors if "Content Security Policy" in e] == []


def test_planner_workspace_needs_no_inline_style(watched, live_server, store):
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    page = watched.page
    page.context.add_init_script(LISTEN)
    sign_in(page, live_server.url)
    _click_around(page)
    page.get_by_role("button", name="Ajouter un site de coworking").click()
    page.mouse.click(900, 700)
    page.get_by_role("button", name="Annuler").click()
    page.get_by_role("button", name="Dessiner un périmètre").click()
    for x, y in ((800, 500), (900, 500), (900, 600)):
        page.mouse.click(x, y)
    assert page.evaluate("window.__csp") == []
    page.goto(live_server.url + "/planner/import")
    assert page.evaluate("window.__csp") == []
    assert [e for e in watched.errors if "Content Security Policy" in e] == []
