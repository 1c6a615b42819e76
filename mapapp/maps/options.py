"""Map view options from a query string (the public URL contract of `/` and `/embed`).

A bad value is never an error: it is ignored, its default is used, and the reason
is kept in ``ignored`` (shown to the integrator on `/share`, logged, never a 500).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .tiles import PROVIDERS

TRUE = {"1", "true", "yes", "on", "oui"}
FALSE = {"0", "false", "no", "off", "non"}


@dataclass
class MapOptions:
    """What a map page shows; every field has the default a bare URL gets (the
    centre and zoom: None, the territory's initial view)."""

    layers: tuple[str, ...] | None = None  # None: every public layer
    center: tuple[float, float] | None = None  # (lat, lon)
    zoom: int | None = None
    lang: str | None = None
    legend: bool = True
    search: bool = True
    fullscreen: bool = True
    scrollzoom: bool = False
    feature: str | None = None
    basemap: str | None = None  # a provider name, or None for the server's setting
    ignored: list[str] = field(default_factory=list)

    def key(self) -> tuple:
        """A hashable key of everything that changes the rendered page."""
        return (
            self.layers,
            self.center,
            self.zoom,
            self.legend,
            self.search,
            self.fullscreen,
            self.scrollzoom,
            self.feature,
            self.basemap,
        )

    def at(self, view) -> MapOptions:
        """These options with the centre and zoom not given taken from ``view`` (a
        :class:`mapapp.territory.View`)."""
        return replace(
            self,
            center=self.center or view.center,
            zoom=self.zoom if self.zoom is not None else view.zoom,
        )

    def values(self) -> dict[str, str]:
        """The view and control options as query values (``1``/``0`` for flags;
        an empty centre and zoom: the territory's initial view)."""
        out = {
            "center": f"{self.center[0]:.5f},{self.center[1]:.5f}"
            if self.center
            else "",
            "zoom": "" if self.zoom is None else str(self.zoom),
        }
        for name in FLAGS:
            out[name] = "1" if getattr(self, name) else "0"
        return out

    def query(self, view=None) -> dict[str, str]:
        """The options that differ from the defaults (the centre and zoom of
        ``view`` among them), as query parameters."""
        defaults = option_defaults(view)
        out: dict[str, str] = {}
        if self.layers is not None:
            out["layers"] = ",".join(self.layers)
        out.update({k: v for k, v in self.values().items() if v != defaults[k]})
        if self.lang:
            out["lang"] = self.lang
        if self.feature:
            out["feature"] = self.feature
        if self.basemap:
            out["basemap"] = self.basemap
        return out


FLAGS = ("legend", "search", "fullscreen", "scrollzoom")

# The size of the <iframe> the embed builder (/share) writes: whole pixels or a
# percentage, nothing else (the snippet is pasted into other sites as it is).
SIZE = re.compile(r"\s*(\d{1,5})\s*(px|%)?\s*")
SIZE_LIMITS = {"px": (100, 4000), "%": (10, 100)}
DEFAULT_SIZE = {"width": "100%", "height": "500"}


def parse_size(raw: str | None, default: str) -> str:
    """An iframe size for the snippet: ``640`` (pixels) or ``100%``; ``default``
    for anything else (never the raw text)."""
    match = SIZE.fullmatch(raw or "")
    if not match:
        return default
    number, unit = int(match.group(1)), match.group(2) or "px"
    low, high = SIZE_LIMITS[unit]
    if not low <= number <= high:
        return default
    return f"{number}%" if unit == "%" else str(number)


def option_defaults(view=None) -> dict[str, str]:
    """The default of each view and control option of ``/embed``, as a query value
    (the centre and zoom of ``view``, the territory's initial view): the one source
    the embed builder (share.js) and its options table read."""
    return MapOptions().at(view).values() if view else MapOptions().values()


def _flag(
    args: Mapping[str, str], name: str, default: bool, ignored: list[str]
) -> bool:
    raw = args.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    ignored.append(f"{name}: expected 1 or 0, got {raw!r}")
    return default


def _layers(args, layer_names, opts: MapOptions) -> None:
    wanted = [n.strip() for n in args["layers"].split(",") if n.strip()]
    unknown = [n for n in wanted if n not in layer_names]
    if unknown:
        opts.ignored.append(f"layers: unknown layer(s) {', '.join(unknown)}")
    known = tuple(n for n in layer_names if n in wanted)
    opts.layers = known if (known or not wanted) else None


def _center(args, area, opts: MapOptions) -> None:
    match = re.fullmatch(
        r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", args["center"]
    )
    lat, lon = (float(match.group(1)), float(match.group(2))) if match else (0, 0)
    margin = 0.5
    if match and (
        area[1] - margin <= lat <= area[3] + margin
        and area[0] - margin <= lon <= area[2] + margin
    ):
        # snapped to 5 decimals (1 m): the page cache keys on it
        opts.center = (round(lat, 5), round(lon, 5))
    else:
        opts.ignored.append(
            f"center: expected lat,lon near the study area, got {args['center']!r}"
        )


def _zoom(args, opts: MapOptions) -> None:
    try:
        zoom = int(args["zoom"])
        if not 8 <= zoom <= 19:
            raise ValueError
        opts.zoom = zoom
    except ValueError:
        opts.ignored.append(
            f"zoom: expected an integer from 8 to 19, got {args['zoom']!r}"
        )


def _choice(args, name: str, allowed, opts: MapOptions) -> str | None:
    if args[name] in allowed:
        return args[name]
    opts.ignored.append(
        f"{name}: expected one of {', '.join(allowed)}, got {args[name]!r}"
    )
    return None


def _feature(args, layer_names, opts: MapOptions) -> None:
    value = args["feature"]
    if (
        re.fullmatch(r"[a-z_]+:[\w.\-]{1,100}", value)
        and value.split(":", 1)[0] in layer_names
    ):
        opts.feature = value
    else:
        opts.ignored.append(f"feature: expected layer:id, got {value!r}")


def parse_map_options(
    args: Mapping[str, str],
    layer_names: list[str],
    area: tuple[float, float, float, float],
    scrollzoom_default: bool = False,
) -> MapOptions:
    """Read the map options from query arguments, ignoring bad values."""
    opts = MapOptions(scrollzoom=scrollzoom_default)
    if "layers" in args:
        _layers(args, layer_names, opts)
    if "center" in args:
        _center(args, area, opts)
    if "zoom" in args:
        _zoom(args, opts)
    if "lang" in args:
        opts.lang = _choice(args, "lang", ("fr", "en"), opts)
    for name in FLAGS:
        default = scrollzoom_default if name == "scrollzoom" else True
        setattr(opts, name, _flag(args, name, default, opts.ignored))
    if "feature" in args:
        _feature(args, layer_names, opts)
    if "basemap" in args:
        opts.basemap = _choice(args, "basemap", tuple(PROVIDERS), opts)
    return opts
