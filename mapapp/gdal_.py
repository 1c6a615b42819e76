"""GDAL in mapapp: three drivers, no network, and only files mapapp made itself.

GDAL opens whatever a path or a file's content names: an OGR VRT can point at
another file (the working store, ``/etc/passwd``), at a ``/vsicurl/`` URL, at a
database. And GDAL carries its own SQLite: if it opens the working GeoPackage in the
app process and closes it, POSIX locking lets it delete the WAL under the store's
connections, and later edits are lost. So, in the app and CLI processes:

- :func:`lock_down` deregisters every GDAL driver but GeoPackage, GeoJSON and ESRI
  Shapefile (the formats the import page documents), turns off GDAL's and PROJ's
  network access, and is called before any GDAL read or write;
- :func:`read_frame` and :func:`write_gpkg` only take a file inside a private
  temporary folder made by :func:`private_dir`, named by mapapp, never a path or a
  string from outside (``mapapp/importers/formats.py`` copies an upload there after
  recognising its format from its content);
- nothing here ever receives the working store's path.

This module is the only one of mapapp that imports pyogrio.
"""

from __future__ import annotations

import ctypes
import glob
import tempfile
import threading
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyproj

ALLOWED_DRIVERS = ("GPKG", "GeoJSON", "ESRI Shapefile")
TEMP_PREFIX = "mapapp-gdal-"
CONFIG = {
    # /vsicurl/ treats every URL as missing (no extension is allowed)
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".mapapp-no-network",
    # any other HTTP request GDAL might make goes to a closed local port
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "PROJ_NETWORK": "OFF",
    # do not list the folder of a file (its neighbours are none of GDAL's business)
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "OGR_SQLITE_JOURNAL": "DELETE",
}

_lock = threading.Lock()
_locked: bool | None = None


class GdalUnavailable(RuntimeError):
    """GDAL could not be restricted to the allowed drivers: nothing is read."""


def _gdal_library() -> ctypes.CDLL | None:
    """The GDAL library pyogrio loaded (its wheel bundles one), or None."""
    folder = Path(pyogrio.__file__).resolve().parent.parent / "pyogrio.libs"
    found = sorted(glob.glob(str(folder / "libgdal*")))
    if not found:
        return None
    return ctypes.CDLL(found[0])  # already loaded: the same library, not a second


def _deregister_drivers(lib: ctypes.CDLL) -> None:
    lib.GDALGetDriverCount.restype = ctypes.c_int
    lib.GDALGetDriver.restype = ctypes.c_void_p
    lib.GDALGetDriver.argtypes = [ctypes.c_int]
    lib.GDALGetDriverShortName.restype = ctypes.c_char_p
    lib.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
    lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    drivers = [lib.GDALGetDriver(i) for i in range(lib.GDALGetDriverCount())]
    for handle in drivers:
        if lib.GDALGetDriverShortName(handle).decode() not in ALLOWED_DRIVERS:
            lib.GDALDeregisterDriver(handle)


def lock_down() -> bool:
    """Restrict GDAL in this process (idempotent); True when it is restricted."""
    global _locked
    with _lock:
        if _locked is None:
            pyogrio.set_gdal_config_options(CONFIG)
            pyproj.network.set_network_enabled(False)
            lib = _gdal_library()
            if lib is not None:
                _deregister_drivers(lib)
            _locked = set(pyogrio.list_drivers()) <= set(ALLOWED_DRIVERS)
        return _locked


def private_dir() -> tempfile.TemporaryDirectory:
    """A new private temporary folder for the files GDAL may open (0700)."""
    return tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)


def _check_private(path: Path) -> Path:
    """``path`` when it is a file in one of :func:`private_dir`'s folders."""
    path = Path(path).resolve()
    if not (
        path.parent.name.startswith(TEMP_PREFIX)
        and path.parent.parent == Path(tempfile.gettempdir()).resolve()
        and not path.is_symlink()
    ):
        raise ValueError(f"GDAL opens only mapapp's own temporary files, not {path}")
    return path


def read_frame(path: Path) -> gpd.GeoDataFrame:
    """Read the first layer of a file mapapp made in a private folder."""
    if not lock_down():
        raise GdalUnavailable("GDAL could not be restricted; no file is read")
    with warnings.catch_warnings():  # GDAL's remarks name the private copy's path
        warnings.simplefilter("ignore", RuntimeWarning)
        return pyogrio.read_dataframe(_check_private(path))


def field_count(path: Path) -> int:
    """The number of fields of the first layer of a file mapapp made in a private
    folder (read from its schema, before any row)."""
    if not lock_down():
        raise GdalUnavailable("GDAL could not be restricted; no file is read")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return len(pyogrio.read_info(_check_private(path))["fields"])


def write_gpkg(
    frame: gpd.GeoDataFrame,
    path: Path,
    layer: str,
    metadata: dict,
    dataset_options: dict | None = None,
    append: bool = False,
    geometry_type: str | None = None,
) -> None:
    """Write ``frame`` as a new GeoPackage in a private folder (downloads), or
    ``append`` it to the layer of one written so (a large layer, chunk by chunk,
    its ``geometry_type`` then said rather than guessed from each chunk)."""
    if not lock_down():
        raise GdalUnavailable("GDAL could not be restricted; no file is written")
    pyogrio.write_dataframe(
        frame,
        _check_private(path),
        layer=layer,
        driver="GPKG",
        metadata=metadata,
        dataset_options=None if append else dataset_options,
        append=append,
        geometry_type=geometry_type,
    )


def drivers() -> list[str]:
    """The GDAL drivers this process can use (after :func:`lock_down`)."""
    return sorted(pyogrio.list_drivers())


__all__ = [
    "ALLOWED_DRIVERS",
    "GdalUnavailable",
    "drivers",
    "field_count",
    "lock_down",
    "private_dir",
    "read_frame",
    "write_gpkg",
]
