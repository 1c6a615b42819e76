"""Public pages: the map page, languages, headers, no third-party assets."""

from __future__ import annotations

import re

import pytest

PAGES = ["/", "/embed", "/?lang=en", "/embed?lang=en", "/share", "/list", "/nope"]


def test_map_page_is_french_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Entreprises du numérique" in html
    assert "Carte" in html


def test_map_page_in_english(client):
    response = client.get("/?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and "Digital companies" in html
    assert "mapapp_lang=en" in response.headers["Set-Cookie"]
    assert 'lang="en"' in client.get("/").get_data(as_text=True)  # kept in the cookie


def test_accept_language_english(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in html


@pytest.mark.parametrize("path", PAGES + ["/api/layers/companies.geojson", "/healthz"])
def test_no_external_script_or_stylesheet(client, path):
    html = client.get(path).get_data(as_text=True)
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        if url:
            assert url.group(1).startswith("/"), tag


def test_assets_are_served_locally(client):
    for url in (
        "/assets/leaflet/leaflet.js",
        "/assets/markercluster/leaflet.markercluster.js",
        "/assets/mapapp/map.js",
        "/assets/mapapp/site.css",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/assets/nope/x.js").status_code == 404
    assert client.get("/assets/leaflet/../../../../etc/passwd").status_code == 404


def test_csp_and_framing(client):
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["X-Frame-Options"] == "DENY"
    embed = client.get("/embed")
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers


def test_inline_scripts_match_the_csp_hashes(client):
    import base64
    import hashlib

    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    for body in re.findall(
        r"<script>(.*?)</script>", page.get_data(as_text=True), re.S
    ):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_map_page_etag_and_gzip(client, store):
    first = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    etag = first.headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    store.update("coworking", "le-numerique", {"published": False})
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200


def test_unpublished_features_never_reach_the_page(client):
    html = client.get("/").get_data(as_text=True)
    assert "le-numerique" in html
    assert "proposition-clairs-soleils" not in html


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "said", "never"),
    [
        ("fr", "Il n&#39;y a pas de page à cette adresse", "The requested URL"),
        ("en", "There is no page at this address", "Retour"),
    ],
)
@pytest.mark.parametrize("path", ["/nope", "/download/nope.csv", "/assets/nope/x.js"])
def test_error_pages_speak_one_language(client, lang, said, never, path):
    html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and said in html
    assert never not in html and "not found on the server" not in html
