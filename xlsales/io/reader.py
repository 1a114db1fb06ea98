"""Reading schema tables out of any workbook, tolerant of what people really do.

A table is found by its headers (zh, en or an alias), not by position: on the
sheet of its name first, else on whichever sheet carries its headers (the rename
is reported).  Columns may be reordered or mixed with extra columns; blank rows,
a totals row, merged cells, hidden rows and autofilters are all handled.  Every
cell is coerced by its column kind (:mod:`xlsales.io.coerce`) and every problem
becomes an :class:`~xlsales.core.issues.Issue` naming file, sheet and cell.

Row accounting: ``rows_read`` counts every non-blank, non-totals row under the
header as it is read, and ``rows_rejected`` counts each row at the moment an
error-level issue rejects it; the accepted rows are the frame's ``_ok`` rows, so
``rows_read == accepted + rejected`` is a check, not a definition.

A table with more data rows than its template holds plus a margin (``safety.LIMITS``)
is refused with one issue (``table_too_long``) before any row is coerced: a merged
column or a stray cell far below cannot turn into thousands of phantom rows.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlsales.core import schema
from xlsales.core.issues import Issue, a1, col_letter, define, make
from xlsales.core.records import LOC, TableRead, empty_frame
from xlsales.core.schema import Column, Table, norm
from xlsales.io import coerce, safety

HEADER_SCAN = 40
TOTAL_WORDS = {norm(w) for w in ("合计", "小计", "总计", "共计", "总和", "total", "subtotal", "grand total", "sum")}
MAX_TEXT = 32_767  # Excel's limit for one cell: longer text was not typed in Excel, and no report could hold it
CellRead = tuple[object, list[tuple[str, dict]]]  # a cell's value and its problems: (rule, params) each
KEPT_READINGS = 50_000  # distinct values remembered per column and run (the realistic inbox: 84,000 in all)

define("table_too_long", "error",
       "「{table}」表的数据超过 {limit} 行(从 {value} 起超出上限),为安全起见已拒绝整个文件。常见原因是整列被合并了单元格,"
       "或在表格下方很远处还有内容。请取消多余的合并单元格、删除表格下方多余的行,保存后重新发送。",
       "The '{table}' table has more than {limit} data rows (past the limit from {value}); the whole file was refused "
       "for safety. Usually a whole column was merged, or something sits far below the table. Unmerge the extra "
       "cells and delete the extra rows below the table, save and resend.")
define("text_too_long", "error", "「{column}」的内容有 {value} 个字符,超过单元格上限 {limit}。请缩短后重新保存。",
       "'{column}' holds {value} characters, more than a cell can hold ({limit}). Shorten it and save again.")
define("not_a_value", "error", "「{column}」的值 {value} 不是有效的数(Excel 不会写入这种值)。请重新输入这个单元格。",
       "'{column}' holds {value}, which is not a valid number (Excel never writes this). Type the cell again.")


@dataclass
class Sheet:
    """A sheet's cells as a rectangular grid (0-based, from A1) plus Excel error cells."""

    name: str
    rows: list[list]
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    _with_errors: dict[int, list] | None = field(default=None, repr=False, compare=False)

    def cell(self, r: int, c: int) -> object:
        """One cell: its value, its Excel error text, or ``""`` when empty or past the sheet's end."""
        row = self.row(r)
        return row[c] if c < len(row) else ""

    def row(self, r: int) -> list:
        """Row ``r``'s cells, error cells in place (the text of the error); a cell past its end is ``""``."""
        if self.errors:
            if self._with_errors is None:
                self._with_errors = _with_errors(self)
            got = self._with_errors.get(r)
            if got is not None:
                return got
        return self.rows[r] if r < len(self.rows) else []


def _with_errors(sheet: Sheet) -> dict[int, list]:
    """The rows of ``sheet`` that hold error cells, each copied with its errors in place."""
    out: dict[int, list] = {}
    for (r, c), v in sheet.errors.items():
        row = out.get(r)
        if row is None:
            row = out[r] = list(sheet.rows[r]) if r < len(sheet.rows) else []
        if c >= len(row):
            row.extend([""] * (c + 1 - len(row)))
        row[c] = v
    return out


@dataclass
class Book:
    """An opened workbook: its sheets by name (read lazily) and the date system."""

    path: Path
    display: str
    sheet_names: list[str]
    loader: Callable[[str], Sheet]
    epoch1904: bool = False
    _cache: dict[str, Sheet] = field(default_factory=dict)

    def sheet(self, name: str) -> Sheet:
        if name not in self._cache:
            self._cache[name] = self.loader(name)
        return self._cache[name]


