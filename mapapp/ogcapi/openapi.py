"""The OpenAPI 3.0 document of the OGC API, generated from the layer registry.

Every public layer gets its own paths (``/collections/<name>/items`` …) with its
real properties as response schemas and query parameters, so clients that read
the document (QGIS reads the ``limit`` bounds and the property parameters, GDAL the
parameters too) know the limits and filters without guessing. Nothing here is
written twice: fields, limits, CRS and conformance come from the code that serves
them.
"""

from __future__ import annotations

from ..layers import REGISTRY, LayerSpec, tr
from ..limits import ID_PATTERN, MAX_QUERY_VALUE, MAX_TEXT_LENGTH
from .crs import CRS84, SUPPORTED
from .features import (
    DATETIME_PATTERN,
    DEFAULT_LIMIT,
    FILTER_LANGS,
    GEOJSON,
    MAX_LIMIT,
    MAX_OFFSET,
    OPENAPI,
    SCHEMA_JSON,
    field_schema,
    output_fields,
    queryable_fields,
)

JSON = "application/json"
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\ufffe\\uffff]*$"
HTML = "text/html"
REF = "#/components/{}/{}"


def _contact(base: str, territory) -> dict:
    """Who publishes the data: the territory's organisation, else mapapp."""
    if territory is None:
        return {"name": "mapapp", "url": base}
    return {
        "name": territory.organisation["fr"],
        "url": territory.organisation_url or base,
    }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": REF.format(kind, name)}


def openapi(
    base: str, lang: str, version: str, licence: dict | None, territory=None
) -> dict:
    """The OpenAPI 3.0.3 document of the service rooted at ``base`` (…/ogc/), naming
    the territory (a :class:`mapapp.territory.Territory`) when one is given."""
    name = territory.name if territory else None
    info = {
        "title": "mapapp – OGC API - Features",
        "version": version,
        "description": tr(
            {
                "fr": "Données publiées de la carte du numérique"
                + (f" de {name['fr']}" if name else "")
                + ", selon OGC API - Features (parties 1, 2 et 3).",
                "en": "Published data of the map of the digital economy"
                + (f" of {name['en']}" if name else "")
                + ", as OGC API - Features (parts 1, 2 and 3).",
            },
            lang,
        ),
        "contact": _contact(base, territory),
    }
    if licence:
        info["license"] = {"name": licence["title"], "url": licence["url"]}
    paths = _service_paths()
    for spec in REGISTRY.values():
        if spec.public:
            paths.update(_collection_paths(spec, lang))
    return {
        "openapi": "3.0.3",
        "info": info,
        "servers": [{"url": base.rstrip("/")}],
        "paths": paths,
        "components": {
            "parameters": {**_parameters(), **_more_parameters()},
            "schemas": _schemas(lang),
            "responses": _responses(),
        },
    }


def _get(summary: str, op_id: str, params: list, responses: dict) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": op_id,
            "parameters": params,
            "responses": responses,
        }
    }


def _ok(schema: dict, media: str = JSON, html: bool = True, headers=None) -> dict:
    content = {media: {"schema": schema}}
    if html:
        content[HTML] = {"schema": {"type": "string"}}
    answer = {"description": "success", "content": content}
    if headers:
        answer["headers"] = headers
    return answer


def _errors(*codes: int) -> dict:
    return {str(c): _ref("responses", str(c)) for c in codes}


def _service_paths() -> dict:
    common = [_ref("parameters", "f"), _ref("parameters", "lang")]
    return {
        "/": _get(
            "Landing page",
            "getLandingPage",
            common,
            {"200": _ok(_ref("schemas", "landingPage")), **_errors(400)},
        ),
        "/api": _get(
            "This API definition (HTML: its documentation)",
            "getApiDefinition",
            common,
            {"200": _ok({"type": "object"}, OPENAPI), **_errors(400)},
        ),
        "/conformance": _get(
            "Conformance classes implemented",
            "getConformance",
            common,
            {"200": _ok(_ref("schemas", "confClasses")), **_errors(400)},
        ),
        "/collections": _get(
            "The feature collections",
            "getCollections",
            common,
            {"200": _ok(_ref("schemas", "collections")), **_errors(400)},
        ),
    }


