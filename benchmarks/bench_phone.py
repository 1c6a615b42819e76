"""The map on a slow phone: Chromium's DevTools emulation of a mobile link and CPU.

    .venv/bin/python benchmarks/bench_phone.py [--sizes shipped,10000,100000]
        [--pages /embed,/] [--runs 3] [--stores /tmp/mapapp-bench]

Each run is a new browser context (cold cache) at 360x740 (touch, mobile) with the
link emulated by the DevTools protocol: 1.6 Mbit/s down, 750 kbit/s up, 150 ms of
latency per request, and the CPU 4x slower. Measured: the time from navigation
until every layer is drawn (map.js marks ``mapapp-ready`` when it sets
``data-mapapp-ready``), the bytes transferred (gzip, headers included) and the
requests. The floor is what the link alone costs: bytes / bandwidth plus one
latency per step of the request chain (the page, then what it loads, then what the
scripts fetch). Medians of ``--runs`` runs; the app is served by waitress in a
thread, ``MAPAPP_TILES=none``.

    .venv/bin/python benchmarks/bench_phone.py --url http://127.0.0.1:8000 \
        --pages '/embed?zoom=15&center=47.2378%2C6.0241' --first-points companies

measures a server already running (any version of mapapp) until the points of a
large layer are drawn, zoomed in: the seconds and the bytes until its first
points show (those of the tiles in view, or of the whole layer).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_map import make_app  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402

DOWN = 1.6e6 / 8  # bytes per second
UP = 750e3 / 8
LATENCY_MS = 150
CPU_SLOWDOWN = 4
READY_WATCH = """new MutationObserver((changes, watcher) => {
  if (document.querySelector('[data-mapapp-ready=true]')) {
    window.__mapappReady = performance.now();
    watcher.disconnect();
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ['data-mapapp-ready']});"""


# the layer draws points (not an overview's circles) and has some in view
FIRST_POINTS = """(name) => {
  const e = window.mapapp && window.mapapp.map && window.mapapp.map._mapapp
    && window.mapapp.map._mapapp.layers[name];
  return !!e && e.group && e.group.items && !e.overview && e.group.items.length > 0;
}"""


def one_run(browser, url: str, points: str | None = None) -> dict:
    """One cold visit: seconds until ready (or until the first points of layer
    ``points`` are drawn), bytes, requests, chain depth."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="fr-FR",
    )
    page = context.new_page()
    # the moment the map says it is ready, seen from inside the page
    page.add_init_script(READY_WATCH)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": LATENCY_MS,
            "downloadThroughput": DOWN,
            "uploadThroughput": UP,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    sent, done = {}, {}
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: sent.setdefault(
            e["requestId"], (e["request"]["url"], e["initiator"])
        ),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: done.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(url, wait_until="commit")
    page.wait_for_selector("[data-mapapp-ready=true]", state="attached", timeout=120000)
    ready = page.evaluate("() => window.__mapappReady / 1000")
    if points:
        page.wait_for_function(FIRST_POINTS, arg=points, polling=50, timeout=120000)
        ready = page.evaluate("() => performance.now() / 1000")
    counted = dict(done)  # the bytes until then, not those still coming
    page.wait_for_timeout(300)  # let the last byte counts arrive
    if not points:
        counted = done
    depth = 1
    for _url, initiator in sent.values():
        kind = initiator.get("type")
        depth = max(
            depth, 3 if kind == "script" else 2 if kind in ("parser", "preload") else 1
        )
    result = {
        "ready_s": ready,
        "bytes": sum(counted.values()),
        "requests": len(counted),
        "depth": depth,
    }
    context.close()
    return result


def warm(url: str, tries: int = 20) -> None:
    """Ask for ``url`` until it answers 200: the first request of a large store
    builds its map data (minutes at a million on a loaded machine; 503 meanwhile)."""
    for _ in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=600) as response:
                response.read()
                return
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
            time.sleep(5)


def measure(
    size: str, pages: list[str], runs: int, tmp: Path, stores: Path | None = None
) -> list[dict]:
    from playwright.sync_api import sync_playwright

    app, _store = make_app(size, tmp, stores)
    server = LiveServer(app)
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            for path in pages:
                warm(server.url + path)
                one_run(browser, server.url + path)  # warm the server's caches
                results = [one_run(browser, server.url + path) for _ in range(runs)]
                ready = statistics.median(r["ready_s"] for r in results)
                last = results[-1]
                floor = last["bytes"] / DOWN + last["depth"] * LATENCY_MS / 1000
                out.append(
                    {
                        "size": size,
                        "page": path,
                        "ready_s": ready,
                        "spread": (
                            min(r["ready_s"] for r in results),
                            max(r["ready_s"] for r in results),
                        ),
                        "floor_s": floor,
                        **{k: last[k] for k in ("bytes", "requests", "depth")},
                    }
                )
            browser.close()
    finally:
        server.stop()
    return out


def measure_running(base: str, pages: list[str], runs: int, points: str) -> None:
    """Print the first-points figures of ``pages`` of the server at ``base``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for path in pages:
            warm(base + path)
            one_run(browser, base + path, points)  # warm the server's caches
            results = [one_run(browser, base + path, points) for _ in range(runs)]
            first = statistics.median(r["ready_s"] for r in results)
            print(
                f"{path}: first points of {points} after {first:.2f} s (runs "
                f"{min(r['ready_s'] for r in results):.2f}-"
                f"{max(r['ready_s'] for r in results):.2f}); "
                f"{results[-1]['bytes']:,} bytes in {results[-1]['requests']} "
                "requests until then",
                flush=True,
            )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="shipped,10000,100000")
    parser.add_argument("--pages", default="/embed,/")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--stores",
        type=Path,
        help="folder of stores made before, one per size (e.g. /tmp/mapapp-bench)",
    )
    parser.add_argument("--url", help="measure this running server instead")
    parser.add_argument(
        "--first-points",
        metavar="LAYER",
        help="time and bytes until this large layer's first points are drawn",
    )
    args = parser.parse_args()
    if args.url:
        measure_running(
            args.url.rstrip("/"), args.pages.split(","), args.runs, args.first_points
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            for r in measure(
                size, args.pages.split(","), args.runs, Path(tmp), args.stores
            ):
                print(
                    f"{r['size']:>7} {r['page']:<7} ready {r['ready_s']:.2f} s "
                    f"(runs {r['spread'][0]:.2f}-{r['spread'][1]:.2f}); "
                    f"{r['bytes']:,} bytes in {r['requests']} requests, chain of "
                    f"{r['depth']}; floor {r['floor_s']:.2f} s -> "
                    f"{r['ready_s'] / r['floor_s']:.2f}x the floor",
                    flush=True,
                )


if __name__ == "__main__":
    main()
