"""The public map as citizens meet it (issue 12), on a 360x740 touch phone and on a
1280x800 desktop: readable, inside the screen, by keyboard, with shapes per layer,
place search, an info panel and a data browser."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from mapapp.importers import run_import
from tests.browser.checks import (
    contrast_failures,
    headings,
    inside_viewport,
    overlaps,
    placement,
    tabs_to,
    text_count,
    visitor,
)
from tests.browser.conftest import Watched
from tests.importers import fixtures

pytestmark = pytest.mark.browser

MAP_TEXT = [".leaflet-control-container", ".mapapp-card", ".mapapp-panel"]
READY = ".folium-map[data-mapapp-ready=true]"


@pytest.fixture(params=["phone", "desktop"])
def device(request):
    return request.param


@pytest.fixture
def page(browser, live_server, device):
    context = visitor(browser, device)
    page = context.new_page()
    page.watched = Watched(page, "127.0.0.1")
    page.base = live_server.url
    yield page
    assert page.watched.errors == [], page.watched.errors
    assert page.watched.outside == [], page.watched.outside
    context.close()


def open_map(page, path: str):
    page.goto(page.base + path)
    page.wait_for_selector(READY, timeout=20000)
    return page


def search(page, text: str):
    box = page.get_by_label("Rechercher par nom")
    box.fill(text)
    page.locator(".mapapp-search-hit").first.wait_for()
    return box


def close_panel(page):
    if page.locator(".mapapp-panel:not([hidden])").count():
        page.locator(".mapapp-panel .mapapp-card-close").click()


# --- 1. search results are readable ------------------------------------------------


@pytest.mark.parametrize("path", ["/?lang=fr", "/embed?lang=fr"])
def test_search_results_are_readable(page, path):
    open_map(page, path)
    close_panel(page)
    search(page, "numer")
    assert page.locator(".mapapp-search-hit").count() >= 3
    assert text_count(page, [".mapapp-search"]) >= 6  # names and what they are
    assert contrast_failures(page, [".mapapp-search"]) == []


def test_every_text_of_the_map_is_readable(page):
    open_map(page, "/?lang=fr")
    page.locator(".mapapp-legend summary").click()
    search(page, "numérique – tiers")
    page.locator(".mapapp-search-hit").first.click()
    page.locator(".mapapp-card").wait_for()
    assert text_count(page, MAP_TEXT) >= 30
    assert contrast_failures(page, MAP_TEXT) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Liste").click()
    page.locator(".mapapp-panel").get_by_label("Couche").select_option("coworking")
    page.locator(".mapapp-browse-item").first.wait_for()
    assert contrast_failures(page, MAP_TEXT) == []


# --- 2. cards fit the screen, above every control -----------------------------------


@pytest.mark.parametrize("path", ["/?lang=fr", "/embed?lang=fr"])
def test_card_opened_by_search_fits_and_is_on_top(page, path):
    open_map(page, path)
    search(page, "Le Numérique – tiers")
    page.locator(".mapapp-search-hit").first.click()
    page.locator(".mapapp-card").wait_for()
    box = placement(page, ".mapapp-card")
    assert inside_viewport(box), box
    assert box["covered"] == 0, box
    assert page.locator(".mapapp-card .mapapp-card-close").is_visible()
    if box["width"] < 600:  # a bottom sheet on phones
        assert box["bottom"] == pytest.approx(box["height"], abs=1)
        assert box["left"] == pytest.approx(0, abs=1)


@pytest.mark.parametrize("path", ["/?lang=fr&layers=context", "/embed?layers=context"])
def test_card_opened_by_a_tap_fits_and_keeps_its_place_visible(page, path):
    open_map(page, path + "&zoom=15&center=47.2474,6.0218")
    close_panel(page)
    marker = page.locator("path.leaflet-interactive").first
    if page.context.pages and page.viewport_size["width"] < 600:
        marker.tap(force=True)
    else:
        marker.click(force=True)
    page.locator(".mapapp-card").wait_for()
    box = placement(page, ".mapapp-card")
    assert inside_viewport(box) and box["covered"] == 0, box
    # the feature stays visible beside or above the card
    spot = page.evaluate("""() => {
        const m = window.mapapp.map, p = m.latLngToContainerPoint(m._popup.getLatLng());
        const r = m.getContainer().getBoundingClientRect();
        return {x: p.x + r.left, y: p.y + r.top};
    }""")
    assert not (
        box["left"] <= spot["x"] <= box["right"]
        and box["top"] <= spot["y"] <= box["bottom"]
    )


# --- 3. keyboard: search first, no marker tab stops, focus into cards and back -------


@pytest.mark.parametrize("path", ["/?lang=fr", "/embed?lang=fr"])
def test_search_is_reached_in_ten_tabs_and_markers_are_no_tab_stops(page, path):
    open_map(page, path)
    presses = tabs_to(
        page, "el => el && el.type === 'search' && !!el.closest('.mapapp-search')"
    )
    assert presses is not None and presses <= 10, presses
    stops = page.evaluate("""() => document.querySelectorAll(
        '.leaflet-map-pane [tabindex]:not([tabindex="-1"]), .leaflet-map-pane a[href]').length""")
    assert stops == 0
    # and Tab, pressed on, never lands on a shape of the map (Chromium makes an SVG
    # shape with focus listeners a tab stop)
    landed = []
    for _ in range(40):
        page.keyboard.press("Tab")
        landed.append(
            page.evaluate("() => !!document.activeElement.closest('.leaflet-map-pane')")
        )
    assert not any(landed)


def test_focus_goes_into_the_card_and_back(page):
    open_map(page, "/?lang=fr")
    close_panel(page)
    box = page.get_by_label("Rechercher par nom")
    box.focus()
    page.keyboard.type("Le Numérique – tiers")
    page.locator(".mapapp-search-hit").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(".mapapp-card").wait_for()
    page.wait_for_function(
        "() => document.activeElement.closest('.mapapp-card') !== null"
    )
    assert page.evaluate("() => document.activeElement.tagName") == "H2"
    page.keyboard.press("Tab")  # the close button and the card's links follow
    assert page.evaluate("() => !!document.activeElement.closest('.mapapp-card')")
    page.keyboard.press("Escape")
    page.locator(".mapapp-card").wait_for(state="detached")
    assert page.evaluate("() => document.activeElement.type") == "search"


def held_places(page) -> list:
    """Hold the search's requests for places until the test lets them go."""
    held: list = []
    page.route(re.compile(r"/api/places\?"), lambda route: held.append(route))
    return held


