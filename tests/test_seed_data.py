"""The shipped seed as a planner relies on it: the audit findings of issues 14 and 20
stay fixed (geodata/SOURCES.md says what changed and why)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from mapapp.config import resource_dir

GEODATA = resource_dir("geodata")
# 318 rows of ONISEP's Idéo-Structures d'enseignement supérieur 2022, as published
# (tests/samples/onisep/README.md says which rows and where they come from)
ONISEP_SAMPLE = (
    Path(__file__).parent
    / "samples"
    / "onisep"
    / "ideo-structures-enseignement-superieur-2022-sample.csv"
)
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


# --- issue 20: schools where ONISEP places them, stale entries dated, figures -------


def onisep_rows() -> pd.DataFrame:
    return pd.read_csv(ONISEP_SAMPLE, sep=";", dtype=str, encoding="utf-8-sig")


def metropolis_codes() -> set[str]:
    listed = GEODATA / "reference" / "grand-besancon-communes.csv"
    return set(pd.read_csv(listed, dtype=str)["code_insee"])


def stated_margin_m(props: dict) -> float:
    """The margin a feature states: 10 m when placed on the source's coordinates
    (``exact``, rounded to 5 decimals), else the ``±N m`` or ``±N km`` of its notes."""
    if props["precision"] == "exact":
        return 10.0
    found = re.search(r"±\s*(\d[\d\s]*)\s*(km|m)\b", props.get("notes") or "")
    assert found, f"{props['id']}: {props['precision']} without a stated ± margin"
    value = float(found.group(1).replace(" ", "").replace("\u202f", ""))
    return value * 1000 if found.group(2) == "km" else value


def lambert(points: list[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(p) for p in points], crs=4326).to_crs(2154)


def test_onisep_sample_keeps_the_published_header_and_the_metropolis_rows():
    raw = ONISEP_SAMPLE.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + '"code UAI";"n° SIRET";'.encode())
    rows = onisep_rows()
    assert len(rows) == 318 and len(rows.columns) == 27
    assert list(rows.columns[-4:]) == [
        "longitude (X)",
        "latitude (Y)",
        "journées portes ouvertes",
        "URL et ID Onisep",
    ]
    codes = metropolis_codes()
    metropolis = rows[rows["commune (COG)"].isin(codes)]
    assert len(metropolis) == 42 and metropolis["code UAI"].nunique() == 39


def test_seed_every_school_with_a_uai_lies_where_onisep_places_it():
    rows = onisep_rows()
    placed = {
        uai: list(
            zip(
                group["longitude (X)"].astype(float),
                group["latitude (Y)"].astype(float),
                strict=True,
            )
        )
        for uai, group in rows.groupby("code UAI")
    }
    schools = [f for f in features("schools") if f["properties"].get("uai")]
    assert len(schools) >= 13
    for f in schools:
        p = f["properties"]
        assert p["uai"] in placed, f"{p['id']}: UAI {p['uai']} not in ONISEP's file"
        here = lambert([tuple(f["geometry"]["coordinates"])])[0]
        distance = min(lambert(placed[p["uai"]]).distance(here))
        assert distance <= stated_margin_m(p), (
            f"{p['id']} is {distance:.0f} m from ONISEP's position, "
            f"states {p['precision']} (±{stated_margin_m(p):.0f} m)"
        )


def test_seed_every_school_with_a_uai_lies_where_the_imported_onisep_file_puts_it(
    store,
):
    """The same check on what `mapapp import education` makes of ONISEP's file
    (issue 20, item 6: it imports the metropolis' establishments now): every
    shipped school carrying a UAI lies within its stated precision of the
    establishment the importer placed for that UAI."""
    from mapapp.importers import read_report

    report = read_report(store, "education", ONISEP_SAMPLE, edition="2022-03")
    imported = report.frame.set_index("id")
    assert report.kept == 39
    schools = [f for f in features("schools") if f["properties"].get("uai")]
    assert len(schools) >= 13
    for f in schools:
        p = f["properties"]
        assert p["uai"] in imported.index, f"{p['id']}: {p['uai']} not imported"
        there = imported.loc[p["uai"]].geometry
        assert imported.loc[p["uai"], "source_date"] == "2022-03"
        here = lambert([tuple(f["geometry"]["coordinates"]), (there.x, there.y)])
        distance = here[0].distance(here[1])
        assert distance <= stated_margin_m(p), (
            f"{p['id']} is {distance:.0f} m from the imported ONISEP position, "
            f"states {p['precision']} (±{stated_margin_m(p):.0f} m)"
        )


def test_seed_schools_from_onisep_cite_it_its_copy_and_its_licence():
    rows = onisep_rows().drop_duplicates("code UAI").set_index("code UAI")
    for f in features("schools"):
        p = f["properties"]
        assert "Recherche documentaire" not in p["source"], p["id"]  # not a source
        if not p.get("uai"):
            continue
        assert "ONISEP" in p["source"] and "Web_Semantic_Project" in p["source_url"]
        assert p["source_date"] == "2022-03" and p["licence"] == "odbl-1.0"
        assert p["address"].startswith(rows.loc[p["uai"], "adresse"]), p["id"]


def test_seed_schools_hold_every_digital_relevant_school_onisep_lists_here():
    """The layer's rule (SOURCES.md): the university's science faculty, the IUT,
    the engineering and art schools and the general and technological lycées that
    ONISEP lists in the metropolis; vocational, health, commerce and trade schools
    are left out unless a source names a digital programme."""
    rows = onisep_rows()
    codes = metropolis_codes()
    kinds = {
        "lycée GT",
        "Ecole d'ingénieurs",
        "Institut universitaire de technologie",
        "Ecole d'art",
    }
    wanted = rows[
        rows["commune (COG)"].isin(codes)
        & (rows["type d'établissement"].isin(kinds) | (rows["sigle"] == "UFR ST"))
    ]
    shipped = {f["properties"].get("uai") for f in features("schools")}
    assert len(wanted) == 12 and set(wanted["code UAI"]) <= shipped


def test_seed_the_schools_named_by_the_audit_are_fixed():
    schools = by_id("schools")
    hugo = schools["lycee-victor-hugo"]
    assert hugo["properties"]["uai"] == "0250007X"
    assert (
        lambert([(5.9772, 47.2191)]).distance(
            lambert([tuple(hugo["geometry"]["coordinates"])])[0]
        )[0]
        < 10
    )
    for fid, address in (
        ("lycee-louis-pergaud", "91-93 boulevard Léon Blum"),
        ("lycee-claude-nicolas-ledoux", "14 rue Alain Savary"),
        ("lycee-louis-pasteur", "4 rue du Lycée"),
        ("cfai-uimm", "8 avenue des Montboucons"),
    ):
        assert schools[fid]["properties"]["address"].startswith(address)
    assert "campus-bouloie" not in schools  # an aggregate of the schools listed


@pytest.mark.parametrize(
    "layer, fid, year",
    [
        ("companies", "vix-technology", "2018"),
        ("companies", "ier", "2018"),
        ("companies", "axolis", "2018"),
        ("companies", "cy-em-control", "2018"),
        ("companies", "solutions-sharepoint", "2018"),
        ("companies", "onefit-medical", "2016"),
        ("schools", "access-code-school", "2016"),
        ("coworking", "village-by-ca", "2019"),
    ],
)
def test_seed_stale_entries_say_since_when_they_are_not_confirmed(layer, fid, year):
    p = by_id(layer)[fid]["properties"]
    assert p["source_date"].startswith(year)
    assert f"confirmé{'e' if layer != 'coworking' else ''} depuis {year}" in p["notes"]
    assert p.get("status") in ("unconfirmed", "unknown", "open")
    if layer == "companies":
        assert p["status"] == "unconfirmed"


def test_seed_entries_confirmed_or_placed_by_a_newer_source():
    flowbird = by_id("companies")["flowbird"]["properties"]
    assert flowbird["status"] == "active" and flowbird["source_date"] >= "2025-01"
    assert "EasyPark" in flowbird["notes"] and "Lafayette" in flowbird["notes"]
    smartesting = by_id("companies")["smartesting"]["properties"]
    # the source that places it on TEMIS
    assert "Invest in Besançon" in smartesting["notes"]
    fablab = by_id("coworking")["fabrique-numerique-planoise"]["properties"]
    assert "Picasso" in fablab["address"] and fablab["source_date"] == "2023-09"
    assert "27 septembre 2023" in fablab["notes"]


def test_published_figures_are_sourced_dated_and_say_what_they_cover():
    figures = tomllib.loads(
        (GEODATA / "published-figures.toml").read_text(encoding="utf-8")
    )["figures"]
    assert {"digital_jobs_2025", "students_2025", "digital_companies_2015"} <= set(
        figures
    )
    assert figures["digital_jobs_2025"]["value"] == 2000
    for fid, fig in figures.items():
        assert isinstance(fig["value"], int | float) and fig["value"] > 0, fid
        assert fig["unit"] in ("jobs", "establishments", "students", "share"), fid
        assert fig["unit"] != "share" or fig["value"] <= 1, fid
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", fig["date"]), fid
        assert fig["url"].startswith(("https://", "http://")) and fig["source"], fid
        for text in ("label", "covers"):
            assert fig[text]["fr"] and fig[text]["en"], fid
        assert fig.get("compare_with") in (
            None,
            "jobs_estimate",
            "establishments",
            "students",
            "ftth_share",
        ), fid


def test_sources_say_for_each_feature_what_was_read_when_and_the_finding():
    text = (GEODATA / "SOURCES.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in POINT_LAYERS:
            rows[(cells[0], cells[1])] = cells
    classes = ("confirmed", "doubtful", "wrong", "unverifiable")
    checkable = [
        (layer, f["properties"]["id"])
        for layer in POINT_LAYERS
        for f in features(layer)
        if not f["properties"].get("illustrative")
    ]
    assert set(rows) == set(checkable)
    found = dict.fromkeys(classes, 0)
    for key in checkable:
        _layer, _fid, read_what, _latest, read_on, finding = rows[key]
        assert read_what and re.fullmatch(r"\d{4}-\d{2}-\d{2}", read_on), key
        assert finding.split(" ")[0] in classes, key
        found[finding.split(" ")[0]] += 1
    counts = ", ".join(f"{n} {c}" for c, n in found.items())
    assert f"**{counts}**" in " ".join(text.split()), counts


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
