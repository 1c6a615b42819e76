"""Working stores: one contract (:mod:`.base`), several backends chosen by URL."""

from __future__ import annotations

from pathlib import Path

from .base import Store


def open_store(url: str, area: tuple[float, float, float, float]) -> Store:
    """Open the store named by ``url``: a ``postgresql://`` URL for PostGIS, else the
    path of a GeoPackage."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgis import PostGISStore

        return PostGISStore(url, area)
    from .geopackage import GeoPackageStore

    return GeoPackageStore(Path(url), area)


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


__all__ = ["Store", "init_store", "open_store"]
