"""Is the map usable in a browser with a large layer? Headless Chromium timings.

    .venv/bin/python benchmarks/bench_browser.py [--sizes 10000,100000]

Serves the app with waitress on generated companies, opens ``/embed`` in Debian's
Chromium (Playwright) and reports: time until every layer is drawn
(``data-mapapp-ready``), then the time to zoom in by three levels and to bring one
marker out of its cluster and open its popup (a fetched feature), all as a visitor
would wait for them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_map import make_app  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402


def measure(size: str, tmp: Path) -> dict:
    from playwright.sync_api import sync_playwright

    app, _store = make_app(size, tmp)
    server = LiveServer(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            start = time.perf_counter()
            page.goto(server.url + "/embed?layers=companies")
            page.wait_for_selector(
                ".folium-map[data-mapapp-ready=true]", timeout=120000
            )
            ready = time.perf_counter() - start
            start = time.perf_counter()
            page.evaluate("""() => new Promise(done => {
                const m = window.mapapp.map;
                m.once('moveend', () => setTimeout(done, 0));
                m.setView([47.2378, 6.0241], 16, {animate: false});
            })""")
            zoom = time.perf_counter() - start
            start = time.perf_counter()
            page.evaluate("""() => {
                const m = window.mapapp.map;
                const e = m._mapapp.layers.companies;
                const mk = e.markers[Math.floor(e.markers.length / 2)];
                mapapp.reveal(m, e.group, mk, () => mapapp.openRemote(m, e, mk));
            }""")
            page.wait_for_selector(".mapapp-popup")
            popup = time.perf_counter() - start
            browser.close()
    finally:
        server.stop()
    return {"size": size, "ready_s": ready, "zoom_s": zoom, "popup_s": popup}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            r = measure(size, Path(tmp))
            print(
                f"{r['size']:>7} companies: drawn in {r['ready_s']:.2f} s, zoom to 16 "
                f"in {r['zoom_s']:.2f} s, popup in {r['popup_s']:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
