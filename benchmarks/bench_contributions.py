"""A flood of public contributions: 1,000 sent within a minute from as many addresses
(behind a trusted proxy, so each has its own X-Forwarded-For), while a prober asks
/healthz every 100 ms; then the planners' inbox is timed.

The production server (``mapapp serve``, waitress, default threads) on the shipped
data, no base map. With the default overall limit (MAPAPP_CONTRIBUTIONS_PER_HOUR,
300) most of the flood is refused with 429; ``--overall 5000`` stores all of it,
so the inbox holds 1,000 rows.

    .venv/bin/python benchmarks/bench_contributions.py [--n 1000] [--seconds 60]
        [--overall 300] [--senders 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body=None, headers=None):
    """(status, milliseconds, body bytes) of one request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers=headers or {})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, (time.perf_counter() - started) * 1000, payload


def start_server(tmp: str, overall: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "MAPAPP_INSTANCE_PATH": tmp,
        "MAPAPP_TILES": "none",
        "MAPAPP_SECRET_KEY": "bench",
        "MAPAPP_TRUSTED_PROXIES": "1",
        "MAPAPP_CONTRIBUTIONS_PER_HOUR": str(overall),
        "MAPAPP_CONTRIBUTION_MIN_FILL_SECONDS": "0",
    }
    mapapp = str(ROOT / ".venv" / "bin" / "mapapp")
    log = open(Path(tmp) / "serve.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [mapapp, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    for _ in range(150):
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("the server did not start")


def contribution(i: int, token: str) -> dict:
    """Every other one a proposed place (all distinct), else a report on one of
    two features (so most reports are duplicates set apart)."""
    if i % 2:
        return {
            "layer": "coworking",
            "kind": "new",
            "name": f"Espace proposé {i}",
            "lon": 5.98 + (i % 97) / 2000,
            "lat": 47.23 + (i % 89) / 4000,
            "precision": "approximate",
            "text": "Un espace de coworking à ajouter",
            "form_token": token,
        }
    layer, fid = [("companies", "flowbird"), ("coworking", "deca-bfc")][i // 2 % 2]
    return {
        "layer": layer,
        "feature_id": fid,
        "kind": ["moved", "wrong_name", "other", "closed"][i % 4],
        "text": f"Contribution de test numéro {i}",
        "email": f"visiteur{i}@example.org" if i % 3 == 0 else None,
        "form_token": token,
    }


def flood(port: int, n: int, seconds: float, senders: int) -> dict:
    """Send ``n`` contributions paced over ``seconds`` from ``senders`` threads."""
    token = json.loads(request(port, "GET", "/api/contributions/form-token")[2])
    token = token["form_token"]
    statuses: dict[int, int] = {}
    times: list[float] = []
    lock = threading.Lock()
    started = time.perf_counter()

    def send(worker: int) -> None:
        for i in range(worker, n, senders):
            wait = started + i * seconds / n - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
            status, ms, _body = request(
                port, "POST", "/api/contributions", contribution(i, token),
                {"Content-Type": "application/json", "X-Forwarded-For": address},
            )  # fmt: skip
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                times.append(ms)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"statuses": statuses, "times": times,
            "elapsed": time.perf_counter() - started}  # fmt: skip


def probe(port: int, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(request(port, "GET", "/healthz")[1])
        time.sleep(0.1)


def stats(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(int(len(values) * 0.95) - 1, 0)]
    p99 = values[max(int(len(values) * 0.99) - 1, 0)]
    under = sum(v < 200 for v in values)
    return (f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, "
            f"p99 {p99:.1f} ms, max {values[-1]:.1f} ms; {under} of "
            f"{len(values)} under 200 ms")  # fmt: skip


def inbox_times(tmp: str, port: int) -> list[str]:
    env = {**os.environ, "MAPAPP_INSTANCE_PATH": tmp, "MAPAPP_TILES": "none"}
    mapapp = str(ROOT / ".venv" / "bin" / "mapapp")
    subprocess.run([mapapp, "users", "add", "bench", "--role", "planner",
                    "--password-stdin"], input="long-enough-password\n", env=env,
                   check=True, capture_output=True, text=True)  # fmt: skip
    token = subprocess.run([mapapp, "users", "token", "bench"], env=env, check=True,
                           capture_output=True, text=True).stdout.split()[-1]  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    lines = []
    for path in ("/planner/contributions", "/api/contributions?limit=50",
                 "/api/contributions?status=duplicate&limit=500",
                 "/planner/contributions/1", "/data"):  # fmt: skip
        runs = [request(port, "GET", path, headers=auth) for _ in range(5)]
        if not all(r[0] == 200 for r in runs):
            log = (Path(tmp) / "serve.log").read_text()[-3000:]
            sys.exit(f"{path}: {runs[0][0]}\n{log}")
        size = len(runs[0][2])
        lines.append(f"  {path}: median {statistics.median(r[1] for r in runs):.1f} "
                     f"ms, {size:,} bytes")  # fmt: skip
    counts = json.loads(request(port, "GET", "/api/contributions?limit=1",
                                headers=auth)[2])["counts"]  # fmt: skip
    lines.append(f"  stored by status: {counts}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--overall", type=int, default=300)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
        proc, port = start_server(tmp, args.overall)
        try:
            idle = [request(port, "GET", "/healthz")[1] for _ in range(20)]
            stop, during = threading.Event(), []
            prober = threading.Thread(target=probe, args=(port, stop, during))
            prober.start()
            sent = flood(port, args.n, args.seconds, args.senders)
            stop.set()
            prober.join()
            print(f"{args.n} contributions in {sent['elapsed']:.1f} s from "
                  f"{args.n} addresses, overall limit {args.overall}/h: "
                  f"answers {dict(sorted(sent['statuses'].items()))}")  # fmt: skip
            print(f"  POST /api/contributions: {stats(sent['times'])}")
            print(f"  /healthz idle: {stats(idle)}")
            print(f"  /healthz during the flood: {stats(during)}")
            print(f"  load average after the flood: {os.getloadavg()[0]:.1f}")
            print("inbox after the flood:")
            print("\n".join(inbox_times(tmp, port)))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
