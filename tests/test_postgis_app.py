"""mapapp on PostGIS: `mapapp init` loads the seed, and two app processes on one
database stay consistent (an edit through one shows on the other, caches follow)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from mapapp import accounts
from mapapp.store.postgis import PostGISStore
from tests.postgis import schema_url
from tests.servers import start_server
from tests.shipped import GRAND_BESANCON_BBOX as AREA

pytestmark = pytest.mark.postgis


def serve(url: str, tmp_path, seed_dir, name: str):
    return start_server(
        {
            "MAPAPP_DATABASE_URL": url,
            "MAPAPP_DATA_DIR": str(seed_dir),
            "MAPAPP_INSTANCE_PATH": str(tmp_path / name),
            "MAPAPP_TILES": "none",
        }
    )


def get(url, headers=None):
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {})
    ) as r:
        return r.status, r.headers, r.read()


def test_init_loads_the_seed_into_postgis(pg_database, runner, monkeypatch):
    url = schema_url(pg_database)
    monkeypatch.setenv("MAPAPP_DATABASE_URL", url)
    from mapapp.cli import main

    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert "companies 22" in result.output and "coworking 11" in result.output
    store = PostGISStore(url, AREA)
    assert store.count("schools") == 17 and store.check() == []
    store.close()


def test_two_app_processes_on_one_database(pg_database, tmp_path, seed_dir):
    url = schema_url(pg_database)
    a, base_a = serve(url, tmp_path, seed_dir, "a")
    b, base_b = None, None
    try:
        b, base_b = serve(url, tmp_path, seed_dir, "b")
        store = PostGISStore(url, AREA)
        accounts.create_user(store, "bot", "planner", "long-enough-password")
        token = accounts.new_token(store, "bot")
        store.close()
        _s, headers_b, page_b = get(f"{base_b}/embed")
        _s, _h, geo = get(f"{base_b}/api/layers/coworking.geojson")
        assert "proposition-clairs-soleils" not in page_b.decode()
        # publish the unpublished site through server A
        req = urllib.request.Request(
            f"{base_a}/api/layers/coworking/features/proposition-clairs-soleils",
            data=json.dumps({"properties": {"published": True}}).encode(),
            method="PATCH",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "If-Match": '"1"',
            },
        )
        with urllib.request.urlopen(req) as r:
            assert r.status == 200
        # server B sees it at once: its caches key on the shared data version
        _s, headers_b2, page_b2 = get(f"{base_b}/embed")
        assert "proposition-clairs-soleils" in page_b2.decode()
        assert headers_b2["ETag"] != headers_b["ETag"]
        _s, _h, geo2 = get(f"{base_b}/api/layers/coworking.geojson")
        assert len(json.loads(geo2)["features"]) == len(json.loads(geo)["features"]) + 1
        _s, _h, health_a = get(f"{base_a}/healthz")
        _s, _h, health_b = get(f"{base_b}/healthz")
        assert (
            json.loads(health_a)["data_version"] == json.loads(health_b)["data_version"]
        )
        # and a conflicting write through B is refused
        req = urllib.request.Request(
            f"{base_b}/api/layers/coworking/features/proposition-clairs-soleils",
            data=json.dumps({"properties": {"desks": 3}}).encode(),
            method="PATCH",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "If-Match": '"1"',
            },
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req)
        assert info.value.code == 412
    finally:
        for proc in (a, b):
            if proc:
                proc.terminate()
                proc.wait(timeout=10)