# --- opening ---------------------------------------------------------------

class BookError(Exception):
    """The workbook cannot be read at all; carries the one file-level issue."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def open_book(path: Path, display: str | None = None, sandbox: safety.Sandbox | None = None) -> Book:
    """Read a workbook once, safely (see :mod:`xlsales.io.safety`); raise :class:`BookError` with one issue.

    ``sandbox``: a shared :class:`xlsales.io.safety.Sandbox` (one reader process for a whole inbox).
    """
    path = Path(path)
    display = display or path.name
    got = safety.load(path, sandbox, display)
    if got.issue is not None or got.book is None:
        raise BookError(got.issue or make("file_corrupt", display))
    return from_workbook(got.book, path, display)


def from_workbook(wb: safety.Workbook, path: Path, display: str) -> Book:
    """A :class:`Book` over the plain data the sandbox parsed (cells, error cells, merged ranges filled)."""
    rows, errors = wb.rows, wb.errors
    return Book(Path(path), display, list(wb.sheet_names), lambda name: Sheet(name, rows[name], errors.get(name, {})),
                wb.epoch1904)


def row_limit(table: Table) -> int:
    """Most data rows ``table`` may hold: its template's capacity plus a margin, never past the absolute cap."""
    cap = int(safety.LIMITS["max_table_rows"])
    return min(cap, table.rows + int(safety.LIMITS["table_row_margin"])) if table.rows > 0 else cap


# --- finding tables -----------------------------------------------------------

def _match_header(sheet: Sheet, table: Table) -> tuple[int, dict[str, int]] | None:
    """(header row, {column key: col}) of the best header row for ``table`` in ``sheet``."""
    names = _header_names(table)
    best: tuple[int, dict[str, int]] | None = None
    for r in range(min(HEADER_SCAN, len(sheet.rows))):
        found: dict[str, int] = {}
        for ci, v in enumerate(sheet.rows[r]):
            if not isinstance(v, str) or not v.strip():
                continue
            for key in names.get(norm(v), ()):
                if key not in found:
                    found[key] = ci
                    break
        if len(found) >= table.needed and (best is None or len(found) > len(best[1])):
            best = (r, found)
    return best


@functools.lru_cache(maxsize=256)
def _header_names(table: Table) -> dict[str, tuple[str, ...]]:
    """Each header name of ``table`` (normalised) → the keys of the columns it names, in the table's order."""
    out: dict[str, tuple[str, ...]] = {}
    for c in table.columns:
        for n in c.names():
            out[n] = (*out.get(n, ()), c.key)
    return out


def find_table(book: Book, table: Table) -> tuple[str, int, dict[str, int], bool] | None:
    """(sheet, header row, columns, renamed) of ``table`` in ``book``, or None."""
    wanted = {norm(table.sheet_zh), norm(table.sheet_en), norm(table.name), norm(table.key)}
    by_name = [s for s in book.sheet_names if norm(s) in wanted]
    for s in by_name:
        m = _match_header(book.sheet(s), table)
        if m:
            return s, m[0], m[1], False
    best = None
    for s in book.sheet_names:
        if s in by_name:
            continue
        m = _match_header(book.sheet(s), table)
        if m and (best is None or len(m[1]) > len(best[2])):
            best = (s, m[0], m[1], True)
    return best


# --- reading rows -------------------------------------------------------------

@dataclass
class Context:
    """What coercion needs beyond the cell: setup lists and limits."""

    choices: Callable[[str], list[tuple[str, str, str]]]
    stage_numbers: list[tuple[float, str]] = field(default_factory=list)
    max_amount: float = 1e9
    _indexed: dict[str, coerce.Choices] = field(default_factory=dict, repr=False, compare=False)
    _read: dict[tuple[Column, bool], dict[tuple[type, object], CellRead]] = field(default_factory=dict, repr=False,
                                                                                compare=False)

    def options(self, name: str) -> coerce.Choices:
        """The list ``name``'s options, indexed once per context."""
        if name not in self._indexed:
            self._indexed[name] = coerce.Choices.of(self.choices(name))
        return self._indexed[name]

    def readings(self, col: Column, epoch1904: bool) -> dict[tuple[type, object], CellRead]:
        """What :func:`read_cell` gave for each raw value of ``col`` so far (by the value and its type), in every
        file read with this context: a rep's workbooks repeat most values (names, stages, dates, amounts; 88–95%
        of the cells of the benchmark's inboxes), and reading a cell depends on nothing else."""
        return self._read.setdefault((col, epoch1904), {})


