"""Backends for the store contract suite: every test runs on each of them."""

from __future__ import annotations

import pytest

from mapapp.config import GRAND_BESANCON_BBOX as AREA
from mapapp.layers import load_seed
from mapapp.store.geopackage import GeoPackageStore
from tests.conftest import SEED
from tests.postgis import schema_url

BACKENDS = ["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(scope="session")
def seed_layers():
    return load_seed(SEED, AREA)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, seed_layers):
    if request.param == "geopackage":
        s = GeoPackageStore(tmp_path / "store.gpkg", AREA)
    else:
        from mapapp.store.postgis import PostGISStore

        s = PostGISStore(schema_url(request.getfixturevalue("pg_database")), AREA)
    s.create(seed_layers)
    yield s
    s.close()