def wait_held(page, held: list) -> None:
    for _ in range(100):
        if held:
            return
        page.wait_for_timeout(50)
    raise AssertionError("the search never asked the server for places")


def test_a_late_answer_of_the_search_keeps_the_focus_and_the_card(page):
    held = held_places(page)
    open_map(page, "/?lang=fr")
    close_panel(page)
    box = page.get_by_label("Rechercher par nom")
    box.focus()
    page.keyboard.type("TEMIS")
    wait_held(page, held)
    # the map's own hits are there at once: a keyboard user goes down to the second
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = page.evaluate("() => document.activeElement.innerText")
    assert "TEMIS" in chosen
    with page.expect_response(re.compile(r"/api/places\?")):
        held.pop().continue_()
    # the places come first in the list drawn again; the focus stays on that hit
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mapapp-search-hit')]"
        ".some(b => /Quartier/.test(b.innerText))"
    )
    assert page.evaluate("() => document.activeElement.innerText") == chosen
    # a hit chosen while places are still on their way: the card stays, alone
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Village by CA")
    wait_held(page, held)
    page.keyboard.press("Enter")
    page.locator(".mapapp-card").wait_for()
    with page.expect_response(re.compile(r"/api/places\?")):
        held.pop().continue_()
    page.evaluate("() => new Promise(r => setTimeout(r, 100))")  # its answer handled
    assert page.locator(".mapapp-search-hit").count() == 0
    assert page.locator(".mapapp-card").is_visible()
    assert page.evaluate("() => !!document.activeElement.closest('.mapapp-card')")


# --- 4. a shape per layer, a legend that shows it -----------------------------------


