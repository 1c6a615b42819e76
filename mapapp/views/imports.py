"""The import wizard (admins): file -> kind recognised from its header -> column
mapping with previews -> source, edition and publication -> report of what would be
kept and dropped -> confirm. Every step is a plain form (no script needed); the
upload waits in one place (``importers/uploads.py``) under its own name, is used
once, and every message is in the page language."""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import MapappError
from ..importers import run_import, uploads
from ..importers.wizard import (
    FileSummary,
    WizardProblem,
    import_options,
    inspect_file,
    mapped_fields,
    needs_value,
    preview,
    suggest_mapping,
)
from ..layers import REGISTRY, tr
from .guards import login_required
from .http import html_page, site
from .params import current_lang

bp = Blueprint("imports", __name__, url_prefix="/planner/import")

STEPS = ("file", "columns", "options", "report")
COMMUNE_KINDS = ("sirene", "education", "addresses")
# What an official import fills: a layer of the map, or the addresses of the place
# search (a table of their own, not a layer).
ADDRESSES = "addresses"
EDITION = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
OFFICIAL_SOURCES = {
    "sirene": "INSEE, base SIRENE des établissements",
    "education": "Annuaire de l'éducation, ONISEP ou MESR",
    "fibre": "ARCEP, Ma connexion internet / Cartefibre",
    "zones": "IGN / INSEE, contours IRIS ou communaux",
    "addresses": "Base Adresse Nationale",
}


def kind_label(kind: str, variant: str | None = None) -> str:
    """The name of an import kind (and variant) in the page language."""
    labels = {
        "sirene": _("SIRENE establishments (StockEtablissement)"),
        "education": _("Annuaire de l'éducation, ONISEP or MESR"),
        "fibre": _("ARCEP fibre (Cartefibre, Ma connexion internet)"),
        "zones": _("IRIS or commune contours"),
        "addresses": _("Addresses (Base Adresse Nationale, for the place search)"),
        "generic": _(
            "Your own file: GeoJSON, GeoPackage, zipped Shapefile or CSV with "
            "longitude/latitude"
        ),
    }
    variants = {
        "annuaire": "Annuaire de l'éducation",
        "onisep": "ONISEP Idéo-Structures",
        "mesr": "MESR",
        "cartefibre": "Cartefibre",
        "mci_buildings": _("Ma connexion internet, buildings"),
        "mci_communes": _("Ma connexion internet, communes"),
        "iris": "IRIS",
        "communes": _("commune contours"),
    }
    return labels[kind] + (f" – {variants[variant]}" if variant in variants else "")


def problem_text(exc: WizardProblem, name: str) -> str:
    """A file problem of the wizard in the page language."""
    texts = {
        "empty": _("%(file)s is empty."),
        "archive": _(
            "%(file)s is a compressed archive: unzip it and upload the file inside."
        ),
        "archive_unreadable": _(
            "%(file)s is a compressed archive that is damaged or holds no CSV file."
        ),
        "no_header": _("Line 1 of %(file)s is empty: a header line is expected."),
        "single_column": _(
            "Line 1 of %(file)s has a single column: the separator is not a "
            "semicolon, a comma, a tab or |, or this is not a CSV file."
        ),
        "too_many_columns": _(
            "%(file)s has %(n)s columns; at most %(max)s are accepted."
        ),
        "duplicate_columns": _("%(file)s has two columns of the same name."),
        "unreadable_csv": _("%(file)s cannot be read as CSV: %(detail)s"),
        "no_coordinates": _(
            "%(file)s has no longitude and latitude columns (longitude/latitude, "
            "lon/lat or x/y); its columns are: %(columns)s."
        ),
        "unreadable_vector": _("%(file)s is not a GeoJSON or GeoPackage file."),
        "no_features": _("%(file)s holds no feature."),
        "mixed_geometry": _(
            "%(file)s mixes geometries (%(types)s): one file holds points or "
            "polygons, not both."
        ),
        "unknown_format": _(
            "Files ending in %(suffix)s are not accepted: upload a CSV, GeoJSON or "
            "GeoPackage file."
        ),
    }
    return texts[exc.code] % {"file": name, **exc.params}


