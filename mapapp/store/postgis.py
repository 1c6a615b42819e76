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
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from ..errors import BadRequest, Conflict, NotFound, StoreError
from ..layers import REGISTRY, LayerSpec, get_spec
from .base import Bbox, Store, history_state, plain_value

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


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stored(geom: BaseGeometry, spec: LayerSpec) -> bytes:
    if spec.geometry == "Polygon" and isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return shapely.to_wkb(geom)


class PostGISStore(Store):
    """The store on PostgreSQL/PostGIS, named by a ``postgresql://`` URL."""

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

    def _spec(self, layer: str) -> LayerSpec:
        spec = get_spec(layer)
        if layer not in self.layer_names():
            raise NotFound(f"layer {layer!r} is not in the store")
        return spec

    def _where(self, spec, bbox, filters, published_only) -> tuple[str, list]:
        clauses, params = [], []
        if bbox is not None:
            clauses.append("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
            params += list(bbox)
        for name, value in (filters or {}).items():
            if name not in spec.field_names:
                raise BadRequest(
                    f"unknown filter field {name!r} for layer {spec.name!r}"
                )
            clauses.append(f"{_q(name)} = %s")
            params.append(value)
        if published_only and spec.publishable:
            clauses.append("published IS TRUE")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def read(
        self,
        layer: str,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        published_only: bool = False,
        columns: list[str] | None = None,
    ) -> gpd.GeoDataFrame:
        spec = self._spec(layer)
        where, params = self._where(spec, bbox, filters, published_only)
        cols = self._columns(spec, columns)
        rows = self.conn.execute(
            f"SELECT {', '.join(_q(c) for c in cols)}, ST_AsBinary(geom) "
            f"FROM {_q(layer)}{where} ORDER BY fid",
            params,
        ).fetchall()
        geoms = (
            shapely.from_wkb(
                [bytes(r[-1]) if r[-1] is not None else None for r in rows]
            )
            if rows
            else []
        )
        data = pd.DataFrame([r[:-1] for r in rows], columns=cols)
        for f in spec.fields:
            if f.type == "bool" and f.name in data.columns:
                data[f.name] = data[f.name].astype(object)
        return gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4326")

    def count(self, layer: str, published_only: bool = False) -> int:
        spec = self._spec(layer)
        where, params = self._where(spec, None, None, published_only)
        return self._one(f"SELECT count(*) FROM {_q(layer)}{where}", params)[0]

    def get(self, layer: str, fid: str) -> dict:
        return self._get(self._spec(layer), fid)

    def _get(self, spec: LayerSpec, fid: str, lock: bool = False) -> dict:
        cols = spec.field_names + ["version"]
        row = self._one(
            f"SELECT {', '.join(_q(c) for c in cols)}, ST_AsBinary(geom) FROM "
            f"{_q(spec.name)} WHERE id = %s{' FOR UPDATE' if lock else ''}",
            (fid,),
        )
        if row is None:
            raise NotFound(f"no feature {fid!r} in layer {spec.name!r}")
        props = dict(zip(spec.field_names, row[:-2], strict=True))
        return {
            "id": fid,
            "properties": props,
            "geometry": shapely.from_wkb(bytes(row[-1])),
            "version": int(row[-2]),
        }

    # --- writing ---------------------------------------------------------------------

    def _bump(self, conn) -> int:
        return int(
            conn.execute(
                "UPDATE mapapp_meta SET value = (value::bigint + 1)::text WHERE "
                "key = 'data_version' RETURNING value"
            ).fetchone()[0]
        )

    def _log(self, conn, layer, fid, action, author, before, after):
        version = (after or before or {}).get("version")
        conn.execute(
            f"INSERT INTO mapapp_history (layer, feature_id, version, action, author, at, "
            f"before, after) VALUES (%s, %s, %s, %s, %s, {NOW}, %s, %s)",
            (
                layer,
                fid,
                version,
                action,
                author,
                history_state(before),
                history_state(after),
            ),
        )

    def _insert(self, conn, spec, rows: list[dict], geoms: list) -> None:
        names = spec.field_names
        sql = (
            f"INSERT INTO {_q(spec.name)} ({', '.join(_q(n) for n in names)}, geom) "
            f"VALUES ({', '.join(['%s'] * len(names))}, "
            "ST_SetSRID(ST_GeomFromWKB(%s), 4326))"
        )
        with conn.cursor() as cur:
            cur.executemany(
                sql,
                [
                    [plain_value(r.get(n)) for n in names] + [_stored(g, spec)]
                    for r, g in zip(rows, geoms, strict=True)
                ],
            )

    def _set(self, conn, spec, fid, props, geom):
        sets = ", ".join(f"{_q(n)} = %s" for n in spec.field_names)
        conn.execute(
            f"UPDATE {_q(spec.name)} SET {sets}, geom = ST_SetSRID(ST_GeomFromWKB(%s), "
            "4326), version = version + 1 WHERE id = %s",
            [plain_value(props.get(n)) for n in spec.field_names]
            + [_stored(geom, spec), fid],
        )

    def add(self, layer, properties, geometry, author=None) -> dict:
        spec = self._spec(layer)
        self._validate(spec, properties, geometry, f"new feature in {layer}")
        with self._write() as conn:
            if conn.execute(
                f"SELECT 1 FROM {_q(layer)} WHERE id = %s", (properties["id"],)
            ).fetchone():
                raise Conflict(
                    f"a feature with id {properties['id']!r} already exists "
                    f"in {layer!r}"
                )
            self._insert(conn, spec, [properties], [geometry])
            saved = self._get(spec, properties["id"])
            self._log(conn, layer, saved["id"], "add", author, None, saved)
            self._bump(conn)
        return saved

    def update(
        self,
        layer,
        fid,
        properties=None,
        geometry=None,
        expected_version=None,
        author=None,
    ) -> dict:
        spec = self._spec(layer)
        with self._write() as conn:
            current = self._get(spec, fid, lock=True)
            self._check_version(current, expected_version)
            props = {**current["properties"], **(properties or {}), "id": fid}
            geom = geometry if geometry is not None else current["geometry"]
            self._validate(spec, props, geom, f"feature {fid} in {layer}")
            self._set(conn, spec, fid, props, geom)
            saved = self._get(spec, fid)
            self._log(conn, layer, fid, "update", author, current, saved)
            self._bump(conn)
        return saved

    def delete(self, layer, fid, expected_version=None, author=None) -> None:
        spec = self._spec(layer)
        with self._write() as conn:
            current = self._get(spec, fid, lock=True)
            self._check_version(current, expected_version)
            conn.execute(f"DELETE FROM {_q(layer)} WHERE id = %s", (fid,))
            self._log(conn, layer, fid, "delete", author, current, None)
            self._bump(conn)

    def history(self, layer, fid) -> list[dict]:
        self._spec(layer)
        rows = self.conn.execute(
            "SELECT hid, version, action, author, at, before, after FROM mapapp_history "
            "WHERE layer = %s AND feature_id = %s ORDER BY hid DESC",
            (layer, fid),
        ).fetchall()
        return [
            {
                "id": r[0],
                "version": r[1],
                "action": r[2],
                "author": r[3],
                "at": r[4],
                "before": r[5],
                "after": r[6],
            }
            for r in rows
        ]

    def deleted(self, layer) -> list[dict]:
        spec = self._spec(layer)
        rows = self.conn.execute(
            "SELECT h.hid, h.feature_id, h.author, h.at, h.before FROM mapapp_history h "
            "WHERE h.layer = %s AND h.action = 'delete' AND h.hid = (SELECT max(hid) FROM "
            "mapapp_history WHERE layer = h.layer AND feature_id = h.feature_id) "
            "ORDER BY h.hid DESC",
            (spec.name,),
        ).fetchall()
        return [
            {"history_id": r[0], "id": r[1], "author": r[2], "at": r[3], "state": r[4]}
            for r in rows
        ]

    def restore(
        self, layer, fid, history_id, author=None, expected_version=None
    ) -> dict:
        spec = self._spec(layer)
        with self._write() as conn:
            row = conn.execute(
                "SELECT action, before, after FROM mapapp_history WHERE hid = %s AND "
                "layer = %s AND feature_id = %s",
                (history_id, layer, fid),
            ).fetchone()
            if row is None:
                raise NotFound(
                    f"no history entry {history_id} for {fid!r} in {layer!r}"
                )
            state = row[2] if row[0] != "delete" else row[1]
            geom = shape(state["geometry"])
            props = {**state["properties"], "id": fid}
            self._validate(spec, props, geom, f"restored feature {fid} in {layer}")
            exists = conn.execute(
                f"SELECT 1 FROM {_q(layer)} WHERE id = %s FOR UPDATE", (fid,)
            ).fetchone()
            current = None
            if exists:
                current = self._get(spec, fid)
                self._check_version(current, expected_version)
                self._set(conn, spec, fid, props, geom)
            else:
                self._insert(conn, spec, [props], [geom])
                conn.execute(
                    f"UPDATE {_q(layer)} SET version = %s WHERE id = %s",
                    ((state.get("version") or 0) + 1, fid),
                )
            saved = self._get(spec, fid)
            self._log(conn, layer, fid, "restore", author, current, saved)
            self._bump(conn)
        return saved

    # --- accounts --------------------------------------------------------------------

    def add_user(self, name, role, password_hash) -> None:
        with self._write() as conn:
            if conn.execute(
                "SELECT 1 FROM mapapp_users WHERE name = %s", (name,)
            ).fetchone():
                raise Conflict(f"user {name!r} already exists")
            conn.execute(
                f"INSERT INTO mapapp_users VALUES (%s, %s, %s, {NOW})",
                (name, role, password_hash),
            )

    def get_user(self, name):
        row = self._one(
            "SELECT name, role, password_hash, created FROM mapapp_users "
            "WHERE name = %s",
            (name,),
        )
        return (
            None
            if row is None
            else dict(
                zip(("name", "role", "password_hash", "created"), row, strict=True)
            )
        )

    def list_users(self):
        rows = self.conn.execute(
            "SELECT name, role, created FROM mapapp_users ORDER BY name"
        ).fetchall()
        return [dict(zip(("name", "role", "created"), r, strict=True)) for r in rows]

    def remove_user(self, name) -> None:
        with self._write() as conn:
            if not conn.execute(
                "DELETE FROM mapapp_users WHERE name = %s", (name,)
            ).rowcount:
                raise NotFound(f"no user {name!r}")
            conn.execute('DELETE FROM mapapp_tokens WHERE "user" = %s', (name,))

    def set_password(self, name, password_hash) -> None:
        with self._write() as conn:
            if not conn.execute(
                "UPDATE mapapp_users SET password_hash = %s WHERE name = %s",
                (password_hash, name),
            ).rowcount:
                raise NotFound(f"no user {name!r}")

    def add_token(self, name, token_hash) -> None:
        with self._write() as conn:
            if not conn.execute(
                "SELECT 1 FROM mapapp_users WHERE name = %s", (name,)
            ).fetchone():
                raise NotFound(f"no user {name!r}")
            conn.execute(
                f"INSERT INTO mapapp_tokens VALUES (%s, %s, {NOW})", (token_hash, name)
            )

    def user_for_token(self, token_hash):
        row = self._one(
            "SELECT u.name, u.role FROM mapapp_tokens t JOIN mapapp_users u "
            'ON u.name = t."user" WHERE t.token_hash = %s',
            (token_hash,),
        )
        return None if row is None else {"name": row[0], "role": row[1]}

    def note_failure(self, key, at) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO mapapp_attempts VALUES (%s, %s)", (key, at))
            conn.execute("DELETE FROM mapapp_attempts WHERE at < %s", (at - 86400,))

    def failures_since(self, key, since) -> int:
        return self._one(
            "SELECT count(*) FROM mapapp_attempts WHERE key = %s AND at >= %s",
            (key, since),
        )[0]

    def clear_failures(self, key) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM mapapp_attempts WHERE key = %s", (key,))

    # --- whole layers --------------------------------------------------------------------

    def replace_layers(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        with self._write() as conn:
            for name, frame in layers.items():
                spec = self._spec(name)
                conn.execute(f"DELETE FROM {_q(name)}")
                self._insert_frame(conn, spec, frame)
            return self._bump(conn)

    def _insert_frame(self, conn, spec, frame: gpd.GeoDataFrame) -> None:
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        rows = frame.drop(columns="geometry").to_dict("records")
        self._insert(conn, spec, rows, list(frame.geometry))

    def create(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Rebuild the layer tables in one transaction (DDL is transactional in
        PostgreSQL): a failure leaves the old tables; accounts and history stay."""
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
                    f"{_q(f.name)} {SQL_TYPES[f.type]}"
                    + (" NOT NULL UNIQUE" if f.name == "id" else "")
                    for f in spec.fields
                )
                conn.execute(f"DROP TABLE IF EXISTS {_q(t)}")
                conn.execute(
                    f"CREATE TABLE {_q(t)} (fid bigserial PRIMARY KEY, {columns}, "
                    f"geom geometry({GEOM_TYPES[spec.geometry]}, 4326), "
                    "version integer NOT NULL DEFAULT 1)"
                )
                conn.execute(
                    f"CREATE INDEX {_q(t + '_geom')} ON {_q(t)} USING gist (geom)"
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
                f"SELECT count(*) FROM {_q(name)} WHERE NOT ST_IsValid(geom)"
            )[0]
            if bad:
                problems.append(f"{name}: {bad} invalid geometries")
        return problems