def read_table(book: Book, table: Table, ctx: Context) -> TableRead:
    """Read and validate one table of ``book``."""
    out = TableRead(table)
    where = find_table(book, table)
    if where is None and table.optional:  # a workbook made before the table existed
        out.frame = empty_frame(table)
        return out
    if where is None:
        out.issues.append(make("sheet_missing", book.display, table.sheet_zh, "", "", table=table.title_zh or
                               table.sheet_zh, where=f"{table.sheet_zh}/{table.sheet_en}"))
        out.frame = empty_frame(table)
        return out
    sname, hr, cols, renamed = where
    sheet = book.sheet(sname)
    out.sheet, out.header_row = sname, hr
    out.letters = {k: col_letter(c) for k, c in cols.items()}
    if renamed:
        out.issues.append(make("sheet_found_by_headers", book.display, sname, "", sname,
                               table=f"{table.sheet_zh} {table.sheet_en}"))
    missing = [c for c in table.columns if c.required and c.key not in cols]
    for c in missing:
        out.issues.append(make("column_missing", book.display, sname, a1(hr, 0), "", table=table.sheet_zh,
                               column=f"{c.zh} {c.en}"))
    grid = sheet
    inputs = [cols[c.key] for c in table.columns if c.kind != "formula" and not c.locked and c.key in cols]
    first = min(cols.values(), default=0)
    data_rows: list[int] = []
    limit = row_limit(table)
    for r in range(hr + 1, len(grid.rows)):
        row = grid.row(r)
        n = len(row)
        if all(_blank(row[i] if i < n else "") for i in inputs):
            continue
        if _is_totals(row, first):
            out.issues.append(make("totals_row", book.display, sname, a1(r, first), "", row=r + 1))
            continue
        data_rows.append(r)
        if len(data_rows) > limit:
            cell = a1(r, first)
            out.refused = make("table_too_long", book.display, sname, cell, cell, table=f"{table.sheet_zh} "
                               f"{table.sheet_en}", limit=f"{limit:,}")
            out.issues, out.frame = [out.refused], empty_frame(table)
            return out
    records: list[dict] = []
    at = [(c, cols.get(c.key), ctx.readings(c, book.epoch1904)) for c in table.columns]
    for r in data_rows:
        row = grid.row(r)
        n = len(row)
        rec: dict = {"_file": book.display, "_sheet": sname, "_row": r + 1}
        ok = not missing
        for c, i, seen in at:
            if i is None:
                rec[c.key] = None
                continue
            raw = row[i] if i < n else ""
            value, issues = _read_cell(raw, c, ctx, book.epoch1904, seen)
            rec[c.key] = value
            for rule, given in issues:
                cell = a1(r, i)
                params = dict(given)
                shown = params.pop("shown", None)
                out.issues.append(make(rule, book.display, sname, cell, _shown(raw) if shown is None else shown,
                                       column=f"{c.zh} {c.en}", **params))
                if rule != "coerced":
                    ok = False
        rec["_ok"] = ok
        records.append(rec)
        out.rows_read += 1
        if not ok:
            out.rows_rejected += 1
    out.frame = pd.DataFrame(records, columns=[*table.keys, *LOC]) if records else empty_frame(table)
    return out


def _blank(v: object) -> bool:
    """Blank as a cell: empty or whitespace.  A NaN read from a file is a value (an invalid one), not a blank."""
    return coerce.is_blank(v) and not (isinstance(v, float) and math.isnan(v))


