"""OGC API - Features, Part 1 (Core, GeoJSON, HTML) over the published layers.

Handlers take plain values (the layer snapshot, the base URL, query arguments) and
return dicts; the Flask view only negotiates the format and renders. Errors are
:class:`OgcError` with the OGC exception codes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import MapappError
from ..exports import LICENCE
from ..layers import LayerSpec, tr
from ..maps.geojson import features

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
RESERVED = {"f", "bbox", "bbox-crs", "limit", "offset", "lang", "datetime", "crs"}
GEOJSON = "application/geo+json"


class OgcError(MapappError):
    """An OGC API exception: ``code`` (e.g. InvalidParameterValue) and a status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status = status
        self.code = code

    def to_dict(self) -> dict:
        return {"code": self.code, "description": self.message}


def _link(href, rel, type_, title=None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(base: str, lang: str) -> dict:
    """The landing page: what the service is and where its parts are."""
    title = {
        "fr": "mapapp – données ouvertes du numérique à Besançon",
        "en": "mapapp – open data of Besançon's digital economy",
    }
    return {
        "title": tr(title, lang),
        "description": tr(
            {
                "fr": "Entreprises du numérique, coworking, formations, "
                "couverture fibre et périmètres du quartier numérique "
                "de Grand Besançon (données publiées).",
                "en": "Digital companies, coworking, training, fibre "
                "coverage and digital-quarter perimeters of Grand "
                "Besançon (published data).",
            },
            lang,
        ),
        "links": [
            _link(f"{base}?f=json", "self", "application/json", "this document"),
            _link(f"{base}?f=html", "alternate", "text/html", "this document as HTML"),
            _link(
                f"{base}conformance",
                "conformance",
                "application/json",
                "OGC API conformance classes",
            ),
            _link(
                f"{base}collections",
                "data",
                "application/json",
                "the feature collections",
            ),
            _link(LICENCE["url"], "license", "text/html", LICENCE["title"]),
        ],
    }


def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


def collection(
    spec: LayerSpec, frame: gpd.GeoDataFrame, base: str, lang: str, metadata: dict
) -> dict:
    """One collection: title, extent, links to its items and downloads, licence."""
    if len(frame):
        bounds = [round(float(v), 5) for v in frame.total_bounds]
    else:
        bounds = [-180.0, -90.0, 180.0, 90.0]
    url = f"{base}collections/{spec.name}"
    return {
        "id": spec.name,
        "title": tr(spec.title, lang),
        "description": _describe(spec, lang, metadata),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [bounds], "crs": CRS84}},
        "license": LICENCE["title"],
        "attribution": "; ".join(metadata["sources"]),
        "updated": metadata["latest_source_date"],
        "links": [
            _link(url, "self", "application/json"),
            _link(f"{url}?f=html", "alternate", "text/html"),
            _link(f"{url}/items", "items", GEOJSON, "the features"),
            _link(f"{url}/items?f=html", "items", "text/html", "the features as HTML"),
            _link(LICENCE["url"], "license", "text/html", LICENCE["title"]),
        ]
        + [
            _link(u, "enclosure", t, f"download ({fmt})")
            for fmt, (u, t) in metadata.get("downloads", {}).items()
        ],
    }


def _describe(spec: LayerSpec, lang: str, metadata: dict) -> str:
    sources = ", ".join(metadata["sources"][:4])
    more = metadata.get("more_sources", 0)
    if lang == "fr":
        return (
            f"{tr(spec.title, lang)} ({metadata['features']} objets publiés). "
            f"Sources : {sources}{f' et {more} autres' if more else ''}. "
            f"Licence : {LICENCE['title']}."
        )
    return (
        f"{tr(spec.title, lang)} ({metadata['features']} published features). "
        f"Sources: {sources}{f' and {more} more' if more else ''}. "
        f"Licence: {LICENCE['title']}."
    )