def test_each_layer_is_drawn_with_its_own_shape(page):
    open_map(page, "/?lang=fr")
    shapes = page.evaluate("""() => {
        const m = window.mapapp.map, out = {};
        for (const [name, e] of Object.entries(m._mapapp.layers)) {
            if (e.cfg.geometry !== 'Point') continue;
            for (const f of e.features) {  /* a feature drawn on its own, in view */
                m.setView(f.layer.getLatLng(), 19, {animate: false});
                const d = f.layer._path ? f.layer._path.getAttribute('d') || '' : '';
                if (d.length > 8) {
                    out[name] = {arc: /a/i.test(d), corners: (d.match(/L/g) || []).length + 1, d};
                    break;
                }
            }
        }
        return out;
    }""")
    assert shapes["companies"]["arc"]  # circles
    assert {k: v["corners"] for k, v in shapes.items() if k != "companies"} == {
        "coworking": 4,  # square
        "schools": 3,  # triangle
        "context": 4,  # diamond
    }
    square = [float(v) for v in re.findall(r"[\d.]+", shapes["coworking"]["d"])]
    diamond = [float(v) for v in re.findall(r"[\d.]+", shapes["context"]["d"])]
    assert square[1] == square[3]  # a flat top edge
    assert diamond[0] == diamond[4]  # top and bottom corners on one vertical
    page.locator(".mapapp-legend summary").click()
    legend = page.evaluate("""() => [...document.querySelectorAll(
        '.mapapp-layer-toggle svg > *')].map(s => [s.tagName, (s.getAttribute('d') || '').length,
            s.getAttribute('fill') === '#ffffff', s.getAttribute('stroke-dasharray')].join())""")
    assert len(set(legend)) == len(legend) == 6  # six layers, six symbols


# --- 5. small screens: nothing overflows, nothing overlaps, panels fold ------------


@pytest.mark.parametrize("path", ["/", "/embed", "/list", "/share", "/data"])
def test_no_page_scrolls_sideways(page, path):
    page.goto(page.base + path + "?lang=fr")
    page.wait_for_load_state("load")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (path, width)


@pytest.mark.parametrize("path", ["/?lang=fr", "/embed?lang=fr"])
def test_corner_controls_do_not_overlap(page, path):
    open_map(page, path)
    close_panel(page)
    found = overlaps(
        page,
        [
            ".leaflet-control-scale",
            ".leaflet-control-attribution",
            ".mapapp-fullmap",
            ".mapapp-bar",
            ".mapapp-search",
            ".leaflet-control-zoom",
            ".mapapp-tools",
        ],
    )
    assert found == []


@pytest.mark.parametrize("width", [560, 640, 720, 800])
def test_corner_controls_do_not_overlap_at_middle_widths(browser, live_server, width):
    context = browser.new_context(
        viewport={"width": width, "height": 500}, locale="fr-FR"
    )
    page = context.new_page()
    page.goto(live_server.url + "/embed?lang=fr")
    page.wait_for_selector(READY, timeout=20000)
    found = overlaps(page, [".mapapp-bar", ".mapapp-search", ".leaflet-control-zoom"])
    page.get_by_label("Rechercher par nom").click()  # nothing covers it
    context.close()
    assert found == []


def test_layers_and_legend_fold_below_1400px_and_the_choice_is_kept(page):
    open_map(page, "/?lang=fr")
    legend = page.locator(".mapapp-legend")
    assert legend.get_attribute("open") is None
    covered = page.evaluate("""() => {
        const map = window.mapapp.map.getContainer().getBoundingClientRect();
        let area = 0;
        for (const el of document.querySelectorAll('.leaflet-control'))
          { const r = el.getBoundingClientRect(); area += r.width * r.height; }
        return area / (map.width * map.height);
    }""")
    assert covered < 0.2, covered  # the controls leave the map visible
    page.locator(".mapapp-legend summary").click()
    open_map(page, "/?lang=fr")
    assert page.locator(".mapapp-legend").get_attribute("open") is not None


# --- 6. context kept: embed link, /share code, /list on phones, headings -------------


