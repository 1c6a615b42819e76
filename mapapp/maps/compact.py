"""Compact point payloads for large layers, and the snapshot order they index.

A map of 100 000 establishments cannot inline 100 000 GeoJSON features. Large point
layers are sent as integer arrays instead: coordinates in 1e-5 degrees (about 1 m),
delta-encoded in a Z-order (Morton) sequence so that neighbours differ by little and
compress well, plus a category index per point. Popups fetch one feature by its
position in the same order (``/api/layers/<name>/items/<index>``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..layers import LayerSpec, get_spec

SCALE = 100_000  # 1e-5 degree units
COMMUNE_LEVEL = "commune"  # the precision of features located at commune level only


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
    x, y = point_xy(gdf.geometry)
    # features located at commune level only come last: drawn as commune badges,
    # never as points (see :func:`commune_groups`)
    at_commune = None
    if "precision" in gdf:
        at_commune = (gdf["precision"] == COMMUNE_LEVEL).to_numpy()
    order = spatial_positions(x, y, gdf["id"].to_numpy().astype(str), at_commune)
    return gdf.iloc[order].reset_index(drop=True)


def point_xy(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates :func:`spatial_order` orders shapes by: a point's own, a
    representative point of any other shape (NaN without a geometry). The same
    for a whole layer and for each of its chunks."""
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    return geoms.x.to_numpy(), geoms.y.to_numpy()


def spatial_positions(
    x: np.ndarray, y: np.ndarray, ids: np.ndarray, at_commune: np.ndarray | None
) -> np.ndarray:
    """The positions of features (their :func:`point_xy` and ids, as arrays) in
    :func:`spatial_order`: what a build read in chunks orders its arrays by.
    ``at_commune`` marks the features sent last, in the same order."""
    if not len(x):
        return np.zeros(0, dtype=np.intp)
    qx = ((x - x.min()) / max(np.ptp(x), 1e-9) * 65535).astype(np.uint32)
    qy = ((y - y.min()) / max(np.ptp(y), 1e-9) * 65535).astype(np.uint32)
    code = _spread(qx) | (_spread(qy) << 1)
    order = np.lexsort((ids, code))
    if at_commune is None:
        return order
    return order[np.argsort(at_commune[order], kind="stable")]


@dataclass
class MapPoints:
    """What the compact payloads read of a point layer in :func:`spatial_order`,
    as arrays: the coordinates, each point's category (its index in the spec's
    categories, -1 none), how many come first located at a place, and the
    commune code of each of the rest (located at commune level only). Made from
    a frame (:meth:`of_frame`) or by a build that read the layer in chunks."""

    x: np.ndarray
    y: np.ndarray
    category: np.ndarray
    located: int
    commune_codes: list[str]

    @classmethod
    def of_frame(cls, gdf: gpd.GeoDataFrame, spec: LayerSpec | None) -> MapPoints:
        """The arrays of a frame in :func:`spatial_order`."""
        n = len(gdf)
        field = spec.category_field if spec is not None else None
        category = np.full(n, -1, dtype=np.int64)
        if field:
            category = category_index(gdf[field], spec)
        located, rest = n, gdf.iloc[n:]
        if "precision" in gdf and n:
            at_commune = (gdf["precision"] == COMMUNE_LEVEL).to_numpy()
            located = int((~at_commune).sum())
            rest = gdf.iloc[located:]
        codes = (
            rest["commune_code"].fillna("").astype(str).tolist()
            if "commune_code" in rest
            else [""] * len(rest)
        )
        x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        return cls(x, y, category, located, codes)


def category_index(values: pd.Series, spec: LayerSpec) -> np.ndarray:
    """Each value's index in the spec's categories (-1: none of them)."""
    lookup = {c.value: i for i, c in enumerate(spec.categories)}
    return values.map(lookup).fillna(-1).to_numpy(np.int64)


