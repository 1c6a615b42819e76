"""Errors, limits and headers of every response: typed errors as HTML or JSON in the
page language (never a traceback), validation problems translated from their codes,
the size of request bodies, and the security headers."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..errors import BadRequest, Busy, MapappError, Problem
from ..limits import MAX_FORM_BODY, MAX_JSON_BODY, MAX_QUERY_VALUE
from ..maps.geojson import stored_feature
from .cors import cors_headers, transport_headers
from .http import content_security_policy
from .params import LANG_COOKIE, asked_lang, current_lang

NUMBER_TYPES = ("int", "float")

# Validation problems a planner can meet, in the page language, by code.
PROBLEM_TEXTS = {
    "required": lambda p: _("Required."),
    "below_minimum": lambda p: _("Must be at least %(min)s.", min=p["minimum"]),
    "above_maximum": lambda p: _("Must be at most %(max)s.", max=p["maximum"]),
    "not_a_number": lambda p: _("A number is needed."),
    "not_a_choice": lambda p: _("%(value)s is not an allowed value.", value=p["value"]),
    "outside_area": lambda p: _("Outside the study area."),
    "swapped": lambda p: _("Latitude and longitude look swapped."),
    "invalid_geometry": lambda p: _("Invalid shape: %(reason)s.", reason=p["reason"]),
    "self_intersection": lambda p: _(
        "The outline crosses itself near %(lon)s, %(lat)s: draw it again without "
        "a crossing.",
        lon=p["lon"],
        lat=p["lat"],
    ),
    "spike": lambda p: _(
        "The outline has %(count)s spike(s), where it turns back on itself (the "
        "sharpest, %(angle)s°, near %(lon)s, %(lat)s): remove the needle.",
        count=p["count"],
        angle=p["angle"],
        lon=p["lon"],
        lat=p["lat"],
    ),
    "too_jagged": lambda p: _(
        "The outline is too jagged to analyse: %(ratio)s times as long as the "
        "shape around it (at most %(maximum)s). Draw it along the streets, "
        "without zigzags.",
        ratio=p["ratio"],
        maximum=p["maximum"],
    ),
    "missing_geometry": lambda p: _("The place is missing."),
    "unknown_field": lambda p: _("Unknown field."),
    "duplicate_id": lambda p: _("This identifier is already used."),
    "not_a_web_address": lambda p: _(
        "A web address starting with http:// or https:// is needed."
    ),
    "too_long": lambda p: _(
        "Too long: %(length)s characters, at most %(maximum)s.",
        length=p["length"],
        maximum=p["maximum"],
    ),
    "bad_character": lambda p: _("Contains a character that is not allowed."),
    "bad_id": lambda p: _(
        "An identifier is made of letters, digits, '-', '_' or '.' "
        "(at most %(maximum)s).",
        maximum=p["maximum"],
    ),
    "too_many_vertices": lambda p: _(
        "Too detailed: %(count)s points, at most %(maximum)s.",
        count=p["count"],
        maximum=p["maximum"],
    ),
    "has_z": lambda p: _("Give longitude and latitude only (no height)."),
    "not_finite": lambda p: _("The coordinates must be numbers."),
}


def problem_text(problem: Problem) -> str:
    """A validation problem in the page language (the English message otherwise)."""
    code = problem.code
    if code in ("wrong_type", "boolean_not_allowed"):
        code = "not_a_number" if problem.params.get("type") in NUMBER_TYPES else ""
    make = PROBLEM_TEXTS.get(code)
    return make(problem.params) if make else problem.message


# OGC API exception codes of the HTTP statuses met under /ogc/ outside its handlers
OGC_CODES = {
    400: "InvalidParameterValue",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
}


def _ogc_json_wanted() -> bool:
    """An /ogc/ request whose answer is not asked as HTML."""
    if not request.path.startswith("/ogc/") or request.args.get("f") == "html":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.args.get("f") is not None or best != "text/html"


def status_text(status: int) -> str:
    """What an HTTP error status means for a visitor, in the page language."""
    if status == 404:
        return _(
            "There is no page at this address. Check the address, or start again "
            "from the map."
        )
    if status == 410:
        return _("This page is out of date: the data has changed since. Reload it.")
    if status in (401, 403):
        return _("This page is not open to you.")
    if status == 503:
        return _(
            "The server is busy preparing data for other visitors. Try again in a "
            "few seconds."
        )
    if status >= 500:
        return _("An error on the server stopped this page. Try again later.")
    return _("The request could not be served as it was made.")


# Errors whose own message (translated where it is raised) helps a visitor: a bad
# parameter, a refused action, a body too large. Others are said by their status
# alone, in the page language (the HTTP library's texts are English).
DETAILED = (400, 403, 409, 412, 413, 422, 428)


def error_page(status: int, message: str, detailed: bool = True):
    """The error as an OGC exception (under /ogc/), JSON (API paths, or asked for)
    or the site's error page, all in the page language."""
    if _ogc_json_wanted():
        body = {"code": OGC_CODES.get(status, "ServerError"), "description": message}
        return jsonify(body), status
    wants_json = (
        request.path.startswith(("/api/", "/healthz"))
        or request.accept_mimetypes.best == "application/json"
    )
    if wants_json:
        return jsonify({"error": message, "status": status}), status
    return render_template(
        "public/error.html",
        status=status,
        explain=status_text(status),
        message=message if detailed and status in DETAILED else None,
        lang=current_lang(),
    ), status


