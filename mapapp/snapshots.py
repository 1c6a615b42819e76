"""A layer's published features at one version, as the map, its search and its
popups index them.

Two forms answer the same questions (``version``, ``len``, the map payloads,
``search``, ``index_of``, ``id_at``):

- :class:`Snapshot` holds the features as a GeoDataFrame: small layers, built in
  the thread that asks.
- :class:`PackedSnapshot` holds only what those questions need, packed: the map
  payloads as bytes, the ids and search texts as one string each, the points as two
  arrays. A large layer's is built by :func:`build_packed` in a worker process
  (mapapp.workers) and sent back to the server in a few buffers: a million companies
  cost the server about 100 MB instead of a frame of a million rows, and none of
  the build's interpreter time. The rows of a search hit or a popup are read from
  the store by id when asked.

Both keep the features in :func:`~mapapp.maps.compact.spatial_order`, so a position
read from the map payload is valid in the search and the popups of the same version.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np

from .cache import Payload, frame_bytes
from .layers import LayerSpec, get_spec
from .listing import Texts, join_texts, split_texts
from .maps.compact import (
    COMMUNE_LEVEL,
    MapPoints,
    category_index,
    compact_binary,
    compact_points,
    overview_cells,
    point_xy,
    points_of_binary,
    spatial_order,
    spatial_positions,
)
from .packing import bytes_array, json_array, json_of
from .text import affirmed, fold, fold_all
from .values import plain_column

log = logging.getLogger(__name__)


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:20]


def map_columns(spec: LayerSpec) -> list[str]:
    """The fields the map's snapshot reads: id, label, category, class, search
    fields, where a feature is located only at commune level, and each feature's
    own version (a popup read later checks it is still the feature shown)."""
    wanted = ("id", "version", spec.label_field, spec.category_field, spec.class_field)
    wanted += spec.search_fields
    wanted += tuple(f for f in ("precision", "commune_code") if f in spec.field_names)
    return [c for c in dict.fromkeys(wanted) if c]


def search_keys(frame: gpd.GeoDataFrame, spec: LayerSpec) -> list[str]:
    """What a search matches for each feature, accent-free and lower-case: its name
    and what its search fields affirm (text.searchable), folded in one pass and
    each distinct set of search-field values read once."""
    # plain values: a missing one is None in every dtype (pandas' text columns
    # hold NaN, which read "nan"), so a chunk of a layer reads as the layer does
    names = plain_column(frame[spec.label_field])
    fields = [plain_column(frame[f]) for f in spec.search_fields if f in frame]
    said: dict[tuple, str] = {}
    raw = []
    for name, *values in zip(names, *fields, strict=True):
        key = tuple(values)
        if key not in said:
            said[key] = " ".join(t for t in (affirmed(x) for x in values) if t)
        extra = said[key]
        raw.append(f"{name or ''} {extra}" if extra else f"{name or ''}")
    return fold_all(raw)


@dataclass
class Snapshot:
    """One layer's published features at one version, as a GeoDataFrame in a fixed
    order (see the module docstring)."""

    spec: LayerSpec
    version: int
    frame: gpd.GeoDataFrame
    edits: np.ndarray | None = None  # each feature's own version (its edit count)
    _compact: Payload | None = field(default=None, repr=False)
    _binary: Payload | None = field(default=None, repr=False)
    _overview: Payload | None = field(default=None, repr=False)
    _keys: list[str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    packed = False

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def keys(self) -> list[str]:
        """The search text of each feature, made on the first search."""
        if self._keys is None:
            self._keys = search_keys(self.frame, self.spec)
        return self._keys

    def compact(self) -> Payload:
        """The compact point payload (JSON and gzip), computed once."""
        with self._lock:  # one build, however many requests ask at once
            if self._compact is None:
                payload = compact_points(self.frame, self.spec, self.version)
                raw = json.dumps(payload, separators=(",", ":")).encode()
                self._compact = Payload.of(raw)
        return self._compact

    def binary(self) -> Payload:
        """The compact point payload as bytes (maps/compact.py), computed once."""
        with self._lock:
            if self._binary is None:
                raw = compact_binary(self.frame, self.spec, self.version)
                self._binary = Payload(raw, gzip.compress(raw, 9), _etag(raw))
        return self._binary

    def overview(self) -> Payload:
        """The grid aggregate the map draws at low zoom for a very large point
        layer (maps/compact.py: overview_cells), computed once."""
        with self._lock:
            if self._overview is None:
                payload = overview_cells(self.frame, self.spec, self.version)
                self._overview = Payload.of(
                    json.dumps(payload, separators=(",", ":")).encode()
                )
        return self._overview

    def search(self, query: str, limit: int) -> list[int]:
        """Positions of the features whose name contains ``query`` (accents
        ignored), in snapshot order."""
        q = fold(query)
        hits = []
        for i, key in enumerate(self.keys):
            if q in key:
                hits.append(i)
                if len(hits) >= limit:
                    break
        return hits

    def index_of(self, fid: str) -> int | None:
        """The position of feature ``fid`` in the snapshot, or None."""
        matches = self.frame.index[self.frame["id"] == fid]
        return int(matches[0]) if len(matches) else None

    def id_at(self, index: int) -> str:
        """The id of the feature at ``index``."""
        return str(self.frame["id"].iloc[index])

    @property
    def nbytes(self) -> int:
        """Memory held (frame and compact payload)."""
        extra = sum(
            p.nbytes
            for p in (self._compact, self._binary, self._overview)
            if p is not None
        )
        return frame_bytes(self.frame) + extra


@dataclass
class PackedSnapshot:
    """A large point layer's snapshot without its frame (see the module
    docstring): the payloads made, ids and search texts packed, the pid of the
    process that built it (``built_by``)."""

    spec: LayerSpec
    version: int
    ids: Texts
    keys: Texts
    edits: np.ndarray
    _binary: Payload
    _overview: Payload | None
    built_by: int = 0
    _compact: Payload | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    packed = True

    def __len__(self) -> int:
        return len(self.ids)

    def compact(self) -> Payload:
        """The JSON form of the payload, read back from the bytes on first use
        (only browsers without a binary decoder ask for it)."""
        with self._lock:
            if self._compact is None:
                payload = points_of_binary(self._binary.body)
                raw = json.dumps(payload, separators=(",", ":")).encode()
                self._compact = Payload.of(raw)
        return self._compact

    def binary(self) -> Payload:
        return self._binary

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def overview(self) -> Payload:
        if self._overview is None:  # asked of a layer under the overview threshold
            raise LookupError("no overview was made for this layer")
        return self._overview

    def search(self, query: str, limit: int) -> list[int]:
        """Positions of the features whose name contains ``query`` (accents
        ignored), in snapshot order: one scan of the packed texts, in C."""
        needle = fold(query)
        if not needle:
            return list(range(min(limit, len(self))))
        return np.flatnonzero(self.keys.containing(needle))[:limit].tolist()

    def index_of(self, fid: str) -> int | None:
        return self.ids.position(str(fid))

    def id_at(self, index: int) -> str:
        return self.ids[index]

    @property
    def nbytes(self) -> int:
        payloads = (self._binary, self._compact, self._overview)
        texts = sum(len(t.text) + t.starts.nbytes for t in (self.ids, self.keys))
        texts += self.edits.nbytes
        return texts + sum(p.nbytes for p in payloads if p is not None)


def build_snapshot(
    site,
    name: str,
    columns: list[str] | None = None,
    payload_min: int | None = None,
    overview_min: int | None = None,
) -> Snapshot:
    """The published snapshot of layer ``name`` (only ``columns`` when given) read
    from ``site``'s store in one transaction (the version it reads is the one it is
    labelled with), in spatial order. A point layer of more than ``payload_min``
    features gets its map payload made with it, and its overview too beyond
    ``overview_min``."""
    spec = get_spec(name)
    read_at, frame = site.store.read_versioned(
        name, published_only=True, columns=columns
    )
    frame = spatial_order(frame.drop(columns=["published"], errors="ignore"))
    edits = frame.pop("version").to_numpy(np.int64) if "version" in frame else None
    snap = Snapshot(spec, read_at, frame, edits)
    large = payload_min is not None and len(frame) > payload_min
    if large and spec.geometry == "Point":
        snap.binary()  # what the map loads: made with the snapshot
        if overview_min is not None and len(frame) > overview_min:
            snap.overview()  # what it loads first when the layer is very large
    return snap


def build_packed(
    site, name: str, overview_min: int, size: int = 50_000
) -> PackedSnapshot:
    """A large point layer's :class:`PackedSnapshot` (a worker process's job),
    read ``size`` features at a time in one transaction: between chunks only
    arrays and joined texts are kept (a million companies read as one frame took
    1.4 GB), put in spatial order at the end. The same as the packed form of
    :func:`build_snapshot`'s."""
    spec = get_spec(name)
    version, chunks = site.store.read_versioned_chunks(
        name, published_only=True, columns=map_columns(spec), size=size
    )
    parts = _MapParts()
    for chunk in chunks:
        parts.add(chunk, spec)
    order = parts.order()
    ids = [parts.ids[i] for i in order] if len(order) else []
    parts.ids = []
    keys = split_texts(parts.keys)
    parts.keys = []
    points = parts.points(order)
    binary = compact_binary(points, spec, version)
    overview = None
    if len(order) > overview_min:
        payload = overview_cells(points, spec, version)
        overview = Payload.of(json.dumps(payload, separators=(",", ":")).encode())
    return PackedSnapshot(
        spec,
        version,
        Texts(ids),
        Texts([keys[i] for i in order]),
        np.concatenate([np.zeros(0, np.int64), *parts.edits])[order].astype(np.int32),
        Payload(binary, gzip.compress(binary, 9), _etag(binary)),
        overview,
        built_by=os.getpid(),
    )


