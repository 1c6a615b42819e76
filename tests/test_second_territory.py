"""A second territory from real public files (tests/samples/dijon/README.md): Dijon
Métropole's profile made with `mapapp territory make`, an empty store made with
`mapapp init`, then `mapapp serve` and `mapapp update` on it. Nothing of Besançon
may show."""

from __future__ import annotations

import csv
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import shape

from mapapp.cli import main
from tests.refresh import official
from tests.refresh.mirror import Mirror
from tests.servers import start_server, stop
from tests.shipped import SHIPPED

SAMPLES = Path(__file__).parent / "samples" / "dijon"
CONTOURS = SAMPLES / "communes-21-extrait.geojson"
DIJON_METROPOLE = "242100410"
BESANCON = ("Besançon", "Besancon", "Doubs", "25056", "242500361", "Silicon Comt")


def epci_rows() -> list[list[str]]:
    with open(SAMPLES / "epci-composition-extrait.csv", encoding="utf-8") as f:
        return list(csv.reader(f))[1:]


MEMBERS = [row[0] for row in epci_rows() if row[2] == DIJON_METROPOLE]


def contour_of(codes) -> shapely.Geometry:
    data = json.loads(CONTOURS.read_text(encoding="utf-8"))
    return shapely.union_all(
        [
            shape(f["geometry"])
            for f in data["features"]
            if f["properties"]["code"] in codes
        ]
    )


def cli(env: dict, *args: str, stdin: str | None = None):
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result


@pytest.fixture(scope="module")
def dijon(tmp_path_factory):
    """Dijon Métropole's profile, made from INSEE's EPCI file and the contours."""
    tmp = tmp_path_factory.mktemp("dijon")
    epci_file = tmp / "EPCI_au_01-01-2025.zip"
    epci_file.write_bytes(official.epci_zip(epci_rows()))
    profile = tmp / "profile"
    made = cli(
        {},
        "territory",
        "make",
        "--name",
        "Dijon Métropole",
        "--short-name",
        "Dijon",
        "--communes",
        str(CONTOURS),
        "--epci",
        DIJON_METROPOLE,
        "--epci-file",
        str(epci_file),
        "--out",
        str(profile),
    )
    assert made.exit_code == 0, made.output
    assert "23 communes, département(s) 21" in made.output
    return profile


@pytest.fixture(scope="module")
def env(dijon, tmp_path_factory):
    """The settings of a site on Dijon's profile (nothing else set)."""
    instance = tmp_path_factory.mktemp("dijon-instance")
    return {
        "MAPAPP_TERRITORY": str(dijon),
        "MAPAPP_INSTANCE_PATH": str(instance),
        "MAPAPP_DATA_DIR": "",
        "MAPAPP_DEPARTEMENT": "",
        "MAPAPP_STUDY_AREA": "",
        "MAPAPP_TILES": "none",
        "MAPAPP_SECRET_KEY": "dijon-test",
    }


