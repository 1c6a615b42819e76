"""A server killed with SIGKILL in the middle of a stream of writes loses nothing
that it acknowledged, and leaves a store that opens and passes its integrity check."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from mapapp import accounts
from mapapp.store.geopackage import GeoPackageStore
from tests.forms import form_fields
from tests.servers import start_server
from tests.shipped import GRAND_BESANCON_BBOX as AREA

CYCLES = 5


def writer(port, token, prefix, acked, stop):
    """POST features one after another; remember those the server acknowledged."""
    n = 0
    while not stop.is_set():
        n += 1
        fid = f"{prefix}-{n}"
        body = {
            "type": "Feature",
            "id": fid,
            "properties": {
                "name": fid,
                "kind": "coworking",
                "status": "planned",
                "source": "durability test",
                "source_date": "2026",
                "precision": "exact",
                "desks": n,
            },
            "geometry": {
                "type": "Point",
                "coordinates": [6.0 + (n % 100) / 1000, 47.24],
            },
        }
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/layers/coworking/features",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 201:
                    acked.append(fid)
        except (OSError, urllib.error.HTTPError):
            return  # the server died: stop this writer


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path, seed_dir):
    path = tmp_path / "inst" / "mapapp.gpkg"
    rng = random.Random(7)
    acked: list[str] = []
    for cycle in range(CYCLES):
        proc, base = start_server(
            {
                "MAPAPP_INSTANCE_PATH": str(tmp_path / "inst"),
                "MAPAPP_DATA_DIR": str(seed_dir),
                "MAPAPP_TILES": "none",
            },
            threads=4,
        )
        port = int(base.rsplit(":", 1)[1])
        if cycle == 0:
            store = GeoPackageStore(path, AREA)
            accounts.create_user(store, "bot", "planner", "long-enough-password")
            token = accounts.new_token(store, "bot")
            store.close()
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=writer, args=(port, token, f"c{cycle}w{i}", acked, stop)
            )
            for i in range(3)
        ]
        before = len(acked)
        for t in threads:
            t.start()
        # writes under way (however loaded the machine), then a kill at any moment
        deadline = time.monotonic() + 30
        while len(acked) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.3, 1.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=10)
        store = GeoPackageStore(path, AREA)
        assert store.check() == [], f"integrity after kill {cycle}"
        stored = set(store.read("coworking", columns=["id"])["id"])
        missing = [fid for fid in acked if fid not in stored]
        assert missing == [], f"acknowledged but lost after kill {cycle}: {missing[:5]}"
        store.close()
    assert len(acked) > 20  # the test did write under load


class Admin:
    """An administrator's browser over HTTP: cookies, CSRF tokens, forms, uploads;
    redirects followed (the import wizard answers each step with 303)."""

    def __init__(self, base: str):
        import http.cookiejar

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, req) -> tuple[int, bytes, str]:
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read(), r.geturl()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.geturl()

    def get(self, path: str) -> tuple[int, bytes, str]:
        return self.open(self.base + path)

    def csrf(self, path: str) -> str:
        page = self.get(path)[1].decode()
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, url: str, fields: dict, file: tuple | None = None):
        boundary = "mapapp-test-boundary"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
            f"{v}\r\n".encode()
            for k, v in fields.items()
        ]
        if file:
            name, data = file
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: application/octet-stream'
                "\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        url = url if url.startswith("http") else self.base + url
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.open(urllib.request.Request(url, data=body, headers=headers))

    def submit(self, page: bytes, url: str, **extra) -> tuple[int, bytes, str]:
        """Send the page's form to ``url`` as shown, with ``extra`` fields."""
        fields = form_fields(page.decode(), urllib.parse.urlparse(url).path)
        return self.post(url, {**fields, **extra})

    def sign_in(self, name: str, password: str) -> None:
        token = self.csrf("/auth/login")
        self.post(
            "/auth/login", {"name": name, "password": password, "csrf_token": token}
        )

    def import_file(self, name: str, data: bytes) -> int:
        """Every step of the import wizard, as shown; the status of the last one."""
        csrf = self.csrf("/planner/import")
        status, page, url = self.post(
            "/planner/import", {"csrf_token": csrf}, (name, data)
        )
        if not url.endswith("/columns") or status != 200:
            return status  # refused at the first step
        status, page, url = self.submit(page, url, action="next")
        status, page, url = self.submit(page, url, source="durability test")
        status, page, url = self.submit(page, url.replace("/report", "/confirm"))
        return status


def _site(fid: str) -> bytes:
    return json.dumps(
        {
            "type": "Feature",
            "properties": {
                "id": fid,
                "name": fid,
                "kind": "coworking",
                "status": "planned",
                "source": "durability test",
                "source_date": "2026",
                "precision": "exact",
            },
            "geometry": {"type": "Point", "coordinates": [6.02, 47.24]},
        }
    ).encode()


