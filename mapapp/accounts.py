"""Planner accounts: password hashing, sign-in with rate limiting, API tokens.

Passwords are hashed with scrypt (Werkzeug's default); API tokens are random and
only their SHA-256 is stored. Failed sign-ins are counted per account and per
address in the store, so several app processes share the limit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import BadRequest, MapappError
from .store import Store

ROLES = ("planner", "admin")
MIN_PASSWORD = 10
WINDOW_S = 15 * 60
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20
_NAME = re.compile(r"[A-Za-z0-9_.@-]{2,64}")
# compared against when the user does not exist, so timing does not tell
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class TooManyAttempts(MapappError):
    """Sign-in refused for a while after repeated failures."""

    status = 429


def check_new_user(name: str, role: str, password: str) -> None:
    """Raise BadRequest naming what is wrong with a new account's values."""
    if not _NAME.fullmatch(name):
        raise BadRequest("name: 2 to 64 letters, digits or . _ - @")
    if role not in ROLES:
        raise BadRequest(f"role: one of {', '.join(ROLES)}")
    check_password(password)


def check_password(password: str) -> None:
    """Raise BadRequest when a password is too weak to accept."""
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password: at least {MIN_PASSWORD} characters")


def create_user(store: Store, name: str, role: str, password: str) -> None:
    """Validate and create an account."""
    check_new_user(name, role, password)
    store.add_user(name, role, generate_password_hash(password))


def change_password(store: Store, name: str, password: str) -> None:
    """Set a new password (validated) for an existing account."""
    check_password(password)
    store.set_password(name, generate_password_hash(password))


def authenticate(
    store: Store, name: str, password: str, address: str, now: float | None = None
) -> dict | None:
    """The user when the password is right, None when wrong.

    Raises TooManyAttempts when the account or the address has failed too often in
    the last 15 minutes; the check happens before the password is even looked at.
    """
    now = time.time() if now is None else now
    keys = (f"user:{name}", f"addr:{address}")
    limits = (MAX_PER_ACCOUNT, MAX_PER_ADDRESS)
    for key, limit in zip(keys, limits, strict=True):
        if store.failures_since(key, now - WINDOW_S) >= limit:
            raise TooManyAttempts("too many failed sign-ins: wait 15 minutes")
    user = store.get_user(name)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    elif check_password_hash(user["password_hash"], password):
        store.clear_failures(keys[0])
        return {"name": user["name"], "role": user["role"]}
    for key in keys:
        store.note_failure(key, now)
    return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(store: Store, name: str) -> str:
    """Create an API token for ``name``: shown once, only its hash is stored."""
    token = "mapapp_" + secrets.token_urlsafe(32)
    store.add_token(name, hash_token(token))
    return token


def user_for_token(store: Store, token: str) -> dict | None:
    return store.user_for_token(hash_token(token))
