"""A server killed with SIGKILL in the middle of a stream of writes loses nothing
that it acknowledged, and leaves a store that opens and passes its integrity check."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request

from mapapp import accounts
from mapapp.config import GRAND_BESANCON_BBOX as AREA
from mapapp.store.geopackage import GeoPackageStore
from tests.servers import start_server

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
        for t in threads:
            t.start()
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
