"""The part of the store contract both SQL backends share, written once.

A backend says how its SQL dialect differs (placeholders, the current time, row
locks, how geometries go in and out, how a bbox is queried) and provides the
connection, the write transaction and the data-version bump; this class does the
rest: reads, the versioned writes with their history, restores, and accounts.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..errors import BadRequest, Conflict, NotFound
from ..layers import LayerSpec, get_spec
from ..layers.builtin import LEGACY_PRECISIONS
from .base import Bbox, Store, history_state, plain_value
from .filters import (
    And,
    Between,
    Compare,
    Filter,
    In,
    Intersects,
    IsNull,
    Like,
    Not,
    Or,
    check_filter,
)


def q(name: str) -> str:
    """Quote an SQL identifier (names come from the registry, never from a request)."""
    return '"' + name.replace('"', '""') + '"'


class SqlStore(Store):
    """Shared implementation over a DB-API connection; see the module docstring."""

    P = "?"  # the driver's placeholder
    NOW = ""  # SQL for the current UTC time as YYYY-MM-DDTHH:MM:SSZ
    LOCK = ""  # suffix locking a row read inside a write transaction
    GEOM_OUT = "geom"  # SQL selecting a geometry as bytes the backend decodes
    GEOM_IN = "?"  # SQL turning the geometry parameter into the column's value
    PUBLISHED = "published = 1"
    LOWER = "lower"  # SQL function folding the case of a text value

    # --- what a backend provides ------------------------------------------------------

    @property
    def conn(self):  # pragma: no cover - each backend defines it
        raise NotImplementedError

    def _write(self) -> AbstractContextManager:  # pragma: no cover
        raise NotImplementedError

    def _bump(self, conn, layer: str | None = None) -> int:  # pragma: no cover
        """Increase the data version inside the write transaction; return it."""
        raise NotImplementedError

    def _bbox_clause(self, spec: LayerSpec, bbox: Bbox) -> tuple[str, list]:
        raise NotImplementedError  # pragma: no cover

    def _like_sql(self, column: str, pattern: str, casei: bool) -> tuple[str, list]:
        """SQL matching ``column`` against a CQL2 LIKE pattern, case-sensitively
        unless ``casei``."""
        raise NotImplementedError  # pragma: no cover

    def _intersects_sql(self, spec: LayerSpec, geom: BaseGeometry) -> tuple[str, list]:
        """SQL keeping the features whose geometry intersects ``geom`` (exactly)."""
        raise NotImplementedError  # pragma: no cover

    def _decode(self, blobs: list) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def _encode(self, geom: BaseGeometry, spec: LayerSpec):
        raise NotImplementedError  # pragma: no cover

    @staticmethod
    def _load_state(value) -> dict | None:
        """A history state as stored (JSON text, or already a dict) as a dict."""
        if value is None or isinstance(value, dict):
            return value
        return json.loads(value)

    # --- reading ------------------------------------------------------------------

    def _table_names(self) -> list[str]:
        """The layer tables present, asked once per store (they change only when
        :meth:`create` rebuilds them, which forgets this); a store written by an
        earlier release is brought up to date the first time (:meth:`_upgrade`)."""
        names = getattr(self, "_tables", None)
        if names is None:
            names = self.layer_names()
            self._upgrade(names)
            self._tables = names
        return names

    def _columns_of(self, conn, table: str) -> set[str]:  # pragma: no cover
        """The columns a layer table has."""
        raise NotImplementedError

    SQL_TYPES: dict[str, str] = {}

    def _upgrade(self, tables: list[str]) -> None:
        """Fields added to a layer since the store was made become empty columns, and
        values of a former vocabulary are renamed (precision ``address`` reads
        ``exact``), in one transaction; the data version does not move."""
        work = []
        for name in tables:
            spec = get_spec(name)
            have = self._columns_of(self.conn, name)
            work += [
                f"ALTER TABLE {q(name)} ADD COLUMN {q(f.name)} {self.SQL_TYPES[f.type]}"
                for f in spec.fields
                if f.name not in have
            ]
            for old, new in LEGACY_PRECISIONS.items():
                if (
                    "precision" in have
                    and self.conn.execute(
                        f"SELECT 1 FROM {q(name)} WHERE precision = {self.P} LIMIT 1",
                        (old,),
                    ).fetchone()
                ):
                    work.append(
                        (
                            f"UPDATE {q(name)} SET precision = {self.P} "
                            f"WHERE precision = {self.P}",
                            (new, old),
                        )
                    )
        if not work:
            return
        with self._write() as conn:
            for item in work:
                statement, params = item if isinstance(item, tuple) else (item, ())
                conn.execute(statement, params)

    def _spec(self, layer: str) -> LayerSpec:
        spec = get_spec(layer)
        if layer not in self._table_names():
            raise NotFound(f"layer {layer!r} is not in the store")
        return spec

    def _where(
        self,
        spec: LayerSpec,
        bbox: Bbox | None,
        filters: dict | None,
        published_only: bool,
        where: Filter | None = None,
    ) -> tuple[str, list]:
        clauses, params = [], []
        if bbox is not None:
            clause, values = self._bbox_clause(spec, bbox)
            clauses.append(clause)
            params += values
        for name, value in (filters or {}).items():
            if name not in spec.field_names:
                raise BadRequest(
                    f"unknown filter field {name!r} for layer {spec.name!r}"
                )
            clauses.append(f"{q(name)} = {self.P}")
            params.append(value)
        if where is not None:
            check_filter(where, spec)
            clause, values = self._filter_sql(spec, where)
            clauses.append(clause)
            params += values
        if published_only and spec.publishable:
            clauses.append(self.PUBLISHED)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _filter_sql(self, spec: LayerSpec, expr: Filter) -> tuple[str, list]:
        """A filter (see :mod:`.filters`) as SQL and its bound values."""
        if isinstance(expr, And | Or):
            if not expr.parts:
                return ("(1 = 1)" if isinstance(expr, And) else "(1 = 0)"), []
            parts = [self._filter_sql(spec, p) for p in expr.parts]
            joiner = " AND " if isinstance(expr, And) else " OR "
            return (
                "(" + joiner.join(sql for sql, _ in parts) + ")",
                [v for _, values in parts for v in values],
            )
        if isinstance(expr, Not):
            sql, values = self._filter_sql(spec, expr.part)
            return f"(NOT {sql})", values
        if isinstance(expr, Intersects):
            return self._intersects_sql(spec, expr.geometry)
        return self._predicate_sql(expr)

    def _predicate_sql(self, expr: Filter) -> tuple[str, list]:
        col, p, neg = q(expr.field), self.P, getattr(expr, "negate", False)
        if getattr(expr, "casei", False) and not isinstance(expr, Like):
            col, p = f"{self.LOWER}({col})", f"{self.LOWER}({p})"
        if isinstance(expr, Compare):
            return f"({col} {expr.op} {p})", [plain_value(expr.value)]
        if isinstance(expr, IsNull):
            return f"({col} IS {'NOT ' if neg else ''}NULL)", []
        if isinstance(expr, In):
            marks = ", ".join([p] * len(expr.values))
            values = [plain_value(v) for v in expr.values]
            return f"({col} {'NOT ' if neg else ''}IN ({marks}))", values
        if isinstance(expr, Between):
            sql = f"({col} {'NOT ' if neg else ''}BETWEEN {p} AND {p})"
            return sql, [expr.low, expr.high]
        sql, values = self._like_sql(col, expr.pattern, expr.casei)
        return (f"(NOT {sql})" if neg else sql), values

    def _select(self, cols: list[str], layer: str) -> str:
        return (
            f"SELECT {', '.join(q(c) for c in cols)}, {self.GEOM_OUT} FROM {q(layer)}"
        )

    def read(
        self,
        layer: str,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        published_only: bool = False,
        columns: list[str] | None = None,
        where: Filter | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> gpd.GeoDataFrame:
        spec = self._spec(layer)
        where_sql, params = self._where(spec, bbox, filters, published_only, where)
        cols = self._columns(spec, columns)
        page = ""
        if limit is not None:
            page = f" LIMIT {self.P} OFFSET {self.P}"
            params = [*params, int(limit), int(offset)]
        rows = self.conn.execute(
            f"{self._select(cols, layer)}{where_sql} ORDER BY fid{page}", params
        ).fetchall()
        return self._frame(spec, cols, rows)

    def _frame(self, spec: LayerSpec, cols: list[str], rows: list) -> gpd.GeoDataFrame:
        geoms = self._decode([r[-1] for r in rows]) if rows else []
        data = pd.DataFrame([r[:-1] for r in rows], columns=cols)
        for f in spec.fields:
            if f.name not in data.columns:
                continue
            if f.type == "bool":  # SQLite keeps 0/1
                data[f.name] = (
                    data[f.name]
                    .map(lambda v: None if v is None or pd.isna(v) else bool(v))
                    .astype(object)
                )
            elif f.type == "int":  # integers stay integers when some are missing
                data[f.name] = data[f.name].astype("Int64")
        return gpd.GeoDataFrame(data, geometry=list(geoms), crs="EPSG:4326")

    def count(
        self,
        layer: str,
        published_only: bool = False,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        where: Filter | None = None,
    ) -> int:
        spec = self._spec(layer)
        where_sql, params = self._where(spec, bbox, filters, published_only, where)
        return self.conn.execute(
            f"SELECT count(*) FROM {q(layer)}{where_sql}", params
        ).fetchone()[0]

    def get(self, layer: str, fid: str) -> dict:
        return self._get(self._spec(layer), fid)

    def _get(self, spec: LayerSpec, fid: str, lock: bool = False) -> dict:
        cols = spec.field_names + ["version"]
        row = self.conn.execute(
            f"{self._select(cols, spec.name)} WHERE id = {self.P}"
            f"{self.LOCK if lock else ''}",
            (fid,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no feature {fid!r} in layer {spec.name!r}")
        first = self._frame(spec, cols, [row]).iloc[0]
        props = {n: plain_value(first[n]) for n in spec.field_names}
        return {
            "id": fid,
            "properties": props,
            "geometry": first.geometry,
            "version": int(first["version"]),
        }

    # --- writing ------------------------------------------------------------------

    def _insert(self, conn, spec: LayerSpec, rows: list[dict], geoms: list) -> None:
        names = spec.field_names
        values = ", ".join([self.P] * len(names) + [self.GEOM_IN])
        sql = (
            f"INSERT INTO {q(spec.name)} ({', '.join(q(n) for n in names)}, geom) "
            f"VALUES ({values})"
        )
        self._executemany(
            conn,
            sql,
            [
                [plain_value(r.get(n)) for n in names] + [self._encode(g, spec)]
                for r, g in zip(rows, geoms, strict=True)
            ],
        )

    @staticmethod
    def _executemany(conn, sql: str, rows: list) -> None:
        conn.executemany(sql, rows)

    def _insert_frame(self, conn, spec: LayerSpec, frame: gpd.GeoDataFrame) -> None:
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        self._insert(
            conn,
            spec,
            frame.drop(columns="geometry").to_dict("records"),
            list(frame.geometry),
        )

    def _set(
        self, conn, spec: LayerSpec, fid: str, props: dict, geom: BaseGeometry
    ) -> None:
        sets = ", ".join(f"{q(n)} = {self.P}" for n in spec.field_names)
        conn.execute(
            f"UPDATE {q(spec.name)} SET {sets}, geom = {self.GEOM_IN}, "
            f"version = version + 1 WHERE id = {self.P}",
            [plain_value(props.get(n)) for n in spec.field_names]
            + [self._encode(geom, spec), fid],
        )

    def _log(
        self,
        conn,
        layer: str,
        fid: str,
        action: str,
        author: str | None,
        before: dict | None,
        after: dict | None,
    ) -> None:
        p = self.P
        conn.execute(
            "INSERT INTO mapapp_history (layer, feature_id, version, action, author, at, "
            f"before, after) VALUES ({p}, {p}, {p}, {p}, {p}, {self.NOW}, {p}, {p})",
            (
                layer,
                fid,
                (after or before or {}).get("version"),
                action,
                author,
                history_state(before),
                history_state(after),
            ),
        )

    def _exists(self, conn, layer: str, fid: str) -> bool:
        return (
            conn.execute(
                f"SELECT 1 FROM {q(layer)} WHERE id = {self.P}", (fid,)
            ).fetchone()
            is not None
        )

    def add(
        self,
        layer: str,
        properties: dict,
        geometry: BaseGeometry,
        author: str | None = None,
    ) -> dict:
        spec = self._spec(layer)
        self._validate(spec, properties, geometry, f"new feature in {layer}")
        with self._write() as conn:
            if self._exists(conn, layer, properties["id"]):
                raise Conflict(
                    f"a feature with id {properties['id']!r} already exists "
                    f"in {layer!r}"
                )
            self._insert(conn, spec, [properties], [geometry])
            saved = self._get(spec, properties["id"])
            self._log(conn, layer, saved["id"], "add", author, None, saved)
            self._bump(conn, layer)
        return saved

    def update(
        self,
        layer: str,
        fid: str,
        properties: dict | None = None,
        geometry: BaseGeometry | None = None,
        expected_version: int | None = None,
        author: str | None = None,
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
            self._bump(conn, layer)
        return saved

    def delete(
        self,
        layer: str,
        fid: str,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> None:
        spec = self._spec(layer)
        with self._write() as conn:
            current = self._get(spec, fid, lock=True)
            self._check_version(current, expected_version)
            conn.execute(f"DELETE FROM {q(layer)} WHERE id = {self.P}", (fid,))
            self._log(conn, layer, fid, "delete", author, current, None)
            self._bump(conn, layer)

    def history(self, layer: str, fid: str) -> list[dict]:
        self._spec(layer)
        rows = self.conn.execute(
            "SELECT hid, version, action, author, at, before, after FROM mapapp_history "
            f"WHERE layer = {self.P} AND feature_id = {self.P} ORDER BY hid DESC",
            (layer, fid),
        ).fetchall()
        return [
            {
                "id": r[0],
                "version": r[1],
                "action": r[2],
                "author": r[3],
                "at": r[4],
                "before": self._load_state(r[5]),
                "after": self._load_state(r[6]),
            }
            for r in rows
        ]

    def deleted(self, layer: str) -> list[dict]:
        spec = self._spec(layer)
        rows = self.conn.execute(
            "SELECT h.hid, h.feature_id, h.author, h.at, h.before FROM mapapp_history h "
            f"WHERE h.layer = {self.P} AND h.action = 'delete' AND h.hid = (SELECT "
            "max(hid) FROM mapapp_history WHERE layer = h.layer AND feature_id = "
            "h.feature_id) ORDER BY h.hid DESC",
            (spec.name,),
        ).fetchall()
        return [
            {
                "history_id": r[0],
                "id": r[1],
                "author": r[2],
                "at": r[3],
                "state": self._load_state(r[4]),
            }
            for r in rows
        ]

    def restore(
        self,
        layer: str,
        fid: str,
        history_id: int,
        author: str | None = None,
        expected_version: int | None = None,
    ) -> dict:
        spec = self._spec(layer)
        p = self.P
        with self._write() as conn:
            row = conn.execute(
                f"SELECT action, before, after FROM mapapp_history WHERE hid = {p} AND "
                f"layer = {p} AND feature_id = {p}",
                (history_id, layer, fid),
            ).fetchone()
            if row is None:
                raise NotFound(
                    f"no history entry {history_id} for {fid!r} in {layer!r}"
                )
            state = self._load_state(row[2] if row[0] != "delete" else row[1])
            geom = shape(state["geometry"])
            props = {**state["properties"], "id": fid}
            self._validate(spec, props, geom, f"restored feature {fid} in {layer}")
            current = None
            if self._exists(conn, layer, fid):
                current = self._get(spec, fid, lock=True)
                self._check_version(current, expected_version)
                self._set(conn, spec, fid, props, geom)
            else:  # undelete: the version continues from the deleted one
                self._insert(conn, spec, [props], [geom])
                conn.execute(
                    f"UPDATE {q(layer)} SET version = {p} WHERE id = {p}",
                    ((state.get("version") or 0) + 1, fid),
                )
            saved = self._get(spec, fid)
            self._log(conn, layer, fid, "restore", author, current, saved)
            self._bump(conn, layer)
        return saved

    def replace_layers(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        with self._write() as conn:
            version = self.data_version()
            for name, frame in layers.items():
                spec = self._spec(name)
                conn.execute(f"DELETE FROM {q(name)}")
                self._insert_frame(conn, spec, frame)
                version = self._bump(conn, name)
        return version

    # --- accounts -----------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        p = self.P
        with self._write() as conn:
            if conn.execute(
                f"SELECT 1 FROM mapapp_users WHERE name = {p}", (name,)
            ).fetchone():
                raise Conflict(f"user {name!r} already exists")
            conn.execute(
                f"INSERT INTO mapapp_users VALUES ({p}, {p}, {p}, {self.NOW})",
                (name, role, password_hash),
            )

    def get_user(self, name: str) -> dict | None:
        row = self.conn.execute(
            "SELECT name, role, password_hash, created FROM mapapp_users WHERE "
            f"name = {self.P}",
            (name,),
        ).fetchone()
        return (
            None
            if row is None
            else dict(
                zip(("name", "role", "password_hash", "created"), row, strict=True)
            )
        )

    def list_users(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT name, role, created FROM mapapp_users ORDER BY name"
        ).fetchall()
        return [dict(zip(("name", "role", "created"), r, strict=True)) for r in rows]

    def remove_user(self, name: str) -> None:
        with self._write() as conn:
            if not conn.execute(
                f"DELETE FROM mapapp_users WHERE name = {self.P}", (name,)
            ).rowcount:
                raise NotFound(f"no user {name!r}")
            conn.execute(f'DELETE FROM mapapp_tokens WHERE "user" = {self.P}', (name,))

    def set_password(self, name: str, password_hash: str) -> None:
        with self._write() as conn:
            if not conn.execute(
                f"UPDATE mapapp_users SET password_hash = {self.P} WHERE "
                f"name = {self.P}",
                (password_hash, name),
            ).rowcount:
                raise NotFound(f"no user {name!r}")

    def add_token(self, name: str, token_hash: str) -> None:
        p = self.P
        with self._write() as conn:
            if not conn.execute(
                f"SELECT 1 FROM mapapp_users WHERE name = {p}", (name,)
            ).fetchone():
                raise NotFound(f"no user {name!r}")
            conn.execute(
                f"INSERT INTO mapapp_tokens VALUES ({p}, {p}, {self.NOW})",
                (token_hash, name),
            )

    def user_for_token(self, token_hash: str) -> dict | None:
        row = self.conn.execute(
            "SELECT u.name, u.role FROM mapapp_tokens t JOIN mapapp_users u ON "
            f'u.name = t."user" WHERE t.token_hash = {self.P}',
            (token_hash,),
        ).fetchone()
        return None if row is None else {"name": row[0], "role": row[1]}

    def note_failure(self, key: str, at: float) -> None:
        p = self.P
        with self._write() as conn:
            conn.execute(f"INSERT INTO mapapp_attempts VALUES ({p}, {p})", (key, at))
            conn.execute(f"DELETE FROM mapapp_attempts WHERE at < {p}", (at - 86400,))

    def failures_since(self, key: str, since: float) -> int:
        return self.conn.execute(
            f"SELECT count(*) FROM mapapp_attempts WHERE key = {self.P} AND "
            f"at >= {self.P}",
            (key, since),
        ).fetchone()[0]

    def clear_failures(self, key: str) -> None:
        with self._write() as conn:
            conn.execute(f"DELETE FROM mapapp_attempts WHERE key = {self.P}", (key,))
