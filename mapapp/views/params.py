"""Request parameters parsed into plain values, with errors in the page language.

Every view reads its query string, headers and JSON body through these functions,
once per request, and hands plain values (filters, radius, weights, cell size,
places, bboxes) to the site. A bad value is a BadRequest naming the parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import shapely
from flask import current_app, g, request
from flask_babel import gettext as _
from shapely.errors import ShapelyError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from ..analysis import DEFAULT_RADIUS_M, JOBS_BASES, MAX_RADIUS_M, MIN_RADIUS_M
from ..analysis.filters import FilterError, parse_filters
from ..analysis.suitability import CRITERIA, DEFAULT_WEIGHTS
from ..config import parse_bbox
from ..errors import BadRequest, PreconditionRequired
from ..layers import LayerSpec
from ..layers.validation import inside_area
from ..limits import parse_json
from ..ogcapi.crs import CRS84, CrsError, parse_crs, short_name

LANGS = ("fr", "en")
LANG_COOKIE = "mapapp_lang"
MIN_CELL_M, MAX_CELL_M = 100, 1000
CATCHMENT_TARGETS = ("coworking", "perimeters")
RESERVED = {"bbox", "lang", "limit", "include"}


def current_lang() -> str:
    """The page language: ``?lang=``, then the cookie, then Accept-Language."""
    cached = g.get("lang")
    if cached:
        return cached
    lang = request.args.get("lang", "").lower()
    if lang not in LANGS:
        lang = request.cookies.get(LANG_COOKIE, "")
    if lang not in LANGS:
        lang = request.accept_languages.best_match(
            LANGS, default=current_app.config["DEFAULT_LANG"]
        )
    g.lang = lang if lang in LANGS else "fr"
    return g.lang


def asked_lang() -> str | None:
    """The language asked in the query string (to remember in a cookie), or None."""
    lang = request.args.get("lang", "").lower()
    return lang if lang in LANGS else None


def number(
    args: Mapping[str, str],
    name: str,
    default: float | None = None,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """A numeric parameter, checked; errors name it and say why."""
    if len(getattr(args, "getlist", lambda _n: ())(name)) > 1:
        raise BadRequest(_("Parameter %(param)s is given more than once.", param=name))
    raw = args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(_("Parameter %(param)s is required.", param=name))
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(
            _(
                "Parameter %(param)s must be a number, not %(value)s.",
                param=name,
                value=repr(raw[:40]),
            )
        ) from None
    if (
        not math.isfinite(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise BadRequest(
            _(
                "Parameter %(param)s must be between %(low)s and %(high)s.",
                param=name,
                low=low,
                high=high,
            )
        )
    return value


def bbox(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """``bbox=min_lon,min_lat,max_lon,max_lat``, or None when absent."""
    if not args.get("bbox"):
        return None
    try:
        return parse_bbox(args["bbox"])
    except ValueError as exc:
        raise BadRequest(f"bbox: {exc}") from None


_CASTS = {
    "int": int,
    "float": float,
    "bool": lambda v: v.lower() in ("1", "true", "yes", "oui"),
    "str": str,
}


def field_filters(spec: LayerSpec, args: Mapping[str, str]) -> dict[str, object]:
    """``field=value`` equality filters of a layer's GeoJSON, typed by the spec."""
    filters = {}
    for key, value in args.items():
        if key in RESERVED:
            continue
        if key not in spec.field_names or key == "published":
            raise BadRequest(
                f"{key}: unknown filter for layer {spec.name!r}; "
                f"fields: {', '.join(spec.field_names)}"
            )
        ftype = spec.field(key).type
        try:
            filters[key] = _CASTS[ftype](value)
        except ValueError:
            raise BadRequest(f"{key}: expected a {ftype}, got {value!r}") from None
    return filters


# an INSEE commune code: 5 characters, Corsica's with 2A or 2B
COMMUNE_CODE = re.compile(r"(?:\d{2}|2[AB])\d{3}")


