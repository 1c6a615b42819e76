"""The planner workspace: every layer (published or not) and editing on the map."""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import date
from pathlib import Path

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from ..analysis import DEFAULT_RADIUS_M, MAX_RADIUS_M, MIN_RADIUS_M
from ..analysis.catchments import to_metric
from ..analysis.charts import bar_chart
from ..analysis.filters import apply_filters
from ..analysis.indicators import key_figures
from ..analysis.suitability import CRITERIA
from ..errors import BadRequest, MapappError, NotFound
from ..exports import FORMATS, csv_text, export_bytes, layer_metadata
from ..importers import run_import
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
            "clickMap": _("Click on the map where the site is."),
            "clickCorners": _(
                "Click the corners of the perimeter on the map, then "
                "press Finish (at least three corners)."
            ),
            "finish": _("Finish"),
            "dragHint": _("Drag the site or the corners to move them, then save."),
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
            "export": url_for("planner.export", name="__layer__", fmt="__fmt__"),
        },
        "layers": [[n, tr(s.title, lang)] for n, s in REGISTRY.items()],
        "t": {
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
            "showOnMap": _("Show"),
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
        },
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
    response = current_app.response_class(csv_text(rows), mimetype="text/csv")
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


# --- the admin upload page: preview (dry run), then import -------------------------

IMPORT_KINDS = ("sirene", "education", "fibre", "zones", "generic")


def _upload_dir() -> str:
    path = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


def _import_options(form) -> dict:
    communes = [
        c.strip()
        for c in form.get("communes", "").replace(";", ",").split(",")
        if c.strip()
    ]
    return {
        "communes": communes,
        "edition": form.get("edition") or None,
        "layer": form.get("layer") or None,
        "wide": form.get("wide") == "1",
    }


@bp.route("/import", methods=["GET", "POST"])
@login_required(role="admin")
def import_page():
    """Upload an official file: the report is shown before anything is written."""
    lang = current_lang()
    context = {
        "lang": lang,
        "kinds": IMPORT_KINDS,
        "report": None,
        "error": None,
        "token": None,
        "limit": current_app.config["UPLOAD_MAX_MB"],
        "layers": list(REGISTRY),
        "form": request.form,
    }
    if request.method == "GET":
        return render_template("planner/import.html", **context)
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    limit = int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024
    status = 200
    try:
        if kind not in IMPORT_KINDS:
            raise BadRequest(_("Choose the kind of file."))
        if upload is None or not upload.filename:
            raise BadRequest(_("Choose a file to upload."))
        name = os.path.basename(upload.filename).replace("/", "_")[:120]
        token = secrets.token_urlsafe(16)
        path = os.path.join(_upload_dir(), f"{token}-{name}")
        upload.save(path)
        if os.path.getsize(path) > limit:
            os.unlink(path)
            raise BadRequest(
                _(
                    "%(file)s is larger than %(limit)s MB: import it with "
                    "the command `mapapp import`.",
                    file=name,
                    limit=current_app.config["UPLOAD_MAX_MB"],
                )
            )
        options = _import_options(request.form)
        report = run_import(get_store(), kind, Path(path), dry_run=True, **options)
        report.file = name
        with open(path + ".json", "w", encoding="utf-8") as f:
            json.dump({"kind": kind, "options": options, "name": name}, f)
        context.update(report=report, token=token)
    except MapappError as exc:
        context["error"], status = exc.message, 400
    return render_template("planner/import.html", **context), status


@bp.post("/import/confirm")
@login_required(role="admin")
def import_confirm():
    """Run the import previewed on the upload page (one transaction)."""
    token = request.form.get("token", "")
    matches = (
        [
            f
            for f in os.listdir(_upload_dir())
            if f.startswith(f"{token}-") and not f.endswith(".json")
        ]
        if re.fullmatch(r"[\w-]{10,40}", token)
        else []
    )
    context = {
        "lang": current_lang(),
        "kinds": IMPORT_KINDS,
        "report": None,
        "error": None,
        "token": None,
        "layers": list(REGISTRY),
        "form": {},
        "limit": current_app.config["UPLOAD_MAX_MB"],
    }
    if not matches:
        context["error"] = _("This preview has expired: upload the file again.")
        return render_template("planner/import.html", **context), 400
    path = os.path.join(_upload_dir(), matches[0])
    with open(path + ".json", encoding="utf-8") as f:
        saved = json.load(f)
    try:
        report = run_import(get_store(), saved["kind"], Path(path), **saved["options"])
        report.file = saved["name"]
        context.update(report=report, done=True)
        status = 200
    except MapappError as exc:
        context["error"], status = exc.message, 400
    finally:
        for leftover in (path, path + ".json"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return render_template("planner/import.html", **context), status
