"""Contributions of the public in a real browser, keyboard only, French and English,
on a phone and a desktop: a visitor reports a moved company from its card and
proposes a coworking place found by address; a planner accepts the first and
publishes the second. axe-core finds nothing on any of the new pages."""

from __future__ import annotations

import json

import pytest

from mapapp import accounts
from mapapp import contributions as core
from mapapp.store.addresses import search_key
from tests.browser.axe import violations
from tests.browser.checks import tabs_to, visitor

pytestmark = pytest.mark.browser
READY = ".folium-map[data-mapapp-ready=true]"
EMAIL = "lea.visiteuse@example.org"
WORDS = {
    "fr": {"search": "Rechercher par nom", "report": "Signaler une erreur",
           "propose": "Proposer un lieu ou une entreprise", "moved": "A déménagé",
           "find": "Chercher l’adresse", "send": "Envoyer", "thanks": "Merci",
           "accept": "Accepter", "publish": "Le publier",
           "credit": "suite à une contribution publique"},
    "en": {"search": "Search by name", "report": "Report an error",
           "propose": "Suggest a place or a company", "moved": "Moved",
           "find": "Search the address", "send": "Send", "thanks": "Thank you",
           "accept": "Accept", "publish": "Publish it",
           "credit": "after a public contribution"},
}  # fmt: skip
ADDRESSES = [
    ("b1", "12 Rue de la Convention, 25000 Besançon", "12", 6.0252, 47.2381),
    ("b2", "5 Rue Battant, 25000 Besançon", "5", 6.0195, 47.2410),
]


def _address(ident, label, numero, lon, lat):
    return (ident, label, search_key(label), numero, label.split(",")[0][3:],
            "25000", "25056", "Besançon", lon, lat, "entrance", "2026-10")  # fmt: skip


@pytest.fixture
def prepared(app, store):
    app.extensions["mapapp.site"].settings.values["CONTRIBUTION_MIN_FILL_SECONDS"] = 0
    store.replace_addresses([_address(*a) for a in ADDRESSES])
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    return store


def tab_until(page, css: str, limit: int = 60) -> None:
    """Tab (keyboard only) until the focus is on an element matching ``css``."""
    n = tabs_to(page, f"(el) => el.matches({json.dumps(css)})", limit)
    assert n is not None, f"Tab never reached {css}"


def no_violations(page) -> None:
    assert violations(page) == [], page.url


def report_moved_company(page, base: str, lang: str, w: dict) -> None:
    page.goto(f"{base}/?lang={lang}")
    page.wait_for_selector(READY, timeout=20000)
    page.get_by_label(w["search"]).focus()
    page.keyboard.type("Flowbird")
    page.locator(".mapapp-search-hit").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(".mapapp-card .mapapp-report").wait_for()
    page.wait_for_function("() => !!document.activeElement.closest('.mapapp-card')")
    no_violations(page)  # the card with its link, the map with its own
    tab_until(page, ".mapapp-card .mapapp-report")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contribute?*")
    no_violations(page)
    tab_until(page, "input[name=kind]")
    page.keyboard.press("ArrowDown")  # closed -> moved
    assert page.locator("input[name=kind]:checked").get_attribute("value") == "moved"
    tab_until(page, "#c-address")
    page.keyboard.type("12 rue de la convention")
    tab_until(page, "button[value=search]")
    page.keyboard.press("Enter")
    page.locator("#c-places").wait_for()
    no_violations(page)
    tab_until(page, "#c-email")
    page.keyboard.type(EMAIL)
    tab_until(page, "button[value=send]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contribute/thanks*")
    assert w["thanks"] in page.locator("h1").inner_text()
    no_violations(page)


def propose_coworking(page, base: str, lang: str, w: dict) -> None:
    page.goto(f"{base}/?lang={lang}")
    page.wait_for_selector(READY, timeout=20000)
    tab_until(page, ".mapapp-propose")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contribute?*")
    tab_until(page, "#c-layer")
    page.keyboard.press("ArrowDown")  # companies -> coworking
    assert page.locator("#c-layer").input_value() == "coworking"
    tab_until(page, "#c-name")
    page.keyboard.type("La Cordée Battant")
    tab_until(page, "#c-address")
    page.keyboard.type("5 rue battant")
    tab_until(page, "button[value=search]")
    page.keyboard.press("Enter")
    page.locator("#c-places").wait_for()
    tab_until(page, "#c-text")
    page.keyboard.type("Un nouvel espace de 30 postes.")
    tab_until(page, "button[value=send]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contribute/thanks*")


