"""Render a report model into the workbook open in Excel, through xlwings.

The same :class:`xlsales.model.Report` that :func:`xlsales.model.render_xlsx`
writes to a file is written here into an open :class:`xlwings.Book`: each
sheet of the model is created (or cleared, so other sheets' formulas that
point at it keep working), then filled — values, formulas, number formats,
bold/italic/colours, fills, column widths and frozen panes.  Not rendered
live: Excel tables (ListObjects; the data is a plain range with a styled
header), cell borders, data validation, conditional formats and charts.

The complete list of xlwings calls made here (``tests/xwstub.py`` implements
exactly these, nothing else)::

    book.sheets                      iterate; each sheet's .name
    book.sheets[name]
    book.sheets.add(name, after=sheet)
    book.names.add(name, refers_to)
    sheet.clear()
    sheet.range((row, col))  /  sheet.range((row1, col1), (row2, col2))
    sheet.freeze_panes.freeze_at(range)
    range.value = scalar | 2-D list  (text is written as "'text"; "=…" is a formula)
    range.number_format = str
    range.color = "#RRGGBB"
    range.column_width = float
    range.font.bold / .italic = bool;  range.font.color = "#RRGGBB";  range.font.size = float

Rows and columns passed to xlwings are 1-based; the model is 0-based.

把报告模型写入 Excel 中打开的工作簿(与文件渲染器共用同一模型)。
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..issues import col_letter
from ..model import STYLES, Block, Cell, Report, Sheet
from ..schema import Column, Lang
from ..writer import FORMULA_FILL, NUMFMT, header_text

Status = Callable[[int, int, str], None]
HEADER_FILL_FORMULA = "#5B6B7A"


def render_live(report: Report, book: Any, status: Status | None = None) -> list[str]:
    """Write every sheet of ``report`` into ``book`` (an ``xlwings.Book``); return the sheet names written.

    Sheets are created first (all of them, at the end of the book), then filled,
    so a formula never points at a sheet that does not exist yet.
    """
    existing = {s.name: s for s in book.sheets}
    targets = {}
    for sh in report.sheets:
        if sh.name in existing:
            ws = existing[sh.name]
            ws.clear()
        else:
            ws = book.sheets.add(sh.name, after=list(book.sheets)[-1])
        targets[sh.name] = ws
    for i, sh in enumerate(report.sheets, start=1):
        if status:
            status(i, len(report.sheets), sh.name)
        _sheet(targets[sh.name], sh, report.lang)
    for name, ref in report.names.items():
        book.names.add(name, ref)
    return [sh.name for sh in report.sheets]


# --- cell values ------------------------------------------------------------------

def excel_value(v: object) -> object:
    """A Python value as it must be assigned to ``Range.value``: text protected from being parsed."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, int | float):
        return v
    return "'" + str(v)  # never a formula, a number or a date: Excel keeps the rest as text


def block_grid(b: Block, lang: Lang) -> tuple[int, int, list[list[object]]]:
    """(first row, first col, grid) of a block, header included, exactly as :func:`writer.write_table` lays it out.

    Formula cells hold the formula text (``"=…"``); other cells hold the
    values ``write_cell`` would write.
    """
    t = b.table
    r0, c0 = t.first_row, t.first_col
    cols = t.columns
    at = {c.key: c0 + i for i, c in enumerate(cols)}
    n = max(len(b.rows), 1)
    grid: list[list[object]] = [[header_text(c, lang) for c in cols]]
    for i in range(n):
        r = r0 + 1 + i
        row = b.rows[i] if i < len(b.rows) else {}
        grid.append([_cell(c, row.get(c.key), r, at, b.labels) for c in cols])
    return r0, c0, grid


