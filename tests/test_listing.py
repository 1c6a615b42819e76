"""The list view's rows: filter by text and category, sort, paginate."""

from __future__ import annotations

import pytest

from mapapp.layers import get_spec, load_seed
from mapapp.listing import ListQuery, page_of, parse_list_query, rows
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
