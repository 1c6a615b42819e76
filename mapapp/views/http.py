"""Web helpers shared by every blueprint: the site, conditional responses, CSP.

Every cached body goes out through :func:`send_payload`: ETag and ``304`` by
werkzeug's conditional-request handling, gzip when the browser accepts it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re

from flask import current_app, request, send_file

from ..cache import Payload, StoredBody
from ..exports import csv_text  # noqa: F401 - the one CSV writer, for the blueprints
from ..site import Site


def site() -> Site:
    """The running site of this app (see mapapp/site.py)."""
    return current_app.extensions["mapapp.site"]


def send_payload(
    payload: Payload,
    mimetype: str,
    vary: str = "Accept-Encoding, Accept-Language, Cookie",
    cache_control: str = "no-cache",
):
    """A response for a prepared body: ``304`` on a matching If-None-Match, else the
    gzip or plain body, with its ETag."""
    use_gzip = payload.gzip is not None and "gzip" in request.headers.get(
        "Accept-Encoding", ""
    )
    response = current_app.response_class(
        payload.gzip if use_gzip else payload.body, mimetype=mimetype
    )
    return _conditional(response, payload.etag, use_gzip, vary, cache_control)


def _conditional(response, etag: str, use_gzip: bool, vary: str, cache_control: str):
    """A prepared body's response with its headers, ``304`` on a matching
    If-None-Match (send_payload and send_stored alike)."""
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Vary"] = vary
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


def send_stored(
    stored: StoredBody,
    mimetype: str,
    vary: str = "Accept-Encoding, Accept-Language, Cookie",
    cache_control: str = "no-cache",
):
    """A response streaming a body kept in a file (its gzip when the browser
    accepts it), with its ETag and ``304`` on a matching If-None-Match."""
    use_gzip = stored.gzip_path is not None and "gzip" in request.headers.get(
        "Accept-Encoding", ""
    )
    path = stored.gzip_path if use_gzip else stored.path
    response = send_file(
        path, mimetype=mimetype, conditional=False, etag=False, max_age=None
    )
    return _conditional(response, stored.etag, use_gzip, vary, cache_control)


def attachment(body: bytes | str, mimetype: str, filename: str):
    """A private download (planners' files): never cached by the browser or a proxy."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def map_scripts(parts: dict) -> tuple[str, ...]:
    """The inline scripts of a folium map's parts: those of its header (folium's
    own settings, no data in them) and the map's script."""
    return (*_INLINE_SCRIPT.findall(parts["header"]), parts["script"])


def _hashes(bodies) -> tuple[str, ...]:
    out = set()
    for body in bodies:
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        out.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return tuple(sorted(out))


def script_hashes(*scripts: str) -> tuple[str, ...]:
    """CSP source expressions (``'sha256-…'``) of the app's own inline scripts, from
    the text the app wrote, never from the rendered page: a script that data
    managed to open in the page would not match any of them, and would not run."""
    return _hashes(scripts)


def inline_style_hashes(html: str) -> tuple[str, ...]:
    """CSP source expressions of every ``<style>`` element of a page (folium writes
    the map's size in three of them); style attributes are never allowed."""
    return _hashes(_INLINE_STYLE.findall(html))


def content_security_policy(
    script_hashes: tuple[str, ...] = (),
    frame_ancestors: str = "'none'",
    style_hashes: tuple[str, ...] = (),
) -> str:
    """The CSP of a page: scripts and styles from this server, and the page's own
    inline ones by hash; nothing inline otherwise."""
    tiles = site().tiles
    img = "'self' data:"
    if tiles.url:
        host = re.match(r"^(https?://[^/]+)", tiles.url.replace("{s}.", "*."))
        img += f" {host.group(1)}" if host else ""
    scripts = " ".join(["'self'", *script_hashes])
    styles = " ".join(["'self'", *style_hashes])
    return (
        f"default-src 'self'; script-src {scripts}; style-src {styles}; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


def html_page(
    html: str,
    frame_ancestors: str = "'none'",
    private: bool = False,
    scripts: tuple[str, ...] = (),
):
    """An HTML response whose CSP allows the app's own inline ``scripts`` and the
    page's styles (by hash)."""
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(
        script_hashes(*scripts), frame_ancestors, inline_style_hashes(html)
    )
    if private:
        response.headers["Cache-Control"] = "private, no-store"
        _compress(response)
    return response


GZIP_FROM_BYTES = 16_000  # a planner's page (the workspace: ~200 kB) goes gzipped


def _compress(response) -> None:
    """Gzip a large private page (never cached, so made for this one request) when
    the browser accepts it: the workspace arrives in a third of the time on a phone."""
    body = response.get_data()
    if len(body) < GZIP_FROM_BYTES or "gzip" not in request.headers.get(
        "Accept-Encoding", ""
    ):
        return
    response.set_data(gzip.compress(body, 5))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
