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


def coverage_class(coverage: float | None) -> int | None:
    """Index of the fibre coverage class of a share (0..1), or None when unknown."""
    return REGISTRY["fibre"].class_of(coverage)


__all__ = [
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
]