def test_embed_full_map_link_keeps_the_view(page):
    open_map(page, "/embed?lang=en&layers=coworking,schools")
    page.evaluate("() => window.mapapp.map.setView([47.25, 5.99], 15)")
    page.wait_for_function(
        "() => document.querySelector('.mapapp-fullmap a').href.includes('zoom=15')"
    )
    href = page.locator(".mapapp-fullmap a").get_attribute("href")
    query = parse_qs(urlparse(href).query)
    assert urlparse(href).path == "/"
    assert query["center"] == ["47.25000,5.99000"] and query["zoom"] == ["15"]
    assert query["layers"] == ["coworking,schools"] and query["lang"] == ["en"]
    assert page.locator(".mapapp-fullmap a").get_attribute("target") == "_blank"


def test_share_code_follows_the_preview(page):
    page.goto(page.base + "/share?lang=fr")
    frame = page.frame_locator("#share-preview")
    frame.locator(READY).wait_for(timeout=20000)
    page.evaluate("""() => document.getElementById('share-preview').contentWindow
        .mapapp.map.setView([47.2218, 5.9585], 16)""")
    page.wait_for_function(
        "() => document.getElementById('share-code').value.includes('zoom=16')"
    )
    code = page.locator("#share-code").input_value()
    assert "center=47.22180%2C5.95850" in code
    frame.locator(".mapapp-legend summary").click()
    frame.get_by_label("Repères").uncheck()
    page.wait_for_function(
        "() => !document.querySelector('input[name=layer][value=context]').checked"
    )
    assert "layers=companies%2Ccoworking%2Cschools%2Cfibre%2Cperimeters" in (
        page.locator("#share-code").input_value()
    )


def test_list_can_be_sorted_on_every_screen(page):
    page.goto(page.base + "/list?lang=fr&layer=coworking")
    names = page.locator("tbody th").all_inner_texts()
    page.get_by_label("Trier par").select_option("name")
    page.get_by_label("Ordre").select_option("desc")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile("dir=desc"))
    assert page.locator("tbody th").all_inner_texts() == names[::-1]
    assert page.get_by_label("Trier par").is_visible()


@pytest.mark.parametrize("path", ["/?lang=fr", "/embed?lang=fr", "/list", "/data"])
def test_headings_never_skip_a_level(page, path):
    page.goto(page.base + path)
    page.wait_for_load_state("load")
    if "mapapp" in path or path.startswith(("/?", "/embed")):
        page.wait_for_selector(READY)
    levels = headings(page)
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels


# --- 7. place search: quarters, communes, addresses ---------------------------------


@pytest.fixture
def addresses(store, tmp_path):
    path = fixtures.write_ban(tmp_path / "adresses-25.csv.gz")
    run_import(store, "addresses", path, edition="2026-11-02")


def test_place_search_finds_a_quarter(page, addresses):
    open_map(page, "/?lang=fr")
    close_panel(page)
    search(page, "planoise chat")
    hit = page.locator(".mapapp-search-hit", has_text="Planoise – Châteaufarine").first
    assert "Quartier" in hit.inner_text()
    hit.click()
    page.locator(".mapapp-card", has_text="Planoise – Châteaufarine").wait_for()
    inside = page.evaluate(
        "() => window.mapapp.map.getBounds().contains([47.2233, 5.9628])"
    )
    # the whole quarter in the part of the map its answer card leaves (issue 19):
    # on a phone, above the bottom sheet
    least = 12 if page.viewport_size["width"] < 600 else 13
    assert inside and page.evaluate("() => window.mapapp.map.getZoom()") >= least


def test_place_search_finds_a_commune(page, addresses):
    open_map(page, "/embed?lang=fr")
    search(page, "ecole-val")
    hit = page.locator(".mapapp-search-hit", has_text="École-Valentin").first
    assert "Commune" in hit.inner_text()
    hit.click()
    page.wait_for_function(
        "() => window.mapapp.map.getBounds().contains([47.26721, 5.9897])"
    )


