"""The planner workspace, second pass, in a real browser: the results panel under the
map (rows and features select each other), the filters indicator and reset, clearing
the catchment and the grid, keyboard-only editing, the year slider and the dossier."""

from __future__ import annotations

import re

import pytest

from mapapp import accounts
from tests.browser.test_planner import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def planner_page(watched, live_server, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    sign_in(watched.page, live_server.url)
    return watched.page


def map_eval(page, script: str, arg=None):
    return page.evaluate(f"(arg) => {{ const m = window.mapapp.map; {script} }}", arg)


def test_a_row_selects_and_zooms_and_the_map_selects_the_row(planner_page, watched):
    page = planner_page
    page.get_by_role("tab", name="Comparaison des scénarios").click()
    page.wait_for_selector("#scenarios-result[data-ready=true]")
    before = map_eval(page, "return m.getZoom();")
    page.get_by_role("button", name="Voir sur la carte : TEMIS – Bouloie").click()
    row = page.locator('#scenarios-table tr[data-id="perimetre-temis-bouloie"]')
    assert row.get_attribute("aria-current") == "true"
    page.wait_for_function(
        "() => window.mapapp.map.getBounds().contains([47.2495, 5.991])"
        " && window.mapapp.map.getZoom() > " + str(before)
    )
    # a feature clicked on the map selects its row
    page.wait_for_function("() => !window.mapapp.map._animatingZoom")
    page.wait_for_timeout(400)  # the end of the fly to the row's perimeter
    point = map_eval(
        page,
        "m.setView([47.222, 5.96], 16, {animate: false});"
        "return m.latLngToContainerPoint([47.2218, 5.9585]);",
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    row = page.locator('#scenarios-table tr[data-id="le-numerique"]')
    page.wait_for_function(
        """() => document.querySelector('#scenarios-table tr[data-id="le-numerique"]')
                 .getAttribute('aria-current') === 'true'"""
    )
    assert page.locator("#scenarios-table tr.is-selected").count() == 1
    assert row.is_visible()
    assert watched.errors == []


def test_results_sort_resize_and_hide(planner_page):
    page = planner_page
    page.get_by_role("tab", name="Comparaison des scénarios").click()
    page.wait_for_selector("#scenarios-result[data-ready=true]")
    page.get_by_role("button", name="Établissements numériques").click()
    header = page.locator('#scenarios-table th[data-key="companies"]')
    assert header.get_attribute("aria-sort") == "descending"
    counts = page.locator("#scenarios-table tbody tr td:nth-child(3)").all_inner_texts()
    values = [float(re.sub(r"[^\d,]", "", j).replace(",", ".")) for j in counts]
    assert values == sorted(values, reverse=True)
    # no register band is known: the jobs of a site with companies are unknown,
    # said with how many lack the value, never 0
    jobs = page.locator("#scenarios-table tbody tr td:nth-child(4)").all_inner_texts()
    for count, text in zip(values, jobs, strict=True):
        assert (
            text == "0"
            if count == 0
            else re.fullmatch(r"inconnu \(\d+ sans valeur\)", text)
        ), text
    height = page.locator("#results").bounding_box()["height"]
    page.locator("#results-splitter").focus()
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    assert page.locator("#results").bounding_box()["height"] > height + 40
    page.get_by_role("button", name="Masquer les résultats").click()
    assert page.locator("#results-body").is_hidden()
    page.get_by_role("button", name="Afficher les résultats").click()
    assert page.locator("#scenarios-table").is_visible()


def companies_drawn(page) -> int:
    return page.evaluate(
        "() => window.mapapp.map._mapapp.layers.companies.group.getLayers().length"
    )


def test_active_filters_are_counted_and_reset_in_one_click(planner_page, live_server):
    page = planner_page
    everything = companies_drawn(page)
    page.get_by_label("Édition de logiciels").check()
    page.get_by_label("Services informatiques").check()
    page.wait_for_function("() => location.search.includes('companies.sector=')")
    assert page.locator("#filters-count").inner_text() == "2"
    chip = page.locator("#active-filters")
    assert chip.is_visible() and "2 filtres actifs" in chip.inner_text()
    assert companies_drawn(page) < everything
    page.reload()  # the address bar keeps the filters, and so does the indicator
    page.wait_for_selector(".folium-map[data-mapapp-ready=true]")
    assert page.locator("#filters-count").inner_text() == "2"
    assert page.get_by_label("Édition de logiciels").is_checked()
    page.locator("#active-filters").get_by_role("button", name="Réinitialiser").click()
    page.wait_for_function("() => !location.search.includes('companies.sector')")
    assert chip.is_hidden() and page.locator("#filters-count").is_hidden()
    assert not page.get_by_label("Édition de logiciels").is_checked()
    assert companies_drawn(page) == everything


def catchment_drawn(page) -> int:
    """Catchment areas on the map (drawn dashed, "5 4")."""
    return map_eval(
        page,
        "return Object.values(m._layers).filter(l => l.feature"
        " && l.options.dashArray === '5 4').length;",
    )


def grid_cells_drawn(page) -> int:
    return map_eval(
        page,
        "return Object.values(m._layers).filter(l => l.feature"
        " && l.feature.properties.rank !== undefined && l.feature.properties.score"
        " !== undefined).length;",
    )


def test_catchment_and_grid_can_be_cleared_and_cells_are_named(planner_page):
    page = planner_page
    page.get_by_label("Latitude").fill("47.2445")
    page.get_by_label("Longitude").fill("5.978")
    page.get_by_label("Longitude").press("Enter")
    page.wait_for_selector("#catchment-result[data-ready=true]")
    assert "Établissements numériques" in page.locator("#catchment-result").inner_text()
    assert catchment_drawn(page) == 1
    page.get_by_role("button", name="Effacer la zone d'influence").click()
    assert catchment_drawn(page) == 0
    assert page.locator("#catchment-result[data-ready=true]").count() == 0
    page.locator("#panel-suitability summary").click()
    page.get_by_role("button", name="Calculer la grille d'aptitude").click()
    page.wait_for_selector("#suitability-result[data-ready=true]")
    names = page.locator("#suitability-top tbody tr td:nth-child(2)").all_inner_texts()
    quarters = ("Planoise", "Battant", "Chaprais", "Bouloie", "Montrapon", "Palente")
    assert len(names) == 5 and all(any(q in n for q in quarters) or n for n in names)
    assert any(any(q in n for q in quarters) for n in names)
    cells = grid_cells_drawn(page)
    assert cells > 100
    page.get_by_role("button", name="Afficher la grille").click()  # toggles it off
    assert (
        page.get_by_role("button", name="Afficher la grille").get_attribute(
            "aria-pressed"
        )
        == "false"
    )
    assert grid_cells_drawn(page) == 0
    page.get_by_role("button", name="Afficher la grille").click()
    assert grid_cells_drawn(page) == cells
    page.get_by_role("button", name="Effacer la grille").click()
    assert grid_cells_drawn(page) == 0
    assert page.get_by_role("button", name="Afficher la grille").is_disabled()


def outer(geometry) -> list:
    """The outer ring of a (one-part) polygon as stored."""
    polygon = geometry.geoms[0] if hasattr(geometry, "geoms") else geometry
    return list(polygon.exterior.coords)


def press(page, locator, *keys):
    locator.focus()
    for key in keys:
        page.keyboard.press(key)


def type_into(page, locator, text):
    locator.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_keyboard_only_add_move_and_reshape(planner_page, store):
    page = planner_page
    page.evaluate(
        """() => { window.__pointer = 0;
        for (const t of ['mousedown', 'mouseup', 'pointerdown', 'wheel', 'touchstart'])
          window.addEventListener(t, () => window.__pointer++, true); }"""
    )
    # add a site: coordinates typed, then nudged 20 m north and 100 m east
    press(
        page, page.get_by_role("button", name="Ajouter un site de coworking"), "Enter"
    )
    type_into(page, page.get_by_label("Nom *"), "Coworking au clavier")
    type_into(page, page.locator("#f-point-lat"), "47.24")
    type_into(page, page.locator("#f-point-lon"), "6.02")
    page.keyboard.press("Enter")
    press(
        page,
        page.get_by_role("button", name="Déplacer avec les flèches"),
        "ArrowUp",
        "ArrowUp",
        "Shift+ArrowRight",
    )
    assert page.locator("#f-point-lat").input_value() == "47.24018"
    assert page.locator("#f-point-lon").input_value() == "6.02132"
    press(page, page.get_by_role("button", name="Enregistrer"), "Enter")
    page.wait_for_selector("#planner-status.status-ok")
    site = store.get("coworking", "coworking-au-clavier")
    assert site["geometry"].coords[0] == pytest.approx((6.02132, 47.24018))
    # move an existing site: found with the search box, moved 30 m south
    press(page, page.get_by_label("Rechercher par nom"))
    page.keyboard.type("Village by CA")
    page.keyboard.press("Enter")
    # the form of the site just saved is still open: wait for the found site's own
    page.wait_for_function(
        "() => (document.querySelector('#feature-form:not([hidden]) input[name=name]')"
        " || {}).value === 'Village by CA Besançon'"
    )
    page.wait_for_selector("#feature-form:not([hidden]) #f-point-nudge")
    press(page, page.locator("#f-point-nudge"), "ArrowDown", "ArrowDown", "ArrowDown")
    press(page, page.get_by_role("button", name="Enregistrer"), "Enter")
    page.wait_for_selector("#planner-status.status-ok")
    moved = store.get("coworking", "village-by-ca")["geometry"]
    assert moved.y == pytest.approx(47.234 - 30 / 111320, abs=2e-5)
    # reshape a perimeter: one corner nudged, one typed, one inserted, one removed
    press(page, page.get_by_label("Rechercher par nom"))
    page.keyboard.press("Control+A")
    page.keyboard.type("TEMIS – Bouloie")
    # the server's places come a moment later, first in the list: the quarter
    # "Bouloie – TEMIS"; once they are in, the perimeter's own hit is chosen
    page.locator(".mapapp-search-hit", has_text="Bouloie – TEMIS").wait_for()
    press(page, page.locator(".mapapp-search-hit", has_text="TEMIS – Bouloie"), "Enter")
    page.wait_for_selector("#f-corners .vertex-list")
    first = outer(store.get("perimeters", "perimetre-temis-bouloie")["geometry"])
    corners = len(first) - 1
    press(page, page.locator("#f-corner-0-0-nudge"), "Shift+ArrowLeft")
    type_into(page, page.locator("#f-c0-1-lat"), "47.2485")
    page.keyboard.press("Tab")
    press(
        page,
        page.get_by_role("button", name="Insérer un sommet après celui-ci – Sommet 3"),
        "Enter",
    )
    press(
        page, page.get_by_role("button", name="Supprimer ce sommet – Sommet 5"), "Enter"
    )
    press(page, page.get_by_role("button", name="Enregistrer"), "Enter")
    page.wait_for_selector("#planner-status.status-ok")
    ring = outer(store.get("perimeters", "perimetre-temis-bouloie")["geometry"])[:-1]
    assert len(ring) == corners
    assert ring[0][0] == pytest.approx(first[0][0] - 100 / (111320 * 0.6788), abs=3e-5)
    assert ring[1][1] == pytest.approx(47.2485)
    # draw a new perimeter with three corners added at the centre, then nudged apart
    press(page, page.get_by_role("button", name="Dessiner un périmètre"), "Enter")
    type_into(page, page.get_by_label("Nom *"), "Périmètre au clavier")
    add = page.get_by_role("button", name="Ajouter un sommet au centre de la carte")
    press(page, add, "Enter", "Enter", "Enter")
    press(page, page.locator("#f-corner-0-1-nudge"), *["Shift+ArrowRight"] * 4)
    press(page, page.locator("#f-corner-0-2-nudge"), *["Shift+ArrowUp"] * 4)
    press(page, page.get_by_role("button", name="Enregistrer"), "Enter")
    page.wait_for_selector("#planner-status.status-ok")
    drawn = store.get("perimeters", "perimetre-au-clavier")["geometry"]
    assert len(outer(drawn)) == 4 and drawn.area > 0
    assert page.evaluate("() => window.__pointer") == 0  # no mouse, no touch
    # the new site is in the selects at once, without a reload
    options = page.locator("#catchment-target option").all_inner_texts()
    assert "Coworking au clavier" in options
    assert (
        "Périmètre au clavier"
        in page.locator("#figures-perimeter option").all_inner_texts()
    )


def test_a_site_placed_at_an_imported_address_by_keyboard(
    planner_page, store, tmp_path
):
    from mapapp.importers import run_import
    from tests.importers import fixtures

    run_import(store, "addresses", fixtures.write_ban(tmp_path / "adresses-25.csv.gz"))
    page = planner_page
    press(
        page, page.get_by_role("button", name="Ajouter un site de coworking"), "Enter"
    )
    type_into(page, page.get_by_label("Nom *"), "Coworking du Luxembourg")
    type_into(page, page.get_by_label("Adresse, quartier ou commune"), "12 rue du lux")
    page.keyboard.press("Enter")
    hit = page.get_by_role("button", name=re.compile("12 Rue du Luxembourg"))
    press(page, hit, "Enter")
    press(page, page.get_by_role("button", name="Enregistrer"), "Enter")
    page.wait_for_selector("#planner-status.status-ok")
    row = dict(zip(fixtures.BAN_COLUMNS, fixtures.BAN_ROWS[0], strict=True))
    lon, lat = float(row["lon"]), float(row["lat"])
    saved = store.get("coworking", "coworking-du-luxembourg")
    point = saved["geometry"]
    assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-5)
    assert saved["properties"]["address"].startswith("12 Rue du Luxembourg")


def test_typed_coordinates_outside_the_area_are_refused(planner_page, store):
    page = planner_page
    page.get_by_role("button", name="Ajouter un site de coworking").click()
    page.get_by_label("Nom *").fill("Trop loin")
    page.locator("#f-point-lat").fill("48.85")
    page.locator("#f-point-lon").fill("2.35")
    page.get_by_role("button", name="Placer à ces coordonnées").click()
    assert (
        "En dehors de la zone d'étude" in page.locator("#f-geometry-error").inner_text()
    )
    page.get_by_role("button", name="Enregistrer").click()
    assert "L'emplacement manque" in page.locator("#f-geometry-error").inner_text()
    assert store.count("coworking") == 11


DATES = {
    "smartesting": "2003",
    "silmach": "2003-06-01",
    "covalia": "2007-07-01",
    "erdil": "2016-01-15",
    "sonaxis": "2020-05-01",
}


def forget_creation_dates(store) -> None:
    """No company with a creation date (the shipped data gives a few)."""
    companies = store.read("companies", columns=["creation_date"])
    for fid in companies.loc[companies["creation_date"].notna(), "id"]:
        store.update("companies", fid, {"creation_date": None}, author="test")


@pytest.fixture
def dated(store):
    """Exactly five companies with a creation date."""
    forget_creation_dates(store)
    for fid, value in DATES.items():
        store.update("companies", fid, {"creation_date": value}, author="test")
    return DATES


def test_the_year_slider_changes_counts(dated, store, planner_page):
    page = planner_page
    count = page.locator("#year-count")
    page.wait_for_function("() => document.getElementById('year-count').textContent")
    unknown = store.count("companies") - len(dated)
    assert "5 de date connue" in count.inner_text()
    assert f"{unknown} de date inconnue" in count.inner_text()
    placed = companies_drawn(page)
    slider = page.get_by_label("Établissements existant fin")
    slider.focus()
    page.keyboard.press("Home")
    assert page.locator("#year-out").inner_text() == "2003"
    assert "2 fin 2003" in count.inner_text()
    assert companies_drawn(page) == 2
    for _ in range(2016 - 2003):
        page.keyboard.press("ArrowRight")
    assert "4 fin 2016" in count.inner_text() and companies_drawn(page) == 4
    page.keyboard.press("End")
    assert companies_drawn(page) == placed
    page.get_by_role("tab", name="Dans le temps").click()
    page.wait_for_selector("#timeline-result[data-ready=true]")
    row = page.locator("#timeline-result tbody tr", has_text="2007")
    assert row.locator("td").all_inner_texts()[:3] == ["1", "+1", "3"]
    total = store.count("companies")
    assert (
        f"{unknown} établissements sur {total}"
        in page.locator("#timeline-unknown").inner_text()
    )


def pdf_pages(pdf: bytes) -> list[str]:
    """The MediaBox of each page of a PDF made by Chromium."""
    return re.findall(rb"/Type\s*/Page\b.{0,800}?/MediaBox\s*\[([^\]]+)\]", pdf, re.S)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?layer=perimeters&id=perimetre-viotte-saint-jacques",
        "?layer=coworking&id=le-numerique",
    ],
)
def test_the_dossier_prints_its_summary_on_page_one_and_three_pages_at_most(
    planner_page, live_server, watched, query
):
    page = planner_page
    page.goto(live_server.url + "/planner/dossier" + query)
    text = page.locator("main").inner_text()
    assert "Sources" in text and "Cadremploi 2018" in text  # a source of the companies
    assert re.search(r"\(20\d\d-\d\d\)", text)  # sources carry their dates
    assert "Valeurs illustratives" in text and "Localisations approximatives" in text
    assert "CC0 1.0" in text and "ODbL" in text  # each layer's own licence
    assert page.locator("main img").evaluate("img => img.naturalWidth") > 500
    pdf = page.pdf(format="A4", print_background=True)
    boxes = pdf_pages(pdf)
    assert 2 <= len(boxes) <= 3
    # page 1 (question, answer, key figures, caveats) fits one A4 page's content
    # (297 mm less 24 mm of margins) and the map starts page 2
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 703, "height": 1000})  # 186 mm at 96 dpi
    one = page.locator(".page-one")
    assert one.evaluate("e => getComputedStyle(e).breakAfter") == "page"
    assert one.bounding_box()["height"] <= 273 / 25.4 * 96
    for part in ("#dossier-question", "#dossier-answer", "#key-figures", "#caveats"):
        assert one.locator(part).count() == 1, part
    width = page.locator(".map-page img").bounding_box()["width"]
    assert width >= 703 / 2  # at least half the page's width
    for box in boxes:
        width, height = (float(v) for v in box.split()[2:4])
        assert width == pytest.approx(595, abs=2) and height == pytest.approx(
            842, abs=2
        )
    assert watched.errors == [] and watched.outside == []


