"""PostGIS store: the same contract on PostgreSQL, for several app servers.

One table per layer (``id`` primary key, the layer's fields, ``geom`` in EPSG:4326
with a GiST index, ``version``), plus the data version, in the schema the URL puts
first on the search path. Accounts, sessions, tokens, sign-in attempts and the
history are in a schema of their own (``mapapp_private`` beside ``public``, else
``<schema>_private``), so database users (QGIS) can be granted the layers alone.
Every write is one transaction, its history entry included; the data version is a
row updated in that same transaction, so every app process sees it move as soon as
the write commits and its caches (keyed on it) follow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from ..errors import StoreError
from ..layers import REGISTRY, LayerSpec
from .base import LAYER_KEY, MARK_KEY, Bbox, new_mark
from .points import bare_points, decoded
from .sql import SqlStore, columns_sql, q

SQL_TYPES = {
    "str": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
}
GEOM_TYPES = {"Point": "Point", "Polygon": "MultiPolygon"}

PRIVATE_TABLES = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.mapapp_users (uid bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE, role text NOT NULL, password_hash text NOT NULL,
  created text NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.mapapp_tokens (token_hash text PRIMARY KEY,
  token_id text NOT NULL UNIQUE,
  uid bigint NOT NULL REFERENCES {s}.mapapp_users (uid) ON DELETE CASCADE,
  created double precision NOT NULL, expires double precision NOT NULL,
  last_used double precision);
CREATE TABLE IF NOT EXISTS {s}.mapapp_sessions (session_hash text PRIMARY KEY,
  uid bigint NOT NULL REFERENCES {s}.mapapp_users (uid) ON DELETE CASCADE,
  created double precision NOT NULL, seen double precision NOT NULL,
  expires double precision NOT NULL);
CREATE INDEX IF NOT EXISTS mapapp_sessions_uid ON {s}.mapapp_sessions (uid);
DROP TABLE IF EXISTS {s}.mapapp_attempts;
CREATE TABLE IF NOT EXISTS {s}.mapapp_attempt_counts (account text NOT NULL,
  address text NOT NULL, bucket bigint NOT NULL, n integer NOT NULL,
  PRIMARY KEY (account, address, bucket));
CREATE INDEX IF NOT EXISTS mapapp_attempt_counts_address
  ON {s}.mapapp_attempt_counts (address, bucket);
CREATE INDEX IF NOT EXISTS mapapp_attempt_counts_bucket
  ON {s}.mapapp_attempt_counts (bucket);
CREATE TABLE IF NOT EXISTS {s}.mapapp_history (hid bigserial PRIMARY KEY,
  layer text NOT NULL, feature_id text NOT NULL, version integer,
  action text NOT NULL, author text, at text NOT NULL, before jsonb, after jsonb,
  note text);
CREATE INDEX IF NOT EXISTS mapapp_history_feature
  ON {s}.mapapp_history (layer, feature_id);
CREATE TABLE IF NOT EXISTS {s}.mapapp_contributions (cid bigserial PRIMARY KEY,
  created double precision NOT NULL, month text NOT NULL, layer text NOT NULL,
  feature_id text, kind text NOT NULL, body text NOT NULL, email text, sender text,
  status text NOT NULL, reason text, decided double precision, decided_by text,
  result text);
CREATE INDEX IF NOT EXISTS mapapp_contributions_sender
  ON {s}.mapapp_contributions (sender, created);
CREATE INDEX IF NOT EXISTS mapapp_contributions_created
  ON {s}.mapapp_contributions (created);
CREATE INDEX IF NOT EXISTS mapapp_contributions_status
  ON {s}.mapapp_contributions (status, cid);
CREATE INDEX IF NOT EXISTS mapapp_contributions_feature
  ON {s}.mapapp_contributions (layer, feature_id, kind, created);
CREATE TABLE IF NOT EXISTS {s}.mapapp_replies (rid bigserial PRIMARY KEY,
  cid bigint NOT NULL, email text NOT NULL, lang text NOT NULL, status text NOT NULL,
  reason text, decided double precision NOT NULL)
"""
LEGACY_TOKEN_DAYS = 30  # tokens made before they could expire expire this long after
NOW = "to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


def _stored(geom: BaseGeometry, spec: LayerSpec) -> bytes:
    if spec.geometry == "Polygon" and isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return shapely.to_wkb(geom)


def _from_wkb(blobs: list) -> np.ndarray:
    """Shapely geometries of WKB blobs (bytes or memory views; None for NULL)."""
    return shapely.from_wkb([None if b is None else bytes(b) for b in blobs])


