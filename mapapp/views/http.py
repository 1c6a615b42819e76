"""Web helpers shared by every blueprint: the site, conditional responses, CSP.

Every cached body goes out through :func:`send_payload`: ETag and ``304`` by
werkzeug's conditional-request handling, gzip when the browser accepts it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import threading

from flask import current_app, request
from werkzeug.wsgi import wrap_file

from ..cache import Payload, StoredBody
from ..errors import Busy
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
    gzip or plain body, with its ETag (a large one through :func:`_bulk`)."""
    use_gzip = payload.gzip is not None and "gzip" in request.headers.get(
        "Accept-Encoding", ""
    )
    body = payload.gzip if use_gzip else payload.body
    if len(body) <= BIG_BODY or _fresh(payload.etag, use_gzip):
        response = current_app.response_class(body, mimetype=mimetype)
    else:
        response = _bulk(_Sent(io.BytesIO(body)), len(body), mimetype)
    return _conditional(response, payload.etag, use_gzip, vary, cache_control)


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
    if _fresh(stored.etag, use_gzip):
        response = current_app.response_class(b"", mimetype=mimetype)
    else:
        path = stored.gzip_path if use_gzip else stored.path
        opened = open(path, "rb")  # noqa: SIM115 - closed by the server once sent
        size = os.fstat(opened.fileno()).st_size
        response = _bulk(_Sent(opened), size, mimetype)
    return _conditional(response, stored.etag, use_gzip, vary, cache_control)


# A body larger than BIG_BODY goes to the server as a file it sends from (the
# cached bytes, or the stored file), never copied into its buffers: waitress
# spools a copy over 1 MB to a temporary file that its main loop reads back (two
# hundred readers of a million companies' points stopped the server for seconds).
# At most BULK_SENDS such bodies are being sent at once per process (503 with
# Retry-After beyond): the main loop sends each a share per turn (server.py), so
# their number bounds how long a turn, and an answer to anyone else, takes.
BIG_BODY = 256 * 1024
BULK_SENDS = 16
_BULK = threading.BoundedSemaphore(BULK_SENDS)


class _Sent(io.RawIOBase):
    """A body's file that gives its turn back (one of BULK_SENDS) when the
    server closes it: sent, or its client gone."""

    def __init__(self, file):
        super().__init__()
        self._file = file
        self._held = False

    def hold(self) -> bool:
        self._held = _BULK.acquire(blocking=False)
        return self._held

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def fileno(self) -> int:
        """The file's descriptor, that the server sends from (``sendfile``);
        bytes in memory have none (OSError)."""
        return self._file.fileno()

    @property
    def memory(self):
        """For bytes in memory: a function giving a view of them, that the
        server sends from without a copy (None for a file on disk)."""
        if isinstance(self._file, io.BytesIO):
            return self._file.getbuffer
        return None

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            if self._held:
                self._held = False
                _BULK.release()
        super().close()


def _bulk(file: _Sent, size: int, mimetype: str):
    """The response sending ``file`` (``size`` bytes), in one of BULK_SENDS turns
    (Busy, a 503 with Retry-After, when none is free)."""
    if not file.hold():
        file.close()
        raise Busy(
            f"{BULK_SENDS} large bodies are being sent already: ask again in a moment",
            retry_after=2,
        )
    response = current_app.response_class(
        wrap_file(request.environ, file), mimetype=mimetype, direct_passthrough=True
    )
    response.content_length = size
    return response


def _fresh(etag: str, use_gzip: bool) -> bool:
    """True when the client holds this body already (:func:`_conditional` then
    answers ``304``, as werkzeug decides it: a GET or HEAD whose If-None-Match
    names the ETag)."""
    return request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(
        etag
    )


def _conditional(response, etag: str, use_gzip: bool, vary: str, cache_control: str):
    """A prepared body's response with its headers, ``304`` on a matching
    If-None-Match (send_payload and send_stored alike)."""
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Vary"] = vary
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


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
