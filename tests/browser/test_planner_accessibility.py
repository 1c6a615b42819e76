"""axe-core on the planner workspace, as planners use it: at first sight, then with
every tool panel open, each results tab shown, a catchment, the suitability grid,
the scenarios and a feature's form open; and on the printable dossier."""

from __future__ import annotations

import pytest

from mapapp import accounts
from tests.browser.axe import violations

pytestmark = pytest.mark.browser


@pytest.fixture
def planner(browser, live_server, store):
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 800}, bypass_csp=True
    )
    page = context.new_page()
    page.goto(live_server.url + "/planner/?lang=fr")
    page.get_by_label("Nom").fill("alice")
    page.get_by_label("Mot de passe").fill("long-enough-password")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("#results[data-ready=true]")
    yield page
    context.close()


def test_the_workspace_has_no_violation_with_its_panels_open(planner):
    page = planner
    assert violations(page) == []
    for panel in page.locator("details.panel").all():
        panel.evaluate("d => { d.open = true; }")
    page.get_by_label("Latitude").fill("47.25")
    page.get_by_label("Longitude").fill("5.99")
    page.get_by_role("button", name="Mesurer ici").click()
    page.wait_for_selector("#catchment-result[data-ready=true]")
    assert violations(page) == []
    page.get_by_role("button", name="Calculer la grille d'aptitude").click()
    page.wait_for_selector("#suitability-result[data-ready=true]")
    assert violations(page) == []
    for tab, ready in (
        ("Comparaison des scénarios", "#scenarios-result[data-ready=true]"),
        ("Chiffres clés", "#figures-result[data-ready=true]"),
        ("Dans le temps", "#timeline-result[data-ready=true]"),
    ):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector(ready)
        assert violations(page) == [], tab
    page.get_by_role("button", name="Dessiner un périmètre").click()
    for _ in range(3):
        page.get_by_role(
            "button", name="Ajouter un sommet au centre de la carte"
        ).click()
    page.get_by_role("button", name="Ajouter un site de coworking").click()
    assert violations(page) == []


def test_the_dossier_has_no_violation(planner, live_server):
    page = planner
    page.goto(
        live_server.url + "/planner/dossier?layer=perimeters&id=perimetre-planoise"
    )
    assert violations(page) == []


def test_every_button_stays_readable_when_hovered(browser, live_server, store):
    """Each visible button of the workspace and of the wizard's first page, hovered
    in turn: its text keeps a 4.5:1 contrast (a dark hover once hid white-page
    buttons' blue text)."""
    from mapapp import accounts
    from tests.browser.checks import contrast_failures
    from tests.browser.test_planner import sign_in

    accounts.create_user(store, "alice", "admin", "long-enough-password")
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR"
    )
    page = context.new_page()
    sign_in(page, live_server.url)
    page.get_by_role("button", name="Afficher les résultats").click()
    failures = []
    for url in ("/planner/?lang=fr", "/planner/import?lang=fr"):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        buttons = page.locator("button:visible, [role=tab]:visible")
        for i in range(buttons.count()):
            button = buttons.nth(i)
            if button.evaluate("b => !!b.closest('.leaflet-container')"):
                continue  # the map's own controls: checked with the public map
            button.hover()
            marker = f"hover-{i}"
            button.evaluate("(b, m) => b.setAttribute('data-hovered', m)", marker)
            found = contrast_failures(page, [f"[data-hovered='{marker}']"])
            failures += [f"{url} {f}" for f in found]
    context.close()
    assert failures == []
