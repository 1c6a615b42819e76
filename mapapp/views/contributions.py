"""Contributions of the public: the report and proposal forms (no account), their
JSON twin, and the planners' inbox and API (mapapp/contributions.py does the work).

Nothing here logs what a contribution says. The sender's address is
``request.remote_addr``, which the factory's ProxyFix takes from
``X-Forwarded-For`` behind ``TRUSTED_PROXIES`` proxies, as the sign-in does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from math import cos, radians

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from .. import contributions as core
from ..errors import BadRequest, MapappError, NotFound, RateLimited
from ..layers import get_spec, tr
from ..limits import parse_json
from .guards import csrf_token, login_required
from .http import html_page, site
from .params import current_lang

bp = Blueprint("contributions", __name__)
FORM_FIELDS = ("layer", "feature_id", "kind", "name", "address", "website",
               "category", "text", "email", "form_token", core.HONEYPOT, "place",
               "lon", "lat", "precision")  # fmt: skip
PAGE = 50
INBOX_PAGE = 100  # contributions per page of the inbox (oldest first)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _limits() -> core.Limits:
    return core.limits_from(site().settings)


def _user() -> str:
    return g.user["name"]


# --- the public form ----------------------------------------------------------------


def _place_choice(hit: dict) -> dict:
    """A search hit as a choice of the form (value ``lon|lat|precision``)."""
    kind = hit.get("kind")
    if kind == "address":
        precision = "exact" if hit["name"][:1].isdigit() else "street"
    else:
        precision = "commune" if kind == "commune" else "approximate"
    value = f"{hit['lon']}|{hit['lat']}|{precision}"
    return {"label": hit["name"], "value": value, "precision": precision}


def _search(address: str | None) -> list[dict]:
    if not address or len(address) < 3:
        return []
    hits = [h for h in site().places(address[:100], limit=6) if "lon" in h]
    return [_place_choice(h) for h in hits]


def _with_place(data: dict) -> dict:
    """The chosen place as lon, lat and precision; an address typed but not
    searched for is looked up (its first hit)."""
    choice = data.pop("place", None)
    if not choice and data.get("address") and not data.get("lon"):
        hits = _search(data["address"])
        choice = hits[0]["value"] if hits else None
    if choice:
        lon, lat, precision = (str(choice).split("|") + ["", "", ""])[:3]
        data.update(lon=lon, lat=lat, precision=precision)
    return data


def _target(layer: str | None, fid: str | None) -> dict | None:
    """The reported feature (name, layer title), or None for a proposal."""
    if not layer or not fid:
        return None
    spec = get_spec(layer)
    feature = site().store.get(layer, fid)
    if not spec.public or (
        spec.publishable and feature["properties"].get("published") is not True
    ):
        raise NotFound(_("No such feature."))
    name = feature["properties"].get(spec.label_field) or fid
    geom = feature["geometry"]
    at = (geom.y, geom.x) if geom is not None and geom.geom_type == "Point" else None
    return {"layer": layer, "id": fid, "name": name, "title": tr(spec.title, _lang()),
            "at": at}  # fmt: skip


def _map_view(target: dict | None) -> dict:
    """Where the form's map opens: on the reported feature, else the territory."""
    if target and target["at"]:
        lat, lon, zoom = *target["at"], 16
    else:
        x0, y0, x1, y1 = site().area.bounds
        lat, lon, zoom = (y0 + y1) / 2, (x0 + x1) / 2, 13
    return {"center": f"{lat:.5f},{lon:.5f}", "zoom": zoom, "tiles": site().tiles.url}


def _lang() -> str:
    return current_lang()


def _categories(layers) -> list[dict]:
    """The categories a contributor may pick, per layer."""
    lang = _lang()
    out = []
    for name in layers:
        spec = get_spec(name)
        field = core.category_field(spec)
        choices = (field.choices or {}) if field else {}
        options = [{"value": k, "label": tr(v, lang)} for k, v in choices.items()]
        out.append({"layer": name, "title": tr(spec.title, lang), "options": options})
    return out


def _form_page(values: dict, errors: list[str], hits=None, status: int = 200):
    target = _target(values.get("layer"), values.get("feature_id"))
    layers = [target["layer"]] if target else list(core.OPEN_LAYERS)
    html = render_template(
        "contributions/form.html",
        lang=_lang(),
        target=target,
        values=values,
        errors=errors,
        hits=hits,
        kinds=core.REPORT_KINDS,
        layers=_categories(layers),
        limits=_limits(),
        max_text=core.MAX_TEXT,
        honeypot=core.HONEYPOT,
        map_view=_map_view(target),
    )
    response = html_page(html, private=True)
    response.status_code = status
    return response


