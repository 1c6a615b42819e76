"""The first map after a restart: time from `mapapp serve` starting to the first
200 of `/embed`, of a large layer's overview and of its points (`.bin`), on the
first start over a store (the packed snapshot built) and on each restart over the
same store and instance folder (kept in a file since: loaded, not built). Then the
size of the snapshot file and the time to load it in this process.

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


def copy_store(store: Path, folder: Path) -> None:
    """The store and its private file, with their WAL journals, into ``folder``."""
    folder.mkdir(parents=True)
    for name in ("mapapp.gpkg", "mapapp-private.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            source = store.parent / f"{name}{suffix}"
            if source.is_file():
                shutil.copyfile(source, folder / source.name)


def first_200(base: str, path: str, started: float, deadline: float) -> float:
    """Seconds from ``started`` until ``path`` answers 200 (503s asked again)."""
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=120) as r:
                r.read()
                if r.status == 200:
                    return time.time() - started
        except (urllib.error.HTTPError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"{path} not served within the deadline")


def serve_once(instance: Path, port: int, app: Path | None) -> dict[str, float]:
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
        return times
    finally:
        proc.terminate()
        proc.wait(30)


def load_time(instance: Path, runs: int = 5) -> tuple[float, int]:
    """(best time to load the kept snapshot file of the companies, its size)."""
    from mapapp.config import load_settings
    from mapapp.site import Site

    site = Site(load_settings({}, overrides={"INSTANCE_PATH": str(instance)}))
    try:
        overview_min = int(site.settings.values.get("OVERVIEW_MIN_FEATURES", 200_000))
        label = site._file_label("companies", overview_min=overview_min)
        path = site.snapshot_files._path(label)
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            snap = site.snapshot_files.find(label)
            best = min(best, time.perf_counter() - t)
        assert snap is not None and len(snap) > 0
        return best, path.stat().st_size
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
    try:
        results = []
        for run in range(1 + args.restarts):
            times = serve_once(instance, args.port, args.app)
            results.append(times)
            what = "first start" if run == 0 else f"restart {run}"
            print(what, json.dumps({k: round(v, 2) for k, v in times.items()}))
        if args.app is None:
            seconds, size = load_time(instance)
            print(f"snapshot file: {size:,} bytes, loaded in {seconds:.3f} s")
    finally:
        shutil.rmtree(instance.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
