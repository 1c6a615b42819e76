"""The public map, /embed, /share and /list as a visitor meets them in Chromium."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from shapely.geometry import Point

from tests.browser.conftest import map_counts, open_map

pytestmark = pytest.mark.browser


def test_toggling_a_layer_hides_it(watched, live_server):
    page = open_map(watched, live_server.url + "/?lang=fr")
    before = page.locator("path.leaflet-interactive").count()
    # the layers fold behind their button on maps narrower than 1400 px (issue 12)
    page.get_by_text("Couches et légende").click()
    page.get_by_label("Couverture fibre (FttH)").uncheck()
    after = page.locator("path.leaflet-interactive").count()
    assert before - after == 14
    assert "layers=companies%2Ccoworking%2Cschools%2Ccontext%2Cperimeters" in page.url
    assert page.locator('.mapapp-legend [data-layer="fibre"]').is_hidden()


def test_language_switch(watched, live_server):
    page = open_map(watched, live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="English").click()
    page.wait_for_selector(".folium-map[data-mapapp-ready=true]")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_text("Layers and legend").click()  # folded, built when opened
    assert page.get_by_label("Digital companies").count() == 1
    page.goto(live_server.url + "/list")  # the choice is kept in a cookie
    assert page.locator("h1").inner_text().startswith("Places of the digital")


def test_search_finds_a_feature_and_opens_its_popup(watched, live_server):
    page = open_map(watched, live_server.url + "/?lang=fr")
    page.get_by_label("Rechercher par nom").fill("numerique")
    page.locator(".mapapp-search-hit", has_text="Le Numérique – tiers-lieu").click()
    popup = page.locator(".mapapp-popup")
    popup.wait_for()
    assert "En travaux" in popup.inner_text() and "2027" in popup.inner_text()
    assert "feature=coworking%3Ale-numerique" in page.url


def test_permalink_reopens_the_same_view(watched, live_server):
    page = open_map(watched, live_server.url + "/?lang=fr")
    page.evaluate("""() => { const m = window.mapapp.map;
                             m.setView([47.25, 5.99], 16); }""")
    page.wait_for_function("() => location.search.includes('zoom=16')")
    url = page.url
    assert "center=47.25000%2C5.99000" in url
    page2 = open_map(watched, url)
    zoom = page2.evaluate("() => window.mapapp.map.getZoom()")
    assert zoom == 16


def test_feature_option_opens_its_popup(watched, live_server):
    # the IUT: ONISEP gives two positions 300 m apart for its address (issue 20)
    url = "/embed?feature=schools:iut-besancon-vesoul&lang=en"
    open_map(watched, live_server.url + url)
    popup = watched.page.locator(".mapapp-popup")
    popup.wait_for()
    assert "IUT" in popup.inner_text() and "Approximate location" in popup.inner_text()


class HostPage(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):  # noqa: N802 - http.server's name
        body = (
            f"<!doctype html><title>host</title><h1>Un site partenaire</h1>"
            f'<iframe id="f" src="{self.target}" width="600" height="400" '
            f'title="carte"></iframe>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_embed_works_inside_an_iframe_of_another_origin(watched, live_server):
    HostPage.target = live_server.url + "/embed?layers=coworking,schools"
    host = ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        page = watched.page
        page.goto(f"http://localhost:{host.server_address[1]}/")
        frame = page.frame_locator("#f")
        frame.locator(".folium-map[data-mapapp-ready=true]").wait_for(timeout=20000)
        assert frame.locator("path.leaflet-interactive").count() >= 20
        assert watched.errors == []
    finally:
        host.shutdown()


def test_other_pages_refuse_to_be_framed(watched, live_server):
    HostPage.target = live_server.url + "/list"
    host = ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        page = watched.page
        page.goto(f"http://localhost:{host.server_address[1]}/")
        page.wait_for_timeout(800)
        frame = page.frame(url=lambda u: "/list" in u)
        assert frame is None or frame.locator("h1").count() == 0
    finally:
        host.shutdown()


def test_phone_width_is_usable(browser, live_server):
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="fr-FR",
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.wait_for_selector(".folium-map[data-mapapp-ready=true]")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360
    assert page.locator(".mapapp-legend summary").is_visible()  # layers and legend
    assert page.get_by_label("Rechercher par nom").is_visible()
    page.goto(live_server.url + "/list")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    context.close()


def test_share_builder_updates_preview_and_snippet(watched, live_server):
    page = watched.page
    page.goto(live_server.url + "/share?lang=fr")
    page.locator("#copy-code").wait_for()
    page.locator('input[name="layer"][value="companies"]').uncheck()
    snippet = page.locator("#share-code").input_value()
    assert "layers=coworking%2Cschools%2Cfibre%2Ccontext%2Cperimeters" in snippet
    assert (
        'loading="lazy"' in snippet
        and 'allow="fullscreen; geolocation; clipboard-write"' in snippet
    )
    src = page.locator("#share-preview").get_attribute("src")
    assert "layers=coworking" in src
    assert watched.errors == [] and watched.outside == []


def test_list_is_keyboard_usable(watched, live_server):
    page = watched.page
    page.goto(live_server.url + "/list?lang=fr")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    page.get_by_label("Catégorie").select_option("schools:lycee")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table")).to_have_count(1)  # the filtered list, once loaded
    link = page.get_by_role("link", name="Voir sur la carte : Lycée Jules-Haag")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".mapapp-popup")
    assert "Lycée Jules-Haag" in page.locator(".mapapp-popup").inner_text()


HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    "</script><script>window.__pwned=2</script>",
    "`${window.__pwned=3}` ${window.__pwned=4}",
    '"><svg onload=window.__pwned=5>',
]


def test_hostile_data_is_shown_as_text_everywhere(watched, live_server, store):
    for i, name in enumerate(HOSTILE):
        store.add(
            "coworking",
            {
                "id": f"hostile-{i}",
                "name": name,
                "kind": "coworking",
                "status": "open",
                "operator": name,
                "address": name,
                "notes": name,
                "source": name,
                "source_date": "2026",
                "precision": "approximate",
                "published": True,
            },
            Point(6.0 + i * 0.002, 47.24),
        )
    # links the store refuses on input, written as a desktop GIS editing the
    # GeoPackage could: the pages must still never make them links
    with store._write() as conn:
        conn.execute(
            "UPDATE coworking SET website = ?, source_url = ? WHERE id LIKE 'hostile-%'",
            ("javascript:window.__pwned=6", "javascript:alert(7)"),
        )
        store._bump(conn, "coworking")
    page = open_map(watched, live_server.url + "/?layers=coworking&lang=fr")
    assert map_counts(page)["coworking"] == 14
    page.get_by_label("Rechercher par nom").fill("pwned")
    hits = page.locator(".mapapp-search-hit")
    assert hits.count() == 4
    for i in range(4):
        page.get_by_label("Rechercher par nom").fill("pwned")
        name = page.locator(".mapapp-search-name").nth(i).inner_text()
        assert name in HOSTILE  # shown as typed, not as markup
        page.locator(".mapapp-search-hit").nth(i).click()
        popup = page.locator(".mapapp-popup", has_text=name)
        popup.wait_for()
        assert popup.locator("h2").inner_text() == name  # h2: heading order
        assert popup.locator("a[href^='javascript']").count() == 0
    embed = open_map(watched, live_server.url + "/embed?feature=coworking:hostile-1")
    embed.locator(".mapapp-popup", has_text=HOSTILE[1]).wait_for()
    page.goto(live_server.url + "/list?layer=coworking")
    assert HOSTILE[0] in page.locator("table").inner_text()
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert not [e for e in watched.errors if "pwned" in e]


def test_large_layers_load_compact_and_fetch_popups(watched, live_server, app):
    app.config["INLINE_MAX_FEATURES"] = 5  # every layer above 5 features is "large"
    page = open_map(watched, live_server.url + "/?lang=en")
    counts = map_counts(page)
    assert counts["companies"] == 22 and counts["schools"] == 17
    # a click on a marker fetches its feature and opens the popup
    page.evaluate("""() => {
        const map = window.mapapp.map;
        const entry = map._mapapp.layers.context;
        return mapapp.openRemote(map, entry, entry.markers[0]);
    }""") if counts["context"] > 5 else None
    page.get_by_label("Search by name").fill("smartest")
    page.locator(".mapapp-search-hit", has_text="Smartesting").click()
    popup = page.locator(".mapapp-popup", has_text="Smartesting")
    popup.wait_for()
    assert "Software publishing" in popup.inner_text()
    assert "feature=companies%3Asmartesting" in page.url
    # the permalink reopens that popup through the snapshot index
    page2 = open_map(watched, page.url)
    page2.locator(".mapapp-popup", has_text="Smartesting").wait_for()
    assert watched.errors == [] and watched.outside == []


def test_a_large_layer_draws_commune_level_features_as_badges(
    watched, live_server, app, store
):
    app.config["INLINE_MAX_FEATURES"] = 5  # the companies come as compact bytes
    companies = store.read("companies")
    at_commune = companies[companies["precision"] == "commune"]
    assert len(at_commune) >= 2, "the seed has companies located at commune level"
    page = open_map(watched, live_server.url + "/?lang=fr")
    drawn = page.evaluate("""() => {
        const layer = window.mapapp.map._mapapp.layers.companies.group;
        return {count: layer.count, located: layer.located,
                badges: layer.badges.getLayers().length};
    }""")
    # every company is in the layer, but only the located ones are points
    assert drawn["count"] == len(companies)
    assert drawn["located"] == len(companies) - len(at_commune)
    badge = page.locator(".mapapp-commune-icon .mapapp-commune-badge").first
    expected = at_commune["commune_code"].value_counts()
    assert drawn["badges"] == len(expected)
    # a badge lists its companies (asked of the OGC API), a name opens its card
    page.evaluate("""() => {
        const b = window.mapapp.map._mapapp.layers.companies.group.badges.getLayers()[0];
        b.openPopup();
    }""")
    listing = page.locator(".mapapp-commune-list li button")
    listing.first.wait_for()
    names = set(listing.all_inner_texts())
    assert names and names <= set(at_commune["name"])
    first = listing.first.inner_text()
    listing.first.click()
    page.locator(".mapapp-popup-title", has_text=first).first.wait_for()
    assert badge.count() >= 1 and watched.errors == []


def test_a_very_large_layer_opens_as_an_overview_and_loads_points_zoomed_in(
    watched, live_server, app, store
):
    app.config["INLINE_MAX_FEATURES"] = 5
    app.config["OVERVIEW_MIN_FEATURES"] = 5  # companies: drawn as an overview first
    app.extensions["mapapp.site"].clear_caches()
    companies = store.read("companies", published_only=True)
    located = int((companies["precision"] != "commune").sum())
    asked = []
    watched.page.on("request", lambda r: asked.append(r.url))
    page = open_map(watched, live_server.url + "/?lang=en&zoom=11")
    state = """() => {
        const e = window.mapapp.map._mapapp.layers.companies, g = e.group;
        const drawn = g.items.reduce((t, it) => t + it.n, 0);
        return {overview: e.overview, count: e.count, drawn: drawn, items: g.items.length,
                markers: e.markers ? e.markers.length : null,
                label: g._canvas.getAttribute("aria-label"),
                hidden: g._canvas.getAttribute("aria-hidden")};
    }"""
    before = page.evaluate(state)
    assert any(".overview?" in u for u in asked)
    assert not any("/companies.bin" in u for u in asked)  # no point loaded yet
    assert before["overview"] and before["markers"] is None
    assert before["count"] == len(companies)
    # circles with counts: every located company is counted, in fewer circles
    assert before["drawn"] == located and before["items"] < located
    # screen readers get the counts (the canvas of points alone is hidden)
    assert before["hidden"] is None
    assert f"{located} features in view" in before["label"]
    # zooming in past the threshold loads the points of the tiles in view and
    # draws them instead; never the whole layer
    page.evaluate("() => window.mapapp.map.setZoom(14)")
    page.wait_for_function(
        """() => { const e = window.mapapp.map._mapapp.layers.companies;
                   return e.overview === false && e.group.chunks.length > 0
                          && e.group.items.length > 0; }"""
    )
    after = page.evaluate(state)
    assert any("/companies/tiles/14/" in u for u in asked)  # the map's level
    assert after["markers"] is None and after["hidden"] == "true"
    assert after["drawn"] > 0
    # zoomed out again, the overview comes back (the tiles loaded are kept)
    page.evaluate("() => window.mapapp.map.setZoom(11)")
    page.wait_for_function(
        "() => window.mapapp.map._mapapp.layers.companies.overview === true"
    )
    # a search hit opens its card from the overview too (at its place: the tiles
    # there load)
    page2 = open_map(watched, live_server.url + "/?lang=en&zoom=11")
    assert page2.evaluate("() => window.mapapp.map._mapapp.layers.companies.overview")
    page2.get_by_label("Search by name").fill("smartest")
    page2.locator(".mapapp-search-hit", has_text="Smartesting").click()
    page2.locator(".mapapp-popup", has_text="Smartesting").wait_for()
    # and its permalink opens the card again, at its place
    assert "feature=companies%3Asmartesting" in page2.url
    page3 = open_map(watched, page2.url)
    page3.locator(".mapapp-popup", has_text="Smartesting").wait_for()
    assert not any("/companies.bin" in u for u in asked)
    assert watched.errors == [] and watched.outside == []


def _tile_range(page, z: int) -> tuple[range, range]:
    """The XYZ tiles of level ``z`` the map's view touches (map.js's 12 px margin)."""
    box = page.evaluate(
        """(z) => { const m = window.mapapp.map, b = m.getPixelBounds();
                    const f = Math.pow(2, z - m.getZoom()) / 256;
                    return [b.min.x, b.min.y, b.max.x, b.max.y].map(
                        (v, i) => Math.floor((v + (i < 2 ? -12 : 12)) * f)); }""",
        z,
    )
    return range(box[0], box[2] + 1), range(box[1], box[3] + 1)


def test_an_overview_is_reached_by_keyboard_and_loads_only_the_tiles_in_view(
    watched, live_server, app
):
    app.config["INLINE_MAX_FEATURES"] = 5
    app.config["OVERVIEW_MIN_FEATURES"] = 5  # companies: drawn as an overview first
    app.extensions["mapapp.site"].clear_caches()
    asked = []
    watched.page.on("request", lambda r: asked.append(r.url))
    page = open_map(watched, live_server.url + "/?lang=en&zoom=11&layers=companies")
    # Tab goes through the controls, then reaches the biggest circle
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate(
            "() => document.activeElement.classList.contains('mapapp-cell-key')"
        ):
            break
    key = page.locator(".mapapp-cell-key:focus")
    label = key.get_attribute("aria-label")
    assert "features of “Digital companies”" in label and label.endswith(": zoom in")
    assert page.locator(".mapapp-cell-key").count() >= 2
    # over its circle, which shows through it, ringed while focused
    ring = key.evaluate(
        """b => { const s = getComputedStyle(b);
                  return [s.backgroundColor, s.outlineStyle, s.zIndex,
                          getComputedStyle(b.parentNode).zIndex]; }"""
    )
    assert ring[:2] == ["rgba(0, 0, 0, 0)", "solid"] and int(ring[3]) > 100
    counts = [
        int(t.split(" ")[0].replace(",", ""))
        for t in page.eval_on_selector_all(
            ".mapapp-cell-key", "bs => bs.map(b => b.getAttribute('aria-label'))"
        )
    ]
    assert counts == sorted(counts, reverse=True)  # the biggest first
    # the map redrawn (a resize), the focus keeps its rank among the circles
    page.keyboard.press("Tab")
    page.evaluate(
        "() => { window.__was = document.activeElement;"
        " window.mapapp.map.fire('resize'); }"
    )
    after = page.evaluate(
        """() => [!document.body.contains(window.__was),
                  [...document.querySelectorAll('.mapapp-cell-key')]
                  .indexOf(document.activeElement)]"""
    )
    assert after == [True, 1]  # drawn again, the second circle focused again
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_function(
        """() => { const g = window.mapapp.map._mapapp.layers.companies.group;
                   return window.mapapp.map.getZoom() === 13 && !g.overview
                          && g.chunks.length > 0 && g.items.length > 0; }"""
    )
    assert "Zoomed in on" in page.locator(".mapapp-live").inner_text()
    # the focus is not lost: on the map, its arrows and keys move it
    assert page.evaluate(
        "() => window.mapapp.map.getContainer().contains(document.activeElement)"
    )
    # the tiles of level 13 in view are asked, each once, and no other; never
    # the whole layer
    xs, ys = _tile_range(page, 13)
    view = {f"13/{x}/{y}" for x in xs for y in ys}
    page.wait_for_function(
        """(n) => { const known = window.mapapp.map._mapapp.layers.companies.tileStates;
                    return Object.values(known).filter(s => s === "loaded").length === n; }""",
        arg=len(view),
    )
    tiles = [u.split("/tiles/")[1].split(".bin")[0] for u in asked if "/tiles/" in u]
    assert sorted(tiles) == sorted(view)
    assert not any(".bin?" in u and "/tiles/" not in u for u in asked)
    # a point of a tile, alone once zoomed in, opens its card on a click; the
    # tiles of level 13 loaded hold those of the finer levels: none is asked
    before = len(asked)
    page.evaluate(
        """() => { const e = window.mapapp.map._mapapp.layers.companies;
                   const c = e.group.chunks.find(c => c.count > 0);
                   window.mapapp.map.setView([c.lats[0], c.lngs[0]], 18,
                                             {animate: false}); }"""
    )
    page.wait_for_function(
        "() => window.mapapp.map._mapapp.layers.companies.group.items"
        ".some(it => it.n === 1)"
    )
    box = page.locator(".folium-map").bounding_box()
    spot = page.evaluate(
        """() => { const it = window.mapapp.map._mapapp.layers.companies.group
                   .items.find(it => it.n === 1); return [it.x, it.y]; }"""
    )
    page.mouse.click(box["x"] + spot[0], box["y"] + spot[1])
    assert not any("/tiles/" in u for u in asked[before:])
    popup = page.locator(".mapapp-popup")
    popup.wait_for()
    assert popup.locator(".mapapp-popup-title").inner_text()
    assert any("/companies/items/" in u for u in asked)
    assert watched.errors == [] and watched.outside == []


def test_an_overview_circle_is_named_in_french(watched, live_server, app):
    app.config["INLINE_MAX_FEATURES"] = 5
    app.config["OVERVIEW_MIN_FEATURES"] = 5
    app.extensions["mapapp.site"].clear_caches()
    page = open_map(watched, live_server.url + "/?lang=fr&zoom=11&layers=companies")
    label = page.locator(".mapapp-cell-key").first.get_attribute("aria-label")
    assert "éléments de « Entreprises du numérique »" in label
    assert "de la vue : zoomer" in label


def test_an_overview_stays_while_the_view_holds_too_many_points(
    watched, live_server, app, monkeypatch
):
    """From the overview zoom, the points are loaded only once the view holds at
    most POINTS_IN_VIEW of them (by the overview's counts): a phone opening on a
    city of a million points stayed light. At the finest tile level they are
    always loaded."""
    from mapapp.views import mappage

    app.config["INLINE_MAX_FEATURES"] = 5
    app.config["OVERVIEW_MIN_FEATURES"] = 5
    monkeypatch.setattr(mappage, "POINTS_IN_VIEW", 3)
    app.extensions["mapapp.site"].clear_caches()
    asked = []
    watched.page.on("request", lambda r: asked.append(r.url))
    page = open_map(
        watched,
        live_server.url + "/?lang=en&zoom=13&center=47.2378%2C6.0241&layers=companies",
    )
    group = "window.mapapp.map._mapapp.layers.companies.group"
    in_view = page.evaluate(f"() => {group}._countInView(window.mapapp.map)")
    assert in_view > 3
    assert page.evaluate(f"() => {group}.overview")
    page.wait_for_timeout(500)
    assert not any("/tiles/" in u or ".bin?" in u for u in asked)
    # at the finest tile level, the points of the tiles in view
    page.evaluate("() => window.mapapp.map.setZoom(16, {animate: false})")
    page.wait_for_function(
        f"() => !{group}.overview && {group}.chunks.some(c => c.count > 0)"
    )
    assert any("/tiles/16/" in u for u in asked)
    assert watched.errors == [] and watched.outside == []
