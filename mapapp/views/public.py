"""Public pages: the map, its embed, the list, the embed builder, open data, assets."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import threading
from functools import lru_cache

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.security import safe_join

from ..analysis import DETOUR_FACTOR, WALK_KMH
from ..assets import asset_dir, bundle
from ..cache import Payload
from ..contributions import monthly
from ..errors import Busy
from ..exports import FORMATS, download_body
from ..layers import PRECISIONS, REGISTRY, tr
from ..limits import MAX_LIST_PAGES
from ..listing import parse_list_query
from ..maps.options import (
    DEFAULT_SIZE,
    SIZE_LIMITS,
    MapOptions,
    option_defaults,
    parse_map_options,
    parse_size,
)
from ..maps.tiles import PROVIDERS
from ..site import require_public
from .http import (
    content_security_policy,
    inline_style_hashes,
    map_scripts,
    script_hashes,
    send_payload,
    send_stored,
    site,
)
from .mappage import (
    is_remote,
    map_parts,
    map_sources,
    map_ui,
)
from .params import current_lang, download_crs
from .strings import frame_titles

bp = Blueprint("public", __name__)


# bundles are named by their content: a browser keeps them until they change
IMMUTABLE = "public, max-age=31536000, immutable"


def served_versions(include: list[str], lang: str) -> tuple[tuple, bool]:
    """The versions of what a map page of ``include`` shows from a layer's
    snapshot or facts, and whether they are all current: while a large layer's
    new version is built the previous one is served, and the page names it."""
    s = site()
    current = s.layer_versions()
    served = []
    for name in include:
        if REGISTRY[name].geometry == "Point" and is_remote(name):
            served.append((name, s.snapshot(name).version))
        served.append((name, s.layer_facts(name, lang)["layer_version"]))
    fresh = all(version == current.get(name) for name, version in served)
    return tuple(served), fresh


def render_map_page(
    template: str, opts: MapOptions, include: list[str], embed: bool
) -> tuple[str, tuple[str, ...]]:
    """Build the folium map for ``opts`` and render it into ``template``: the page
    and the map's inline scripts (the only scripts the page may run inline)."""
    lang = current_lang()
    opts = opts.at(site().view)
    tiles = site().tiles
    if opts.basemap and (tiles.url or opts.basemap == "none"):
        tiles = PROVIDERS[opts.basemap]
    layers, feature_index = map_sources(opts, include)
    ui = map_ui(
        opts.center,
        opts.zoom,
        legend=opts.legend,
        search=opts.search,
        fullscreen=opts.fullscreen,
        collapsed=embed,
        feature=opts.feature,
        featureIndex=feature_index,
        visible=list(opts.layers) if opts.layers is not None else None,
        **citizen_options(embed, opts.basemap, include),
    )
    parts = map_parts(
        layers, lang, tiles, ui, opts.center, opts.zoom, gestures=not opts.scrollzoom
    )
    # large layers' data starts downloading with the scripts, not after them
    preload = [
        src.get("overview", src["binary"])
        for _spec, src in layers.values()
        if isinstance(src, dict)
    ]
    html = render_template(
        template,
        map=parts,
        preload=preload,
        lang=lang,
        opts=opts,
        layer_titles={n: REGISTRY[n].title for n in include},
    )
    return html, map_scripts(parts)


INFO_FACTS = ("sources", "more_sources", "latest_source_date", "licence", "licences")


def layer_facts(names: list[str]) -> dict:
    """Per layer, what the info panel tells: sources, latest date, licence(s) and
    attribution, as the open-data page and the downloads state them."""
    s, lang = site(), current_lang()
    facts = {}
    for name in names:
        meta = s.layer_facts(name, lang)
        facts[name] = {k: meta.get(k) for k in INFO_FACTS + ("attribution",)}
    return facts


def citizen_options(embed: bool, basemap: str | None, include: list[str]) -> dict:
    """What the citizen map adds: info panel, data browser, links that keep the view."""
    return {
        "info": {"layers": layer_facts(include)},
        "infoPanel": True if embed else "open",
        "embedded": embed,
        "browse": {
            "items": url_for("ogc.items", name="NAME").replace("NAME", "{name}")
        },
        "places": url_for("api.places"),
        "placeContext": url_for("api.place_here"),
        # how map.js estimates a walk from a distance, as the server does
        "walking": {"speed_kmh": WALK_KMH, "detour_factor": DETOUR_FACTOR},
        "fullMapUrl": url_for("public.index", _external=True),
        "embedUrl": url_for("public.embed", _external=True),
        "basemap": basemap,
        "contribute": {
            "url": url_for("contributions.form"),
            "lang": current_lang(),
            "layers": include,
            "newTab": embed,
            "report": _("Report an error"),
            "propose": _("Suggest a place or a company"),
        },
    }


