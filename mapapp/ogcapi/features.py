"""The OGC API - Features resources: landing page, conformance, collections,
queryables, items and single features (see the package docstring)."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from ..errors import BadRequest, MapappError, TimeLimit
from ..layers import COMMUNE_LEVEL, Field, LayerSpec, tr, without_commune_points
from ..limits import ID_PATTERN, MAX_SPATIAL_QUERIES, QUERY_SECONDS
from ..maps.geojson import features, orient
from ..store import Store
from ..store.filters import And, Compare, Filter, In, Intersects, IsNull, Not, Or
from .cql2 import GEOMETRY, Cql2Error, parse_filter
from .crs import CRS84, SUPPORTED, CrsError, bbox_geometry, decimals, from_crs84
from .crs import parse_crs as _parse_crs

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
]
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
# far beyond any layer, and within the integers both backends take for OFFSET
MAX_OFFSET = 2**31 - 1
# Parameters of the items request other than the queryable properties.
RESERVED = {
    "f",
    "lang",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "datetime",  # no temporal property: checked, then ignored (Part 1, 7.15.4)
}
# Part 1's datetime: an RFC 3339 instant (or a date), or an interval with open ends
_INSTANT = (
    r"\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?"
)
DATETIME_PATTERN = rf"^(?:{_INSTANT}|(?:{_INSTANT}|\.\.)?/(?:{_INSTANT}|\.\.)?)$"
# Part 5 (schemas) and the link GDAL's OAPIF driver reads to type the fields
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
DESCRIBED_BY = "describedBy"
# "cql-text", the name of the 2021 draft, is what GDAL's OAPIF driver (3.6 to 3.12
# at least) looks for before it sends a -where clause to the server; what it sends
# (comparisons, LIKE, IS NULL, AND/OR/NOT) is CQL2 text as well.
FILTER_LANGS = ("cql2-text", "cql-text")
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
GEOMETRY_FORMATS = {"Point": "geometry-point", "Polygon": "geometry-multipolygon"}


class OgcError(MapappError):
    """An OGC API exception: ``code`` (e.g. InvalidParameterValue) and a status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status = status
        self.code = code

    def to_dict(self) -> dict:
        return {"code": self.code, "description": self.message}


def bad_parameter(description: str) -> OgcError:
    """The 400 InvalidParameterValue exception."""
    return OgcError(400, "InvalidParameterValue", description)


