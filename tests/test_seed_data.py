"""The shipped seed as a planner relies on it: the audit findings of issue 14 stay
fixed (geodata/SOURCES.md says what changed and why)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from mapapp.config import resource_dir

GEODATA = resource_dir("geodata")
POINT_LAYERS = ("companies", "coworking", "schools", "context")


def features(layer: str) -> list[dict]:
    return json.loads((GEODATA / f"{layer}.geojson").read_text())["features"]


def by_id(layer: str) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in features(layer)}


def point_frame() -> gpd.GeoDataFrame:
    """Every feature drawn as a point (commune-level ones are not), in Lambert-93."""
    rows = [
        {
            **f["properties"],
            "layer": layer,
            "geometry": shapely.geometry.shape(f["geometry"]),
        }
        for layer in POINT_LAYERS
        for f in features(layer)
        if f["properties"]["precision"] != "commune"
    ]
    return gpd.GeoDataFrame(rows, crs=4326).to_crs(2154)


def commune_polygons() -> gpd.GeoDataFrame:
    return gpd.read_file(GEODATA / "reference" / "communes-grand-besancon.geojson")


def test_seed_no_crowd_of_points_within_100_m_without_a_shared_address():
    points = point_frame()
    left, right = points.sindex.query(
        points.geometry.values, predicate="dwithin", distance=100
    )
    for i in range(len(points)):
        near = points.iloc[right[left == i]]
        addresses = set(near["address"].fillna(""))
        assert len(near) <= 3 or (len(addresses) == 1 and "" not in addresses), (
            f"{len(near)} point features within 100 m of {points['id'].iloc[i]}: "
            f"{', '.join(near['id'])}"
        )


def test_seed_nothing_left_on_the_old_city_centre_coordinate():
    points = point_frame()
    old = gpd.GeoSeries([shapely.Point(6.0241, 47.2378)], crs=4326).to_crs(2154)[0]
    near = points[points.distance(old) < 60]
    assert near.empty, list(near["id"])


def test_seed_commune_level_features_say_so_and_sit_on_their_commune():
    communes = commune_polygons().set_index("code")
    found = 0
    for layer in POINT_LAYERS:
        for f in features(layer):
            p = f["properties"]
            if p["precision"] != "commune":
                continue
            found += 1
            point = shapely.geometry.shape(f["geometry"])
            assert communes.loc[p.get("commune_code", "25056")].geometry.contains(point)
            assert "commune" in p["notes"]
    assert found >= 8  # the companies no source places, and the data centre


def test_seed_vocabulary_of_precision_is_the_new_one():
    allowed = {"exact", "street", "approximate", "commune"}
    for layer in (*POINT_LAYERS, "fibre", "perimeters"):
        assert {f["properties"]["precision"] for f in features(layer)} <= allowed


def test_seed_lycee_victor_hugo_is_in_planoise_not_in_the_boucle():
    hugo = by_id("schools")["lycee-victor-hugo"]
    assert hugo["properties"]["address"].startswith("1 rue Rembrandt")
    zones = {f["properties"]["zone_code"]: f for f in features("fibre")}
    planoise = shapely.geometry.shape(zones["25056-Q09"]["geometry"])
    assert planoise.contains(shapely.geometry.shape(hugo["geometry"]))


@pytest.mark.parametrize(
    "fid, quarter",
    [("ecole-2089", "25056-Q11"), ("digital-surf", "25056-Q13")],
)
def test_seed_features_placed_where_their_sources_say(fid, quarter):
    layer = "schools" if fid == "ecole-2089" else "companies"
    feature = by_id(layer)[fid]
    zones = {f["properties"]["zone_code"]: f for f in features("fibre")}
    zone = shapely.geometry.shape(zones[quarter]["geometry"])
    assert zone.contains(shapely.geometry.shape(feature["geometry"]))
    assert feature["properties"]["precision"] == "approximate"


def test_seed_digital_surf_carries_its_registered_naf_code():
    props = by_id("companies")["digital-surf"]["properties"]
    assert props["naf_code"] == "62.02A" and props["naf_inferred"] is False
    assert props["siren"] == "352184683" and props["sector"] == "it_services"


def test_seed_headcounts_say_where_they_come_from():
    for f in features("companies"):
        p = f["properties"]
        if p.get("headcount_class"):
            assert p.get("headcount_source") in ("register", "press"), p["id"]
            assert p.get("headcount_date"), p["id"]


def test_seed_companies_have_a_status_matching_their_source_date():
    for f in features("companies"):
        p = f["properties"]
        expected = "active" if int(p["source_date"][:4]) >= 2024 else "unconfirmed"
        assert p["status"] == expected, p["id"]


def test_seed_one_data_centre_under_its_current_name():
    named = [
        f["properties"]
        for layer in POINT_LAYERS
        for f in features(layer)
        if "neoclyde" in json.dumps(f["properties"]).lower()
    ]
    assert len(named) == 1
    assert named[0]["kind"] == "data_centre" and "nLighten" in named[0]["name"]
    assert "Neoclyde" in named[0]["notes"] and "Euclyde" in named[0]["notes"]


def test_seed_stations_from_sncf_open_data():
    context = by_id("context")
    for fid, uic in (("gare-viotte", "87718007"), ("gare-tgv", "87300863")):
        p = context[fid]["properties"]
        assert "SNCF" in p["source"] and uic in p["notes"]
        assert p["licence"] == "odbl-1.0" and p["precision"] == "exact"


def test_seed_fibre_zones_stay_inside_the_commune():
    besancon = commune_polygons().set_index("code").to_crs(2154).loc["25056"]
    zones = gpd.read_file(GEODATA / "fibre.geojson").to_crs(2154)
    spill = shapely.union_all(zones.geometry.values).difference(besancon.geometry)
    assert spill.area < 1000  # m²: coordinates rounded to 1 m (it was 0.17 km²)


def test_seed_fibre_names_and_figures_do_not_contradict_published_ones():
    zones = {f["properties"]["zone_code"]: f["properties"] for f in features("fibre")}
    names = " ".join(z["zone_name"] for z in zones.values())
    for wrong in ("Chapelle-des-Buis", "Grette", "Butte"):
        assert wrong not in names
    boucle = zones["25056-Q01"]
    # 3,600 of the 11,600 dwellings of the Boucle connected in August 2025
    assert boucle["coverage"] <= 0.35 and boucle["illustrative"] is True
    assert zones["25056-Q02"]["coverage"] <= 0.35  # Battant, same deployment


def test_seed_study_area_is_the_metropolis_of_67_communes():
    communes = commune_polygons()
    listed = (GEODATA / "reference" / "grand-besancon-communes.csv").read_text()
    assert len(communes) == 67 and all(c in listed for c in communes["code"])
    area = gpd.read_file(GEODATA / "reference" / "study-area.geojson").to_crs(2154)
    byans = communes.set_index("code").to_crs(2154).loc["25105"].geometry
    assert area.geometry[0].contains(byans.buffer(-10))


@pytest.mark.parametrize(
    "path",
    [
        "fibre.geojson",
        "perimeters.geojson",
        "zones.geojson",
        "reference/communes-grand-besancon.geojson",
        "reference/study-area.geojson",
    ],
)
def test_seed_polygons_are_wound_as_rfc_7946_says(path):
    """Exterior rings counterclockwise, holes clockwise (RFC 7946 §3.1.6), in the
    seed's own one-feature-per-line form."""
    text = (GEODATA / path).read_text(encoding="utf-8")
    for feature in json.loads(text)["features"]:
        geometry = shapely.geometry.shape(feature["geometry"])
        for polygon in getattr(geometry, "geoms", [geometry]):
            assert polygon.exterior.is_ccw, feature["properties"]
            assert not any(ring.is_ccw for ring in polygon.interiors)
    lines = text.splitlines()
    if len(lines) > 1:  # one feature per line between the collection's lines
        for line in lines[1:-1]:
            assert json.loads(line.removesuffix(","))["type"] == "Feature"
