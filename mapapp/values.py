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
