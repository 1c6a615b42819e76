"""The public map in a real browser: layers drawn, popups, no outside requests."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def open_map(watched, live_server, path="/"):
    watched.page.goto(live_server.url + path)
    watched.page.wait_for_selector(".folium-map[data-mapapp-ready=true]", timeout=15000)
    return watched.page


def test_map_draws_every_layer(watched, live_server):
    page = open_map(watched, live_server)
    counts = page.evaluate("""() => {
        const map = window.mapapp.map;
        const out = {};
        for (const [name, e] of Object.entries(map._mapapp.layers)) out[name] = e.count;
        return out;
    }""")
    assert counts == {
        "companies": 22,
        "coworking": 10,
        "schools": 17,
        "fibre": 14,
        "context": 5,
        "perimeters": 3,
    }
    # zones, outlines and unclustered markers are SVG paths on the page
    assert page.locator("path.leaflet-interactive").count() > 30
    assert watched.errors == [] and watched.outside == []


def test_marker_click_opens_a_text_only_popup(watched, live_server):
    page = open_map(
        watched, live_server, "/?layers=context&zoom=15&center=47.2474,6.0218"
    )
    page.locator("path.leaflet-interactive").first.click(force=True)
    popup = page.locator(".mapapp-popup")
    popup.wait_for(timeout=5000)
    assert "Gare de Besançon-Viotte" in popup.inner_text()
    assert "Source" in popup.inner_text()
