"""Real-browser fixtures: Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI and was not found at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


class Watched:
    """A page whose console errors and off-server requests are recorded."""

    def __init__(self, page, home: str):
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)
        self.home = home

    def _request(self, request) -> None:
        url = request.url
        if url.startswith(("data:", "about:", "blob:")):
            return
        if urlparse(url).hostname not in (self.home, "localhost", None):
            self.outside.append(url)


@pytest.fixture
def watched(browser, live_server):
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    w = Watched(page, "127.0.0.1")
    yield w
    context.close()


def map_counts(page) -> dict:
    """Features drawn per layer, read from map.js's state."""
    return page.evaluate("""() => {
        const map = window.mapapp.map;
        const out = {};
        for (const [name, e] of Object.entries(map._mapapp.layers)) out[name] = e.count;
        return out;
    }""")


def open_map(watched, url: str):
    watched.page.goto(url)
    watched.page.wait_for_selector(".folium-map[data-mapapp-ready=true]", timeout=20000)
    return watched.page
