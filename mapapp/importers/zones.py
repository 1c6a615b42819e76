"""Reference zones -> ``zones``: IRIS contours (IGN/INSEE, Lambert-93, old and new
column names), commune contours (IGN Admin Express GeoJSON with ``code``, ``nom``),
and a city's own IRIS or quarter contours with its own column names, read with a
mapping (``--map zone_code=id --map zone_name=libiris --map commune_code=com``, as
the generic importer's). The fibre importer aggregates building points into these
zones."""

from __future__ import annotations

from pathlib import Path

import shapely
from shapely.validation import make_valid

from ..errors import BadRequest
from ..layers.validation import touches_area
from .base import (
    ImportJob,
    ImportReport,
    Provenance,
    check_layout,
    file_edition,
    finish,
    register,
)
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


# Who publishes the two layouts recognised, their page and licence.
SOURCES = {
    "iris": Provenance(
        "IGN / INSEE",
        "Contours… IRIS®",
        "https://geoservices.ign.fr/contoursiris",
        "lo-2.0",
    ),
    "communes": Provenance(
        "IGN",
        "Admin Express, contours des communes",
        "https://geoservices.ign.fr/adminexpress",
        "lo-2.0",
    ),
}
# The fields a file's own columns may give (--map FIELD=COLUMN), and the one a
# value may give for every zone (--set zone_kind=iris|commune|quarter).
MAPPED = ("zone_code", "zone_name", "commune_code", "zone_kind")
KINDS = ("iris", "commune", "quarter")


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
    mapped=MAPPED,
    inferred=("zone_kind",),
)
def read_zones(path: Path, job: ImportJob) -> ImportReport:
    """IRIS, commune or quarter contours into ``zones`` rows; a file with its own
    column names is read with a mapping (``--map zone_code=…``)."""
    frame = read_vector(path, "IRIS or commune contours")
    report = ImportReport("zones", path.name, "zones")
    frame = flatten(frame, report)
    report.rows_read = len(frame)
    cols, variant = _columns(frame, path, job)
    if variant:
        check_layout(job, "zones", variant, path)
    edition = job.edition or file_edition(path)
    provenance = job.provenance or SOURCES.get(variant) or _own(job, path)
    provenance.note(report, edition)
    rows, geoms = [], []
    for rec, geom in zip(
        frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
    ):
        row = _zone(rec, cols, variant, job.defaults.get("zone_kind"))
        label = f"{row['zone_code']} {row['zone_name']}"
        if geom is not None and not geom.is_empty and not touches_area(geom, job.area):
            report.drop("outside_area", label)
            continue
        geom = repair(geom, report, label)
        if geom is None:
            continue
        rows.append(provenance.stamp(row, edition))
        geoms.append(geom)
    return finish(report, rows, geoms, job.area)


def _own(job: ImportJob, path: Path) -> Provenance:
    """The provenance of a file of one's own: the source given, else the file."""
    return Provenance(job.source or f"Import {path.name}", "")


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value).strip() or None


def _zone(rec: dict, cols: dict, variant: str | None, kind: str | None) -> dict:
    """One zone's properties from a row of the file."""
    code = _text(rec.get(cols["zone_code"]))
    name = _text(rec.get(cols["zone_name"])) if cols["zone_name"] else None
    if kind is None and cols["zone_kind"]:
        kind = _text(rec.get(cols["zone_kind"]))
    if kind is None:
        kind = {"iris": "iris", "communes": "commune"}.get(variant) or _kind_of(code)
    commune = _text(rec.get(cols["commune_code"])) if cols["commune_code"] else None
    return {
        "id": f"{kind}-{code}" if code and kind in KINDS else code,
        "zone_code": code,
        "zone_name": name,
        "zone_kind": kind,
        "commune_code": commune,
        "precision": "exact",
    }


def _kind_of(code: str | None) -> str:
    """The kind of zone a code names: 9 characters an IRIS, 5 a commune."""
    compact = (code or "").replace(" ", "")
    if len(compact) == 9 and compact[:2].isalnum() and compact[2:].isdigit():
        return "iris"
    if len(compact) == 5 and compact[:2].isalnum() and compact[2:].isdigit():
        return "commune"
    return "quarter"


def _columns(frame, path: Path, job: ImportJob) -> tuple[dict, str | None]:
    """Field -> column of the file, and the layout recognised (None when the
    columns come from a mapping); ImportFileError when the code or the name has
    no column."""
    mapping, defaults = dict(job.mapping or {}), dict(job.defaults or {})
    _check_options(frame, path, mapping, defaults)
    iris = _col(frame, IRIS_CODE)
    found = {
        "zone_code": iris or _col(frame, COMMUNE_CODE),
        "zone_name": _col(frame, IRIS_NAME) if iris else _col(frame, COMMUNE_NAME),
        "commune_code": _col(frame, COMMUNE_CODE),
        "zone_kind": None,
    }
    variant = None if mapping else ("iris" if iris else "communes")
    lookup = {norm(c): c for c in frame.columns}
    cols = {f: lookup[norm(mapping[f])] if f in mapping else found[f] for f in MAPPED}
    if cols["zone_code"] is None or cols["zone_name"] is None:
        raise ImportFileError(
            f"{path.name}: expected an IRIS code "
            f"({' or '.join(n.upper() for n in IRIS_CODE)}) and name "
            f"({' or '.join(n.upper() for n in IRIS_NAME)}), or a commune code "
            f"({' or '.join(COMMUNE_CODE)}) and name ({' or '.join(COMMUNE_NAME)}); "
            f"found {', '.join(c for c in frame.columns if c != 'geometry')}. "
            "Name your own columns with --map zone_code=COLUMN --map "
            "zone_name=COLUMN (and --map commune_code=COLUMN)"
        )
    if variant and cols["zone_code"] != found["zone_code"]:
        variant = None
    return cols, variant


def _check_options(frame, path: Path, mapping: dict, defaults: dict) -> None:
    """Refuse a --map or --set the zones cannot take, naming what they take."""
    columns = {norm(c) for c in frame.columns if c != "geometry"}
    for target, column in mapping.items():
        if target not in MAPPED:
            raise BadRequest(f"--map {target}=…: zones take {', '.join(MAPPED)}")
        if norm(column) not in columns:
            raise ImportFileError(
                f"{path.name}: --map {target}={column}: no column {column!r}; the "
                f"columns are {', '.join(c for c in frame.columns if c != 'geometry')}"
            )
    for name, value in defaults.items():
        if name != "zone_kind":
            raise BadRequest(f"--set {name}=…: zones take --set zone_kind only")
        if value not in KINDS:
            raise BadRequest(f"--set zone_kind={value}: one of {', '.join(KINDS)}")
