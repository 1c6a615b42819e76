"""The limits on what comes in (mapapp/limits.py)."""

from __future__ import annotations

import time

import pytest

from mapapp.errors import BadRequest
from mapapp.limits import MAX_JSON_BODY, json_depth, parse_json


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth('"\\\\"') == 0


def test_100000_nested_brackets_are_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(BadRequest, match="nested"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)
    assert time.perf_counter() - started < 1


def test_oversized_and_invalid_bodies():
    with pytest.raises(BadRequest, match="bytes"):
        parse_json(b" " * (MAX_JSON_BODY + 1))
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_json(b'{"a": ')
    assert parse_json(b'{"a": "\\ud800"}') == {"a": "\ud800"}  # validation refuses it