@pytest.fixture(scope="module")
def server(env):
    """`mapapp init` (an empty map), a planner's token, then `mapapp serve`."""
    init = cli(env, "init")
    assert init.exit_code == 0, init.output
    assert "companies 0, coworking 0" in init.output  # no seed layer: an empty map
    added = cli(
        env, "users", "add", "elue", "--password-stdin", stdin="dijon-2026-ok\n"
    )
    assert added.exit_code == 0, added.output
    token = cli(env, "users", "token", "elue").output.strip()
    proc, base = start_server(env, clean=True)
    yield base, token
    stop(proc)


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def post(url: str, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_profile_holds_the_epci_members_and_their_contours(dijon):
    text = (dijon / "territory.toml").read_text(encoding="utf-8")
    assert 'departements = ["21"]' in text and 'epci = "242100410"' in text
    features = json.loads((dijon / "communes.geojson").read_text("utf-8"))["features"]
    codes = [f["properties"]["code"] for f in features]
    assert sorted(codes) == sorted(MEMBERS) and len(codes) == 23
    assert "21213" not in codes and "21292" not in codes  # in the file, not members
    names = {f["properties"]["code"]: f["properties"]["nom"] for f in features}
    assert names["21231"] == "Dijon" and names["21166"] == "Chenôve"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_and_the_ogc_landing_name_dijon_never_besancon(server, lang):
    base, _token = server
    for path in ("/", "/embed", "/list", "/data", "/share", "/ogc/?f=html"):
        status, html = get(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert status == 200, path
        assert not [w for w in BESANCON if w in html], path
    _status, home = get(f"{base}/?lang={lang}")
    title = re.search(r"<title>(.*?)</title>", home, re.S).group(1)
    assert "Dijon" in title
    _status, landing = get(f"{base}/ogc/?f=json&lang={lang}")
    landing = json.loads(landing)
    assert "Dijon" in landing["title"] and "Dijon Métropole" in landing["description"]
    _status, api = get(f"{base}/ogc/api?f=json&lang={lang}")
    assert "Dijon Métropole" in json.loads(api)["info"]["description"]


def test_the_map_opens_inside_dijon_metropole(server):
    base, _token = server
    _status, html = get(f"{base}/")
    home = re.search(r'"home":\s*\{\s*"center":\s*\[([-\d.]+),\s*([-\d.]+)\]', html)
    lat, lon = float(home.group(1)), float(home.group(2))
    assert contour_of(MEMBERS).contains(shapely.Point(lon, lat))


def test_a_site_in_dijon_is_accepted_one_in_besancon_refused(server):
    base, token = server
    dijon = contour_of(["21231"]).representative_point()
    site = {
        "type": "Feature",
        "properties": {
            "name": "Tiers-lieu de la Cité de la gastronomie",
            "kind": "coworking",
            "status": "planned",
            "published": True,
            "source": "saisie",
            "source_date": "2026-12",
            "precision": "exact",
        },
        "geometry": {"type": "Point", "coordinates": [dijon.x, dijon.y]},
    }
    status, body = post(f"{base}/api/layers/coworking/features", site, token)
    assert status == 201, body
    lat, lon = SHIPPED.view.center  # the shipped profile's centre: in Besançon
    site["geometry"]["coordinates"] = [lon, lat]
    site["properties"]["name"] = "Un site à Besançon"
    status, body = post(f"{base}/api/layers/coworking/features", site, token)
    assert status == 422 and body["problems"][0]["field"] == "geometry"
    assert "outside" in json.dumps(body)


@pytest.mark.parametrize("query,code", [("chenove", "21166"), ("Quetigny", "21515")])
def test_the_place_search_finds_its_communes(server, query, code):
    base, _token = server
    _status, body = get(f"{base}/api/places?q={query}")
    hits = json.loads(body)["hits"]
    assert any(h["kind"] == "commune" and h["id"] == code for h in hits), hits


def test_the_planner_help_gives_an_example_in_dijon(server):
    base, token = server
    status, html = get(f"{base}/planner/", {"Authorization": f"Bearer {token}"})
    assert status == 200
    example = re.search(r"par ex\. (\d+\.\d+) et (\d+\.\d+)", html)
    lat, lon = float(example.group(1)), float(example.group(2))
    assert contour_of(MEMBERS).contains(shapely.Point(lon, lat))


def test_update_asks_for_the_files_of_departement_21(env, server):
    mirror = Mirror()
    try:
        epci_path = next(
            s.url[len(mirror.url) :]
            for s in official.sources(base_urls=f"*={mirror.url}")
            if s.id == "communes_epci"
        )
        mirror.files[epci_path] = official.epci_zip(epci_rows())
        result = cli({**env, "MAPAPP_SOURCE_URLS": f"*={mirror.url}"}, "update")
    finally:
        mirror.close()
    asked = [path for path, _headers in mirror.requests]
    assert "/geo-sirene/last/dep/geo_siret_21.csv.gz" in asked
    assert "/data/ban/adresses/latest/csv/adresses-21.csv.gz" in asked
    assert any("code_departement%3A021" in p for p in asked)
    assert any("code_insee%20LIKE%20%2721%25%27" in p for p in asked)
    assert not [p for p in asked if re.search(r"[_-]25\.|%2725%|%3A025", p)]
    # INSEE's composition checked against the profile; the missing files reported
    assert "EPCI 242100410: 23 communes, as in the territory profile" in result.output
    assert result.exit_code == 1 and "sirene: FAILED" in result.output


def test_make_takes_the_epci_file_mapapp_fetch_downloaded(tmp_path):
    mirror = Mirror()
    env = {
        "MAPAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "MAPAPP_SOURCE_URLS": f"*={mirror.url}",
    }
    try:
        official.publish(mirror, tmp_path)  # every source at its catalogue path
        epci = next(p for p in mirror.files if "EPCI" in p)
        mirror.files[epci] = official.epci_zip(epci_rows())
        fetched = cli(env, "fetch", "communes_epci")
    finally:
        mirror.close()
    assert fetched.exit_code == 0, fetched.output
    out = tmp_path / "dijon"
    args = ["--communes", str(CONTOURS), "--epci", DIJON_METROPOLE, "--out", str(out)]
    made = cli(env, "territory", "make", *args)
    assert made.exit_code == 0, made.output
    assert "profile of Dijon Métropole" in made.output  # the EPCI's name from INSEE
    assert len(json.loads((out / "communes.geojson").read_text())["features"]) == 23
