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
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def slug(text: object, length: int = 60) -> str:
    """A readable identifier from a name: ``Le Numérique`` -> ``le-numerique``."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:length].strip("-")
