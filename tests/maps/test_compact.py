"""Compact payloads of large point layers and their shared snapshot order."""

from __future__ import annotations

import numpy as np
import pytest

from mapapp.config import GRAND_BESANCON_BBOX as AREA
from mapapp.layers import get_spec, load_seed
from mapapp.maps.compact import compact_points, spatial_order
from tests.conftest import SEED


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
