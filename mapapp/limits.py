"""Size limits on everything that comes in, in one place (docs/deploy.md lists them).

Every input has a bound: a field's text, an identifier, a feature's vertices, a
request body, the nesting of a JSON document, the columns of a CSV header. The web
layer, the importers and the store's validation all read them from here, so both
store backends refuse the same things with the same messages.
"""

from __future__ import annotations

import json
import re

from .errors import BadRequest

# --- features --------------------------------------------------------------------
MAX_TEXT_LENGTH = 2_000  # characters in one text field
MAX_ID_LENGTH = 100  # characters in a feature id
# Letters, digits, `-`, `_`, `.`; starts with a letter or a digit: an id is used
# as it is in URLs (/api/layers/<name>/features/<id>) and in file names.
ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_ID_LENGTH - 1}}}")
MAX_VERTICES = 20_000  # coordinates in one feature's geometry (all its parts)

# --- requests ----------------------------------------------------------------------
MAX_JSON_BODY = 1024 * 1024  # bytes of a JSON request body (the edit API)
MAX_FORM_BODY = 64 * 1024  # bytes of a form that carries no file (sign-in, …)
MAX_JSON_DEPTH = 32  # nesting of arrays and objects in a JSON body
MAX_QUERY_VALUE = 2_000  # characters of one query-string value

# --- filters (OGC API, CQL2) ----------------------------------------------------------
MAX_FILTER_GEOMETRIES = 16  # spatial terms (S_INTERSECTS) in one filter
MAX_FILTER_VERTICES = 500  # coordinates of the geometry literals of one filter, all
QUERY_SECONDS = 10.0  # time a filtered read may take in the store before it stops (503)
# requests with a spatial filter other than a box answered at once by one process
# (503 beyond, after a short wait): the other worker threads stay free for the rest
MAX_SPATIAL_QUERIES = 2
# list pages (/list) made at once by one process, a search of every row and a page
# rendered each (a page already made is served from the cache, not counted): ten
# clients asking random texts took every worker thread, /healthz waited behind them
MAX_LIST_PAGES = 2

# --- imported files ----------------------------------------------------------------
MAX_CSV_COLUMNS = 1_000  # columns of a CSV header, checked before pandas reads it
MAX_FIELDS = 1_000  # properties of a vector file (GeoJSON, GeoPackage, Shapefile)
# A .gz or .zip (an upload, or a file `mapapp update` downloads) may expand to at
# most MAX_UNPACK_RATIO times its size (any size up to UNPACK_FLOOR), and never past
# MAX_UNPACKED: the official files expand 5 to 20 times, a zip bomb 300 and more.
MAX_UNPACK_RATIO = 100
UNPACK_FLOOR = 100 * 1024**2
MAX_UNPACKED = 4 * 1024**3

HISTORY_ID_MAX = 2**63 - 1  # history entries are numbered by 64-bit integers


def json_depth(data: bytes | str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped).

    A linear scan with no recursion, so a hostile body of 100,000 brackets is
    measured, not parsed.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(data: bytes | str, what: str = "body") -> object:
    """Parse a JSON document within the limits; BadRequest says what is wrong."""
    size = len(data)
    if size > MAX_JSON_BODY:
        raise BadRequest(f"{what}: {size} bytes, more than the {MAX_JSON_BODY} allowed")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(
            f"{what}: nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects"
        )
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"{what}: not valid JSON ({exc})") from None


def unpack_limit(packed_bytes: int) -> int:
    """The bytes a compressed file of ``packed_bytes`` may expand to."""
    return min(MAX_UNPACKED, max(UNPACK_FLOOR, MAX_UNPACK_RATIO * packed_bytes))