def sign_in(page, base: str, lang: str) -> None:
    page.goto(f"{base}/auth/login?lang={lang}")
    tab_until(page, "#name")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("long-enough-password")
    page.keyboard.press("Enter")
    page.locator("#inbox-count").wait_for()


def decide_both(page, base: str, lang: str, w: dict, store) -> None:
    assert page.locator("#inbox-count").inner_text() == "2"
    tab_until(page, "#inbox-link")
    page.keyboard.press("Enter")
    page.wait_for_url("**/planner/contributions*")
    no_violations(page)
    report, proposal = store.private.contributions(("new",))
    for c in (report, proposal):
        tab_until(page, f"a[href$='/planner/contributions/{c['id']}']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/planner/contributions/{c['id']}*")
        assert EMAIL in page.content() or c is proposal  # the planner sees it
        no_violations(page)
        tab_until(page, "button[value=accept]")
        page.keyboard.press("Enter")
        page.locator("#feature-history").wait_for()
        history = page.locator("#feature-history").inner_text()
        assert w["credit"] in history and EMAIL not in history, history
        no_violations(page)
        if c is proposal:
            tab_until(page, "form[action$='/publish'] button")
            page.keyboard.press("Enter")
            page.wait_for_url("**published=1")
            no_violations(page)
        page.goto(f"{base}/planner/contributions?lang={lang}")


def check_outcome(client_get, store) -> None:
    """The feature moved, the place is published, the e-mail is nowhere."""
    moved = store.get("companies", "flowbird")
    assert (round(moved["geometry"].x, 4), round(moved["geometry"].y, 4)) == (
        6.0252, 47.2381)  # fmt: skip
    assert store.private.history("companies", "flowbird")[0]["author"] == core.AUTHOR
    [place] = [f for f in store.read("coworking").itertuples()
               if f.name == "La Cordée Battant"]  # fmt: skip
    assert place.published is True and place.source == core.AUTHOR
    for path in ("/download/companies.csv", "/download/companies.geojson",
                 "/api/layers/coworking.geojson", "/data"):  # fmt: skip
        body = client_get(path)
        assert EMAIL not in body, path
    assert EMAIL not in json.dumps(store.private.history("companies", "flowbird"))
    assert all(c["email"] is None for c in
               store.private.contributions(core.DECIDED))  # fmt: skip


@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_visitor_contributes_and_planner_decides(
    browser, live_server, prepared, client, lang, device
):
    w = WORDS[lang]
    locale = "fr-FR" if lang == "fr" else "en-GB"
    public = visitor(browser, device, locale, bypass_csp=True)
    page = public.new_page()
    report_moved_company(page, live_server.url, lang, w)
    propose_coworking(page, live_server.url, lang, w)
    public.close()
    planner = visitor(browser, device, locale, bypass_csp=True)
    page = planner.new_page()
    sign_in(page, live_server.url, lang)
    decide_both(page, live_server.url, lang, w, prepared)
    planner.close()
    check_outcome(lambda p: client.get(p).get_data(as_text=True), prepared)


def test_a_point_is_placed_on_the_map_by_keyboard(browser, live_server, prepared):
    page = visitor(browser, "phone", "fr-FR", bypass_csp=True).new_page()
    page.goto(f"{live_server.url}/contribute?layer=companies&id=flowbird&lang=fr")
    tab_until(page, "input[name=kind]")
    page.keyboard.press("ArrowDown")  # moved
    tab_until(page, "#c-map")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # the map moves east under the cross
    page.wait_for_timeout(400)
    tab_until(page, "#c-map-use")
    page.keyboard.press("Enter")
    assert "Point placé" in page.locator("#c-map-status").inner_text()
    no_violations(page)
    tab_until(page, "button[value=send]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contribute/thanks*")
    [c] = prepared.private.contributions(("new",))
    before = prepared.get("companies", "flowbird")["geometry"]
    assert c["body"]["precision"] == "approximate"
    assert c["body"]["lon"] > before.x + 0.0005  # east of where it was
    page.context.close()
