"""The analysis JSON twins, their errors (in the page language) and the downloads."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest

from mapapp import accounts


@pytest.fixture
def api(client, store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")

    def get(path, **kwargs):
        return client.get(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return get


def test_catchment_twin(api):
    r = api("/api/analysis/catchment?lat=47.25&lon=5.99&radius=800")
    assert r.status_code == 200
    data = r.json
    assert data["radius_m"] == 800
    for key in (
        "companies",
        "schools",
        "coworking",
        "fibre_coverage",
        "nearest_station_m",
    ):
        assert key in data
    assert {"count", "jobs_estimate", "by_sector"} <= set(data["companies"])
    assert {"count", "students"} <= set(data["schools"])
    assert {"count", "desks"} <= set(data["coworking"])
    assert data["companies"]["count"] >= 8  # the TEMIS firms
    assert data["area"]["type"] == "Polygon"


def test_catchment_of_a_site_and_a_perimeter(api):
    site = api("/api/analysis/catchment?layer=coworking&id=le-numerique").json
    assert site["target"]["name"].startswith("Le Numérique")
    perimeter = api(
        "/api/analysis/catchment?layer=perimeters&id=perimetre-temis-bouloie&radius=200"
    ).json
    assert perimeter["companies"]["count"] >= 8


@pytest.mark.parametrize(
    "query,param",
    [
        ("lat=95&lon=6", "lat"),
        ("lat=47.2&lon=abc", "lon"),
        ("lon=6", "lat"),
        ("lat=47.2&lon=6&radius=50", "radius"),
        ("lat=47.2&lon=6&radius=4000", "radius"),
        ("lat=48.85&lon=2.35", "lat"),
        ("lat=47.2&lon=6&companies.sector=banking", "companies.sector"),
    ],
)
def test_catchment_errors_name_the_parameter(api, query, param):
    r = api(f"/api/analysis/catchment?{query}&lang=en")
    assert r.status_code == 400 and param in r.json["error"]


def test_errors_are_in_the_page_language(api):
    fr = api("/api/analysis/catchment?lat=47.2&lon=6&radius=9000&lang=fr").json["error"]
    en = api("/api/analysis/catchment?lat=47.2&lon=6&radius=9000&lang=en").json["error"]
    assert "doit être compris entre" in fr and "must be between" in en


def test_suitability_twin_and_weights(api):
    r = api("/api/analysis/suitability?cell=500")
    assert r.status_code == 200 and r.json["cell_m"] == 500
    assert len(r.json["top"]) == 5 and r.json["cells"]["features"]
    jobs = api(
        "/api/analysis/suitability?cell=500&w.jobs=5&w.training=0&w.fibre=0"
        "&w.station=0&w.underserved=0"
    ).json["top"][0]
    under = api(
        "/api/analysis/suitability?cell=500&w.jobs=0&w.training=0&w.fibre=0"
        "&w.station=0&w.underserved=5"
    ).json["top"][0]
    assert (jobs["lat"], jobs["lon"]) != (under["lat"], under["lon"])
    assert api("/api/analysis/suitability?w.beauty=2").status_code == 400
    zero = "&".join(
        f"w.{c}=0" for c in ("jobs", "training", "fibre", "station", "underserved")
    )
    assert api(f"/api/analysis/suitability?{zero}").status_code == 400


def test_scenarios_and_figures(api):
    rows = api("/api/analysis/scenarios").json["rows"]
    ids = {(r["layer"], r["id"]) for r in rows}
    assert ("coworking", "le-numerique") in ids
    assert ("perimeters", "perimetre-planoise") in ids
    assert ("coworking", "village-by-ca") not in ids  # open, not a scenario
    figures = api("/api/analysis/figures?perimeter=perimetre-temis-bouloie").json
    # 22 companies: 14 placed, 8 located at commune level only (counted apart)
    assert figures["area"]["establishments"] == 14
    assert figures["area"]["located_at_commune_level_only"]["companies"] == 8
    assert 0 < figures["perimeter"]["establishments"] < 14
    assert figures["area"]["fibre_illustrative"] is True


def test_filters_change_the_figures(api):
    all_ = api("/api/analysis/figures").json["area"]["establishments"]
    software = api("/api/analysis/figures?companies.sector=software").json["area"]
    assert software["establishments"] == 3 < all_  # and Onefit, at commune level
    assert software["located_at_commune_level_only"]["companies"] == 1


def test_exports_in_three_formats(api, tmp_path):
    gj = api("/planner/export/companies.geojson?companies.sector=software")
    assert gj.status_code == 200 and len(json.loads(gj.data)["features"]) == 4
    rows = list(
        csv.DictReader(
            io.StringIO(api("/planner/export/schools.csv").get_data(as_text=True))
        )
    )
    assert len(rows) == 17 and {"name", "longitude", "latitude"} <= set(rows[0])
    gpkg = api("/planner/export/coworking.gpkg")
    path = tmp_path / "export.gpkg"
    path.write_bytes(gpkg.data)
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == 11  # unpublished included for planners
    assert api("/planner/export/companies.shp").status_code == 400


def test_csv_and_svg_downloads(api):
    scen = api("/planner/scenarios.csv").get_data(as_text=True)
    assert scen.startswith("layer,id,name,status")
    figs = api("/planner/figures.csv?lang=fr").get_data(as_text=True)
    assert "Établissements numériques" in figs
    svg = api("/planner/figures.svg?lang=en")
    assert svg.mimetype == "image/svg+xml" and b"<script" not in svg.data
    assert b"Estimated digital jobs by sector" in svg.data


def test_analysis_needs_sign_in(client):
    assert client.get("/api/analysis/catchment?lat=47.2&lon=6").status_code == 401
    assert client.get("/planner/export/companies.csv").status_code == 302


def test_commune_level_companies_are_left_out_of_a_catchment_and_counted(api):
    # the old city-centre point, where ten companies used to sit
    near = api("/api/analysis/catchment?lat=47.2378&lon=6.0241&radius=300").json
    assert near["companies"]["count"] == 0
    assert near["located_at_commune_level_only"]["companies"] == 8  # Besançon's


def test_jobs_estimate_counts_register_bands_unless_asked(api):
    register = api("/api/analysis/figures").json["area"]
    everything = api("/api/analysis/figures?jobs=all").json["area"]
    assert register["jobs_basis"] == "register" and everything["jobs_basis"] == "all"
    # Flowbird, Maty and SilMach have press figures only: left out, and said so
    # no establishment has a register band: the estimate is unknown, not 0
    assert register["jobs_estimate"] is None
    assert register["jobs_unknown"] == register["establishments"] > 0
    assert register["jobs_left_out"] == everything["jobs_estimate"] > 1000
    assert api("/api/analysis/figures?jobs=press").status_code == 400


def test_exports_for_french_spreadsheets_and_in_lambert_93(api, tmp_path):
    fr = api("/planner/export/schools.fr.csv?schools.kind=lycee")
    text = fr.get_data(as_text=True)
    assert fr.status_code == 200 and text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows and all(r["kind"] == "lycee" for r in rows)
    l93 = api("/planner/export/coworking.gpkg?crs=EPSG:2154")
    assert "EPSG2154" in l93.headers["Content-Disposition"]
    path = tmp_path / "l93.gpkg"
    path.write_bytes(l93.data)
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 2154
    x, y = frame.geometry.iloc[0].x, frame.geometry.iloc[0].y
    assert 900_000 < x < 960_000 and 6_660_000 < y < 6_720_000  # metres, Besançon
    assert api("/planner/export/coworking.gpkg?crs=EPSG:9999").status_code == 400


@pytest.mark.parametrize(
    "query,french,english",
    [
        (
            "companies.foo=x",
            "Le paramètre companies.foo n'est pas un filtre",
            "Parameter companies.foo is not a filter",
        ),
        (
            "companies.sector=nothing",
            "Le paramètre companies.sector : valeur(s) inconnue(s) nothing",
            "Parameter companies.sector: unknown value(s) nothing",
        ),
    ],
)
def test_filter_errors_speak_the_page_language(api, query, french, english):
    """A filter error carries a code and its parameters (issue 18): its words are
    the page's language, and name the filters or values expected."""
    base = f"/api/analysis/catchment?lat=47.25&lon=5.99&{query}"
    fr = api(base + "&lang=fr")
    assert fr.status_code == 400 and french in fr.json["error"]
    en = api(base + "&lang=en")
    assert en.status_code == 400 and english in en.json["error"]
    if "foo" in query:
        assert "companies.sector" in en.json["error"]  # the filters there are
    else:
        assert "software" in en.json["error"]  # the values expected