def _collection_paths(spec: LayerSpec, lang: str) -> dict:
    name, title = spec.name, tr(spec.title, lang)
    common = [_ref("parameters", "f"), _ref("parameters", "lang")]
    crs_header = {"Content-Crs": {"schema": {"type": "string"}}}
    items_params = common + [
        _ref("parameters", p)
        for p in ("limit", "offset", "bbox", "bbox-crs", "crs", "datetime")
        + ("filter", "filter-lang", "filter-crs")
    ]
    items_params += [_property_parameter(f, lang) for f in queryable_fields(spec)]
    collection = _ref("schemas", f"featureCollection.{name}")
    return {
        f"/collections/{name}": _get(
            f"{title}: description",
            f"describeCollection.{name}",
            common,
            {"200": _ok(_ref("schemas", "collection")), **_errors(400, 404)},
        ),
        f"/collections/{name}/queryables": _get(
            f"{title}: the properties a filter may use",
            f"getQueryables.{name}",
            common,
            {"200": _ok({"type": "object"}, SCHEMA_JSON), **_errors(400, 404)},
        ),
        f"/collections/{name}/schema": _get(
            f"{title}: the schema of its features (profile=geojson: of one "
            "GeoJSON feature, for GDAL)",
            f"getSchema.{name}",
            common + [_ref("parameters", "profile")],
            {"200": _ok({"type": "object"}, SCHEMA_JSON), **_errors(400, 404)},
        ),
        f"/collections/{name}/items": _get(
            f"{title}: features",
            f"getFeatures.{name}",
            items_params,
            {"200": _ok(collection, GEOJSON, headers=crs_header), **_errors(400)},
        ),
        f"/collections/{name}/items/{{featureId}}": _get(
            f"{title}: one feature",
            f"getFeature.{name}",
            common + [_ref("parameters", "featureId"), _ref("parameters", "crs")],
            {
                "200": _ok(
                    _ref("schemas", f"feature.{name}"), GEOJSON, True, crs_header
                ),
                **_errors(400, 404),
            },
        ),
    }


def _property_parameter(field, lang: str) -> dict:
    """A queryable property as a query parameter (``?status=planned``): exact
    equality, Part 3's queryables-query-parameters."""
    schema = field_schema(field, lang)
    schema.pop("title")
    if field.type == "str" and "enum" not in schema:
        # what a text field can hold (mapapp/layers/validation.py) and a query
        # value's length (mapapp/limits.py)
        schema["pattern"] = TEXT_PATTERN
        schema["maxLength"] = min(MAX_TEXT_LENGTH, MAX_QUERY_VALUE)
    return {
        "name": field.name,
        "in": "query",
        "description": f"{tr(field.label, lang)} (=)",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": schema,
    }


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "required": False,
        "style": "form",
        "explode": False,
        "schema": schema,
    }


def _parameters() -> dict:
    crs_enum = {"type": "string", "enum": list(SUPPORTED), "default": CRS84}
    numbers = {"type": "number"}
    return {
        "f": _query("f", {"type": "string", "enum": ["json", "html"]}, "format"),
        "lang": _query(
            "lang",
            {"type": "string"},
            "fr or en (titles, descriptions); another value falls back to the "
            "cookie, then Accept-Language",
        ),
        "limit": _query(
            "limit",
            {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT},
            f"the page size; a larger limit than {MAX_LIMIT} is read as {MAX_LIMIT} "
            "(the next link goes on)",
        ),
        "offset": _query(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "features skipped",
        ),
        "bbox": _query(
            "bbox",
            # four numbers, or six with heights (the standard's own bbox.yaml)
            {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "oneOf": [{"maxItems": 4}, {"minItems": 6}],
                "items": {**numbers, "minimum": -1e9 + 1, "maximum": 1e9 - 1},
            },
            "minx,miny,maxx,maxy in bbox-crs; minx > maxx crosses the antimeridian",
        ),
        "bbox-crs": _query("bbox-crs", crs_enum, "the CRS of bbox"),
        "crs": _query("crs", crs_enum, "the CRS of the answer's coordinates"),
        # what a CQL2 text is, a grammar says, not a pattern: the format names it
        "filter": _query(
            "filter",
            {"type": "string", "minLength": 1, "format": "cql2-text"},
            "a CQL2-text expression on the collection's queryables",
        ),
        "filter-lang": _query(
            "filter-lang",
            {"type": "string", "enum": list(FILTER_LANGS), "default": "cql2-text"},
            "the filter's language (cql-text: the draft's name, read as cql2-text)",
        ),
        "filter-crs": _query("filter-crs", crs_enum, "the CRS of filter geometries"),
    }


