"""Settings given only in ``instance/mapapp.cfg`` are honoured alike by every
command and by the server: one store, whoever opens it."""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from mapapp.config import load_settings
from tests.servers import base_environment, start_server, stop

PASSWORD = "a-long-enough-password"


def new_site(path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {"name": "Tiers-lieu du test", "kind": "tiers_lieu"},
        "geometry": {"type": "Point", "coordinates": [6.02, 47.24]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))


def sign_in(base: str, name: str, password: str):
    """(opener with the session cookie, the final response) of a browser sign-in."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/auth/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"name": name, "password": password, "csrf_token": token}
    body = urllib.parse.urlencode(form).encode()
    return opener, opener.open(f"{base}/auth/login", data=body)


def test_a_setting_only_in_the_config_file_reaches_every_command(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    other = tmp_path / "data" / "other.gpkg"
    (instance / "mapapp.cfg").write_text(
        f'DATABASE_URL = "{other}"\nTILES = "none"\nSECRET_KEY = "cfg-secret"\n'
    )
    # only the instance folder is named; everything else comes from mapapp.cfg
    env = {"MAPAPP_INSTANCE_PATH": str(instance)}

    def run(args, stdin=""):
        return subprocess.run(
            [sys.executable, "-m", "mapapp", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**base_environment(clean=True), **env},
            timeout=120,
            check=False,
        )

    init = run(["init"])
    assert init.returncode == 0, init.stderr
    assert str(other) in init.stdout
    assert other.is_file() and not (instance / "mapapp.gpkg").exists()
    added = run(["users", "add", "alice", "--password-stdin"], PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    new_site(tmp_path / "site.geojson")
    imported = run(
        [
            "import",
            "generic",
            str(tmp_path / "site.geojson"),
            "--layer",
            "coworking",
            "--set",
            "status=planned",
            "--set",
            "published=true",
            "--source",
            "test",
        ]
    )
    assert imported.returncode == 0, imported.stderr
    assert not (instance / "mapapp.gpkg").exists()

    proc, base = start_server(env, clean=True)
    try:
        _opener, response = sign_in(base, "alice", PASSWORD)
        assert response.url.endswith("/planner/")
        layer = json.load(
            urllib.request.urlopen(f"{base}/api/layers/coworking.geojson")
        )
        names = [f["properties"]["name"] for f in layer["features"]]
        assert "Tiers-lieu du test" in names
    finally:
        stop(proc)
    assert not (instance / "mapapp.gpkg").exists()


def test_relative_paths_in_the_config_file_are_taken_from_the_instance(tmp_path):
    (tmp_path / "mapapp.cfg").write_text('DATABASE_URL = "stores/my.gpkg"\n')
    settings = load_settings({}, instance_dir=tmp_path)
    assert settings.store_url == str(tmp_path / "stores" / "my.gpkg")


def test_environment_overrides_the_config_file(tmp_path):
    (tmp_path / "mapapp.cfg").write_text('TILES = "osm"\nINLINE_MAX_FEATURES = 5\n')
    settings = load_settings({"MAPAPP_TILES": "none"}, instance_dir=tmp_path)
    assert settings["TILES"] == "none"
    assert settings["INLINE_MAX_FEATURES"] == 5


def test_a_bad_value_names_the_setting_and_where_it_was(tmp_path):
    (tmp_path / "mapapp.cfg").write_text('UPLOAD_MAX_MB = "lots"\n')
    try:
        load_settings({}, instance_dir=tmp_path)
    except ValueError as exc:
        assert "MAPAPP_UPLOAD_MAX_MB" in str(exc) and "mapapp.cfg" in str(exc)
    else:
        raise AssertionError("a bad value was accepted")
