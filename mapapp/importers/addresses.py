"""Base Adresse Nationale -> the store's addresses (the place search reads them).

The departmental file ``adresses-25.csv.gz`` of adresse.data.gouv.fr: UTF-8, semicolon
separated, one address per line, 23 columns in the current layout
(``id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;
code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;
nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;
certification_commune;cad_parcelles``), 20 in older ones (no ``type_position``,
``certification_commune``, ``cad_parcelles``), more in newer ones (``id_ban_*``).
Columns are matched by name. The file is read as a stream, gzip or not, and only the
communes of the study area are kept: the communes given (``--commune``), else the
communes the study area is made of (the metropolis by default), else every commune
with an address inside its contour (the file is sorted by commune, so one commune at
a time is held in memory).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from ..store.addresses import NAMES, search_key
from .base import ImportJob, ImportReport, check_layout, register
from .reading import ImportFileError, norm

REQUIRED = (
    "id",
    "numero",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "lon",
    "lat",
)
MAX_ADDRESSES = 2_000_000  # more than any département holds
MAX_LINE = 64 * 1024  # characters: no address line comes near it
SOURCE = "Base Adresse Nationale"


def _open_text(path: Path) -> tuple[io.TextIOBase, io.BufferedReader]:
    """The file as text, decompressed on the fly when it is gzip, and the raw file
    (whose position tells how far the reading got)."""
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    magic = raw.read(2)
    raw.seek(0)
    if not magic:
        raw.close()
        raise ImportFileError(
            f"{path.name}: the file is empty; expected adresses-NN.csv"
        )
    stream = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""), raw


def _rows(path: Path, progress=None) -> Iterator[tuple[int, dict]]:
    """(line number, row by normalised column name) of a BAN file, streamed."""
    text, raw = _open_text(path)
    done = 0
    try:
        reader = csv.reader(text, delimiter=";")
        header = next(reader, None)
        if header is None:
            raise ImportFileError(f"{path.name}: the file is empty")
        names = [norm(h) for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise ImportFileError(
                f"{path.name}: not a Base Adresse Nationale file: missing column(s) "
                f"{', '.join(missing)} (expected a semicolon-separated adresses-NN.csv)"
            )
        for row in reader:
            if len(row) == 1 and not row[0]:
                continue
            if sum(len(v) for v in row) > MAX_LINE:
                raise ImportFileError(
                    f"{path.name}, line {reader.line_num}: line too long"
                )
            if progress and reader.line_num % 4096 == 0:
                progress(raw.tell() - done)
                done = raw.tell()
            yield reader.line_num, dict(zip(names, row, strict=False))
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path.name}: not UTF-8 text near byte {exc.start} (BAN files are UTF-8)"
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ImportFileError(f"{path.name}: damaged gzip data ({exc})") from None
    finally:
        text.close()
        raw.close()


def _inside(area, lon: float, lat: float) -> bool:
    """True when the point lies in the study area (its contour, a polygon or a box)."""
    area = getattr(area, "geometry", area)  # a StudyArea holds its contour
    if isinstance(area, BaseGeometry):
        return bool(shapely.contains_xy(area, lon, lat))
    west, south, east, north = area
    return west <= lon <= east and south <= lat <= north


def _address(row: dict, edition: str) -> tuple | str:
    """A row as a stored address tuple, or the reason it is dropped."""
    try:
        lon, lat = float(row.get("lon", "")), float(row.get("lat", ""))
    except ValueError:
        return "no_coordinates"
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (
        -180 <= lon <= 180 and -90 <= lat <= 90
    ):
        return "coordinates_out_of_range"
    street = (row.get("nom_voie") or row.get("nom_ld") or "").strip()
    commune = (row.get("nom_commune") or "").strip()
    code = (row.get("code_insee") or "").strip()
    ident = (row.get("id") or "").strip()
    if not street or not commune or not code or not ident:
        return "no_street"
    numero = (row.get("numero") or "").strip()
    if numero in ("0", "99999"):  # BAN's placeholders for a street without number
        numero = ""
    rep = (row.get("rep") or "").strip()
    number = f"{numero} {rep}".strip() if numero else ""
    postcode = (row.get("code_postal") or "").strip()
    label = f"{number} {street}".strip() + f", {postcode} {commune}".replace(" ,", ",")
    values = {
        "id": ident[:60],
        "label": label[:200],
        "search_key": search_key(label)[:240],
        "numero": numero[:10],
        "nom_voie": street[:120],
        "code_postal": postcode[:5],
        "code_insee": code[:5],
        "nom_commune": commune[:80],
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "position": (row.get("type_position") or "")[:20] or None,
        "source_date": edition,
    }
    return tuple(values[n] for n in NAMES)


class _Communes:
    """Decides which communes are kept, one commune's rows held at a time."""

    def __init__(self, wanted: set[str], area, report: ImportReport):
        self.wanted, self.area, self.report = wanted, area, report
        self.decided: dict[str, bool] = {}
        self.current: str | None = None
        self.held: list[tuple] = []
        self.inside = False
        self.kept: list[tuple] = []

    def add(self, code: str, address: tuple, lon: float, lat: float) -> None:
        if code in self.decided and code != self.current:
            if self.decided[code]:
                self._keep([address])
            else:
                self.report.drop(self._outside(code), address[1])
            return
        if code != self.current:
            self.flush()
            self.current, self.inside = code, False
        self.held.append(address)
        # a commune is kept when it is wanted (or nothing is) and has an address
        # inside the study area: a commune asked by mistake never enters the search
        if not self.wanted or code in self.wanted:
            self.inside = self.inside or _inside(self.area, lon, lat)

    def flush(self) -> None:
        if self.current is None:
            return
        keep = self.inside and (not self.wanted or self.current in self.wanted)
        self.decided[self.current] = keep
        if keep:
            self._keep(self.held)
        elif self.held:
            self.report.drop(
                self._outside(self.current), self.held[0][1], len(self.held)
            )
        self.held, self.current = [], None

    def _outside(self, code: str) -> str:
        """Why a commune's addresses are dropped: asked for, or not, outside."""
        if code in self.wanted:
            return "asked_commune_outside_area"
        return "commune_outside_area"

    def _keep(self, rows: list[tuple]) -> None:
        self.kept.extend(rows)
        if len(self.kept) > MAX_ADDRESSES:
            raise ImportFileError(
                f"{self.report.file}: more than {MAX_ADDRESSES:,} addresses in the "
                "study area; nothing written"
            )


