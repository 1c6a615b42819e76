"""The territory a site maps, as data: a profile folder, never code.

A profile is a folder holding ``territory.toml`` (names in French and English, the
organisation that publishes the map, the départements, the communes, the initial
view, the attribution of the reference data), the communes' contours (GeoJSON in
WGS84, ``code`` and ``nom`` per feature, as IGN Admin Express and INSEE write them)
and, optionally, seed layer files (``companies.geojson``…) and a quarters file. The
setting TERRITORY chooses the folder; the shipped profile is ``geodata/``.
``mapapp territory make`` writes a new one from official files (docs/deploy.md,
"Another territory").

Every problem of a profile is a :class:`TerritoryError` (a ValueError) naming the
file and the key, raised when the settings are resolved: a site never starts on a
half-read territory.
"""

from __future__ import annotations

import csv
import json
import math
import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from .text import fold

PROFILE_FILE = "territory.toml"
# Figures published for the whole territory, beside the profile (issue 20, item 4)
PUBLISHED_FILE = "published-figures.toml"
MAX_PROFILE_BYTES = 1024 * 1024  # territory.toml: a page of settings, not data
MAX_CONTOURS_BYTES = 200 * 1024 * 1024  # the communes' contours of a large EPCI
MAX_COMMUNES = 2_000  # more than any French intercommunality counts
COMMUNE_CODE = re.compile(r"\d[\dAB]\d{3}")  # INSEE: 75056, 2A004, 97105
# Départements: 01–19, 21–95, 2A and 2B (Corsica), 971–976 (overseas).
DEPARTEMENT_CODE = re.compile(r"0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-6]")
SIREN = re.compile(r"\d{9}")
MIN_ZOOM, MAX_ZOOM = 8, 18
LANGS = ("fr", "en")
Text = dict[str, str]


class TerritoryError(ValueError):
    """A territory profile that cannot be used; the message names file and key."""


@dataclass(frozen=True)
class View:
    """Where the map opens: a centre (lat, lon, WGS84) and a zoom level."""

    center: tuple[float, float]
    zoom: int


@dataclass(frozen=True)
class Commune:
    """One commune of the territory: INSEE code, name and contour (WGS84)."""

    code: str
    name: str
    geometry: BaseGeometry = field(repr=False)

    @cached_property
    def anchor(self) -> tuple[float, float]:
        """Where a commune-level feature is anchored (lon, lat): a point inside the
        contour, the same for every such feature."""
        point = self.geometry.representative_point()
        return round(point.x, 5), round(point.y, 5)


@dataclass(frozen=True, eq=False)
class Territory:
    """A loaded profile (see the module docstring). Texts are ``{fr, en}`` pairs,
    resolved by :func:`mapapp.layers.tr`."""

    folder: Path
    name: Text
    short_name: Text
    organisation: Text
    organisation_url: str
    planners: Text
    attribution: Text
    departements: tuple[str, ...]
    epci: str
    communes: dict[str, Commune] = field(repr=False)
    contour: BaseGeometry = field(repr=False)  # the union of the communes
    view: View  # the profile's initial view, else one fitting the contour
    quarters: tuple[tuple[str, str, BaseGeometry], ...] = field(default=(), repr=False)
    figures: dict = field(default_factory=dict)
    passwords: tuple[str, ...] = ()  # local words refused as passwords

    @cached_property
    def password_words(self) -> frozenset[str]:
        """Words a guesser tries first here, refused as passwords (mapapp.accounts):
        the territory's names and its communes' (letters only, lower case, no
        accents; each word of five letters or more too) and the profile's
        ``passwords``."""
        texts = [*self.name.values(), *self.short_name.values(), *self.passwords]
        texts += [c.name for c in self.communes.values()]
        words = set()
        for text in texts:
            folded = fold(text)
            words.add(re.sub(r"[^a-z]", "", folded))
            words.update(w for w in re.findall(r"[a-z]+", folded) if len(w) >= 5)
        return frozenset(w for w in words if len(w) >= 4)

    @property
    def codes(self) -> tuple[str, ...]:
        """The INSEE codes of the communes, in the profile's order."""
        return tuple(self.communes)

    @cached_property
    def main_commune(self) -> Commune:
        """The commune under the initial view's centre (else the first): examples
        in help texts name it."""
        lat, lon = self.view.center
        for commune in self.communes.values():
            if commune.geometry.covers(shapely.Point(lon, lat)):
                return commune
        return next(iter(self.communes.values()))

    def shapes(self) -> dict[str, tuple[str, BaseGeometry]]:
        """Code -> (name, WGS84 contour) of every commune."""
        return {c.code: (c.name, c.geometry) for c in self.communes.values()}