def _shown(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return "" if raw is None else str(raw)


def _read_cell(raw: object, col: Column, ctx: Context, epoch1904: bool, seen: dict[tuple[type, object], CellRead]
               ) -> CellRead:
    """:func:`read_cell`, or what it gave for the same value before (``seen``: :meth:`Context.readings`).  A zero
    float is always read (0.0 and -0.0 are equal keys), as is a value that cannot be a key; a column keeps at
    most :data:`KEPT_READINGS` values (one of free text repeats little, and memory stays bounded)."""
    try:
        key = (type(raw), raw)
        got = seen.get(key)
    except TypeError:
        return read_cell(raw, col, ctx, epoch1904)
    if got is None:
        got = read_cell(raw, col, ctx, epoch1904)
        if (type(raw) is not float or raw != 0) and len(seen) < KEPT_READINGS:
            seen[key] = got
    return got


def read_cell(raw: object, col: Column, ctx: Context, epoch1904: bool = False
              ) -> CellRead:
    """Coerce one raw cell by its column; return (value, [(rule, params), …]).  Never raises."""
    if raw is None or (type(raw) is str and not raw):  # an empty cell, the commonest
        return None, ([("required", {})] if col.required and col.kind != "formula" else [])
    if type(raw) is str and col.kind == "text" and len(raw) <= MAX_TEXT and coerce.excel_error(raw) is None:
        if coerce.is_blank(raw):  # a plain text, the next commonest: as below, without the dispatch
            return None, ([("required", {})] if col.required else [])
        return raw.strip(), []
    if type(raw) is not float or col.kind == "formula" or raw - raw != 0:  # a finite number needs none of these
        if isinstance(raw, str) and len(raw) > MAX_TEXT:
            return None, [("text_too_long", {"shown": f"{len(raw):,}", "limit": f"{MAX_TEXT:,}"})]
        if isinstance(raw, float) and not math.isfinite(raw) and col.kind != "formula":
            return None, [("not_a_value", {"shown": str(raw)})]
        err = coerce.excel_error(raw)
        if err is not None and col.kind != "formula":
            return None, [("excel_error", {})]
        if col.kind == "formula":
            return (None if err is not None or coerce.is_blank(raw) else raw), []
        if coerce.is_blank(raw):
            return None, ([("required", {})] if col.required else [])
    try:
        p = _coerce(raw, col, ctx, epoch1904)
    except coerce.CoerceError as e:
        return None, [(e.rule, e.params)]
    problems: list[tuple[str, dict]] = []
    if p.note:
        problems.append(("coerced", {"result": p.note}))
    v = p.value
    if col.kind in ("money", "number", "int", "percent") and isinstance(v, int | float):
        if col.min is not None and v < col.min:
            if col.min == 0:
                problems.append(("negative", {}))
            else:
                problems.append(("out_of_range", {"low": col.min, "high": col.max if col.max is not None else "∞"}))
        elif col.max is not None and v > col.max:
            shown = f"{v:.0%}" if col.kind == "percent" else v
            problems.append(("out_of_range", {"low": _fmt_bound(col, col.min), "high": _fmt_bound(col, col.max),
                                              "shown": shown}))
        elif col.kind == "money" and abs(v) > ctx.max_amount:
            problems.append(("absurd_amount", {"limit": f"{ctx.max_amount:,.0f}"}))
    return v, problems


def _fmt_bound(col: Column, b: float | None) -> str:
    if b is None:
        return "∞"
    return f"{b:.0%}" if col.kind == "percent" else f"{b:g}"


def _coerce(raw: object, col: Column, ctx: Context, epoch1904: bool) -> coerce.Parsed:
    k = col.kind
    if k == "money":
        return coerce.to_amount(raw)
    if k == "number":
        return coerce.to_number(raw)
    if k == "int":
        return coerce.to_int(raw)
    if k == "percent":
        return coerce.to_percent(raw)
    if k == "date":
        return coerce.to_date(raw, epoch1904)
    if k == "month":
        return coerce.to_month(raw, epoch1904)
    if k == "bool":
        return coerce.to_bool(raw)
    if k == "choice":
        numbers = ctx.stage_numbers if col.choices == schema.LIST_STAGE else None
        return coerce.to_choice(raw, ctx.options(col.choices or ""), numbers)
    text = str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    return coerce.Parsed(text)


def _is_totals(row: list, first: int) -> bool:
    """Whether a row is a totals row: a total's word (合计, Total …) in one of the table's first three columns or
    a column left of the table."""
    return any(isinstance(v, str) and norm(v) in TOTAL_WORDS for v in row[:first + 3])


# --- labelled blocks (identity, key/value) --------------------------------------

def read_fields(book: Book, fields: tuple[schema.Field, ...], sheet_hint: tuple[str, ...] = ()
                ) -> tuple[dict[str, object], dict[str, str]]:
    """Values of labelled cells (label, then the value to its right) and their A1 cells."""
    order = [s for s in book.sheet_names if norm(s) in {norm(h) for h in sheet_hint}] + \
        [s for s in book.sheet_names if norm(s) not in {norm(h) for h in sheet_hint}]
    values: dict[str, object] = {}
    cells: dict[str, str] = {}
    for s in order:
        sh = book.sheet(s)
        for r, row in enumerate(sh.rows[:60]):
            for c, v in enumerate(row[:12]):
                if not isinstance(v, str):
                    continue
                n = norm(v)
                for f in fields:
                    if f.key in values or n not in f.names():
                        continue
                    for c2 in range(c + 1, min(c + 4, len(row))):
                        if not coerce.is_blank(row[c2]):
                            values[f.key] = row[c2]
                            cells[f.key] = f"{s}!{a1(r, c2)}"
                            break
        if len(values) == len(fields):
            break
    return values, cells
