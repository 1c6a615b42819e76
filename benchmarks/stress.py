"""Stress run (issue 21): `mapapp serve` with generated companies, and each attack of
the issue played one after the other while a probe asks /healthz and a planner edits.

    .venv/bin/python benchmarks/stress.py [--rows 100000] [--seconds 20] [--only cql2,slowloris]
        [--keep DIR]

Everything stays on the loopback: the server listens on 127.0.0.1, the probe and the
planner come from 127.0.0.1, each attack's clients from addresses of their own
(127.0.2.x, 40 clients per address; the slowloris from 22 addresses, 50 connections
each). Every attack is bounded in time (``--seconds``) and in clients, and is played
on a server of its own (``--one-server``: all on one, so that the work an attack
leaves behind, requests its clients gave up on, weighs on the next). For each the
report prints the probe's p50/p99/max (a failure counts as its 10 s timeout), the
edits' median/max (a planner PATCH every 0.5 s), the peak RSS of the server alone
and of the server with every process it started (the worker processes of its heavy
builds and their fork server: a build's memory is no longer the server's own; summed
per process, and as PSS, where pages they share are counted once), and what the
attack's own requests got.

The store is prepared in a temporary folder and thrown away, or with ``--keep DIR``
prepared in DIR once (a million companies take about 7 minutes) and reused by the
next runs, with the zip bomb; the attacks' edits stay in it. Each server's instance
folder (caches, downloads, uploads, the files of map data it keeps) is a new
temporary one, so no server starts on what a previous one built (with
``--one-server``, one for the whole run).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import resource
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import companies  # noqa: E402
from mapapp import accounts  # noqa: E402
from mapapp.config import resource_dir  # noqa: E402
from mapapp.store import init_store, open_store  # noqa: E402
from tests.servers import start_server, stop  # noqa: E402
from tests.shipped import GRAND_BESANCON_BBOX as AREA  # noqa: E402

PERIMETER_STATUS = "candidate"
PROBE_EVERY_S = 0.1
EDIT_EVERY_S = 0.5
TIMEOUT_S = 10.0
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1024**2
CENTRE = (6.0241, 47.2378)


class Client:
    """HTTP requests to the server from one source address, timed."""

    def __init__(self, port: int, source: str = "127.0.0.1", headers=None):
        self.port, self.source, self.headers = port, source, dict(headers or {})

    def call(self, method, path, body=None, headers=None, timeout=TIMEOUT_S):
        """(status, seconds, response headers, body); status 0 for a failure."""
        start = time.perf_counter()
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(self.source, 0)
        )
        try:
            conn.request(method, path, body, {**self.headers, **(headers or {})})
            response = conn.getresponse()
            data = response.read()
            return response.status, time.perf_counter() - start, response, data
        except (OSError, http.client.HTTPException):
            return 0, time.perf_counter() - start, None, b""
        finally:
            conn.close()


def source(i: int, base: str = "127.0.2") -> str:
    return f"{base}.{i // 40 + 1}"


class Recorder:
    """Latencies and failures of the probe and the edits, the RSS of the server
    alone (``rss``) and with its descendants (``rss_all``, and their PSS sum
    ``pss_all``), sampled together."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.probe, self.edits, self.rss, self.rss_all = [], [], [], []
            self.pss_all = []
            self.probe_fail = self.edit_fail = 0


def _pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def probe(client: Client, rec: Recorder, stop_event):
    while not stop_event.is_set():
        status, seconds, _, _ = client.call("GET", "/healthz")
        with rec.lock:
            rec.probe.append(seconds if status == 200 else TIMEOUT_S)
            rec.probe_fail += status != 200
        time.sleep(PROBE_EVERY_S)


