"""Downloads built without Flask: each format reads back with its own tools."""

from __future__ import annotations

import csv
import io
import json

import pyogrio

from mapapp.exports import export_bytes, layer_metadata


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
