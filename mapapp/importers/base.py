"""What every importer shares: the report, the registry entry, the reader protocol,
the validation of rows and the one writer.

An importer is one :class:`Importer` entry, registered with :func:`register` (the
built-in ones too): the kind it is called by, the layer it fills, its label, the
official source it reads, the header signatures that recognise its files (the
wizard and ``mapapp update`` use the same ones) and its reader, a function of the
:class:`Reader` protocol. The importer modules import this module only, never the
package: the package imports them, once, to register them.

Why a row is dropped, and what an import noted, are codes with parameters: the
English words below are for the CLI and the logs, the web words each code in the
page language (Flask-Babel), as it does the validation problems.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd

from ..errors import BadRequest, Problem
from ..layers import LICENCES, Text, get_spec, to_frame, tr, validate_records
from ..layers.validation import URL_FIELDS
from ..store import Store
from .reading import ImportFileError, norm, unreadable

EXAMPLES = 3

# Why rows are dropped: code -> English words (no value in them: the values are the
# examples, so rows dropped for one reason are counted together). A validation
# problem's code is said with the field's name before it ("desks: below the
# minimum"), except the place's own problems.
REASONS = {
    # the importers' own reasons
    "duplicate_merged": "duplicate identifier merged (the last row is kept)",
    "duplicate_first_kept": "duplicate identifier (the first row is kept)",
    "no_id": "no id and no name to make one from",
    "closed": "closed establishment (état F)",
    "outside_communes": "outside the chosen communes",
    "naf_outside": "NAF code outside the digital set",
    "no_geolocation": "no coordinates (neither geolocation nor Lambert-93)",
    "not_open_lycee": "not an open lycée (Annuaire: type or état)",
    "unnamed_line": "neither UAI nor name (an empty or unnamed line)",
    "uai_merged": "several official lines for one UAI, merged into one establishment",
    "no_coordinates": "no coordinates",
    "coordinates_out_of_range": "coordinates out of range",
    "commune_outside_area": "commune outside the study area",
    "asked_commune_outside_area": "commune asked for, but outside the study area",
    "no_street": "no street, commune or identifier",
    "building_outside_zones": "building outside every zone",
    "zone_without_building": "zone without any building",
    "commune_without_contour": "commune without contour (outside the study area?)",
    "no_premises": "no premises",
    "empty_geometry": "empty geometry",
    "unrepairable_geometry": "invalid geometry that cannot be repaired safely",
    # validation problems (mapapp/layers/validation.py)
    "outside_area": "outside the study area",
    "swapped": "latitude and longitude swapped",
    "missing_geometry": "no place (missing geometry)",
    "wrong_geometry_type": "wrong kind of geometry",
    "invalid_geometry": "invalid geometry",
    "self_intersection": "outline crossing itself",
    "spike": "outline with a spike",
    "too_jagged": "outline too jagged",
    "too_many_vertices": "too many vertices",
    "has_z": "3-D coordinates",
    "not_finite": "coordinates that are not finite numbers",
    "required": "missing",
    "not_a_choice": "not one of the allowed values",
    "below_minimum": "below the minimum",
    "above_maximum": "above the maximum",
    "wrong_type": "not of the field's type",
    "boolean_not_allowed": "a number is needed",
    "not_a_number": "a number is needed",
    "too_long": "too long",
    "bad_character": "a character not allowed in text",
    "not_a_web_address": "not a web address (http:// or https://)",
    "bad_id": "not a valid identifier",
    "unknown_field": "not a field of this layer",
    "duplicate_id": "same identifier as another row",
    "ftth_exceeds": "more FTTH premises than premises",
    "coverage_mismatch": "coverage does not match the premises",
}

# What an import notes: code -> English words with the note's parameters.
NOTES = {
    "recognised_as": "recognised as: {variant}",
    "not_utf8": "{file} is not UTF-8 ({where}); read as {encoding}: check the "
    "accents of the names",
    "display_name": "display name: the usual name, else the first sign, else the "
    "legal unit's name when the file carries it (joined with StockUniteLegale), "
    "else 'SIREN <n>'",
    "geolocated": "geolocation file {file}: {found} of {n} establishments placed, "
    "{at_commune} at the commune centroid (quality 33: commune level, not drawn "
    "as a point)",
    "repaired": "repaired geometry of {label}",
    "heights_dropped": "heights (3-D coordinates) dropped: the map is 2-D",
    "into_imported_zones": "aggregated into the {n} imported zones",
    "into_fibre_zones": "aggregated into the {n} current fibre zones",
    "premises_estimated": "premises estimated from the building size class "
    "(catg_loc_imb); the Cartefibre file has no exact count",
    "eligibility": "eligibility from {file}: {n} buildings with FTTH",
    "communes_kept": "{n} commune(s) kept{listed}",
    "communes_study_area": "communes: the {n} communes of the study area ({area}); "
    "use --commune to choose",
    "address_source": "source: {source}, edition {edition}",
    "scheme_added": "{n} web address(es) written without http:// or https://: "
    "https:// added (e.g. {example})",
    "matched_existing": "{n} row(s) matched features already in the layer by "
    "{field}: they keep their identifier, and the values the file leaves empty",
    "provenance": "every feature records: {source}, {url}, licence {licence}",
    "provenance_given": "every feature records the source given: {source} (add "
    "its page and licence with the layer's editor if they differ from the layer's)",
}


def reason_key(code: str, field_name: str | None = None) -> str:
    """The English words of a drop reason, which also key the report's counts."""
    words = REASONS.get(code, code)
    return (
        f"{field_name}: {words}" if field_name and field_name != "geometry" else words
    )


