"""GeoPackage store: an OGC GeoPackage (SQLite) that QGIS and GDAL open as it is.

The file is written with the standard library's sqlite3: core tables, one feature
table per layer with a spatial index (the GeoPackage RTree extension, whose triggers
call ``ST_*`` functions that GDAL provides and that this module registers), and a
``mapapp_meta`` table holding the data version. WAL journal with synchronous=FULL:
an acknowledged write survives a crash.

Accounts, sessions, tokens, sign-in attempts and the history live in a second
SQLite file beside it (``<name>-private.sqlite``), never in the GeoPackage a planner
may share. SQLite commits a transaction over two WAL databases atomically in each
file but not as a pair, so a change and its history entry are not written in one
transaction over both files. Instead the entry is written in the GeoPackage, in the
same transaction as the change (table ``mapapp_history_outbox``, which holds entries
for milliseconds), then copied to the private file (idempotent: keyed on the entry's
number) and removed from the outbox. A crash between the two leaves the entry in the
outbox; the next start copies it. History reads copy pending entries first. So an
acknowledged change is in the GeoPackage, and its entry is in one of the two files.

GDAL never opens this file in the app process: GDAL has its own SQLite, and when it
closes a database that this module holds open, POSIX locking lets it delete the WAL
under our connections (writes then answered 200 are lost). Imports and exports read
and write only their own temporary files (``mapapp/gdal_.py``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import struct
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from ..errors import StoreError
from ..layers import REGISTRY, LayerSpec
from .base import LAYER_KEY, MARK_KEY, Bbox, new_mark
from .filters import And, Intersects, Not, Or, like_to_glob
from .points import decoded, gpkg_points
from .sql import HISTORY_COLUMNS, SqlStore, columns_sql, q

log = logging.getLogger(__name__)
LEGACY_TOKEN_DAYS = 30  # tokens made before they could expire expire this long after

SRS_ID = 4326
SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN"}
GEOM_TYPES = {"Point": "POINT", "Polygon": "MULTIPOLYGON"}
APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode_geometry(geom: BaseGeometry | None) -> bytes | None:
    """Encode a shapely geometry as a GeoPackage binary blob (header + WKB)."""
    if geom is None:
        return None
    if geom.is_empty:
        return (
            b"GP"
            + bytes([0, 0b00010001])
            + struct.pack("<i", SRS_ID)
            + shapely.to_wkb(geom, byte_order=1)
        )
    minx, miny, maxx, maxy = geom.bounds
    header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i", SRS_ID)
    envelope = struct.pack("<4d", minx, maxx, miny, maxy)
    return header + envelope + shapely.to_wkb(geom, byte_order=1)


def _wkb_of(blob: bytes) -> bytes:
    """Strip the GeoPackage header from a geometry blob."""
    if blob[:2] != b"GP":
        raise StoreError("corrupt geometry blob (no GP magic)")
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES.get((flags >> 1) & 0b111, 0) :]


def decode_geometries(blobs: list[bytes | None]) -> np.ndarray:
    """Decode many GeoPackage blobs at once into shapely geometries: 2-D points
    read at their fixed offsets (store/points.py), other shapes from their WKB."""
    return decoded(blobs, gpkg_points, _from_wkb)


def _from_wkb(blobs: list[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs, each through its WKB."""
    return shapely.from_wkb([None if b is None else _wkb_of(b) for b in blobs])


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a blob, reading its header or its geometry."""
    if blob is None or blob[3] & 0b00010000:
        return None
    flags = blob[3]
    if (flags >> 1) & 0b111:
        order = "<" if flags & 1 else ">"
        return struct.unpack(order + "4d", blob[8:40])
    x0, y0, x1, y1 = shapely.from_wkb(_wkb_of(blob)).bounds
    return x0, x1, y0, y1


def _register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the RTree triggers of a GeoPackage expect (GDAL has them too)."""

    def part(i):
        return lambda blob: None if (env := _envelope(blob)) is None else env[i]

    conn.create_function("ST_MinX", 1, part(0), deterministic=True)
    conn.create_function("ST_MaxX", 1, part(1), deterministic=True)
    conn.create_function("ST_MinY", 1, part(2), deterministic=True)
    conn.create_function("ST_MaxY", 1, part(3), deterministic=True)
    conn.create_function(
        "ST_IsEmpty",
        1,
        lambda blob: 1 if blob is None or blob[3] & 0b00010000 else 0,
        deterministic=True,
    )
    # for filters (store/filters.py): Unicode case folding, exact intersection
    conn.create_function(
        "mapapp_lower",
        1,
        lambda v: v.lower() if isinstance(v, str) else v,
        deterministic=True,
    )
    conn.create_function("mapapp_meets_box", 5, _meets_box, deterministic=True)


