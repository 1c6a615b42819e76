"""Key figures, whole area and one perimeter, and the planner's filters."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from mapapp.analysis.filters import apply_filters, filter_query, parse_filters
from mapapp.analysis.indicators import key_figures
from mapapp.errors import BadRequest


def test_key_figures_whole_area(prepared):
    f = key_figures(prepared)
    assert f["establishments"] == 4 and f["jobs_estimate"] == 785.5
    assert f["training_places"] == 2 and f["students"] == 1000
    assert f["coworking_open"] == 1 and f["coworking_planned"] == 1
    assert f["desks_open"] == 40 and f["desks_planned"] == 25
    assert f["ftth_share"] == pytest.approx(350 / 400)


def test_key_figures_of_a_perimeter(prepared):
    west = box(929000, 6699000, 929999, 6701000)  # the west zone only
    f = key_figures(prepared, west)
    assert f["establishments"] == 1  # company c
    assert f["ftth_share"] == pytest.approx(0.5, abs=0.01)


def test_filters_parse_apply_and_round_trip(world):
    filters = parse_filters(
        {
            "companies.sector": "software",
            "fibre.coverage_class": "4",
            "w.jobs": "2",
            "lang": "fr",
        }
    )
    assert apply_filters("companies", world["companies"], filters)["id"].tolist() == [
        "a",
        "b",
        "far",
    ]
    assert apply_filters("fibre", world["fibre"], filters)["id"].tolist() == ["z2"]
    assert filter_query(filters) == {
        "companies.sector": "software",
        "fibre.coverage_class": "4",
    }


@pytest.mark.parametrize(
    "args",
    [
        {"companies.colour": "red"},
        {"companies.sector": "banking"},
        {"coworking.status": "open,dreaming"},
    ],
)
def test_bad_filters_name_the_parameter(args):
    with pytest.raises(BadRequest) as info:
        parse_filters(args)
    assert next(iter(args)) in info.value.message


def test_key_figures_report_unknown_values_as_none_with_counts(world):
    from mapapp.analysis import Prepared

    world["companies"]["headcount_class"] = None
    world["coworking"]["desks"] = None
    world["schools"]["students"] = None
    f = key_figures(Prepared(world))
    assert f["jobs_estimate"] is None and f["jobs_unknown"] == 4
    assert f["by_sector"]["software"] == {
        "establishments": 3,
        "jobs_estimate": None,
        "jobs_unknown": 3,
    }
    assert f["students"] is None and f["students_unknown"] == 2
    assert f["desks_open"] is None and f["desks_open_unknown"] == 1
    assert f["desks_planned"] is None and f["desks_planned_unknown"] == 1


def test_key_figures_count_unknown_beside_a_partial_sum(prepared):
    f = key_figures(prepared)
    # company c has no band: the estimate sums the three others and says so
    assert f["jobs_estimate"] == 785.5 and f["jobs_unknown"] == 1
    assert f["students"] == 1000 and f["students_unknown"] == 1
