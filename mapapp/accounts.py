"""Planner accounts: passwords, sign-in with rate limiting, sessions, API tokens.

Passwords are hashed with scrypt (Werkzeug's default) and must pass a few rules
(long enough, not blank, not one repeated character or pattern, not the account
name, not one of the most common passwords: ``common_passwords.txt``, with the
territory's own words, :attr:`mapapp.territory.Territory.password_words`). Sessions and
API tokens are random secrets of which only the SHA-256 is stored; both end (a
session after some idle time and at a fixed end, a token at its expiry) and can be
ended at once. Sign-in attempts are counted in the store, before the password is
checked and in the same transaction as the check of the limit, per (account,
address) and per address: several app processes share the limits, concurrent
attempts cannot slip under them, and nobody can lock a planner out from elsewhere.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from functools import lru_cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from .errors import BadRequest, MapappError
from .store import Store
from .text import fold

ROLES = ("planner", "admin")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
WINDOW_S = 15 * 60
MAX_PER_PAIR = 5  # attempts on one account from one address in the window
MAX_PER_ADDRESS = 20  # attempts from one address, whatever the accounts
TOKEN_DAYS = 90  # default life of an API token (setting TOKEN_DAYS)
SESSION_IDLE_S = 2 * 3600  # a session unused this long ends (SESSION_IDLE_MINUTES)
SESSION_MAX_S = 12 * 3600  # and every session ends this long after sign-in
TOKEN_PREFIX = "mapapp_"  # noqa: S105 - the public start of every token
_NAME = re.compile(r"[A-Za-z0-9_.@-]{2,64}")
_TOKEN = re.compile(r"mapapp_([0-9a-f]{8})_[A-Za-z0-9_-]{20,100}")
# compared against when the user does not exist, so timing does not tell
_DUMMY_HASH = generate_password_hash("not-a-real-password")
_LEET = str.maketrans("@4310$5!", "aaeiossi")


class TooManyAttempts(MapappError):
    """Sign-in refused for a while after repeated failures."""

    status = 429


def check_new_user(
    name: str, role: str, password: str, local_words: frozenset[str] = frozenset()
) -> None:
    """Raise BadRequest naming what is wrong with a new account's values
    (``local_words``: the territory's, refused like the common passwords)."""
    if not _NAME.fullmatch(name):
        raise BadRequest("name: 2 to 64 letters, digits or . _ - @")
    if role not in ROLES:
        raise BadRequest(f"role: one of {', '.join(ROLES)}")
    check_password(password, name, local_words)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list: frequent passwords and the words they are made of."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")
    )


def _is_common(password: str, local_words: frozenset[str] = frozenset()) -> bool:
    """A listed password or local word, or one dressed up with digits and symbols
    (``Motdepasse2024!``, ``P@ssw0rd!``)."""
    folded = fold(password)
    words = common_passwords() | local_words
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", folded)  # digits and symbols around
    return (
        folded in words
        or re.sub(r"[^a-z]", "", folded) in words
        or re.sub(r"[^a-z]", "", core.translate(_LEET)) in words
    )


