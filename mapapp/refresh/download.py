"""Downloads of official files: resumable, capped in size, checked, atomic.

A download goes to ``<file>.part`` and is renamed to ``<file>`` only when complete,
so the last good file stays in place whatever happens. A complete file that differs
from the one in place moves that one aside to ``<file>.previous`` (kept until the
new file is imported: ``mapapp update`` puts it back when the new one is rejected).
An interrupted download is resumed from where it stopped (HTTP ``Range``); a
server that ignores the range is read again from the start. A file larger than the
source's cap is refused before or while it arrives, and a compressed file that
expands too far (a zip bomb: :func:`mapapp.limits.unpack_limit`) is refused and
removed before it takes the place of the last good one. The server's
``ETag``/``Last-Modified`` are sent back on the next run, so an unchanged file is
not downloaded again (``304``).

Only ``http`` and ``https`` are spoken, and a redirect is followed only to the
source's own host or to a host the catalogue lists for it (``redirect_hosts``): a
publisher's server, or a mirror, cannot send the download to an internal address,
a file, or ``ftp://``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ..errors import BadRequest
from ..importers.reading import ImportFileError, check_unpacked

BLOCK = 1 << 16
TIMEOUT_S = 60
USER_AGENT = "mapapp open-data refresh"


class DownloadError(BadRequest):
    """A download that failed; the message says what and where."""


@dataclass
class Downloaded:
    """What one download brought: the file, its size and checksum, and whether it
    changed since the previous download."""

    path: Path
    size: int
    sha256: str
    changed: bool
    resumed_from: int = 0
    etag: str | None = None
    last_modified: str | None = None
    # the file it replaced, kept beside it until the new one is imported
    previous: Path | None = None

    @property
    def edition(self) -> str | None:
        """The publisher's date of the file (``Last-Modified``) as ``YYYY-MM``."""
        if not self.last_modified:
            return None
        try:
            return parsedate_to_datetime(self.last_modified).strftime("%Y-%m")
        except (TypeError, ValueError):
            return None


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _request(url: str, start: int, previous: dict) -> urllib.request.Request:
    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    elif previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    elif previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    return urllib.request.Request(url, headers=headers)  # noqa: S310 - checked scheme


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only over http(s), to the hosts a source allows."""

    max_redirections = 5

    def __init__(self, url: str, hosts: tuple[str, ...]):
        self.origin = urlsplit(url).netloc.lower()
        self.hosts = {h.lower() for h in hosts}

    def http_error_302(self, req, fp, code, msg, headers):
        newurl = urljoin(req.full_url, headers.get("Location") or "")
        target = urlsplit(newurl)
        allowed = (
            target.netloc.lower() == self.origin
            or (target.hostname or "").lower() in self.hosts
        )
        if target.scheme not in ("http", "https") or not allowed:
            raise DownloadError(
                f"{req.full_url}: redirected to {newurl[:200]}, which is not the "
                "source's host nor one the catalogue lists for it (redirect_hosts); "
                "nothing was downloaded"
            )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_302
    http_error_308 = http_error_302


def _opener(url: str, hosts: tuple[str, ...]) -> urllib.request.OpenerDirector:
    """An opener that speaks only http(s) (no file:, ftp: nor data: handler)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        _Redirects(url, hosts),
    ):
        opener.add_handler(handler)
    return opener


def _open(url: str, start: int, previous: dict, hosts: tuple[str, ...] = ()):
    """The HTTP response, or None for 304 Not Modified; DownloadError otherwise."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url}: only http and https URLs are downloaded")
    try:
        return _opener(url, hosts).open(
            _request(url, start, previous), timeout=TIMEOUT_S
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        if exc.code == 416 and start:
            return "restart"
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{url}: cannot connect ({reason})") from None


def download(
    url: str,
    dest: Path,
    max_bytes: int,
    previous: dict | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    hosts: tuple[str, ...] = (),
) -> Downloaded:
    """Download ``url`` to ``dest`` (resuming ``dest.part``); see the module doc.

    ``previous`` is the manifest entry of the last download (ETag, Last-Modified,
    SHA-256); ``progress(done, total)`` is called as bytes arrive; ``hosts`` are
    the other hosts a redirect may lead to.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    previous = previous or {}
    start = part.stat().st_size if part.is_file() else 0
    response = _open(url, start, previous if dest.is_file() else {}, hosts)
    if response == "restart":  # the part is already complete or stale
        part.unlink()
        start, response = 0, _open(url, 0, {}, hosts)
    if response is None:
        return _unchanged(dest, previous)
    with response:
        if start and response.status != 206:
            start = 0  # the server sent the whole file: read it again
        total = _expected_total(response, start, max_bytes, url)
        size = _receive(response, part, start, total, max_bytes, progress, url)
    if total is not None and size < total:
        raise DownloadError(
            f"{url}: truncated, {size} of {total} bytes arrived; run again to "
            "resume the download"
        )
    try:
        check_unpacked(part)
    except ImportFileError as exc:
        part.unlink()
        reason = exc.message.replace(part.name, dest.name)
        raise DownloadError(f"{url}: {reason}; download removed") from None
    digest = sha256_of(part)
    changed = digest != previous.get("sha256")
    kept = keep_previous(dest) if changed else None
    os.replace(part, dest)
    return Downloaded(
        dest,
        size,
        digest,
        changed=changed,
        resumed_from=start,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        previous=kept,
    )


def previous_path(dest: Path) -> Path:
    """Where the file a new download replaced is kept: ``<file>.previous``."""
    return dest.with_name(dest.name + ".previous")


def keep_previous(dest: Path) -> Path | None:
    """Move the file in place aside before a new one takes its name; one already
    kept (the last one imported, a newer one not imported yet) stays."""
    kept = previous_path(dest)
    if kept.is_file():
        return kept
    if not dest.is_file():
        return None
    os.replace(dest, kept)
    return kept


def _unchanged(dest: Path, previous: dict) -> Downloaded:
    size = dest.stat().st_size
    return Downloaded(
        dest,
        size,
        previous.get("sha256") or sha256_of(dest),
        changed=False,
        etag=previous.get("etag"),
        last_modified=previous.get("last_modified"),
    )


def _expected_total(response, start: int, max_bytes: int, url: str) -> int | None:
    length = response.headers.get("Content-Length")
    total = start + int(length) if length and length.isdigit() else None
    if total is not None and total > max_bytes:
        raise DownloadError(
            f"{url}: {total} bytes announced, more than the {max_bytes} bytes "
            "accepted for this source (its max_mb in the catalogue)"
        )
    return total


def _receive(response, part, start, total, max_bytes, progress, url) -> int:
    """Write the body to ``part`` (appending after ``start``); return its size."""
    size = start
    with open(part, "ab" if start else "wb") as out:
        try:
            while block := response.read(BLOCK):
                size += len(block)
                if size > max_bytes:
                    out.close()
                    part.unlink()
                    raise DownloadError(
                        f"{url}: more than the {max_bytes} bytes accepted for this "
                        "source; download stopped and removed"
                    )
                out.write(block)
                if progress:
                    progress(size, total)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            out.flush()
            raise DownloadError(
                f"{url}: connection lost after {size} bytes ({exc}); run again "
                "to resume the download"
            ) from None
        out.flush()
        os.fsync(out.fileno())
    return size
