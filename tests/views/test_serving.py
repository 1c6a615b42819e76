"""Serving under load: heavy bodies made once per layer version, kept in files and
streamed; a full heavy-work pool answers 503 with Retry-After."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from shapely.geometry import Point

import mapapp.exports
import mapapp.views.api
import mapapp.views.public
from mapapp.cache import Gate
from mapapp.maps.geojson import to_geojson
from tests.store.test_contract import new_site
from tests.views.test_ogc_clients import ZEROS


def count_calls(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_download_is_made_once_per_layer_version_and_streamed(
    client, store, monkeypatch
):
    calls = count_calls(monkeypatch, mapapp.views.public, "download_body")
    first = client.get("/download/companies.csv")
    assert first.status_code == 200 and first.is_streamed  # from a file
    again = client.get("/download/companies.csv")
    assert again.get_data() == first.get_data() and len(calls) == 1
    assert (
        client.get(
            "/download/companies.csv", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 304
    )
    # a write to another layer keeps it; a write to the layer makes it again
    store.add("coworking", new_site(), Point(6.02, 47.24))
    client.get("/download/companies.csv")
    assert len(calls) == 1
    store.add("companies", dict(ZEROS), Point(6.02, 47.24))
    fresh = client.get("/download/companies.csv")
    assert len(calls) == 2 and b"zero-codes" in fresh.get_data()


def test_download_gzip_is_the_same_body(client):
    plain = client.get("/download/coworking.geojson").get_data()
    packed = client.get(
        "/download/coworking.geojson", headers={"Accept-Encoding": "gzip"}
    )
    import gzip

    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain


def test_download_asked_at_once_by_many_is_made_once(app, monkeypatch):
    calls = count_calls(monkeypatch, mapapp.views.public, "download_body")
    bodies, statuses = [], []

    def ask():
        with app.test_client() as c:
            response = c.get("/download/companies.gpkg")
            statuses.append(response.status_code)
            if response.status_code == 200:
                bodies.append(response.get_data())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # one build; up to HEAVY_QUEUE (4) wait for it, the others are told to retry
    # (the others are answered 503 at once while it goes on)
    assert len(calls) == 1 and len(set(bodies)) == 1
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 4


def test_whole_layer_geojson_is_made_once_and_streamed(app, client, monkeypatch):
    app.config["INLINE_MAX_FEATURES"] = 5  # companies: a large layer here
    calls, real = [], mapapp.views.api.geojson_chunks

    def in_sevens(site, name):
        calls.append(name)
        return real(site, name, size=7)

    monkeypatch.setattr(mapapp.views.api, "geojson_chunks", in_sevens)
    first = client.get("/api/layers/companies.geojson")
    assert first.is_streamed
    again = client.get("/api/layers/companies.geojson")
    assert again.get_data() == first.get_data() and len(calls) == 1
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    # the same text as the layer in one piece (made in chunks of 7 features here)
    site = app.extensions["mapapp.site"]
    frame = site.store.read("companies", published_only=True).drop(
        columns=["published"], errors="ignore"
    )
    whole = json.dumps(
        to_geojson(frame, drop=("version",)), ensure_ascii=False, separators=(",", ":")
    )
    assert first.get_data(as_text=True) == whole and len(frame) > 14


@pytest.mark.parametrize(
    "path", ["/download/companies.csv", "/api/layers/companies.geojson", "/list"]
)
def test_full_heavy_pool_answers_503_with_retry_after(app, client, path):
    app.config["INLINE_MAX_FEATURES"] = 5
    site = app.extensions["mapapp.site"]
    site.clear_caches()
    site.heavy = Gate(at_once=1, queue=0, wait=0.1)
    inside, release = threading.Event(), threading.Event()

    def hold():
        with site.heavy.slot():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(5)
        busy = client.get(path)
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) >= 1
        if path == "/list":  # said to a visitor, in the page language
            assert "Réessayez dans quelques secondes" in busy.get_data(as_text=True)
        if path.startswith("/api/"):
            assert "ask again" in busy.get_json()["error"]
        assert client.get("/healthz").status_code == 200  # never waits on it
    finally:
        release.set()
        holder.join(10)
    # the build the refused request started went on: it is served once made
    for _ in range(100):
        again = client.get(path)
        if again.status_code != 503:
            break
        time.sleep(0.1)
    assert again.status_code == 200


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_ogc_api_definition_is_not_rebuilt_per_request(app, client, fmt):
    site = app.extensions["mapapp.site"]
    client.get(f"/ogc/api?f={fmt}")
    calls = []
    real = site.layer_metadata
    site.layer_metadata = lambda *a, **k: calls.append(1) or real(*a, **k)
    second = client.get(f"/ogc/api?f={fmt}")
    assert second.status_code == 200 and calls == []
    assert client.get(f"/ogc/?f={fmt}").status_code == 200 and calls == []


def test_list_index_is_built_once_per_layer_version(app, client, store, monkeypatch):
    import mapapp.listing
    import mapapp.site

    builds = []
    real = mapapp.site.build_list_index

    def counted(site, name, *args, **kwargs):
        builds.append(name)
        return real(site, name, *args, **kwargs)

    monkeypatch.setattr(mapapp.site, "build_list_index", counted)
    for q in ("", "numerique", "zz", "a"):
        assert client.get(f"/list?layer=companies&q={q}").status_code == 200
    assert builds == ["companies"]
    store.add("coworking", new_site(), Point(6.02, 47.24))  # another layer
    client.get("/list?layer=companies&q=b")
    assert builds == ["companies"]
    store.add("companies", dict(ZEROS), Point(6.02, 47.24))
    page = client.get("/list?layer=companies&q=zero").get_data(as_text=True)
    assert builds == ["companies"] * 2 and "Zéro &amp; Codes" in page


def test_list_pages_have_previous_and_next_links(client, monkeypatch):
    import mapapp.listing

    monkeypatch.setattr(mapapp.listing, "PAGE_SIZE", 5)
    first = client.get("/list?layer=companies").get_data(as_text=True)
    assert first.count('<th scope="row">') == 5
    assert "page=2" in first and "Page 1 " in first
    second = client.get("/list?layer=companies&page=2").get_data(as_text=True)
    assert "page=1" in second and "page=3" in second
    names = lambda html: set(re.findall(r'<th scope="row">([^<\n]+)', html))  # noqa: E731
    assert names(first).isdisjoint(names(second))


def test_large_bodies_are_sent_from_files_at_most_bulk_sends_at_once(
    app, client, monkeypatch
):
    """A body over BIG_BODY is handed to the server as a file (never copied into
    its buffers), one of BULK_SENDS at once: its turn is given back once it is
    sent, a 304 takes none, and beyond them the answer is a quick 503."""
    import mapapp.views.http as http

    monkeypatch.setattr(http, "BIG_BODY", 10)
    app.config["INLINE_MAX_FEATURES"] = 5  # the whole GeoJSON: a stored file
    for path in ("/api/layers/companies.geojson", "/download/coworking.csv"):
        first = client.get(path)
        assert first.status_code == 200 and first.is_streamed
        body = first.get_data()
        first.close()
        assert len(body) == int(first.headers["Content-Length"]) > 10
        assert http._BULK._value == http.BULK_SENDS  # given back once sent
        etag = first.headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        for _ in range(http.BULK_SENDS):
            assert http._BULK.acquire(blocking=False)
        try:
            busy = client.get(path)
            assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0
            # a client holding the body already needs no turn
            assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        finally:
            for _ in range(http.BULK_SENDS):
                http._BULK.release()
        again = client.get(path)
        assert again.get_data() == body
        again.close()
    # a cached payload over the bound goes the same way
    points = client.get("/api/layers/companies.bin")
    assert points.is_streamed and points.get_data()[:4] == b"MPTS"
    points.close()
    assert http._BULK._value == http.BULK_SENDS
