"""The planner workspace: every layer (published or not) and editing on the map."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, url_for
from flask_babel import gettext as _

from ..layers import REGISTRY, tr
from ..maps import build_map, safe_json, split_rendered
from ..maps.options import MapOptions
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