def _root() -> Path:
    return Path(site().settings.instance_dir) / "uploads"


def _upload(token: str) -> uploads.Upload:
    return uploads.load(_root(), token, g.user["name"])


def _page(template: str, status: int = 200, **context):
    context.setdefault("lang", current_lang())
    context.setdefault("steps", STEPS)
    context.setdefault("kind_label", kind_label)
    response = html_page(
        render_template(f"planner/{template}", **context), private=True
    )
    response.status_code = status
    return response


def _expired():
    return _page(
        "import_file.html",
        400,
        step="file",
        limit=current_app.config["UPLOAD_MAX_MB"],
        error=_("This import has expired or was already done: upload the file again."),
    )


@bp.get("")
@login_required(role="admin")
def start():
    """Step 1: choose the file."""
    return _page(
        "import_file.html", step="file", limit=current_app.config["UPLOAD_MAX_MB"]
    )


@bp.post("")
@login_required(role="admin")
def upload():
    """Keep the file and recognise it; then the column step."""
    limit = current_app.config["UPLOAD_MAX_MB"]
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _page(
            "import_file.html",
            400,
            step="file",
            limit=limit,
            error=_("Choose a file to upload."),
        )
    try:
        kept = uploads.save(_root(), sent.stream, sent.filename, g.user["name"], limit)
    except uploads.TooLarge as exc:
        message = _(
            "%(file)s is larger than %(limit)s MB: import it with the command "
            "`mapapp import`.",
            file=exc.name,
            limit=limit,
        )
        return _page("import_file.html", 400, step="file", limit=limit, error=message)
    try:
        summary = inspect_file(kept.path)
    except WizardProblem as exc:
        uploads.discard(kept)
        return _page(
            "import_file.html",
            400,
            step="file",
            limit=limit,
            error=problem_text(exc, kept.name),
        )
    kept.state["summary"] = summary.to_dict()
    kept.save_state()
    return redirect(url_for("imports.columns", token=kept.token), 303)


def _summary(kept: uploads.Upload) -> FileSummary:
    data = dict(kept.state["summary"])
    data["lonlat"] = tuple(data.get("lonlat") or (None, None))
    return FileSummary(**data)


def _field_rows(layer: str, summary: FileSummary, state: dict, lang: str) -> list:
    mapping = state.get("mapping")
    if mapping is None or state.get("layer") != layer:
        mapping = suggest_mapping(layer, summary.columns)
    defaults = state.get("defaults") or {}
    rows = []
    for f in mapped_fields(layer):
        if f.name == "published":
            continue  # the publication step decides it
        rows.append(
            {
                "name": f.name,
                "label": tr(f.label, lang),
                "required": needs_value(f),
                "choices": [(k, tr(v, lang)) for k, v in (f.choices or {}).items()],
                "column": mapping.get(f.name, ""),
                "default": defaults.get(f.name, ""),
            }
        )
    return rows


def _read_mapping(layer: str, columns: list[str]) -> tuple[dict, dict, list[str]]:
    """(mapping, defaults, problems) from the column form."""
    mapping, defaults, problems = {}, {}, []
    lang = current_lang()
    for f in mapped_fields(layer):
        column = request.form.get(f"map.{f.name}", "")
        value = request.form.get(f"set.{f.name}", "").strip()[:200]
        if column and column in columns:
            mapping[f.name] = column
        if value:
            defaults[f.name] = value
        if needs_value(f) and not (mapping.get(f.name) or value):
            problems.append(
                _(
                    "%(field)s is required: choose its column or give a value for "
                    "every row.",
                    field=tr(f.label, lang),
                )
            )
    return mapping, defaults, problems


