"""Writing schema tables into new workbooks with XlsxWriter.

:func:`write_table` lays out one :class:`~xlsales.schema.Table` — header, Excel
table (ListObject), number formats, widths, dropdown/number/date validation with
input messages, unlocked input cells — from the schema alone.  :func:`atomic`
writes a workbook to a temporary file beside the target and renames it into
place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .issues import col_letter
from .schema import Column, Lang, Table

MONEY = "¥#,##0"
NUMFMT = {
    "money": MONEY,
    "number": "#,##0.##",
    "int": "0",
    "percent": "0%",
    "date": "yyyy-mm-dd",
    "month": "yyyy-mm",
}
HEADER_FILL = "#1F4E78"
FORMULA_FILL = "#EDEDED"
INPUT_FILL = "#FFFFFF"
FIXED_DATE = dt.datetime(2026, 1, 1)  # document timestamps, so rebuilt workbooks compare equal


@contextlib.contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class PortableWorksheet(Worksheet):
    """A worksheet for formulas that use only functions every engine has (Excel 2016+, LibreOffice, WPS).

    XlsxWriter rewrites each formula through some 150 regular expressions to add the ``_xlfn.``
    prefix of functions newer than Excel 2007; xlsales never writes those (``tests`` check every
    generated formula against the portable list), so the formula is only stripped of its ``=``.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


def new_workbook(path: Path, title: str) -> Workbook:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                         "strings_to_urls": False})
    wb.worksheet_class = PortableWorksheet
    wb.set_properties({"title": title, "author": "xlsales", "created": FIXED_DATE})
    wb.set_calc_mode("auto")
    return wb


