"""Build folium maps of the registered layers.

The data never goes through folium's popup or tooltip helpers (they insert text as
HTML, or inside JavaScript template literals, without escaping). Each layer becomes a
:class:`DataLayer` element whose configuration and GeoJSON are serialised with
:func:`safe_json`; the project's ``map.js`` draws them and builds every popup,
tooltip and legend with DOM text nodes, so a name such as ``<img onerror=...>`` or
``${alert(1)}`` is shown as text and never runs.
"""

from __future__ import annotations

import re

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from ..assets import map_assets
from ..layers import SYMBOLS, LayerSpec, tr
from ..text import NOT_STATED
from .geojson import safe_json, to_geojson
from .tiles import TileConfig


class DataLayer(MacroElement):
    """One layer drawn by map.js from inline GeoJSON or from an API URL."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "mapapp.addLayer({{ this._parent.get_name() }}, {{ this.config_json }});\n"
        "{% endmacro %}"
    )

    def __init__(self, config: dict):
        super().__init__()
        self._name = "DataLayer"
        self.config_json = safe_json(config)


class MapFinish(MacroElement):
    """Controls added once every layer is on the map: layer switch, legend, scale."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "mapapp.finish({{ this._parent.get_name() }}, {{ this.options_json }});\n"
        "{% endmacro %}"
    )

    def __init__(self, options: dict):
        super().__init__()
        self._name = "MapFinish"
        self.options_json = safe_json(options)


def new_map(
    tiles: TileConfig,
    asset_prefix: str = "/assets",
    center: tuple[float, float] | None = None,
    zoom: int = 13,
    **options,
) -> folium.Map:
    """An empty map using only this server's scripts; extra options go to L.map.

    Without a ``center`` (lat, lon), :func:`build_map` fits the map to its data."""
    m = folium.Map(
        location=list(center) if center else None,
        zoom_start=zoom,
        tiles=None,
        control_scale=False,
        maxZoom=tiles.max_zoom,
        minZoom=8,
        **options,
    )
    m.default_js, m.default_css = map_assets(
        asset_prefix, gestures=bool(options.get("gestureHandling", True))
    )
    if tiles.url:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name=tiles.name,
            max_zoom=tiles.max_zoom,
            control=False,
        ).add_to(m)
    return m


def layer_config(spec: LayerSpec, lang: str) -> dict:
    """Everything map.js needs to draw, style and explain one layer, in ``lang``."""
    fields = {}
    for name in dict.fromkeys((spec.label_field,) + spec.popup + spec.search_fields):
        f = spec.field(name)
        fields[name] = {
            "label": tr(f.label, lang),
            "type": f.type,
            "choices": {k: tr(v, lang) for k, v in (f.choices or {}).items()},
        }
    config = {
        "name": spec.name,
        "title": tr(spec.title, lang),
        "geometry": spec.geometry,
        "symbol": spec.symbol,
        "shape": SYMBOLS[spec.symbol].points,
        "color": spec.color,
        "cluster": spec.cluster,
        "categoryField": spec.category_field,
        "categories": [
            {"value": c.value, "label": tr(c.label, lang), "color": c.color}
            for c in spec.categories
        ],
        "popup": list(spec.popup),
        "labelField": spec.label_field,
        "fields": fields,
        # what a search matches besides the name, and the words of clauses it skips
        # (text.affirmed, done again by map.js)
        "search": {"fields": list(spec.search_fields), "skip": list(NOT_STATED)},
    }
    if spec.classes:
        config["classField"] = spec.class_field
        config["classes"] = [
            {"min": c.low, "max": c.high, "label": c.label, "color": c.color}
            for c in spec.classes
        ]
    return config


def add_layer(
    m: folium.Map,
    spec: LayerSpec,
    lang: str,
    source: gpd.GeoDataFrame | str | dict,
    visible: bool = True,
) -> folium.Map:
    """Add one layer to ``m``.

    ``source`` is a GeoDataFrame (inlined as GeoJSON), the URL of a GeoJSON layer to
    fetch, or, for large point layers, ``{"points": url, "item": url with {index},
    "search": url}`` (compact arrays, popups fetched on demand, server-side search).
    """
    config = layer_config(spec, lang)
    config["visible"] = visible
    if isinstance(source, gpd.GeoDataFrame):
        config["data"] = to_geojson(source, drop=("version",))
    elif isinstance(source, str):
        config["url"] = source
    elif isinstance(source, dict) and {"points", "item", "search"} <= set(source):
        config["remote"] = source
    else:
        raise ValueError("add_layer needs a GeoDataFrame, a URL or a remote config")
    DataLayer(config).add_to(m)
    return m


def build_map(
    layers: dict[str, tuple[LayerSpec, gpd.GeoDataFrame | str | dict]],
    lang: str,
    tiles: TileConfig,
    ui: dict,
    asset_prefix: str = "/assets",
    m: folium.Map | None = None,
    **options,
) -> folium.Map:
    """A full map: every given layer, then the controls.

    ``layers`` maps names to ``(spec, source)`` (see :func:`add_layer`); ``ui`` holds
    the interface strings and options map.js needs (legend on/off, labels...).
    """
    if m is None:
        m = new_map(tiles, asset_prefix, **options)
        if options.get("center") is None:
            _fit(m, [src for _spec, src in layers.values()])
    visible = ui.get("visible")
    for name, (spec, source) in layers.items():
        add_layer(m, spec, lang, source, visible=visible is None or name in visible)
    MapFinish(ui).add_to(m)
    return m


def _fit(m: folium.Map, sources: list) -> None:
    """Fit the map to the inline frames' extent (as GeoDataFrame.explore does)."""
    frames = [s for s in sources if isinstance(s, gpd.GeoDataFrame) and len(s)]
    if not frames:
        return
    bounds = [(f if f.crs is None else f.to_crs(4326)).total_bounds for f in frames]
    west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
    east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
    m.fit_bounds([[south, west], [north, east]])


_VIEWPORT = re.compile(r"<meta name=\"viewport\".*?/>", re.S)


def split_rendered(m: folium.Map) -> dict[str, str]:
    """Render ``m`` and return its header, body and script parts for a template.

    Folium's viewport tag forbids zooming the page (an accessibility failure,
    WCAG 1.4.4); it is dropped and the page template sets its own.
    """
    root = m.get_root()
    root.render()
    return {
        "header": _VIEWPORT.sub("", root.header.render()),
        "html": root.html.render(),
        "script": root.script.render(),
    }
