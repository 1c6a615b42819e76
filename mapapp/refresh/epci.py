"""INSEE's EPCI composition file: the member communes of an intercommunality.

INSEE publishes the composition of every intercommunality as a workbook
(``EPCI_au_01-01-YYYY.xlsx``, in a zip) whose sheet ``Composition_communale`` has
the columns ``CODGEO, LIBGEO, EPCI, LIBEPCI, DEP, REG`` under a few title rows.
``mapapp territory make --epci`` takes a territory's communes from it, and ``mapapp
update`` compares the members of the territory's EPCI with the profile's communes:
a difference is reported (the contour is only as current as that list).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from ..importers.reading import ImportFileError

SHEET = "Composition_communale"
MAX_XLSX_BYTES = 64 * 1024 * 1024
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _xml(data: bytes) -> ElementTree.Element:
    # expat (>= 2.4) bounds entity expansion and never loads external entities
    return ElementTree.fromstring(data)  # noqa: S314


def _workbook(path: Path) -> zipfile.ZipFile:
    """The xlsx workbook, given as such or inside INSEE's zip."""
    try:
        outer = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ImportFileError(f"{path.name}: not a zip or xlsx file") from None
    names = outer.namelist()
    if "xl/workbook.xml" in names:
        return outer
    inner = [n for n in names if n.lower().endswith(".xlsx")]
    if not inner or outer.getinfo(inner[0]).file_size > MAX_XLSX_BYTES:
        raise ImportFileError(f"{path.name}: no EPCI workbook (.xlsx) inside")
    return zipfile.ZipFile(io.BytesIO(outer.read(inner[0])))


def _part(book: zipfile.ZipFile, name: str) -> bytes:
    """One part of the workbook, within MAX_XLSX_BYTES once unpacked (zipfile reads
    no more than the size a member states)."""
    if book.getinfo(name).file_size > MAX_XLSX_BYTES:
        raise ImportFileError(
            f"the EPCI workbook's {name} expands to more than "
            f"{MAX_XLSX_BYTES // 1024**2} MB"
        )
    return book.read(name)


def _sheet_path(book: zipfile.ZipFile, name: str) -> str:
    workbook = _xml(_part(book, "xl/workbook.xml"))
    rels = _xml(_part(book, "xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", NS)}
    for sheet in workbook.findall("m:sheets/m:sheet", NS):
        if sheet.get("name") == name:
            target = targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    raise ImportFileError(f"the EPCI workbook has no sheet {name!r}")


def _rows(book: zipfile.ZipFile, sheet: str):
    """The sheet's rows as {column letter: text} (shared strings resolved)."""
    shared = []
    if "xl/sharedStrings.xml" in book.namelist():
        root = _xml(_part(book, "xl/sharedStrings.xml"))
        shared = ["".join(t.itertext()) for t in root.findall("m:si", NS)]
    root = _xml(_part(book, _sheet_path(book, sheet)))
    for row in root.iter(f"{{{NS['m']}}}row"):
        cells = {}
        for c in row.findall("m:c", NS):
            column = re.sub(r"\d", "", c.get("r", ""))
            value = c.find("m:v", NS)
            text = value.text if value is not None else ""
            if c.get("t") == "s" and text:
                text = shared[int(text)]
            elif c.get("t") == "inlineStr":
                text = "".join(c.find("m:is", NS).itertext())
            cells[column] = text or ""
        yield cells


def members(path: Path, epci: str) -> list[str]:
    """The commune codes INSEE lists for one EPCI."""
    return sorted(code for code, _name, _epci in composition(path, epci))


def composition(path: Path, epci: str) -> list[tuple[str, str, str]]:
    """(commune code, commune name, EPCI name) of the communes INSEE lists for one
    EPCI, in the file's order."""
    header = None
    found = []
    for row in _rows(_workbook(Path(path)), SHEET):
        if header is None:
            if {"CODGEO", "EPCI"} <= set(row.values()):
                header = {name: column for column, name in row.items()}
            continue
        if row.get(header["EPCI"]) == epci:
            found.append(
                tuple(row.get(header.get(k, ""), "") for k in ("CODGEO", "LIBGEO"))
                + (row.get(header.get("LIBEPCI", ""), ""),)
            )
    if header is None:
        raise ImportFileError(
            f"{Path(path).name}: no header with CODGEO and EPCI in sheet {SHEET}"
        )
    return found


def check(path: Path, territory) -> list[str]:
    """Report lines: INSEE's members of the territory's EPCI (a
    :class:`mapapp.territory.Territory`) against the profile's communes."""
    epci = territory.epci
    if not epci:
        return ["the territory profile names no EPCI: nothing to compare"]
    official = set(members(path, epci))
    shipped = set(territory.codes)
    if not official:
        raise ImportFileError(f"{Path(path).name}: EPCI {epci} not found")
    if official == shipped:
        return [f"EPCI {epci}: {len(official)} communes, as in the territory profile"]
    return [
        f"EPCI {epci}: {len(official)} communes in INSEE's file, "
        f"{len(shipped)} in the territory profile",
        f"  joined: {', '.join(sorted(official - shipped)) or 'none'}; "
        f"left: {', '.join(sorted(shipped - official)) or 'none'}",
        "  rebuild the profile (`mapapp territory make --epci "
        f"{epci}`, with the communes' contours) to move the study area",
    ]
