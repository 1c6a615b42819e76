"""JSON API: liveness, public layers (GeoJSON, compact points, items, search) and the
planners' editing of features (versions, If-Match, history)."""

from __future__ import annotations

import json
import re

from flask import Blueprint, current_app, g, jsonify, request, url_for

from ..cache import Payload
from ..errors import Forbidden, Gone, NotFound
from ..exports import geojson_chunks
from ..layers import get_spec, tr
from ..listing import matched_field
from ..maps.compact import TILE_ZOOMS
from ..maps.geojson import features, stored_feature, to_geojson
from ..site import require_public
from ..snapshots import PackedSnapshot, Snapshot
from ..text import fold
from . import params
from .apidoc import api_document
from .guards import login_required
from .http import send_payload, send_stored, site
from .params import current_lang

bp = Blueprint("api", __name__)

SEARCH_LIMIT = 8


@bp.get("/healthz")
def healthz():
    """Liveness: 200 and the data version."""
    return jsonify({"status": "ok", "data_version": site().data_version()})


@bp.get("/api/openapi.json")
def openapi():
    """This API's definition (OpenAPI 3.0), generated from the routes."""
    base = url_for("api.healthz", _external=True).removesuffix("/healthz")
    return jsonify(api_document(current_app, base))


@bp.get("/api/layers")
def layers_index():
    """The public layers with their titles and GeoJSON URLs."""
    lang = current_lang()
    out = []
    for name in site().public_layers():
        spec = get_spec(name)
        url = url_for("api.layer_geojson", name=name)
        out.append(
            {
                "name": name,
                "title": tr(spec.title, lang),
                "geometry": spec.geometry,
                "url": url,
            }
        )
    return jsonify({"layers": out})


