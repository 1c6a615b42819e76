"""/embed options, /share builder, /list view, and the large-layer API."""

from __future__ import annotations

import re

import pytest

from mapapp.maps.tiles import PROVIDERS

BAD_OPTIONS = [
    "layers=%3Cscript%3E",
    "center=abc",
    "center=1e400,2",
    "zoom=-1",
    "zoom=99999999999",
    "lang=xx",
    "legend=2",
    "feature=%27%22%3E",
    "basemap=javascript:alert(1)",
    "scrollzoom=%00",
    "layers=,,,",
    "center=47.2,",
]


@pytest.mark.parametrize("query", BAD_OPTIONS)
def test_embed_bad_option_is_ignored_not_an_error(client, query):
    response = client.get(f"/embed?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "javascript:alert" not in html


def test_embed_layers_option_limits_the_layers(client):
    html = client.get("/embed?layers=coworking,fibre").get_data(as_text=True)
    assert '"name":"coworking"' in html and '"name":"fibre"' in html
    assert '"name":"companies"' not in html


def test_embed_options_reach_the_map(client):
    html = client.get(
        "/embed?center=47.22,5.96&zoom=15&legend=0&search=0"
        "&scrollzoom=1&feature=coworking:le-numerique"
    ).get_data(as_text=True)
    assert "center: [47.22, 5.96]" in html and '"zoom": 15' in html
    assert '"legend":false' in html and '"search":false' in html
    assert '"gestureHandling": false' in html
    assert '"feature":"coworking:le-numerique"' in html


def test_embed_default_disables_scroll_zoom(client):
    assert '"gestureHandling": true' in client.get("/embed").get_data(as_text=True)


def test_embed_basemap_cannot_add_outside_tiles_when_server_has_none(client):
    html = client.get("/embed?basemap=osm").get_data(as_text=True)
    assert "tile.openstreetmap" not in html


def test_share_page_builds_the_snippet(client):
    html = client.get("/share?layers=coworking&lang=en").get_data(as_text=True)
    assert 'id="share-preview"' in html
    assert "/embed?layers=coworking&amp;lang=en" in html
    snippet = html.split('id="share-code"')[1].split("</textarea>")[0]
    for attr in (
        "title=&#34;",
        "loading=&#34;lazy&#34;",
        "allow=&#34;fullscreen; geolocation; clipboard-write&#34;",  # copy buttons
    ):
        assert attr in snippet.replace('"', "&#34;").replace("&quot;", "&#34;"), attr
    assert "<code>scrollzoom</code>" in html


def test_share_form_without_javascript(client):
    html = client.get(
        "/share?width=600&height=400&layer=schools&lang=fr&legend=1"
    ).get_data(as_text=True)
    assert "layers=schools" in html and "search=0" in html and "fullscreen=0" in html


def test_share_page_cannot_be_framed(client):
    assert (
        "frame-ancestors 'none'"
        in client.get("/share").headers["Content-Security-Policy"]
    )


def test_list_shows_tables_with_map_links(client):
    html = client.get("/list?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert html.count("<table>") == 6
    assert "Lycée Jules-Haag" in html
    assert "feature=schools:lycee-jules-haag" in html
    assert "proposition-clairs-soleils" not in html  # unpublished
    assert 'aria-sort="ascending"' in html


def test_list_filters_and_sorts(client):
    html = client.get("/list?category=coworking:proposed&sort=name&dir=desc").get_data(
        as_text=True
    )
    assert html.count("<table>") == 1 and 'aria-sort="descending"' in html
    assert "Le Numérique" not in html and "Proposition" in html
    empty = client.get("/list?q=zzzzzz").get_data(as_text=True)
    assert "<table>" not in empty


def test_points_items_and_search_api(client, store):
    version = store.data_version()
    points = client.get(f"/api/layers/companies.points?v={version}")
    assert points.status_code == 200 and points.json["count"] == 22
    assert "immutable" in points.headers["Cache-Control"]
    item = client.get(f"/api/layers/companies/items/0?v={version}").json
    assert item["type"] == "Feature" and item["properties"]["name"]
    assert client.get(f"/api/layers/companies/items/999?v={version}").status_code == 404
    assert client.get("/api/layers/companies/items/0?v=0").status_code == 410
    assert client.get("/api/layers/fibre.points").status_code == 404
    hits = client.get("/api/search?q=SMARTEST").json["hits"]
    assert hits[0]["name"] == "Smartesting" and hits[0]["layer"] == "companies"
    hit_item = client.get(
        f"/api/layers/companies/items/{hits[0]['index']}?v={version}"
    ).json
    assert hit_item["id"] == "smartesting"
    assert client.get("/api/search?q=a").status_code == 400


def test_large_layers_are_fetched_not_inlined(app, client):
    app.config["INLINE_MAX_FEATURES"] = 5
    html = client.get("/embed?layers=companies,schools").get_data(as_text=True)
    assert '"remote":{"points":"/api/layers/companies.points?v=' in html
    assert "Smartesting" not in html  # names come with the popups, not the page


def test_large_layer_bytes_are_preloaded_and_served_immutable(app, client, store):
    app.config["INLINE_MAX_FEATURES"] = 5
    version = store.data_version()
    html = client.get("/embed?layers=companies").get_data(as_text=True)
    url = f"/api/layers/companies.bin?v={version}"
    assert f'<link rel="preload" href="{url}" as="fetch" crossorigin>' in html
    assert html.index('rel="preload"') < html.index("<script")  # before the scripts
    raw = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert raw.status_code == 200 and raw.headers["Content-Encoding"] == "gzip"
    assert "immutable" in raw.headers["Cache-Control"]
    assert client.get(url).data[:4] == b"MPTS"
    assert client.get("/api/layers/companies.bin?v=0").status_code == 410
    assert client.get("/api/layers/fibre.bin").status_code == 404


def test_map_pages_load_one_script_and_one_stylesheet(client):
    html = client.get("/embed").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert len(scripts) == len(sheets) == 1, (scripts, sheets)
    js = client.get(scripts[0], headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and "immutable" in js.headers["Cache-Control"]
    body = client.get(scripts[0]).get_data(as_text=True)
    assert "L.markerClusterGroup" in body and "mapapp.finish" in body
    assert "sourceMappingURL" not in body
    css = client.get(sheets[0]).get_data(as_text=True)
    assert "url(images/" not in css and "/assets/leaflet/images/layers.png" in css
    assert client.get(scripts[0].replace("-", "-0", 1)).status_code == 404
    no_gestures = client.get("/").get_data(as_text=True)  # the page scrolls the map
    assert "gesture" not in re.findall(r'<script src="([^"]+)"', no_gestures)[0]


def _row_names(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", name).strip()
        for name in re.findall(r'<th scope="row">([^<]*)', html)
    ]


def test_list_finds_schools_by_what_they_teach_and_says_so(client):
    html = client.get("/list?layer=schools&q=informatique&lang=fr").get_data(
        as_text=True
    )
    assert set(_row_names(html)) == {
        # (the Bouloie campus aggregate left the seed: its schools are listed)
        "UFR Sciences et techniques",
        "Centre de télé-enseignement universitaire (CTU) – filière informatique",
        "SUPMICROTECH-ENSMM",
    }
    # why a school matched when its name does not say it
    assert "Formations numériques : Licence et master d&#39;informatique" in html
    assert "Lycée" not in " ".join(_row_names(html))  # "no section confirmed"
    assert "for=\"q\">Le nom, l'adresse, l'activité ou la formation contient" in html


def test_list_shows_what_matched_as_text(client, store):
    store.update(
        "schools", "ufr-st", {"digital_programmes": "<script>x</script> informatique"}
    )
    html = client.get("/list?layer=schools&q=informatique").get_data(as_text=True)
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_api_search_finds_what_is_taught_and_says_where(client):
    hits = client.get("/api/search?q=informatique&layers=schools&lang=en").json["hits"]
    ufr = next(h for h in hits if h["id"] == "ufr-st")
    assert ufr["matched"]["label"] == "Digital programmes"
    assert "informatique" in ufr["matched"]["text"]
    ctu = next(h for h in hits if h["id"] == "ctu-informatique")
    assert ctu["matched"] is None  # its name says it


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("fr", "Carte de l&#39;économie numérique de Besançon"),
        ("en", "Map of the digital economy of Besançon"),
    ],
)
def test_share_code_titles_the_frame_in_the_map_language(client, lang, title):
    html = client.get(f"/share?lang={lang}").get_data(as_text=True)
    snippet = html.split('id="share-code"')[1].split("</textarea>")[0]
    assert f'title="{title}"' in snippet
    titles = re.search(r"data-titles='([^']*)'", html).group(1)
    assert "Map of the digital economy" in titles and "Carte de l" in titles


def test_share_offers_no_base_map_the_server_ignores(client, app):
    html = client.get("/share?lang=en&basemap=osm").get_data(as_text=True)
    snippet = html.split('id="share-code"')[1].split("</textarea>")[0]
    assert 'id="share-basemap"' not in html  # this server has no base map
    assert "basemap" not in snippet  # nor does the code ask for one
    assert "none on this server" in html
    app.extensions["mapapp.site"].tiles = PROVIDERS["osmfr"]
    html = client.get("/share?lang=en&basemap=osm").get_data(as_text=True)
    snippet = html.split('id="share-code"')[1].split("</textarea>")[0]
    assert 'id="share-basemap"' in html and "basemap=osm" in snippet


def test_new_list_pages_are_made_two_at_a_time_and_cached_ones_always_served(client):
    """A page of /list not made yet takes one of MAX_LIST_PAGES turns (503 with
    Retry-After when none comes within 0.1 s); a page made before needs none."""
    import mapapp.views.public as public
    from mapapp.limits import MAX_LIST_PAGES

    made = client.get("/list?q=numerique")
    assert made.status_code == 200
    for _ in range(MAX_LIST_PAGES):
        assert public.LIST_PAGES.acquire(timeout=1)  # the others' searches
    try:
        busy = client.get("/list?q=informatique")
        assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0
        assert client.get("/list?q=numerique").status_code == 200  # cached
    finally:
        for _ in range(MAX_LIST_PAGES):
            public.LIST_PAGES.release()
    assert client.get("/list?q=informatique").status_code == 200
