"""The list view's rows: filter by text and category, sort, paginate."""

from __future__ import annotations

import pytest

from mapapp.layers import get_spec, load_seed
from mapapp.listing import ListIndex, ListQuery, page_of, parse_list_query, rows
from mapapp.text import affirmed, fold_all
from tests.conftest import SEED
from tests.shipped import GRAND_BESANCON_BBOX as AREA

NAMES = ["companies", "coworking", "schools", "fibre", "context", "perimeters"]


@pytest.fixture(scope="module")
def seed():
    return load_seed(SEED, AREA)


def test_rows_sorted_by_name_with_labels(seed):
    out = rows(seed["schools"], get_spec("schools"), ListQuery(), "fr")
    names = [r["name"] for r in out]
    assert names == sorted(names, key=lambda n: n.lower().replace("é", "e"))
    haag = next(r for r in out if r["id"] == "lycee-jules-haag")
    assert haag["category"] == "Lycée" and haag["approximate"] is False


def test_rows_text_filter_ignores_accents(seed):
    out = rows(seed["coworking"], get_spec("coworking"), ListQuery(q="numerique"), "en")
    assert {r["id"] for r in out} >= {"le-numerique", "fabrique-numerique-planoise"}


def test_rows_category_filter_and_descending_sort(seed):
    query = ListQuery(category="coworking:proposed", sort="name", descending=True)
    out = rows(seed["coworking"], get_spec("coworking"), query, "en")
    assert out and {r["category"] for r in out} == {"Proposed"}
    assert [r["name"] for r in out] == sorted((r["name"] for r in out), reverse=True)


def test_parse_list_query_rejects_unknown_values():
    q = parse_list_query(
        {"layer": "nope", "category": "x:y", "sort": "evil", "page": "-3"}, NAMES
    )
    assert (q.layer, q.category, q.sort, q.page) == ("", "", "name", 1)
    q = parse_list_query({"category": "schools:lycee"}, NAMES)
    assert q.layer == "schools"


def test_page_of():
    items = list(range(250))
    first, pages = page_of(items, 1)
    assert pages == 3 and first[0] == 0 and len(first) == 100
    last, _ = page_of(items, 9)
    assert last == items[200:]


def test_texts_find_a_needle_only_within_one_text():
    from mapapp.listing import Texts

    texts = Texts(["abc", "", "cab", "two\nlines"])
    assert len(texts) == 4 and texts[2] == "cab" and texts[1] == ""
    assert texts.containing("ab").tolist() == [True, False, True, False]
    assert texts.containing("ca").tolist() == [False, False, True, False]
    assert not texts.containing("c\nc").any()  # never across two texts
    assert texts.containing("o l").tolist() == [False, False, False, True]


def test_list_index_folds_as_the_joined_texts_would(seed):
    """The haystacks and sort keys are folded in parts (names and places once,
    a search field's values once each): the same as folding each row's joined
    text, including where a fold depends on its neighbours or comes out empty."""
    frame = seed["schools"].copy()
    tricky = [
        "ΟΔΟΣ ΣΟΦΟΚΛΕΟΥΣ",
        "Œuvre\nsur deux lignes",
        "",
        "e\u0301cole c\u0327\u0301",
        "ﬁbre Ｎｕｍ",
    ]
    frame.loc[: len(tricky) - 1, "name"] = tricky
    frame.loc[:2, "digital_programmes"] = ["\u0301", "ΑΣ; informatique", None]
    frame.loc[3, "address"] = "Σ rue de l'Église"
    spec = get_spec("schools")
    index = ListIndex(frame, spec, "fr")
    names = [n or i for n, i in zip(frame["name"].fillna(""), frame["id"], strict=True)]
    assert "zone_code" not in frame  # a place is the address alone here
    places = [a if isinstance(a, str) else "" for a in frame["address"]]
    said = [
        affirmed(v if isinstance(v, str) else None) for v in frame["digital_programmes"]
    ]
    joined = [
        " ".join([n, p, *([s] if s else [])])
        for n, p, s in zip(names, places, said, strict=True)
    ]
    want = fold_all(joined)
    assert [index.haystacks[i] for i in range(len(frame))] == want
    assert want[0].startswith("οδος σοφοκλεους") and want[0].endswith(" ")
    for key, texts in (("name", names), ("place", places)):
        keys = fold_all(texts)
        order = sorted(set(keys))
        assert index._ranks[key].tolist() == [order.index(k) for k in keys]
