"""GeoPackage store: an OGC GeoPackage (SQLite) that QGIS and GDAL open as it is.

The file is written with the standard library's sqlite3: core tables, one feature
table per layer with a spatial index (the GeoPackage RTree extension, whose triggers
call ``ST_*`` functions that GDAL provides and that this module registers), and a
``mapapp_meta`` table holding the data version. WAL journal with synchronous=FULL:
an acknowledged write survives a crash.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import tempfile
import threading
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
from .base import Bbox
from .filters import like_to_glob
from .sql import SqlStore, q

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
    """Decode many GeoPackage blobs at once into shapely geometries."""
    wkbs = [None if b is None else _wkb_of(b) for b in blobs]
    return shapely.from_wkb(wkbs)


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
    conn.create_function("mapapp_intersects", 2, _intersects, deterministic=True)


def _is_box(geom: BaseGeometry) -> bool:
    """True for a point or a rectangle along the axes (its own envelope)."""
    if geom.geom_type == "Point":
        return True
    return geom.geom_type == "Polygon" and geom.area == box(*geom.bounds).area


@lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> BaseGeometry:
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


def _intersects(blob: bytes | None, wkb: bytes) -> int:
    """1 when a GeoPackage geometry blob intersects a WKB geometry (SQL function)."""
    if blob is None or blob[3] & 0b00010000:
        return 0
    return int(_prepared(wkb).intersects(shapely.from_wkb(_wkb_of(blob))))


def _as_stored_geometry(geom: BaseGeometry, spec: LayerSpec) -> BaseGeometry:
    """Polygon layers are stored as MultiPolygon (one declared type for QGIS)."""
    if spec.geometry == "Polygon" and isinstance(geom, Polygon):
        return MultiPolygon([geom])
    return geom


class GeoPackageStore(SqlStore):
    """The default store, one GeoPackage file."""

    NOW = "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

    def _bbox_clause(self, spec: LayerSpec, bbox: Bbox) -> tuple[str, list]:
        rtree = q(f"rtree_{spec.name}_geom")
        return (
            f"fid IN (SELECT id FROM {rtree} WHERE maxx >= ? AND minx <= ? "
            "AND maxy >= ? AND miny <= ?)",
            [bbox[0], bbox[2], bbox[1], bbox[3]],
        )

    LOWER = "mapapp_lower"

    def _like_sql(self, column: str, pattern: str, casei: bool) -> tuple[str, list]:
        if casei:
            return f"({self.LOWER}({column}) GLOB ?)", [like_to_glob(pattern.lower())]
        return f"({column} GLOB ?)", [like_to_glob(pattern)]

    def _intersects_sql(self, spec: LayerSpec, geom: BaseGeometry) -> tuple[str, list]:
        bounds = geom.bounds
        clause, params = self._bbox_clause(spec, bounds)
        if spec.geometry == "Point" and _is_box(geom):
            return f"({clause})", params  # a point meets a box iff its envelope does
        return f"({clause} AND mapapp_intersects(geom, ?))", [
            *params,
            shapely.to_wkb(geom),
        ]

    def _decode(self, blobs: list) -> np.ndarray:
        return decode_geometries(blobs)

    def _encode(self, geom: BaseGeometry, spec: LayerSpec) -> bytes:
        return encode_geometry(_as_stored_geometry(geom, spec))

    def __init__(self, path: Path, area: Bbox):
        self.path = Path(path)
        self.area = area
        self._local = threading.local()

    # --- connections ---------------------------------------------------------------

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=30, check_same_thread=False
        )
        _register_functions(conn)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        if (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'mapapp_meta'"
            ).fetchone()
            and not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'mapapp_history'"
            ).fetchone()
        ):
            conn.executescript(ACCOUNT_TABLES)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are not shared)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.is_file():
                raise StoreError(f"no store at {self.path}; run `mapapp init`")
            conn = self._connect(self.path)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

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
        rows = self.conn.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type='features' "
            "ORDER BY rowid"
        ).fetchall()
        return [r[0] for r in rows if r[0] in REGISTRY]

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
        if layer:
            _touch_contents(conn, layer)
        return int(
            conn.execute(
                "SELECT value FROM mapapp_meta WHERE key='data_version'"
            ).fetchone()[0]
        )

    @contextmanager
    def _write(self):
        """One write transaction (BEGIN IMMEDIATE: writers queue, readers go on)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def check(self) -> list[str]:
        problems = []
        conn = self.conn
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems += [r[0] for r in result]
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
        """Build a new store from validated layers; replace the old file atomically.

        The new file is written beside the old one and renamed over it only once
        complete, so a failure leaves the existing store as it was. The new data
        version continues from the old store's, so caches never mistake the two.
        """
        self._tables = None  # the tables are rebuilt
        previous = 0
        if self.path.is_file():
            try:
                previous = self.data_version()
            except (StoreError, sqlite3.DatabaseError):
                previous = 0
            self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=".mapapp-", suffix=".gpkg", dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            _register_functions(conn)
            conn.execute("PRAGMA journal_mode=DELETE")
            _create_core(conn)
            for spec in REGISTRY.values():
                _create_layer(conn, spec)
            conn.execute("BEGIN")
            for name, spec in REGISTRY.items():
                if name in layers:
                    self._insert_frame(conn, spec, layers[name])
                _touch_contents(conn, name)
            conn.execute(
                "INSERT INTO mapapp_meta VALUES ('data_version', ?)",
                (str(previous + 1),),
            )
            conn.execute("COMMIT")
            if previous:  # keep the accounts and the history of the old store
                conn.execute("ATTACH DATABASE ? AS old", (str(self.path),))
                for table in ("mapapp_users", "mapapp_tokens", "mapapp_history"):
                    if conn.execute(
                        "SELECT 1 FROM old.sqlite_master WHERE name = ?", (table,)
                    ).fetchone():
                        conn.execute(f"INSERT INTO {table} SELECT * FROM old.{table}")
                conn.execute("DETACH DATABASE old")
            conn.close()
            os.replace(tmp, self.path)
            for suffix in ("-wal", "-shm"):  # journals of the old file, now stale
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        finally:
            tmp.unlink(missing_ok=True)
        return previous + 1


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


ACCOUNT_TABLES = """
CREATE TABLE IF NOT EXISTS mapapp_users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mapapp_tokens (
  token_hash TEXT PRIMARY KEY, "user" TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mapapp_attempts (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS mapapp_attempts_key ON mapapp_attempts (key, at);
CREATE TABLE IF NOT EXISTS mapapp_history (
  hid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL,
  feature_id TEXT NOT NULL, version INTEGER, action TEXT NOT NULL, author TEXT,
  at TEXT NOT NULL, before TEXT, after TEXT);
CREATE INDEX IF NOT EXISTS mapapp_history_feature
  ON mapapp_history (layer, feature_id);
"""


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
        + ACCOUNT_TABLES
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
    columns = ", ".join(
        f"{q(f.name)} {SQL_TYPES[f.type]}"
        + (" NOT NULL UNIQUE" if f.name == "id" else "")
        for f in spec.fields
    )
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
    conn.executescript(f"""
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
    """)
