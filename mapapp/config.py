"""Settings, declared once as data (name, default, help), resolved in one place.

The table feeds the defaults, the README's settings table and a test that checks
every setting is documented. :func:`load_settings` is the only place settings are
resolved, for the server and every CLI command alike: defaults, then the instance
folder's ``mapapp.cfg``, then ``MAPAPP_<NAME>`` environment variables, then explicit
overrides (tests).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return a top-level resource folder (``templates``, ``geodata``).

    In a checkout or an editable install it sits beside the package; a built wheel
    carries it inside the package as ``_<name>``.
    """
    bundled = PACKAGE_DIR / f"_{name}"
    if bundled.is_dir():
        return bundled
    return PACKAGE_DIR.parent / name


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str

    @property
    def env(self) -> str:
        return f"MAPAPP_{self.name}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TERRITORY",
        "",
        "Territory profile: a folder holding `territory.toml`, the communes' "
        "contours and optionally seed layers (`mapapp territory make` writes one); "
        "empty means the shipped `geodata/`.",
    ),
    Setting(
        "DATA_DIR",
        "",
        "Seed data folder (GeoJSON, one file per layer; a missing file is an empty "
        "layer); empty means the territory's folder.",
    ),
    Setting(
        "INSTANCE_PATH",
        "",
        "Folder holding the working store (`mapapp.gpkg`); "
        "empty means Flask's instance folder.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "Store location: empty for the GeoPackage in the "
        "instance folder, or a path ending in `.gpkg`.",
    ),
    Setting(
        "TILES",
        "osmfr",
        "Base map: `none` (no outside request), a provider "
        "name (`osmfr`, `osm`, `ign`) or an XYZ URL template with `{z}/{x}/{y}`.",
    ),
    Setting("TILES_ATTRIBUTION", "", "Attribution shown with a custom XYZ tile URL."),
    Setting(
        "SECRET_KEY",
        "",
        "Secret for signing cookies; set it in production "
        "(a random one is made per process otherwise).",
    ),
    Setting(
        "STUDY_AREA",
        "territory",
        "Study area: `territory` (the contour of the territory's communes; "
        "`metropolis` is its former name), INSEE codes of some of them "
        "(comma-separated) or a box `min_lon,min_lat,max_lon,max_lat` (WGS84). "
        "Points outside are rejected; imported zones are kept when they reach into "
        "it.",
    ),
    Setting(
        "DEFAULT_LANG", "fr", "Interface language when none is asked: `fr` or `en`."
    ),
    Setting(
        "EMBED_FRAME_ANCESTORS",
        "*",
        "Who may frame `/embed`: `*` or a "
        "space-separated list of origins (CSP `frame-ancestors`). Other pages "
        "can never be framed.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto "
        "headers are trusted (sign-in rate limits per address, Secure cookies behind "
        "HTTPS).",
    ),
    Setting(
        "SUITABILITY_CELL_M",
        250,
        "Cell size in metres of the site-suitability grid (planners may ask for 100 "
        "to 1000).",
    ),
    Setting(
        "UPLOAD_MAX_MB",
        50,
        "Largest file (megabytes) the admin upload page accepts; bigger files are "
        "imported with `mapapp import`.",
    ),
    Setting(
        "DEPARTEMENT",
        "",
        "Département whose official files `mapapp fetch` and `mapapp update` "
        "download (INSEE code such as `21`, `2A` or `974`); empty means the "
        "territory's (the first of its profile).",
    ),
    Setting(
        "SOURCE_URLS",
        "",
        "Base URL of official sources, to use a mirror: `sirene=https://…,ban=https://…` "
        "(`*=…` for every source); empty keeps the publishers' URLs of the "
        "catalogue (docs/data-sources.md).",
    ),
    Setting(
        "DOWNLOAD_DIR",
        "",
        "Folder of the downloaded official files and their manifest; empty means "
        "`downloads/` in the instance folder.",
    ),
    Setting(
        "INLINE_MAX_FEATURES",
        2000,
        "Layers up to this many features are "
        "inlined in the map page; larger ones are fetched from the API.",
    ),
    Setting(
        "OVERVIEW_MIN_FEATURES",
        200_000,
        "Point layers with more features than this open as an overview (counts "
        "per grid cell of about 1 km); their points load once the map is zoomed "
        "in (level 13 and closer).",
    ),
    Setting(
        "HEAVY_AT_ONCE",
        2,
        "Heavy builds (a large layer's map data, list index, GeoJSON or download "
        "after a change) run at most this many at once, so they never hold every "
        "worker thread.",
    ),
    Setting(
        "HEAVY_QUEUE",
        4,
        "Requests that may wait for a heavy build at once; beyond, and after "
        "`MAPAPP_HEAVY_WAIT_SECONDS`, they get 503 with Retry-After.",
    ),
    Setting(
        "HEAVY_WAIT_SECONDS",
        60,
        "Longest wait of a request for a heavy build before it is answered 503 "
        "with Retry-After.",
    ),
    Setting(
        "WORKER_MIN_FEATURES",
        50_000,
        "Layers of this many features or more have their map data, list index, "
        "downloads and analysis columns built in a worker process (one at a time "
        "per heavy-build slot), never in the server's own: the server keeps "
        "answering meanwhile, and the build's memory goes back to the system when "
        "it ends. A negative value builds everything in the server.",
    ),
    Setting(
        "CACHE_DIR",
        "",
        "Folder where large prepared bodies (downloads, whole-layer GeoJSON) are "
        "kept per data version and streamed from, and large layers' map data, "
        "loaded at the next start instead of built again; empty means `cache/` in "
        "the instance folder.",
    ),
    Setting(
        "CONTRIBUTIONS_PER_ADDRESS",
        5,
        "Public contributions (error reports, proposed places) accepted from one "
        "address per hour.",
    ),
    Setting(
        "CONTRIBUTIONS_PER_HOUR",
        300,
        "Public contributions accepted per hour from everyone together.",
    ),
    Setting(
        "CONTRIBUTION_MIN_FILL_SECONDS",
        3,
        "A contribution sent less than this many seconds after its form was "
        "handed out is refused (people take longer; robots do not).",
    ),
    Setting(
        "CONTRIBUTION_RETENTION_DAYS",
        90,
        "A contributor's e-mail (and the hash of their address) is deleted after "
        "this many days even if the contribution is still undecided; it is deleted "
        "at once when the contribution is decided.",
    ),
    Setting(
        "SESSION_IDLE_MINUTES",
        120,
        "A planner's sign-in ends after this many minutes without a request.",
    ),
    Setting(
        "SESSION_MAX_HOURS",
        12,
        "Every sign-in ends this many hours after it began, however busy.",
    ),
    Setting(
        "TOKEN_DAYS",
        90,
        "API tokens made by `mapapp users token` expire after this many days "
        "(`--days` chooses another life for one token).",
    ),
)

