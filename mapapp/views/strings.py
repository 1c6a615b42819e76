"""Interface strings of the map's cards, panels, search and help (map.js shows them).

English here, French in the catalogue; ``{name}`` placeholders are filled by map.js.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..layers import tr


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
        "frameTitle": _(
            "Map of the digital economy of %(territory)s",
            territory=words["short_name"],
        ),
        "searchPlaces": _("Name, place or address"),
        "searchPlacesLabel": _("Search by name, quarter, commune or address"),
        "kind_address": _("Address"),
        "kind_quarter": _("Quarter"),
        "kind_iris": _("IRIS zone"),
        "kind_commune": _("Commune"),
        "loading": _("Loading…"),
        "fibreHere": _("Fibre coverage here"),
        "fibreZone": _("{zone}: {coverage} of premises can get fibre ({date})."),
        "noFibre": _("No fibre figure covers this place."),
        "nearestCoworking": _("Nearest coworking places"),
        "noCoworking": _("No published coworking place."),
        "crowFlies": _("{distance} as the crow flies"),
        **_panel_strings(words),
        **_browse_strings(),
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
        "help": [
            _(
                "Search a name, a quarter, a commune or an address in the search "
                "box; choose a result to go there and open its card."
            ),
            _(
                "The list of places (button “List”) shows the places of the "
                "current view, layer by layer, with the categories of the legend; "
                "each opens its card. It is the keyboard and screen-reader path to "
                "every place."
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
        ],
    }


def _browse_strings() -> dict:
    return {
        "browseButton": _("List"),
        "browseTitle": _("Places in this view"),
        "layerLabel": _("Layer"),
        "categoryLabel": _("Category"),
        "allCategories": _("All categories"),
        "nameLabel": _("Name contains"),
        "inView": _("{n} in this view"),
        "noneInView": _("No place of this layer in this view."),
        "moreInView": _("{n} more: zoom in or choose a category to see them."),
        "layerHidden": _("This layer is hidden."),
        "showLayer": _("Show this layer"),
    }
