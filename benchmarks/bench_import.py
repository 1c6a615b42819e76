"""Rows per second and peak memory of the SIRENE import on a generated national-like
file of one million rows in the real 54-column header layout.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000]

About 1 % of the rows are in Doubs communes, 4 % have an ICT NAF code and 10 % are
closed, so the filter keeps a few hundred establishments, as a real run does for
Grand Besançon. The import runs in a fresh process (``mapapp import sirene
--dry-run``, then for real) so its peak resident memory is measured alone.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.importers.fixtures import SIRENE_COLUMNS, sirene_row  # noqa: E402

ICT = ["62.01Z", "62.02A", "58.29C", "63.11Z", "61.10Z", "26.11Z"]
OTHER = ["47.11F", "56.10A", "86.21Z", "43.21A", "68.20A", "10.71C", "49.41A"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(SIRENE_COLUMNS) + "\n")
        for i in range(rows):
            doubs = rng.random() < 0.01
            commune = (
                "25056"
                if doubs
                else f"{rng.randint(1, 95):02d}{rng.randint(1, 600):03d}"
            )
            naf = rng.choice(ICT) if rng.random() < 0.04 else rng.choice(OTHER)
            x = 928723 + rng.uniform(-4000, 4000) if doubs else 650000
            y = 6686324 + rng.uniform(-4000, 4000) if doubs else 6860000
            row = sirene_row(
                f"{700000000 + i:09d}{i % 99999:05d}",
                etat="F" if rng.random() < 0.1 else "A",
                commune=commune,
                naf=naf,
                x=f"{x:.1f}",
                y=f"{y:.1f}",
                name=f"ETABLISSEMENT {i}",
                tranche="11",
            )
            f.write(",".join(row) + "\n")


def run(args: list[str], env: dict) -> tuple[float, str, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, proc.stdout, max(peak_kb, before)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "StockEtablissement_utf8.csv"
        start = time.perf_counter()
        generate(path, a.rows)
        size = path.stat().st_size
        print(
            f"generated {a.rows:,} rows, {size / 1e6:.0f} MB in "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
        env = {
            **os.environ,
            "MAPAPP_INSTANCE_PATH": str(Path(tmp) / "inst"),
            "MAPAPP_TILES": "none",
        }
        cmd = [
            sys.executable,
            "-m",
            "mapapp",
            "import",
            "sirene",
            str(path),
            "--edition",
            "2026-10",
        ]
        for label, extra in (("dry run", ["--dry-run"]), ("import", [])):
            elapsed, out, peak = run(cmd + extra, env)
            print(
                f"{label}: {elapsed:.1f} s, {a.rows / elapsed:,.0f} rows/s, peak "
                f"memory {peak / 1024:.0f} MB (file {size / 1e6:.0f} MB)"
            )
            print("   " + out.splitlines()[0], flush=True)


if __name__ == "__main__":
    main()
