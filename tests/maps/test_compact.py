"""Compact payloads of large point layers and their shared snapshot order."""

from __future__ import annotations

import numpy as np
import pytest

from mapapp.layers import get_spec, load_seed
from mapapp.maps.compact import compact_points, spatial_order
from tests.conftest import SEED
from tests.shipped import GRAND_BESANCON_BBOX as AREA


@pytest.fixture(scope="module")
def companies():
    return spatial_order(load_seed(SEED, AREA)["companies"])


def decode(payload):
    x = np.cumsum(payload["dx"]) / payload["scale"]
    y = np.cumsum(payload["dy"]) / payload["scale"]
    return x, y


def test_compact_round_trip(companies):
    payload = compact_points(companies, get_spec("companies"), 7)
    x, y = decode(payload)
    assert payload["count"] == len(companies) and payload["version"] == 7
    assert np.allclose(x, companies.geometry.x, atol=1e-5)
    assert np.allclose(y, companies.geometry.y, atol=1e-5)
    cats = [payload["categories"][c] for c in payload["c"]]
    assert cats == list(companies["sector"])


def test_spatial_order_is_deterministic_and_local(companies):
    again = spatial_order(companies.sample(frac=1, random_state=3))
    assert list(again["id"]) == list(companies["id"])
    steps = np.hypot(np.diff(companies.geometry.x), np.diff(companies.geometry.y))
    shuffled = companies.sample(frac=1, random_state=1)
    random_steps = np.hypot(np.diff(shuffled.geometry.x), np.diff(shuffled.geometry.y))
    assert steps.sum() < random_steps.sum()


def read_binary(raw: bytes) -> dict:
    """The binary compact payload read back the way map.js reads it."""
    import json

    assert raw[:4] == b"MPTS"
    length = int.from_bytes(raw[4:8], "little")
    head = json.loads(raw[8 : 8 + length])
    pos, columns = 8 + length, []
    for _axis in range(2):
        values, acc = [], 0
        for _ in range(head["count"]):
            shift = z = 0
            while True:
                b = raw[pos]
                pos += 1
                z |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            acc += -(z + 1) // 2 if z & 1 else z // 2
            values.append(acc)
        columns.append(values)
    codes = list(raw[pos : pos + head["count"]])
    assert pos + head["count"] == len(raw)
    return {**head, "x": columns[0], "y": columns[1], "codes": codes}


def test_binary_payload_holds_the_same_points_and_categories(companies):
    from mapapp.maps.compact import compact_binary

    spec = get_spec("companies")
    as_json = compact_points(companies, spec, 3)
    as_bytes = read_binary(compact_binary(companies, spec, 3))
    assert as_bytes["count"] == as_json["count"] and as_bytes["version"] == 3
    assert as_bytes["categories"] == as_json["categories"]
    assert as_bytes["x"] == list(np.cumsum(as_json["dx"]))
    assert as_bytes["y"] == list(np.cumsum(as_json["dy"]))
    assert as_bytes["codes"] == [c + 1 for c in as_json["c"]]  # 0 would be "none"


def test_binary_payload_is_smaller_than_json_once_compressed():
    import gzip
    import json

    from benchmarks.generate import companies as generated
    from mapapp.maps.compact import compact_binary

    frame, spec = spatial_order(generated(20000)), get_spec("companies")
    as_json = json.dumps(compact_points(frame, spec, 1), separators=(",", ":"))
    as_bytes = compact_binary(frame, spec, 1)
    assert len(gzip.compress(as_bytes)) < 0.9 * len(gzip.compress(as_json.encode()))


def test_point_tiles_give_each_located_point_to_its_one_tile():
    import math
    from collections import defaultdict

    from benchmarks.generate import companies as generated
    from mapapp.maps.compact import PointTiles, _unvarints, compact_binary

    frame, spec = spatial_order(generated(20000)), get_spec("companies")
    located = int((frame["precision"] != "commune").sum())
    tiles = PointTiles(compact_binary(frame, spec, 3))
    lon = np.round(frame.geometry.x.to_numpy() * 1e5) / 1e5
    lat = np.round(frame.geometry.y.to_numpy() * 1e5) / 1e5
    for z in (10, 13, 16):
        expected = defaultdict(list)  # the slippy-map formulas, point by point
        for i in range(located):
            x = int((lon[i] + 180) / 360 * 2**z)
            rad = math.radians(lat[i])
            y = int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * 2**z)
            expected[(x, y)].append(i)
        for (x, y), positions in expected.items():
            raw = tiles.tile(z, x, y)
            size = int.from_bytes(raw[4:8], "little")
            data = np.frombuffer(raw, dtype=np.uint8, offset=8 + size)
            n = len(positions)
            _dx, used = _unvarints(data, n)
            _dy, more = _unvarints(data[used:], n)
            index, _ = _unvarints(data[used + more + n :], n)
            assert np.cumsum(index).tolist() == positions
        assert sum(map(len, expected.values())) == located
    empty = tiles.tile(13, 0, 0)  # a tile without a point: its header alone
    assert len(empty) == 8 + int.from_bytes(empty[4:8], "little")
