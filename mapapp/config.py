"""Settings, declared once as data: name, default, help.

The table feeds the application defaults, the README's settings table and a test
that checks every setting is documented. Each setting is read from the environment
as ``MAPAPP_<NAME>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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


# Grand Besançon Métropole, with a margin of about 2 km: lon/lat min, max.
GRAND_BESANCON_BBOX = (5.78, 47.13, 6.20, 47.37)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR",
        "",
        "Seed data folder (GeoJSON, one file per layer); "
        "empty means the shipped `geodata/`.",
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
        ",".join(str(v) for v in GRAND_BESANCON_BBOX),
        "Study area as `min_lon,min_lat,max_lon,max_lat` (WGS84); points "
        "outside are rejected. Default: Grand Besançon.",
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
        "INLINE_MAX_FEATURES",
        2000,
        "Layers up to this many features are "
        "inlined in the map page; larger ones are fetched from the API.",
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def from_env(
    environ: dict[str, str] | None = None, only_set: bool = False
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
        elif isinstance(setting.default, int):
            values[setting.name] = int(raw)
        else:
            values[setting.name] = raw
    return values


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
