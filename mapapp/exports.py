"""Layers as downloadable files: GeoJSON, CSV and GeoPackage, with their metadata."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd

from . import gdal_
from .maps.geojson import clean_value, to_geojson

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
}
LICENCE = {
    "title": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}


def layer_metadata(frame: gpd.GeoDataFrame) -> dict:
    """Sources (most frequent first), the latest source date and the licence."""
    sources = frame["source"].value_counts().index.tolist() if len(frame) else []
    dates = [d for d in frame.get("source_date", []) if isinstance(d, str) and d]
    return {
        "sources": sources[:8],
        "more_sources": max(0, len(sources) - 8),
        "latest_source_date": max(dates) if dates else None,
        "features": int(len(frame)),
        "licence": LICENCE,
    }


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): it starts
# with = + - @, or with a tab or carriage return that some programs skip first.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell value safe to open in a spreadsheet: text that would start a formula
    gets a leading apostrophe (shown as text, never evaluated); numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(
    rows: Iterable[dict], fieldnames: list[str] | None = None, delimiter: str = ","
) -> str:
    """Rows as CSV text, every cell neutralised: the one CSV writer of mapapp (layer
    downloads, planner exports, scenario and key-figure tables)."""
    rows = list(rows)
    if fieldnames is None:
        fieldnames = list(rows[0]) if rows else []
    buffer = io.StringIO()
    if fieldnames:
        writer = csv.DictWriter(buffer, fieldnames=fieldnames, delimiter=delimiter)
        writer.writerow({name: neutralise(name) for name in fieldnames})
        writer.writerows(
            {k: neutralise(clean_value(v)) for k, v in row.items()} for row in rows
        )
    return buffer.getvalue()


def export_bytes(
    frame: gpd.GeoDataFrame, layer: str, fmt: str, metadata: dict | None = None
) -> bytes:
    """The frame as a file of format ``geojson``, ``csv`` or ``gpkg``."""
    frame = frame.drop(columns=["version"], errors="ignore")
    if fmt == "geojson":
        extra = {"name": layer, "metadata": metadata} if metadata else {"name": layer}
        return json.dumps(to_geojson(frame, **extra), ensure_ascii=False).encode()
    if fmt == "csv":
        rows = frame.drop(columns="geometry").to_dict("records")
        for row, geom in zip(rows, frame.geometry, strict=True):
            point = geom.representative_point()
            row["longitude"], row["latitude"] = round(point.x, 5), round(point.y, 5)
            row["wkt"] = geom.wkt if geom.geom_type != "Point" else ""
        return csv_text(rows).encode("utf-8")
    if fmt == "gpkg":
        # a new file in a private folder: GDAL never sees the working store
        with gdal_.private_dir() as tmp:
            path = Path(tmp) / "export.gpkg"
            gdal_.write_gpkg(
                frame,
                path,
                layer,
                {
                    "licence": LICENCE["title"],
                    "sources": "; ".join((metadata or {}).get("sources", [])),
                },
            )
            return path.read_bytes()
    raise ValueError(f"unknown format {fmt!r}")
