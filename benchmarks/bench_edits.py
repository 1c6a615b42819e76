"""Edits on the GeoPackage store: the time of an add, an update and a history read
(median and p95 over N), with synchronous=FULL as in production.

Since the accounts and history moved to their own file, an edit commits in the
GeoPackage (the change and its history entry, in the outbox) and then moves the
entry: one more commit in each file. This measures what that costs.

    .venv/bin/python benchmarks/bench_edits.py [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from shapely.geometry import Point

from mapapp.config import resource_dir
from mapapp.layers import load_seed
from mapapp.store.geopackage import GeoPackageStore
from tests.shipped import GRAND_BESANCON_BBOX as AREA


def site(n: int) -> dict:
    return {
        "id": f"bench-{n}",
        "name": f"Bench {n}",
        "kind": "coworking",
        "status": "planned",
        "source": "benchmark",
        "source_date": "2026",
        "precision": "exact",
    }


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def summary(label: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return f"{label}: median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        store = GeoPackageStore(Path(tmp) / "mapapp.gpkg", AREA)
        store.create(load_seed(resource_dir("geodata"), AREA))
        adds = [
            timed(lambda i=i: store.add("coworking", site(i), Point(6.02, 47.24)))
            for i in range(n)
        ]
        updates = [
            timed(lambda i=i: store.update("coworking", f"bench-{i}", {"desks": i}))
            for i in range(n)
        ]
        reads = [
            timed(lambda i=i: store.history("coworking", f"bench-{i}"))
            for i in range(n)
        ]
        store.close()
    print(summary(f"add ({n})", adds))
    print(summary(f"update ({n})", updates))
    print(summary(f"history read ({n})", reads))


if __name__ == "__main__":
    main()
