"""The formats an import accepts, recognised from their content, and the safe way
to open the vector ones with GDAL.

Accepted: CSV (read by pandas, never by GDAL; also gzipped or zipped), GeoJSON,
GeoPackage, and a Shapefile in a ZIP archive. Anything else is refused before GDAL
sees it, with what it looks like (an XML file such as an OGR VRT, a plain SQLite
database…). A vector file is copied, or extracted, into a private temporary folder
under a name mapapp chooses, and only that copy is opened, with GDAL restricted to
three drivers and no network (:mod:`mapapp.gdal_`): the file name, the upload's path
and its content can never make GDAL open another file, a URL, or the working store.
"""

from __future__ import annotations

import codecs
import re
import shutil
import sqlite3
import time
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import shapely

from .. import gdal_
from ..limits import MAX_FIELDS, unpack_limit
from .reading import ImportFileError, RefusedFile, too_expanded

ACCEPTED = "GeoJSON, GeoPackage, CSV or a zipped Shapefile"
SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_IDS = (b"GPKG", b"GP10", b"GP11")  # application_id, at offset 68
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
MAX_UNZIPPED = 2 * 1024**3  # bytes a zipped Shapefile may expand to
# Triggers GeoPackage writers add themselves (GDAL, QGIS): the spatial index's and
# the feature count's. GDAL reads a file without writing, so no trigger ever runs;
# any other one is refused all the same, with the views (whose rows are a query).
STANDARD_TRIGGER = re.compile(
    r"(rtree_.+_(insert|update\d|delete)|trigger_(insert|delete)_feature_count_.+"
    r"|gpkg_.+)"
)
INSPECT_S = 5.0  # seconds to list a GeoPackage's schema


def recognise(path: Path) -> str:
    """``csv``, ``geojson``, ``gpkg`` or ``shapefile``, from the bytes of the file;
    ImportFileError naming what it seems to be otherwise."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(SQLITE_MAGIC):
        if head[68:72] in GPKG_IDS:
            return "gpkg"
        raise ImportFileError(
            f"{path.name}: an SQLite database that is not a GeoPackage; "
            f"expected {ACCEPTED}"
        )
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"\x1f\x8b"):
        return "csv"  # gzipped: only CSV files come so (read by pandas, streamed)
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "geojson"
    if text.startswith(b"<"):
        raise ImportFileError(
            f"{path.name}: an XML file (such as a VRT, GML or KML), which mapapp "
            f"does not import; expected {ACCEPTED}"
        )
    if b"\x00" in head:
        raise ImportFileError(f"{path.name}: a binary file; expected {ACCEPTED}")
    return "csv"


def _zip_kind(path: Path) -> str:
    """``shapefile`` for an archive holding a .shp, else ``csv`` (the publishers'
    zipped tables, read by pandas)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist()]
    except zipfile.BadZipFile:
        raise ImportFileError(f"{path.name}: a damaged ZIP archive") from None
    return "shapefile" if any(n.endswith(".shp") for n in names) else "csv"


