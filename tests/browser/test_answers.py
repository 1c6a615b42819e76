"""Every place the public map is asked about answers (issue 19), on a 360x740 touch
phone and a 1280x800 desktop, in French and English, driven as a visitor would:
the answer card of a commune, a quarter, an address, "locate me" and a long press or
a right click; the list nearest first from the chosen place; search by what schools
teach; and the small breaks (focus under a card, the list after "back", the tool
icons on hover). What is asserted is what is seen: text inside the screen and not
covered (elementFromPoint), not only the DOM."""

from __future__ import annotations

import re

import pytest
from shapely.geometry import Point

from mapapp.importers import run_import
from tests.browser.checks import inside_viewport, placement, visitor
from tests.browser.conftest import Watched
from tests.importers import fixtures

pytestmark = pytest.mark.browser

READY = ".folium-map[data-mapapp-ready=true]"
ANSWER = ".mapapp-answer .mapapp-distance-note"  # the card holds the server's answer

WORDS = {
    "fr-FR": {
        "search": "Rechercher par nom",
        "no_figure": "Aucun chiffre pour ce lieu",
        "coworking": "Coworking et tiers-lieux ouverts les plus proches",
        "schools": "Écoles et formations les plus proches",
        "stations": "Gares les plus proches",
        "crow": "à vol d'oiseau",
        "walk": re.compile(
            r"environ \d+ min à pied|plus de 2 heures à pied|environ \d h"
        ),
        "note": "Distances à vol d'oiseau ; temps de marche estimés à 4,5 km/h",
        "coming": "À venir",
        "under_construction": "En travaux",
        "opening": "ouverture annoncée : 2027",
        "back": "Retour à : ",
        "position": "Votre position",
        "point": "Lieu choisi sur la carte",
        "commune": "Commune",
        "quarter": "Quartier",
        "list": "Liste",
        "layer": "Couche",
        "order": "Ordre",
        "near": "Les plus proches de : ",
        "none": "Aucun lieu de cette couche dans cette vue.",
        "widen": "Élargir la vue jusqu'aux plus proches",
        "fibre_zones": "Les 14 zones fibre de ce lieu ensemble",
        "locate": "Me localiser",
    },
    "en-GB": {
        "search": "Search by name",
        "no_figure": "No figure for this place",
        "coworking": "Nearest open coworking places",
        "schools": "Nearest schools and training",
        "stations": "Nearest stations",
        "crow": "as the crow flies",
        "walk": re.compile(
            r"about \d+ min on foot|more than 2 hours on foot|about \d h"
        ),
        "note": "Distances as the crow flies; times on foot estimated at 4.5 km/h",
        "coming": "To come",
        "under_construction": "Under construction",
        "opening": "opening: 2027",
        "back": "Back to: ",
        "position": "Your position",
        "point": "Place chosen on the map",
        "commune": "Commune",
        "quarter": "Quarter",
        "list": "List",
        "layer": "Layer",
        "order": "Order",
        "near": "Nearest first from: ",
        "none": "No place of this layer in this view.",
        "widen": "Widen the view to the nearest ones",
        "fibre_zones": "The 14 fibre zones of this place together",
        "locate": "Show my location",
    },
}


@pytest.fixture(params=["phone", "desktop"])
def device(request):
    return request.param


@pytest.fixture(params=["fr-FR", "en-GB"])
def lang(request):
    return request.param


