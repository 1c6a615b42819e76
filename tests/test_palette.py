"""Layer symbols and colours a colour-blind visitor can tell apart (issue 12, item 4)."""

from __future__ import annotations

import itertools

import pytest

from mapapp.layers import REGISTRY, SYMBOLS, LayerSpec, register, unregister
from tests.colours import CVD, delta_e, parse, simulate

VISIONS = ["normal", *CVD]
# CIEDE2000 of 12 or more: two colours a reader tells apart at marker size.
MIN_DELTA = 12


def point_layers():
    return [s for s in REGISTRY.values() if s.public and s.geometry == "Point"]


def seen(colour: str, vision: str):
    rgb = parse(colour)
    return rgb if vision == "normal" else simulate(rgb, vision)


def test_every_point_layer_has_its_own_symbol():
    symbols = [s.symbol for s in point_layers()]
    assert len(point_layers()) >= 4
    assert len(set(symbols)) == len(symbols)
    assert set(symbols) <= set(SYMBOLS)


def test_every_symbol_is_a_shape_of_its_own():
    """Each symbol the registry offers is drawn (a polygon around its centre, or
    the circle) and printed with a marker no other symbol uses."""
    markers = [s.marker for s in SYMBOLS.values()]
    assert len(set(markers)) == len(markers)
    shapes = [s.points for s in SYMBOLS.values()]
    assert shapes.count(None) == 1 and len(set(shapes)) == len(shapes)
    for symbol in SYMBOLS.values():
        for x, y in symbol.points or ():
            assert abs(x) <= 1.5 and abs(y) <= 1.5


def test_a_point_layer_cannot_take_a_symbol_already_taken():
    taken = point_layers()[0]
    spec = LayerSpec(
        "twin", {"fr": "Jumeau"}, "Point", taken.fields, (), symbol=taken.symbol
    )
    with pytest.raises(ValueError, match="free symbols"):
        register(spec)
    assert "twin" not in REGISTRY
    free = next(s for s in SYMBOLS if s not in {p.symbol for p in point_layers()})
    register(
        LayerSpec("twin", {"fr": "Jumeau"}, "Point", taken.fields, (), symbol=free)
    )
    try:
        assert REGISTRY["twin"].symbol == free
    finally:
        unregister("twin")


def test_an_unknown_symbol_is_refused():
    with pytest.raises(ValueError, match="symbol 'blob'"):
        LayerSpec("blob", {"fr": "Tache"}, "Point", (), (), symbol="blob")


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("spec", point_layers(), ids=lambda s: s.name)
def test_categories_of_a_layer_differ_for_every_vision(spec, vision):
    for a, b in itertools.combinations(spec.categories, 2):
        diff = delta_e(seen(a.color, vision), seen(b.color, vision))
        assert diff >= MIN_DELTA, (spec.name, vision, a.value, b.value, round(diff, 1))


def test_no_colour_means_two_things_across_layers():
    pairs = itertools.combinations(point_layers(), 2)
    for one, other in pairs:
        for a in one.categories:
            for b in other.categories:
                diff = delta_e(parse(a.color), parse(b.color))
                assert diff >= MIN_DELTA, (one.name, a.value, other.name, b.value)


def test_fibre_classes_get_darker_for_every_vision():
    classes = REGISTRY["fibre"].classes
    from tests.colours import luminance

    for vision in VISIONS:
        lum = [luminance(seen(c.color, vision)) for c in classes]
        assert lum == sorted(lum, reverse=True), vision
