"""Each heavy build of a large layer (issue 21) timed alone, with its peak memory.

    .venv/bin/python benchmarks/bench_builds.py --store DIR [--jobs snapshot,list,...]
        [--runs 1] [--database-url postgresql://...] [--app DIR]

``DIR`` holds a GeoPackage store (``mapapp.gpkg``, as ``stress.py --keep DIR``
leaves it); it is copied to a temporary folder first and never written. With
``--database-url`` the builds read that PostGIS database instead (filled by hand,
``mapapp init`` and an import). Each build runs in a new process of its own, in its
thread, as a worker process of the server runs it (mapapp.workers): the seconds it
takes and the processor time it used (the machine's other work inflates the
first, hardly the second), the process's resident memory before it (the app
imported, the site open) and its peak (VmHWM). ``--app DIR`` builds with the
``mapapp`` of another checkout (the figures before a change). The builds:

- ``snapshot``: the map's packed snapshot (snapshots.build_packed)
- ``list``: the /list index (site.build_list_index)
- ``facts``: the layer's metadata and extent (site.read_facts)
- ``columns``: the analyses' company columns (site.company_points)
- ``geojson``: the whole-layer GeoJSON written to its file, gzipped beside
  (exports.geojson_chunks through site.keep_body)
- ``csv``: the CSV download (exports.download_body)
- ``gpkg``: the GeoPackage download (exports.download_body)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

JOBS = ("snapshot", "list", "facts", "columns", "geojson", "csv", "gpkg")


def memory_mb() -> tuple[float, float]:
    """(resident, peak resident) memory of this process in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def run_one(job: str, instance: Path, url: str | None) -> dict:
    """Build ``job`` once in this process; its seconds and memory."""
    from mapapp.analysis import COMPANY_FIELDS
    from mapapp.config import load_settings
    from mapapp.exports import download_body, geojson_chunks
    from mapapp.layers import get_spec
    from mapapp.site import (
        Site,
        build_list_index,
        company_points,
        keep_body,
        read_facts,
    )
    from mapapp.snapshots import build_packed

    overrides = {"INSTANCE_PATH": str(instance), "TILES": "none"}
    if url:
        overrides["DATABASE_URL"] = url
    site = Site(load_settings({}, overrides=overrides), in_worker=True)
    names = [f for f in COMPANY_FIELDS if f in get_spec("companies").field_names]
    version = site.layer_version("companies")
    builds = {
        "snapshot": lambda: build_packed(site, "companies", 200_000),
        "list": lambda: build_list_index(site, "companies", "fr"),
        "facts": lambda: read_facts(site, "companies", "fr"),
        "columns": lambda: company_points(site, names),
        "geojson": lambda: keep_body(
            site,
            ("geojson", "companies"),
            ("geojson", "companies", version),
            geojson_chunks,
            ("companies",),
        ),
        "csv": lambda: keep_body(
            site,
            ("csv", "companies"),
            ("csv", "companies", version),
            download_body,
            ("companies", "csv", None, "fr"),
        ),
        "gpkg": lambda: keep_body(
            site,
            ("gpkg", "companies"),
            ("gpkg", "companies", version),
            download_body,
            ("companies", "gpkg", None, "fr"),
        ),
    }
    site.bodies.clear()
    before, _ = memory_mb()
    start, cpu = time.perf_counter(), time.process_time()
    builds[job]()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    _, peak = memory_mb()
    site.close()
    return {
        "job": job,
        "seconds": seconds,
        "cpu": cpu,
        "rss_before_mb": before,
        "peak_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="folder holding mapapp.gpkg")
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--app", help="a checkout whose mapapp is measured")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.one:
        if a.app:
            sys.path.insert(0, str(Path(a.app).resolve()))
        print(json.dumps(run_one(a.one, Path(a.instance), a.database_url)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as tmp:
        instance = Path(tmp)
        if not a.database_url:
            source = Path(a.store)
            # the SQLite backup API copies a consistent store even from a WAL file
            import sqlite3

            for name in ("mapapp.gpkg", "mapapp-private.sqlite"):
                if (source / name).exists():
                    src = sqlite3.connect(f"file:{source / name}?mode=ro", uri=True)
                    dst = sqlite3.connect(instance / name)
                    src.backup(dst)
                    dst.close()
                    src.close()
        for job in a.jobs.split(","):
            for _ in range(a.runs):
                command = [sys.executable, __file__, "--one", job]
                command += ["--instance", str(instance)]
                if a.database_url:
                    command += ["--database-url", a.database_url]
                if a.app:
                    command += ["--app", a.app]
                out = subprocess.run(command, capture_output=True, text=True)
                if out.returncode:
                    print(f"{job}: failed\n{out.stderr[-2000:]}", flush=True)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{job:9} {r['seconds']:6.2f} s (cpu {r['cpu']:6.2f} s)  rss before"
                    f" {r['rss_before_mb']:5.0f} MB, peak {r['peak_mb']:5.0f} MB",
                    flush=True,
                )
        shutil.rmtree(instance / "cache", ignore_errors=True)


if __name__ == "__main__":
    main()
