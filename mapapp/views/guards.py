"""Who is asking, and may they: the current user, CSRF, the guards of planner routes.

Loaded before every request: a Bearer token or the session cookie's secret names a
live token or session in the store (the cookie itself holds no name: signing out,
a password change or removing the account ends the session on the server); a
state-changing request made with the session cookie must carry the session's CSRF
token.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps

from flask import g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _

from .. import accounts
from ..errors import CsrfError, Forbidden
from .http import site

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SIGN_IN_ENDPOINTS = ("auth.login", "auth.logout")


class RequestSecureSessions(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def load_user() -> None:
    """Set ``g.user`` from a Bearer token or the session (checked against the store)."""
    g.user, g.via_token = None, False
    header = request.headers.get("Authorization", "")
    store = site().store
    if header.startswith("Bearer "):
        g.user = accounts.user_for_token(store, header[7:].strip())
        g.via_token = g.user is not None
        return
    secret = session.get("sid")
    if secret:
        idle = int(site().settings["SESSION_IDLE_MINUTES"]) * 60
        g.user = accounts.session_user(store, secret, idle=idle)
        if g.user is None:  # signed out, expired, password changed, account removed
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
    if g.get("user") is None and request.endpoint not in SIGN_IN_ENDPOINTS:
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
    """True for API requests (answered in JSON, never redirected)."""
    return request.path.startswith("/api/") or request.is_json


def _sign_in_required():
    if wants_json() or request.method != "GET":
        response = jsonify({"error": "sign-in required", "status": 401})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="mapapp"'
        return response
    return redirect(url_for("auth.login", next=request.full_path))


def login_required(role: str = "planner"):
    """Guard a route: sign-in (session or token) and at least ``role``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                return _sign_in_required()
            if role == "admin" and user["role"] != "admin":
                raise Forbidden(_("This needs an administrator account."))
            return view(*args, **kwargs)

        wrapped.mapapp_role = role
        return wrapped

    return decorator


def init_guards(app) -> None:
    """Sessions, user loading and CSRF checks for every request."""
    app.session_interface = RequestSecureSessions()
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=int(app.config.get("SESSION_MAX_HOURS", 12))
    )
    app.config["SESSION_COOKIE_NAME"] = "mapapp_session"

    @app.before_request
    def _auth():
        load_user()
        check_csrf()

    @app.context_processor
    def _helpers():
        return {"current_user": g.get("user"), "csrf_token": csrf_token}
