"""The planner workspace: every layer (published or not), editing and analyses on the
map, downloads of filtered layers, scenarios and key figures, and the printable
dossier (the import wizard is the ``imports`` blueprint)."""

from __future__ import annotations

import base64
from datetime import date

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from ..analysis import (
    DEFAULT_RADIUS_M,
    DETOUR_FACTOR,
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    WALK_KMH,
    walk_minutes,
)
from ..analysis.charts import bar_chart
from ..analysis.dossier import MAP_LAYERS
from ..analysis.filters import filter_query
from ..analysis.suitability import CRITERIA
from ..contributions import AUTHOR as PUBLIC_AUTHOR
from ..errors import BadRequest, NotFound
from ..exports import FORMATS, export_bytes, licence_of
from ..layers import REGISTRY, SYMBOLS, tr
from ..layers.builtin import COMMON_FIELDS
from ..maps import safe_json
from ..maps.options import MapOptions
from ..territory import published_beside
from . import params
from .guards import csrf_token, login_required
from .http import attachment, csv_text, html_page, map_scripts, site
from .mappage import is_remote, map_parts, map_sources, map_ui
from .params import current_lang

bp = Blueprint("planner", __name__, url_prefix="/planner")

# Fields planners do not type in: provenance is set for them, ids are made from names.
HIDDEN_FIELDS = {"id", "source_url", "illustrative"}


def _field_config(f, lang: str) -> dict:
    return {
        "name": f.name,
        "type": f.type,
        "label": tr(f.label, lang),
        "required": f.required,
        "min": f.minimum,
        "max": f.maximum,
        "choices": [[k, tr(v, lang)] for k, v in (f.choices or {}).items()],
    }


def form_fields(spec) -> list:
    """The fields of a layer's form: what the place is first (its name, kind,
    status…), then where the information comes from (source, date, precision)."""
    shown = [f for f in spec.fields if f.name not in HIDDEN_FIELDS]
    common = {f.name for f in COMMON_FIELDS}
    return [f for f in shown if f.name not in common] + [
        f for f in shown if f.name in common
    ]


def editable_layers(lang: str) -> dict:
    """The layers planners edit: title, geometry and the fields of their form."""
    return {
        spec.name: {
            "title": tr(spec.title, lang),
            "geometry": spec.geometry,
            "fields": [_field_config(f, lang) for f in form_fields(spec)],
        }
        for spec in REGISTRY.values()
        if spec.editable
    }