class _MapParts:
    """What :func:`build_packed` keeps of each chunk of a layer: coordinates,
    category indexes, own versions, which are at commune level only and their
    commune codes, ids and search texts joined."""

    def __init__(self):
        self.x, self.y, self.category, self.edits = [], [], [], []
        self.at_commune: list[np.ndarray] | None = None
        self.communes: dict[int, str] = {}  # position read -> commune code
        self.id_parts, self.keys = [], []
        self.ids: list[str] = []
        self.count = 0

    def add(self, chunk: gpd.GeoDataFrame, spec: LayerSpec) -> None:
        n = len(chunk)
        if not n:
            return
        x, y = point_xy(chunk.geometry)
        self.x.append(x)
        self.y.append(y)
        field = spec.category_field
        self.category.append(
            category_index(chunk[field], spec) if field else np.full(n, -1, np.int64)
        )
        self.edits.append(chunk["version"].to_numpy(np.int64))
        if "precision" in chunk:
            at = (chunk["precision"] == COMMUNE_LEVEL).to_numpy()
            self.at_commune = [*(self.at_commune or []), at]
            if "commune_code" in chunk:
                codes = chunk["commune_code"].fillna("").astype(str).to_numpy()
                for i in np.flatnonzero(at).tolist():
                    self.communes[self.count + i] = codes[i]
        self.id_parts.append(join_texts(chunk["id"].astype(str).tolist()))
        self.keys.append(join_texts(search_keys(chunk, spec)))
        self.count += n

    def order(self) -> np.ndarray:
        """The positions read, in :func:`~mapapp.maps.compact.spatial_order`."""
        self.ids = split_texts(self.id_parts)
        self.id_parts = []
        if not self.count:
            return np.zeros(0, dtype=np.intp)
        at = np.concatenate(self.at_commune) if self.at_commune else None
        x, y = np.concatenate(self.x), np.concatenate(self.y)
        return spatial_positions(x, y, np.array(self.ids, dtype=str), at)

    def points(self, order: np.ndarray) -> MapPoints:
        """The compact payloads' arrays, in ``order``."""
        if not self.count:
            empty = np.zeros(0)
            return MapPoints(empty, empty, np.zeros(0, np.int64), 0, [])
        x, y = np.concatenate(self.x)[order], np.concatenate(self.y)[order]
        category = np.concatenate(self.category)[order]
        at = sum(int(a.sum()) for a in self.at_commune or [])
        located = self.count - at
        tail = order[located:].tolist()
        codes = [self.communes.get(i, "") for i in tail]
        return MapPoints(x, y, category, located, codes)