def _is_box(geom: BaseGeometry) -> bool:
    """True for a point or a rectangle along the axes (its own envelope)."""
    if geom.geom_type == "Point":
        return True
    return geom.geom_type == "Polygon" and geom.area == box(*geom.bounds).area


@lru_cache(maxsize=64)
def _box(west: float, south: float, east: float, north: float) -> BaseGeometry:
    geom = box(west, south, east, north)
    shapely.prepare(geom)
    return geom


def _meets_box(blob: bytes | None, west, south, east, north) -> int:
    """1 when a GeoPackage geometry blob meets the box (SQL function): its envelope
    in doubles first (exact for a point), the geometry only when that is not enough."""
    env = _envelope(blob)
    if env is None:
        return 0
    minx, maxx, miny, maxy = env
    if maxx < west or minx > east or maxy < south or miny > north:
        return 0
    if west <= minx and maxx <= east and south <= miny and maxy <= north:
        return 1
    geom = shapely.from_wkb(_wkb_of(blob))
    return int(_box(west, south, east, north).intersects(geom))


# The numbers of the features that passed recent spatial filters, by store, layer,
# terms and data version; bounded in bytes (the oldest go first).
_FID_SETS: dict[tuple, str] = {}
_FID_LOCK = threading.Lock()
_FID_BYTES = 16 * 1024 * 1024

# The numbers and coordinates of the features of point layers, by store and layer,
# with the layer's version: spatial filters on a million points test arrays of
# 24 MB in numpy, rather than read the rows an index proposes for every filter (16
# polygons over the shipped territory proposed 800,000 rows: 1.7 s each time). Read once per
# version of the layer, by one thread at a time; bounded in bytes (the oldest go).
_POINTS: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = {}
_POINTS_LOCK = threading.Lock()
_POINTS_BYTES = 128 * 1024 * 1024


def _spatial_terms(expr) -> list[BaseGeometry]:
    """The geometries of the S_INTERSECTS terms of a filter."""
    if isinstance(expr, Intersects):
        return [expr.geometry]
    if isinstance(expr, And | Or):
        return [g for part in expr.parts for g in _spatial_terms(part)]
    if isinstance(expr, Not):
        return _spatial_terms(expr.part)
    return []


def _union_bounds(geoms: list[BaseGeometry]) -> Bbox:
    bounds = np.array([g.bounds for g in geoms])
    return (*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))


def _as_stored_geometry(geom: BaseGeometry, spec: LayerSpec) -> BaseGeometry:
    """Polygon layers are stored as MultiPolygon (one declared type for QGIS)."""
    if spec.geometry == "Polygon" and isinstance(geom, Polygon):
        return MultiPolygon([geom])
    return geom


