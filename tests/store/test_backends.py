"""Store backends looked up by the scheme of DATABASE_URL (store/__init__.py)."""

from __future__ import annotations

import pytest

from mapapp.errors import StoreError
from mapapp.store import BACKENDS, open_store, scheme_of
from mapapp.store.geopackage import GeoPackageStore
from tests.shipped import GRAND_BESANCON_BBOX as AREA


@pytest.mark.parametrize(
    "url,scheme",
    [
        ("/srv/mapapp/mapapp.gpkg", ""),
        ("instance/mapapp.gpkg", ""),
        ("C:\\data\\mapapp.gpkg", ""),
        ("file:///srv/mapapp.gpkg", "file"),
        ("postgresql://u@db/mapapp", "postgresql"),
        ("POSTGRES://u@db/mapapp", "postgres"),
    ],
)
def test_scheme_of_a_database_url(url, scheme):
    assert scheme_of(url) == scheme


def test_a_path_or_a_file_url_opens_a_geopackage(tmp_path):
    for url in (str(tmp_path / "a.gpkg"), f"file://{tmp_path / 'b.gpkg'}"):
        store = open_store(url, AREA)
        assert isinstance(store, GeoPackageStore)
        assert store.path.parent == tmp_path and not store.exists()


def test_an_unknown_scheme_names_the_known_ones():
    with pytest.raises(StoreError, match="no store backend for mysql://") as caught:
        open_store("mysql://db/mapapp", AREA)
    assert "postgresql://" in caught.value.message


@pytest.mark.postgis
def test_a_postgresql_url_opens_postgis(pg_database):
    from mapapp.store.postgis import PostGISStore

    store = open_store(pg_database, AREA)
    assert isinstance(store, PostGISStore) and store.url == pg_database


def test_a_new_backend_is_one_line_of_the_table(tmp_path, monkeypatch):
    """A backend is found by its scheme alone: a table entry naming its class."""
    monkeypatch.setitem(BACKENDS, "gpkg", "mapapp.store.geopackage:GeoPackageStore")
    store = open_store(f"gpkg://{tmp_path / 'c.gpkg'}", AREA)
    assert isinstance(store, GeoPackageStore) and store.path == tmp_path / "c.gpkg"
