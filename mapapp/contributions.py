"""Contributions of the public: error reports on a feature and proposed new places,
checked against abuse, kept in the private store, moderated by planners.

No account and no third-party captcha: a honeypot field, a minimum fill time (a
signed form token), rate limits per sender and overall, size limits, links counted
(more than :data:`MAX_LINKS` holds a contribution apart as likely spam), duplicates
(the same feature and kind within a day) set aside. The sender's address is kept
only as a keyed hash; the optional e-mail leaves the contribution when it is
decided (to the answers to send, which ``mapapp contributions export`` hands over
and forgets) and every e-mail is forgotten after the retention period
(:func:`purge`, run at start and by ``mapapp contributions purge``). Nothing here
logs what a contribution says.

An accepted contribution is an ordinary edit whose history credits
:data:`AUTHOR`, never the e-mail; a proposed place enters unpublished (in layers
with a ``published`` flag) with ``source`` :data:`AUTHOR`.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from shapely.geometry import Point

from .errors import BadRequest, NotFound, ValidationError
from .layers import get_spec
from .store import Store

AUTHOR = "contribution publique"
OPEN_LAYERS = ("companies", "coworking", "schools")  # where places may be proposed
REPORT_KINDS = ("closed", "moved", "wrong_name", "wrong_category", "not_digital",
                "other")  # fmt: skip
KINDS = (*REPORT_KINDS, "new")
REASONS = ("not_verifiable", "already_correct", "out_of_area", "not_digital",
           "duplicate", "other")  # fmt: skip
PRECISIONS = ("exact", "street", "approximate", "commune")
# What a contributor's "category" sets in each layer open to proposals, and the
# values a proposed place starts with where the contributor says nothing.
CATEGORY = {"companies": "sector", "coworking": "kind", "schools": "kind"}
STARTING = {
    "coworking": {"status": "open", "kind": "coworking"},
    "schools": {"status": "open"},
    "companies": {"sector": "unknown"},
}
INBOX = ("new",)
SET_APART = ("held", "duplicate", "spam")
DECIDED = ("accepted", "rejected")
MAX_TEXT = 1_000  # characters of the free text
MAX_SHORT = 200  # characters of a name, an address, a category
MAX_URL = 500
MAX_EMAIL = 254
MAX_LINKS = 2  # more links than this: held apart as likely spam
MIN_FILL_S = 3.0  # a person takes longer than this to fill the form
MAX_FORM_AGE_S = 24 * 3600
WINDOW_S = 3600  # the rate limits count contributions over this window
DUPLICATE_S = 24 * 3600
HONEYPOT = "homepage"  # a field hidden from people; bots fill it
# messages the forms translate (mapapp/views/contributions.py)
TOO_FAST = "the form was filled too fast or is too old: try again"
NEEDS_PLACE = "a new place needs a name and a location"
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
TEXT_FIELDS = ("name", "address", "website", "category", "text")


@dataclass(frozen=True)
class Limits:
    """The rate limits, from the settings."""

    per_sender: int = 5  # per WINDOW_S from one address
    overall: int = 300  # per WINDOW_S from everyone
    retention_days: int = 90
    min_fill_s: float = MIN_FILL_S


def limits_from(settings) -> Limits:
    """The limits of the ``CONTRIBUTION*`` settings."""
    return Limits(
        int(settings["CONTRIBUTIONS_PER_ADDRESS"]),
        int(settings["CONTRIBUTIONS_PER_HOUR"]),
        int(settings["CONTRIBUTION_RETENTION_DAYS"]),
        float(settings["CONTRIBUTION_MIN_FILL_SECONDS"]),
    )


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def form_token(secret: str, now: float | None = None) -> str:
    """A token saying when a form was handed out (checked by :func:`fill_time`)."""
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{_sign(secret, 'form:' + stamp)[:20]}"


def fill_time(secret: str, token: str, now: float) -> float | None:
    """Seconds since the form of ``token`` was handed out; None if forged."""
    stamp, _dot, sig = str(token or "").partition(".")
    if not stamp.isdigit() or len(stamp) > 12:
        return None
    if not hmac.compare_digest(sig, _sign(secret, "form:" + stamp)[:20]):
        return None
    return now - int(stamp)


def sender_key(secret: str, address: str) -> str:
    """A keyed hash of the sender's address: limits without keeping addresses."""
    return _sign(secret, "sender:" + address)[:32]