def test_unknown_values_are_null_with_a_count_never_zero(api):
    """Issue 19 item 3: no register band and no desk count are null in every
    analysis twin, with how many features lack the value."""
    area = api("/api/analysis/figures").json["area"]
    for sector in area["by_sector"].values():
        assert sector["jobs_estimate"] is None
        assert sector["jobs_unknown"] == sector["establishments"]
    rows = api("/api/analysis/scenarios").json["rows"]
    assert rows
    for row in rows:
        if row["companies"]:
            assert row["jobs_estimate"] is None and row["jobs_unknown"] > 0
        else:  # nothing within reach: a known 0
            assert row["jobs_estimate"] == 0 and row["jobs_unknown"] == 0
        if row["coworking_desks"] is None:
            assert row["desks_unknown"] > 0
    catch = api("/api/analysis/catchment?lat=47.2378&lon=6.0241&radius=1500").json
    assert catch["companies"]["count"] > 0
    assert catch["companies"]["jobs_estimate"] is None
    assert catch["companies"]["jobs_unknown"] == catch["companies"]["count"]


def test_suitability_leaves_out_a_criterion_without_data(api):
    data = api("/api/analysis/suitability?cell=1000").json
    assert data["left_out"] == ["jobs"]
    assert "jobs" not in data["weights_used"]
    assert sum(data["weights_used"].values()) == pytest.approx(1.0, abs=1e-3)
    for area in data["top"]:
        assert area["criteria"]["jobs"] is None and area["jobs_within"] is None
        assert area["shares"]["jobs"] == 0
    # the five best areas are five distinct places
    labels = [
        (a["place"]["label"], a["place"].get("near"), a["place"].get("number"))
        for a in data["top"]
    ]
    assert len(set(labels)) == len(labels)
    ranks = [r for a in data["top"] for r in a["ranks"]]
    assert len(ranks) == len(set(ranks))
