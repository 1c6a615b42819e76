"""SIRENE (INSEE) establishments -> ``companies``.

Reads the StockEtablissement CSV in chunks (the national file has about 40 million
rows), keeps the active establishments (``A``) of the chosen communes whose NAF rév.2
code is in the digital set, and places them with, in this order: the geolocation file
joined on ``siret`` (``--geoloc``: ``x_longitude``/``y_latitude``, else ``x``/``y`` in
the row's ``epsg``), the Etalab geocoded variant's ``longitude``/``latitude``, or the
stock's own Lambert-93 columns. The name is the usual name, else a sign, else
the legal unit's ``denominationUniteLegale`` when the file was joined with
StockUniteLegale, else ``SIREN <n>``. The file may be read as published: plain,
``.csv.gz`` or ``.zip``.

Precision comes from the geocoder's own grade: INSEE's ``qualite_xy`` (11 the house
number found: exact; 12 the street: street; 21 and 22 a probable street:
approximate; 33 the commune: commune level) or Etalab's ``geo_type`` (housenumber,
street, locality, municipality; ``result_type`` of files geocoded with the BAN's CSV
geocoder, same grades). Coordinates without a grade (the stock's Lambert
columns alone) are marked approximate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely import points

from ..naf import HEADCOUNT_CLASSES, NAF_LABELS, in_digital_set, sector_of
from .base import (
    ImportJob,
    ImportReport,
    Provenance,
    check_layout,
    file_edition,
    finish,
    register,
)
from .reading import encoding_note, inner_name, pick, read_chunks, sniff

REQUIRED = [
    ["siret"],
    ["siren"],
    ["etatAdministratifEtablissement"],
    ["codeCommuneEtablissement"],
    ["activitePrincipaleEtablissement"],
]
OPTIONAL = [
    "nomenclatureActivitePrincipaleEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "dateCreationEtablissement",
    "denominationUsuelleEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "denominationUniteLegale",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "longitude",
    "latitude",
    "geo_score",
    "geo_type",
    "result_type",
]
# The geocoders' grades as the layer's precision (see the module docstring).
QUALITE_XY = {
    "11": "exact",
    "12": "street",
    "21": "approximate",
    "22": "approximate",
    "33": "commune",
}
GEO_TYPE = {
    "housenumber": "exact",
    "street": "street",
    "locality": "approximate",
    "municipality": "commune",
}
_TO_WGS84 = {}
SOURCE = Provenance(
    "INSEE",
    "base SIRENE des établissements",
    "https://www.data.gouv.fr/fr/datasets/base-sirene-des-entreprises-et-de-leurs-"
    "etablissements-siren-siret/",
    "lo-2.0",
)


def _transformer(epsg: int) -> Transformer:
    if epsg not in _TO_WGS84:
        _TO_WGS84[epsg] = Transformer.from_crs(epsg, 4326, always_xy=True)
    return _TO_WGS84[epsg]


def _float(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series.str.replace(",", ".", regex=False), errors="coerce")
    return np.array(values, dtype=float)  # a writable copy


@register(
    "sirene",
    "companies",
    {
        "fr": "Établissements SIRENE (StockEtablissement)",
        "en": "SIRENE establishments (StockEtablissement)",
    },
    source="INSEE, base SIRENE des établissements",
    variants={"stock": tuple(tuple(names) for names in REQUIRED)},
    communes=True,
)
def read_sirene(path: Path, job: ImportJob) -> ImportReport:
    """Read a SIRENE stock file into a report of ``companies`` rows."""
    area, progress = job.area, job.progress
    communes, edition = job.communes, job.edition
    fmt = sniff(path, REQUIRED, "SIRENE StockEtablissement")
    check_layout(job, "sirene", "stock", path)
    cols = {name: pick(fmt, name) for name in [r[0] for r in REQUIRED] + OPTIONAL}
    wanted = set(communes or getattr(area, "communes", ()))
    report = ImportReport("sirene", inner_name(path), "companies")
    encoding_note(path, fmt, report)
    edition = edition or file_edition(path)
    provenance = job.provenance or SOURCE
    kept = _read_stock(path, fmt, cols, wanted, job.wide, report, progress)
    lon, lat, precision = _coordinates(kept, cols, job.geoloc, report)
    rows, geoms = [], []
    for i, row in enumerate(kept.to_dict("records")):
        if np.isnan(lon[i]) or np.isnan(lat[i]):
            report.drop("no_geolocation", row[cols["siret"]])
            continue
        rows.append(provenance.stamp(_properties(row, cols, precision[i]), edition))
        geoms.append((lon[i], lat[i]))
    report.note("display_name")
    provenance.note(report, edition)
    if not communes and wanted:
        report.note("communes_study_area", n=len(wanted), area=area)
    return finish(report, rows, list(points(geoms)) if geoms else [], area)


def _read_stock(path, fmt, cols, wanted, wide, report, progress) -> pd.DataFrame:
    """The active digital establishments of the chosen communes, read in chunks."""
    kept_parts = []
    for chunk in read_chunks(path, fmt, [c for c in cols.values() if c]):
        report.rows_read += len(chunk)
        kept_parts.append(_filter_chunk(chunk, cols, wanted, wide, report))
        if progress:
            progress(len(chunk))
    return pd.concat(kept_parts, ignore_index=True) if kept_parts else pd.DataFrame()


def _filter_chunk(
    chunk: pd.DataFrame, cols: dict, wanted: set, wide: bool, report: ImportReport
) -> pd.DataFrame:
    # the first reason a row meets is the one counted: its commune first
    commune = chunk[cols["codeCommuneEtablissement"]]
    inside = commune.isin(wanted) if wanted else commune.notna()
    if (~inside).any():
        report.drop("outside_communes", commune[~inside].iloc[0], int((~inside).sum()))
    chunk = chunk[inside]
    state = chunk[cols["etatAdministratifEtablissement"]]
    closed = state != "A"
    if closed.any():
        report.drop(
            "closed", chunk.loc[closed, cols["siret"]].iloc[0], int(closed.sum())
        )
    chunk = chunk[~closed]
    naf = chunk[cols["activitePrincipaleEtablissement"]].str.strip()
    nomenclature = cols.get("nomenclatureActivitePrincipaleEtablissement")
    rev2 = chunk[nomenclature].isin(("NAFRev2", "")) if nomenclature else True
    # astype: an empty chunk's map keeps the text dtype (pyarrow's, when installed)
    digital = naf.map(lambda c: in_digital_set(c, wide)).astype(bool) & rev2
    if (~digital).any():
        report.drop("naf_outside", naf[~digital].iloc[0], int((~digital).sum()))
    return chunk[digital]


def _coordinates(
    kept: pd.DataFrame, cols: dict, geoloc: Path | None, report: ImportReport
):
    n = len(kept)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    precision = np.full(n, "approximate", dtype=object)
    if n == 0:
        return lon, lat, precision
    if geoloc:
        lon, lat, precision = _from_geoloc(Path(geoloc), kept[cols["siret"]], report)
    if cols["longitude"] and cols["latitude"]:
        missing = np.isnan(lon)
        lon[missing] = _float(kept[cols["longitude"]])[missing]
        lat[missing] = _float(kept[cols["latitude"]])[missing]
        grade = cols["geo_type"] or cols["result_type"]
        if grade:
            graded = kept[grade].map(GEO_TYPE).to_numpy()
            use = missing & pd.notna(graded)
            precision[use] = graded[use]
    x_col = cols["coordonneeLambertAbscisseEtablissement"]
    y_col = cols["coordonneeLambertOrdonneeEtablissement"]
    if x_col and y_col:
        missing = np.isnan(lon)
        x, y = _float(kept[x_col]), _float(kept[y_col])
        fx, fy = _transformer(2154).transform(x[missing], y[missing])
        lon[missing], lat[missing] = fx, fy
    return lon, lat, precision


def _from_geoloc(path: Path, sirets: pd.Series, report: ImportReport):
    """Coordinates from the INSEE geolocation file joined on ``siret``."""
    fmt = sniff(path, [["siret"]], "SIRENE geolocation")
    cols = {
        n: pick(fmt, n)
        for n in ("siret", "x_longitude", "y_latitude", "x", "y", "epsg", "qualite_xy")
    }
    wanted = set(sirets)
    parts = [
        chunk[chunk[cols["siret"]].isin(wanted)]
        for chunk in read_chunks(path, fmt, [c for c in cols.values() if c])
    ]
    geo = pd.concat(parts).drop_duplicates(cols["siret"]).set_index(cols["siret"])
    geo = geo.reindex(sirets.to_numpy())
    n = len(sirets)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    if cols["x_longitude"] and cols["y_latitude"]:
        lon = _float(geo[cols["x_longitude"]].fillna(""))
        lat = _float(geo[cols["y_latitude"]].fillna(""))
    if cols["x"] and cols["y"] and cols["epsg"]:
        epsg = pd.to_numeric(geo[cols["epsg"]], errors="coerce")
        x, y = _float(geo[cols["x"]].fillna("")), _float(geo[cols["y"]].fillna(""))
        for code in epsg.dropna().unique():
            rows = (epsg.to_numpy() == code) & np.isnan(lon)
            if rows.any():
                lon[rows], lat[rows] = _transformer(int(code)).transform(
                    x[rows], y[rows]
                )
    precision = np.full(n, "approximate", dtype=object)
    if cols["qualite_xy"]:
        graded = geo[cols["qualite_xy"]].map(QUALITE_XY).to_numpy()
        precision[pd.notna(graded)] = graded[pd.notna(graded)]
    found = int((~np.isnan(lon)).sum())
    at_commune = int(((precision == "commune") & ~np.isnan(lon)).sum())
    report.note("geolocated", file=path.name, found=found, n=n, at_commune=at_commune)
    return lon, lat, precision


def _properties(row: dict, cols: dict, precision: str) -> dict:
    def get(name):
        col = cols.get(name)
        value = (row.get(col) or "").strip() if col else ""
        return value if value and value != "[ND]" else None

    siret, siren = get("siret"), get("siren")
    naf = get("activitePrincipaleEtablissement")
    name = (
        get("denominationUsuelleEtablissement")
        or get("enseigne1Etablissement")
        or get("enseigne2Etablissement")
        or get("enseigne3Etablissement")
        or get("denominationUniteLegale")  # files joined with StockUniteLegale
        or f"SIREN {siren}"
    )
    street = " ".join(
        p
        for p in (
            get("numeroVoieEtablissement"),
            get("indiceRepetitionEtablissement"),
            get("typeVoieEtablissement"),
            get("libelleVoieEtablissement"),
        )
        if p
    )
    town = " ".join(
        p
        for p in (get("codePostalEtablissement"), get("libelleCommuneEtablissement"))
        if p
    )
    headcount = get("trancheEffectifsEtablissement")
    headcount = headcount if headcount in HEADCOUNT_CLASSES else None
    return {
        "id": siret,
        "siret": siret,
        "siren": siren,
        "name": name,
        "naf_code": naf,
        "naf_label": NAF_LABELS.get(naf),
        "naf_inferred": False,
        "sector": sector_of(naf),
        "headcount_class": headcount,
        "headcount_source": "register" if headcount else None,
        "headcount_date": get("anneeEffectifsEtablissement") if headcount else None,
        "creation_date": get("dateCreationEtablissement"),
        "status": "active",
        "address": ", ".join(p for p in (street, town) if p) or None,
        "commune_code": get("codeCommuneEtablissement"),
        "precision": precision,
        "notes": "Géocodage au centroïde de la commune (qualité 33) : localisée au "
        "niveau de la commune seulement."
        if precision == "commune"
        else None,
    }
