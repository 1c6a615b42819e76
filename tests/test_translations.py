"""The French catalogue is complete and its compiled file is up to date."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "mapapp" / "translations" / "fr" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def catalogue():
    with open(CATALOGUE / "messages.po", "rb") as f:
        return read_po(f)


def test_french_catalogue_is_complete():
    untranslated = [
        m.id for m in catalogue() if m.id and (not m.string or not all(m.string))
    ]
    assert untranslated == []


def test_every_interface_string_is_in_the_catalogue():
    known = {m.id for m in catalogue()}
    found = set()
    for folder, method in (("mapapp", "python"), ("templates", "jinja2")):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py" if method == "python" else "**.html", method)],
            keywords=KEYWORDS,
        ):
            found.add(message if isinstance(message, str) else tuple(message[:2]))
    known = {tuple(k) if isinstance(k, list | tuple) else k for k in known}
    assert sorted(map(str, found - known)) == []


def _plain(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


def test_compiled_catalogue_matches_the_source():
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = _plain(read_mo(f))
    assert compiled == _plain(catalogue())
