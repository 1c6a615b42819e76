"""The planner's filters: layer -> field -> allowed values, from a query string.

Query parameters are ``<layer>.<field>=v1,v2`` (e.g. ``companies.sector=software``);
for the fibre layer, ``fibre.coverage_class=0,4`` keeps zones in those ARCEP classes.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd

from ..errors import BadRequest
from ..layers import REGISTRY


def filterable() -> dict[str, tuple[str, ...]]:
    """Layer -> the fields a planner filters it on (``LayerSpec.filters``)."""
    return {name: spec.filters for name, spec in REGISTRY.items() if spec.filters}


class FilterError(BadRequest):
    """A bad filter parameter: ``code`` (``not_a_filter`` or ``unknown_values``)
    and ``params`` (``param``, and ``values`` and ``allowed`` for unknown values),
    worded in the page language by the web layer; ``message`` is English."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.code, self.params = code, params


def parse_filters(args: Mapping[str, str]) -> dict[str, dict[str, set[str]]]:
    """Filters from query arguments; BadRequest names an unknown field or value."""
    out: dict[str, dict[str, set[str]]] = {}
    for key, raw in args.items():
        if "." not in key:
            continue
        layer, field = key.split(".", 1)
        if layer not in REGISTRY:
            continue  # not about a layer (weights are "w.<criterion>")
        known = [f"{lay}.{f}" for lay, fs in filterable().items() for f in fs]
        if key not in known:
            raise FilterError(
                f"{key}: not a filter; filters are {', '.join(known)}",
                "not_a_filter",
                param=key,
                filters=", ".join(known),
            )
        values = {v for v in raw.split(",") if v != ""}
        if not values:
            continue
        allowed = _allowed(layer, field)
        if allowed is not None:
            unknown = sorted(values - allowed)
            if unknown:
                raise FilterError(
                    f"{key}: unknown value(s) {', '.join(unknown)}; "
                    f"expected some of {', '.join(sorted(allowed))}",
                    "unknown_values",
                    param=key,
                    values=", ".join(unknown),
                    allowed=", ".join(sorted(allowed)),
                )
        out.setdefault(layer, {})[field] = values
    return out


def class_filter(layer: str) -> str | None:
    """The filter on a layer's value classes (``coverage_class`` for fibre)."""
    spec = REGISTRY[layer]
    return f"{spec.class_field}_class" if spec.classes else None


def _allowed(layer: str, field: str) -> set[str] | None:
    if field == class_filter(layer):
        return {str(i) for i in range(len(REGISTRY[layer].classes))}
    choices = REGISTRY[layer].field(field).choices
    return set(choices) if choices else None  # free values (commune codes)


def apply_filters(
    name: str, frame: gpd.GeoDataFrame, filters: dict[str, dict[str, set[str]]]
) -> gpd.GeoDataFrame:
    """The rows of one layer that pass its filters."""
    for field, values in filters.get(name, {}).items():
        if field == class_filter(name):
            spec = REGISTRY[name]
            classes = frame[spec.class_field].map(spec.class_of).astype("Int64")
            classes = classes.astype(str)
            frame = frame[classes.isin(values)]
        else:
            frame = frame[frame[field].astype(str).isin(values)]
    return frame


def filter_query(filters: dict[str, dict[str, set[str]]]) -> dict[str, str]:
    """The filters back as query parameters (sorted, for stable URLs)."""
    return {
        f"{layer}.{field}": ",".join(sorted(values))
        for layer, fields in sorted(filters.items())
        for field, values in sorted(fields.items())
    }
