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
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values  # numpy integers and booleans: never missing, already Python's
    if (isinstance(dtype, np.dtype) and dtype.kind == "f") or isinstance(
        dtype, pd.StringDtype | pd.BooleanDtype | pd.Int64Dtype
    ):
        # tolist() gave Python's str, float, int or bool, or a missing value: only
        # those are replaced (a value at a time costs seconds at a million rows)
        for i in np.flatnonzero(series.isna().to_numpy()).tolist():
            values[i] = None
        return values
    return [plain_value(v) for v in values]
