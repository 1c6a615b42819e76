"""Another website in Chromium: a page served on another port (another origin)
reads the public API, its errors and conditional answers, and never a planner's
route; an injected script never runs on the map page (issue 22)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mapapp import accounts
from tests.browser.conftest import open_map

pytestmark = pytest.mark.browser

PAGE = b"<!doctype html><html lang='en'><title>journal</title><p>elsewhere</p></html>"


@pytest.fixture
def other_site():
    """A page of another origin (another port of this machine)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


FETCH = """async ([url, headers]) => {
  try {
    const r = await fetch(url, {headers: headers || {}});
    return {status: r.status, body: await r.text(), etag: r.headers.get('ETag')};
  } catch (e) { return {failed: String(e)}; }
}"""


def test_another_site_reads_the_public_api_and_its_errors(
    watched, live_server, other_site
):
    page = watched.page
    page.goto(other_site)
    api = live_server.url
    layer = page.evaluate(FETCH, [f"{api}/api/layers/coworking.geojson", None])
    assert layer["status"] == 200 and '"FeatureCollection"' in layer["body"]
    assert layer["etag"]  # exposed to the script
    # a conditional GET: the browser asks first (preflight), then gets its 304
    again = page.evaluate(
        FETCH, [f"{api}/api/layers/coworking.geojson", {"If-None-Match": layer["etag"]}]
    )
    assert again["status"] == 304, again
    for url, status in [
        ("/api/layers/nope.geojson", 404),
        ("/ogc/collections/nope", 404),
        ("/ogc/collections/coworking/items?limit=zero", 400),
        ("/api/search", 400),
    ]:
        got = page.evaluate(FETCH, [api + url, None])
        assert got.get("status") == status, (url, got)  # not "Failed to fetch"
        assert got["body"].startswith("{"), url
    for url in (
        "/api/search?q=numerique",
        "/api/places?q=battant",
        "/healthz",
        "/api/openapi.json",
        "/ogc/collections?f=json",
    ):
        assert page.evaluate(FETCH, [api + url, None]).get("status") == 200, url


def test_another_site_never_reads_a_planners_route(
    watched, live_server, other_site, store
):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")
    page = watched.page
    page.goto(other_site)
    auth = {"Authorization": f"Bearer {token}"}
    for url in (
        "/api/analysis/figures",
        "/api/layers/coworking/deleted",
        "/api/layers/coworking.geojson?include=unpublished",
    ):
        got = page.evaluate(FETCH, [live_server.url + url, auth])
        assert "failed" in got, (url, got)


def test_an_injected_script_does_not_run_on_the_map(watched, live_server, monkeypatch):
    from mapapp.views import public

    real = public.render_template

    def with_injection(*args, **kwargs):
        html = real(*args, **kwargs)
        return html.replace("</body>", "<script>window.injected = 1</script></body>")

    monkeypatch.setattr(public, "render_template", with_injection)
    page = watched.page
    blocked = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security" in m.text else None,
    )
    open_map(watched, f"{live_server.url}/embed?lang=en")  # the map itself runs
    assert page.evaluate("window.injected") is None
    assert blocked, "Chromium reports the blocked inline script"
