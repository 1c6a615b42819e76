"""Working stores: one contract for the data (:mod:`.base`) and one for the private
data, accounts and history (:mod:`.private`); backends looked up by URL scheme.

A new backend is one module implementing both contracts and one line in
:data:`BACKENDS`: the scheme of the URLs it opens and where its class is (imported
only when such a URL is opened, so a missing driver troubles no other backend).
"""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

from ..errors import StoreError
from .base import Bbox, Store
from .private import PrivateStore

# URL scheme -> "module:Class" of the backend opening it, whose ``from_url(url,
# area)`` makes the store. A DATABASE_URL without a scheme is a GeoPackage's path.
BACKENDS: dict[str, str] = {
    "": "mapapp.store.geopackage:GeoPackageStore",
    "file": "mapapp.store.geopackage:GeoPackageStore",
    "postgresql": "mapapp.store.postgis:PostGISStore",
    "postgres": "mapapp.store.postgis:PostGISStore",
}
# "scheme://…": a Windows path such as C:\data\mapapp.gpkg has no "//" after its colon
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme_of(url: str) -> str:
    """The URL's scheme in lower case, "" for a plain path."""
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else ""


def backend_of(url: str) -> type[Store]:
    """The store class of the backend that opens ``url`` (StoreError when none)."""
    scheme = scheme_of(url)
    if scheme not in BACKENDS:
        known = ", ".join(f"{s}://" for s in BACKENDS if s)
        raise StoreError(
            f"no store backend for {scheme}:// URLs; DATABASE_URL is a GeoPackage "
            f"path or a URL of {known}"
        )
    module, name = BACKENDS[scheme].split(":")
    return getattr(import_module(module), name)


def open_store(url: str, area: Bbox) -> Store:
    """Open the store named by ``url`` with the backend of its scheme."""
    return backend_of(url).from_url(url, area)


def init_store(store: Store, data_dir: Path, force: bool = False) -> int | None:
    """Create ``store`` from the seed folder; return the new data version.

    Without ``force`` an existing store is kept (None is returned). The seed is
    validated before anything is written, so a bad seed never touches the store.
    """
    from ..layers import load_seed

    if store.exists() and not force:
        return None
    layers = load_seed(Path(data_dir), store.area)
    return store.create(layers)


__all__ = ["BACKENDS", "PrivateStore", "Store", "init_store", "open_store"]
