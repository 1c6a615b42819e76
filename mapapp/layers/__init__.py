"""Layer registry: what each layer holds, how it is validated, styled and shown.

- :mod:`.model`: :class:`LayerSpec`, its fields, categories and value classes, and
  the registry (:func:`register`, :func:`get_spec`);
- :mod:`.builtin`: the built-in layers, registered like any other;
- :mod:`.validation`: features checked against their spec, every problem reported;
- :mod:`.seed`: the seed GeoJSON files read into validated frames.
"""

from __future__ import annotations

from . import builtin as _builtin  # noqa: F401 - registers the built-in layers
from .builtin import COVERAGE_CLASSES, PRECISIONS
from .model import (
    LICENCES,
    REGISTRY,
    SYMBOLS,
    Category,
    Field,
    LayerSpec,
    Text,
    ValueClass,
    get_spec,
    register,
    tr,
    unregister,
)
from .seed import load_layer_file, load_seed, records_from_geojson, to_frame
from .validation import validate_records

# The precision of features located at commune level only (builtin.PRECISIONS).
COMMUNE_LEVEL = "commune"


def without_commune_points(frame, layer: str):
    """The frame with no geometry for the features of a point layer located at
    commune level only: their stored point is their commune's anchor, shared by
    every such feature of the commune, not a place. Downloads and the OGC API
    give them a null geometry (``commune_code`` says where they are, ``precision``
    why); the map draws them as commune badges from the stored anchor."""
    spec = REGISTRY.get(layer)
    if spec is None or spec.geometry != "Point" or "precision" not in frame:
        return frame
    at_commune = (frame["precision"] == COMMUNE_LEVEL).to_numpy()
    if not at_commune.any():
        return frame
    out = frame.copy()
    out.loc[at_commune, out.geometry.name] = None
    return out


def coverage_class(coverage: float | None) -> int | None:
    """Index of the fibre coverage class of a share (0..1), or None when unknown."""
    return REGISTRY["fibre"].class_of(coverage)


__all__ = [
    "COMMUNE_LEVEL",
    "COVERAGE_CLASSES",
    "LICENCES",
    "PRECISIONS",
    "REGISTRY",
    "SYMBOLS",
    "Category",
    "Field",
    "LayerSpec",
    "Text",
    "ValueClass",
    "coverage_class",
    "get_spec",
    "load_layer_file",
    "load_seed",
    "records_from_geojson",
    "register",
    "to_frame",
    "tr",
    "unregister",
    "validate_records",
    "without_commune_points",
]
