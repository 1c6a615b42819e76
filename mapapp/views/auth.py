"""Sign-in and sign-out pages (French and English)."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import accounts
from ..accounts import TooManyAttempts
from .guards import csrf_token
from .http import html_page, site
from .params import current_lang

bp = Blueprint("auth", __name__, url_prefix="/auth")


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


def _authenticate(name: str) -> tuple[dict | None, str | None, int]:
    """(user, error, status) of a sign-in attempt; rate-limited."""
    try:
        user = accounts.authenticate(
            site().store,
            name,
            request.form.get("password", ""),
            request.remote_addr or "?",
        )
    except TooManyAttempts:
        wait = _("Too many failed attempts. Wait 15 minutes before trying again.")
        return None, wait, 429
    if user is None:
        return None, _("Wrong name or password."), 401
    return user, None, 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page; rate-limited per account and address."""
    error, status = None, 200
    if request.method == "POST":
        user, error, status = _authenticate(request.form.get("name", "").strip())
        if user:
            session.clear()  # a new session: no fixation
            session["sid"] = accounts.start_session(
                site().store,
                user["name"],
                max_age=int(site().settings["SESSION_MAX_HOURS"]) * 3600,
            )
            session.permanent = True
            csrf_token()
            return redirect(_safe_next(request.args.get("next")))
    html = render_template(
        "auth/login.html",
        lang=current_lang(),
        error=error,
        next=request.args.get("next", ""),
    )
    response = html_page(html, private=True)  # it carries the form's CSRF token
    response.status_code = status
    return response


@bp.post("/logout")
def logout():
    """Sign out (a POST with the CSRF token, so another site cannot sign you out);
    the session ends on the server, so a copy of the cookie is worthless."""
    accounts.end_session(site().store, session.get("sid", ""))
    session.clear()
    return redirect(url_for("public.index"))
