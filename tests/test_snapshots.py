"""A large layer's packed snapshot kept in a file (mapapp.snapshots.SnapshotFiles):
a restarted site loads it instead of building it, and only for the very data it
was made of (same store, layer version, spec and file format)."""

from __future__ import annotations

import datetime
import gzip
import logging
import re
import shutil

import numpy as np
import pytest
from shapely.geometry import Point

from mapapp import snapshots
from mapapp.analysis.columns import Points
from mapapp.config import load_settings
from mapapp.layers import load_seed
from mapapp.listing import ListIndex, ListQuery
from mapapp.packing import frame_arrays, frame_of, json_array, json_of
from mapapp.site import Site
from mapapp.snapshots import PackedSnapshot
from mapapp.store.geopackage import GeoPackageStore
from mapapp.workers import Workers
from tests.conftest import SEED
from tests.shipped import GRAND_BESANCON_BBOX as AREA

# the shipped companies (23) are a large layer here: packed, built in a worker
LARGE = {
    "TILES": "none",
    "INLINE_MAX_FEATURES": 5,
    "OVERVIEW_MIN_FEATURES": 10,
    "WORKER_MIN_FEATURES": 0,
}


def open_site(instance, **settings) -> Site:
    overrides = {"INSTANCE_PATH": str(instance), **LARGE, **settings}
    return Site(load_settings({}, overrides=overrides))


@pytest.fixture
def instance(tmp_path, seed_store):
    """An instance folder whose site has built the companies' snapshot once (and
    kept its file), closed as a server is stopped."""
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copyfile(seed_store, folder / "mapapp.gpkg")
    site = open_site(folder)
    try:
        assert isinstance(site.snapshot("companies"), PackedSnapshot)
    finally:
        site.close()
    return folder


def snapshot_files(instance) -> list:
    return sorted((instance / "cache" / "snapshots").glob("*/*.npz"))


@pytest.fixture
def builds(monkeypatch):
    """The layers whose packed snapshot a worker process is asked to build."""
    asked = []
    run = Workers.run

    def recorded(self, job, *args):
        if job is snapshots.build_packed:
            asked.append(args[0])
        return run(self, job, *args)

    monkeypatch.setattr(Workers, "run", recorded)
    return asked


def same_snapshot(a: PackedSnapshot, b: PackedSnapshot) -> None:
    assert a.version == b.version and len(a) == len(b) > 5
    for payload in ("binary", "overview", "compact"):
        one, two = getattr(a, payload)(), getattr(b, payload)()
        assert one.body == two.body and one.etag == two.etag
        # the same bytes compressed (a gzip header holds the time it was made)
        assert gzip.decompress(one.gzip) == gzip.decompress(two.gzip) == one.body
    assert (a.edits == b.edits).all()
    assert [a.id_at(i) for i in range(len(a))] == [b.id_at(i) for i in range(len(b))]
    for query in ("a", "numérique", "zzz-nothing"):
        assert a.search(query, 50) == b.search(query, 50)


def test_snapshot_files_restarted_site_loads_instead_of_building(instance, builds):
    site = open_site(instance)
    try:
        loaded = site.snapshot("companies")
        assert builds == [] and loaded.built_by == 0  # no worker was asked
        fid = loaded.id_at(3)
        assert loaded.index_of(fid) == 3
        assert site.snapshot_feature(loaded, 3)["id"].iloc[0] == fid
    finally:
        site.close()
    # and it is the snapshot a build makes, byte for byte
    shutil.rmtree(instance / "cache")
    site = open_site(instance)
    try:
        same_snapshot(loaded, site.snapshot("companies"))
        assert builds == ["companies"]
    finally:
        site.close()


def test_snapshot_files_a_changed_layer_is_built_again(instance, builds):
    site = open_site(instance)
    try:
        old = site.snapshot("companies")
        fid = old.id_at(0)
        site.store.update("companies", fid, {"name": "Renommée"}, author="test")
        assert site.snapshot_feature(old, 0) is None  # its popup: reload (410)
        assert site.snapshot_feature(old, 1) is not None
    finally:
        site.close()
    site = open_site(instance)
    try:
        new = site.snapshot("companies")
        assert builds == ["companies"] and new.version > old.version
        assert new.search("renommee", 5) == [new.index_of(fid)]
        assert len(snapshot_files(instance)) == 1  # the old version's file is gone
    finally:
        site.close()


