"""The OpenAPI 3.0 document of mapapp's own HTTP API (``/api/…``, ``/healthz``),
generated from the routes and the request-parameter module.

Paths, methods, path parameters, summaries (the views' docstrings) and who may call
(the guards' role) come from the URL map; the query, header and body parameters of
each view are those of the :mod:`.params` parsers it calls (and the few arguments it
reads itself), described once below next to the parsers' own limits.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version

from flask import Flask

from ..analysis import DEFAULT_RADIUS_M, MAX_RADIUS_M, MIN_RADIUS_M
from ..analysis.filters import _allowed, filterable
from ..analysis.suitability import CRITERIA
from ..contributions import (
    DECIDED,
    INBOX,
    KINDS,
    MAX_EMAIL,
    MAX_SHORT,
    MAX_TEXT,
    MAX_URL,
    REASONS,
    SET_APART,
)
from ..limits import ID_PATTERN
from . import params

_CALL = re.compile(r"params\.(\w+)\(")
_ARG = re.compile(r"request\.args(?:\.get\()?[\[(]?\"(\w[\w.]*)\"")
ERROR = {"$ref": "#/components/schemas/error"}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _number(name: str, low: float, high: float, description: str, required=False):
    schema = {"type": "number", "minimum": low, "maximum": high}
    return _query(name, schema, description, required)


def _values_pattern(layer: str, field: str) -> dict:
    """Comma-separated values of a filter: any of the allowed ones, or free codes."""
    allowed = _allowed(layer, field)
    one = "|".join(sorted(allowed)) if allowed else params.COMMUNE_CODE.pattern
    return {"type": "string", "pattern": f"^(?:(?:{one})(?:,(?:{one}))*)?$"}


_LON = r"-?(?:180(?:\.0+)?|(?:1[0-7]\d|\d{1,2})(?:\.\d+)?)"
_LAT = r"-?(?:90(?:\.0+)?|\d{1,2}(?:\.\d+)?)"
# The parameters each parser of views/params.py reads.
PARSERS = {
    "bbox": [
        _query(
            "bbox",
            # empty: no bbox; else WGS84 numbers (min < max, or 400)
            {"type": "string", "pattern": f"^(?:{_LON},{_LAT},{_LON},{_LAT})?$"},
            "min_lon,min_lat,max_lon,max_lat (WGS84, min < max on both axes)",
        )
    ],
    "analysis_filters": [
        _query(
            f"{layer}.{field}",
            _values_pattern(layer, field),
            "values, comma-separated",
        )
        for layer, fields in filterable().items()
        for field in fields
    ],
    "radius": [
        _number(
            "radius", MIN_RADIUS_M, MAX_RADIUS_M, f"metres (default {DEFAULT_RADIUS_M})"
        )
    ],
    "weights": [
        _number(f"w.{c}", 0, 10, "weight of a criterion (default 1)") for c in CRITERIA
    ],
    "cell": [
        _number("cell", params.MIN_CELL_M, params.MAX_CELL_M, "grid cell, metres")
    ],
    "place": [
        _number("lat", -90, 90, "latitude (WGS84), inside the study area"),
        _number("lon", -180, 180, "longitude (WGS84), inside the study area"),
    ],
    "place_zone": [
        _query(
            "kind",
            {"type": "string", "enum": list(params.ZONE_KINDS)},
            "a zone of the place search (instead of lat and lon)",
        ),
        _query("code", {"type": "string", "maxLength": 40}, "the zone's code"),
    ],
    "catchment_target": [
        _query(
            "layer",
            {"type": "string", "enum": list(params.CATCHMENT_TARGETS)},
            "a site",
        ),
        _query(
            "id",
            {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
            "the id of the site in that layer",
        ),
    ],
    "search_query": [
        _query("q", {"type": "string", "minLength": 2}, "text to find", required=True)
    ],
    "data_version": [_query("v", {"type": "integer"}, "the data version held")],
    "if_match": [
        {
            "name": "If-Match",
            "in": "header",
            "schema": {"type": "string", "pattern": r'^(?:W/)?"?\d{1,15}"?$'},
            "description": 'the version read, as its ETag ("3"); PATCH and DELETE '
            "need it (428 Precondition Required without)",
        }
    ],
}
BODIES = {
    "feature_body": {"$ref": "#/components/schemas/feature"},
    "history_id": {
        "type": "object",
        "required": ["history_id"],
        "properties": {"history_id": {"type": "integer"}},
    },
}


def api_document(app: Flask, base: str) -> dict:
    """The OpenAPI 3.0.3 document of the routes of ``app`` under /api/ and /healthz."""
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, method)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "mapapp HTTP API",
            "version": version("mapapp"),
            "description": "Layers, search, editing and analyses of mapapp; "
            "the public map's data and the planners' tools (docs/api.md).",
        },
        "servers": [{"url": base.rstrip("/")}],
        "paths": paths,
        "components": {"securitySchemes": SECURITY, "schemas": SCHEMAS},
    }


def _operation(rule, view, method: str) -> dict:
    source = inspect.getsource(inspect.unwrap(view))
    called = list(dict.fromkeys(_CALL.findall(source)))
    parameters = [_path_parameter(rule, name) for name in rule.arguments]
    for parser in called:
        parameters += _required(PARSERS.get(parser, []), parser, called)
    known = {p["name"] for p in parameters}
    parameters += [
        _query(name, *ARG_SCHEMAS.get((rule.endpoint, name), PLAIN_ARG))
        for name in dict.fromkeys(_ARG.findall(source))
        if name not in known
    ]
    operation = {
        "operationId": f"{rule.endpoint}.{method.lower()}",
        "summary": (inspect.getdoc(view) or rule.endpoint).splitlines()[0],
        "parameters": parameters,
        "responses": _responses(method, getattr(view, "mapapp_role", None)),
    }
    if rule.endpoint in RESULTS:
        operation["responses"]["200"]["content"] = {
            "application/json": {"schema": RESULTS[rule.endpoint]}
        }
    bodies = [BODIES[p] for p in called if p in BODIES]
    bodies += [BODIES[rule.endpoint]] if rule.endpoint in BODIES else []
    operation["responses"].update(EXTRA_RESPONSES.get(rule.endpoint, {}))
    if "202" in operation["responses"]:
        operation["responses"].pop("201", None)
    if bodies:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": bodies[0]}},
        }
    role = getattr(view, "mapapp_role", None)
    operation["security"] = [{"bearer": []}, {"session": []}] if role else []
    return operation


def _required(parameters: list, parser: str, called: list) -> list:
    """The parameters a view cannot do without: lat and lon where no site can be
    named instead, If-Match for a change or a deletion (without it the answer is
    RFC 6585's 428)."""
    needed = parser == "if_match" or (
        parser == "place" and "catchment_target" not in called
    )
    return [{**p, "required": True} for p in parameters] if needed else parameters


def _path_parameter(rule, name: str) -> dict:
    kind = "integer" if f"<int:{name}>" in rule.rule else "string"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _responses(method: str, role: str | None) -> dict:
    ok = {"201" if method == "POST" else "200": {"description": "success"}}
    if method == "DELETE":
        ok = {"204": {"description": "deleted"}}
    json_error = {"content": {"application/json": {"schema": ERROR}}}
    errors = {
        "400": {"description": "a bad parameter (named in the message)", **json_error},
        "404": {"description": "no such layer or feature", **json_error},
        "410": {"description": "a data version no longer current", **json_error},
    }
    if role:
        errors["401"] = {"description": "sign-in required", **json_error}
        errors["403"] = {"description": "not allowed (role, layer)", **json_error}
    if method in ("POST", "PATCH", "DELETE"):
        errors["409"] = {"description": "the id is taken already", **json_error}
        errors["412"] = {"description": "saved by someone else first", **json_error}
        errors["413"] = {"description": "a body over 1 MB", **json_error}
        errors["422"] = {"description": "invalid feature (problems)", **json_error}
        errors["428"] = {"description": "If-Match required", **json_error}
    return {**ok, **errors}


SECURITY = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token made with `mapapp users token NAME`",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "mapapp_session",
        "description": "the planner's signed-in session; state changes also send "
        "the page's CSRF token as X-CSRF-Token",
    },
}
SCHEMAS = {
    "error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "problems": {"type": "array", "items": {"type": "object"}},
        },
    },
    "feature": {
        "type": "object",
        "description": "a GeoJSON Feature (properties of the layer, geometry WGS84)",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "properties": {"type": "object"},
            "geometry": {"type": "object", "nullable": True},
        },
    },
}