# --- packed snapshots kept in files across restarts ---------------------------------

# the layout of a snapshot file and what its arrays mean: bump it whenever they, or
# what the packed snapshot's payloads and search texts hold, change (a file of
# another format is never read)
FILE_FORMAT = 1
# a snapshot file larger than this is not written: the in-memory snapshot cache
# (site.py) keeps none larger either
FILE_MAX_BYTES = 512 * 1024 * 1024


def spec_digest(spec: LayerSpec) -> str:
    """A digest of a layer's spec (fields, categories, search fields...): a file
    made under another spec of the layer is never read. Its cross-field check is
    a function, left out (its repr names a memory address)."""
    return hashlib.sha256(repr(replace(spec, check=None)).encode()).hexdigest()[:20]


@functools.cache
def code_digest() -> str:
    """A digest of the app's code and compiled translations: a file kept by
    another release of the app is never read (a change to how payloads or facts
    are made need not remember to bump FILE_FORMAT). Read once per process."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.mo")]):
        digest.update(str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def snapshot_label(spec: LayerSpec, version: int, mark: str, **what) -> dict:
    """What a kept file is made of: the file format, the app's code, the layer,
    its version and mark in the store (Store.layer_mark: no other store's data
    and no other version has the same), its spec, and ``what`` else decided its
    content (the overview threshold of a snapshot, the language of facts). A file
    is read only for the same label."""
    return {
        "format": FILE_FORMAT,
        "code": code_digest(),
        "layer": spec.name,
        "version": int(version),
        "mark": mark,
        "spec": spec_digest(spec),
        **what,
    }


def packed_arrays(snap: PackedSnapshot) -> dict[str, np.ndarray]:
    """A packed snapshot as plain arrays (no object, nothing pickled): what
    :func:`write_packed` saves."""
    arrays = {
        **snap.ids.arrays("ids"),
        **snap.keys.arrays("keys"),
        "edits": snap.edits,
        "binary": bytes_array(snap._binary.body),
        "binary_gzip": bytes_array(snap._binary.gzip or b""),
    }
    if snap._overview is not None:
        arrays["overview"] = bytes_array(snap._overview.body)
        arrays["overview_gzip"] = bytes_array(snap._overview.gzip or b"")
    return arrays


def packed_of_arrays(arrays: dict[str, np.ndarray], label: dict) -> PackedSnapshot:
    """The packed snapshot of ``label`` :func:`packed_arrays` gave ``arrays``
    for, checked: ValueError when they do not hold together."""
    ids, keys = Texts.of_arrays(arrays, "ids"), Texts.of_arrays(arrays, "keys")
    n = len(arrays["edits"])
    if len(ids) != n or len(keys) != n:
        raise ValueError("the file's texts do not match its features")

    def payload(name: str) -> Payload:
        body = arrays[name].tobytes()
        return Payload(body, arrays[f"{name}_gzip"].tobytes() or None, _etag(body))

    overview = payload("overview") if "overview" in arrays else None
    spec = get_spec(label["layer"])
    edits = arrays["edits"]
    return PackedSnapshot(
        spec, label["version"], ids, keys, edits, payload("binary"), overview
    )


@dataclass(frozen=True)
class FileKind:
    """A kind of value kept in files (:class:`SnapshotFiles`): ``arrays`` makes
    plain arrays of a value (ValueError when it cannot), ``of_arrays`` gives it
    back from them and its label (ValueError or KeyError when they do not hold
    together); ``family`` names the folder of its files beside the layer's
    others (each keeps its newest file only)."""

    family: tuple
    arrays: Callable[[Any], dict[str, np.ndarray]]
    of_arrays: Callable[[dict[str, np.ndarray], dict], Any]


# a large point layer's packed snapshot (its folder is the layer's own)
PACKED = FileKind((), packed_arrays, packed_of_arrays)


def write_synced(path: Path, write: Callable[[BinaryIO], object]) -> int:
    """Write a file through ``write(file)`` into a temporary file, synced and
    renamed into place: a crash leaves the old file or the new one, never half of
    one. Returns its size."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:  # the rename itself made durable
        os.fsync(folder)
    finally:
        os.close(folder)
    return path.stat().st_size


