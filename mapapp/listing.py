"""The accessible list view: published features as rows, filtered and sorted.

Pure functions on GeoDataFrames; the view turns the query string into a
:class:`ListQuery` and renders the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

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
    wanted_category = None
    if query.category.startswith(f"{spec.name}:"):
        wanted_category = query.category.split(":", 1)[1]
    needle = fold(query.q)
    out = []
    for raw, geom in zip(
        frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
    ):
        rec = {k: clean_value(v) for k, v in raw.items()}
        name = str(rec.get(spec.label_field) or rec["id"])
        category = rec.get(spec.category_field) if spec.category_field else None
        if wanted_category is not None and category != wanted_category:
            continue
        place = rec.get("address") or rec.get("zone_code") or ""
        haystack = searchable(
            f"{name} {place}", *(rec.get(f) for f in spec.search_fields)
        )
        if needle and needle not in haystack:
            continue
        matched = None
        if needle and needle not in fold(f"{name} {place}"):
            matched = matched_field(spec, rec, needle, lang)
        point = geom.representative_point()
        out.append(
            {
                "id": rec["id"],
                "name": name,
                "category": category_label(spec, category, lang) if category else "",
                "place": str(place),
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
        )
    out.sort(key=lambda r: fold(r[query.sort]), reverse=query.descending)
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