def _link(href, rel, type_, title=None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def licences_of(metadata: dict) -> list[dict]:
    """The licences (``title``, ``url``) a layer's metadata names."""
    found = metadata.get("licences") or [metadata.get("licence")]
    return [lic for lic in found if isinstance(lic, dict) and lic.get("url")]


def service_texts(territory=None) -> tuple[dict, dict]:
    """The service's title and description (``{fr, en}``), naming the territory
    (a :class:`mapapp.territory.Territory`) when one is given."""
    short = territory.short_name if territory else {"fr": "", "en": ""}
    name = territory.name if territory else {"fr": "", "en": ""}
    title = {
        "fr": "mapapp – données ouvertes du numérique"
        + (f" : {short['fr']}" if territory else ""),
        "en": "mapapp – open data of the digital economy"
        + (f": {short['en']}" if territory else ""),
    }
    description = {
        "fr": "Entreprises du numérique, coworking, formations, couverture fibre et "
        "périmètres du quartier numérique"
        + (f" de {name['fr']}" if territory else "")
        + " (données publiées).",
        "en": "Digital companies, coworking, training, fibre coverage and "
        "digital-quarter perimeters"
        + (f" of {name['en']}" if territory else "")
        + " (published data).",
    }
    return title, description


def landing(base: str, lang: str, licences: list[dict] = (), territory=None) -> dict:
    """The landing page: what the service is and where its parts are."""
    title, description = service_texts(territory)
    unique = {lic["url"]: lic for lic in licences}.values()
    return {
        "title": tr(title, lang),
        "description": tr(description, lang),
        "links": [
            _link(f"{base}?f=json", "self", "application/json", "this document"),
            _link(f"{base}?f=html", "alternate", "text/html", "this document as HTML"),
            _link(f"{base}api", "service-desc", OPENAPI, "the API definition"),
            _link(f"{base}api?f=html", "service-doc", "text/html", "the API docs"),
            _link(f"{base}conformance", "conformance", "application/json"),
            _link(f"{base}collections", "data", "application/json", "collections"),
        ]
        + [_link(lic["url"], "license", "text/html", lic["title"]) for lic in unique],
    }


def conformance() -> dict:
    """The conformance classes implemented (and only those)."""
    return {"conformsTo": CONFORMANCE}


def collection(
    spec: LayerSpec,
    bounds: Sequence[float] | None,
    base: str,
    lang: str,
    metadata: dict,
) -> dict:
    """One collection: title, extent, CRS, links to its items, queryables and
    downloads, licence (from the layer's metadata). ``bounds`` are the published
    features' (minx, miny, maxx, maxy), None when there are none (the world)."""
    if bounds is not None:
        extent = [round(float(v), 5) for v in bounds]
    else:
        extent = [-180.0, -90.0, 180.0, 90.0]
    url = f"{base}collections/{spec.name}"
    licences = licences_of(metadata)
    return {
        "id": spec.name,
        "title": tr(spec.title, lang),
        "description": _describe(spec, lang, metadata, licences),
        "itemType": "feature",
        "crs": list(SUPPORTED),
        # the store keeps WGS84 longitude/latitude: CRS84 is what it holds
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84}},
        "license": "; ".join(lic["title"] for lic in licences),
        "attribution": "; ".join(metadata["sources"]),
        "updated": metadata["latest_source_date"],
        "links": [
            _link(url, "self", "application/json"),
            _link(f"{url}?f=html", "alternate", "text/html"),
            _link(f"{url}/items", "items", GEOJSON, "the features"),
            _link(f"{url}/items?f=html", "items", "text/html", "the features as HTML"),
            _link(f"{url}/queryables", QUERYABLES_REL, SCHEMA_JSON, "queryables"),
            _link(f"{url}/schema", SCHEMA_REL, SCHEMA_JSON, "the schema"),
            # GDAL (3.6 on) types the fields from this schema of a GeoJSON feature
            _link(
                f"{url}/schema?profile=geojson",
                DESCRIBED_BY,
                SCHEMA_JSON,
                "the schema of a GeoJSON feature of this collection",
            ),
        ]
        + [_link(lic["url"], "license", "text/html", lic["title"]) for lic in licences]
        + [
            _link(u, "enclosure", t, f"download ({fmt})")
            for fmt, (u, t) in metadata.get("downloads", {}).items()
        ],
    }


def _describe(spec: LayerSpec, lang: str, metadata: dict, licences: list) -> str:
    sources = ", ".join(metadata["sources"][:4])
    more = metadata.get("more_sources", 0)
    titles = "; ".join(lic["title"] for lic in licences)
    if lang == "fr":
        return (
            f"{tr(spec.title, lang)} ({metadata['features']} objets publiés). "
            f"Sources : {sources}{f' et {more} autres' if more else ''}. "
            f"Licence : {titles}."
        )
    return (
        f"{tr(spec.title, lang)} ({metadata['features']} published features). "
        f"Sources: {sources}{f' and {more} more' if more else ''}. "
        f"Licence: {titles}."
    )


# --- queryables -------------------------------------------------------------------


def queryable_fields(spec: LayerSpec) -> list[Field]:
    """The fields a filter may use: all but ``published`` (always true here)."""
    return [f for f in spec.fields if f.name != "published"]


def output_fields(spec: LayerSpec) -> list[Field]:
    """The properties of a served feature: every field of the layer."""
    return list(spec.fields)


def queryable_types(spec: LayerSpec) -> dict[str, str]:
    """Queryable names and their types, the geometry included."""
    types = {f.name: f.type for f in queryable_fields(spec)}
    return {**types, GEOMETRY: "geometry"}


def field_schema(field: Field, lang: str) -> dict:
    """The JSON Schema of one field's values."""
    schema = {"title": tr(field.label, lang), "type": JSON_TYPES[field.type]}
    if field.choices:
        schema["enum"] = list(field.choices)
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    return schema