@bp.route("/<token>/columns", methods=["GET", "POST"])
@login_required(role="admin")
def columns(token: str):
    """Step 2: the kind recognised; for your own files, the layer and the columns."""
    try:
        kept = _upload(token)
    except uploads.Expired:
        return _expired()
    summary, lang = _summary(kept), current_lang()
    layers = [
        (n, tr(s.title, lang))
        for n, s in REGISTRY.items()
        if summary.kind == "generic" and s.geometry == (summary.geometry or "Point")
    ]
    layer = request.values.get("layer") or kept.state.get("layer") or summary.layer
    if summary.kind == "generic" and layer not in dict(layers):
        layer = summary.layer
    problems = []
    if request.method == "POST" and request.form.get("action") != "layer":
        if summary.kind == "generic":
            mapping, defaults, problems = _read_mapping(layer, summary.columns)
            kept.state.update(layer=layer, mapping=mapping, defaults=defaults)
        if not problems:
            kept.save_state()
            return redirect(url_for("imports.options", token=token), 303)
    return _page(
        "import_columns.html",
        400 if problems else 200,
        step="columns",
        token=token,
        file=kept.name,
        summary=summary,
        layers=layers,
        layer=layer,
        fields=_field_rows(layer, summary, kept.state, lang)
        if summary.kind == "generic"
        else [],
        official_layer=_layer_title(_official_layer(summary.kind)),
        problems=problems,
    )


def _option_defaults(kept: uploads.Upload, summary: FileSummary) -> dict:
    state = kept.state
    return {
        "source": state.get("source")
        or OFFICIAL_SOURCES.get(summary.kind)
        or os.path.splitext(kept.name)[0],
        "edition": state.get("edition", ""),
        "publish": state.get("publish", False),
        "mode": state.get("mode")
        or ("merge" if summary.kind == "generic" else "replace"),
        "communes": ", ".join(state.get("communes") or []),
    }


def _read_options(summary: FileSummary) -> tuple[dict, list[str]]:
    form, problems = request.form, []
    source = form.get("source", "").strip()[:200]
    edition = form.get("edition", "").strip()
    communes = [c.strip() for c in re.split(r"[,;\s]+", form.get("communes", "")) if c]
    if summary.kind == "generic" and not source:
        problems.append(_("Name the source of these data (who published them)."))
    if edition and not EDITION.fullmatch(edition):
        problems.append(_("The edition is a date: 2026-10 or 2026-10-01."))
    if any(not re.fullmatch(r"\d[\dAB]\d{3}", c) for c in communes):
        problems.append(
            _(
                "Commune codes are INSEE codes of five characters (%(example)s).",
                example=site().territory.main_commune.code,
            )
        )
    choices = {
        "source": source,
        "edition": edition,
        "publish": form.get("publish") == "1",
        "mode": form.get("mode") if form.get("mode") in ("replace", "merge") else None,
        "communes": communes,
    }
    return choices, problems


@bp.route("/<token>/options", methods=["GET", "POST"])
@login_required(role="admin")
def options(token: str):
    """Step 3: source, edition, publication and how the layer changes."""
    try:
        kept = _upload(token)
    except uploads.Expired:
        return _expired()
    summary = _summary(kept)
    layer = kept.state.get("layer") if summary.kind == "generic" else None
    target = REGISTRY[layer] if layer else None
    problems = []
    if request.method == "POST":
        choices, problems = _read_options(summary)
        kept.state.update(choices)
        if not problems:
            kept.save_state()
            return redirect(url_for("imports.report", token=token), 303)
    return _page(
        "import_options.html",
        400 if problems else 200,
        step="options",
        token=token,
        file=kept.name,
        summary=summary,
        values=_option_defaults(kept, summary),
        layer_title=_layer_title(layer or _official_layer(summary.kind)),
        publishable=bool(target and target.publishable),
        public=_is_public(layer or _official_layer(summary.kind)),
        communes=summary.kind in COMMUNE_KINDS,
        problems=problems,
    )


def _official_layer(kind: str) -> str:
    return {
        "sirene": "companies",
        "education": "schools",
        "fibre": "fibre",
        "addresses": ADDRESSES,
    }.get(kind, "zones")


def _layer_title(name: str) -> str:
    if name == ADDRESSES:
        return _("Addresses of the place search")
    return tr(REGISTRY[name].title, current_lang())


def _is_public(name: str) -> bool:
    if name == ADDRESSES:
        return True  # the public map's place search finds them at once
    spec = REGISTRY[name]
    return spec.public and not spec.publishable


def _publishable(name: str) -> bool:
    return name != ADDRESSES and REGISTRY[name].publishable


