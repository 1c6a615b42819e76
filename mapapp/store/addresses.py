"""The addresses table of a store: the Base Adresse Nationale of the study area.

Not a map layer: a plain table (``mapapp_addresses``, a GeoPackage *attributes* table
QGIS opens as it is) that the place search reads. It is replaced as a whole, in one
transaction, by ``mapapp import addresses FILE``; each replacement bumps the data
version like any write. Both SQL backends share this code.
"""

from __future__ import annotations

import re

from ..text import fold

TABLE = "mapapp_addresses"
# (name, SQL type) of the stored columns, in order; ``search_key`` is the folded
# label between spaces, so that a word is matched from its start.
COLUMNS = (
    ("id", "text PRIMARY KEY"),
    ("label", "text NOT NULL"),
    ("search_key", "text NOT NULL"),
    ("numero", "text"),
    ("nom_voie", "text"),
    ("code_postal", "text"),
    ("code_insee", "text NOT NULL"),
    ("nom_commune", "text NOT NULL"),
    ("lon", "double precision NOT NULL"),
    ("lat", "double precision NOT NULL"),
    ("position", "text"),
    ("source_date", "text"),
)
NAMES = [c for c, _t in COLUMNS]
DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    + ", ".join(f"{c} {t}" for c, t in COLUMNS)
    + ")"
)
INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_commune ON {TABLE} (code_insee)"


def search_key(text: str) -> str:
    """The folded words of ``text`` between single spaces, with a space at each end."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", fold(text))) + " "


def query_words(query: str) -> list[str]:
    """The words of a query as the search compares them (at most 8)."""
    return re.findall(r"[a-z0-9]+", fold(query))[:8]


class AddressTable:
    """Methods of the addresses table, mixed into the SQL store (see module doc)."""

    def _address_table_ready(self, conn) -> None:
        """Called after the table is created (a backend may register it)."""

    def _has_address_table(self) -> bool:
        raise NotImplementedError  # pragma: no cover - each backend says

    def replace_addresses(self, rows: list[tuple]) -> int:
        """Replace every address by ``rows`` (tuples in :data:`NAMES` order) in one
        transaction; return the new data version."""
        p = self.P
        insert = (
            f"INSERT INTO {TABLE} ({', '.join(NAMES)}) "
            f"VALUES ({', '.join([p] * len(NAMES))})"
        )
        with self._write() as conn:
            conn.execute(DDL)
            conn.execute(INDEX)
            self._address_table_ready(conn)
            conn.execute(f"DELETE FROM {TABLE}")
            self._executemany(conn, insert, rows)
            return self._bump(conn)

    def address_count(self) -> int:
        """Number of stored addresses (0 before the first import)."""
        if not self._has_address_table():
            return 0
        return int(self.conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])

    def search_addresses(self, query: str, limit: int = 5) -> list[dict]:
        """Addresses whose label holds every word of ``query`` (a word from its
        start, a house number whole), the asked number first."""
        words = query_words(query)
        if not words or not self._has_address_table():
            return []
        p = self.P
        clauses, params = [], []
        for w in words:
            clauses.append(f"search_key LIKE {p}")
            params.append(f"% {w} %" if w.isdigit() else f"% {w}%")
        number = next((w for w in words if w.isdigit()), "")
        sql = (
            f"SELECT {', '.join(NAMES)} FROM {TABLE} WHERE {' AND '.join(clauses)} "
            f"ORDER BY CASE WHEN numero = {p} THEN 0 ELSE 1 END, nom_commune, "
            f"nom_voie, length(numero), numero LIMIT {p}"
        )
        rows = self.conn.execute(sql, [*params, number, int(limit)]).fetchall()
        return [dict(zip(NAMES, row, strict=True)) for row in rows]

    def address_communes(self) -> list[dict]:
        """Each commune of the stored addresses: code, name, extent, count."""
        if not self._has_address_table():
            return []
        rows = self.conn.execute(
            f"SELECT code_insee, nom_commune, min(lon), min(lat), max(lon), max(lat), "
            f"count(*) FROM {TABLE} GROUP BY code_insee, nom_commune"
        ).fetchall()
        keys = ("code", "name", "west", "south", "east", "north", "count")
        return [dict(zip(keys, row, strict=True)) for row in rows]
