"""Self-hosted front-end assets: every script and stylesheet comes from this server.

Third-party files come from pip packages (the XStatic family), never from a CDN and
never copied into the repository. Folium's CDN URLs are replaced by local ones.
"""

from __future__ import annotations

from pathlib import Path

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


def map_assets(prefix: str, cluster: bool = True) -> tuple[list, list]:
    """(js, css) lists in folium's ``(name, url)`` form, pointing at this server.

    ``prefix`` is the URL of the assets route, e.g. ``/assets``.
    """
    js = [("leaflet", f"{prefix}/leaflet/leaflet.js")]
    css = [("leaflet_css", f"{prefix}/leaflet/leaflet.css")]
    if cluster:
        js.append(("markercluster", f"{prefix}/markercluster/leaflet.markercluster.js"))
        css += [
            ("markercluster_css", f"{prefix}/markercluster/MarkerCluster.css"),
            (
                "markercluster_default_css",
                f"{prefix}/markercluster/MarkerCluster.Default.css",
            ),
        ]
    js.append(
        ("gesturehandling", f"{prefix}/gesturehandling/leaflet-gesture-handling.min.js")
    )
    css.append(
        (
            "gesturehandling_css",
            f"{prefix}/gesturehandling/leaflet-gesture-handling.min.css",
        )
    )
    js.append(("mapapp", f"{prefix}/mapapp/map.js"))
    css.append(("mapapp_css", f"{prefix}/mapapp/map.css"))
    return js, css
