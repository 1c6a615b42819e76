"""The accessible list view: published features as rows, filtered and sorted.

Pure functions on GeoDataFrames; the view turns the query string into a
:class:`ListQuery` and renders the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from .layers import LayerSpec, tr
from .maps.compact import point_xy, spatial_positions
from .packing import bytes_array, json_array, json_of
from .text import affirmed, fold, fold_all
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
    index = ListIndex(frame, spec, lang)
    found = index.select(query)
    return index.rows(found, fold(query.q), lang, lambda ids: frame)


def index_columns(spec: LayerSpec) -> list[str]:
    """The fields a :class:`ListIndex` reads."""
    wanted = ["id", spec.label_field, spec.category_field, "address", "zone_code"]
    wanted += ["source_date", *spec.search_fields]
    return [c for c in dict.fromkeys(wanted) if c and c in spec.field_names]


class Texts:
    """Many short texts held as one string and their offsets: a million of them
    cost their characters, not a Python object each."""

    def __init__(self, values: list[str]):
        text = "\n".join(values)
        clean = values
        if text.count("\n") != max(len(values) - 1, 0):  # a text holds a newline
            clean = [v.replace("\n", " ") for v in values]
            text = "\n".join(clean)
        self.text = text + "\n"
        lengths = np.fromiter(map(len, clean), np.int64, len(clean)) + 1
        self.starts = np.concatenate([[0], np.cumsum(lengths)])

    @classmethod
    def joined(cls, text: str, starts: np.ndarray) -> Texts:
        """Texts already joined (``text`` and ``starts`` of another Texts), as
        read back from a file: nothing is split or measured again."""
        texts = cls.__new__(cls)
        texts.text, texts.starts = text, starts
        return texts

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """The texts as two arrays ``name`` and ``name_starts`` (members of a kept
        file: mapapp.snapshots.SnapshotFiles)."""
        return {name: bytes_array(self.text.encode()), f"{name}_starts": self.starts}

    @classmethod
    def of_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> Texts:
        """The texts :meth:`arrays` gave ``arrays`` for: ValueError when they do
        not hold together (a damaged file)."""
        texts = cls.joined(arrays[name].tobytes().decode(), arrays[f"{name}_starts"])
        starts = texts.starts
        if not len(starts) or starts[0] != 0 or starts[-1] != len(texts.text):
            raise ValueError(f"the texts {name} do not match their offsets")
        if (np.diff(starts) < 1).any():
            raise ValueError(f"the offsets of {name} are out of order")
        return texts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> str:
        return self.text[self.starts[i] : self.starts[i + 1] - 1]

    def containing(self, needle: str) -> np.ndarray:
        """A mask of the texts holding ``needle`` (found by str.find, in C)."""
        found = np.zeros(len(self), dtype=bool)
        if "\n" in needle:
            return found
        text, hits = self.text, []
        at = text.find(needle)
        while at >= 0:
            hits.append(at)
            at = text.find(needle, at + 1)
        if hits:
            found[np.searchsorted(self.starts, hits, side="right") - 1] = True
        return found

    def position(self, value: str) -> int | None:
        """The position of the first text equal to ``value``, or None."""
        if "\n" in value or not len(self):
            return None
        if self.text.startswith(f"{value}\n"):
            return 0
        at = self.text.find(f"\n{value}\n")
        if at < 0:
            return None
        return int(np.searchsorted(self.starts, at + 1, side="right") - 1)


class Codes:
    """Values of few distinct kinds (categories, dates) as a code per row and the
    distinct values: a million rows cost four bytes each, not a reference."""

    def __init__(self, values: list):
        index: dict = {}
        self.codes = np.fromiter(
            (index.setdefault(v, len(index)) for v in values), np.int32, len(values)
        )
        self.values = list(index)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """The codes and their values (as JSON) as two arrays (members of a kept
        file); ValueError when JSON does not hold the values as they are."""
        return {name: self.codes, f"{name}_values": json_array(self.values)}

    @classmethod
    def of_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> Codes:
        """The codes :meth:`arrays` gave ``arrays`` for, checked."""
        codes = cls.__new__(cls)
        codes.codes, codes.values = arrays[name], json_of(arrays[f"{name}_values"])
        if len(codes.codes) and not 0 <= codes.codes.min() <= codes.codes.max() < len(
            codes.values
        ):
            raise ValueError(f"the codes {name} name no value")
        return codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int):
        return self.values[self.codes[i]]

    def __iter__(self):
        return (self.values[c] for c in self.codes)

    def equal(self, value) -> np.ndarray:
        """A mask of the rows holding ``value``."""
        try:
            return self.codes == self.values.index(value)
        except ValueError:
            return np.zeros(len(self.codes), dtype=bool)


def _ranks(keys: list[str]) -> np.ndarray:
    """The rank of each folded key among the distinct ones, sorted: equal keys
    share a rank."""
    distinct = {k: i for i, k in enumerate(sorted(set(keys)))}
    return np.fromiter(map(distinct.__getitem__, keys), np.int32, len(keys))


def _fold_few(values: list[str]) -> list[str]:
    """:func:`~mapapp.text.fold_all` of values of few distinct kinds (categories,
    dates, what a search field affirms), each distinct one folded once."""
    distinct = list(dict.fromkeys(values))
    folded = dict(zip(distinct, fold_all(distinct), strict=True))
    return [folded[v] for v in values]


class ListIndex:
    """A layer's rows prepared once per layer version (and language) for the list
    view: the folded text a search matches and the sort keys, packed; a query then
    costs a scan in C, and only the rows of its page are read (``fetch``)."""

    def __init__(self, frame, spec: LayerSpec, lang: str, version: int = 0):
        self._pack(_index_columns(frame, spec).pop, spec, lang, version)

    @classmethod
    def of_chunks(
        cls,
        chunks: Iterable[gpd.GeoDataFrame],
        spec: LayerSpec,
        lang: str,
        version: int,
    ) -> ListIndex:
        """The index of a layer read in chunks (Store.read_versioned_chunks), rows
        in :func:`~mapapp.maps.compact.spatial_order`: the same as the index of
        the layer read whole and ordered, but between chunks only their texts are
        kept, joined (a million companies read whole took 1.6 GB)."""
        parts: dict[str, list] = {}
        xs, ys = [], []
        for chunk in chunks:
            if not len(chunk):
                continue
            for key, values in _index_columns(chunk, spec).items():
                parts.setdefault(key, []).append(join_texts(values))
            x, y = point_xy(chunk.geometry)
            xs.append(x)
            ys.append(y)
        index = cls.__new__(cls)
        if not xs:
            empty = _index_columns(gpd.GeoDataFrame(), spec)
            index._pack(empty.pop, spec, lang, version)
            return index
        ids = split_texts(parts["ids"])
        order = spatial_positions(
            np.concatenate(xs), np.concatenate(ys), np.array(ids, dtype=str), None
        )
        del xs, ys, ids

        def column(key: str) -> list:  # whole and in order, one at a time
            values = split_texts(parts.pop(key))
            return [values[i] for i in order]

        index._pack(column, spec, lang, version)
        return index

    def _pack(self, column: Callable[[str], list], spec: LayerSpec, lang, version):
        """Hold the texts and sort keys of the rows' :func:`_index_columns`, each
        taken by ``column(key)`` when it is made into them (and let go of)."""
        self.spec, self.version = spec, version
        self.categories = Codes(column("categories"))
        self.labels = {
            c: category_label(spec, c, lang) for c in self.categories.values if c
        }
        self.haystacks = Texts(column("haystacks"))
        self.ids = Texts(column("ids"))
        self.names = Texts(column("names"))
        self.places = Texts(column("places"))
        self.dates = Codes(column("dates"))
        # each sort key as a rank per row, made here (where the index is built: a
        # worker process for a large layer), so a sorted page costs a numpy sort
        category_texts = [self.labels.get(c, "") if c else "" for c in self.categories]
        self._ranks = {
            "name": _ranks(column("folded_names")),
            "place": _ranks(column("folded_places")),
            "category": _ranks(_fold_few(category_texts)),
            "date": _ranks(_fold_few([d or "" for d in self.dates])),
        }
        self._orders: dict[tuple[str, bool], np.ndarray] = {}

    def __getstate__(self) -> dict:
        # sent from a worker process without the sorted orders (remade on demand)
        return {**self.__dict__, "_orders": {}}

    @property
    def nbytes(self) -> int:
        """An estimate of the memory it holds."""
        texts = (self.haystacks, self.ids, self.names, self.places)
        n = len(self.ids)
        return sum(len(t.text) + 8 * n for t in texts) + 32 * n + 4096

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index as plain arrays (the members of its kept file,
        mapapp.snapshots.SnapshotFiles); the sorted orders are left out (made
        again on demand). ValueError when JSON does not hold its values."""
        arrays = {
            "version": np.array([self.version], dtype=np.int64),
            "labels": json_array([[c, label] for c, label in self.labels.items()]),
        }
        for name in ("haystacks", "ids", "names", "places"):
            arrays |= getattr(self, name).arrays(name)
        arrays |= self.categories.arrays("categories") | self.dates.arrays("dates")
        return arrays | {f"rank_{k}": rank for k, rank in self._ranks.items()}

    @classmethod
    def of_arrays(cls, arrays: dict[str, np.ndarray], spec: LayerSpec) -> ListIndex:
        """The index of ``spec``'s layer :meth:`to_arrays` gave ``arrays`` for:
        ValueError when they do not hold together (a damaged file)."""
        index = cls.__new__(cls)
        index.spec, index.version = spec, int(arrays["version"][0])
        index.labels = {c: label for c, label in json_of(arrays["labels"])}
        for name in ("haystacks", "ids", "names", "places"):
            setattr(index, name, Texts.of_arrays(arrays, name))
        index.categories = Codes.of_arrays(arrays, "categories")
        index.dates = Codes.of_arrays(arrays, "dates")
        index._ranks = {k: arrays[f"rank_{k}"] for k in SORT_KEYS}
        index._orders = {}
        n = len(index.ids)
        columns = (index.haystacks, index.names, index.places, index.categories)
        columns += (index.dates, *index._ranks.values())
        if any(len(column) != n for column in columns):
            raise ValueError("the index's columns do not have as many rows")
        return index

    def _order(self, sort: str, descending: bool) -> np.ndarray:
        """Every position sorted by ``sort`` (stable: equal keys keep the layer's
        order, in both directions; kept once made)."""
        key = (sort, descending)
        if key not in self._orders:
            rank = self._ranks[sort]
            self._orders[key] = np.argsort(-rank if descending else rank, kind="stable")
        return self._orders[key]

    def select(self, query: ListQuery) -> np.ndarray:
        """The positions of the rows ``query`` keeps, in its order."""
        keep = None
        if query.category.startswith(f"{self.spec.name}:"):
            keep = self.categories.equal(query.category.split(":", 1)[1])
        needle = fold(query.q)
        if needle:
            found = self.haystacks.containing(needle)
            keep = found if keep is None else keep & found
        order = self._order(query.sort, query.descending)
        return order if keep is None else order[keep[order]]

    def rows(self, positions, needle: str, lang: str, fetch) -> list[dict]:
        """The display rows of ``positions``; ``fetch(ids)`` reads those features
        (a feature gone since the index was made is left out)."""
        ids = [self.ids[int(i)] for i in positions]
        frame = fetch(ids)
        found = {
            str(fid): pos for pos, fid in enumerate(frame["id"].astype(str).tolist())
        }
        out = []
        for i, fid in zip(positions, ids, strict=True):
            if fid in found:
                out.append(self._row(int(i), frame, found[fid], needle, lang))
        return out

    def _row(self, i: int, frame, at: int, needle: str, lang: str) -> dict:
        rec = {k: plain_value(v) for k, v in frame.iloc[at].items() if k != "geometry"}
        name, place = self.names[i], self.places[i]
        matched = None
        if needle and needle not in fold(f"{name} {place}"):
            matched = matched_field(self.spec, rec, needle, lang)
        point = frame.geometry.iloc[at].representative_point()
        category = self.categories[i]
        return {
            "id": rec["id"],
            "name": name,
            "category": self.labels.get(category, "") if category else "",
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

    def page(self, query: ListQuery, lang: str, fetch) -> tuple[list[dict], int, int]:
        """(rows of the page asked, number of rows kept, number of pages)."""
        positions = self.select(query)
        pages = max(1, -(-len(positions) // PAGE_SIZE))
        page = min(query.page, pages)
        shown = positions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return self.rows(shown, fold(query.q), lang, fetch), len(positions), pages


def _index_columns(frame, spec: LayerSpec) -> dict[str, list]:
    """What a :class:`ListIndex` holds of each row of ``frame``, as lists: ids,
    display names and places, their folds (sort keys), the folded text a search
    matches, categories and dates. A row's values are its own: a layer's are
    the lists of its chunks, put end to end."""
    n = len(frame)
    ids = frame["id"].astype(str).tolist() if n else []
    names = [
        name or fid
        for name, fid in zip(_texts(frame, spec.label_field, n), ids, strict=True)
    ]
    places = [
        a or z
        for a, z in zip(
            _texts(frame, "address", n), _texts(frame, "zone_code", n), strict=True
        )
    ]
    field = spec.category_field
    raw = frame[field].tolist() if field and field in frame else [None] * n
    # folding is per character and a space or a newline is its own fold, so a
    # haystack is its parts folded apart, joined: the names and places are folded
    # once (their sort keys too), the search fields' few values once each
    folded_names, folded_places = fold_all(names), fold_all(places)
    said = [_affirmed_column(frame, f, n) for f in spec.search_fields]
    # (text, its fold) of each search field's value
    pairs = [zip(column, _fold_few(column), strict=True) for column in said]
    haystacks = [
        " ".join([name, place, *(f for t, f in extra if t)])
        for name, place, *extra in zip(folded_names, folded_places, *pairs, strict=True)
    ]
    return {
        "ids": ids,
        "names": names,
        "places": places,
        "folded_names": folded_names,
        "folded_places": folded_places,
        "haystacks": haystacks,
        "categories": [plain_value(c) for c in raw],
        "dates": _texts(frame, "source_date", n),
    }


def join_texts(values: list) -> str | list:
    """A chunk's column kept between chunks: its texts as one string when none
    holds a newline (a string each costs ten times its characters), else as
    they are; other values (categories) as they are, few and shared."""
    if values and all(isinstance(v, str) for v in values[:1]):
        text = "\n".join(values)
        if text.count("\n") == len(values) - 1 and all(map(_is_str, values)):
            return text
    shared: dict = {}  # equal values one object: a million rows cost a reference each
    return [shared.setdefault(v, v) for v in values]


def _is_str(value) -> bool:
    return type(value) is str


def split_texts(parts: list) -> list:
    """A column's values, its chunks' :func:`join_texts` put end to end."""
    values: list = []
    for part in parts:
        values.extend(part.split("\n") if isinstance(part, str) else part)
    return values


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
