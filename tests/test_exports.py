"""Downloads built without Flask: each format reads back with its own tools."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from mapapp.exports import csv_text, export_bytes, layer_metadata, neutralise


def test_geojson_carries_metadata(core_site):
    frame = core_site.snapshot("coworking", full=True).frame
    data = json.loads(
        export_bytes(frame, "coworking", "geojson", layer_metadata(frame))
    )
    assert data["name"] == "coworking" and data["metadata"]["features"] == len(frame)
    assert len(data["features"]) == len(frame)


def test_csv_has_coordinates(core_site):
    frame = core_site.snapshot("schools", full=True).frame
    rows = list(
        csv.DictReader(io.StringIO(export_bytes(frame, "schools", "csv").decode()))
    )
    assert len(rows) == len(frame)
    assert all(float(r["longitude"]) and float(r["latitude"]) for r in rows)


def test_geopackage_reads_back(core_site, tmp_path):
    frame = core_site.snapshot("schools", full=True).frame
    path = tmp_path / "schools.gpkg"
    path.write_bytes(export_bytes(frame, "schools", "gpkg", layer_metadata(frame)))
    back = pyogrio.read_dataframe(path)
    assert len(back) == len(frame) and set(back["id"]) == set(frame["id"])


@pytest.mark.parametrize(
    "value,expected",
    [
        (
            '=HYPERLINK("http://evil.example","x")',
            '\'=HYPERLINK("http://evil.example","x")',
        ),
        ("+33 3 81 00 00 00", "'+33 3 81 00 00 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Le Numérique", "Le Numérique"),
        (-5, -5),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_neutralise_formula_cells(value, expected):
    assert neutralise(value) == expected


def test_csv_download_of_a_layer_neutralises_every_cell():
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["=cmd|' /C calc'!A0"], "desks": [-3]},
        geometry=[Point(6.02, 47.24)],
        crs=4326,
    )
    rows = list(csv.DictReader(io.StringIO(export_bytes(frame, "x", "csv").decode())))
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["desks"] == "-3"  # a number is not a formula


def test_csv_text_neutralises_header_names_too():
    text = csv_text([{"=x": "@y"}])
    assert text.splitlines() == ["'=x", "'@y"]
