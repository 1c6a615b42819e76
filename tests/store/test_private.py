"""Private data (accounts, history) apart from the layers, and imports in the history."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from shapely.geometry import Point

from mapapp.store.geopackage import GeoPackageStore
from tests.shipped import GRAND_BESANCON_BBOX as AREA


def test_store_replace_records_each_change_of_an_edited_layer(store, seed_layers):
    frame = seed_layers["coworking"].copy()
    store.update("coworking", "le-numerique", {"desks": 99}, author="alice")
    kept = store.get("coworking", "proposition-viotte")["version"]
    frame = frame[frame["id"] != "le-numerique"]  # the import drops a feature
    frame.loc[frame["id"] == "deca-bfc", "desks"] = 41  # and changes one
    store.replace_layers({"coworking": frame}, author="admin", note="import generic x")
    gone = store.private.history("coworking", "le-numerique")[0]
    assert (gone["action"], gone["author"], gone["note"]) == (
        "delete",
        "admin",
        "import generic x",
    )
    assert gone["before"]["properties"]["desks"] == 99  # the planner's edit is kept
    changed = store.private.history("coworking", "deca-bfc")[0]
    assert (
        changed["action"] == "update" and changed["after"]["properties"]["desks"] == 41
    )
    assert store.get("coworking", "proposition-viotte")["version"] == kept
    assert store.private.history("coworking", "proposition-viotte") == []
    entry = next(
        d for d in store.private.deleted("coworking") if d["id"] == "le-numerique"
    )
    back = store.restore("coworking", "le-numerique", entry["history_id"], author="bob")
    assert back["properties"]["desks"] == 99


def test_store_replace_of_an_official_layer_is_one_entry(store, seed_layers):
    before = len(seed_layers["schools"])
    store.replace_layers(
        {"schools": seed_layers["schools"].head(3)}, author="cli", note="import x"
    )
    conn = store._history_conn()
    row = conn.execute(
        "SELECT action, author, note, after FROM "  # noqa: S608 - a test, no input
        f"{store._t('history')} WHERE layer = 'schools' AND feature_id = ''"
    ).fetchone()
    after = store._load_state(row[3])
    assert row[:3] == ("import", "cli", "import x")
    assert after == {"features_before": before, "features_after": 3}


def test_geopackage_holds_no_private_data(tmp_path, seed_layers):
    store = GeoPackageStore(tmp_path / "mapapp.gpkg", AREA)
    store.create(seed_layers)
    store.private.add_user("alice", "admin", "scrypt:SECRET-HASH-alice")
    store.private.add_token("alice", "token-hash-alice", "tid", now=0.0, expires=9e9)
    store.private.add_session("alice", "session-hash-alice", now=0.0, expires=9e9)
    store.update("coworking", "le-numerique", {"desks": 7}, author="alice")
    store.close()
    assert store.private_path == tmp_path / "mapapp-private.sqlite"
    conn = sqlite3.connect(tmp_path / "mapapp.gpkg")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert not {t for t in tables if "user" in t or "token" in t or "session" in t}
    assert conn.execute("SELECT count(*) FROM mapapp_history_outbox").fetchone() == (0,)
    conn.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("mapapp.gpkg*"))
    assert b"SECRET-HASH" not in raw and b"token-hash" not in raw


@pytest.mark.postgis
def test_postgis_private_tables_are_in_their_own_schema(pg_database):
    import psycopg

    from mapapp.layers import load_seed
    from tests.conftest import SEED
    from tests.postgis import schema_url

    url = schema_url(pg_database)
    from mapapp.store.postgis import PostGISStore

    store = PostGISStore(url, AREA)
    store.create(load_seed(SEED, AREA))
    store.private.add_user("alice", "admin", "hash")
    with psycopg.connect(url) as conn:
        data = conn.execute("SELECT current_schema()").fetchone()[0]
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE "
            "table_name LIKE 'mapapp_%'"
        ).fetchall()
    assert "mapapp_meta" in {t for s, t in rows if s == data}
    assert {t for s, t in rows if s == f"{data}_private"} >= {
        "mapapp_users",
        "mapapp_tokens",
        "mapapp_sessions",
        "mapapp_attempt_counts",
        "mapapp_history",
    }
    assert not {t for s, t in rows if s == data} - {"mapapp_meta"}
    store.close()


LEGACY = """
CREATE TABLE mapapp_users (name TEXT PRIMARY KEY, role TEXT NOT NULL,
  password_hash TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE mapapp_tokens (token_hash TEXT PRIMARY KEY, "user" TEXT NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE mapapp_attempts (key TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE mapapp_history (hid INTEGER PRIMARY KEY AUTOINCREMENT,
  layer TEXT NOT NULL, feature_id TEXT NOT NULL, version INTEGER,
  action TEXT NOT NULL, author TEXT, at TEXT NOT NULL, before TEXT, after TEXT);
INSERT INTO mapapp_users VALUES ('alice', 'admin', 'scrypt:OLD-SECRET-HASH', '2026');
INSERT INTO mapapp_tokens VALUES ('oldtokenhash0123', 'alice', '2026');
INSERT INTO mapapp_history VALUES (41, 'coworking', 'le-numerique', 2, 'update',
  'alice', '2026-01-01T00:00:00Z', NULL, NULL);
"""


def test_geopackage_of_the_older_layout_is_migrated(tmp_path, seed_layers):
    path = tmp_path / "mapapp.gpkg"
    GeoPackageStore(path, AREA).create(seed_layers)
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY)
    conn.close()
    store = GeoPackageStore(path, AREA)
    assert store.private.get_user("alice")["password_hash"] == "scrypt:OLD-SECRET-HASH"
    assert store.private.user_for_token("oldtokenhash0123", now=0.0)["name"] == "alice"
    assert [t["id"] for t in store.private.tokens("alice")] == ["oldtokenha"]
    saved = store.update("coworking", "le-numerique", {"desks": 3}, author="bob")
    history = store.private.history("coworking", "le-numerique")
    assert [h["id"] for h in history][-1] == 41 and history[0]["id"] > 41
    assert saved["version"] == 2 and store.check() == []
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("mapapp.gpkg*"))
    assert b"OLD-SECRET-HASH" not in raw


CRASH_AFTER_COMMIT = """
import os, sys
from shapely.geometry import Point
from tests.shipped import GRAND_BESANCON_BBOX as AREA
from mapapp.store.geopackage import GeoPackageStore

store = GeoPackageStore(sys.argv[1], AREA)
store.get("coworking", "le-numerique")
# die between the commit of the change (entry in the outbox) and the copy of the
# entry to the private file: the worst moment for a history entry
GeoPackageStore._after_write = lambda self: os._exit(0)
store.update("coworking", "le-numerique", {"desks": 77}, author="crash")
"""


def test_geopackage_history_survives_a_crash_between_the_two_files(
    tmp_path, seed_layers
):
    path = tmp_path / "mapapp.gpkg"
    GeoPackageStore(path, AREA).create(seed_layers)
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH_AFTER_COMMIT), str(path)],
        check=True,
    )
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM mapapp_history_outbox").fetchone() == (1,)
    conn.close()
    store = GeoPackageStore(path, AREA)
    assert store.get("coworking", "le-numerique")["properties"]["desks"] == 77
    entry = store.private.history("coworking", "le-numerique")[0]
    assert (entry["author"], entry["after"]["properties"]["desks"]) == ("crash", 77)
    store.add("coworking", _site(), Point(6.02, 47.24), author="next")
    assert store.private.history("coworking", "t")[0]["id"] > entry["id"]
    store.close()


def test_geopackage_rebuild_keeps_numbering_history_after_the_old_entries(
    tmp_path, seed_layers
):
    store = GeoPackageStore(tmp_path / "mapapp.gpkg", AREA)
    store.create(seed_layers)
    store.update("coworking", "le-numerique", {"desks": 5}, author="a")
    first = store.private.history("coworking", "le-numerique")[0]["id"]
    store.create(seed_layers)  # mapapp init --force
    store.update("coworking", "le-numerique", {"desks": 6}, author="b")
    ids = [h["id"] for h in store.private.history("coworking", "le-numerique")]
    assert ids == sorted(ids, reverse=True) and ids[-1] == first and len(ids) == 2
    store.close()


def _site():
    return {
        "id": "t",
        "name": "T",
        "kind": "coworking",
        "status": "planned",
        "source": "test",
        "source_date": "2026",
        "precision": "exact",
    }
