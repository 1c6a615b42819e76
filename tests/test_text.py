"""Accent folding and slugs, shared by search, lists, importers and ids."""

from __future__ import annotations

import pytest

from mapapp.text import affirmed, fold, searchable, slug


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
