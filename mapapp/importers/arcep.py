"""ARCEP fibre data -> ``fibre``: building points aggregated into zones, or commune
statistics on commune contours.

- Cartefibre building file (``x,y`` in WGS84, ``imb_etat``): each building counts
  the premises of its size class (``catg_loc_imb``: 1, 6.5, 23.5, 67.5, 100; an
  estimate, the file has no exact count) and is FTTH-ready when ``deploye``.
- MCI building base (``imb_x,imb_y`` in EPSG:3857, ``imb_nbr_logloc`` premises) with
  an eligibility column (``elig_ftth``, ``ftth`` or ``techno``=FO).
- MCI commune statistics (``code_insee;nbr;elig_ftth``): one zone per commune, on the
  commune contours of the ``zones`` layer.

Buildings go into the ``zones`` layer when it holds contours (IRIS), else into the
current fibre zones (the shipped quarters).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from .base import (
    ImportJob,
    ImportReport,
    Provenance,
    check_layout,
    file_edition,
    finish,
    register,
)
from .reading import ImportFileError, inner_name, pick, read_chunks, sniff

CLASS_PREMISES = {
    "individuel": 1.0,
    "entre 2 et 11": 6.5,
    "entre 12 et 35": 23.5,
    "entre 36 et 99": 67.5,
    "100 et plus": 100.0,
}
# The three files ARCEP publishes, recognised by their header.
VARIANTS = {
    "cartefibre": (("x",), ("y",), ("imb_etat",)),
    "mci_buildings": (("imb_x",), ("imb_y",), ("imb_nbr_logloc",)),
    "mci_communes": (("code_insee",), ("nbr",), ("elig_ftth",)),
}

MCI = "https://www.data.gouv.fr/datasets/ma-connexion-internet"
SOURCES = {
    "cartefibre": Provenance("ARCEP", "Cartefibre, immeubles", MCI, "lo-2.0"),
    "mci_buildings": Provenance(
        "ARCEP", "Ma connexion internet, base des immeubles", MCI, "lo-2.0"
    ),
    "mci_communes": Provenance(
        "ARCEP", "Ma connexion internet, statistiques par commune", MCI, "lo-2.0"
    ),
}


def _variant(path: Path) -> str:
    for name, required in VARIANTS.items():
        try:
            sniff(path, required, name)
            return name
        except ImportFileError:
            continue
    head = sniff(path, [], "ARCEP").header
    raise ImportFileError(
        f"{path.name}: not an ARCEP file; expected the Cartefibre buildings (x, y, "
        f"imb_etat), the MCI building base (imb_x, imb_y, imb_nbr_logloc) or the MCI "
        f"commune statistics (code_insee, nbr, elig_ftth); found {', '.join(head[:10])}"
    )


@register(
    "fibre",
    "fibre",
    {
        "fr": "Fibre ARCEP (Cartefibre, Ma connexion internet)",
        "en": "ARCEP fibre (Cartefibre, Ma connexion internet)",
    },
    source="ARCEP, Ma connexion internet / Cartefibre",
    variants=VARIANTS,
    variant_labels={
        "cartefibre": {"fr": "Cartefibre", "en": "Cartefibre"},
        "mci_buildings": {
            "fr": "Ma connexion internet, immeubles",
            "en": "Ma connexion internet, buildings",
        },
        "mci_communes": {
            "fr": "Ma connexion internet, communes",
            "en": "Ma connexion internet, communes",
        },
    },
)
def read_fibre(path: Path, job: ImportJob) -> ImportReport:
    """Read an ARCEP file into ``fibre`` zones with premises and coverage.

    ``eligibility``: MCI's per-building eligibility file (``actuel_<dep>``), joined
    on ``imb_id`` when the building base has no eligibility column of its own."""
    store, area, progress, edition = job.store, job.area, job.progress, job.edition
    variant = _variant(path)
    check_layout(job, "fibre", variant, path)
    report = ImportReport("fibre", inner_name(path), "fibre")
    joined = job.eligibility
    fibre_ready = _ftth_buildings(Path(joined), report) if joined else None
    report.note("recognised_as", variant=variant)
    edition = edition or file_edition(path)
    provenance = job.provenance or SOURCES[variant]
    provenance.note(report, edition)
    if variant == "mci_communes":
        stamped = (provenance, edition)
        return _communes(path, store, area, report, stamped, progress)
    zones = _target_zones(store, report)
    premises, ftth = _count_buildings(
        path, variant, zones, report, progress, fibre_ready
    )
    if variant == "cartefibre":
        report.note("premises_estimated")
    rows, geoms = [], []
    for i, zone in enumerate(zones.to_dict("records")):
        if premises[i] <= 0:
            report.drop("zone_without_building", zone["zone_name"])
            continue
        row = _zone_row(
            zone,
            int(premises[i] + 0.5),  # half up: 8.5 premises -> 9
            int(ftth[i] + 0.5),
            edition,
        )
        rows.append(provenance.stamp(row, edition))
        geoms.append(zones.geometry.iloc[i])
    return finish(report, rows, geoms, area)


def _ftth_buildings(path: Path, report: ImportReport) -> set[str]:
    """Buildings the eligibility file lists with an FTTH offer (techno FO/FTTH)."""
    fmt = sniff(path, [["imb_id"], ["techno", "technologie"]], "MCI eligibility")
    techno = pick(fmt, "techno", "technologie")
    ready: set[str] = set()
    for chunk in read_chunks(path, fmt):
        fo = chunk[techno].str.upper().str.contains("FO|FTTH", regex=True)
        ready.update(chunk.loc[fo, pick(fmt, "imb_id")])
    report.note("eligibility", file=inner_name(path), n=len(ready))
    return ready


def _premises_and_ready(
    chunk: pd.DataFrame, variant: str, path: Path, x, y, fibre_ready=None
):
    """(x, y in WGS84, premises per building, FTTH-ready flags) of one chunk;
    ``fibre_ready``: the buildings an eligibility file lists with FTTH."""
    if variant == "mci_buildings":
        x, y = Transformer.from_crs(3857, 4326, always_xy=True).transform(x, y)
        count = pd.to_numeric(chunk["imb_nbr_logloc"], errors="coerce").fillna(1)
        if fibre_ready is not None:
            return x, y, count, chunk["imb_id"].isin(fibre_ready)
        return x, y, count, _eligible(chunk, path)
    count = (
        chunk.get("catg_loc_imb", pd.Series("individuel", index=chunk.index))
        .str.strip()
        .str.lower()
        .map(CLASS_PREMISES)
        .fillna(1.0)
    )
    return x, y, count, chunk["imb_etat"].str.strip().str.lower() == "deploye"


def _count_buildings(path: Path, variant: str, zones, report, progress, ready=None):
    """Premises and FTTH-ready premises per zone, from a building-level file."""
    premises = np.zeros(len(zones))
    ftth = np.zeros(len(zones))
    fmt = sniff(path, [], variant)
    x_col, y_col = ("x", "y") if variant == "cartefibre" else ("imb_x", "imb_y")
    for chunk in read_chunks(path, fmt):
        chunk.columns = [c.strip().lower() for c in chunk.columns]
        report.rows_read += len(chunk)
        if progress:
            progress(len(chunk))
        x = pd.to_numeric(chunk[x_col], errors="coerce").to_numpy()
        y = pd.to_numeric(chunk[y_col], errors="coerce").to_numpy()
        bad = np.isnan(x) | np.isnan(y)
        if bad.any():
            report.drop("no_coordinates", str(chunk.index[bad][0] + 2), int(bad.sum()))
        x, y, count, flags = _premises_and_ready(chunk, variant, path, x, y, ready)
        pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=4326)
        left, right = zones.sindex.query(pts.values, predicate="within")
        outside = len(chunk) - int(bad.sum()) - len(np.unique(left))
        if outside > 0:
            report.drop("building_outside_zones", "-", outside)
        np.add.at(premises, right, count.to_numpy()[left])
        np.add.at(ftth, right, (count.to_numpy() * flags.to_numpy())[left])
    return premises, ftth


def _eligible(chunk: pd.DataFrame, path: Path) -> pd.Series:
    for col in ("elig_ftth", "ftth", "eligible_ftth"):
        if col in chunk:
            return chunk[col].str.strip().isin(("1", "true", "oui", "True", "O"))
    if "techno" in chunk:
        return chunk["techno"].str.upper().str.contains("FO|FTTH")
    raise ImportFileError(
        f"{path.name}: the MCI building base has no eligibility "
        "column (elig_ftth, ftth or techno); join it with the "
        "'eligibilite/actuel' file first"
    )


def _target_zones(store, report) -> gpd.GeoDataFrame:
    zones = store.read("zones")
    if len(zones):
        report.note("into_imported_zones", n=len(zones))
        return zones.reset_index(drop=True)
    current = store.read("fibre")
    if current.empty:
        raise ImportFileError(
            "no zones to aggregate into: import IRIS or commune "
            "contours first (mapapp import zones FILE)"
        )
    report.note("into_fibre_zones", n=len(current))
    return current.reset_index(drop=True)


def _zone_row(zone: dict, premises: int, ftth: int, edition: str) -> dict:
    return {
        "id": f"fibre-{zone['zone_code']}".lower(),
        "zone_code": zone["zone_code"],
        "zone_name": zone["zone_name"],
        "premises": premises,
        "ftth_premises": min(ftth, premises),
        "coverage": round(min(ftth, premises) / premises, 3),
        "as_of": edition,
        "illustrative": False,
        "precision": "exact",
    }


def _communes(path, store, area, report, stamped, progress) -> ImportReport:
    provenance, edition = stamped
    fmt = sniff(
        path, [["code_insee"], ["nbr"], ["elig_ftth"]], "MCI commune statistics"
    )
    frame = pd.concat(list(read_chunks(path, fmt)), ignore_index=True)
    report.rows_read = len(frame)
    if progress:
        progress(len(frame))
    code, nbr, ftth = (pick(fmt, n) for n in ("code_insee", "nbr", "elig_ftth"))
    zones = store.read("zones")
    zones = zones[zones["zone_kind"] == "commune"].set_index("zone_code")
    if zones.empty:
        raise ImportFileError(
            "commune statistics need commune contours: import them "
            "first (mapapp import zones communes.geojson)"
        )
    rows, geoms = [], []
    for rec in frame.to_dict("records"):
        insee = rec[code].strip().zfill(5)
        if insee not in zones.index:
            report.drop("commune_without_contour", insee)
            continue
        premises = int(float(rec[nbr].replace("\u202f", "") or 0))
        ready = int(float(rec[ftth].replace("\u202f", "") or 0))
        if premises <= 0:
            report.drop("no_premises", insee)
            continue
        zone = zones.loc[insee]
        row = _zone_row(
            {"zone_code": insee, "zone_name": zone["zone_name"]},
            premises,
            ready,
            edition,
        )
        rows.append(provenance.stamp(row, edition))
        geoms.append(zone.geometry)
    return finish(report, rows, geoms, area)
