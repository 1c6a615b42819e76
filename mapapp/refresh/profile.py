"""``mapapp territory make``: a territory profile written from official files.

The communes' contours come in the layouts the zones importer reads: IGN Admin
Express ``COMMUNE`` (GeoPackage or zipped Shapefile, ``INSEE_COM`` and ``NOM``),
its GeoJSON republications such as gregoiredavid/france-geojson's per-département
files (``code``, ``nom``), or any GeoJSON with ``code_insee``/``depcom`` and
``nom_commune``. The communes are given by their INSEE codes, or taken from INSEE's
EPCI composition file (``mapapp fetch communes_epci``) by the EPCI's SIREN.

The profile (``territory.toml`` and ``communes.geojson``, docs/deploy.md) is written
into a folder of its own only when every code has its contour and the result loads
as a territory: on any error nothing is written.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import shapely
from shapely.geometry import mapping
from shapely.validation import make_valid

from ..errors import BadRequest
from ..importers.formats import read_vector
from ..importers.reading import norm
from ..importers.zones import COMMUNE_CODE, COMMUNE_NAME
from ..territory import (
    COMMUNE_CODE as CODE_PATTERN,
)
from ..territory import (
    MAX_COMMUNES,
    PROFILE_FILE,
    SIREN,
    Territory,
    departement_of,
    load_territory,
    view_of,
)
from . import epci as epci_file

CONTOURS_FILE = "communes.geojson"
MAX_INPUT_BYTES = 2 * 1024**3  # the communes of all France in Admin Express


@dataclass
class ProfileRequest:
    """What ``mapapp territory make`` was asked: names (``{fr, en}``), the contours
    file, the communes (codes, or an EPCI with its composition file) and the folder
    to write."""

    out: Path
    contours: Path
    name: dict[str, str]
    short_name: dict[str, str]
    organisation: dict[str, str]
    organisation_url: str = ""
    attribution: dict[str, str] | None = None
    codes: tuple[str, ...] = ()
    epci: str = ""
    epci_file: Path | None = None


def parse_codes(text: str) -> tuple[str, ...]:
    """INSEE codes from ``21231,21166 21003``; BadRequest names malformed ones."""
    codes = tuple(dict.fromkeys(c.upper() for c in re.split(r"[,;\s]+", text) if c))
    bad = [c for c in codes if not CODE_PATTERN.fullmatch(c)]
    if bad or not codes:
        raise BadRequest(
            "--codes: INSEE commune codes of five characters (21231, 2A004) "
            + (f"expected; not codes: {', '.join(bad[:10])}" if bad else "expected")
        )
    if len(codes) > MAX_COMMUNES:
        raise BadRequest(f"--codes: at most {MAX_COMMUNES} communes")
    return codes


def epci_communes(siren: str, path: Path | None) -> tuple[tuple[str, ...], str]:
    """(codes, EPCI name) of an EPCI in INSEE's composition file."""
    if not SIREN.fullmatch(siren):
        raise BadRequest(f"--epci {siren[:20]!r}: an EPCI SIREN has nine digits")
    if path is None or not Path(path).is_file():
        raise BadRequest(
            f"{Path(path or 'EPCI file').name}: no such file; download INSEE's EPCI "
            "composition with `mapapp fetch communes_epci` or give it with "
            "--epci-file"
        )
    rows = epci_file.composition(Path(path), siren)
    if not rows:
        raise BadRequest(f"{Path(path).name}: no EPCI {siren} in this file")
    if len(rows) > MAX_COMMUNES:
        raise BadRequest(f"EPCI {siren}: more than {MAX_COMMUNES} communes")
    return tuple(_code(code) for code, _n, _e in rows), rows[0][2]


def _column(frame, names: tuple[str, ...]) -> str | None:
    lookup = {norm(c): c for c in frame.columns}
    return next((lookup[n] for n in names if n in lookup), None)