def queryables(spec: LayerSpec, base: str, lang: str) -> dict:
    """The queryables of a collection as a JSON Schema (Part 3)."""
    props = {
        GEOMETRY: {
            "title": tr({"fr": "Géométrie", "en": "Geometry"}, lang),
            "format": GEOMETRY_FORMATS[spec.geometry],
            "x-ogc-role": "primary-geometry",
        }
    }
    props.update({f.name: field_schema(f, lang) for f in queryable_fields(spec)})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{spec.name}/queryables",
        "type": "object",
        "title": tr(spec.title, lang),
        "properties": props,
        "additionalProperties": False,
    }


def _nullable_type(field: Field, schema: dict) -> dict:
    """An optional field's values may be null too (JSON Schema 2020-12)."""
    if not field.required:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _nullable_flag(field: Field, schema: dict) -> dict:
    """An optional field's values may be null too (OpenAPI 3.0's keyword)."""
    if not field.required:
        schema["nullable"] = True
        if "enum" in schema:  # as OpenAPI 3.0.3 asks of a nullable enum
            schema["enum"] = [*schema["enum"], None]
    return schema


def schema(spec: LayerSpec, base: str, lang: str) -> dict:
    """The schema of the collection's features (Part 5 "schemas"): every property,
    its type, allowed values and ranges, the id and the primary geometry."""
    props = {
        GEOMETRY: {
            "title": tr({"fr": "Géométrie", "en": "Geometry"}, lang),
            "format": GEOMETRY_FORMATS[spec.geometry],
            "x-ogc-role": "primary-geometry",
        }
    }
    for field in output_fields(spec):
        props[field.name] = _nullable_type(field, field_schema(field, lang))
    props["id"]["x-ogc-role"] = "id"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{spec.name}/schema",
        "type": "object",
        "title": tr(spec.title, lang),
        "properties": props,
        "additionalProperties": False,
    }


def _geojson_geometry(spec: LayerSpec) -> dict:
    kinds = ["Point"] if spec.geometry == "Point" else ["Polygon", "MultiPolygon"]
    return {
        "type": ["object", "null"],
        "properties": {"type": {"type": "string", "enum": kinds}},
    }


def feature_schema(spec: LayerSpec, base: str, lang: str) -> dict:
    """The JSON Schema of one GeoJSON feature of the collection, its attributes
    under ``properties`` (the form GDAL's OAPIF driver reads through the
    collection's ``describedBy`` link to type the fields)."""
    attributes = {
        field.name: _nullable_flag(field, field_schema(field, lang))
        for field in output_fields(spec)
        if field.name != "id"  # the feature's own id: GDAL makes it a field apart
    }
    return {
        "$id": f"{base}collections/{spec.name}/schema?profile=geojson",
        "title": tr(spec.title, lang),
        # GDAL 3.6 reads a single type per attribute: nulls are said the OpenAPI
        # 3.0 way, as in the feature schemas of the API definition
        "description": "A GeoJSON feature of this collection; nullable: true marks "
        "the properties that may be null (OpenAPI 3.0 schema object).",
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": _geojson_geometry(spec),
            "properties": {"type": "object", "properties": attributes},
        },
    }


