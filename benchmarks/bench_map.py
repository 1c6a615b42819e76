"""Bytes, build time and cached response time of the public map, against explore().

    .venv/bin/python benchmarks/bench_map.py [--sizes shipped,10000,100000]

For each size the companies layer is the shipped one or a generated one of that many
points (benchmarks/generate.py); the other layers are the shipped ones. Measured
in-process with Flask's test client, ``MAPAPP_TILES=none``, gzip accepted:

- bytes: everything a browser downloads to show ``/embed`` (page, scripts, styles,
  layer data) as the server sends it;
- cold: an ``/embed`` request plus the first request of each data URL it names,
  with every cache of the app emptied (the server's work for a first visitor);
  the median of five runs, after one run that warms Python's own imports;
- cached: the mean time of further ``/embed`` requests (page cache hit);
- baseline: ``GeoDataFrame.explore()`` on the same companies frame, rendered to
  HTML (its build time, median of three) and gzip-compressed, plus the gzip size of
  the libraries it loads from CDNs where a pip package ships them (Leaflet 1.9.3,
  jQuery 3.7.1, Font Awesome's CSS). Bootstrap and Leaflet.awesome-markers are not
  counted (no local copy), so explore()'s bytes are *under*-estimated and the ratio
  favours it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import companies  # noqa: E402
from mapapp import create_app  # noqa: E402


def explore_asset_bytes() -> int:
    """gzip bytes of explore()'s CDN libraries that pip packages ship locally."""
    import xstatic.pkg.font_awesome as fa
    import xstatic.pkg.jquery as jq
    import xstatic.pkg.leaflet as lf

    files = [
        Path(lf.BASE_DIR) / "leaflet.js",
        Path(lf.BASE_DIR) / "leaflet.css",
        Path(jq.BASE_DIR) / "jquery.min.js",
        Path(fa.BASE_DIR) / "css/all.min.css",
    ]
    return sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)


def make_app(size: str, tmp: Path, stores: Path | None = None):
    """An app of ``size`` companies in a new instance under ``tmp``, or in
    ``stores/size`` when that folder already holds a store of that size (made by
    an earlier run: a million companies take minutes to generate)."""
    kept = stores is not None and (stores / size / "mapapp.gpkg").exists()
    instance = stores / size if kept else tmp / size
    app = create_app(
        {"INSTANCE_PATH": str(instance), "TILES": "none", "SECRET_KEY": "bench"}
    )
    store = app.extensions["mapapp.site"].store
    if size != "shipped" and not kept:
        store.replace_layers({"companies": companies(int(size))})
    return app, store


def page_urls(html: str) -> list[str]:
    urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    # a large layer's data: the bytes the map loads (its JSON twin is not fetched)
    # (or, for a very large layer, the overview it loads first)
    overviews = [
        u.replace("\\u0026", "&") for u in re.findall(r'"overview":"([^"]+)"', html)
    ]
    binaries = [
        u.replace("\\u0026", "&") for u in re.findall(r'"binary":"([^"]+)"', html)
    ]
    urls += overviews + [
        u for u in binaries if u.replace(".bin?", ".overview?") not in overviews
    ]
    urls += re.findall(r'"url":"([^"]+\.geojson)"', html)
    return urls


def cold_run(app) -> tuple[float, float, int, str]:
    """(page seconds, data seconds, data bytes, page HTML) with every cache empty."""
    app.extensions["mapapp.site"].clear_caches()
    client = app.test_client()
    gz = {"Accept-Encoding": "gzip"}
    start = time.perf_counter()
    page = client.get("/embed", headers=gz)
    cold_page = time.perf_counter() - start
    html = gzip.decompress(page.data).decode()
    nbytes = len(page.data)
    start = time.perf_counter()
    for url in page_urls(html):
        if not url.startswith("/assets/"):
            nbytes += len(client.get(url, headers=gz).data)
    return cold_page, time.perf_counter() - start, nbytes, html


def measure(size: str, tmp: Path, repeat: int = 300) -> dict:
    app, store = make_app(size, tmp)
    frame = store.read("companies", published_only=True).drop(columns=["version"])
    client = app.test_client()
    gz = {"Accept-Encoding": "gzip"}
    cold_page, cold_data, total, html = cold_run(app)  # warms Python's own caches
    runs = sorted((cold_run(app) for _ in range(5)), key=lambda r: r[0] + r[1])
    cold_page, cold_data, total, html = runs[len(runs) // 2]  # the median run
    for url in page_urls(html):
        if url.startswith("/assets/"):
            total += len(client.get(url, headers=gz).data)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.get("/embed", headers=gz)
        times.append(time.perf_counter() - t)
    explore_times = []
    for _ in range(3):
        start = time.perf_counter()
        explore_html = frame.explore().get_root().render()
        explore_times.append(time.perf_counter() - start)
    explore_build = statistics.median(explore_times)
    explore_bytes = len(gzip.compress(explore_html.encode(), 6)) + explore_asset_bytes()
    cold = cold_page + cold_data
    return {
        "size": size,
        "features": len(frame),
        "bytes": total,
        "explore_bytes": explore_bytes,
        "bytes_ratio": total / explore_bytes,
        "cold_page_s": cold_page,
        "cold_data_s": cold_data,
        "cold_s": cold,
        "explore_build_s": explore_build,
        "build_ratio": cold / explore_build,
        "cached_ms": statistics.mean(times) * 1000,
        "cached_p95_ms": sorted(times)[int(0.95 * len(times))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="shipped,10000,100000")
    parser.add_argument("--out", default="benchmarks/out/map.json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            r = measure(size, Path(tmp))
            results.append(r)
            print(
                f"{r['size']:>8} ({r['features']} companies): bytes {r['bytes']:,} vs "
                f"explore {r['explore_bytes']:,} -> {r['bytes_ratio']:.3f}; cold "
                f"{r['cold_s']:.3f} s (page {r['cold_page_s']:.3f} + data "
                f"{r['cold_data_s']:.3f}) vs explore {r['explore_build_s']:.3f} s -> "
                f"{r['build_ratio']:.3f}; cached {r['cached_ms']:.2f} ms "
                f"(p95 {r['cached_p95_ms']:.2f})",
                flush=True,
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