def _run(kept: uploads.Upload, dry_run: bool):
    summary = _summary(kept)
    kind, opts = import_options(summary, kept.state.get("layer"), kept.state)
    if dry_run:
        return preview(site().store, kind, kept.path, **opts)
    # recorded in the history under the administrator's name
    return run_import(site().store, kind, kept.path, author=g.user["name"], **opts)


@bp.get("/<token>/report")
@login_required(role="admin")
def report(token: str):
    """Step 4: what the import would keep and drop (nothing written yet)."""
    try:
        kept = _upload(token)
    except uploads.Expired:
        return _expired()
    try:
        result = _run(kept, dry_run=True)
    except MapappError as exc:
        return _failed(kept, exc, token)
    return _report_page(kept, result, token)


def _report_page(kept: uploads.Upload, result, token: str | None):
    """The report of an import: previewed (``token`` to confirm it) or done."""
    return _page(
        "import_report.html",
        step="report" if token else "done",
        token=token,
        file=kept.name,
        report=translated(result),
        layer_title=_layer_title(result.layer),
        publish=kept.state.get("publish"),
        publishable=_publishable(result.layer),
        done=token is None,
    )


@bp.post("/<token>/confirm")
@login_required(role="admin")
def confirm(token: str):
    """Run the import previewed (one transaction); the upload is then removed."""
    try:
        kept = _upload(token)
    except uploads.Expired:
        return _expired()
    try:
        result = _run(kept, dry_run=False)
    except MapappError as exc:
        return _failed(kept, exc, token)
    finally:
        uploads.discard(kept)
    return _report_page(kept, result, None)


@bp.post("/<token>/cancel")
@login_required(role="admin")
def cancel(token: str):
    """Forget an upload."""
    try:
        uploads.discard(_upload(token))
    except uploads.Expired:
        pass
    return redirect(url_for("imports.start"), 303)


def _failed(kept: uploads.Upload, exc: MapappError, token: str):
    current_app.logger.info("import of %s failed: %s", kept.name, exc.message)
    return _page(
        "import_report.html",
        400,
        step="report",
        token=token,
        file=kept.name,
        report=None,
        error=_(
            "The file could not be imported as it is; nothing was written. "
            "What the importer said: %(detail)s",
            detail=exc.message,
        ),
        done=False,
    )


# --- the report in the page language ------------------------------------------------


def reasons() -> dict[str, str]:
    """Why importers drop rows: their English words -> the page language."""
    return {
        "duplicate identifier merged (the last row is kept)": _(
            "same identifier as another row (the last row is kept)"
        ),
        "no id and no name to make one from": _(
            "no identifier and no name to make one"
        ),
        "closed establishment (état F)": _("closed establishment (état F)"),
        "outside the chosen communes": _("outside the chosen communes"),
        "NAF code outside the digital set": _("NAF code outside the digital economy"),
        "no coordinates (neither geolocation nor Lambert-93)": _(
            "no coordinates (neither geolocation nor Lambert-93)"
        ),
        "not an open lycée (Annuaire: type or état)": _(
            "not an open lycée (Annuaire: type or état)"
        ),
        "neither UAI nor name (an empty or unnamed line)": _(
            "neither UAI nor name (an empty or unnamed line)"
        ),
        "several official lines for one UAI, merged into one establishment": _(
            "several official lines for one UAI, merged into one establishment"
        ),
        "no coordinates": _("no coordinates"),
        # the Base Adresse Nationale (mapapp import addresses)
        "commune outside the study area": _("commune outside the study area"),
        "commune asked for, but outside the study area": _(
            "commune asked for, but outside the study area"
        ),
        "duplicate identifier (the first row is kept)": _(
            "same identifier as another row (the first row is kept)"
        ),
        "coordinates out of range": _("coordinates out of range"),
        "no street, commune or identifier": _("no street, commune or identifier"),
        "building outside every zone": _("building outside every zone"),
        "zone without any building": _("zone without any building"),
        "commune without contour (outside the study area?)": _(
            "commune without a contour (outside the study area?)"
        ),
        "no premises": _("no premises"),
        "empty geometry": _("empty geometry"),
        "invalid geometry that cannot be repaired safely": _(
            "invalid geometry that cannot be repaired safely"
        ),
        "outside the study area": _("outside the study area"),
        "crosses the edge of the study area": _("crosses the edge of the study area"),
        "latitude and longitude swapped": _("latitude and longitude swapped"),
        "invalid geometry": _("invalid geometry"),
    }