def count_links(values: dict) -> int:
    """Links in the text values (a website counts as one)."""
    return sum(len(_LINK.findall(str(values.get(k) or ""))) for k in TEXT_FIELDS)


def _text(data: dict, name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name}: text expected")
    value = " ".join(value.split()) if name != "text" else value.strip()
    if len(value) > limit:
        raise BadRequest(f"{name}: at most {limit} characters")
    return value or None


def _number(data: dict, name: str) -> float | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name}: a number expected") from None
    if number != number or abs(number) > 180:
        raise BadRequest(f"{name}: out of range")
    return number


def _place(data: dict, area) -> dict:
    """The point given (lon, lat, how it was placed), checked in the study area."""
    lon, lat = _number(data, "lon"), _number(data, "lat")
    if lon is None and lat is None:
        return {}
    if lon is None or lat is None:
        raise BadRequest("lon and lat: both or neither")
    if not area.covers(Point(lon, lat)):
        raise BadRequest("lon, lat: outside the study area")
    precision = data.get("precision") or "approximate"
    if precision not in PRECISIONS:
        raise BadRequest(f"precision: one of {', '.join(PRECISIONS)}")
    return {"lon": round(lon, 6), "lat": round(lat, 6), "precision": precision}


def clean(data: dict, area) -> dict:
    """The plain values of a submission (BadRequest names what is wrong)."""
    if not isinstance(data, dict):
        raise BadRequest("an object expected")
    kind = data.get("kind")
    if kind not in KINDS:
        raise BadRequest(f"kind: one of {', '.join(KINDS)}")
    layer = data.get("layer")
    if not isinstance(layer, str) or len(layer) > 64:
        raise BadRequest("layer: a layer name expected")
    body = {n: _text(data, n, MAX_SHORT) for n in ("name", "address", "category")}
    body["website"] = _text(data, "website", MAX_URL)
    body["text"] = _text(data, "text", MAX_TEXT)
    body.update(_place(data, area))
    body["lang"] = "en" if data.get("lang") == "en" else "fr"
    email = _text(data, "email", MAX_EMAIL)
    if email and not _EMAIL.fullmatch(email):
        raise BadRequest("email: not an e-mail address")
    fid = _text(data, "feature_id", 100)
    if kind == "new":
        if layer not in OPEN_LAYERS:
            raise BadRequest(f"layer: one of {', '.join(OPEN_LAYERS)}")
        if not body["name"] or "lon" not in body:
            raise BadRequest(NEEDS_PLACE)
        fid = None
    elif not fid:
        raise BadRequest("feature_id: which feature is wrong")
    return {"layer": layer, "feature_id": fid, "kind": kind, "email": email,
            "body": {k: v for k, v in body.items() if v is not None}}  # fmt: skip


def _check_target(store: Store, values: dict, published=None) -> None:
    """The layer is public and the reported feature exists and is public
    (``published(layer, id)`` answers from a snapshot when the caller has one)."""
    try:
        spec = get_spec(values["layer"])
    except (KeyError, NotFound):
        raise BadRequest("layer: unknown") from None
    if not spec.public:
        raise BadRequest("layer: unknown")
    fid = values["feature_id"]
    if not fid:
        return
    if published is not None:
        if not published(spec.name, fid):
            raise NotFound("no such feature")
        return
    feature = store.get(spec.name, fid)  # NotFound
    if spec.publishable and feature["properties"].get("published") is not True:
        raise NotFound("no such feature")


