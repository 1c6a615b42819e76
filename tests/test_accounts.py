"""Accounts: validation, hashing, rate-limited sign-in, tokens."""

from __future__ import annotations

import threading

import pytest

from mapapp import accounts
from mapapp.errors import BadRequest
from tests.shipped import SHIPPED


def test_create_user_validates(store):
    with pytest.raises(BadRequest, match="password"):
        accounts.create_user(store, "alice", "planner", "short")
    with pytest.raises(BadRequest, match="role"):
        accounts.create_user(store, "alice", "boss", "long-enough-password")
    with pytest.raises(BadRequest, match="name"):
        accounts.create_user(store, "<alice>", "planner", "long-enough-password")
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    stored = store.private.get_user("alice")["password_hash"]
    assert stored.startswith("scrypt:") and "long-enough" not in stored


def test_authenticate(store):
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    user = accounts.authenticate(store, "alice", "long-enough-password", "1.2.3.4")
    assert user == {"name": "alice", "role": "admin"}
    assert accounts.authenticate(store, "alice", "wrong", "1.2.3.4") is None
    assert accounts.authenticate(store, "nobody", "wrong", "1.2.3.4") is None


def test_sign_in_is_rate_limited_per_account_and_address(store):
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    for _ in range(accounts.MAX_PER_PAIR):
        assert (
            accounts.authenticate(store, "alice", "nope", "10.0.0.1", now=1000) is None
        )
    with pytest.raises(accounts.TooManyAttempts):  # even with the right password
        accounts.authenticate(
            store, "alice", "long-enough-password", "10.0.0.1", now=1001
        )
    # the attacker's address is locked out, not alice: she signs in from hers
    assert accounts.authenticate(
        store, "alice", "long-enough-password", "10.9.9.9", now=1002
    )
    later = 1000 + accounts.WINDOW_S + 1
    assert accounts.authenticate(
        store, "alice", "long-enough-password", "10.0.0.1", now=later
    )


def test_concurrent_sign_ins_cannot_pass_the_limit(store):
    """12 simultaneous tries with a wrong password: exactly 5 are checked."""
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    outcomes, barrier = [], threading.Barrier(12)

    def attempt():
        barrier.wait()
        try:
            outcomes.append(accounts.authenticate(store, "alice", "x", "7.7.7.7", 1000))
        except accounts.TooManyAttempts:
            outcomes.append("refused")
        finally:
            store.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(None) == accounts.MAX_PER_PAIR
    assert outcomes.count("refused") == 12 - accounts.MAX_PER_PAIR


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
    assert (
        store.private.user_for_token(token, now=0.0) is None
    )  # only the hash is known


def test_tokens_expire_and_are_listed_and_revoked_by_id(store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    old = accounts.new_token(store, "bot", days=1, now=0.0)
    new = accounts.new_token(store, "bot", days=90, now=0.0)
    assert accounts.user_for_token(store, old, now=86_399.0)["name"] == "bot"
    assert accounts.user_for_token(store, old, now=86_401.0) is None
    assert [t["id"] for t in store.private.tokens("bot")] == [
        accounts.token_id(old),
        accounts.token_id(new),
    ]
    accounts.revoke(store, "bot", [accounts.token_id(new)], everything=False)
    assert accounts.user_for_token(store, new, now=1.0) is None


def test_sessions_end_on_sign_out_password_change_and_removal(store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    one = accounts.start_session(store, "alice", now=0.0)
    two = accounts.start_session(store, "alice", now=0.0)
    assert accounts.session_user(store, one, now=10.0) == {
        "name": "alice",
        "role": "planner",
    }
    accounts.end_session(store, one)
    assert accounts.session_user(store, one, now=11.0) is None
    assert accounts.session_user(store, two, now=11.0) is not None
    accounts.change_password(store, "alice", "another-long-passphrase")
    assert accounts.session_user(store, two, now=12.0) is None
    three = accounts.start_session(store, "alice", now=20.0)
    store.private.remove_user("alice")
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    assert accounts.session_user(store, three, now=21.0) is None


def test_sessions_end_when_idle_and_at_their_end(store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    idle = accounts.start_session(store, "alice", now=0.0)
    assert accounts.session_user(store, idle, idle=60, now=61.0) is None
    busy = accounts.start_session(store, "alice", max_age=300, now=0.0)
    for t in range(50, 300, 50):  # used every 50 s: never idle
        assert accounts.session_user(store, busy, idle=60, now=float(t)) is not None
    assert accounts.session_user(store, busy, idle=60, now=301.0) is None


@pytest.mark.parametrize(
    "password,reason",
    [
        ("", "blank"),
        ("            ", "blank"),
        ("aaaaaaaaaaaa", "repeated"),
        ("abcabcabcabc", "repeated"),
        ("alice", "at least"),
        ("alicealice", "name"),
        ("Alice2024!!", "name"),
        ("azertyuiop", "common"),
        ("1234567890", "common"),
        ("Motdepasse2024!", "common"),
        ("P@ssw0rd!!12", "common"),
        ("Besançon2025", "common"),
    ],
)
def test_weak_passwords_are_refused(store, password, reason):
    # the territory's words (Besançon: the shipped profile's) are refused too
    words = SHIPPED.password_words
    with pytest.raises(BadRequest, match=reason):
        accounts.create_user(store, "alice", "planner", password, words)
    assert store.private.get_user("alice") is None


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "soleil-du-doubs-1998", "Zq7!vR2#pL9x"]
)
def test_reasonable_passwords_are_accepted(store, password):
    accounts.create_user(store, "alice", "planner", password, SHIPPED.password_words)
    assert accounts.authenticate(store, "alice", password, "1.1.1.1")
