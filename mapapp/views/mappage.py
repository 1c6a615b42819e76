"""Map pages shared by the public map, its embed and the planner workspace: the
interface strings map.js shows, and the folium map rendered into template parts."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

from ..layers import REGISTRY
from ..maps import build_map, split_rendered
from ..maps.compact import OVERVIEW_CELL, TILE_ZOOMS
from ..maps.options import MapOptions
from ..maps.tiles import TileConfig
from .http import site
from .strings import map_strings, territory_words


def ui_strings(lang: str) -> dict:
    """Interface strings map.js shows, in the page language."""
    return {
        "lang": lang,
        "locale": "fr-FR" if lang == "fr" else "en-GB",
        "approximate": _("Approximate location"),
        "illustrative": _("Illustrative values"),
        "source": _("Source"),
        "yes": _("yes"),
        "no": _("no"),
        "loadError": _("Could not load the layer"),
        "legend": _("Legend"),
        "layers": _("Layers"),
        "search": _("Search a place"),
        "searchLabel": _("Search by name"),
        "noResult": _("No result"),
        "results": _("results"),
        "fullscreen": _("Full screen"),
        "exitFullscreen": _("Leave full screen"),
        "locate": _("Show my location"),
        "locateError": _("Location unavailable"),
        "reset": _("Initial view"),
        "streetLevel": _("Located on the street only"),
        "communeLevel": _("Located at commune level only"),
        "communeNote": _(
            "No source gives an address or a quarter: listed by commune, not "
            "drawn as a point."
        ),
        "nafInferred": _("inferred from the activity"),
        "confirmed": _("Confirmed by a source of"),
        "communeCount": _("features located at commune level only"),
        "communeCountOne": _("feature located at commune level only"),
        "overviewLabel": _(
            "{title}: {n} features in view, in {groups} groups; zoom in to see the "
            "points"
        ),
        # an overview's biggest circles are buttons: "12,340 features of
        # “Digital companies” 1.2 km north-east of the centre of the view: zoom in"
        "cellLabel": _("{n} features of “{title}” {where}: zoom in"),
        "cellZoomed": _("Zoomed in on {n} features of “{title}”"),
        "viewCentre": _("at the centre of the view"),
        "fromViewCentre": _("{distance} {direction} of the centre of the view"),
        "directions": {
            "n": _("north"),
            "ne": _("north-east"),
            "e": _("east"),
            "se": _("south-east"),
            "s": _("south"),
            "sw": _("south-west"),
            "w": _("west"),
            "nw": _("north-west"),
        },
        **map_strings(territory_words(site().territory, lang)),
    }


def gesture_text() -> dict:
    """What Leaflet.GestureHandling says when one finger or the wheel would scroll."""
    return {
        "touch": _("Use two fingers to move the map"),
        "scroll": _("Use ctrl + scroll to zoom the map"),
        "scrollMac": _("Use \u2318 + scroll to zoom the map"),
    }


def map_ui(center: tuple[float, float], zoom: int, **options) -> dict:
    """The controls and behaviour of a map page for map.js: every control on, the
    view kept in the URL, the initial view as home; ``options`` override these."""
    return {
        "legend": True,
        "search": True,
        "fullscreen": True,
        "locate": True,
        "reset": True,
        "permalink": True,
        "collapsed": False,
        "visible": None,
        "home": {"center": list(center), "zoom": zoom},
        **options,
    }


def map_parts(
    layers: dict,
    lang: str,
    tiles: TileConfig,
    ui: dict,
    center: tuple[float, float],
    zoom: int,
    gestures: bool,
) -> dict[str, str]:
    """The folium map of ``layers`` (name -> (spec, source)) as template parts."""
    m = build_map(
        layers,
        lang,
        tiles,
        {"i18n": ui_strings(lang), **ui},
        asset_prefix=url_for("public.index").rstrip("/") + "/assets",
        center=center,
        zoom=zoom,
        gestureHandling=gestures,
        # a long press asks about a place on every touch browser (Leaflet turns it
        # into a contextmenu, as a right click is; it does so on Safari only by
        # default, other browsers send their own, which map.js does not count twice)
        tapHold=True,
        gestureHandlingOptions={"text": gesture_text(), "duration": 1200},
    )
    return split_rendered(m)


# from this zoom level on, a layer shown as an overview loads its points...
OVERVIEW_ZOOM = 13
# ...once the view holds at most this many of them (by the overview's counts, as a
# whole layer of that many is drawn as an overview: OVERVIEW_MIN_FEATURES), and
# always at the finest tile level: a phone opening on a million companies at zoom
# 13 had 680,000 of them in view, 1.5 MB of tiles to load on a slow link, for
# circles of counts that the overview draws from 1.3 kB
POINTS_IN_VIEW = 200_000


def remote_source(name: str, version: int) -> dict:
    """URLs map.js uses for a large point layer (compact arrays, items, search;
    for a very large one, the overview it draws first)."""
    source = {
        "points": url_for("api.layer_points", name=name, v=version),
        "binary": url_for("api.layer_points_binary", name=name, v=version),
        "item": url_for("api.layer_item", name=name, index=0, v=version).replace(
            "/items/0?", "/items/{index}?"
        ),
        "search": url_for("api.search", layers=name),
    }
    if site().published_count(name) > int(current_app.config["OVERVIEW_MIN_FEATURES"]):
        source["overview"] = url_for("api.layer_overview", name=name, v=version)
        source["overviewZoom"] = OVERVIEW_ZOOM
        # zoomed in, the points of the tiles in view (api.layer_tile), of the
        # level of the map's zoom from OVERVIEW_ZOOM to the finest there is
        source["tiles"] = url_for(
            "api.layer_tile", name=name, z=0, x=0, y=0, v=version
        ).replace("/tiles/0/0/0.bin?", "/tiles/{z}/{x}/{y}.bin?")
        source["tileZooms"] = [OVERVIEW_ZOOM, TILE_ZOOMS[-1]]
        source["pointsInView"] = POINTS_IN_VIEW
        source["overviewCell"] = OVERVIEW_CELL
    return source


def is_remote(name: str) -> bool:
    """True for a layer too large to inline in the map page."""
    limit = int(current_app.config["INLINE_MAX_FEATURES"])
    return site().published_count(name) > limit


def map_sources(opts: MapOptions, include: list[str]) -> tuple[dict, int | None]:
    """(name -> (spec, source)) of a public map, and the position of the feature to
    open in a large layer: small layers inline, large point layers as compact arrays,
    large polygon layers by URL."""
    s = site()
    layers, feature_index = {}, None
    for name in include:
        spec = REGISTRY[name]
        if not is_remote(name):
            frame = s.store.read(name, published_only=True)
            layers[name] = (spec, frame.drop(columns=["published"], errors="ignore"))
        elif spec.geometry == "Point":
            snap = s.snapshot(name)  # the version it serves: maybe the previous one
            layers[name] = (spec, remote_source(name, snap.version))
            if opts.feature and opts.feature.split(":", 1)[0] == name:
                fid = opts.feature.split(":", 1)[1]
                feature_index = snap.index_of(fid)
        else:
            layers[name] = (spec, url_for("api.layer_geojson", name=name))
    return layers, feature_index
