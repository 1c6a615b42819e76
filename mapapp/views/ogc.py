"""OGC API - Features under /ogc/: thin views over mapapp.ogcapi (published data)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from importlib.metadata import version as metadata_version

from flask import Blueprint, current_app, render_template, request, url_for

from .. import ogcapi
from ..cache import Payload
from ..exports import FORMATS
from ..layers import REGISTRY, get_spec
from .http import send_payload, site
from .params import current_lang

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
VARY = "Accept-Encoding, Accept-Language, Cookie"


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


# The answer's timeStamp, in the cached body, is replaced in each response by the
# time of the request (a slot of the same length).
STAMP_SLOT = "0000-00-00T00:00:00Z"


def stamped(response):
    """The cached items page with the request's time as its timeStamp: the body is
    the same page otherwise, so its ETag becomes weak."""
    etag, _weak = response.get_etag()
    if etag:
        response.set_etag(etag, weak=True)
    if response.status_code != 200:
        return response
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = response.get_data()
    packed = response.headers.get("Content-Encoding") == "gzip"
    if packed:
        body = gzip.decompress(body)
    body = body.replace(f'"{STAMP_SLOT}"'.encode(), f'"{now}"'.encode(), 1)
    response.set_data(gzip.compress(body, 5) if packed else body)
    return response


def respond(
    make,
    template: str,
    mimetype: str = "application/json",
    headers=None,
    keep=None,
    **extra,
):
    """HTML or JSON as negotiated; JSON is cached per data version and URL, unless
    ``keep()`` says no (it would show a previous version of a layer: made for
    this request only, so a later one shows the new version once it is built)."""
    if wants_html():
        response = current_app.make_response(
            render_template(
                f"ogc/{template}", data=make(), lang=current_lang(), **extra
            )
        )
        response.headers["Vary"] = f"Accept, {VARY}"
        return response
    s = site()
    key = ("ogc", request.host, request.full_path, s.data_version(), current_lang())

    def body() -> Payload:
        return Payload.of(json.dumps(make(), ensure_ascii=False).encode())

    # asked after the key's data version is read: what it shows is at least that
    payload = s.payload(key, body) if keep is None or keep() else body()
    # the format follows Accept: caches must keep the variants apart
    response = send_payload(payload, mimetype, vary=f"Accept, {VARY}")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.update(headers or {})
    return response


def public_spec(name: str):
    spec = get_spec(name) if name in REGISTRY else None
    if spec is None or not spec.public:
        raise ogcapi.OgcError(404, "NotFound", f"no collection {name!r}")
    return spec


def public_licences() -> list[dict]:
    """The licences of the public layers' data (from their metadata), made once
    per data version: clients fetch the API definition each time they open a
    layer."""
    s, lang = site(), current_lang()

    def make() -> list[dict]:
        return [
            lic
            for spec in REGISTRY.values()
            if spec.public
            for lic in ogcapi.features.licences_of(s.layer_facts(spec.name, lang))
        ]

    return s.fact(("licences", s.data_version(), lang), make)


def facts_current(specs) -> bool:
    """True when the facts of these layers describe their current version (while
    a large layer's new facts are read, the previous ones are served)."""
    s, lang = site(), current_lang()
    return all(
        s.layer_facts(spec.name, lang)["layer_version"] == s.layer_version(spec.name)
        for spec in specs
    )


def collection_info(spec) -> dict:
    """A collection's document, from the layer's facts (a few fields read once per
    layer version), never from the whole layer."""
    lang = current_lang()
    facts = site().layer_facts(spec.name, lang)
    downloads = {
        fmt: (url_for("public.download", name=spec.name, fmt=fmt, _external=True), mime)
        for fmt, mime in FORMATS.items()
    }
    # a copy: the facts are shared by every request of that layer version
    metadata = {**facts, "downloads": downloads}
    return ogcapi.collection(spec, facts["bounds"], base_url(), lang, metadata)


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
    return respond(
        lambda: ogcapi.landing(
            base_url(), current_lang(), public_licences(), site().territory
        ),
        "landing.html",
    )


@bp.get("/api")
def api():
    """The OpenAPI 3.0 definition (service-desc); as HTML, its documentation."""

    def make():
        licences = public_licences()
        version = current_app.config.get("VERSION") or metadata_version("mapapp")
        return ogcapi.openapi(
            base_url(),
            current_lang(),
            version,
            licences[0] if licences else None,
            site().territory,
        )

    return respond(make, "api.html", mimetype=ogcapi.OPENAPI)


@bp.get("/<path:unknown>")
def not_found(unknown: str):
    """Any other path under /ogc/: an OGC exception, not the site's page."""
    raise ogcapi.OgcError(404, "NotFound", f"no resource at /ogc/{unknown}")


@bp.get("/conformance")
def conformance():
    return respond(ogcapi.conformance, "conformance.html")


@bp.get("/collections")
def collections():
    """Every public layer as a collection."""

    public = [s for s in REGISTRY.values() if s.public]

    def make():
        return {
            "collections": [collection_info(s) for s in public],
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

    return respond(make, "collections.html", keep=lambda: facts_current(public))


@bp.get("/collections/<name>")
def collection(name: str):
    spec = public_spec(name)
    return respond(
        lambda: collection_info(spec),
        "collection.html",
        keep=lambda: facts_current([spec]),
    )


@bp.get("/collections/<name>/items")
def items(name: str):
    """Features with bbox, limit/offset paging and property filters."""
    spec = public_spec(name)
    query = ogcapi.parse_items_query(request.args, spec)

    def make(stamp=None):
        return ogcapi.items(site().store, spec, query, base_url(), request.args, stamp)

    crs = {"Content-Crs": f"<{query.crs}>"}
    if wants_html():
        return respond(make, "items.html", ogcapi.GEOJSON, crs, spec=spec)
    slotted = respond(lambda: make(STAMP_SLOT), "items.html", ogcapi.GEOJSON, crs)
    return stamped(slotted)


@bp.get("/collections/<name>/queryables")
def queryables(name: str):
    """The properties a filter may use, as a JSON Schema."""
    spec = public_spec(name)
    return respond(
        lambda: ogcapi.queryables(spec, base_url(), current_lang()),
        "queryables.html",
        mimetype=ogcapi.SCHEMA_JSON,
        spec=spec,
    )


@bp.get("/collections/<name>/schema")
def schema(name: str):
    """The schema of the collection's features (Part 5), or with
    ``profile=geojson`` the schema of one GeoJSON feature (GDAL types the fields
    from it)."""
    spec = public_spec(name)
    profile = request.args.get("profile")
    if profile not in (None, "geojson"):
        raise ogcapi.OgcError(400, "InvalidParameterValue", "profile: geojson")
    make = ogcapi.feature_schema if profile and not wants_html() else ogcapi.schema
    return respond(
        lambda: make(spec, base_url(), current_lang()),
        "schema.html",
        mimetype=ogcapi.SCHEMA_JSON,
        spec=spec,
    )


@bp.get("/collections/<name>/items/<fid>")
def item(name: str, fid: str):
    spec = public_spec(name)
    crs = ogcapi.output_crs(request.args)

    def make():
        return ogcapi.item(site().store, spec, fid, base_url(), crs)

    headers = {"Content-Crs": f"<{crs}>"}
    return respond(make, "item.html", ogcapi.GEOJSON, headers, spec=spec)
