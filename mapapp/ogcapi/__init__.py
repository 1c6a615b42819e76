"""OGC API - Features over the published layers: Part 1 (Core, GeoJSON, HTML,
OpenAPI 3.0), Part 2 (coordinate reference systems) and Part 3 (queryables and
CQL2-text filters), with no Flask inside.

Handlers take plain values (the store, the layer spec, the base URL, the query
arguments) and return dicts; the Flask view only negotiates the format and renders.
Errors are :class:`OgcError` with the OGC exception codes.

- :mod:`.features`: landing page, conformance, collections, items, queryables;
- :mod:`.openapi`: the OpenAPI 3.0 document, generated from the layer registry;
- :mod:`.cql2`: the CQL2-text parser; :mod:`.crs`: the CRS the API speaks.
"""

from __future__ import annotations

from .crs import CRS84, SUPPORTED
from .features import (
    CONFORMANCE,
    DEFAULT_LIMIT,
    GEOJSON,
    MAX_LIMIT,
    OPENAPI,
    SCHEMA_JSON,
    ItemsQuery,
    OgcError,
    collection,
    conformance,
    feature_schema,
    item,
    items,
    landing,
    output_crs,
    parse_items_query,
    queryables,
    schema,
)
from .openapi import openapi

__all__ = [
    "CONFORMANCE",
    "CRS84",
    "DEFAULT_LIMIT",
    "GEOJSON",
    "MAX_LIMIT",
    "OPENAPI",
    "SCHEMA_JSON",
    "SUPPORTED",
    "ItemsQuery",
    "OgcError",
    "collection",
    "conformance",
    "feature_schema",
    "item",
    "items",
    "landing",
    "openapi",
    "output_crs",
    "parse_items_query",
    "queryables",
    "schema",
]
