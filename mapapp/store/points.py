"""Stored points read at their fixed offsets, without a shapely call per row.

A 2-D point in WKB is 21 bytes: the byte order, the type (1) in four bytes, then x
and y as doubles. A GeoPackage stores it behind a header of 8 bytes and an envelope
of 0 to 64 (its flags say which); PostGIS's ``ST_AsBinary`` sends it bare. A
million of them decoded one WKB at a time (a Python slice each to strip the header,
then ``shapely.from_wkb``) cost three seconds of a large layer's build; read here
from one buffer with numpy they cost a few hundredths, and ``shapely.points`` makes
the geometries from the coordinates in one call. What is not such a point (a NULL,
an empty point, Z or M, big-endian, NaN coordinates, another shape) is marked, and
the caller decodes it as before, so each row gets the same geometry either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.lib.stride_tricks import sliding_window_view

POINT_WKB = 21
LITTLE_ENDIAN_POINT = np.array([1, 1, 0, 0, 0], dtype=np.uint8)
# bytes of a GeoPackage envelope by its code (flags bits 1-3); -1: no such code
GPKG_ENVELOPES = np.array([0, 32, 48, 48, 64, -1, -1, -1])


def joined(blobs: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(every blob in one byte buffer, where each starts, its length): a NULL is
    an empty blob."""
    lengths = np.fromiter(
        (0 if b is None else len(b) for b in blobs), np.int64, len(blobs)
    )
    buffer = np.frombuffer(b"".join(b for b in blobs if b is not None), np.uint8)
    return buffer, np.cumsum(lengths) - lengths, lengths


def wkb_points(buffer: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(xy, found) of the WKB at each offset ``at`` of ``buffer`` (a negative
    offset: none): ``found`` marks the little-endian 2-D points with finite
    coordinates, whose (x, y) are in ``xy`` (NaN elsewhere)."""
    xy = np.full((len(at), 2), np.nan)
    found = np.zeros(len(at), dtype=bool)
    rows = np.flatnonzero((at >= 0) & (at + POINT_WKB <= len(buffer)))
    if not len(rows):
        return xy, found
    raw = sliding_window_view(buffer, POINT_WKB)[at[rows]]
    points = (raw[:, :5] == LITTLE_ENDIAN_POINT).all(axis=1)
    coords = np.ascontiguousarray(raw[:, 5:]).view("<f8")
    points &= np.isfinite(coords).all(axis=1)
    xy[rows[points]] = coords[points]
    found[rows[points]] = True
    return xy, found


def gpkg_points(blobs: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(xy, found) of GeoPackage geometry blobs (see :func:`wkb_points`): the
    standard header (``GP``, version, flags, srs id) of either byte order, any
    envelope, not empty, not the extended kind, and nothing after the point."""
    buffer, starts, lengths = joined(blobs)
    at = np.full(len(blobs), -1, dtype=np.int64)
    rows = np.flatnonzero(lengths >= 8 + POINT_WKB)
    if len(rows):
        start = starts[rows]
        flags = buffer[start + 3]
        envelope = GPKG_ENVELOPES[(flags >> 1) & 0b111]
        plain = (
            (buffer[start] == ord("G"))
            & (buffer[start + 1] == ord("P"))
            & (flags & 0b00110000 == 0)  # neither empty nor extended
            & (envelope >= 0)
            & (lengths[rows] == 8 + envelope + POINT_WKB)
        )
        at[rows[plain]] = (start + 8 + envelope)[plain]
    return wkb_points(buffer, at)


def bare_points(blobs: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(xy, found) of plain WKB blobs, as PostGIS's ``ST_AsBinary`` sends them."""
    buffer, starts, lengths = joined(blobs)
    return wkb_points(buffer, np.where(lengths == POINT_WKB, starts, -1))


def decoded(blobs: Sequence, points, decode_one) -> np.ndarray:
    """Shapely geometries of ``blobs``: the points found by ``points`` (one of
    :func:`gpkg_points`, :func:`bare_points`) made from their coordinates, the
    other blobs by ``decode_one(list of blobs)``, None for NULL."""
    xy, found = points(blobs)
    out = np.empty(len(blobs), dtype=object)
    if found.any():
        out[found] = shapely.points(xy[found])
    rest = np.flatnonzero(~found)
    if len(rest):
        out[rest] = decode_one([blobs[i] for i in rest])
    return out
