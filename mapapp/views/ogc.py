"""OGC API - Features under /ogc/: thin views over mapapp.ogcapi (published data)."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template, request, url_for

from .. import ogcapi
from ..cache import Payload
from ..exports import FORMATS
from ..layers import REGISTRY, get_spec
from .http import send_payload, site
from .params import current_lang

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


def wants_html() -> bool:
    f = request.args.get("f")
    if f in ("json", "geojson"):
        return False
    if f == "html":
        return True
    if f is not None:
        raise ogcapi.OgcError(400, "InvalidParameterValue", "f: json or html")
    best = request.accept_mimetypes.best_match(
        ["application/geo+json", "application/json", "text/html"]
    )
    return best == "text/html"


def base_url() -> str:
    return url_for("ogc.landing", _external=True)


def respond(make, template: str, mimetype: str = "application/json", **extra):
    """HTML or JSON as negotiated; JSON is cached per data version and URL."""
    if wants_html():
        return render_template(
            f"ogc/{template}", data=make(), lang=current_lang(), **extra
        )
    s = site()
    key = ("ogc", request.host, request.full_path, s.data_version(), current_lang())
    payload = s.payload(
        key, lambda: Payload.of(json.dumps(make(), ensure_ascii=False).encode())
    )
    response = send_payload(payload, mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def public_spec(name: str):
    spec = get_spec(name) if name in REGISTRY else None
    if spec is None or not spec.public:
        raise ogcapi.OgcError(404, "NotFound", f"no collection {name!r}")
    return spec


def collection_info(spec) -> dict:
    frame = site().snapshot(spec.name, full=True).frame
    metadata = site().layer_metadata(spec.name, frame, current_lang())
    metadata["downloads"] = {
        fmt: (url_for("public.download", name=spec.name, fmt=fmt, _external=True), mime)
        for fmt, mime in FORMATS.items()
    }
    return ogcapi.collection(spec, frame, base_url(), current_lang(), metadata)


@bp.errorhandler(ogcapi.OgcError)
def ogc_error(exc: ogcapi.OgcError):
    html = request.args.get("f") == "html" or (
        request.args.get("f") is None
        and request.accept_mimetypes.best_match(["application/json", "text/html"])
        == "text/html"
    )
    if html:
        return render_template(
            "public/error.html",
            status=exc.status,
            message=exc.message,
            lang=current_lang(),
        ), exc.status
    return current_app.response_class(
        json.dumps(exc.to_dict()), status=exc.status, mimetype="application/json"
    )


@bp.get("/")
def landing():
    """Landing page: links to the conformance classes and the collections."""
    return respond(lambda: ogcapi.landing(base_url(), current_lang()), "landing.html")


@bp.get("/conformance")
def conformance():
    return respond(ogcapi.conformance, "conformance.html")


@bp.get("/collections")
def collections():
    """Every public layer as a collection."""

    def make():
        return {
            "collections": [collection_info(s) for s in REGISTRY.values() if s.public],
            "links": [
                {
                    "href": f"{base_url()}collections",
                    "rel": "self",
                    "type": "application/json",
                },
                {
                    "href": f"{base_url()}collections?f=html",
                    "rel": "alternate",
                    "type": "text/html",
                },
            ],
        }

    return respond(make, "collections.html")


@bp.get("/collections/<name>")
def collection(name: str):
    spec = public_spec(name)
    return respond(lambda: collection_info(spec), "collection.html")


@bp.get("/collections/<name>/items")
def items(name: str):
    """Features with bbox, limit/offset paging and property filters."""
    spec = public_spec(name)
    query = ogcapi.parse_items_query(request.args, spec)

    def make():
        frame = site().snapshot(name, full=True).frame
        return ogcapi.items(spec, frame, query, base_url(), request.args)

    return respond(make, "items.html", mimetype=ogcapi.GEOJSON, spec=spec)


@bp.get("/collections/<name>/items/<fid>")
def item(name: str, fid: str):
    spec = public_spec(name)

    def make():
        return ogcapi.item(
            spec, site().snapshot(name, full=True).frame, fid, base_url()
        )

    return respond(make, "item.html", mimetype=ogcapi.GEOJSON, spec=spec)