def _points(gdf: gpd.GeoDataFrame | MapPoints, spec: LayerSpec | None) -> MapPoints:
    return gdf if isinstance(gdf, MapPoints) else MapPoints.of_frame(gdf, spec)


def commune_groups(gdf: gpd.GeoDataFrame | MapPoints) -> tuple[int, list[list]]:
    """(number of located points, ``[code, lon, lat, count]`` per commune) of a frame
    in :func:`spatial_order`: its commune-level features, one group per commune (or
    per anchor point), drawn as a badge with their count."""
    points = _points(gdf, None)
    located = points.located
    if located == len(points.x):
        return located, []
    lon = np.round(points.x[located:], 5)
    lat = np.round(points.y[located:], 5)
    groups: dict[tuple, list] = {}
    for code, x, y in zip(points.commune_codes, lon, lat, strict=True):
        key = (code,) if code else ("", x, y)
        group = groups.setdefault(key, [code, float(x), float(y), 0])
        group[3] += 1
    return located, list(groups.values())


def _header(points: MapPoints, spec: LayerSpec, version: int, categories) -> dict:
    """What both forms of the payload say before their arrays."""
    located, communes = commune_groups(points)
    return {
        "layer": spec.name,
        "version": version,
        "count": int(len(points.x)),
        "located": located,
        "communes": communes,
        "scale": SCALE,
        "categories": categories,
    }


def compact_points(
    gdf: gpd.GeoDataFrame | MapPoints, spec: LayerSpec, version: int
) -> dict:
    """Integer arrays of a point layer already in :func:`spatial_order`."""
    points = _points(gdf, spec)
    xs = np.round(points.x * SCALE).astype(np.int64)
    ys = np.round(points.y * SCALE).astype(np.int64)
    categories = [c.value for c in spec.categories]
    return {
        **_header(points, spec, version, categories),
        "dx": np.diff(xs, prepend=0).tolist(),
        "dy": np.diff(ys, prepend=0).tolist(),
        "c": points.category.tolist(),
    }


def _varints(values: np.ndarray) -> bytes:
    """Signed integers as zigzag LEB128 varints, one after the other (a value under
    64 in absolute value takes one byte)."""
    if len(values) == 0:  # a layer without a published feature
        return b""
    v = values.astype(np.int64)
    rest = ((v << 1) ^ (v >> 63)).astype(np.uint64)
    active = np.ones(len(rest), dtype=bool)
    columns = []  # the k-th byte of every value, flagged when the value has one
    while active.any():
        byte = (rest & np.uint64(0x7F)).astype(np.uint16)
        rest = rest >> np.uint64(7)
        more = rest > 0
        byte[more] |= 0x80
        columns.append(np.where(active, byte | 0x100, 0))
        active = active & more
    stacked = np.stack(columns, axis=1).ravel()  # value by value, byte by byte
    return (stacked[stacked >= 0x100] & 0xFF).astype(np.uint8).tobytes()


MAGIC = b"MPTS"


def compact_binary(
    gdf: gpd.GeoDataFrame | MapPoints, spec: LayerSpec, version: int
) -> bytes:
    """The compact payload as bytes, about a sixth smaller once compressed than its
    JSON twin (:func:`compact_points`) and decoded without a JSON parser.

    Layout: ``MPTS``, a little-endian uint32 *n*, *n* bytes of JSON header (layer,
    version, count, located, communes, scale, categories), the x deltas then the y
    deltas as zigzag varints, then one byte per point: its category's index plus one
    (0: none).
    """
    points = _points(gdf, spec)
    xs = np.round(points.x * SCALE).astype(np.int64)
    ys = np.round(points.y * SCALE).astype(np.int64)
    categories = [c.value for c in spec.categories][:254]
    index = points.category
    codes = np.where((index >= 0) & (index < 254), index + 1, 0).astype(np.uint8)
    header = json.dumps(
        _header(points, spec, version, categories), separators=(",", ":")
    ).encode()
    return b"".join(
        [
            MAGIC,
            len(header).to_bytes(4, "little"),
            header,
            _varints(np.diff(xs, prepend=0)),
            _varints(np.diff(ys, prepend=0)),
            codes.tobytes(),
        ]
    )


