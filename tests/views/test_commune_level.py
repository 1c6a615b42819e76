"""Features located at commune level only (issue 20, item 5): in the downloads and
the OGC API they have no point of their own (a null geometry; ``commune_code`` says
where, ``precision`` why), where they were nine identical points at Besançon's
anchor; the map's own data keeps the anchor it draws the commune badge at."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse

import pytest


@pytest.fixture
def at_commune(store) -> set[str]:
    companies = store.read("companies")
    found = set(companies.loc[companies["precision"] == "commune", "id"])
    assert len(found) >= 2, "the seed has companies located at commune level"
    return found


def test_geojson_download_gives_them_a_null_geometry(client, at_commune):
    data = json.loads(client.get("/download/companies.geojson").get_data())
    by_id = {f["id"]: f for f in data["features"]}
    assert at_commune <= set(by_id)
    assert all(by_id[i]["geometry"] is None for i in at_commune)
    located = [f for f in data["features"] if f["geometry"] is not None]
    assert all(f["properties"]["precision"] != "commune" for f in located)
    assert all(by_id[i]["properties"]["commune_code"] for i in at_commune)
    # in Lambert-93 as well
    lambert = json.loads(client.get("/download/companies.geojson?crs=EPSG:2154").data)
    assert {f["id"] for f in lambert["features"] if f["geometry"] is None} == at_commune


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("fr.csv", ";")])
def test_csv_downloads_leave_their_coordinates_empty(client, at_commune, fmt, sep):
    text = client.get(f"/download/companies.{fmt}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep))
    for row in rows:
        if row["id"] in at_commune:
            assert row["longitude"] == row["latitude"] == "", row
        else:  # fr.csv writes decimal commas
            lon, lat = (row[k].replace(",", ".") for k in ("longitude", "latitude"))
            assert float(lon) and float(lat), row


def test_ogc_items_and_item_have_no_geometry_for_them(client, at_commune):
    page = client.get("/ogc/collections/companies/items?limit=1000").get_json()
    by_id = {f["id"]: f for f in page["features"]}
    assert all(by_id[i]["geometry"] is None for i in at_commune)
    one = next(iter(sorted(at_commune)))
    item = client.get(f"/ogc/collections/companies/items/{one}").get_json()
    assert item["geometry"] is None and item["properties"]["precision"] == "commune"


def test_no_spatial_filter_selects_them_their_commune_does(client, store, at_commune):
    anchor = store.read("companies").set_index("id").loc[sorted(at_commune)[0]]
    x, y = anchor.geometry.x, anchor.geometry.y
    box = f"{x - 0.001},{y - 0.001},{x + 0.001},{y + 0.001}"
    boxed = client.get(f"/ogc/collections/companies/items?bbox={box}").get_json()
    assert not {f["id"] for f in boxed["features"]} & at_commune
    cql = urllib.parse.quote(f"S_INTERSECTS(geometry, BBOX({box}))")
    spatial = client.get(f"/ogc/collections/companies/items?filter={cql}").get_json()
    assert not {f["id"] for f in spatial["features"]} & at_commune
    # what the map's badge asks: those of one commune, by their commune code
    code = anchor["commune_code"]
    where = urllib.parse.quote(f"precision = 'commune' AND commune_code = '{code}'")
    listed = client.get(f"/ogc/collections/companies/items?filter={where}").get_json()
    assert {f["id"] for f in listed["features"]} == {
        i
        for i in at_commune
        if store.read("companies").set_index("id").loc[i, "commune_code"] == code
    }
    # NOT inside the box: the located ones outside it, never the placeless ones
    negated = urllib.parse.quote(f"NOT S_INTERSECTS(geometry, BBOX({box}))")
    outside = client.get(
        f"/ogc/collections/companies/items?filter={negated}&limit=1000"
    )
    assert not {f["id"] for f in outside.get_json()["features"]} & at_commune


def test_the_map_data_keeps_the_anchor_of_its_commune_badge(client, at_commune):
    data = client.get("/api/layers/companies.geojson").get_json()
    anchors = {
        f["id"]: f["geometry"]["coordinates"]
        for f in data["features"]
        if f["id"] in at_commune
    }
    assert set(anchors) == at_commune and all(anchors.values())
