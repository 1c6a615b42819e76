"""Map builders: local assets only, data serialised safely, hostile text inert."""

from __future__ import annotations

import json
import re

import geopandas as gpd
from shapely.geometry import Point

from mapapp.layers import get_spec
from mapapp.maps import build_map, layer_config, safe_json, split_rendered
from mapapp.maps.tiles import resolve_tiles

HOSTILE = (
    "</script><script>alert(1)</script> <img src=x onerror=alert(2)> "
    "`${alert(3)}` \\u0060 & <!--"
)


def hostile_frame():
    return gpd.GeoDataFrame(
        [
            {
                "id": "h1",
                "name": HOSTILE,
                "sector": "software",
                "source": HOSTILE,
                "source_date": "2026",
                "precision": "approximate",
            }
        ],
        geometry=[Point(6.02, 47.24)],
        crs="EPSG:4326",
    )


def render(frame):
    m = build_map(
        {"companies": (get_spec("companies"), frame)},
        "fr",
        resolve_tiles("none"),
        {"i18n": {}},
    )
    return split_rendered(m)


def test_safe_json_cannot_close_a_script_element():
    text = safe_json({"name": HOSTILE})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["name"] == HOSTILE


def test_hostile_names_never_appear_raw_in_the_page():
    parts = render(hostile_frame())
    page = parts["header"] + parts["html"] + parts["script"]
    assert "</script><script>alert(1)" not in page
    assert "<img src=x" not in page
    assert page.count("<script") == page.count("</script>")
    # the data is there, escaped, inside the JSON handed to map.js
    assert "\\u003c/script\\u003e" in parts["script"]


def test_page_uses_only_local_assets():
    parts = render(hostile_frame())
    urls = re.findall(r'(?:src|href)="([^"]+)"', parts["header"])
    assert urls and all(u.startswith("/assets/") for u in urls)


def test_viewport_allows_zooming():
    assert "user-scalable=no" not in render(hostile_frame())["header"]


def test_layer_config_is_translated():
    fr, en = (
        layer_config(get_spec("coworking"), "fr"),
        layer_config(get_spec("coworking"), "en"),
    )
    assert fr["title"] == "Coworking et tiers-lieux"
    assert en["title"] == "Coworking and third places"
    assert en["fields"]["status"]["choices"]["planned"] == "Planned"
    assert [c["label"] for c in layer_config(get_spec("fibre"), "en")["classes"]] == [
        "< 25 %",
        "25 – 50 %",
        "50 – 80 %",
        "80 – 95 %",
        "≥ 95 %",
    ]


def test_tiles_setting():
    assert resolve_tiles("none").url is None
    assert "openstreetmap.fr" in resolve_tiles("osmfr").url
    custom = resolve_tiles("https://tiles.example/{z}/{x}/{y}.png", "© me")
    assert custom.attribution == "© me"
    import pytest

    with pytest.raises(ValueError):
        resolve_tiles("https://tiles.example/no-placeholders.png")
