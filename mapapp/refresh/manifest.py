"""The download manifest: for each source, the URL, the date, the size and the
SHA-256 of the file last downloaded, and what its last import kept.

One JSON file (``manifest.json`` in the download folder), replaced atomically, so a
crash never leaves it half written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

NAME = "manifest.json"


def read(folder: Path) -> dict[str, dict]:
    """The manifest's entries by source id (empty when none was written yet)."""
    path = Path(folder) / NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: the next download writes a sound one
    return data.get("sources", {}) if isinstance(data, dict) else {}


def write(folder: Path, entries: dict[str, dict]) -> None:
    """Replace the manifest atomically (written beside it, then renamed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"sources": entries}, ensure_ascii=False, indent=2)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_entry(folder: Path, source_id: str, **values) -> dict:
    """Merge ``values`` into one source's entry and save; return the entry."""
    entries = read(folder)
    entry = {**entries.get(source_id, {}), **values}
    entries[source_id] = entry
    write(folder, entries)
    return entry


def layer_provenance(folder: Path) -> dict[str, dict]:
    """For each layer an update imported into: edition, download date and URL of
    the file it came from (the /data page and the exports show them)."""
    out: dict[str, dict] = {}
    for entry in read(folder).values():
        imported = entry.get("imported") or {}
        layer = imported.get("layer")
        if not layer:
            continue
        seen = out.get(layer)
        if seen and seen["downloaded"] >= entry.get("downloaded", ""):
            continue
        out[layer] = {
            "edition": imported.get("edition"),
            "downloaded": entry.get("downloaded", "")[:10] or None,
            "url": entry.get("url"),
        }
    return out
