"""Backends for the store contract suite: every test runs on each of them, on a
private copy of a store built from the seed once per test session."""

from __future__ import annotations

import shutil

import pytest

from mapapp.layers import load_seed
from mapapp.store.geopackage import GeoPackageStore
from tests.conftest import SEED
from tests.postgis import clone_schema, schema_url
from tests.shipped import GRAND_BESANCON_BBOX as AREA

BACKENDS = ["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(scope="session")
def seed_layers():
    return load_seed(SEED, AREA)


@pytest.fixture(scope="session")
def pg_seed_url(pg_database, seed_layers):
    """A PostGIS schema holding the seed store, built once (tests clone it)."""
    from mapapp.store.postgis import PostGISStore

    url = schema_url(pg_database)
    store = PostGISStore(url, AREA)
    store.create(seed_layers)
    store.close()
    return url


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, seed_store):
    if request.param == "geopackage":
        shutil.copyfile(seed_store, tmp_path / "store.gpkg")
        s = GeoPackageStore(tmp_path / "store.gpkg", AREA)
    else:
        from mapapp.store.postgis import PostGISStore

        s = PostGISStore(clone_schema(request.getfixturevalue("pg_seed_url")), AREA)
    yield s
    s.close()