CONFIG_FILE = "mapapp.cfg"
# Settings naming a file or folder: a relative path in mapapp.cfg is taken from the
# instance folder (where the file is), one in the environment from the current one.
PATH_SETTINGS = ("TERRITORY", "DATA_DIR", "DATABASE_URL", "DOWNLOAD_DIR", "CACHE_DIR")


def _typed(setting: Setting, raw: object, origin: str) -> object:
    """A raw value as the setting's type; ValueError names the setting and origin."""
    if isinstance(setting.default, int) and not isinstance(raw, int):
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError(
                f"{setting.env} ({origin}): expected a whole number, got {raw!r}"
            ) from None
    return raw


def from_env(
    environ: Mapping[str, str] | None = None, only_set: bool = False
) -> dict[str, object]:
    """Read the settings from ``MAPAPP_*`` variables.

    Unset variables give the setting's default, or are left out with ``only_set``.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None:
            if not only_set:
                values[setting.name] = setting.default
        else:
            values[setting.name] = _typed(setting, raw, "environment")
    return values


def default_instance_dir() -> Path:
    """Flask's instance folder for this package: ``instance/`` beside a checkout, or
    ``<prefix>/var/mapapp-instance`` for an installed package."""
    for parent in PACKAGE_DIR.parents:
        if parent.name in ("site-packages", "dist-packages"):
            return Path(sys.prefix) / "var" / "mapapp-instance"
    return PACKAGE_DIR.parent / "instance"


def read_config_file(path: Path) -> dict[str, object]:
    """The upper-case names a ``mapapp.cfg`` (Python syntax, as Flask reads it) sets."""
    if not path.is_file():
        return {}
    namespace: dict[str, object] = {"__file__": str(path)}
    code = compile(path.read_bytes(), str(path), "exec")
    exec(code, namespace)  # noqa: S102 - the operator's own configuration file
    return {k: v for k, v in namespace.items() if k.isupper()}


@dataclass(frozen=True)
class Settings:
    """Every setting of one running site, resolved (see :func:`load_settings`).

    ``values`` maps each name of :data:`SETTINGS` to its value; ``extra`` holds the
    other upper-case names of ``mapapp.cfg`` (Flask options such as
    ``SESSION_COOKIE_SECURE``), passed to the Flask app as they are.
    """

    values: Mapping[str, object]
    instance_dir: Path
    extra: Mapping[str, object] = field(default_factory=dict)

    def __getitem__(self, name: str) -> object:
        return self.values[name]

    @property
    def store_url(self) -> str:
        """Where the store lives: DATABASE_URL, or ``mapapp.gpkg`` in the instance."""
        return str(self["DATABASE_URL"] or self.instance_dir / "mapapp.gpkg")

    @property
    def territory(self):
        """The territory profile (:class:`mapapp.territory.Territory`) TERRITORY
        names, or the shipped one."""
        from .territory import load_territory

        return load_territory(self["TERRITORY"] or None)

    @property
    def departement(self) -> str:
        """The département of the official files: DEPARTEMENT, else the
        territory's first (the one holding most of its communes)."""
        from .territory import check_departement

        text = str(self["DEPARTEMENT"] or "").strip()
        if not text:
            return self.territory.departements[0]
        return check_departement(text, "MAPAPP_DEPARTEMENT")

    @property
    def seed_dir(self) -> Path:
        """The seed data folder: DATA_DIR or the territory's folder."""
        return Path(self["DATA_DIR"] or self.territory.folder)

    @property
    def download_dir(self) -> Path:
        """Where ``mapapp fetch`` keeps the official files and their manifest."""
        return Path(self["DOWNLOAD_DIR"] or self.instance_dir / "downloads")

    @property
    def cache_dir(self) -> Path:
        """Where large prepared bodies are kept on disk (downloads, GeoJSON)."""
        return Path(self["CACHE_DIR"] or self.instance_dir / "cache")

    @property
    def study_area(self):
        """The study area (:class:`mapapp.study_area.StudyArea`): the territory's
        contour, some of its communes or a box."""
        from .study_area import parse_study_area

        return parse_study_area(str(self["STUDY_AREA"]), self.territory)


