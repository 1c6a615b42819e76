"""The store contract every backend implements.

A store holds the registered layers as features with an ``id`` (text, unique in its
layer, within the id rules of :mod:`mapapp.limits`), the layer's fields, a geometry
in WGS84 and a ``version`` (an integer that grows by one on each change of that
feature). The store as a whole has a *data version*, an integer that grows on every
successful write, so caches and ETags can key on it.

Every write is one transaction: it happens entirely or not at all, and is validated
against the layer's spec first, so a bad feature changes nothing. Both backends
refuse the same values (validation and limits are shared), so a body that one
stores the other stores too.

Every layer registered when the store opens has its table: one registered after
the store was made gets an empty table the first time the store is used (and fields
added to a layer become empty columns), so a new layer never answers 404.

**Private data.** Accounts, sessions, API tokens, sign-in attempts and the edit
history are a contract of their own (:class:`~.private.PrivateStore`, reached as
``store.private``), kept apart from the layers: the data contract below never
touches an account. Every change is recorded in the history in the same transaction
as the change (see :mod:`.private`).
"""

from __future__ import annotations

import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from ..errors import BadRequest, Conflict, StoreError, ValidationError
from ..layers import REGISTRY, LayerSpec, validate_records
from ..values import plain_value
from .filters import Filter
from .private import PrivateStore

# mapapp_meta keys of the layers' versions (``layer_version:companies``)
LAYER_KEY = "layer_version:"
# mapapp_meta keys of the layers' marks (``layer_mark:companies``, Store.layer_mark)
MARK_KEY = "layer_mark:"
Bbox = tuple[float, float, float, float]


def new_mark() -> str:
    """A layer's mark for one of its versions (Store.layer_mark)."""
    return secrets.token_hex(8)


def history_state(feature: dict | None) -> str | None:
    """A feature (as :meth:`Store.get` returns it) as JSON for the history."""
    if feature is None:
        return None
    return json.dumps(
        {
            "properties": {k: plain_value(v) for k, v in feature["properties"].items()},
            "geometry": mapping(feature["geometry"]),
            "version": feature["version"],
        },
        ensure_ascii=False,
    )


