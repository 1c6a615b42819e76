"""Robust reading of official CSV files: encoding, delimiter, header names.

Producers add, rename and re-case columns over time, export in UTF-8 (with or without
a BOM) or in cp1252, with commas or semicolons. Columns are matched by name,
case-insensitively and without accents; every problem names the file, the line or
the column and what was expected.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadRequest
from ..limits import MAX_CSV_COLUMNS

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")


class ImportFileError(BadRequest):
    """A file that cannot be imported as it is; the message says where and why."""


def norm(name: str) -> str:
    """A header name compared loosely: lower case, no accents, no BOM or quotes."""
    name = name.strip().strip('"').lstrip("\ufeff").strip()
    name = unicodedata.normalize("NFD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    return name.lower().replace(" ", "_").replace("°", "").replace("'", "_")


@dataclass
class CsvFormat:
    """What :func:`sniff` found out about a CSV file."""

    encoding: str
    delimiter: str
    header: list[str]  # as written
    columns: dict[str, str]  # normalised name -> name as written


def detect_encoding(path: Path, sample: bytes) -> str:
    """``utf-8-sig`` when the file decodes as UTF-8, else ``cp1252`` (or latin-1)."""
    if sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        _check_decodes(path, encoding)
        return encoding
    except UnicodeDecodeError:
        pass
    for fallback in ("cp1252", "latin-1"):
        try:
            _check_decodes(path, fallback)
            return fallback
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path.name}: cannot be decoded")  # latin-1 never fails


def _check_decodes(path: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)


def undecodable(path: Path) -> str | None:
    """Where the first byte that is not UTF-8 sits: 'line N, byte 0xNN', or None."""
    line = 1
    with open(path, "rb") as f:
        data = f.read()
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        line += data[: exc.start].count(b"\n")
        return f"line {line}, byte 0x{data[exc.start]:02x}"


def sniff(
    path: Path, required: list[list[str]], kind: str, strict_encoding: bool = False
) -> CsvFormat:
    """Check a CSV file before reading it; raise ImportFileError with the reason.

    ``required`` lists, for each needed column, its accepted names (any one will do).
    With ``strict_encoding`` a file that is not UTF-8 is refused (naming the first bad
    byte) instead of being read as cp1252.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportFileError(
            f"{path.name}: the file is empty; expected a {kind} CSV with a header line"
        )
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if sample[:4] in (b"PK\x03\x04", b"\x1f\x8b\x08\x00") or sample[:2] == b"\x1f\x8b":
        raise ImportFileError(
            f"{path.name}: this is a compressed archive; unzip it "
            f"first and give the {kind} CSV inside"
        )
    if strict_encoding:
        bad = undecodable(path)
        if bad:
            raise ImportFileError(
                f"{path.name}: {bad} is not valid UTF-8; expected a "
                "UTF-8 file (re-export it as UTF-8)"
            )
        encoding = "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
    else:
        encoding = detect_encoding(path, sample)
    text = sample.decode(encoding, errors="replace")
    first = text.splitlines()[0] if text.splitlines() else ""
    if not first.strip():
        raise ImportFileError(
            f"{path.name}: line 1 is empty; expected the header line of a {kind} CSV"
        )
    if len(text.splitlines()) < 2 and len(sample) == SAMPLE_BYTES:
        raise ImportFileError(
            f"{path.name}: the header line is longer than {SAMPLE_BYTES // 1024} kB; "
            f"expected the header line of a {kind} CSV"
        )
    delimiter = max(DELIMITERS, key=first.count)
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    check_header(path, header)
    columns = {norm(h): h for h in header}
    missing = [
        names[0] for names in required if not any(norm(n) in columns for n in names)
    ]
    if missing:
        if len(header) == 1:
            raise ImportFileError(
                f"{path.name}: line 1 has a single column; the delimiter is not one of "
                f"{' '.join(repr(d) for d in DELIMITERS)}, or this is not a CSV file"
            )
        raise ImportFileError(
            f"{path.name}: missing column(s) {', '.join(missing)} in line 1; found "
            f"{', '.join(header[:12])}{'…' if len(header) > 12 else ''}"
        )
    return CsvFormat(encoding, delimiter, header, columns)


def check_header(path: Path, header: list[str]) -> None:
    """Refuse a header pandas would take minutes over (thousands of columns, or
    repeated names it renames one by one) before anything parses the file."""
    if len(header) > MAX_CSV_COLUMNS:
        raise ImportFileError(
            f"{path.name}: {len(header)} columns in line 1, more than the "
            f"{MAX_CSV_COLUMNS} a CSV import reads"
        )
    seen: dict[str, str] = {}
    for name in header:
        key = norm(name)
        if key in seen:
            raise ImportFileError(
                f"{path.name}: column {name.strip()[:40]!r} appears twice in line 1"
                + (f" (as {seen[key].strip()[:40]!r})" if seen[key] != name else "")
            )
        seen[key] = name


def encoding_note(path: Path, fmt: CsvFormat) -> str | None:
    """A report note when a file was not UTF-8: where the first such byte is."""
    if fmt.encoding.startswith("utf-8"):
        return None
    return (
        f"{Path(path).name} is not UTF-8 ({undecodable(Path(path))}); read as "
        f"{fmt.encoding}: check the accents of the names"
    )


def pick(fmt: CsvFormat, *names: str) -> str | None:
    """The column as written in the file for the first of ``names`` present."""
    for name in names:
        if norm(name) in fmt.columns:
            return fmt.columns[norm(name)]
    return None
