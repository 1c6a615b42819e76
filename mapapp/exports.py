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
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
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
from .maps.geojson import clean_value, features, to_geojson

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "fr.csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
}
# fmt -> (separator, byte-order mark)
CSV_FLAVOURS = {"csv": (",", ""), "fr.csv": (";", "\ufeff")}
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


def layer_metadata(
    frame: gpd.GeoDataFrame,
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
    (edition, download date, URL), if any.
    """
    sources = frame["source"].value_counts().index.tolist() if len(frame) else []
    dates = [d for d in frame.get("source_date", []) if isinstance(d, str) and d]
    keys = feature_licences(frame, layer or "")
    default, attribution = layer_licence(layer)
    counts = dict(Counter(keys)) or {default: 0}
    main = max(counts, key=lambda k: (counts[k], k == default))
    by_precision = (
        frame["precision"].value_counts().to_dict() if "precision" in frame else {}
    )
    provenance = provenance or {}
    return {
        "sources": sources[:8],
        "more_sources": max(0, len(sources) - 8),
        "latest_source_date": max(dates) if dates else None,
        "edition": provenance.get("edition") or (max(dates) if dates else None),
        "downloaded": provenance.get("downloaded"),
        "download_url": provenance.get("url"),
        "features": int(len(frame)),
        "precision": {p: int(by_precision.get(p, 0)) for p in PRECISIONS},
        "licence": licence_of(main, lang),
        "licences": [{**licence_of(k, lang), "features": n} for k, n in counts.items()],
        "attribution": tr(attribution, lang),
    }


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
) -> bytes:
    """The frame as a file of a format of :data:`FORMATS`; coordinates in WGS84, or
    in ``crs`` (a pyproj name such as ``EPSG:2154``) when given. Features located
    at commune level only have no geometry (null; empty coordinates in CSV)."""
    frame = typed(frame.drop(columns=["version"], errors="ignore"), layer)
    frame = without_commune_points(frame, layer)
    if crs is not None:
        frame = frame.to_crs(crs)
    if fmt == "geojson":
        return _geojson_bytes(frame, layer, metadata, crs)
    if fmt in CSV_FLAVOURS:
        separator, bom = CSV_FLAVOURS[fmt]
        names, rows = table_rows(frame, projected=crs is not None)
        return write_csv(names, rows, separator, bom)
    if fmt == "gpkg":
        return _gpkg_bytes(frame, layer, metadata)
    raise ValueError(f"unknown format {fmt!r}")


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
    names = [c for c in frame.columns if c != "geometry"] + [*xy, "wkt"]
    rows = []
    for record, geom in zip(
        frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
    ):
        row = [clean_value(v) for v in record.values()]
        if geom is None or geom.is_empty:
            rows.append(row + [None, None, ""])
            continue
        point = geom.representative_point()
        row += [round(point.x, digits), round(point.y, digits)]
        row.append(shapely.to_wkt(geom, digits) if geom.geom_type != "Point" else "")
        rows.append(row)
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


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value)


def write_csv(
    names: list[str], rows: Iterable[list], separator: str = ",", bom: str = ""
) -> bytes:
    """The one CSV writer of mapapp (downloads in both flavours, planners' exports
    and tables): a header and the rows, RFC 4180 quoting and CRLF line ends;
    booleans as ``true``/``false``, missing values empty, formulas neutralised."""
    buffer = io.StringIO()
    buffer.write(bom)
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([_cell(n) for n in names])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def csv_text(rows: Iterable[dict]) -> str:
    """Rows (dicts, header from the first one's keys) as CSV text, through
    :func:`write_csv` (the planners' scenario and key-figure tables)."""
    rows = list(rows)
    names = list(rows[0]) if rows else []
    values = ([clean_value(row.get(n)) for n in names] for row in rows)
    return write_csv(names, values).decode("utf-8") if names else ""


def _gpkg_bytes(frame: gpd.GeoDataFrame, layer: str, metadata: dict | None) -> bytes:
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
        return path.read_bytes()


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
