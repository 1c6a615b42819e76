"""GeoJSON for the web (RFC 7946): WGS84, coordinates rounded to 5 decimals (~1 m),
polygons' exterior rings counterclockwise and their holes clockwise (§3.1.6)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely

from ..values import plain_column
from ..values import plain_value as clean_value

PRECISION = 5


def orient(geoms):
    """Polygons (alone or in collections) with their exterior rings counterclockwise
    and their holes clockwise, as RFC 7946 asks; other geometries unchanged."""
    return shapely.orient_polygons(geoms, exterior_cw=False)


def features(
    gdf: gpd.GeoDataFrame,
    drop: tuple[str, ...] = (),
    precision: int = PRECISION,
    nulls: bool = False,
    wind: bool = True,
) -> list[dict]:
    """The frame's rows as GeoJSON Feature dicts (id from the ``id`` column).

    A frame with a CRS is moved to WGS84; one without (``crs=None``) is written in
    its own coordinates, rounded to ``precision`` decimals. Missing values are left
    out, or written as ``null`` with ``nulls`` (every feature then lists every
    property, which desktop GIS read as the layer's fields). Rings are wound as
    RFC 7946 asks, after rounding, unless ``wind`` is false (coordinates whose
    axes were swapped, wound before the swap).
    """
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    geoms = shapely.transform(gdf.geometry.values, lambda c: np.round(c, precision))
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)  # -1 for a missing geometry
    if wind:  # only polygons have rings to wind (a page of points skips it)
        shaped = np.isin(kinds, (3, 6, 7))
        if shaped.any():
            geoms[shaped] = orient(geoms[shaped])
    empty = (kinds < 0) | shapely.is_empty(geoms)
    xs, ys = shapely.get_x(geoms).tolist(), shapely.get_y(geoms).tolist()
    columns = [c for c in gdf.columns if c != gdf.geometry.name and c not in drop]
    values = [plain_column(gdf[c]) for c in columns]
    out = []
    for i, row in enumerate(zip(*values, strict=True) if values else [()] * len(gdf)):
        if nulls:
            props = dict(zip(columns, row, strict=True))
        else:  # one dict per feature, not two: a million of them are written
            props = {k: v for k, v in zip(columns, row, strict=True) if v is not None}
        if empty[i]:
            geometry = None
        elif kinds[i] == 0:
            geometry = {"type": "Point", "coordinates": [xs[i], ys[i]]}
        else:
            geometry = shapely.geometry.mapping(geoms[i])
        out.append(
            {
                "type": "Feature",
                "id": props.get("id"),
                "properties": props,
                "geometry": geometry,
            }
        )
    return out


def to_geojson(gdf: gpd.GeoDataFrame, drop: tuple[str, ...] = (), **members) -> dict:
    """A FeatureCollection dict; extra top-level members may be given."""
    return {"type": "FeatureCollection", **members, "features": features(gdf, drop)}


def safe_json(data: object) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become unicode escapes, so data can never close the
    script element or open a comment; U+2028/2029 are escaped for old parsers.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def stored_feature(feature: dict) -> dict:
    """A feature as the store returns it (properties, geometry, version) as GeoJSON."""
    props = {k: clean_value(v) for k, v in feature["properties"].items()}
    return {
        "type": "Feature",
        "id": feature["id"],
        "properties": {k: v for k, v in props.items() if v is not None},
        "geometry": shapely.geometry.mapping(orient(feature["geometry"])),
        "version": feature["version"],
    }