def submit(store: Store, data: dict, address: str, secret: str, limits: Limits,
           now: float | None = None, published=None) -> dict:  # fmt: skip
    """Check and store one contribution; ``{"id", "status"}`` (the status is for
    tests and planners, never shown to the visitor). BadRequest for the honeypot,
    a form filled too fast, or a bad value; RateLimited past the limits.
    ``published(layer, id)``: whether a feature is on the public map, from the
    caller's snapshot (else the store is read)."""
    now = time.time() if now is None else now
    if data.get(HONEYPOT):
        raise BadRequest("refused")
    age = fill_time(secret, data.get("form_token"), now)
    if age is None or age < limits.min_fill_s or age > MAX_FORM_AGE_S:
        raise BadRequest(TOO_FAST)
    values = clean(data, store.area)
    _check_target(store, values, published)
    row = {
        **values,
        "created": now,
        "month": datetime.fromtimestamp(now, UTC).strftime("%Y-%m"),
        "sender": sender_key(secret, address),
        "status": "held" if count_links(values["body"]) > MAX_LINKS else "new",
    }
    return store.private.add_contribution(
        row, now - WINDOW_S, (limits.per_sender, limits.overall), now - DUPLICATE_S
    )


# --- moderation ---------------------------------------------------------------------


def proposed(contribution: dict, changes: dict | None = None) -> dict:
    """The values a contribution proposes, with a planner's ``changes`` over them."""
    body = {k: v for k, v in contribution["body"].items() if k != "lang"}
    for key, value in (changes or {}).items():
        if key in (*TEXT_FIELDS, "lon", "lat", "precision"):
            body[key] = value
        if value in (None, ""):
            body.pop(key, None)
    return body


def _properties(spec, values: dict) -> dict:
    """Layer properties from proposed values: name, address, website, category."""
    props = {}
    fields = set(spec.field_names)
    for key in ("name", "address", "website"):
        if key in values and key in fields:
            props[spec.label_field if key == "name" else key] = values[key]
    field = category_field(spec)
    choices = field.choices if field else None
    if (
        values.get("category")
        and field
        and (not choices or values["category"] in choices)
    ):
        props[field.name] = values["category"]
    if "lon" in values and "precision" in fields:
        props["precision"] = values["precision"]
    return props


def category_field(spec):
    """The field a contributor's category sets in a layer (None: no category)."""
    name = CATEGORY.get(spec.name, spec.category_field)
    return next((f for f in spec.fields if f.name == name), None)


def _point(values: dict):
    if "lon" in values and "lat" in values:
        return Point(float(values["lon"]), float(values["lat"]))
    return None


