"""JSON API: layers as GeoJSON, liveness."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from ..config import parse_bbox
from ..errors import BadRequest, NotFound
from ..layers import REGISTRY, get_spec, tr
from ..maps.geojson import to_geojson
from . import current_lang, get_store

bp = Blueprint("api", __name__)

RESERVED = {"bbox", "lang", "limit"}


@bp.get("/healthz")
def healthz():
    """Liveness: 200 and the data version."""
    store = get_store()
    return jsonify({"status": "ok", "data_version": store.data_version()})


@bp.get("/api/layers")
def layers_index():
    """The public layers with their titles and GeoJSON URLs."""
    lang = current_lang()
    return jsonify(
        {
            "layers": [
                {
                    "name": s.name,
                    "title": tr(s.title, lang),
                    "geometry": s.geometry,
                    "url": url_for("api.layer_geojson", name=s.name, _external=False),
                }
                for s in REGISTRY.values()
                if s.public
            ]
        }
    )


def parse_layer_query(spec, args) -> tuple[tuple | None, dict]:
    """(bbox, filters) from query arguments; BadRequest names the bad parameter."""
    bbox = None
    if args.get("bbox"):
        try:
            bbox = parse_bbox(args["bbox"])
        except ValueError as exc:
            raise BadRequest(f"bbox: {exc}") from None
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
            filters[key] = {
                "int": int,
                "float": float,
                "bool": lambda v: v.lower() in ("1", "true", "yes", "oui"),
                "str": str,
            }[ftype](value)
        except ValueError:
            raise BadRequest(f"{key}: expected a {ftype}, got {value!r}") from None
    return bbox, filters


@bp.get("/api/layers/<name>.geojson")
def layer_geojson(name: str):
    """A public layer as RFC 7946 GeoJSON, with ETag/304 on the data version."""
    spec = get_spec(name)
    if not spec.public:
        raise NotFound(f"unknown layer {name!r}")
    store = get_store()
    version = store.data_version()
    query = request.query_string.decode("utf-8", "replace")
    etag = hashlib.sha256(f"{name}|{version}|{query}".encode()).hexdigest()[:24]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        return response
    bbox, filters = parse_layer_query(spec, request.args)
    frame = store.read(name, bbox=bbox, filters=filters, published_only=True)
    if spec.publishable:
        frame = frame.drop(columns=["published"])
    body = json.dumps(
        to_geojson(frame, drop=("version",)), ensure_ascii=False, separators=(",", ":")
    )
    response = current_app.response_class(body, mimetype="application/geo+json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
