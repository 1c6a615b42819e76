"""Values of features as plain Python: what JSON, CSV and database drivers take."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def plain_value(value: object) -> object:
    """A plain Python scalar: numpy types to Python, NaN, NA and NaT to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def plain_column(series: pd.Series) -> list:
    """A column's values as plain Python (:func:`plain_value`), read at once."""
    values = series.tolist()
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
        return values  # numpy integers and booleans: never missing, already Python's
    return [plain_value(v) for v in values]