def read_vector(path: Path, kind: str) -> gpd.GeoDataFrame:
    """A GeoJSON, GeoPackage or zipped Shapefile as a frame in WGS84 (first layer),
    or ImportFileError naming the file (never a server path) and the reason."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise ImportFileError(f"{path.name}: the file is empty; expected {kind}")
    fmt = recognise(path)
    if fmt == "csv":
        raise ImportFileError(f"{path.name}: not a vector file; expected {kind}")
    with gdal_.private_dir() as tmp:
        copy = _private_copy(path, fmt, Path(tmp))
        if fmt == "gpkg":
            check_gpkg(copy, path.name)
        try:
            fields = gdal_.field_count(copy)
        except gdal_.GdalUnavailable as exc:
            raise ImportFileError(f"{path.name}: {exc}") from None
        except Exception:  # noqa: BLE001 - read_frame below says why it is unreadable
            fields = 0
        if fields > MAX_FIELDS:
            raise RefusedFile(
                f"{path.name}: {fields} properties, more than the {MAX_FIELDS} an "
                "import reads (the limit MAX_FIELDS)"
            )
        try:
            frame = gdal_.read_frame(copy)
        except gdal_.GdalUnavailable as exc:
            raise ImportFileError(f"{path.name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - GDAL's errors are many; all mean "unreadable"
            reason = str(exc).replace(str(copy), path.name).replace(tmp, "…")
            raise ImportFileError(
                f"{path.name}: not a readable {fmt} file ({reason}); expected {kind}"
            ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise ImportFileError(
            f"{path.name}: holds no geometry (a table without places); expected {kind}"
        )
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)


def check_gpkg(copy: Path, name: str) -> None:
    """Refuse a GeoPackage with a view (its rows are a query, which may never end)
    or a trigger of its own, before GDAL opens it (read-only, within INSPECT_S)."""
    deadline = time.monotonic() + INSPECT_S
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
    try:
        rows = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger')"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ImportFileError(f"{name}: not a readable GeoPackage ({exc})") from None
    finally:
        conn.close()
    views = [n for kind, n in rows if kind == "view"]
    triggers = [
        n for kind, n in rows if kind == "trigger" and not STANDARD_TRIGGER.fullmatch(n)
    ]
    if views:
        raise RefusedFile(
            f"{name}: holds a view ({views[0][:60]}), whose rows are computed when "
            "read; export its layers as tables (QGIS: Export > Save Features As)"
        )
    if triggers:
        raise RefusedFile(
            f"{name}: holds a trigger ({triggers[0][:60]}) that is not a "
            "GeoPackage's own; export its layers to a new GeoPackage"
        )


def flatten(frame: gpd.GeoDataFrame, report) -> gpd.GeoDataFrame:
    """Drop the third coordinate (heights) of 3-D geometries, saying so in the
    report: the layers are two-dimensional."""
    if frame.geometry.has_z.any():
        frame = frame.set_geometry(shapely.force_2d(frame.geometry.array))
        report.note("heights_dropped")
    return frame


def _private_copy(path: Path, fmt: str, folder: Path) -> Path:
    """Copy (or extract) ``path`` into ``folder`` under a name of mapapp's."""
    if fmt == "shapefile":
        return _extract_shapefile(path, folder)
    target = folder / f"data.{fmt}"
    shutil.copyfile(path, target)
    wal = Path(f"{path}-wal")  # a GeoPackage left in WAL mode by its editor
    if fmt == "gpkg" and wal.is_file() and wal.stat().st_size:
        shutil.copyfile(wal, Path(f"{target}-wal"))
    return target


def _extract_shapefile(path: Path, folder: Path) -> Path:
    """The parts of the one Shapefile of a ZIP archive, as ``folder/data.*``."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ImportFileError(f"{path.name}: a damaged ZIP archive") from None
    with archive:
        members = {
            PurePosixPath(m.filename).suffix.lower(): m
            for m in archive.infolist()
            if PurePosixPath(m.filename).suffix.lower() in SHAPEFILE_PARTS
            and not m.is_dir()
        }
        shp = [m for m in archive.infolist() if m.filename.lower().endswith(".shp")]
        if len(shp) != 1 or not {".shp", ".shx", ".dbf"} <= set(members):
            raise ImportFileError(
                f"{path.name}: a ZIP archive must hold one Shapefile (.shp, .shx and "
                f".dbf, with its .prj); expected {ACCEPTED}"
            )
        limit = min(MAX_UNZIPPED, unpack_limit(path.stat().st_size))
        budget = limit
        for suffix, member in members.items():
            budget = _unzip(archive, member, folder / f"data{suffix}", budget, path)
            if budget < 0:
                raise too_expanded(path, limit)
    return folder / "data.shp"


def _unzip(archive, member, target: Path, budget: int, path: Path) -> int:
    """Extract one member, counting the bytes really written (not the header's);
    the budget left (negative: past it, extraction stopped)."""
    if member.file_size > budget:
        return -1
    with archive.open(member) as src, open(target, "wb") as dst:
        while block := src.read(1 << 20):
            budget -= len(block)
            if budget < 0:
                return budget
            dst.write(block)
    return budget
