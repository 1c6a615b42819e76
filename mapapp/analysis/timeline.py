"""The ecosystem over time: establishments created per year, the net change per
year and those existing at the end of each year, from the companies'
``creation_date`` (SIRENE's ``dateCreationEtablissement``, or a year a source gives).

The SIRENE extract holds the establishments *active* at its edition: one closed
before is not in the layer, so "existing at the end of year Y" counts the
establishments of today's layer created by then, and the net change equals the
creations unless the layer also carries a ``closure_date``. Establishments without
a readable date are counted apart ("date unknown"), never guessed.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import shapely

from . import Prepared

_YEAR = re.compile(r"^\s*(\d{4})(?:[-/]\d{1,2}(?:[-/]\d{1,2})?)?\s*$")
_DMY = re.compile(r"^\s*\d{1,2}/\d{1,2}/(\d{4})\s*$")
FIRST_YEAR = 1900  # a creation year before this is a typing error, counted unknown


def year_of(value: object) -> float:
    """The year of a date (``2015-03-01``, ``2015-03``, ``2015``, ``01/03/2015``),
    or NaN when it is missing or unreadable."""
    if not isinstance(value, str):
        return np.nan
    match = _YEAR.match(value) or _DMY.match(value)
    if not match:
        return np.nan
    year = int(match.group(1))
    if year < FIRST_YEAR or year > date.today().year:
        return np.nan
    return float(year)


def years_of(values) -> np.ndarray:
    """:func:`year_of` over a column (float array, NaN where unknown), read once
    per distinct value (a million dates hold a few thousand)."""
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object))
    years = np.array([year_of(v) for v in uniques] + [np.nan], dtype=float)
    return years[codes]


def companies_in(data: Prepared, area_m: shapely.Geometry | None) -> np.ndarray:
    """Positions of the (prepared) companies inside a metric area (all if None)."""
    return data.companies.within(area_m)


def timeline(
    created: np.ndarray,
    closed: np.ndarray | None = None,
    first: int | None = None,
    last: int | None = None,
) -> dict:
    """Per year from ``first`` to ``last``: created, closed, net and existing at the
    end of the year, with the count of establishments whose date is unknown.

    ``created``/``closed`` are years (NaN unknown; ``closed`` NaN means still
    open). ``first`` defaults to the earliest known year, ``last`` to this year.
    """
    known = created[~np.isnan(created)]
    last = int(last or date.today().year)
    first = int(first if first is not None else (known.min() if len(known) else last))
    first = min(first, last)
    years = np.arange(first, last + 1)
    closed = np.full(len(created), np.nan) if closed is None else closed
    made = _per_year(created, first, len(years))
    gone = _per_year(closed, first, len(years))
    # existing at the end of y: created by then and not closed by then, that is
    # created by y, less those whose later of creation and closure is by y
    alive = ~np.isnan(created)
    opened = np.sort(created[alive])
    ended = np.sort(np.fmax(created, closed)[alive & np.isfinite(closed)])

    def existing_at(y, side):
        return np.searchsorted(opened, y, side) - np.searchsorted(ended, y, side)

    existing = existing_at(years, "right").astype(int)
    before = int(existing_at(first, "left"))
    net = np.diff(np.concatenate([[before], existing]))
    return {
        "years": years.tolist(),
        "created": made.tolist(),
        "closed": gone.tolist() if np.isfinite(closed).any() else None,
        "net": net.tolist(),
        "existing": existing.tolist(),
        "existing_before": before,
        "unknown": int(np.isnan(created).sum()),
        "total": int(len(created)),
        "closures_known": bool(np.isfinite(closed).any()),
    }


def _per_year(years: np.ndarray, first: int, count: int) -> np.ndarray:
    """How many of ``years`` fall on each of ``count`` years from ``first``."""
    offset = years[np.isfinite(years)] - first
    offset = offset[(offset >= 0) & (offset < count) & (offset == np.floor(offset))]
    return np.bincount(offset.astype(int), minlength=count).astype(int)


def ecosystem(
    data: Prepared,
    area_m: shapely.Geometry | None = None,
    first: int | None = None,
    last: int | None = None,
) -> dict:
    """:func:`timeline` of the (filtered) companies of the whole area or of a
    metric area (a perimeter, a catchment). Establishments located at commune level
    only count for the whole area, never for a perimeter or a catchment."""
    hit = companies_in(data, area_m)
    created = data.creation_years[hit]
    closed = data.closure_years[hit] if data.closure_years is not None else None
    if area_m is None:
        created = np.concatenate([created, data.commune_creation_years])
        if closed is not None or data.commune_closure_years is not None:
            closed = np.concatenate(
                [
                    _or_open(closed, len(hit)),
                    _or_open(
                        data.commune_closure_years, len(data.commune_creation_years)
                    ),
                ]
            )
    return timeline(created, closed, first, last)


def _or_open(years: np.ndarray | None, n: int) -> np.ndarray:
    return np.full(n, np.nan) if years is None else years
