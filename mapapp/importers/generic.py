"""Any layer from GeoJSON, GeoPackage or CSV (longitude/latitude columns), with a
column mapping ``--map field=column`` and provenance given on the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry import Point

from ..errors import BadRequest
from ..layers import REGISTRY, get_spec
from ..text import slug
from .base import ImportJob, ImportReport, finish, register
from .formats import flatten, read_vector, recognise
from .reading import ImportFileError, norm, pick, read_csv, sniff
from .zones import repair

LON = ("longitude", "lon", "lng", "x", "x_longitude")
LAT = ("latitude", "lat", "y", "y_latitude")


def read_table(path: Path, report: ImportReport):
    """(attributes frame, geometries) of a CSV with longitude and latitude columns,
    or of a vector file (GeoJSON, GeoPackage, zipped Shapefile), told apart by their
    content, not their name."""
    if not _is_csv(path):
        frame = read_vector(path, f"a vector file for layer {report.layer!r}")
        frame = flatten(frame, report)
        return frame.drop(columns="geometry"), list(frame.geometry)
    fmt = sniff(path, [list(LON), list(LAT)], "CSV with longitude and latitude")
    frame = read_csv(path, fmt)
    lon = decimal_numbers(frame[pick(fmt, *LON)])
    lat = decimal_numbers(frame[pick(fmt, *LAT)])
    geoms = [
        None if np.isnan(a) or np.isnan(b) else Point(a, b)
        for a, b in zip(lon, lat, strict=True)
    ]
    return frame, geoms


def _is_csv(path: Path) -> bool:
    """A CSV (maybe compressed) by its content; by its name when there is none (the
    readers then say the file is missing or empty)."""
    if not path.is_file() or not path.stat().st_size:
        return path.suffix.lower() == ".csv"
    return recognise(path) == "csv"


def _check_options(path: Path, spec, columns: dict, mapping: dict, defaults) -> None:
    """Refuse a --set or --map naming an unknown field or column."""
    for name in defaults or {}:
        if name not in spec.field_names:
            raise BadRequest(
                f"--set {name}=…: {name!r} is not a field of {spec.name!r}"
            )
    for target, col in mapping.items():
        if target not in spec.field_names:
            raise BadRequest(
                f"--map {target}=…: {target!r} is not a field of {spec.name!r}"
            )
        if norm(col) not in columns:
            raise ImportFileError(
                f"{path.name}: --map {target}={col}: no column {col!r}"
            )


def _properties(rec: dict, spec, columns: dict, mapping: dict, defaults) -> dict:
    """One row's values for the layer's fields, typed, with the defaults given."""
    props = {}
    for f in spec.fields:
        col = mapping.get(f.name) or columns.get(norm(f.name))
        value = rec.get(columns.get(norm(col), col)) if col else None
        if value in ("", None) or (isinstance(value, float) and np.isnan(value)):
            continue
        props[f.name] = _choice(f, _typed(value, f.type))
    for name, value in (defaults or {}).items():
        props.setdefault(name, _typed(value, spec.field(name).type))
    return props


@register(
    "generic",
    None,
    {
        "fr": "Votre propre fichier : GeoJSON, GeoPackage, Shapefile zippé ou CSV "
        "avec longitude/latitude",
        "en": "Your own file: GeoJSON, GeoPackage, zipped Shapefile or CSV with "
        "longitude/latitude",
    },
)
def read_generic(path: Path, job: ImportJob) -> ImportReport:
    """Read a GeoJSON, GeoPackage or CSV file into ``layer`` (merged by id)."""
    layer, mapping, defaults, source = job.layer, job.mapping, job.defaults, job.source
    area, mode = job.area, job.mode or "merge"
    if layer not in REGISTRY:
        raise BadRequest(f"--layer: one of {', '.join(REGISTRY)}")
    spec = get_spec(layer)
    mapping = dict(mapping or {})
    report = ImportReport("generic", path.name, layer, mode=mode)
    frame, geoms = read_table(path, report)
    report.rows_read = len(frame)
    columns = {norm(c): c for c in frame.columns}
    _check_options(path, spec, columns, mapping, defaults)
    rows, kept = [], []
    for rec, geom in zip(frame.to_dict("records"), geoms, strict=True):
        props = _properties(rec, spec, columns, mapping, defaults)
        props.setdefault("source", source or f"Import {path.name}")
        props.setdefault("source_date", f"{date.today():%Y-%m-%d}")
        props.setdefault("precision", "approximate")
        if "id" not in props:
            props["id"] = slug(props.get(spec.label_field)) or None
        if not props["id"]:
            report.drop("no_id", str(rec)[:60])
            continue
        if geom is not None and spec.geometry == "Polygon":
            geom = repair(geom, report, props["id"])
            if geom is None:
                continue
        rows.append(props)
        kept.append(geom)
    return finish(report, rows, kept, area)


def _choice(spec_field, value):
    """A value of a field with choices given by its French or English label
    (``Ouvert``, ``open``) as the choice's key; other values unchanged."""
    if not spec_field.choices or not isinstance(value, str):
        return value
    wanted = norm(value)
    for key, label in spec_field.choices.items():
        names = label.values() if isinstance(label, dict) else [label]
        if wanted in {norm(key), *(norm(n) for n in names)}:
            return key
    return value


def decimal_numbers(column: pd.Series) -> pd.Series:
    """Numbers written the French way (``45,7640``, ``1 234,5``) or the English way,
    as floats; NaN where a cell is not a number."""
    text = column.astype(str).str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


def _number(value) -> float:
    """One number written the French or the English way (ValueError otherwise)."""
    if isinstance(value, int | float):
        return float(value)
    text = "".join(str(value).split()).replace("\u202f", "").replace(",", ".")
    return float(text)


def _typed(value, ftype: str):
    if ftype in ("int", "float"):
        try:
            number = _number(value)
        except ValueError:
            return value  # validation names the field and the bad value
        if ftype == "float":
            return number
        return int(number) if number.is_integer() else value
    if ftype == "bool":
        return str(value).strip().lower() in ("1", "true", "oui", "yes", "o")
    return str(value)