def editor_strings() -> dict:
    """Interface strings of planner.js, in the page language."""
    return {
        "new": _("New"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "delete": _("Delete"),
        "restore": _("Restore this version"),
        "undelete": _("Restore"),
        "saved": _("Saved."),
        "deleted": _("Deleted. You can restore it from the list of deleted items."),
        "conflict": _(
            "Someone else saved this item first. Their version is now "
            "shown on the map; your changes are kept in the form: check "
            "them and save again."
        ),
        "invalid": _("Some values need correcting."),
        "required": _("Required."),
        "tooLow": _("Must be at least %(min)s."),
        "tooHigh": _("Must be at most %(max)s."),
        "notNumber": _("A number is needed."),
        "clickMap": _(
            "Click on the map where the site is, or give its place below "
            "(coordinates, the centre of the map, the arrow keys)."
        ),
        "clickCorners": _(
            "Click the corners of the perimeter on the map, or add them in the "
            "list below (at least three corners)."
        ),
        "dragHint": _(
            "Drag the site or the corners, type their coordinates or move them "
            "with the arrow keys, then save."
        ),
        **place_strings(),
        "history": _("History"),
        "noHistory": _("No change recorded yet."),
        "deletedItems": _("Deleted items"),
        "nothingDeleted": _("Nothing deleted."),
        "badFile": _("This file is not a GeoJSON polygon."),
        "error": _("The server refused the change:"),
        "outside": _("Outside the study area."),
        "actions": {
            "add": _("created"),
            "update": _("changed"),
            "delete": _("deleted"),
            "restore": _("restored"),
        },
        "by": _("by"),
        "version": _("version"),
        # an accepted contribution of the public: its own words in the history
        "publicAuthor": PUBLIC_AUTHOR,
        "fromPublic": _("corrected after a public contribution"),
        "addedFromPublic": _("added after a public contribution"),
        **import_history_strings(),
    }


def import_history_strings() -> dict:
    """Words of an import in a feature's history, and of undoing it."""
    return {
        "importedFrom": _("imported from the file “%(file)s”"),
        "undoImport": _("Undo this whole import"),
        "undoConfirm": _(
            "Undo the whole import of “%(file)s”: the features it added are removed, "
            "those it changed or removed come back. Continue?"
        ),
        "undone": _(
            "Import undone: %(removed)s removed, %(restored)s restored, "
            "%(undeleted)s brought back."
        ),
        "undoConflict": _(
            "This import cannot be undone: features it wrote have changed since (%(error)s)."
        ),
    }


def example_place() -> dict:
    """The coordinates help texts give as an example: the centre of the territory's
    initial view (``lat``, ``lon``, four decimals)."""
    lat, lon = site().view.center
    return {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}"}


def place_strings() -> dict:
    """Words of planner.js for places typed or moved by keyboard."""
    return {
        "location": _("Place"),
        "locationHint": _(
            "Click the map, type the coordinates (WGS84 degrees, e.g. %(lat)s and "
            "%(lon)s), or take the centre of the map.",
            **example_place(),
        ),
        "latitude": _("Latitude"),
        "longitude": _("Longitude"),
        "address": _("Address, quarter or commune"),
        "findAddress": _("Find"),
        "addressHint": _(
            "Addresses come from the Base Adresse Nationale once an administrator "
            "has imported it; quarters and communes are always there."
        ),
        "noAddress": _("No address, quarter or commune found."),
        "addressesFound": _("Places found: choose one."),
        "placeHere": _("Place at these coordinates"),
        "useCentre": _("Use the centre of the map"),
        "nudge": _("Move with the arrow keys"),
        "nudgeHelp": _(
            "With this button focused, the arrow keys move the place by 10 m "
            "(Shift: 100 m, Alt: 1 m)."
        ),
        "badCoordinates": _(
            "Type a latitude (-90 to 90) and a longitude (-180 to 180), "
            "e.g. %(lat)s and %(lon)s.",
            **example_place(),
        ),
        "noPlace": _("The place is missing."),
        "tooFewCorners": _("A perimeter needs at least three corners."),
        "corners": _("Corners"),
        "cornersHint": _(
            "Each corner by its coordinates; the arrow keys move the corner whose "
            "button is focused."
        ),
        "corner": _("Corner"),
        "part": _("Part"),
        "addCorner": _("Add a corner at the centre of the map"),
        "insertCorner": _("Insert a corner after this one"),
        "removeCorner": _("Remove this corner"),
        "noCorner": _("No corner yet."),
    }


def editor_config(lang: str) -> dict:
    """What planner.js needs: the editable layers' fields, URLs, strings, token."""
    return {
        "analysis": analysis_config(lang),
        "csrf": csrf_token(),
        "user": g.user["name"],
        "area": list(site().area.bounds),
        "layers": editable_layers(lang),
        "urls": {
            "features": url_for("api.feature_create", name="__layer__"),
            "deleted": url_for("api.layer_deleted", name="__layer__"),
            "places": url_for("api.places"),
            "undoImport": url_for("api.import_undo", name="__layer__"),
        },
        "i18n": editor_strings(),
    }


def _choices(layer: str, field: str, lang: str) -> list:
    return [[k, tr(v, lang)] for k, v in REGISTRY[layer].field(field).choices.items()]


def filter_config(lang: str) -> dict:
    """The planner's filters: parameter -> [label, [[value, label], …]]."""
    fibre_classes = REGISTRY["fibre"].classes
    return {
        "companies.sector": [_("Sector"), _choices("companies", "sector", lang)],
        "companies.headcount_class": [
            _("Headcount class"),
            _choices("companies", "headcount_class", lang),
        ],
        "companies.commune_code": [
            _("Commune (INSEE code)"),
            [[c, c] for c in site().communes()],
        ],
        "coworking.status": [
            _("Coworking status"),
            _choices("coworking", "status", lang),
        ],
        "schools.kind": [_("Kind of school"), _choices("schools", "kind", lang)],
        "fibre.coverage_class": [
            _("Fibre coverage class"),
            [[str(i), c.label] for i, c in enumerate(fibre_classes)],
        ],
    }


def criteria_labels() -> list[list[str]]:
    """The suitability criteria and what each measures, in the page language."""
    labels = {
        "jobs": _("Digital jobs within walking distance"),
        "training": _("Training places within walking distance"),
        "fibre": _("Fibre coverage"),
        "station": _("Near a railway station"),
        "underserved": _("Far from existing coworking (under-served)"),
    }
    return [[k, labels[k]] for k in CRITERIA]


def analysis_strings() -> dict:
    """Interface strings of analysis.js, in the page language."""
    return {
        "companies": _("Digital establishments"),
        "jobs": _("Estimated jobs"),
        "withoutHeadcount": _("without a headcount class"),
        "schools": _("Training places"),
        "students": _("Students"),
        "withoutStudents": _("without a student count"),
        "coworking": _("Coworking places"),
        "desks": _("Desks"),
        "fibre": _("Fibre coverage"),
        "station": _("Nearest station"),
        "unknown": _("unknown"),
        "measure": _("Click the map to measure"),
        "rank": _("Rank"),
        "score": _("Score"),
        "place": _("Place"),
        "showOnMap": _("Show on the map"),
        "name": _("Name"),
        "layer": _("Layer"),
        "status": _("Status"),
        "suitability": _("Suitability"),
        "computing": _("Computing…"),
        "scoreLegend": _("Suitability score"),
        "whole": _("Whole area"),
        "perimeter": _("Perimeter"),
        "ftth": _("Share of premises with FTTH"),
        "illustrative": _(
            "Fibre figures are illustrative until ARCEP data is imported."
        ),
        "openPlanned": _("open / planned"),
        "error": _("The analysis failed:"),
        "csvFr": _("CSV for French spreadsheets"),
        "gpkgL93": _("GeoPackage in Lambert-93"),
        **results_strings(),
        **timeline_strings(),
    }


def results_strings() -> dict:
    """Words of the results panel, the filters indicator and the measuring form."""
    return {
        "hideResults": _("Hide the results"),
        "showResults": _("Show the results"),
        "oneFilter": _("1 active filter"),
        "filtersActive": _("%(n)s active filters"),
        "filtersReset": _("Filters reset: every feature is shown."),
        "within": _("Within %(m)s m on foot"),
        "withinDistance": _("Within %(distance)s"),
        # the public card's words for a distance and a walk (one wording everywhere)
        "crowFlies": _("{distance} as the crow flies"),
        "walkMinutes": _("about {n} min on foot"),
        "walkHours": _("about {h} h {m} on foot"),
        "walkLong": _("more than 2 hours on foot"),
        "jobsLeftOut": _("%(n)s more from press figures, not counted"),
        "communeLevelOnly": _(
            "Companies located at commune level only (not counted above)"
        ),
        "indicator": _("Indicator"),
        "value": _("Value"),
        "dossier": _("Printable dossier"),
        "dossierShort": _("Dossier"),
        "catchmentCleared": _("Catchment cleared."),
        "badCoordinates": _(
            "Type a latitude (-90 to 90) and a longitude (-180 to 180), "
            "e.g. %(lat)s and %(lon)s.",
            **example_place(),
        ),
        "outside": _("Outside the study area."),
        "showGrid": _("Show the grid"),
        "gridCleared": _("Suitability grid cleared."),
        "shares": _("Share of each criterion"),
        "chartAlt": _("Estimated digital jobs by sector"),
        **unknown_strings(),
    }


def unknown_strings() -> dict:
    """Words for values the data lacks, criteria left out, active filters and
    the suitability areas."""
    return {
        "unknownOf": _("unknown (%(n)s without a value)"),
        "withoutValue": _("%(n)s without a value"),
        "leftOut": _(
            "Left out for want of data: %(criteria)s. The other weights are "
            "renormalised to %(weights)s."
        ),
        "activeFilters": _("Active filters: %(list)s."),
        "noFilter": _("No filter: every feature counts."),
        "area": _("Area"),
        "oneCell": _("1 cell"),
        "cellsN": _("%(n)s cells"),
        "near": _("near %(name)s"),
        "jobsBasisAll": _("press head counts included"),
        "onMap": _("On the map"),
        "publishedFigure": _("Published for the territory"),
        "about": _("about"),
        "publishedSource": _("source, %(date)s"),
    }


def timeline_strings() -> dict:
    """Words of the ecosystem over time (the tab and the year slider)."""
    return {
        "chartTimeline": _(
            "Establishments existing at the end of each year (light bars) and "
            "created in the year (dark bars); the table below gives the figures."
        ),
        "unknownDates": _(
            "Date unknown: %(n)s of %(total)s establishments (not counted by year)."
        ),
        "noClosures": _(
            "Only establishments still active at the date of the data are in the "
            "layer: closures are not known, so the net change equals the creations."
        ),
        "existingEnd": _("Existing at the end of the year"),
        "created": _("Created"),
        "net": _("Net change"),
        "year": _("Year"),
        "yearSlider": _("Establishments existing at the end of"),
        "existingHidden": _(
            "%(n)s at the end of %(year)s; %(unknown)s of unknown date not shown."
        ),
        "existingAll": _("%(n)s with a known date; %(unknown)s of unknown date."),
    }


def analysis_urls() -> dict:
    """The JSON twins and downloads analysis.js calls."""
    return {
        "catchment": url_for("analysis.catchment"),
        "suitability": url_for("analysis.suitability"),
        "scenarios": url_for("analysis.scenarios"),
        "figures": url_for("analysis.figures"),
        "scenariosCsv": url_for("planner.scenarios_csv"),
        "figuresCsv": url_for("planner.figures_csv"),
        "figuresSvg": url_for("planner.figures_svg"),
        "timeline": url_for("analysis.timeline"),
        "dossier": url_for("planner.dossier"),
        "export": url_for("planner.export", name="__layer__", fmt="__fmt__"),
    }


def analysis_config(lang: str) -> dict:
    """Filters, criteria and endpoints the analysis tools of planner.js need."""
    return {
        "filters": filter_config(lang),
        "criteria": criteria_labels(),
        "statuses": {
            name: dict(_choices(name, "status", lang))
            for name in ("coworking", "perimeters")
        },
        "sectors": dict(_choices("companies", "sector", lang)),
        "defaults": {
            "radius": DEFAULT_RADIUS_M,
            "min": MIN_RADIUS_M,
            "max": MAX_RADIUS_M,
            "cell": current_app.config["SUITABILITY_CELL_M"],
            "minCell": params.MIN_CELL_M,
            "maxCell": params.MAX_CELL_M,
        },
        # how a walk is estimated from a distance, as the server does (walk_minutes)
        "walking": {"speed_kmh": WALK_KMH, "detour_factor": DETOUR_FACTOR},
        "urls": analysis_urls(),
        "layers": [[n, tr(s.title, lang)] for n, s in REGISTRY.items()],
        "area": list(site().area.bounds),
        "t": analysis_strings(),
    }


@bp.get("/")
@login_required()
def index():
    """The workspace: a sidebar of tools beside the map of every layer."""
    lang = current_lang()
    layers = {}
    for name, spec in REGISTRY.items():
        if spec.editable:  # fetched, unpublished ones included, so edits show at once
            url = url_for("api.layer_geojson", name=name, include="unpublished")
            layers[name] = (spec, url)
        elif spec.public and is_remote(name):
            # too large to inline (a million companies): drawn as on the public
            # map, from the published snapshot's compact arrays (or by URL)
            layers[name] = (spec, map_sources(MapOptions(), [name])[0][name][1])
        else:
            layers[name] = (spec, site().store.read(name))
    opts = MapOptions().at(site().view)
    ui = map_ui(
        opts.center,
        opts.zoom,
        collapsed=True,
        places=url_for("api.places"),
        placeContext=url_for("api.place_here"),
    )
    parts = map_parts(
        layers, lang, site().tiles, ui, opts.center, opts.zoom, gestures=False
    )
    filters = filter_config(lang)
    html = render_template(
        "planner/index.html",
        map=parts,
        lang=lang,
        config=safe_json(editor_config(lang)),
        # drawn with the page, not after it: nothing below them moves as it loads
        filters=filters,
        chosen={k: request.args.get(k, "").split(",") for k in filters},
    )
    return html_page(html, private=True, scripts=map_scripts(parts))


# --- downloads: filtered layers, scenarios, key figures --------------------------


def _dated(stem: str, ext: str) -> str:
    return f"mapapp-{stem}-{date.today().isoformat()}.{ext}"


@bp.get("/export/<name>.<fmt>")
@bp.get("/export/<name>.fr.csv", defaults={"fmt": "fr.csv"})
@login_required()
def export(name: str, fmt: str):
    """The planner's filtered selection of a layer as GeoJSON, CSV (RFC 4180 or for
    French spreadsheets) or GeoPackage; ``crs=EPSG:2154`` for Lambert-93."""
    if name not in REGISTRY:
        raise NotFound(_("Unknown layer %(name)s.", name=name))
    if fmt not in FORMATS:
        raise BadRequest(_("Unknown format %(fmt)s: geojson, csv or gpkg.", fmt=fmt))
    crs = params.download_crs(request.args)
    frame = site().filtered(name, params.analysis_filters(request.args))
    meta = site().layer_metadata(name, frame, current_lang())
    body = export_bytes(frame, name, fmt, meta, crs, current_lang())
    stem = f"{name}-{crs.replace(':', '')}" if crs else name
    return attachment(body, FORMATS[fmt], _dated(stem, fmt))


@bp.get("/scenarios.csv")
@login_required()
def scenarios_csv():
    """The scenario comparison table as CSV."""
    args = request.args
    filters = params.analysis_filters(args)
    cell = params.cell(args, int(current_app.config["SUITABILITY_CELL_M"]))
    rows = site().scenarios(
        filters,
        params.radius(args),
        params.weights(args),
        cell,
        params.jobs_basis(args),
    )
    return attachment(csv_text(rows), "text/csv", _dated("scenarios", "csv"))


def _sector_label(sector: str, lang: str) -> str:
    field = REGISTRY["companies"].field("sector")
    return tr(field.choices.get(sector), lang) or sector


def figure_rows(figures: dict, lang: str) -> list[dict]:
    """The key figures as (indicator, value) rows in the page language."""
    rows = [
        (_("Digital establishments"), figures["establishments"]),
        (_("Estimated jobs"), figures["jobs_estimate"]),
    ]
    for sector, v in figures["by_sector"].items():
        label = _sector_label(sector, lang)
        rows.append((_("Establishments: %(s)s", s=label), v["establishments"]))
        rows.append((_("Estimated jobs: %(s)s", s=label), v["jobs_estimate"]))
    rows += [
        (_("Training places"), figures["training_places"]),
        (_("Students (where known)"), figures["students"]),
        (_("Coworking places open"), figures["coworking_open"]),
        (_("Coworking places planned"), figures["coworking_planned"]),
        (_("Desks open"), figures["desks_open"]),
        (_("Desks planned"), figures["desks_planned"]),
        (_("Premises"), figures["premises"]),
        (_("FTTH-ready premises"), figures["ftth_premises"]),
        (_("Share of premises with FTTH"), figures["ftth_share"]),
    ]
    return [{"indicator": k, "value": v} for k, v in rows]


def _figures() -> tuple[dict, str]:
    """(key figures, scope name) of the request's filters and ``perimeter``."""
    filters = params.analysis_filters(request.args)
    figures = site().key_figures(
        filters, request.args.get("perimeter"), params.jobs_basis(request.args)
    )
    return figures, figures.get("name") or _("Whole area")


@bp.get("/figures.csv")
@login_required()
def figures_csv():
    """Key figures (whole area or ``perimeter=<id>``) as CSV."""
    figures, scope = _figures()
    rows = [{"scope": scope, **r} for r in figure_rows(figures, current_lang())]
    return attachment(csv_text(rows), "text/csv", _dated("key-figures", "csv"))


@bp.get("/figures.svg")
@login_required()
def figures_svg():
    """Estimated digital jobs by sector as an SVG bar chart."""
    lang = current_lang()
    figures, scope = _figures()
    spec = REGISTRY["companies"]
    bars = [
        (_sector_label(s, lang), v["jobs_estimate"], spec.color_of(s))
        for s, v in figures["by_sector"].items()
    ]
    note = ""
    if figures.get("jobs_left_out") and figures.get("jobs_basis") != "all":
        note = _(
            "Register headcount bands only: %(n)s more jobs from press figures are "
            "not counted.",
            n=format_number(figures["jobs_left_out"], lang),
        )
    svg = bar_chart(
        _("Estimated digital jobs by sector – %(scope)s", scope=scope),
        sorted(bars, key=lambda b: -1 if b[1] is None else -b[1]),
        note=note,
        unknown=_("unknown"),
    )
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the printable dossier: whole area, a perimeter or a planned site -------------


def format_number(value: float, lang: str, digits: int = 0) -> str:
    """A number as the page language writes it (``1 234,5`` or ``1,234.5``)."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def distance_words(metres: float, lang: str) -> str:
    """One distance wording everywhere (the public card's, map.js distanceText):
    "1,2 km as the crow flies · about 18 min on foot"."""
    if metres < 1000:
        distance = f"{round(metres / 10) * 10:.0f} m"
    else:
        distance = format_number(metres / 1000, lang, 1) + " km"
    minutes = walk_minutes(metres)
    if minutes > 120:
        walk = _("more than 2 hours on foot")
    elif minutes < 60:
        walk = _("about {n} min on foot").format(n=minutes)
    else:
        walk = _("about {h} h {m} on foot").format(
            h=minutes // 60, m=f"{minutes % 60:02d}"
        )
    return _("{distance} as the crow flies").format(distance=distance) + " · " + walk


def distance_short(metres: float, lang: str) -> str:
    """The same distance in a table cell, whose header says "as the crow flies ·
    on foot": "1,2 km · 18 min"."""
    words = distance_words(metres, lang)
    distance = words.split(" ")[0] + " " + words.split(" ")[1]
    minutes = walk_minutes(metres)
    walk = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d}"
    return f"{distance} · {walk}" if minutes <= 120 else f"{distance} · > 2 h"


def walking_note(lang: str) -> str:
    """How distances and walking times are measured (the dossier's caveats)."""
    return _(
        "Distances as the crow flies; times on foot estimated at {speed} km/h "
        "on a path {detour} times as long as the straight line."
    ).format(
        speed=format_number(WALK_KMH, lang, 1),
        detour=format_number(DETOUR_FACTOR, lang, 1),
    )


def legend_symbol(spec) -> str | None:
    """The SVG points (12 px box) of a point layer's symbol, drawn from the one
    symbol table the web map and the printed map use (layers.SYMBOLS); "" for the
    circle, None for a layer of areas."""
    if spec.geometry != "Point":
        return None
    points = SYMBOLS[spec.symbol].points
    if points is None:
        return ""
    return " ".join(f"{6 + 4.2 * x:.2f},{6 + 4.2 * y:.2f}" for x, y in points)


def dossier_labels(lang: str) -> dict:
    """Layer titles, sector and status labels and the legend of a dossier."""
    legend = []
    for name in MAP_LAYERS:
        spec = REGISTRY[name]
        items = (
            [(c.label, c.color) for c in spec.classes]
            or [(tr(c.label, lang), c.color) for c in spec.categories]
            or [(tr(spec.title, lang), spec.color)]
        )
        legend.append(
            {
                "title": tr(spec.title, lang),
                "items": items,
                "symbol": legend_symbol(spec),
            }
        )
    return {
        "legend": legend,
        "titles": {n: tr(s.title, lang) for n, s in REGISTRY.items()},
        "sectors": dict(_choices("companies", "sector", lang)),
        "statuses": {
            n: dict(_choices(n, "status", lang)) for n in ("coworking", "perimeters")
        },
    }


@bp.get("/dossier")
@login_required()
def dossier():
    """The printable dossier (A4) of the whole area, or of a site or a perimeter
    (``layer``/``id``): ``?print=1`` opens the print dialog."""
    args, lang = request.args, current_lang()
    filters, radius = params.analysis_filters(args), params.radius(args)
    cell = params.cell(args, int(current_app.config["SUITABILITY_CELL_M"]))
    result = site().dossier(
        filters,
        params.catchment_target(args),
        radius,
        params.weights(args),
        cell,
        params.jobs_basis(args),
    )
    if result["scope"].kind == "area":
        result["scope"].name = _("Whole area")
    html = render_template(
        "planner/dossier.html",
        lang=lang,
        d=result,
        map_src="data:image/png;base64," + base64.b64encode(result["map_png"]).decode(),
        fmt=lambda v, digits=0: format_number(v, lang, digits),
        distance=lambda m: distance_words(m, lang),
        distance_short=lambda m: distance_short(m, lang),
        walking_note=walking_note(lang),
        published=published_beside(site().territory.figures, lang),
        left_out_labels=", ".join(
            dict(criteria_labels())[c] for c in result.get("left_out", [])
        ),
        filters=filter_query(filters),
        licences={
            name: " ; ".join(licence_of(key, lang)["title"] for key in keys)
            for name, keys in result["licence_keys"].items()
        },
        **dossier_labels(lang),
    )
    return html_page(html, private=True)
