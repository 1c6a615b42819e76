"""``mapapp fetch`` and ``mapapp update``: download the official sources, then import
them, with one report.

Idempotent: a file whose checksum has not changed since its last import is not
imported again, and an import that changes nothing writes nothing, so an update
with nothing new leaves the data version where it was. One source failing (a 404,
a truncated download, a file that no longer matches its importer) is reported and
the others go on; the update then ends in error so a timer's log shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import MapappError
from ..importers import IMPORTERS, run_import
from . import epci, manifest
from .catalogue import Source, select, sources
from .download import Downloaded, download

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
    d = r.downloaded
    got = (
        f"downloaded {d.size} bytes (sha256 {d.sha256[:12]}…"
        + (f", resumed at byte {d.resumed_from}" if d.resumed_from else "")
        + ")"
        if d.changed
        else f"unchanged since the last download (sha256 {d.sha256[:12]}…)"
    )
    return got + ("; imported" if r.imported else "")


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
        result.error = f"import failed, the store is unchanged: {exc.message}"
        return
    result.imported = True
    manifest.update_entry(
        folder, source.id, imported={**imported, "fingerprint": fingerprint}
    )


def _run(site, source: Source, got: Downloaded, options: dict, result) -> dict:
    edition = got.edition or datetime.now(UTC).strftime("%Y-%m")
    report = run_import(
        site.store,
        source.kind,
        got.path,
        edition=edition,
        author="mapapp update",
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
