"""Downloads as files: CSV cells that a spreadsheet would run are neutralised."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pytest
from shapely.geometry import Point

from mapapp.exports import csv_text, export_bytes, neutralise


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
