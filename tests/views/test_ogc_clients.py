"""Real clients against `mapapp serve` in another process: GDAL (3.6 from the system,
the one bundled with pyogrio), OWSLib and QGIS 3.22 (Debian's python3-qgis).

The served seed has one more company, whose codes start with zeros, to check that
every output keeps them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SEED, edit_seed
from tests.shipped import GRAND_BESANCON_BBOX as AREA
from tests.views.test_ogc import PUBLIC

ZEROS = {
    "id": "zero-codes",
    "name": "Zéro & Codes",
    "sector": "software",
    "siren": "005880034",
    "headcount_class": "01",
    "commune_code": "25056",
    "source": "test",
    "source_date": "2026-11",
    "precision": "exact",
}
TEMIS = "5.985,47.247,5.996,47.256"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, instance folder) of a server on the seed plus ZEROS."""
    from tests.servers import start_server, stop

    root = tmp_path_factory.mktemp("clients")
    seed = root / "seed"
    shutil.copytree(SEED, seed)

    def add(data):
        data["features"].append(
            {
                "type": "Feature",
                "properties": ZEROS,
                "geometry": {"type": "Point", "coordinates": [6.02, 47.24]},
            }
        )

    edit_seed(seed, "companies", add)
    proc, base = start_server(
        {
            "MAPAPP_INSTANCE_PATH": str(root / "srv"),
            "MAPAPP_DATA_DIR": str(seed),
            "MAPAPP_TILES": "none",
        }
    )
    yield base, root
    stop(proc)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url) as r:
        return json.loads(r.read())


def matched(base: str, name: str) -> int:
    return get_json(f"{base}/ogc/collections/{name}/items?limit=1")["numberMatched"]


def download(
    base: str, root: Path, name: str, query: str = "", fmt: str = "gpkg"
) -> Path:
    path = root / f"{name}{query and '-' + str(abs(hash(query)))}.{fmt}"
    with urllib.request.urlopen(f"{base}/download/{name}.{fmt}{query}") as r:
        path.write_bytes(r.read())
    return path


def commune_level(base: str, name: str = "companies") -> list[str]:
    """The ids of a layer's features located at commune level only."""
    where = urllib.parse.quote("precision = 'commune'")
    page = get_json(f"{base}/ogc/collections/{name}/items?limit=1000&filter={where}")
    return sorted(f["id"] for f in page["features"])


# --- GDAL ----------------------------------------------------------------------


def _pyogrio_read(url: str, where: str) -> subprocess.CompletedProcess:
    code = (
        "import sys, pyogrio\n"
        "f = pyogrio.read_dataframe(sys.argv[1], layer='coworking', where=sys.argv[2])\n"
        "print(sorted(f['id']))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, url, where],
        capture_output=True,
        text=True,
        env={**os.environ, "CPL_DEBUG": "ON"},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("where", "sent", "expected"),
    [
        ("status='planned'", "filter=status%20%3D%20'planned'", ["openlab-campus"]),
        (
            "desks > 35 AND status LIKE 'prop%'",
            "filter-lang=cql-text",
            ["proposition-palente", "proposition-viotte"],
        ),
    ],
)
def test_gdal_where_is_evaluated_by_the_server(served, where, sent, expected):
    base, _root = served
    done = _pyogrio_read(f"OAPIF:{base}/ogc/", where)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(expected)
    fetches = [line for line in done.stderr.splitlines() if "HTTP: Fetch(" in line]
    assert any("/collections/coworking/items?" in f and sent in f for f in fetches)
    assert "client side" not in done.stderr


