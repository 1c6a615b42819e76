"""Layers as downloadable files: GeoJSON, CSV and GeoPackage, with their metadata."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile

import geopandas as gpd
import pyogrio

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
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows([{k: clean_value(v) for k, v in r.items()} for r in rows])
        return buffer.getvalue().encode("utf-8")
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{layer}.gpkg")
            pyogrio.write_dataframe(
                frame,
                path,
                layer=layer,
                driver="GPKG",
                metadata={
                    "licence": LICENCE["title"],
                    "sources": "; ".join((metadata or {}).get("sources", [])),
                },
            )
            with open(path, "rb") as f:
                return f.read()
    raise ValueError(f"unknown format {fmt!r}")
