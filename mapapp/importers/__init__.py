"""Importers of official French open data, one module per format, chosen by name.

Every importer reads a file into the rows of one layer and returns an
:class:`ImportReport`: rows read, kept, dropped by reason with a few examples. The
rows are validated against the layer's schema; file-level problems raise
:class:`~.reading.ImportFileError` before anything is written. Writing is one
transaction of the store (``replace`` the layer, or ``merge`` by id), and only when
something changes, so the data version moves only then.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..errors import BadRequest
from ..layers import get_spec, to_frame, validate_records
from ..store import Store
from .reading import ImportFileError

EXAMPLES = 3


@dataclass
class ImportReport:
    """What an import read, kept and dropped, and whether it wrote."""

    kind: str
    file: str
    layer: str
    mode: str = "replace"
    rows_read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # validation drops: reason -> {field, code, params, labels}, for translations
    codes: dict[str, dict] = field(default_factory=dict)
    written: bool = False
    dry_run: bool = False
    would_change: bool = False
    data_version: int | None = None
    frame: gpd.GeoDataFrame | None = field(default=None, repr=False)
    # How the import writes when it is not a layer (the addresses): (store,
    # report, dry_run) -> report; None writes ``frame`` into ``layer``.
    apply: Callable | None = field(default=None, repr=False)

    def drop(self, reason: str, example: str, count: int = 1) -> None:
        """Count ``count`` rows dropped for ``reason``, keeping a few examples."""
        self.dropped[reason] = self.dropped.get(reason, 0) + count
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append(example)

    def dropped_summary(self) -> str:
        """ "N dropped: n1 reason1; n2 reason2…" (the five largest reasons)."""
        reasons = sorted(self.dropped.items(), key=lambda kv: -kv[1])
        why = "; ".join(f"{count} {reason}" for reason, count in reasons[:5])
        return f"{sum(self.dropped.values())} dropped" + (f": {why}" if why else "")

    def lines(self) -> list[str]:
        """The report as text lines (the CLI prints them; the upload page shows them)."""
        out = [
            f"{self.kind} import of {self.file} into layer {self.layer!r} "
            f"({self.mode}): {self.rows_read} rows read, {self.kept} kept, "
            f"{sum(self.dropped.values())} dropped"
        ]
        for reason, count in sorted(self.dropped.items(), key=lambda kv: -kv[1]):
            out.append(f"  dropped {count}: {reason}")
            for example in self.examples.get(reason, []):
                out.append(f"      e.g. {example}")
        out += [f"  note: {n}" for n in self.notes]
        if self.written:
            out.append(f"  written: data version {self.data_version}")
        elif self.dry_run:
            change = "would change the layer" if self.would_change else "no change"
            out.append(f"  nothing written (dry run): {change}")
        else:
            out.append("  nothing written: no change")
        return out

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("frame", "apply")}


Reader = Callable[..., ImportReport]
IMPORTERS: dict[str, Reader] = {}


def register(kind: str):
    """Register an importer under ``kind`` (built-ins use this too)."""

    def decorator(fn: Reader) -> Reader:
        IMPORTERS[kind] = fn
        return fn

    return decorator


def finish(report: ImportReport, rows: list[dict], geoms: list, area) -> ImportReport:
    """Validate rows against the layer, drop the bad ones with their reason, build the
    frame; merge duplicates by id (the last one wins, counted)."""
    spec = get_spec(report.layer)
    by_id: dict[str, int] = {}
    records = []
    for props, geom in zip(rows, geoms, strict=True):
        rec = {"properties": props, "geometry": geom}
        if props["id"] in by_id:
            report.drop(
                "duplicate identifier merged (the last row is kept)", props["id"]
            )
            records[by_id[props["id"]]] = rec
            continue
        by_id[props["id"]] = len(records)
        records.append(rec)
    kept = []
    for rec in records:
        problems = validate_records([rec], spec, area, report.file)
        if problems:
            p = problems[0]
            label = rec["properties"].get(spec.label_field) or rec["properties"]["id"]
            reason = _reason(p.field, p.message)
            report.drop(reason, f"{label}: {p.message}")
            coded = report.codes.setdefault(
                reason, {"field": p.field, "code": p.code, "params": p.params}
            )
            shown = coded.setdefault("labels", [])
            if len(shown) < EXAMPLES:
                shown.append(str(label))
            continue
        kept.append(rec)
    report.kept = len(kept)
    report.frame = to_frame(kept, spec)
    return report


def _reason(field_name: str, message: str) -> str:
    if "outside the study area" in message:
        return "outside the study area"
    if "swapped" in message:
        return "latitude and longitude swapped"
    if field_name == "geometry":
        return "invalid geometry"
    return f"{field_name}: {message.split(':')[0]}"


def write(
    store: Store, report: ImportReport, dry_run: bool, author: str | None = None
) -> ImportReport:
    """Write the report's frame in one transaction unless ``dry_run`` or unchanged;
    the history records it as ``author``'s import of the file.

    A dry run checks exactly what the real run checks (the same errors, the same
    report) and stops before writing."""
    report.dry_run = dry_run
    if report.apply is not None:  # not a layer (the addresses): its own writer
        return report.apply(store, report, dry_run)
    if report.kept == 0:
        raise BadRequest(
            f"{report.file}: no row could be imported ({report.dropped_summary()}); "
            "nothing written"
        )
    frame = report.frame
    if report.mode == "merge":
        current = store.read(report.layer).drop(columns=["version"])
        keep = current[~current["id"].isin(frame["id"])]
        frame = gpd.GeoDataFrame(
            pd.concat([keep, frame], ignore_index=True), geometry="geometry", crs=4326
        )
    report.would_change = not _same(store, report.layer, frame)
    if dry_run or not report.would_change:
        report.data_version = store.data_version()
        return report
    report.data_version = store.replace_layers(
        {report.layer: frame},
        author=author,
        note=f"{report.kind} import of {report.file} ({report.mode})",
    )
    report.written = True
    return report


def _same(store: Store, layer: str, frame: gpd.GeoDataFrame) -> bool:
    """True when the layer already holds exactly these features."""
    current = store.read(layer).drop(columns=["version"])
    if len(current) != len(frame):
        return False
    a = current.sort_values("id").reset_index(drop=True)
    b = frame.sort_values("id").reset_index(drop=True)[list(a.columns)]
    if not a.geometry.geom_equals_exact(b.geometry, 1e-7).all():
        return False
    left = a.drop(columns="geometry").astype(object).where(a.notna(), None)
    right = b.drop(columns="geometry").astype(object).where(b.notna(), None)
    return left.equals(right)


def run_import(
    store: Store,
    kind: str,
    path: Path,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    author: str | None = None,
    **options,
) -> ImportReport:
    """Read ``path`` with the importer ``kind`` and write it (unless ``dry_run``),
    recorded in the history under ``author``."""
    if kind not in IMPORTERS:
        raise BadRequest(f"unknown import kind {kind!r}; kinds: {', '.join(IMPORTERS)}")
    mode = options.get("mode")
    if mode not in (None, "replace", "merge"):
        raise BadRequest(f"mode {mode!r}: expected replace or merge")
    report = read_report(store, kind, Path(path), progress, **options)
    report.mode = mode or report.mode
    return write(store, report, dry_run, author=author)


def read_report(
    store: Store, kind: str, path: Path, progress=None, **options
) -> ImportReport:
    """Read ``path`` with the importer ``kind`` (nothing written): its report and
    frame. A file the CSV parser cannot read is an ImportFileError naming it."""
    _not_the_store(store, path)
    try:
        return IMPORTERS[kind](
            path, store=store, area=store.area, progress=progress, **options
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        reason = str(exc).replace(str(path), path.name).strip()
        raise ImportFileError(
            f"{path.name}: not a readable CSV file ({reason})"
        ) from None


def _not_the_store(store: Store, path: Path) -> None:
    """Refuse to import mapapp's own files (the store, its private file)."""
    own = [getattr(store, "path", None), getattr(store, "private_path", None)]
    for target in filter(None, own):
        if path.exists() and Path(target).exists() and path.samefile(target):
            raise ImportFileError(f"{path.name}: this is mapapp's own store")


# The built-in importers register themselves (last: they import the names above).
from . import sirene, education, arcep, zones, generic, addresses  # noqa: E402, F401, I001

KINDS: tuple[str, ...] = tuple(IMPORTERS)  # the one list of import kinds