def cached_page(template: str, opts: MapOptions, include: list[str], embed: bool):
    """Serve a map page from the page cache (keyed on the layers' versions), with
    304. Only pages showing every layer at its current version are kept."""
    s = site()
    versions = tuple(sorted(s.layer_versions().items()))
    key = (template, versions, current_lang(), opts.key(), tuple(include))
    payload = s.pages.get(key)  # kept: current (one query to know it)
    if payload is None:
        payload = _map_page(key, template, opts, include, embed)
    response = send_payload(payload, "text/html")
    frame = current_app.config.get("EMBED_FRAME_ANCESTORS", "*") if embed else "'none'"
    response.headers["Content-Security-Policy"] = content_security_policy(
        payload.script_hashes, frame, payload.style_hashes
    )
    return response


def _map_page(key, template: str, opts: MapOptions, include: list[str], embed: bool):
    """A map page made now: kept under ``key`` when everything it shows is
    current, else made for this request only (while a new version builds)."""
    s = site()
    _served, fresh = served_versions(include, current_lang())

    def make() -> Payload:
        html, scripts = render_map_page(template, opts, include, embed)
        return Payload.of(
            html.encode(),
            script_hashes=script_hashes(*scripts),
            style_hashes=inline_style_hashes(html),
        )

    # a page showing a previous version is made for this request only: the next
    # one, once the new version is built, shows it
    return s.payload(key, make) if fresh else make()


@bp.get("/")
def index():
    """The public map: every public layer, header, legend, language switch."""
    names = site().public_layers()
    opts = parse_map_options(
        request.args, names, site().area.bounds, scrollzoom_default=True
    )
    return cached_page("public/index.html", opts, names, embed=False)


@bp.get("/embed")
def embed():
    """The map alone, for iframes; options in the query string (docs/embed.md)."""
    names = site().public_layers()
    opts = parse_map_options(request.args, names, site().area.bounds)
    include = list(opts.layers) if opts.layers else names
    return cached_page("public/embed.html", opts, include, embed=True)


@lru_cache(maxsize=256)
def _asset(path: str) -> tuple[Payload, str]:
    with open(path, "rb") as f:
        body = f.read()
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    compressible = mimetype.startswith("text/") or mimetype.endswith(
        ("javascript", "json", "svg+xml")
    )
    return Payload.of(body, compress=compressible), mimetype


@lru_cache(maxsize=16)
def _bundle(filename: str, prefix: str) -> tuple[Payload, str] | None:
    """The map bundle named ``filename`` (its hash must be the current one)."""
    match = re.fullmatch(r"(map|map-gestures)-[0-9a-f]{12}\.(js|css)", filename)
    if not match:
        return None
    name, body = bundle(match.group(1), match.group(2), prefix)
    if name != filename:
        return None
    mimetype = "text/javascript" if match.group(2) == "js" else "text/css"
    etag = hashlib.sha256(body).hexdigest()[:20]
    return Payload(body, gzip.compress(body, 9), etag), mimetype


@bp.get("/assets/<package>/<path:filename>")
def assets(package: str, filename: str):
    """Front-end files from pip packages and the project's own static folder, from
    memory, gzip-compressed when the browser accepts it, with an ETag."""
    if package == "bundle":  # one script and one stylesheet per map page
        found = _bundle(filename, url_for("public.index").rstrip("/") + "/assets")
        if found is None:
            abort(404)
        payload, mimetype = found
        return send_payload(
            payload, mimetype, vary="Accept-Encoding", cache_control=IMMUTABLE
        )
    folder = asset_dir(package)
    path = safe_join(str(folder), filename) if folder else None
    if path is None or not os.path.isfile(path):
        abort(404)
    payload, mimetype = _asset(path)
    return send_payload(
        payload, mimetype, vary="Accept-Encoding", cache_control="public, max-age=86400"
    )


def _list_section(name: str, query, lang: str) -> dict:
    spec = REGISTRY[name]
    index = site().list_index(name, lang)
    shown, total, pages = index.page(
        query, lang, lambda ids: site().list_rows(name, ids)
    )
    return {
        "spec": spec,
        "title": tr(spec.title, lang),
        "rows": shown,
        "total": total,
        "pages": pages,
        "page": min(query.page, pages),
    }


