"""The French catalogue is complete and its compiled file is up to date."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "mapapp" / "translations" / "fr" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None}


def catalogue():
    with open(CATALOGUE / "messages.po", "rb") as f:
        return read_po(f)


def test_french_catalogue_is_complete():
    untranslated = [m.id for m in catalogue() if m.id and not m.string]
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
            found.add(message if isinstance(message, str) else message[0])
    assert sorted(found - known) == []


def test_compiled_catalogue_matches_the_source():
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == {m.id: m.string for m in catalogue() if m.id}
