"""The first map, list and analysis after a restart: time from `mapapp serve`
starting to the first 200 of `/embed`, of a large layer's overview and of its
points (`.bin`), then of the first page of its list (`/list`) and of a first
catchment (a planner's token), on the first start over a store (all built) and on
each restart over the same store and instance folder (kept in files since:
loaded, not built). Then the size of each kept file of the companies and the time
to load it in this process.

    .venv/bin/python benchmarks/bench_restart.py --store /path/to/mapapp.gpkg

The store (with its private file beside it) is copied into a new instance folder
and never written. ``--app DIR`` serves another checkout (the figures before a
change) over its own copy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

URLS = ("/embed", "/api/layers/companies.overview", "/api/layers/companies.bin")
# asked after the map, in this order (each figure counts from the start)
LIST = "/list?layer=companies"
CATCHMENT = "/api/analysis/catchment?lat=47.2378&lon=6.0241&radius=800"


def copy_store(store: Path, folder: Path) -> None:
    """The store and its private file, with their WAL journals, into ``folder``."""
    folder.mkdir(parents=True)
    for name in ("mapapp.gpkg", "mapapp-private.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            source = store.parent / f"{name}{suffix}"
            if source.is_file():
                shutil.copyfile(source, folder / source.name)


def planner_token(instance: Path) -> str:
    """An API token of a planner added to the instance's (copied) store."""
    from mapapp import accounts
    from mapapp.config import load_settings
    from mapapp.site import Site

    site = Site(load_settings({}, overrides={"INSTANCE_PATH": str(instance)}))
    try:
        password = os.urandom(12).hex()
        accounts.create_user(site.store, "benchplanner", "planner", password)
        return accounts.new_token(site.store, "benchplanner")
    finally:
        site.close()


def first_200(
    base: str, path: str, started: float, deadline: float, headers=None
) -> float:
    """Seconds from ``started`` until ``path`` answers 200 (503s asked again)."""
    while time.time() < deadline:
        try:
            request = urllib.request.Request(f"{base}{path}", headers=headers or {})
            with urllib.request.urlopen(request, timeout=120) as r:
                r.read()
                if r.status == 200:
                    return time.time() - started
        except (urllib.error.HTTPError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"{path} not served within the deadline")


def serve_once(
    instance: Path, port: int, app: Path | None, token: str
) -> dict[str, float]:
    """Start `mapapp serve`, time each URL's first 200, stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env |= {"MAPAPP_INSTANCE_PATH": str(instance), "MAPAPP_TILES": "none"}
    app = app or Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(app)
    command = [sys.executable, "-m", "mapapp", "serve", "--port", str(port)]
    started = time.time()  # `-m` imports from the working folder first
    proc = subprocess.Popen(command, env=env, cwd=app, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        times = {"healthz": first_200(base, "/healthz", started, started + 120)}
        for path in URLS:
            times[path] = first_200(base, path, started, started + 300)
        times["/list"] = first_200(base, LIST, started, started + 300)
        auth = {"Authorization": f"Bearer {token}"}
        times["catchment"] = first_200(base, CATCHMENT, started, started + 300, auth)
        return times
    finally:
        proc.terminate()
        proc.wait(30)


def load_times(instance: Path, runs: int = 5) -> dict[str, tuple[float, int]]:
    """(best time to load it, its size) of each kept file of the companies: the
    map's snapshot, the list index in French, the analysis columns."""
    from mapapp.analysis import COMPANY_FIELDS
    from mapapp.config import load_settings
    from mapapp.layers import get_spec
    from mapapp.site import COMPANY_FILES, Site, list_files
    from mapapp.snapshots import PACKED

    site = Site(load_settings({}, overrides={"INSTANCE_PATH": str(instance)}))
    names = [f for f in COMPANY_FIELDS if f in get_spec("companies").field_names]
    overview_min = int(site.settings.values.get("OVERVIEW_MIN_FEATURES", 200_000))
    kinds = {
        "snapshot": (PACKED, {"overview_min": overview_min}),
        "list": (list_files("fr"), {"list": "fr"}),
        "columns": (COMPANY_FILES, {"columns": names}),
    }
    found = {}
    try:
        for what, (kind, labelled) in kinds.items():
            label = site._file_label("companies", **labelled)
            best = float("inf")
            for _ in range(runs):
                t = time.perf_counter()
                value = site.snapshot_files.find(label, kind)
                best = min(best, time.perf_counter() - t)
            assert value is not None, f"no {what} file"
            path = site.snapshot_files._path(label, kind.family)
            found[what] = best, path.stat().st_size
        return found
    finally:
        site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--port", type=int, default=18951)
    parser.add_argument("--app", type=Path, default=None)
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="mapapp-restart-")) / "instance"
    copy_store(args.store, instance)
    token = planner_token(instance)
    try:
        results = []
        for run in range(1 + args.restarts):
            times = serve_once(instance, args.port, args.app, token)
            results.append(times)
            what = "first start" if run == 0 else f"restart {run}"
            print(what, json.dumps({k: round(v, 2) for k, v in times.items()}))
        if args.app is None:
            for what, (seconds, size) in load_times(instance).items():
                print(f"{what} file: {size:,} bytes, loaded in {seconds:.3f} s")
    finally:
        shutil.rmtree(instance.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
