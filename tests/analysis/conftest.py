"""A tiny hand-made world in Lambert-93 around a known point, for exact checks."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from mapapp.analysis import Prepared

ORIGIN = (930000.0, 6700000.0)  # Lambert-93 metres, near Besançon


def at(dx: float, dy: float) -> Point:
    return Point(ORIGIN[0] + dx, ORIGIN[1] + dy)


def frame(rows, geoms):
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=2154)


@pytest.fixture
def world() -> dict[str, gpd.GeoDataFrame]:
    companies = frame(
        [
            {"id": "a", "sector": "software", "headcount_class": "12"},  # 34.5 jobs
            {"id": "b", "sector": "software", "headcount_class": "01"},  # 1.5 jobs
            {"id": "c", "sector": "it_services", "headcount_class": None},
            {"id": "far", "sector": "software", "headcount_class": "41"},
        ],
        [at(100, 0), at(0, 500), at(-700, 0), at(2000, 0)],
    )
    schools = frame(
        [
            {"id": "s1", "kind": "lycee", "students": 1000},
            {"id": "s2", "kind": "iut", "students": None},
        ],
        [at(300, 0), at(0, 900)],
    )
    coworking = frame(
        [
            {"id": "w1", "status": "open", "desks": 40},
            {"id": "w2", "status": "planned", "desks": 25},
            {"id": "w3", "status": "closed", "desks": 99},
        ],
        [at(0, -200), at(3000, 0), at(0, 100)],
    )
    fibre = frame(
        [
            {
                "id": "z1",
                "coverage": 0.5,
                "premises": 100,
                "ftth_premises": 50,
                "illustrative": False,
            },
            {
                "id": "z2",
                "coverage": 1.0,
                "premises": 300,
                "ftth_premises": 300,
                "illustrative": False,
            },
        ],
        [
            box(ORIGIN[0] - 1000, ORIGIN[1] - 1000, ORIGIN[0], ORIGIN[1] + 1000),
            box(ORIGIN[0], ORIGIN[1] - 1000, ORIGIN[0] + 1000, ORIGIN[1] + 1000),
        ],
    )
    context = frame(
        [{"id": "st", "kind": "station"}, {"id": "t", "kind": "technopole"}],
        [at(0, -1500), at(10, 10)],
    )
    return {
        "companies": companies,
        "schools": schools,
        "coworking": coworking,
        "fibre": fibre,
        "context": context,
    }


@pytest.fixture
def prepared(world) -> Prepared:
    return Prepared(world)


def wgs84(point: Point) -> Point:
    return gpd.GeoSeries([point], crs=2154).to_crs(4326).iloc[0]