class Formats:
    """Cached XlsxWriter formats by name."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple, object] = {}

    def get(self, kind: str = "text", *, locked: bool = True, fill: str | None = None, bold: bool = False,
            **extra: object):
        key = (kind, locked, fill, bold, tuple(sorted(extra.items())))
        if key not in self._cache:
            props: dict = {"locked": locked, "font_name": "Microsoft YaHei", "font_size": 10, "valign": "vcenter"}
            if kind in NUMFMT:
                props["num_format"] = NUMFMT[kind]
            if kind == "percent":
                props["align"] = "right"
            if fill:
                props["bg_color"] = fill
            if bold:
                props["bold"] = True
            props.update(extra)
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]

    def header(self, formula: bool = False):
        return self.get("text", bold=True, fill="#5B6B7A" if formula else HEADER_FILL, font_color="#FFFFFF",
                        text_wrap=True, align="center", border=1, border_color="#BFBFBF")

    def title(self):
        return self.get("text", bold=True, font_size=13, font_color=HEADER_FILL)

    def note(self):
        return self.get("text", font_color="#595959", italic=True)


def header_text(col: Column, lang: Lang) -> str:
    return col.header(lang) + (" *" if col.required else "")


def validation(col: Column, lang: Lang, list_name: str | None) -> dict:
    """The data-validation dict XlsxWriter takes for one column."""
    title = col.header(lang)[:32]
    msg = col.help(lang)
    v: dict
    if col.kind in ("choice", "bool"):
        v = {"validate": "list", "source": f"={list_name}"}
        msg = msg or ("请从下拉列表选择" if lang == "zh" else "Pick a value from the list")
    elif col.kind in ("money", "number"):
        v = {"validate": "decimal", "criteria": ">=", "value": col.min if col.min is not None else -1e15}
        if col.max is not None:
            v = {"validate": "decimal", "criteria": "between", "minimum": col.min or 0, "maximum": col.max}
        msg = msg or ("请输入数字(元)" if lang == "zh" else "Enter a number (yuan)")
    elif col.kind == "int":
        v = {"validate": "integer", "criteria": "between", "minimum": int(col.min or 0),
             "maximum": int(col.max if col.max is not None else 10**9)}
        msg = msg or ("请输入整数" if lang == "zh" else "Enter a whole number")
    elif col.kind == "percent":
        v = {"validate": "decimal", "criteria": "between", "minimum": col.min or 0,
             "maximum": col.max if col.max is not None else 1}
        msg = msg or ("请输入百分比,如 90%" if lang == "zh" else "Enter a percentage such as 90%")
    elif col.kind in ("date", "month"):
        v = {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
             "maximum": dt.date(2100, 12, 31)}
        msg = msg or ("请输入日期,如 2026-11-30" if lang == "zh" else "Enter a date such as 2026-11-30")
    else:
        v = {"validate": "any"}
    if msg:
        v.update({"input_title": title, "input_message": msg[:250]})
    if v["validate"] != "any":
        v.update({"error_title": title, "error_type": "stop",
                  "error_message": ("输入无效:" if lang == "zh" else "Invalid entry: ") + (msg or "")[:200]})
    return v


def write_table(wb: Workbook, ws: Worksheet, fm: Formats, table: Table, lang: Lang,
                rows: list[dict] | None = None, *, labels: dict[str, dict[str, str]] | None = None,
                list_names: dict[str, str] | None = None, capacity: int | None = None,
                style: str = "Table Style Light 9", formulas: dict[str, list[str | None]] | None = None) -> int:
    """Write ``table`` with ``rows`` (dicts by column key) and return the last data row (0-based).

    ``labels`` maps a setup list to {code: label} so codes are shown in ``lang``;
    ``list_names`` maps a setup list to the defined name its dropdown uses (no
    dropdowns when absent).  Formula columns take ``Column.formula`` with
    ``{key}`` placeholders replaced by the same row's cells; a row's value for a
    formula column is written as the formula's cached result.  ``formulas`` gives a
    figure column its own formula per row (the row's value is its cached result);
    a report (``capacity`` set) leaves empty cells unwritten, a template writes them
    with the column's format so a rep types into formatted, validated cells.
    """
    if capacity is not None and list_names is None:
        return _write_report_table(ws, fm, table, lang, rows or [], labels or {}, formulas or {}, style)
    rows = rows or []
    labels = labels or {}
    r0, c0 = table.first_row, table.first_col
    n = max(capacity if capacity is not None else table.rows, len(rows), 1)
    cols = table.columns
    at = {c.key: c0 + i for i, c in enumerate(cols)}
    if table.title(lang):
        ws.write_string(r0 - 1 if r0 else r0, c0, table.title(lang), fm.title())
    ws.add_table(r0, c0, r0 + n, c0 + len(cols) - 1, {
        "name": table.name, "style": style, "autofilter": True,
        "columns": [{"header": header_text(c, lang), "header_format": fm.header(c.kind == "formula")} for c in cols],
    })
    for c in cols:
        ci = at[c.key]
        fmt = cell_format(fm, c)
        ws.set_column(ci, ci, c.width, fmt)
        if list_names is not None and c.kind != "formula" and not c.locked:
            src = list_names.get(c.choices or "", "")
            ws.data_validation(r0 + 1, ci, r0 + n, ci, validation(c, lang, src))
    for i in range(n):
        r = r0 + 1 + i
        row = rows[i] if i < len(rows) else {}
        for c in cols:
            write_cell(ws, r, at[c.key], c, row.get(c.key), fm, labels, at)
    if any(len(header_text(c, lang)) * (2 if lang == "zh" else 1) > c.width * 1.1 for c in cols):
        ws.set_row(r0, 40)
    print_setup(ws)
    ws.repeat_rows(r0)
    return r0 + n


def _write_report_table(ws: Worksheet, fm: Formats, table: Table, lang: Lang, rows: list[dict],
                        labels: dict[str, dict[str, str]], formulas: dict[str, list[str | None]], style: str) -> int:
    """:func:`write_table` for a report: column by column, blank cells left out, figures as formulas."""
    r0, c0 = table.first_row, table.first_col
    n = max(len(rows), 1)
    cols = table.columns
    at = {c.key: c0 + i for i, c in enumerate(cols)}
    if table.title(lang):
        ws.write_string(r0 - 1 if r0 else r0, c0, table.title(lang), fm.title())
    ws.add_table(r0, c0, r0 + n, c0 + len(cols) - 1, {
        "name": table.name, "style": style, "autofilter": True,
        "columns": [{"header": header_text(c, lang), "header_format": fm.header(c.kind == "formula")} for c in cols],
    })
    for c in cols:
        ci = at[c.key]
        fmt = cell_format(fm, c)
        ws.set_column(ci, ci, c.width, fmt)
        fx = formulas.get(c.key)
        for i, row in enumerate(rows):
            r = r0 + 1 + i
            value = row.get(c.key)
            if fx is not None and fx[i] is not None:
                ws.write_formula(r, ci, fx[i], fmt, "" if value is None else value)
            elif c.kind == "formula" or (value is not None and value != ""):
                write_cell(ws, r, ci, c, value, fm, labels, at)
    if any(len(header_text(c, lang)) * (2 if lang == "zh" else 1) > c.width * 1.1 for c in cols):
        ws.set_row(r0, 40)
    print_setup(ws)
    ws.repeat_rows(r0)
    return r0 + n


def cell_format(fm: Formats, col: Column):
    if col.kind == "formula":
        kind = "percent" if col.key == "probability" else "money"
        return fm.get(kind, locked=True, fill=FORMULA_FILL)
    if col.locked:
        return fm.get(col.kind, locked=True, fill=FORMULA_FILL)
    return fm.get(col.kind, locked=False)


def write_cell(ws: Worksheet, r: int, c: int, col: Column, value: object, fm: Formats,
               labels: dict[str, dict[str, str]], at: dict[str, int]) -> None:
    fmt = cell_format(fm, col)
    if col.kind == "formula":
        formula = (col.formula or "").format(**{k: f"{col_letter(v)}{r + 1}" for k, v in at.items()})
        ws.write_formula(r, c, formula, fmt, "" if value is None else value)
        return
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, bool) and col.kind == "bool":
        ws.write_string(r, c, labels.get("yesno", {}).get("yes" if value else "no", "是" if value else "否"), fmt)
    elif isinstance(value, dt.datetime | dt.date) and col.kind in ("date", "month"):
        d = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
        ws.write_datetime(r, c, d, fmt)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(r, c, value, fmt)
    else:
        text = str(value)
        if col.kind == "choice" and col.choices in labels:
            text = labels[col.choices].get(text, text)
        ws.write_string(r, c, text, fmt)  # never a formula, even when it starts with '='


def print_setup(ws: Worksheet) -> None:
    """A4 landscape, one page wide, headers repeated: what a manager prints for the Monday call."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def protect(ws: Worksheet) -> None:
    """Lock headers, formulas and identity; input cells stay editable; filter and sort still work."""
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True,
                    "select_locked_cells": True, "select_unlocked_cells": True})
