"""The accessible list view: published features as rows, filtered and sorted.

Pure functions on GeoDataFrames; the view turns the query string into a
:class:`ListQuery` and renders the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from .layers import LayerSpec, tr
from .text import affirmed, fold
from .values import plain_column, plain_value

PAGE_SIZE = 100
SORT_KEYS = ("name", "category", "place", "date")


@dataclass(frozen=True)
class ListQuery:
    """What the visitor asked: text, layer, category, sort order and page."""

    q: str = ""
    layer: str = ""
    category: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1


def parse_list_query(args, layer_names: list[str]) -> ListQuery:
    """Read a ListQuery from query arguments; unknown values fall back to defaults."""
    layer = args.get("layer", "")
    category = args.get("category", "")
    if ":" in category:
        cat_layer, _value = category.split(":", 1)
        if cat_layer in layer_names and (not layer or layer == cat_layer):
            layer = cat_layer
        else:
            category = ""
    if layer not in layer_names:
        layer = ""
    sort = args.get("sort", "name")
    try:
        page = max(1, int(args.get("page", "1")))
    except ValueError:
        page = 1
    return ListQuery(
        q=args.get("q", "").strip()[:100],
        layer=layer,
        category=category,
        sort=sort if sort in SORT_KEYS else "name",
        descending=args.get("dir") == "desc",
        page=page,
    )


def category_label(spec: LayerSpec, value: object, lang: str) -> str:
    """The translated label of a feature's category value."""
    if spec.category_field is None:
        return ""
    field = spec.field(spec.category_field)
    return tr((field.choices or {}).get(value), lang) or str(value or "")


def rows(
    frame: gpd.GeoDataFrame, spec: LayerSpec, query: ListQuery, lang: str
) -> list[dict]:
    """The layer's features as display rows, filtered by ``query`` and sorted."""
    index = ListIndex.of_frame(frame, spec, lang)
    return [index.row(i, fold(query.q), lang) for i in index.select(query)]