def write_arrays(path: Path, arrays: dict[str, np.ndarray], label: dict) -> int:
    """Save ``arrays`` and their ``label`` (as JSON) to ``path``, an uncompressed
    .npz written atomically; return its size."""
    labelled = {**arrays, "label": json_array(label)}
    return write_synced(path, lambda out: np.savez(out, **labelled))


def read_arrays(path: Path, label: dict) -> dict[str, np.ndarray]:
    """The arrays saved in ``path`` for ``label``. Arrays only, never pickles;
    each member's CRC is checked as it is read, so a damaged or truncated file
    raises (ValueError, OSError, zipfile.BadZipFile, KeyError), as does a file
    of another label."""
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    if json_of(arrays.pop("label")) != label:
        raise ValueError("the file holds other data")
    return arrays


def write_packed(path: Path, snap: PackedSnapshot, label: dict) -> int:
    """Save a packed snapshot to ``path`` (:func:`write_arrays`)."""
    return write_arrays(path, packed_arrays(snap), label)


def read_packed(path: Path, label: dict) -> PackedSnapshot:
    """The packed snapshot saved in ``path`` for ``label`` (:func:`read_arrays`)."""
    return packed_of_arrays(read_arrays(path, label), label)


class SnapshotFiles:
    """What large layers take seconds to build, kept in files under ``folder``
    (in the instance's cache folder), so that a restarted server loads it in a
    fraction of a second: their packed snapshots, the facts their map pages show,
    their list indexes, the companies' analysis columns (each a
    :class:`FileKind`). A file is found only by its whole label
    (:func:`snapshot_label`); each layer keeps its newest file of each kind (and
    variant: the language of a list), of at most ``max_bytes``; a file that
    cannot be read is logged and removed, never served (it is built again)."""

    def __init__(self, folder: Path, max_bytes: int = FILE_MAX_BYTES):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def _path(self, label: dict, family: tuple = ()) -> Path:
        """The file of ``label``, in the folder of its layer (and ``family``)."""

        def digest(value) -> str:
            text = json.dumps(value, sort_keys=True)
            return hashlib.sha256(text.encode()).hexdigest()[:20]

        return self.folder / digest([label["layer"], *family]) / f"{digest(label)}.npz"

    @staticmethod
    def _keep_only(path: Path) -> None:
        """Remove the other versions beside ``path`` (a reader keeps the file it
        has open; a write under way keeps its temporary file)."""
        for old in path.parent.iterdir():
            if old != path and not old.name.startswith(".tmp-"):
                old.unlink(missing_ok=True)

    def find(self, label: dict, kind: FileKind = PACKED):
        """The value of ``kind`` saved for ``label``, or None (none saved, or a
        file that cannot be read: it is logged and removed)."""
        path = self._path(label, kind.family)
        if not path.is_file():
            return None
        try:
            return kind.of_arrays(read_arrays(path, label), label)
        except Exception:  # noqa: BLE001 - whatever is wrong, it is built again
            log.warning("snapshot file %s unreadable: built again", path, exc_info=1)
            path.unlink(missing_ok=True)
            return None

    def keep(self, label: dict, value, kind: FileKind = PACKED) -> Path | None:
        """Save ``value`` as the file of ``label`` and remove the older files of
        its kind; None when it is larger than ``max_bytes`` or holds values a
        file would not give back as they are (not saved)."""
        try:
            arrays = kind.arrays(value)
        except ValueError as exc:
            log.info("%s of %s not saved: %s", kind.family, label["layer"], exc)
            return None
        size = sum(a.nbytes for a in arrays.values())
        if size > self.max_bytes:
            log.info("%s of %s not saved: %d bytes", kind.family, label["layer"], size)
            return None
        path = self._path(label, kind.family)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_arrays(path, arrays, label)
        self._keep_only(path)
        return path
