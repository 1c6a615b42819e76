"""Latency and throughput of the OGC API items endpoint with 100,000 features, on the
GeoPackage and on PostGIS, with bbox queries, CQL2 filters and Lambert-93 output.

    .venv/bin/python benchmarks/bench_ogc.py [--rows 100000] [--pg postgresql://postgres@127.0.0.1:5432]

Each backend serves the app with waitress (8 threads, in another process); wrk sends
bbox queries of about 1 km around Besançon (limit 100) for 10 s on 16 connections,
after one warming request (the snapshot of the data version is built once). New
bbox queries (nothing cached but the snapshot) are timed apart from repeated ones
(answered from the response cache of the data version).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import companies  # noqa: E402
from mapapp.config import resource_dir  # noqa: E402
from mapapp.store import init_store, open_store  # noqa: E402
from tests.servers import start_server, stop  # noqa: E402
from tests.shipped import GRAND_BESANCON_BBOX as AREA  # noqa: E402

QUERY = "/ogc/collections/companies/items?bbox=6.015,47.232,6.030,47.242&limit=100"


def prepare(url: str, rows: int) -> None:
    store = open_store(url, AREA)
    init_store(store, resource_dir("geodata"), force=True)
    store.replace_layers({"companies": companies(rows)})
    store.close()


LAMBERT93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
ITEMS = "/ogc/collections/companies/items"


def _box(i: int) -> str:
    d = i * 0.0003  # a new box each time: no response cached
    return f"{6.015 + d:.4f},{47.232 + d:.4f},{6.030 + d:.4f},{47.242 + d:.4f}"


VARIANTS = {
    # name -> query string of the i-th request; every URL is new (boxes 100 to 249
    # serve no other query), so no answer comes from the response cache
    "bbox": lambda i: f"bbox={_box(100 + i)}&limit=100",
    "CQL2 filter (sector, headcount IN, LIKE)": lambda i: (
        "limit=100&filter="
        + quote(
            f"sector = 'software' AND headcount_class IN ('11', '12') "
            f"AND name LIKE '%{i:03d}%'"
        )
    ),
    "CQL2 S_INTERSECTS + comparison": lambda i: (
        "limit=100&filter="
        + quote(
            f"S_INTERSECTS(geometry, BBOX({_box(150 + i)})) AND sector <> 'unknown'"
        )
    ),
    "crs=EPSG:2154 with bbox": lambda i: (
        f"bbox={_box(200 + i)}&limit=100&crs={LAMBERT93}"
    ),
}


def variants(base: str) -> None:
    """Median and p95 of new queries of each kind (50 each)."""
    for label, query in VARIANTS.items():
        times = []
        for i in range(50):
            start = time.perf_counter()
            urllib.request.urlopen(f"{base}{ITEMS}?{query(i)}").read()
            times.append(time.perf_counter() - start)
        times.sort()
        print(
            f"  {label}: median {times[25] * 1000:.1f} ms, p95 {times[47] * 1000:.1f} ms",
            flush=True,
        )


def measure(name: str, env: dict) -> None:
    proc, base = start_server(env)
    try:
        start = time.perf_counter()
        urllib.request.urlopen(base + QUERY).read()
        first = time.perf_counter() - start
        times, unique = [], []
        for i in range(50):
            start = time.perf_counter()
            urllib.request.urlopen(base + QUERY).read()
            times.append(time.perf_counter() - start)
            d = i * 0.0003  # a new bbox each time: no response cached
            q = (
                f"/ogc/collections/companies/items?bbox={6.015 + d:.4f},{47.232 + d:.4f},"
                f"{6.030 + d:.4f},{47.242 + d:.4f}&limit=100"
            )
            start = time.perf_counter()
            urllib.request.urlopen(base + q).read()
            unique.append(time.perf_counter() - start)
        times.sort()
        unique.sort()
        out = subprocess.run(
            ["wrk", "-t2", "-c16", "-d10s", base + QUERY],
            capture_output=True,
            text=True,
        ).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        print(
            f"{name}: first request {first:.2f} s; new bbox query median "
            f"{unique[25] * 1000:.1f} ms (p95 {unique[47] * 1000:.1f}); repeated query "
            f"median {times[25] * 1000:.1f} ms, p95 {times[47] * 1000:.1f} ms; "
            f"{float(rps.group(1)) if rps else 0:,.0f} req/s (wrk, 16 connections)",
            flush=True,
        )
        variants(base)
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = str(Path(tmp) / "bench.gpkg")
        prepare(gpkg, a.rows)
        env = {
            **os.environ,
            "MAPAPP_DATABASE_URL": gpkg,
            "MAPAPP_TILES": "none",
            "MAPAPP_INSTANCE_PATH": tmp,
        }
        measure(f"GeoPackage, {a.rows:,} companies", env)
        import psycopg

        db = f"mapapp_bench_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(f"{a.pg}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{db}"')
        try:
            url = f"{a.pg}/{db}"
            prepare(url, a.rows)
            measure(
                f"PostGIS, {a.rows:,} companies", {**env, "MAPAPP_DATABASE_URL": url}
            )
        finally:
            with psycopg.connect(f"{a.pg}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