class ListIndex:
    """A layer's rows prepared once per layer version (and language): what a
    search matches and the sort orders, as flat arrays; a query then costs a scan
    of short strings, and only the rows of its page are read from the frame."""

    def __init__(self, frame: gpd.GeoDataFrame, spec: LayerSpec, lang: str, version):
        self.frame, self.spec, self.lang, self.version = frame, spec, lang, version
        n = len(frame)
        self.names = _texts(frame, spec.label_field, n)
        ids = frame["id"].astype(str).tolist() if n else []
        self.names = [name or fid for name, fid in zip(self.names, ids, strict=True)]
        self.places = [
            a or z
            for a, z in zip(
                _texts(frame, "address", n), _texts(frame, "zone_code", n), strict=True
            )
        ]
        field = spec.category_field
        raw = frame[field].tolist() if field and field in frame else [None] * n
        self.categories = np.array([plain_value(c) for c in raw], dtype=object)
        labels = {c: category_label(spec, c, lang) for c in set(self.categories) if c}
        self.labels = [labels.get(c, "") if c else "" for c in self.categories]
        said = [_affirmed_column(frame, f, n) for f in spec.search_fields]
        self.haystacks = [
            fold(" ".join([name, place, *(t for t in extra if t)]))
            for name, place, *extra in zip(self.names, self.places, *said, strict=True)
        ]
        self._orders: dict[tuple[str, bool], np.ndarray] = {}

    @classmethod
    def of(cls, snapshot, lang: str) -> ListIndex:
        """The index of a snapshot (site.Snapshot) of a layer, in ``lang``."""
        return cls.of_frame(snapshot.frame, snapshot.spec, lang, snapshot.version)

    @classmethod
    def of_frame(
        cls, frame: gpd.GeoDataFrame, spec: LayerSpec, lang: str, version: int = 0
    ) -> ListIndex:
        """The index of a layer's published features (a frame in a fixed order)."""
        return cls(frame.reset_index(drop=True), spec, lang, version)

    @property
    def nbytes(self) -> int:
        """An estimate of the memory it holds (beyond the frame it reads)."""
        n = len(self.haystacks)
        sample = self.haystacks[:: max(1, n // 200)] or [""]
        per_row = sum(len(h) for h in sample) / len(sample) * 2 + 200
        return int(per_row * n) + 4096

    def _order(self, sort: str, descending: bool) -> np.ndarray:
        """Every position sorted by ``sort`` (stable; kept once made)."""
        key = (sort, descending)
        if key not in self._orders:
            n = len(self.names)
            values = {
                "name": lambda: self.names,
                "category": lambda: self.labels,
                "place": lambda: self.places,
                "date": lambda: _texts(self.frame, "source_date", n),
            }[sort]()
            folded = [fold(v) for v in values]
            order = sorted(range(n), key=folded.__getitem__, reverse=descending)
            self._orders[key] = np.array(order, dtype=np.int64)
        return self._orders[key]

    def select(self, query: ListQuery) -> np.ndarray:
        """The positions of the rows ``query`` keeps, in its order."""
        keep = None
        if query.category.startswith(f"{self.spec.name}:"):
            keep = self.categories == query.category.split(":", 1)[1]
        needle = fold(query.q)
        if needle:
            found = np.fromiter(
                (needle in h for h in self.haystacks), bool, len(self.haystacks)
            )
            keep = found if keep is None else keep & found
        order = self._order(query.sort, query.descending)
        return order if keep is None else order[keep[order]]

    def row(self, i: int, needle: str, lang: str) -> dict:
        """The display row of position ``i`` (``needle``: the folded search)."""
        rec = {
            k: plain_value(v)
            for k, v in self.frame.iloc[int(i)].items()
            if k != "geometry"
        }
        name, place = self.names[i], self.places[i]
        matched = None
        if needle and needle not in fold(f"{name} {place}"):
            matched = matched_field(self.spec, rec, needle, lang)
        point = self.frame.geometry.iloc[int(i)].representative_point()
        return {
            "id": rec["id"],
            "name": name,
            "category": self.labels[i],
            "place": place,
            "source": rec.get("source") or "",
            "source_url": rec.get("source_url") or "",
            "date": str(rec.get("source_date") or ""),
            "approximate": rec.get("precision") in ("approximate", "street"),
            "commune_level": rec.get("precision") == "commune",
            "illustrative": bool(rec.get("illustrative")),
            "matched": matched,
            "lat": round(point.y, 5),
            "lon": round(point.x, 5),
        }

    def page(self, query: ListQuery, lang: str) -> tuple[list[dict], int, int]:
        """(rows of the page asked, number of rows kept, number of pages)."""
        positions = self.select(query)
        pages = max(1, -(-len(positions) // PAGE_SIZE))
        page = min(query.page, pages)
        shown = positions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        needle = fold(query.q)
        return [self.row(i, needle, lang) for i in shown], len(positions), pages


def _texts(frame: gpd.GeoDataFrame, column: str | None, n: int) -> list[str]:
    """A column as display text ("" for a missing value or column)."""
    if not column or column not in frame:
        return [""] * n
    return [str(v) if v is not None else "" for v in plain_column(frame[column])]


def _affirmed_column(frame: gpd.GeoDataFrame, column: str, n: int) -> list[str]:
    """What each value of a search field affirms (text.affirmed), each distinct
    value read once."""
    if column not in frame:
        return [""] * n
    seen: dict = {}
    out = []
    for value in plain_column(frame[column]):
        if value not in seen:
            seen[value] = affirmed(value)
        out.append(seen[value])
    return out


def matched_field(spec: LayerSpec, rec: dict, needle: str, lang: str):
    """(label, text) of the first search field whose affirmed text holds
    ``needle`` (folded): why a row matched when its name did not."""
    for name in spec.search_fields:
        said = affirmed(rec.get(name))
        if said and needle in fold(said):
            return tr(spec.field(name).label, lang), said
    return None


def page_of(items: list[dict], page: int) -> tuple[list[dict], int]:
    """The items of one page and the number of pages."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(page, pages)
    return items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], pages
