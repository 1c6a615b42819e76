"""Accounts: validation, hashing, rate-limited sign-in, tokens."""

from __future__ import annotations

import pytest

from mapapp import accounts
from mapapp.errors import BadRequest


def test_create_user_validates(store):
    with pytest.raises(BadRequest, match="password"):
        accounts.create_user(store, "alice", "planner", "short")
    with pytest.raises(BadRequest, match="role"):
        accounts.create_user(store, "alice", "boss", "long-enough-password")
    with pytest.raises(BadRequest, match="name"):
        accounts.create_user(store, "<alice>", "planner", "long-enough-password")
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    stored = store.get_user("alice")["password_hash"]
    assert stored.startswith("scrypt:") and "long-enough" not in stored


def test_authenticate(store):
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    user = accounts.authenticate(store, "alice", "long-enough-password", "1.2.3.4")
    assert user == {"name": "alice", "role": "admin"}
    assert accounts.authenticate(store, "alice", "wrong", "1.2.3.4") is None
    assert accounts.authenticate(store, "nobody", "wrong", "1.2.3.4") is None


def test_sign_in_is_rate_limited_per_account(store):
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    for i in range(accounts.MAX_PER_ACCOUNT):
        assert (
            accounts.authenticate(store, "alice", "nope", f"10.0.0.{i}", now=1000)
            is None
        )
    with pytest.raises(accounts.TooManyAttempts):  # even with the right password
        accounts.authenticate(
            store, "alice", "long-enough-password", "10.9.9.9", now=1001
        )
    later = 1000 + accounts.WINDOW_S + 1
    assert accounts.authenticate(
        store, "alice", "long-enough-password", "10.9.9.9", now=later
    )


def test_sign_in_is_rate_limited_per_address(store):
    for i in range(accounts.MAX_PER_ADDRESS):
        accounts.authenticate(store, f"user{i}", "nope", "6.6.6.6", now=1000)
    with pytest.raises(accounts.TooManyAttempts):
        accounts.authenticate(store, "someone", "nope", "6.6.6.6", now=1001)


def test_tokens_are_stored_hashed(store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")
    assert accounts.user_for_token(store, token) == {"name": "bot", "role": "planner"}
    assert accounts.user_for_token(store, token + "x") is None
    assert store.user_for_token(token) is None  # only the hash is known