# --- items --------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsQuery:
    """An items request as plain values: a page, a filter and the output CRS."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    where: Filter | None = None
    crs: str = CRS84


def output_crs(args: Mapping[str, str]) -> str:
    """The ``crs`` asked (CRS84 by default); OgcError for an unsupported one."""
    return _crs_param(args, "crs")


def _crs_param(args: Mapping[str, str], name: str) -> str:
    value = args.get(name)
    if value is None:
        return CRS84
    try:
        return _parse_crs(value)
    except CrsError as exc:
        raise bad_parameter(f"{name}: {exc}") from None


def parse_items_query(args: Mapping[str, str], spec: LayerSpec) -> ItemsQuery:
    """limit, offset, bbox, filter, property values and crs; OgcError names a bad
    parameter."""
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        offset = int(args.get("offset", 0))
    except ValueError:
        raise bad_parameter("limit and offset must be integers") from None
    if limit < 1 or not 0 <= offset <= MAX_OFFSET:
        raise bad_parameter(f"limit must be 1 or more and offset 0 to {MAX_OFFSET}")
    # a larger limit is read as the largest page (Part 1: the next link goes on)
    limit = min(limit, MAX_LIMIT)
    if "datetime" in args and not re.match(DATETIME_PATTERN, args["datetime"]):
        raise bad_parameter(
            "datetime: an RFC 3339 date or date-time, or an interval start/end "
            "with '..' for an open end"
        )
    _check_companions(args)
    parts = []
    if "bbox" in args:
        parts.append(_bbox_filter(args))
    if "filter" in args:
        parts.append(_cql2_filter(args, spec))
    for key, value in args.items():
        if key not in RESERVED:
            parts.append(_property_filter(spec, key, value))
    where = None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))
    return ItemsQuery(limit, offset, located_only(where, spec), output_crs(args))


def located_only(expr: Filter | None, spec: LayerSpec) -> Filter | None:
    """A spatial predicate holds only for features with a geometry: those of a
    point layer located at commune level only are served without one (their
    stored point is their commune's anchor), so neither a bbox nor S_INTERSECTS,
    nor its negation, selects them (a predicate on a missing value is unknown, as
    in SQL)."""
    if expr is None or spec.geometry != "Point" or "precision" not in spec.field_names:
        return expr
    located = Compare("precision", "<>", COMMUNE_LEVEL)
    if _spatial_only(expr):
        # once around a whole AND/OR of spatial terms rather than in each term
        # (the same in SQL's logic): the store tests them as one set of features
        return And((expr, located))
    if isinstance(expr, And | Or):
        return type(expr)(tuple(located_only(p, spec) for p in expr.parts))
    if isinstance(expr, Not) and _spatial(expr.part):
        return And((Not(located_only(expr.part, spec)), located))
    return expr


def _spatial_only(expr: Filter) -> bool:
    """True for a spatial predicate, or an AND or OR of them and nothing else."""
    if isinstance(expr, And | Or):
        return bool(expr.parts) and all(_spatial_only(p) for p in expr.parts)
    return isinstance(expr, Intersects)


def _spatial(expr: Filter) -> bool:
    """True when a filter holds a spatial predicate."""
    if isinstance(expr, Intersects):
        return True
    if isinstance(expr, And | Or):
        return any(_spatial(p) for p in expr.parts)
    return isinstance(expr, Not) and _spatial(expr.part)


def _check_companions(args: Mapping[str, str]) -> None:
    """bbox-crs, filter-crs and filter-lang must be values the server knows, even
    without the bbox or filter they qualify (then they change nothing)."""
    for name in ("bbox-crs", "filter-crs"):
        _crs_param(args, name)
    if args.get("filter-lang", "cql2-text") not in FILTER_LANGS:
        raise bad_parameter("filter-lang: only cql2-text is supported")


NOTHING = Or(())  # the filter no feature passes


def _bbox_filter(args: Mapping[str, str]) -> Filter:
    crs = _crs_param(args, "bbox-crs")
    try:
        bbox = [float(v) for v in args["bbox"].split(",")]
    except ValueError:
        bbox = []
    if len(bbox) == 6:  # with heights, which the layers do not have
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    if len(bbox) != 4 or not all(abs(v) < 1e9 for v in bbox):
        raise bad_parameter(
            "bbox: four numbers minx,miny,maxx,maxy in the axis order of bbox-crs"
        )
    try:
        area = bbox_geometry(bbox, crs)
    except CrsError:
        # a box whose south is above its north holds no place
        return NOTHING
    if not _finite(area):  # beyond what the CRS can place on the Earth
        return NOTHING
    if area.geom_type == "MultiPolygon":  # across the antimeridian
        return Or(tuple(Intersects(part) for part in area.geoms))
    return Intersects(area)


def _finite(geometry) -> bool:
    coords = shapely.get_coordinates(geometry)
    return bool(len(coords)) and bool(np.isfinite(coords).all())


def _placeable(expr: Filter) -> Filter:
    """The filter with every geometry no CRS84 place can meet (coordinates beyond
    the domain of their CRS) made a filter no feature passes."""
    if isinstance(expr, Intersects):
        return expr if _finite(expr.geometry) else NOTHING
    if isinstance(expr, And | Or):
        return type(expr)(tuple(_placeable(part) for part in expr.parts))
    if isinstance(expr, Not):
        return Not(_placeable(expr.part))
    return expr


def _cql2_filter(args: Mapping[str, str], spec: LayerSpec) -> Filter:
    if args.get("filter-lang", "cql2-text") not in FILTER_LANGS:
        raise bad_parameter("filter-lang: only cql2-text is supported")
    crs = _crs_param(args, "filter-crs")
    try:
        return _placeable(parse_filter(args["filter"], queryable_types(spec), crs))
    except Cql2Error as exc:
        raise bad_parameter(f"filter: {exc}") from None


def _property_filter(spec: LayerSpec, key: str, value: str) -> Filter:
    names = [f.name for f in queryable_fields(spec)]
    if key not in names:
        raise bad_parameter(
            f"{key}: unknown parameter; the queryable properties are {', '.join(names)}"
        )
    kind = spec.field(key).type
    try:
        if kind == "bool":
            typed = {"true": True, "false": False}[value.lower()]
        else:
            typed = {"int": int, "float": float, "str": str}[kind](value)
    except (KeyError, ValueError):
        expected = {"bool": "true or false", "int": "an integer"}.get(kind, "a number")
        raise bad_parameter(f"{key}: expected {expected}") from None
    _check_range(spec.field(key), typed)
    return Compare(key, "=", typed)


def _check_range(field: Field, value: object) -> None:
    """A value a field can never hold is a bad parameter, not an empty answer."""
    if field.choices and value not in field.choices:
        raise bad_parameter(f"{field.name}: one of {', '.join(field.choices)}")
    low, high = field.minimum, field.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise bad_parameter(f"{field.name}: from {low} to {high}")


def _read(store: Store, spec: LayerSpec, where, **page) -> gpd.GeoDataFrame:
    try:
        frame = store.read(spec.name, published_only=True, where=where, **page)
    except BadRequest as exc:  # the store refused the filter: say so the OGC way
        raise bad_parameter(exc.message) from None
    return without_commune_points(frame.drop(columns=["version"]), spec.name)


def _features(frame: gpd.GeoDataFrame, crs: str) -> list[dict]:
    # every property, null or not: clients that read the first page for the
    # layer's fields (QGIS) then see them all. Rings are wound counterclockwise
    # (RFC 7946) on the map, before any change of axis order.
    if crs == CRS84:
        return features(frame, nulls=True)
    moved = gpd.GeoDataFrame(
        frame.drop(columns="geometry"),
        geometry=from_crs84(orient(frame.geometry.values), crs),
        crs=None,  # coordinates already in the output CRS: features() keeps them
    )
    return features(moved, precision=decimals(crs), nulls=True, wind=False)


def exemplars(store: Store, spec: LayerSpec) -> tuple[str, ...]:
    """For each optional number or yes/no property, the first published feature
    that has a value for it: the default order puts them first, so that a client
    that types the fields from the first page (QGIS 3.22) sees every type."""
    found: list[str] = []
    for field in queryable_fields(spec):
        if field.type == "str" or field.required:
            continue
        first = store.read(
            spec.name,
            published_only=True,
            where=IsNull(field.name, negate=True),
            columns=["id"],
            limit=1,
        )
        if len(first) and first["id"].iloc[0] not in found:
            found.append(str(first["id"].iloc[0]))
    return tuple(found)


def _page(store: Store, spec: LayerSpec, query: ItemsQuery) -> gpd.GeoDataFrame:
    """One page: in the store's order when a filter is given; by default the
    exemplars first, then every other feature in the store's order."""
    if query.where is not None:
        return _read(store, spec, query.where, limit=query.limit, offset=query.offset)
    first = exemplars(store, spec)
    if not first:
        return _read(store, spec, None, limit=query.limit, offset=query.offset)
    head = _read(store, spec, In("id", first))
    head = head.set_index("id", drop=False).loc[list(first)].reset_index(drop=True)
    head = head.iloc[query.offset : query.offset + query.limit]
    rest_offset = max(0, query.offset - len(first))
    rest = _read(
        store,
        spec,
        In("id", first, negate=True),
        limit=query.limit - len(head),
        offset=rest_offset,
    )
    return pd.concat([head, rest], ignore_index=True) if len(head) else rest


_SPATIAL = threading.BoundedSemaphore(MAX_SPATIAL_QUERIES)
WAIT_S = 0.1  # a spatial filter waits this long for its turn (holding a thread)


@contextmanager
def _admitted(expr: Filter | None):
    """A turn for a filter with a spatial term other than a box (one of
    MAX_SPATIAL_QUERIES at once), or OgcError 503 after WAIT_S; others pass."""
    if expr is None or not _costly(expr):
        yield
        return
    if not _SPATIAL.acquire(timeout=WAIT_S):
        raise OgcError(
            503,
            "ServiceUnavailable",
            f"{MAX_SPATIAL_QUERIES} spatial filters are being answered already (the "
            "limit MAX_SPATIAL_QUERIES): try again in a moment",
        )
    try:
        yield
    finally:
        _SPATIAL.release()


def _costly(expr: Filter) -> bool:
    """True when a filter tests geometries other than boxes (bbox queries are
    answered from the spatial index alone)."""
    if isinstance(expr, Intersects):
        geom = expr.geometry
        return not (
            geom.geom_type == "Point"
            or (geom.geom_type == "Polygon" and geom.equals(box(*geom.bounds)))
        )
    if isinstance(expr, And | Or):
        return any(_costly(part) for part in expr.parts)
    if isinstance(expr, Not):
        return _costly(expr.part)
    return False


def items(
    store: Store,
    spec: LayerSpec,
    query: ItemsQuery,
    base: str,
    args: Mapping[str, str],
    stamp: str | None = None,
) -> dict:
    """A page of features with numberMatched, numberReturned and next/prev links
    (their query strings percent-encoded, so any filter value round-trips);
    ``stamp`` is the answer's timeStamp (now by default)."""
    try:
        with _admitted(query.where), store.time_budget(QUERY_SECONDS):
            matched = store.count(spec.name, published_only=True, where=query.where)
            page = _page(store, spec, query)
    except TimeLimit as exc:
        raise OgcError(503, "ServiceUnavailable", exc.message) from None
    url = f"{base}collections/{spec.name}/items"

    def page_url(offset: int, fmt: str = "json") -> str:
        keep = [(k, v) for k, v in args.items() if k not in ("offset", "f")]
        keep += [("offset", str(offset)), ("f", fmt)]
        return url + "?" + urlencode(keep, quote_via=quote)

    links = [
        _link(page_url(query.offset), "self", GEOJSON),
        _link(page_url(query.offset, "html"), "alternate", "text/html"),
        _link(f"{base}collections/{spec.name}", "collection", "application/json"),
    ]
    if query.offset + query.limit < matched:
        links.append(_link(page_url(query.offset + query.limit), "next", GEOJSON))
    if query.offset > 0:
        previous = max(0, query.offset - query.limit)
        links.append(_link(page_url(previous), "prev", GEOJSON))
    return {
        "type": "FeatureCollection",
        "features": _features(page, query.crs),
        "numberMatched": int(matched),
        "numberReturned": int(len(page)),
        "timeStamp": stamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }


def item(store: Store, spec: LayerSpec, fid: str, base: str, crs: str = CRS84) -> dict:
    """One published feature, or OgcError 404 (at once for an id no feature can
    have: see the featureId pattern of the API definition)."""
    if not ID_PATTERN.fullmatch(fid):
        raise OgcError(404, "NotFound", f"no feature {fid[:100]!r} in {spec.name!r}")
    hit = _read(store, spec, Compare("id", "=", fid), limit=1)
    if hit.empty:
        raise OgcError(404, "NotFound", f"no feature {fid!r} in {spec.name!r}")
    feature = _features(hit, crs)[0]
    url = f"{base}collections/{spec.name}/items/{quote(fid, safe='')}"
    feature["links"] = [
        _link(url, "self", GEOJSON),
        _link(f"{url}?f=html", "alternate", "text/html"),
        _link(f"{base}collections/{spec.name}", "collection", "application/json"),
    ]
    return feature