def _repeats(password: str) -> bool:
    """One character, or a unit of up to four, repeated (``aaaaaaaaaa``,
    ``abcabcabcabc``, ``1212121212``)."""
    return any(
        password == (password[:size] * (len(password) // size + 1))[: len(password)]
        for size in range(1, 5)
    )


def _made_of_name(password: str, name: str) -> bool:
    """The name with little else: fewer than four letters besides it
    (``alice``, ``Alice2024!``, ``alicealice``)."""
    rest = fold(password).replace(fold(name), "")
    return len(rest) < len(password) and len(re.sub(r"[^a-z]", "", rest)) < 4


def check_password(
    password: str, name: str | None = None, local_words: frozenset[str] = frozenset()
) -> None:
    """Raise BadRequest saying why a password is too weak to accept."""
    if not password.strip():
        raise BadRequest("password: must not be blank")
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"password: at most {MAX_PASSWORD} characters")
    if _repeats(password):
        raise BadRequest("password: not one character or pattern repeated")
    if name and _made_of_name(password, name):
        raise BadRequest("password: must not be (or be made from) the account name")
    if _is_common(password, local_words):
        raise BadRequest("password: one of the most common passwords; choose another")


def create_user(
    store: Store,
    name: str,
    role: str,
    password: str,
    local_words: frozenset[str] = frozenset(),
) -> None:
    """Validate and create an account (``local_words``: see check_new_user)."""
    check_new_user(name, role, password, local_words)
    store.private.add_user(name, role, generate_password_hash(password))


def change_password(
    store: Store, name: str, password: str, local_words: frozenset[str] = frozenset()
) -> None:
    """Set a new password (validated) for an existing account; this ends every
    session of the account (the store does both in one transaction)."""
    check_password(password, name, local_words)
    store.private.set_password(name, generate_password_hash(password))


def authenticate(
    store: Store, name: str, password: str, address: str, now: float | None = None
) -> dict | None:
    """The user when the password is right, None when wrong.

    The attempt is counted first, atomically; TooManyAttempts when this account was
    tried too often from this address, or this address too often, in the last 15
    minutes (even with the right password). A success forgets the pair's attempts.
    """
    now = time.time() if now is None else now
    name, address = name[:100], address[:100]
    pair, from_address = store.private.record_attempt(
        name, address, now, now - WINDOW_S, cap=MAX_PER_ADDRESS
    )
    if pair > MAX_PER_PAIR or from_address > MAX_PER_ADDRESS:
        raise TooManyAttempts("too many failed sign-ins: wait 15 minutes")
    user = store.private.get_user(name) if _NAME.fullmatch(name) else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    elif check_password_hash(user["password_hash"], password[:MAX_PASSWORD]):
        store.private.clear_attempts(name, address)
        return {"name": user["name"], "role": user["role"]}
    return None


def hash_secret(secret: str) -> str:
    """SHA-256 of a session or token secret (what the store keeps)."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


hash_token = hash_secret


# --- sessions ------------------------------------------------------------------------


def start_session(
    store: Store, name: str, max_age: float = SESSION_MAX_S, now: float | None = None
) -> str:
    """Open a session for ``name``; return its secret (for the cookie only)."""
    now = time.time() if now is None else now
    secret = secrets.token_urlsafe(32)
    store.private.add_session(name, hash_secret(secret), now, now + max_age)
    return secret


def session_user(
    store: Store, secret: str, idle: float = SESSION_IDLE_S, now: float | None = None
) -> dict | None:
    """The user of a live session, or None (unknown, signed out, expired)."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        return None
    now = time.time() if now is None else now
    return store.private.session_user(hash_secret(secret), now, idle)


def end_session(store: Store, secret: str) -> None:
    """Sign out: the session ends on the server, whatever the cookie says."""
    if isinstance(secret, str) and secret:
        store.private.end_session(hash_secret(secret))


# --- API tokens ----------------------------------------------------------------------


def new_token(
    store: Store, name: str, days: float = TOKEN_DAYS, now: float | None = None
) -> str:
    """Create an API token for ``name``, valid ``days``: shown once, only its hash is
    stored. Its id (``mapapp_<id>_…``) names it in lists and revocations."""
    now = time.time() if now is None else now
    token_id = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    store.private.add_token(name, hash_secret(token), token_id, now, now + days * 86400)
    return token


def token_id(token: str) -> str | None:
    """The id part of a token (``mapapp_<id>_…``), or None for a malformed one."""
    match = _TOKEN.fullmatch(token)
    return match.group(1) if match else None


def user_for_token(store: Store, token: str, now: float | None = None) -> dict | None:
    """The user of a valid, unexpired token, or None."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return None
    if len(token) > 200:
        return None
    now = time.time() if now is None else now
    return store.private.user_for_token(hash_secret(token), now)


def revoke(store: Store, name: str, token_ids: list[str], everything: bool) -> str:
    """Revoke some tokens of ``name``, or all of them and every session; return what
    was done, for the command line."""
    if everything:
        tokens = store.private.revoke_tokens(name)
        sessions = store.private.end_sessions(name)
        return f"{tokens} token(s) revoked and {sessions} session(s) ended"
    if not token_ids:
        raise BadRequest("give the id of a token (mapapp users tokens NAME) or --all")
    for tid in token_ids:
        store.private.revoke_token(name, tid)
    return f"{len(token_ids)} token(s) revoked"