def _absolute(name: str, value: object, base: Path) -> object:
    """A relative path setting made absolute from ``base`` (URLs kept as they are)."""
    text = str(value or "")
    if name not in PATH_SETTINGS or not text or "://" in text:
        return value
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def load_settings(
    environ: Mapping[str, str] | None = None,
    instance_dir: str | Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Resolve the settings: defaults, ``<instance>/mapapp.cfg``, ``MAPAPP_*`` from
    ``environ`` (default: the process environment), then ``overrides``.

    The instance folder is ``overrides["INSTANCE_PATH"]``, else MAPAPP_INSTANCE_PATH,
    else ``instance_dir``, else :func:`default_instance_dir`. Raises ValueError naming
    a bad value.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    env = from_env(environ, only_set=True)
    chosen = overrides.get("INSTANCE_PATH") or env.get("INSTANCE_PATH") or instance_dir
    instance = Path(chosen).expanduser().resolve() if chosen else default_instance_dir()
    values = {s.name: s.default for s in SETTINGS}
    from_file = read_config_file(instance / CONFIG_FILE)
    by_name = {s.name: s for s in SETTINGS}
    for name, value in from_file.items():
        if name in by_name:
            value = _typed(by_name[name], value, f"{instance / CONFIG_FILE}")
            values[name] = _absolute(name, value, instance)
    for name, value in env.items():
        values[name] = _absolute(name, value, Path.cwd())
    extra = {k: v for k, v in from_file.items() if k not in by_name}
    for name, value in overrides.items():
        if name in by_name:
            values[name] = _typed(by_name[name], value, "overrides")
        else:
            extra[name] = value
    values["INSTANCE_PATH"] = str(instance)
    settings = Settings(values, instance, extra)
    # a bad TERRITORY, STUDY_AREA or DEPARTEMENT fails here, with its reason
    settings.study_area  # noqa: B018
    settings.departement  # noqa: B018
    return settings


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``min_lon,min_lat,max_lon,max_lat``; raise ValueError when malformed."""
    parts = [float(p) for p in str(text).split(",")]
    if len(parts) != 4:
        raise ValueError("a bbox needs four numbers: min_lon,min_lat,max_lon,max_lat")
    minx, miny, maxx, maxy = parts
    if not (minx < maxx and miny < maxy):
        raise ValueError("a bbox needs min < max on both axes")
    if not (
        -180 <= minx <= 180
        and -180 <= maxx <= 180
        and -90 <= miny <= 90
        and -90 <= maxy <= 90
    ):
        raise ValueError("bbox values must be WGS84 longitudes and latitudes")
    return minx, miny, maxx, maxy