def _more_parameters() -> dict:
    """datetime, the schema's profile and the feature id."""
    return {
        "datetime": _query(
            "datetime",
            {"type": "string", "pattern": DATETIME_PATTERN},
            "an RFC 3339 date or date-time, or an interval (start/end, '..' for an "
            "open end); no collection has a time property, so every feature matches",
        ),
        "profile": _query(
            "profile",
            {"type": "string", "enum": ["geojson"]},
            "geojson: the schema of one GeoJSON feature (attributes under "
            "properties), which GDAL reads to type the fields",
        ),
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": "a feature's id: 1 to 100 letters, digits, '-', '_' or "
            "'.' (any other is no feature's: 404)",
            "schema": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
        },
    }


def _responses() -> dict:
    exception = {"content": {JSON: {"schema": _ref("schemas", "exception")}}}
    html = {HTML: {"schema": {"type": "string"}}}
    return {
        "400": {
            "description": "a parameter is invalid",
            "content": {**exception["content"], **html},
        },
        "404": {
            "description": "no such collection or feature",
            "content": {**exception["content"], **html},
        },
    }


def _schemas(lang: str) -> dict:
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    }
    links = {"type": "array", "items": _ref("schemas", "link")}
    schemas = {
        "link": link,
        "exception": {
            "type": "object",
            "required": ["code"],
            "properties": {
                "code": {"type": "string"},
                "description": {"type": "string"},
            },
        },
        "landingPage": {
            "type": "object",
            "required": ["links"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": links,
            },
        },
        "confClasses": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {
                "conformsTo": {"type": "array", "items": {"type": "string"}}
            },
        },
        "collections": {
            "type": "object",
            "required": ["links", "collections"],
            "properties": {
                "links": links,
                "collections": {
                    "type": "array",
                    "items": _ref("schemas", "collection"),
                },
            },
        },
        "collection": _collection_schema(links),
    }
    for spec in REGISTRY.values():
        if spec.public:
            schemas.update(_feature_schemas(spec, lang, links))
    return schemas


def _collection_schema(links: dict) -> dict:
    return {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": links,
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
            "extent": {"type": "object"},
        },
    }


def _geometry_schema(spec: LayerSpec) -> dict:
    position = {
        "type": "array",
        "minItems": 2,
        "maxItems": 3,
        "items": {"type": "number"},
    }
    ring = {"type": "array", "minItems": 4, "items": position}
    polygon = {"type": "array", "items": ring}
    if spec.geometry == "Point":
        kinds = [("Point", position)]
    else:
        kinds = [
            ("Polygon", polygon),
            ("MultiPolygon", {"type": "array", "items": polygon}),
        ]
    return {
        "nullable": True,
        "oneOf": [
            {
                "type": "object",
                "required": ["type", "coordinates"],
                "properties": {
                    "type": {"type": "string", "enum": [kind]},
                    "coordinates": coords,
                },
            }
            for kind, coords in kinds
        ],
    }


def _nullable(schema: dict, field) -> dict:
    """An optional field's schema also takes null (in its enum too, as OpenAPI
    3.0.3 asks)."""
    if field.required:
        return schema
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return {**schema, "nullable": True}


def _feature_schemas(spec: LayerSpec, lang: str, links: dict) -> dict:
    props = {f.name: _nullable(field_schema(f, lang), f) for f in output_fields(spec)}
    feature = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": _geometry_schema(spec),
            "properties": {
                "type": "object",
                "required": ["id"],
                "properties": props,
                "additionalProperties": False,
            },
            "links": links,
        },
    }
    collection = {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": _ref("schemas", f"feature.{spec.name}"),
            },
            "links": links,
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
        },
    }
    return {
        f"feature.{spec.name}": feature,
        f"featureCollection.{spec.name}": collection,
    }
