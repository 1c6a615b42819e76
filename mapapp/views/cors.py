"""Which answers other websites may read (CORS), and the transport headers of every
response (HSTS, no caching of planners' answers).

The public, read-only routes (the layers' data, search, places, the API
definitions, liveness, OGC API - Features, the downloads) are readable from any
origin, their errors included, and their preflights are answered (a conditional GET
with ``If-None-Match`` is one). Planner and private routes never are: their answers
carry no ``Access-Control-Allow-*`` header, so a browser keeps them from any other
site, and they are never stored by a cache.
"""

from __future__ import annotations

import re

from flask import current_app, request

# Paths of the public read-only routes (errors on them are public too). Nothing
# else under /api/ (features, history, deleted items, analyses) ever matches.
PUBLIC_PATH = re.compile(
    r"^/(?:healthz|ogc(?:/.*)?|download/[^/]+"
    r"|api/(?:openapi\.json|layers|search|places|places/here"
    r"|layers/[^/]+\.(?:geojson|points|bin|overview)|layers/[^/]+/items/[^/]+"
    r"|layers/[^/]+/tiles/\d+/\d+/\d+\.bin))$"
)
READ_METHODS = "GET, HEAD, OPTIONS"
# request headers a page on another site may send (the conditional ones make a
# fetch "non-simple", so the browser asks first)
ALLOWED_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Language",
    "If-Modified-Since",
    "If-None-Match",
)
# what a script on another site may read of an answer besides the simple headers
EXPOSED_HEADERS = "Content-Crs, ETag, Link, Allow, Content-Disposition"
PREFLIGHT_MAX_AGE = "86400"
HSTS = "max-age=31536000"


def is_public(response) -> bool:
    """A public read-only answer: a public path, and not a private variant of it
    (a signed-in planner's ``include=unpublished`` answer is ``private``)."""
    if not PUBLIC_PATH.match(request.path):
        return False
    return "private" not in (response.headers.get("Cache-Control") or "")


def cors_headers(response):
    """Let any origin read a public answer, and answer its preflight."""
    if not is_public(response):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = READ_METHODS
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    vary = response.headers.get("Vary")
    if request.method == "OPTIONS" and "Origin" not in (vary or ""):
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    return response


def planner_answer() -> bool:
    """A request to a planner route (one guarded by ``login_required``)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "mapapp_role", None) is not None


def transport_headers(response):
    """HSTS over HTTPS; planners' answers never stored by any cache."""
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if planner_answer() and "no-store" not in (
        response.headers.get("Cache-Control") or ""
    ):
        response.headers["Cache-Control"] = "private, no-store"
    return response
