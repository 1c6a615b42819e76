"""One bounded cache for the running site: least recently used out, by count and bytes.

Every cache of the site (rendered pages and API bodies, layer snapshots, prepared
analysis inputs, suitability grids) is a :class:`BoundedCache`, so nothing a visitor
can ask for grows memory without limit: each entry has a size in bytes, and the
oldest entries go once the count or the byte total is over its bound.

A missing entry is made by one thread only (single flight): the others asking for
it meanwhile wait for that build, or, when the caller allows it, get the previous
version of the same thing at once while the new one is built (stale while
revalidate). Heavy builds take a slot of a :class:`Gate`, so they never hold every
worker thread: beyond its bound a request is told to come back (:class:`Busy`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

import geopandas as gpd
import shapely

from .errors import Busy, MapappError

log = logging.getLogger(__name__)


class Gate:
    """A bounded pool for heavy work: at most ``at_once`` builds run together and
    at most ``queue`` requests wait (each up to ``wait`` seconds) for a slot or for
    a build under way; beyond, :class:`Busy` (503 with Retry-After). Re-entrant per
    thread: a build inside a build takes no second slot."""

    def __init__(self, at_once: int = 2, queue: int = 4, wait: float = 60.0):
        self.at_once = max(1, int(at_once))
        self.queue = max(0, int(queue))
        self.wait = float(wait)
        self._slots = threading.BoundedSemaphore(self.at_once)
        self._lock = Lock()
        self._waiting = 0
        self._held = threading.local()

    def busy(self) -> Busy:
        """The error a request gets when the pool and its queue are full."""
        return Busy(
            "the server is preparing data for other requests: "
            "ask again in a few seconds",
            retry_after=max(1, min(10, int(self.wait) or 1)),
        )

    @contextmanager
    def waiting(self):
        """Count this thread among the waiting ones (Busy when the queue is full)."""
        with self._lock:
            if self._waiting >= self.queue:
                raise self.busy()
            self._waiting += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1

    @contextmanager
    def slot(self, block: bool = False):
        """Hold one slot for a heavy build: at once if one is free, else waiting in
        the queue (``block``: without a bound, for background builds)."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        if block:
            self._slots.acquire()
        elif not self._slots.acquire(blocking=False):
            with self.waiting():
                if not self._slots.acquire(timeout=self.wait):
                    raise self.busy()
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            self._slots.release()


def _trim_heap() -> None:
    """Give the memory freed by a heavy build back to the system (glibc keeps it
    otherwise: the process would stay at its peak size after building once)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


class _Flight:
    """One build under way: its waiters block on ``done`` until it ends."""

    def __init__(self):
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class BoundedCache:
    """A thread-safe LRU mapping bounded by ``max_entries`` and ``max_bytes``."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()
        self._flights: dict[Hashable, _Flight] = {}
        self._latest: dict[Hashable, Hashable] = {}  # family -> its newest key

    def get(self, key: Hashable) -> Any | None:
        """The value under ``key`` (now the most recent), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, size: int) -> Any:
        """Keep ``value`` (of ``size`` bytes) unless it alone exceeds the byte bound;
        return it."""
        if size > self.max_bytes:
            return value
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _key, (_value, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return value

    def get_or_make(
        self,
        key: Hashable,
        make: Callable[[], Any],
        size_of: Callable[[Any], int],
        *,
        family: Hashable | None = None,
        stale: float | None = None,
        gate: Gate | None = None,
    ) -> Any:
        """The cached value, or ``make()`` kept with the size ``size_of`` gives.

        One thread makes a key; others asking meanwhile wait for it (bounded by
        ``gate``). ``family`` names what the key is a version of (the key without
        its data version): with ``stale`` (seconds), when an older version of the
        family is kept, the new one is made in the background; the request that
        started it waits ``stale`` seconds at most for it, and gets the older one
        after that, as every other request does while the build goes on.
        """
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
            previous = self._previous(family, key) if stale is not None else None
        if previous is None:
            if gate is None:
                if leader:
                    return self._build(key, flight, make, size_of, family, None, False)
                return self._await(flight, None)
            # a heavy build runs in a thread of its own, never in the request's:
            # requests wait for it within the gate's queue, or are told to come
            # back, while it goes on (a million companies take a minute: eight
            # requests holding the eight threads for it stopped the server)
            if leader:
                self._start(key, flight, make, size_of, family, gate)
            return self._await(flight, gate)
        if not leader:  # a build under way: the previous version at once
            return previous
        self._start(key, flight, make, size_of, family, gate)
        if flight.done.wait(stale) and flight.error is None:
            return flight.value
        return previous

    def _start(self, key, flight, make, size_of, family, gate) -> None:
        """Make the value of ``key`` in a background thread (see _build)."""
        threading.Thread(
            target=self._build,
            args=(key, flight, make, size_of, family, gate, True),
            name=f"mapapp-build-{key!r}"[:60],
            daemon=True,
        ).start()

    def _previous(self, family: Hashable | None, key: Hashable) -> Any | None:
        """The newest kept value of ``family`` other than ``key`` (lock held)."""
        if family is None:
            return None
        newest = self._latest.get(family)
        if newest is None or newest == key:
            return None
        item = self._items.get(newest)
        return None if item is None else item[0]

    def _await(self, flight: _Flight, gate: Gate | None) -> Any:
        """The value another thread is making: waited for without bound, or with a
        ``gate`` as one of its ``queue`` waiters for at most its ``wait`` seconds
        (Busy with the queue full: a request waiting a little for a build under
        way, repeated by a crowd, held every thread)."""
        if gate is None:
            flight.done.wait()
        else:
            with gate.waiting():
                if not flight.done.wait(gate.wait):
                    raise gate.busy()
        if flight.error is not None:
            raise flight.error
        return flight.value

    def _build(self, key, flight, make, size_of, family, gate, background) -> Any:
        """Make the value of ``key`` (in a gate slot), keep it, wake the waiters."""
        try:
            if gate is None:
                value = make()
            else:
                with gate.slot(block=background):
                    value = make()
                _trim_heap()
            self.put(key, value, size_of(value))
            if family is not None:
                with self._lock:  # the version it replaces is not served again
                    older = self._latest.get(family)
                    self._latest[family] = key
                    dropped = self._items.pop(older, None) if older != key else None
                    if dropped is not None:
                        self._bytes -= dropped[1]
            flight.value = value
            return value
        except BaseException as exc:
            flight.error = exc
            if background:  # the waiting requests get the error; a bug is logged
                if not isinstance(exc, MapappError):
                    log.exception("building %r in the background failed", key)
                return None
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
            self._latest.clear()
            self._bytes = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) held now."""
        with self._lock:
            return len(self._items), self._bytes