@bp.get("/api/layers/<name>.geojson")
def layer_geojson(name: str):
    """A public layer as RFC 7946 GeoJSON, with ETag/304 on the data version."""
    spec = require_public(name)
    s = site()
    everything = request.args.get("include") == "unpublished" and g.get("user")
    query = request.query_string.decode("utf-8", "replace")

    # read here: the body is made in a thread of its own (cache.get_or_make), out
    # of this request's context
    bbox = params.bbox(request.args)
    filters = params.field_filters(spec, request.args)

    def body() -> bytes:
        frame = s.store.read(
            name, bbox=bbox, filters=filters, published_only=not everything
        )
        if not everything:
            frame = frame.drop(columns=["published"], errors="ignore")
        text = json.dumps(
            to_geojson(frame, drop=("version",)),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return text.encode()

    version = s.layer_version(name)
    large = s.published_count(name) > int(current_app.config["INLINE_MAX_FEATURES"])
    if large and not everything and not request.args:
        # a whole large layer: made once per layer version, in chunks, into a file
        # it is streamed from
        family = ("geojson", name)
        stored = s.stored(
            family,
            (*family, version),
            geojson_chunks,
            name,
            features=s.published_count(name),
        )
        response = send_stored(stored, "application/geo+json")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    key = ("geojson", name, version, query, bool(everything))
    payload = s.payload(key, lambda: Payload.of(body()), heavy=True)
    if everything:
        return send_payload(
            payload, "application/geo+json", cache_control="private, no-store"
        )
    response = send_payload(payload, "application/geo+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def public_points(name: str) -> Snapshot | PackedSnapshot:
    """The snapshot of a public point layer at the data version ``v`` the client
    holds: NotFound for another layer, Gone when the data has changed since."""
    spec = require_public(name)
    if spec.geometry != "Point":
        raise NotFound(f"no public point layer {name!r}")
    snap = site().snapshot(name)
    wanted = request.args.get("v")
    if wanted is not None and wanted != str(snap.version):
        raise Gone(
            f"the data changed (version {snap.version}, the map has {wanted}): "
            "reload the map"
        )
    return snap


# With the current data version in the URL (``?v=``), the payload never changes
# under it: caches may keep it for good. Without it, only with revalidation.
IMMUTABLE = "public, max-age=31536000, immutable"


def _cache_control() -> str:
    return IMMUTABLE if request.args.get("v") is not None else "no-cache"


def _points(payload, mimetype: str):
    return send_payload(
        payload, mimetype, "Accept-Encoding", cache_control=_cache_control()
    )


@bp.get("/api/layers/<name>.points")
def layer_points(name: str):
    """A large point layer as compact integer arrays (see maps/compact.py)."""
    return _points(public_points(name).compact(), "application/json")


@bp.get("/api/layers/<name>.bin")
def layer_points_binary(name: str):
    """The same compact arrays as bytes (maps/compact.py: what the map loads)."""
    return _points(public_points(name).binary(), "application/octet-stream")


@bp.get("/api/layers/<name>.overview")
def layer_overview(name: str):
    """A large point layer counted per grid cell (maps/compact.py: overview_cells):
    what the map draws at low zoom when the layer is very large."""
    return _points(public_points(name).overview(), "application/json")


@bp.get("/api/layers/<name>/tiles/<int:z>/<int:x>/<int:y>.bin")
def layer_tile(name: str, z: int, x: int, y: int):
    """The points of one XYZ tile of a point layer as bytes, each with its position
    in the layer's compact arrays (maps/compact.py: PointTiles.tile): what the map
    loads zoomed in on a layer shown as an overview."""
    snap = public_points(name)
    if z not in TILE_ZOOMS or not (x < 1 << z and y < 1 << z):
        raise NotFound(
            f"no tile {z}/{x}/{y}: levels {TILE_ZOOMS[0]} to {TILE_ZOOMS[-1]}"
        )
    payload = site().point_tile(snap, z, x, y)
    return _points(payload, "application/octet-stream")


@bp.get("/api/layers/<name>/items/<int:index>")
def layer_item(name: str, index: int):
    """One feature of a snapshot by position, for the popups of large layers: read
    from the published snapshot of that same data version, never the live row (a
    draft saved since, or a feature unpublished since, is not served)."""
    snap = public_points(name)
    if not 0 <= index < len(snap):
        raise NotFound(f"no feature at position {index} in {name!r}")
    row = site().snapshot_feature(snap, index)
    if row is None:
        raise Gone("the data changed while it was read: reload the map")
    response = jsonify(features(row)[0])
    response.set_etag(f"{name}-{snap.version}-{index}")
    response.headers["Cache-Control"] = _cache_control()
    return response.make_conditional(request)


@bp.get("/api/search")
def search():
    """Features whose name contains ``q``, across the public layers."""
    query = params.search_query(request.args)
    names = site().public_layers()
    if request.args.get("layers"):
        names = [n for n in names if n in request.args["layers"].split(",")]
    lang, needle = current_lang(), fold(query)
    hits, found = [], site().search(query, names, SEARCH_LIMIT)
    rows = {}  # per snapshot, its hits' rows (a large layer's read by id, at once)
    for snap in {id(s): s for s, _ in found}.values():
        positions = [i for s, i in found if s is snap]
        rows[id(snap)] = dict(site().snapshot_rows(snap, positions))
    for snap, index in found:
        row = rows[id(snap)].get(index)
        if row is None:  # unpublished since the snapshot was made
            continue
        point = row.geometry.representative_point()
        name = row[snap.spec.label_field]
        # found by what it teaches or does, not by its name: say where
        matched = (
            None
            if needle in fold(name)
            else matched_field(snap.spec, row, needle, lang)
        )
        hits.append(
            {
                "layer": snap.spec.name,
                "layer_title": tr(snap.spec.title, lang),
                "index": index,
                "id": row["id"],
                "name": name,
                "matched": matched and {"label": matched[0], "text": matched[1]},
                "lat": round(point.y, 5),
                "lon": round(point.x, 5),
                "version": snap.version,
            }
        )
    return jsonify({"query": query, "normalised": fold(query), "hits": hits})


@bp.get("/api/places")
def places():
    """Quarters, IRIS zones, communes and addresses whose name holds ``q``; each hit
    says what it is (``kind``). No outside geocoder is asked."""
    query = params.search_query(request.args)
    return jsonify({"query": query, "hits": site().places(query)})


@bp.get("/api/places/here")
def place_here():
    """The answer about a place (``lat``/``lon``, or ``kind`` and ``code`` of a zone):
    fibre coverage, nearest open coworking and training places, stations."""
    zone = params.place_zone(request.args)
    if zone is not None:
        return jsonify(site().here_zone(*zone, current_lang()))
    point = params.place(request.args, site().area)
    return jsonify(site().here(point.x, point.y, current_lang()))


# --- editing (planners): features with versions, If-Match, history ---------------


def editable(name: str) -> str:
    """The name of a layer planners edit on the map, or Forbidden."""
    if not get_spec(name).editable:
        raise Forbidden(
            f"layer {name!r} is not edited on the map (it comes from imports)"
        )
    return name


def with_etag(feature: dict, status: int = 200):
    """A stored feature as GeoJSON, its version as ETag, never cached."""
    response = jsonify(stored_feature(feature))
    response.status_code = status
    response.headers["ETag"] = f'"{feature["version"]}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/layers/<name>/features/<fid>")
@login_required()
def feature_get(name: str, fid: str):
    """One feature, published or not, with its version as ETag."""
    return with_etag(site().store.get(name, fid))


@bp.post("/api/layers/<name>/features")
@login_required()
def feature_create(name: str):
    """Add a feature (a GeoJSON Feature); 201 with its version."""
    editable(name)
    props, geometry = params.feature_body()
    # without an id the store makes one from the name, inside the write: two
    # planners adding "Le Numérique" at once get le-numerique-2 and -3
    saved = site().store.add(name, props, geometry, author=g.user["name"])
    response = with_etag(saved, status=201)
    response.headers["Location"] = url_for(
        "api.feature_get", name=name, fid=saved["id"]
    )
    return response


@bp.patch("/api/layers/<name>/features/<fid>")
@login_required()
def feature_update(name: str, fid: str):
    """Change fields and/or geometry; If-Match required, 412 if someone saved first."""
    editable(name)
    expected = params.if_match()
    props, geometry = params.feature_body()
    props.pop("id", None)
    saved = site().store.update(
        name, fid, props, geometry, expected_version=expected, author=g.user["name"]
    )
    return with_etag(saved)


@bp.delete("/api/layers/<name>/features/<fid>")
@login_required()
def feature_delete(name: str, fid: str):
    """Delete (recoverable from the history); If-Match required."""
    expected = params.if_match()
    site().store.delete(
        editable(name), fid, expected_version=expected, author=g.user["name"]
    )
    return "", 204


@bp.get("/api/layers/<name>/features/<fid>/history")
@login_required()
def feature_history(name: str, fid: str):
    """Every change of a feature: who, when, before and after."""
    history = [
        {**entry, "import": import_of(entry.get("note"))}
        for entry in site().store.private.history(name, fid)
    ]
    return jsonify({"layer": name, "id": fid, "history": history})


IMPORT_NOTE = re.compile(
    r"^(?P<kind>[\w-]+) import of (?P<file>.+) \((?P<mode>replace|merge)\)$"
)


def import_of(note: str | None) -> dict | None:
    """Which import made a change (``kind``, ``file``, ``mode``), read from the
    note the importers write ("generic import of sites.csv (merge)"); None for an
    edit."""
    found = IMPORT_NOTE.match(note or "")
    return found.groupdict() if found else None


@bp.post("/api/layers/<name>/features/<fid>/restore")
@login_required()
def feature_restore(name: str, fid: str):
    """Bring back the state of one history entry (also undeletes)."""
    editable(name)
    history_id = params.history_id()
    saved = site().store.restore(
        name,
        fid,
        history_id,
        author=g.user["name"],
        expected_version=params.if_match(required=False),
    )
    return with_etag(saved)


@bp.post("/api/layers/<name>/imports/undo")
@login_required()
def import_undo(name: str):
    """Undo a whole import (given one of its history entries): what it added is
    removed, what it changed or removed comes back; 412 if one changed since."""
    editable(name)
    counts = site().store.undo_import(name, params.history_id(), author=g.user["name"])
    return jsonify({"layer": name, **counts})


@bp.get("/api/layers/<name>/deleted")
@login_required()
def layer_deleted(name: str):
    """Features deleted and not restored, with the entry that restores them."""
    return jsonify({"layer": name, "deleted": site().store.private.deleted(name)})
