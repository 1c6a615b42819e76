"""Place names from the zones: IRIS quarter, else fibre quarter, and commune."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

from mapapp.analysis.places import name_cells, place_names
from tests.analysis.conftest import ORIGIN, at

X, Y = ORIGIN


def zones(rows):
    return gpd.GeoDataFrame(
        [r[0] for r in rows], geometry=[r[1] for r in rows], crs=2154
    )


def test_names_from_iris_and_commune_zones():
    z = zones(
        [
            (
                {"zone_kind": "commune", "zone_name": "Besançon"},
                box(X - 5e3, Y - 5e3, X + 5e3, Y + 5e3),
            ),
            (
                {"zone_kind": "iris", "zone_name": "Planoise"},
                box(X - 1e3, Y - 1e3, X, Y),
            ),
        ]
    )
    points = gpd.GeoSeries([at(-10, -10), at(10, 10), at(9e3, 0)], crs=2154)
    names = place_names(points, z)
    assert names[0] == {
        "quarter": "Planoise",
        "commune": "Besançon",
        "label": "Planoise, Besançon",
    }
    assert names[1]["label"] == "Besançon"
    assert names[2] == {"quarter": None, "commune": None, "label": None}


def test_fibre_quarters_when_there_is_no_iris_zone():
    fibre = zones([({"zone_name": "Battant"}, box(X, Y, X + 500, Y + 500))])
    empty = gpd.GeoDataFrame({"zone_kind": [], "zone_name": []}, geometry=[], crs=4326)
    names = place_names(gpd.GeoSeries([at(100, 100)], crs=2154), empty, fibre)
    assert names[0]["quarter"] == "Battant" and names[0]["label"] == "Battant"


def test_name_cells_adds_a_place_to_each_top_cell():
    fibre = zones([({"zone_name": "Battant"}, box(X, Y, X + 500, Y + 500))]).to_crs(
        4326
    )
    centre = gpd.GeoSeries([at(250, 250)], crs=2154).to_crs(4326).iloc[0]
    top = [{"rank": 1, "lat": centre.y, "lon": centre.x}]
    assert name_cells(top, None, fibre)[0]["place"]["label"] == "Battant"


def test_namesake_areas_are_told_apart_by_their_nearest_landmark():
    from mapapp.analysis.places import distinguish

    def lonlat(dx, dy):
        p = gpd.GeoSeries([at(dx, dy)], crs=2154).to_crs(4326).iloc[0]
        return {"lon": p.x, "lat": p.y}

    top = [
        {"rank": 1, **lonlat(0, 0), "place": {"label": "Planoise"}},
        {"rank": 2, **lonlat(2000, 0), "place": {"label": "Planoise"}},
        {"rank": 3, **lonlat(9000, 0), "place": {"label": "Battant"}},
    ]
    landmarks = gpd.GeoDataFrame(
        {"name": ["Lycée Ouest", "Gare Est"]},
        geometry=[at(100, 0), at(2100, 0)],
        crs=2154,
    )
    out = distinguish(top, landmarks)
    assert [c["place"].get("near") for c in out] == ["Lycée Ouest", "Gare Est", None]
    assert out[0]["place"]["near_m"] == 100
    assert "number" not in out[0]["place"]
    # without landmarks, namesakes are numbered
    fresh = [dict(c, place={"label": "Planoise"}) for c in top[:2]]
    again = distinguish(fresh, None)
    assert [c["place"]["number"] for c in again] == [1, 2]
