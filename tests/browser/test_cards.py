"""What the cards say about the trust one may put in a feature (issue 14), as a
visitor sees them in Chromium: commune-level features on a badge, not fake points;
inferred NAF codes, headcount sources and source dates said."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_map

pytestmark = pytest.mark.browser


def test_commune_level_companies_are_on_a_badge_not_points(watched, live_server):
    page = open_map(watched, live_server.url + "/?layers=companies")
    badge = page.locator(".mapapp-commune-badge")
    assert badge.count() == 1 and badge.inner_text() == "8"
    # no company marker on the old city-centre coordinate any more
    near = page.evaluate("""() => {
        const entry = window.mapapp.map._mapapp.layers.companies;
        return entry.features.filter(f => f.layer.getLatLng &&
            !f.props && f.layer.getLatLng().distanceTo([47.2378, 6.0241]) < 60).length;
    }""")
    assert near == 0
    badge.click()
    popup = page.locator(".mapapp-commune-list")
    popup.wait_for()
    assert "8 éléments localisés à la commune seulement" in popup.inner_text()
    popup.get_by_role("button", name="Onefit Médical").click()
    card = page.locator(".mapapp-popup", has_text="Onefit Médical")
    card.wait_for()
    text = card.inner_text()
    assert "Localisation à la commune seulement" in text
    assert "déduit de l'activité" in text  # 58.29C was inferred
    assert "Article de presse, 2016" in text  # the headcount's source
    assert "Confirmé par une source de 2016-05" in text
    assert watched.errors == [] and watched.outside == []


def test_badges_of_several_layers_at_one_commune_stand_side_by_side(
    watched, live_server
):
    page = open_map(watched, live_server.url + "/")
    icons = page.locator(".mapapp-commune-icon")
    assert icons.count() >= 2  # companies and landmarks both have one in Besançon
    boxes = [icons.nth(i).bounding_box() for i in range(icons.count())]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a, b)
    titles = [icons.nth(i).get_attribute("title") for i in range(icons.count())]
    assert any("Entreprises du numérique" in t for t in titles), titles


def test_search_finds_a_commune_level_company(watched, live_server):
    page = open_map(watched, live_server.url + "/?layers=companies")
    page.get_by_label("Rechercher par nom").fill("vibisc")
    page.locator(".mapapp-search-hit", has_text="Vibiscus").click()
    # its own card, on its commune's badge, saying where it is known to be
    card = page.locator(".mapapp-popup", has_text="Vibiscus")
    card.wait_for()
    assert "Localisation à la commune seulement" in card.inner_text()


def test_register_naf_code_is_not_said_inferred(watched, live_server):
    page = open_map(watched, live_server.url + "/?feature=companies:digital-surf")
    card = page.locator(".mapapp-popup", has_text="Digital Surf")
    card.wait_for()
    assert "62.02A" in card.inner_text()
    assert "déduit de l'activité" not in card.inner_text()
