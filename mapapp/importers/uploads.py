"""Files uploaded for an import, kept between the preview and the confirmation.

Each upload gets a folder of its own, named by a random token, holding the file
under its own (cleaned) name and what the preview was asked. The folder goes when
the import is confirmed, when the preview fails, or after ``MAX_AGE_S`` (every
visit of the upload page sweeps the old ones), so nothing piles up. The server's
paths never leave this module: callers get the token and the file's own name.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from pathlib import Path
from typing import BinaryIO

MAX_AGE_S = 3600  # an unconfirmed preview expires after an hour
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")
_META = "upload.json"


def clean_name(filename: str) -> str:
    """A file name safe to keep and to show: no folders, no control characters, no
    leading dot, at most 120 characters (``upload`` when nothing is left)."""
    name = unicodedata.normalize("NFC", str(filename or "")).replace("\\", "/")
    name = name.rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*')
    name = name.strip().lstrip(".").strip()
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        keep_ext = bool(dot) and 0 < len(ext) < 10
        name = f"{stem[: 119 - len(ext)]}.{ext}" if keep_ext else name[:120]
    return name or "upload"


class PendingUploads:
    """The uploads folder of an instance (``<instance>/uploads``)."""

    def __init__(self, folder: Path, max_age: float = MAX_AGE_S):
        self.folder = Path(folder)
        self.max_age = max_age

    def save(self, stream: BinaryIO, filename: str, meta: dict) -> tuple[str, Path]:
        """Keep an uploaded file; return its token and its path (for the preview)."""
        self.sweep()
        token = secrets.token_urlsafe(18)
        folder = self.folder / token
        folder.mkdir(parents=True, mode=0o700)
        path = folder / clean_name(filename)
        if path.name == _META:
            path = folder / f"_{_META}"
        with open(path, "wb") as f:
            shutil.copyfileobj(stream, f, 1 << 20)
        (folder / _META).write_text(
            json.dumps({**meta, "name": path.name}), encoding="utf-8"
        )
        return token, path

    def get(self, token: str) -> tuple[Path, dict] | None:
        """(path, meta) of an upload still pending, or None (unknown, expired)."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return None
        folder = self.folder / token
        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if time.time() - (folder / _META).stat().st_mtime > self.max_age:
            self.discard(token)
            return None
        return folder / meta["name"], meta

    def discard(self, token: str) -> None:
        """Remove an upload and its folder (nothing happens if it is gone)."""
        if isinstance(token, str) and _TOKEN.fullmatch(token):
            shutil.rmtree(self.folder / token, ignore_errors=True)

    def sweep(self) -> int:
        """Remove the uploads older than ``max_age`` and any stray file; return how
        many went."""
        if not self.folder.is_dir():
            return 0
        gone, limit = 0, time.time() - self.max_age
        for entry in os.scandir(self.folder):
            if entry.is_dir(follow_symlinks=False) and _TOKEN.fullmatch(entry.name):
                if entry.stat(follow_symlinks=False).st_mtime < limit:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    gone += 1
            elif (
                entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < limit
            ):
                # leftovers of the older layout (token-name files beside each other)
                Path(entry.path).unlink(missing_ok=True)
                gone += 1
        return gone