@pytest.mark.parametrize("damage", ["empty", "head", "half", "flipped"])
def test_snapshot_files_a_damaged_file_is_built_again(instance, builds, caplog, damage):
    (path,) = snapshot_files(instance)
    raw = bytearray(path.read_bytes())
    if damage == "flipped":  # a byte changed, the size kept
        raw[len(raw) // 2] ^= 0xFF
    else:
        raw = raw[: {"empty": 0, "head": 100, "half": len(raw) // 2}[damage]]
    path.write_bytes(bytes(raw))
    site = open_site(instance)
    try:
        with caplog.at_level(logging.WARNING, logger="mapapp.snapshots"):
            assert len(site.snapshot("companies")) > 5
        assert builds == ["companies"] and "unreadable" in caplog.text
    finally:
        site.close()
    site = open_site(instance)  # kept again, whole
    try:
        assert len(site.snapshot("companies")) > 5 and builds == ["companies"]
    finally:
        site.close()


def test_snapshot_files_of_another_store_are_never_used(instance, tmp_path, builds):
    other = tmp_path / "other"
    other.mkdir()
    layers = load_seed(SEED, AREA)  # the same seed, one company renamed
    layers["companies"].loc[0, "name"] = "Une autre entreprise"
    store = GeoPackageStore(other / "mapapp.gpkg", AREA)
    store.create(layers)
    store.close()
    shutil.copytree(instance / "cache", other / "cache")
    site = open_site(other)
    try:
        assert site.layer_version("companies") == open_site_version(instance)
        snap = site.snapshot("companies")
        assert builds == ["companies"]
        assert snap.search("une autre entreprise", 5)
    finally:
        site.close()


def open_site_version(instance) -> int:
    site = open_site(instance)
    try:
        return site.layer_version("companies")
    finally:
        site.close()


@pytest.mark.parametrize("change", ["format", "code", "spec", "overview_min"])
def test_snapshot_files_of_another_label_are_never_used(
    instance, builds, monkeypatch, change
):
    settings = {}
    if change == "format":
        monkeypatch.setattr(snapshots, "FILE_FORMAT", snapshots.FILE_FORMAT + 1)
    elif change == "code":  # another release of the app
        monkeypatch.setattr(snapshots, "code_digest", lambda: "another release")
    elif change == "spec":
        monkeypatch.setattr(snapshots, "spec_digest", lambda spec: "another spec")
    else:  # a file holding an overview, now that the layer has none
        settings["OVERVIEW_MIN_FEATURES"] = 10_000
    site = open_site(instance, **settings)
    try:
        snap = site.snapshot("companies")
        assert builds == ["companies"]
        assert (snap._overview is None) == (change == "overview_min")
    finally:
        site.close()


def test_snapshot_files_too_large_is_not_kept(tmp_path, seed_store, builds):
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copyfile(seed_store, folder / "mapapp.gpkg")
    for _ in range(2):
        site = open_site(folder)
        site.snapshot_files.max_bytes = 1000
        try:
            assert len(site.snapshot("companies")) > 5
            assert snapshot_files(folder) == []
        finally:
            site.close()
    assert builds == ["companies", "companies"]


def test_snapshot_files_restarted_site_reads_no_facts_again(instance, monkeypatch):
    site = open_site(instance)
    try:
        facts = site.layer_facts("companies", "fr")
    finally:
        site.close()

    def no_job(self, job, *args):
        raise AssertionError(f"{job.__name__} run again")

    monkeypatch.setattr(Workers, "run", no_job)
    site = open_site(instance)
    try:
        assert site.layer_facts("companies", "fr") == facts
        with pytest.raises(AssertionError, match="read_facts"):  # another language
            site.layer_facts("companies", "en")
        fid = site.snapshot("companies").id_at(0)
        site.store.update("companies", fid, {"name": "Renommée"}, author="test")
    finally:
        site.close()
    site = open_site(instance)
    try:
        with pytest.raises(AssertionError, match="read_facts"):  # another version
            site.layer_facts("companies", "fr")
    finally:
        site.close()


def test_snapshot_files_restarted_server_serves_the_map_without_a_worker(instance):
    """`mapapp serve` over the same instance folder: the same bytes, from the kept
    files (not rewritten), and no worker process started for them."""
    import signal
    import urllib.request

    from tests.servers import start_server
    from tests.test_workers import descendants

    env = {"MAPAPP_INSTANCE_PATH": str(instance), "MAPAPP_WORKER_MIN_FEATURES": "20"}
    env |= {
        f"MAPAPP_{k}": str(v) for k, v in LARGE.items() if k != "WORKER_MIN_FEATURES"
    }
    paths = ("/api/layers/companies.bin", "/api/layers/companies.overview", "/embed")
    served, files = [], []
    for _start in range(2):
        proc, base = start_server(env, clean=True)
        try:
            bodies = []
            for path in paths:
                with urllib.request.urlopen(f"{base}{path}", timeout=60) as r:
                    bodies.append(r.read().replace(base.encode(), b""))
            served.append(bodies)
            files.append({p: p.stat().st_ino for p in instance.glob("cache/**/*.*")})
            started = descendants(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    # the page's own map id is drawn at random by folium each time it is made
    for bodies in served:
        bodies[2] = re.sub(rb"map_[0-9a-f]{32}", b"map", bodies[2])
    assert served[0] == served[1] and served[0][0][:4] == b"MPTS"
    assert files[0] == files[1] and len(files[1]) >= 2  # the snapshot and its facts
    assert started == set()  # no fork server, no worker


# --- the list index and the analysis columns, kept beside the snapshot -------------

LIST_QUERIES = [
    ListQuery(layer="companies"),
    ListQuery(layer="companies", sort="place", descending=True),
    ListQuery(layer="companies", sort="category"),
    ListQuery(layer="companies", q="numérique"),
    ListQuery(layer="companies", category="companies:software"),
]
BESANCON = Point(6.0241, 47.2378)


def derived(site: Site) -> dict:
    """What the /list pages and the analyses of the companies show: every list
    page asked in both languages, a catchment with and without a filter, the
    communes and the companies located at commune level only."""
    pages = [
        site.list_index("companies", lang).page(
            query, lang, lambda ids: site.list_rows("companies", ids)
        )
        for lang in ("fr", "en")
        for query in LIST_QUERIES
    ]
    catchments = [
        site.catchment(filters, BESANCON, 3000)
        for filters in ({}, {"companies": {"sector": {"software"}}})
    ]
    points, at_commune = site.company_points()
    return {
        "pages": pages,
        "catchments": catchments,
        "communes": site.communes(),
        "points": (points.x.tolist(), points.y.tolist(), points.order.tolist()),
        "at_commune": at_commune.to_json(),
    }


@pytest.fixture
def jobs(monkeypatch):
    """The jobs a worker process is asked to run, by name."""
    asked = []
    run = Workers.run

    def recorded(self, job, *args):
        asked.append(job.__name__)
        return run(self, job, *args)

    monkeypatch.setattr(Workers, "run", recorded)
    return asked


@pytest.fixture
def kept(instance):
    """The instance of a site that has shown the companies' list and analyses
    once (and kept their files), with what they showed and the files of each."""
    before = set(snapshot_files(instance))
    site = open_site(instance)
    try:
        site.list_index("companies", "fr")
        made = {"list": set(snapshot_files(instance)) - before}
        site.company_points()
        made["columns"] = set(snapshot_files(instance)) - before - made["list"]
        shown = derived(site)
    finally:
        site.close()
    assert all(len(files) == 1 for files in made.values()), made
    return instance, shown, {kind: files.pop() for kind, files in made.items()}


def test_snapshot_files_restarted_site_builds_no_list_nor_columns(kept, jobs):
    instance, shown, _files = kept
    site = open_site(instance)
    try:
        assert derived(site) == shown
        assert "build_list_index" not in jobs and "company_points" not in jobs
    finally:
        site.close()
    assert shown["pages"][0][1] > 5 and shown["catchments"][0]["companies"]


def test_snapshot_files_list_and_columns_of_a_changed_layer_are_built_again(kept, jobs):
    instance, shown, files = kept
    site = open_site(instance)
    try:
        fid = site.list_index("companies", "fr").ids[0]
        site.store.update("companies", fid, {"name": "Renommée"}, author="test")
    finally:
        site.close()
    site = open_site(instance)
    try:
        now = derived(site)
        assert jobs.count("build_list_index") == 2 and "company_points" in jobs
        index = site.list_index("companies", "fr")
        found = index.select(ListQuery(layer="companies", q="renommee"))
        assert list(found) == [index.ids.position(fid)]
        assert now["pages"] != shown["pages"]
    finally:
        site.close()
    assert not any(path.exists() for path in files.values())  # replaced


@pytest.mark.parametrize("kind", ["list", "columns"])
@pytest.mark.parametrize("damage", ["half", "flipped"])
def test_snapshot_files_a_damaged_list_or_columns_file_is_built_again(
    kept, jobs, caplog, kind, damage
):
    instance, shown, files = kept
    raw = bytearray(files[kind].read_bytes())
    if damage == "flipped":
        raw[len(raw) // 2] ^= 0xFF
    else:
        raw = raw[: len(raw) // 2]
    files[kind].write_bytes(bytes(raw))
    site = open_site(instance)
    try:
        with caplog.at_level(logging.WARNING, logger="mapapp.snapshots"):
            assert derived(site) == shown
        job = {"list": "build_list_index", "columns": "company_points"}[kind]
        assert job in jobs and "unreadable" in caplog.text
    finally:
        site.close()
    with np.load(files[kind]) as again:  # kept again, whole: every CRC right
        assert all(len(again[name]) for name in again.files)


@pytest.mark.parametrize("change", ["code", "store"])
def test_snapshot_files_list_and_columns_of_another_label_are_not_used(
    kept, jobs, monkeypatch, tmp_path, change
):
    instance, shown, _files = kept
    if change == "code":
        monkeypatch.setattr(snapshots, "code_digest", lambda: "another release")
    else:  # another store of the same data, at the same version: another mark
        other = tmp_path / "other"
        other.mkdir()
        store = GeoPackageStore(other / "mapapp.gpkg", AREA)
        store.create(load_seed(SEED, AREA))
        store.close()
        shutil.copytree(instance / "cache", other / "cache")
        instance = other
    site = open_site(instance)
    try:
        assert derived(site) == shown
        assert "build_list_index" in jobs and "company_points" in jobs
    finally:
        site.close()


def test_snapshot_files_index_and_points_read_back_as_built(instance):
    """A file's arrays give back what was built, the orders a sort makes too."""
    site = open_site(instance)
    try:
        index = site.list_index("companies", "fr")
        points, at_commune = site.company_points()
    finally:
        site.close()
    again = ListIndex.of_arrays(index.to_arrays(), index.spec)
    for query in LIST_QUERIES:
        assert (again.select(query) == index.select(query)).all()
    assert again.labels == index.labels and again.version == index.version
    read = Points.of_arrays(points.to_arrays())
    box = (points.x.min(), points.y.min(), points.x.mean(), points.y.mean())
    assert (read.within_box(*box) == points.within_box(*box)).all()
    assert read.fields.keys() == points.fields.keys()
    for name, (codes, values) in points.fields.items():
        assert (read.codes(name) == codes).all() and read.fields[name][1] == values
    assert len(at_commune) > 0
    assert frame_of(frame_arrays(at_commune)).equals(at_commune)


@pytest.mark.parametrize(
    "value", [("a", "b"), [datetime.date(2024, 1, 1)], [np.int64(3)], {1: "a"}]
)
def test_snapshot_files_values_json_would_change_are_not_kept(value):
    with pytest.raises(ValueError, match="not kept"):
        json_array(value)
    assert json_of(json_array(["a", None, True, 1, 1.5])) == ["a", None, True, 1, 1.5]
