"""Layers as downloadable files: GeoJSON, CSV and GeoPackage, with their metadata.

Types stay what the layer says: integers are written as integers (``60``, not
``60.0``), booleans as booleans (a GeoPackage integer column of subtype boolean),
codes as text with their leading zeros (``01``, ``005880034``). Two CSV flavours:
RFC 4180 (``,``, CRLF, UTF-8) for programs, and one for French spreadsheets (``;``
separator, UTF-8 byte-order mark, so Excel opens accents and columns right). Both,
and the planners' tables, go through one writer that neutralises every cell a
spreadsheet would run as a formula. GeoPackages are written by GDAL into a private
temporary folder (``mapapp/gdal_.py``), never near the working store.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import gdal_
from .errors import NotFound
from .layers import (
    LICENCES,
    PRECISIONS,
    REGISTRY,
    get_spec,
    tr,
    without_commune_points,
)
from .maps.geojson import clean_value, features, orient, to_geojson
from .values import plain_column

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "fr.csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
}
# fmt -> (separator, byte-order mark)
CSV_FLAVOURS = {"csv": (",", ""), "fr.csv": (";", "\ufeff")}
# the decimal separator of each flavour: French spreadsheets read "0,31" as a number
DECIMALS = {"csv": ".", "fr.csv": ","}
# GDAL 3.6 (Debian 12, several QGIS builds) warns on GeoPackage 1.4
GPKG_VERSION = "1.3"
# The licence of the former releases' single stamp (kept for callers that show one
# licence; the licence of each layer is decided by layer_metadata below).
LICENCE = {
    "title": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}


def licence_of(key: str, lang: str = "fr") -> dict:
    """A licence as ``{"id", "title", "url"}`` in the page language."""
    entry = LICENCES[key]
    return {"id": key, "title": entry.get(lang) or entry["fr"], "url": entry["url"]}


def layer_licence(layer: str | None) -> tuple[str, dict | None]:
    """(licence key, attribution) of a registered layer, as its spec says; a frame
    of no registered layer is under the Licence Ouverte, without attribution."""
    spec = REGISTRY.get(layer or "")
    return (spec.licence, spec.attribution) if spec else ("lo-2.0", None)


def feature_licences(frame: gpd.GeoDataFrame, layer: str) -> list[str]:
    """The licence key of every feature: its own, else its layer's."""
    default = layer_licence(layer)[0]
    own = frame["licence"] if "licence" in frame else [None] * len(frame)
    return [v if isinstance(v, str) and v in LICENCES else default for v in own]


class MetadataTally:
    """What :func:`layer_metadata` says of a layer, counted a frame at a time: a
    large layer's metadata (and its extent) read in chunks is the one of the
    whole frame, without the whole frame."""

    def __init__(self, layer: str | None = None):
        self.layer = layer
        self.features = 0
        self.sources: dict = {}  # source -> count, in order of first appearance
        self.latest_date: str | None = None
        self.licences: Counter = Counter()  # in order of first appearance too
        self.precision: Counter = Counter()
        self.bounds = np.full(4, np.nan)

    def add(self, frame: gpd.GeoDataFrame) -> None:
        """Count the features of ``frame`` (the next chunk of the layer)."""
        self.features += len(frame)
        if not len(frame):
            return
        for source, n in frame["source"].value_counts(sort=False).items():
            self.sources[source] = self.sources.get(source, 0) + int(n)
        dates = [d for d in frame.get("source_date", []) if isinstance(d, str) and d]
        if dates:
            self.latest_date = max([*dates, self.latest_date or ""])
        self.licences.update(feature_licences(frame, self.layer or ""))
        if "precision" in frame:
            self.precision.update(frame["precision"].value_counts().to_dict())
        bounds = frame.total_bounds
        self.bounds[:2] = np.fmin(self.bounds[:2], bounds[:2])
        self.bounds[2:] = np.fmax(self.bounds[2:], bounds[2:])

    def metadata(self, lang: str = "fr", provenance: dict | None = None) -> dict:
        """:func:`layer_metadata` of the features counted."""
        # as Series.value_counts orders them: by count, ties in order of appearance
        sources = sorted(self.sources, key=lambda s: -self.sources[s])
        latest = self.latest_date
        default, attribution = layer_licence(self.layer)
        counts = dict(self.licences) or {default: 0}
        main = max(counts, key=lambda k: (counts[k], k == default))
        provenance = provenance or {}
        return {
            "sources": sources[:8],
            "more_sources": max(0, len(sources) - 8),
            "latest_source_date": latest,
            "edition": provenance.get("edition") or latest,
            "downloaded": provenance.get("downloaded"),
            "download_url": provenance.get("url"),
            "features": int(self.features),
            "precision": {p: int(self.precision.get(p, 0)) for p in PRECISIONS},
            "licence": licence_of(main, lang),
            "licences": [
                {**licence_of(k, lang), "features": n} for k, n in counts.items()
            ],
            "attribution": tr(attribution, lang),
        }