def test_the_dossier_link_keeps_the_filters(planner_page):
    page = planner_page
    page.get_by_label("Édition de logiciels").check()
    page.locator("#panel-exports summary").click()
    href = page.get_by_role(
        "link", name="Dossier imprimable de toute la zone"
    ).get_attribute("href")
    assert "companies.sector=software" in href
    page.goto(page.url.split("/planner")[0] + href)
    assert (
        "companies.sector=software" in page.locator("header.dossier-head").inner_text()
    )


def test_key_figures_say_what_they_leave_out_and_can_count_press_jobs(planner_page):
    page = planner_page
    page.get_by_role("button", name="Afficher les résultats").click()
    page.get_by_role("tab", name="Chiffres clés").click()
    ready = page.locator("#figures-result[data-ready=true]")
    ready.wait_for()
    text = ready.inner_text()
    assert "non comptés" in text  # the press head counts left out, and how many
    assert "localisées à la commune seulement" in text
    page.get_by_label(re.compile("compter aussi les effectifs")).check()
    page.wait_for_function(
        "() => /[?&]jobs=all/.test(location.search)"
        " && document.querySelector('#figures-result[data-ready=true]')"
    )
    ready.wait_for()
    assert "non comptés" not in ready.inner_text()


def test_the_year_slider_is_hidden_while_no_creation_date_is_known(
    store, watched, live_server
):
    forget_creation_dates(store)
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    sign_in(watched.page, live_server.url)
    page = watched.page
    # the timeline has been answered (the count is written, shown or not): the
    # slider, hidden until then, stays hidden
    page.wait_for_function("() => document.getElementById('year-count').textContent")
    assert page.locator("#year-slider").is_hidden()
