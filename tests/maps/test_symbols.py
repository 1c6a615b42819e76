"""One symbol table (layers.SYMBOLS) for the web map, the printed map and the
dossier's legend (issue 19, item 7): a layer drawn as a triangle on the web map is
a triangle on paper, and its legend says so."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from mapapp.layers import REGISTRY, SYMBOLS
from mapapp.maps import static
from mapapp.maps.builder import layer_config
from mapapp.views.planner import legend_symbol

POINT_LAYERS = [s for s in REGISTRY.values() if s.geometry == "Point"]


class Axes:
    """Records the marker of every line the printed map plots."""

    def __init__(self):
        self.markers = []

    def plot(self, *args, **kwargs):
        self.markers.append(kwargs.get("marker"))


@pytest.mark.parametrize("spec", POINT_LAYERS, ids=lambda s: s.name)
def test_web_map_printed_map_and_legend_draw_the_same_symbol(spec):
    symbol = SYMBOLS[spec.symbol]
    # the web map draws the vertices of the table
    assert layer_config(spec, "fr")["shape"] == symbol.points
    # the printed map plots the table's marker
    ax = Axes()
    frame = gpd.GeoDataFrame(geometry=[Point(930000, 6700000)], crs=2154)
    static._draw_points(ax, frame, spec)
    assert ax.markers and set(ax.markers) == {symbol.marker}
    # the dossier's legend draws the same vertices (a circle has none)
    drawn = legend_symbol(spec)
    if symbol.points is None:
        assert drawn == ""
    else:
        coords = [float(v) for p in drawn.split() for v in p.split(",")]
        expected = [6 + 4.2 * v for point in symbol.points for v in point]
        assert coords == pytest.approx(expected, abs=0.01)


def test_areas_have_no_point_symbol_in_the_legend():
    assert legend_symbol(REGISTRY["fibre"]) is None