@register(
    "addresses",
    "addresses",
    {
        "fr": "Adresses (Base Adresse Nationale, pour la recherche de lieux)",
        "en": "Addresses (Base Adresse Nationale, for the place search)",
    },
    source="Base Adresse Nationale",
    variants={"ban": tuple((name,) for name in REQUIRED)},
    communes=True,
)
def read_addresses(path: Path, job: ImportJob) -> ImportReport:
    """A BAN departmental file into the addresses of the study area's communes."""
    area, progress = job.area, job.progress
    communes, edition = job.communes, job.edition
    report = ImportReport("addresses", path.name, "addresses")
    if not edition and path.is_file():  # the BAN file names no date: its own
        edition = date.fromtimestamp(path.stat().st_mtime).isoformat()
    # the communes asked, else those the study area is made of, else any commune
    # with an address inside its contour
    wanted = set(map(str, communes or ())) or set(getattr(area, "communes", ()) or ())
    chooser = _Communes(wanted, area, report)
    ids: set[str] = set()
    bar = (lambda n: progress(max(n // 120, 0))) if progress else None
    check_layout(job, "addresses", "ban", path)
    for line, row in _rows(path, bar):
        report.rows_read += 1
        code = (row.get("code_insee") or "").strip()
        if wanted and code and code not in wanted:  # its commune first
            report.drop("commune_outside_area", f"line {line}: {row.get('id', '')}")
            continue
        address = _address(row, edition)
        if isinstance(address, str):
            report.drop(address, f"line {line}: {row.get('id', '')}")
            continue
        if address[0] in ids:
            report.drop("duplicate_first_kept", address[0])
            continue
        ids.add(address[0])
        chooser.add(address[NAMES.index("code_insee")], address, address[8], address[9])
    chooser.flush()
    report.kept = len(chooser.kept)
    kept_communes = sorted(c for c, keep in chooser.decided.items() if keep)
    listed = (f": {', '.join(kept_communes[:12])}" if kept_communes else "") + (
        " …" if len(kept_communes) > 12 else ""
    )
    report.note("communes_kept", n=len(kept_communes), listed=listed)
    report.note("address_source", source=SOURCE, edition=edition)
    report.apply = _writer(chooser.kept)
    return report


def _writer(rows: list[tuple]):
    """Write the addresses in one transaction (not a map layer: their own table)."""

    def apply(store, report: ImportReport, dry_run: bool) -> ImportReport:
        if not rows:  # a dry run refuses what the real run refuses
            raise ImportFileError(
                f"{report.file}: no address of the study area "
                f"({report.dropped_summary()}); nothing written"
            )
        report.would_change = True
        if dry_run:
            report.data_version = store.data_version()
            return report
        report.data_version = store.replace_addresses(rows)
        report.written = True
        return report

    return apply