def api_error(exc: MapappError):
    """A typed error of an API path as JSON, problems translated; a 412 carries the
    state that was saved first, with its ETag."""
    payload = exc.to_dict()
    problems = getattr(exc, "problems", [])
    for problem, out in zip(problems, payload.get("problems", []), strict=False):
        out["message"] = problem_text(problem)
    current = getattr(exc, "current", None)
    if current is not None:
        payload["current"] = stored_feature(current)
    response = jsonify(payload)
    if current is not None:
        response.headers["ETag"] = f'"{current["version"]}"'
    return response, exc.status


def security_headers(response):
    """Headers of every response: CSP, no sniffing, no framing but /embed, language."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"
    )
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = content_security_policy()
    if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
        response.headers.setdefault("X-Frame-Options", "DENY")
    lang = asked_lang()
    if lang and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure,
            httponly=True,
        )
    return response


# The only requests that may carry a file (the admin upload page); every other body
# is a JSON feature or a small form.
UPLOAD_ENDPOINTS = ("imports.upload",)


def limit_request() -> None:
    """Bound the body of each request before anything reads it (413 beyond), and
    the length of query values (400)."""
    if request.endpoint not in UPLOAD_ENDPOINTS:
        request.max_content_length = MAX_JSON_BODY
        request.max_form_memory_size = MAX_FORM_BODY
    for values in request.args.listvalues():
        if any(len(v) > MAX_QUERY_VALUE for v in values):
            raise BadRequest(
                f"a query value is longer than {MAX_QUERY_VALUE} characters"
            )


def register_limits(app: Flask) -> None:
    """The request limits, checked before anything else looks at a request."""
    app.before_request(limit_request)


def register_handlers(app: Flask) -> None:
    """Error handlers and the security headers of every response."""

    @app.errorhandler(MapappError)
    def handle_mapapp_error(exc: MapappError):
        if request.path.startswith("/api/"):
            response = app.make_response(api_error(exc))
        else:
            response = app.make_response(error_page(exc.status, exc.message))
        if isinstance(exc, Busy):  # heavy work bounded: come back, not queued
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(413)
    def handle_too_large(exc):
        if request.endpoint in UPLOAD_ENDPOINTS:
            message = _(
                "The file is larger than %(limit)s MB: import it with the command "
                "`mapapp import`.",
                limit=app.config.get("UPLOAD_MAX_MB"),
            )
        else:
            message = _(
                "The request is larger than %(limit)s kB.",
                limit=MAX_JSON_BODY // 1024,
            )
        return error_page(413, message)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        response = app.make_response(
            error_page(exc.code or 500, exc.description or exc.name, detailed=False)
        )
        # what the exception says of itself (405: Allow, as RFC 9110 requires)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return error_page(500, "Internal error", detailed=False)

    app.after_request(security_headers)
    app.after_request(cors_headers)
    app.after_request(transport_headers)