def test_place_search_finds_an_imported_address(page, addresses):
    open_map(page, "/?lang=fr")
    close_panel(page)
    search(page, "12 rue du luxembourg")
    hit = page.locator(".mapapp-search-hit", has_text="12 Rue du Luxembourg").first
    assert "Adresse" in hit.inner_text()
    hit.click()
    card = page.locator(".mapapp-card", has_text="12 Rue du Luxembourg")
    card.locator("text=Planoise – Châteaufarine : 98 %").wait_for()
    text = card.inner_text()
    assert (
        "Valeurs illustratives" in text
        and "Base Adresse Nationale (2026-11-02)" in text
    )
    # issue 19: the nearest OPEN place first; Le Numérique (under construction, 10 m
    # away) among those to come, apart
    nearest = card.locator(".mapapp-nearest li").all_inner_texts()
    assert nearest[0].startswith("Fabrique numérique de Besançon – Planoise")
    assert "à vol d'oiseau" in nearest[0]
    coming = card.locator(".mapapp-coming li").first.inner_text()
    assert coming.startswith("Le Numérique – tiers-lieu de Planoise")
    assert inside_viewport(placement(page, ".mapapp-card"))
    card.get_by_role("button", name="Le Numérique – tiers-lieu de Planoise").click()
    page.locator(".mapapp-card", has_text="En travaux").wait_for()


# --- 8. the info panel ----------------------------------------------------------------


def test_info_panel_tells_what_the_map_is_and_shares_the_view(page, device):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_map(page, "/?lang=fr")
    panel = page.locator(".mapapp-panel")
    if device == "desktop":
        assert panel.is_visible()  # open on a first visit of the full map
    else:
        assert panel.is_hidden()  # a bottom sheet would hide the map
        page.get_by_role("button", name="À propos").click()
    text = panel.inner_text()
    assert "À propos de cette carte" in text
    assert (
        "Couverture fibre (FttH) : 14 sur 14" in text
    )  # which values are illustrative
    assert "Licence" in text and "Date de source la plus récente" in text
    # each layer's own licence, as /data states it (perimeters are public domain,
    # the stations' coordinates come under ODbL)
    assert "CC0 1.0" in text and "ODbL" in text
    assert "voir la page des données ouvertes" not in text
    downloads = panel.locator("a[href*='/download/fibre.']")
    assert downloads.count() == 3
    page.evaluate("() => window.mapapp.map.setView([47.25, 5.99], 15)")
    page.wait_for_function(  # the shared link follows the view once it has moved
        "() => document.querySelector('.mapapp-share-field input').value"
        ".includes('zoom=15')"
    )
    panel.get_by_role("button", name="Copier le lien").click()
    panel.get_by_text("Copié dans le presse-papiers.").wait_for()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "center=47.25000%2C5.99000" in copied and "zoom=15" in copied
    panel.get_by_role("button", name="Copier le code").click()
    page.wait_for_function(
        "async () => (await navigator.clipboard.readText()).startsWith('<iframe')"
    )
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("<iframe src=") and "/embed?" in copied
    panel.get_by_role("button", name="Fermer le panneau").click()
    assert panel.is_hidden()
    assert page.evaluate("() => document.activeElement.textContent").strip() in (
        "iÀ propos",
        "",
    ) or page.evaluate("() => document.activeElement.getAttribute('aria-controls')")
    open_map(page, "/?lang=fr")  # closing is remembered
    assert page.locator(".mapapp-panel").is_hidden()


def test_info_panel_is_closed_in_embeds(page):
    open_map(page, "/embed?lang=en")
    assert page.locator(".mapapp-panel").is_hidden()
    button = page.get_by_role("button", name="About")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    assert page.locator(".mapapp-panel").is_visible()
    assert button.get_attribute("aria-expanded") == "true"
    assert "Illustrative values" in page.locator(".mapapp-panel").inner_text()


# --- 9. the data browser ---------------------------------------------------------------


