"""Flask wiring: blueprints, language choice, store access, errors, security headers."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections import OrderedDict
from pathlib import Path
from threading import Lock
from urllib.parse import urlencode

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import Babel
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..config import parse_bbox, resource_dir
from ..errors import MapappError
from ..maps.geojson import stored_feature
from ..maps.snapshots import LayerSnapshots
from ..maps.tiles import resolve_tiles
from ..store import Store, init_store, open_store

LANGS = ("fr", "en")
LANG_COOKIE = "mapapp_lang"


def current_lang() -> str:
    """The page language: ``?lang=``, then the cookie, then Accept-Language."""
    cached = g.get("lang")
    if cached:
        return cached
    lang = request.args.get("lang", "").lower()
    if lang not in LANGS:
        lang = request.cookies.get(LANG_COOKIE, "")
    if lang not in LANGS:
        lang = request.accept_languages.best_match(
            LANGS, default=current_app.config["DEFAULT_LANG"]
        )
    if lang not in LANGS:
        lang = "fr"
    g.lang = lang
    return lang


def get_store() -> Store:
    """The application's store."""
    return current_app.extensions["mapapp.store"]


def snapshot(name: str, full: bool = False):
    """The current published snapshot of a layer (see maps/snapshots.py)."""
    return current_app.extensions["mapapp.snapshots"].get(get_store(), name, full)


def store_url(app: Flask) -> str:
    """Where the store lives: MAPAPP_DATABASE_URL or the instance GeoPackage."""
    url = app.config.get("DATABASE_URL") or ""
    return url or str(Path(app.instance_path) / "mapapp.gpkg")


def seed_dir(app: Flask) -> Path:
    """The seed data folder: MAPAPP_DATA_DIR or the shipped ``geodata/``."""
    return Path(app.config["DATA_DIR"] or resource_dir("geodata"))