def parse_items_query(args: Mapping[str, str], spec: LayerSpec) -> dict:
    """limit, offset, bbox and property filters; OgcError names a bad parameter."""
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        offset = int(args.get("offset", 0))
    except ValueError:
        raise OgcError(
            400, "InvalidParameterValue", "limit and offset must be integers"
        ) from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise OgcError(
            400,
            "InvalidParameterValue",
            f"limit must be 1 to {MAX_LIMIT} and offset >= 0",
        )
    bbox = None
    if args.get("bbox"):
        try:
            bbox = [float(v) for v in args["bbox"].split(",")]
        except ValueError:
            raise OgcError(
                400,
                "InvalidParameterValue",
                "bbox: four numbers minx,miny,maxx,maxy in CRS84",
            ) from None
        if len(bbox) == 6:
            bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
        if (
            len(bbox) != 4
            or not all(math.isfinite(v) for v in bbox)
            or bbox[0] > bbox[2]
            or bbox[1] > bbox[3]
        ):
            raise OgcError(
                400,
                "InvalidParameterValue",
                "bbox: four finite numbers minx,miny,maxx,maxy in CRS84, min <= max",
            )
    if args.get("bbox-crs") not in (None, CRS84):
        raise OgcError(400, "InvalidParameterValue", f"bbox-crs: only {CRS84}")
    filters = {}
    for key, value in args.items():
        if key in RESERVED:
            continue
        if key not in spec.field_names or key == "published":
            raise OgcError(
                400,
                "InvalidParameterValue",
                f"{key}: unknown parameter; filterable properties are "
                f"{', '.join(f for f in spec.field_names if f != 'published')}",
            )
        filters[key] = value
    return {"limit": limit, "offset": offset, "bbox": bbox, "filters": filters}


def select(frame: gpd.GeoDataFrame, query: dict) -> gpd.GeoDataFrame:
    """The features matching bbox and filters (all of them, before paging)."""
    if query["bbox"]:
        hit = frame.sindex.query(_box(query["bbox"]), predicate="intersects")
        frame = frame.iloc[np.sort(hit)]
    for key, value in query["filters"].items():
        wanted = str(value).lower()
        text = frame[key].map(
            lambda v: (
                ""
                if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                else str(v).lower()
            )
        )
        frame = frame[text == wanted]
    return frame


def _box(b):
    from shapely.geometry import box

    return box(*b)


def items(
    spec: LayerSpec,
    frame: gpd.GeoDataFrame,
    query: dict,
    base: str,
    args: Mapping[str, str],
) -> dict:
    """A page of features with numberMatched, numberReturned and next/prev links."""
    matched = select(frame, query)
    page = matched.iloc[query["offset"] : query["offset"] + query["limit"]]
    url = f"{base}collections/{spec.name}/items"

    def page_url(offset: int, fmt: str = "json") -> str:
        keep = {k: v for k, v in args.items() if k not in ("offset", "f")}
        keep.update({"offset": str(offset), "f": fmt})
        return url + "?" + "&".join(f"{k}={v}" for k, v in keep.items())

    links = [
        _link(page_url(query["offset"]), "self", GEOJSON),
        _link(page_url(query["offset"], "html"), "alternate", "text/html"),
        _link(f"{base}collections/{spec.name}", "collection", "application/json"),
    ]
    if query["offset"] + query["limit"] < len(matched):
        links.append(_link(page_url(query["offset"] + query["limit"]), "next", GEOJSON))
    if query["offset"] > 0:
        links.append(
            _link(page_url(max(0, query["offset"] - query["limit"])), "prev", GEOJSON)
        )
    return {
        "type": "FeatureCollection",
        "features": features(page),
        "numberMatched": int(len(matched)),
        "numberReturned": int(len(page)),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }


def item(spec: LayerSpec, frame: gpd.GeoDataFrame, fid: str, base: str) -> dict:
    """One feature, or OgcError 404."""
    hit = frame[frame["id"] == fid]
    if hit.empty:
        raise OgcError(404, "NotFound", f"no feature {fid!r} in {spec.name!r}")
    feature = features(hit)[0]
    url = f"{base}collections/{spec.name}/items/{fid}"
    feature["links"] = [
        _link(url, "self", GEOJSON),
        _link(f"{url}?f=html", "alternate", "text/html"),
        _link(f"{base}collections/{spec.name}", "collection", "application/json"),
    ]
    return feature
