"""GeoJSON for the web, without Flask: 5 decimals, no NaN, safe inside a script."""

from __future__ import annotations

import math

import geopandas as gpd
from shapely.geometry import Point

from mapapp.maps.geojson import safe_json, stored_feature, to_geojson


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
