"""A planner in a real browser: sign in, add a site, publish it, see it on /embed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mapapp import accounts
from tests.browser.conftest import map_counts, open_map

pytestmark = pytest.mark.browser


def sign_in(page, url):
    page.goto(url + "/planner/?lang=fr")
    page.get_by_label("Nom").fill("alice")
    page.get_by_label("Mot de passe").fill("long-enough-password")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector(".folium-map[data-mapapp-ready=true]")


def test_add_publish_and_see_on_embed(watched, live_server, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    page = watched.page
    sign_in(page, live_server.url)
    page.get_by_role("button", name="Ajouter un site de coworking").click()
    page.mouse.click(900, 700)  # an empty place of the map
    page.get_by_label("Nom *").fill("Coworking de la gare d'eau")
    page.get_by_label("Postes de travail").fill("-4")
    page.get_by_role("button", name="Enregistrer").click()
    assert "au moins 0" in page.locator("#f-desks-error").inner_text()
    page.get_by_label("Postes de travail").fill("35")
    page.get_by_role("checkbox", name="Publié").check()
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("#planner-status.status-ok")
    # the history is fetched after the save: wait for it, as a reader would
    expect(page.locator("#history-list")).to_contain_text("créé par alice")
    saved = [f for f in store.read("coworking")["name"] if "gare d'eau" in f]
    assert saved == ["Coworking de la gare d'eau"]
    embed = open_map(watched, live_server.url + "/embed?layers=coworking")
    assert map_counts(embed)["coworking"] == 11
    embed.get_by_label("Rechercher par nom").fill("gare d'eau")
    assert embed.locator(".mapapp-search-hit").count() == 1
    assert watched.errors == [] and watched.outside == []


def test_conflict_keeps_the_planners_values(watched, live_server, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    page = watched.page
    sign_in(page, live_server.url)
    page.get_by_label("Rechercher par nom").fill("Le Numérique – tiers")
    page.locator(".mapapp-search-hit").first.click()
    page.wait_for_selector("#feature-form:not([hidden])")
    store.update("coworking", "le-numerique", {"desks": 99}, author="bob")  # bob first
    page.get_by_label("Postes de travail").fill("150")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("#planner-status.status-error")
    assert "Quelqu'un" in page.locator("#planner-status").inner_text()
    assert page.get_by_label("Postes de travail").input_value() == "150"
    assert store.get("coworking", "le-numerique")["properties"]["desks"] == 99
    page.get_by_role("button", name="Enregistrer").click()  # saves over bob, knowingly
    page.wait_for_selector("#planner-status.status-ok")
    assert store.get("coworking", "le-numerique")["properties"]["desks"] == 150
