"""The import wizard (admins): file -> kind recognised from its header -> column
mapping with previews -> source, edition and publication -> report of what would be
kept and dropped -> confirm. Every step is a plain form (no script needed); the
upload waits in one place (``importers/uploads.py``) under its own name, is used
once, and every message is in the page language."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import MapappError
from ..importers import IMPORTERS, run_import, uploads
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
from ..layers import LICENCES, REGISTRY, tr
from .guards import login_required
from .http import html_page, site
from .params import current_lang

bp = Blueprint("imports", __name__, url_prefix="/planner/import")

STEPS = ("file", "columns", "options", "report")
# What an official import fills: a layer of the map, or the addresses of the place
# search (a table of their own, not a layer).
ADDRESSES = "addresses"
EDITION = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def kind_label(kind: str, variant: str | None = None) -> str:
    """The name of an import kind (and variant) in the page language, as its
    registry entry gives it."""
    importer, lang = IMPORTERS[kind], current_lang()
    label = tr(importer.label, lang)
    if variant in importer.variant_labels:
        label += f" – {tr(importer.variant_labels[variant], lang)}"
    return label


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
        "refused": _("%(file)s is refused: %(detail)s"),
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
                "required": needs_value(f, layer),
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
        if needs_value(f, layer) and not (mapping.get(f.name) or value):
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
        # never the file's name: a file name says nothing of who published the data
        "source": state.get("source") or IMPORTERS[summary.kind].source or "",
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
    if summary.kind == "generic" and layer not in REGISTRY:
        # the column step was skipped: the layer and its columns come first
        return redirect(url_for("imports.columns", token=token), 303)
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
        communes=IMPORTERS[summary.kind].communes,
        problems=problems,
    )


def _official_layer(kind: str) -> str | None:
    """The layer an official importer fills (None for ``generic``: chosen)."""
    return IMPORTERS[kind].layer


def _layer_title(name: str | None) -> str:
    if name is None:  # the generic importer: the layer is chosen on the page
        return ""
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
    """Why importers drop rows (mapapp/importers/base.py REASONS), by code, in the
    page language; a validation problem's words name the field (``%(field)s``)."""
    return {
        "duplicate_merged": _("same identifier as another row (the last row is kept)"),
        "duplicate_first_kept": _(
            "same identifier as another row (the first row is kept)"
        ),
        "no_id": _("no identifier and no name to make one"),
        "closed": _("closed establishment (état F)"),
        "outside_communes": _("outside the chosen communes"),
        "naf_outside": _("NAF code outside the digital economy"),
        "no_geolocation": _("no coordinates (neither geolocation nor Lambert-93)"),
        "not_open_lycee": _("not an open lycée (Annuaire: type or état)"),
        "unnamed_line": _("neither UAI nor name (an empty or unnamed line)"),
        "uai_merged": _(
            "several official lines for one UAI, merged into one establishment"
        ),
        "no_coordinates": _("no coordinates"),
        "coordinates_out_of_range": _("coordinates out of range"),
        "commune_outside_area": _("commune outside the study area"),
        "asked_commune_outside_area": _(
            "commune asked for, but outside the study area"
        ),
        "no_street": _("no street, commune or identifier"),
        "building_outside_zones": _("building outside every zone"),
        "zone_without_building": _("zone without any building"),
        "commune_without_contour": _(
            "commune without a contour (outside the study area?)"
        ),
        "no_premises": _("no premises"),
        "empty_geometry": _("empty geometry"),
        "unrepairable_geometry": _("invalid geometry that cannot be repaired safely"),
        **problem_reasons(),
    }


def problem_reasons() -> dict[str, str]:
    """Validation problem codes (layers/validation.py) as drop reasons."""
    number = _("%(field)s: a number is needed")
    return {
        "outside_area": _("outside the study area"),
        "swapped": _("latitude and longitude swapped"),
        "missing_geometry": _("no place"),
        "wrong_geometry_type": _("wrong kind of geometry"),
        "invalid_geometry": _("invalid geometry"),
        "too_many_vertices": _("too many vertices"),
        "has_z": _("3-D coordinates (give longitude and latitude only)"),
        "not_finite": _("coordinates that are not numbers"),
        "required": _("%(field)s missing"),
        "not_a_choice": _("%(field)s: not one of the allowed values"),
        "below_minimum": _("%(field)s below the minimum"),
        "above_maximum": _("%(field)s above the maximum"),
        "wrong_type": number,
        "boolean_not_allowed": number,
        "not_a_number": number,
        "too_long": _("%(field)s: too long"),
        "bad_character": _("%(field)s: a character that is not allowed"),
        "not_a_web_address": _("%(field)s: not a web address (http:// or https://)"),
        "bad_id": _("%(field)s: not a valid identifier"),
        "unknown_field": _("%(field)s: not a field of this layer"),
        "duplicate_id": _("same identifier as another row"),
        "ftth_exceeds": _("%(field)s: more FTTH premises than premises"),
        "coverage_mismatch": _("%(field)s: coverage does not match the premises"),
    }


