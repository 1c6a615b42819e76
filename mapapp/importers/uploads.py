"""Uploaded files waiting for an import, kept in one place: each upload in its own
folder named by a random token, under its original (cleaned) name so messages and
sources never show a temporary name, with the wizard's state beside it (a dot file:
a cleaned name never starts with a dot). An upload belongs to the account that sent
it, is used once, and is removed after an hour."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import BadRequest, NotFound

MAX_AGE_S = 3600
CHUNK = 1 << 20
STATE = ".state.json"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_UNSAFE = re.compile(r"[^\w.\- ]+")


class TooLarge(BadRequest):
    """An upload over the size limit (nothing is kept)."""

    def __init__(self, name: str, limit_mb: int):
        super().__init__(f"{name}: larger than {limit_mb} MB")
        self.name, self.limit_mb = name, limit_mb


class Expired(NotFound):
    """An upload that is gone (used, cancelled, expired or someone else's)."""

    def __init__(self):
        super().__init__("this upload has expired")


def clean_name(filename: str) -> str:
    """The file's own name without folders or unusual characters (``carte.csv``)."""
    base = os.path.basename((filename or "").replace("\\", "/")).strip()
    base = _UNSAFE.sub("_", base).strip(". ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:80] or "fichier"
    return f"{stem}.{suffix[:10]}" if suffix else stem


@dataclass
class Upload:
    """One uploaded file and the wizard's state for it."""

    token: str
    folder: Path
    name: str
    state: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / self.name

    def save_state(self) -> None:
        """Write the state beside the file (atomically)."""
        tmp = self.folder / (STATE + ".tmp")
        tmp.write_text(json.dumps(self.state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / STATE)


def save(
    root: Path, stream: BinaryIO, filename: str, owner: str, limit_mb: int
) -> Upload:
    """Store an uploaded stream (at most ``limit_mb``) for ``owner``."""
    purge(root)
    token = secrets.token_urlsafe(24)
    folder = Path(root) / token
    folder.mkdir(parents=True, mode=0o700)
    upload = Upload(token, folder, clean_name(filename), {"owner": owner})
    written, limit = 0, int(limit_mb) * 1024 * 1024
    try:
        with open(upload.path, "wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise TooLarge(upload.name, limit_mb)
                out.write(chunk)
        upload.state["created"] = time.time()
        upload.save_state()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return upload


def load(root: Path, token: str, owner: str) -> Upload:
    """The upload of ``token`` if it is ``owner``'s and still there."""
    if not _TOKEN.fullmatch(token or ""):
        raise Expired()
    folder = Path(root) / token
    try:
        state = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise Expired() from None
    files = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
    if state.get("owner") != owner or len(files) != 1:
        raise Expired()
    if time.time() - state.get("created", 0) > MAX_AGE_S:
        discard_folder(folder)
        raise Expired()
    return Upload(token, folder, files[0], state)


def discard(upload: Upload) -> None:
    """Remove an upload and its state."""
    discard_folder(upload.folder)


def discard_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def purge(root: Path, max_age_s: float = MAX_AGE_S) -> int:
    """Remove the uploads older than ``max_age_s``; return how many."""
    root = Path(root)
    if not root.is_dir():
        return 0
    removed, now = 0, time.time()
    for folder in root.iterdir():
        try:
            old = now - folder.stat().st_mtime > max_age_s
        except OSError:
            continue
        if old:
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
            else:
                folder.unlink(missing_ok=True)
            removed += 1
    return removed
