"""Importers of official French open data, one module per format, chosen by name.

Every importer reads a file into the rows of one layer and returns an
:class:`ImportReport`: rows read, kept, dropped by reason with a few examples. The
rows are validated against the layer's schema; file-level problems raise
:class:`~.reading.ImportFileError` before anything is written. Writing is one
transaction of the store (``replace`` the layer, or ``merge`` by id), and only when
something changes, so the data version moves only then.

An importer is one entry of the registry (:mod:`.base`): a new one is a module with
its reader decorated by :func:`~.base.register`, named in the import below.
"""

from __future__ import annotations

from .base import (
    IMPORTERS,
    Importer,
    ImportReport,
    Reader,
    read_report,
    recognise,
    register,
    run_import,
    write,
)


def for_layer(layer: str) -> list[Importer]:
    """The importers that fill ``layer`` (``generic`` fills any)."""
    return [i for i in IMPORTERS.values() if i.layer in (layer, None)]


# The built-in importers register themselves, in the order files are recognised
# (the addresses' signature holds more columns than SIRENE's, so it comes first).
from . import addresses, sirene, education, arcep, zones, generic  # noqa: E402, F401, I001

KINDS: tuple[str, ...] = tuple(IMPORTERS)  # the one list of import kinds


__all__ = [
    "IMPORTERS",
    "KINDS",
    "ImportReport",
    "Importer",
    "Reader",
    "for_layer",
    "read_report",
    "recognise",
    "register",
    "run_import",
    "write",
]
