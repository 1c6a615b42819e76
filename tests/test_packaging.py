"""The built wheel carries the templates, the seed data, the catalogues and assets."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_includes_templates_geodata_and_translations(tmp_path):
    builders = pytest.importorskip("hatchling.builders.wheel")
    builder = builders.WheelBuilder(str(ROOT))
    wheel = next(builder.build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "mapapp/_templates/public/index.html",
        "mapapp/_geodata/companies.geojson",
        "mapapp/_geodata/SOURCES.md",
        "mapapp/translations/fr/LC_MESSAGES/messages.mo",
        "mapapp/static/map.js",
    ):
        assert expected in names, expected
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