def test_data_browser_lists_the_places_in_view_and_opens_their_cards(page):
    open_map(page, "/?lang=fr")
    close_panel(page)
    page.get_by_role("button", name="Liste").click()
    panel = page.locator(".mapapp-panel")
    panel.get_by_label("Couche").select_option("coworking")
    in_view = page.evaluate("""() => {
        const m = window.mapapp.map, e = m._mapapp.layers.coworking;
        return e.features.filter(f => m.getBounds().contains(f.layer.getLatLng())).length;
    }""")
    items = panel.locator(".mapapp-browse-item")
    assert items.count() == in_view > 0
    assert (
        f"{in_view} dans cette vue"
        in panel.locator(".mapapp-browse-count").inner_text()
    )
    panel.get_by_label("Catégorie").select_option(label="Ouvert")
    for text in items.all_inner_texts():
        assert text.endswith("Ouvert")
    first = items.first
    name = first.locator(".mapapp-browse-name").inner_text()
    first.focus()
    page.keyboard.press("Enter")
    card = page.locator(".mapapp-card", has_text=name)
    card.wait_for()
    assert inside_viewport(placement(page, ".mapapp-card"))
    page.wait_for_function("() => !!document.activeElement.closest('.mapapp-card')")
    card.get_by_role("button", name="Retour à la liste").click()
    # the list is drawn again, then focus goes back to the item the card came from
    page.wait_for_function(
        "() => (document.activeElement.dataset.key || '').startsWith('coworking:')",
        timeout=5000,
    )


def test_data_browser_of_a_large_layer_asks_the_server(page, app):
    app.config["INLINE_MAX_FEATURES"] = 5  # companies come as compact arrays
    open_map(page, "/embed?lang=fr&layers=companies&zoom=14&center=47.25,5.995")
    page.get_by_role("button", name="Liste").click()
    panel = page.locator(".mapapp-panel")
    panel.locator(".mapapp-browse-item").first.wait_for()
    count = panel.locator(".mapapp-browse-count").inner_text()
    assert re.match(r"\d+ dans cette vue", count)
    item = panel.locator(".mapapp-browse-item").first
    name = item.locator(".mapapp-browse-name").inner_text()
    item.click()
    page.locator(".mapapp-card", has_text=name).wait_for()


def test_data_browser_of_a_large_layer_filters_names_on_the_server(page, app):
    app.config["INLINE_MAX_FEATURES"] = 5
    open_map(page, "/embed?lang=fr&layers=companies&zoom=12&center=47.24,6.0")
    page.get_by_role("button", name="Liste").click()
    panel = page.locator(".mapapp-panel")
    panel.locator(".mapapp-browse-item").first.wait_for()
    # issue 19: the name and what a company does ("Nom ou activité contient")
    panel.get_by_label("Nom ou activité contient").fill("SMARTest")
    page.wait_for_function(
        "() => document.querySelectorAll('.mapapp-browse-item').length === 1"
    )
    assert panel.locator(".mapapp-browse-name").inner_text() == "Smartesting"
    assert "1 dans cette vue" in panel.locator(".mapapp-browse-count").inner_text()


def test_data_browser_of_a_large_layer_opens_commune_level_ones_on_their_badge(
    page, app, store
):
    """Issue 20, item 5: the OGC API serves companies located at commune level
    without a geometry, so its bbox never lists them; the list asks for those of
    the badges in view, and a name opens its card on the badge."""
    app.config["INLINE_MAX_FEATURES"] = 5
    companies = store.read("companies")
    at_commune = companies[companies["precision"] == "commune"]
    anchor = at_commune.geometry.iloc[0]
    name = at_commune["name"].iloc[0]
    open_map(
        page, f"/embed?lang=fr&layers=companies&zoom=13&center={anchor.y},{anchor.x}"
    )
    page.get_by_role("button", name="Liste").click()
    panel = page.locator(".mapapp-panel")
    panel.locator(".mapapp-browse-item").first.wait_for()
    listed = set(panel.locator(".mapapp-browse-name").all_inner_texts())
    assert set(at_commune["name"]) & listed, listed
    panel.get_by_label(re.compile(r"^Nom\b.* contient$")).fill(name[:12])
    item = panel.locator(".mapapp-browse-item").filter(
        has=page.locator(".mapapp-browse-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )
    item.wait_for()
    item.click()
    card = page.locator(".mapapp-card", has_text=name)
    card.wait_for()
    assert "Localisation à la commune seulement" in card.inner_text()


def test_zoom_buttons_are_named_in_the_page_language(page):
    open_map(page, "/?lang=fr")
    zoom_in = page.locator(".leaflet-control-zoom-in")
    assert zoom_in.get_attribute("aria-label") == "Zoomer"
    assert (
        page.locator(".leaflet-control-zoom-out").get_attribute("title") == "Dézoomer"
    )
