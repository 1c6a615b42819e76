"""Compact point payloads for large layers, and the snapshot order they index.

A map of 100 000 establishments cannot inline 100 000 GeoJSON features. Large point
layers are sent as integer arrays instead: coordinates in 1e-5 degrees (about 1 m),
delta-encoded in a Z-order (Morton) sequence so that neighbours differ by little and
compress well, plus a category index per point. Popups fetch one feature by its
position in the same order (``/api/layers/<name>/items/<index>``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from ..layers import LayerSpec

SCALE = 100_000  # 1e-5 degree units


def _spread(v: np.ndarray) -> np.ndarray:
    """Interleave zeros between the 16 low bits of ``v`` (for Morton codes)."""
    v = v.astype(np.uint32) & 0xFFFF
    v = (v | (v << 8)) & 0x00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F
    v = (v | (v << 2)) & 0x33333333
    v = (v | (v << 1)) & 0x55555555
    return v


def spatial_order(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame sorted along a Z-order curve of its points (ties by id)."""
    if gdf.empty:
        return gdf
    geoms = gdf.geometry
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    x, y = geoms.x.to_numpy(), geoms.y.to_numpy()
    qx = ((x - x.min()) / max(np.ptp(x), 1e-9) * 65535).astype(np.uint32)
    qy = ((y - y.min()) / max(np.ptp(y), 1e-9) * 65535).astype(np.uint32)
    code = _spread(qx) | (_spread(qy) << 1)
    order = np.lexsort((gdf["id"].to_numpy().astype(str), code))
    return gdf.iloc[order].reset_index(drop=True)


def compact_points(gdf: gpd.GeoDataFrame, spec: LayerSpec, version: int) -> dict:
    """Integer arrays of a point layer already in :func:`spatial_order`."""
    xs = np.round(gdf.geometry.x.to_numpy() * SCALE).astype(np.int64)
    ys = np.round(gdf.geometry.y.to_numpy() * SCALE).astype(np.int64)
    categories = [c.value for c in spec.categories]
    lookup = {v: i for i, v in enumerate(categories)}
    if spec.category_field:
        codes = gdf[spec.category_field].map(lookup).fillna(-1).astype(int).tolist()
    else:
        codes = [-1] * len(gdf)
    return {
        "layer": spec.name,
        "version": version,
        "count": int(len(gdf)),
        "scale": SCALE,
        "categories": categories,
        "dx": np.diff(xs, prepend=0).tolist(),
        "dy": np.diff(ys, prepend=0).tolist(),
        "c": codes,
    }
