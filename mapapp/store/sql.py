"""The part of the store contract both SQL backends share, written once.

A backend says how its SQL dialect differs (placeholders, the current time, row
locks, how geometries go in and out, how a bbox is queried), where its private
tables are (accounts, sessions, tokens, sign-in attempts, history) and provides the
connections, the write transactions and the data-version bump; this class does the
rest: reads, the versioned writes with their history, and restores; the
accounts and the history reads are the private contract (:mod:`.private`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..errors import AlreadyExists, BadRequest, Conflict, NotFound, TimeLimit
from ..layers import REGISTRY, LayerSpec, get_spec
from ..layers.builtin import LEGACY_PRECISIONS
from ..layers.validation import check_text
from ..limits import ID_PATTERN, QUERY_SECONDS
from ..text import slug
from .addresses import AddressTable
from .base import (
    LAYER_KEY,
    MARK_KEY,
    Bbox,
    Store,
    encode_values,
    history_state,
    new_mark,
    plain_value,
)
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
from .private import SqlPrivateStore

HISTORY_COLUMNS = "layer, feature_id, version, action, author, at, before, after, note"
_CASTS = {"str": str, "int": int, "float": float, "bool": bool}


def q(name: str) -> str:
    """Quote an SQL identifier (names come from the registry, never from a request)."""
    return '"' + name.replace('"', '""') + '"'


def columns_sql(spec: LayerSpec, sql_types: dict[str, str]) -> str:
    """The field columns of a layer table, in a backend's SQL types (``id`` is
    unique and never null)."""
    return ", ".join(
        f"{q(f.name)} {sql_types[f.type]}"
        + (" NOT NULL UNIQUE" if f.name == "id" else "")
        for f in spec.fields
    )


class SqlStore(AddressTable, Store):
    """Shared implementation over DB-API connections; see the module docstring."""

    P = "?"  # the driver's placeholder
    NOW = ""  # SQL for the current UTC time as YYYY-MM-DDTHH:MM:SSZ
    LOCK = ""  # suffix locking a row read inside a write transaction
    GEOM_OUT = "geom"  # SQL selecting a geometry as bytes the backend decodes
    GEOM_IN = "?"  # SQL turning the geometry parameter into the column's value
    PUBLISHED = "published = 1"
    PRIVATE = ""  # prefix of the private tables (a schema on PostGIS)
    HISTORY_OUT = "mapapp_history"  # where a write records its history entry
    LOWER = "lower"  # SQL function folding the case of a text value

    # --- what a backend provides ------------------------------------------------------

    @property
    def conn(self):  # pragma: no cover - each backend defines it
        """The connection to the data (layers, data version)."""
        raise NotImplementedError

    @property
    def pconn(self):  # pragma: no cover
        """The connection to the private tables (accounts, history)."""
        raise NotImplementedError

    def _write(self) -> AbstractContextManager:  # pragma: no cover
        """One write transaction on the data, yielding its connection."""
        raise NotImplementedError

    def _pwrite(self) -> AbstractContextManager:  # pragma: no cover
        """One write transaction on the private tables, yielding its connection."""
        raise NotImplementedError

    def _snapshot(self) -> AbstractContextManager:  # pragma: no cover
        """One read transaction on the data: every read inside sees one state."""
        raise NotImplementedError

    def _bump(self, conn, layer: str | None = None) -> int:  # pragma: no cover
        """Increase the data version inside the write transaction; return it."""
        raise NotImplementedError

    def _after_write(self) -> None:
        """Called after each committed write (the GeoPackage moves its history)."""

    def _create_table(self, conn, spec: LayerSpec) -> None:  # pragma: no cover
        """Create the empty table of one layer inside a write transaction."""
        raise NotImplementedError

    def _present(self, conn) -> set[str]:  # pragma: no cover
        """The names of the layer tables, seen from ``conn``."""
        raise NotImplementedError

    @property
    def private(self) -> SqlPrivateStore:
        """Accounts and history, over this backend's private tables."""
        private = getattr(self, "_private", None)
        if private is None:
            private = self._private = SqlPrivateStore(self)
        return private

    def _lock(self, conn, key: str) -> None:
        """Serialise the writers that take ``key`` (inside a write transaction; the
        GeoPackage's writers are serialised anyway)."""

    def _lock_ids(self, conn, layer: str) -> None:
        """Serialise the writers that add ids to ``layer``."""
        self._lock(conn, f"ids.{layer}")

    def _bbox_clause(self, spec: LayerSpec, bbox: Bbox) -> tuple[str, list]:
        """SQL keeping the features whose geometry meets the box (exactly)."""
        raise NotImplementedError  # pragma: no cover

    # --- time budget ------------------------------------------------------------------

    @contextmanager
    def time_budget(self, seconds: float):
        """Filtered reads of this thread inside the block stop once ``seconds`` have
        passed in all (TimeLimit), so a costly request holds no worker for long."""
        previous = getattr(self._local, "deadline", None)
        deadline = time.monotonic() + seconds
        self._local.deadline = deadline if previous is None else min(previous, deadline)
        self._local.budget = seconds if previous is None else self._local.budget
        try:
            yield
        finally:
            self._local.deadline = previous

    def _bounded(self, filtered: bool) -> AbstractContextManager:
        """The time budget of a read: the block's (:meth:`time_budget`), else
        :data:`QUERY_SECONDS` for a read a request filters; none for whole layers."""
        if not filtered:
            return nullcontext()
        if getattr(self._local, "deadline", None) is None:
            return self._budgeted(QUERY_SECONDS)
        return self._interrupting()

    @contextmanager
    def _budgeted(self, seconds: float):
        with self.time_budget(seconds), self._interrupting():
            yield

    def _interrupting(self) -> AbstractContextManager:
        """Stop the database's work at this thread's deadline (TimeLimit)."""
        return nullcontext()  # pragma: no cover - each backend defines it

    def _check_time(self) -> None:
        """TimeLimit when this thread's deadline has passed (work done in Python)."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            raise self._time_limit()

    def _time_limit(self) -> TimeLimit:
        seconds = getattr(self._local, "budget", QUERY_SECONDS)
        return TimeLimit(
            f"the query took more than {seconds:g} s and was stopped (the limit "
            "QUERY_SECONDS): narrow the bbox or the filter, or try again later"
        )

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

    def _t(self, name: str) -> str:
        """The SQL name of the private table ``mapapp_<name>``."""
        return f"{self.PRIVATE}mapapp_{name}"

    @staticmethod
    def _load_state(value) -> dict | None:
        """A history state as stored (JSON text, or already a dict) as a dict."""
        if value is None or isinstance(value, dict):
            return value
        return json.loads(value)

    # --- reading ------------------------------------------------------------------

    def _table_names(self) -> list[str]:
        """The layer tables, asked once per store (they change only when
        :meth:`create` rebuilds them, which forgets this); a store written by an
        earlier release, or before a layer was registered, is brought up to date
        the first time, and again when a layer is registered later
        (:meth:`_upgrade`)."""
        names = getattr(self, "_tables", None)
        if names is None or any(n not in names for n in REGISTRY):
            self._upgrade(self.layer_names())
            names = self._tables = self.layer_names()
        return names

    def _columns_of(self, conn, table: str) -> set[str]:  # pragma: no cover
        """The columns a layer table has."""
        raise NotImplementedError

    SQL_TYPES: dict[str, str] = {}

    def _upgrade(self, tables: list[str]) -> None:
        """Layers registered since the store was made get their empty table, fields
        added to a layer become empty columns, and values of a former vocabulary are
        renamed (precision ``address`` reads ``exact``), in one transaction; the data
        version does not move (an empty layer changes no answer)."""
        missing = [spec for name, spec in REGISTRY.items() if name not in tables]
        if missing and self.exists():
            with self._write() as conn:
                self._lock(conn, "tables")  # another server may be adding them too
                present = self._present(conn)
                for spec in missing:
                    if spec.name not in present:
                        self._create_table(conn, spec)
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

    @staticmethod
    def _fid(spec: LayerSpec, fid: str) -> str:
        """``fid`` when it can be an id at all, else NotFound (nothing was asked of
        the database: a NUL byte or a lone surrogate would upset it)."""
        if not isinstance(fid, str) or not ID_PATTERN.fullmatch(fid):
            raise NotFound(f"no feature {fid!r:.60} in layer {spec.name!r}")
        return fid

    @staticmethod
    def _filter_value(spec: LayerSpec, name: str, value: object) -> object:
        """A filter value both backends compare the same way, or BadRequest."""
        if isinstance(value, str) and check_text(value):
            raise BadRequest(f"{name}: not a value this field can hold")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise BadRequest(f"{name}: {value} is out of range")
        if isinstance(value, float) and not math.isfinite(value):
            raise BadRequest(f"{name}: not a finite number")
        return value

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
            if not all(math.isfinite(v) for v in bbox):
                raise BadRequest("bbox: four finite numbers are needed")
            clause, values = self._bbox_clause(spec, bbox)
            clauses.append(clause)
            params += values
        for name, value in (filters or {}).items():
            if name not in spec.field_names:
                raise BadRequest(
                    f"unknown filter field {name!r} for layer {spec.name!r}"
                )
            clauses.append(f"{q(name)} = {self.P}")
            params.append(self._filter_value(spec, name, value))
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
        filtered = bbox is not None or bool(filters) or where is not None
        with self._bounded(filtered):
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

    def read_versioned_chunks(
        self,
        layer: str,
        published_only: bool = False,
        columns: list[str] | None = None,
        size: int = 50_000,
    ) -> tuple[int, Iterator[gpd.GeoDataFrame]]:
        chunks = self._chunks(layer, published_only, columns, size)
        return next(chunks), chunks

    def _chunks(
        self, layer: str, published_only: bool, columns: list[str] | None, size: int
    ) -> Iterator:
        """The layer's version, then its frames, all in one read transaction."""
        spec = self._spec(layer)
        where_sql, params = self._where(spec, None, None, published_only)
        cols = self._columns(spec, columns)
        sql = f"{self._select(cols, layer)}{where_sql} ORDER BY fid"
        with self._snapshot():
            yield self.layer_version(layer)
            for rows in self._fetch_chunks(sql, params, size):
                yield self._frame(spec, cols, rows)

    def _fetch_chunks(self, sql: str, params: list, size: int) -> Iterator[list]:
        """The rows of a query ``size`` at a time (inside a read transaction)."""
        cursor = self.conn.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield rows

    def read_arrays(
        self, layer: str, columns: list[str], chunk: int = 50_000
    ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, list]]]:
        spec = self._spec(layer)
        cols = self._columns(spec, columns)[1:]  # no id
        known = {c: {} for c in cols}
        parts: dict[str, list[np.ndarray]] = {c: [] for c in cols}
        xys = []
        for xy, rows in self._point_chunks(cols, layer, chunk):
            xys.append(xy)
            for i, c in enumerate(cols):
                codes, _ = encode_values([r[i] for r in rows], known[c])
                parts[c].append(codes)
            del rows
        bools = {f.name for f in spec.fields if f.type == "bool"}
        fields = {}
        for c in cols:
            values = list(known[c])
            if c in bools:  # SQLite keeps 0/1
                values = [None if v is None else bool(v) for v in values]
            codes = np.concatenate(parts[c]) if parts[c] else np.zeros(0, np.int32)
            fields[c] = (codes, values)
        xy = np.concatenate(xys) if xys else np.zeros((0, 2))
        return xy, fields

    @staticmethod
    def _find_points(blobs: list) -> tuple[np.ndarray, np.ndarray]:
        """(xy, found) of the blobs that are plain 2-D points, read at their
        offsets (store/points.py); a backend without such a reader finds none."""
        return np.full((len(blobs), 2), np.nan), np.zeros(len(blobs), dtype=bool)

    def _points_xy(self, blobs: list) -> np.ndarray:
        """(n, 2) coordinates of stored points (NaN for a missing or empty one)."""
        xy, found = self._find_points(blobs)
        rest = np.flatnonzero(~found)
        if len(rest):
            geoms = self._decode([blobs[i] for i in rest])
            there = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            geoms, rest = geoms[there], rest[there]
            xy[rest] = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
        return xy

    def read_versioned(
        self,
        layer: str,
        published_only: bool = False,
        columns: list[str] | None = None,
    ) -> tuple[int, gpd.GeoDataFrame]:
        with self._snapshot():
            version = self.layer_version(layer)
            frame = self.read(layer, published_only=published_only, columns=columns)
        return version, frame

    def _point_chunks(self, cols: list[str], layer: str, chunk: int):
        """(coordinates, rows starting with ``cols``) of a point layer in the order
        of its rows, ``chunk`` rows at a time."""
        cursor = self.conn.execute(f"{self._select(cols, layer)} ORDER BY fid")
        while rows := cursor.fetchmany(chunk):
            yield self._points_xy([r[-1] for r in rows]), rows

    def layer_versions(self) -> dict[str, int]:
        """Each layer's version (the data version of its last change), and the data
        version under ``""``; a layer never written since this was recorded has the
        data version."""
        rows = self.conn.execute(
            "SELECT key, value FROM mapapp_meta WHERE key = 'data_version' "
            f"OR key LIKE '{LAYER_KEY}%'"
        ).fetchall()
        found = {k.removeprefix(LAYER_KEY): int(v) for k, v in rows}
        data = found.pop("data_version", 0)
        return {name: found.get(name, data) for name in REGISTRY} | {"": data}

    def layer_version(self, layer: str) -> int:
        versions = self.layer_versions()
        return versions.get(layer, versions[""])

    def layer_mark(self, layer: str) -> tuple[int, str]:
        """(version, mark) of a layer in one read; a layer of a store made before
        marks gets one now (kept until its next change)."""
        keys = ("data_version", f"{LAYER_KEY}{layer}", f"{MARK_KEY}{layer}")
        rows = self._meta(keys)
        if not rows.get(keys[2]):
            with self._write() as conn:
                conn.execute(
                    f"INSERT INTO mapapp_meta VALUES ({self.P}, {self.P}) "
                    "ON CONFLICT DO NOTHING",
                    (keys[2], new_mark()),
                )
            rows = self._meta(keys)
        return int(rows.get(keys[1], rows[keys[0]])), rows[keys[2]]

    def _meta(self, keys: tuple[str, ...]) -> dict[str, str]:
        """The values of these mapapp_meta keys (those present), in one read."""
        marks = ", ".join([self.P] * len(keys))
        sql = f"SELECT key, value FROM mapapp_meta WHERE key IN ({marks})"
        return dict(self.conn.execute(sql, keys).fetchall())

    def _frame(self, spec: LayerSpec, cols: list[str], rows: list) -> gpd.GeoDataFrame:
        geoms = self._decode([r[-1] for r in rows]) if rows else []
        data = pd.DataFrame([r[:-1] for r in rows], columns=cols)
        for f in spec.fields:
            if f.name not in data.columns:
                continue
            if f.type == "bool":  # SQLite keeps 0/1
                raw = data[f.name]
                missing = raw.isna().to_numpy()
                flags = raw.where(~missing, 0).astype(bool).to_numpy().astype(object)
                flags[missing] = None
                data[f.name] = flags
            elif f.type == "int":  # integers stay integers when some are missing
                data[f.name] = data[f.name].astype("Int64")
        geometry = gpd.GeoSeries(geoms if len(rows) else [], crs="EPSG:4326")
        return gpd.GeoDataFrame(data, geometry=geometry.values, crs="EPSG:4326")

    def count(
        self,
        layer: str,
        published_only: bool = False,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        where: Filter | None = None,
    ) -> int:
        spec = self._spec(layer)
        filtered = bbox is not None or bool(filters) or where is not None
        with self._bounded(filtered):
            where_sql, params = self._where(spec, bbox, filters, published_only, where)
            return self.conn.execute(
                f"SELECT count(*) FROM {q(layer)}{where_sql}", params
            ).fetchone()[0]

    def get(self, layer: str, fid: str) -> dict:
        spec = self._spec(layer)
        return self._get(spec, self._fid(spec, fid))

    def _get(self, spec: LayerSpec, fid: str, lock: bool = False) -> dict:
        cols = spec.field_names + ["version"]
        row = self.conn.execute(
            f"{self._select(cols, spec.name)} WHERE id = {self.P}"
            f"{self.LOCK if lock else ''}",
            (fid,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no feature {fid!r} in layer {spec.name!r}")
        return self._features(spec, cols, [row])[0]

    def _features(self, spec: LayerSpec, cols: list[str], rows: list) -> list[dict]:
        """Rows as features ``{"id", "properties", "geometry", "version"}`` whose
        values have their field's type (an int stays an int beside empty values)."""
        frame = self._frame(spec, cols, rows)
        casts = {f.name: _CASTS[f.type] for f in spec.fields}
        out = []
        for row in frame.itertuples(index=False):
            values = row._asdict()
            props = {}
            for name in spec.field_names:
                value = plain_value(values[name])
                props[name] = None if value is None else casts[name](value)
            out.append(
                {
                    "id": props["id"],
                    "properties": props,
                    "geometry": values["geometry"],
                    "version": int(values["version"]),
                }
            )
        return out

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
        frame = self._wgs84(frame)
        self._insert(
            conn,
            spec,
            frame.drop(columns="geometry").to_dict("records"),
            list(frame.geometry),
        )

    @staticmethod
    def _wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            return frame.to_crs(4326)
        return frame

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

    def _log_rows(self, conn, rows: list[tuple]) -> None:
        """Record history entries ``(layer, feature_id, action, author, before,
        after, note)`` in the current write transaction."""
        p = self.P
        self._executemany(
            conn,
            f"INSERT INTO {self.HISTORY_OUT} ({HISTORY_COLUMNS}) VALUES "
            f"({p}, {p}, {p}, {p}, {p}, {self.NOW}, {p}, {p}, {p})",
            [
                (
                    layer,
                    fid,
                    (after or before or {}).get("version"),
                    action,
                    author,
                    self._state(fid, before),
                    self._state(fid, after),
                    note,
                )
                for layer, fid, action, author, before, after, note in rows
            ],
        )

    @staticmethod
    def _state(fid: str, value: dict | None) -> str | None:
        """A feature's state (or, for a whole-layer entry, its counts) as JSON."""
        if fid or value is None:
            return history_state(value)
        return json.dumps(value)

    def _log(self, conn, layer, fid, action, author, before, after) -> None:
        self._log_rows(conn, [(layer, fid, action, author, before, after, None)])

    def _exists(self, conn, layer: str, fid: str) -> bool:
        return (
            conn.execute(
                f"SELECT 1 FROM {q(layer)} WHERE id = {self.P}", (fid,)
            ).fetchone()
            is not None
        )

    def _free_id(self, conn, spec: LayerSpec, props: dict) -> str:
        """A new id made from the feature's name: ``le-numerique``, then ``-2``…"""
        base = slug(props.get(spec.label_field)) or spec.name
        candidate, n = base, 1
        while self._exists(conn, spec.name, candidate):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def add(
        self,
        layer: str,
        properties: dict,
        geometry: BaseGeometry,
        author: str | None = None,
    ) -> dict:
        spec = self._spec(layer)
        props = dict(properties)
        with self._write() as conn:
            self._lock_ids(conn, layer)
            if props.get("id") in (None, ""):
                props["id"] = self._free_id(conn, spec, props)
            self._validate(spec, props, geometry, f"new feature in {layer}")
            if self._exists(conn, layer, props["id"]):
                raise AlreadyExists(
                    f"a feature with id {props['id']!r} already exists in {layer!r}"
                )
            self._insert(conn, spec, [props], [geometry])
            saved = self._get(spec, props["id"])
            self._log(conn, layer, saved["id"], "add", author, None, saved)
            self._bump(conn, layer)
        self._after_write()
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
        fid = self._fid(spec, fid)
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
        self._after_write()
        return saved

    def delete(
        self,
        layer: str,
        fid: str,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> None:
        spec = self._spec(layer)
        fid = self._fid(spec, fid)
        with self._write() as conn:
            current = self._get(spec, fid, lock=True)
            self._check_version(current, expected_version)
            conn.execute(f"DELETE FROM {q(layer)} WHERE id = {self.P}", (fid,))
            self._log(conn, layer, fid, "delete", author, current, None)
            self._bump(conn, layer)
        self._after_write()

    # --- history ------------------------------------------------------------------

    def _history_conn(self):
        """The connection that reads the complete history (see the backends)."""
        return self.pconn

    def restore(
        self,
        layer: str,
        fid: str,
        history_id: int,
        author: str | None = None,
        expected_version: int | None = None,
    ) -> dict:
        spec = self._spec(layer)
        fid = self._fid(spec, fid)
        state = self.private.state_at(layer, fid, history_id)
        geom = shape(state["geometry"])
        props = {**state["properties"], "id": fid}
        self._validate(spec, props, geom, f"restored feature {fid} in {layer}")
        with self._write() as conn:
            self._lock_ids(conn, layer)
            current = None
            if self._exists(conn, layer, fid):
                current = self._get(spec, fid, lock=True)
                self._check_version(current, expected_version)
                self._set(conn, spec, fid, props, geom)
            else:  # undelete: the version continues from the deleted one
                self._insert(conn, spec, [props], [geom])
                conn.execute(
                    f"UPDATE {q(layer)} SET version = {self.P} WHERE id = {self.P}",
                    ((state.get("version") or 0) + 1, fid),
                )
            saved = self._get(spec, fid)
            self._log(conn, layer, fid, "restore", author, current, saved)
            self._bump(conn, layer)
        self._after_write()
        return saved

    def undo_import(
        self, layer: str, history_id: int, author: str | None = None
    ) -> dict:
        spec = self._spec(layer)
        if not spec.editable:
            raise BadRequest(f"{layer}: imports of this layer replace it whole")
        entries = self.private.import_entries(layer, history_id)
        note = f"undo of {entries[0]['note']}"[:500]
        counts = {"removed": 0, "restored": 0, "undeleted": 0}
        with self._write() as conn:
            self._lock_ids(conn, layer)
            now = self._unchanged_since(conn, spec, entries)
            log = []
            for e in entries:
                fid, before = e["feature_id"], e["before"]
                if e["action"] == "add":
                    conn.execute(f"DELETE FROM {q(layer)} WHERE id = {self.P}", (fid,))
                    log.append((layer, fid, "delete", author, now[fid], None, note))
                    counts["removed"] += 1
                    continue
                props = {**before["properties"], "id": fid}
                geom = shape(before["geometry"])
                if e["action"] == "delete":
                    self._insert(conn, spec, [props], [geom])
                    conn.execute(
                        f"UPDATE {q(layer)} SET version = {self.P} WHERE id = {self.P}",
                        ((before.get("version") or 0) + 1, fid),
                    )
                    counts["undeleted"] += 1
                else:
                    self._set(conn, spec, fid, props, geom)
                    counts["restored"] += 1
                log.append(
                    (
                        layer,
                        fid,
                        "restore",
                        author,
                        now[fid],
                        self._get(spec, fid),
                        note,
                    )
                )
            self._log_rows(conn, log)
            self._bump(conn, layer)
        self._after_write()
        return counts

    def _unchanged_since(self, conn, spec: LayerSpec, entries: list[dict]) -> dict:
        """The current state (None: absent) of each feature an import wrote, locked;
        Conflict naming those whose version is no longer the import's."""
        now = {
            e["feature_id"]: self._get(spec, e["feature_id"], lock=True)
            if self._exists(conn, spec.name, e["feature_id"])
            else None
            for e in entries
        }
        changed = sorted(
            {
                e["feature_id"]
                for e in entries
                if (now[e["feature_id"]] or {}).get("version")
                != (e["after"] or {}).get("version")
            }
        )
        if changed:
            raise Conflict(f"changed since the import: {', '.join(changed[:10])}")
        return now

    # --- whole layers -----------------------------------------------------------------

    def replace_layers(
        self,
        layers: dict[str, gpd.GeoDataFrame],
        author: str | None = None,
        note: str | None = None,
    ) -> int:
        with self._write() as conn:
            version = self.data_version()
            for name, frame in layers.items():
                spec = self._spec(name)
                self._lock_ids(conn, name)
                if spec.editable:
                    self._replace_tracked(conn, spec, self._wgs84(frame), author, note)
                else:
                    self._replace_whole(conn, spec, self._wgs84(frame), author, note)
                version = self._bump(conn, name)
        self._after_write()
        return version

    def _replace_whole(self, conn, spec, frame, author, note) -> None:
        """An official layer: rows replaced at once, one history entry for the
        layer saying how many features came and went."""
        before = self.count(spec.name)
        conn.execute(f"DELETE FROM {q(spec.name)}")
        self._insert_frame(conn, spec, frame)
        counts = {"features_before": before, "features_after": len(frame)}
        self._log_rows(conn, [(spec.name, "", "import", author, None, counts, note)])

    def _replace_tracked(self, conn, spec, frame, author, note) -> None:
        """An edited layer: only what changes is written, each change in the history
        (removed features can be restored); untouched features keep their version."""
        current = {f["id"]: f for f in self._all(spec)}
        incoming = {}
        for rec, geom in zip(
            frame.drop(columns="geometry").to_dict("records"),
            frame.geometry,
            strict=True,
        ):
            props = {n: plain_value(rec.get(n)) for n in spec.field_names}
            incoming[props["id"]] = (props, geom)
        entries = []
        for fid, old in current.items():
            if fid not in incoming:
                conn.execute(f"DELETE FROM {q(spec.name)} WHERE id = {self.P}", (fid,))
                entries.append((spec.name, fid, "delete", author, old, None, note))
        for fid, (props, geom) in incoming.items():
            old = current.get(fid)
            if old is None:
                self._insert(conn, spec, [props], [geom])
            elif not self._same_feature(spec, old, props, geom):
                self._set(conn, spec, fid, props, geom)
            else:
                continue
            action = "add" if old is None else "update"
            new = self._get(spec, fid)
            entries.append((spec.name, fid, action, author, old, new, note))
        self._log_rows(conn, entries)

    def _all(self, spec: LayerSpec) -> list[dict]:
        cols = spec.field_names + ["version"]
        rows = self.conn.execute(self._select(cols, spec.name)).fetchall()
        return self._features(spec, cols, rows) if rows else []

    def _same_feature(self, spec, old: dict, props: dict, geom) -> bool:
        if old["properties"] != props:
            return False
        return self._encode(old["geometry"], spec) == self._encode(geom, spec)
