"""The printable dossier as a council document (issue 19, item 7): the question and
the answer first, key figures beside published ones, one caveats box, numbered
sites, one distance wording, and no unknown printed as 0."""

from __future__ import annotations

import re
from html import unescape

import pytest

from mapapp import accounts
from mapapp.analysis import dossier as dossier_module


@pytest.fixture
def get(client, store):
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")

    def fetch(path):
        r = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.data[:500]
        return r.get_data(as_text=True)

    return fetch


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def section(html: str, marker: str, end: str) -> str:
    start = html.index(marker)
    return html[start : html.index(end, start)]


def test_page_one_holds_the_question_the_answer_and_key_figures(get):
    html = get("/planner/dossier?lang=fr")
    one = section(html, 'class="page-one"', 'class="map-page"')
    text = text_of(one)
    assert "La question" in text and "Où implanter le quartier numérique" in text
    answer = section(one, 'id="dossier-answer"', "</ol>")
    assert answer.count("<li>") == 3
    assert "Sur la carte" in text and "Publié pour le territoire" in text
    # the map's own count beside the published one, with its source and date
    assert "environ 2 000" in text and "Journal du Palais" in text
    # every caveat in one box on page 1
    assert one.count('class="warnings"') == 1 and html.count('class="warnings"') == 1
    assert "jamais comme 0" in text


def test_no_unknown_is_printed_as_zero(get):
    html = get("/planner/dossier?lang=fr")
    figures = text_of(section(html, 'id="key-figures"', "</table>"))
    assert re.search(r"Emplois estimés inconnu \(\d+ sans valeur\)", figures)
    assert re.search(r"Postes ouverts inconnu \(\d+ sans valeur\)", figures)
    body = section(html, 'id="scenarios-table"', "</table>").split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert rows
    for row in rows:
        cells = [
            text_of(c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        companies, jobs = cells[3], cells[4]
        # a site with establishments but no known band: unknown, never 0
        assert jobs == "0" if companies == "0" else jobs.startswith("inconnu ("), cells


def test_compared_sites_are_numbered_in_the_table_and_on_the_map(get, monkeypatch):
    drawn = {}
    real = dossier_module.static_map

    def spy(*args, **kwargs):
        drawn.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(dossier_module, "static_map", spy)
    html = get("/planner/dossier?lang=fr")
    numbers = [int(n) for n in re.findall(r'class="site-number">(\d+)<', html)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 5
    assert sorted(n for _x, _y, n in drawn["numbers"]) == numbers
    names = [t for _x, _y, t in drawn["names"]]
    assert "Planoise – Châteaufarine" in names or any("Planoise" in n for n in names)
    assert any("Gare" in n for n in names)


def test_one_distance_wording_everywhere(get):
    for query in ("", "?layer=coworking&id=le-numerique"):
        text = text_of(
            get("/planner/dossier" + query + ("&" if query else "?") + "lang=fr")
        )
        # every walking time follows a distance "as the crow flies"
        assert "à vol d'oiseau · environ" in text
        for m in re.finditer(r"à pied", text):
            before = text[max(0, m.start() - 80) : m.start()]
            assert (
                "vol d'oiseau" in before or "temps de marche" in before or "·" in before
            ), before
        assert "Distances à vol d'oiseau ; temps de marche estimés à 4,5 km/h" in text


def test_the_dossier_speaks_english(get):
    text = text_of(get("/planner/dossier?lang=en"))
    assert "The answer in three sentences" in text
    assert "as the crow flies · about" in text
    assert re.search(r"unknown \(\d+ without a value\)", text)


def test_a_planner_page_is_gzipped_when_the_browser_accepts_it(client, store):
    import gzip

    accounts.create_user(store, "zip", "planner", "long-enough-password")
    token = accounts.new_token(store, "zip")
    auth = {"Authorization": f"Bearer {token}"}
    plain = client.get("/planner/", headers=auth)
    packed = client.get("/planner/", headers={**auth, "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    assert b"planner-config" in gzip.decompress(packed.data)