class GeoPackageStore(SqlStore):
    """The default store, one GeoPackage file."""

    NOW = "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

    def _bbox_clause(self, spec: LayerSpec, bbox: Bbox) -> tuple[str, list]:
        # The R-tree keeps float32 bounds rounded outwards: an entry whose box lies
        # inside the query box surely meets it; one across its edges is tested
        # exactly (mapapp_meets_box), or a point 1 m outside would be counted.
        rtree = q(f"rtree_{spec.name}_geom")
        west, south, east, north = (float(v) for v in bbox)
        return (
            f"fid IN (SELECT id FROM {rtree} WHERE maxx >= ? AND minx <= ? "
            "AND maxy >= ? AND miny <= ?) AND (fid IN (SELECT id FROM "
            f"{rtree} WHERE minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?) "
            "OR mapapp_meets_box(geom, ?, ?, ?, ?))",
            [west, east, south, north] * 2 + [west, south, east, north],
        )

    LOWER = "mapapp_lower"

    def _like_sql(self, column: str, pattern: str, casei: bool) -> tuple[str, list]:
        if casei:
            return f"({self.LOWER}({column}) GLOB ?)", [like_to_glob(pattern.lower())]
        return f"({column} GLOB ?)", [like_to_glob(pattern)]

    def _intersects_sql(self, spec: LayerSpec, geom: BaseGeometry) -> tuple[str, list]:
        if _is_box(geom):
            clause, params = self._bbox_clause(spec, geom.bounds)
            return f"({clause})", params
        # Any other geometry: the features the spatial index proposes are tested
        # at once with GEOS (not row by row in an SQL function, 10 µs a row),
        # and the query keeps the numbers of those that meet it.
        return self._spatial_sql(spec, Or((Intersects(geom),)))

    def _filter_sql(self, spec: LayerSpec, expr) -> tuple[str, list]:
        # terms that are all spatial are joined here (one list of numbers for the
        # SQL to look up, rather than one test per term for each row)
        if (
            isinstance(expr, And | Or)
            and len(expr.parts) > 1
            and all(isinstance(p, Intersects) for p in expr.parts)
        ):
            return self._spatial_sql(spec, expr)
        return super()._filter_sql(spec, expr)

    def _spatial_sql(self, spec: LayerSpec, expr: And | Or) -> tuple[str, list]:
        """SQL for an AND or an OR of spatial terms: the numbers of the features
        that pass, found once per data version (a page and its numberMatched ask
        the same)."""
        key = (
            str(self.path),
            spec.name,
            type(expr).__name__,
            tuple(shapely.to_wkb(p.geometry) for p in expr.parts),
            self.data_version(),
        )
        with _FID_LOCK:
            found = _FID_SETS.get(key)
        if found is None:
            masks = [self._meeting(spec, p.geometry) for p in expr.parts]
            join = np.logical_or if isinstance(expr, Or) else np.logical_and
            fids = masks[0][0][join.reduce([hits for _, hits in masks])]
            found = json.dumps(fids.tolist())
            with _FID_LOCK:
                _FID_SETS[key] = found
                while sum(len(v) for v in _FID_SETS.values()) > _FID_BYTES:
                    _FID_SETS.pop(next(iter(_FID_SETS)))
        return "(fid IN (SELECT value FROM json_each(?)))", [found]

    def _where(self, spec, bbox, filters, published_only, where=None):
        # every spatial term of a filter is tested against the candidates of one
        # spatial-index query over all their envelopes, decoded once, when a term
        # needs them (not when its answer is cached)
        terms = _spatial_terms(where) if where is not None else []
        self._local.candidates = None
        self._local.union = _union_bounds(terms) if len(terms) > 1 else None
        try:
            return super()._where(spec, bbox, filters, published_only, where)
        finally:
            self._local.candidates = self._local.union = None

    def _candidates(self, spec: LayerSpec, bounds: Bbox) -> tuple:
        """Numbers, geometries and bounds of the features whose index box meets
        ``bounds``."""
        rtree = q(f"rtree_{spec.name}_geom")
        west, south, east, north = bounds
        rows = self.conn.execute(
            f"SELECT fid, geom FROM {q(spec.name)} WHERE fid IN (SELECT id FROM "
            f"{rtree} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)",
            (west, east, south, north),
        ).fetchall()
        self._check_time()
        fids = np.array([r[0] for r in rows], dtype=np.int64)
        geoms = decode_geometries([r[1] for r in rows])
        return fids, geoms, shapely.bounds(geoms).reshape(-1, 4)

    def _layer_points(self, spec: LayerSpec) -> tuple[np.ndarray, np.ndarray]:
        """The numbers and (n, 2) coordinates of every feature of a point layer (NaN
        without a point), read once per version of the layer (:data:`_POINTS`)."""
        if self.conn.in_transaction:  # inside a write, rows not yet committed
            return self._read_points(spec)
        key = (str(self.path), spec.name)
        with _POINTS_LOCK, self._snapshot():
            version = self.layer_version(spec.name)
            kept = _POINTS.pop(key, None)
            fid, xy = (
                kept[1:] if kept and kept[0] == version else self._read_points(spec)
            )
            _POINTS[key] = (version, fid, xy)  # the newest last
            kept_bytes = sum(f.nbytes + c.nbytes for _v, f, c in _POINTS.values())
            while kept_bytes > _POINTS_BYTES and len(_POINTS) > 1:
                _v, f, c = _POINTS.pop(next(iter(_POINTS)))
                kept_bytes -= f.nbytes + c.nbytes
        return fid, xy

    def _read_points(self, spec: LayerSpec) -> tuple[np.ndarray, np.ndarray]:
        """Numbers and coordinates of a point layer's features, in their order."""
        cursor = self.conn.execute(f"SELECT fid, geom FROM {q(spec.name)} ORDER BY fid")
        fids, xys = [], []
        while rows := cursor.fetchmany(50_000):
            fids.append(np.array([r[0] for r in rows], dtype=np.int64))
            xys.append(self._points_xy([r[1] for r in rows]))
            self._check_time()
        if not fids:
            return np.zeros(0, np.int64), np.zeros((0, 2))
        return np.concatenate(fids), np.concatenate(xys)

    def _meeting(self, spec: LayerSpec, geom: BaseGeometry) -> tuple:
        """Numbers of features, and which of them meet ``geom`` (exactly): every
        point of a point layer, else the candidates of the spatial index (those of
        the whole filter when it has several terms)."""
        west, south, east, north = geom.bounds
        shapely.prepare(geom)
        if spec.geometry == "Point":
            fids, xy = self._layer_points(spec)
            x, y = xy[:, 0], xy[:, 1]
            near = np.flatnonzero(
                (x >= west) & (x <= east) & (y >= south) & (y <= north)
            )
            hits = np.zeros(len(fids), dtype=bool)
            hits[near] = shapely.intersects_xy(geom, x[near], y[near])
            self._check_time()
            return fids, hits
        found = getattr(self._local, "candidates", None)
        if found is None:
            union = getattr(self._local, "union", None)
            found = self._candidates(spec, union or geom.bounds)
            if union is not None:
                self._local.candidates = found
        fids, shapes, bounds = found
        near = (
            (bounds[:, 0] <= east)
            & (bounds[:, 2] >= west)
            & (bounds[:, 1] <= north)
            & (bounds[:, 3] >= south)
        )
        hits = np.zeros(len(fids), dtype=bool)
        hits[near] = shapely.intersects(geom, shapes[near])
        self._check_time()
        return fids, hits

    @contextmanager
    def _interrupting(self):
        """SQLite stops a statement when its progress handler says so."""
        conn, deadline = self.conn, self._local.deadline
        conn.set_progress_handler(lambda: time.monotonic() > deadline, 1_000)
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            raise self._time_limit() from None
        finally:
            conn.set_progress_handler(None, 0)

    def _decode(self, blobs: list) -> np.ndarray:
        return decode_geometries(blobs)

    def _encode(self, geom: BaseGeometry, spec: LayerSpec) -> bytes:
        return encode_geometry(_as_stored_geometry(geom, spec))

    HISTORY_OUT = "mapapp_history_outbox"

    @classmethod
    def from_url(cls, url: str, area: Bbox) -> GeoPackageStore:
        """A GeoPackage named by its path (or a ``file://`` URL)."""
        return cls(Path(url.split("://", 1)[1] if "://" in url else url), area)

    def __init__(self, path: Path, area: Bbox, private_path: Path | None = None):
        self.path = Path(path)
        self.area = area
        self.private_path = Path(
            private_path or self.path.with_name(f"{self.path.stem}-private.sqlite")
        )
        self._local = threading.local()
        self._prepared = False
        self._prepare_lock = threading.RLock()

    # --- connections ---------------------------------------------------------------

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=30, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = self._open(path)
        _register_functions(conn)
        return conn

    def _has_address_table(self) -> bool:
        return bool(
            self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'mapapp_addresses'"
            ).fetchone()
        )

    def _address_table_ready(self, conn) -> None:
        """Register the addresses as a GeoPackage attributes table (QGIS lists it)."""
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, last_change) VALUES ('mapapp_addresses', 'attributes', "
            "'mapapp_addresses', 'Base Adresse Nationale, study area', "
            "strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
        )

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are not shared)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.is_file():
                raise StoreError(f"no store at {self.path}; run `mapapp init`")
            conn = self._connect(self.path)
            self._local.conn = conn
            self._prepare()
        return conn

    @property
    def pconn(self) -> sqlite3.Connection:
        """This thread's connection to the private file (made on first use)."""
        conn = getattr(self._local, "pconn", None)
        if conn is None:
            if self.path.is_file():
                self.conn  # noqa: B018 - prepares the store first (moves old tables)
            self.private_path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._open(self.private_path)
            conn.executescript(PRIVATE_TABLES)
            self._local.pconn = conn
        return conn

    def close(self) -> None:
        for name in ("conn", "pconn"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                setattr(self._local, name, None)

    def _prepare(self) -> None:
        """Once per process: move a store of the older layout's private tables out,
        make sure the outbox exists, and copy entries a crash left in it."""
        with self._prepare_lock:  # other threads wait until it is done
            if self._prepared:
                return
            self._prepared = True
            if not self._has_table(self.conn, "mapapp_meta"):
                return  # not a mapapp store (exists() says so): nothing to do
            _migrate_legacy(self)
            with self._write() as conn:
                conn.execute(OUTBOX_TABLE)
                _continue_sequence(conn, self._max_hid())
            self._drain()

    @staticmethod
    def _has_table(conn: sqlite3.Connection, name: str) -> bool:
        return bool(
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()
        )

    def _max_hid(self) -> int:
        return self.pconn.execute(
            "SELECT coalesce(max(hid), 0) FROM mapapp_history"
        ).fetchone()[0]

    # --- the history outbox ------------------------------------------------------------

    def _drain(self) -> None:
        """Copy the outbox's entries to the private file, then remove them there."""
        rows = self.conn.execute(
            f"SELECT hid, {HISTORY_COLUMNS} FROM mapapp_history_outbox ORDER BY hid"
        ).fetchall()
        if not rows:
            return
        with self._pwrite() as private:
            private.executemany(
                f"INSERT INTO mapapp_history (hid, {HISTORY_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hid) DO NOTHING",
                rows,
            )
        with self._write() as conn:
            conn.executemany(
                "DELETE FROM mapapp_history_outbox WHERE hid = ?",
                [(r[0],) for r in rows],
            )

    def _after_write(self) -> None:
        """The change is committed with its entry in the outbox: move the entry. A
        failure here loses nothing (the entry waits in the outbox), so it is logged
        and the write still succeeds."""
        try:
            self._drain()
        except sqlite3.Error:
            log.exception("history entries left in the outbox of %s", self.path)

    def _history_conn(self) -> sqlite3.Connection:
        self._drain()
        return self.pconn

    # --- reading -------------------------------------------------------------------

    def exists(self) -> bool:
        if not self.path.is_file():
            return False
        try:
            row = self.conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name='mapapp_meta'"
            ).fetchone()
        except sqlite3.DatabaseError:
            return False
        return bool(row[0])

    SQL_TYPES = SQL_TYPES

    def _columns_of(self, conn, table: str) -> set[str]:
        return {r[1] for r in conn.execute(f"PRAGMA table_info({q(table)})")}

    def layer_names(self) -> list[str]:
        return [name for name in self._features_tables(self.conn) if name in REGISTRY]

    @staticmethod
    def _features_tables(conn: sqlite3.Connection) -> list[str]:
        rows = conn.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type='features' "
            "ORDER BY rowid"
        ).fetchall()
        return [r[0] for r in rows]

    def _present(self, conn) -> set[str]:
        return set(self._features_tables(conn))

    def _create_table(self, conn, spec: LayerSpec) -> None:
        _create_layer(conn, spec)

    def data_version(self) -> int:
        try:
            row = self.conn.execute(
                "SELECT value FROM mapapp_meta WHERE key='data_version'"
            ).fetchone()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path} is not a mapapp store: {exc}") from None
        return int(row[0]) if row else 0

    # --- writing -------------------------------------------------------------------

    def _bump(self, conn: sqlite3.Connection, layer: str | None = None) -> int:
        conn.execute(
            "UPDATE mapapp_meta SET value = CAST(value AS INTEGER) + 1 "
            "WHERE key = 'data_version'"
        )
        version = int(
            conn.execute(
                "SELECT value FROM mapapp_meta WHERE key='data_version'"
            ).fetchone()[0]
        )
        if layer:
            _touch_contents(conn, layer)
            # a layer without a mark (a store made before layers had versions)
            # is as old as the data before this write
            conn.executemany(
                "INSERT OR IGNORE INTO mapapp_meta VALUES (?, ?)",
                [(f"{LAYER_KEY}{name}", str(version - 1)) for name in REGISTRY],
            )
            _set_layer_versions(conn, [layer], version)
        return version

    _find_points = staticmethod(gpkg_points)

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE"):
        """One transaction (BEGIN IMMEDIATE: writers queue, readers go on)."""
        conn.execute(begin)
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _write(self):
        return self._transaction(self.conn)

    def _pwrite(self):
        return self._transaction(self.pconn)

    def _snapshot(self):
        return self._transaction(self.conn, "BEGIN DEFERRED")

    def backup(self, folder: Path) -> list[Path]:
        """Copy the GeoPackage and the private file, as one consistent pair, while
        the app runs. The GeoPackage's write lock is held meanwhile, so no change
        commits between the two copies; a history entry moved to the private file
        during the copy is then in both, which the outbox's numbering makes harmless
        (it is copied again, or found there, when the pair is opened)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        pairs = [
            (self.path, folder / f"{self.path.stem}-{stamp}.gpkg"),
            (self.private_path, folder / f"{self.private_path.stem}-{stamp}.sqlite"),
        ]
        self.pconn  # noqa: B018 - the private file exists before it is copied
        with self._write():
            for source, target in pairs:
                src, dst = sqlite3.connect(source), sqlite3.connect(target)
                try:
                    src.backup(dst)
                finally:
                    dst.close()
                    src.close()
        return [target for _source, target in pairs]

    def check(self) -> list[str]:
        problems = []
        conn = self.conn
        for name, db in (("store", conn), ("private file", self.pconn)):
            result = db.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                problems += [f"{name}: {r[0]}" for r in result]
        for table in LEGACY_TABLES:
            if self._has_table(conn, table):
                problems.append(f"{table} is still in the GeoPackage")
        for name in self.layer_names():
            n_rows = conn.execute(
                f"SELECT count(*) FROM {q(name)} WHERE geom IS NOT NULL"
            ).fetchone()[0]
            n_index = conn.execute(
                f"SELECT count(*) FROM {q(f'rtree_{name}_geom')}"
            ).fetchone()[0]
            if n_rows != n_index:
                problems.append(
                    f"{name}: {n_rows} geometries but {n_index} index entries"
                )
        return problems

    # --- creation ------------------------------------------------------------------

    def create(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Build the store from validated layers; return the new data version.

        An existing store is rebuilt inside the file, in one transaction: a failure
        leaves it as it was, and a server running on it meanwhile goes on with the
        same file (renaming a new file over it would leave the server writing
        acknowledged edits into a deleted one). Only a missing or unreadable file is
        replaced, by a new one written beside it and renamed into place once
        complete. The data version continues from the old store's, so caches never
        mistake the two; the private file (accounts, history) is kept as it is.
        """
        self._tables = None  # the tables are rebuilt
        if self.exists():
            return self._rebuild(layers)
        previous = 0
        if self.path.is_file():
            try:
                previous = self.data_version()
                self._drain()  # pending history entries go before the file does
            except (StoreError, sqlite3.DatabaseError):
                previous = 0
        last_hid = self._max_hid()
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=".mapapp-", suffix=".gpkg", dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            self._build(tmp, layers, previous + 1, last_hid)
            with open(tmp, "rb") as f:  # on disk before it takes the store's name
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            for suffix in ("-wal", "-shm"):  # journals of the old file, now stale
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            _sync_dir(self.path.parent)
        finally:
            tmp.unlink(missing_ok=True)
        self._prepared = False
        return previous + 1

    def _rebuild(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Replace every layer table of the live file in one write transaction."""
        with self._write() as conn:
            version = int(
                conn.execute(
                    "SELECT value FROM mapapp_meta WHERE key='data_version'"
                ).fetchone()[0]
            )
            for name, spec in REGISTRY.items():
                _drop_layer(conn, name)
                _create_layer(conn, spec)
                if name in layers:
                    self._insert_frame(conn, spec, layers[name])
                _touch_contents(conn, name)
            conn.execute(
                "UPDATE mapapp_meta SET value = ? WHERE key = 'data_version'",
                (str(version + 1),),
            )
            _set_layer_versions(conn, list(REGISTRY), version + 1)
        self._tables = None
        return version + 1

    def _build(self, tmp: Path, layers: dict, version: int, last_hid: int) -> None:
        """Write a complete store into the new file ``tmp``."""
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            _register_functions(conn)
            conn.execute("PRAGMA journal_mode=DELETE")
            # a new file, renamed into place only once complete and synced (create)
            conn.execute("PRAGMA synchronous=OFF")
            _create_core(conn)
            for spec in REGISTRY.values():
                _create_layer(conn, spec)
            conn.execute("BEGIN")
            for name, spec in REGISTRY.items():
                if name in layers:
                    self._insert_frame(conn, spec, layers[name])
                _touch_contents(conn, name)
            conn.execute(
                "INSERT INTO mapapp_meta VALUES ('data_version', ?)", (str(version),)
            )
            _set_layer_versions(conn, list(REGISTRY), version)
            _continue_sequence(conn, last_hid)
            conn.execute("COMMIT")
        finally:
            conn.close()


def _set_layer_versions(conn: sqlite3.Connection, layers: list[str], v: int) -> None:
    """Record ``v`` as the version of ``layers`` (store/base.py: layer_versions),
    each with a new mark (Store.layer_mark)."""
    conn.executemany(
        "INSERT OR REPLACE INTO mapapp_meta VALUES (?, ?)",
        [(f"{LAYER_KEY}{name}", str(v)) for name in layers]
        + [(f"{MARK_KEY}{name}", new_mark()) for name in layers],
    )


def _touch_contents(conn: sqlite3.Connection, layer: str) -> None:
    """Record a change of ``layer`` in gpkg_contents: its time and its real extent
    (from the spatial index), which desktop GIS use to "zoom to layer"."""
    rtree = q(f"rtree_{layer}_geom")
    conn.execute(
        "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
        f"min_x = (SELECT min(minx) FROM {rtree}), min_y = (SELECT min(miny) FROM "
        f"{rtree}), max_x = (SELECT max(maxx) FROM {rtree}), max_y = (SELECT "
        f"max(maxy) FROM {rtree}) WHERE table_name = ?",
        (layer,),
    )


# The private file: accounts (users, their API tokens and sign-in sessions, counts of
# sign-in attempts per pair and 10 s, not a row per attempt) and the history. Users
# have a number (uid) that is never reused, and tokens and sessions belong to it, so
# a name created again inherits nothing.
PRIVATE_TABLES = """
CREATE TABLE IF NOT EXISTS mapapp_users (
  uid INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL, password_hash TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mapapp_tokens (
  token_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE,
  uid INTEGER NOT NULL REFERENCES mapapp_users (uid) ON DELETE CASCADE,
  created REAL NOT NULL, expires REAL NOT NULL, last_used REAL);
CREATE TABLE IF NOT EXISTS mapapp_sessions (
  session_hash TEXT PRIMARY KEY,
  uid INTEGER NOT NULL REFERENCES mapapp_users (uid) ON DELETE CASCADE,
  created REAL NOT NULL, seen REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS mapapp_sessions_uid ON mapapp_sessions (uid);
DROP TABLE IF EXISTS mapapp_attempts;
CREATE TABLE IF NOT EXISTS mapapp_attempt_counts (
  account TEXT NOT NULL, address TEXT NOT NULL, bucket INTEGER NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY (account, address, bucket));
CREATE INDEX IF NOT EXISTS mapapp_attempt_counts_address
  ON mapapp_attempt_counts (address, bucket);
CREATE INDEX IF NOT EXISTS mapapp_attempt_counts_bucket
  ON mapapp_attempt_counts (bucket);
CREATE TABLE IF NOT EXISTS mapapp_history (
  hid INTEGER PRIMARY KEY, layer TEXT NOT NULL,
  feature_id TEXT NOT NULL, version INTEGER, action TEXT NOT NULL, author TEXT,
  at TEXT NOT NULL, before TEXT, after TEXT, note TEXT);
CREATE INDEX IF NOT EXISTS mapapp_history_feature
  ON mapapp_history (layer, feature_id);
CREATE TABLE IF NOT EXISTS mapapp_contributions (
  cid INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, month TEXT NOT NULL,
  layer TEXT NOT NULL, feature_id TEXT, kind TEXT NOT NULL, body TEXT NOT NULL,
  email TEXT, sender TEXT, status TEXT NOT NULL, reason TEXT, decided REAL,
  decided_by TEXT, result TEXT);
CREATE INDEX IF NOT EXISTS mapapp_contributions_sender
  ON mapapp_contributions (sender, created);
CREATE INDEX IF NOT EXISTS mapapp_contributions_created
  ON mapapp_contributions (created);
CREATE INDEX IF NOT EXISTS mapapp_contributions_status
  ON mapapp_contributions (status, cid);
CREATE INDEX IF NOT EXISTS mapapp_contributions_feature
  ON mapapp_contributions (layer, feature_id, kind, created);
CREATE TABLE IF NOT EXISTS mapapp_replies (
  rid INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL, email TEXT NOT NULL,
  lang TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, decided REAL NOT NULL);
"""

# In the GeoPackage: history entries written with their change, until they are in
# the private file. AUTOINCREMENT numbers them for good (never reused).
OUTBOX_TABLE = """
CREATE TABLE IF NOT EXISTS mapapp_history_outbox (
  hid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL,
  feature_id TEXT NOT NULL, version INTEGER, action TEXT NOT NULL, author TEXT,
  at TEXT NOT NULL, before TEXT, after TEXT, note TEXT)
"""

# Where the older layout kept the private tables: inside the GeoPackage.
LEGACY_TABLES = ("mapapp_users", "mapapp_tokens", "mapapp_attempts", "mapapp_history")


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _continue_sequence(conn: sqlite3.Connection, last_hid: int) -> None:
    """Make the outbox number its entries after ``last_hid`` (entries already in the
    private file keep their numbers when the GeoPackage is rebuilt or migrated)."""
    row = conn.execute(
        "SELECT seq FROM sqlite_sequence WHERE name = 'mapapp_history_outbox'"
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES "
            "('mapapp_history_outbox', ?)",
            (last_hid,),
        )
    elif row[0] < last_hid:
        conn.execute(
            "UPDATE sqlite_sequence SET seq = ? WHERE name = 'mapapp_history_outbox'",
            (last_hid,),
        )


def _migrate_legacy(store: GeoPackageStore) -> None:
    """Move the private tables of a store of the older layout to the private file.

    Copied first (idempotent), then dropped from the GeoPackage with secure_delete
    and the file vacuumed, so no password hash stays in its free pages or its WAL.
    A crash in between is finished at the next start.
    """
    conn = store.conn
    present = [t for t in LEGACY_TABLES if store._has_table(conn, t)]
    if not present:
        return
    with store._pwrite() as private:
        if "mapapp_users" in present:
            private.executemany(
                "INSERT OR IGNORE INTO mapapp_users (name, role, password_hash, "
                "created) VALUES (?, ?, ?, ?)",
                conn.execute(
                    "SELECT name, role, password_hash, created FROM mapapp_users"
                ).fetchall(),
            )
        if "mapapp_tokens" in present:
            _migrate_tokens(conn, private)
        if "mapapp_history" in present:
            private.executemany(
                f"INSERT OR IGNORE INTO mapapp_history (hid, {HISTORY_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                conn.execute(
                    "SELECT hid, layer, feature_id, version, action, author, at, "
                    "before, after FROM mapapp_history"
                ).fetchall(),
            )
    conn.execute("PRAGMA secure_delete=ON")
    with store._write() as c:
        for table in present:
            c.execute(f"DROP TABLE {q(table)}")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log.warning("moved %s out of %s", ", ".join(present), store.path)


def _migrate_tokens(conn: sqlite3.Connection, private: sqlite3.Connection) -> None:
    """Older tokens had no id and no end: they get both (LEGACY_TOKEN_DAYS)."""
    now = time.time()
    for token_hash, user in conn.execute(
        'SELECT token_hash, "user" FROM mapapp_tokens'
    ).fetchall():
        private.execute(
            "INSERT OR IGNORE INTO mapapp_tokens (token_hash, token_id, uid, "
            "created, expires) SELECT ?, ?, uid, ?, ? FROM mapapp_users WHERE name = ?",
            (token_hash, token_hash[:10], now, now + LEGACY_TOKEN_DAYS * 86400, user),
        )


def _create_core(conn: sqlite3.Connection) -> None:
    """The GeoPackage core tables, the WGS84 SRS and mapapp's own metadata table."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    conn.executescript(
        """
    CREATE TABLE gpkg_spatial_ref_sys (
      srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
      organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
      definition TEXT NOT NULL, description TEXT);
    CREATE TABLE gpkg_contents (
      table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
      identifier TEXT UNIQUE, description TEXT DEFAULT '',
      last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
      CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
        REFERENCES gpkg_spatial_ref_sys(srs_id));
    CREATE TABLE gpkg_geometry_columns (
      table_name TEXT NOT NULL, column_name TEXT NOT NULL,
      geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
      z TINYINT NOT NULL, m TINYINT NOT NULL,
      CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
      CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
      CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id)
        REFERENCES gpkg_spatial_ref_sys (srs_id));
    CREATE TABLE gpkg_extensions (
      table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
      definition TEXT NOT NULL, scope TEXT NOT NULL,
      CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
    CREATE TABLE mapapp_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """
        + OUTBOX_TABLE
    )
    wgs84 = (
        'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
        'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
        'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
        'AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]'
    )
    conn.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, wgs84, "longitude/latitude WGS84"),
        ],
    )


