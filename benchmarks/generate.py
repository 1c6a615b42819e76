"""Generated company layers for the benchmarks (never shipped, never real).

Points are drawn around Besançon's centre, clipped to the commune's bounding box,
with the fields a SIRENE import would give, and flagged ``illustrative``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from mapapp.naf import HEADCOUNT_CLASSES, ICT_CODES, sector_of

STREETS = [
    "rue de la République",
    "avenue de Montrapon",
    "rue de Vesoul",
    "boulevard Kennedy",
    "rue du Luxembourg",
    "avenue des Montboucons",
    "rue de Dole",
    "chemin de Palente",
    "rue Battant",
    "rue de Belfort",
]


def companies(n: int, seed: int = 42) -> gpd.GeoDataFrame:
    """``n`` generated digital establishments in the companies layer's schema."""
    rng = np.random.default_rng(seed)
    lon = np.clip(rng.normal(6.0241, 0.03, n), 5.941, 6.083)
    lat = np.clip(rng.normal(47.2378, 0.02, n), 47.201, 47.319)
    codes = np.array(sorted(ICT_CODES))[rng.integers(0, len(ICT_CODES), n)]
    classes = np.array(list(HEADCOUNT_CLASSES))[rng.integers(0, 9, n)]
    sirets = [f"{800000000 + i:09d}{rng.integers(0, 99999):05d}" for i in range(n)]
    rows = {
        "id": sirets,
        "siret": sirets,
        "siren": [s[:9] for s in sirets],
        "name": [f"Établissement numérique {i:06d}" for i in range(n)],
        "naf_code": codes,
        "naf_label": ["Activité TIC (générée)"] * n,
        "naf_inferred": [False] * n,
        "sector": [sector_of(c) for c in codes],
        "activity": [None] * n,
        "headcount_class": classes,
        "address": [
            f"{rng.integers(1, 200)} {STREETS[i % len(STREETS)]}, 25000 Besançon"
            for i in range(n)
        ],
        "commune_code": ["25056"] * n,
        "website": [None] * n,
        "source": ["Données générées pour les mesures"] * n,
        "source_url": [None] * n,
        "source_date": ["2026-11"] * n,
        "precision": ["exact"] * n,
        "illustrative": [True] * n,
        "notes": [None] * n,
    }
    return gpd.GeoDataFrame(
        rows, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    )