@bp.get("/contribute")
def form():
    """The report form of a feature (``layer``, ``id``) or the proposal form."""
    values = {
        "layer": request.args.get("layer", "")[:64],
        "feature_id": request.args.get("id", "")[:100],
        "form_token": core.form_token(_secret()),
    }
    return _form_page(values, [])


@bp.post("/contribute")
def send():
    """Send the form (or search the address it gives)."""
    data = {k: request.form.get(k, "") for k in FORM_FIELDS}
    data["lang"] = _lang()
    if request.form.get("action") == "search":
        return _form_page(data, [], hits=_search(data.get("address")))
    try:
        _submit(dict(data))
    except RateLimited:
        return _form_page(data, [_("Too many contributions for now: try later.")],
                          status=429)  # fmt: skip
    except BadRequest as exc:
        data["form_token"] = core.form_token(_secret())  # a fresh start for the fix
        return _form_page(data, [_form_error(exc.message)], status=400)
    return redirect(url_for("contributions.thanks", lang=_lang()))


def _form_error(message: str) -> str:
    """What went wrong, in the visitor's language where it is one of ours."""
    known = {
        core.TOO_FAST: _("The form was sent too fast or is too old: send it again."),
        core.NEEDS_PLACE: _(
            "A new place needs a name and a location: search its address and "
            "choose it, or put the point on the map."
        ),
        "refused": _("The form could not be sent."),
    }
    return known.get(message, _("Please check the form: %(problem)s", problem=message))


def _submit(data: dict) -> dict:
    data = _with_place(data)
    if not data.get("feature_id"):
        data["kind"] = "new"
    return core.submit(
        site().store, data, request.remote_addr or "?", _secret(), _limits(),
        published=_published,
    )  # fmt: skip


def _published(layer: str, fid: str) -> bool:
    """Whether a feature is on the public map (from the cached snapshot)."""
    return site().snapshot(layer).index_of(fid) is not None


@bp.get("/contribute/thanks")
def thanks():
    """Thanks, and what happens next."""
    html = render_template("contributions/thanks.html", lang=_lang(), limits=_limits())
    return html_page(html)


# --- the JSON API -------------------------------------------------------------------


@bp.get("/api/contributions/form-token")
def api_form_token():
    """A form token to send with a contribution (the fill time counts from it)."""
    return jsonify({"form_token": core.form_token(_secret()),
                    "min_seconds": core.MIN_FILL_S})  # fmt: skip


@bp.post("/api/contributions")
def api_submit():
    """Send a contribution (public, the same rules as the form)."""
    data = parse_json(request.get_data())
    if not isinstance(data, dict):
        raise BadRequest("a JSON object expected")
    data = {k: data.get(k) for k in (*FORM_FIELDS, "lang")}
    core.submit(site().store, data, request.remote_addr or "?", _secret(), _limits(),
                published=_published)  # fmt: skip
    response = jsonify({"status": "received"})
    response.status_code = 202
    return response


def _public(c: dict) -> dict:
    """A contribution for planners (the sender's hash left out)."""
    return {k: v for k, v in c.items() if k != "sender"}


def _statuses(value: str | None) -> tuple[str, ...]:
    allowed = (*core.INBOX, *core.SET_APART, *core.DECIDED)
    if not value:
        return core.INBOX
    wanted = tuple(v for v in value.split(",") if v)
    if not set(wanted) <= set(allowed):
        raise BadRequest(f"status: some of {', '.join(allowed)}")
    return wanted


def _page_args() -> tuple[int, int]:
    """``limit`` (1 to 500) and ``offset`` (0 or more); BadRequest otherwise."""
    limit, offset = (
        request.args.get("limit", str(PAGE)),
        request.args.get("offset", "0"),
    )
    if not (limit.isdigit() and offset.isdigit() and 1 <= int(limit) <= 500):
        raise BadRequest("limit: 1 to 500; offset: 0 or more")
    return int(limit), min(int(offset), 10**9)


