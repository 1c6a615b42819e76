"""Schools and higher education -> ``schools``: the Annuaire de l'éducation, ONISEP
Idéo-Structures (both header versions) and the MESR main establishments (field
names or the export's labels, e.g. ``uai - identifiant``, ``libellé``).

The variant is recognised from the header; the file may be plain, ``.csv.gz`` or
``.zip``. Lycées of the Annuaire and every ONISEP or MESR structure of the chosen
communes (default: the metropolis) are kept. Several lines for one UAI (a lycée
polyvalent and its vocational section, say) make one establishment carrying what
every line says. A computing section is never invented: for the Annuaire's lycées
``digital_programmes`` gives their ways and says the sections must be checked;
ONISEP and the MESR say nothing of programmes, so it stays unknown (a merge keeps
what planners wrote). A line is dropped for the first reason it meets, its commune
first. Every feature records the layout's publisher, page, licence and edition
(the file's date unless ``--edition``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point

from .base import (
    ImportJob,
    ImportReport,
    Provenance,
    check_layout,
    file_edition,
    finish,
    register,
)
from .reading import ImportFileError, encoding_note, inner_name, norm, read_csv, sniff

VARIANTS = {
    "annuaire": [
        ["identifiant_de_l_etablissement"],
        ["nom_etablissement"],
        ["type_etablissement"],
    ],
    "onisep": [["code_uai", "code UAI"], ["nom"], ["type", "type d'établissement"]],
    "mesr": [["uai", "uai - identifiant"], ["uo_lib", "libellé"]],
}
# Who publishes each layout, its page and its licence (checked on the publishers'
# pages: ONISEP publishes its Idéo datasets under the ODbL, docs/data-sources.md).
SOURCES = {
    "annuaire": Provenance(
        "Ministère de l'Éducation nationale",
        "Annuaire de l'éducation",
        "https://data.education.gouv.fr/explore/dataset/fr-en-annuaire-education/",
        "lo-2.0",
    ),
    "onisep": Provenance(
        "ONISEP",
        "Idéo-Structures d'enseignement supérieur",
        "https://opendata.onisep.fr/data/5fa586da5c4b6/"
        "2-ideo-structures-d-enseignement-superieur.htm",
        "odbl-1.0",
    ),
    "mesr": Provenance(
        "Ministère de l'Enseignement supérieur et de la Recherche",
        "Principaux établissements d'enseignement supérieur",
        "https://data.enseignementsup-recherche.gouv.fr/explore/dataset/"
        "fr-esr-principaux-etablissements-enseignement-superieur/",
        "lo-2.0",
    ),
}
# The MESR export's labels (use_labels_for_header) -> its field names.
MESR_LABELS = {
    "uai_-_identifiant": "uai",
    "libelle": "uo_lib",
    "type_d_etablissement": "type_d_etablissement",
    "secteur_d_etablissement": "secteur_d_etablissement",
    "site_internet": "url",
    "geolocalisation": "coordonnees",
    "code_commune": "com_code",
    "commune": "com_nom",
    "adresse": "adresse_uai",
    "code_postal": "code_postal_uai",
}
# The Annuaire's precision_localisation as the layer's precision.
ANNUAIRE_PRECISION = {
    "numero_de_rue": "exact",
    "batiment": "exact",
    "entree_principale": "exact",
    "rue": "street",
    "lieu-dit": "approximate",
    "zone_d_adressage": "approximate",
    "commune": "commune",
    "centroide_de_commune": "commune",
}
# When the official type says only "École", "Grand établissement" or "Autre
# établissement" (the MESR export), the name tells the kind. Words of the name, folded
# as headers are (lower case, no accents, "_" for spaces and apostrophes); checked on
# the 150 schools of the 2024 export.
ART = (
    "architecture",
    "paysage",
    "arts_decoratifs",
    "beaux-arts",
    "beaux_arts",
    "theatre",
    "arts_et_medias",
    "creation_industrielle",
    "louis_lumiere",
)
ENGINEERING = (
    "ingenieur",
    "ingenierie",
    "polytechni",
    "sciences_appliquees",
    "centrale",
    "mines",
    "universite_de_technologie",
    "genie_",
    "arts_et_metiers",
    "electroni",
    "electricite",
    "informatique",
    "numerique",
    "mecanique",
    "microtechni",
    "aeronautique",
    "aerospatia",
    "aerotechni",
    "techniques_avancees",
    "technologies_industrielles",
    "travaux_publics",
    "travaux_de_la_construction",
    "ponts_et_chaussees",
    "chimie",
    "telecom",
    "agronomi",
    "petrole",
    "supmeca",
)
# Engineering schools known by their short name alone (whole words of the name).
ENGINEERING_NAMES = {"inp", "esiee", "isen", "ecam", "eigsi", "junia", "cesi", "ismans"}
# When lines disagree on the kind, the most specific one wins.
KIND_ORDER = (
    "engineering_school",
    "iut",
    "art_school",
    "university",
    "lycee",
    "distance_learning",
    "training_centre",
)
TO_CHECK = "Sections numériques à vérifier (NSI, BTS SIO, BTS CIEL) : non précisé par la source."


def kind_of(text: str, name: str = "") -> str:
    """The schools layer's kind from an official type label, and from the name when
    the type does not say (see ART and ENGINEERING)."""
    t, n = norm(text or ""), norm(name or "")
    if "lycee" in t:
        return "lycee"
    if "iut" in t or "institut_universitaire_de_technologie" in t:
        return "iut"
    if "ingenieur" in t:
        return "engineering_school"
    if "universite" in t or "ufr" in t or "unite_de_formation" in t:
        return (
            "engineering_school" if "universite_de_technologie" in n else "university"
        )
    if ("art" in t and ("ecole" in t or "superieur" in t)) or any(w in n for w in ART):
        return "art_school"
    if any(word in n for word in ENGINEERING) or ENGINEERING_NAMES & set(
        re.split(r"[\W_]+", n)
    ):
        return "engineering_school"
    if n.startswith("universite"):  # a university whose type is "Grand établissement"
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


def _read(path: Path, variant: str, report: ImportReport) -> pd.DataFrame:
    fmt = sniff(path, VARIANTS[variant], variant)
    frame = read_csv(path, fmt)
    frame.columns = [norm(c) for c in frame.columns]
    if variant == "mesr":
        frame = frame.rename(
            columns={k: v for k, v in MESR_LABELS.items() if v not in frame.columns}
        )
    encoding_note(path, fmt, report)
    return frame


@register(
    "education",
    "schools",
    {
        "fr": "Annuaire de l'éducation, ONISEP ou MESR",
        "en": "Annuaire de l'éducation, ONISEP or MESR",
    },
    source="Annuaire de l'éducation, ONISEP ou MESR",
    variants={k: tuple(tuple(n) for n in v) for k, v in VARIANTS.items()},
    variant_labels={
        "annuaire": {"fr": "Annuaire de l'éducation", "en": "Annuaire de l'éducation"},
        "onisep": {"fr": "ONISEP Idéo-Structures", "en": "ONISEP Idéo-Structures"},
        "mesr": {"fr": "MESR", "en": "MESR"},
    },
    communes=True,
)
def read_education(path: Path, job: ImportJob) -> ImportReport:
    """Read one of the three education files into ``schools`` rows."""
    area, progress = job.area, job.progress
    variant = _variant(path)
    check_layout(job, "education", variant, path)
    report = ImportReport("education", inner_name(path), "schools")
    frame = _read(path, variant, report)
    report.rows_read = len(frame)
    report.note("recognised_as", variant=variant)
    if progress:
        progress(len(frame))
    wanted = set(job.communes or getattr(area, "communes", ()))
    edition = job.edition or file_edition(path)
    provenance = job.provenance or SOURCES[variant]
    lines: dict[str, list] = {}
    for rec in frame.to_dict("records"):
        found = _establishment(variant, rec, wanted, report)
        if found is None:
            continue
        props, point = found
        provenance.stamp(props, edition)
        lines.setdefault(props["id"], []).append((props, point))
    provenance.note(report, edition)
    rows, geoms = _one_per_uai(lines, report)
    return finish(report, rows, geoms, area)


COMMUNE = {"annuaire": ("code_commune",), "onisep": ("commune_cog", "commune_(cog)")}
COMMUNE["mesr"] = ("com_code",)


def _establishment(variant: str, rec: dict, wanted: set, report: ImportReport):
    """(properties, point) of one line, or None when it is dropped (counted). The
    first reason a line meets is the one counted, its place first: a line of a
    commune not chosen is outside, whatever else it is."""
    commune = next((rec[k] for k in COMMUNE[variant] if rec.get(k)), "")
    if wanted and commune and commune not in wanted:
        report.drop("outside_communes", f"{_name_of(rec)} ({commune})")
        return None
    row = {"annuaire": _annuaire, "onisep": _onisep, "mesr": _mesr}[variant](rec)
    if row is None:
        report.drop(*_why_skipped(variant, rec))
        return None
    props, lon, lat, commune = row
    if wanted and commune not in wanted:
        report.drop("outside_communes", f"{props['name']} ({commune})")
        return None
    if lon is None or lat is None:
        report.drop("no_coordinates", props["name"])
        return None
    return props, Point(lon, lat)


def _name_of(rec: dict) -> str:
    for key in ("nom_etablissement", "nom", "uo_lib"):
        if rec.get(key):
            return rec[key]
    return "?"


def _why_skipped(variant: str, rec: dict) -> tuple[str, str]:
    if variant == "mesr":
        said = [str(v) for v in rec.values() if isinstance(v, str) and v.strip()]
        return "unnamed_line", " ".join(said)[:60] or "-"
    return "not_open_lycee", rec.get("nom_etablissement", "?")


def _one_per_uai(lines: dict[str, list], report: ImportReport):
    """One establishment per UAI, carrying what every one of its lines says."""
    rows, geoms = [], []
    for uai, found in lines.items():
        props, geom = found[0]
        if len(found) > 1:
            props = _merge([p for p, _g in found])
            report.drop("uai_merged", f"{uai} ({len(found)} lines)", len(found) - 1)
            if props.get("nature"):
                said = f"Lignes officielles : {props['nature']}."
                known = props.get("digital_programmes")
                props["digital_programmes"] = f"{said} {known}" if known else said
        props.pop("nature", None)
        rows.append(props)
        geoms.append(geom)
    return rows, geoms


def _merge(lines: list[dict]) -> dict:
    merged = dict(lines[0])
    merged["kind"] = min((p["kind"] for p in lines), key=KIND_ORDER.index)
    students = [p["students"] for p in lines if p.get("students") is not None]
    merged["students"] = max(students) if students else None
    natures = []
    for p in lines:
        for part in (p.get("nature") or "").split(" ; "):
            if part and part not in natures:
                natures.append(part)
    merged["nature"] = " ; ".join(natures) or None
    for key in ("website", "address", "public_private"):
        merged[key] = next((p[key] for p in lines if p.get(key)), None)
    return merged


def _num(value) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def _lambert(rec: dict) -> tuple[float | None, float | None]:
    epsg = re.sub(r"\D", "", rec.get("epsg_origine", "") or "2154") or "2154"
    x, y = _num(rec["coordx_origine"]), _num(rec.get("coordy_origine", ""))
    if x is None or y is None:
        return None, None
    return Transformer.from_crs(int(epsg), 4326, always_xy=True).transform(x, y)


def _annuaire(rec: dict):
    if norm(rec.get("type_etablissement", "")) != "lycee" or rec.get(
        "etat", "OUVERT"
    ).upper() not in ("OUVERT", ""):
        return None
    lon, lat = _num(rec.get("longitude", "")), _num(rec.get("latitude", ""))
    if (lon is None or lat is None) and rec.get("coordx_origine"):
        lon, lat = _lambert(rec)
    students = _num(rec.get("nombre_d_eleves", ""))
    precision = ANNUAIRE_PRECISION.get(norm(rec.get("precision_localisation", "")))
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
        "digital_programmes": _lycee_programmes(rec),
        "address": _address(
            rec.get("adresse_1"), rec.get("code_postal"), rec.get("nom_commune")
        ),
        "website": rec.get("web") or None,
        "precision": precision or "exact",
        "nature": (rec.get("libelle_nature") or "").strip() or None,
    }
    return props, lon, lat, rec.get("code_commune", "")


def _lycee_programmes(rec: dict) -> str:
    ways = [
        label
        for key, label in (
            ("voie_generale", "générale"),
            ("voie_technologique", "technologique"),
            ("voie_professionnelle", "professionnelle"),
        )
        if rec.get(key) == "1"
    ]
    said = f"Voies : {', '.join(ways)}. " if ways else ""
    if rec.get("post_bac") == "1":
        said += "Formations post-bac. "
    return said + TO_CHECK


def _address(*parts) -> str | None:
    return ", ".join(p.strip() for p in parts if p and p.strip()) or None


def _public_private(text: str) -> str:
    return "private" if norm(text or "").startswith("priv") else "public"


def _onisep(rec: dict):
    uai = rec.get("code_uai", "")
    lon = _num(rec.get("x", rec.get("longitude_(x)", "")))
    lat = _num(rec.get("y", rec.get("latitude_(y)", "")))
    kind_text = rec.get("type", rec.get("type_d_etablissement", ""))
    props = {
        "id": uai or norm(rec.get("nom", "")),
        "uai": uai or None,
        "name": rec["nom"],
        "kind": kind_of(kind_text, rec["nom"]),
        "status": "open",
        "public_private": _public_private(rec.get("statut", "")),
        # the file says nothing of the programmes: unknown (a merge keeps the
        # hand-curated ones)
        "digital_programmes": None,
        "address": _address(rec.get("adresse"), rec.get("cp"), rec.get("commune")),
        "website": rec.get("lien_site_onisep_fr")
        or rec.get("url_et_id_onisep")
        or None,
        "precision": "exact",
        "nature": kind_text or None,
    }
    commune = rec.get("commune_cog", rec.get("commune_(cog)", ""))
    return props, lon, lat, commune


def _mesr(rec: dict):
    # "47.25112, 5.99307", or "[47.251, 5.99399]" in the 2019 editions
    coords = rec.get("coordonnees", "").strip().strip("[]")
    lat = lon = None
    if "," in coords:
        lat, lon = (_num(v) for v in coords.split(",", 1))
    kind_text = rec.get("type_d_etablissement", "")
    # One establishment may carry several UAIs in one cell ("0180974L;0411068N"):
    # the first names it, all are kept.
    uais = [u.strip() for u in re.split(r"[;,|\s]+", rec.get("uai", "")) if u.strip()]
    if not uais and not rec.get("uo_lib", "").strip():
        return None
    props = {
        "id": uais[0] if uais else norm(rec["uo_lib"]),
        "uai": ", ".join(uais) or None,
        "name": rec["uo_lib"],
        "kind": kind_of(kind_text, rec["uo_lib"]),
        "status": "open",
        "public_private": _public_private(rec.get("secteur_d_etablissement", "")),
        "digital_programmes": None,
        "address": _address(
            rec.get("adresse_uai"), rec.get("code_postal_uai"), rec.get("com_nom")
        ),
        "website": rec.get("url") or None,
        "precision": "exact",
        "nature": kind_text or None,
        "students": _latest_students(rec),
    }
    return props, lon, lat, rec.get("com_code", "")


_ENROLMENT = re.compile(r"effectifs?_d_etudiants_inscrits_(\d{4})")


def _latest_students(rec: dict) -> int | None:
    """The students enrolled in the latest year the MESR export gives (its columns
    ``Effectifs d'étudiants inscrits 2022-23``, one per academic year)."""
    years = []
    for key, value in rec.items():
        match = _ENROLMENT.match(key)
        number = _num(value) if match else None
        if number is not None:
            years.append((match.group(1), number))
    return int(max(years)[1]) if years else None