def _today(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def apply(store: Store, contribution: dict, changes: dict | None, now: float) -> str:
    """Make the change a contribution asks for, as an edit credited to
    :data:`AUTHOR`; return the id of the feature changed or added."""
    spec = get_spec(contribution["layer"])
    values = proposed(contribution, changes)
    kind = contribution["kind"]
    if kind == "new":
        props = {**STARTING.get(spec.name, {}), **_properties(spec, values),
                 "source": AUTHOR,
                 "source_date": _today(now)}  # fmt: skip
        props.setdefault("precision", "approximate")
        if spec.publishable:
            props["published"] = False
        return store.add(spec.name, props, _point(values), author=AUTHOR)["id"]
    fid = contribution["feature_id"]
    status = next((f for f in spec.fields if f.name == "status"), None)
    if kind == "closed" and status and "closed" in (status.choices or {}):
        store.update(spec.name, fid, {"status": "closed"}, author=AUTHOR)
    elif kind in ("closed", "not_digital"):
        store.delete(spec.name, fid, author=AUTHOR)
    else:
        store.update(spec.name, fid, _properties(spec, values), _point(values),
                     author=AUTHOR)  # fmt: skip
    return fid


def decide(store: Store, cid: int, action: str, by: str, reason: str | None = None,
           changes: dict | None = None, now: float | None = None) -> dict:  # fmt: skip
    """Accept (``changes`` over the proposal), reject (with a reason of
    :data:`REASONS`) or mark as spam one contribution; the e-mail leaves it.
    Returns the contribution as it was, with ``result`` (the feature changed)."""
    now = time.time() if now is None else now
    current = store.private.contribution(cid)
    if current["status"] in DECIDED:
        raise BadRequest("this contribution has been decided already")
    result = None
    if action == "accept":
        try:
            result = apply(store, current, changes, now)
        except ValidationError as exc:
            raise BadRequest(f"the change is not valid: {exc.message}") from None
        status = "accepted"
    elif action == "reject":
        if reason not in REASONS:
            raise BadRequest(f"reason: one of {', '.join(REASONS)}")
        status = "rejected"
    elif action == "spam":
        status = "spam"
    else:
        raise BadRequest("action: accept, reject or spam")
    lang = current["body"].get("lang", "fr")
    before = store.private.decide_contribution(cid, status, by, now, reason, result,
                                               lang)  # fmt: skip
    return {**before, "status": status, "reason": reason, "result": result}


def inbox_counts(store: Store) -> dict[str, int]:
    """How many contributions wait (``inbox``) and are set apart, by status."""
    counts = store.private.contribution_counts()
    return {"inbox": sum(counts.get(s, 0) for s in INBOX), **counts}


def purge(store: Store, retention_days: int, now: float | None = None) -> int:
    """Forget the e-mails and senders older than the retention period."""
    now = time.time() if now is None else now
    return store.private.purge_contributions(now - retention_days * 86400)


# --- answers ------------------------------------------------------------------------

REPLY = {
    "fr": {
        "accepted": "Bonjour,\n\nMerci pour votre contribution à la carte : nous "
        "l'avons acceptée et la carte est corrigée.\n\nCordialement",
        "rejected": "Bonjour,\n\nMerci pour votre contribution à la carte. Nous ne "
        "l'avons pas retenue ({reason}).\n\nCordialement",
    },
    "en": {
        "accepted": "Hello,\n\nThank you for your contribution to the map: we "
        "accepted it and the map is corrected.\n\nBest regards",
        "rejected": "Hello,\n\nThank you for your contribution to the map. We did "
        "not take it up ({reason}).\n\nBest regards",
    },
}
REASON_LABELS = {
    "not_verifiable": {"fr": "nous n'avons pas pu la vérifier",
                       "en": "we could not check it"},
    "already_correct": {"fr": "la carte était déjà juste",
                        "en": "the map was already right"},
    "out_of_area": {"fr": "hors du territoire de la carte",
                    "en": "outside the map's territory"},
    "not_digital": {"fr": "hors du champ du numérique",
                    "en": "outside the digital economy"},
    "duplicate": {"fr": "déjà signalé", "en": "already reported"},
    "other": {"fr": "autre raison", "en": "another reason"},
}  # fmt: skip


def reply_text(status: str, reason: str | None, lang: str) -> str:
    """The prepared answer to a contributor (no mail server is assumed)."""
    lang = "en" if lang == "en" else "fr"
    label = REASON_LABELS.get(reason or "other", REASON_LABELS["other"])[lang]
    return REPLY[lang].get(status, REPLY[lang]["rejected"]).format(reason=label)


def export_replies(store: Store) -> tuple[str, int]:
    """The answers to send as CSV (email, language, decision, date, text); they
    are forgotten once exported. Returns (CSV text, how many)."""
    rows = store.private.replies(take=True)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "lang", "decision", "decided", "text"])
    for r in rows:
        writer.writerow([r["email"], r["lang"], r["status"], _today(r["decided"]),
                         reply_text(r["status"], r["reason"], r["lang"])])  # fmt: skip
    return out.getvalue(), len(rows)


def monthly(store: Store) -> list[dict]:
    """Contributions received, accepted and rejected per month (no content)."""
    return store.private.contribution_months()