def notes() -> dict[str, str]:
    """What importers note (mapapp/importers/base.py NOTES), by code, in the page
    language, with the note's parameters."""
    return {
        "recognised_as": _("Recognised as: %(variant)s."),
        "not_utf8": _(
            "The file is not UTF-8 (%(where)s): check the accents of the names."
        ),
        "communes_study_area": _(
            "Communes: the %(n)s communes of the study area (%(area)s)."
        ),
        "display_name": _(
            "Name shown: the usual name, else the first sign, else “SIREN <number>” "
            "(the legal unit's name is in StockUniteLegale)."
        ),
        "geolocated": _(
            "Geolocation file %(file)s: %(found)s of %(n)s establishments placed, "
            "%(at_commune)s at the commune centroid (not drawn as points)."
        ),
        "repaired": _("Geometry repaired: %(label)s."),
        "heights_dropped": _("Heights (3-D coordinates) dropped: the map is 2-D."),
        "into_imported_zones": _("Buildings aggregated into the %(n)s imported zones."),
        "into_fibre_zones": _(
            "Buildings aggregated into the %(n)s current fibre zones."
        ),
        "premises_estimated": _(
            "Premises estimated from the building size class: the Cartefibre file "
            "has no exact count."
        ),
        "eligibility": _("Eligibility from %(file)s: %(n)s buildings with fibre."),
        "communes_kept": _("%(n)s commune(s) kept%(listed)s."),
        "address_source": _("Source: %(source)s, edition %(edition)s."),
        "scheme_added": _(
            "%(n)s web address(es) written without http:// or https://: https:// "
            "added (e.g. %(example)s)."
        ),
        "matched_existing": _(
            "%(n)s row(s) match features already in the layer by %(field)s: they "
            "keep their identifier, and their values where the file has none."
        ),
        "provenance": _(
            "Every feature records its source: %(source)s, %(url)s, licence "
            "%(licence)s."
        ),
        "provenance_given": _("Every feature records the source given: %(source)s."),
    }


def _field_label(layer: str, name: str | None) -> str:
    spec = REGISTRY.get(layer)
    if spec is None or name is None or name not in spec.field_names:
        return name or ""
    return tr(spec.field(name).label, current_lang())


def _reason_text(reason: str, coded: dict, layer: str) -> str:
    """A drop reason in the page language, from its code (its English words when a
    code has none, which tests/views/test_imports.py forbids)."""
    words = reasons().get(coded.get("code", ""))
    if words is None:
        return reason
    return words % {
        **coded.get("params", {}),
        "field": _field_label(layer, coded.get("field")),
    }


def _note_text(note: str, coded: dict | None, layer: str) -> str:
    words = notes().get(coded["code"]) if coded else None
    if not words:
        return note
    params = dict(coded["params"])
    if params.get("licence") in LICENCES:  # its title in the page language
        params["licence"] = tr(LICENCES[params["licence"]], current_lang())
    if "field" in params:
        params["field"] = _field_label(layer, params["field"])
    return words % params


def translated(report) -> dict:
    """An import report with its reasons and notes in the page language: each
    reason counted once, with its examples (the rows' names, or what the row said)."""
    reasons_shown = []
    for reason, count in sorted(report.dropped.items(), key=lambda kv: -kv[1]):
        coded = report.codes.get(reason, {})
        examples = coded.get("labels") or report.examples.get(reason, [])
        reasons_shown.append(
            {
                "text": _reason_text(reason, coded, report.layer),
                "count": count,
                "examples": examples,
            }
        )
    coded_notes = {entry["text"]: entry for entry in report.noted}
    return {
        "rows_read": report.rows_read,
        "kept": report.kept,
        "dropped": sum(report.dropped.values()),
        "reasons": reasons_shown,
        "emptied": [
            {
                "text": _reason_text(
                    reason, report.emptied_codes.get(reason, {}), report.layer
                ),
                "count": count,
                "examples": report.emptied_examples.get(reason, []),
            }
            for reason, count in sorted(report.emptied.items(), key=lambda kv: -kv[1])
        ],
        "notes": [
            _note_text(n, coded_notes.get(n), report.layer) for n in report.notes
        ],
        "mode": report.mode,
        "written": report.written,
        "data_version": report.data_version,
        "layer": report.layer,
    }
