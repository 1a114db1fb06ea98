"""The report model: what a report sheet holds, independent of how it is written.

A :class:`Report` is a list of :class:`Sheet` s, each holding schema tables
(:class:`Block`), loose cells with a value or a formula and its cached value
(:class:`Cell`), conditional formats and charts.  :func:`render_xlsx` writes it
as a new workbook with XlsxWriter; the Excel buttons open that file rather than
repaint the manager workbook.  Styles are names (``"money"``, ``"title"`` …).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlsales.core.schema import Lang, Table
from xlsales.report.writer import Formats, atomic, fit_text, new_workbook, print_setup, write_table

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

STYLES: dict[str, dict] = {
    "text": {"kind": "text"},
    "title": {"kind": "text", "bold": True, "font_size": 16, "font_color": "#1F4E78"},
    "subtitle": {"kind": "text", "bold": True, "font_size": 12, "font_color": "#1F4E78"},
    "note": {"kind": "text", "italic": True, "font_color": "#595959"},
    "label": {"kind": "text", "border": 1, "border_color": "#D9D9D9"},
    "header": {"kind": "text", "bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "text_wrap": True,
               "align": "center", "border": 1, "border_color": "#BFBFBF"},
    "int": {"kind": "int", "border": 1, "border_color": "#D9D9D9"},
    "money": {"kind": "money", "border": 1, "border_color": "#D9D9D9"},
    "percent": {"kind": "percent", "border": 1, "border_color": "#D9D9D9"},
    "date": {"kind": "date", "border": 1, "border_color": "#D9D9D9"},
    "good": {"bg_color": "#C6EFCE", "font_color": "#006100"},
    "warn": {"bg_color": "#FFE699", "font_color": "#7F6000"},
    "bad": {"bg_color": "#F8CBAD", "font_color": "#9C0006"},
}


@dataclass
class Cell:
    row: int
    col: int
    value: object = None  # the value, or the formula's cached result
    formula: str | None = None
    style: str = "text"


@dataclass
class Block:
    """A schema table written at ``table.first_row``/``first_col`` with ``rows``."""

    table: Table
    rows: Sequence[dict]  # a list of dicts, or a frame's columns (records.Rows)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    formulas: dict[str, list[str | None]] = field(default_factory=dict)  # a figure column's formula per row


@dataclass
class CondFormat:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    formula: str  # relative to the top-left cell, e.g. '=$A3="错误"'
    style: str


@dataclass
class Chart:
    kind: str  # "column" | "line" | "bar"
    title: str
    categories: str  # an absolute range, sheet-qualified
    series: list[tuple[str, str]]  # (name, absolute range)
    anchor: tuple[int, int]
    size: tuple[int, int] = (640, 300)


@dataclass
class Sheet:
    name: str
    blocks: list[Block] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    conds: list[CondFormat] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None
    gridlines: bool = True
    protect: bool = False  # locked against sorting and editing (no password); filtering still works

    def put(self, row: int, col: int, value: object = None, formula: str | None = None, style: str = "text") -> str:
        """Add a cell; return its absolute A1 reference on this sheet (for formulas elsewhere)."""
        from xlsales.core.issues import col_letter

        self.cells.append(Cell(row, col, value, formula, style))
        return f"${col_letter(col)}${row + 1}"


@dataclass
class Report:
    title: str
    lang: Lang
    sheets: list[Sheet] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # defined name → reference

    def sheet(self, name: str) -> Sheet:
        for s in self.sheets:
            if s.name == name:
                return s
        s = Sheet(name)
        self.sheets.append(s)
        return s


def _style(fm: Formats, name: str):
    props = dict(STYLES.get(name, STYLES["text"]))
    kind = props.pop("kind", "text")
    return fm.get(kind, **props)


def render_xlsx(report: Report, out: Path, *, release: bool = False, last: Callable[[], None] | None = None
                ) -> Path:
    """Write ``report`` as a new workbook at ``out`` (atomically).

    ``release``: empty each sheet's rows and cells in ``report`` once they are written (the workbook holds
    them now), so a large report is not held twice in memory; the caller is done with the model.
    ``last()``: called once every sheet is written, just before the workbook is closed; the cells it puts
    on the report's sheets then are written too (the ledger's status, known only when the snapshot is
    recorded while the report is written: :func:`xlsales.run.write_report`).
    """
    with atomic(out) as tmp:
        wb = new_workbook(tmp, report.title)
        fm = Formats(wb)
        written: list[tuple[Worksheet, int]] = []
        for sh in report.sheets:
            ws = wb.add_worksheet(sh.name)
            for col, w in sh.widths.items():
                ws.set_column(col, col, w)
            for b in sh.blocks:
                write_table(wb, ws, fm, b.table, report.lang, b.rows, labels=b.labels, capacity=len(b.rows),
                            formulas=b.formulas)
            _write_cells(ws, fm, sh.cells)
            for cf in sh.conds:
                ws.conditional_format(cf.first_row, cf.first_col, cf.last_row, cf.last_col, {
                    "type": "formula", "criteria": cf.formula, "format": wb.add_format(
                        {k: v for k, v in STYLES[cf.style].items() if k != "kind"})})
            for ch in sh.charts:
                chart = wb.add_chart({"type": ch.kind})
                for name, rng in ch.series:
                    chart.add_series({"name": name, "categories": ch.categories, "values": rng})
                chart.set_title({"name": ch.title})
                chart.set_size({"width": ch.size[0], "height": ch.size[1]})
                ws.insert_chart(ch.anchor[0], ch.anchor[1], chart)
            if sh.freeze:
                ws.freeze_panes(*sh.freeze)
            if not sh.gridlines:
                ws.hide_gridlines(2)
            if sh.protect:
                ws.protect("", {"autofilter": True, "sort": False, "format_columns": True, "format_rows": True,
                                "select_locked_cells": True, "select_unlocked_cells": True})
            print_setup(ws)
            if release:
                sh.blocks.clear()
                sh.cells.clear()
            written.append((ws, len(sh.cells)))
        if last is not None:
            last()
            for sh, (ws, done) in zip(report.sheets, written, strict=True):
                _write_cells(ws, fm, sh.cells[done:])
        for name, ref in report.names.items():
            wb.define_name(name, ref)
        wb.close()
    return out


def _write_cells(ws: Worksheet, fm: Formats, cells: list[Cell]) -> None:
    """A sheet's loose cells, each a formula with its cached value, a blank, a boolean, a number or a text."""
    for c in cells:
        f = _style(fm, c.style)
        if c.formula is not None:
            ws.write_formula(c.row, c.col, c.formula, f, "" if c.value is None else c.value)
        elif c.value is None:
            ws.write_blank(c.row, c.col, None, f)
        elif isinstance(c.value, bool):
            ws.write_boolean(c.row, c.col, c.value, f)
        elif isinstance(c.value, int | float):
            ws.write_number(c.row, c.col, c.value, f)
        else:
            ws.write_string(c.row, c.col, fit_text(ws, c.row, c.col, str(c.value)), f)