@dataclass(frozen=True)
class Provenance:
    """Who publishes a file, its title, the page that describes it and its licence
    (a key of :data:`~mapapp.layers.LICENCES`): what every imported feature records,
    with the edition of the file."""

    publisher: str
    title: str
    url: str | None = None
    licence: str | None = None

    def source(self, edition: str) -> str:
        """The feature's ``source``: publisher, title and edition."""
        named = f"{self.publisher}, {self.title}" if self.title else self.publisher
        return f"{named} ({edition})"

    def stamp(self, props: dict, edition: str) -> dict:
        """Write the provenance into one row's properties (and return them)."""
        props.update(source=self.source(edition), source_date=edition)
        props["source_url"] = self.url
        if self.licence in LICENCES:
            props["licence"] = self.licence
        return props

    def note(self, report: ImportReport, edition: str) -> None:
        """Say in the report what every feature records."""
        if self.url and self.licence:
            report.note(
                "provenance",
                source=self.source(edition),
                url=self.url,
                licence=self.licence,
            )
        else:
            report.note("provenance_given", source=self.source(edition))


def file_edition(path: Path) -> str:
    """The edition of a file that names none: its date (modification time, the
    publisher's when the download kept it: ``curl -R``, ``mapapp update``), as
    YYYY-MM."""
    return f"{date.fromtimestamp(Path(path).stat().st_mtime):%Y-%m}"


