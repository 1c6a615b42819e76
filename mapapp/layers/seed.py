"""Seed I/O: GeoJSON files to validated layer frames (the store is built from them)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
from shapely.errors import ShapelyError
from shapely.geometry import shape

from ..errors import Problem, ValidationError
from .model import REGISTRY, LayerSpec
from .validation import Area, validate_records


def records_from_geojson(data: dict, source: str) -> list[dict]:
    """Turn a GeoJSON FeatureCollection into records, keeping raw property types."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError(
            [Problem(source, "-", "type", "expected a GeoJSON FeatureCollection")]
        )
    records = []
    for index, feat in enumerate(data.get("features") or []):
        props = dict(feat.get("properties") or {})
        if "id" not in props and feat.get("id") is not None:
            props["id"] = str(feat["id"])
        try:
            geom = shape(feat["geometry"]) if feat.get("geometry") else None
        except (ValueError, TypeError, KeyError, AttributeError, ShapelyError) as exc:
            raise ValidationError(
                [
                    Problem(
                        source,
                        f"#{index + 1}",
                        "geometry",
                        f"unreadable geometry: {exc}",
                    )
                ]
            ) from None
        records.append({"properties": props, "geometry": geom})
    return records


def to_frame(records: list[dict], spec: LayerSpec) -> gpd.GeoDataFrame:
    """Build the layer's GeoDataFrame (one column per spec field) from records."""
    rows = [{f: rec["properties"].get(f) for f in spec.field_names} for rec in records]
    geoms = [rec["geometry"] for rec in records]
    return gpd.GeoDataFrame(
        rows, columns=spec.field_names, geometry=geoms, crs="EPSG:4326"
    )


def load_layer_file(path: Path, spec: LayerSpec, area: Area) -> gpd.GeoDataFrame:
    """Read and validate one seed GeoJSON file; raise ValidationError on any problem."""
    source = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            [Problem(source, "-", "-", f"cannot read: {exc}")]
        ) from None
    records = records_from_geojson(data, source)
    problems = validate_records(records, spec, area, source)
    if problems:
        raise ValidationError(problems)
    return to_frame(records, spec)


def load_seed(data_dir: Path, area: Area) -> dict[str, gpd.GeoDataFrame]:
    """Load every registered layer from ``<data_dir>/<name>.geojson``, all validated;
    a layer without its file starts empty (a new territory's profile has none).

    Problems of all files are gathered before raising, so one run lists them all.
    """
    if not Path(data_dir).is_dir():
        raise ValidationError(
            [Problem(str(data_dir), "-", "-", "the seed folder does not exist")]
        )
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems: list[Problem] = []
    for name, spec in REGISTRY.items():
        path = Path(data_dir) / f"{name}.geojson"
        if not path.is_file():
            layers[name] = to_frame([], spec)
            continue
        try:
            layers[name] = load_layer_file(path, spec, area)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    return layers