OVERVIEW_CELL = 0.01  # degrees: about 760 m east-west and 1.1 km north-south here


def overview_cells(
    gdf: gpd.GeoDataFrame | MapPoints,
    spec: LayerSpec,
    version: int,
    cell: float = OVERVIEW_CELL,
) -> dict:
    """A small aggregate of a large point layer already in :func:`spatial_order`:
    its located points counted per grid cell of ``cell`` degrees, each cell as
    ``[lon, lat, count]`` at the mean position of its points (so a cell's circle
    sits where its points are). What the map draws at low zoom instead of every
    point; the commune-level features keep their badges (``communes``)."""
    points = _points(gdf, spec)
    categories = [c.value for c in spec.categories][:254]
    header = _header(points, spec, version, categories)
    located = header["located"]
    xs = points.x[:located]
    ys = points.y[:located]
    cells: list[list] = []
    if located:
        cx = np.floor(xs / cell).astype(np.int64)
        cy = np.floor(ys / cell).astype(np.int64)
        cx -= cx.min()
        cy -= cy.min()
        key = cx * (int(cy.max()) + 1) + cy  # one integer per cell: a fast unique
        _keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        lon = np.bincount(inverse, weights=xs) / counts
        lat = np.bincount(inverse, weights=ys) / counts
        cells = [
            [round(float(x), 4), round(float(y), 4), int(n)]
            for x, y, n in zip(lon, lat, counts, strict=True)
        ]
    return {**header, "cell": cell, "cells": cells}


