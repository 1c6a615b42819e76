"""The layer model: fields, legend categories, value classes and the registry.

Every built-in layer is a :class:`LayerSpec` registered with :func:`register`, the
same path a new layer would take (see :mod:`.builtin`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import NotFound

Text = dict[str, str]  # {"fr": ..., "en": ...}


def tr(text: Text | str | None, lang: str) -> str:
    """Resolve a ``{fr, en}`` pair: the asked language, else French, else any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("fr") or next(iter(text.values()), "")


@dataclass(frozen=True)
class Field:
    """One attribute of a layer."""

    name: str
    type: str  # "str", "int", "float", "bool"
    label: Text
    required: bool = False
    choices: dict[str, Text] | None = None  # allowed values and their labels
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Category:
    """A legend entry: the value of the layer's category field, label and colour."""

    value: str
    label: Text
    color: str


@dataclass(frozen=True)
class ValueClass:
    """A class of a numeric field, ``low <= value < high`` (fibre coverage classes)."""

    low: float
    high: float
    label: str
    color: str


@dataclass(frozen=True)
class LayerSpec:
    """Everything the app knows about one layer."""

    name: str
    title: Text
    geometry: str  # "Point" or "Polygon" (Polygon accepts MultiPolygon)
    fields: tuple[Field, ...]
    popup: tuple[str, ...]
    category_field: str | None = None
    categories: tuple[Category, ...] = ()
    color: str = "#3388ff"
    public: bool = True
    publishable: bool = False  # has a `published` flag filtering the public view
    cluster: bool = False
    editable: bool = False  # planners edit it on the map (others come from imports)
    label_field: str = "name"  # the field that names a feature (popup title, search)
    # A numeric field drawn and filtered by classes instead of categories.
    class_field: str | None = None
    classes: tuple[ValueClass, ...] = ()
    # Cross-field checks of one feature's properties: (field, code, params) problems.
    check: Callable[[dict], list[tuple[str, str, dict]]] | None = None
    # The marker shape of a point layer: circle, square, triangle or diamond; each
    # point layer has its own, so colour is never the only difference (WCAG 1.4.1).
    symbol: str = "circle"
    # Text fields a search looks in besides the name (what a school teaches, what a
    # company does); statements that something is not known are left out
    # (text.affirmed).
    search_fields: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        """The names of the layer's fields, in order."""
        return [f.name for f in self.fields]

    def color_of(self, value: object) -> str:
        """Colour of a category value, falling back to the layer colour."""
        for c in self.categories:
            if c.value == value:
                return c.color
        return self.color

    def class_of(self, value: float | None) -> int | None:
        """Index of the class holding ``value`` (the last class above the top), or
        None when the value is unknown or the layer has no classes."""
        if not self.classes or value is None:
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        for i, c in enumerate(self.classes):
            if c.low <= value < c.high:
                return i
        return len(self.classes) - 1


REGISTRY: dict[str, LayerSpec] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add a layer to the registry (built-in layers use this too)."""
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> LayerSpec:
    """Return a registered layer, or raise :class:`NotFound`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise NotFound(f"unknown layer {name!r}") from None
