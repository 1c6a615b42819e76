"""Self-hosted front-end assets: every script and stylesheet comes from this server.

Third-party files come from pip packages (the XStatic family), never from a CDN and
never copied into the repository. Folium's CDN URLs are replaced by local ones.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import rcssmin
import rjsmin
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_gesturehandling
import xstatic.pkg.leaflet_markercluster

from .config import PACKAGE_DIR

# URL prefix -> folder on disk. "mapapp" is the project's own code.
PACKAGES: dict[str, Path] = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
    "gesturehandling": Path(xstatic.pkg.leaflet_gesturehandling.BASE_DIR),
    "mapapp": PACKAGE_DIR / "static",
}


def asset_dir(package: str) -> Path | None:
    """Folder holding a package's files, or None for an unknown package."""
    return PACKAGES.get(package)


# The files of a map page, in load order; one bundle per variant (fewer requests on a
# slow link: one script and one stylesheet instead of eight files).
MAP_JS = (("leaflet", "leaflet.js"), ("markercluster", "leaflet.markercluster.js"))
MAP_CSS = (
    ("leaflet", "leaflet.css"),
    ("markercluster", "MarkerCluster.css"),  # map.css draws the clusters themselves
)
GESTURE_JS = (("gesturehandling", "leaflet-gesture-handling.min.js"),)
GESTURE_CSS = (("gesturehandling", "leaflet-gesture-handling.min.css"),)
OWN_JS = (("mapapp", "map.js"),)
OWN_CSS = (("mapapp", "map.css"), ("mapapp", "site.css"))
_SOURCE_MAP = re.compile(r"^\s*(//|/\*)# sourceMappingURL=.*$", re.M)
_RELATIVE_URL = re.compile(
    r"url\((?!['\"]?(?:data:|#|/|https?:))['\"]?([^'\")]+)['\"]?\)"
)


def bundle_files(gestures: bool) -> dict[str, tuple[tuple[str, str], ...]]:
    """The (package, file) parts of the map bundle, per extension."""
    return {
        "js": MAP_JS + (GESTURE_JS if gestures else ()) + OWN_JS,
        "css": MAP_CSS + (GESTURE_CSS if gestures else ()) + OWN_CSS,
    }


@lru_cache(maxsize=16)
def bundle(name: str, ext: str, prefix: str) -> tuple[str, bytes]:
    """(file name with a content hash, bytes) of a map bundle (``map`` or
    ``map-gestures``); relative ``url()`` of stylesheets point into their package."""
    if name not in ("map", "map-gestures") or ext not in ("js", "css"):
        raise KeyError(name)
    parts = []
    for package, filename in bundle_files(name == "map-gestures")[ext]:
        text = (PACKAGES[package] / filename).read_text(encoding="utf-8")
        text = _SOURCE_MAP.sub("", text)
        if package == "mapapp":  # the project's own files, minified (others are)
            text = rjsmin.jsmin(text) if ext == "js" else rcssmin.cssmin(text)
        if ext == "css":
            text = _RELATIVE_URL.sub(
                lambda m, p=package: f"url({prefix}/{p}/{m.group(1)})", text
            )
        parts.append(f"/* {package}/{filename} */\n{text}\n")
    body = ("\n;\n" if ext == "js" else "\n").join(parts).encode()
    digest = hashlib.sha256(body).hexdigest()[:12]
    return f"{name}-{digest}.{ext}", body


def map_assets(prefix: str, gestures: bool = True) -> tuple[list, list]:
    """(js, css) lists in folium's ``(name, url)`` form, pointing at this server:
    one bundled script and one bundled stylesheet (``prefix`` is the URL of the
    assets route, e.g. ``/assets``)."""
    name = "map-gestures" if gestures else "map"
    js, _ = bundle(name, "js", prefix)
    css, _ = bundle(name, "css", prefix)
    return [("mapapp", f"{prefix}/bundle/{js}")], [
        ("mapapp_css", f"{prefix}/bundle/{css}")
    ]
