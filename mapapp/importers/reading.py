"""Robust reading of official CSV files: compression, encoding, delimiter, headers.

Publishers ship their files as they are, gzipped (``.csv.gz``: Etalab's geocoded
SIRENE, ARCEP's building bases) or zipped (``.zip``: INSEE's stock, ARCEP's
Cartefibre): :func:`open_data` reads all three as one stream, never unpacked to disk.
Producers add, rename and re-case columns over time, export in UTF-8 (with or without
a BOM) or in cp1252, with commas or semicolons. Columns are matched by name,
case-insensitively and without accents; every problem names the file, the line or
the column and what was expected.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import BadRequest
from ..limits import MAX_CSV_COLUMNS, MAX_UNPACK_RATIO, unpack_limit
from ..text import fold

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")


class ImportFileError(BadRequest):
    """A file that cannot be imported as it is; the message says where and why."""


class RefusedFile(ImportFileError):
    """A file past a limit (its expansion, its properties, a view in it): readable
    perhaps, but not read; the message names the limit."""


GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")


def _zip_member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    """The one table of a zip archive (the largest when several), or a clear error."""
    tables = [
        i
        for i in archive.infolist()
        if not i.is_dir() and i.filename.lower().endswith(TABLE_SUFFIXES)
    ]
    if not tables:
        names = ", ".join(i.filename for i in archive.infolist()[:8]) or "nothing"
        raise ImportFileError(
            f"{path.name}: the zip archive holds no CSV file (found {names})"
        )
    return max(tables, key=lambda i: i.file_size)


class _Capped(io.RawIOBase):
    """A decompressing stream that stops with ImportFileError past ``limit`` bytes
    (so a small file cannot make an import read gigabytes)."""

    def __init__(self, stream: BinaryIO, limit: int, path: Path):
        self.stream, self.limit, self.path, self.total = stream, limit, path, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.stream.readinto(buffer)
        self.total += n or 0
        if self.total > self.limit:
            raise too_expanded(self.path, self.limit)
        return n


def too_expanded(path: Path, limit: int) -> RefusedFile:
    """The error of a compressed file that expands past its limit."""
    return RefusedFile(
        f"{path.name}: expands to more than {limit // 1024**2} MB once "
        f"decompressed (at most {MAX_UNPACK_RATIO} times its size: the limits "
        "MAX_UNPACK_RATIO and MAX_UNPACKED); is it a zip bomb?"
    )


def _capped(stream: BinaryIO, path: Path) -> BinaryIO:
    limit = unpack_limit(path.stat().st_size)
    return io.BufferedReader(_Capped(stream, limit, path), 1 << 20)


@contextmanager
def open_data(path: Path) -> Iterator[BinaryIO]:
    """The bytes of a CSV file, read through gzip or zip when compressed (streamed,
    within :func:`mapapp.limits.unpack_limit`)."""
    path = Path(path)
    with open(path, "rb") as raw:
        magic = raw.read(4)
    try:
        if magic.startswith(GZIP_MAGIC):
            with gzip.open(path, "rb") as stream:
                yield _capped(stream, path)
        elif magic == ZIP_MAGIC:
            with zipfile.ZipFile(path) as archive:
                member = _zip_member(archive, path)
                limit = unpack_limit(path.stat().st_size)
                if member.file_size > limit:  # zipfile reads no more than this
                    raise too_expanded(path, limit)
                with archive.open(member) as stream:
                    yield _capped(stream, path)
        else:
            with open(path, "rb") as stream:
                yield stream
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ImportFileError(
            f"{path.name}: the compressed file is damaged or truncated ({exc})"
        ) from None


def check_unpacked(path: Path) -> None:
    """ImportFileError when a .gz or .zip file expands past its limit (a gzip file
    read through once, stopping at the limit; a zip archive by the sizes its
    members state, which zipfile never reads past); nothing for other files."""
    path = Path(path)
    with open(path, "rb") as raw:
        magic = raw.read(4)
    limit = unpack_limit(path.stat().st_size)
    if magic == ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                stated = sum(i.file_size for i in archive.infolist())
        except zipfile.BadZipFile:
            raise ImportFileError(f"{path.name}: a damaged ZIP archive") from None
        if stated > limit:
            raise too_expanded(path, limit)
    elif magic.startswith(GZIP_MAGIC):
        with open_data(path) as stream:
            while stream.read(1 << 22):
                pass


def inner_name(path: Path) -> str:
    """The name shown in reports: ``file.zip (table.csv)`` for an archive."""
    path = Path(path)
    with open(path, "rb") as raw:
        magic = raw.read(4)
    if magic == ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                return f"{path.name} ({_zip_member(archive, path).filename})"
        except zipfile.BadZipFile:
            return path.name
    return path.name


def norm(name: str) -> str:
    """A header name compared loosely: lower case, no accents, no BOM or quotes."""
    name = fold(name.strip().strip('"').lstrip("\ufeff").strip())
    return name.replace(" ", "_").replace("°", "").replace("'", "_")


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
    with open_data(path) as f:
        while block := f.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)


def undecodable(path: Path) -> str | None:
    """Where the first byte that is not UTF-8 sits: 'line N, byte 0xNN', or None.

    Read block by block (a block boundary may cut a character: the few bytes of an
    unfinished one are carried to the next block)."""
    line, carry = 1, b""
    with open_data(path) as f:
        while block := f.read(1 << 20):
            data = carry + block
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data":
                    carry = data[exc.start :]
                    data = data[: exc.start]
                else:
                    line += data[: exc.start].count(b"\n")
                    return f"line {line}, byte 0x{data[exc.start]:02x}"
            line += data.count(b"\n")
    return f"line {line}, byte 0x{carry[0]:02x}" if carry else None


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
    with open_data(path) as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample:
        raise ImportFileError(
            f"{path.name}: the file is empty; expected a {kind} CSV with a header line"
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
    first = _header_line(path, sample, encoding, kind)
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


def _header_line(path: Path, sample: bytes, encoding: str, kind: str) -> str:
    """Line 1 of the sample, or ImportFileError when empty or longer than it."""
    lines = sample.decode(encoding, errors="replace").splitlines()
    if not lines or not lines[0].strip():
        raise ImportFileError(
            f"{path.name}: line 1 is empty; expected the header line of a {kind} CSV"
        )
    if len(lines) < 2 and len(sample) == SAMPLE_BYTES:
        raise ImportFileError(
            f"{path.name}: the header line is longer than {SAMPLE_BYTES // 1024} kB; "
            f"expected the header line of a {kind} CSV"
        )
    return lines[0]


def check_header(path: Path, header: list[str]) -> None:
    """Refuse a header pandas would take minutes over (thousands of columns, or
    repeated names it renames one by one) before anything parses the file."""
    if len(header) > MAX_CSV_COLUMNS:
        raise ImportFileError(
            f"{path.name}: {len(header)} columns in line 1, more than the "
            f"{MAX_CSV_COLUMNS} a CSV import reads"
        )
    unnamed = sum(1 for name in header if not norm(name))
    if unnamed > 1:  # a spreadsheet's title line, written above the header
        first = next((n.strip() for n in header if n.strip()), "")
        raise ImportFileError(
            f"{path.name}: line 1 has {unnamed} columns without a name"
            + (f" (it begins {first[:60]!r})" if first else "")
            + ": is it a title above the header? The header must be line 1"
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


def encoding_note(path: Path, fmt: CsvFormat, report) -> None:
    """Note in the report when a file was not UTF-8: where the first such byte is."""
    if not fmt.encoding.startswith("utf-8"):
        report.note(
            "not_utf8",
            file=Path(path).name,
            where=undecodable(Path(path)),
            encoding=fmt.encoding,
        )


def pick(fmt: CsvFormat, *names: str) -> str | None:
    """The column as written in the file for the first of ``names`` present."""
    for name in names:
        if norm(name) in fmt.columns:
            return fmt.columns[norm(name)]
    return None


CHUNK_ROWS = 200_000  # rows read at a time from the national files


def _pandas_options(fmt: CsvFormat, columns: list[str] | None) -> dict:
    """How every importer reads a CSV: as text (codes keep their zeros, an empty
    cell is "" and never NaN, "NA" stays "NA"), the delimiter and encoding found
    by :func:`sniff`, a broken line an error rather than a silent skip."""
    return {
        "sep": fmt.delimiter,
        "encoding": fmt.encoding,
        "dtype": str,
        "na_filter": False,
        "usecols": columns,
        "on_bad_lines": "error",
        "engine": "c",
    }


def read_csv(
    path: Path,
    fmt: CsvFormat,
    columns: list[str] | None = None,
    rows: int | None = None,
):
    """The table of a CSV file (plain, gzip or zip) read as text: ``columns`` only
    when given, the first ``rows`` when given; ImportFileError naming the file when
    a line cannot be parsed."""
    path = Path(path)
    with open_data(path) as stream:
        try:
            return pd.read_csv(stream, nrows=rows, **_pandas_options(fmt, columns))
        except pd.errors.ParserError as exc:
            raise unreadable(path, exc) from None


def read_chunks(
    path: Path,
    fmt: CsvFormat,
    columns: list[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator:
    """The rows of a CSV file in chunks of ``chunk_rows`` (the national files do not
    fit in memory), read as :func:`read_csv` reads them."""
    path = Path(path)
    with open_data(path) as stream:
        reader = pd.read_csv(
            stream, chunksize=chunk_rows, **_pandas_options(fmt, columns)
        )
        try:
            yield from reader
        except pd.errors.ParserError as exc:
            raise unreadable(path, exc) from None


def unreadable(path: Path, exc: Exception) -> ImportFileError:
    """The error of a CSV file the parser cannot read, naming the file (never the
    server's path) and where the parser stopped."""
    reason = str(exc).replace(str(path), path.name).strip()
    return ImportFileError(f"{path.name}: not a readable CSV file ({reason})")