@bp.get("/list")
def list_view():
    """The accessible alternative to the map: tables of the published features,
    a page at a time, from an index per layer version; pages cached."""
    s, names, lang = site(), site().public_layers(), current_lang()
    query = parse_list_query(request.args, names)
    shown = [query.layer] if query.layer else names
    versions = tuple(s.list_index(n, lang).version for n in shown)
    key = ("list", versions, lang, query)

    def make() -> Payload:
        # a page not made yet: one of MAX_LIST_PAGES at once, or a quick 503
        if not LIST_PAGES.acquire(timeout=LIST_WAIT_S):
            raise Busy(
                "the list is being searched for other visitors: "
                "ask again in a moment",
                retry_after=2,
            )
        try:
            return Payload.of(_list_page(query, lang).encode())
        finally:
            LIST_PAGES.release()

    return send_payload(s.payload(key, make), "text/html")


LIST_PAGES = threading.BoundedSemaphore(MAX_LIST_PAGES)
LIST_WAIT_S = 0.1  # a new list page waits this long for its turn (holding a thread)


def _list_page(query, lang: str) -> str:
    names = site().public_layers()
    sections = [
        _list_section(name, query, lang)
        for name in ([query.layer] if query.layer else names)
    ]
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


def _share_args() -> dict:
    """The builder's options from the query string, or from its own form (sent
    without JavaScript: unchecked boxes are absent, layers are repeated)."""
    args = request.args.to_dict()
    if "width" in args:
        for flag in ("legend", "search", "fullscreen", "scrollzoom"):
            args[flag] = "1" if flag in args else "0"
        args["layers"] = ",".join(request.args.getlist("layer"))
        args = {k: v for k, v in args.items() if v != ""}
    return args


@bp.get("/share")
def share():
    """The embed builder: pick options, preview the map, copy the iframe snippet."""
    names = site().public_layers()
    view = site().view
    opts = parse_map_options(_share_args(), names, site().area.bounds).at(view)
    lang = current_lang()
    if opts.lang is None:
        opts.lang = lang
    # a server without a base map shows none whatever the embed asks (no request
    # leaves it): no choice is offered, none goes into the code
    basemaps = list(PROVIDERS) if site().tiles.url else []
    if opts.basemap not in basemaps:
        opts.basemap = None
    return render_template(
        "public/share.html",
        lang=lang,
        opts=opts,
        embed_url=url_for("public.embed", _external=True, **opts.query(view)),
        layers=[(n, tr(REGISTRY[n].title, lang)) for n in names],
        basemaps=basemaps,
        # the <iframe>'s title is in the map's language, not the page's
        frame_titles=frame_titles(site().territory),
        defaults=option_defaults(view),
        # sizes go into a snippet pasted on other sites: numbers, never the raw text
        width=parse_size(request.args.get("width"), DEFAULT_SIZE["width"]),
        height=parse_size(request.args.get("height"), DEFAULT_SIZE["height"]),
        sizes={"limits": SIZE_LIMITS, "defaults": DEFAULT_SIZE},
    )


@bp.get("/download/<name>.<fmt>")
@bp.get("/download/<name>.fr.csv", defaults={"fmt": "fr.csv"})
def download(name: str, fmt: str):
    """A public layer (published features only) as GeoJSON, CSV or GeoPackage;
    ``crs=EPSG:2154`` for Lambert-93 coordinates."""
    if name not in REGISTRY or fmt not in FORMATS:
        abort(404)
    require_public(name)
    crs = download_crs(request.args)
    s, lang = site(), current_lang()

    # made once per layer version (in a worker process for a large layer), kept
    # in a file and streamed from it
    family = ("download", name, fmt, crs, lang)
    stored = s.stored(
        family,
        (*family, s.layer_version(name)),
        download_body,
        name,
        fmt,
        crs,
        lang,
        features=s.published_count(name),
    )
    response = send_stored(stored, FORMATS[fmt])
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
    for name in site().public_layers():
        # the facts read a few fields, not the whole layer (a million companies)
        meta = site().layer_facts(name, lang)
        layers.append({"name": name, "title": tr(REGISTRY[name].title, lang), **meta})
    precisions = {k: tr(v, lang) for k, v in PRECISIONS.items()}
    return render_template(
        "public/data.html",
        lang=lang,
        layers=layers,
        formats=list(FORMATS),
        precisions=precisions,
        contributions=monthly(site().store),
    )