def _cell(col: Column, value: object, r: int, at: dict[str, int], labels: dict[str, dict[str, str]]) -> object:
    if col.kind == "formula":
        return (col.formula or "").format(**{k: f"{col_letter(v)}{r + 1}" for k, v in at.items()})
    if value is None or value == "":
        return None
    if isinstance(value, bool) and col.kind == "bool":
        return labels.get("yesno", {}).get("yes" if value else "no", "是" if value else "否")
    if isinstance(value, dt.datetime | dt.date) and col.kind in ("date", "month"):
        return value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    if col.kind == "choice" and col.choices in labels:
        text = labels[col.choices].get(text, text)
    return text


def _assignable(v: object, formula: bool) -> object:
    return v if formula else excel_value(v)


# --- formats ------------------------------------------------------------------------

def _apply(rng: Any, props: dict) -> None:
    kind = props.get("kind")
    if kind in NUMFMT:
        rng.number_format = NUMFMT[kind]
    if props.get("bg_color"):
        rng.color = props["bg_color"]
    if props.get("bold"):
        rng.font.bold = True
    if props.get("italic"):
        rng.font.italic = True
    if props.get("font_color"):
        rng.font.color = props["font_color"]
    if props.get("font_size"):
        rng.font.size = props["font_size"]


def _column_props(col: Column) -> dict:
    if col.kind == "formula":
        return {"kind": "percent" if col.key == "probability" else "money", "bg_color": FORMULA_FILL}
    if col.locked:
        return {"kind": col.kind, "bg_color": FORMULA_FILL}
    return {"kind": col.kind}


# --- one sheet ------------------------------------------------------------------------

def _sheet(ws: Any, sh: Sheet, lang: Lang) -> None:
    loose = {(c.row, c.col): c for c in sh.cells}
    for b in sh.blocks:
        _block(ws, b, lang, loose)  # takes the loose cells inside the block: one write per block
    for col, w in sh.widths.items():
        ws.range((1, col + 1)).column_width = w
    for c in loose.values():
        _loose(ws, c)
    if sh.freeze:
        ws.freeze_panes.freeze_at(ws.range((sh.freeze[0] + 1, sh.freeze[1] + 1)))


def _block(ws: Any, b: Block, lang: Lang, loose: dict[tuple[int, int], Cell] | None = None) -> None:
    """Write a table in one assignment; loose cells over its data rows (the review figures) go in with it
    and are removed from ``loose`` — their column already carries their number format."""
    t = b.table
    r0, c0, grid = block_grid(b, lang)
    formulas: set[tuple[int, int]] = set()
    if loose:
        for i in range(1, len(grid)):
            for j in range(len(t.columns)):
                c = loose.pop((r0 + i, c0 + j), None)
                if c is not None:
                    grid[i][j] = c.formula if c.formula is not None else c.value  # escaped below
                    if c.formula is not None:
                        formulas.add((i, j))
    if t.title(lang):
        ws.range((r0 if r0 else r0 + 1, c0 + 1)).value = excel_value(t.title(lang))
        _apply(ws.range((r0 if r0 else r0 + 1, c0 + 1)), {"bold": True, "font_size": 13, "font_color": "#1F4E78"})
    formula_cols = [c.kind == "formula" for c in t.columns]
    body = [[_assignable(v, False) for v in grid[0]]]
    body += [[_assignable(v, f or (i, j) in formulas) for j, (v, f) in enumerate(zip(row, formula_cols, strict=True))]
             for i, row in enumerate(grid[1:], start=1)]
    last_row, last_col = r0 + len(grid), c0 + len(t.columns)
    ws.range((r0 + 1, c0 + 1), (last_row, last_col)).value = body
    for i, c in enumerate(t.columns):
        col = c0 + 1 + i
        ws.range((1, col)).column_width = c.width
        head = dict(STYLES["header"])
        if c.kind == "formula":
            head["bg_color"] = HEADER_FILL_FORMULA
        _apply(ws.range((r0 + 1, col)), head)
        _apply(ws.range((r0 + 2, col), (last_row, col)), _column_props(c))


def _loose(ws: Any, c: Cell) -> None:
    rng = ws.range((c.row + 1, c.col + 1))
    rng.value = c.formula if c.formula is not None else excel_value(c.value)
    _apply(rng, STYLES.get(c.style, STYLES["text"]))
