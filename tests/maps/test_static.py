"""The dossier's static map drawn from columns: one marker per pixel and colour."""

from __future__ import annotations

import numpy as np

from mapapp.layers import get_spec
from mapapp.maps.static import PointColumns, static_map


def columns(n: int = 20_000, seed: int = 1) -> PointColumns:
    rng = np.random.default_rng(seed)
    x = 930_000 + rng.normal(0, 800, n)
    y = 6_700_000 + rng.normal(0, 800, n)
    return PointColumns(x, y, rng.integers(-1, 3, n), ["software", "telecom", "it"])


def test_one_per_pixel_keeps_every_pixel_and_category_once():
    points = columns()
    extent = (929_000.0, 6_699_000.0, 931_000.0, 6_701_000.0)
    kept = points.one_per_pixel(extent, 10.0)
    assert 0 < len(kept) < len(points)

    def cells(p):
        inside = (p.x >= 928_960) & (p.x <= 931_040) & (p.y >= 6_698_960)
        inside &= p.y <= 6_701_040
        col = ((p.x[inside] - 928_960) // 10).astype(int)
        row = ((p.y[inside] - 6_698_960) // 10).astype(int)
        return list(zip(col, row, p.codes[inside], strict=True))

    assert len(set(cells(kept))) == len(cells(kept)) == len(kept)
    assert set(cells(kept)) == set(cells(points))


def test_static_map_draws_columns():
    png = static_map({"companies": (columns(), get_spec("companies"))})
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