# A web address written without its scheme (``www.onisep.fr/…``, ``example.fr``):
# a host name with a dot and a top-level domain, then optionally a path.
HOST_ONLY = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}(?:[:/?#][^\s]*)?$",
    re.IGNORECASE,
)


def web_address(value: object) -> object:
    """``https://`` before a web address written without a scheme; anything else
    unchanged (validation refuses what is still not a web address)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("//") and HOST_ONLY.match(text[2:]):
        return "https:" + text
    if HOST_ONLY.match(text):
        return "https://" + text
    return value


@dataclass
class ImportReport:
    """What an import read, kept and dropped, and whether it wrote."""

    kind: str
    file: str
    layer: str
    mode: str = "replace"
    rows_read: int = 0
    kept: int = 0
    # reason (English words, :func:`reason_key`) -> rows dropped, a few examples,
    # and its code, field and parameters (for the page language)
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    # values of optional fields left out, the row kept: reason -> count, a few
    # examples, and the code, field and parameters (as for ``dropped``)
    emptied: dict[str, int] = field(default_factory=dict)
    emptied_examples: dict[str, list[str]] = field(default_factory=dict)
    emptied_codes: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # English, as the CLI prints them
    noted: list[dict] = field(default_factory=list)  # code, params, text of each
    written: bool = False
    dry_run: bool = False
    would_change: bool = False
    data_version: int | None = None
    frame: gpd.GeoDataFrame | None = field(default=None, repr=False)
    # How the import writes when it is not a layer (the addresses): (store,
    # report, dry_run) -> report; None writes ``frame`` into ``layer``.
    apply: Callable | None = field(default=None, repr=False)

    def drop(
        self,
        code: str,
        example: str,
        count: int = 1,
        field_name: str | None = None,
        **params,
    ) -> str:
        """Count ``count`` rows dropped for the reason ``code`` (of ``field_name``
        for a validation problem), keeping a few examples; return the reason."""
        reason = reason_key(code, field_name)
        self.dropped[reason] = self.dropped.get(reason, 0) + count
        self.codes.setdefault(
            reason, {"code": code, "field": field_name, "params": params}
        )
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append(str(example))
        return reason

    def empty(self, code: str, example: str, field_name: str, **params) -> str:
        """Count one value of the optional field ``field_name`` left out for the
        reason ``code`` (its row is kept), keeping a few examples."""
        reason = reason_key(code, field_name)
        self.emptied[reason] = self.emptied.get(reason, 0) + 1
        self.emptied_codes.setdefault(
            reason, {"code": code, "field": field_name, "params": params}
        )
        shown = self.emptied_examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append(str(example))
        return reason

    def note(self, code: str, **params) -> None:
        """Note something the import did (the English words and their code)."""
        text = NOTES[code].format(**params)
        self.notes.append(text)
        self.noted.append({"code": code, "params": params, "text": text})

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
        for reason, count in sorted(self.emptied.items(), key=lambda kv: -kv[1]):
            out.append(f"  value left out, row kept ({count}): {reason}")
            for example in self.emptied_examples.get(reason, []):
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


@dataclass
class ImportJob:
    """What an import is asked to do, handed to the reader with the file: the store
    (read for what rows join, such as the zones of fibre figures, never written by
    a reader), the study area, a ``progress`` callback told the rows (or bytes)
    read, and the options of the CLI, the wizard and the catalogue; each importer
    reads those it knows."""

    store: Store
    area: object
    progress: Callable[[int], None] | None = None
    communes: list[str] = field(default_factory=list)  # INSEE codes to keep
    edition: str | None = None  # the data's edition (2026-10), else the file's
    mode: str | None = None  # replace the layer or merge by id
    layer: str | None = None  # generic: the layer to fill
    mapping: dict[str, str] = field(default_factory=dict)  # generic: field -> column
    defaults: dict[str, str] = field(default_factory=dict)  # generic: field -> value
    source: str | None = None  # generic: the source recorded on every feature
    geoloc: Path | None = None  # sirene: the geolocation file joined on siret
    wide: bool = False  # sirene: the wider digital NAF set
    eligibility: Path | None = None  # fibre: MCI's per-building eligibility file
    # the layout (variant) the file must have: the one its catalogue source
    # announces (``mapapp update``); a file of another layout is refused
    layout: str | None = None
    # who published the file, where, under which licence: the catalogue's source
    # (``mapapp update``); None: the importer's own for the layout it recognises
    provenance: Provenance | None = None


class Reader(Protocol):
    """What an importer's reader is: a file and its :class:`ImportJob` in, a report
    of the rows out (its ``frame``), nothing written."""

    def __call__(self, path: Path, job: ImportJob) -> ImportReport: ...


# A header signature: for each column it needs, the names it may go by.
Signature = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Importer:
    """One importer: everything the CLI, the wizard and ``mapapp update`` know."""

    kind: str
    # the layer it fills ("addresses": the place search's own table, not a layer);
    # None: the generic importer, which fills the layer chosen
    layer: str | None
    label: Text
    read: Reader
    source: str | None = None  # the official source, the default provenance
    # variant -> its header signature (a file matching one is this importer's)
    variants: dict[str, Signature] = field(default_factory=dict)
    variant_labels: dict[str, Text] = field(default_factory=dict)
    geometry: str | None = None  # None: a table (CSV); "Polygon": contours
    communes: bool = False  # keeps the communes asked (--commune)
    # the fields a file's own columns may give (--map FIELD=COLUMN), for a file
    # of one's own in the importer's layer (the zones: a city's IRIS file)
    mapped: tuple[str, ...] = ()
    # of those, the fields it fills itself when no column or value gives them
    inferred: tuple[str, ...] = ()

    def variant_of(self, columns: list[str], geometry: str | None) -> str | None:
        """The variant whose signature the columns match, or None."""
        if geometry != self.geometry:
            return None
        names = {norm(c) for c in columns}
        for variant, signature in self.variants.items():
            if all(any(norm(n) in names for n in alike) for alike in signature):
                return variant
        return None


IMPORTERS: dict[str, Importer] = {}


def register(kind: str, layer: str | None, label: Text, **entry):
    """Register the function it decorates as the reader of the importer ``kind``
    (filling ``layer``); ``entry`` holds the other fields of :class:`Importer`."""

    def decorator(fn: Reader) -> Reader:
        IMPORTERS[kind] = Importer(kind, layer, label, fn, **entry)
        return fn

    return decorator


def check_layout(job: ImportJob, kind: str, variant: str, path: Path) -> None:
    """Refuse a file whose layout is not the one its source announces (a MESR
    export served at the ONISEP address, say), naming both."""
    if job.layout is None or job.layout == variant:
        return
    importer = IMPORTERS[kind]

    def label(name: str) -> str:
        return tr(importer.variant_labels.get(name), "en") or name

    raise ImportFileError(
        f"{Path(path).name}: the source announces the {label(job.layout)} layout, "
        f"but this file has the {label(variant)} layout (recognised from its "
        "header); nothing imported. The publisher may have moved the file: check "
        "the source's URL (MAPAPP_SOURCE_URLS, refresh/sources.toml)"
    )


def recognise(columns: list[str], geometry: str | None) -> tuple[str, str | None]:
    """The kind and variant of importer whose header signature a file's columns
    match (in registration order), else ``generic``."""
    for importer in IMPORTERS.values():
        variant = importer.variant_of(columns, geometry)
        if variant is not None:
            return importer.kind, variant or None
    return "generic", None


def finish(report: ImportReport, rows: list[dict], geoms: list, area) -> ImportReport:
    """Validate each row against the layer and build the frame.

    A row is dropped for the first problem it meets, its place first (outside the
    study area, no geometry), then a required field; a value of an optional field
    that cannot be kept (a website that is not a web address) is left out and
    counted, the row kept. Web addresses written without a scheme get
    ``https://``. Rows of one id are merged after (the last one wins, counted)."""
    spec = get_spec(report.layer)
    kept: dict[str, dict] = {}
    added: list[str] = []
    for props, geom in zip(rows, geoms, strict=True):
        _complete_addresses(props, added)
        rec = {"properties": props, "geometry": geom}
        problems = _place_first(validate_records([rec], spec, area, report.file))
        label = str(props.get(spec.label_field) or props.get("id"))
        if problems and not _leave_out(report, spec, props, problems, label):
            _drop_problem(report, problems[0], label)
            continue
        if props["id"] in kept:
            report.drop("duplicate_merged", props["id"])
        kept[props["id"]] = rec  # a later row of one id takes the first one's place
    if added:
        report.note("scheme_added", n=len(added), example=added[0])
    report.kept = len(kept)
    report.frame = to_frame(list(kept.values()), spec)
    return report


def _complete_addresses(props: dict, added: list[str]) -> None:
    """``https://`` before the web addresses of a row written without a scheme."""
    for name in URL_FIELDS:
        value = props.get(name)
        fixed = web_address(value)
        if fixed is not value:
            props[name] = fixed
            added.append(str(value))


def _place_first(problems: list[Problem]) -> list[Problem]:
    """The problems of a row, those of its place (geometry, study area) first."""
    return sorted(problems, key=lambda p: p.field != "geometry")


def _leave_out(report, spec, props: dict, problems: list[Problem], label) -> bool:
    """Leave out the values of optional fields that are the only problems of a row
    (counted, with the value as example); False when the row must be dropped."""
    optional = {f.name for f in spec.fields if not f.required and f.name != "id"}
    extra = set(props) - set(spec.field_names)
    if any(p.field not in optional | extra for p in problems):
        return False
    for p in problems:
        value = props.get(p.field)
        if p.field in extra:
            props.pop(p.field, None)
        else:
            props[p.field] = None
        # the value itself is the example (the reason says what is wrong with it)
        shown = value if len(str(value)) <= 80 else f"{str(value)[:79]}…"
        report.empty(p.code, f"{label}: {shown!r}", p.field)
    return True


def _drop_problem(report: ImportReport, p: Problem, label: str) -> None:
    """A row dropped for a validation problem: counted by code and field, the
    value in the example, the feature's name among the labels shown."""
    reason = report.drop(p.code, f"{label}: {p.message}", field_name=p.field)
    shown = report.codes[reason].setdefault("labels", [])
    if len(shown) < EXAMPLES:
        shown.append(label)


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
        frame = match_existing(frame, current, report)
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


def _codes(value: object) -> list[str]:
    """The official codes of one cell (``0251111A, 0252222B``: several)."""
    if not isinstance(value, str):
        return []
    return [c for c in re.split(r"[\s,;|]+", value.strip()) if c]


def match_existing(
    frame: gpd.GeoDataFrame, current: gpd.GeoDataFrame, report: ImportReport
) -> gpd.GeoDataFrame:
    """The rows of a merge that carry the official code (``LayerSpec.match_on``:
    the UAI of a school, the SIRET of a company) of a feature already in the layer
    become that feature: they take its identifier, and its values where the file
    has none (the hand-curated fields), so a merge never adds a duplicate."""
    spec = get_spec(report.layer)
    frame = frame.copy()
    for name in spec.match_on:
        if name not in current or name not in frame:
            continue
        owner = {}
        for fid, value in zip(current["id"], current[name], strict=True):
            for code in _codes(value):
                owner.setdefault(code, fid)
        existing = current.set_index("id")
        # features a row already replaces by its own identifier
        claimed = set(frame["id"]) & set(existing.index)
        matched = 0
        for i, value, own in zip(frame.index, frame[name], frame["id"], strict=True):
            fid = next((owner[c] for c in _codes(value) if c in owner), None)
            if fid is None or (fid != own and fid in claimed):
                continue  # no such feature, or another row already is it
            claimed.add(fid)
            matched += fid != own
            _fill_from(frame, i, existing.loc[fid], fid)
        if matched:
            report.note("matched_existing", n=matched, field=name)
    return frame


def _fill_from(frame: gpd.GeoDataFrame, i, known: pd.Series, fid: str) -> None:
    """Row ``i`` of ``frame`` becomes the feature ``fid``: its identifier, and the
    feature's values (``known``) where the row has none."""
    frame.at[i, "id"] = fid
    for column in frame.columns:
        if column in ("id", "geometry") or column not in known.index:
            continue
        mine, theirs = frame.at[i, column], known[column]
        if _missing(mine) and not _missing(theirs):
            frame.at[i, column] = theirs


def _missing(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and value != value)
        or (value is pd.NA)
    )


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
    known = {f for f in ImportJob.__dataclass_fields__} - {"store", "area", "progress"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise BadRequest(f"unknown import option(s): {', '.join(unknown)}")
    given = {k: v for k, v in options.items() if v is not None}
    job = ImportJob(store, store.area, progress, **given)
    try:
        return IMPORTERS[kind].read(path, job)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise unreadable(path, exc) from None


def _not_the_store(store: Store, path: Path) -> None:
    """Refuse to import mapapp's own files (the store, its private file)."""
    own = [getattr(store, "path", None), getattr(store, "private_path", None)]
    for target in filter(None, own):
        if path.exists() and Path(target).exists() and path.samefile(target):
            raise ImportFileError(f"{path.name}: this is mapapp's own store")