def _create_layer(conn: sqlite3.Connection, spec: LayerSpec) -> None:
    """One feature table with its spatial index and the index's triggers."""
    t = spec.name
    columns = columns_sql(spec, SQL_TYPES)
    conn.execute(
        f"CREATE TABLE {q(t)} (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
        f"geom {GEOM_TYPES[spec.geometry]}, {columns}, "
        "version INTEGER NOT NULL DEFAULT 1)"
    )
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
        "description, srs_id) VALUES (?, 'features', ?, ?, 4326)",
        (t, t, spec.title["fr"]),
    )
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
        (t, GEOM_TYPES[spec.geometry]),
    )
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (t,),
    )
    rt = f"rtree_{t}_geom"
    conn.execute(
        f"CREATE VIRTUAL TABLE {q(rt)} USING rtree(id, minx, maxx, miny, maxy)"
    )
    env = "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)"
    triggers = f"""
    CREATE TRIGGER {q(rt + "_insert")} AFTER INSERT ON {q(t)}
      WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
      BEGIN INSERT OR REPLACE INTO {q(rt)} VALUES (NEW.fid, {env}); END;
    CREATE TRIGGER {q(rt + "_update1")} AFTER UPDATE OF geom ON {q(t)}
      WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
      BEGIN INSERT OR REPLACE INTO {q(rt)} VALUES (NEW.fid, {env}); END;
    CREATE TRIGGER {q(rt + "_update2")} AFTER UPDATE OF geom ON {q(t)}
      WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
      BEGIN DELETE FROM {q(rt)} WHERE id = OLD.fid; END;
    CREATE TRIGGER {q(rt + "_update3")} AFTER UPDATE ON {q(t)}
      WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
      BEGIN DELETE FROM {q(rt)} WHERE id = OLD.fid;
            INSERT OR REPLACE INTO {q(rt)} VALUES (NEW.fid, {env}); END;
    CREATE TRIGGER {q(rt + "_update4")} AFTER UPDATE ON {q(t)}
      WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
      BEGIN DELETE FROM {q(rt)} WHERE id IN (OLD.fid, NEW.fid); END;
    CREATE TRIGGER {q(rt + "_delete")} AFTER DELETE ON {q(t)}
      WHEN OLD.geom NOT NULL
      BEGIN DELETE FROM {q(rt)} WHERE id = OLD.fid; END;
    """
    # one statement at a time: executescript would commit the caller's transaction
    for statement in triggers.split("CREATE TRIGGER")[1:]:
        conn.execute("CREATE TRIGGER" + statement)


def _drop_layer(conn: sqlite3.Connection, layer: str) -> None:
    """Remove a layer table, its spatial index (and triggers) and its registration."""
    conn.execute(f"DROP TABLE IF EXISTS {q(f'rtree_{layer}_geom')}")
    conn.execute(f"DROP TABLE IF EXISTS {q(layer)}")
    for table in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
        conn.execute(f"DELETE FROM {table} WHERE table_name = ?", (layer,))