def _array(ref: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}


_NULLABLE_NUMBER = {"type": "number", "nullable": True}
_LIST = {
    "type": "object",
    "description": "nearest: open (or to be checked) places, nearest first; coming: "
    "planned or under construction, apart; in_commune: located at the level of "
    "the place's commune only, never given a distance",
    "properties": {k: _array("nearby") for k in ("nearest", "coming", "in_commune")},
}
SCHEMAS["nearby"] = {
    "type": "object",
    "properties": {
        "layer": {"type": "string"},
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "nullable": True},
        "status_label": {"type": "string", "nullable": True},
        "kind_label": {"type": "string", "nullable": True},
        "precision": {"type": "string"},
        "distance_m": {
            "type": "integer",
            "description": "straight-line distance (absent in in_commune)",
        },
        "walk_min": {
            "type": "integer",
            "description": "estimated minutes on foot (see walking)",
        },
        "opening": {"type": "string", "nullable": True},
        "digital_programmes": {"type": "string", "nullable": True},
        "index": {
            "type": "integer",
            "description": "position in the layer's compact payload (large layers)",
        },
        "lat": {"type": "number"},
        "lon": {"type": "number"},
    },
}
SCHEMAS["answer"] = {
    "type": "object",
    "properties": {
        "place": {
            "type": "object",
            "description": "kind (point, quarter, iris, commune), name, code, lat, "
            "lon (a zone: its representative point, whence distances are "
            "measured), commune {code, name} or null",
        },
        "walking": {
            "type": "object",
            "description": "the walking-time assumption: speed_kmh on a path "
            "detour_factor times the straight line",
            "properties": {
                "speed_kmh": {"type": "number"},
                "detour_factor": {"type": "number"},
            },
        },
        "fibre": {
            "type": "object",
            "properties": {
                "coverage": _NULLABLE_NUMBER,
                "premises": _NULLABLE_NUMBER,
                "ftth_premises": _NULLABLE_NUMBER,
                "basis": {
                    "type": "string",
                    "enum": ["at_point", "same_zone", "in_place", "at_centre"],
                },
                "missing": {
                    "type": "string",
                    "nullable": True,
                    "enum": ["no_zone", "no_figure"],
                },
                "zones": {"type": "array", "items": {"type": "object"}},
                "without_figure": {"type": "integer"},
                "as_of": {"type": "string", "nullable": True},
                "illustrative": {"type": "boolean"},
            },
        },
        "coworking": _LIST,
        "schools": _LIST,
        "stations": _LIST,
    },
}
# The documented body of a 200 answer, by endpoint.
RESULTS = {"api.place_here": {"$ref": "#/components/schemas/answer"}}

