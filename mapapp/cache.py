"""One bounded cache for the running site: least recently used out, by count and bytes.

Every cache of the site (rendered pages and API bodies, layer snapshots, prepared
analysis inputs, suitability grids) is a :class:`BoundedCache`, so nothing a visitor
can ask for grows memory without limit: each entry has a size in bytes, and the
oldest entries go once the count or the byte total is over its bound.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any

import geopandas as gpd
import shapely


class BoundedCache:
    """A thread-safe LRU mapping bounded by ``max_entries`` and ``max_bytes``."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

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
        self, key: Hashable, make: Callable[[], Any], size_of: Callable[[Any], int]
    ) -> Any:
        """The cached value, or ``make()`` kept with the size ``size_of`` gives."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value, size_of(value))
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
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
