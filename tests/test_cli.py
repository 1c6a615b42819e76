"""The mapapp command: init (safe on bad seeds) and serve (a real WSGI server)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from shapely.geometry import Point

from mapapp.cli import main
from mapapp.store.geopackage import GeoPackageStore
from tests.conftest import edit_seed
from tests.servers import start_server, stop
from tests.shipped import GRAND_BESANCON_BBOX as AREA


def store_at(tmp_path: Path) -> GeoPackageStore:
    return GeoPackageStore(tmp_path / "cli-instance" / "mapapp.gpkg", AREA)


def test_init_builds_then_keeps_the_store(runner, tmp_path):
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert "companies 22" in result.output
    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0 and "already exists" in again.output
    forced = runner.invoke(main, ["init", "--force"])
    assert forced.exit_code == 0 and "data version 2" in forced.output


def swap_first_company(data):
    x, y = data["features"][0]["geometry"]["coordinates"]
    data["features"][0]["geometry"]["coordinates"] = [y, x]


def drop_a_company_name(data):
    data["features"][2]["properties"]["name"] = ""


def bowtie_first_zone(data):
    data["features"][0]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[6.00, 47.23], [6.02, 47.25], [6.02, 47.23], [6.00, 47.25], [6.00, 47.23]]
        ],
    }


@pytest.mark.parametrize(
    "layer,change,words",
    [
        ("companies", swap_first_company, ["flowbird", "swapped"]),
        ("companies", drop_a_company_name, ["'ier'", "name", "required"]),
        ("fibre", bowtie_first_zone, ["fibre-q01", "Self-intersection"]),
    ],
)
def test_init_on_a_bad_seed_fails_and_keeps_the_store(
    runner, tmp_path, seed_dir, layer, change, words
):
    assert runner.invoke(main, ["init"]).exit_code == 0
    store = store_at(tmp_path)
    before = (store.data_version(), store.count("companies"), store.count("fibre"))
    store.close()
    edit_seed(seed_dir, layer, change)
    result = runner.invoke(main, ["init", "--force"])
    assert result.exit_code == 1
    for word in words:
        assert word in result.output, result.output
    assert f"{layer}.geojson" in result.output
    store = store_at(tmp_path)
    assert (
        store.data_version(),
        store.count("companies"),
        store.count("fibre"),
    ) == before
    assert store.check() == []
    store.close()


def test_serve_runs_waitress(tmp_path, seed_dir):
    proc, base = start_server(
        {
            "MAPAPP_INSTANCE_PATH": str(tmp_path / "srv"),
            "MAPAPP_DATA_DIR": str(seed_dir),
            "MAPAPP_TILES": "none",
        }
    )
    try:
        with urllib.request.urlopen(f"{base}/healthz") as r:
            assert r.status == 200
            assert r.headers["Server"] == "mapapp"
    finally:
        stop(proc)


def test_serve_refuses_an_invalid_seed(tmp_path, seed_dir):
    edit_seed(seed_dir, "companies", swap_first_company)
    env = {
        **os.environ,
        "MAPAPP_INSTANCE_PATH": str(tmp_path / "srv"),
        "MAPAPP_DATA_DIR": str(seed_dir),
        "MAPAPP_TILES": "none",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mapapp", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "swapped" in result.stderr


def test_users_commands(runner):
    add = runner.invoke(
        main,
        ["users", "add", "alice", "--role", "admin", "--password-stdin"],
        input="long-enough-password\n",
    )
    assert add.exit_code == 0, add.output
    prompt = runner.invoke(
        main,
        ["users", "add", "bob"],
        input="another-long-password\nanother-long-password\n",
    )
    assert prompt.exit_code == 0, prompt.output
    listed = runner.invoke(main, ["users", "list"])
    assert "alice\tadmin" in listed.output and "bob\tplanner" in listed.output
    token = runner.invoke(main, ["users", "token", "alice"]).output.strip()
    assert token.startswith("mapapp_") and len(token) > 30
    passwd = runner.invoke(
        main,
        ["users", "passwd", "bob", "--password-stdin"],
        input="a-third-long-password\n",
    )
    assert passwd.exit_code == 0
    assert runner.invoke(main, ["users", "remove", "bob"]).exit_code == 0
    assert "bob" not in runner.invoke(main, ["users", "list"]).output


@pytest.mark.parametrize(
    "args,stdin,words",
    [
        (["users", "add", "carol", "--password-stdin"], "short\n", "password"),
        (["users", "add", "x y", "--password-stdin"], "long-enough-password\n", "name"),
        (["users", "remove", "nobody"], "", "no user"),
        (["users", "token", "nobody"], "", "no user"),
    ],
)
def test_users_errors_exit_non_zero(runner, args, stdin, words):
    result = runner.invoke(main, args, input=stdin)
    assert result.exit_code == 1 and words in result.output


def _user(runner, name="alice", role="admin"):
    result = runner.invoke(
        main,
        ["users", "add", name, "--role", role, "--password-stdin"],
        input="long-enough-password\n",
    )
    assert result.exit_code == 0, result.output


def test_users_tokens_are_listed_and_revoked(runner, tmp_path):
    from mapapp import accounts

    _user(runner)
    first = runner.invoke(main, ["users", "token", "alice", "--days", "1"]).stdout
    second = runner.invoke(main, ["users", "token", "alice"]).stdout.strip()
    ids = [accounts.token_id(t.strip()) for t in (first, second)]
    listed = runner.invoke(main, ["users", "tokens", "alice"])
    assert listed.exit_code == 0 and all(i in listed.output for i in ids)
    assert "last used never" in listed.output and "mapapp_" not in listed.output
    store = store_at(tmp_path)
    assert accounts.user_for_token(store, second)["name"] == "alice"
    revoked = runner.invoke(main, ["users", "revoke", "alice", ids[1]])
    assert revoked.exit_code == 0 and "1 token(s) revoked" in revoked.output
    assert accounts.user_for_token(store, second) is None
    assert accounts.user_for_token(store, first.strip()) is not None
    again = runner.invoke(main, ["users", "revoke", "alice", ids[1]])
    assert again.exit_code == 1 and "no token" in again.output
    session = accounts.start_session(store, "alice")
    everything = runner.invoke(main, ["users", "revoke", "alice", "--all"])
    assert "1 token(s) revoked and 1 session(s) ended" in everything.output
    assert accounts.session_user(store, session) is None
    assert runner.invoke(main, ["users", "revoke", "alice"]).exit_code == 1
    store.close()


def test_token_days_follow_the_setting(runner, tmp_path, monkeypatch):
    import time

    _user(runner)
    monkeypatch.setenv("MAPAPP_TOKEN_DAYS", "7")
    assert runner.invoke(main, ["users", "token", "alice"]).exit_code == 0
    store = store_at(tmp_path)
    (token,) = store.private.tokens("alice")
    assert abs(token["expires"] - token["created"] - 7 * 86400) < 1
    assert token["created"] <= time.time()
    store.close()


def test_backup_copies_a_consistent_pair_while_writes_go_on(runner, tmp_path):
    import threading

    from mapapp.store.geopackage import GeoPackageStore
    from tests.store.test_private import _site

    assert runner.invoke(main, ["init"]).exit_code == 0
    store = store_at(tmp_path)
    stop_writing = threading.Event()

    def write():
        n = 0
        while not stop_writing.is_set():
            n += 1
            store.add("coworking", {**_site(), "id": f"w-{n}"}, Point(6.02, 47.24))
        store.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        result = runner.invoke(main, ["backup", str(tmp_path / "backup")])
    finally:
        stop_writing.set()
        writer.join()
    assert result.exit_code == 0, result.output
    gpkg = next((tmp_path / "backup").glob("mapapp-*.gpkg"))
    private = next((tmp_path / "backup").glob("mapapp-private-*.sqlite"))
    copy = GeoPackageStore(gpkg, AREA, private_path=private)
    assert copy.check() == []
    for fid in copy.read("coworking", columns=["id"])["id"]:
        if fid.startswith("w-"):  # every feature in the copy has its history
            assert copy.private.history("coworking", fid)[-1]["action"] == "add", fid
    copy.close()
