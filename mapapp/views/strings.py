"""Interface strings of the map's cards, panels, search and help (map.js shows them).

English here, French in the catalogue; ``{name}`` placeholders are filled by map.js.
"""

from __future__ import annotations

from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _

from ..analysis import DETOUR_FACTOR, WALK_KMH
from ..layers import tr
from .params import LANGS


def frame_title(words: dict) -> str:
    """The title of an <iframe> showing the map (embed codes), in the current
    language; ``words`` are the territory's (:func:`territory_words`)."""
    return _(
        "Map of the digital economy of %(territory)s", territory=words["short_name"]
    )


def frame_titles(territory) -> dict[str, str]:
    """:func:`frame_title` in every language of the site."""
    titles = {}
    for lang in LANGS:
        with force_locale(lang):
            titles[lang] = frame_title(territory_words(territory, lang))
    return titles


def territory_words(territory, lang: str) -> dict:
    """The territory's names in ``lang`` (a :class:`mapapp.territory.Territory`),
    for the templates and the map's texts."""
    return {
        "name": tr(territory.name, lang),
        "short_name": tr(territory.short_name, lang),
        "organisation": tr(territory.organisation, lang),
        "organisation_url": territory.organisation_url,
        "planners": tr(territory.planners, lang),
        "attribution": tr(territory.attribution, lang),
        "communes": len(territory.communes),
    }


def map_strings(words: dict) -> dict:
    """The strings of the citizen map's controls, in the current language;
    ``words`` are the territory's (:func:`territory_words`)."""
    return {
        "mapLabel": _("Map: arrow keys move it, plus and minus keys zoom"),
        "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
        "layersLegend": _("Layers and legend"),
        "closeCard": _("Close the card"),
        "closePanel": _("Close the panel"),
        "backToList": _("Back to the list"),
        "credits": _("Credits of the base map"),
        "frameTitle": frame_title(words),
        "searchPlaces": _("Name, place or address"),
        "searchPlacesLabel": _("Search by name, quarter, commune or address"),
        "kind_address": _("Address"),
        "kind_quarter": _("Quarter"),
        "kind_iris": _("IRIS zone"),
        "kind_commune": _("Commune"),
        "loading": _("Loading…"),
        **_answer_strings(),
        **_panel_strings(words),
        **_browse_strings(),
    }


def _answer_strings() -> dict:
    """The answer card: what a place has around it."""
    return {
        "kind_point": _("Place chosen on the map"),
        "kind_located": _("Your position"),
        "pointOnMap": _("Place chosen on the map"),
        "yourPosition": _("Your position"),
        "accuracy": _("within {distance}"),
        "outsideArea": _("This place is outside the area of the map: no answer here."),
        "backToAnswer": _("Back to: {place}"),
        "fibreHere": _("Fibre coverage here"),
        "fibreZone": _("{zone}: {coverage} of premises can get fibre ({date})."),
        "fibreCentre": _(
            "{zone}, the fibre zone holding the centre of this place: {coverage} of "
            "premises can get fibre ({date})."
        ),
        "fibreZones": _(
            "The {n} fibre zones of this place together: {coverage} of their "
            "{premises} premises can get fibre ({date})."
        ),
        "fibreZonesList": _("The {n} zones counted"),
        "fibreWithout": _("Zones without a figure, not counted: {n}."),
        "noFigure": _("No figure for this place:"),
        "noFibrePoint": _("no zone of the fibre layer holds it."),
        "noFibreZone": _("no zone of the fibre layer lies in it or holds its centre."),
        "noFibreFigure": _("the fibre zone {zone} has no coverage figure."),
        "unknownValue": _("unknown"),
        "nearestCoworking": _("Nearest open coworking places"),
        "noCoworking": _("No published coworking place."),
        "nearestSchools": _("Nearest schools and training"),
        "noSchool": _("No published school or training place."),
        "nearestStations": _("Nearest stations"),
        "noStation": _("No station on this map."),
        "comingTitle": _("To come"),
        "inCommuneTitle": _("In this commune, place not known"),
        "openingOn": _("opening: {date}"),
        "crowFlies": _("{distance} as the crow flies"),
        "walkMinutes": _("about {n} min on foot"),
        "walkHours": _("about {h} h {m} on foot"),
        "walkLong": _("more than 2 hours on foot"),
        "distanceNote": _(
            "Distances as the crow flies; times on foot estimated at {speed} km/h "
            "on a path {detour} times as long as the straight line."
        ),
        "zoneDistanceNote": _(
            "For a quarter or a commune, distances are measured from a central "
            "point of it."
        ),
    }