def analysis_filters(args: Mapping[str, str]) -> dict:
    """The planner's filters (``companies.sector=software,…``)."""
    try:
        filters = parse_filters(args)
        codes = filters.get("companies", {}).get("commune_code", set())
        wrong = sorted(c for c in codes if not COMMUNE_CODE.fullmatch(c))
        if wrong:
            raise FilterError(
                f"companies.commune_code: not commune codes: {', '.join(wrong)}",
                "unknown_values",
                param="companies.commune_code",
                values=", ".join(wrong),
                allowed=_("INSEE commune codes"),
            )
        return filters
    except FilterError as exc:  # its code and parameters, in the page language
        if exc.code == "unknown_values":
            message = _(
                "Parameter %(param)s: unknown value(s) %(values)s; expected some "
                "of: %(allowed)s.",
                **exc.params,
            )
        else:
            message = _(
                "Parameter %(param)s is not a filter; the filters are: %(filters)s.",
                **exc.params,
            )
        raise BadRequest(message) from None


def radius(args: Mapping[str, str]) -> float:
    """The catchment radius in metres (200 to 3000, default 800)."""
    return number(args, "radius", DEFAULT_RADIUS_M, MIN_RADIUS_M, MAX_RADIUS_M)


def weights(args: Mapping[str, str]) -> dict[str, float]:
    """Suitability weights ``w.<criterion>=0..10``; an unknown criterion is an error."""
    out = dict(DEFAULT_WEIGHTS)
    for key in args:
        if not key.startswith("w."):
            continue
        if key[2:] not in CRITERIA:
            raise BadRequest(
                _(
                    "Parameter %(param)s: unknown criterion; criteria are %(names)s.",
                    param=key,
                    names=", ".join(f"w.{c}" for c in CRITERIA),
                )
            )
        out[key[2:]] = number(args, key, low=0, high=10)
    if sum(out.values()) <= 0:
        raise BadRequest(_("Parameters w.*: at least one weight must be above zero."))
    return out


def cell(args: Mapping[str, str], default: int) -> int:
    """The suitability grid's cell size in metres (100 to 1000)."""
    return int(number(args, "cell", default, low=MIN_CELL_M, high=MAX_CELL_M))


def place(args: Mapping[str, str], area) -> Point:
    """``lat`` and ``lon`` as a point inside the study area (its contour)."""
    lat = number(args, "lat", low=-90, high=90)
    lon = number(args, "lon", low=-180, high=180)
    if not inside_area(Point(lon, lat), area):
        raise BadRequest(
            _("Parameters lat and lon: the place is outside the study area.")
        )
    return Point(lon, lat)


ZONE_KINDS = ("quarter", "iris", "commune")


def place_zone(args: Mapping[str, str]) -> tuple[str, str] | None:
    """``kind`` (quarter, iris, commune) and ``code`` of a zone of the place
    search, or None when neither is given (then ``lat`` and ``lon`` are read)."""
    kind, code = args.get("kind"), args.get("code")
    if not (kind or code):
        return None
    if kind not in ZONE_KINDS or not code or len(code) > 40:
        raise BadRequest(
            _(
                "Parameters kind and code: a kind among %(kinds)s and the code of "
                "a zone.",
                kinds=", ".join(ZONE_KINDS),
            )
        )
    return kind, code


def jobs_basis(args: Mapping[str, str]) -> str:
    """``jobs``: whose headcount bands the jobs estimate counts, ``register`` (the
    default: SIRENE's bands only) or ``all`` (press figures too)."""
    value = args.get("jobs") or "register"
    if value not in JOBS_BASES:
        raise BadRequest(
            _(
                "Parameter %(param)s: expected %(values)s.",
                param="jobs",
                values=", ".join(JOBS_BASES),
            )
        )
    return value


