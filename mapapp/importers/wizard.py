"""What the import wizard needs before an import runs, without Flask: the kind of a
file recognised from its header (with the importers' own column checks), a preview
of its columns, the target layer and a column mapping suggested from French and
English names, and the options an import is run with.

Problems are :class:`WizardProblem`s with a ``code`` and ``params``: the web layer
words them in the page language; ``message`` is the English text for logs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadRequest
from ..layers import REGISTRY, LayerSpec
from .base import IMPORTERS, Importer, read_report, recognise, write
from .formats import read_vector
from .formats import recognise as format_of
from .generic import LAT, LON
from .reading import (
    DELIMITERS,
    GZIP_MAGIC,
    SAMPLE_BYTES,
    ZIP_MAGIC,
    ImportFileError,
    RefusedFile,
    detect_encoding,
    norm,
    open_data,
    read_csv,
    sniff,
)

PREVIEW_ROWS = 5
SAMPLE_ROWS = 200
MAX_COLUMNS = 1000
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg")
# Fields planners never map: provenance is set by the import, ids made from names.
NOT_MAPPED = {"source", "source_url", "source_date", "illustrative", "version"}
# Required fields the generic importer fills when no column gives them.
FILLED_BY_IMPORT = {"id", "precision", "published"}
# Names files use for a field, beyond its own name and its French and English
# labels (compared without case, accents, spaces or apostrophes).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("identifiant", "code", "ident"),
    "name": (
        "nom",
        "libelle",
        "intitule",
        "denomination",
        "raison_sociale",
        "enseigne",
        "nom_etablissement",
        "nom_du_lieu",
        "titre",
    ),
    "address": ("adresse", "adresse_postale", "rue", "voie", "adresse_complete"),
    "desks": ("postes", "nb_postes", "nombre_de_postes", "places", "capacite"),
    "status": ("statut", "etat", "situation"),
    "kind": ("type", "categorie", "nature", "type_de_lieu"),
    "opening": ("ouverture", "date_ouverture", "date_d_ouverture", "annee"),
    "operator": ("gestionnaire", "operateur", "exploitant", "porteur"),
    "website": ("site", "site_web", "site_internet", "url", "web", "lien"),
    "notes": ("remarques", "commentaire", "commentaires", "observations"),
    "description": ("descriptif", "presentation"),
    "commune_code": ("code_insee", "insee", "code_commune", "depcom", "com"),
    "naf_code": ("naf", "code_naf", "ape", "code_ape", "activite_principale"),
    # an INSEE band code ("12"), never a raw head count: "effectif" is not mapped
    "headcount_class": ("tranche_effectif", "tranche_d_effectif", "tranche_effectifs"),
    "creation_date": ("date_creation", "date_de_creation", "creation", "cree_le"),
    "students": ("eleves", "etudiants", "nombre_d_eleves", "nb_etudiants"),
    "uai": ("code_uai", "numero_uai"),
    "public_private": ("public_prive", "statut_public_prive"),
    "premises": ("locaux", "nb_locaux", "logements"),
    "ftth_premises": ("locaux_ftth", "elig_ftth", "locaux_raccordables"),
    # a city's own IRIS file (Lyon's: id, libiris, com)
    "zone_code": ("code_zone", "code_iris", "dcomiris", "iris", "id"),
    "zone_name": ("nom_zone", "nom_iris", "quartier", "libiris", "lib_iris", "nom"),
    "published": ("publie", "public", "visible"),
}


class WizardProblem(BadRequest):
    """A file the wizard cannot take: ``code`` and ``params`` say why (the web
    layer words them in the page language)."""

    def __init__(self, code: str, params: dict | None = None):
        self.code, self.params = code, dict(params or {})
        super().__init__(f"{code} {self.params}" if self.params else code)


@dataclass
class FileSummary:
    """What the wizard learnt from a file's header and first rows."""

    format: str  # "csv" or "vector"
    kind: str
    variant: str | None
    columns: list[str]
    preview: list[dict[str, str]]  # the first rows, column -> text
    samples: dict[str, list[str]]  # per column, a few non-empty values
    geometry: str | None = None  # vector files: "Point" or "Polygon"
    layer: str | None = None  # the suggested layer (generic files)
    lonlat: tuple[str | None, str | None] = (None, None)  # CSV coordinate columns

    def to_dict(self) -> dict:
        return dict(self.__dict__, lonlat=list(self.lonlat))


# The import kind (and variant) a header belongs to, by the importers' signatures
# (mapapp/importers/base.py); ``generic`` when no official layout matches.
kind_of = recognise


def _field_names(f) -> set[str]:
    labels = f.label.values() if isinstance(f.label, dict) else [f.label]
    return {norm(f.name), *(norm(label) for label in labels), *SYNONYMS.get(f.name, ())}