def _panel_strings(words: dict) -> dict:
    return {
        "infoButton": _("About"),
        "infoTitle": _("About this map"),
        "infoIntro": _(
            "This map shows the digital economy of %(territory)s: digital "
            "companies, coworking places and third places (open and planned), "
            "schools and training, fibre coverage by quarter, landmarks and the "
            "candidate perimeters of a future digital quarter. Publisher: "
            "%(organisation)s. It loads nothing from other websites.",
            territory=words["name"],
            organisation=words["organisation"],
        ),
        "illustrativeTitle": _("Illustrative values"),
        "illustrativeIntro": _(
            "Some values are not sourced figures but illustrations, flagged on "
            "their cards:"
        ),
        "illustrativeCount": _("{layer}: {n} of {total}"),
        "illustrativeNone": _("No value of the layers shown is illustrative."),
        "sourcesTitle": _("Sources, licence and downloads"),
        "sourcesLabel": _("Sources:"),
        "andMore": _("and {n} more"),
        "latestLabel": _("Latest source date:"),
        "licenceLabel": _("Licence:"),
        "licenceSee": _("see the open data page"),
        "downloadLabel": _("Download:"),
        "openDataPage": _("Open data"),
        "listPage": _("List of places"),
        "shareTitle": _("Share this view"),
        "linkLabel": _("Link to this view"),
        "codeLabel": _("Code to embed this view in a website"),
        "copyLink": _("Copy the link"),
        "copyCode": _("Copy the code"),
        "copied": _("Copied to the clipboard."),
        "copyManual": _("The text is selected: copy it with Ctrl+C (⌘+C)."),
        "helpTitle": _("How to use the map"),
        "help": _help_strings(),
    }


def _help_strings() -> list[str]:
    """The info panel's "How to use the map"."""
    return [
        _(
            "Search a name, a quarter, a commune or an address in the search "
            "box; choose a result to go there and open its card."
        ),
        _(
            "Every place answers: an address, a quarter or a commune found by "
            "the search, your position (the locate button), or any point of "
            "the map (a long press, or a right click) opens a card with the "
            "fibre coverage there, the nearest open coworking places (those to "
            "come apart), schools and training places, and stations."
        ),
        _(
            "Distances are given as the crow flies, with a time on foot "
            "estimated at %(speed)s km/h on a path %(detour)s times as long as "
            "the straight line.",
            speed=format_decimal(WALK_KMH),
            detour=format_decimal(DETOUR_FACTOR),
        ),
        _(
            "The list of places (button “List”) shows the places of the "
            "current view, layer by layer, with the categories of the legend; "
            "each opens its card. It is the keyboard and screen-reader path to "
            "every place."
        ),
        _(
            "Once a place is chosen, the list can put the nearest places first, "
            "with their distance, and widen the view when none is in it."
        ),
        _(
            "With the keyboard: Tab reaches the search, the buttons and the "
            "layers; once the map has the focus, the arrow keys move it and "
            "the plus and minus keys zoom. Escape closes a card."
        ),
        _(
            "Each layer of places has its own shape, shown beside its name in "
            "the legend, so colour is never the only cue; areas are shaded, "
            "perimeters dashed."
        ),
    ]


def _browse_strings() -> dict:
    return {
        "browseButton": _("List"),
        "browseTitle": _("Places in this view"),
        "layerLabel": _("Layer"),
        "categoryLabel": _("Category"),
        "allCategories": _("All categories"),
        "nameLabel": _("Name contains"),
        "nameOrLabel": _("Name or {fields} contains"),
        "orderLabel": _("Order"),
        "orderName": _("By name"),
        "orderNear": _("Nearest first from: {place}"),
        "widenView": _("Widen the view to the nearest ones"),
        "noneAnywhere": _("No place of this layer matches, even outside this view."),
        "inView": _("{n} in this view"),
        "noneInView": _("No place of this layer in this view."),
        "moreInView": _("{n} more: zoom in or choose a category to see them."),
        "layerHidden": _("This layer is hidden."),
        "showLayer": _("Show this layer"),
    }
