"""Reading schema tables out of any workbook, tolerant of what people really do.

A table is found by its headers (zh, en or an alias), not by position: on the
sheet of its name first, else on whichever sheet carries its headers (the rename
is reported).  Columns may be reordered or mixed with extra columns; blank rows,
a totals row, merged cells, hidden rows and autofilters are all handled.  Every
cell is coerced by its column kind (:mod:`xlsales.coerce`) and every problem
becomes an :class:`~xlsales.issues.Issue` naming file, sheet and cell.

Row accounting: ``rows_read`` counts every non-blank, non-totals row under the
header; each is either accepted or rejected (it has an error-level issue), so
``rows_read == accepted + rejected`` always.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import coerce, schema
from .errorcells import error_cells
from .issues import Issue, a1, col_letter, make
from .schema import Column, Table, norm

HEADER_SCAN = 40
TOTAL_WORDS = {norm(w) for w in ("合计", "小计", "总计", "共计", "总和", "total", "subtotal", "grand total", "sum")}
LOC = ["_file", "_sheet", "_row", "_ok"]


@dataclass
class Sheet:
    """A sheet's cells as a rectangular grid (0-based, from A1) plus Excel error cells."""

    name: str
    rows: list[list]
    errors: dict[tuple[int, int], str] = field(default_factory=dict)

    def cell(self, r: int, c: int) -> object:
        if (r, c) in self.errors:
            return self.errors[(r, c)]
        if r < len(self.rows) and c < len(self.rows[r]):
            return self.rows[r][c]
        return ""


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


@dataclass
class TableRead:
    table: Table
    sheet: str | None = None
    header_row: int | None = None
    letters: dict[str, str] = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    @property
    def accepted(self) -> pd.DataFrame:
        return self.frame[self.frame["_ok"]] if self.frame is not None else empty_frame(self.table)

    @property
    def rows_rejected(self) -> int:
        return 0 if self.frame is None else int((~self.frame["_ok"]).sum())


def empty_frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame(columns=[*table.keys, *LOC])


# --- opening ---------------------------------------------------------------

class BookError(Exception):
    """The workbook cannot be read at all; carries the one file-level issue."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def open_book(path: Path, display: str | None = None, sandbox: object = None) -> Book:
    """Open a workbook safely (see :mod:`xlsales.safety`); raise :class:`BookError` with one issue.

    ``sandbox``: a shared :class:`xlsales.safety.Sandbox` (one reader process for a whole inbox).
    """
    from . import safety

    display = display or path.name
    cb, issue = safety.open_book(path, sandbox=sandbox)  # type: ignore[arg-type]
    if issue is not None or cb is None:
        raise BookError(_relabel(issue, display) if issue else make("file_corrupt", display))
    errors = error_cells(path)  # calamine reports #N/A, #REF!, … as empty cells

    def load(name: str) -> Sheet:
        try:
            cs = cb.get_sheet_by_name(name)
            rows = cs.to_python(skip_empty_area=False)
            merged = list(cs.merged_cell_ranges or [])
        except Exception as e:  # noqa: BLE001 - any parser failure is one file-level issue
            raise BookError(make("file_corrupt", display, name, "", type(e).__name__)) from e
        return _fill_merged(Sheet(name, rows, errors.get(name, {})), merged)

    return Book(path, display, list(cb.sheet_names), load, _is_1904(path))


def _relabel(issue: Issue, display: str) -> Issue:
    return Issue(issue.severity, issue.rule, display, issue.sheet, issue.cell, issue.value, issue.zh, issue.en)


def _is_1904(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            head = z.read("xl/workbook.xml")[:4096]
    except (KeyError, zipfile.BadZipFile, OSError):
        return False
    return bool(re.search(rb'date1904="(1|true)"', head))


# --- finding tables -----------------------------------------------------------

def _match_header(sheet: Sheet, table: Table) -> tuple[int, dict[str, int]] | None:
    """(header row, {column key: col}) of the best header row for ``table`` in ``sheet``."""
    names = [(c.key, c.names()) for c in table.columns]
    best: tuple[int, dict[str, int]] | None = None
    for r in range(min(HEADER_SCAN, len(sheet.rows))):
        found: dict[str, int] = {}
        for ci, v in enumerate(sheet.rows[r]):
            if not isinstance(v, str) or not v.strip():
                continue
            n = norm(v)
            for key, ns in names:
                if key not in found and n in ns:
                    found[key] = ci
                    break
        if len(found) >= table.needed and (best is None or len(found) > len(best[1])):
            best = (r, found)
    return best


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


def read_table(book: Book, table: Table, ctx: Context) -> TableRead:
    """Read and validate one table of ``book``."""
    out = TableRead(table)
    where = find_table(book, table)
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
    input_keys = [c.key for c in table.columns if c.kind != "formula" and not c.locked and c.key in cols]
    records: list[dict] = []
    for r in range(hr + 1, len(grid.rows)):
        if all(coerce.is_blank(grid.cell(r, cols[k])) for k in input_keys):
            continue
        if _is_totals(grid, r, cols):
            out.issues.append(make("totals_row", book.display, sname, a1(r, min(cols.values())), "", row=r + 1))
            continue
        rec: dict = {"_file": book.display, "_sheet": sname, "_row": r + 1}
        ok = not missing
        for c in table.columns:
            if c.key not in cols:
                rec[c.key] = None
                continue
            raw = grid.cell(r, cols[c.key])
            value, issues = read_cell(raw, c, ctx, book.epoch1904)
            rec[c.key] = value
            for i in issues:
                cell = a1(r, cols[c.key])
                params = dict(i[1])
                shown = params.pop("shown", None)
                out.issues.append(make(i[0], book.display, sname, cell, _shown(raw) if shown is None else shown,
                                       column=f"{c.zh} {c.en}", **params))
                if i[0] != "coerced":
                    ok = False
        rec["_ok"] = ok
        records.append(rec)
    out.frame = pd.DataFrame(records, columns=[*table.keys, *LOC]) if records else empty_frame(table)
    return out


def _shown(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return "" if raw is None else str(raw)


def read_cell(raw: object, col: Column, ctx: Context, epoch1904: bool = False
              ) -> tuple[object, list[tuple[str, dict]]]:
    """Coerce one raw cell by its column; return (value, [(rule, params), …])."""
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
        return coerce.to_choice(raw, ctx.choices(col.choices or ""), numbers)
    text = str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    return coerce.Parsed(text)


def _is_totals(sheet: Sheet, r: int, cols: dict[str, int]) -> bool:
    first = min(cols.values())
    for c in range(0, first + 3):
        v = sheet.cell(r, c)
        if isinstance(v, str) and norm(v) in TOTAL_WORDS:
            return True
    return False


def _fill_merged(sheet: Sheet, merged: list) -> Sheet:
    """Repeat each merged range's top-left value in all its cells (a merged customer spans its rows)."""
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(sheet.rows):
            continue
        v = sheet.rows[r0][c0] if c0 < len(sheet.rows[r0]) else ""
        for r in range(r0, min(r1, len(sheet.rows) - 1) + 1):
            row = sheet.rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if (r, c) != (r0, c0) and row[c] == "":
                    row[c] = v
    return sheet


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
