"""Large layers' builds read in chunks (Store.read_versioned_chunks): with chunks
of a few features, every chunk boundary falls somewhere, and each build is still
the build of the layer read whole; a write between two chunks is in none."""

from __future__ import annotations

import hashlib
import io
import shutil
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from benchmarks.generate import companies
from mapapp.config import load_settings
from mapapp.exports import download_body, export_bytes
from mapapp.layers import get_spec
from mapapp.listing import ListIndex, index_columns
from mapapp.maps.compact import spatial_order
from mapapp.site import Site, build_list_index, read_facts
from mapapp.snapshots import build_packed, build_snapshot, map_columns
from mapapp.values import plain_column

SIZE = 7  # features per chunk: many chunks, one of them shorter


@pytest.fixture(scope="module")
def chunked_store(tmp_path_factory, seed_store):
    """The seed store with 400 generated companies, a tenth of them at commune
    level only, some without a commune code, some unpublished."""
    folder = tmp_path_factory.mktemp("chunked")
    path = folder / "mapapp.gpkg"
    shutil.copyfile(seed_store, path)
    site = Site(load_settings({}, overrides={"INSTANCE_PATH": str(folder)}))
    shipped = site.store.read("companies").drop(columns=["version"])
    made = companies(400)
    made.loc[::10, "precision"] = "commune"
    made.loc[::30, "commune_code"] = None
    made.loc[3::41, "published"] = False
    both = pd.concat([made, shipped], ignore_index=True)
    site.store.replace_layers({"companies": gpd.GeoDataFrame(both, crs=shipped.crs)})
    site.close()
    return path


@pytest.fixture
def site(tmp_path, chunked_store):
    shutil.copyfile(chunked_store, tmp_path / "mapapp.gpkg")
    overrides = {"INSTANCE_PATH": str(tmp_path), "TILES": "none"}
    site = Site(load_settings({}, overrides=overrides), in_worker=True)
    yield site
    site.close()


def test_build_packed_in_chunks_is_the_snapshot_read_whole(site):
    whole = build_snapshot(
        site, "companies", map_columns(get_spec("companies")), -1, 50
    )
    packed = build_packed(site, "companies", 50, size=SIZE)
    assert packed.version == whole.version and len(packed) == len(whole) > 400
    assert "commune" in set(whole.frame["precision"])
    assert [packed.ids[i] for i in range(len(packed))] == list(whole.frame["id"])
    assert [packed.keys[i] for i in range(len(packed))] == whole.keys
    assert packed.edits.tolist() == whole.edits.tolist()
    assert packed.binary().body == whole.binary().body
    assert packed.overview().body == whole.overview().body
    assert packed.compact().body == whole.compact().body


def test_build_list_index_in_chunks_is_the_index_read_whole(site):
    spec = get_spec("companies")
    version, frame = site.store.read_versioned(
        "companies", published_only=True, columns=index_columns(spec)
    )
    whole = ListIndex(spatial_order(frame), spec, "fr", version)
    chunked = build_list_index(site, "companies", "fr", size=SIZE)
    assert chunked.version == version
    for name in ("haystacks", "ids", "names", "places"):
        a, b = getattr(chunked, name), getattr(whole, name)
        assert a.text == b.text and np.array_equal(a.starts, b.starts), name
    for name in ("categories", "dates"):
        a, b = getattr(chunked, name), getattr(whole, name)
        assert np.array_equal(a.codes, b.codes) and a.values == b.values, name
    assert chunked.labels == whole.labels
    for key, ranks in whole._ranks.items():
        assert np.array_equal(chunked._ranks[key], ranks), key


def test_read_facts_in_chunks_are_the_facts_of_the_layer_read_whole(site):
    frame = site.store.read("companies", published_only=True)
    facts = read_facts(site, "companies", "en", size=SIZE)
    assert facts == {
        **site.layer_metadata("companies", frame, "en"),
        "bounds": [float(v) for v in frame.total_bounds],
        "layer_version": site.layer_version("companies"),
    }
    assert facts["precision"]["commune"] > 0 and len(facts["sources"]) > 1


@pytest.mark.parametrize(("fmt", "crs"), [("csv", None), ("fr.csv", "EPSG:2154")])
def test_csv_download_in_chunks_is_the_file_of_the_layer_read_whole(site, fmt, crs):
    frame = site.store.read("companies", published_only=True)
    expected = export_bytes(frame, "companies", fmt, None, crs, "fr")
    written = b"".join(download_body(site, "companies", fmt, crs, "fr", size=SIZE))
    assert hashlib.sha256(written).digest() == hashlib.sha256(expected).digest()
    assert written.count(b"\r\n") == len(frame) + 1


def test_gpkg_download_in_chunks_holds_what_the_layer_read_whole_does(site):
    frame = site.store.read("companies", published_only=True)
    meta = site.layer_metadata("companies", frame, "en")
    expected = export_bytes(frame, "companies", "gpkg", meta, "EPSG:2154", "en")
    chunked = download_body(site, "companies", "gpkg", "EPSG:2154", "en", size=SIZE)
    written = b"".join(chunked)
    info = {}
    for body in (expected, written):
        data = pyogrio.read_dataframe(io.BytesIO(body))
        info[body is written] = (pyogrio.read_info(io.BytesIO(body)), data)
    (a_info, a), (b_info, b) = info[True], info[False]
    for key in ("fields", "dtypes", "ogr_types", "ogr_subtypes", "geometry_type"):
        assert list(np.atleast_1d(a_info[key])) == list(np.atleast_1d(b_info[key]))
    assert a_info["layer_metadata"] == b_info["layer_metadata"]
    assert a_info["features"] == len(frame) and a_info["crs"] == "EPSG:2154"
    for name in b.columns.drop("geometry"):
        assert plain_column(a[name]) == plain_column(b[name]), name
    assert a.geometry.isna().sum() == b.geometry.isna().sum() > 0
    assert all(a.geometry.geom_equals_exact(b.geometry, 1e-6) | b.geometry.isna())
    assert b"mrcc.com/qgis.dtd" in written


def test_a_write_between_chunks_is_in_no_build(site, monkeypatch):
    """The builds label what they read with the version their chunks are at: a
    feature added and one renamed after the first chunk show in none."""
    before = site.store.read("companies", published_only=True)
    version = site.layer_version("companies")
    opened = site.store.read_versioned_chunks

    def write_after_first(*args, **kwargs):
        at, chunks = opened(*args, **kwargs)

        def with_write():
            yield next(chunks)
            first = before["id"].iloc[0]
            new = dict(site.store.get("companies", first)["properties"])
            new.pop("id")
            new["name"] = "Ajoutée entre deux morceaux"

            def write():
                site.store.update("companies", first, {"name": "Renommée"})
                site.store.add("companies", new, Point(6.02, 47.24))

            writer = threading.Thread(target=write)
            writer.start()
            writer.join()
            yield from chunks

        return at, with_write()

    monkeypatch.setattr(site.store, "read_versioned_chunks", write_after_first)
    index = build_list_index(site, "companies", "fr", size=SIZE)
    assert index.version == version
    assert sorted(index.ids[i] for i in range(len(index.ids))) == sorted(before["id"])
    assert "Renommée" not in index.names.text
    facts = read_facts(site, "companies", "fr", size=SIZE)
    assert facts["layer_version"] == version + 2
    assert facts["features"] == len(before) + 1
