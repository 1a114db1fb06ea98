"""Money to the cent, the one way: as Excel's and LibreOffice's ``ROUND(x, 2)`` do.

Both first read the binary double at 15 significant digits (31.15 × 0.7 = 21.804999999999996
reads 21.805) and then round half away from zero (21.81), where Python's ``round`` gives 21.8.
Every amount xlsales rounds — a rep's weighted amount, a report's cached value, a total — goes
through :func:`cents` (or :func:`round_half_up` for other digit counts), so the rep's own column,
the report's formulas and the Python figures agree to the cent.

Pure: numpy and math only.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np


@overload
def round_half_up(x: float, digits: int = 2) -> float: ...


@overload
def round_half_up(x: np.ndarray, digits: int = 2) -> np.ndarray: ...


def round_half_up(x: Any, digits: int = 2) -> Any:
    """Excel's ROUND, for a number or a whole array.

    A value within half a unit of the 15th significant digit of the half-way point *is* the half-way
    point, so it rounds away from zero.

    >>> round_half_up(31.15 * 0.7), round_half_up(-2.675), round_half_up(2.5, 0)
    (21.81, -2.68, 3.0)
    """
    if isinstance(x, float | int) and not isinstance(x, bool):
        return _round_one(float(x), digits)
    arr = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        y = np.abs(arr) * 10.0 ** digits
        k = np.floor(y)
        frac = y - k
        unit = 10.0 ** (np.floor(np.log10(np.where(y == 0, 1.0, y))) - 14)
        up = (np.abs(frac - 0.5) < unit / 2) | (frac > 0.5)
        out = np.sign(arr) * (k + up) / 10.0 ** digits
    out = np.where(np.isfinite(arr) & np.isfinite(y), out, arr)  # a number too large to scale has no digits to round
    return float(out) if np.ndim(x) == 0 else out


def _round_one(x: float, digits: int) -> float:
    """:func:`round_half_up` of one number, the same arithmetic in plain floats (a tenth of numpy's cost)."""
    scale = 10.0 ** digits
    y = abs(x) * scale
    if not math.isfinite(y):  # infinite or NaN, or too large to scale: no digits to round
        return x
    k = math.floor(y)
    frac = y - k
    unit = 10.0 ** (math.floor(math.log10(y if y != 0 else 1.0)) - 14)
    up = abs(frac - 0.5) < unit / 2 or frac > 0.5
    out = (k + up) / scale
    return -out if x < 0 else (out if x > 0 else 0.0)


def cents(x: float) -> float:
    """An amount rounded to the cent as ``ROUND(x, 2)`` does.

    >>> cents(31.15 * 0.7), cents(1.005), cents(-0.125)
    (21.81, 1.01, -0.13)
    """
    return float(round_half_up(float(x), 2))
