"""Sign-in and sign-out, the current user, CSRF, and the guards of planner routes."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlparse

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _

from .. import accounts
from ..accounts import TooManyAttempts
from ..errors import MapappError
from . import current_lang, get_store

bp = Blueprint("auth", __name__, url_prefix="/auth")

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class RequestSecureSessions(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class Forbidden(MapappError):
    status = 403


class Unauthorized(MapappError):
    status = 401


class CsrfError(MapappError):
    status = 400


def load_user() -> None:
    """Set ``g.user`` from a Bearer token or the session (checked against the store)."""
    g.user, g.via_token = None, False
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = accounts.user_for_token(get_store(), header[7:].strip())
        g.via_token = g.user is not None
        return
    secret = session.get("sid")
    if secret:
        idle = current_app.config.get("SESSION_IDLE_MINUTES", 120) * 60
        g.user = accounts.session_user(get_store(), secret, idle=idle)
        if g.user is None:  # signed out elsewhere, expired, password changed…
            session.clear()


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a state-changing request made with the session cookie and no token."""
    if request.method not in UNSAFE or g.get("via_token"):
        return
    if g.get("user") is None and request.endpoint not in ("auth.login", "auth.logout"):
        return  # no session to ride on: the route's guard answers 401
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise CsrfError(
            _(
                "The form has expired or did not come from this site: "
                "reload the page and try again."
            )
        )


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json


def login_required(role: str = "planner"):
    """Guard a route: sign-in (session or token) and at least ``role``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if wants_json() or request.method != "GET":
                    response = jsonify({"error": "sign-in required", "status": 401})
                    response.status_code = 401
                    response.headers["WWW-Authenticate"] = 'Bearer realm="mapapp"'
                    return response
                return redirect(url_for("auth.login", next=request.full_path))
            if role == "admin" and user["role"] != "admin":
                raise Forbidden(_("This needs an administrator account."))
            return view(*args, **kwargs)

        wrapped.mapapp_role = role
        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    """Only same-site paths after sign-in (no open redirect)."""
    if not target:
        return url_for("planner.index")
    parsed = urlparse(target)
    if (
        parsed.scheme
        or parsed.netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return url_for("planner.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page (French and English); rate-limited per account and address."""
    error, status = None, 200
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            user = accounts.authenticate(
                get_store(),
                name,
                request.form.get("password", ""),
                request.remote_addr or "?",
            )
        except TooManyAttempts:
            user, error, status = (
                None,
                _("Too many failed attempts. Wait 15 minutes before trying again."),
                429,
            )
        if user:
            session.clear()  # a new session: no fixation
            max_age = current_app.config.get("SESSION_MAX_HOURS", 12) * 3600
            session["sid"] = accounts.start_session(
                get_store(), user["name"], max_age=max_age
            )
            session.permanent = True
            csrf_token()
            return redirect(_safe_next(request.args.get("next")))
        if error is None:
            error, status = _("Wrong name or password."), 401
    return render_template(
        "auth/login.html",
        lang=current_lang(),
        error=error,
        next=request.args.get("next", ""),
    ), status


@bp.post("/logout")
def logout():
    """Sign out (a POST with the CSRF token, so another site cannot sign you out);
    the session ends on the server, so a copy of the cookie is worthless."""
    accounts.end_session(get_store(), session.get("sid", ""))
    session.clear()
    return redirect(url_for("public.index"))


def init_auth(app) -> None:
    """Sessions, user loading and CSRF checks for every request."""
    app.session_interface = RequestSecureSessions()
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config.get("SESSION_MAX_HOURS", 12)
    )
    app.config["SESSION_COOKIE_NAME"] = "mapapp_session"

    @app.before_request
    def _auth():
        load_user()
        check_csrf()

    @app.context_processor
    def _helpers():
        return {"current_user": g.get("user"), "csrf_token": csrf_token}

    app.register_blueprint(bp)