@pytest.mark.desktop
def test_gdal_36_where_is_evaluated_by_the_server(served):
    base, _root = served
    if not shutil.which("ogrinfo"):
        if os.environ.get("CI"):
            pytest.fail("ogrinfo (gdal-bin) is required in CI")
        pytest.skip("no ogrinfo (gdal-bin)")
    done = subprocess.run(
        ["ogrinfo", "--debug", "on", "-ro", "-al", "-q", f"OAPIF:{base}/ogc/"]
        + ["coworking", "-where", "status='planned'"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "client side" not in done.stderr
    assert done.stdout.count("OGRFeature(coworking)") == 1
    assert "openlab-campus" in done.stdout


# --- OWSLib --------------------------------------------------------------------


def test_owslib_reads_the_api_definition_and_queryables(served):
    from owslib.ogcapi.features import Features

    base, _root = served
    service = Features(f"{base}/ogc/")
    api = service.api()
    assert api["openapi"].startswith("3.0")
    assert "/collections/schools/items" in api["paths"]
    queryables = service.collection_queryables("coworking")
    assert queryables["properties"]["desks"]["type"] == "integer"
    planned = service.collection_items("coworking", filter="status = 'planned'")
    assert [f["id"] for f in planned["features"]] == ["openlab-campus"]


# --- QGIS ------------------------------------------------------------------------


class Recorder:
    """A forwarding HTTP proxy in front of the server that keeps every path asked:
    what QGIS really sends, not what it filters locally."""

    def __init__(self, base: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.paths: list[str] = []
        recorder = self

        class Forward(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                recorder.paths.append(self.path)
                # the server's links name the host asked: this proxy's
                ask = urllib.request.Request(
                    base + self.path, headers={"Host": self.headers["Host"]}
                )
                try:
                    with urllib.request.urlopen(ask) as r:
                        status, headers, body = r.status, r.headers, r.read()
                except urllib.error.HTTPError as exc:
                    status, headers, body = exc.code, exc.headers, exc.read()
                self.send_response(status)
                for key in ("Content-Type", "Content-Crs"):
                    if headers.get(key):
                        self.send_header(key, headers[key])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def qgis_view(served):
    """What QGIS 3.22 reports about every public collection and download, and the
    requests it sent (``sent``: paths through a recording proxy)."""
    from tests.desktop_gis import system_python_with

    python = system_python_with("qgis.core")
    base, root = served
    packages = [str(download(base, root, name)) for name in PUBLIC]
    packages.append(str(download(base, root, "coworking", "?crs=EPSG:2154")))
    packages.append(str(download(base, root, "companies", fmt="geojson")))
    proxy = Recorder(base)
    try:
        done = subprocess.run(
            [python, str(Path(__file__).parent.parent / "qgis_client.py")]
            + [f"{proxy.url}/ogc/", TEMIS, *PUBLIC, "--", *packages],
            capture_output=True,
            text=True,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            timeout=600,
        )
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr[-2000:]
    view = json.loads(done.stdout.strip().splitlines()[-1])
    view["sent"] = proxy.paths
    return view


def _inside_area(extent: list[float]) -> bool:
    x0, y0, x1, y1 = extent
    return AREA[0] <= x0 <= x1 <= AREA[2] and AREA[1] <= y0 <= y1 <= AREA[3]


@pytest.mark.desktop
def test_qgis_loads_every_collection_with_paging(served, qgis_view):
    base, _root = served
    for name in PUBLIC:
        layer = qgis_view["oapif"][name]
        assert layer["valid"], name
        assert layer["count"] == layer["read"] == matched(base, name), name
        assert _inside_area(layer["extent"]), (name, layer["extent"])
    coworking = qgis_view["oapif"]["coworking"]
    assert coworking["fields"]["desks"] == "Integer" and coworking["kinds"][
        "desks"
    ] == ["int"]
    assert coworking["fields"]["published"] == "Boolean"
    assert coworking["kinds"]["published"] == ["bool"]
    companies = qgis_view["oapif"]["companies"]
    assert "zero-codes" in companies["ids"]
    assert (
        companies["fields"]["siren"]
        == companies["fields"]["headcount_class"]
        == "String"
    )


@pytest.mark.desktop
def test_qgis_sends_its_bbox_to_the_server(qgis_view):
    companies = set(qgis_view["bbox"]["companies"]["ids"])
    assert {"smartesting", "silmach"} <= companies and "maty" not in companies
    # the server was asked for that box (QGIS does not only filter what it has)
    asked = [
        urllib.parse.unquote(p)
        for p in qgis_view["sent"]
        if p.startswith("/ogc/collections/companies/items") and "bbox=" in p
    ]
    assert asked, qgis_view["sent"][:20]


@pytest.mark.desktop
def test_qgis_reads_the_downloaded_geopackages(served, qgis_view):
    base, _root = served
    for name in PUBLIC:
        layer = qgis_view["gpkg"][f"{name}.gpkg"]
        assert layer["valid"] and layer["count"] == matched(base, name), name
        assert _inside_area(layer["extent"]) and layer["crs"] == "EPSG:4326", name
    coworking = qgis_view["gpkg"]["coworking.gpkg"]
    assert coworking["fields"]["desks"].startswith("Integer")
    assert coworking["kinds"]["desks"] == ["int"]
    assert coworking["fields"]["published"] == "Boolean"
    lambert = next(
        v for k, v in qgis_view["gpkg"].items() if k.startswith("coworking-")
    )
    assert lambert["crs"] == "EPSG:2154" and lambert["count"] == coworking["count"]
    assert 900_000 < lambert["extent"][0] < lambert["extent"][2] < 960_000


@pytest.mark.desktop
def test_downloaded_geopackages_pass_gdal_validator(served):
    from tests.desktop_gis import validate_gpkg

    base, root = served
    for name in ("companies", "fibre"):
        assert validate_gpkg(download(base, root, name)) == "", name
    assert validate_gpkg(download(base, root, "coworking", "?crs=EPSG:2154")) == ""


# --- issue 22: what the clients type, see and send -----------------------------


def _ogrinfo(*args: str) -> str:
    if not shutil.which("ogrinfo"):
        if os.environ.get("CI"):
            pytest.fail("ogrinfo (gdal-bin) is required in CI")
        pytest.skip("no ogrinfo (gdal-bin)")
    done = subprocess.run(
        ["ogrinfo", "--debug", "on", "-ro", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


@pytest.mark.desktop
def test_gdal_36_types_the_fields_from_the_described_by_schema(served):
    base, _root = served
    out = _ogrinfo("-so", f"OAPIF:{base}/ogc/", "schools")
    assert "Using JSON schema" in out  # it read the describedBy link
    assert "students: Integer " in out
    assert "illustrative: Integer(Boolean) " in out
    assert out.count("id: String") == 1  # the feature id, not twice
    coworking = _ogrinfo("-so", f"OAPIF:{base}/ogc/", "coworking")
    assert "desks: Integer " in coworking
    assert "published: Integer(Boolean) " in coworking


@pytest.mark.desktop
def test_gdal_36_boolean_where_is_evaluated_by_the_server(served):
    base, _root = served
    out = _ogrinfo(
        "-al", "-q", f"OAPIF:{base}/ogc/", "coworking", "-where", "illustrative = 1"
    )
    illustrative = get_json(
        f"{base}/ogc/collections/coworking/items?illustrative=true"
    )["features"]
    assert illustrative and out.count("OGRFeature(coworking)") == len(illustrative)
    assert "client side" not in out
    sent = [line for line in out.splitlines() if "HTTP: Fetch(" in line]
    assert any("filter=illustrative" in line for line in sent), sent


def test_gdal_reads_counterclockwise_rings_everywhere(served):
    """GDAL (pyogrio's) reads every polygon output; shapely says how it is wound."""
    base, _root = served
    urls = [
        f"{base}/api/layers/fibre.geojson",
        f"{base}/api/layers/perimeters.geojson",
        f"{base}/download/fibre.geojson",
        f"{base}/download/perimeters.gpkg",
        f"{base}/ogc/collections/fibre/items",
        f"{base}/ogc/collections/perimeters/items",
    ]
    code = """
import shapely, tempfile, urllib.request
result = {}
for url in args:
    with urllib.request.urlopen(url) as r, tempfile.NamedTemporaryFile(
        suffix=".gpkg" if url.endswith(".gpkg") else ".geojson"
    ) as f:
        f.write(r.read()); f.flush()
        frame = pyogrio.read_dataframe(f.name)
    polygons = [p for g in frame.geometry for p in getattr(g, "geoms", [g])]
    result[url] = [len(polygons), sum(p.exterior.is_ccw for p in polygons)]
"""
    from tests.gdal_client import gdal

    for url, (rings, ccw) in gdal(code, *urls).items():
        assert rings and ccw == rings, url


@pytest.mark.desktop
def test_qgis_sees_counterclockwise_rings_typed_fields_and_the_licence(qgis_view):
    for name in ("fibre", "perimeters"):
        for view in (qgis_view["oapif"][name], qgis_view["gpkg"][f"{name}.gpkg"]):
            assert view["windings"]["clockwise"] == 0, (name, view["windings"])
            # a multipolygon has several exterior rings
            assert view["windings"]["counterclockwise"] >= view["count"] > 0, name
    # QGIS 3.22 types the fields from the first page: it starts with a value
    schools = qgis_view["oapif"]["schools"]
    assert schools["fields"]["students"] == "Integer", schools["fields"]
    for name in PUBLIC:
        layer = qgis_view["gpkg"][f"{name}.gpkg"]
        assert any("Licence" in lic or "CC0" in lic for lic in layer["licenses"]), (
            name,
            layer["licenses"],
        )
        assert layer["rights"] and layer["history"], name
    lambert = next(
        v for k, v in qgis_view["gpkg"].items() if k.startswith("coworking-")
    )
    assert lambert["licenses"] == qgis_view["gpkg"]["coworking.gpkg"]["licenses"]


# --- issue 20, item 5: commune-level features have no point of their own ----------


def test_gdal_reads_commune_level_companies_without_a_geometry(served):
    """The GeoPackage and GeoJSON downloads and the OGC API (GDAL's OAPIF driver)
    give the companies located at commune level only a null geometry, in a point
    layer; the others keep their points."""
    from tests.gdal_client import gdal

    base, root = served
    expected = commune_level(base)
    assert len(expected) >= 2
    seen = gdal(
        """
        out = []
        for path, layer in ((args[0], None), (args[1], None),
                            ("OAPIF:" + args[2], "companies")):
            info = pyogrio.read_info(path, layer=layer)
            frame = pyogrio.read_dataframe(path, layer=layer)
            out.append({
                "type": info["geometry_type"],
                "count": len(frame),
                "none": sorted(frame.loc[frame.geometry.isna(), "id"]),
            })
        result = out
        """,
        str(download(base, root, "companies")),
        str(download(base, root, "companies", fmt="geojson")),
        f"{base}/ogc",
    )
    for view in seen:
        assert view["type"] == "Point", view
        assert view["none"] == expected, view
        assert view["count"] == matched(base, "companies")


@pytest.mark.desktop
def test_qgis_sees_commune_level_companies_without_a_place(served, qgis_view):
    base, _root = served
    expected = commune_level(base)
    for view in (
        qgis_view["oapif"]["companies"],
        qgis_view["gpkg"]["companies.gpkg"],
        qgis_view["gpkg"]["companies.geojson"],
    ):
        assert view["valid"] and view["unlocated"] == expected
        assert view["count"] == matched(base, "companies")
    # no box selects them: they have no place
    assert not set(qgis_view["bbox"]["companies"]["ids"]) & set(expected)
