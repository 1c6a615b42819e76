"""Base map tiles: a named provider, an XYZ template, or none at all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TileConfig:
    """An XYZ tile source; ``url`` None means no base map (no outside request)."""

    name: str
    url: str | None
    attribution: str
    max_zoom: int = 19


PROVIDERS = {
    "osmfr": TileConfig(
        "osmfr",
        "https://{s}.tile.openstreetmap.fr/osmfr/{z}/{x}/{y}.png",
        '&copy; contributeurs <a href="https://www.openstreetmap.org/copyright">'
        "OpenStreetMap</a>, tuiles OSM France",
        20,
    ),
    "osm": TileConfig(
        "osm",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
        "contributors",
        19,
    ),
    "ign": TileConfig(
        "ign",
        "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM"
        "&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        '&copy; <a href="https://www.ign.fr/">IGN</a> – Plan IGN',
        19,
    ),
    "none": TileConfig("none", None, ""),
}


def resolve_tiles(setting: str, attribution: str = "") -> TileConfig:
    """Turn the MAPAPP_TILES setting into a TileConfig.

    A provider name picks that provider; a URL template with ``{z}``, ``{x}`` and
    ``{y}`` is used as it is (with ``attribution``); anything else raises ValueError.
    """
    key = (setting or "none").strip()
    if key.lower() in PROVIDERS:
        return PROVIDERS[key.lower()]
    if key.startswith(("https://", "http://")) and all(
        p in key for p in ("{z}", "{x}", "{y}")
    ):
        return TileConfig("custom", key, attribution or "")
    raise ValueError(
        f"MAPAPP_TILES must be one of {', '.join(PROVIDERS)} or an XYZ "
        f"URL template with {{z}}, {{x}} and {{y}}; got {setting!r}"
    )
