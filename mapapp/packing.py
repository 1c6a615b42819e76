"""Values as plain numpy arrays, for the files a server keeps across restarts
(mapapp.snapshots.SnapshotFiles): bytes and small JSON documents become arrays of
bytes, so a kept file holds arrays only and is read without unpickling anything.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def bytes_array(data: bytes) -> np.ndarray:
    """``data`` as an array of bytes (no copy)."""
    return np.frombuffer(data, dtype=np.uint8)


def json_array(value) -> np.ndarray:
    """``value`` as JSON in an array of bytes. ValueError when JSON would not give
    it back as it is (a tuple, a date, a numpy number...): a kept file must read
    as what was built. NaN is kept (pandas' text columns mark a missing value
    with it)."""
    try:
        text = json.dumps(value)  # in its own order: facts are shown in it
    except TypeError as exc:
        raise ValueError(f"not kept as JSON: {exc}") from exc
    if not _same(json.loads(text), value):
        raise ValueError("not kept as JSON: it reads back otherwise")
    return bytes_array(text.encode())


def json_of(array: np.ndarray):
    """The value :func:`json_array` made ``array`` of."""
    return json.loads(array.tobytes())


def _same(read, value) -> bool:
    """Whether ``read`` is ``value`` in type and content (``1 == True == 1.0`` for
    Python, not for a file that must read as it was written)."""
    if type(read) is not type(value):
        return False
    if isinstance(value, list):
        return len(read) == len(value) and all(map(_same, read, value))
    if isinstance(value, dict):
        return read.keys() == value.keys() and all(
            _same(read[k], v) for k, v in value.items()
        )
    if isinstance(value, float) and math.isnan(value):
        return math.isnan(read)
    return read == value


def frame_arrays(frame: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """A GeoDataFrame of a few thousand rows as one JSON document: its columns'
    values and dtypes, its index, its geometries as WKB and its CRS. ValueError
    when it would not read back equal (a column of values JSON does not hold)."""
    geometry = frame.geometry.name
    doc = {
        "columns": list(map(str, frame.columns)),
        "geometry": geometry,
        "crs": frame.crs.to_string() if frame.crs else None,
        "index": frame.index.tolist(),
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items() if c != geometry},
        "values": {str(c): frame[c].tolist() for c in frame.columns if c != geometry},
        "wkb": shapely.to_wkb(frame.geometry.values, hex=True).tolist(),
    }
    arrays = {"frame": json_array(doc)}
    read = frame_of(arrays)
    if not (read.equals(frame) and (read.dtypes == frame.dtypes).all()):
        raise ValueError("not kept as JSON: the frame reads back otherwise")
    return arrays


def frame_of(arrays: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    """The GeoDataFrame :func:`frame_arrays` gave ``arrays`` for."""
    doc = json_of(arrays["frame"])
    data = {c: pd.Series(v, dtype=doc["dtypes"][c]) for c, v in doc["values"].items()}
    wkb = np.array(doc["wkb"], dtype=object)
    data[doc["geometry"]] = gpd.GeoSeries(shapely.from_wkb(wkb), crs=doc["crs"])
    frame = pd.DataFrame(data)[doc["columns"]]
    index = doc["index"]
    frame.index = pd.RangeIndex(len(index)) if index == [*range(len(index))] else index
    return gpd.GeoDataFrame(frame, geometry=doc["geometry"], crs=doc["crs"])