def catchment_target(args: Mapping[str, str]) -> tuple[str, str] | None:
    """``layer`` and ``id`` of a coworking site or perimeter, or None for lat/lon."""
    layer, fid = args.get("layer"), args.get("id")
    if not (layer or fid):
        return None
    if layer not in CATCHMENT_TARGETS or not fid:
        raise BadRequest(
            _(
                "Parameters layer and id: give layer=coworking or "
                "layer=perimeters and the id of one of its items."
            )
        )
    return layer, fid


def if_match(required: bool = True) -> int | None:
    """The version a write is based on, from If-Match (428 when required and absent)."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        if required:
            raise PreconditionRequired("If-Match: send the ETag (version) you read")
        return None
    try:
        return int(raw.strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        raise BadRequest(
            f'If-Match: expected a version such as "3", got {raw!r}'
        ) from None


def json_body() -> object:
    """The request's JSON body, within the limits (size, nesting; mapapp.limits)."""
    return parse_json(request.get_data(cache=True), "body")


def feature_body() -> tuple[dict, BaseGeometry | None]:
    """(properties, geometry or None) from a GeoJSON Feature request body. Heights
    (a third coordinate, allowed by GeoJSON) are dropped: the layers are 2-D."""
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("body: expected a GeoJSON Feature (JSON object)")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise BadRequest("properties: expected an object")
    geometry = None
    if body.get("geometry") is not None:
        try:
            geometry = shapely.force_2d(shape(body["geometry"]))
        except (ValueError, TypeError, KeyError, AttributeError, ShapelyError) as exc:
            raise BadRequest(f"geometry: not a GeoJSON geometry ({exc})") from None
    if body.get("id") is not None and "id" not in props:
        props["id"] = str(body["id"])
    return props, geometry


def history_id() -> int:
    """The ``history_id`` of a restore request's JSON body (a whole number)."""
    body = json_body()
    value = body.get("history_id") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRequest("history_id: expected the id of a history entry")
    try:
        return int(value)
    except ValueError:
        raise BadRequest("history_id: expected the id of a history entry") from None


def search_query(args: Mapping[str, str]) -> str:
    """The text of a search (at least two characters)."""
    query = args.get("q", "").strip()[:100]
    if len(query) < 2:
        raise BadRequest("q: give at least two characters")
    return query


def data_version(args: Mapping[str, str]) -> int | None:
    """The data version ``v`` a client holds (map pages load data with it)."""
    raw = args.get("v")
    try:
        return None if raw is None else int(raw)
    except ValueError:
        raise BadRequest(f"v: expected a data version number, got {raw!r}") from None


def timeline_scope(args: Mapping[str, str], area) -> tuple:
    """(target, place, radius) of a timeline: ``perimeter=<id>``, a site
    (``layer``/``id``) or a place (``lat``/``lon``) with ``radius``; all None for
    the whole area."""
    if args.get("perimeter"):
        return ("perimeters", args["perimeter"]), None, None
    target = catchment_target(args)
    if target:
        return target, None, radius(args)
    if args.get("lat") or args.get("lon"):
        return None, place(args, area), radius(args)
    return None, None, None


def first_year(args: Mapping[str, str]) -> int | None:
    """``first``: the first year of a timeline (1900 to 2100), or None."""
    if not args.get("first"):
        return None
    return int(number(args, "first", low=1900, high=2100))


def download_crs(args: Mapping[str, str]) -> str | None:
    """The ``crs`` of a download as a pyproj name (``EPSG:2154``), or None for the
    default WGS84 longitude/latitude."""
    raw = args.get("crs")
    if not raw:
        return None
    try:
        uri = parse_crs(raw)
    except CrsError:
        raise BadRequest(
            _(
                "Unsupported coordinate system %(crs)s: use EPSG:2154 (Lambert-93), "
                "EPSG:3857, EPSG:4326 or CRS84.",
                crs=repr(raw[:40]),
            )
        ) from None
    return None if uri == CRS84 else short_name(uri)
