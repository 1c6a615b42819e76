"""The layer model: fields, legend categories, value classes, symbols, licences and
the registry.

Every built-in layer is a :class:`LayerSpec` registered with :func:`register`, the
same path a new layer would take (see :mod:`.builtin`). A spec is everything the app
knows of its layer: the map, the list, the downloads, the OGC API, the printed map
and the imports read it, and no other table names a layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import NotFound

Text = dict[str, str]  # {"fr": ..., "en": ...}


@dataclass(frozen=True)
class Symbol:
    """A marker shape: the vertices of a polygon around (0, 0) in units of the
    marker's radius, y pointing down as on a screen (None: a circle), and the
    matplotlib marker the printed map draws it with."""

    points: tuple[tuple[float, float], ...] | None
    marker: str


# The shapes a point layer may take; each point layer has its own, so colour is
# never the only difference between two layers (WCAG 1.4.1). map.js draws the
# vertices it is given, the printed map the matplotlib marker.
SYMBOLS: dict[str, Symbol] = {
    "circle": Symbol(None, "o"),
    "square": Symbol(((-0.88, -0.88), (0.88, -0.88), (0.88, 0.88), (-0.88, 0.88)), "s"),
    "triangle": Symbol(((0, -1.3), (1.15, 0.75), (-1.15, 0.75)), "^"),
    "diamond": Symbol(((0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)), "D"),
    "triangle_down": Symbol(((0, 1.3), (-1.15, -0.75), (1.15, -0.75)), "v"),
    "pentagon": Symbol(
        ((0, -1.1), (1.05, -0.34), (0.65, 0.89), (-0.65, 0.89), (-1.05, -0.34)), "p"
    ),
    "hexagon": Symbol(
        (
            (0, -1.1),
            (0.95, -0.55),
            (0.95, 0.55),
            (0, 1.1),
            (-0.95, 0.55),
            (-0.95, -0.55),
        ),
        "h",
    ),
    "star": Symbol(
        (
            (0, -1.35),
            (0.32, -0.44),
            (1.28, -0.42),
            (0.52, 0.17),
            (0.79, 1.09),
            (0, 0.55),
            (-0.79, 1.09),
            (-0.52, 0.17),
            (-1.28, -0.42),
            (-0.32, -0.44),
        ),
        "*",
    ),
}

# The licences data may carry: a layer names one (``LayerSpec.licence``), a feature
# whose licence differs from its layer's names its own (its ``licence`` field).
LICENCES: dict[str, dict[str, str]] = {
    "lo-2.0": {
        "fr": "Licence Ouverte 2.0 (Etalab)",
        "en": "Open Licence 2.0 (Etalab)",
        "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    },
    "odbl-1.0": {
        "fr": "Open Database License (ODbL) 1.0",
        "en": "Open Database License (ODbL) 1.0",
        "url": "https://opendatacommons.org/licenses/odbl/1-0/",
    },
    "cc0-1.0": {
        "fr": "CC0 1.0 (domaine public)",
        "en": "CC0 1.0 (public domain)",
        "url": "https://creativecommons.org/publicdomain/zero/1.0/",
    },
    "cc-by-4.0": {
        "fr": "Creative Commons Attribution 4.0 (CC BY 4.0)",
        "en": "Creative Commons Attribution 4.0 (CC BY 4.0)",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    },
}


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
    # The marker shape of a point layer, one of SYMBOLS; each point layer has its
    # own, so colour is never the only difference (WCAG 1.4.1).
    symbol: str = "circle"
    # Text fields a search looks in besides the name (what a school teaches, what a
    # company does); statements that something is not known are left out
    # (text.affirmed).
    search_fields: tuple[str, ...] = ()
    # The licence of the layer's data (a key of LICENCES; a feature may carry its
    # own) and the attribution a reuser must give, shown with every download.
    licence: str = "lo-2.0"
    attribution: Text | None = None
    # The fields a planner filters the layer on (``<layer>.<field>=v1,v2``); a
    # layer with value classes is filtered on ``<class_field>_class``.
    filters: tuple[str, ...] = ()
    # Official codes that identify a feature across sources (a school's UAI): a
    # merge import updates the feature carrying the same code rather than adding
    # another one beside it (mapapp/importers/base.py, match_existing).
    match_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.symbol not in SYMBOLS:
            raise ValueError(
                f"layer {self.name!r}: symbol {self.symbol!r} is not one of "
                f"{', '.join(SYMBOLS)}"
            )
        if self.licence not in LICENCES:
            raise ValueError(
                f"layer {self.name!r}: licence {self.licence!r} is not one of "
                f"{', '.join(LICENCES)}"
            )

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
    """Add a layer to the registry (built-in layers use this too). A public point
    layer must take a symbol no other public point layer has."""
    if spec.public and spec.geometry == "Point":
        taken = {
            s.symbol: s.name
            for s in REGISTRY.values()
            if s.public and s.geometry == "Point" and s.name != spec.name
        }
        if spec.symbol in taken:
            free = [name for name in SYMBOLS if name not in taken]
            raise ValueError(
                f"layer {spec.name!r}: symbol {spec.symbol!r} is {taken[spec.symbol]!r}'s;"
                f" free symbols: {', '.join(free) or 'none'}"
            )
    REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a layer from the registry (a test's layer, once the test is over)."""
    REGISTRY.pop(name, None)


def get_spec(name: str) -> LayerSpec:
    """Return a registered layer, or raise :class:`NotFound`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise NotFound(f"unknown layer {name!r}") from None