@dataclass(frozen=True)
class Payload:
    """A response body kept ready: raw and gzip bytes, ETag, the hashes of its inline
    scripts and styles (for its Content-Security-Policy)."""

    body: bytes
    gzip: bytes | None
    etag: str
    script_hashes: tuple[str, ...] = ()
    style_hashes: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        body: bytes,
        compress: bool = True,
        script_hashes: tuple[str, ...] = (),
        style_hashes: tuple[str, ...] = (),
    ) -> Payload:
        """A payload of ``body``, its gzip (when ``compress``) and a content ETag."""
        etag = hashlib.sha256(body).hexdigest()[:20]
        packed = gzip.compress(body, 6) if compress else None
        return cls(body, packed, etag, script_hashes, style_hashes)

    @property
    def nbytes(self) -> int:
        """The bytes it holds."""
        return len(self.body) + len(self.gzip or b"") + 200


def frame_bytes(frame: gpd.GeoDataFrame) -> int:
    """An estimate of the memory a GeoDataFrame holds (columns and geometries)."""
    if len(frame) == 0:
        return 1024
    # text columns measured on a sample of about a thousand rows (measuring every
    # string of a large frame costs more than the work the cache saves)
    step = max(1, len(frame) // 1000)
    sample = frame.drop(columns=frame.geometry.name).iloc[::step]
    per_row = sample.memory_usage(deep=True, index=False).sum() / max(len(sample), 1)
    columns = int(per_row * len(frame))
    coords = int(shapely.get_num_coordinates(frame.geometry.values).sum())
    return columns + coords * 16 + len(frame) * 120


@dataclass(frozen=True)
class StoredBody:
    """A response body kept in a file (and its gzip), streamed rather than held."""

    path: Path
    gzip_path: Path | None
    etag: str
    size: int


class DiskBodies:
    """Large response bodies in files under ``folder``: one folder per family (what
    a key is a version of), holding its newest version only, so the files never
    outgrow one body per family. A body made before a restart is found again."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @staticmethod
    def _name(value: Hashable) -> str:
        return hashlib.sha256(repr(value).encode()).hexdigest()[:20]

    def keep(
        self,
        family: Hashable,
        key: Hashable,
        make: Callable[[], bytes | Iterable[bytes]],
        compress: bool = True,
    ) -> StoredBody:
        """The body of ``key`` from its file, or ``make()`` (bytes, or chunks of
        them) written to one (and gzipped when ``compress``); older versions of the
        family are removed."""
        found = self.find(family, key, compress)
        if found is not None:
            return found
        folder = self.folder / self._name(family)
        name = self._name(key)
        path, packed = folder / f"{name}.body", folder / f"{name}.gz"
        body = make()
        folder.mkdir(parents=True, exist_ok=True)
        size = _write_atomic(
            path,
            packed if compress else None,
            [body] if isinstance(body, bytes) else body,
        )
        for old in folder.iterdir():  # older versions: a reader keeps its open file
            if not old.name.startswith(".") and old.name.split(".")[0] != name:
                old.unlink(missing_ok=True)
        return StoredBody(path, packed if compress else None, name, size)

    def find(
        self, family: Hashable, key: Hashable, compress: bool = True
    ) -> StoredBody | None:
        """The body of ``key`` if its file is there (made before, maybe before a
        restart), else None."""
        folder = self.folder / self._name(family)
        name = self._name(key)
        path, packed = folder / f"{name}.body", folder / f"{name}.gz"
        if path.is_file() and (packed.is_file() or not compress):
            return StoredBody(
                path, packed if compress else None, name, path.stat().st_size
            )
        return None

    def clear(self) -> None:
        """Remove every kept body."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_atomic(path: Path, packed: Path | None, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``path`` (and gzipped to ``packed``) through temporary
    files renamed into place once complete; return the bytes written. A body
    given in chunks is never whole in memory."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    tmp_packed = Path(f"{tmp}.gz")
    size = 0
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            (
                gzip.open(tmp_packed, "wb", 6) if packed else contextlib.nullcontext()
            ) as zipped,
        ):
            for chunk in chunks:
                raw.write(chunk)
                if zipped is not None:
                    zipped.write(chunk)
                size += len(chunk)
        if packed:
            os.replace(tmp_packed, packed)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
        tmp_packed.unlink(missing_ok=True)
    return size