def _unvarints(data: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """The first ``n`` zigzag varints of ``data`` (bytes as uint8) and the number
    of bytes they take (the inverse of :func:`_varints`)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    ends = np.flatnonzero(data < 0x80)[:n]  # the last byte of each value
    used = int(ends[-1]) + 1
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    place = np.arange(used) - np.repeat(starts, lengths)  # a byte's rank in its value
    parts = (data[:used].astype(np.uint64) & np.uint64(0x7F)) << (
        np.uint64(7) * place.astype(np.uint64)
    )
    raw = np.bitwise_or.reduceat(parts, starts)
    values = (raw >> np.uint64(1)).astype(np.int64) ^ -(raw & np.uint64(1)).astype(
        np.int64
    )
    return values, used


def points_of_binary(raw: bytes) -> dict:
    """The JSON form of the compact payload (:func:`compact_points`) read back from
    its binary form (:func:`compact_binary`): what a packed snapshot, which keeps
    only the bytes, answers the rare client without a binary decoder."""
    size = int.from_bytes(raw[4:8], "little")
    header = json.loads(raw[8 : 8 + size])
    data = np.frombuffer(raw, dtype=np.uint8, offset=8 + size)
    n = header["count"]
    dx, used = _unvarints(data, n)
    dy, more = _unvarints(data[used:], n)
    codes = data[used + more : used + more + n].astype(np.int64) - 1
    categories = [c.value for c in get_spec(header["layer"]).categories]
    return {
        **header,
        "categories": categories,
        "dx": dx.tolist(),
        "dy": dy.tolist(),
        "c": codes.tolist(),
    }


TILE_ZOOMS = range(10, 17)  # the XYZ tile levels a point layer is cut by
_FINEST = TILE_ZOOMS[-1]


def tile_of(lon: np.ndarray, lat: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """The Web Mercator XYZ tile (x, y) holding each point at zoom level ``z``: the
    tiles the map's base layer uses, so a map knows which ones it sees."""
    n = 1 << z
    x = np.floor((lon + 180.0) / 360.0 * n)
    rad = np.radians(np.clip(lat, -85.05112878, 85.05112878))
    y = np.floor((1.0 - np.arcsinh(np.tan(rad)) / np.pi) / 2.0 * n)
    return (
        np.clip(x, 0, n - 1).astype(np.int64),
        np.clip(y, 0, n - 1).astype(np.int64),
    )


def _quadkey(x, y) -> np.ndarray:
    """The Morton code of tile (x, y): the tiles of a coarser level are runs of it."""
    return _spread(np.asarray(x)).astype(np.uint64) | (
        _spread(np.asarray(y)).astype(np.uint64) << np.uint64(1)
    )


class PointTiles:
    """The located points of a compact payload sorted once by their tile of level
    16, by Morton code: the points of any tile of :data:`TILE_ZOOMS` are then one run
    of that order, found by two binary searches (no loop over the features).

    Within a tile the points keep the payload's order, and each carries its
    position in it: the one the popups (``/items/<index>``) and the search know.
    """

    def __init__(self, raw: bytes):
        size = int.from_bytes(raw[4:8], "little")
        self.header = json.loads(raw[8 : 8 + size])
        data = np.frombuffer(raw, dtype=np.uint8, offset=8 + size)
        n, located = self.header["count"], self.header["located"]
        dx, used = _unvarints(data, n)
        dy, more = _unvarints(data[used:], n)
        xs, ys = np.cumsum(dx)[:located], np.cumsum(dy)[:located]
        codes = data[used + more : used + more + n][:located]
        tx, ty = tile_of(xs / SCALE, ys / SCALE, _FINEST)
        key = _quadkey(tx, ty)
        order = np.argsort(key, kind="stable")  # ties keep the payload's order
        self.keys = key[order]
        self.index = order.astype(np.int32)
        self.xs = xs[order].astype(np.int32)
        self.ys = ys[order].astype(np.int32)
        self.codes = codes[order]

    @property
    def nbytes(self) -> int:
        """Memory held by the sorted arrays."""
        arrays = (self.keys, self.index, self.xs, self.ys, self.codes)
        return sum(a.nbytes for a in arrays)

    def run(self, z: int, x: int, y: int) -> slice:
        """Where the points of tile ``z/x/y`` lie in the sorted arrays."""
        shift = np.uint64(2 * (_FINEST - z))
        first = _quadkey(x, y) << shift
        start, stop = np.searchsorted(
            self.keys, [first, first + (np.uint64(1) << shift)]
        )
        return slice(int(start), int(stop))

    def tile(self, z: int, x: int, y: int) -> bytes:
        """The points of tile ``z/x/y`` in the binary form of :func:`compact_binary`,
        their positions in the payload appended.

        Layout: ``MPTS``, a uint32 *n*, *n* bytes of JSON header (``layer``,
        ``version``, ``tile`` [z, x, y], ``count``, ``located``, ``scale``,
        ``categories``), the x then y deltas as zigzag varints, one category byte
        per point, then the deltas of the points' positions (ascending) as varints.
        """
        run = self.run(z, x, y)
        # a coarser tile's run is in the order of its level-16 tiles: put back in
        # the payload's, whose neighbours are near (small deltas, in one byte)
        order = np.argsort(self.index[run], kind="stable")
        index = self.index[run][order].astype(np.int64)
        xs, ys = self.xs[run][order], self.ys[run][order]
        head = {
            **{k: self.header[k] for k in ("layer", "version", "scale", "categories")},
            "tile": [z, x, y],
            "count": len(index),
            "located": len(index),
            "communes": [],
        }
        header = json.dumps(head, separators=(",", ":")).encode()
        return b"".join(
            [
                MAGIC,
                len(header).to_bytes(4, "little"),
                header,
                _varints(np.diff(xs.astype(np.int64), prepend=0)),
                _varints(np.diff(ys.astype(np.int64), prepend=0)),
                self.codes[run][order].tobytes(),
                _varints(np.diff(index, prepend=0)),
            ]
        )