@pytest.fixture
def page(browser, live_server, device, lang):
    context = visitor(
        browser,
        device,
        lang,
        geolocation={"latitude": 47.2405, "longitude": 6.0225, "accuracy": 35},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.watched = Watched(page, "127.0.0.1")
    page.base = live_server.url
    page.words = WORDS[lang]
    page.lang = lang[:2]
    yield page
    assert page.watched.errors == [], page.watched.errors
    assert page.watched.outside == [], page.watched.outside
    context.close()


@pytest.fixture
def addresses(store, tmp_path):
    path = fixtures.write_ban(tmp_path / "adresses-25.csv.gz")
    run_import(store, "addresses", path, edition="2026-11-02")


def open_map(page, query: str = ""):
    page.goto(f"{page.base}/?lang={page.lang}{query}")
    page.wait_for_selector(READY, timeout=20000)
    if page.locator(".mapapp-panel:not([hidden])").count():
        press(page, page.locator(".mapapp-panel .mapapp-card-close"))
    return page


def press(page, locator):
    """A tap on a touch phone, a click elsewhere."""
    if page.viewport_size["width"] < 600:
        locator.tap()
    else:
        locator.click()


def choose_place(page, text: str, name: str, kind: str | None = None):
    """Type in the search, choose the hit of that name (and kind: Commune...)."""
    page.get_by_label(page.words["search"]).fill(text)
    hit = page.locator(".mapapp-search-hit", has_text=name)
    if kind:
        hit = hit.filter(has=page.locator(".mapapp-search-layer", has_text=kind))
    press(page, hit.first)
    page.locator(ANSWER).wait_for(timeout=15000)
    return page.locator(".mapapp-card")


# Scrolled into the card's view as a reader scrolls, the element's text (each line
# box of it, or the element itself when it holds none) is inside the screen and the
# topmost thing at the middle and ends of each line.
_SEEN = """(el) => {
  el.scrollIntoView({block: 'nearest'});
  const range = document.createRange();
  range.selectNodeContents(el);
  const own = el.getBoundingClientRect();
  // text lines, cut to the element's box (a visually hidden label's text overflows
  // its 1-pixel box: not seen, not measured)
  let boxes = [...range.getClientRects()].map(r => {
    const left = Math.max(r.left, own.left), right = Math.min(r.right, own.right);
    const top = Math.max(r.top, own.top), bottom = Math.min(r.bottom, own.bottom);
    return {left, right, top, bottom, width: right - left, height: bottom - top};
  }).filter(r => r.width > 4 && r.height > 4);
  if (!boxes.length) boxes = [own];
  let inside = true, covered = 0;
  for (const r of boxes) {
    inside = inside && r.left >= 0 && r.top >= 0 && r.right <= innerWidth + 0.5 &&
             r.bottom <= innerHeight + 0.5;
    const y = (r.top + r.bottom) / 2;
    for (const x of [r.left + 2, (r.left + r.right) / 2, r.right - 2]) {
      const at = document.elementFromPoint(x, y);
      if (!(at && (at === el || el.contains(at)))) covered += 1;
    }
  }
  return {inside, covered};
}"""


def seen(locator) -> bool:
    """The element can be read: inside the screen, nothing drawn over it."""
    found = locator.evaluate(_SEEN)
    return found["inside"] and found["covered"] == 0


def card_is_readable(page):
    box = placement(page, ".mapapp-card")
    assert inside_viewport(box) and box["covered"] == 0, box
    if page.viewport_size["width"] < 600:  # a bottom sheet
        assert box["bottom"] == pytest.approx(box["height"], abs=1)


# --- 1. the answer card of every place ----------------------------------------------


def test_a_commune_answers_with_the_same_card(page):
    words = page.words
    open_map(page)
    card = choose_place(page, "saint-vit", "Saint-Vit", page.words["commune"])
    card_is_readable(page)
    assert seen(card.locator("h2", has_text="Saint-Vit"))
    # no fibre zone there: said, with why, never shown as a figure
    why = card.locator("p", has_text=words["no_figure"])
    assert seen(why)
    # the nearest open coworking places, with distance and walking time
    heading = card.locator("h3", has_text=words["coworking"])
    assert seen(heading)
    first = card.locator(".mapapp-nearest").first.locator("li").first
    assert seen(first)
    detail = first.locator(".mapapp-answer-detail").inner_text()
    assert words["crow"] in detail and words["walk"].search(detail), detail
    for title in ("schools", "stations"):
        assert seen(card.locator("h3", has_text=words[title]))
    note = card.locator(".mapapp-distance-note")
    assert seen(note) and words["note"] in note.inner_text()
    # the commune's outline is drawn and left visible beside or above the card
    assert page.evaluate("() => !!window.mapapp.map._mapapp.placeLayer")
    spot = page.evaluate("""() => {
        const m = window.mapapp.map, p = m.latLngToContainerPoint([47.1883, 5.81432]);
        const r = m.getContainer().getBoundingClientRect();
        return document.elementFromPoint(p.x + r.left, p.y + r.top).closest('.mapapp-card');
    }""")
    assert spot is None  # the commune's centre is not under the card


def test_a_line_opens_its_feature_and_the_way_back(page):
    words = page.words
    open_map(page)
    card = choose_place(
        page, "pouilley-les-vignes", "Pouilley-les-Vignes", page.words["commune"]
    )
    line = card.locator(".mapapp-nearest").first.locator("button").first
    name = line.inner_text()
    line.scroll_into_view_if_needed()
    press(page, line)
    feature = page.locator(".mapapp-card", has_text=name)
    feature.locator("dl").wait_for()
    card_is_readable(page)
    back = feature.locator(".mapapp-back")
    assert seen(back) and back.inner_text() == words["back"] + "Pouilley-les-Vignes"
    press(page, back)
    page.locator(ANSWER).wait_for()
    assert seen(page.locator(".mapapp-card h2", has_text="Pouilley-les-Vignes"))


def test_a_quarter_answers_with_fibre_and_coworking(page):
    words = page.words
    open_map(page)
    card = choose_place(page, "planoise", "Planoise – Châteaufarine")
    assert words["quarter"] in card.locator(".mapapp-popup-layer").inner_text()
    fibre = card.locator("p", has_text="98")
    assert seen(fibre) and "Planoise – Châteaufarine" in fibre.inner_text()
    assert seen(card.locator("h3", has_text=words["coworking"]))
    assert card.locator(".mapapp-nearest li").count() >= 3
    # the fibre line opens the zone's own card, with the way back
    press(page, fibre.get_by_role("button", name="Planoise – Châteaufarine"))
    zone = page.locator(".mapapp-card", has_text="25056-Q09")
    zone.locator("dl").wait_for()
    assert seen(zone.locator(".mapapp-back"))


def test_the_commune_of_besancon_counts_its_fibre_zones_together(page):
    open_map(page)
    card = choose_place(page, "besancon", "Besançon", page.words["commune"])
    together = card.locator("p", has_text=page.words["fibre_zones"])
    assert seen(together)
    zones = card.locator(".mapapp-answer-zones")
    press(page, zones.locator("summary"))
    assert zones.locator("li").count() == 14


def test_an_address_lists_open_places_first_and_those_to_come_apart(page, addresses):
    words = page.words
    open_map(page)
    card = choose_place(page, "12 rue du luxembourg", "12 Rue du Luxembourg")
    lines = card.locator(".mapapp-nearest").first.locator("li").all_inner_texts()
    # Le Numérique, 10 m away, is not open: the nearest OPEN place comes first
    assert lines[0].startswith("Fabrique numérique de Besançon – Planoise")
    coming = card.locator(".mapapp-coming").first.locator("li").first
    assert seen(coming)
    text = coming.inner_text()
    assert text.startswith("Le Numérique – tiers-lieu de Planoise")
    assert words["under_construction"] in text and words["opening"] in text
    assert words["crow"] in text
    # schools say what they teach
    taught = card.locator(".mapapp-answer-teaches").first
    assert seen(taught) and "web" in taught.inner_text()


def test_locate_me_answers_where_i_am(page):
    words = page.words
    open_map(page)
    press(page, page.get_by_role("button", name=words["locate"]))
    page.locator(ANSWER).wait_for(timeout=15000)
    card_is_readable(page)
    card = page.locator(".mapapp-card")
    assert seen(card.locator("h2", has_text=words["position"]))
    assert "Centre – la Boucle" in card.locator("p", has_text="31").inner_text()
    assert seen(card.locator("h3", has_text=words["coworking"]))


def long_press(page, x: float, y: float) -> None:
    """A finger held on the screen (real touch events through the DevTools
    protocol, as a phone sends them)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]},
    )
    page.wait_for_timeout(900)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_long_press_or_a_right_click_asks_about_that_point(page):
    words = page.words
    open_map(page, "&center=47.2218,5.9585&zoom=15")
    size = page.viewport_size
    x, y = size["width"] / 2, size["height"] * 0.6
    if size["width"] < 600:
        long_press(page, x, y)
    else:
        page.mouse.click(x, y, button="right")
    page.locator(ANSWER).wait_for(timeout=15000)
    assert page.locator(".mapapp-answer").count() == 1  # one press, one answer
    card_is_readable(page)
    card = page.locator(".mapapp-card")
    assert seen(card.locator("h2", has_text=words["point"]))
    assert seen(card.locator("h3", has_text=words["coworking"]))
    # the point asked about is drawn, and not under the card
    spot = page.evaluate("""() => {
        const m = window.mapapp.map, l = m._mapapp.placeLayer;
        const p = m.latLngToContainerPoint(l.getLatLng());
        const r = m.getContainer().getBoundingClientRect();
        const at = document.elementFromPoint(p.x + r.left, p.y + r.top);
        return !!(at && at.closest('.mapapp-card'));
    }""")
    assert spot is False


IN_COMMUNE = {
    "fr-FR": "Dans cette commune, emplacement inconnu",
    "en-GB": "In this commune",
}
COMMUNE_LEVEL = {
    "fr-FR": "Localisation à la commune seulement",
    "en-GB": "Located at commune level only",
}


def test_a_place_known_only_by_its_commune_is_listed_apart_without_distance(
    page, store, lang
):
    # as if no source gave more than the commune: its anchor, never a distance
    store.update(
        "coworking", "village-by-ca", {"precision": "commune"}, Point(6.01871, 47.26017)
    )
    open_map(page)
    card = choose_place(page, "besancon", "Besançon", page.words["commune"])
    assert seen(card.locator("h4", has_text=IN_COMMUNE[lang]))
    line = card.locator(".mapapp-in-commune li").first
    assert seen(line)
    assert line.inner_text().startswith("Village by CA Besançon")
    assert COMMUNE_LEVEL[lang] in line.inner_text()
    assert page.words["crow"] not in line.inner_text()
    nearest = card.locator(".mapapp-nearest").first.inner_text()
    assert "Village by CA" not in nearest
    press(page, line.get_by_role("button"))
    page.locator(
        ".mapapp-card .mapapp-popup-title", has_text="Village by CA"
    ).wait_for()


def test_a_line_of_a_large_layer_opens_its_card(page, app, addresses):
    app.config["INLINE_MAX_FEATURES"] = 5  # coworking comes as compact arrays
    open_map(page)
    card = choose_place(page, "12 rue du luxembourg", "12 Rue du Luxembourg")
    line = card.locator(".mapapp-nearest").first.get_by_role("button").first
    assert line.inner_text() == "Fabrique numérique de Besançon – Planoise"
    press(page, line)
    feature = page.locator(".mapapp-card", has_text="Fablab")
    feature.locator("dl").wait_for()
    assert seen(feature.locator("h2", has_text="Fabrique numérique"))
    assert seen(feature.locator(".mapapp-back"))


# --- 2. the list, nearest first from the chosen place ---------------------------------


def test_the_list_puts_the_nearest_first_and_widens_the_view(page, addresses):
    words = page.words
    open_map(page)
    choose_place(page, "12 rue du luxembourg", "12 Rue du Luxembourg")
    press(page, page.locator(".mapapp-card .mapapp-card-close"))
    page.locator(".mapapp-card").wait_for(state="detached")
    press(page, page.get_by_role("button", name=words["list"]))
    panel = page.locator(".mapapp-panel")
    panel.get_by_label(words["layer"]).select_option("schools")
    order = panel.get_by_label(words["order"])
    assert order.locator("option:checked").inner_text().startswith(words["near"])
    items = panel.locator(".mapapp-browse-item")
    items.first.wait_for()
    metres = []
    for text in items.all_inner_texts():
        found = re.search(r"([\d,.]+) (k?m) ", text)
        value = float(found.group(1).replace(",", "."))
        metres.append(value * (1000 if found.group(2) == "km" else 1))
    assert metres == sorted(metres) and metres[0] < 200, metres
    assert seen(items.first.locator(".mapapp-browse-distance"))
    # a layer with nothing in view: a way forward, not a dead end
    panel.get_by_label(words["layer"]).select_option("context")
    assert panel.locator(".mapapp-browse-count").inner_text() == words["none"]
    widen = panel.get_by_role("button", name=words["widen"])
    assert seen(widen)
    press(page, widen)
    page.wait_for_function(
        "() => document.querySelectorAll('.mapapp-browse-item').length > 0"
    )
    first = panel.locator(".mapapp-browse-item").first
    assert (
        "Gare de Besançon-Viotte" in panel.locator(".mapapp-browse-list").inner_text()
    )
    assert seen(first)
    # the nearest ones are on the map now, not under the panel
    hidden = page.evaluate("""() => {
        const m = window.mapapp.map, e = m._mapapp.layers.context;
        const panel = document.querySelector('.mapapp-panel').getBoundingClientRect();
        const r = m.getContainer().getBoundingClientRect();
        return e.features.filter(f => !f.props && m.getBounds().contains(f.layer.getLatLng()))
          .filter(f => { const p = m.latLngToContainerPoint(f.layer.getLatLng());
            const x = p.x + r.left, y = p.y + r.top;
            return x >= panel.left && x <= panel.right && y >= panel.top && y <= panel.bottom; })
          .length;
    }""")
    in_view = page.evaluate("""() => {
        const m = window.mapapp.map, e = m._mapapp.layers.context;
        return e.features.filter(f => !f.props &&
          m.getBounds().contains(f.layer.getLatLng())).length;
    }""")
    assert in_view >= 1 and hidden < in_view


# --- 4. search covers what schools teach --------------------------------------------

TAUGHT = {"fr-FR": "Formations numériques : ", "en-GB": "Digital programmes: "}


def test_map_search_finds_schools_by_what_they_teach(page, lang):
    open_map(page)
    page.get_by_label(page.words["search"]).fill("informatique")
    hit = page.locator(".mapapp-search-hit", has_text="UFR Sciences et techniques")
    hit.wait_for()
    said = hit.locator(".mapapp-search-matched")
    assert seen(said) and said.inner_text().startswith(TAUGHT[lang])
    assert "master d'informatique" in said.inner_text()
    names = page.locator(".mapapp-search-name").all_inner_texts()
    assert not [n for n in names if n.startswith("Lycée")]  # "none confirmed"
    press(page, hit)
    page.locator(".mapapp-card", has_text="UFR Sciences et techniques").wait_for()


NAME_OR = {
    "fr-FR": "Nom ou formations numériques contient",
    "en-GB": "Name or digital programmes contains",
}


@pytest.mark.parametrize("large", [False, True], ids=["drawn", "server-listed"])
def test_the_map_list_filters_by_what_schools_teach(page, app, lang, large):
    if large:  # schools come as compact arrays; the list asks the OGC API
        app.config["INLINE_MAX_FEATURES"] = 5
    open_map(page, "&zoom=12&center=47.24,5.99")
    press(page, page.get_by_role("button", name=page.words["list"]))
    panel = page.locator(".mapapp-panel")
    panel.get_by_label(page.words["layer"]).select_option("schools")
    panel.locator(".mapapp-browse-item").first.wait_for()
    panel.get_by_label(NAME_OR[lang]).fill("informatique")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mapapp-browse-name')]"
        ".every(n => !n.textContent.startsWith('Lycée'))"
        " && document.querySelectorAll('.mapapp-browse-item').length === 3"
    )
    names = set(panel.locator(".mapapp-browse-name").all_inner_texts())
    assert "UFR Sciences et techniques" in names and "SUPMICROTECH-ENSMM" in names
    ufr = panel.locator(".mapapp-browse-item", has_text="UFR Sciences")
    said = ufr.locator(".mapapp-browse-matched")
    assert seen(said) and said.inner_text().startswith(TAUGHT[lang])
    count = panel.locator(".mapapp-browse-count").inner_text()
    assert count.startswith("3 ")


# --- 5. small breaks -------------------------------------------------------------------


def test_focus_never_lands_under_an_open_card(page):
    """About open, search, Enter, then Tab on: every stop is seen (keyboard only)."""
    page.goto(f"{page.base}/?lang={page.lang}")
    page.wait_for_selector(READY, timeout=20000)
    about = page.locator(".mapapp-panel-button").first
    if about.get_attribute("aria-expanded") != "true":
        about.focus()
        page.keyboard.press("Enter")
    page.locator(".mapapp-panel:not([hidden])").wait_for()
    page.get_by_label(page.words["search"]).focus()
    page.keyboard.type("Village by CA")
    page.locator(".mapapp-search-hit").first.wait_for()
    page.keyboard.press("Enter")
    page.locator(".mapapp-card").wait_for()
    page.wait_for_function("() => !!document.activeElement.closest('.mapapp-card')")
    # on, then back past the card to the panel buttons and the search
    for key in ["Tab"] * 6 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        focused = page.evaluate_handle("() => document.activeElement")
        if page.evaluate("(el) => el === document.body", focused):
            continue
        where = focused.evaluate(_SEEN)
        what = focused.evaluate("(el) => el.outerHTML.slice(0, 80)")
        assert where["inside"] and where["covered"] == 0, what
    # the panel comes back when the card closes
    page.locator(".mapapp-card .mapapp-card-close").focus()
    page.keyboard.press("Enter")
    page.locator(".mapapp-card").wait_for(state="detached")
    assert page.locator(".mapapp-panel").is_visible()


def test_the_list_is_the_same_after_back_to_the_list(page):
    open_map(page, "&zoom=12&center=47.235,5.99")  # every school in view
    press(page, page.get_by_role("button", name=page.words["list"]))
    panel = page.locator(".mapapp-panel")
    panel.get_by_label(page.words["layer"]).select_option("schools")
    items = panel.locator(".mapapp-browse-item")
    items.first.wait_for()
    before = panel.locator(".mapapp-browse-count").inner_text()
    names = items.all_inner_texts()
    assert len(names) == 17
    press(page, items.nth(3))
    card = page.locator(".mapapp-card")
    card.locator("dl").wait_for()
    press(page, card.locator(".mapapp-back"))
    page.locator(".mapapp-card").wait_for(state="detached")
    # once the map is back where it was (a zoom to the feature may still be under
    # way), the list is the one left, with the focus on the item opened
    page.wait_for_function(
        "(n) => document.querySelectorAll('.mapapp-browse-item').length === n"
        " && document.activeElement.matches('.mapapp-browse-item')"
        " && !window.mapapp.map._animatingZoom",
        arg=len(names),
    )
    assert panel.locator(".mapapp-browse-count").inner_text() == before
    assert items.all_inner_texts() == names
    assert seen(page.locator(".mapapp-browse-item:focus"))


def test_hovering_a_tool_keeps_its_icon(page):
    if page.viewport_size["width"] < 600:
        pytest.skip("no hover on a touch phone")
    open_map(page)
    for name in ("mapapp-reset", "mapapp-fullscreen", "mapapp-locate"):
        tool = page.locator(f".mapapp-tools .{name}")
        tool.hover()
        style = tool.evaluate(
            "(b) => [getComputedStyle(b).backgroundImage, b.matches(':hover')]"
        )
        assert style[1] and style[0].startswith('url("data:image/svg+xml'), (
            name,
            style,
        )


def test_share_code_titles_the_frame_in_the_language_chosen_for_the_map(page):
    page.goto(f"{page.base}/share?lang={page.lang}")
    page.frame_locator("#share-preview").locator(READY).wait_for(timeout=20000)
    code = page.locator("#share-code")
    other = "en" if page.lang == "fr" else "fr"
    page.locator("#share-lang").select_option(other)
    title = {
        "en": 'title="Map of the digital economy of Besançon"',
        "fr": 'title="Carte de l\'économie numérique de Besançon"',
    }
    page.wait_for_function(
        "(t) => document.getElementById('share-code').value.includes(t)",
        arg=title[other],
    )
    assert f"lang={other}" in code.input_value()
    assert page.locator("#share-basemap").count() == 0  # none on this server
