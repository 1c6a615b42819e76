"""Map pages shared by the public map, its embed and the planner workspace: the
interface strings map.js shows, and the folium map rendered into template parts."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from ..maps import build_map, split_rendered
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
