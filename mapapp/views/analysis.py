"""The request adapter of the planner's analyses: parameters checked and explained in
the page language, prepared layers and grids cached per data version and filters."""

from __future__ import annotations

import math
from collections import OrderedDict
from threading import Lock

from flask import current_app, request
from flask_babel import gettext as _
from shapely.geometry import Point

from ..analysis import DEFAULT_RADIUS_M, MAX_RADIUS_M, MIN_RADIUS_M, Prepared
from ..analysis.filters import FilterError, apply_filters, filter_query, parse_filters
from ..analysis.suitability import CRITERIA, DEFAULT_WEIGHTS, score_grid
from ..errors import BadRequest
from ..layers import REGISTRY
from . import get_store

ANALYSIS_LAYERS = ("companies", "schools", "coworking", "fibre", "context")
CELL_SIZES = (100, 250, 500, 1000)


class _Lru:
    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), Lock()

    def get_or_make(self, key, make):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


def _caches() -> tuple[_Lru, _Lru]:
    ext = current_app.extensions
    if "mapapp.analysis" not in ext:
        ext["mapapp.analysis"] = (_Lru(8), _Lru(16))
    return ext["mapapp.analysis"]


def request_filters() -> dict:
    """The planner's filters from the query string, errors in the page language."""
    try:
        return parse_filters(request.args)
    except FilterError as exc:
        if exc.unknown:
            raise BadRequest(
                _(
                    "Parameter %(param)s: unknown value(s) %(values)s.",
                    param=exc.param,
                    values=", ".join(exc.unknown),
                )
            ) from None
        raise BadRequest(
            _("Parameter %(param)s is not a filter.", param=exc.param)
        ) from None


def filtered_layers(filters: dict) -> dict:
    """Every layer (published or not: planners analyse all) with the filters applied."""
    store = get_store()
    return {name: apply_filters(name, store.read(name), filters) for name in REGISTRY}


def prepared(filters: dict) -> Prepared:
    """The analysis layers for these filters at the current data version (cached)."""
    key = (get_store().data_version(), tuple(sorted(filter_query(filters).items())))
    cache, _grids = _caches()

    def make():
        layers = filtered_layers(filters)
        return Prepared({n: layers[n] for n in ANALYSIS_LAYERS})

    return cache.get_or_make(key, make)


def number(
    name: str,
    default: float | None = None,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """A numeric query parameter, checked; errors name it and say why."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(_("Parameter %(param)s is required.", param=name))
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(
            _(
                "Parameter %(param)s must be a number, not %(value)s.",
                param=name,
                value=repr(raw[:40]),
            )
        ) from None
    if (
        not math.isfinite(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise BadRequest(
            _(
                "Parameter %(param)s must be between %(low)s and %(high)s.",
                param=name,
                low=low,
                high=high,
            )
        )
    return value


def place_from_request() -> Point:
    lat = number("lat", low=-90, high=90)
    lon = number("lon", low=-180, high=180)
    area = current_app.config["STUDY_AREA_BBOX"]
    if not (area[0] <= lon <= area[2] and area[1] <= lat <= area[3]):
        raise BadRequest(
            _("Parameters lat and lon: the place is outside the study area.")
        )
    return Point(lon, lat)


def radius_from_request() -> float:
    return number("radius", DEFAULT_RADIUS_M, MIN_RADIUS_M, MAX_RADIUS_M)


def weights_from_request() -> dict[str, float]:
    """Weights ``w.<criterion>=0..10``; an unknown criterion is an error."""
    weights = dict(DEFAULT_WEIGHTS)
    for key in request.args:
        if key.startswith("w."):
            name = key[2:]
            if name not in CRITERIA:
                raise BadRequest(
                    _(
                        "Parameter %(param)s: unknown criterion; criteria are "
                        "%(names)s.",
                        param=key,
                        names=", ".join(f"w.{c}" for c in CRITERIA),
                    )
                )
            weights[name] = number(key, low=0, high=10)
    if sum(weights.values()) <= 0:
        raise BadRequest(_("Parameters w.*: at least one weight must be above zero."))
    return weights


def cell_from_request() -> int:
    cell = int(
        number(
            "cell", current_app.config.get("SUITABILITY_CELL_M", 250), low=50, high=2000
        )
    )
    return cell


def grid_for(filters: dict, weights: dict, cell_m: int):
    """The scored grid (cached per data version, filters, weights and cell size)."""
    data = prepared(filters)
    key = (
        get_store().data_version(),
        tuple(sorted(filter_query(filters).items())),
        tuple(sorted(weights.items())),
        cell_m,
    )
    _prep, grids = _caches()
    return grids.get_or_make(key, lambda: score_grid(data, weights, cell_m))
