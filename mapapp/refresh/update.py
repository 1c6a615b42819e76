"""``mapapp fetch`` and ``mapapp update``: download the official sources, then import
them, with one report.

Idempotent: a file whose checksum has not changed since its last import is not
imported again, and an import that changes nothing writes nothing, so an update
with nothing new leaves the data version where it was. One source failing (a 404,
a truncated download, a file that no longer matches its importer) is reported and
the others go on; the update then ends in error so a timer's log shows it.

A new file that its import rejects (another layout than its source announces, no
row the layer can take) never replaces the last good one: it is kept beside it as
``<file>.rejected``, the previous file goes back in its place with its manifest
entry, and the report says "new file rejected, previous kept". Every imported
feature records the source's publisher, page and licence (the catalogue's) and the
file's edition (the server's ``Last-Modified``, else the download's date).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import MapappError
from ..importers import IMPORTERS, run_import
from ..importers.base import Provenance, file_edition
from . import epci, manifest
from .catalogue import Source, select, sources
from .download import Downloaded, download, previous_path

Progress = Callable[[str, int, int | None], None]


@dataclass
class SourceResult:
    """What happened to one source: fetched, imported, unchanged or failed."""

    source: Source
    downloaded: Downloaded | None = None
    error: str | None = None
    lines: list[str] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class UpdateReport:
    """The results of every source and the data version before and after."""

    results: list[SourceResult]
    version_before: int | None = None
    version_after: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def lines(self) -> list[str]:
        """The report as text lines (the CLI prints them)."""
        out = list(self.notes)
        for r in self.results:
            out.append(f"{r.source.id}: {_status(r)}")
            out += [f"  {line}" for line in r.lines]
        if self.version_before is not None:
            if self.version_after == self.version_before:
                out.append(f"data version {self.version_before}: unchanged")
            else:
                out.append(
                    f"data version {self.version_before} -> {self.version_after}"
                )
        failed = [r.source.id for r in self.results if not r.ok]
        out.append(
            f"{len(self.results) - len(failed)} of {len(self.results)} sources ok"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
        return out


def _status(r: SourceResult) -> str:
    if r.error:
        return f"FAILED: {r.error}"
    return _got(r.downloaded) + ("; imported" if r.imported else "")


def _got(d: Downloaded) -> str:
    """What the download brought: a new file, or the same one."""
    got = (
        f"downloaded {d.size} bytes (sha256 {d.sha256[:12]}…"
        + (f", resumed at byte {d.resumed_from}" if d.resumed_from else "")
        + ")"
        if d.changed
        else f"unchanged since the last download (sha256 {d.sha256[:12]}…)"
    )
    return got


def download_dir(settings) -> Path:
    """Where downloads and their manifest are kept."""
    return settings.download_dir


def coverage_notes(settings) -> list[str]:
    """What the report says when the territory spans départements whose files are
    not downloaded (one département's files per run)."""
    spans = settings.territory.departements
    chosen = settings.departement
    others = [d for d in spans if d != chosen]
    if not others:
        return []
    return [
        f"note: the territory also spans département(s) {', '.join(others)}; these "
        f"are the files of {chosen} (MAPAPP_DEPARTEMENT chooses another)"
    ]


def catalogue_of(settings) -> list[Source]:
    """The catalogue resolved with the settings (département, base URLs)."""
    return sources(settings.departement, str(settings["SOURCE_URLS"]))


def fetch(
    settings, ids: list[str] | None = None, progress: Progress | None = None
) -> list[SourceResult]:
    """Download the sources named (all by default); record each in the manifest."""
    folder = download_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for source in select(catalogue_of(settings), ids):
        results.append(fetch_one(source, folder, progress))
    return results


def fetch_one(
    source: Source, folder: Path, progress: Progress | None = None
) -> SourceResult:
    """Download one source into ``folder``; a failure is recorded, not raised."""
    previous = manifest.read(folder).get(source.id, {})
    if previous.get("url") != source.url:
        previous = {}  # another URL: nothing to compare with
    step = (lambda done, total: progress(source.id, done, total)) if progress else None
    try:
        got = download(
            source.url,
            folder / source.file,
            source.max_bytes,
            previous,
            step,
            hosts=source.redirect_hosts,
        )
    except MapappError as exc:
        return SourceResult(source, error=exc.message)
    if got.changed or not previous:
        entry = manifest.read(folder).get(source.id, {})
        if got.previous and "previous" not in entry and previous:
            # the manifest entry of the file moved aside, to put back with it
            kept = {k: previous.get(k) for k in DOWNLOAD_FIELDS}
            manifest.update_entry(folder, source.id, previous=kept)
        manifest.update_entry(
            folder,
            source.id,
            url=source.url,
            file=source.file,
            downloaded=datetime.now(UTC).isoformat(timespec="seconds"),
            size=got.size,
            sha256=got.sha256,
            etag=got.etag,
            last_modified=got.last_modified,
        )
    return SourceResult(source, downloaded=got)


# What the manifest says of a download (the rest says what its import kept).
DOWNLOAD_FIELDS = (
    "url",
    "file",
    "downloaded",
    "size",
    "sha256",
    "etag",
    "last_modified",
)


def update(
    site, ids: list[str] | None = None, progress: Progress | None = None
) -> UpdateReport:
    """Fetch the sources, then import each one whose file changed since its last
    import (see the module docstring)."""
    folder = download_dir(site.settings)
    report = UpdateReport(fetch(site.settings, ids, progress))
    report.notes = coverage_notes(site.settings)
    report.version_before = site.data_version()
    by_id = {r.source.id: r for r in report.results}
    replaced: set[str] = set()
    for result in report.results:
        if result.ok and result.source.kind:
            # an official file replaces its importer's layer unless its catalogue
            # entry says merge, so the later files of a re-imported layer follow it
            importer = IMPORTERS.get(result.source.kind)
            layer = importer.layer if importer else None
            _import(site, result, by_id, folder, force=layer in replaced)
            if result.imported and result.source.options.get("mode") != "merge":
                replaced.add(layer)
    report.version_after = site.data_version()
    return report


def _import(
    site, result: SourceResult, by_id: dict, folder: Path, force: bool = False
) -> None:
    source, got = result.source, result.downloaded
    entry = manifest.read(folder).get(source.id, {})
    options = dict(source.options)
    joined = options.pop("eligibility", None)
    if joined:
        if joined in by_id and not by_id[joined].ok:
            result.error = f"needs {joined}, which failed"
            return
        options["eligibility"] = folder / by_id[joined].source.file
    fingerprint = got.sha256 + (f"+{_sha_of(by_id, joined)}" if joined else "")
    if not force and (entry.get("imported") or {}).get("fingerprint") == fingerprint:
        result.lines.append("already imported, nothing to do")
        return
    try:
        if source.kind == "epci":
            result.lines += epci.check(got.path, site.territory)
            imported = {"layer": None}
        else:
            imported = _run(site, source, got, options, result)
    except MapappError as exc:
        result.error = _rejected(folder, source, got, exc.message)
        return
    result.imported = True
    manifest.update_entry(
        folder, source.id, imported={**imported, "fingerprint": fingerprint}
    )
    _forget_previous(folder, source, got)


def _forget_previous(folder: Path, source: Source, got: Downloaded) -> None:
    """The new file is imported: it is the good one now."""
    previous_path(got.path).unlink(missing_ok=True)
    entries = manifest.read(folder)
    if "previous" in entries.get(source.id, {}):
        entries[source.id].pop("previous")
        manifest.write(folder, entries)


def _rejected(folder: Path, source: Source, got: Downloaded, reason: str) -> str:
    """A file its import refused: a new one is set aside as ``<file>.rejected``
    and the previous file (with its manifest entry) put back; what to report."""
    kept = previous_path(got.path)
    if not got.changed and not kept.is_file():  # the file imported before
        return f"import failed, the store is unchanged: {reason}"
    rejected = got.path.with_name(got.path.name + ".rejected")
    os.replace(got.path, rejected)
    entries = manifest.read(folder)
    entry = entries.get(source.id, {})
    back = entry.pop("previous", None)
    for key in DOWNLOAD_FIELDS:
        entry.pop(key, None)
    entry["rejected"] = {
        "file": rejected.name,
        "sha256": got.sha256,
        "size": got.size,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "reason": reason,
    }
    restored = kept.is_file()
    if restored:
        os.replace(kept, got.path)
        entry.update(back or {})
    entries[source.id] = entry
    manifest.write(folder, entries)
    what = "previous kept" if restored else "no previous file to keep"
    return (
        f"new file rejected, {what} ({_got(got)}, set aside as {rejected.name}): "
        f"{reason}"
    )


def provenance_of(source: Source) -> Provenance:
    """What every feature imported from a source records: its publisher, the
    dataset's title (the catalogue's title after "Publisher – "), its page and
    licence."""
    title = source.title.split(" – ", 1)[-1]
    return Provenance(source.publisher, title, source.page, source.licence)


def _run(site, source: Source, got: Downloaded, options: dict, result) -> dict:
    # the publisher's date of the file, else the day it was downloaded
    edition = got.edition or file_edition(got.path)
    report = run_import(
        site.store,
        source.kind,
        got.path,
        edition=edition,
        author="mapapp update",
        layout=source.layout,
        provenance=provenance_of(source),
        **options,
    )
    result.lines += report.lines()
    return {
        "layer": report.layer,
        "edition": edition,
        "kept": report.kept,
        "data_version": report.data_version,
    }


def _sha_of(by_id: dict, source_id: str) -> str:
    found = by_id.get(source_id)
    return found.downloaded.sha256 if found and found.downloaded else ""
