"""JSON API: layers as GeoJSON, liveness."""

from __future__ import annotations

import json

import geopandas as gpd
from flask import Blueprint, current_app, jsonify, request, url_for

from ..config import parse_bbox
from ..errors import BadRequest, Gone, NotFound
from ..layers import REGISTRY, get_spec, tr
from ..maps.compact import normalise
from ..maps.geojson import features, to_geojson
from . import current_lang, get_store, send_cached, snapshot

bp = Blueprint("api", __name__)

RESERVED = {"bbox", "lang", "limit"}
SEARCH_LIMIT = 8


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
    query = request.query_string.decode("utf-8", "replace")
    key = ("geojson", name, store.data_version(), query)
    cache = current_app.extensions["mapapp.pages"]
    item = cache.get(key)
    if item is None:
        bbox, filters = parse_layer_query(spec, request.args)
        frame = store.read(name, bbox=bbox, filters=filters, published_only=True)
        frame = frame.drop(columns=["published"], errors="ignore")
        body = json.dumps(
            to_geojson(frame, drop=("version",)),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        item = cache.put(key, body, html=False)
    response = send_cached(item, "application/geo+json")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def public_point_spec(name: str):
    """The spec of a public point layer, or NotFound."""
    spec = get_spec(name)
    if not spec.public or spec.geometry != "Point":
        raise NotFound(f"no public point layer {name!r}")
    return spec


def _current(name: str):
    """The layer's snapshot; Conflict-free check of the ``v`` the client holds."""
    snap = snapshot(name)
    wanted = request.args.get("v")
    if wanted is not None and wanted != str(snap.version):
        raise Gone(
            f"the data changed (version {snap.version}, the map has {wanted}): "
            "reload the map"
        )
    return snap


@bp.get("/api/layers/<name>.points")
def layer_points(name: str):
    """A large point layer as compact integer arrays (see maps/compact.py)."""
    public_point_spec(name)
    snap = _current(name)
    raw, gz = snap.compact()
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = current_app.response_class(
        gz if use_gzip else raw, mimetype="application/json"
    )
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    # the URL carries the data version, so the payload never changes under it
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.set_etag(f"{name}-{snap.version}")
    return response


@bp.get("/api/layers/<name>/items/<int:index>")
def layer_item(name: str, index: int):
    """One feature of a snapshot by position, for the popups of large layers."""
    public_point_spec(name)
    snap = _current(name)
    if not 0 <= index < len(snap.frame):
        raise NotFound(f"no feature at position {index} in {name!r}")
    found = get_store().get(name, str(snap.frame["id"].iloc[index]))
    row = gpd.GeoDataFrame(
        [found["properties"]], geometry=[found["geometry"]], crs="EPSG:4326"
    )
    feature = features(row.drop(columns=["published"], errors="ignore"))[0]
    response = jsonify(feature)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/api/search")
def search():
    """Features whose name contains ``q``, across the public layers."""
    query = request.args.get("q", "").strip()
    if len(query) < 2:
        raise BadRequest("q: give at least two characters")
    wanted = request.args.get("layers")
    names = [s.name for s in REGISTRY.values() if s.public]
    if wanted:
        names = [n for n in names if n in wanted.split(",")]
    lang = current_lang()
    hits = []
    for name in names:
        snap = snapshot(name)
        for index in snap.search(query, SEARCH_LIMIT - len(hits)):
            row = snap.frame.iloc[index]
            point = row.geometry.representative_point()
            hits.append(
                {
                    "layer": name,
                    "layer_title": tr(snap.spec.title, lang),
                    "index": index,
                    "id": row["id"],
                    "name": row[snap.spec.label_field],
                    "lat": round(point.y, 5),
                    "lon": round(point.x, 5),
                    "version": snap.version,
                }
            )
        if len(hits) >= SEARCH_LIMIT:
            break
    return jsonify({"query": query, "normalised": normalise(query), "hits": hits})
