"""PostGIS store: the same contract on PostgreSQL, for several app servers.

One table per layer (``id`` primary key, the layer's fields, ``geom`` in EPSG:4326
with a GiST index, ``version``), plus the data version, accounts and history tables.
Every write is one transaction; the data version is a row updated in that same
transaction, so every app process sees it move as soon as the write commits and its
caches (keyed on it) follow.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from ..errors import StoreError
from ..layers import REGISTRY, LayerSpec
from .base import Bbox
from .sql import SqlStore, q

SQL_TYPES = {
    "str": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
}
GEOM_TYPES = {"Point": "Point", "Polygon": "MultiPolygon"}

ACCOUNT_TABLES = """
CREATE TABLE IF NOT EXISTS mapapp_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS mapapp_users (name text PRIMARY KEY, role text NOT NULL,
  password_hash text NOT NULL, created text NOT NULL);
CREATE TABLE IF NOT EXISTS mapapp_tokens (token_hash text PRIMARY KEY,
  "user" text NOT NULL, created text NOT NULL);
CREATE TABLE IF NOT EXISTS mapapp_attempts (key text NOT NULL, at double precision NOT NULL);
CREATE INDEX IF NOT EXISTS mapapp_attempts_key ON mapapp_attempts (key, at);
CREATE TABLE IF NOT EXISTS mapapp_history (hid bigserial PRIMARY KEY, layer text NOT NULL,
  feature_id text NOT NULL, version integer, action text NOT NULL, author text,
  at text NOT NULL, before jsonb, after jsonb);
CREATE INDEX IF NOT EXISTS mapapp_history_feature ON mapapp_history (layer, feature_id);
"""
NOW = "to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


def _stored(geom: BaseGeometry, spec: LayerSpec) -> bytes:
    if spec.geometry == "Polygon" and isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return shapely.to_wkb(geom)


class PostGISStore(SqlStore):
    """The store on PostgreSQL/PostGIS, named by a ``postgresql://`` URL."""

    P = "%s"
    NOW = NOW
    LOCK = " FOR UPDATE"
    GEOM_OUT = "ST_AsBinary(geom)"
    GEOM_IN = "ST_SetSRID(ST_GeomFromWKB(%s), 4326)"
    PUBLISHED = "published IS TRUE"

    def _bbox_clause(self, spec: LayerSpec, bbox: Bbox) -> tuple[str, list]:
        return "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", list(bbox)

    def _like_sql(self, column: str, pattern: str, casei: bool) -> tuple[str, list]:
        if casei:
            return f"(lower({column}) LIKE lower(%s) ESCAPE '\\')", [pattern]
        return f"({column} LIKE %s ESCAPE '\\')", [pattern]

    def _intersects_sql(self, spec: LayerSpec, geom: BaseGeometry) -> tuple[str, list]:
        return (
            "(geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
            "ST_Intersects(geom, ST_GeomFromWKB(%s, 4326)))",
            [*geom.bounds, shapely.to_wkb(geom)],
        )

    def _decode(self, blobs: list) -> np.ndarray:
        return shapely.from_wkb([None if b is None else bytes(b) for b in blobs])

    def _encode(self, geom: BaseGeometry, spec: LayerSpec) -> bytes:
        return _stored(geom, spec)

    @staticmethod
    def _executemany(conn, sql: str, rows: list) -> None:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)

    def __init__(self, url: str, area: Bbox):
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.area = area
        self._local = threading.local()

    # --- connections -----------------------------------------------------------------

    @property
    def conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = self._psycopg.connect(self.url, autocommit=True)
            except self._psycopg.OperationalError as exc:
                raise StoreError(
                    f"cannot connect to the PostGIS store: {exc}"
                ) from None
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _write(self):
        with self.conn.transaction():
            yield self.conn

    def _one(self, sql, params=()):
        return self.conn.execute(sql, params).fetchone()

    # --- reading ---------------------------------------------------------------------

    def exists(self) -> bool:
        try:
            row = self._one(
                "SELECT to_regclass('mapapp_meta') IS NOT NULL AND "
                "EXISTS (SELECT 1 FROM mapapp_meta WHERE key='data_version')"
            )
        except self._psycopg.errors.UndefinedTable:
            return False
        return bool(row and row[0])

    SQL_TYPES = SQL_TYPES

    def _columns_of(self, conn, table: str) -> set[str]:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
        return {r[0] for r in rows}

    def layer_names(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()"
        ).fetchall()
        present = {r[0] for r in rows}
        return [n for n in REGISTRY if n in present]

    def data_version(self) -> int:
        try:
            row = self._one("SELECT value FROM mapapp_meta WHERE key='data_version'")
        except self._psycopg.errors.UndefinedTable:
            raise StoreError(
                "the PostGIS database is not a mapapp store: run `mapapp init`"
            ) from None
        return int(row[0]) if row else 0

    # --- writing ---------------------------------------------------------------------

    def _bump(self, conn, layer: str | None = None) -> int:
        return int(
            conn.execute(
                "UPDATE mapapp_meta SET value = (value::bigint + 1)::text WHERE "
                "key = 'data_version' RETURNING value"
            ).fetchone()[0]
        )

    # --- whole layers --------------------------------------------------------------------

    def create(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Rebuild the layer tables in one transaction (DDL is transactional in
        PostgreSQL): a failure leaves the old tables; accounts and history stay."""
        self._tables = None  # the tables are rebuilt
        conn = self.conn
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            for statement in ACCOUNT_TABLES.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute(
                "SELECT value FROM mapapp_meta WHERE key = 'data_version'"
            ).fetchone()
            previous = int(row[0]) if row else 0
            for spec in REGISTRY.values():
                t = spec.name
                columns = ", ".join(
                    f"{q(f.name)} {SQL_TYPES[f.type]}"
                    + (" NOT NULL UNIQUE" if f.name == "id" else "")
                    for f in spec.fields
                )
                conn.execute(f"DROP TABLE IF EXISTS {q(t)}")
                conn.execute(
                    f"CREATE TABLE {q(t)} (fid bigserial PRIMARY KEY, {columns}, "
                    f"geom geometry({GEOM_TYPES[spec.geometry]}, 4326), "
                    "version integer NOT NULL DEFAULT 1)"
                )
                conn.execute(
                    f"CREATE INDEX {q(t + '_geom')} ON {q(t)} USING gist (geom)"
                )
                if t in layers:
                    self._insert_frame(conn, spec, layers[t])
            conn.execute(
                "INSERT INTO mapapp_meta VALUES ('data_version', %s) ON CONFLICT "
                "(key) DO UPDATE SET value = excluded.value",
                (str(previous + 1),),
            )
        return previous + 1

    def check(self) -> list[str]:
        problems = []
        for name in self.layer_names():
            bad = self._one(
                f"SELECT count(*) FROM {q(name)} WHERE NOT ST_IsValid(geom)"
            )[0]
            if bad:
                problems.append(f"{name}: {bad} invalid geometries")
        return problems
