"""Points read at their fixed offsets (store/points.py) are the geometries shapely
reads from the same bytes, whatever the blob's layout."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from mapapp.store.geopackage import (
    GeoPackageStore,
    _from_wkb,
    decode_geometries,
    encode_geometry,
)
from mapapp.store.points import bare_points, gpkg_points
from mapapp.store.postgis import PostGISStore
from tests.shipped import GRAND_BESANCON_BBOX as AREA


def gpkg_blob(wkb: bytes, envelope: int, little: bool = True, flags: int = 0) -> bytes:
    """A GeoPackage blob around ``wkb``: envelope code ``envelope`` (0: none, 1:
    xy, 2: xyz, 3: xym, 4: xyzm), header in either byte order."""
    order = "<" if little else ">"
    doubles = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}[envelope]
    head = b"GP" + bytes([0, (envelope << 1) | int(little) | flags])
    head += struct.pack(order + "i", 4326)
    return head + struct.pack(order + f"{doubles}d", *range(doubles)) + wkb


def big_endian_point(x: float, y: float) -> bytes:
    return b"\x00" + struct.pack(">I2d", 1, x, y)


def same(a, b) -> bool:
    """Both None, or the same geometry down to its WKB (type, dimensions, bits)."""
    if a is None or b is None:
        return a is None and b is None
    return shapely.to_wkb(a) == shapely.to_wkb(b)


MIXED = [
    encode_geometry(Point(6.02411, 47.23785)),  # as the store writes: xy envelope
    None,
    encode_geometry(Point()),  # empty: flagged, no envelope
    gpkg_blob(shapely.to_wkb(Point(1.5, -2.25), byte_order=1), 0),  # no envelope
    gpkg_blob(shapely.to_wkb(Point(3, 4), byte_order=1), 1, little=False),
    gpkg_blob(shapely.to_wkb(Point(5, 6), byte_order=1), 2),
    gpkg_blob(shapely.to_wkb(Point(7, 8), byte_order=1), 4),
    gpkg_blob(big_endian_point(9, 10), 1),
    gpkg_blob(shapely.to_wkb(Point(1, 2, 3), byte_order=1), 0),  # Z
    gpkg_blob(struct.pack("<BI2d", 1, 1, np.nan, np.nan), 0),  # NaN, not flagged
    gpkg_blob(struct.pack("<BI2d", 1, 1, np.inf, 1.0), 0),
    encode_geometry(shapely.box(0, 0, 1, 1)),
    encode_geometry(shapely.MultiPoint([(0, 0), (1, 1)])),
    encode_geometry(Point(-0.0, 1e-300)),
]


def test_gpkg_points_decode_as_shapely_does():
    got, want = decode_geometries(MIXED), _from_wkb(MIXED)
    assert len(got) == len(want) == len(MIXED)
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert same(a, b), (i, a, b)


def test_gpkg_points_read_only_plain_2d_points():
    xy, found = gpkg_points(MIXED)
    assert found.tolist() == [
        True, False, False, True, True, True, True,
        False, False, False, False, False, False, True,
    ]  # fmt: skip
    assert xy[0].tolist() == [6.02411, 47.23785]
    assert xy[3].tolist() == [1.5, -2.25] and xy[6].tolist() == [7, 8]
    assert np.isnan(xy[~found]).all()


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"GP",
        b"XX" + encode_geometry(Point(1, 2))[2:],  # no magic
        encode_geometry(Point(1, 2)) + b"\x00",  # trailing bytes
        encode_geometry(Point(1, 2))[:-1],  # cut short
        gpkg_blob(shapely.to_wkb(Point(1, 2), byte_order=1), 1, flags=0b100000),
    ],
)
def test_gpkg_points_leave_odd_blobs_to_shapely(blob):
    xy, found = gpkg_points([encode_geometry(Point(1, 2)), blob])
    assert found.tolist() == [True, False]


def test_many_points_decode_as_shapely_does():
    rng = np.random.default_rng(3)
    coords = rng.normal(size=(5000, 2)) * 100
    geoms = list(shapely.points(coords))
    geoms[7], geoms[99] = None, Point()
    blobs = [encode_geometry(g) for g in geoms]
    got, want = decode_geometries(blobs), _from_wkb(blobs)
    assert all(same(a, b) for a, b in zip(got, want, strict=True))
    store = GeoPackageStore.__new__(GeoPackageStore)  # the reader alone, no file
    xy = store._points_xy(blobs)
    assert np.array_equal(xy[[0, 4999]], coords[[0, 4999]])
    assert np.isnan(xy[[7, 99]]).all()


def test_bare_wkb_points_decode_as_shapely_does():
    """PostGIS sends ST_AsBinary's WKB, as bytes or a memory view."""
    blobs = [
        shapely.to_wkb(Point(6.1, 47.2), byte_order=1),
        None,
        memoryview(shapely.to_wkb(Point(1, 2), byte_order=1)),
        shapely.to_wkb(Point(), byte_order=1),
        big_endian_point(3, 4),
        shapely.to_wkb(Point(1, 2, 3), byte_order=1),
        shapely.to_wkb(shapely.box(0, 0, 1, 1), byte_order=1),
    ]
    assert bare_points(blobs)[1].tolist() == [
        True, False, True, False, False, False, False
    ]  # fmt: skip
    store = PostGISStore("postgresql://unused", AREA)
    want = shapely.from_wkb([None if b is None else bytes(b) for b in blobs])
    for a, b in zip(store._decode(blobs), want, strict=True):
        assert same(a, b)
