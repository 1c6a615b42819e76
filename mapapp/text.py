"""Text helpers shared by search, lists, importers and ids: accent folding and slugs."""

from __future__ import annotations

import re
import unicodedata


def fold(text: object) -> str:
    """Lower-case text without accents, for accent- and case-insensitive matching
    (compatibility forms too: ``ﬁ`` is ``fi``, a full-width ``Ａ`` an ``a``)."""
    text = str(text or "")
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    beyond = {c for c in set(decomposed) if c > "\x7f"}
    if all(unicodedata.combining(c) for c in beyond):
        # only accents beyond ASCII (most French text): dropped at C speed
        return decomposed.encode("ascii", "ignore").decode().lower()
    accents = {ord(c): None for c in beyond if unicodedata.combining(c)}
    return decomposed.translate(accents).lower()


def fold_all(texts: list[str]) -> list[str]:
    """:func:`fold` of each text (a newline in one read as a space), folded in one
    pass over them all: a million names in a second, not ten."""
    if not texts:
        return []
    joined = "\n".join(t.replace("\n", " ") for t in texts)
    return fold(joined).split("\n")


def slug(text: object, length: int = 60) -> str:
    """A readable identifier from a name: ``Le Numérique`` -> ``le-numerique``."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:length].strip("-")


# Words by which a text says something is NOT known or not there ("Aucune section
# informatique confirmée", "à vérifier", "non précisé par la source"): the clause
# holding one is left out of what a search matches, so a search for "informatique"
# finds the schools that teach it, not those whose card says none is confirmed.
NOT_STATED = (
    "aucun",
    "non confirm",
    "pas confirm",
    "a verifier",
    "non precise",
    "non detaille",
    "not confirmed",
    "to be checked",
)
_CLAUSES = re.compile(r"[.;]\s+|[.;]$")


def affirmed(text: object) -> str:
    """The clauses of ``text`` that state something (split at ``.`` and ``;``),
    without those that say it is unknown or absent (NOT_STATED)."""
    kept = [
        clause.strip()
        for clause in _CLAUSES.split(str(text or ""))
        if clause.strip() and not any(w in fold(clause) for w in NOT_STATED)
    ]
    return " ; ".join(kept)


def searchable(name: object, *texts: object) -> str:
    """What a search matches for one feature: its name, and what ``texts`` (its
    search fields) affirm, folded."""
    said = " ".join(t for t in (affirmed(x) for x in texts) if t)
    return fold(f"{name or ''} {said}" if said else name)
