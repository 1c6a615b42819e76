"""Serving a large companies layer under `mapapp serve`: the map after a write, the
list, downloads, the OGC API definition and pages, whole-layer GeoJSON under load,
with a probe asking ``/healthz`` all along and the server's memory.

    .venv/bin/python benchmarks/bench_serving.py [--sizes 100000,1000000]
        [--data /tmp/mapapp-bench] [--clients 50] [--seconds 10] [--app DIR]

Stores are generated once per size into ``--data`` (benchmarks/generate.py; a
million companies take a few minutes) and reused. The server runs in its own
process (waitress, 8 threads, loopback only); ``--app`` serves another checkout of
mapapp with the same stores (the figures before a change). Writes are made by this
process on the same GeoPackage, as a planner's edit or an import would be.

Phases, each with the probe's /healthz p50/p99 during it:

- cold: the first /embed and the map data it names (nothing built yet);
- edit elsewhere: a coworking site changed, then /embed and its map data;
- companies write: one company added, then /embed and its map data (the previous
  version may be served while the new one builds), and the time until the page
  names the new version;
- list: ten /list requests with a new text each, then one repeated;
- downloads: companies as CSV and GeoPackage, first and second request;
- ogc/api: the API definition, first and second; 20 new OGC pages of 1,000 features
  in a bbox (median);
- load: ``--clients`` clients asking /api/layers/companies.geojson for
  ``--seconds`` (requests/s, errors; a 503 is asked again after its Retry-After,
  2 s at most), first while it is built, then once built; RSS is read from /proc
  after each phase.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import companies  # noqa: E402
from mapapp.config import load_settings  # noqa: E402
from mapapp.store import open_store  # noqa: E402
from mapapp.values import plain_value  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GZ = {"Accept-Encoding": "gzip"}


def prepare(folder: Path, n: int) -> None:
    """A store with ``n`` generated companies in ``folder`` (kept between runs)."""
    if (folder / "mapapp.gpkg").is_file():
        return
    from mapapp import create_app

    folder.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {"INSTANCE_PATH": str(folder), "TILES": "none", "SECRET_KEY": "bench"}
    )
    app.extensions["mapapp.site"].store.replace_layers({"companies": companies(n)})
    app.extensions["mapapp.site"].close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(folder: Path, app_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "MAPAPP_INSTANCE_PATH": str(folder),
        "MAPAPP_TILES": "none",
        "MAPAPP_SECRET_KEY": "bench",
        "PYTHONPATH": str(app_dir),
    }
    code = f"import sys; sys.path.insert(0, {str(app_dir)!r}); "
    code += "from mapapp.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            get(port, "/healthz")
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def get(port: int, path: str, headers=None, timeout: float = 600):
    """(status, body bytes, headers) of one GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def timed(port: int, path: str, headers=None) -> tuple[float, int, bytes]:
    t = time.perf_counter()
    status, body, _ = get(port, path, headers)
    return time.perf_counter() - t, status, body


