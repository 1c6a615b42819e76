"""GeoJSON for the web, without Flask: 5 decimals, no NaN, safe inside a script."""

from __future__ import annotations

import json
import math

import geopandas as gpd
from shapely.geometry import Point

from mapapp.maps.geojson import features, safe_json, stored_feature, to_geojson


def test_coordinates_are_rounded_and_missing_values_dropped():
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "desks": [math.nan], "name": ["A"]},
        geometry=[Point(6.0241234567, 47.2378987654)],
        crs=4326,
    )
    feature = to_geojson(frame)["features"][0]
    assert feature["geometry"]["coordinates"] == [6.02412, 47.2379]
    assert feature["id"] == "a" and "desks" not in feature["properties"]


def test_reprojects_to_wgs84():
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(928000, 6695000)], crs=2154)
    lon, lat = to_geojson(frame)["features"][0]["geometry"]["coordinates"]
    assert 5.5 < lon < 6.5 and 47 < lat < 47.5


def test_safe_json_escapes_what_could_end_a_script():
    text = safe_json({"name": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text


def test_stored_feature_keeps_the_version():
    feature = stored_feature(
        {
            "id": "x",
            "properties": {"id": "x", "a": None},
            "geometry": Point(6, 47),
            "version": 3,
        }
    )
    assert feature["version"] == 3 and feature["properties"] == {"id": "x"}


def test_features_read_columns_at_once_as_plain_values():
    import pandas as pd

    frame = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c"],
            "desks": pd.array([3, None, 5], dtype="Int64"),
            "ratio": [0.5, float("nan"), 1.0],
            "open": [True, False, True],
            "note": ["x", None, "z"],
        },
        geometry=[Point(6.123456, 47.2), None, Point(6, 47)],
        crs="EPSG:4326",
    )
    out = features(frame, nulls=True)
    assert [f["properties"]["desks"] for f in out] == [3, None, 5]
    assert type(out[0]["properties"]["desks"]) is int
    assert [f["properties"]["ratio"] for f in out] == [0.5, None, 1.0]
    assert [f["properties"]["open"] for f in out] == [True, False, True]
    assert out[0]["geometry"] == {"type": "Point", "coordinates": [6.12346, 47.2]}
    assert out[1]["geometry"] is None
    assert "note" not in features(frame)[1]["properties"]
    json.dumps(out)  # nothing numpy or pandas left in it
