"""The catalogue of official sources (``sources.toml``), resolved with the settings.

Each source's URL is its base URL (the catalogue's, or the one the setting
``SOURCE_URLS`` gives for it: ``sirene=https://mirror.example,*=http://127.0.0.1:8114``)
followed by its path, with ``{departement}`` filled from the setting DEPARTEMENT or
the territory profile (``{departement3}``: on three characters, ``021``, ``02A``,
``974``, as the Annuaire de l'éducation writes it).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import BadRequest

CATALOGUE = Path(__file__).with_name("sources.toml")
MB = 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One official file: where it is, how big it may be, what imports it."""

    id: str
    title: str
    publisher: str
    page: str
    url: str
    file: str
    max_bytes: int
    kind: str | None
    licence: str
    order: int
    options: dict = field(default_factory=dict)
    # hosts besides the URL's own that a redirect of this download may lead to
    redirect_hosts: tuple[str, ...] = ()
    layout: str | None = None  # the importer's variant the file must have


@cache
def _raw() -> dict:
    with open(CATALOGUE, "rb") as f:
        return tomllib.load(f)["sources"]


def source_ids() -> list[str]:
    """Every source of the catalogue, in import order."""
    raw = _raw()
    return sorted(raw, key=lambda k: raw[k]["order"])


def parse_base_urls(text: str) -> dict[str, str]:
    """``id=url,id=url`` (``*`` for every source) as a dict; BadRequest names a bad
    entry."""
    out = {}
    for part in filter(None, (p.strip() for p in str(text or "").split(","))):
        key, sep, url = part.partition("=")
        key, url = key.strip(), url.strip().rstrip("/")
        if not sep or (key != "*" and key not in _raw()):
            raise BadRequest(
                f"SOURCE_URLS: {part!r}; expected id=url with id one of "
                f"{', '.join(source_ids())} or *"
            )
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise BadRequest(f"SOURCE_URLS: {url!r} is not an http(s) URL")
        out[key] = url
    return out


def sources(departement: str | None = None, base_urls: str = "") -> list[Source]:
    """The catalogue's sources, resolved for a département (default: the shipped
    territory's first), in import order; ValueError on a bad département code."""
    from ..territory import check_departement, load_territory

    if departement is None:
        departement = load_territory().departements[0]
    departement = check_departement(departement, "département")
    bases = parse_base_urls(base_urls)
    codes = {"departement": departement, "departement3": departement.zfill(3)}
    out = []
    for sid in source_ids():
        raw = _raw()[sid]
        base = bases.get(sid) or bases.get("*") or raw["base_url"]
        out.append(
            Source(
                id=sid,
                title=raw["title"],
                publisher=raw["publisher"],
                page=raw["page"],
                url=base.rstrip("/") + raw["path"].format(**codes),
                file=raw["file"].format(**codes),
                max_bytes=int(raw["max_mb"] * MB),
                kind=raw.get("kind"),
                licence=raw["licence"],
                order=raw["order"],
                options=dict(raw.get("options", {})),
                redirect_hosts=tuple(raw.get("redirect_hosts", ())),
                layout=raw.get("layout"),
            )
        )
    return out


def select(all_sources: list[Source], ids: list[str] | None) -> list[Source]:
    """The sources named (all when none); BadRequest names an unknown one."""
    if not ids:
        return all_sources
    known = {s.id: s for s in all_sources}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise BadRequest(
            f"unknown source(s) {', '.join(unknown)}; sources: {', '.join(known)}"
        )
    return [s for s in all_sources if s.id in ids]