# The schema of a query argument a view reads itself, when more than a string.
PLAIN_ARG = ({"type": "string"}, "see docs/api.md")
_STATUS = "|".join((*INBOX, *SET_APART, *DECIDED))
ARG_SCHEMAS = {
    ("contributions.api_list", "status"): (
        {"type": "string", "pattern": f"^(({_STATUS})(,({_STATUS}))*)?$"},
        "statuses, comma-separated (empty or absent: the inbox)",
    ),
}

# The contributions of the public (docs/contributions.md): the public POST and the
# planners' decision have bodies of their own.
_SHORT = {"type": "string", "maxLength": MAX_SHORT}
BODIES["contributions.api_submit"] = {
    "type": "object",
    "required": ["layer", "kind", "form_token"],
    "description": "a report on a feature (feature_id and a kind but new) or a "
    "proposed place (kind new, name, lon and lat); the same rules as the form: "
    "form_token from /api/contributions/form-token at least 3 s old, homepage "
    "left empty, rate limits per address and overall (429), more than two links "
    "held apart as likely spam",
    "properties": {
        "layer": {"type": "string"},
        "feature_id": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "name": _SHORT,
        "address": _SHORT,
        "category": _SHORT,
        "website": {"type": "string", "maxLength": MAX_URL},
        "text": {"type": "string", "maxLength": MAX_TEXT},
        "lon": {"type": "number"},
        "lat": {"type": "number"},
        "precision": {"type": "string", "enum": ["exact", "street", "approximate"]},
        "email": {"type": "string", "maxLength": MAX_EMAIL},
        "lang": {"type": "string", "enum": ["fr", "en"]},
        "form_token": {"type": "string"},
        "homepage": {"type": "string", "description": "must stay empty"},
    },
}
BODIES["contributions.api_decide"] = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": ["accept", "reject", "spam"]},
        "reason": {"type": "string", "enum": list(REASONS)},
        "changes": {
            "type": "object",
            "description": "accept with changes: name, address, website, category, "
            "lon, lat, precision over the proposal",
        },
    },
}
EXTRA_RESPONSES = {
    "contributions.api_submit": {
        "202": {"description": "received (whatever becomes of it)"},
        "429": {
            "description": "too many contributions for now",
            "content": {"application/json": {"schema": ERROR}},
        },
    },
}
