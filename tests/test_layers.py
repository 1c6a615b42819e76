"""The layer registry and the validation of seed data."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, Polygon

from mapapp.errors import ValidationError
from mapapp.layers import (
    REGISTRY,
    coverage_class,
    get_spec,
    load_seed,
    tr,
    validate_records,
)
from tests.conftest import SEED, edit_seed
from tests.shipped import GRAND_BESANCON_BBOX as AREA

MINIMUM = {
    "companies": 20,
    "coworking": 8,
    "schools": 12,
    "fibre": 12,
    "context": 4,
    "perimeters": 1,
}


def company(**props):
    base = {
        "id": "c1",
        "name": "Acme",
        "sector": "software",
        "naf_code": "58.29C",
        "source": "test",
        "source_date": "2026-01",
        "precision": "exact",
    }
    base.update(props)
    return base


def problems_of(props, geom, layer="companies"):
    return validate_records(
        [{"properties": props, "geometry": geom}], get_spec(layer), AREA, "test.geojson"
    )


def test_registry_has_the_seven_layers():
    assert list(REGISTRY) == [
        "companies",
        "coworking",
        "schools",
        "fibre",
        "context",
        "perimeters",
        "zones",
    ]


def test_tr_falls_back_to_french():
    assert tr({"fr": "Carte", "en": "Map"}, "en") == "Map"
    assert tr({"fr": "Carte"}, "en") == "Carte"
    assert tr("plain", "en") == "plain"


@pytest.mark.parametrize("layer,minimum", MINIMUM.items())
def test_seed_layer_counts(layer, minimum):
    layers = load_seed(SEED, AREA)
    assert len(layers[layer]) >= minimum


def test_seed_every_feature_has_provenance():
    for name, frame in load_seed(SEED, AREA).items():
        for column in ("source", "source_date", "precision"):
            assert frame[column].notna().all(), (name, column)


def test_seed_has_planned_le_numerique_and_illustrative_proposals():
    cow = load_seed(SEED, AREA)["coworking"].set_index("id")
    assert cow.loc["le-numerique", "opening"] == "2027"
    assert cow.loc["le-numerique", "status"] in ("planned", "under_construction")
    proposed = cow[cow["status"] == "proposed"]
    assert len(proposed) >= 3
    assert proposed["illustrative"].all()


def test_seed_fibre_without_source_is_flagged_illustrative():
    fibre = load_seed(SEED, AREA)["fibre"]
    assert fibre["illustrative"].all()
    assert (fibre["ftth_premises"] <= fibre["premises"]).all()


def test_seed_fibre_zones_cover_the_commune_of_besancon():
    import json

    import shapely

    fibre = load_seed(SEED, AREA)["fibre"]
    union = shapely.union_all(fibre.geometry.values)
    centre = Point(6.0241, 47.2378)
    assert union.contains(centre)
    # a point in each quarter: the zones do not overlap
    assert shapely.intersection_all(fibre.geometry.values[:2]).area < 1e-9
    assert json.dumps(list(fibre.zone_code))  # codes are plain strings


def test_validate_accepts_a_good_feature():
    assert problems_of(company(), Point(6.02, 47.24)) == []


def test_validate_missing_required_field_names_file_feature_field():
    problems = problems_of(company(name=""), Point(6.02, 47.24))
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.field) == ("test.geojson", "name")
    assert "c1" in p.feature and "required" in p.message


def test_validate_wrong_type():
    problems = problems_of(company(), Point(6.02, 47.24), "companies")
    assert problems == []
    problems = problems_of(
        {
            "id": "w1",
            "name": "X",
            "kind": "coworking",
            "status": "open",
            "desks": "forty",
            "source": "t",
            "source_date": "2026",
            "precision": "exact",
        },
        Point(6.02, 47.24),
        "coworking",
    )
    assert [p.field for p in problems] == ["desks"]
    assert "expected int" in problems[0].message


def test_validate_unknown_choice():
    problems = problems_of(company(sector="banking"), Point(6.02, 47.24))
    assert [p.field for p in problems] == ["sector"]


def test_validate_swapped_latitude_longitude():
    problems = problems_of(company(), Point(47.24, 6.02))
    assert [p.field for p in problems] == ["geometry"]
    assert "swapped" in problems[0].message


def test_validate_point_outside_study_area():
    problems = problems_of(company(), Point(2.35, 48.85))
    assert "outside the study area" in problems[0].message


def test_validate_self_intersecting_polygon():
    bowtie = Polygon([(6.00, 47.23), (6.02, 47.25), (6.02, 47.23), (6.00, 47.25)])
    props = {
        "id": "z1",
        "zone_code": "Z",
        "zone_name": "Zone",
        "premises": 10,
        "ftth_premises": 5,
        "coverage": 0.5,
        "as_of": "2025",
        "source": "t",
        "source_date": "2025",
        "precision": "exact",
    }
    problems = problems_of(props, bowtie, "fibre")
    assert [p.field for p in problems] == ["geometry"]
    assert "Self-intersection" in problems[0].message


def test_validate_empty_geometry_and_wrong_kind():
    assert "empty" in problems_of(company(), Point())[0].message
    square = Polygon([(6.0, 47.2), (6.01, 47.2), (6.01, 47.21)])
    assert "expected Point" in problems_of(company(), square)[0].message


def test_validate_duplicate_ids():
    records = [
        {"properties": company(), "geometry": Point(6.02, 47.24)},
        {"properties": company(name="Other"), "geometry": Point(6.03, 47.24)},
    ]
    problems = validate_records(records, get_spec("companies"), AREA, "f.geojson")
    assert [(p.field, "duplicate" in p.message) for p in problems] == [("id", True)]


def test_validate_fibre_coverage_consistency():
    props = {
        "id": "z1",
        "zone_code": "Z",
        "zone_name": "Zone",
        "premises": 100,
        "ftth_premises": 120,
        "coverage": 1.0,
        "as_of": "2025",
        "source": "t",
        "source_date": "2025",
        "precision": "exact",
    }
    square = Polygon([(6.0, 47.2), (6.01, 47.2), (6.01, 47.21), (6.0, 47.21)])
    problems = problems_of(props, square, "fibre")
    assert [p.field for p in problems] == ["ftth_premises"]


def test_load_seed_reports_every_bad_file(seed_dir):
    def swap(data):
        x, y = data["features"][0]["geometry"]["coordinates"]
        data["features"][0]["geometry"]["coordinates"] = [y, x]

    def nameless(data):
        data["features"][1]["properties"].pop("name")

    edit_seed(seed_dir, "companies", swap)
    edit_seed(seed_dir, "schools", nameless)
    with pytest.raises(ValidationError) as info:
        load_seed(seed_dir, AREA)
    files = {p.file for p in info.value.problems}
    assert files == {"companies.geojson", "schools.geojson"}
    assert "swapped" in info.value.message


def test_coverage_classes_follow_arcep_bounds():
    assert [coverage_class(v) for v in (0.1, 0.25, 0.6, 0.9, 0.95, 1.0)] == [
        0,
        1,
        2,
        3,
        4,
        4,
    ]
    assert coverage_class(None) is None


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "www.x.fr"]
)
def test_web_addresses_are_http_only(url):
    problems = validate_records(
        [{"properties": company(website=url), "geometry": Point(6.02, 47.24)}],
        get_spec("companies"),
        AREA,
        "test",
    )
    assert [(p.field, p.code) for p in problems] == [("website", "not_a_web_address")]
    ok = company(website="https://www.smartesting.com/", source_url="http://x.fr/a")
    assert (
        validate_records(
            [{"properties": ok, "geometry": Point(6.02, 47.24)}],
            get_spec("companies"),
            AREA,
            "test",
        )
        == []
    )
