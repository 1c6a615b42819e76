"""Pure map builders: GeoDataFrames and layer specs in, folium objects out."""

from .builder import add_layer, build_map, layer_config, new_map, split_rendered
from .geojson import safe_json, to_geojson
from .tiles import TileConfig, resolve_tiles

__all__ = [
    "TileConfig",
    "add_layer",
    "build_map",
    "layer_config",
    "new_map",
    "resolve_tiles",
    "safe_json",
    "split_rendered",
    "to_geojson",
]
