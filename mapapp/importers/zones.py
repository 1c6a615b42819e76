"""Reference zones -> ``zones``: IRIS contours (IGN/INSEE, Lambert-93, old and new
column names) and commune contours (IGN Admin Express GeoJSON with ``code``, ``nom``).
The fibre importer aggregates building points into these zones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import shapely
from shapely.validation import make_valid

from ..layers.validation import touches_area
from .base import ImportJob, ImportReport, finish, register
from .formats import flatten, read_vector
from .reading import ImportFileError, norm

IRIS_CODE = ("code_iris", "dcomiris")
IRIS_NAME = ("nom_iris",)
COMMUNE_CODE = ("insee_com", "code_insee", "depcom", "code")
COMMUNE_NAME = ("nom_com", "nom_commune", "nom")


def _col(frame, names):
    lookup = {norm(c): c for c in frame.columns}
    for name in names:
        if name in lookup:
            return lookup[name]
    return None


def repair(geom, report: ImportReport, label: str):
    """A valid polygonal geometry, repaired when safe, else None (counted)."""
    if geom is None or geom.is_empty:
        report.drop("empty_geometry", label)
        return None
    if geom.is_valid:
        return geom
    fixed = make_valid(geom)
    polys = shapely.get_parts(fixed)
    polys = [p for p in polys if p.geom_type in ("Polygon", "MultiPolygon")]
    if not polys or abs(sum(p.area for p in polys) - geom.area) > 0.01 * max(
        geom.area, 1e-12
    ):
        report.drop("unrepairable_geometry", label)
        return None
    report.note("repaired", label=label)
    return shapely.union_all(polys)


@register(
    "zones",
    "zones",
    {"fr": "Contours IRIS ou communaux", "en": "IRIS or commune contours"},
    source="IGN / INSEE, contours IRIS ou communaux",
    variants={"iris": (IRIS_CODE,), "communes": (COMMUNE_CODE, COMMUNE_NAME)},
    variant_labels={
        "iris": {"fr": "IRIS", "en": "IRIS"},
        "communes": {"fr": "contours communaux", "en": "commune contours"},
    },
    geometry="Polygon",
)
def read_zones(path: Path, job: ImportJob) -> ImportReport:
    """IRIS or commune contours into ``zones`` rows."""
    area, edition = job.area, job.edition
    frame = read_vector(path, "IRIS or commune contours")
    report = ImportReport("zones", path.name, "zones")
    frame = flatten(frame, report)
    report.rows_read = len(frame)
    iris = _col(frame, IRIS_CODE)
    code_col = iris or _col(frame, COMMUNE_CODE)
    name_col = _col(frame, IRIS_NAME) if iris else _col(frame, COMMUNE_NAME)
    commune_col = _col(frame, COMMUNE_CODE)
    if code_col is None or name_col is None:
        raise ImportFileError(
            f"{path.name}: expected an IRIS code ({' or '.join(n.upper() for n in IRIS_CODE)}) "
            f"and name ({' or '.join(n.upper() for n in IRIS_NAME)}), or a commune code "
            f"({' or '.join(COMMUNE_CODE)}) and name ({' or '.join(COMMUNE_NAME)}); "
            f"found {', '.join(frame.columns)}"
        )
    rows, geoms = [], []
    for rec, geom in zip(
        frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
    ):
        code = str(rec[code_col])
        label = f"{code} {rec[name_col]}"
        if geom is not None and not geom.is_empty and not touches_area(geom, area):
            report.drop("outside_area", label)
            continue
        geom = repair(geom, report, label)
        if geom is None:
            continue
        rows.append(
            {
                "id": f"{'iris' if iris else 'commune'}-{code}",
                "zone_code": code,
                "zone_name": str(rec[name_col]),
                "zone_kind": "iris" if iris else "commune",
                "commune_code": str(rec[commune_col]) if commune_col else None,
                "source": f"{'IRIS' if iris else 'Contours communaux'} ({path.name})",
                "source_date": edition or date.today().isoformat(),
                "precision": "exact",
            }
        )
        geoms.append(geom)
    return finish(report, rows, geoms, area)