def _add(base: str, token: str, fid: str) -> int:
    req = urllib.request.Request(
        f"{base}/api/layers/coworking/features",
        data=_site(fid),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _kill(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _store_ids(path) -> set[str]:
    """The store opened as the next start would: intact, and its coworking ids."""
    store = GeoPackageStore(path, AREA)
    assert store.check() == []
    return set(store.read("coworking", columns=["id"])["id"])


def _gdal_attacks(store_path, tmp_path) -> list[tuple[str, bytes]]:
    """Uploads that would make GDAL open the working store, from the worst: a VRT
    reading the accounts with SQL, one reading a layer, one with a relative path,
    and a real GeoPackage (GDAL then opens a file of its own)."""
    import geopandas as gpd
    from shapely.geometry import Point

    sql = "SELECT name AS id, password_hash AS name FROM mapapp_users"
    vrts = [
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{store_path}'
        f"</SrcDataSource><SrcSQL>{sql}</SrcSQL></OGRVRTLayer></OGRVRTDataSource>",
        f'<OGRVRTDataSource><OGRVRTLayer name="coworking"><SrcDataSource>{store_path}'
        "</SrcDataSource><SrcLayer>coworking</SrcLayer></OGRVRTLayer>"
        "</OGRVRTDataSource>",
        '<OGRVRTDataSource><OGRVRTLayer name="coworking"><SrcDataSource '
        'relativeToVRT="1">../mapapp.gpkg</SrcDataSource><SrcLayer>coworking'
        "</SrcLayer></OGRVRTLayer></OGRVRTDataSource>",
    ]
    gpkg = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame(
        {
            "id": ["gdal-site"],
            "name": ["GDAL site"],
            "kind": ["coworking"],
            "status": ["planned"],
        },
        geometry=[Point(6.03, 47.25)],
        crs=4326,
    ).to_file(gpkg, driver="GPKG")
    return [(f"attack-{i}.vrt", v.encode()) for i, v in enumerate(vrts)] + [
        ("sites.gpkg", gpkg.read_bytes())
    ]


def test_gdal_paths_over_http_then_sigkill_lose_no_acknowledged_write(
    tmp_path, seed_dir
):
    """Every way a visitor or an administrator can make the server run GDAL (the
    upload page with files naming the store, a GeoPackage import, GeoPackage
    downloads and exports), then writes, then SIGKILL: every acknowledged write is
    in the store, with its history entry, and the store is sound."""
    inst = tmp_path / "inst"
    proc, base = start_server(
        {
            "MAPAPP_INSTANCE_PATH": str(inst),
            "MAPAPP_DATA_DIR": str(seed_dir),
            "MAPAPP_TILES": "none",
        },
        threads=4,
    )
    path = inst / "mapapp.gpkg"
    try:
        store = GeoPackageStore(path, AREA)
        accounts.create_user(store, "root", "admin", "long-enough-password")
        token = accounts.new_token(store, "root")
        store.close()
        acked = []
        assert _add(base, token, "before-gdal") == 201
        acked.append("before-gdal")
        admin = Admin(base)
        admin.sign_in("root", "long-enough-password")
        imported = []
        for name, data in _gdal_attacks(path, tmp_path):
            imported.append(admin.import_file(name, data))
        assert imported == [400, 400, 400, 200]  # the VRTs refused, the GeoPackage in
        for url in ("/download/coworking.gpkg", "/planner/export/coworking.gpkg"):
            assert admin.get(url)[0] == 200
        for n in range(20):
            fid = f"after-gdal-{n}"
            assert _add(base, token, fid) == 201
            acked.append(fid)
    finally:
        _kill(proc)
    stored = _store_ids(path)
    assert [fid for fid in acked if fid not in stored] == []
    assert "gdal-site" in stored  # the GeoPackage upload was imported
    for fid in acked:
        assert store.private.history("coworking", fid)[-1]["action"] == "add", fid
    store.close()


def test_init_force_beside_a_running_server_loses_no_acknowledged_write(
    tmp_path, seed_dir
):
    """`mapapp init --force` run while the server serves rebuilds the same file: the
    server's later writes land in the rebuilt store and survive a SIGKILL."""
    inst = tmp_path / "inst"
    env = {
        "MAPAPP_INSTANCE_PATH": str(inst),
        "MAPAPP_DATA_DIR": str(seed_dir),
        "MAPAPP_TILES": "none",
    }
    proc, base = start_server(env, threads=4)
    path = inst / "mapapp.gpkg"
    try:
        store = GeoPackageStore(path, AREA)
        accounts.create_user(store, "root", "admin", "long-enough-password")
        token = accounts.new_token(store, "root")
        store.close()
        assert _add(base, token, "before-init") == 201
        rebuilt = subprocess.run(
            [sys.executable, "-m", "mapapp", "init", "--force"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert rebuilt.returncode == 0, rebuilt.stderr
        acked = []
        for n in range(10):
            fid = f"after-init-{n}"
            assert _add(base, token, fid) == 201
            acked.append(fid)
    finally:
        _kill(proc)
    stored = _store_ids(path)
    assert "before-init" not in stored  # the seed replaced the layer
    assert [fid for fid in acked if fid not in stored] == []
    assert store.private.history("coworking", "after-init-3")[-1]["action"] == "add"
    store.close()
