"""Server time and memory of the planner's analyses, up to 1,000,000 companies.

    .venv/bin/python benchmarks/bench_analysis.py [--sizes shipped,100000,1000000]
        [--stores /tmp/mapapp-bench] [--pg [postgresql://postgres@127.0.0.1:5432]]
        [--keep]

Each size's store is kept in ``--stores`` (generated once with generate.py, then
reused: writing 1,000,000 companies takes minutes). With ``--pg`` the store is
PostGIS instead: one schema per size in the database ``mapapp_bench_pga`` of that
server (made the first time), dropped at the end unless ``--keep``. Measured
in-process with Flask's test client:

- catchment: ``GET /api/analysis/catchment`` (800 m, a point in TEMIS), median of 50
  once the layers are prepared (the first request, which reads the companies and
  indexes them, is reported apart);
- suitability: the 250 m and 100 m grids over the commune of Besançon, scored from
  scratch (``score_grid``), median of 3; and ``GET /api/analysis/suitability`` cold
  (the five best cells named from the zones included);
- timeline: ``GET /api/analysis/timeline`` for the whole area, median of 20;
- dossier: ``GET /planner/dossier`` of the whole area (static map drawn with
  matplotlib, scenarios, key figures): the first once the layers are prepared (the
  scenarios' grid is made), the median of 3 then; after a perimeter is edited (the
  companies' columns are kept: their layer did not change); and after every cache
  is cleared (the companies read again);
- memory: the process's resident set (VmRSS) at the end and its peak (VmHWM);
- ``--jagged``: scenarios and the dossier of a 2,000-vertex star perimeter stored
  before outlines were checked (issue 21 item 1), on the shipped data.
Targets (issue 21) at 1,000,000: catchment <= 100 ms, grid 250 m <= 1 s, grid 100 m
<= 3 s, timeline <= 100 ms, dossier <= 3 s, server RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import companies  # noqa: E402
from mapapp import accounts, create_app  # noqa: E402
from mapapp.analysis.suitability import DEFAULT_WEIGHTS, score_grid  # noqa: E402


def timed(fn, n: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def memory_mb() -> tuple[float, float]:
    """(resident, peak resident) megabytes of this process."""
    status = Path("/proc/self/status").read_text()
    values = {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }
    return values["VmRSS"], values["VmHWM"]


PG_DATABASE = "mapapp_bench_pga"


def pg_url(server: str, size: str) -> str:
    """The URL of the PostGIS store of ``size`` companies: its own schema of
    :data:`PG_DATABASE` (made, with the database, the first time)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
        ).fetchone():
            admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    with psycopg.connect(f"{server}/{PG_DATABASE}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "s_{size}"')
    return f"{server}/{PG_DATABASE}?options=-csearch_path%3Ds_{size}%2Cpublic"


def drop_pg(server: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def open_app(size: str, stores: Path, pg: str | None = None):
    """The app on the kept store of ``size`` companies (made the first time): a
    GeoPackage in ``stores``, or PostGIS on the server ``pg``."""
    config = {"INSTANCE_PATH": str(stores / size), "TILES": "none"}
    if pg:
        config["INSTANCE_PATH"] = str(stores / f"pg-{size}")
        config["DATABASE_URL"] = pg_url(pg, size)
    app = create_app(config | {"SECRET_KEY": "bench"})
    store = app.extensions["mapapp.site"].store
    if size != "shipped" and store.count("companies") != int(size):
        store.replace_layers({"companies": companies(int(size))})
    return app, store


def measure(size: str, stores: Path, pg: str | None = None) -> dict:
    app, store = open_app(size, stores, pg)
    site = app.extensions["mapapp.site"]
    if store.private.get_user("bench") is None:
        accounts.create_user(store, "bench", "planner", "long-enough-password")
    headers = {"Authorization": f"Bearer {accounts.new_token(store, 'bench')}"}
    client = app.test_client()

    def get(url):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.data[:300]
        return response

    url = "/api/analysis/catchment?lat=47.2505&lon=5.9905&radius=800"
    r = {"size": size, "rss_start_mb": memory_mb()[0]}
    r["catchment_first_s"], _x = timed(lambda: get(url), 1)
    r["catchment_ms"], response = timed(lambda: get(url), 50)
    r["catchment_ms"] *= 1000
    r["companies_in_catchment"] = response.json["companies"]["count"]
    data = site.prepared({})
    r["grid_s"], cells = timed(lambda: score_grid(data, DEFAULT_WEIGHTS, 250), 3)
    r["cells"] = len(cells)
    r["grid100_s"], cells = timed(lambda: score_grid(data, DEFAULT_WEIGHTS, 100), 3)
    r["cells100"] = len(cells)
    r["suitability_api_cold_s"], _x = timed(
        lambda: get("/api/analysis/suitability?cell=250"), 1
    )
    r["timeline_ms"], _x = timed(lambda: get("/api/analysis/timeline"), 20)
    r["timeline_ms"] *= 1000
    site._grids.clear()
    r["dossier_first_s"], response = timed(lambda: get("/planner/dossier"), 1)
    r["dossier_s"], _x = timed(lambda: get("/planner/dossier"), 3)
    r["dossier_kb"] = len(response.data) / 1024
    perimeter = store.read("perimeters", columns=["notes"]).iloc[0]
    store.update("perimeters", perimeter["id"], {"notes": "bench"})
    r["dossier_after_edit_s"], _x = timed(lambda: get("/planner/dossier"), 1)
    r["rss_mb"], r["peak_mb"] = memory_mb()
    site.clear_caches()  # as after an import of companies: all cold
    r["dossier_cold_s"], _x = timed(lambda: get("/planner/dossier"), 1)
    store.close()
    return r


def jagged_star(n: int = 2000):
    """A 2,000-vertex star around Besançon's centre (spikes 950 m long, 44 kB of
    GeoJSON): GEOS took two minutes and 1.7 GB to buffer it by 800 m at once."""
    import numpy as np
    from shapely.geometry import Polygon

    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    radius = np.where(np.arange(n) % 2 == 0, 1000.0, 50.0)
    lon = 6.02 + radius * np.cos(angle) / 75_560
    lat = 47.24 + radius * np.sin(angle) / 111_320
    return Polygon(np.column_stack([lon, lat]))


def measure_jagged(stores: Path) -> dict:
    """Scenarios and a dossier with a jagged perimeter stored before outlines were
    checked (refused now where it comes in): the first request, then the next."""
    import mapapp.layers.validation as validation

    app, store = open_app("shipped", stores)
    if store.private.get_user("bench") is None:
        accounts.create_user(store, "bench", "planner", "long-enough-password")
    headers = {"Authorization": f"Bearer {accounts.new_token(store, 'bench')}"}
    client = app.test_client()
    props = {"name": "Étoile", "status": "candidate", "source": "bench"}
    props |= {"source_date": "2026", "precision": "exact", "published": False}
    real = validation.check_geometry
    validation.check_geometry = lambda *a: None
    try:
        fid = store.add("perimeters", props, jagged_star())["id"]
    finally:
        validation.check_geometry = real

    def get(url):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.data[:300]

    scenarios = "/api/analysis/scenarios"
    dossier = f"/planner/dossier?layer=perimeters&id={fid}"
    r = {}
    r["scenarios_first_s"], _x = timed(lambda: get(scenarios), 1)
    r["scenarios_s"], _x = timed(lambda: get(scenarios), 3)
    r["dossier_s"], _x = timed(lambda: get(dossier), 3)
    r["rss_mb"], r["peak_mb"] = memory_mb()
    store.delete("perimeters", fid)
    store.close()
    return r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="shipped,100000,1000000")
    parser.add_argument("--stores", default="/tmp/mapapp-bench")
    parser.add_argument(
        "--jagged", action="store_true", help="only the jagged perimeter"
    )
    parser.add_argument(
        "--pg",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432",
        help="measure on PostGIS (this server, trust auth) instead of GeoPackage",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostGIS stores for a next run"
    )
    args = parser.parse_args()
    if args.jagged:
        r = measure_jagged(Path(args.stores))
        print(
            f"jagged 2,000-vertex perimeter: scenarios first {r['scenarios_first_s']:.2f}"
            f" s, then {r['scenarios_s']:.2f} s; its dossier {r['dossier_s']:.2f} s | "
            f"RSS {r['rss_mb']:.0f} MB (peak {r['peak_mb']:.0f})"
        )
        return
    try:
        for size in args.sizes.split(","):
            report(measure(size, Path(args.stores), args.pg), args.pg)
    finally:
        if args.pg and not args.keep:
            drop_pg(args.pg)


def report(r: dict, pg: str | None) -> None:
    print(
        f"{'PostGIS' if pg else 'GeoPackage'} {r['size']:>8}: catchment {r['catchment_ms']:.1f} ms "
        f"({r['companies_in_catchment']} companies; first request, reading and "
        f"indexing the companies, {r['catchment_first_s']:.2f} s) | grid 250 m "
        f"{r['cells']} cells {r['grid_s'] * 1000:.0f} ms | grid 100 m "
        f"{r['cells100']} cells {r['grid100_s'] * 1000:.0f} ms | suitability API "
        f"cold {r['suitability_api_cold_s']:.2f} s | timeline "
        f"{r['timeline_ms']:.1f} ms | dossier (whole area) first "
        f"{r['dossier_first_s']:.2f} s, then {r['dossier_s']:.2f} s "
        f"({r['dossier_kb']:.0f} kB); after a perimeter edit "
        f"{r['dossier_after_edit_s']:.2f} s; every cache cleared "
        f"{r['dossier_cold_s']:.2f} s | RSS {r['rss_mb']:.0f} MB (started at "
        f"{r['rss_start_mb']:.0f}, peak {r['peak_mb']:.0f})",
        flush=True,
    )


if __name__ == "__main__":
    main()