def shipped_dir() -> Path:
    """The shipped profile's folder (``geodata/``)."""
    from .config import resource_dir

    return resource_dir("geodata")


def check_departement(code: object, origin: str) -> str:
    """A département code as INSEE writes it (``25``, ``2A``, ``974``); ValueError
    naming ``origin`` (the setting or file) otherwise."""
    text = str(code).strip().upper()
    if not DEPARTEMENT_CODE.fullmatch(text):
        raise TerritoryError(
            f"{origin}: {str(code)[:20]!r} is not a département code "
            "(two digits such as 25, 2A or 2B for Corsica, 971 to 976 overseas)"
        )
    return text


def departement_of(code: str) -> str:
    """The département of an INSEE commune code (``97105`` -> ``971``)."""
    return code[:3] if code.startswith("97") else code[:2]


def fitting_zoom(bounds: tuple[float, float, float, float], size=(960, 600)) -> int:
    """The largest web-map zoom showing ``bounds`` (lon/lat) in a viewport of
    ``size`` pixels, kept within the map's zoom range."""
    west, south, east, north = bounds

    def mercator(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    width = max(east - west, 1e-6) / 360
    height = max(mercator(north) - mercator(south), 1e-6) / (2 * math.pi)
    zoom = min(math.log2(size[0] / 256 / width), math.log2(size[1] / 256 / height))
    return max(MIN_ZOOM, min(MAX_ZOOM, math.floor(zoom)))


def view_of(geometry: BaseGeometry) -> View:
    """A view showing ``geometry`` whole: centred on the middle of its box when that
    lies inside it, else on a point inside it."""
    west, south, east, north = geometry.bounds
    middle = shapely.Point((west + east) / 2, (south + north) / 2)
    if not geometry.covers(middle):
        middle = geometry.representative_point()
    center = (round(middle.y, 5), round(middle.x, 5))
    return View(center, fitting_zoom(geometry.bounds))


# --- reading a profile ------------------------------------------------------------


def load_territory(folder: str | Path | None = None) -> Territory:
    """The profile in ``folder`` (empty: the shipped one), read once per version of
    its ``territory.toml``; TerritoryError names what is wrong."""
    path = Path(folder).expanduser().resolve() if folder else shipped_dir()
    profile = path / PROFILE_FILE
    if not profile.is_file():
        raise TerritoryError(
            f"territory {path}: no {PROFILE_FILE} in this folder (make one with "
            "`mapapp territory make`, docs/deploy.md)"
        )
    return _load(path, profile.stat().st_mtime_ns)


@cache
def _load(folder: Path, _stamp: int) -> Territory:
    where = folder / PROFILE_FILE
    raw = _read_toml(where)
    communes = _read_communes(folder, where, raw.get("communes"))
    name = _text(raw, "name", where, required=True)
    organisation = raw.get("organisation") or {}
    if not isinstance(organisation, Mapping):
        raise TerritoryError(f"{where}: [organisation] must be a table")
    org_name = _text(organisation, "name", where) or name
    contour = shapely.union_all([c.geometry for c in communes.values()])
    view = _view(raw["view"], where, contour) if "view" in raw else view_of(contour)
    return Territory(
        folder=folder,
        name=name,
        short_name=_text(raw, "short_name", where) or name,
        organisation=org_name,
        organisation_url=_url(organisation.get("url"), where),
        planners=_text(raw, "planners", where) or _planners(org_name),
        attribution=_text(raw, "attribution", where) or {},
        departements=_departements(raw, communes, where),
        epci=_epci(raw.get("epci"), where),
        communes=communes,
        contour=contour,
        view=view,
        quarters=_quarters(folder, where, raw.get("quarters")),
        figures={**_published(folder), **_figures(raw.get("figures"), where)},
        passwords=_words(raw.get("passwords"), where),
    )


def _read_toml(where: Path) -> dict:
    if where.stat().st_size > MAX_PROFILE_BYTES:
        raise TerritoryError(f"{where}: larger than {MAX_PROFILE_BYTES} bytes")
    try:
        return tomllib.loads(where.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TerritoryError(f"{where}: not a readable TOML file ({exc})") from None


def _text(table: Mapping, key: str, where: Path, required: bool = False) -> Text:
    """A ``{fr, en}`` pair (a plain string is both); {} when absent."""
    value = table.get(key)
    if value is None or value == "":
        if required:
            raise TerritoryError(f"{where}: {key} is missing (fr and en)")
        return {}
    if isinstance(value, str):
        value = {"fr": value, "en": value}
    if not isinstance(value, Mapping) or not all(
        isinstance(value.get(lang, ""), str) for lang in LANGS
    ):
        raise TerritoryError(f"{where}: {key} must be a text or {{ fr = …, en = … }}")
    pair = {lang: value[lang].strip()[:300] for lang in LANGS if value.get(lang)}
    if not pair:
        raise TerritoryError(f"{where}: {key} is empty")
    return {"fr": pair.get("fr") or pair["en"], "en": pair.get("en") or pair["fr"]}


def _planners(organisation: Text) -> Text:
    return {
        "fr": f"les équipes de {organisation['fr']}",
        "en": f"the teams of {organisation['en']}",
    }


def _url(value: object, where: Path) -> str:
    text = str(value or "").strip()
    if text and not re.fullmatch(r"https?://[^\s<>\"']{1,500}", text):
        raise TerritoryError(f"{where}: organisation.url must be an http(s) address")
    return text


def _epci(value: object, where: Path) -> str:
    text = str(value or "").strip()
    if text and not SIREN.fullmatch(text):
        raise TerritoryError(f"{where}: epci must be a SIREN number of nine digits")
    return text


def _inside(folder: Path, relative: object, where: Path, key: str) -> Path:
    """A file named in the profile, which must lie inside the profile's folder."""
    if not isinstance(relative, str) or not relative.strip():
        raise TerritoryError(f"{where}: {key} must name a file of the profile")
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder):
        raise TerritoryError(f"{where}: {key} must be a file inside {folder}")
    if not path.is_file():
        raise TerritoryError(f"{where}: {key}: no file {relative} in {folder}")
    return path


def _read_communes(folder: Path, where: Path, table: object) -> dict[str, Commune]:
    """The communes: the contours file, restricted to ``codes`` or to the codes of
    the ``list`` CSV when given (every unknown code named)."""
    if not isinstance(table, Mapping) or "contours" not in table:
        raise TerritoryError(
            f'{where}: [communes] needs contours = "<GeoJSON of the communes>"'
        )
    contours = _read_contours(_inside(folder, table["contours"], where, "contours"))
    if "codes" in table:
        codes = table["codes"]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise TerritoryError(f"{where}: communes.codes must be a list of texts")
    elif "list" in table:
        codes = _codes_of_csv(_inside(folder, table["list"], where, "list"), where)
    else:
        codes = list(contours)
    bad = [c for c in codes if not COMMUNE_CODE.fullmatch(c)]
    unknown = [c for c in codes if c not in contours]
    if bad or unknown or not codes:
        raise TerritoryError(
            f"{where}: "
            + (f"not INSEE commune codes: {', '.join(bad[:10])}; " if bad else "")
            + (
                f"no contour for {', '.join(unknown[:20])} in {table['contours']}"
                if unknown
                else ""
            )
            + ("no commune" if not codes else "")
        )
    return {c: contours[c] for c in dict.fromkeys(codes)}


def _read_contours(path: Path) -> dict[str, Commune]:
    """Code -> Commune of a GeoJSON FeatureCollection with ``code`` and ``nom``."""
    if path.stat().st_size > MAX_CONTOURS_BYTES:
        raise TerritoryError(f"{path}: larger than {MAX_CONTOURS_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = data["features"]
        found = {}
        for f in features[: MAX_COMMUNES + 1]:
            props = f["properties"]
            code = str(props["code"])
            found[code] = Commune(code, str(props["nom"]), shape(f["geometry"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TerritoryError(
            f"{path}: expected a GeoJSON FeatureCollection of communes with code "
            f"and nom ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    if len(found) > MAX_COMMUNES:
        raise TerritoryError(f"{path}: more than {MAX_COMMUNES} communes")
    return found


def _codes_of_csv(path: Path, where: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[: MAX_COMMUNES + 1]
    column = next((c for c in ("code_insee", "code") if rows and c in rows[0]), None)
    if column is None or len(rows) > MAX_COMMUNES:
        raise TerritoryError(
            f"{where}: {path.name} must be a CSV with a code_insee column "
            f"(at most {MAX_COMMUNES} rows)"
        )
    return [row[column].strip() for row in rows]


def _departements(raw: Mapping, communes: dict, where: Path) -> tuple[str, ...]:
    """The profile's départements, else those of its communes (most communes
    first)."""
    given = raw.get("departements")
    if given is None:
        counts = Counter(departement_of(code) for code in communes)
        return tuple(d for d, _n in counts.most_common())
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list) or not given:
        raise TerritoryError(f'{where}: departements must be a list such as ["25"]')
    return tuple(check_departement(d, f"{where}: departements") for d in given)


def _view(table: object, where: Path, contour: BaseGeometry) -> View:
    """The [view] table: centre = [lat, lon] near the contour, zoom 8–18."""
    try:
        lat, lon = (float(v) for v in table["center"])
        zoom = int(table.get("zoom", fitting_zoom(contour.bounds)))
    except (TypeError, ValueError, KeyError):
        raise TerritoryError(
            f"{where}: [view] needs center = [latitude, longitude] and an optional zoom"
        ) from None
    west, south, east, north = contour.bounds
    margin = 0.5
    if not (
        south - margin <= lat <= north + margin
        and west - margin <= lon <= east + margin
    ):
        raise TerritoryError(
            f"{where}: view.center {lat}, {lon} is far from the communes "
            f"(latitude {south:.2f} to {north:.2f}, longitude {west:.2f} to "
            f"{east:.2f}); is it [latitude, longitude]?"
        )
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise TerritoryError(f"{where}: view.zoom must be {MIN_ZOOM} to {MAX_ZOOM}")
    return View((round(lat, 5), round(lon, 5)), zoom)


def _quarters(folder: Path, where: Path, relative: object) -> tuple:
    """(code, name, contour) of the quarters file's features (``code``, ``nom``)."""
    if relative is None:
        return ()
    found = _read_contours(_inside(folder, relative, where, "quarters"))
    return tuple((c.code, c.name, c.geometry) for c in found.values())


def _words(value: object, where: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise TerritoryError(f"{where}: passwords must be a list of words")
    return tuple(w.strip()[:100] for w in value[:1000] if w.strip())


def _figures(table: object, where: Path) -> dict:
    """Published territory-wide figures: name -> {value, date, source}."""
    if table is None:
        return {}
    ok = isinstance(table, Mapping) and all(
        isinstance(v, Mapping) and isinstance(v.get("value"), int | float)
        for v in table.values()
    )
    if not ok:
        raise TerritoryError(
            f"{where}: each [figures] entry needs a number: "
            'name = { value = …, date = "…", source = "…" }'
        )
    return {k: dict(v) for k, v in table.items()}


def _published(folder: Path) -> dict:
    """The figures of the profile's ``published-figures.toml``, if any."""
    where = folder / PUBLISHED_FILE
    if not where.is_file():
        return {}
    return _figures(_read_toml(where).get("figures"), where)


def published_beside(figures: dict, lang: str) -> dict[str, dict]:
    """Per key figure of the map (``compare_with``: jobs_estimate, establishments,
    students, ftth_share), the latest figure published for the territory: value,
    approximate, label, territory, source, url and date, to show beside the map's
    own count."""
    out: dict[str, dict] = {}
    for fig in figures.values():
        key = fig.get("compare_with")
        if not key or str(fig.get("date", "")) <= str(out.get(key, {}).get("date", "")):
            continue
        label = fig.get("label") or {}
        out[key] = {
            "value": fig["value"],
            "approximate": bool(fig.get("approximate")),
            "label": label.get(lang) or label.get("fr") or key,
            "territory": fig.get("territory"),
            "source": fig.get("source"),
            "url": fig.get("url"),
            "date": str(fig.get("date", "")),
        }
    return out
