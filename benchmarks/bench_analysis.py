"""Server time of the planner's analyses on the shipped data and on 100,000 companies.

    .venv/bin/python benchmarks/bench_analysis.py [--sizes shipped,100000]

- catchment: ``GET /api/analysis/catchment`` (800 m, a point in TEMIS), median of 50
  requests once the layers are prepared (the first request, which reprojects and
  indexes them, is reported apart);
- suitability: the 250 m grid over the commune of Besançon, scored from scratch
  (``score_grid``), median of 5; and ``GET /api/analysis/suitability`` cold (the
  five best cells named from the zones included);
- timeline: ``GET /api/analysis/timeline`` for the whole area, median of 20;
- dossier: ``GET /planner/dossier`` of the whole area (static map drawn with
  matplotlib, scenarios, key figures): the first one once the layers are prepared
  (the scenarios' grid is made), the median of 3 then, and one after a write (the
  layers prepared again, as for the first analysis of any kind).
Targets (issue 4, issue 13): catchment < 50 ms, grid < 1 s with 100,000 companies;
the dossier of the whole area < 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_map import make_app  # noqa: E402
from mapapp import accounts  # noqa: E402
from mapapp.analysis.suitability import DEFAULT_WEIGHTS, score_grid  # noqa: E402


def timed(fn, n: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def measure(size: str, tmp: Path) -> dict:
    app, store = make_app(size, tmp)
    accounts.create_user(store, "bench", "planner", "long-enough-password")
    headers = {"Authorization": f"Bearer {accounts.new_token(store, 'bench')}"}
    client = app.test_client()
    url = "/api/analysis/catchment?lat=47.2505&lon=5.9905&radius=800"
    first, response = timed(lambda: client.get(url, headers=headers), 1)
    assert response.status_code == 200, response.json
    catch, response = timed(lambda: client.get(url, headers=headers), 50)
    companies = response.json["companies"]["count"]
    data = app.extensions["mapapp.site"].prepared({})
    grid, cells = timed(lambda: score_grid(data, DEFAULT_WEIGHTS, 250), 5)
    cold_api, _r = timed(
        lambda: client.get("/api/analysis/suitability?cell=250", headers=headers), 1
    )
    timeline, response = timed(
        lambda: client.get("/api/analysis/timeline", headers=headers), 20
    )
    assert response.status_code == 200, response.json
    app.extensions["mapapp.site"]._grids.clear()
    dossier_first, response = timed(
        lambda: client.get("/planner/dossier", headers=headers), 1
    )
    assert response.status_code == 200, response.data[:300]
    dossier, _r = timed(lambda: client.get("/planner/dossier", headers=headers), 3)
    app.extensions["mapapp.site"].clear_caches()  # as after a write: all cold
    dossier_cold, _r = timed(lambda: client.get("/planner/dossier", headers=headers), 1)
    return {
        "size": size,
        "catchment_first_s": first,
        "catchment_ms": catch * 1000,
        "companies_in_catchment": companies,
        "grid_s": grid,
        "cells": len(cells),
        "suitability_api_cold_s": cold_api,
        "timeline_ms": timeline * 1000,
        "dossier_first_s": dossier_first,
        "dossier_s": dossier,
        "dossier_cold_s": dossier_cold,
        "dossier_kb": len(response.data) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="shipped,100000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            r = measure(size, Path(tmp))
            print(
                f"{r['size']:>8}: catchment {r['catchment_ms']:.1f} ms "
                f"({r['companies_in_catchment']} companies; first request, preparing "
                f"the layers, {r['catchment_first_s']:.2f} s) | grid 250 m "
                f"{r['cells']} cells {r['grid_s'] * 1000:.0f} ms | suitability API "
                f"cold {r['suitability_api_cold_s']:.2f} s | timeline "
                f"{r['timeline_ms']:.1f} ms | dossier (whole area) first "
                f"{r['dossier_first_s']:.2f} s, then {r['dossier_s']:.2f} s "
                f"({r['dossier_kb']:.0f} kB); after a write (layers prepared again) "
                f"{r['dossier_cold_s']:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
