"""Catchments checked against distances and counts worked out by hand."""

from __future__ import annotations

import pytest

from mapapp.analysis import JOBS_BY_CLASS, jobs_estimate
from mapapp.analysis.catchments import catchment
from tests.analysis.conftest import at, wgs84


def test_jobs_from_headcount_classes():
    assert JOBS_BY_CLASS["12"] == 34.5 and JOBS_BY_CLASS["NN"] == 0
    assert list(jobs_estimate(["01", None, "41"])) == [1.5, 0.0, 749.5]


def test_catchment_800m_counts_what_lies_within(prepared):
    result = catchment(prepared, wgs84(at(0, 0)), 800)
    # a (100 m), b (500 m), c (700 m) are in; "far" (2 km) is out
    assert result["companies"]["count"] == 3
    assert result["companies"]["jobs_estimate"] == 36.0
    assert result["companies"]["without_headcount"] == 1
    # c's band is unknown: its sector's estimate is unknown (None), never 0
    assert result["companies"]["jobs_unknown"] == 1
    assert result["companies"]["by_sector"] == {
        "it_services": {"count": 1, "jobs_estimate": None, "jobs_unknown": 1},
        "software": {"count": 2, "jobs_estimate": 36.0, "jobs_unknown": 0},
    }
    # s1 at 300 m is in, s2 at 900 m is out
    assert result["schools"] == {"count": 1, "students": 1000, "without_students": 0}
    # w1 open at 200 m counts; w3 is closed; w2 is 3 km away
    assert result["coworking"]["count"] == 1 and result["coworking"]["desks"] == 40
    assert result["coworking"]["without_desks"] == 0


def test_catchment_where_no_value_is_known_says_unknown_not_zero(prepared):
    # around s2 (900 m north): one school, its student count unknown
    result = catchment(prepared, wgs84(at(0, 1200)), 400)
    assert result["schools"] == {"count": 1, "students": None, "without_students": 1}
    # nothing at all in reach: the sums are a known 0
    empty = catchment(prepared, wgs84(at(0, 20000)), 200)
    assert empty["companies"]["jobs_estimate"] == 0
    assert empty["schools"]["students"] == 0


def test_known_sum_keeps_unknown_apart():
    from mapapp.analysis import known_sum

    assert known_sum([1.0, float("nan")]) == (1, 1)
    assert known_sum([float("nan"), float("nan")]) == (None, 2)
    assert known_sum([]) == (0, 0)
    assert known_sum([1.5, 9.0], [True, False], 1) == (1.5, 1)


def test_catchment_radius_boundary(prepared):
    assert catchment(prepared, wgs84(at(0, 0)), 650)["companies"]["count"] == 2
    assert catchment(prepared, wgs84(at(0, 0)), 3000)["companies"]["count"] == 4


def test_catchment_station_distance_and_fibre(prepared):
    result = catchment(prepared, wgs84(at(500, 0)), 800)
    assert result["nearest_station_m"] == pytest.approx(
        1581.1, abs=0.5
    )  # hypot(500,1500)
    assert result["fibre_coverage"] == 1.0
    assert catchment(prepared, wgs84(at(-500, 0)), 800)["fibre_coverage"] == 0.5
    assert catchment(prepared, wgs84(at(5000, 0)), 800)["fibre_coverage"] is None


def test_catchment_area_is_the_buffer(prepared):
    import geopandas as gpd

    area = catchment(prepared, wgs84(at(0, 0)), 800)["area"]
    metric = gpd.GeoSeries([area], crs=4326).to_crs(2154).iloc[0]
    assert metric.area == pytest.approx(3.14159 * 800**2, rel=0.01)


def test_catchment_of_a_perimeter_weights_fibre_by_premises(prepared):
    import geopandas as gpd
    from shapely.geometry import box

    square = box(929500, 6699500, 930500, 6700500)  # half in each zone
    place = gpd.GeoSeries([square], crs=2154).to_crs(4326).iloc[0]
    result = catchment(prepared, place, 200)
    # z1: 100 premises x 1/4 of its area, 50 %; z2: 300 x 1/4, 100 %
    assert result["fibre_coverage"] == pytest.approx((12.5 + 75) / (25 + 75), abs=1e-3)
