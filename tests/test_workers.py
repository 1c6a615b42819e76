"""Heavy builds of large layers in worker processes (mapapp.workers): the same
results as a build in the server's thread, made in another process, and a worker
that dies answered with a 503 rather than a hung request."""

from __future__ import annotations

import json
import os
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from benchmarks.generate import companies
from mapapp.config import load_settings
from mapapp.errors import Busy
from mapapp.listing import ListQuery
from mapapp.site import Site
from mapapp.snapshots import PackedSnapshot, Snapshot
from mapapp.workers import WorkerLost

N = 3000


@pytest.fixture(scope="module")
def large_store(tmp_path_factory, seed_store):
    """The seed store with 3,000 generated companies (and the shipped ones)."""
    folder = tmp_path_factory.mktemp("workers")
    path = folder / "mapapp.gpkg"
    shutil.copyfile(seed_store, path)
    site = Site(load_settings({}, overrides={"INSTANCE_PATH": str(folder)}))
    shipped = site.store.read("companies").drop(columns=["version"])
    both = pd.concat([companies(N), shipped], ignore_index=True)
    site.store.replace_layers({"companies": gpd.GeoDataFrame(both, crs=shipped.crs)})
    site.close()
    return path


def make_site(tmp_path, large_store, name: str, worker_min: int) -> Site:
    instance = tmp_path / name
    instance.mkdir()
    shutil.copyfile(large_store, instance / "mapapp.gpkg")
    overrides = {
        "INSTANCE_PATH": str(instance),
        "TILES": "none",
        "INLINE_MAX_FEATURES": 100,
        "OVERVIEW_MIN_FEATURES": 1000,
        "WORKER_MIN_FEATURES": worker_min,
    }
    return Site(load_settings({}, overrides=overrides))


@pytest.fixture
def pair(tmp_path, large_store):
    """(a site building large layers in workers, one building them in its thread)
    over copies of the same store."""
    worker = make_site(tmp_path, large_store, "worker", 0)
    thread = make_site(tmp_path, large_store, "thread", -1)
    yield worker, thread
    worker.close()
    thread.close()


