"""The planner workspace: every layer (published or not) and editing on the map."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from ..analysis import DEFAULT_RADIUS_M, MAX_RADIUS_M, MIN_RADIUS_M
from ..analysis.catchments import to_metric
from ..analysis.charts import bar_chart
from ..analysis.dossier import MAP_LAYERS, Scope, dossier
from ..analysis.filters import apply_filters, filter_query
from ..analysis.indicators import key_figures
from ..analysis.suitability import CRITERIA
from ..errors import BadRequest, NotFound
from ..exports import FORMATS, export_bytes, layer_metadata
from ..layers import REGISTRY, tr
from ..maps import build_map, safe_json, split_rendered
from ..maps.options import MapOptions
from . import analysis as analysis_views
from . import content_security_policy, current_lang, get_store
from .auth import csrf_token, login_required
from .public import gesture_text, ui_strings

bp = Blueprint("planner", __name__, url_prefix="/planner")

# Fields planners do not type in: provenance is set for them, ids are made from names.
HIDDEN_FIELDS = {"id", "source_url", "illustrative"}


def editor_config(lang: str) -> dict:
    """What planner.js needs: the editable layers' fields, URLs, strings, token."""
    layers = {}
    for spec in REGISTRY.values():
        if not spec.editable:
            continue
        layers[spec.name] = {
            "title": tr(spec.title, lang),
            "geometry": spec.geometry,
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "label": tr(f.label, lang),
                    "required": f.required,
                    "min": f.minimum,
                    "max": f.maximum,
                    "choices": [[k, tr(v, lang)] for k, v in (f.choices or {}).items()],
                }
                for f in spec.fields
                if f.name not in HIDDEN_FIELDS
            ],
        }
    return {
        "analysis": analysis_config(lang),
        "csrf": csrf_token(),
        "user": g.user["name"],
        "area": list(current_app.config["STUDY_AREA_BBOX"]),
        "layers": layers,
        "urls": {
            "features": url_for("api.feature_create", name="__layer__"),
            "deleted": url_for("api.layer_deleted", name="__layer__"),
        },
        "i18n": {
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
            "location": _("Place"),
            "locationHint": _(
                "Click the map, type the coordinates (WGS84 degrees, e.g. 47.2378 and "
                "6.0241), or take the centre of the map."
            ),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
            "placeHere": _("Place at these coordinates"),
            "useCentre": _("Use the centre of the map"),
            "nudge": _("Move with the arrow keys"),
            "nudgeHelp": _(
                "With this button focused, the arrow keys move the place by 10 m "
                "(Shift: 100 m, Alt: 1 m)."
            ),
            "badCoordinates": _(
                "Type a latitude (-90 to 90) and a longitude (-180 to 180), "
                "e.g. 47.2378 and 6.0241."
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
        },
    }


def analysis_config(lang: str) -> dict:
    """Filters, criteria and endpoints the analysis tools of planner.js need."""
    store = get_store()

    def choices(layer: str, field: str) -> list:
        return [
            [k, tr(v, lang)] for k, v in REGISTRY[layer].field(field).choices.items()
        ]

    communes = sorted(
        c
        for c in store.read("companies", columns=["commune_code"])["commune_code"]
        .dropna()
        .unique()
    )
    return {
        "filters": {
            "companies.sector": [_("Sector"), choices("companies", "sector")],
            "companies.headcount_class": [
                _("Headcount class"),
                choices("companies", "headcount_class"),
            ],
            "companies.commune_code": [
                _("Commune (INSEE code)"),
                [[c, c] for c in communes],
            ],
            "coworking.status": [_("Coworking status"), choices("coworking", "status")],
            "schools.kind": [_("Kind of school"), choices("schools", "kind")],
            "fibre.coverage_class": [
                _("Fibre coverage class"),
                [[str(i), c.label] for i, c in enumerate(REGISTRY["fibre"].classes)],
            ],
        },
        "criteria": [
            [
                k,
                {
                    "jobs": _("Digital jobs within walking distance"),
                    "training": _("Training places within walking distance"),
                    "fibre": _("Fibre coverage"),
                    "station": _("Near a railway station"),
                    "underserved": _("Far from existing coworking (under-served)"),
                }[k],
            ]
            for k in CRITERIA
        ],
        "statuses": {
            name: {
                k: tr(v, lang)
                for k, v in REGISTRY[name].field("status").choices.items()
            }
            for name in ("coworking", "perimeters")
        },
        "sectors": {
            k: tr(v, lang)
            for k, v in REGISTRY["companies"].field("sector").choices.items()
        },
        "defaults": {
            "radius": DEFAULT_RADIUS_M,
            "min": MIN_RADIUS_M,
            "max": MAX_RADIUS_M,
            "cell": current_app.config["SUITABILITY_CELL_M"],
        },
        "urls": {
            "catchment": url_for("api.analysis_catchment"),
            "suitability": url_for("api.analysis_suitability"),
            "scenarios": url_for("api.analysis_scenarios"),
            "figures": url_for("api.analysis_figures"),
            "scenariosCsv": url_for("planner.scenarios_csv"),
            "figuresCsv": url_for("planner.figures_csv"),
            "figuresSvg": url_for("planner.figures_svg"),
            "timeline": url_for("api.analysis_timeline"),
            "dossier": url_for("planner.dossier_page"),
            "export": url_for("planner.export", name="__layer__", fmt="__fmt__"),
        },
        "layers": [[n, tr(s.title, lang)] for n, s in REGISTRY.items()],
        "area": list(current_app.config["STUDY_AREA_BBOX"]),
        "t": analysis_strings(),
    }


def analysis_strings() -> dict:
    """The words of analysis.js, in the page language."""
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
        "hideResults": _("Hide the results"),
        "showResults": _("Show the results"),
        "oneFilter": _("1 active filter"),
        "filtersActive": _("%(n)s active filters"),
        "filtersReset": _("Filters reset: every feature is shown."),
        "within": _("Within %(m)s m on foot"),
        "indicator": _("Indicator"),
        "value": _("Value"),
        "dossier": _("Printable dossier"),
        "catchmentCleared": _("Catchment cleared."),
        "badCoordinates": _(
            "Type a latitude (-90 to 90) and a longitude (-180 to 180), "
            "e.g. 47.2378 and 6.0241."
        ),
        "outside": _("Outside the study area."),
        "showGrid": _("Show the grid"),
        "gridCleared": _("Suitability grid cleared."),
        "shares": _("Share of each criterion"),
        "chartAlt": _("Estimated digital jobs by sector"),
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


@bp.get("/")
@login_required()
def index():
    """The workspace: a sidebar of tools beside the map of every layer."""
    store = get_store()
    lang = current_lang()
    layers = {}
    for name, spec in REGISTRY.items():
        if spec.editable:  # fetched, unpublished ones included, so edits show at once
            layers[name] = (
                spec,
                url_for("api.layer_geojson", name=name, include="unpublished"),
            )
        else:
            layers[name] = (spec, store.read(name))
    opts = MapOptions()
    ui = {
        "i18n": ui_strings(lang),
        "legend": True,
        "search": True,
        "fullscreen": True,
        "locate": True,
        "reset": True,
        "permalink": True,
        "home": {"center": list(opts.center), "zoom": opts.zoom},
        "visible": None,
        "collapsed": True,
    }
    tiles = current_app.extensions["mapapp.tiles"]
    m = build_map(
        layers,
        lang,
        tiles,
        ui,
        asset_prefix=url_for("public.index").rstrip("/") + "/assets",
        center=opts.center,
        zoom=opts.zoom,
        gestureHandling=False,
        gestureHandlingOptions={"text": gesture_text()},
    )
    parts = split_rendered(m)
    html = render_template(
        "planner/index.html",
        map=parts,
        lang=lang,
        config=safe_json(editor_config(lang)),
    )
    response = current_app.response_class(html, mimetype="text/html")
    from . import inline_script_hashes

    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app, inline_script_hashes(html)
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- downloads: filtered layers, scenarios, key figures --------------------------


def _csv_response(rows: list[dict], filename: str):
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    response = current_app.response_class(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _download(body, mimetype: str, filename: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/export/<name>.<fmt>")
@login_required()
def export(name: str, fmt: str):
    """The planner's filtered selection of a layer as GeoJSON, CSV or GeoPackage."""
    if name not in REGISTRY:
        raise NotFound(_("Unknown layer %(name)s.", name=name))
    if fmt not in FORMATS:
        raise BadRequest(_("Unknown format %(fmt)s: geojson, csv or gpkg.", fmt=fmt))
    filters = analysis_views.request_filters()
    frame = apply_filters(name, get_store().read(name), filters)
    body = export_bytes(frame, name, fmt, layer_metadata(frame))
    return _download(
        body, FORMATS[fmt], f"mapapp-{name}-{date.today().isoformat()}.{fmt}"
    )


@bp.get("/scenarios.csv")
@login_required()
def scenarios_csv():
    """The scenario comparison table as CSV."""
    from .api import scenario_rows

    filters = analysis_views.request_filters()
    rows = scenario_rows(
        filters,
        analysis_views.radius_from_request(),
        analysis_views.weights_from_request(),
        analysis_views.cell_from_request(),
    )
    return _csv_response(rows, f"mapapp-scenarios-{date.today().isoformat()}.csv")


def _figure_rows(figures: dict, lang: str) -> list[dict]:
    sector_field = REGISTRY["companies"].field("sector")
    rows = [
        {"indicator": _("Digital establishments"), "value": figures["establishments"]},
        {"indicator": _("Estimated jobs"), "value": figures["jobs_estimate"]},
    ]
    for sector, v in figures["by_sector"].items():
        label = tr(sector_field.choices.get(sector), lang) or sector
        rows.append(
            {
                "indicator": _("Establishments: %(s)s", s=label),
                "value": v["establishments"],
            }
        )
        rows.append(
            {
                "indicator": _("Estimated jobs: %(s)s", s=label),
                "value": v["jobs_estimate"],
            }
        )
    rows += [
        {"indicator": _("Training places"), "value": figures["training_places"]},
        {"indicator": _("Students (where known)"), "value": figures["students"]},
        {"indicator": _("Coworking places open"), "value": figures["coworking_open"]},
        {
            "indicator": _("Coworking places planned"),
            "value": figures["coworking_planned"],
        },
        {"indicator": _("Desks open"), "value": figures["desks_open"]},
        {"indicator": _("Desks planned"), "value": figures["desks_planned"]},
        {"indicator": _("Premises"), "value": figures["premises"]},
        {"indicator": _("FTTH-ready premises"), "value": figures["ftth_premises"]},
        {"indicator": _("Share of premises with FTTH"), "value": figures["ftth_share"]},
    ]
    return rows


def _figures(perimeter: str | None):
    filters = analysis_views.request_filters()
    data = analysis_views.prepared(filters)
    if perimeter:
        feature = get_store().get("perimeters", perimeter)
        return key_figures(data, to_metric(feature["geometry"])), feature["properties"][
            "name"
        ]
    return key_figures(data), _("Whole area")


@bp.get("/figures.csv")
@login_required()
def figures_csv():
    """Key figures (whole area or ``perimeter=<id>``) as CSV."""
    figures, scope = _figures(request.args.get("perimeter"))
    rows = [{"scope": scope, **row} for row in _figure_rows(figures, current_lang())]
    return _csv_response(rows, f"mapapp-key-figures-{date.today().isoformat()}.csv")


@bp.get("/figures.svg")
@login_required()
def figures_svg():
    """Estimated digital jobs by sector as an SVG bar chart."""
    lang = current_lang()
    figures, scope = _figures(request.args.get("perimeter"))
    spec = REGISTRY["companies"]
    bars = [
        (
            tr(spec.field("sector").choices.get(s), lang) or s,
            v["jobs_estimate"],
            spec.color_of(s),
        )
        for s, v in figures["by_sector"].items()
    ]
    svg = bar_chart(
        _("Estimated digital jobs by sector – %(scope)s", scope=scope),
        sorted(bars, key=lambda b: -b[1]),
    )
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the printable dossier: whole area, a perimeter or a planned site -------------


def _dossier_scope() -> Scope:
    """The scope from ``layer``/``id`` (a perimeter or a coworking site), else the
    whole area."""
    layer, fid = request.args.get("layer"), request.args.get("id")
    if not layer and not fid:
        return Scope("area", _("Whole area"))
    if layer not in ("coworking", "perimeters") or not fid:
        raise BadRequest(
            _(
                "Parameters layer and id: give layer=coworking or "
                "layer=perimeters and the id of one of its items."
            )
        )
    feature = get_store().get(layer, fid)
    kind = "perimeter" if layer == "perimeters" else "site"
    return Scope(
        kind, feature["properties"].get("name") or fid, fid, feature["geometry"]
    )


def format_number(value: float, lang: str, digits: int = 0) -> str:
    """A number as the page language writes it (``1 234,5`` or ``1,234.5``)."""
    text = f"{value:,.{digits}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _legend(lang: str) -> list[dict]:
    out = []
    for name in MAP_LAYERS:
        spec = REGISTRY[name]
        items = (
            [(c.label, c.color) for c in spec.classes]
            if spec.classes
            else [(tr(c.label, lang), c.color) for c in spec.categories]
        ) or [(tr(spec.title, lang), spec.color)]
        out.append({"name": name, "title": tr(spec.title, lang), "items": items})
    return out


@bp.get("/dossier")
@login_required()
def dossier_page():
    """The printable dossier (A4): static map, key figures, catchment, timeline,
    legend, sources and warnings; ``?print=1`` opens the print dialog."""
    lang = current_lang()
    filters = analysis_views.request_filters()
    radius = analysis_views.radius_from_request()
    scope = _dossier_scope()
    frames = analysis_views.filtered_layers(filters)
    result = dossier(analysis_views.prepared(filters), frames, REGISTRY, scope, radius)
    scenarios = None
    if scope.kind == "area":
        from .api import scenario_rows

        scenarios = scenario_rows(
            filters, radius, analysis_views.weights_from_request(), 250
        )
    html = render_template(
        "planner/dossier.html",
        lang=lang,
        d=result,
        fmt=lambda v, digits=0: format_number(v, lang, digits),
        scenarios=scenarios,
        map_src="data:image/png;base64,"
        + base64.b64encode(result["map_png"]).decode("ascii"),
        legend=_legend(lang),
        titles={n: tr(s.title, lang) for n, s in REGISTRY.items()},
        sectors={
            k: tr(v, lang)
            for k, v in REGISTRY["companies"].field("sector").choices.items()
        },
        statuses={
            n: {k: tr(v, lang) for k, v in REGISTRY[n].field("status").choices.items()}
            for n in ("coworking", "perimeters")
        },
        filters=filter_query(filters),
    )
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    return response