def suggest_mapping(layer: str, columns: list[str]) -> dict[str, str]:
    """Field -> column, for the fields of ``layer`` a column's name matches."""
    by_norm = {norm(c): c for c in columns}
    taken: set[str] = set()
    out = {}
    for f in mapped_fields(layer):
        for candidate in sorted(_field_names(f), key=lambda n: n != norm(f.name)):
            column = by_norm.get(candidate)
            if column and column not in taken:
                out[f.name] = column
                taken.add(column)
                break
    return out


def suggest_layer(columns: list[str], geometry: str) -> str:
    """The layer of that geometry whose fields the columns match best; when nothing
    tells them apart, the first one planners edit (coworking places for points,
    perimeters for polygons)."""
    specs = [s for s in REGISTRY.values() if s.geometry == geometry]
    default = next((s.name for s in specs if s.editable), specs[0].name)

    def score(spec: LayerSpec) -> tuple[int, bool]:
        mapped = suggest_mapping(spec.name, columns)
        specific = [f for f in mapped if f not in ("id", "name", "notes", "address")]
        return len(specific), spec.name == default

    return max(specs, key=score).name


def layer_importer(layer: str) -> Importer | None:
    """The official importer that reads one's own files of ``layer`` with a column
    mapping (the zones importer, for a city's IRIS file), if any: the wizard runs
    it rather than the generic importer."""
    return next((i for i in IMPORTERS.values() if i.layer == layer and i.mapped), None)


def mapped_fields(layer: str) -> list:
    """The fields of a layer a planner maps (provenance is set by the import; an
    importer with its own mapping takes only its fields)."""
    importer = layer_importer(layer)
    if importer is not None:
        return [REGISTRY[layer].field(name) for name in importer.mapped]
    return [f for f in REGISTRY[layer].fields if f.name not in NOT_MAPPED]


def needs_value(spec_field, layer: str | None = None) -> bool:
    """True when a field must come from a column or a value for every row (not
    one the import fills itself: ids, precision, a zone's kind from its code)."""
    importer = layer_importer(layer) if layer else None
    inferred = importer.inferred if importer else ()
    return (
        spec_field.required
        and spec_field.name not in FILLED_BY_IMPORT
        and spec_field.name not in inferred
    )


def _samples(frame: pd.DataFrame) -> dict[str, list[str]]:
    out = {}
    for column in frame.columns:
        values = [str(v) for v in frame[column].tolist() if str(v).strip()]
        out[str(column)] = list(dict.fromkeys(values))[:3]
    return out


def _compressed(path: Path) -> bool:
    """True for a gzip or zip file (recognised by its first bytes)."""
    if path.stat().st_size == 0:
        raise WizardProblem("empty")
    with open(path, "rb") as f:
        head = f.read(4)
    return head == ZIP_MAGIC or head.startswith(GZIP_MAGIC)


def _is_shapefile(path: Path) -> bool:
    """A ZIP archive holding a Shapefile (the one archive of one's own data that the
    wizard takes; the official tables come zipped too)."""
    try:
        return format_of(path) == "shapefile"
    except ImportFileError:
        return False


def _sample(path: Path) -> bytes:
    """The first bytes of the table (through gzip or zip, as the importers read)."""
    try:
        with open_data(path) as f:
            return f.read(SAMPLE_BYTES)
    except RefusedFile:
        raise
    except ImportFileError:
        raise WizardProblem("archive_unreadable") from None


def _read_csv(path: Path) -> FileSummary:
    sample = _sample(path)
    if not sample:
        raise WizardProblem("empty")
    text = sample.decode(detect_encoding(path, sample), errors="replace")
    first = text.splitlines()[0] if text.splitlines() else ""
    if not first.strip():
        raise WizardProblem("no_header")
    delimiter = max(DELIMITERS, key=first.count)
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    if len(header) > MAX_COLUMNS:
        raise WizardProblem("too_many_columns", {"n": len(header), "max": MAX_COLUMNS})
    if len({norm(h) for h in header}) != len(header):
        raise WizardProblem("duplicate_columns")
    if len(header) == 1:
        raise WizardProblem("single_column")
    fmt = sniff(path, [], "CSV")
    try:
        frame = read_csv(path, fmt, rows=SAMPLE_ROWS)
    except (ImportFileError, ValueError) as exc:
        detail = exc.message if isinstance(exc, ImportFileError) else str(exc)
        raise WizardProblem("unreadable_csv", {"detail": detail[:160]}) from None
    kind, variant = kind_of(list(frame.columns), None)
    cols = {norm(c): c for c in frame.columns}
    lonlat = (
        next((cols[n] for n in LON if n in cols), None),
        next((cols[n] for n in LAT if n in cols), None),
    )
    summary = FileSummary(
        "csv",
        kind,
        variant,
        [str(c) for c in frame.columns],
        frame.head(PREVIEW_ROWS).to_dict("records"),
        _samples(frame),
        lonlat=lonlat,
    )
    if kind == "generic":
        if None in lonlat:
            raise WizardProblem("no_coordinates", {"columns": ", ".join(header[:12])})
        summary.layer = suggest_layer(summary.columns, "Point")
    return summary


