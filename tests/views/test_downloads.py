"""Downloads keep the layer's types, offer Lambert-93 and a French CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess

import pyogrio
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from tests.views.test_ogc_clients import ZEROS


@pytest.fixture
def zeros(store):
    store.add("companies", dict(ZEROS), Point(6.02, 47.24))


def test_geojson_keeps_integers_booleans_and_leading_zeros(client, zeros):
    data = json.loads(client.get("/download/coworking.geojson").data)
    viotte = next(f for f in data["features"] if f["id"] == "proposition-viotte")
    assert type(viotte["properties"]["desks"]) is int
    assert viotte["properties"]["illustrative"] is True
    assert viotte["properties"]["published"] is True
    companies = json.loads(client.get("/download/companies.geojson").data)
    mine = next(f for f in companies["features"] if f["id"] == "zero-codes")
    assert mine["properties"]["siren"] == "005880034"
    assert mine["properties"]["headcount_class"] == "01"


def test_geopackage_types_and_version(client, zeros, tmp_path):
    path = tmp_path / "c.gpkg"
    path.write_bytes(client.get("/download/coworking.gpkg").data)
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    subtypes = dict(zip(info["fields"], info["ogr_subtypes"], strict=True))
    assert types["desks"].startswith("OFTInteger")
    assert (types["published"], subtypes["published"]) == ("OFTInteger", "OFSTBoolean")
    assert path.read_bytes()[60:64] == (10300).to_bytes(4, "big")  # GeoPackage 1.3
    path.write_bytes(client.get("/download/companies.gpkg").data)
    frame = pyogrio.read_dataframe(path)
    assert frame.set_index("id").loc["zero-codes", "siren"] == "005880034"


def _rows(body: bytes, separator: str) -> list[dict]:
    return list(
        csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=separator)
    )


def test_csv_rfc4180_and_french_companion(client, zeros):
    plain = client.get("/download/companies.csv")
    assert plain.mimetype == "text/csv" and not plain.data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in plain.data
    french = client.get("/download/companies.fr.csv")
    assert french.status_code == 200 and french.data.startswith(b"\xef\xbb\xbf")
    assert "mapapp-companies.fr.csv" in french.headers["Content-Disposition"]
    # the French flavour writes decimal commas (issue 22)
    for rows, point in ((_rows(plain.data, ","), "."), (_rows(french.data, ";"), ",")):
        mine = next(r for r in rows if r["id"] == "zero-codes")
        assert (mine["siren"], mine["headcount_class"]) == ("005880034", "01")
        assert mine["longitude"] == f"6{point}02"
    cow = _rows(client.get("/download/coworking.fr.csv").data, ";")
    viotte = next(r for r in cow if r["id"] == "proposition-viotte")
    assert (viotte["desks"], viotte["illustrative"]) == ("60", "true")


def test_downloads_in_lambert93(client, tmp_path):
    to93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    wgs = json.loads(client.get("/download/schools.geojson").data)["features"]
    x, y = to93.transform(*wgs[0]["geometry"]["coordinates"])
    r = client.get("/download/schools.geojson?crs=EPSG:2154")
    data = json.loads(r.data)
    assert data["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::2154"
    assert data["features"][0]["geometry"]["coordinates"] == pytest.approx(
        [x, y], abs=1
    )
    assert "EPSG2154" in r.headers["Content-Disposition"]
    path = tmp_path / "s.gpkg"
    path.write_bytes(client.get("/download/schools.gpkg?crs=EPSG:2154").data)
    assert pyogrio.read_info(path)["crs"] == "EPSG:2154"
    rows = _rows(client.get("/download/schools.csv?crs=EPSG:2154").data, ",")
    assert float(rows[0]["x"]) == pytest.approx(x, abs=1)
    uri = "http://www.opengis.net/def/crs/EPSG/0/2154"
    assert client.get(f"/download/schools.geojson?crs={uri}").status_code == 200


def test_download_unknown_crs_is_a_clear_error(client):
    r = client.get("/download/schools.csv?crs=EPSG:27572&lang=en")
    assert r.status_code == 400
    assert "EPSG:2154" in r.get_data(as_text=True)


# --- a French spreadsheet (issue 22) ------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
ODF = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def _calc_cells(path) -> list[list[tuple[str | None, str | None, str]]]:
    """The rows of a flat ODF spreadsheet: (value type, value, text) per cell."""
    from xml.etree import ElementTree

    tree = ElementTree.parse(path)  # noqa: S314 - LibreOffice's output of our file
    rows = []
    for row in tree.iter(f"{{{ODF['table']}}}table-row"):
        cells = []
        for cell in row:
            repeat = int(cell.get(f"{{{ODF['table']}}}number-columns-repeated", "1"))
            kind = cell.get(f"{{{ODF['office']}}}value-type")
            value = cell.get(f"{{{ODF['office']}}}value")
            text = "".join(cell.itertext()).strip()
            cells += [(kind, value, text)] * min(repeat, 50)
        rows.append(cells)
    return rows


@pytest.mark.desktop
def test_libreoffice_calc_in_french_reads_numbers_as_numbers(client, tmp_path):
    if SOFFICE is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice Calc is required in CI (.ci/run installs it)")
        pytest.skip("LibreOffice Calc not installed (apt-get install libreoffice-calc)")
    source = tmp_path / "fibre.fr.csv"
    source.write_bytes(client.get("/download/fibre.fr.csv").data)
    # as a French user opens it: ';', '"', UTF-8, from line 1, locale fr-FR (1036)
    done = subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/lo",
        ]
        + ["--infilter=CSV:59,34,76,1,,1036", "--convert-to", "fods"]
        + ["--outdir", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = [r for r in _calc_cells(tmp_path / "fibre.fr.fods") if r]
    names = [text for _kind, _value, text in header]
    layer = json.loads(client.get("/download/fibre.geojson").data)["features"]
    expected = {f["properties"]["zone_code"]: f["properties"] for f in layer}
    checked = 0
    for row in rows:
        cells = dict(zip(names, row, strict=False))
        if cells["zone_code"][2] not in expected:
            continue
        props = expected[cells["zone_code"][2]]
        for name in ("coverage", "premises", "longitude", "latitude"):
            kind, value, _text = cells[name]
            assert kind == "float", (name, cells[name])
            if name in props:
                assert float(value) == pytest.approx(props[name]), name
        checked += 1
    assert checked == len(expected)
