"""Layers as downloadable files: GeoJSON, CSV and GeoPackage, with their metadata."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd

from . import gdal_
from .layers import PRECISIONS
from .layers.builtin import LICENCES
from .maps.geojson import clean_value, to_geojson

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
}
# The licence of the former releases' single stamp (kept for callers that show one
# licence; the licence of each layer is decided by layer_metadata below).
LICENCE = {
    "title": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}

# Each layer's licence and attribution. A feature whose ``licence`` field is set
# keeps its own (the SNCF stations among the landmarks are ODbL; the illustrative
# coworking proposals are CC0, like the perimeters). geodata/SOURCES.md explains.
LAYER_LICENCES: dict[str, tuple[str, dict[str, str]]] = {
    "companies": (
        "lo-2.0",
        {
            "fr": "mapapp, d'après les sources citées pour chaque entreprise ; "
            "imports : INSEE, répertoire SIRENE",
            "en": "mapapp, from the sources cited for each company; "
            "imports: INSEE, SIRENE register",
        },
    ),
    "coworking": (
        "lo-2.0",
        {
            "fr": "mapapp, d'après les sources citées ; propositions illustratives "
            "de mapapp",
            "en": "mapapp, from the sources cited; illustrative proposals by mapapp",
        },
    ),
    "schools": (
        "lo-2.0",
        {
            "fr": "mapapp, d'après les sources citées ; imports : ministère de "
            "l'Éducation nationale, ONISEP, MESR",
            "en": "mapapp, from the sources cited; imports: Ministry of Education, "
            "ONISEP, MESR",
        },
    ),
    "fibre": (
        "lo-2.0",
        {
            "fr": "Contours : IGN – Admin Express COG 2018, INSEE (via "
            "gregoiredavid/france-geojson) ; chiffres illustratifs de mapapp ; "
            "imports : ARCEP",
            "en": "Outlines: IGN – Admin Express COG 2018, INSEE (via "
            "gregoiredavid/france-geojson); illustrative figures by mapapp; "
            "imports: ARCEP",
        },
    ),
    "context": (
        "lo-2.0",
        {
            "fr": "mapapp, d'après les sources citées ; gares : SNCF Voyageurs, "
            "référentiel des gares de voyageurs",
            "en": "mapapp, from the sources cited; stations: SNCF Voyageurs, "
            "passenger stations reference",
        },
    ),
    "perimeters": (
        "cc0-1.0",
        {
            "fr": "mapapp (périmètres illustratifs tracés pour la discussion)",
            "en": "mapapp (illustrative perimeters drawn for discussion)",
        },
    ),
    "zones": (
        "lo-2.0",
        {
            "fr": "IGN et INSEE (contours IRIS, communes)",
            "en": "IGN and INSEE (IRIS and commune contours)",
        },
    ),
}


def licence_of(key: str, lang: str = "fr") -> dict:
    """A licence as ``{"id", "title", "url"}`` in the page language."""
    entry = LICENCES[key]
    return {"id": key, "title": entry.get(lang) or entry["fr"], "url": entry["url"]}


def feature_licences(frame: gpd.GeoDataFrame, layer: str) -> list[str]:
    """The licence key of every feature: its own, else its layer's."""
    default = LAYER_LICENCES.get(layer, ("lo-2.0", {}))[0]
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
    default, attribution = LAYER_LICENCES.get(layer or "", ("lo-2.0", {}))
    counts = {k: keys.count(k) for k in dict.fromkeys(keys)} or {default: 0}
    main = max(counts, key=lambda k: (counts[k], k == default))
    precision = frame["precision"] if "precision" in frame else []
    provenance = provenance or {}
    return {
        "sources": sources[:8],
        "more_sources": max(0, len(sources) - 8),
        "latest_source_date": max(dates) if dates else None,
        "edition": provenance.get("edition") or (max(dates) if dates else None),
        "downloaded": provenance.get("downloaded"),
        "download_url": provenance.get("url"),
        "features": int(len(frame)),
        "precision": {p: int(sum(v == p for v in precision)) for p in PRECISIONS},
        "licence": licence_of(main, lang),
        "licences": [{**licence_of(k, lang), "features": n} for k, n in counts.items()],
        "attribution": attribution.get(lang) or attribution.get("fr") or "",
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
                _gpkg_metadata(metadata or {}),
            )
            return path.read_bytes()
    raise ValueError(f"unknown format {fmt!r}")


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