def _vector_magic(path: Path) -> None:
    """Only what the page offers reaches GDAL: a GeoJSON (a JSON object) or a
    GeoPackage (an SQLite file), recognised from the first bytes."""
    with open(path, "rb") as f:
        head = f.read(64)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() == ".gpkg":
        if not head.startswith(b"SQLite format 3\x00"):
            raise WizardProblem("unreadable_vector")
    elif not text.startswith(b"{"):
        raise WizardProblem("unreadable_vector")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as text, missing ones empty; the missing ones are found in one
    array (pandas' replace goes column by column: minutes for thousands)."""
    table = frame.astype(str)
    values = table.to_numpy()
    blank = (values == "None") | (values == "nan")
    return pd.DataFrame(
        np.where(blank, "", values), columns=table.columns, index=table.index
    )


def _read_vector(path: Path, shapefile: bool = False) -> FileSummary:
    if not shapefile:  # a zipped Shapefile was recognised by formats.recognise
        _vector_magic(path)
    try:
        frame = read_vector(path, "a vector file")
    except RefusedFile:
        raise
    except ImportFileError:
        raise WizardProblem("unreadable_vector") from None
    if frame.empty:
        raise WizardProblem("no_features")
    types = set(frame.geometry.dropna().geom_type)
    geometry = (
        "Polygon"
        if types and types <= {"Polygon", "MultiPolygon"}
        else "Point"
        if types == {"Point"}
        else None
    )
    if geometry is None:
        raise WizardProblem("mixed_geometry", {"types": ", ".join(sorted(types))})
    table = _as_text(frame.drop(columns="geometry").head(SAMPLE_ROWS))
    kind, variant = kind_of(list(table.columns), geometry)
    summary = FileSummary(
        "vector",
        kind,
        variant,
        [str(c) for c in table.columns],
        table.head(PREVIEW_ROWS).to_dict("records"),
        _samples(table),
        geometry=geometry,
    )
    if kind == "generic":
        summary.layer = suggest_layer(summary.columns, geometry)
    return summary


def inspect_file(path: Path) -> FileSummary:
    """Recognise a file (CSV, GeoJSON or GeoPackage) and preview it; raise
    :class:`WizardProblem` when it cannot be imported as it is."""
    try:
        return _inspect(Path(path))
    except RefusedFile as exc:  # past a limit: the message names it
        raise WizardProblem("refused", {"detail": exc.message[:240]}) from None


def _inspect(path: Path) -> FileSummary:
    suffix = path.suffix.lower()
    if _compressed(path):
        if _is_shapefile(path):
            return _read_vector(path, shapefile=True)
        summary = _read_csv(path)
        if summary.kind == "generic":  # only the official importers read archives
            raise WizardProblem("archive")
        return summary
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path)
    raise WizardProblem("unknown_format", {"suffix": suffix or "-"})


def import_options(
    summary: FileSummary, layer: str | None, choices: dict
) -> tuple[str, dict]:
    """The kind and keyword options of ``run_import`` from the wizard's choices:
    ``mapping`` (field -> column), ``defaults`` (field -> value), ``source``,
    ``edition``, ``publish``, ``mode`` and ``communes``."""
    kind = summary.kind
    options = {
        "communes": list(choices.get("communes") or []),
        "edition": choices.get("edition") or None,
    }
    if choices.get("mode") in ("replace", "merge"):
        options["mode"] = choices["mode"]
    if kind != "generic":
        return kind, options
    if layer not in REGISTRY:  # the column step was skipped
        raise BadRequest("choose the layer of the import first (the column step)")
    importer = layer_importer(layer)
    if importer is not None:  # one's own file read by the layer's importer
        return importer.kind, _importer_options(importer, options, choices)
    spec = REGISTRY[layer]
    defaults = {k: v for k, v in (choices.get("defaults") or {}).items() if v != ""}
    if spec.publishable:
        defaults["published"] = "1" if choices.get("publish") else "0"
    if choices.get("edition"):
        defaults.setdefault("source_date", choices["edition"])
    options.update(
        layer=layer,
        mapping={k: v for k, v in (choices.get("mapping") or {}).items() if v},
        defaults=defaults,
        source=choices.get("source") or None,
    )
    return kind, options


def _importer_options(importer: Importer, options: dict, choices: dict) -> dict:
    """The options of an official importer reading one's own file: the columns
    of its fields, a value for those it would otherwise infer, the source."""
    mapping = choices.get("mapping") or {}
    defaults = choices.get("defaults") or {}
    options.update(
        mapping={k: v for k, v in mapping.items() if v and k in importer.mapped},
        defaults={k: v for k, v in defaults.items() if v and k in importer.inferred},
        source=choices.get("source") or None,
    )
    options.pop("communes", None)
    return options


def preview(store, kind: str, path: Path, **options):
    """The report of an import, nothing written: what ``run_import`` would keep and
    drop. A file whose rows are all dropped gives its report (the reasons) rather
    than an error."""
    report = read_report(store, kind, Path(path), **options)
    report.mode = options.get("mode") or report.mode
    return write(store, report, dry_run=True) if report.kept else report
