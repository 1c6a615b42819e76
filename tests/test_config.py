"""Settings: declared once, read from the environment, all documented."""

from __future__ import annotations

import pytest

from mapapp.config import SETTINGS, from_env, parse_bbox, resource_dir


def test_every_setting_is_documented_in_the_readme():
    readme = (resource_dir("geodata").parent / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in readme, setting.env


def test_readme_documents_no_unknown_setting():
    readme = (resource_dir("geodata").parent / "README.md").read_text(encoding="utf-8")
    names = {s.env for s in SETTINGS}
    import re

    assert set(re.findall(r"`(MAPAPP_[A-Z_]+)`", readme)) <= names


def test_from_env_reads_and_types_values():
    values = from_env({"MAPAPP_TILES": "none", "MAPAPP_INLINE_MAX_FEATURES": "10"})
    assert values["TILES"] == "none"
    assert values["INLINE_MAX_FEATURES"] == 10
    assert values["DEFAULT_LANG"] == "fr"
    assert from_env({"MAPAPP_TILES": "osm"}, only_set=True) == {"TILES": "osm"}


@pytest.mark.parametrize("text", ["1,2,3", "6,47,5,48", "a,b,c,d", "200,47,201,48"])
def test_parse_bbox_rejects_bad_boxes(text):
    with pytest.raises(ValueError):
        parse_bbox(text)


def test_parse_bbox():
    assert parse_bbox("5.9,47.2,6.1,47.3") == (5.9, 47.2, 6.1, 47.3)
