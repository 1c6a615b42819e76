"""Time of a CQL2 filter of 16 polygons joined by OR on the OGC API items endpoint
(issue 21 item 7), on the GeoPackage and on PostGIS, up to 1,000,000 companies.

    .venv/bin/python benchmarks/bench_cql2_polygons.py [--sizes 100000,1000000]
        [--stores /tmp/mapapp-bench] [--pg [postgresql://postgres@127.0.0.1:5432]]
        [--keep] [--queries 10]

The stores are bench_analysis.py's (same ``--stores``, ``--pg`` and ``--keep``).
Each query is ``limit=100&filter=S_INTERSECTS(geometry, POLYGON(...)) OR ...`` with
16 new quadrilaterals of about 1 to 2 km drawn around Besançon's centre
(``polygons_filter`` of stress.py, the same seeds on both backends), asked with
Flask's test client after one warming request: numberMatched and the page, within
the time budget QUERY_SECONDS (a 503 past it). Reported: median and slowest time,
the statuses, and the numbers matched (equal on both backends).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_analysis import drop_pg, open_app  # noqa: E402
from benchmarks.stress import polygons_filter  # noqa: E402

ITEMS = "/ogc/collections/companies/items"


def measure(size: str, stores: Path, pg: str | None, queries: int) -> dict:
    app, store = open_app(size, stores, pg)
    client = app.test_client()
    client.get(f"{ITEMS}?limit=1")  # the snapshot of the data version
    times, statuses, matched = [], [], []
    for i in range(queries):
        random.seed(i)
        url = f"{ITEMS}?limit=100&filter={quote(polygons_filter())}"
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        statuses.append(response.status_code)
        body = response.json if response.status_code == 200 else {}
        matched.append(body.get("numberMatched"))
    store.close()
    return {
        "median_s": statistics.median(times),
        "max_s": max(times),
        "statuses": statuses,
        "matched": matched,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--stores", default="/tmp/mapapp-bench")
    parser.add_argument(
        "--pg",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432",
        help="measure on PostGIS (this server, trust auth) instead of GeoPackage",
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--queries", type=int, default=10)
    args = parser.parse_args()
    try:
        for size in args.sizes.split(","):
            r = measure(size, Path(args.stores), args.pg, args.queries)
            print(
                f"{'PostGIS' if args.pg else 'GeoPackage'} {size:>8}: 16 polygons OR, "
                f"median {r['median_s']:.2f} s, slowest {r['max_s']:.2f} s | "
                f"statuses {sorted(set(r['statuses']))} | matched {r['matched']}",
                flush=True,
            )
    finally:
        if args.pg and not args.keep:
            drop_pg(args.pg)


if __name__ == "__main__":
    main()