@bp.get("/api/contributions")
@login_required()
def api_list():
    """Contributions of some statuses (default: the inbox), for planners."""
    limit, offset = _page_args()
    layer = request.args.get("layer") or None
    if layer and len(layer) > 64:
        raise BadRequest("layer: 64 characters at most")
    rows = site().store.private.contributions(
        _statuses(request.args.get("status")),
        layer,
        limit,
        offset,
    )
    counts = core.inbox_counts(site().store)
    return jsonify({"contributions": [_public(r) for r in rows], "counts": counts})


def _cid(value: int) -> int:
    if value > 2**62:
        raise NotFound("no such contribution")
    return value


@bp.get("/api/contributions/<int:cid>")
@login_required()
def api_get(cid: int):
    """One contribution, for planners."""
    return jsonify(_public(site().store.private.contribution(_cid(cid))))


@bp.patch("/api/contributions/<int:cid>")
@login_required()
def api_decide(cid: int):
    """Decide: ``{"action": "accept"|"reject"|"spam", "reason", "changes"}``."""
    body = parse_json(request.get_data())
    if not isinstance(body, dict):
        raise BadRequest("a JSON object expected")
    changes = body.get("changes")
    if changes is not None and not isinstance(changes, dict):
        raise BadRequest("changes: an object expected")
    decided = core.decide(site().store, _cid(cid), str(body.get("action")), _user(),
                          body.get("reason"), changes)  # fmt: skip
    return jsonify(_public({**decided, "email": None}))


# --- the planners' inbox ------------------------------------------------------------


@bp.app_context_processor
def _inbox_count():
    def contribution_count() -> int:
        if g.get("user") is None:
            return 0
        return core.inbox_counts(site().store)["inbox"]

    return {"contribution_count": contribution_count}


@bp.get("/planner/contributions")
@login_required()
def inbox():
    """The inbox: contributions waiting, by layer and kind; those set apart."""
    status = request.args.get("status") or "new"
    statuses = _statuses(status)
    page = _page_number()
    rows = site().store.private.contributions(
        statuses, None, INBOX_PAGE + 1, (page - 1) * INBOX_PAGE
    )
    more, rows = len(rows) > INBOX_PAGE, rows[:INBOX_PAGE]
    for r in rows:
        r["date"] = datetime.fromtimestamp(r["created"], UTC).strftime("%Y-%m-%d %H:%M")
    html = render_template(
        "contributions/inbox.html",
        lang=_lang(),
        rows=rows,
        status=status,
        counts=core.inbox_counts(site().store),
        tabs=(*core.INBOX, *core.SET_APART, *core.DECIDED),
        titles={n: tr(get_spec(n).title, _lang()) for n in _layer_names(rows)},
        page=page,
        more=more,
    )
    return html_page(html, private=True)


def _page_number() -> int:
    value = request.args.get("page", "1")
    return min(int(value), 10_000) if value.isdigit() and value != "0" else 1


def _layer_names(rows) -> set[str]:
    return {r["layer"] for r in rows}


def _current(c: dict) -> dict | None:
    if not c["feature_id"] and not c["result"]:
        return None
    try:
        return site().store.get(c["layer"], c["result"] or c["feature_id"])
    except NotFound:
        return None


@bp.get("/planner/contributions/<int:cid>")
@login_required()
def detail(cid: int):
    """One contribution beside the current feature, with the decision form."""
    return _detail_page(site().store.private.contribution(_cid(cid)))


def _detail_page(c: dict, errors=(), reply=None, status: int = 200):
    current = _current(c)
    point = core.proposed(c)
    html = render_template(
        "contributions/detail.html",
        lang=_lang(),
        c=c,
        current=current,
        proposed=point,
        sketch=_sketch(current, point),
        labels=_labels(c["layer"]),
        history=_history(c, current),
        tiles=site().tiles.url,
        tiles_credit=_plain(site().tiles.attribution),
        title=tr(get_spec(c["layer"]).title, _lang()),
        categories=_categories([c["layer"]])[0],
        reasons=core.REASONS,
        errors=list(errors),
        reply=reply,
        publishable=get_spec(c["layer"]).publishable,
        csrf=csrf_token(),
    )
    response = html_page(html, private=True)
    response.status_code = status
    return response


