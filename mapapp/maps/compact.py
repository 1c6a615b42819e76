"""Compact point payloads for large layers, and the snapshot order they index.

A map of 100 000 establishments cannot inline 100 000 GeoJSON features. Large point
layers are sent as integer arrays instead: coordinates in 1e-5 degrees (about 1 m),
delta-encoded in a Z-order (Morton) sequence so that neighbours differ by little and
compress well, plus a category index per point. Popups fetch one feature by its
position in the same order (``/api/layers/<name>/items/<index>``).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np

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
    geoms = gdf.geometry
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    x, y = geoms.x.to_numpy(), geoms.y.to_numpy()
    qx = ((x - x.min()) / max(np.ptp(x), 1e-9) * 65535).astype(np.uint32)
    qy = ((y - y.min()) / max(np.ptp(y), 1e-9) * 65535).astype(np.uint32)
    code = _spread(qx) | (_spread(qy) << 1)
    order = np.lexsort((gdf["id"].to_numpy().astype(str), code))
    ordered = gdf.iloc[order].reset_index(drop=True)
    if "precision" not in ordered:
        return ordered
    # features located at commune level only come last: drawn as commune badges,
    # never as points (see :func:`commune_groups`)
    at_commune = (ordered["precision"] == COMMUNE_LEVEL).to_numpy()
    return ordered.iloc[np.argsort(at_commune, kind="stable")].reset_index(drop=True)


def commune_groups(gdf: gpd.GeoDataFrame) -> tuple[int, list[list]]:
    """(number of located points, ``[code, lon, lat, count]`` per commune) of a frame
    in :func:`spatial_order`: its commune-level features, one group per commune (or
    per anchor point), drawn as a badge with their count."""
    if "precision" not in gdf or gdf.empty:
        return int(len(gdf)), []
    at_commune = (gdf["precision"] == COMMUNE_LEVEL).to_numpy()
    located = int((~at_commune).sum())
    rest = gdf.iloc[located:]
    if rest.empty:
        return located, []
    lon = np.round(rest.geometry.x.to_numpy(), 5)
    lat = np.round(rest.geometry.y.to_numpy(), 5)
    codes = (
        rest["commune_code"].fillna("").astype(str).to_numpy()
        if "commune_code" in rest
        else np.array([""] * len(rest))
    )
    groups: dict[tuple, list] = {}
    for code, x, y in zip(codes, lon, lat, strict=True):
        key = (code,) if code else ("", x, y)
        group = groups.setdefault(key, [code, float(x), float(y), 0])
        group[3] += 1
    return located, list(groups.values())


def _header(gdf: gpd.GeoDataFrame, spec: LayerSpec, version: int, categories) -> dict:
    """What both forms of the payload say before their arrays."""
    located, communes = commune_groups(gdf)
    return {
        "layer": spec.name,
        "version": version,
        "count": int(len(gdf)),
        "located": located,
        "communes": communes,
        "scale": SCALE,
        "categories": categories,
    }


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
        **_header(gdf, spec, version, categories),
        "dx": np.diff(xs, prepend=0).tolist(),
        "dy": np.diff(ys, prepend=0).tolist(),
        "c": codes,
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


def compact_binary(gdf: gpd.GeoDataFrame, spec: LayerSpec, version: int) -> bytes:
    """The compact payload as bytes, about a sixth smaller once compressed than its
    JSON twin (:func:`compact_points`) and decoded without a JSON parser.

    Layout: ``MPTS``, a little-endian uint32 *n*, *n* bytes of JSON header (layer,
    version, count, located, communes, scale, categories), the x deltas then the y
    deltas as zigzag varints, then one byte per point: its category's index plus one
    (0: none).
    """
    xs = np.round(gdf.geometry.x.to_numpy() * SCALE).astype(np.int64)
    ys = np.round(gdf.geometry.y.to_numpy() * SCALE).astype(np.int64)
    categories = [c.value for c in spec.categories][:254]
    lookup = {v: i + 1 for i, v in enumerate(categories)}
    if spec.category_field:
        codes = gdf[spec.category_field].map(lookup).fillna(0).to_numpy(np.uint8)
    else:
        codes = np.zeros(len(gdf), dtype=np.uint8)
    header = json.dumps(
        _header(gdf, spec, version, categories), separators=(",", ":")
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
    gdf: gpd.GeoDataFrame, spec: LayerSpec, version: int, cell: float = OVERVIEW_CELL
) -> dict:
    """A small aggregate of a large point layer already in :func:`spatial_order`:
    its located points counted per grid cell of ``cell`` degrees, each cell as
    ``[lon, lat, count]`` at the mean position of its points (so a cell's circle
    sits where its points are). What the map draws at low zoom instead of every
    point; the commune-level features keep their badges (``communes``)."""
    categories = [c.value for c in spec.categories][:254]
    header = _header(gdf, spec, version, categories)
    located = header["located"]
    xs = gdf.geometry.x.to_numpy()[:located]
    ys = gdf.geometry.y.to_numpy()[:located]
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