class PostGISStore(SqlStore):
    """The store on PostgreSQL/PostGIS, named by a ``postgresql://`` URL."""

    P = "%s"
    NOW = NOW
    LOCK = " FOR UPDATE"
    GEOM_OUT = "ST_AsBinary(geom)"
    GEOM_IN = "ST_SetSRID(ST_GeomFromWKB(%s), 4326)"
    PUBLISHED = "published IS TRUE"

    def _bbox_clause(self, spec: LayerSpec, bbox: Bbox) -> tuple[str, list]:
        # the GiST index proposes (float4 boxes), ST_Intersects decides exactly
        return "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", list(bbox)

    @contextmanager
    def _interrupting(self):
        """PostgreSQL stops a statement after ``statement_timeout``."""
        conn = self.conn
        left = self._local.deadline - time.monotonic()
        conn.execute(f"SET statement_timeout = {max(1, int(left * 1000))}")
        try:
            yield
        except self._psycopg.errors.QueryCanceled:
            raise self._time_limit() from None
        finally:
            conn.execute("RESET statement_timeout")

    def _like_sql(self, column: str, pattern: str, casei: bool) -> tuple[str, list]:
        if casei:
            return f"(lower({column}) LIKE lower(%s) ESCAPE '\\')", [pattern]
        return f"({column} LIKE %s ESCAPE '\\')", [pattern]

    def _point_chunks(self, cols: list[str], layer: str, chunk: int):
        # A server-side cursor: the client holds one chunk of rows, not the whole
        # layer (a plain cursor receives every row at once); binary doubles for the
        # coordinates rather than WKB to decode. 1,000,000 points: 7.5 s and a
        # 710 MB peak before, 5.5 s and 410 MB.
        names = ", ".join([*(q(c) for c in cols), "ST_X(geom)", "ST_Y(geom)"])
        conn = self.conn
        with (
            conn.transaction(),
            conn.cursor(name="mapapp_point_chunks", binary=True) as cursor,
        ):
            cursor.execute(f"SELECT {names} FROM {q(layer)} ORDER BY fid")
            while rows := cursor.fetchmany(chunk):
                yield np.array([r[-2:] for r in rows], dtype=float), rows

    def _intersects_sql(self, spec: LayerSpec, geom: BaseGeometry) -> tuple[str, list]:
        return (
            "(geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
            "ST_Intersects(geom, ST_GeomFromWKB(%s, 4326)))",
            [*geom.bounds, shapely.to_wkb(geom)],
        )

    def _decode(self, blobs: list) -> np.ndarray:
        return decoded(blobs, bare_points, _from_wkb)

    _find_points = staticmethod(bare_points)

    def _encode(self, geom: BaseGeometry, spec: LayerSpec) -> bytes:
        return _stored(geom, spec)

    def _fetch_chunks(self, sql: str, params: list, size: int) -> Iterator[list]:
        # a server-side cursor: a plain one brings every row into memory at once
        with self.conn.cursor(name="mapapp_chunks") as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(size):
                yield rows

    @staticmethod
    def _executemany(conn, sql: str, rows: list) -> None:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)

    @classmethod
    def from_url(cls, url: str, area: Bbox) -> PostGISStore:
        """The store in the database of a ``postgresql://`` URL."""
        return cls(url, area)

    def __init__(self, url: str, area: Bbox, private_schema: str | None = None):
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.area = area
        self.private_schema = private_schema
        self._local = threading.local()
        self._prepared = False
        self._prepare_lock = threading.RLock()

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
            self._prepare()
        return conn

    @property
    def pconn(self):
        return self.conn

    def _t(self, name: str) -> str:
        self.conn  # noqa: B018 - connects, which prepares the private schema
        return super()._t(name)

    def _prepare(self) -> None:
        """Once per process: the private schema and its tables (moved there from the
        data schema when the store has the older layout)."""
        with self._prepare_lock:
            if self._prepared:
                return
            schema = self.private_schema
            if schema is None:
                current = self._one("SELECT current_schema()")[0] or "public"
                schema = (
                    "mapapp_private" if current == "public" else f"{current}_private"
                )
            self.private_schema = schema
            self.PRIVATE = f"{q(schema)}."
            self.HISTORY_OUT = f"{q(schema)}.mapapp_history"
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('mapapp'))")
                for statement in PRIVATE_TABLES.format(s=q(schema)).split(";"):
                    self.conn.execute(statement)
                self._migrate_legacy()
            self._prepared = True

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _write(self):
        with self.conn.transaction():
            yield self.conn

    def _has_address_table(self) -> bool:
        return bool(self._one("SELECT to_regclass('mapapp_addresses') IS NOT NULL")[0])

    _pwrite = _write

    @contextmanager
    def _snapshot(self):
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield self.conn

    def _lock(self, conn, key: str) -> None:
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            (f"mapapp.{self.private_schema}.{key}",),
        )

    def _migrate_legacy(self) -> None:
        """Move users, tokens and history of the older layout (in the data schema)
        to the private schema, in the transaction of :meth:`_prepare`."""
        conn, s = self.conn, q(self.private_schema)
        legacy = self._one(
            "SELECT to_regclass(quote_ident(current_schema()) || '.mapapp_users')"
        )[0]
        if legacy is None:
            return
        conn.execute(
            f"INSERT INTO {s}.mapapp_users (name, role, password_hash, created) "
            "SELECT name, role, password_hash, created FROM mapapp_users "
            "ON CONFLICT (name) DO NOTHING"
        )
        conn.execute(
            f"INSERT INTO {s}.mapapp_tokens (token_hash, token_id, uid, created, "
            "expires) SELECT t.token_hash, left(t.token_hash, 10), u.uid, "
            "extract(epoch FROM now()), extract(epoch FROM now()) + %s "
            f'FROM mapapp_tokens t JOIN {s}.mapapp_users u ON u.name = t."user" '
            "ON CONFLICT DO NOTHING",
            (LEGACY_TOKEN_DAYS * 86400,),
        )
        conn.execute(
            f"INSERT INTO {s}.mapapp_history (hid, layer, feature_id, version, "
            "action, author, at, before, after) SELECT hid, layer, feature_id, "
            "version, action, author, at, before, after FROM mapapp_history "
            "ON CONFLICT DO NOTHING"
        )
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{s}.mapapp_history', 'hid'), "
            f"(SELECT coalesce(max(hid), 0) + 1 FROM {s}.mapapp_history), false)"
        )
        for table in ("mapapp_tokens", "mapapp_attempts", "mapapp_history"):
            conn.execute(f"DROP TABLE IF EXISTS {q(table)}")
        conn.execute("DROP TABLE mapapp_users")

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
        present = self._present(self.conn)
        return [n for n in REGISTRY if n in present]

    def _present(self, conn) -> set[str]:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()"
        ).fetchall()
        return {r[0] for r in rows}

    def _create_table(self, conn, spec: LayerSpec) -> None:
        """One layer table with its spatial index."""
        t = spec.name
        columns = columns_sql(spec, SQL_TYPES)
        conn.execute(
            f"CREATE TABLE {q(t)} (fid bigserial PRIMARY KEY, {columns}, "
            f"geom geometry({GEOM_TYPES[spec.geometry]}, 4326), "
            "version integer NOT NULL DEFAULT 1)"
        )
        conn.execute(f"CREATE INDEX {q(t + '_geom')} ON {q(t)} USING gist (geom)")

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
        version = int(
            conn.execute(
                "UPDATE mapapp_meta SET value = (value::bigint + 1)::text WHERE "
                "key = 'data_version' RETURNING value"
            ).fetchone()[0]
        )
        if layer:
            # a layer without a mark (a store made before layers had versions)
            # is as old as the data before this write
            for name in REGISTRY:
                conn.execute(
                    "INSERT INTO mapapp_meta VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (f"{LAYER_KEY}{name}", str(version - 1)),
                )
            _set_layer_versions(conn, [layer], version)
        return version

    # --- whole layers --------------------------------------------------------------------

    def create(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Rebuild the layer tables in one transaction (DDL is transactional in
        PostgreSQL): a failure leaves the old tables; accounts and history stay."""
        self._tables = None  # the tables are rebuilt
        conn = self.conn
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS mapapp_meta (key text PRIMARY KEY, "
                "value text NOT NULL)"
            )
            row = conn.execute(
                "SELECT value FROM mapapp_meta WHERE key = 'data_version'"
            ).fetchone()
            previous = int(row[0]) if row else 0
            for spec in REGISTRY.values():
                conn.execute(f"DROP TABLE IF EXISTS {q(spec.name)}")
                self._create_table(conn, spec)
                if spec.name in layers:
                    self._insert_frame(conn, spec, layers[spec.name])
            conn.execute(
                "INSERT INTO mapapp_meta VALUES ('data_version', %s) ON CONFLICT "
                "(key) DO UPDATE SET value = excluded.value",
                (str(previous + 1),),
            )
            _set_layer_versions(conn, list(REGISTRY), previous + 1)
        return previous + 1

    def backup(self, folder: Path) -> list[Path]:
        raise StoreError(
            "back up PostGIS with pg_dump (one snapshot of the data and the private "
            f"schema {self.private_schema}): pg_dump -Fc DATABASE > FILE.dump"
        )

    def check(self) -> list[str]:
        problems = []
        for name in self.layer_names():
            bad = self._one(
                f"SELECT count(*) FROM {q(name)} WHERE NOT ST_IsValid(geom)"
            )[0]
            if bad:
                problems.append(f"{name}: {bad} invalid geometries")
        return problems


def _set_layer_versions(conn, layers: list[str], version: int) -> None:
    """Record ``version`` as the version of ``layers`` (base.py: layer_versions),
    each with a new mark (Store.layer_mark)."""
    for name in layers:
        for key, value in ((LAYER_KEY, str(version)), (MARK_KEY, new_mark())):
            conn.execute(
                "INSERT INTO mapapp_meta VALUES (%s, %s) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value",
                (f"{key}{name}", value),
            )
