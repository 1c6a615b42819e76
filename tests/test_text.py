"""Accent folding and slugs, shared by search, lists, importers and ids."""

from __future__ import annotations

import unicodedata

import pytest

from mapapp.text import LONG_TEXT, affirmed, fold, fold_all, searchable, slug


def test_fold_ignores_accents_and_case():
    assert fold("Médical ÉCOLE") == "medical ecole"


def test_slug_makes_readable_ids():
    assert slug("Le Numérique – Planoise") == "le-numerique-planoise"
    assert slug("   ") == ""
    assert len(slug("x" * 100)) == 60


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Licence et master d'informatique", "Licence et master d'informatique"),
        ("Aucune section informatique (NSI, BTS SIO) confirmée par une source.", ""),
        (
            "Département Information-Communication ; un département informatique "
            "n'est pas confirmé par la source.",
            "Département Information-Communication",
        ),
        (
            "Aucune section informatique confirmée. BTS de comptabilité cités.",
            "BTS de comptabilité cités",
        ),
        ("Sections numériques à vérifier (NSI) : non précisé par la source.", ""),
        (None, ""),
    ],
)
def test_affirmed_keeps_what_a_text_states(text, kept):
    assert affirmed(text) == kept


def test_searchable_holds_the_name_and_what_is_affirmed():
    text = searchable("Lycée Jules-Haag", "Aucune section informatique confirmée.")
    assert text == "lycee jules-haag"
    assert "informatique" in searchable("UFR", "Master d'informatique")


def test_fold_keeps_letters_that_are_not_accents():
    assert fold("Établissement Besançon") == "etablissement besancon"
    # letters beyond ASCII that no decomposition turns into ASCII stay as they are
    assert fold("Søren Œuvre é") == "søren œuvre e"
    assert fold("ﬁ Ａ Ωμέγα") == "fi a ωμεγα"


def whole_fold(text: str) -> str:
    """:func:`fold` as it was first written: the whole text normalised at once."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


PIECES = [
    "Établissement numérique 000123",
    "ΟΔΟΣ ΣΟΦΟΚΛΕΟΥΣ",  # Greek capital sigmas, final and not
    "ΑΣa ΑΣ. ΑΣ'",  # a sigma told final or not by its neighbours
    "ﬁbre Ｎｕｍ ½ ㎞",  # compatibility forms
    "e\u0301\u0327 c\u0327\u0301 \u0301",  # combining marks out of order, one alone
    "Œuvre Straße Øresund İstanbul",  # letters that are not accents
    "한국어 텍스트",  # Hangul syllables decompose to jamo
    "\ud800 lone surrogate",
    "plain ASCII 42",
]


@pytest.mark.parametrize(
    "pieces", [PIECES, PIECES[:2] + [chr(0x4E00 + i) for i in range(300)]]
)
def test_fold_of_a_long_text_is_the_whole_normalisation(pieces):
    """A long text is folded a character at a time (or, with many distinct
    characters, whole): the same text either way."""
    text = "\n".join(pieces * (LONG_TEXT // 40))
    assert len(text) > LONG_TEXT
    assert fold(text) == whole_fold(text)
    assert fold_all(pieces * 3000) == [whole_fold(p) for p in pieces * 3000]
