"""The ecosystem over time: years read from dates, created, net and existing per
year, unknown dates counted apart, for the whole area or an area."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point

from mapapp.analysis import Prepared
from mapapp.analysis.timeline import ecosystem, timeline, year_of, years_of
from tests.analysis.conftest import ORIGIN


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("2015-03-01", 2015),
        ("2015-03", 2015),
        ("2015", 2015),
        ("01/03/2015", 2015),
        (" 2003 ", 2003),
    ],
)
def test_year_of_reads_the_usual_date_forms(value, year):
    assert year_of(value) == year


@pytest.mark.parametrize("value", [None, "", "unknown", "1850-01-01", "2999", 2015])
def test_year_of_an_unreadable_date_is_unknown(value):
    assert math.isnan(year_of(value))


def test_timeline_counts_created_net_and_existing():
    created = years_of(["2019-05-01", "2020-01-02", "2020-12-31", None, "2022"])
    t = timeline(created, last=2022)
    assert t["years"] == [2019, 2020, 2021, 2022]
    assert t["created"] == [1, 2, 0, 1]
    assert t["existing"] == [1, 3, 3, 4]
    assert t["net"] == [1, 2, 0, 1]
    assert t["unknown"] == 1 and t["total"] == 5
    assert t["closures_known"] is False and t["closed"] is None


def test_timeline_with_closures_and_a_later_first_year():
    created = np.array([2010.0, 2015, 2018, np.nan])
    closed = np.array([2019.0, np.nan, 2020, np.nan])
    t = timeline(created, closed, first=2018, last=2020)
    assert t["existing_before"] == 2  # 2010 and 2015, both open at the end of 2017
    assert t["existing"] == [3, 2, 1]
    assert t["net"] == [1, -1, -1]
    assert t["closed"] == [0, 1, 1]


def test_ecosystem_of_an_area_counts_only_inside(world):
    world["companies"]["creation_date"] = ["2019-01-01", "2021-06-01", None, "2020"]
    data = Prepared(world)
    whole = ecosystem(data, last=2021)
    assert whole["total"] == 4 and whole["unknown"] == 1
    assert whole["existing"][-1] == 3
    near = ecosystem(data, Point(*ORIGIN).buffer(800), last=2021)
    assert near["total"] == 3  # "far" (2 km away) is out
    assert near["created"] == [1, 0, 1] and near["unknown"] == 1


def test_companies_without_a_creation_date_column_are_all_unknown(prepared):
    t = ecosystem(prepared, last=2024)
    assert t["unknown"] == t["total"] == 4 and t["years"] == [2024]
