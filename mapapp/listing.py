"""The accessible list view: published features as rows, filtered and sorted.

Pure functions on GeoDataFrames; the view turns the query string into a
:class:`ListQuery` and renders the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .layers import LayerSpec, tr
from .maps.geojson import clean_value
from .text import affirmed, fold, searchable

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


# the fields of a record a row shows or a search reads
ROW_FIELDS = (
    "id",
    "address",
    "zone_code",
    "source",
    "source_url",
    "source_date",
    "precision",
    "illustrative",
)


class ListIndex:
    """A layer's rows prepared once per layer version (and language): what a row
    shows, what a search matches, the sort keys; a query then costs a scan of
    short strings and one page of rows, not a pass over every record."""

    def __init__(
        self, spec: LayerSpec, records: list[dict], points, lang: str, version: int
    ):
        self.spec = spec
        self.version = version
        self.records = records
        self.points = points  # (lon, lat) rounded to 5 decimals, per record
        self.names = [str(r.get(spec.label_field) or r["id"]) for r in records]
        self.places = [
            str(r.get("address") or r.get("zone_code") or "") for r in records
        ]
        self.categories = [
            r.get(spec.category_field) if spec.category_field else None for r in records
        ]
        self.labels = [
            category_label(spec, c, lang) if c else "" for c in self.categories
        ]
        self.haystacks = [
            searchable(f"{name} {place}", *(r.get(f) for f in spec.search_fields))
            for name, place, r in zip(self.names, self.places, records, strict=True)
        ]
        self.shown = [
            fold(f"{name} {place}")
            for name, place in zip(self.names, self.places, strict=True)
        ]
        self._orders: dict[tuple[str, bool], list[int]] = {}

    @classmethod
    def of(cls, snapshot, lang: str) -> ListIndex:
        """The index of a snapshot (site.Snapshot) of a layer, in ``lang``."""
        return cls.of_frame(snapshot.frame, snapshot.spec, lang, snapshot.version)

    @classmethod
    def of_frame(
        cls, frame: gpd.GeoDataFrame, spec: LayerSpec, lang: str, version: int = 0
    ) -> ListIndex:
        """The index of a layer's published features."""
        wanted = [spec.label_field, spec.category_field, *ROW_FIELDS]
        wanted += list(spec.search_fields)
        columns = [c for c in dict.fromkeys(wanted) if c and c in frame.columns]
        records = [
            {k: clean_value(v) for k, v in raw.items()}
            for raw in frame[columns].to_dict("records")
        ]
        inside = shapely.point_on_surface(frame.geometry.values)
        lons = np.round(shapely.get_x(inside), 5).tolist()
        lats = np.round(shapely.get_y(inside), 5).tolist()
        return cls(spec, records, list(zip(lons, lats, strict=True)), lang, version)

    @property
    def nbytes(self) -> int:
        """An estimate of the memory it holds."""
        sample = self.records[:: max(1, len(self.records) // 200)] or [{}]
        per_record = sum(len(str(v)) + 60 for r in sample for v in r.values())
        return int(per_record / len(sample) * len(self.records) * 3) + 4096

    def _order(self, sort: str, descending: bool) -> list[int]:
        """Every position sorted by ``sort`` (stable; kept once made)."""
        key = (sort, descending)
        if key not in self._orders:
            values = {
                "name": self.names,
                "category": self.labels,
                "place": self.places,
                "date": [str(r.get("source_date") or "") for r in self.records],
            }[sort]
            folded = [fold(v) for v in values]
            self._orders[key] = sorted(
                range(len(folded)), key=folded.__getitem__, reverse=descending
            )
        return self._orders[key]

    def select(self, query: ListQuery) -> list[int]:
        """The positions of the rows ``query`` keeps, in its order."""
        keep = None
        if query.category.startswith(f"{self.spec.name}:"):
            wanted = query.category.split(":", 1)[1]
            keep = {i for i, c in enumerate(self.categories) if c == wanted}
        needle = fold(query.q)
        if needle:
            found = {i for i, h in enumerate(self.haystacks) if needle in h}
            keep = found if keep is None else keep & found
        order = self._order(query.sort, query.descending)
        return order if keep is None else [i for i in order if i in keep]

    def row(self, i: int, needle: str, lang: str) -> dict:
        """The display row of position ``i`` (``needle``: the folded search)."""
        rec = self.records[i]
        matched = None
        if needle and needle not in self.shown[i]:
            matched = matched_field(self.spec, rec, needle, lang)
        lon, lat = self.points[i]
        return {
            "id": rec["id"],
            "name": self.names[i],
            "category": self.labels[i],
            "place": self.places[i],
            "source": rec.get("source") or "",
            "source_url": rec.get("source_url") or "",
            "date": str(rec.get("source_date") or ""),
            "approximate": rec.get("precision") in ("approximate", "street"),
            "commune_level": rec.get("precision") == "commune",
            "illustrative": bool(rec.get("illustrative")),
            "matched": matched,
            "lat": lat,
            "lon": lon,
        }

    def page(self, query: ListQuery, lang: str) -> tuple[list[dict], int, int]:
        """(rows of the page asked, number of rows kept, number of pages)."""
        positions = self.select(query)
        pages = max(1, -(-len(positions) // PAGE_SIZE))
        page = min(query.page, pages)
        shown = positions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        needle = fold(query.q)
        return [self.row(i, needle, lang) for i in shown], len(positions), pages


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
