"""The planners' analyses as JSON (the twins of the workspace's panels): catchments,
site suitability, scenario comparison, key figures and the ecosystem over time."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from shapely.geometry import mapping

from ..analysis.suitability import CRITERIA, weights_used
from ..maps.geojson import orient, to_geojson
from ..territory import published_beside
from . import params
from .guards import login_required
from .http import site

bp = Blueprint("analysis", __name__, url_prefix="/api/analysis")


def grid_options(args) -> tuple[dict, dict, int]:
    """(filters, weights, cell size) of a suitability or scenario request."""
    default_cell = int(current_app.config["SUITABILITY_CELL_M"])
    return (
        params.analysis_filters(args),
        params.weights(args),
        params.cell(args, default_cell),
    )


@bp.get("/catchment")
@login_required()
def catchment():
    """Figures within walking distance of a place, a coworking site or a perimeter."""
    filters = params.analysis_filters(request.args)
    radius = params.radius(request.args)
    target = params.catchment_target(request.args)
    described = None
    if target:
        place, props = site().feature_geometry(*target)
        described = {"layer": target[0], "id": target[1], "name": props.get("name")}
    else:
        place = params.place(request.args, site().area)
    jobs = params.jobs_basis(request.args)
    result = site().catchment(filters, place, radius, jobs)
    result["area"] = mapping(orient(result["area"]))
    result["place"] = mapping(place) if place.geom_type == "Point" else None
    result["target"] = described
    return jsonify(result)


@bp.get("/suitability")
@login_required()
def suitability():
    """The suitability grid (GeoJSON cells) and the five best areas, explained; the
    criteria without data are named (``left_out``) with the weights really used."""
    filters, weights, cell = grid_options(request.args)
    jobs = params.jobs_basis(request.args)
    cells = site().grid(filters, weights, cell, jobs)
    out = cells[["score", "rank", "geometry"]].to_crs(4326)
    out["score"] = out["score"].round(4)
    return jsonify(
        {
            "cell_m": cell,
            "weights": weights,
            # criteria without data are left out and the others renormalised
            "left_out": cells.attrs.get("left_out", []),
            "weights_used": weights_used(weights, cells.attrs.get("left_out", [])),
            "jobs_basis": jobs,
            "criteria": list(CRITERIA),
            "top": site().best_cells(cells, 5),
            "cells": to_geojson(out.assign(id=out["rank"].astype(str))),
        }
    )


@bp.get("/scenarios")
@login_required()
def scenarios():
    """Planned coworking sites and candidate perimeters side by side."""
    filters, weights, cell = grid_options(request.args)
    radius = params.radius(request.args)
    jobs = params.jobs_basis(request.args)
    rows = site().scenarios(filters, radius, weights, cell, jobs)
    return jsonify({"radius_m": radius, "jobs_basis": jobs, "rows": rows})


@bp.get("/figures")
@login_required()
def figures():
    """Key figures of the whole area and, with ``perimeter=<id>``, of one perimeter."""
    filters = params.analysis_filters(request.args)
    jobs = params.jobs_basis(request.args)
    out = {
        "area": site().key_figures(filters, jobs=jobs),
        # figures published for the whole territory, beside the map's own counts
        "published": published_beside(site().territory.figures, params.current_lang()),
    }
    if request.args.get("perimeter"):
        out["perimeter"] = site().key_figures(filters, request.args["perimeter"], jobs)
    return jsonify(out)


@bp.get("/timeline")
@login_required()
def timeline():
    """Establishments created per year, the net change and those existing at the end
    of each year: the whole area, ``perimeter=<id>``, or within ``radius`` of a place
    (``lat``/``lon``) or a site (``layer``/``id``); unknown dates counted apart."""
    args = request.args
    target, place, radius = params.timeline_scope(args, site().area)
    area, scope = site().area_of(target, place, radius)
    result = site().ecosystem(
        params.analysis_filters(args), area, params.first_year(args)
    )
    return jsonify({"scope": scope, **result})
