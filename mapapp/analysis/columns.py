"""A large point layer (the companies) as columns, for analyses at a million points.

A GeoDataFrame of 1,000,000 companies with their text fields takes 1.6 GB to read
and seconds to filter; analyses need only coordinates in Lambert-93, a few
category codes and numbers. :class:`Points` holds those as numpy arrays (about
90 bytes a point) with a uniform grid index: the points sorted by grid cell, so
the points of a box are a few contiguous slices. Figures are then sums and
``bincount`` over the points an area holds, never a frame of every company.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ..packing import json_array, json_of

CELL_M = 100.0  # the grid index's cell (metres)
MAX_CELLS = 4_000_000  # a layer spread widely gets larger cells, not more of them


class Points:
    """Points in Lambert-93 with coded fields: ``fields[name] = (codes, values)``,
    ``values[codes[i]]`` the value of point ``i`` (code -1: missing).

    Points are kept in grid-cell order (``order`` maps back to the input order);
    every array a caller reads (``x``, ``y``, codes) follows the kept order.
    """

    def __init__(self, x, y, fields: dict[str, tuple[np.ndarray, list]]):
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.fields = {
            name: (np.asarray(codes, dtype=np.int32), list(values))
            for name, (codes, values) in fields.items()
        }
        self._index()

    @classmethod
    def from_wgs84(cls, xy: np.ndarray, fields: dict) -> Points:
        """Points from (n, 2) WGS84 coordinates (Store.read_arrays)."""
        to_metric = Transformer.from_crs(4326, 2154, always_xy=True)
        x, y = to_metric.transform(xy[:, 0], xy[:, 1]) if len(xy) else ([], [])
        return cls(x, y, fields)

    @classmethod
    def from_frame(cls, frame, columns: tuple[str, ...]) -> Points:
        """Points of a metric GeoDataFrame, coding those of ``columns`` it has."""
        fields = {}
        for name in columns:
            if name in frame:
                codes, uniques = pd.factorize(frame[name].astype(object))
                fields[name] = (codes, list(uniques))
        geoms = frame.geometry.values
        return cls(shapely.get_x(geoms), shapely.get_y(geoms), fields)

    def __len__(self) -> int:
        return len(self.x)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The points, their grid index and fields as plain arrays (the members of
        a kept file, mapapp.snapshots.SnapshotFiles); ValueError when JSON does
        not hold the fields' values as they are."""
        grid = {"x0": self.x0, "y0": self.y0, "cell": self.cell}
        grid |= {"nx": self.nx, "ny": self.ny}
        arrays = {"x": self.x, "y": self.y, "order": self.order, "starts": self.starts}
        arrays["grid"] = json_array(grid)
        names = list(self.fields)
        arrays["fields"] = json_array([[k, self.fields[k][1]] for k in names])
        return arrays | {f"codes_{i}": self.fields[k][0] for i, k in enumerate(names)}

    @classmethod
    def of_arrays(cls, arrays: dict[str, np.ndarray]) -> Points:
        """The points :meth:`to_arrays` gave ``arrays`` for, indexed as they were:
        ValueError when they do not hold together (a damaged file)."""
        points = cls.__new__(cls)
        for name in ("x", "y", "order", "starts"):
            setattr(points, name, arrays[name])
        grid = json_of(arrays["grid"])
        points.x0, points.y0, points.cell = grid["x0"], grid["y0"], grid["cell"]
        points.nx, points.ny = grid["nx"], grid["ny"]
        points.fields = {
            name: (arrays[f"codes_{i}"], values)
            for i, (name, values) in enumerate(json_of(arrays["fields"]))
        }
        n = len(points.x)
        columns = [points.y, points.order, *(c for c, _v in points.fields.values())]
        if any(len(column) != n for column in columns):
            raise ValueError("the points' columns do not have as many rows")
        starts = points.starts
        if len(starts) != points.nx * points.ny + 1 or starts[-1] != n:
            raise ValueError("the points' grid index does not match them")
        return points

    def _index(self) -> None:
        """Sort by grid cell and keep where each cell's points start."""
        n = len(self.x)
        self.order = np.arange(n)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.cell, self.nx, self.ny = CELL_M, 1, 1
            self.starts = np.zeros(2, dtype=np.int64)
            return
        self.x0, self.y0 = float(self.x.min()), float(self.y.min())
        width, height = self.x.max() - self.x0, self.y.max() - self.y0
        cell = CELL_M
        while (width / cell + 1) * (height / cell + 1) > MAX_CELLS:
            cell *= 2
        self.cell = cell
        self.nx = int(width // cell) + 1
        self.ny = int(height // cell) + 1
        ids = self._cells(self.x, self.y)
        order = np.argsort(ids, kind="stable")
        self.order = order
        self.x, self.y = self.x[order], self.y[order]
        self.fields = {k: (c[order], v) for k, (c, v) in self.fields.items()}
        counts = np.bincount(ids, minlength=self.nx * self.ny)
        self.starts = np.concatenate([[0], np.cumsum(counts)])

    def _cells(self, x, y) -> np.ndarray:
        col = ((x - self.x0) // self.cell).astype(np.int64)
        row = ((y - self.y0) // self.cell).astype(np.int64)
        return row * self.nx + col

    def codes(self, name: str) -> np.ndarray:
        """The codes of a field, in the kept order."""
        return self.fields[name][0]

    def values(self, name: str, idx: np.ndarray | None = None) -> np.ndarray:
        """The values of a field (None where missing), of every point or of ``idx``."""
        codes, values = self.fields[name]
        table = np.array([*values, None], dtype=object)
        return table[codes if idx is None else codes[idx]]

    def subset(self, keep: np.ndarray) -> Points:
        """The points where the boolean ``keep`` holds, indexed again."""
        fields = {k: (c[keep], v) for k, (c, v) in self.fields.items()}
        return Points(self.x[keep], self.y[keep], fields)

    def within_box(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Positions of the points in the index cells a box touches (a superset)."""
        c0 = max(int((minx - self.x0) // self.cell), 0)
        c1 = min(int((maxx - self.x0) // self.cell), self.nx - 1)
        r0 = max(int((miny - self.y0) // self.cell), 0)
        r1 = min(int((maxy - self.y0) // self.cell), self.ny - 1)
        if c0 > c1 or r0 > r1:
            return np.zeros(0, dtype=np.int64)
        rows = np.arange(r0, r1 + 1) * self.nx
        first, last = self.starts[rows + c0], self.starts[rows + c1 + 1]
        # one contiguous range of points per row of cells (a few dozen rows)
        ranges = [np.arange(a, b) for a, b in zip(first, last, strict=True) if b > a]
        return np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)

    def within(self, area: shapely.Geometry | None) -> np.ndarray:
        """Sorted positions of the points a metric area covers (boundary included,
        as ``intersects``); every point when ``area`` is None."""
        if area is None:
            return np.arange(len(self))
        candidates = self.within_box(*area.bounds)
        if not len(candidates):
            return candidates
        if not shapely.is_prepared(area):  # kept areas come prepared
            shapely.prepare(area)
        inside = shapely.intersects_xy(area, self.x[candidates], self.y[candidates])
        return candidates[inside]

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = [self.x, self.y, self.order, self.starts]
        arrays += [codes for codes, _v in self.fields.values()]
        return sum(a.nbytes for a in arrays) + 64 * sum(
            len(v) for _c, v in self.fields.values()
        )


def filter_points(points: Points, wanted: dict[str, set[str]]) -> Points:
    """The points whose fields hold one of the wanted values (as text, a missing
    one as "None"), as :func:`~.filters.apply_filters` keeps a frame's rows."""
    keep = np.ones(len(points), dtype=bool)
    for name, allowed in wanted.items():
        codes, values = points.fields[name]
        ok = np.array([str(v) in allowed for v in values] + ["None" in allowed])
        keep &= ok[codes]
    return points if keep.all() else points.subset(keep)


def by_value(points: Points, name: str, idx: np.ndarray, weights: np.ndarray):
    """[(value, count, weight sum)] of a field over the points ``idx``, sorted by
    value, values no point has and missing ones left out."""
    if name not in points.fields:
        return []
    codes, values = points.fields[name]
    codes = codes[idx]
    known = codes >= 0
    size = len(values)
    counts = np.bincount(codes[known], minlength=size)
    sums = np.bincount(codes[known], weights=weights[idx][known], minlength=size)
    found = [
        (values[c], int(counts[c]), float(sums[c])) for c in np.flatnonzero(counts)
    ]
    return sorted(found, key=lambda item: item[0])


FINE_M = 25.0  # the side of the cells disc_sums bins the points in, about


def _stencil(radius: float, fine: float, u: float, eps: float = 1e-6):
    """For a centre at ``u`` from the low edge of its fine cell (same on both
    axes), the cells ``d`` in -reach..reach: (rows of wholly-inside cells as
    (dy, lo, hi), the cells the circle crosses as (dy, dx))."""
    reach = int(np.ceil(radius / fine)) + 1
    d = np.arange(-reach, reach + 1)
    low, high = d * fine - u, (d + 1) * fine - u
    near = np.where((low <= 0) & (high >= 0), 0.0, np.minimum(abs(low), abs(high)))
    far = np.maximum(abs(low), abs(high))
    inside = far[:, None] ** 2 + far[None, :] ** 2 < (radius - eps) ** 2
    outside = near[:, None] ** 2 + near[None, :] ** 2 > (radius + eps) ** 2
    rows, crossed = [], []
    for j, dy in enumerate(d):
        cols = np.flatnonzero(inside[j])
        if len(cols):  # a circle's row of inside cells is one run
            rows.append((dy, d[cols[0]], d[cols[-1]]))
        crossed += [(dy, d[i]) for i in np.flatnonzero(~inside[j] & ~outside[j])]
    return rows, crossed, reach


def _binned(points: Points, weights, grid: tuple, nx: int, ny: int):
    """The points of a grid of ``nx`` by ``ny`` cells (origin and side in
    ``grid``) sorted by cell: (x, y, weights, points per cell, running row totals
    of the weights)."""
    ox, oy, side = grid
    fx = np.floor((points.x - ox) / side).astype(np.int64)
    fy = np.floor((points.y - oy) / side).astype(np.int64)
    keep = np.flatnonzero((fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny))
    cell = fy[keep] * nx + fx[keep]
    order = np.argsort(cell, kind="stable")
    keep, cell = keep[order], cell[order]
    w = np.asarray(weights)[keep]
    counts = np.bincount(cell, minlength=nx * ny)
    totals = np.bincount(cell, weights=w, minlength=nx * ny).reshape(ny, nx)
    running = np.zeros((ny, nx + 1))
    np.cumsum(totals, axis=1, out=running[:, 1:])
    return points.x[keep], points.y[keep], w, counts, running


def disc_sums(
    points: Points,
    weights: np.ndarray,
    centres: tuple[np.ndarray, np.ndarray],
    lattice: tuple[float, float, float],
    radius: float,
) -> np.ndarray:
    """Per centre of a lattice, the sum of ``weights`` of the points within
    ``radius`` (distance <= radius, as GEOS's ``dwithin``).

    ``centres`` are (x, y) arrays on the ``lattice`` (x0, y0, step): each centre
    lies at (x0 + i step, y0 + j step) for whole i, j. Points are binned in cells
    of about FINE_M aligned on the lattice, so every centre sees the same
    stencil: cells wholly inside the circle are summed from running row totals,
    only the points of the cells it crosses are measured. Sums of halves and
    integers (jobs, counts) are exact in any order, so they equal a
    point-by-point sum.
    """
    x0, y0, step = lattice
    cx, cy = (np.asarray(a, dtype=float) for a in centres)
    ci = np.rint((cx - x0) / step).astype(np.int64)
    cj = np.rint((cy - y0) / step).astype(np.int64)
    if len(ci) == 0 or len(points) == 0:
        return np.zeros(len(ci))
    k = max(1, int(round(step / FINE_M)))
    fine = step / k
    margin = int(np.ceil(radius / step)) + 1  # lattice steps around the centres
    ox = x0 - step / 2 + (ci.min() - margin) * step
    oy = y0 - step / 2 + (cj.min() - margin) * step
    nx = (int(ci.max() - ci.min()) + 1 + 2 * margin) * k
    ny = (int(cj.max() - cj.min()) + 1 + 2 * margin) * k
    px, py, w, counts, running = _binned(points, weights, (ox, oy, fine), nx, ny)
    starts = np.concatenate([[0], np.cumsum(counts)])
    # the centres' own fine cells, and where in it they sit (the same for all)
    gx = (ci - ci.min() + margin) * k + k // 2
    gy = (cj - cj.min() + margin) * k + k // 2
    u = (k / 2 - k // 2) * fine
    rows, crossed, _reach = _stencil(radius, fine, u)
    out = np.zeros(len(ci))
    for dy, lo, hi in rows:
        out += running[gy + dy, gx + hi + 1] - running[gy + dy, gx + lo]
    centre = np.arange(len(ci))
    for dy, dx in crossed:
        ids = (gy + dy) * nx + gx + dx
        first, size = starts[ids], counts[ids]
        total = int(size.sum())
        if total == 0:
            continue
        owner = np.repeat(centre, size)
        at = np.arange(total) - np.repeat(np.cumsum(size) - size, size)
        idx = np.repeat(first, size) + at
        ddx, ddy = px[idx] - cx[owner], py[idx] - cy[owner]
        near = np.sqrt(ddx * ddx + ddy * ddy) <= radius
        out += np.bincount(owner[near], weights=w[idx[near]], minlength=len(ci))
    return out
