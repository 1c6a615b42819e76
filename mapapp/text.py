"""Text helpers shared by search, lists, importers and ids: accent folding and slugs."""

from __future__ import annotations

import re
import unicodedata

import numpy as np


def fold(text: object) -> str:
    """Lower-case text without accents, for accent- and case-insensitive matching
    (compatibility forms too: ``ﬁ`` is ``fi``, a full-width ``Ａ`` an ``a``)."""
    text = str(text or "")
    if text.isascii():
        return text.lower()
    if len(text) > LONG_TEXT:
        folded = _fold_by_character(text)
        if folded is not None:
            return folded
    decomposed = unicodedata.normalize("NFKD", text)
    beyond = {c for c in set(decomposed) if c > "\x7f"}
    if all(unicodedata.combining(c) for c in beyond):
        # only accents beyond ASCII (most French text): dropped at C speed
        return decomposed.encode("ascii", "ignore").decode().lower()
    accents = {ord(c): None for c in beyond if unicodedata.combining(c)}
    return decomposed.translate(accents).lower()


# a text longer than this (the names of a large layer, folded together) is folded a
# distinct character at a time; one with more distinct characters than FEW_CHARACTERS
# beyond ASCII (Chinese, say) is normalised whole
LONG_TEXT = 1 << 16
FEW_CHARACTERS = 200
_SLICE = 1 << 22


def _fold_by_character(text: str) -> str | None:
    """:func:`fold` of a long text, or None when it holds too many distinct
    characters beyond ASCII. The same result: the compatibility decomposition of
    a text is that of each of its characters, reordered only among combining marks,
    which are dropped; so each distinct character is replaced (a pass in C) by
    its decomposition without them, and the whole is lower-cased last (a Greek
    final sigma is still told by its neighbours). A million names take a
    second, where normalising them whole took three to ten."""
    found: set[int] = set()
    for start in range(0, len(text), _SLICE):  # 16 MB of code points at a time
        part = text[start : start + _SLICE].encode("utf-32-le", "surrogatepass")
        codes = np.frombuffer(part, np.uint32)
        found.update(np.unique(codes[codes > 0x7F]).tolist())
        if len(found) > FEW_CHARACTERS:
            return None
    for code in found:
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", char)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
        if plain != char:
            text = text.replace(char, plain)
    return text.lower()


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