def test_map_snapshot_is_built_in_another_process_and_answers_the_same(pair):
    worker, thread = pair
    packed, framed = worker.snapshot("companies"), thread.snapshot("companies")
    assert isinstance(packed, PackedSnapshot) and isinstance(framed, Snapshot)
    assert packed.built_by not in (0, os.getpid())
    assert len(packed) == len(framed) > N
    assert packed.version == framed.version
    # the payloads the map loads, byte for byte
    assert packed.binary().body == framed.binary().body
    assert packed.overview().body == framed.overview().body
    assert packed.compact().body == framed.compact().body
    # positions, ids and search agree
    for i in (0, 1, len(framed) // 2, len(framed) - 1):
        fid = framed.id_at(i)
        assert packed.id_at(i) == fid
        assert packed.index_of(fid) == framed.index_of(fid) == i
    assert packed.index_of("no-such-id") is None
    for query in ("a", "É", "conseil", "0049", "zzz-nothing"):
        assert packed.search(query, 25) == framed.search(query, 25)


def test_tiles_of_a_packed_snapshot_are_those_of_its_frame(pair):
    from mapapp.maps.compact import SCALE, PointTiles, tile_of

    worker, thread = pair
    packed, framed = worker.snapshot("companies"), thread.snapshot("companies")
    points = PointTiles(framed.binary().body)
    x, y = tile_of(points.xs[:1] / SCALE, points.ys[:1] / SCALE, 14)
    for z, tx, ty in ((14, int(x[0]), int(y[0])), (13, int(x[0]) // 2, int(y[0]) // 2)):
        tile = worker.point_tile(packed, z, tx, ty).body
        assert tile == thread.point_tile(framed, z, tx, ty).body
        assert json.loads(tile[8 : 8 + int.from_bytes(tile[4:8], "little")])["count"]


def test_popup_and_search_rows_of_a_packed_snapshot_come_from_the_store(pair):
    worker, thread = pair
    packed, framed = worker.snapshot("companies"), thread.snapshot("companies")
    positions = packed.search("a", 10)
    got = worker.snapshot_rows(packed, positions)
    want = thread.snapshot_rows(framed, positions)
    assert [i for i, _ in got] == positions == [i for i, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert a["id"] == b["id"] and a["name"] == b["name"]
        assert a.geometry.equals(b.geometry)
    one = worker.snapshot_feature(packed, positions[0])
    assert len(one) == 1 and one["id"].iloc[0] == packed.id_at(positions[0])
    # written since the snapshot: not the feature the map shows
    fid = packed.id_at(positions[0])
    worker.store.update("companies", fid, {"name": "Renamed"}, author="test")
    assert worker.snapshot_feature(packed, positions[0]) is None


def test_list_index_is_built_in_a_worker_and_pages_the_same(pair):
    worker, thread = pair
    a, b = worker.list_index("companies", "fr"), thread.list_index("companies", "fr")
    assert a.version == b.version and len(a.ids) == len(b.ids) > N
    for query in (
        ListQuery(),
        ListQuery(q="conseil", layer="companies"),
        ListQuery(sort="place", descending=True, page=3),
        ListQuery(sort="category", page=2),
        ListQuery(sort="date", descending=True),
        ListQuery(sort="name", descending=True, page=7),
    ):
        assert np.array_equal(a.select(query), b.select(query)), query


def test_download_and_whole_geojson_are_written_by_a_worker(pair):
    worker, thread = pair
    from mapapp.exports import download_body, geojson_chunks

    for job, args in (
        (download_body, ("companies", "csv", None, "fr")),
        (download_body, ("companies", "gpkg", "EPSG:2154", "en")),
        (geojson_chunks, ("companies",)),
    ):
        family = (job.__name__, *args)
        key = (*family, worker.layer_version("companies"))
        made = worker.stored(family, key, job, *args, features=N)
        same = thread.stored(family, key, job, *args, features=N)
        assert made.path.parent.parent == worker.settings.cache_dir
        if args[1:2] != ("gpkg",):  # a GeoPackage's bytes hold its own timestamps
            assert made.path.read_bytes() == same.path.read_bytes()
        assert made.size == made.path.stat().st_size > 100_000


def test_analysis_columns_are_read_by_a_worker(pair):
    worker, thread = pair
    (a, at_a), (b, at_b) = worker.company_points(), thread.company_points()
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert a.fields.keys() == b.fields.keys()
    for name, (codes, values) in a.fields.items():
        assert np.array_equal(codes, b.fields[name][0]) and values == b.fields[name][1]
    assert list(at_a["id"]) == list(at_b["id"])
    filters = {"companies": {}}
    assert worker.key_figures(filters) == thread.key_figures(filters)


def dies(site):
    os._exit(3)  # a worker killed mid-build (say, for memory)


def test_a_worker_that_dies_is_a_503_and_the_next_build_works(pair):
    worker, _thread = pair
    with pytest.raises(WorkerLost) as lost:
        worker.workers.run(dies)
    assert isinstance(lost.value, Busy) and lost.value.retry_after > 0
    assert isinstance(worker.snapshot("companies"), PackedSnapshot)


def niceness(site):
    return os.getpid(), os.nice(0)


def test_workers_yield_the_processor_to_the_server(pair):
    """A build is background work: its process runs WORKER_NICENESS lower than
    the server, whose threads get the cores first when all are busy."""
    from mapapp.workers import WORKER_NICENESS

    worker, _thread = pair
    pid, nice = worker.workers.run(niceness)
    assert pid != os.getpid()
    assert nice == min(19, os.nice(0) + WORKER_NICENESS)


def test_small_layers_stay_in_the_thread(tmp_path, large_store):
    site = make_site(tmp_path, large_store, "default", 50_000)
    try:
        assert isinstance(site.snapshot("companies"), Snapshot)  # 3,023 < 50,000
        assert site.workers._pool is None  # no process was started
    finally:
        site.close()


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serve_builds_in_workers_and_leaves_none_behind(tmp_path, large_store):
    """`mapapp serve` with a large layer: its map data comes from a worker process,
    and once the server is killed no process of it remains (the workers end with
    the fork server, which ends with the server)."""
    import signal
    import time
    import urllib.request

    from tests.servers import start_server

    shutil.copyfile(large_store, tmp_path / "mapapp.gpkg")
    env = {
        "MAPAPP_INSTANCE_PATH": str(tmp_path),
        "MAPAPP_TILES": "none",
        "MAPAPP_INLINE_MAX_FEATURES": "100",
        "MAPAPP_WORKER_MIN_FEATURES": "0",
    }
    proc, base = start_server(env, clean=True)
    try:
        with urllib.request.urlopen(
            f"{base}/api/layers/companies.bin", timeout=60
        ) as r:
            assert r.status == 200 and r.read(4) == b"MPTS"
        with urllib.request.urlopen(f"{base}/list?layer=companies", timeout=60) as r:
            assert r.status == 200
        time.sleep(1)  # the pool's next workers started, idle
        family = descendants(proc.pid)
        assert len(family) >= 2  # the fork server and the workers it made
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in family):
        time.sleep(0.1)
    assert not [p for p in family if alive(p)]


def test_layer_facts_of_a_large_layer_come_from_a_worker(pair, monkeypatch):
    worker, thread = pair

    def no_read(*args, **kwargs):
        raise AssertionError("read in the server's process")

    monkeypatch.setattr(worker.store, "read_versioned", no_read)
    monkeypatch.setattr(worker.store, "read", no_read)
    assert worker.layer_facts("companies", "en") == thread.layer_facts(
        "companies", "en"
    )


@pytest.mark.postgis
def test_workers_build_the_same_from_postgis(pg_database, tmp_path):
    """On PostGIS, a worker opens its own connection from the same settings and
    builds what the server's thread would."""
    from tests.postgis import schema_url

    url = schema_url(pg_database)

    def site_of(name: str, worker_min: int) -> Site:
        instance = tmp_path / name
        instance.mkdir()
        overrides = {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": url,
            "TILES": "none",
            "INLINE_MAX_FEATURES": 5,
            "WORKER_MIN_FEATURES": worker_min,
        }
        return Site(load_settings({}, overrides=overrides))

    worker, thread = site_of("worker", 0), site_of("thread", -1)
    try:
        worker.init_store()
        packed, framed = worker.snapshot("companies"), thread.snapshot("companies")
        assert isinstance(packed, PackedSnapshot) and packed.built_by != os.getpid()
        assert packed.binary().body == framed.binary().body
        a, b = (
            worker.list_index("companies", "fr"),
            thread.list_index("companies", "fr"),
        )
        query = ListQuery(sort="place", descending=True)
        assert np.array_equal(a.select(query), b.select(query))
        assert worker.layer_facts("companies", "fr") == thread.layer_facts(
            "companies", "fr"
        )
    finally:
        worker.close()
        thread.close()
