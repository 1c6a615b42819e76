"""Accent folding and slugs, shared by search, lists, importers and ids."""

from __future__ import annotations

from mapapp.text import fold, slug


def test_fold_ignores_accents_and_case():
    assert fold("Médical ÉCOLE") == "medical ecole"


def test_slug_makes_readable_ids():
    assert slug("Le Numérique – Planoise") == "le-numerique-planoise"
    assert slug("   ") == ""
    assert len(slug("x" * 100)) == 60
