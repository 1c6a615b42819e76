"""Published layers in a fixed order per data version, shared by the map endpoints.

The compact payload, the popup items and the server-side search all index the same
snapshot, so an index read from one is valid in the others for that data version.
"""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

import geopandas as gpd

from ..layers import LayerSpec, get_spec
from ..store import Store
from .compact import compact_points, normalise, spatial_order


@dataclass
class Snapshot:
    """One layer's published features at one data version."""

    spec: LayerSpec
    version: int
    frame: gpd.GeoDataFrame
    _compact: tuple[bytes, bytes] | None = field(default=None, repr=False)
    _keys: list[str] | None = field(default=None, repr=False)

    @property
    def keys(self) -> list[str]:
        """Accent-free lower-case names, built on the first search."""
        if self._keys is None:
            self._keys = [normalise(v) for v in self.frame[self.spec.label_field]]
        return self._keys

    def compact(self) -> tuple[bytes, bytes]:
        """(JSON bytes, gzip bytes) of the compact payload, computed once."""
        if self._compact is None:
            payload = compact_points(self.frame, self.spec, self.version)
            raw = json.dumps(payload, separators=(",", ":")).encode()
            self._compact = (raw, gzip.compress(raw, 6))
        return self._compact

    def search(self, query: str, limit: int) -> list[int]:
        """Indexes of the features whose name contains ``query`` (accents ignored)."""
        q = normalise(query)
        hits = []
        for i, key in enumerate(self.keys):
            if q in key:
                hits.append(i)
                if len(hits) >= limit:
                    break
        return hits


class LayerSnapshots:
    """An LRU cache of snapshots keyed by (layer, data version)."""

    def __init__(self, size: int = 16):
        self.size = size
        self._items: OrderedDict[tuple[str, int, bool], Snapshot] = OrderedDict()
        self._lock = Lock()

    def get(self, store: Store, name: str, full: bool = False) -> Snapshot:
        """The current snapshot of a public layer (built on first use).

        By default only what the map needs is read (id, label, category, geometry);
        ``full`` reads every field (for the list view).
        """
        spec = get_spec(name)
        version = store.data_version()
        key = (name, version, full)
        with self._lock:
            snap = self._items.get(key)
            if snap is not None:
                self._items.move_to_end(key)
                return snap
        wanted = ("id", spec.label_field, spec.category_field)
        columns = None if full else [c for c in wanted if c]
        frame = store.read(name, published_only=True, columns=columns)
        frame = frame.drop(columns=["published", "version"], errors="ignore")
        frame = spatial_order(frame)
        snap = Snapshot(spec, version, frame)
        with self._lock:
            self._items[key] = snap
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return snap
