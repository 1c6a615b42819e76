"""A PostGIS database for the tests: one database per run, one schema per test.

The server is MAPAPP_TEST_PG (default: the local PostgreSQL on 127.0.0.1:5432, user
postgres, trust auth). Without it the PostGIS tests are skipped, except in CI, where
they fail: .ci/run starts PostgreSQL and installs PostGIS.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote, unquote

import pytest

SERVER = os.environ.get("MAPAPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostGIS is required in CI: {reason}")
    pytest.skip(f"PostGIS not available: {reason}")


@pytest.fixture(scope="session")
def pg_database():
    """A fresh database with the postgis extension, dropped after the run."""
    try:
        import psycopg
    except ImportError as exc:
        _unavailable(str(exc))
    name = f"mapapp_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(
            f"{SERVER}/postgres", autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as exc:
        _unavailable(str(exc).strip())
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        _unavailable(f"CREATE EXTENSION postgis failed: {exc}")
    yield url
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def schema_url(database_url: str) -> str:
    """The database URL with a new empty schema first on the search path."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-csearch_path={schema},public")
    return f"{database_url}?options={options}"


def clone_schema(url: str) -> str:
    """A new schema holding a copy of every table of the schema ``url`` names (its
    first search-path entry), indexes and defaults included; its URL."""
    import psycopg

    source = unquote(url.split("search_path%3D", 1)[1]).split(",", 1)[0]
    database = url.split("?", 1)[0]
    target = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database, autocommit=True) as conn, conn.transaction():
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (source,)
            )
        ]
        conn.execute(f'CREATE SCHEMA "{target}"')
        for t in tables:
            conn.execute(
                f'CREATE TABLE "{target}"."{t}" (LIKE "{source}"."{t}" INCLUDING ALL)'
            )
            # names from pg_tables and uuid4, never from a test's input
            copy = f'INSERT INTO "{target}"."{t}" SELECT * FROM "{source}"."{t}"'  # noqa: S608
            conn.execute(copy)
    options = quote(f"-csearch_path={target},public")
    return f"{database}?options={options}"
