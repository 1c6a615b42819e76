"""Uploads kept between the preview and the import, and swept when left."""

from __future__ import annotations

import io
import os
import time

from mapapp.importers.uploads import PendingUploads, clean_name


def test_clean_name_keeps_a_readable_name_only():
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\me\\sites.json") == "sites.json"
    assert clean_name(".hidden\x00.csv") == "hidden.csv"
    assert clean_name("") == "upload"
    long = clean_name("x" * 300 + ".geojson")
    assert len(long) <= 120 and long.endswith(".geojson")


def test_an_upload_keeps_its_name_and_is_used_once(tmp_path):
    uploads = PendingUploads(tmp_path / "uploads")
    token, path = uploads.save(io.BytesIO(b"data"), "sites.json", {"kind": "generic"})
    assert path.name == "sites.json" and path.read_bytes() == b"data"
    found, meta = uploads.get(token)
    assert found == path and meta["kind"] == "generic"
    uploads.discard(token)
    assert uploads.get(token) is None and list((tmp_path / "uploads").iterdir()) == []


def test_old_uploads_are_swept(tmp_path):
    uploads = PendingUploads(tmp_path / "uploads", max_age=60)
    old, _path = uploads.save(io.BytesIO(b"1"), "a.csv", {})
    stray = tmp_path / "uploads" / "Xy12-old-layout.csv"
    stray.write_text("x")
    hour_ago = time.time() - 3600
    for p in (
        tmp_path / "uploads" / old,
        tmp_path / "uploads" / old / "upload.json",
        stray,
    ):
        os.utime(p, (hour_ago, hour_ago))
    assert uploads.get(old) is None
    new, _path = uploads.save(io.BytesIO(b"2"), "b.csv", {})
    assert sorted(os.listdir(tmp_path / "uploads")) == [new]


def test_unknown_tokens_are_none(tmp_path):
    uploads = PendingUploads(tmp_path)
    for token in ("../../etc", "", "x" * 200, "a" * 24):
        assert uploads.get(token) is None
