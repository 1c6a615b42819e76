"""Map options from the query string: good values taken, bad ones ignored."""

from __future__ import annotations

import pytest

from mapapp.maps.options import MapOptions, parse_map_options, parse_size
from tests.shipped import GRAND_BESANCON_BBOX as AREA

NAMES = ["companies", "coworking", "schools", "fibre", "context", "perimeters"]


def parse(**args):
    return parse_map_options(args, NAMES, AREA)


def test_defaults():
    opts = parse()
    assert opts == MapOptions()
    assert opts.scrollzoom is False and opts.legend is True
    assert opts.query() == {}


def test_good_values():
    opts = parse(
        layers="coworking,fibre",
        center="47.22,5.96",
        zoom="15",
        lang="en",
        legend="0",
        search="no",
        fullscreen="off",
        scrollzoom="1",
        feature="coworking:le-numerique",
        basemap="osm",
    )
    assert opts.layers == ("coworking", "fibre")
    assert opts.center == (47.22, 5.96) and opts.zoom == 15 and opts.lang == "en"
    assert (opts.legend, opts.search, opts.fullscreen, opts.scrollzoom) == (
        False,
        False,
        False,
        True,
    )
    assert opts.feature == "coworking:le-numerique" and opts.basemap == "osm"
    assert opts.ignored == []
    assert parse(**opts.query()).key() == opts.key()


@pytest.mark.parametrize(
    "name,value",
    [
        ("layers", "nope"),
        ("center", "abc"),
        ("center", "5.96,47.22"),
        ("center", "91,0"),
        ("zoom", "x"),
        ("zoom", "42"),
        ("lang", "de"),
        ("legend", "maybe"),
        ("feature", "<script>"),
        ("feature", "unknown:id"),
        ("basemap", "google"),
    ],
)
def test_bad_values_are_ignored_with_a_reason(name, value):
    opts = parse(**{name: value})
    assert opts.key() == MapOptions().key()
    assert len(opts.ignored) == 1 and opts.ignored[0].startswith(name)


def test_partly_known_layers_keep_the_known_ones():
    opts = parse(layers="coworking,nope")
    assert opts.layers == ("coworking",) and "nope" in opts.ignored[0]


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("100%", "100%"),
        ("640", "640"),
        ("640px", "640"),
        (" 480 px ", "480"),
        ('100%" onload="alert(1)', "D"),
        ("500><script>alert(1)</script>", "D"),
        ("99999", "D"),
        ("5%", "D"),
        ("-500", "D"),
        ("50vh", "D"),
        (None, "D"),
    ],
)
def test_parse_size_keeps_numbers_with_px_or_percent_only(raw, expected):
    assert parse_size(raw, "D") == expected


def test_over_precise_center_is_snapped():
    a = parse_map_options({"center": "47.2378000001,6.0241000009"}, ["companies"], AREA)
    b = parse_map_options({"center": "47.2378,6.0241"}, ["companies"], AREA)
    assert a.key() == b.key()


def test_the_embed_guide_states_the_defaults_the_code_uses():
    import re
    from pathlib import Path

    from mapapp.maps.options import option_defaults
    from tests.shipped import SHIPPED

    guide = (Path(__file__).parents[2] / "docs" / "embed.md").read_text("utf-8")
    # the centre and zoom are the territory's initial view: the shipped one's
    for name, value in option_defaults(SHIPPED.view).items():
        row = re.search(rf"^\| `{name}` \|[^|]*\| `([^`]*)` \|", guide, re.M)
        assert row and row.group(1) == value, name
