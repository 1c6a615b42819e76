"""Perimeter outlines: jagged, spiky or self-crossing ones refused where they come in,
every outline simplified within 5 m for analysis, its buffer bounded in work."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from mapapp.analysis.catchments import DIRECT_VERTICES, catchment_area
from mapapp.layers import get_spec
from mapapp.layers.outline import SIMPLIFY_M, simplified
from mapapp.layers.validation import validate_records
from tests.shipped import GRAND_BESANCON_BBOX as AREA

LON0, LAT0 = 6.02, 47.24
KX = 111_320.0 * math.cos(math.radians(LAT0))
KY = 111_320.0
ORIGIN_M = (930000.0, 6700000.0)


def ring(radii: np.ndarray) -> np.ndarray:
    """(x, y) metres around (0, 0) at evenly spaced bearings and these radii."""
    angle = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    return np.column_stack([radii * np.cos(angle), radii * np.sin(angle)])


def wgs84(xy: np.ndarray) -> Polygon:
    return Polygon(np.column_stack([LON0 + xy[:, 0] / KX, LAT0 + xy[:, 1] / KY]))


def metric(xy: np.ndarray) -> Polygon:
    return Polygon(xy + np.array(ORIGIN_M))


def star(n: int = 2000) -> np.ndarray:
    """A 2,000-vertex star: spikes 950 m long, 6 m apart at their tips."""
    return ring(np.where(np.arange(n) % 2 == 0, 1000.0, 50.0))


def zigzag(n: int = 2000, amplitude: float = 10.0) -> np.ndarray:
    """A 2,000-vertex circle of 1 km whose outline zigzags by ``amplitude``."""
    return ring(1000.0 + np.where(np.arange(n) % 2 == 0, amplitude, -amplitude))


def perimeter(geom) -> list:
    props = {
        "id": "dentele",
        "name": "Quartier dentelé",
        "status": "candidate",
        "source": "saisie",
        "source_date": "2026",
        "precision": "exact",
    }
    return validate_records(
        [{"properties": props, "geometry": geom}],
        get_spec("perimeters"),
        AREA,
        "test",
    )


def test_a_spiky_perimeter_is_refused_saying_where():
    problems = perimeter(wgs84(star()))
    assert [(p.field, p.code) for p in problems] == [("geometry", "spike")]
    params = problems[0].params
    assert params["count"] >= 1000 and params["angle"] < 10
    assert abs(params["lon"] - LON0) < 0.02 and abs(params["lat"] - LAT0) < 0.02


def test_a_needle_on_a_plain_square_is_refused():
    square = np.array(
        [[0, 0], [500, 0], [500, 500], [250, 500], [250, 1500], [249, 500]]
    )
    square = np.vstack([square, [[0, 500]]]).astype(float)
    assert perimeter(wgs84(square))[0].code == "spike"


def test_a_self_crossing_perimeter_is_refused_saying_where():
    bowtie = Polygon([(6.00, 47.24), (6.01, 47.25), (6.01, 47.24), (6.00, 47.25)])
    problems = perimeter(bowtie)
    assert problems[0].code == "self_intersection"
    assert problems[0].params == {
        "lon": pytest.approx(6.005),
        "lat": pytest.approx(47.245),
    }


def comb(teeth: int = 100, width: float = 10.0, depth: float = 200.0) -> np.ndarray:
    """A rectangle whose top edge is a comb of square teeth (every turn 90°)."""
    top = []
    for i in range(teeth):
        x = 2 * i * width
        top += [[x, 300 + depth], [x + width, 300 + depth], [x + width, 300]]
        top += [[x + 2 * width, 300]]
    return np.array([[0.0, 0.0], [2 * teeth * width, 0.0], *top[::-1], [0.0, 300]])


def test_a_jagged_perimeter_is_refused():
    # 400 vertices, every turn a right angle (no spike): 9x its hull's length
    problems = perimeter(wgs84(comb()))
    assert [p.code for p in problems] == ["too_jagged"]
    assert problems[0].params["ratio"] > 8
    assert perimeter(wgs84(comb(depth=20.0))) == []  # shallow teeth: a street front


@pytest.mark.parametrize(
    "xy",
    [
        zigzag(2000, 1.0),  # a traced outline's jitter, below the 5 m tolerance
        np.array([[0, 0], [800, 0], [800, 300], [300, 300], [300, 900], [0, 900]]),
        ring(np.full(400, 700.0)),  # a smooth 400-vertex outline
    ],
)
def test_street_like_perimeters_pass(xy):
    assert perimeter(wgs84(xy.astype(float))) == []


def test_analysis_outline_is_simplified_within_5_m():
    shape = metric(zigzag(2000, 2.0))
    simple = simplified(shape)
    assert shapely.get_num_coordinates(simple) < 100
    assert shapely.hausdorff_distance(simple, shape) <= SIMPLIFY_M + 1e-6
    assert simplified(metric(star())).is_valid


@pytest.mark.parametrize(
    "xy", [star(), zigzag(2000, 10.0), zigzag(2000, 300.0)], ids=str
)
def test_a_jagged_outline_buffer_is_bounded_and_close(xy):
    shape = metric(xy)
    start = time.perf_counter()
    area = catchment_area(shape, 800)
    assert time.perf_counter() - start < 10  # GEOS at once: 2 minutes for the star
    assert area.is_valid and shapely.get_num_coordinates(area) < 1000
    # every vertex of the outline is within 800 m (+ the tolerances) of the area...
    assert area.buffer(2 * SIMPLIFY_M + 1).covers(shape)
    # ...and the area's edge about 800 m from the outline (never much further)
    edge = shapely.get_coordinates(area.exterior)[::7]
    far = shapely.distance(shapely.points(edge), shape)
    assert far.max() <= 800 + 1e-6 and far.min() >= 800 - 2 * SIMPLIFY_M - 2


def test_a_simple_outline_is_buffered_as_before():
    square = metric(np.array([[0, 0], [900, 0], [900, 900], [0, 900]], dtype=float))
    assert shapely.get_num_coordinates(square) <= DIRECT_VERTICES
    assert catchment_area(square, 800).equals(square.buffer(800, quad_segs=16))
