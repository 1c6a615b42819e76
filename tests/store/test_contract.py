"""The store contract (store/base.py), run against every backend."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from shapely.geometry import Point, box

from mapapp.errors import BadRequest, Conflict, NotFound, TimeLimit, ValidationError
from mapapp.store.filters import And, Compare, Intersects, Not, Or
from mapapp.values import plain_column


def new_site(**props):
    base = {
        "id": "test-site",
        "name": "Site test",
        "kind": "coworking",
        "status": "planned",
        "desks": 20,
        "published": False,
        "source": "test",
        "source_date": "2026-11",
        "precision": "exact",
    }
    base.update(props)
    return base


def test_store_lists_layers(store):
    assert store.exists()
    assert store.layer_names() == [
        "companies",
        "coworking",
        "schools",
        "fibre",
        "context",
        "perimeters",
        "zones",
    ]


def test_store_read_returns_fields_version_and_wgs84(store, seed_layers):
    frame = store.read("companies")
    assert len(frame) == len(seed_layers["companies"])
    assert frame.crs.to_epsg() == 4326
    assert set(seed_layers["companies"].columns) - {"geometry"} <= set(frame.columns)
    assert (frame["version"] == 1).all()


def test_store_read_keeps_types(store):
    cow = store.read("coworking").set_index("id")
    assert cow.loc["proposition-viotte", "desks"] == 60
    assert cow.loc["proposition-viotte", "illustrative"] is True
    assert cow.loc["proposition-clairs-soleils", "published"] is False


def test_store_read_bbox(store):
    temis = (5.985, 47.247, 5.996, 47.256)
    ids = set(store.read("companies", bbox=temis)["id"])
    assert {"smartesting", "vix-technology", "silmach"} <= ids
    assert "maty" not in ids and "flowbird" not in ids


def test_store_read_filters(store):
    frame = store.read("coworking", filters={"status": "proposed"})
    assert set(frame["status"]) == {"proposed"}
    with pytest.raises(BadRequest):
        store.read("coworking", filters={"nope": 1})


def test_store_read_published_only(store):
    all_ids = set(store.read("coworking")["id"])
    public = set(store.read("coworking", published_only=True)["id"])
    assert "proposition-clairs-soleils" in all_ids - public
    assert store.count("coworking", published_only=True) == len(public)


def test_store_unknown_layer_is_not_found(store):
    with pytest.raises(NotFound):
        store.read("nope")


def test_store_get(store):
    feature = store.get("schools", "lycee-jules-haag")
    assert feature["properties"]["name"] == "Lycée Jules-Haag"
    # ONISEP's position (issue 20), no longer Wikipedia's 6.0133, 47.2392
    assert feature["geometry"].equals_exact(Point(6.01261, 47.2388), 1e-9)
    with pytest.raises(NotFound):
        store.get("schools", "missing")


def test_store_add_bumps_data_version(store):
    before = store.data_version()
    saved = store.add("coworking", new_site(), Point(6.02, 47.24))
    assert saved["version"] == 1
    assert store.data_version() == before + 1
    assert store.get("coworking", "test-site")["properties"]["desks"] == 20


def test_store_layer_version_follows_writes_to_that_layer_only(store, seed_layers):
    companies = store.layer_version("companies")
    assert companies <= store.data_version()
    store.add("coworking", new_site(), Point(6.02, 47.24))
    assert store.layer_version("companies") == companies
    assert store.layer_version("coworking") == store.data_version()
    store.replace_layers({"companies": seed_layers["companies"].iloc[:3]})
    assert store.layer_version("companies") == store.data_version() > companies
    store.create(seed_layers)  # every layer new
    assert store.layer_version("coworking") == store.data_version()


def test_store_made_before_layer_versions_keeps_them_apart(store):
    with store._write() as conn:  # as a store written by an older mapapp
        conn.execute(
            "DELETE FROM mapapp_meta WHERE key LIKE 'layer_version:%' "
            "AND key <> 'layer_version:schools'"
        )
    unmarked = store.layer_version("companies")
    assert unmarked == store.data_version()
    store.add("coworking", new_site(), Point(6.02, 47.24))
    assert store.layer_version("companies") == unmarked
    assert store.layer_version("coworking") == store.data_version() == unmarked + 1


def test_store_layer_mark_changes_with_each_write_of_that_layer(store, seed_layers):
    version, mark = store.layer_mark("companies")
    assert version == store.layer_version("companies") and len(mark) >= 16
    assert store.layer_mark("companies") == (version, mark)  # reading keeps it
    other = store.layer_mark("coworking")
    store.add("coworking", new_site(), Point(6.02, 47.24))
    assert store.layer_mark("companies") == (version, mark)
    assert store.layer_mark("coworking")[1] != other[1]
    store.replace_layers({"companies": seed_layers["companies"].iloc[:3]})
    assert store.layer_mark("companies")[1] != mark
    store.create(seed_layers)
    assert store.layer_mark("companies")[1] != mark


def test_store_made_before_layer_marks_gets_one_and_keeps_it(store):
    with store._write() as conn:  # as a store written by an older mapapp
        conn.execute("DELETE FROM mapapp_meta WHERE key LIKE 'layer_mark:%'")
    version, mark = store.layer_mark("companies")
    assert version == store.layer_version("companies") and mark
    assert store.layer_mark("companies") == (version, mark)
    assert store.layer_mark("schools")[1] != mark  # each layer its own


def test_store_read_arrays_match_read(store):
    frame = store.read("companies", columns=["sector", "headcount_class"])
    xy, fields = store.read_arrays(
        "companies", ["sector", "headcount_class", "illustrative"], chunk=7
    )
    assert xy.tolist() == [[p.x, p.y] for p in frame.geometry]
    for name in ("sector", "headcount_class"):
        codes, values = fields[name]
        decoded = [values[c] if c >= 0 else None for c in codes]
        assert decoded == [v if isinstance(v, str) else None for v in frame[name]]
    codes, values = fields["illustrative"]
    assert set(values) <= {True, False}


def test_store_add_invalid_changes_nothing(store):
    before = store.data_version()
    with pytest.raises(ValidationError):
        store.add("coworking", new_site(status="dreaming"), Point(6.02, 47.24))
    with pytest.raises(ValidationError):
        store.add("coworking", new_site(), Point(47.24, 6.02))
    assert store.data_version() == before
    with pytest.raises(NotFound):
        store.get("coworking", "test-site")


def test_store_add_duplicate_id_conflicts(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    with pytest.raises(Conflict):
        store.add("coworking", new_site(), Point(6.03, 47.24))


def test_store_update_with_version(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    saved = store.update("coworking", "test-site", {"desks": 35}, expected_version=1)
    assert saved["version"] == 2 and saved["properties"]["desks"] == 35
    moved = store.update("coworking", "test-site", geometry=Point(6.03, 47.25))
    assert moved["geometry"].x == pytest.approx(6.03)
    # the spatial index follows the move
    assert "test-site" in set(
        store.read("coworking", bbox=(6.025, 47.245, 6.035, 47.255))["id"]
    )


def test_store_update_stale_version_conflicts_and_keeps_data(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    store.update("coworking", "test-site", {"desks": 35}, expected_version=1)
    with pytest.raises(Conflict):
        store.update("coworking", "test-site", {"desks": 99}, expected_version=1)
    assert store.get("coworking", "test-site")["properties"]["desks"] == 35


def test_store_update_invalid_rolls_back(store):
    before = store.data_version()
    with pytest.raises(ValidationError):
        store.update("coworking", "le-numerique", {"desks": -5})
    assert store.data_version() == before
    assert store.get("coworking", "le-numerique")["version"] == 1


def test_store_delete(store):
    store.add("coworking", new_site(), Point(6.02, 47.24))
    with pytest.raises(Conflict):
        store.delete("coworking", "test-site", expected_version=7)
    store.delete("coworking", "test-site", expected_version=1)
    with pytest.raises(NotFound):
        store.get("coworking", "test-site")
    assert store.check() == []


def test_store_replace_layers_is_atomic(store, seed_layers):
    before = store.data_version()
    broken = seed_layers["schools"].copy()
    broken.loc[0, "id"] = broken.loc[1, "id"]  # violates the unique id
    with pytest.raises(Exception):  # noqa: B017 - backend-specific integrity error
        store.replace_layers(
            {"companies": seed_layers["companies"].head(3), "schools": broken}
        )
    assert store.data_version() == before
    assert store.count("companies") == len(seed_layers["companies"])


def test_store_create_continues_the_data_version(store, seed_layers):
    before = store.data_version()
    store.add("coworking", new_site(), Point(6.02, 47.24))
    assert store.create(seed_layers) > before + 1
    with pytest.raises(NotFound):
        store.get("coworking", "test-site")


def test_store_check_passes(store):
    assert store.check() == []


def test_store_history_records_who_and_what(store):
    store.add("coworking", new_site(), Point(6.02, 47.24), author="alice")
    store.update("coworking", "test-site", {"desks": 30}, author="bob")
    store.delete("coworking", "test-site", author="alice")
    history = store.private.history("coworking", "test-site")
    assert [(h["action"], h["author"]) for h in history] == [
        ("delete", "alice"),
        ("update", "bob"),
        ("add", "alice"),
    ]
    assert history[1]["before"]["properties"]["desks"] == 20
    assert history[1]["after"]["properties"]["desks"] == 30
    assert [d["id"] for d in store.private.deleted("coworking")] == ["test-site"]


def test_store_restore_undeletes_and_rolls_back(store):
    store.add("coworking", new_site(), Point(6.02, 47.24), author="alice")
    store.update("coworking", "test-site", {"desks": 30}, author="alice")
    store.delete("coworking", "test-site", author="alice")
    entry = store.private.deleted("coworking")[0]
    back = store.restore("coworking", "test-site", entry["history_id"], author="bob")
    assert back["properties"]["desks"] == 30 and back["version"] == 3
    first = store.private.history("coworking", "test-site")[-1]  # the creation
    older = store.restore(
        "coworking", "test-site", first["id"], author="bob", expected_version=3
    )
    assert older["properties"]["desks"] == 20 and older["version"] == 4
    assert store.private.deleted("coworking") == []
    with pytest.raises(Conflict):
        store.restore("coworking", "test-site", first["id"], expected_version=1)


def test_store_accounts(store):
    store.private.add_user("alice", "admin", "hash-a")
    with pytest.raises(Conflict) as caught:
        store.private.add_user("alice", "planner", "x")
    assert caught.value.status == 409
    assert store.private.get_user("alice")["password_hash"] == "hash-a"
    store.private.set_password("alice", "hash-b")
    assert store.private.get_user("alice")["password_hash"] == "hash-b"
    store.private.add_token("alice", "tokenhash", "t1", now=1000.0, expires=2000.0)
    assert store.private.user_for_token("tokenhash", now=1500.0) == {
        "name": "alice",
        "role": "admin",
    }
    assert [u["name"] for u in store.private.list_users()] == ["alice"]
    store.private.remove_user("alice")
    assert store.private.get_user("alice") is None
    assert store.private.user_for_token("tokenhash", now=1500.0) is None
    with pytest.raises(NotFound):
        store.private.remove_user("alice")


def test_store_tokens_expire_list_and_revoke(store):
    store.private.add_user("bot", "planner", "h")
    store.private.add_token("bot", "hash-1", "id-1", now=1000.0, expires=2000.0)
    store.private.add_token("bot", "hash-2", "id-2", now=1100.0, expires=5000.0)
    assert store.private.user_for_token("hash-1", now=2000.0) is None  # expired
    assert store.private.user_for_token("hash-2", now=2000.0)["name"] == "bot"
    listed = store.private.tokens("bot")
    assert [t["id"] for t in listed] == ["id-1", "id-2"]
    assert listed[1]["expires"] == 5000.0 and listed[1]["last_used"] == 2000.0
    assert all("hash" not in str(t) for t in listed)
    store.private.revoke_token("bot", "id-2")
    assert store.private.user_for_token("hash-2", now=2000.0) is None
    with pytest.raises(NotFound):
        store.private.revoke_token("bot", "id-2")
    assert store.private.revoke_tokens("bot") == 1
    assert store.private.tokens("bot") == []


def test_store_sessions_end_on_sign_out_expiry_and_password_change(store):
    store.private.add_user("alice", "planner", "h")
    store.private.add_session("alice", "s1", now=0.0, expires=1000.0)
    store.private.add_session("alice", "s2", now=0.0, expires=1000.0)
    store.private.add_session("alice", "s3", now=0.0, expires=1000.0)
    assert store.private.session_user("s1", now=10.0, idle=100.0)["name"] == "alice"
    store.private.end_session("s1")  # signing out
    assert store.private.session_user("s1", now=20.0, idle=100.0) is None
    assert (
        store.private.session_user("s2", now=200.0, idle=100.0) is None
    )  # idle too long
    assert store.private.session_user("s3", now=90.0, idle=100.0) is not None
    assert (
        store.private.session_user("s3", now=1000.0, idle=5000.0) is None
    )  # past its end
    store.private.add_session("alice", "s4", now=0.0, expires=1000.0)
    store.private.set_password("alice", "new-hash")
    assert store.private.session_user("s4", now=1.0, idle=100.0) is None


def test_store_removed_account_recreated_inherits_nothing(store):
    store.private.add_user("alice", "admin", "h")
    store.private.add_session("alice", "s1", now=0.0, expires=1000.0)
    store.private.add_token("alice", "t1", "id-1", now=0.0, expires=1000.0)
    store.private.record_attempt("alice", "10.0.0.1", at=1.0, since=0.0)
    store.private.remove_user("alice")
    store.private.add_user("alice", "planner", "h2")
    assert store.private.session_user("s1", now=1.0, idle=100.0) is None
    assert store.private.user_for_token("t1", now=1.0) is None
    assert store.private.tokens("alice") == []
    assert store.private.record_attempt("alice", "10.0.0.1", at=2.0, since=0.0) == (
        1,
        1,
    )
    assert store.private.get_user("alice")["role"] == "planner"


def test_store_sign_in_attempts_by_pair_and_address(store):
    assert store.private.record_attempt("x", "1.1.1.1", at=1000.0, since=0.0) == (1, 1)
    assert store.private.record_attempt("x", "1.1.1.1", at=2000.0, since=1500.0) == (
        1,
        1,
    )
    assert store.private.record_attempt("y", "1.1.1.1", at=2001.0, since=1500.0) == (
        1,
        2,
    )
    assert store.private.record_attempt("x", "2.2.2.2", at=2002.0, since=1500.0) == (
        1,
        1,
    )
    store.private.clear_attempts("x", "1.1.1.1")
    assert store.private.record_attempt("x", "1.1.1.1", at=2003.0, since=0.0) == (1, 2)


def test_store_sign_in_attempts_are_counted_atomically(store):
    """Concurrent attempts each see a distinct count: none slips under a limit."""
    store.private.record_attempt(
        "warm-up", "127.0.0.1", at=0.0, since=0.0
    )  # connect first
    counts = []

    def attempt():
        counts.append(
            store.private.record_attempt("x", "9.9.9.9", at=10.0, since=0.0)[0]
        )
        store.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == list(range(1, 13))


def test_store_create_keeps_accounts_and_history(store, seed_layers):
    store.private.add_user("alice", "admin", "hash")
    store.add("coworking", new_site(), Point(6.02, 47.24), author="alice")
    store.create(seed_layers)
    assert store.private.get_user("alice") is not None
    assert store.private.history("coworking", "test-site")[0]["action"] == "add"


def test_store_add_without_id_makes_one_from_the_name(store):
    saved = store.add(
        "coworking", new_site(id=None, name="Le Numérique"), Point(6, 47.2)
    )
    again = store.add("coworking", new_site(id="", name="Le Numérique"), Point(6, 47.2))
    assert (saved["id"], again["id"]) == ("le-numerique-2", "le-numerique-3")


def test_store_concurrent_adds_of_one_name_get_distinct_ids(store):
    store.get("coworking", "le-numerique")  # connect once before the threads
    ids, errors = [], []

    def add():
        try:
            ids.append(
                store.add(
                    "coworking", new_site(id=None, name="Tiers-lieu"), Point(6, 47.2)
                )["id"]
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(ids) == sorted(
        ["tiers-lieu"] + [f"tiers-lieu-{n}" for n in range(2, 9)]
    )


BAD_VALUES = [
    ("NUL byte", {"name": "a\x00b"}, Point(6.02, 47.24)),
    ("lone surrogate", {"name": "a\ud800b"}, Point(6.02, 47.24)),
    ("control character", {"notes": "bell\x07"}, Point(6.02, 47.24)),
    ("100 kB of text", {"notes": "x" * 100_000}, Point(6.02, 47.24)),
    ("3-D point", {}, Point(6.02, 47.24, 300)),
    ("NaN coordinates", {}, Point(float("nan"), 47.24)),
    ("id with a slash", {"id": "a/b"}, Point(6.02, 47.24)),
    ("id with a space", {"id": "a b"}, Point(6.02, 47.24)),
    ("5,000-character id", {"id": "a" * 5000}, Point(6.02, 47.24)),
    ("id with a control character", {"id": "a\x01"}, Point(6.02, 47.24)),
]


@pytest.mark.parametrize(
    "props,geom", [v[1:] for v in BAD_VALUES], ids=[v[0] for v in BAD_VALUES]
)
def test_store_backends_refuse_the_same_values(store, props, geom):
    before = store.data_version()
    with pytest.raises(ValidationError):
        store.add("coworking", new_site(**props), geom)
    assert store.data_version() == before
    assert store.check() == []


def test_store_refuses_a_polygon_of_a_million_vertices(store):
    import shapely

    ring = shapely.Point(6.02, 47.24).buffer(0.01, quad_segs=250_000)
    with pytest.raises(ValidationError) as caught:
        store.add(
            "perimeters",
            {
                "id": "huge",
                "name": "Huge",
                "status": "candidate",
                "source": "t",
                "source_date": "2026",
                "precision": "exact",
            },
            ring,
        )
    assert caught.value.problems[0].code == "too_many_vertices"


@pytest.mark.parametrize("fid", ["a\x00b", "a\ud800", "a" * 5000, "a/b", ""])
def test_store_odd_ids_are_not_found_on_both_backends(store, fid):
    for call in (
        lambda: store.get("coworking", fid),
        lambda: store.private.history("coworking", fid),
        lambda: store.update("coworking", fid, {"desks": 3}),
        lambda: store.delete("coworking", fid),
        lambda: store.restore("coworking", fid, 1),
    ):
        with pytest.raises(NotFound):
            call()


@pytest.mark.parametrize("hid", [0, -1, 2**63, 2**64, 10**30])
def test_store_restore_of_an_impossible_history_entry_is_not_found(store, hid):
    with pytest.raises(NotFound):
        store.restore("coworking", "le-numerique", hid)


@pytest.mark.parametrize(
    "filters",
    [{"name": "a\x00"}, {"name": "\udc80"}, {"desks": 2**64}, {"desks": -(2**70)}],
)
def test_store_odd_filter_values_are_bad_requests(store, filters):
    with pytest.raises(BadRequest):
        store.read("coworking", filters=filters)


def test_store_read_versioned_labels_the_frame(store):
    version, frame = store.read_versioned("coworking", published_only=True)
    assert version == store.layer_version("coworking")
    assert "proposition-clairs-soleils" not in set(frame["id"])


def test_store_a_write_bumps_only_its_layer_version(store):
    before = store.layer_versions()
    saved = store.add("coworking", new_site(), Point(6.02, 47.24))
    after = store.layer_versions()
    assert after[""] == before[""] + 1 == after["coworking"]
    assert after["companies"] == before["companies"] <= before[""]
    assert store.read_versioned("coworking")[0] == after["coworking"]
    assert store.read_versioned("companies")[0] == before["companies"]
    store.delete("coworking", saved["id"], expected_version=saved["version"])
    assert store.layer_version("coworking") == store.data_version()


# --- filters (store/filters.py): evaluated by the database on every backend ---------


def ids_where(store, layer, where, **kw):
    return set(store.read(layer, where=where, **kw)["id"])


def test_store_filter_comparisons(store):
    from mapapp.store.filters import Compare

    assert ids_where(store, "coworking", Compare("desks", ">", 35)) == {
        "proposition-viotte",
        "proposition-palente",
    }
    assert ids_where(store, "coworking", Compare("desks", "<=", 30)) == {
        "proposition-gare-tgv",
        "proposition-clairs-soleils",
    }
    planned = ids_where(store, "coworking", Compare("status", "=", "planned"))
    assert planned == {"openlab-campus"}
    others = ids_where(store, "coworking", Compare("status", "<>", "planned"))
    assert planned.isdisjoint(others) and len(others) == 10
    assert ids_where(store, "coworking", Compare("illustrative", "=", True)) == {
        "proposition-viotte",
        "proposition-gare-tgv",
        "proposition-palente",
        "proposition-clairs-soleils",
    }


def test_store_filter_boolean_logic_and_nulls(store):
    from mapapp.store.filters import And, Compare, IsNull, Not, Or

    # a missing desks count is unknown: neither "> 35" nor "NOT > 35"
    assert len(ids_where(store, "coworking", Not(Compare("desks", ">", 35)))) == 2
    assert len(ids_where(store, "coworking", IsNull("desks"))) == 7
    assert len(ids_where(store, "coworking", IsNull("desks", negate=True))) == 4
    either = Or((Compare("status", "=", "planned"), Compare("desks", "=", 60)))
    assert ids_where(store, "coworking", either) == {
        "openlab-campus",
        "proposition-viotte",
    }
    both = And((Compare("status", "=", "proposed"), Compare("desks", "<", 30)))
    assert ids_where(store, "coworking", both) == {"proposition-clairs-soleils"}
    assert ids_where(store, "coworking", both, published_only=True) == set()


def test_store_filter_like_in_between(store):
    from mapapp.store.filters import Between, In, Like

    assert ids_where(store, "coworking", Like("id", "proposition-_a%")) == {
        "proposition-palente",
        "proposition-gare-tgv",
    }
    # LIKE is case-sensitive (SQLite's own LIKE is not), CASEI folds the case
    assert ids_where(store, "coworking", Like("name", "%VIOTTE%")) == set()
    assert "proposition-viotte" in ids_where(
        store, "coworking", Like("name", "%VIOTTE%", casei=True)
    )
    # the escape character makes % and _ literal
    assert ids_where(store, "coworking", Like("id", "proposition\\_%")) == set()
    assert ids_where(store, "coworking", In("desks", (25, 60))) == {
        "proposition-viotte",
        "proposition-clairs-soleils",
    }
    assert ids_where(store, "coworking", Between("desks", 30, 40)) == {
        "proposition-gare-tgv",
        "proposition-palente",
    }
    assert len(ids_where(store, "coworking", Between("desks", 30, 40, True))) == 2


def test_store_filter_casei_folds_accents_letters(store):
    from mapapp.store.filters import Compare

    (fid,) = ids_where(store, "schools", Compare("name", "=", "Lycée Jules-Haag"))
    shout = Compare("name", "=", "LYCÉE JULES-HAAG", casei=True)
    assert ids_where(store, "schools", shout) == {fid}


def test_store_filter_intersects_is_exact(store):
    from shapely.geometry import Point, box

    from mapapp.store.filters import Intersects

    temis = box(5.985, 47.247, 5.996, 47.256)
    ids = ids_where(store, "companies", Intersects(temis))
    assert {"smartesting", "silmach"} <= ids and "maty" not in ids
    zone = store.read("fibre").iloc[0]
    inside = zone.geometry.representative_point()
    hit = ids_where(store, "fibre", Intersects(inside))
    assert zone["id"] in hit
    # a point inside a zone's envelope but outside the zone itself
    minx, miny, maxx, maxy = zone.geometry.bounds
    corner = next(
        (
            Point(x, y)
            for x in (minx + 1e-6, maxx - 1e-6)
            for y in (miny + 1e-6, maxy - 1e-6)
            if not zone.geometry.intersects(Point(x, y))
        ),
        None,
    )
    if corner is not None:
        assert zone["id"] not in ids_where(store, "fibre", Intersects(corner))


def test_store_filter_count_and_paging(store):
    from mapapp.store.filters import Compare

    where = Compare("status", "=", "open")
    assert store.count("coworking", where=where) == 5
    pages = [
        list(store.read("coworking", where=where, limit=2, offset=o)["id"])
        for o in (0, 2, 4)
    ]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({i for p in pages for i in p}) == 5


def test_store_filter_refuses_unknown_fields_and_wrong_types(store):
    from mapapp.store.filters import Compare, Like

    for where in (
        Compare("colour", "=", "red"),
        Compare("desks", "=", "many"),
        Compare("status", "=", 3),
        Compare("published", "=", 1),
        Like("desks", "6%"),
    ):
        with pytest.raises(BadRequest):
            store.read("coworking", where=where)


def test_store_read_keeps_integers_with_missing_values(store):
    cow = store.read("coworking").set_index("id")
    assert cow["desks"].isna().sum() == 7
    value = cow.loc["proposition-viotte", "desks"]
    assert value == 60 and not isinstance(value, float)
    assert str(cow["desks"].dtype) == "Int64"


def _address(ident, label, numero, commune_code, commune, lon, lat):
    from mapapp.store.addresses import search_key

    return (
        ident,
        label,
        search_key(label),
        numero,
        label.split(",")[0],
        "25000",
        commune_code,
        commune,
        lon,
        lat,
        "entrée",
        "2026-11",
    )


def test_store_addresses_replace_search_and_communes(store):
    assert store.address_count() == 0 and store.search_addresses("gray") == []
    before = store.data_version()
    rows = [
        _address(
            "a1",
            "16 Route de Gray, 25000 Besançon",
            "16",
            "25056",
            "Besançon",
            5.99,
            47.247,
        ),
        _address(
            "a2",
            "161 Route de Gray, 25000 Besançon",
            "161",
            "25056",
            "Besançon",
            5.98,
            47.25,
        ),
        _address(
            "a3",
            "2 Rue de la Mairie, 25480 École-Valentin",
            "2",
            "25212",
            "École-Valentin",
            5.9897,
            47.2672,
        ),
    ]
    assert store.replace_addresses(rows) == before + 1
    assert store.address_count() == 3
    assert [h["id"] for h in store.search_addresses("16 route de GRAY")] == ["a1"]
    assert [h["id"] for h in store.search_addresses("route gray")] == ["a1", "a2"]
    assert (
        store.search_addresses("ecole-valentin")[0]["nom_commune"] == "École-Valentin"
    )
    communes = {c["code"]: c for c in store.address_communes()}
    assert communes["25056"]["count"] == 2
    assert communes["25056"]["west"] == pytest.approx(5.98)
    store.replace_addresses(rows[:1])
    assert store.address_count() == 1


def test_store_adds_the_table_of_a_layer_registered_later(store):
    """A layer registered after the store was made gets its empty table when the
    store is used (no 404), and takes features like any other."""
    from mapapp.layers import REGISTRY, LayerSpec, register, unregister

    base = REGISTRY["context"]
    spec = LayerSpec(
        "later", {"fr": "Plus tard"}, "Point", base.fields, (), symbol="star"
    )
    version = store.data_version()
    register(spec)
    try:
        assert store.read("later").empty
        assert store.layer_names()[-1] == "later"
        assert store.data_version() == version  # an empty layer changes no answer
        props = {
            "id": "one",
            "name": "Un",
            "kind": "station",
            "source": "test",
            "source_date": "2026",
            "precision": "exact",
        }
        store.add("later", props, Point(6.02, 47.24))
        assert list(store.read("later", bbox=(6.0, 47.2, 6.1, 47.3))["id"]) == ["one"]
    finally:
        unregister("later")
    assert "later" not in store.layer_names()  # the table stays, unregistered


# --- spatial filters: exact, and bounded in time (issue 21, item 7) ---------------


@pytest.mark.parametrize("dx, inside", [(-1e-7, False), (0.0, True), (1e-7, True)])
def test_store_bbox_is_exact_at_its_edges(store, dx, inside):
    """The spatial index keeps float32 boxes; 1 cm outside the box is outside."""
    store.add("coworking", new_site(id="edge"), Point(6.015 + dx, 47.237))
    bbox = (6.015, 47.232, 6.030, 47.242)
    assert ("edge" in set(store.read("coworking", bbox=bbox)["id"])) is inside
    where = Intersects(box(*bbox))
    assert ("edge" in set(store.read("coworking", where=where)["id"])) is inside


def test_store_spatial_terms_combine_exactly(store):
    frame = store.read("companies")
    spots = [(6.02, 47.24), (5.99, 47.25), (6.04, 47.22)]
    polygons = [Point(x, y).buffer(0.012, quad_segs=3) for x, y in spots]
    meets = [set(frame[frame.intersects(p)]["id"]) for p in polygons]
    union, inter = set().union(*meets), meets[0] & meets[1]
    cases = {
        Or(tuple(Intersects(p) for p in polygons)): union,
        And((Intersects(polygons[0]), Intersects(polygons[1]))): inter,
        Not(Or(tuple(Intersects(p) for p in polygons))): set(frame["id"]) - union,
    }
    assert union  # the spots hold companies
    for where, expected in cases.items():
        assert set(store.read("companies", where=where)["id"]) == expected
        assert store.count("companies", where=where) == len(expected)


def _quadrilaterals(rng, n: int = 16) -> list:
    """``n`` four-sided polygons around Besançon's centre, as stress.py draws them
    for the OGC API (a corner on each axis), the first with a flat top edge."""
    from shapely.geometry import Polygon

    shapes = []
    for i in range(n):
        x, y = 6.024 + rng.normal(0, 0.02), 47.238 + rng.normal(0, 0.015)
        reach = 0.01 * rng.uniform(0.5, 1, 4)
        ring = [(x + reach[0], y), (x, y + reach[1]), (x - reach[2], y)]
        ring.append((x, y - reach[3]))
        if i == 0:
            ring[1:2] = [
                (x + reach[0] / 2, y + reach[1]),
                (x - reach[2] / 2, y + reach[1]),
            ]
        shapes.append(Polygon(ring))
    return shapes


def _companies_at(store, points: list):
    """The companies layer with a copy of a seed company at each point (their
    precisions those of the copied companies, ``commune`` some of them)."""
    import geopandas as gpd

    seed = store.read("companies").drop(columns=["version", "geometry"])
    rows = seed.iloc[[i % len(seed) for i in range(len(points))]].copy()
    rows["id"] = rows["siret"] = [f"{90000000000000 + i}" for i in range(len(points))]
    return gpd.GeoDataFrame(rows, geometry=points, crs=4326)


def test_store_or_of_many_polygons_is_exact(store):
    """An OR of 16 polygons (issue 21, item 7) with points on their corners and
    on an edge, and a hair's breadth (1e-9 degree) either side of their edges:
    the features GEOS finds, on every backend, alone and with a comparison."""
    import numpy as np

    rng = np.random.default_rng(21)
    polygons = _quadrilaterals(rng)
    points = [
        Point(x, y) for x, y in rng.normal((6.024, 47.238), (0.03, 0.02), (300, 2))
    ]
    for polygon in polygons:
        ring = np.array(polygon.exterior.coords)
        points += [Point(c) for c in ring[:-1]]
        for a, b in zip(ring[:-1], ring[1:], strict=True):
            middle, normal = (a + b) / 2, np.array([b[1] - a[1], a[0] - b[0]])
            normal /= np.hypot(*normal)
            points += [Point(middle + d * 1e-9 * normal) for d in (-1, 1)]
    top = np.array(polygons[0].exterior.coords)[1:3]  # the flat edge
    points += [Point(top.mean(axis=0)), Point(top[0] * 0.25 + top[1] * 0.75)]
    store.replace_layers({"companies": _companies_at(store, points)})
    frame = store.read("companies")
    meets = np.zeros(len(frame), dtype=bool)
    for polygon in polygons:
        meets |= frame.intersects(polygon).to_numpy()
    located = (frame["precision"] != "commune").to_numpy()
    anywhere = Or(tuple(Intersects(p) for p in polygons))
    cases = {
        anywhere: set(frame["id"][meets]),
        And((anywhere, Compare("precision", "<>", "commune"))): set(
            frame["id"][meets & located]
        ),
        Or(
            tuple(
                And((Intersects(p), Compare("precision", "<>", "commune")))
                for p in polygons
            )
        ): set(frame["id"][meets & located]),
    }
    assert 0 < meets.sum() < len(frame) and 0 < (meets & ~located).sum()
    for where, expected in cases.items():
        assert set(store.read("companies", where=where)["id"]) == expected
        assert store.count("companies", where=where) == len(expected)


def test_store_spatial_filter_follows_a_moved_point(store):
    """Spatial filters on a point layer answer from the features of the layer's
    current version: a company moved in or out is found or left out at once."""
    from shapely.geometry import Polygon

    triangle = Polygon([(6.0, 47.2), (6.1, 47.2), (6.05, 47.3)])
    where = Or((Intersects(triangle), Intersects(triangle.buffer(-0.01))))
    before = set(store.read("companies", where=where)["id"])
    fid = store.read("companies")["id"].iloc[0]
    store.update("companies", fid, geometry=Point(6.05, 47.25))
    assert set(store.read("companies", where=where)["id"]) == before | {fid}
    store.update("companies", fid, geometry=Point(5.9, 47.25))
    assert set(store.read("companies", where=where)["id"]) == before - {fid}
    assert store.count("companies", where=where) == len(before - {fid})


def test_store_time_budget_stops_a_runaway_query(store):
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c"
    )
    start = time.monotonic()
    with pytest.raises(TimeLimit, match="QUERY_SECONDS"):
        with store.time_budget(0.3), store._bounded(True):
            store.conn.execute(endless).fetchone()
    assert time.monotonic() - start < 3
    # the connection serves again, without a budget left behind
    assert store.count("companies", where=Compare("naf_code", "<>", "x")) > 0


def test_store_filtered_read_past_its_budget_is_refused(store):
    polygon = Point(6.02, 47.24).buffer(0.05)
    with pytest.raises(TimeLimit), store.time_budget(-1):
        store.read("companies", where=Intersects(polygon))


def _attempt_rows(store) -> int:
    table = store._t("attempt_counts")
    return store.pconn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def test_store_refused_sign_ins_add_no_row_each(store):
    """A flood of attempts is counted per minute and pair, not stored one by one."""
    for i in range(300):
        counts = store.private.record_attempt("alice", "6.6.6.6", at=i * 0.5, since=0)
    assert counts == (300, 300)
    assert _attempt_rows(store) == 15  # 150 s of attempts: fifteen 10 s buckets
    # past the address's cap, other accounts tried from it add nothing stored
    for i in range(100):
        counts = store.private.record_attempt(f"u{i}", "6.6.6.6", 200.0, 0, cap=20)
    assert counts == (0, 301) and _attempt_rows(store) == 15


def test_store_old_attempt_counts_are_dropped(store):
    store.private.record_attempt("alice", "6.6.6.6", at=0.0, since=0.0)
    store.private.record_attempt("bob", "7.7.7.7", at=2 * 86400.0, since=0.0)
    assert _attempt_rows(store) == 1


def test_store_bbox_count_is_exact_for_points_along_its_edges(store):
    """Points within a few centimetres of the box's edges: the count is the exact
    one on every backend (3,923 against 3,918 at 100,000 companies before)."""
    import geopandas as gpd
    import numpy as np

    west, south, east, north = bbox = (6.015, 47.232, 6.030, 47.242)
    rng = np.random.default_rng(7)
    xs = np.concatenate([rng.uniform(west, east, 200), west + rng.normal(0, 5e-7, 100)])
    ys = np.concatenate(
        [south + rng.normal(0, 5e-7, 200), rng.uniform(south, north, 100)]
    )
    sites = [new_site(id=f"edge-{i}", name=f"Edge {i}") for i in range(len(xs))]
    frame = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(xs, ys), crs=4326)
    store.replace_layers({"coworking": frame})
    inside = int(((xs >= west) & (xs <= east) & (ys >= south) & (ys <= north)).sum())
    assert 0 < inside < len(xs)
    assert store.count("coworking", bbox=bbox) == inside
    assert store.count("coworking", where=Intersects(box(*bbox))) == inside


def _import_into_coworking(store):
    """An import that adds one site, renames one and removes one (as the wizard
    writes it); returns (ids before, the renamed id, the removed id)."""
    frame = store.read("coworking").drop(columns=["version"])
    before = sorted(frame["id"])
    renamed, removed = frame["id"].iloc[0], frame["id"].iloc[1]
    edited = frame[frame["id"] != removed].copy()
    edited.loc[edited["id"] == renamed, "name"] = "Renommé par l'import"
    added = edited.iloc[[0]].copy()
    added["id"] = "ajout-de-l-import"
    added["name"] = "Ajouté par l'import"
    import pandas as pd

    edited = edited.__class__(pd.concat([edited, added]), crs=edited.crs)
    store.replace_layers(
        {"coworking": edited}, author="paul", note="generic import of sites.csv (merge)"
    )
    return before, renamed, removed


def test_store_undo_import_brings_the_layer_back(store):
    before, renamed, removed = _import_into_coworking(store)
    layer = store.read("coworking")
    names = dict(zip(layer["id"], layer["name"], strict=True))
    assert names[renamed] == "Renommé par l'import" and removed not in names
    entry = store.private.history("coworking", "ajout-de-l-import")[0]
    entries = store.private.import_entries("coworking", entry["id"])
    assert sorted(e["action"] for e in entries) == ["add", "delete", "update"]
    version = store.data_version()
    counts = store.undo_import("coworking", entry["id"], author="alice")
    assert counts == {"removed": 1, "restored": 1, "undeleted": 1}
    after = store.read("coworking")
    assert sorted(after["id"]) == before
    assert "Renommé par l'import" not in set(after["name"])
    assert store.data_version() > version
    undo = store.private.history("coworking", renamed)[0]
    assert undo["author"] == "alice" and undo["note"].startswith(
        "undo of generic import"
    )


def test_store_undo_import_refuses_when_a_feature_changed_since(store):
    _before, renamed, _removed = _import_into_coworking(store)
    store.update("coworking", renamed, {"name": "Changé ensuite"}, author="alice")
    entry = store.private.history("coworking", "ajout-de-l-import")[0]
    version = store.data_version()
    with pytest.raises(Conflict, match=renamed):
        store.undo_import("coworking", entry["id"])
    assert store.data_version() == version  # nothing written
    assert "ajout-de-l-import" in set(store.read("coworking")["id"])
    # an edit is not an import
    edit = store.private.history("coworking", renamed)[0]
    with pytest.raises(NotFound):
        store.undo_import("coworking", edit["id"])


def test_store_read_chunks_are_the_read_in_pieces(store):
    whole = store.read("coworking", published_only=True)
    chunks = list(store.read_chunks("coworking", published_only=True, size=3))
    assert len(chunks) == -(-len(whole) // 3) and len(whole) > 6
    assert all(len(c) == 3 for c in chunks[:-1])
    assert all(list(c.index) == list(range(len(c))) for c in chunks)
    joined = pd.concat(chunks, ignore_index=True)
    assert list(joined.columns) == list(whole.columns)
    for name in whole.columns.drop("geometry"):  # a chunk of missing values only
        assert plain_column(joined[name]) == plain_column(whole[name]), name
    assert all(joined.geometry.geom_equals_exact(whole.geometry, 0))


def test_store_read_chunks_are_one_version_when_a_write_comes_between(store):
    """The chunks are read in one transaction: a write committed (by another
    connection) after the first chunk shows in none of the next ones."""
    before = store.read("coworking")
    chunks = store.read_chunks("coworking", size=2)
    first = next(chunks)
    last_id = before["id"].iloc[-1]

    def write():
        store.update("coworking", last_id, {"name": "Written meanwhile"})
        store.add("coworking", new_site(), Point(6.02, 47.24))

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    read = pd.concat([first, *chunks], ignore_index=True)
    assert list(read["id"]) == list(before["id"])
    assert list(read["name"]) == list(before["name"])
    assert list(read["version"]) == list(before["version"])
    assert store.get("coworking", last_id)["properties"]["name"] == "Written meanwhile"
    assert len(store.read("coworking")) == len(before) + 1
