"""Putting figures on a sheet: a table's text columns and each figure's formula with its cached value.

Shared by every sheet builder of the report, so a figure is written the same way everywhere; and the
green/amber/red bands, whose limits are the thresholds' defined names (``xs_t_…``), never numbers.
"""

from __future__ import annotations

import dataclasses

from xlsales.core.expr import Grid
from xlsales.core.issues import col_letter
from xlsales.core.schema import Table
from xlsales.report.model import Block, CondFormat, Report, Sheet


def put_table(sh: Sheet, table: Table, text: list[dict], values: dict[str, list], formulas: dict[str, list]) -> None:
    """Write ``table`` with ``text`` rows; each figure column's cells get their formula and cached value.

    A text value already in a row (e.g. "no earlier report") stands instead of the figure.
    """
    keys = set(table.keys)
    shown = {key: col for key, col in values.items() if key in keys}
    rows = []
    for i, t in enumerate(text):
        r = dict(t)
        for key, col in shown.items():
            if key not in t:
                r[key] = col[i]
        rows.append(r)
    plain = dataclasses.replace(table, columns=tuple(dataclasses.replace(c, formula=None) for c in table.columns))
    cells = {key: [None if key in text[i] else f for i, f in enumerate(fx)] for key, fx in formulas.items()
             if key in keys}
    sh.blocks.append(Block(plain, rows, formulas=cells))


def put_grid(sh: Sheet, table: Table, grid: Grid, text: list[dict]) -> None:
    """:func:`put_table` for one computed grid."""
    n = len(text)
    values = {k: grid.column(k)[:n] for k in grid.values}
    put_table(sh, table, text, values, grid.formulas)


def place(report: Report, table: Table, grid: Grid, text: list[dict], title: str,
          freeze: tuple[int, int] = (2, 3)) -> Sheet:
    """A table on its own sheet, under a title row that states the sheet's periods."""
    sh = report.sheet(table.sheet(report.lang))
    sh.put(0, 0, title, style="subtitle")
    put_grid(sh, table, grid, text)
    sh.freeze = freeze
    return sh


def band(report: Report, table: Table, n: int, key: str, rules: list[tuple[str, str]]) -> None:
    """Green/amber/red on a column: ``rules`` are (test with ``{x}`` for the cell, style), first match wins."""
    sh = report.sheet(table.sheet(report.lang))
    col = table.first_col + table.keys.index(key)
    r0 = table.first_row + 1
    r1 = r0 + max(n, 1) - 1
    cell = f"{col_letter(col)}{r0 + 1}"
    for test, style in rules:
        sh.conds.append(CondFormat(r0, col, r1, col, f"=AND(ISNUMBER({cell}),{test.format(x=cell)})", style))


def relative(table: Table, key: str) -> str:
    """The cell of ``key`` in a table's first data row, its row relative (for a band's test)."""
    return f"${col_letter(table.first_col + table.keys.index(key))}{table.first_row + 2}"
