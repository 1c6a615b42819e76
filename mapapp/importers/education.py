"""Schools and higher education -> ``schools``: the Annuaire de l'éducation, ONISEP
Idéo-Structures (both header versions) and the MESR main establishments.

The variant is recognised from the header. Lycées of the Annuaire and every ONISEP or
MESR structure of the chosen communes are kept; a computing section is never
invented: ``digital_programmes`` says it must be checked.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
from pyproj import Transformer

from . import ImportReport, finish, register
from .reading import ImportFileError, encoding_note, norm, sniff

VARIANTS = {
    "annuaire": [
        ["identifiant_de_l_etablissement"],
        ["nom_etablissement"],
        ["type_etablissement"],
    ],
    "onisep": [["code_uai", "code UAI"], ["nom"], ["type", "type d'établissement"]],
    "mesr": [["uai"], ["uo_lib"]],
}
TO_CHECK = "Sections numériques à vérifier (NSI, BTS SIO, BTS CIEL) : non précisé par la source."


def kind_of(text: str) -> str:
    """The schools layer's kind from an official type label."""
    t = norm(text or "")
    if "lycee" in t:
        return "lycee"
    if "iut" in t or "institut_universitaire_de_technologie" in t:
        return "iut"
    if "ingenieur" in t:
        return "engineering_school"
    if "art" in t and ("ecole" in t or "superieur" in t):
        return "art_school"
    if "universite" in t or "ufr" in t or "unite_de_formation" in t:
        return "university"
    if "distance" in t:
        return "distance_learning"
    return "training_centre"


def _variant(path: Path) -> str:
    errors = []
    for name, required in VARIANTS.items():
        try:
            sniff(path, required, name)
            return name
        except ImportFileError as exc:
            errors.append(str(exc))
    head = sniff(path, [], "education").header
    if any(norm(h) in ("siret", "etatadministratifetablissement") for h in head):
        raise ImportFileError(
            f"{path.name}: this looks like a SIRENE file; use `mapapp import sirene`"
        )
    raise ImportFileError(
        f"{path.name}: not an Annuaire de l'éducation, ONISEP or MESR file: {errors[0]}"
    )


@register("education")
def read_education(
    path: Path, store=None, area=None, progress=None, communes=None, **_options
) -> ImportReport:
    """Read one of the three education files into ``schools`` rows."""
    variant = _variant(path)
    fmt = sniff(path, VARIANTS[variant], variant)
    frame = pd.read_csv(
        path, sep=fmt.delimiter, encoding=fmt.encoding, dtype=str, na_filter=False
    )
    frame.columns = [norm(c) for c in frame.columns]
    report = ImportReport("education", path.name, "schools")
    report.rows_read = len(frame)
    report.notes.append(f"recognised as: {variant}")
    if note := encoding_note(path, fmt):
        report.notes.append(note)
    if progress:
        progress(len(frame))
    wanted = set(communes or [])
    rows, geoms = [], []
    for rec in frame.to_dict("records"):
        row = {"annuaire": _annuaire, "onisep": _onisep, "mesr": _mesr}[variant](rec)
        if row is None:
            report.drop(
                "not an open lycée (Annuaire: type or état)",
                rec.get("nom_etablissement", "?"),
            )
            continue
        props, lon, lat, commune = row
        if (wanted and commune not in wanted) or (
            not wanted and not str(commune).startswith("25")
        ):
            report.drop("outside the chosen communes", f"{props['name']} ({commune})")
            continue
        if lon is None or lat is None:
            report.drop("no coordinates", props["name"])
            continue
        props.update(
            {
                "source": {
                    "annuaire": "Annuaire de l'éducation",
                    "onisep": "ONISEP Idéo-Structures",
                    "mesr": "MESR établissements",
                }[variant]
                + f" {date.today():%Y-%m}",
                "source_date": f"{date.today():%Y-%m}",
                "precision": "address",
            }
        )
        rows.append(props)
        geoms.append(_point(lon, lat))
    return finish(report, rows, geoms, area)


def _num(value) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def _point(lon, lat):
    from shapely.geometry import Point

    return Point(lon, lat)


def _annuaire(rec: dict):
    if norm(rec.get("type_etablissement", "")) != "lycee" or rec.get(
        "etat", "OUVERT"
    ).upper() not in ("OUVERT", ""):
        return None
    lon, lat = _num(rec.get("longitude", "")), _num(rec.get("latitude", ""))
    if (lon is None or lat is None) and rec.get("coordx_origine"):
        epsg = re.sub(r"\D", "", rec.get("epsg_origine", "") or "2154") or "2154"
        x, y = _num(rec["coordx_origine"]), _num(rec.get("coordy_origine", ""))
        if x is not None and y is not None:
            lon, lat = Transformer.from_crs(int(epsg), 4326, always_xy=True).transform(
                x, y
            )
    students = _num(rec.get("nombre_d_eleves", ""))
    props = {
        "id": rec["identifiant_de_l_etablissement"],
        "uai": rec["identifiant_de_l_etablissement"],
        "name": rec["nom_etablissement"],
        "kind": "lycee",
        "status": "open",
        "public_private": "private"
        if norm(rec.get("statut_public_prive", "")).startswith("priv")
        else "public",
        "students": int(students) if students is not None else None,
        "digital_programmes": TO_CHECK,
        "address": ", ".join(
            p
            for p in (
                rec.get("adresse_1"),
                rec.get("code_postal"),
                rec.get("nom_commune"),
            )
            if p
        )
        or None,
        "website": rec.get("web") or None,
    }
    return props, lon, lat, rec.get("code_commune", "")


def _onisep(rec: dict):
    uai = rec.get("code_uai", "")
    lon = _num(rec.get("x", rec.get("longitude_(x)", "")))
    lat = _num(rec.get("y", rec.get("latitude_(y)", "")))
    kind_text = rec.get("type", rec.get("type_d_etablissement", ""))
    props = {
        "id": uai or norm(rec.get("nom", "")),
        "uai": uai or None,
        "name": rec["nom"],
        "kind": kind_of(kind_text),
        "status": "open",
        "public_private": "private"
        if norm(rec.get("statut", "")).startswith("priv")
        else "public",
        "digital_programmes": TO_CHECK,
        "address": ", ".join(
            p for p in (rec.get("adresse"), rec.get("cp"), rec.get("commune")) if p
        )
        or None,
        "website": rec.get("lien_site_onisep_fr")
        or rec.get("url_et_id_onisep")
        or None,
    }
    commune = rec.get("commune_cog", rec.get("commune_(cog)", ""))
    return props, lon, lat, commune


def _mesr(rec: dict):
    coords = rec.get("coordonnees", "")
    lat = lon = None
    if "," in coords:
        lat, lon = (_num(v) for v in coords.split(",", 1))
    props = {
        "id": rec["uai"],
        "uai": rec["uai"],
        "name": rec["uo_lib"],
        "kind": kind_of(rec.get("type_d_etablissement", "")),
        "status": "open",
        "public_private": "public",
        "digital_programmes": TO_CHECK,
        "address": rec.get("com_nom") or None,
    }
    return props, lon, lat, rec.get("com_code", "")