def planner(client: Client, fid: str, rec: Recorder, stop_event):
    status, _, response, _ = client.call("GET", f"/api/layers/coworking/features/{fid}")
    version = response.getheader("ETag") if response else '"1"'
    n = 0
    while not stop_event.is_set():
        n += 1
        body = json.dumps({"properties": {"desks": 10 + n % 50}})
        status, seconds, response, _ = client.call(
            "PATCH",
            f"/api/layers/coworking/features/{fid}",
            body,
            {"Content-Type": "application/json", "If-Match": version},
        )
        with rec.lock:
            rec.edits.append(seconds if status == 200 else TIMEOUT_S)
            rec.edit_fail += status != 200
        if status == 200:
            version = response.getheader("ETag")
        elif status == 412:
            _, _, response, _ = client.call(
                "GET", f"/api/layers/coworking/features/{fid}"
            )
            version = response.getheader("ETag") if response else version
        time.sleep(EDIT_EVERY_S)


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, theirs and so on (each /proc/*/stat names its
    parent): the server's fork server and the worker processes forked from it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # the name in parentheses may hold spaces: the fields follow the last ")"
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB, 0 once it has ended."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MB
    except (OSError, IndexError, ValueError):
        return 0.0


def pss_mb(pid: int) -> float:
    """The proportional memory of process ``pid`` in MB (each page it shares with
    other processes counted as its share), 0 once it has ended."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0.0


def rss_sampler(pid: int, rec: Recorder, stop_event):
    """Every 0.5 s, the server's RSS, the sum of its and its descendants' at that
    moment (pages a worker shares with its fork server count in each: an upper
    bound), and their proportional sum (PSS: shared pages counted once in all, the
    memory the whole tree really takes); a worker living less than 0.5 s may be
    missed."""
    while not stop_event.is_set():
        own = rss_mb(pid)
        if own:
            tree = [pid, *descendants(pid)]
            total = own + sum(rss_mb(child) for child in tree[1:])
            proportional = sum(pss_mb(p) for p in tree)
            with rec.lock:
                rec.rss.append(own)
                rec.rss_all.append(total)
                rec.pss_all.append(proportional)
        time.sleep(0.5)


def workers(n: int, work, seconds: float, counts: Counter, base: str = "127.0.2"):
    """``n`` threads calling ``work(i, counts)`` until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds

    def loop(i):
        while time.monotonic() < deadline:
            work(i, counts, deadline)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 2 * TIMEOUT_S)


# --- the attacks ------------------------------------------------------------------


def jagged(n: int = 2000, radius: float = 0.01) -> dict:
    """A 2,000-vertex star around the centre (inside the 20,000-vertex limit)."""
    import math

    ring = []
    for i in range(n):
        r = radius * (1.0 if i % 2 else 0.35)
        a = 2 * math.pi * i / n
        ring.append([CENTRE[0] + r * math.cos(a), CENTRE[1] + r * 0.7 * math.sin(a)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def attack_perimeter(ctx, seconds, counts):
    """A planner's jagged perimeter, then scenarios and a dossier requested again."""
    body = json.dumps(
        {
            "type": "Feature",
            "properties": {
                "name": "Périmètre dentelé",
                "status": PERIMETER_STATUS,
                "source": "stress",
                "source_date": "2026-12",
                "precision": "exact",
                "published": False,
            },
            "geometry": jagged(),
        }
    )
    status, _, response, data = ctx.attacker.call(
        "POST",
        "/api/layers/perimeters/features",
        body,
        {"Content-Type": "application/json"},
    )
    counts[f"create {status}"] += 1
    if status not in (200, 201):
        print("  perimeter refused:", data[:300].decode(errors="replace"))
    fid = json.loads(data).get("id") if status in (200, 201) else None

    def work(i, counts, deadline):
        path = "/api/analysis/scenarios" if i else "/planner/dossier"
        status, _, _, _ = Client(ctx.port, source(i), ctx.auth).call("GET", path)
        counts[status] += 1

    workers(3, work, seconds, counts)
    if fid:
        _, _, response, _ = ctx.attacker.call(
            "GET", f"/api/layers/perimeters/features/{fid}"
        )
        etag = response.getheader("ETag") if response else '"1"'
        ctx.attacker.call(
            "DELETE",
            f"/api/layers/perimeters/features/{fid}",
            headers={"If-Match": etag},
        )


def points_version(page: bytes) -> str:
    """The version of the companies' points a map page loads (``companies.bin?v=``:
    each layer has a version of its own, /healthz gives only the data's)."""
    found = re.search(rb"companies\.bin\?v=(\d+)", page or b"")
    return found.group(1).decode() if found else None


def attack_cold_map(ctx, seconds, counts):
    """A write, then the map (page and points) as a visitor loads it, again."""
    extra = Client(ctx.port, "127.0.2.9", ctx.auth)

    def work(i, counts, deadline):
        fid = ctx.sites[1]
        _, _, response, _ = extra.call("GET", f"/api/layers/coworking/features/{fid}")
        etag = response.getheader("ETag") if response else '"1"'
        extra.call(
            "PATCH",
            f"/api/layers/coworking/features/{fid}",
            json.dumps({"properties": {"notes": f"stress {time.time()}"}}),
            {"Content-Type": "application/json", "If-Match": etag},
        )
        visitor = Client(ctx.port, source(i))
        started = time.perf_counter()
        status, _, _, page = visitor.call("GET", "/embed")
        visitor.call("GET", "/healthz")
        version = points_version(page) or 0
        status2, _, _, _ = visitor.call("GET", f"/api/layers/companies.bin?v={version}")
        counts[f"{status}/{status2}"] += 1
        counts["cold map s (sum)"] += round(time.perf_counter() - started, 3)
        time.sleep(1)

    workers(1, work, seconds, counts)


def attack_downloads(ctx, seconds, counts):
    """50 clients downloading the whole companies layer as GeoJSON."""

    def work(i, counts, deadline):
        status, _, _, data = Client(ctx.port, source(i)).call(
            "GET", "/api/layers/companies.geojson", timeout=60
        )
        counts[status] += 1
        counts["MB"] += round(len(data) / 1e6, 1)

    workers(50, work, seconds, counts)


def attack_stampede(ctx, seconds, counts):
    """200 readers of the map's points while the planner keeps writing."""

    known = {"v": None}

    def work(i, counts, deadline):
        client = Client(ctx.port, source(i))
        client.call("GET", "/healthz")
        if known["v"] is None:  # the map page names the version of its points
            status, _, _, page = client.call("GET", "/embed")
            counts[f"map page {status}"] += 1
            if points_version(page) is None:
                time.sleep(0.2)
                return
            known["v"] = points_version(page)
        status, _, _, _ = client.call(
            "GET", f"/api/layers/companies.bin?v={known['v']}", timeout=60
        )
        counts[status] += 1
        if status == 410:  # the data changed: the map reloads its page
            known["v"] = None
        time.sleep(0.2)

    workers(200, work, seconds, counts)


def attack_list(ctx, seconds, counts):
    """10 clients asking /list with a random q."""
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"

    def work(i, counts, deadline):
        q = "".join(random.choice(letters) for _ in range(3))
        status, _, _, _ = Client(ctx.port, source(i)).call("GET", f"/list?q={q}")
        counts[status] += 1

    workers(10, work, seconds, counts)


def polygons_filter(n: int = 16) -> str:
    terms = []
    for _ in range(n):
        x = CENTRE[0] + random.gauss(0, 0.02)
        y = CENTRE[1] + random.gauss(0, 0.015)
        ring = [
            (
                x + 0.01 * random.uniform(0.5, 1) * dx,
                y + 0.01 * random.uniform(0.5, 1) * dy,
            )
            for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1))
        ]
        ring.append(ring[0])
        wkt = ",".join(f"{a:.3f} {b:.3f}" for a, b in ring)
        terms.append(f"S_INTERSECTS(geometry,POLYGON(({wkt})))")
    return " OR ".join(terms)


def attack_cql2(ctx, seconds, counts):
    """10 clients, each a new OR of 16 polygons (nothing cached)."""

    def work(i, counts, deadline):
        path = "/ogc/collections/companies/items?limit=100&filter=" + quote(
            polygons_filter()
        )
        status, _, _, _ = Client(ctx.port, source(i)).call("GET", path, timeout=30)
        counts[status] += 1

    workers(10, work, seconds, counts)


def attack_slowloris(ctx, seconds, counts, n: int = 1100, every: float = 10.0):
    """1,100 connections sending a header line every 10 s, reopened when closed."""
    deadline = time.monotonic() + seconds
    conns: list[list] = [[None, 0.0] for _ in range(n)]
    while time.monotonic() < deadline:
        now = time.monotonic()
        for i, slot in enumerate(conns):
            if time.monotonic() >= deadline:
                break
            sock, last = slot
            if sock is None:
                try:
                    sock = socket.create_connection(
                        ("127.0.0.1", ctx.port),
                        timeout=1,
                        source_address=(source(i * 40 // 50, "127.0.1"), 0),
                    )
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                    slot[:] = [sock, now]
                    counts["opened"] += 1
                except OSError:
                    counts["refused"] += 1
                continue
            if now - last >= every:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                    slot[1] = now
                except OSError:
                    counts["closed by the server"] += 1
                    sock.close()
                    slot[0] = None
        time.sleep(0.5)
    for sock, _ in conns:
        if sock is not None:
            sock.close()


def attack_bodies(ctx, seconds, counts, size: int = 1000 * 1024**2):
    """4 anonymous POSTs announcing 1,000 MB each, sent until the server stops them."""

    def work(i, counts, deadline):
        sent = 0
        try:
            sock = socket.create_connection(
                ("127.0.0.1", ctx.port), timeout=10, source_address=(source(i), 0)
            )
            sock.sendall(
                f"POST /planner/import HTTP/1.1\r\nHost: x\r\nContent-Length: {size}"
                "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            )
            block = b"x" * (1 << 20)
            while sent < size and time.monotonic() < deadline:
                sock.sendall(block)
                sent += len(block)
            answer = sock.recv(100)
            counts[answer[:12].decode(errors="replace") or "closed"] += 1
        except OSError:
            counts["stopped by the server"] += 1
        counts["MB sent"] += sent // 1024**2
        time.sleep(1)

    workers(4, work, seconds, counts)


def zip_bomb(folder: Path, megabytes: int = 1000) -> Path:
    path = folder / "bomb.csv.gz"
    if not path.exists():
        line = b"siret;nom;longitude;latitude\n"
        row = b"12345678901234;Etablissement;6.02;47.24\n" * 25_000
        with gzip.open(path, "wb", compresslevel=9) as out:
            out.write(line)
            for _ in range(megabytes):
                out.write(row)
    return path


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "mapappstress" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/gzip\r\n\r\n'
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def attack_zip_bomb(ctx, seconds, counts):
    """An administrator uploads a small .csv.gz that expands to 1 GB, twice at once."""
    data = zip_bomb(ctx.folder).read_bytes()
    body, boundary = multipart("bomb.csv.gz", data)
    counts[f"bomb {len(data) // 1024} kB"] += 0

    def work(i, counts, deadline):
        admin = Client(ctx.port, source(i), ctx.admin_auth)
        status, spent, _, _ = admin.call(
            "POST",
            "/planner/import",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=300,
        )
        counts[status] += 1
        counts["upload s (max)"] = max(counts["upload s (max)"], round(spent, 1))

    workers(2, work, seconds, counts)


def attack_signin(ctx, seconds, counts):
    """4 clients sending wrong passwords as fast as they can, from one address."""

    def work(i, counts, deadline):
        client = Client(ctx.port, "127.0.3.1")
        _, _, response, page = client.call("GET", "/auth/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page or b"")
        cookie = (
            (response.getheader("Set-Cookie") or "").split(";")[0] if response else ""
        )
        if not token:
            counts["no form"] += 1
            return
        form = f"csrf_token={token.group(1).decode()}&name=admin&password=wrong"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
        }
        while time.monotonic() < deadline:
            status, _, _, _ = client.call("POST", "/auth/login", form, headers)
            counts[status] += 1

    workers(4, work, seconds, counts)


ATTACKS = {
    "idle": lambda ctx, seconds, counts: time.sleep(seconds),
    "perimeter": attack_perimeter,
    "cold-map": attack_cold_map,
    "downloads": attack_downloads,
    "stampede": attack_stampede,
    "list": attack_list,
    "cql2": attack_cql2,
    "slowloris": attack_slowloris,
    "bodies": attack_bodies,
    "zip-bomb": attack_zip_bomb,
    "signin": attack_signin,
}


# --- the run ------------------------------------------------------------------------


class Context:
    pass


def prepare(folder: Path, rows: int) -> dict:
    """The store with ``rows`` companies, an admin and a planner with API tokens."""
    gpkg = folder / "mapapp.gpkg"
    store = open_store(str(gpkg), AREA)
    init_store(store, resource_dir("geodata"), force=True)
    store.replace_layers({"companies": companies(rows)})
    password = os.urandom(12).hex()
    accounts.create_user(store, "stressadmin", "admin", password)
    accounts.create_user(store, "stressplanner", "planner", password + "x")
    tokens = {
        "admin": accounts.new_token(store, "stressadmin"),
        "planner": accounts.new_token(store, "stressplanner"),
        "sites": [str(fid) for fid in store.read("coworking")["id"][:2]],
    }
    store.close()
    return {"gpkg": str(gpkg), **tokens}


def prepared(folder: Path, rows: int, keep: bool) -> dict:
    """The store of :func:`prepare` in ``folder``; with ``keep``, made there once and
    its tokens and ids written to made.json, so that the next runs reuse it."""
    record = folder / "made.json"
    if keep and record.exists():
        made = json.loads(record.read_text())
        if made["rows"] != rows:
            sys.exit(f"{folder} holds {made['rows']:,} companies, not {rows:,}")
        return made
    folder.mkdir(parents=True, exist_ok=True)
    made = {**prepare(folder, rows), "rows": rows}
    if keep:  # written last: a preparation cut short is made again
        record.write_text(json.dumps(made, indent=1))
    return made


def report_line(name: str, rec: Recorder, counts: Counter, spent: float) -> str:
    with rec.lock:
        probe, edits = list(rec.probe), list(rec.edits)
        rss, rss_all, pss_all = list(rec.rss), list(rec.rss_all), list(rec.pss_all)
        pf, ef = rec.probe_fail, rec.edit_fail
    got = ", ".join(
        f"{k}: {round(v, 1) if isinstance(v, float) else v}"
        for k, v in sorted(counts.items(), key=str)
    )
    return (
        f"{name:10} {spent:5.1f} s | /healthz p50 {_pct(probe, 0.5) * 1000:7.1f} ms "
        f"p99 {_pct(probe, 0.99) * 1000:7.1f} ms max {max(probe or [0]) * 1000:7.1f} ms "
        f"({len(probe)}, {pf} failed) | edits p50 {_pct(edits, 0.5) * 1000:6.1f} ms "
        f"max {max(edits or [0]) * 1000:7.1f} ms ({len(edits)}, {ef} failed) | "
        f"RSS max server {max(rss or [0]):5.0f} MB / with workers "
        f"{max(rss_all or [0]):5.0f} MB (PSS {max(pss_all or [0]):5.0f} MB) | {got}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--only", default="", help="attacks to play (comma-separated)")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between")
    parser.add_argument(
        "--one-server",
        action="store_true",
        help="play every attack on one server (the work an attack leaves behind "
        "weighs on the next); by default each attack has a server of its own",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="prepare the store in DIR once (made.json there says it is made) and "
        "reuse it in the next runs; by default a temporary one for this run",
    )
    parser.add_argument(
        "--port", type=int, default=18710, help="the first server's port (then +1)"
    )
    a = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    names = [n for n in a.only.split(",") if n] or list(ATTACKS)
    with tempfile.TemporaryDirectory(prefix="mapapp-stress-") as tmp:
        folder = Path(a.keep).resolve() if a.keep else Path(tmp)
        started = time.perf_counter()
        reused = a.keep and (folder / "made.json").exists()
        made = prepared(folder, a.rows, bool(a.keep))
        if "zip-bomb" in names:
            zip_bomb(folder)  # made before the server starts: not timed
        spent = time.perf_counter() - started
        how = f"reused from {folder}" if reused else f"prepared in {spent:.1f} s"
        print(f"{a.rows:,} companies {how}", flush=True)
        env = {
            "MAPAPP_DATABASE_URL": made["gpkg"],
            "MAPAPP_INSTANCE_PATH": tmp,
            "MAPAPP_TILES": "none",
        }
        server, port = None, a.port
        try:
            for name in names:
                if server is None or not a.one_server:
                    if server is not None:
                        server.close()
                    # a new instance folder for each server: the map data, list
                    # index and downloads another one kept on disk are not found
                    # (each attack meets the builds of a first start)
                    instance = Path(tmp) / f"instance-{name}"
                    instance.mkdir()
                    env["MAPAPP_INSTANCE_PATH"] = str(instance)
                    server, port = Server(env, folder, made, port), port + 1
                time.sleep(a.pause)
                print(server.play(name, a.seconds), flush=True)
        finally:
            if server is not None:
                server.close()


class Server:
    """`mapapp serve` with the probe, the planner and the RSS sampler around it."""

    def __init__(self, env: dict, folder: Path, made: dict, port: int):
        self.proc, base = start_server(env, port=port)
        ctx = self.ctx = Context()
        ctx.port, ctx.folder, ctx.sites = (
            int(base.rsplit(":", 1)[1]),
            folder,
            made["sites"],
        )
        ctx.auth = {"Authorization": f"Bearer {made['planner']}"}
        ctx.admin_auth = {"Authorization": f"Bearer {made['admin']}"}
        ctx.attacker = Client(ctx.port, "127.0.2.99", ctx.auth)
        self.rec, self.stop_event = Recorder(), threading.Event()
        editor = Client(ctx.port, headers=ctx.auth)
        background = [
            (probe, (Client(ctx.port), self.rec, self.stop_event)),
            (planner, (editor, made["sites"][0], self.rec, self.stop_event)),
            (rss_sampler, (self.proc.pid, self.rec, self.stop_event)),
        ]
        for target, args in background:
            threading.Thread(target=target, args=args, daemon=True).start()

    def play(self, name: str, seconds: float) -> str:
        self.rec.reset()
        counts: Counter = Counter()
        began = time.perf_counter()
        ATTACKS[name](self.ctx, seconds, counts)
        return report_line(name, self.rec, counts, time.perf_counter() - began)

    def close(self) -> None:
        """Stop the server, then any process of its still there 2 s later (said, as
        the next attack's server would share the machine with it)."""
        self.stop_event.set()
        started = descendants(self.proc.pid)
        try:
            stop(self.proc)
        except Exception:  # noqa: BLE001 - a server still busy: end it
            self.proc.kill()
            self.proc.wait()
        time.sleep(2)
        left = [pid for pid in started if rss_mb(pid)]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass  # ended meanwhile
        if left:
            print(f"  {len(left)} processes of the server outlived it: killed")


if __name__ == "__main__":
    main()
