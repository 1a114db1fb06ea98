"""Every number twice: one definition of a conditional sum, evaluated by pandas and written as SUMIFS.

A :class:`Sum` names a report table, the column to add up and a list of
:class:`Cond` itions.  :meth:`Sum.value` filters the Python frame;
:meth:`Sum.formula` writes the same thing as a portable ``SUMIFS``/``COUNTIFS``
over the report sheet's ranges.  The report writes the formula with the value
as its cached result, and the LibreOffice harness checks they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from .issues import col_letter
from .schema import Lang, Table


@dataclass(frozen=True)
class Cond:
    """``col op value``; ``xl`` is the Excel criteria expression (a quoted label, a cell, or ``">="&$F$5``)."""

    col: str
    op: str  # "=", ">=", "<=", "in"
    value: object
    xl: str


@dataclass
class Where:
    """A report table's location: sheet, first data row and row count, so ranges can be named."""

    table: Table
    lang: Lang
    n: int

    def rng(self, key: str) -> str:
        c = col_letter(self.table.first_col + self.table.keys.index(key))
        first = self.table.first_row + 2
        return f"'{self.table.sheet(self.lang)}'!${c}${first}:${c}${first + max(self.n, 1) - 1}"


@dataclass
class Sum:
    """Σ ``col`` of the rows of ``where`` meeting every condition (``col=None`` counts rows)."""

    where: Where
    col: str | None
    conds: list[Cond] = field(default_factory=list)

    def value(self, frame: pd.DataFrame) -> float:
        mask = np.ones(len(frame), dtype=bool)
        for c in self.conds:
            col = _column(frame, c.col)
            x = _norm(c.value)
            if c.op == "=":
                mask &= col == x
            elif c.op == ">=":
                mask &= _ordered(col) & (col >= x if isinstance(x, float) else False)
            elif c.op == "<=":
                mask &= _ordered(col) & (col <= x if isinstance(x, float) else False)
            else:
                raise ValueError(c.op)
        if self.col is None:
            return int(mask.sum())
        vals = _column(frame, self.col)
        if vals.dtype != float:
            return round(float(sum(float(v) for v, m in zip(frame[self.col], mask, strict=True) if m and _num(v))), 2)
        return round(float(np.nansum(vals[mask])), 2)

    def formula(self) -> str:
        pairs = ",".join(f"{self.where.rng(c.col)},{c.xl}" for c in self.conds)
        if not self.conds:
            first = self.where.table.keys[0]
            return f"COUNTA({self.where.rng(first)})" if self.col is None else f"SUM({self.where.rng(self.col)})"
        if self.col is None:
            return f"COUNTIFS({pairs})"
        return f"SUMIFS({self.where.rng(self.col)},{pairs})"


_COLUMNS: dict[tuple[int, str], tuple[pd.DataFrame, np.ndarray]] = {}


def _column(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A column normalised for comparison, computed once per frame: numbers and dates as floats
    (dates as ordinals, blanks NaN); otherwise case-folded text (SUMIFS compares text case-insensitively)."""
    key = (id(frame), col)
    hit = _COLUMNS.get(key)
    if hit is not None and hit[0] is frame and len(hit[1]) == len(frame):
        return hit[1]
    vals = [_norm(v) for v in frame[col].tolist()]
    if all(isinstance(v, float) for v in vals):
        arr = np.array(vals, dtype=float)
    else:
        arr = np.array([v if isinstance(v, str) else ("" if isinstance(v, float) and v != v else v) for v in vals],
                       dtype=object)
    if len(_COLUMNS) > 256:
        _COLUMNS.clear()
    _COLUMNS[key] = (frame, arr)  # the frame is kept alive with its entry, so its id cannot be reused
    return arr


def _norm(v: object) -> object:
    if v is None:
        return float("nan")
    if isinstance(v, bool):
        return v
    if isinstance(v, dt.datetime):
        return float(v.date().toordinal())
    if isinstance(v, dt.date):
        return float(v.toordinal())
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        return v.casefold()
    try:
        if pd.isna(v):
            return float("nan")
    except (TypeError, ValueError):
        pass
    return v


def _ordered(col: np.ndarray) -> np.ndarray:
    return np.ones(len(col), dtype=bool) if col.dtype == float else np.zeros(len(col), dtype=bool)


def _num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v


def cents(x: float) -> float:
    """Round to the cent as Excel's and LibreOffice's ROUND(x, 2) do.

    Both first take the binary double to 15 significant digits (31.15 × 0.7 =
    21.804999999999996 is 21.805) and then round half away from zero (21.81),
    where Python's ``round`` would give 21.8.
    """
    with localcontext() as ctx:
        ctx.prec = 400  # any finite double's cents fit (the default 28 digits raise for 1e30 and up)
        return float(Decimal(format(float(x), ".15g")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def quote(text: str) -> str:
    """An Excel string literal."""
    return '"' + text.replace('"', '""') + '"'


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None (shown blank) when either is missing or den is 0."""
    if num is None or den in (None, 0):
        return None
    return num / den  # type: ignore[operator]


def ratio_xl(num: str, den: str) -> str:
    return f'IF(OR({den}="",{den}=0,{num}=""),"",{num}/{den})'