def _code(value: object) -> str:
    """An INSEE code as text; a code read as a number gets its leading zero back."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text.zfill(5) if text.isdigit() else text.upper()


def read_communes(path: Path, codes: tuple[str, ...]) -> dict[str, tuple[str, object]]:
    """Code -> (name, WGS84 contour) of the communes ``codes`` in a contours file;
    BadRequest names the codes it lacks."""
    if Path(path).is_file() and Path(path).stat().st_size > MAX_INPUT_BYTES:
        raise BadRequest(f"{Path(path).name}: larger than {MAX_INPUT_BYTES} bytes")
    frame = read_vector(Path(path), "commune contours")
    code_col, name_col = _column(frame, COMMUNE_CODE), _column(frame, COMMUNE_NAME)
    if code_col is None or name_col is None:
        raise BadRequest(
            f"{Path(path).name}: expected a commune code ({', '.join(COMMUNE_CODE)}) "
            f"and name ({', '.join(COMMUNE_NAME)}); found "
            f"{', '.join(map(str, frame.columns))[:300]}"
        )
    wanted = set(codes)
    found: dict[str, list] = {}
    names: dict[str, str] = {}
    for code, name, geom in zip(
        frame[code_col], frame[name_col], frame.geometry, strict=True
    ):
        code = _code(code)
        if code in wanted and geom is not None and not geom.is_empty:
            found.setdefault(code, []).append(geom)
            names[code] = str(name)
    missing = [c for c in codes if c not in found]
    if missing:
        raise BadRequest(
            f"{Path(path).name}: no contour for {len(missing)} of the "
            f"{len(codes)} communes: {', '.join(missing[:20])}"
            + (" …" if len(missing) > 20 else "")
            + "; nothing written"
        )
    return {c: (names[c], _clean(found[c])) for c in codes}


def _clean(parts: list) -> object:
    """One valid 2-D (multi)polygon on a 1 m grid (5 decimals) from the parts."""
    geom = shapely.force_2d(shapely.union_all([make_valid(p) for p in parts]))
    polygons = [
        p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")
    ]
    return shapely.set_precision(shapely.union_all(polygons), 1e-5)


def make_profile(request: ProfileRequest) -> Territory:
    """Write the profile ``request`` asks for (see the module docstring); return it
    loaded. BadRequest says what is wrong, and then nothing is written."""
    out = Path(request.out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadRequest(f"{out}: not an empty folder; choose a new one with --out")
    codes, epci_name = request.codes, ""
    if request.epci:
        codes, epci_name = epci_communes(request.epci, request.epci_file)
    request = _complete(request, epci_name)
    communes = read_communes(request.contours, codes)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write_contours(work / CONTOURS_FILE, communes)
        (work / PROFILE_FILE).write_text(
            profile_text(request, communes), encoding="utf-8"
        )
        load_territory(work)  # what was written loads, or nothing is kept
        if out.exists():
            out.rmdir()
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return load_territory(out)


def _complete(request: ProfileRequest, epci_name: str) -> ProfileRequest:
    """The request with its defaults: the EPCI's name where it gives none, the
    name as short name and organisation."""
    name = request.name or ({"fr": epci_name, "en": epci_name} if epci_name else {})
    if not name:
        raise BadRequest("--name: the territory needs a name")
    return replace(
        request,
        name=name,
        short_name=request.short_name or name,
        organisation=request.organisation or name,
    )


def _write_contours(path: Path, communes: dict) -> None:
    """The communes as GeoJSON, one feature per line (``code``, ``nom``)."""
    lines = [
        json.dumps(
            {
                "type": "Feature",
                "properties": {"code": code, "nom": name},
                "geometry": mapping(geom),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for code, (name, geom) in communes.items()
    ]
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n",
        encoding="utf-8",
    )


def _toml(value: object) -> str:
    """A TOML value: a string, or an inline table of strings."""
    if isinstance(value, dict):
        pairs = ", ".join(f"{k} = {_toml(v)}" for k, v in value.items())
        return "{ " + pairs + " }"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def profile_text(request: ProfileRequest, communes: dict) -> str:
    """The ``territory.toml`` of a new profile, commented for its editor."""
    counts = Counter(departement_of(c) for c in communes)
    departements = [d for d, _n in counts.most_common()]  # the main one first
    view = view_of(shapely.union_all([geom for _name, geom in communes.values()]))
    attribution = request.attribution or {
        "fr": f"Contours des communes : {request.contours.name}",
        "en": f"Commune contours: {request.contours.name}",
    }
    lines = [
        "# Territory profile written by `mapapp territory make` (docs/deploy.md,",
        '# "Another territory"). Edit it freely; `mapapp init` reads it again.',
        f"name = {_toml(request.name)}",
        f"short_name = {_toml(request.short_name)}",
        f"departements = {json.dumps(departements)}",
    ]
    if request.epci:
        lines.append(f"epci = {_toml(request.epci)}")
    lines += [f"attribution = {_toml(attribution)}", "", "[organisation]"]
    lines.append(f"name = {_toml(request.organisation)}")
    if request.organisation_url:
        lines.append(f"url = {_toml(request.organisation_url)}")
    lines += [
        "",
        "[communes]",
        f"contours = {_toml(CONTOURS_FILE)}",
        f"codes = {json.dumps(list(communes))}",
        "",
        "# Where the map opens; without [view], this view fitting the communes:",
        "# [view]",
        f"# center = [{view.center[0]}, {view.center[1]}]",
        f"# zoom = {view.zoom}",
    ]
    return "\n".join(lines) + "\n"