def layer_metadata(
    frame: gpd.GeoDataFrame | MetadataTally,
    layer: str | None = None,
    lang: str = "fr",
    provenance: dict | None = None,
) -> dict:
    """What a reuser must know of a layer: sources (most frequent first), latest
    source date, edition and download date, counts by precision, and the licences
    with their attribution (the one place that decides them).

    ``licence`` is the layer's licence (the one most of its features carry);
    ``licences`` lists every licence in use with its number of features, so a mixed
    layer says which features are under another one (``feature_licences``).
    ``provenance`` is what the last ``mapapp update`` recorded for the layer
    (edition, download date, URL), if any. ``frame`` may be a
    :class:`MetadataTally` of the layer's chunks instead.
    """
    tally = frame
    if not isinstance(tally, MetadataTally):
        tally = MetadataTally(layer)
        tally.add(frame)
    return tally.metadata(lang, provenance)


def typed(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """The frame with each field in its layer type: nullable integers and booleans,
    so writers never turn them into floats or text."""
    try:
        spec = get_spec(layer)
    except NotFound:  # a frame of no registered layer stays as it is
        return frame
    frame = frame.copy()
    for field in spec.fields:
        if field.name not in frame.columns:
            continue
        if field.type == "int":
            frame[field.name] = pd.array(_plain(frame[field.name]), dtype="Int64")
        elif field.type == "bool":
            frame[field.name] = pd.array(_plain(frame[field.name]), dtype="boolean")
    return frame


def _plain(column: pd.Series) -> list:
    return [clean_value(v) for v in column]


def export_bytes(
    frame: gpd.GeoDataFrame,
    layer: str,
    fmt: str,
    metadata: dict | None = None,
    crs: str | None = None,
    lang: str = "fr",
) -> bytes:
    """The frame as a file of a format of :data:`FORMATS`; coordinates in WGS84, or
    in ``crs`` (a pyproj name such as ``EPSG:2154``) when given. Polygons have
    their exterior rings counterclockwise (RFC 7946) in every format. Features
    located at commune level only have no geometry (null; empty coordinates in
    CSV)."""
    frame = exported(frame, layer, crs)
    if fmt == "geojson":
        return _geojson_bytes(frame, layer, metadata, crs)
    if fmt in CSV_FLAVOURS:
        separator, bom = CSV_FLAVOURS[fmt]
        names, rows = table_rows(frame, projected=crs is not None)
        return write_csv(names, rows, separator, bom, decimal=DECIMALS[fmt])
    if fmt == "gpkg":
        return _gpkg_bytes(frame, layer, metadata, lang)
    raise ValueError(f"unknown format {fmt!r}")


def exported(frame: gpd.GeoDataFrame, layer: str, crs: str | None) -> gpd.GeoDataFrame:
    """The frame as :func:`export_bytes` writes it (a chunk of a layer too): typed,
    without the points of commune-level features, polygons oriented, in ``crs``."""
    frame = typed(frame.drop(columns=["version"], errors="ignore"), layer)
    frame = without_commune_points(frame, layer)
    frame = frame.set_geometry(
        gpd.GeoSeries(orient(frame.geometry.values), index=frame.index, crs=frame.crs)
    )
    if crs is not None:
        frame = frame.to_crs(crs)  # Lambert-93 and Web Mercator keep the winding
    return frame


def _geojson_bytes(frame, layer: str, metadata: dict | None, crs: str | None) -> bytes:
    extra = {"name": layer, "metadata": metadata} if metadata else {"name": layer}
    if crs is None:
        return json.dumps(to_geojson(frame, **extra), ensure_ascii=False).encode()
    # RFC 7946 is WGS84 only; a projected file names its CRS the 2008 way, which
    # GDAL and QGIS read
    code = frame.crs.to_authority()
    extra["crs"] = {
        "type": "name",
        "properties": {"name": f"urn:ogc:def:crs:{code[0]}::{code[1]}"},
    }
    # no CRS on the frame: features() writes the coordinates as they are
    local = gpd.GeoDataFrame(
        frame.drop(columns="geometry"), geometry=list(frame.geometry)
    )
    return json.dumps(
        {
            "type": "FeatureCollection",
            **extra,
            "features": features(local, precision=2),
        },
        ensure_ascii=False,
    ).encode()


def table_rows(frame: gpd.GeoDataFrame, projected: bool = False) -> tuple[list, list]:
    """Column names and rows of a layer as a table: its fields, a point on each
    feature (``longitude``/``latitude``, or ``x``/``y`` in a projected CRS) and the
    WKT of non-point shapes; empty cells for a feature without geometry."""
    xy = ("x", "y") if projected else ("longitude", "latitude")
    digits = 2 if projected else 5
    columns = [c for c in frame.columns if c != "geometry"]
    names = [*columns, *xy, "wkt"]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    points = shapely.point_on_surface(geoms)  # representative_point, at once
    xs, ys = shapely.get_x(points).tolist(), shapely.get_y(points).tolist()
    shaped = ~missing & (shapely.get_type_id(geoms) != 0)
    wkts = np.full(len(geoms), "", dtype=object)
    if shaped.any():
        wkts[shaped] = shapely.to_wkt(geoms[shaped], rounding_precision=digits)
    # read column by column (a row at a time costs ten times more)
    values = [plain_column(frame[c]) for c in columns]
    rows = []
    for i, row in enumerate(zip(*values, strict=True) if values else [()] * len(geoms)):
        if missing[i]:
            rows.append([*row, None, None, ""])
        else:
            rows.append([*row, round(xs[i], digits), round(ys[i], digits), wkts[i]])
    return names, rows


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): it starts
# with = + - @, or with a tab or carriage return that some programs skip first.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell value safe to open in a spreadsheet: text that would start a formula
    gets a leading apostrophe (shown as text, never evaluated); numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: object, decimal: str = ".") -> object:
    kind = type(value)  # the common cases first: millions of cells per download
    if kind is str:
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None or kind is int:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and decimal != ".":
        return repr(value).replace(".", decimal)
    return neutralise(value)