class Probe(threading.Thread):
    """Asks /healthz every 50 ms; latencies kept per phase."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.samples, self.running = port, [], True

    def run(self) -> None:
        while self.running:
            t = time.perf_counter()
            try:
                get(self.port, "/healthz", timeout=60)
                self.samples.append(time.perf_counter() - t)
            except Exception:  # noqa: BLE001 - a failed probe counts as a minute
                self.samples.append(60.0)
            time.sleep(0.05)

    def window(self) -> list[float]:
        taken, self.samples = self.samples, []
        return taken


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    now = int(re.search(r"VmRSS:\s+(\d+)", text).group(1))
    peak = int(re.search(r"VmHWM:\s+(\d+)", text).group(1))
    return now / 1024, peak / 1024


def map_load(port: int) -> tuple[float, str]:
    """Seconds for /embed and the map data it names, and the data URL."""
    t = time.perf_counter()
    _, status, body = timed(port, "/embed")
    html = body.decode()
    urls = [u.replace("\\u0026", "&") for u in re.findall(r'"binary":"([^"]+)"', html)]
    for url in urls:
        get(port, url, GZ)
    return time.perf_counter() - t, urls[0] if urls else ""


def phase(report: list, name: str, probe: Probe, pid: int, **figures) -> None:
    probes = probe.window()
    now, peak = rss_mb(pid)
    row = {
        "phase": name,
        **figures,
        "healthz_p50_ms": pct(probes, 0.5) * 1000,
        "healthz_p99_ms": pct(probes, 0.99) * 1000,
        "rss_mb": now,
        "peak_rss_mb": peak,
    }
    report.append(row)
    shown = ", ".join(
        f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in row.items()
        if k != "phase"
    )
    print(f"  {name}: {shown}", flush=True)


def company(i: int) -> tuple[dict, object]:
    frame = companies(1, seed=1000 + i)
    row = frame.iloc[0]
    props = {
        k: plain_value(v)
        for k, v in row.items()
        if k != "geometry" and plain_value(v) is not None
    }
    props["id"] = props["siret"] = f"9{i:08d}00017"
    props["siren"] = props["siret"][:9]
    return props, row.geometry


def write_phases(report, port, probe, pid, store) -> None:
    sites = store.read("coworking", columns=["id"])
    fid = sites["id"].iloc[0]
    current = store.get("coworking", fid)
    store.update(
        "coworking",
        fid,
        {"notes": f"bench {time.time()}"},
        expected_version=current["version"],
    )
    seconds, _ = map_load(port)
    phase(report, "edit elsewhere: map", probe, pid, seconds=seconds)
    props, point = company(int(time.time()) % 10_000_000)
    version = store.add("companies", props, point)["version"]
    written = store.layer_version("companies")
    seconds, url = map_load(port)
    t = time.perf_counter()
    while f"v={written}" not in url and time.perf_counter() - t < 120:
        time.sleep(0.2)
        _, url = map_load(port)
    fresh = time.perf_counter() - t + seconds
    phase(
        report,
        "companies write: map",
        probe,
        pid,
        seconds=seconds,
        fresh_after_s=fresh,
        version=version,
    )


def read_phases(report, port, probe, pid, rng) -> None:
    times = [timed(port, f"/list?q={rng.randrange(10**6):06d}")[0] for _ in range(10)]
    again = timed(port, "/list?q=000123")[0]
    phase(
        report,
        "list",
        probe,
        pid,
        first_s=times[0],
        new_q_median_s=statistics.median(times[1:]),
        repeated_s=again,
    )
    for fmt in ("csv", "gpkg"):
        first = timed(port, f"/download/companies.{fmt}", GZ)
        second = timed(port, f"/download/companies.{fmt}", GZ)
        phase(
            report,
            f"download {fmt}",
            probe,
            pid,
            first_s=first[0],
            second_s=second[0],
            status=first[1],
        )
    first, second = timed(port, "/ogc/api")[0], timed(port, "/ogc/api")[0]
    pages = []
    for _ in range(20):
        x = 6.0241 + rng.uniform(-0.03, 0.03)
        y = 47.2378 + rng.uniform(-0.02, 0.02)
        box = f"{x - 0.01:.5f},{y - 0.007:.5f},{x + 0.01:.5f},{y + 0.007:.5f}"
        path = f"/ogc/collections/companies/items?f=json&limit=1000&bbox={box}"
        pages.append(timed(port, path, GZ)[0])
    phase(
        report,
        "ogc",
        probe,
        pid,
        api_first_s=first,
        api_second_s=second,
        page_1000_median_s=statistics.median(pages),
    )


def load_phase(report, port, probe, pid, clients: int, seconds: float, name) -> None:
    done, errors, stop = [], [], time.perf_counter() + seconds
    path = "/api/layers/companies.geojson"

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.perf_counter() < stop:
            try:
                conn.request("GET", path, headers=GZ)
                response = conn.getresponse()
                response.read()
                (done if response.status == 200 else errors).append(response.status)
                if response.status == 503:  # as a polite client: come back later
                    time.sleep(min(2.0, float(response.getheader("Retry-After", 1))))
            except OSError as exc:
                errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.close()

    t = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t
    phase(
        report,
        f"{name} geojson x{clients}",
        probe,
        pid,
        req_per_s=len(done) / elapsed,
        ok=len(done),
        errors=len(errors),
        busy_503=errors.count(503),
    )


def measure(n: int, folder: Path, app_dir: Path, clients: int, seconds: float):
    prepare(folder, n)
    port = free_port()
    proc = start(folder, app_dir, port)
    settings = load_settings({}, overrides={"INSTANCE_PATH": str(folder)})
    store = open_store(settings.store_url, settings.study_area)
    probe = Probe(port)
    probe.start()
    report: list[dict] = []
    print(f"{n} companies ({app_dir})", flush=True)
    try:
        probe.window()
        seconds_cold, _ = map_load(port)
        phase(report, "cold map", probe, proc.pid, seconds=seconds_cold)
        phase(report, "cached map", probe, proc.pid, seconds=map_load(port)[0])
        write_phases(report, port, probe, proc.pid, store)
        read_phases(report, port, probe, proc.pid, random.Random(n))
        # the first run builds the whole layer's GeoJSON, the second serves it
        load_phase(report, port, probe, proc.pid, clients, seconds, "load (cold)")
        load_phase(report, port, probe, proc.pid, clients, seconds, "load (warm)")
    finally:
        probe.running = False
        store.close()
        proc.terminate()
        proc.wait(30)
    return {"size": n, "app": str(app_dir), "phases": report}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--data", default="/tmp/mapapp-bench")
    parser.add_argument("--app", default=str(ROOT))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", default="benchmarks/out/serving.json")
    args = parser.parse_args()
    results = [
        measure(
            int(n),
            Path(args.data) / n,
            Path(args.app).resolve(),
            args.clients,
            args.seconds,
        )
        for n in args.sizes.split(",")
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
