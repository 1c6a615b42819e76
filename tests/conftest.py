"""Shared fixtures: an app on a temporary store, its client, the CLI runner."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapapp import create_app
from mapapp.config import resource_dir
from mapapp.layers import load_seed
from mapapp.store.geopackage import GeoPackageStore
from tests.shipped import GRAND_BESANCON_BBOX

SEED = resource_dir("geodata")


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory) -> Path:
    """The store built from the shipped seed, once per test session (tests copy it)."""
    path = tmp_path_factory.mktemp("seed-store") / "mapapp.gpkg"
    store = GeoPackageStore(path, GRAND_BESANCON_BBOX)
    store.create(load_seed(SEED, GRAND_BESANCON_BBOX))
    store.close()
    return path


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped seed data, safe to modify."""
    target = tmp_path / "seed"
    shutil.copytree(SEED, target)
    return target


def edit_seed(seed: Path, layer: str, change) -> None:
    """Apply ``change(feature_collection)`` to one seed file."""
    path = seed / f"{layer}.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def core_site(tmp_path: Path, seed_store: Path):
    """The running site without Flask, on a private copy of the seed store."""
    from mapapp.config import load_settings
    from mapapp.site import Site

    instance = tmp_path / "core-instance"
    instance.mkdir()
    shutil.copyfile(seed_store, instance / "mapapp.gpkg")
    overrides = {"INSTANCE_PATH": str(instance), "TILES": "none"}
    site = Site(load_settings({}, overrides=overrides))
    yield site
    site.close()


@pytest.fixture
def no_full_snapshots(monkeypatch):
    """Site.snapshot failing the test when asked for a whole layer with every
    field (~1 GB held by the server at a million companies, issue 21)."""
    from mapapp.site import Site

    partial = Site.snapshot

    def snapshot(self, name: str, full: bool = False):
        if full:
            raise AssertionError(f"a full snapshot of {name!r} was built")
        return partial(self, name)

    monkeypatch.setattr(Site, "snapshot", snapshot)


@pytest.fixture
def app(tmp_path: Path, seed_store: Path):
    """The app on a private copy of the seed store."""
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(seed_store, instance / "mapapp.gpkg")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "DATA_DIR": str(SEED),
            "TILES": "none",
            "SECRET_KEY": "test-secret",
        }
    )
    yield app
    app.extensions["mapapp.site"].close()


@pytest.fixture
def site(app):
    return app.extensions["mapapp.site"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(site):
    return site.store


@pytest.fixture
def runner(tmp_path: Path, seed_dir: Path, monkeypatch):
    monkeypatch.setenv("MAPAPP_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(seed_dir))
    monkeypatch.setenv("MAPAPP_TILES", "none")
    return CliRunner()


class LiveServer:
    """The app served by waitress in a thread, on a free port."""

    def __init__(self, app):
        from waitress.server import create_server

        self.server = create_server(app, host="127.0.0.1", port=0, threads=4)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Close every socket from the server's own loop (closing them from this
        thread races with its poll: a descriptor freed here could be polled there
        after the next test reuses it), then wait for the loop and the workers."""

        def close_all() -> None:
            for channel in list(self.server._map.values()):
                channel.close()

        try:
            self.server.trigger.pull_trigger(close_all)
        except OSError:  # the loop's wake-up pipe is gone: the loop cannot run it
            close_all()
        self.thread.join(timeout=10)
        self.server.task_dispatcher.shutdown()


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


from tests.postgis import pg_database  # noqa: E402, F401 - the session fixture, for all tests