def _sketch(current: dict | None, proposed: dict) -> dict:
    """Where the feature is and where the contribution puts it: both as text and
    as a small drawing (grey now, red proposed) with the distance between."""
    before = after = None
    geom = current["geometry"] if current else None
    if geom is not None and geom.geom_type == "Point":
        before = (geom.x, geom.y)
    if "lon" in proposed:
        after = (float(proposed["lon"]), float(proposed["lat"]))
    out = {"before": _lonlat(before), "after": _lonlat(after), "svg": None,
           "distance": None}  # fmt: skip
    points = [p for p in (before, after) if p]
    if not points:
        return out
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    k = 111_320.0
    metres = [((p[0] - cx) * k * cos(radians(cy)), (p[1] - cy) * k) for p in points]
    span = max([abs(v) for m in metres for v in m] + [50.0])
    dots = []
    for (mx, my), colour in zip(metres, ("#6b7280" if before else "#c81e1e",
                                         "#c81e1e"), strict=False):  # fmt: skip
        dots.append(f'<circle cx="{120 + mx / span * 90:.1f}" '
                    f'cy="{90 - my / span * 70:.1f}" r="7" fill="{colour}"/>')  # fmt: skip
    if before and after:
        out["distance"] = round(((metres[0][0] - metres[1][0]) ** 2
                                 + (metres[0][1] - metres[1][1]) ** 2) ** 0.5)  # fmt: skip
    out["svg"] = ('<svg viewBox="0 0 240 180" aria-hidden="true" '
                  'xmlns="http://www.w3.org/2000/svg"><rect width="240" '
                  'height="180" fill="#f4f6f8"/>' + "".join(dots) + "</svg>")  # fmt: skip
    return out


def _history(c: dict, current: dict | None) -> list[dict]:
    """The last changes of the feature a decided contribution touched, in words
    (an accepted contribution credits the public, never who sent it)."""
    if c["status"] != "accepted" or current is None:
        return []
    actions = {"add": _("created"), "update": _("changed"), "delete": _("deleted"),
               "restore": _("restored")}  # fmt: skip
    out = []
    for h in site().store.private.history(c["layer"], current["id"])[:5]:
        day = (h["at"] or "")[:10]
        if h["author"] == core.AUTHOR and h["action"] == "add":
            what = _("added after a public contribution (%(date)s)", date=day)
        elif h["author"] == core.AUTHOR:
            what = _("corrected after a public contribution (%(date)s)", date=day)
        else:
            action = actions.get(h["action"], h["action"])
            what = _("%(action)s by %(author)s (%(date)s)", action=action,
                     author=h["author"] or "?", date=day)  # fmt: skip
        out.append({"version": h["version"], "text": what})
    return out


def _labels(layer: str) -> dict[str, str]:
    """The names of a layer's fields and of a contribution's values."""
    lang = _lang()
    out = {f.name: tr(f.label, lang) for f in get_spec(layer).fields}
    return {**out, "text": _("Details"), "category": _("Category")}


def _lonlat(point) -> str | None:
    return None if point is None else f"{point[1]:.5f}, {point[0]:.5f}"


def _plain(html: str) -> str:
    """A tile attribution without its markup (shown as text under the map)."""
    return re.sub(r"<[^>]+>", "", html or "").replace("&copy;", "©")


@bp.post("/planner/contributions/<int:cid>")
@login_required()
def decide(cid: int):
    """Accept (with the planner's changes), reject with a reason, or spam."""
    action = request.form.get("action", "")
    changes = None
    if action == "accept":
        changes = {k: request.form.get(k, "") for k in core.TEXT_FIELDS}
    try:
        decided = core.decide(site().store, _cid(cid), action, _user(),
                              request.form.get("reason"), changes)  # fmt: skip
    except (BadRequest, MapappError) as exc:
        c = site().store.private.contribution(_cid(cid))
        return _detail_page(c, [exc.message], status=400)
    reply = None
    if decided.get("email"):
        reply = {
            "email": decided["email"],
            "text": core.reply_text(
                decided["status"], decided["reason"], decided["body"].get("lang", "fr")
            ),
        }
    c = site().store.private.contribution(_cid(cid))
    return _detail_page(c, reply=reply)


@bp.post("/planner/contributions/<int:cid>/publish")
@login_required()
def publish(cid: int):
    """Publish the place an accepted proposal added."""
    c = site().store.private.contribution(_cid(cid))
    if c["status"] != "accepted" or not c["result"] or c["kind"] != "new":
        raise BadRequest(_("Only an accepted proposal can be published."))
    site().store.update(c["layer"], c["result"], {"published": True},
                        author=_user())  # fmt: skip
    return redirect(url_for("contributions.detail", cid=cid, published=1))
