"""Public pages: the map, its embed, and the self-hosted assets."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from functools import lru_cache

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.security import safe_join

from .. import listing
from ..assets import asset_dir
from ..exports import FORMATS, export_bytes, layer_metadata
from ..layers import REGISTRY, tr
from ..listing import parse_list_query
from ..maps import build_map, split_rendered
from ..maps.options import MapOptions, option_defaults, parse_map_options
from ..maps.tiles import PROVIDERS
from ..ogcapi.crs import CRS84, CrsError, parse_crs, short_name
from . import content_security_policy, current_lang, get_store, send_cached, snapshot

bp = Blueprint("public", __name__)


def public_layer_names() -> list[str]:
    return [name for name, spec in REGISTRY.items() if spec.public]


def ui_strings(lang: str) -> dict:
    """Interface strings map.js shows, in the page language."""
    return {
        "lang": lang,
        "locale": "fr-FR" if lang == "fr" else "en-GB",
        "approximate": _("Approximate location"),
        "illustrative": _("Illustrative values"),
        "source": _("Source"),
        "yes": _("yes"),
        "no": _("no"),
        "loadError": _("Could not load the layer"),
        "legend": _("Legend"),
        "layers": _("Layers"),
        "search": _("Search a place"),
        "searchLabel": _("Search by name"),
        "noResult": _("No result"),
        "results": _("results"),
        "fullscreen": _("Full screen"),
        "exitFullscreen": _("Leave full screen"),
        "locate": _("Show my location"),
        "locateError": _("Location unavailable"),
        "reset": _("Initial view"),
        "youAreHere": _("You are here"),
    }


def gesture_text() -> dict:
    return {
        "touch": _("Use two fingers to move the map"),
        "scroll": _("Use ctrl + scroll to zoom the map"),
        "scrollMac": _("Use \u2318 + scroll to zoom the map"),
    }


def remote_source(name: str, version: int) -> dict:
    """URLs map.js uses for a large point layer (compact arrays, items, search)."""
    return {
        "points": url_for("api.layer_points", name=name, v=version),
        "item": url_for("api.layer_item", name=name, index=0, v=version).replace(
            "/items/0?", "/items/{index}?"
        ),
        "search": url_for("api.search", layers=name),
    }


def _index_of(snap, fid: str) -> int | None:
    matches = snap.frame.index[snap.frame["id"] == fid]
    return int(matches[0]) if len(matches) else None


def render_map_page(
    template: str, opts: MapOptions, include: list[str], embed: bool
) -> tuple[str, str]:
    """Build the folium map for ``opts`` and render it into ``template``."""
    store = get_store()
    lang = current_lang()
    tiles = current_app.extensions["mapapp.tiles"]
    if opts.basemap and (tiles.url or opts.basemap == "none"):
        tiles = PROVIDERS[opts.basemap]
    limit = int(current_app.config["INLINE_MAX_FEATURES"])
    layers = {}
    feature_index = None
    for name in include:
        spec = REGISTRY[name]
        if store.count(name, published_only=True) <= limit:
            frame = store.read(name, published_only=True)
            layers[name] = (spec, frame.drop(columns=["published"], errors="ignore"))
        elif spec.geometry == "Point":
            # the page needs only the data version; the data comes with its own request
            layers[name] = (spec, remote_source(name, store.data_version()))
            if opts.feature and opts.feature.split(":", 1)[0] == name:
                fid = opts.feature.split(":", 1)[1]
                feature_index = _index_of(snapshot(name), fid)
        else:
            layers[name] = (spec, url_for("api.layer_geojson", name=name))
    ui = {
        "i18n": ui_strings(lang),
        "legend": opts.legend,
        "search": opts.search,
        "fullscreen": opts.fullscreen,
        "locate": True,
        "reset": True,
        "collapsed": embed,
        "permalink": True,
        "feature": opts.feature,
        "featureIndex": feature_index,
        "visible": list(opts.layers) if opts.layers is not None else None,
        "home": {"center": list(opts.center), "zoom": opts.zoom},
    }
    m = build_map(
        layers,
        lang,
        tiles,
        ui,
        asset_prefix=url_for("public.index").rstrip("/") + "/assets",
        center=opts.center,
        zoom=opts.zoom,
        gestureHandling=not opts.scrollzoom,
        gestureHandlingOptions={"text": gesture_text(), "duration": 1200},
    )
    parts = split_rendered(m)
    html = render_template(
        template,
        map=parts,
        lang=lang,
        opts=opts,
        layer_titles={n: REGISTRY[n].title for n in include},
    )
    return html, lang


def cached_page(template: str, opts: MapOptions, include: list[str], embed: bool):
    """Serve a map page from the page cache (keyed on the data version), with 304."""
    cache = current_app.extensions["mapapp.pages"]
    lang = current_lang()
    key = (template, get_store().data_version(), lang, opts.key(), tuple(include))
    item = cache.get(key)
    if item is None:
        html, _lang = render_map_page(template, opts, include, embed)
        item = cache.put(key, html)
    response = send_cached(item, "text/html")
    response.headers["Cache-Control"] = "no-cache"
    frame = current_app.config.get("EMBED_FRAME_ANCESTORS", "*") if embed else "'none'"
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app, item["script_hashes"], frame_ancestors=frame
    )
    return response


@bp.get("/")
def index():
    """The public map: every public layer, header, legend, language switch."""
    names = public_layer_names()
    opts = parse_map_options(
        request.args,
        names,
        current_app.config["STUDY_AREA_BBOX"],
        scrollzoom_default=True,
    )
    return cached_page("public/index.html", opts, names, embed=False)


@bp.get("/embed")
def embed():
    """The map alone, for iframes; options in the query string (docs/embed.md)."""
    names = public_layer_names()
    opts = parse_map_options(request.args, names, current_app.config["STUDY_AREA_BBOX"])
    include = list(opts.layers) if opts.layers else names
    return cached_page("public/embed.html", opts, include, embed=True)


@bp.get("/assets/<package>/<path:filename>")
def assets(package: str, filename: str):
    """Front-end files from pip packages and the project's own static folder.

    Served from memory, gzip-compressed when the browser accepts it, with an ETag.
    """
    folder = asset_dir(package)
    path = safe_join(str(folder), filename) if folder else None
    if path is None or not os.path.isfile(path):
        abort(404)
    item = _asset(path)
    if request.if_none_match.contains(item["etag"]):
        response = current_app.response_class(status=304)
    else:
        use_gzip = item["gzip"] is not None and "gzip" in request.headers.get(
            "Accept-Encoding", ""
        )
        response = current_app.response_class(
            item["gzip"] if use_gzip else item["body"], mimetype=item["mimetype"]
        )
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(item["etag"])
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@lru_cache(maxsize=256)
def _asset(path: str) -> dict:
    with open(path, "rb") as f:
        body = f.read()
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    compressible = mimetype.startswith("text/") or mimetype.endswith(
        ("javascript", "json", "svg+xml")
    )
    return {
        "body": body,
        "gzip": gzip.compress(body, 9) if compressible else None,
        "mimetype": mimetype,
        "etag": hashlib.sha256(body).hexdigest()[:20],
    }


@bp.get("/list")
def list_view():
    """The accessible alternative to the map: tables of the published features."""
    names = public_layer_names()
    query = parse_list_query(request.args, names)
    lang = current_lang()
    sections = []
    for name in [query.layer] if query.layer else names:
        spec = REGISTRY[name]
        items = listing.rows(snapshot(name, full=True).frame, spec, query, lang)
        shown, pages = listing.page_of(items, query.page)
        sections.append(
            {
                "spec": spec,
                "title": tr(spec.title, lang),
                "rows": shown,
                "total": len(items),
                "pages": pages,
                "page": min(query.page, pages),
            }
        )
    categories = [
        (
            tr(REGISTRY[n].title, lang),
            [(f"{n}:{c.value}", tr(c.label, lang)) for c in REGISTRY[n].categories],
        )
        for n in names
        if REGISTRY[n].categories
    ]
    return render_template(
        "public/list.html",
        lang=lang,
        query=query,
        sections=sections,
        categories=categories,
        layers=[(n, tr(REGISTRY[n].title, lang)) for n in names],
    )


@bp.get("/share")
def share():
    """The embed builder: pick options, preview the map, copy the iframe snippet."""
    names = public_layer_names()
    args = request.args.to_dict()
    if "width" in args:  # the form itself, submitted without JavaScript
        for flag in ("legend", "search", "fullscreen", "scrollzoom"):
            args[flag] = "1" if flag in args else "0"
        args["layers"] = ",".join(request.args.getlist("layer"))
        args = {k: v for k, v in args.items() if v != ""}
    opts = parse_map_options(args, names, current_app.config["STUDY_AREA_BBOX"])
    lang = current_lang()
    if opts.lang is None:
        opts.lang = lang
    embed_url = url_for("public.embed", _external=True, **opts.query())
    return render_template(
        "public/share.html",
        lang=lang,
        opts=opts,
        embed_url=embed_url,
        layers=[(n, tr(REGISTRY[n].title, lang)) for n in names],
        basemaps=list(PROVIDERS),
        defaults=option_defaults(),
        width=request.args.get("width", "100%"),
        height=request.args.get("height", "500"),
    )


@bp.get("/download/<name>.<fmt>")
@bp.get("/download/<name>.fr.csv", defaults={"fmt": "fr.csv"})
def download(name: str, fmt: str):
    """A public layer (published features only) as GeoJSON, CSV or GeoPackage;
    ``crs=EPSG:2154`` for Lambert-93 coordinates."""
    spec = REGISTRY.get(name)
    if spec is None or not spec.public or fmt not in FORMATS:
        abort(404)
    crs = None
    if request.args.get("crs"):
        try:
            uri = parse_crs(request.args["crs"])
        except CrsError as exc:
            abort(400, str(exc))
        crs = None if uri == CRS84 else short_name(uri)
    cache = current_app.extensions["mapapp.pages"]
    key = ("download", name, fmt, crs, get_store().data_version())
    item = cache.get(key)
    if item is None:
        frame = get_store().read(name, published_only=True)
        body = export_bytes(frame, name, fmt, layer_metadata(frame), crs)
        item = cache.put(key, body.decode("latin-1"), html=False)  # bytes kept as-is
    response = send_cached(item, FORMATS[fmt])
    suffix = f"-{crs.replace(':', '')}" if crs else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="mapapp-{name}{suffix}.{fmt}"'
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/data")
def data():
    """Open data: each public layer's sources, date, licence and downloads."""
    lang = current_lang()
    layers = []
    for name, spec in REGISTRY.items():
        if spec.public:
            meta = layer_metadata(snapshot(name, full=True).frame)
            layers.append({"name": name, "title": tr(spec.title, lang), **meta})
    return render_template(
        "public/data.html", lang=lang, layers=layers, formats=list(FORMATS)
    )
