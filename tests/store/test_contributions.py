"""The contributions part of the private contract, on every backend."""

from __future__ import annotations

import pytest

from mapapp.errors import NotFound, RateLimited


def row(sender="s1", created=1000.0, feature="le-numerique", kind="moved", **extra):
    return {
        "created": created,
        "month": "2026-12",
        "layer": "companies",
        "feature_id": feature,
        "kind": kind,
        "body": {"text": "parti rue Battant", "lang": "fr"},
        "email": "a@example.org",
        "sender": sender,
        "status": "new",
        **extra,
    }


def add(store, r, limits=(5, 100)):
    return store.private.add_contribution(r, r["created"] - 3600, limits, 0.0)


def test_add_contribution_stores_and_reads_back(store):
    saved = add(store, row())
    got = store.private.contribution(saved["id"])
    assert got["status"] == "new" and got["body"]["text"] == "parti rue Battant"
    assert got["email"] == "a@example.org"
    assert store.private.contributions(("new",))[0]["id"] == saved["id"]
    assert store.private.contribution_counts() == {"new": 1}


def test_add_contribution_limits_per_sender_and_overall(store):
    for i in range(3):
        add(store, row(created=1000.0 + i, feature=f"f{i}"), limits=(3, 5))
    with pytest.raises(RateLimited):
        add(store, row(created=1010.0, feature="f9"), limits=(3, 5))
    add(store, row(sender="s2", created=1011.0, feature="g1"), limits=(3, 5))
    add(store, row(sender="s3", created=1012.0, feature="g2"), limits=(3, 5))
    with pytest.raises(RateLimited):
        add(store, row(sender="s4", created=1013.0, feature="g3"), limits=(3, 5))
    # past the window, the sender may send again
    add(store, row(created=1000.0 + 7200, feature="h"), limits=(3, 5))


def test_add_contribution_sets_duplicates_and_spammers_apart(store):
    first = add(store, row())
    assert add(store, row(sender="s2", created=1001.0))["status"] == "duplicate"
    store.private.decide_contribution(first["id"], "spam", "alice", 1002.0)
    later = add(store, row(feature="other", created=1003.0))
    assert later["status"] == "spam"
    assert store.private.contribution(later["id"])["email"] is None


def test_decide_contribution_moves_the_email_to_the_replies(store):
    saved = add(store, row())
    store.private.decide_contribution(saved["id"], "accepted", "alice", 2000.0, None,
                                      "le-numerique", "en")  # fmt: skip
    got = store.private.contribution(saved["id"])
    assert got["email"] is None and got["decided_by"] == "alice"
    replies = store.private.replies(take=True)
    assert [(r["email"], r["lang"]) for r in replies] == [("a@example.org", "en")]
    assert store.private.replies() == []


def test_purge_contributions_forgets_old_emails(store):
    old = add(store, row(created=1000.0))
    new = add(store, row(created=900_000.0, feature="x", sender="s9"))
    assert store.private.purge_contributions(500_000.0) == 1
    assert store.private.contribution(old["id"])["email"] is None
    assert store.private.contribution(old["id"])["sender"] is None
    assert store.private.contribution(new["id"])["email"] == "a@example.org"


def test_contribution_months_counts_without_spam(store):
    a = add(store, row())
    b = add(store, row(feature="b", sender="s2"))
    add(store, row(feature="c", sender="s3", month="2026-11"))
    store.private.decide_contribution(a["id"], "accepted", "x", 1.0)
    store.private.decide_contribution(b["id"], "spam", "x", 1.0)
    assert store.private.contribution_months() == [
        {"month": "2026-11", "received": 1, "accepted": 0, "rejected": 0},
        {"month": "2026-12", "received": 1, "accepted": 1, "rejected": 0},
    ]


def test_contribution_unknown_is_not_found(store):
    with pytest.raises(NotFound):
        store.private.contribution(2**70)