class Store(ABC):
    """Abstract store; see the module docstring for the data model.

    The concrete helpers below (validation, version checks, column choice) are shared
    by every backend, so they all refuse the same things with the same messages.
    """

    area: Bbox

    @classmethod
    @abstractmethod
    def from_url(cls, url: str, area: Bbox) -> Store:
        """The store named by ``url`` (a URL of a scheme :data:`BACKENDS` gives this
        backend), not yet opened: nothing is read or written before its first use."""

    @property
    @abstractmethod
    def private(self) -> PrivateStore:
        """The store's private data: accounts, sessions, tokens, attempts, history."""

    def _validate(
        self, spec: LayerSpec, props: dict, geom: BaseGeometry, source: str
    ) -> None:
        problems = validate_records(
            [{"properties": props, "geometry": geom}], spec, self.area, source
        )
        if problems:
            raise ValidationError(problems)

    @staticmethod
    def _check_version(current: dict, expected: int | None) -> None:
        if expected is not None and current["version"] != expected:
            raise Conflict(
                f"feature {current['id']!r} is at version {current['version']}, "
                f"not {expected}: someone saved it first",
                current=current,
            )

    @staticmethod
    def _columns(spec: LayerSpec, columns: list[str] | None) -> list[str]:
        """The columns a read returns: every field and the version, or ``id`` and the
        asked ones (BadRequest for an unknown one)."""
        if columns is None:
            return spec.field_names + ["version"]
        unknown = set(columns) - set(spec.field_names) - {"version"}
        if unknown:
            raise BadRequest(f"unknown field(s) {sorted(unknown)} in {spec.name!r}")
        return ["id"] + [c for c in columns if c != "id"]

    @abstractmethod
    def exists(self) -> bool:
        """True when the store has been initialised (holds the layer tables)."""

    @abstractmethod
    def layer_names(self) -> list[str]:
        """Names of the layers the store holds."""

    @abstractmethod
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
        """Read a layer as a GeoDataFrame (EPSG:4326, columns: fields + ``version``).

        Types are the layer's: integer fields are pandas ``Int64`` (missing values
        do not turn them into floats), booleans are ``True``/``False``/``None``, text
        stays text (``"01"`` keeps its zero).

        ``columns`` limits the fields read (``id`` always comes), for speed.
        ``bbox`` (min_lon, min_lat, max_lon, max_lat) keeps features whose envelope
        meets it; ``filters`` maps field names to required values (equality);
        ``where`` is a filter expression (:mod:`.filters`) evaluated by the
        database, with SQL's null semantics; ``published_only`` drops features of
        publishable layers not marked published. Features come in insertion order;
        ``limit`` and ``offset`` take one page of them.
        Unknown layers raise NotFound; unknown fields, and values of the wrong type
        in ``where``, BadRequest.
        """

    def read_chunks(
        self,
        layer: str,
        published_only: bool = False,
        columns: list[str] | None = None,
        size: int = 50_000,
    ) -> Iterator[gpd.GeoDataFrame]:
        """:meth:`read` of a whole layer as frames of at most ``size`` features,
        in the same order, all read in one transaction: together they are the
        layer at one version, whatever is written meanwhile, and a large layer's
        file is written a chunk at a time. Each frame's index starts at 0, and a
        column a chunk holds no value of may have another dtype (its values are
        the same: :func:`~mapapp.values.plain_column`).
        Backends without chunked reads give the slices of one read."""
        _version, chunks = self.read_versioned_chunks(
            layer, published_only=published_only, columns=columns, size=size
        )
        return chunks

    def read_versioned_chunks(
        self,
        layer: str,
        published_only: bool = False,
        columns: list[str] | None = None,
        size: int = 50_000,
    ) -> tuple[int, Iterator[gpd.GeoDataFrame]]:
        """(layer version, the frames of :meth:`read_chunks`) read in one
        transaction, as :meth:`read_versioned` reads them whole: a build made a
        chunk at a time is labelled with the version its chunks are. The
        transaction opens here and ends with the last frame (or when the frames
        are let go of unread)."""
        version, frame = self.read_versioned(
            layer, published_only=published_only, columns=columns
        )
        chunks = (
            frame.iloc[start : start + size].reset_index(drop=True)
            for start in range(0, len(frame), size)
        )
        return version, chunks

    @abstractmethod
    def count(
        self,
        layer: str,
        published_only: bool = False,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        where: Filter | None = None,
    ) -> int:
        """Number of features of a layer matching the same arguments as :meth:`read`."""

    @abstractmethod
    def get(self, layer: str, fid: str) -> dict:
        """One feature as ``{"id", "properties", "geometry", "version"}``; NotFound."""

    @abstractmethod
    def add(
        self,
        layer: str,
        properties: dict,
        geometry: BaseGeometry,
        author: str | None = None,
    ) -> dict:
        """Validate and insert one feature; return it as :meth:`get` would.

        Without an ``id`` in ``properties`` a unique one is made from the feature's
        name (``le-numerique``, ``le-numerique-2``…) inside the write, so concurrent
        adds of one name get distinct ids. An id in use raises AlreadyExists (409).
        Every change (add, update, delete, restore) is recorded in the history, with
        ``author`` and the state before and after, in the same transaction.
        """

    @abstractmethod
    def update(
        self,
        layer: str,
        fid: str,
        properties: dict | None = None,
        geometry: BaseGeometry | None = None,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> dict:
        """Change some fields and/or the geometry of one feature.

        With ``expected_version``, raise Conflict when the stored version differs
        (someone else saved first). Return the feature as saved.
        """

    @abstractmethod
    def delete(
        self,
        layer: str,
        fid: str,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> None:
        """Remove one feature (Conflict on a stale ``expected_version``).

        Recoverable: the history keeps its last state (see :meth:`restore`).
        """

    @abstractmethod
    def restore(
        self,
        layer: str,
        fid: str,
        history_id: int,
        author: str | None = None,
        expected_version: int | None = None,
    ) -> dict:
        """Bring a feature back to the state of one history entry (re-adding it when
        deleted; :meth:`PrivateStore.state_at`); recorded as a change of its own.
        NotFound for an entry that is not this feature's."""

    # --- addresses: the Base Adresse Nationale of the study area (place search) ----

    @abstractmethod
    def undo_import(
        self, layer: str, history_id: int, author: str | None = None
    ) -> dict:
        """Undo, in one transaction, every change one import made to a layer planners
        edit (given one of its history entries): features it added are deleted,
        those it changed get their state before it, those it removed come back.
        Conflict (nothing written) when one of them changed since the import;
        NotFound when the entry is not an import's. Returns the counts
        ``{"removed", "restored", "undeleted"}``; the history notes each change as
        ``undo of <the import's note>``."""

    @abstractmethod
    def replace_addresses(self, rows: list[tuple]) -> int:
        """Replace every stored address in one transaction; return the data version.

        Rows are tuples in the order of ``store.addresses.NAMES``.
        """

    @abstractmethod
    def search_addresses(self, query: str, limit: int = 5) -> list[dict]:
        """Addresses holding every word of ``query`` (accents and case ignored)."""

    @abstractmethod
    def address_communes(self) -> list[dict]:
        """The communes of the stored addresses: code, name, extent, count."""

    @abstractmethod
    def address_count(self) -> int:
        """Number of stored addresses (0 before the first import)."""

    @abstractmethod
    def create(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Build the store anew from validated layers; return the new data version.

        An existing store is replaced only once the new one is complete: a failure
        leaves it as it was. The data version continues from the old store's.
        """

    @abstractmethod
    def replace_layers(
        self,
        layers: dict[str, gpd.GeoDataFrame],
        author: str | None = None,
        note: str | None = None,
    ) -> int:
        """Replace whole layers in one transaction; return the new data version.

        Imports use it, and are recorded in the history with ``author`` and ``note``
        (which import): in a layer planners edit, each feature added, changed or
        removed gets its own entry (a removed one can be restored; untouched ones
        keep their version); in the other layers one entry per import gives the
        number of features before and after.
        """

    @abstractmethod
    def read_versioned(
        self,
        layer: str,
        published_only: bool = False,
        columns: list[str] | None = None,
    ) -> tuple[int, gpd.GeoDataFrame]:
        """(layer version, layer) read in one transaction: the frame is exactly the
        layer at that version (snapshots and caches label their content with it)."""

    @abstractmethod
    def data_version(self) -> int:
        """The current data version (0 for a store never written)."""

    def layer_versions(self) -> dict[str, int]:
        """Each layer's version: the data version of its last change (a write to
        one layer leaves the caches of the others as they are); the data version
        itself under ``""``. Backends that do not record it give the data version."""
        version = self.data_version()
        return {name: version for name in REGISTRY} | {"": version}

    def layer_version(self, layer: str) -> int:
        """The version of one layer (see :meth:`layer_versions`): what caches of
        one layer key on."""
        return self.layer_versions().get(layer, self.data_version())

    def layer_mark(self, layer: str) -> tuple[int, str]:
        """(version, mark) of a layer, read together. The mark is a random text
        written with each change of the layer: with the version it names the
        layer's content in this store and in no other, where the version alone
        may be reached again by other data (another store, or a backup restored
        and written since). Files kept across restarts key on it. Backends that
        keep no mark give "" (nothing is then kept)."""
        return self.layer_version(layer), ""

    def read_arrays(
        self, layer: str, columns: list[str], chunk: int = 50_000
    ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, list]]]:
        """A point layer as arrays, for analyses of large layers: ``(xy, fields)``
        where ``xy`` is an (n, 2) array of WGS84 longitudes and latitudes and each
        field is ``(codes, values)``: ``values[codes[i]]`` is feature ``i``'s value,
        code -1 a missing one. Read in chunks of ``chunk`` features, so memory
        holds one chunk of Python values, not the whole layer's."""
        return arrays_of(self.read(layer, columns=columns), columns)

    def backup(self, folder: Path) -> list[Path]:
        """Copy the store into ``folder`` while it is in use, consistently; return
        the files written. Backends whose database has its own tool say so."""
        raise StoreError("this store is backed up with its database's own tools")

    @abstractmethod
    def check(self) -> list[str]:
        """Integrity check of the layers and the private data: an empty list when
        sound, else what is wrong."""

    @contextmanager
    def time_budget(self, seconds: float):
        """Reads with a bbox or a filter made by this thread inside the block stop
        once ``seconds`` have passed in all, raising TimeLimit (503); such a read
        outside any block has :data:`mapapp.limits.QUERY_SECONDS`."""
        yield

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections."""


def encode_values(values, known: dict | None = None) -> tuple[np.ndarray, list]:
    """(codes, values) of a column (see :meth:`Store.read_arrays`); with ``known``
    (value -> code, extended here) the codes continue an earlier chunk's."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    known = {} if known is None else known
    remap = np.array([known.setdefault(u, len(known)) for u in uniques] + [-1])
    return remap[codes].astype(np.int32), list(known)


def arrays_of(frame: gpd.GeoDataFrame, columns: list[str]):
    """:meth:`Store.read_arrays` of a frame already read."""
    xy = shapely.get_coordinates(frame.geometry.values)
    return xy, {c: encode_values(frame[c].to_numpy(dtype=object)) for c in columns}
