"""Downloads keep the layer's types, offer Lambert-93 and a French CSV."""

from __future__ import annotations

import csv
import io
import json

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
