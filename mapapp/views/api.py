"""JSON API: layers as GeoJSON, liveness."""

from __future__ import annotations

import json
import re

import geopandas as gpd
from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from shapely.errors import ShapelyError
from shapely.geometry import mapping, shape

from ..analysis.catchments import catchment, to_metric
from ..analysis.indicators import key_figures
from ..analysis.places import name_cells
from ..analysis.suitability import CRITERIA, score_at, top_cells
from ..analysis.timeline import ecosystem
from ..config import parse_bbox
from ..errors import BadRequest, Gone, MapappError, NotFound
from ..layers import REGISTRY, get_spec, tr
from ..maps.compact import normalise
from ..maps.geojson import features, stored_feature, to_geojson
from . import analysis as analysis_views
from . import current_lang, get_store, send_cached, snapshot
from .auth import Forbidden, login_required

bp = Blueprint("api", __name__)


class PreconditionRequired(MapappError):
    status = 428


RESERVED = {"bbox", "lang", "limit", "include"}
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
    everything = request.args.get("include") == "unpublished" and g.get("user")
    key = ("geojson", name, store.data_version(), query, bool(everything))
    cache = current_app.extensions["mapapp.pages"]
    item = cache.get(key)
    if item is None:
        bbox, filters = parse_layer_query(spec, request.args)
        frame = store.read(
            name, bbox=bbox, filters=filters, published_only=not everything
        )
        if not everything:
            frame = frame.drop(columns=["published"], errors="ignore")
        body = json.dumps(
            to_geojson(frame, drop=("version",)),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        item = cache.put(key, body, html=False)
    response = send_cached(item, "application/geo+json")
    if everything:
        response.headers["Cache-Control"] = "private, no-store"
    else:
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


# --- editing (planners): features with versions, If-Match, history ---------------


def editable_spec(name: str):
    spec = get_spec(name)
    if not spec.editable:
        raise Forbidden(
            f"layer {name!r} is not edited on the map (it comes from imports)"
        )
    return spec


feature_json = stored_feature


def with_etag(payload: dict, version: int, status: int = 200):
    response = jsonify(payload)
    response.status_code = status
    response.headers["ETag"] = f'"{version}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def if_match() -> int:
    """The version a write is based on, from If-Match (required)."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        raise PreconditionRequired("If-Match: send the ETag (version) you read")
    try:
        return int(raw.strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        raise BadRequest(
            f'If-Match: expected a version such as "3", got {raw!r}'
        ) from None


def read_feature_body() -> tuple[dict, object | None]:
    """(properties, geometry or None) from a GeoJSON Feature request body."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("body: expected a GeoJSON Feature (JSON object)")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise BadRequest("properties: expected an object")
    geometry = None
    if body.get("geometry") is not None:
        try:
            geometry = shape(body["geometry"])
        except (ValueError, TypeError, KeyError, AttributeError, ShapelyError) as exc:
            raise BadRequest(f"geometry: not a GeoJSON geometry ({exc})") from None
    if body.get("id") is not None and "id" not in props:
        props["id"] = str(body["id"])
    return props, geometry


def new_id(store, layer: str, props: dict) -> str:
    """A readable unique id from the name (``le-numerique-2`` when taken)."""
    base = re.sub(r"[^a-z0-9]+", "-", normalise(props.get("name") or layer)).strip("-")
    base = (base or layer)[:60]
    candidate, n = base, 1
    while True:
        try:
            store.get(layer, candidate)
        except NotFound:
            return candidate
        n += 1
        candidate = f"{base}-{n}"


@bp.get("/api/layers/<name>/features/<fid>")
@login_required()
def feature_get(name: str, fid: str):
    """One feature, published or not, with its version as ETag."""
    feature = get_store().get(name, fid)
    return with_etag(feature_json(feature), feature["version"])


@bp.post("/api/layers/<name>/features")
@login_required()
def feature_create(name: str):
    """Add a feature (a GeoJSON Feature); 201 with its version."""
    editable_spec(name)
    props, geometry = read_feature_body()
    store = get_store()
    props.setdefault("id", new_id(store, name, props))
    saved = store.add(name, props, geometry, author=g.user["name"])
    response = with_etag(feature_json(saved), saved["version"], status=201)
    response.headers["Location"] = url_for(
        "api.feature_get", name=name, fid=saved["id"]
    )
    return response


@bp.patch("/api/layers/<name>/features/<fid>")
@login_required()
def feature_update(name: str, fid: str):
    """Change fields and/or geometry; If-Match required, 412 if someone saved first."""
    editable_spec(name)
    expected = if_match()
    props, geometry = read_feature_body()
    props.pop("id", None)
    saved = get_store().update(
        name, fid, props, geometry, expected_version=expected, author=g.user["name"]
    )
    return with_etag(feature_json(saved), saved["version"])


@bp.delete("/api/layers/<name>/features/<fid>")
@login_required()
def feature_delete(name: str, fid: str):
    """Delete (recoverable from the history); If-Match required."""
    editable_spec(name)
    get_store().delete(name, fid, expected_version=if_match(), author=g.user["name"])
    return "", 204


@bp.get("/api/layers/<name>/features/<fid>/history")
@login_required()
def feature_history(name: str, fid: str):
    """Every change of a feature: who, when, before and after."""
    return jsonify(
        {"layer": name, "id": fid, "history": get_store().history(name, fid)}
    )


@bp.post("/api/layers/<name>/features/<fid>/restore")
@login_required()
def feature_restore(name: str, fid: str):
    """Bring back the state of one history entry (also undeletes)."""
    editable_spec(name)
    body = request.get_json(silent=True) or {}
    try:
        history_id = int(body.get("history_id"))
    except (TypeError, ValueError):
        raise BadRequest("history_id: expected the id of a history entry") from None
    expected = if_match() if request.headers.get("If-Match") else None
    saved = get_store().restore(
        name, fid, history_id, author=g.user["name"], expected_version=expected
    )
    return with_etag(feature_json(saved), saved["version"])


@bp.get("/api/layers/<name>/deleted")
@login_required()
def layer_deleted(name: str):
    """Features deleted and not restored, with the entry that restores them."""
    return jsonify({"layer": name, "deleted": get_store().deleted(name)})


# --- analyses (planners): catchments, suitability, scenarios, key figures --------


def _catchment_place(data_filters):
    """The place of a catchment: lat/lon, or a coworking site or perimeter by id."""
    layer, fid = request.args.get("layer"), request.args.get("id")
    if layer or fid:
        if layer not in ("coworking", "perimeters") or not fid:
            raise BadRequest(
                _(
                    "Parameters layer and id: give layer=coworking or "
                    "layer=perimeters and the id of one of its items."
                )
            )
        feature = get_store().get(layer, fid)
        return feature["geometry"], {
            "layer": layer,
            "id": fid,
            "name": feature["properties"].get("name"),
        }
    return analysis_views.place_from_request(), None


@bp.get("/api/analysis/catchment")
@login_required()
def analysis_catchment():
    """Figures within walking distance of a place, a coworking site or a perimeter."""
    filters = analysis_views.request_filters()
    radius = analysis_views.radius_from_request()
    place, target = _catchment_place(filters)
    result = catchment(analysis_views.prepared(filters), place, radius)
    result["area"] = mapping(result["area"])
    result["place"] = mapping(place) if place.geom_type == "Point" else None
    result["target"] = target
    return jsonify(result)


@bp.get("/api/analysis/suitability")
@login_required()
def analysis_suitability():
    """The suitability grid (GeoJSON cells) and the five best cells, explained."""
    filters = analysis_views.request_filters()
    weights = analysis_views.weights_from_request()
    cell = analysis_views.cell_from_request()
    cells = analysis_views.grid_for(filters, weights, cell)
    out = cells[["score", "rank", "geometry"]].to_crs(4326)
    out["score"] = out["score"].round(4)
    return jsonify(
        {
            "cell_m": cell,
            "weights": weights,
            "criteria": list(CRITERIA),
            "top": name_cells(
                top_cells(cells, 5),
                get_store().read("zones"),
                get_store().read("fibre"),
            ),
            "cells": to_geojson(out.assign(id=out["rank"].astype(str))),
        }
    )


def scenario_rows(filters: dict, radius: float, weights: dict, cell: int) -> list[dict]:
    """The planned or proposed coworking sites and the candidate perimeters with
    their catchment figures, fibre, station distance and suitability."""
    store = get_store()
    data = analysis_views.prepared(filters)
    cells = analysis_views.grid_for(filters, weights, cell)
    rows = []
    sites = store.read("coworking")
    sites = sites[sites["status"].isin(("planned", "proposed", "under_construction"))]
    for layer, frame in (
        ("coworking", sites),
        ("perimeters", store.read("perimeters")),
    ):
        for _i, row in frame.iterrows():
            c = catchment(data, row.geometry, radius)
            place_m = to_metric(row.geometry)
            rows.append(
                {
                    "layer": layer,
                    "id": row["id"],
                    "name": row["name"],
                    "status": row["status"],
                    "published": bool(row.get("published")),
                    "companies": c["companies"]["count"],
                    "jobs_estimate": c["companies"]["jobs_estimate"],
                    "schools": c["schools"]["count"],
                    "students": c["schools"]["students"],
                    "coworking_desks": c["coworking"]["desks"],
                    "fibre_coverage": c["fibre_coverage"],
                    "nearest_station_m": c["nearest_station_m"],
                    "suitability": score_at(cells, place_m),
                }
            )
    return rows


@bp.get("/api/analysis/scenarios")
@login_required()
def analysis_scenarios():
    """Planned coworking sites and candidate perimeters side by side."""
    filters = analysis_views.request_filters()
    return jsonify(
        {
            "radius_m": analysis_views.radius_from_request(),
            "rows": scenario_rows(
                filters,
                analysis_views.radius_from_request(),
                analysis_views.weights_from_request(),
                analysis_views.cell_from_request(),
            ),
        }
    )


@bp.get("/api/analysis/figures")
@login_required()
def analysis_figures():
    """Key figures of the whole area and, with ``perimeter=<id>``, of one perimeter."""
    filters = analysis_views.request_filters()
    data = analysis_views.prepared(filters)
    out = {"area": key_figures(data)}
    if request.args.get("perimeter"):
        feature = get_store().get("perimeters", request.args["perimeter"])
        out["perimeter"] = {
            "id": feature["id"],
            "name": feature["properties"]["name"],
            **key_figures(data, to_metric(feature["geometry"])),
        }
    return jsonify(out)


def timeline_scope() -> tuple[object | None, dict]:
    """The area of a timeline: the whole area, ``perimeter=<id>``, or the catchment
    (``radius``) of a place (``lat``/``lon``) or of a site (``layer``/``id``)."""
    if request.args.get("perimeter"):
        feature = get_store().get("perimeters", request.args["perimeter"])
        name = feature["properties"].get("name")
        scope = {"kind": "perimeter", "id": feature["id"], "name": name}
        return to_metric(feature["geometry"]), scope
    if any(request.args.get(k) for k in ("lat", "lon", "layer", "id")):
        radius = analysis_views.radius_from_request()
        place, target = _catchment_place(None)
        scope = {"kind": "catchment", "radius_m": radius, "target": target}
        return to_metric(place).buffer(radius, quad_segs=16), scope
    return None, {"kind": "area"}


@bp.get("/api/analysis/timeline")
@login_required()
def analysis_timeline():
    """Establishments created per year, net change and those existing at the end of
    each year (whole area, a perimeter or a catchment); unknown dates counted."""
    filters = analysis_views.request_filters()
    data = analysis_views.prepared(filters)
    area, scope = timeline_scope()
    first = request.args.get("first")
    first = int(analysis_views.number("first", low=1900, high=2100)) if first else None
    return jsonify({"scope": scope, **ecosystem(data, area, first=first)})