def send_cached(item: dict, mimetype: str):
    """A response for a cached item: 304, gzip or plain, with its ETag."""
    if request.if_none_match.contains(item["etag"]):
        response = current_app.response_class(status=304)
    else:
        use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        response = current_app.response_class(
            item["gzip"] if use_gzip else item["body"], mimetype=mimetype
        )
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(item["etag"])
    response.headers["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
    return response


class PageCache:
    """Rendered pages keyed by (data version, page, options, language); LRU-bounded.

    Each entry keeps the body, its gzip, its ETag and its Content-Security-Policy,
    all computed once.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple) -> dict | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple, body: str, html: bool = True) -> dict:
        raw = (
            body.encode("utf-8")
            if html or not key[0] == "download"
            else body.encode("latin-1")
        )
        digest = hashlib.sha256(repr(key).encode() + raw).hexdigest()[:20]
        item = {
            "body": raw,
            "gzip": gzip.compress(raw, 6),
            "etag": digest,
            "script_hashes": inline_script_hashes(body) if html else [],
        }
        with self._lock:
            self._items[key] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) of every inline script of a page."""
    out = []
    for body in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(
            hashlib.sha256(body.encode("utf-8")).digest()
        ).decode()
        out.append(f"'sha256-{digest}'")
    return sorted(set(out))


def content_security_policy(
    app: Flask, script_hashes: list[str] | None = None, frame_ancestors: str = "'none'"
) -> str:
    """The CSP of a page: scripts from this server (and hashed inline ones) only."""
    tiles = app.extensions["mapapp.tiles"]
    img = "'self' data:"
    if tiles.url:
        host = re.match(r"^(https?://[^/]+)", tiles.url.replace("{s}.", "*."))
        img += f" {host.group(1)}" if host else ""
    scripts = " ".join(["'self'"] + (script_hashes or []))
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


# The validation messages of layers.validate_records a planner can meet on the map,
# in the page language (the core speaks English; the others stay as they are).
_PROBLEMS = [
    (re.compile(r"required field is missing or empty"), lambda m: _("Required.")),
    (
        re.compile(r"(?P<v>.+) is below the minimum (?P<n>.+)"),
        lambda m: _("Must be at least %(min)s.", min=m["n"]),
    ),
    (
        re.compile(r"(?P<v>.+) is above the maximum (?P<n>.+)"),
        lambda m: _("Must be at most %(max)s.", max=m["n"]),
    ),
    (re.compile(r"expected (int|float), got .*"), lambda m: _("A number is needed.")),
    (
        re.compile(r"'(?P<v>.*)' is not one of: .*"),
        lambda m: _("%(value)s is not an allowed value.", value=m["v"]),
    ),
    (re.compile(r"outside the study area.*"), lambda m: _("Outside the study area.")),
    (
        re.compile(r"latitude and longitude look swapped.*"),
        lambda m: _("Latitude and longitude look swapped."),
    ),
    (
        re.compile(r"invalid geometry: (?P<r>.*)"),
        lambda m: _("Invalid shape: %(reason)s.", reason=m["r"]),
    ),
    (re.compile(r"missing or empty geometry"), lambda m: _("The place is missing.")),
]


def translate_problem(message: str) -> str:
    """A validation message in the page language (unknown ones unchanged)."""
    for pattern, make in _PROBLEMS:
        match = pattern.fullmatch(message)
        if match:
            return make(match)
    return message


def _error_response(status: int, message: str):
    wants_json = (
        request.path.startswith(("/api/", "/healthz"))
        or request.accept_mimetypes.best == "application/json"
    )
    if wants_json:
        return jsonify({"error": message, "status": status}), status
    return render_template(
        "public/error.html", status=status, message=message, lang=current_lang()
    ), status


def init_app(app: Flask) -> None:
    """Attach the store, translations, blueprints and handlers to ``app``."""
    app.config["STUDY_AREA_BBOX"] = parse_bbox(app.config["STUDY_AREA"])
    app.extensions["mapapp.tiles"] = resolve_tiles(
        app.config["TILES"], app.config["TILES_ATTRIBUTION"]
    )
    store = open_store(store_url(app), app.config["STUDY_AREA_BBOX"])
    init_store(store, seed_dir(app))  # first start only: an existing store is kept
    app.extensions["mapapp.store"] = store
    app.extensions["mapapp.pages"] = PageCache()
    app.extensions["mapapp.snapshots"] = LayerSnapshots()

    Babel(
        app,
        locale_selector=current_lang,
        default_translation_directories=str(
            Path(__file__).parent.parent / "translations"
        ),
    )

    from . import api, auth, imports, ogc, planner, public

    auth.init_auth(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(planner.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(ogc.bp)

    @app.context_processor
    def template_helpers():
        def lang_query(lang: str) -> str:
            args = request.args.to_dict()
            args["lang"] = lang
            return urlencode(args)

        return {"lang_query": lang_query, "url_map_endpoints": set(app.view_functions)}

    @app.errorhandler(MapappError)
    def handle_mapapp_error(exc: MapappError):
        if request.path.startswith("/api/"):
            payload = exc.to_dict()
            for problem in payload.get("problems", []):
                problem["message"] = translate_problem(problem["message"])
            current = getattr(exc, "current", None)
            if current is not None:  # 412: the state that was saved first
                payload["current"] = stored_feature(current)
            response = jsonify(payload)
            if current is not None:
                response.headers["ETag"] = f'"{current["version"]}"'
            return response, exc.status
        return _error_response(exc.status, exc.message)

    @app.errorhandler(413)
    def handle_too_large(exc):
        limit = app.config.get("UPLOAD_MAX_MB")
        return _error_response(
            413,
            _(
                "The file is larger than %(limit)s MB: import it "
                "with the command `mapapp import`.",
                limit=limit,
            ),
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        return _error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return _error_response(500, "Internal error / Erreur interne")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault(
            "Referrer-Policy", "strict-origin-when-cross-origin"
        )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"
        )
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy(app)
        if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
            response.headers.setdefault("X-Frame-Options", "DENY")
        lang = request.args.get("lang", "").lower()
        if lang in LANGS and request.cookies.get(LANG_COOKIE) != lang:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=request.is_secure,
                httponly=True,
            )
        return response