def write_csv(
    names: list[str],
    rows: Iterable[list],
    separator: str = ",",
    bom: str = "",
    decimal: str = ".",
) -> bytes:
    """The one CSV writer of mapapp (downloads in both flavours, planners' exports
    and tables): a header and the rows, RFC 4180 quoting and CRLF line ends;
    booleans as ``true``/``false``, decimal numbers with ``decimal`` as their
    separator, missing values empty, formulas neutralised."""
    head = bom.encode("utf-8") + csv_lines([[_cell(n) for n in names]], separator)
    return head + csv_lines(
        ([_cell(v, decimal) for v in row] for row in rows), separator
    )


def csv_lines(rows: Iterable[list], separator: str = ",") -> bytes:
    """Rows of cells already made plain (``_cell``) as CSV lines: what
    :func:`write_csv` writes after its header, and a large download chunk by chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def csv_text(rows: Iterable[dict]) -> str:
    """Rows (dicts, header from the first one's keys) as CSV text, through
    :func:`write_csv` (the planners' scenario and key-figure tables)."""
    rows = list(rows)
    names = list(rows[0]) if rows else []
    values = ([clean_value(row.get(n)) for n in names] for row in rows)
    return write_csv(names, values).decode("utf-8") if names else ""


def _gpkg_bytes(
    frame: gpd.GeoDataFrame, layer: str, metadata: dict | None, lang: str = "fr"
) -> bytes:
    # a new file in a private folder: GDAL never sees the working store
    with gdal_.private_dir() as tmp:
        path = Path(tmp) / "export.gpkg"
        gdal_.write_gpkg(
            frame,
            path,
            layer,
            _gpkg_metadata(metadata or {}),
            dataset_options={"VERSION": GPKG_VERSION},
        )
        add_qgis_metadata(path, layer, qgis_metadata(layer, metadata or {}, lang))
        return path.read_bytes()


# QGIS (3.22 and later) shows a layer's licence, rights and sources from its own
# metadata record, which it finds by this standard URI; GDAL's record stays beside.
QGIS_STANDARD = "http://mrcc.com/qgis.dtd"
QGIS_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def qgis_metadata(layer: str, metadata: dict, lang: str = "fr") -> str:
    """A layer's metadata as a QGIS layer-metadata document (QgsLayerMetadata's
    XML): title, abstract, licences, rights (attribution), sources and links."""
    try:
        title = tr(get_spec(layer).title, lang)
    except NotFound:
        title = layer
    root = ElementTree.Element("qgis", version="3.22.0")
    fields = [
        ("identifier", f"mapapp:{layer}"),
        ("parentidentifier", ""),
        ("language", lang),
        ("type", "dataset"),
        ("title", title),
        ("abstract", _abstract(title, metadata, lang)),
    ]
    for tag, text in fields:
        ElementTree.SubElement(root, tag).text = text
    links = ElementTree.SubElement(root, "links")
    for lic in metadata.get("licences") or [metadata.get("licence") or LICENCE]:
        ElementTree.SubElement(
            links, "link", name=lic["title"], type="WWW:LINK", url=lic["url"],
            description="licence", format="", mimeType="text/html", size="",
        )  # fmt: skip
    ElementTree.SubElement(root, "fees").text = ""
    ElementTree.SubElement(root, "rights").text = metadata.get("attribution", "")
    for lic in metadata.get("licences") or [metadata.get("licence") or LICENCE]:
        ElementTree.SubElement(root, "license").text = f"{lic['title']} <{lic['url']}>"
    for source in metadata.get("sources", []):
        ElementTree.SubElement(root, "history").text = source
    ElementTree.SubElement(root, "encoding").text = ""
    return QGIS_DOCTYPE + "\n" + ElementTree.tostring(root, encoding="unicode")


def _abstract(title: str, metadata: dict, lang: str) -> str:
    edition = metadata.get("edition") or "?"
    if lang == "fr":
        return f"{title}, données publiées par mapapp (édition {edition})."
    return f"{title}, data published by mapapp (edition {edition})."


def add_qgis_metadata(path: Path, table: str, document: str) -> None:
    """Add a QGIS metadata record for ``table`` to a GeoPackage GDAL has written
    (GeoPackage's metadata extension: gpkg_metadata and its reference)."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk "
            "PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset', "
            "md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT "
            "'text/xml', metadata TEXT NOT NULL DEFAULT '')"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope "
            "TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value "
            "INTEGER, timestamp DATETIME NOT NULL DEFAULT "
            "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL, "
            "md_parent_id INTEGER, CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) "
            "REFERENCES gpkg_metadata(id), CONSTRAINT crmr_mpi_fk FOREIGN KEY "
            "(md_parent_id) REFERENCES gpkg_metadata(id))"
        )
        for name in ("gpkg_metadata", "gpkg_metadata_reference"):
            exists = db.execute(
                "SELECT 1 FROM gpkg_extensions WHERE table_name = ?", (name,)
            ).fetchone()
            if not exists:
                db.execute(
                    "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', "
                    "'http://www.geopackage.org/spec120/#extension_metadata', "
                    "'read-write')",
                    (name,),
                )
        cursor = db.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, "
            "metadata) VALUES ('dataset', ?, 'text/xml', ?)",
            (QGIS_STANDARD, document),
        )
        db.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, "
            "md_file_id) VALUES ('table', ?, ?)",
            (table, cursor.lastrowid),
        )
    # the connection is closed: GDAL's file is complete again, rollback journal gone


def _gpkg_metadata(metadata: dict) -> dict[str, str]:
    """The layer metadata as GeoPackage key/values (QGIS shows them)."""
    licences = metadata.get("licences") or []
    return {
        "licence": (metadata.get("licence") or {}).get("title", LICENCE["title"]),
        "licences": "; ".join(
            f"{lic['title']} ({lic['features']}) <{lic['url']}>" for lic in licences
        ),
        "attribution": metadata.get("attribution", ""),
        "sources": "; ".join(metadata.get("sources", [])),
        "edition": metadata.get("edition") or "",
        "downloaded": metadata.get("downloaded") or "",
    }


# --- whole published layers, as the download links and the API serve them ------
# (module-level functions of a site: the server runs them in a worker process for
# a large layer, mapapp.workers, and streams the file they are written to)


def download_body(
    site, name: str, fmt: str, crs: str | None, lang: str, size: int = 50_000
) -> bytes | Iterable[bytes]:
    """A layer's published features (every field, ``published`` too) in ``fmt``,
    with its metadata, as ``/download/<name>.<fmt>`` serves them. CSV and
    GeoPackage are written ``size`` features at a time from one read transaction
    (Store.read_versioned_chunks): a million companies read whole took 3.4 GB."""
    if fmt in CSV_FLAVOURS:
        return _csv_chunks(site, name, fmt, crs, size)
    if fmt == "gpkg":
        return _gpkg_chunked(site, name, crs, lang, size)
    frame = site.store.read(name, published_only=True)
    meta = site.layer_metadata(name, frame, lang)
    return export_bytes(frame, name, fmt, meta, crs, lang)


def _csv_chunks(
    site, name: str, fmt: str, crs: str | None, size: int
) -> Iterable[bytes]:
    """The CSV download of :func:`export_bytes`, a chunk of features at a time."""
    separator, bom = CSV_FLAVOURS[fmt]
    _version, chunks = site.store.read_versioned_chunks(
        name, published_only=True, size=size
    )
    first = True
    for chunk in chunks:
        names, rows = table_rows(exported(chunk, name, crs), projected=crs is not None)
        if first:
            yield bom.encode("utf-8") + csv_lines(
                [[_cell(n) for n in names]], separator
            )
            first = False
        decimal = DECIMALS[fmt]
        yield csv_lines(([_cell(v, decimal) for v in row] for row in rows), separator)
    if first:  # no feature: the header of an empty layer
        yield export_bytes(
            site.store.read(name, published_only=True), name, fmt, crs=crs
        )


def _gpkg_chunked(
    site, name: str, crs: str | None, lang: str, size: int
) -> bytes | Iterable[bytes]:
    """The GeoPackage download of :func:`export_bytes`, its features appended a
    chunk at a time and its metadata written once they are all counted; the file
    is then read out in blocks. Point layers only: the geometry type of other
    layers (single or multi polygons) is the one of all their features, which no
    chunk knows."""
    spec = get_spec(name)
    if spec.geometry != "Point":
        frame = site.store.read(name, published_only=True)
        return export_bytes(
            frame, name, "gpkg", site.layer_metadata(name, frame, lang), crs, lang
        )
    floats = [f.name for f in spec.fields if f.type == "float"]
    _version, chunks = site.store.read_versioned_chunks(
        name, published_only=True, size=size
    )
    tally = MetadataTally(name)
    with gdal_.private_dir() as tmp:
        path = Path(tmp) / "export.gpkg"
        for chunk in chunks:
            tally.add(chunk)
            frame = exported(chunk, name, crs)
            for field in floats:  # a chunk without a value: Real all the same
                frame[field] = frame[field].astype("float64")
            gdal_.write_gpkg(
                frame, path, name, {}, {"VERSION": GPKG_VERSION},
                append=path.exists(), geometry_type="Point",
            )  # fmt: skip
        if not path.exists():  # no feature: the empty layer, as export_bytes has it
            frame = site.store.read(name, published_only=True)
            meta = site.layer_metadata(name, frame, lang)
            return export_bytes(frame, name, "gpkg", meta, crs, lang)
        meta = site.layer_metadata(name, tally, lang)
        gdal_.write_gpkg(
            exported(chunk.iloc[:0], name, crs), path, name, _gpkg_metadata(meta),
            append=True, geometry_type="Point",
        )  # fmt: skip
        add_qgis_metadata(path, name, qgis_metadata(name, meta, lang))
        return _file_blocks(path.open("rb"))


def _file_blocks(file, block: int = 1 << 20) -> Iterable[bytes]:
    """The content of an open file in blocks (its folder may be gone: it is
    open), closed once read."""
    with file:
        while data := file.read(block):
            yield data


def geojson_chunks(site, name: str, size: int = 10_000) -> Iterable[bytes]:
    """A layer's published features as the GeoJSON text of
    :func:`~mapapp.maps.geojson.to_geojson`, read and written ``size`` features
    at a time in one read transaction (Store.read_chunks): the file is the layer at
    one version, and neither the layer nor its text is ever whole in memory (a
    million companies read at once took 3 GB)."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for frame in site.store.read_chunks(name, published_only=True, size=size):
        part = features(frame, drop=("version", "published"))
        text = json.dumps(part, ensure_ascii=False, separators=(",", ":"))[1:-1]
        yield text.encode() if first else b"," + text.encode()
        first = False
    yield b"]}"