def codes() -> dict[str, str]:
    """Validation problem codes (layers/validation.py) in the page language."""
    return {
        "required": _("%(field)s missing"),
        "not_a_choice": _("%(field)s: not one of the allowed values"),
        "below_minimum": _("%(field)s below the minimum (%(minimum)s)"),
        "above_maximum": _("%(field)s above the maximum (%(maximum)s)"),
        "wrong_type": _("%(field)s: a number is needed"),
        "boolean_not_allowed": _("%(field)s: a number is needed"),
        "not_a_number": _("%(field)s: a number is needed"),
        "unknown_field": _("%(field)s: not a field of this layer"),
        "duplicate_id": _("same identifier as another row"),
        "ftth_exceeds": _("%(field)s: more FTTH premises than premises"),
        "coverage_mismatch": _("%(field)s: coverage does not match the premises"),
        "missing_geometry": _("no place"),
        "wrong_geometry_type": _("wrong kind of geometry"),
        "invalid_geometry": _("invalid geometry"),
        "swapped": _("latitude and longitude swapped"),
        "outside_area": _("outside the study area"),
        "not_a_web_address": _("%(field)s: not a web address (http:// or https://)"),
    }


def notes() -> list:
    """Importers' notes (English patterns) and their words in the page language."""
    return [
        (re.compile(r"recognised as: (?P<v>\w+)"), _("Recognised as: %(v)s.")),
        (
            re.compile(r"display name: .*"),
            _(
                "Name shown: the usual name, else the first sign, else “SIREN <number>” "
                "(the legal unit's name is in StockUniteLegale)."
            ),
        ),
        (
            re.compile(r"communes: the (?P<v>\d+) communes of the study area .*"),
            _("Communes: the %(v)s communes of the study area."),
        ),
        (
            re.compile(r"repaired geometry of (?P<v>.+)"),
            _("Geometry repaired: %(v)s."),
        ),
        (
            re.compile(r"aggregated into the (?P<v>\d+) imported zones"),
            _("Buildings aggregated into the %(v)s imported zones."),
        ),
        (
            re.compile(r"aggregated into the (?P<v>\d+) current fibre zones"),
            _("Buildings aggregated into the %(v)s current fibre zones."),
        ),
        (
            re.compile(r".+ is not UTF-8 \((?P<v>.+)\); read as .+"),
            _("The file is not UTF-8 (%(v)s): check the accents of the names."),
        ),
    ]


def _reason_text(reason: str, coded: dict | None, layer: str) -> str:
    words = codes()
    if coded and coded["code"] in words and layer in REGISTRY:
        spec = REGISTRY[layer]
        name = coded["field"]
        label = (
            _("place")
            if name == "geometry"
            else tr(spec.field(name).label, current_lang())
            if name in spec.field_names
            else name
        )
        params = {"minimum": "", "maximum": "", **coded["params"], "field": label}
        return words[coded["code"]] % params
    return reasons().get(reason, reason)


def _note_text(note: str) -> str:
    for pattern, text in notes():
        match = pattern.fullmatch(note)
        if match:
            return text % match.groupdict()
    return note


def translated(report) -> dict:
    """An import report with its reasons and notes in the page language."""
    reasons = []
    for reason, count in sorted(report.dropped.items(), key=lambda kv: -kv[1]):
        coded = report.codes.get(reason)
        examples = coded["labels"] if coded else report.examples.get(reason, [])
        reasons.append(
            {
                "text": _reason_text(reason, coded, report.layer),
                "count": count,
                "examples": examples,
            }
        )
    return {
        "rows_read": report.rows_read,
        "kept": report.kept,
        "dropped": sum(report.dropped.values()),
        "reasons": reasons,
        "notes": [_note_text(n) for n in report.notes],
        "mode": report.mode,
        "written": report.written,
        "data_version": report.data_version,
        "layer": report.layer,
    }
