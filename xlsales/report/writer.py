"""Writing schema tables into new workbooks with XlsxWriter.

:func:`write_table` lays out one :class:`~xlsales.core.schema.Table` — header, Excel
table (ListObject), number formats, widths, dropdown/number/date validation with
input messages, unlocked input cells — from the schema alone.  :func:`atomic`
writes a workbook to a temporary file beside the target, flushes it to disk and
renames it into place, so a reader never sees half a file and the previous file
stays whole until the new one is complete; any failure to write raises
:class:`WriteError`.  A text longer than a cell holds is never cut silently: the
cell says it was cut and :func:`collect_cuts` lists each one.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import errno
import functools
import io
import math
import os
import queue
import re
import shutil
import socket
import string
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlsxwriter.exceptions import FileCreateError, FileSizeError, OverlappingRange
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_range
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellFormulaTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
    convert_range_args,
)

from xlsales.core.issues import col_letter, define
from xlsales.core.periods import date_to_serial
from xlsales.core.records import Rows
from xlsales.core.schema import Column, Lang, Table
from xlsales.report import scratch

define("text_cut", "warning",
       "写入「{value}」{where} 的文字有 {length} 个字符,超过单元格上限 32,767,已截断并在单元格末尾注明。"
       "完整内容见来源文件;请缩短来源中的这段文字。",
       "The text for {where} of '{value}' has {length} characters, more than a cell holds (32,767); it was cut, "
       "and the cell says so at its end. The whole text is in its source; shorten it there.")

MAX_TEXT = 32_767  # Excel's limit for one cell
TMP_TAG = "xlsales-tmp"  # in the names of atomic()'s temporary files: .<name>.xlsales-tmp-<host>-<pid>-<random>


class WriteError(Exception):
    """An output could not be written (disk full, read-only folder, file held open, size limit …).

    ``path`` is the file that was to be written; ``reason`` the system's words; ``errno`` its code.
    Whatever was at ``path`` before is untouched.
    """

    def __init__(self, path: Path, cause: BaseException) -> None:
        inner = cause.args[0] if isinstance(cause, FileCreateError) and cause.args else cause
        self.path = Path(path)
        self.errno = getattr(inner, "errno", None)
        self.reason = getattr(inner, "strerror", None) or str(inner) or type(inner).__name__
        super().__init__(f"cannot write {self.path}: {self.reason}")

    def describe(self) -> tuple[str, str]:
        """What went wrong and what to do, in zh and en."""
        where = self.path
        code = self.errno
        if code in (errno.ENOSPC, errno.EDQUOT):
            return (f"磁盘空间不足,无法写入 {where}。请清理磁盘(或换一个有空间的文件夹)后重试。",
                    f"The disk is full: {where} cannot be written. Free some space (or use another folder) and retry.")
        if code == errno.EFBIG:
            return (f"文件大小超过了系统允许的上限(ulimit -f),无法写入 {where}。请取消该限制后重试。",
                    f"The file size limit (ulimit -f) does not allow writing {where}. Lift the limit and retry.")
        blocker = next((p for p in where.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None and code in (errno.ENOTDIR, errno.EEXIST):
            return (f"无法写入 {where}:路径中的 {blocker} 不是文件夹,而是一个同名文件。请移走或改名该文件后重试。",
                    f"Cannot write {where}: {blocker} on its path is a file, not a folder. Move or rename that file, "
                    "then retry.")
        if code in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST) or (where.exists() and where.is_dir()):
            return (f"{where} 是一个文件夹(或被占用),报告无法写到这里。请移走它,或换一个文件名后重试。",
                    f"{where} is a folder (or is held), so the file cannot be written there. Move it away or "
                    "choose another name, then retry.")
        if code in (errno.EACCES, errno.EPERM, errno.EROFS, errno.EBUSY, errno.ETXTBSY):
            return (f"无法写入 {where}:文件正在别的程序(如 Excel、WPS)中打开,或文件夹只读/没有写权限"
                    f"({self.reason})。请关闭该文件,或检查文件夹权限后重试。",
                    f"Cannot write {where}: the file is open in another program (Excel, WPS …), or the folder is "
                    f"read-only ({self.reason}). Close the file or check the folder's permissions, then retry.")
        return (f"无法写入 {where}({self.reason})。请检查磁盘和文件夹后重试。",
                f"Cannot write {where} ({self.reason}). Check the disk and the folder, then retry.")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"


def _tag() -> str:
    return f"{TMP_TAG}-{_host()}-{os.getpid()}-"


_TMP = re.compile(rf"^\..*\.{TMP_TAG}-(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-")


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete temporary files that killed runs of :func:`atomic` left in ``folder``; returns them.

    Only names :func:`atomic` makes are touched, and only those left behind
    (:func:`xlsales.report.scratch.left_behind`: this computer's whose process is gone, or another computer's
    — a shared folder — older than :data:`~xlsales.report.scratch.STALE_SECONDS`).
    """
    removed: list[Path] = []
    host = _host()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        m = _TMP.match(e.name)
        if not m or not e.is_file(follow_symlinks=False):
            continue
        try:
            if scratch.left_behind(int(m["pid"]), e.stat(follow_symlinks=False).st_mtime, here=m["host"] == host):
                os.unlink(e.path)
                removed.append(Path(e.path))
        except (OSError, ValueError):
            continue
    return removed


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush ``path`` (a file, or a folder's entries) to disk; a folder that cannot be synced here is skipped."""
    if directory and os.name == "nt":
        return
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as e:
        if not directory or e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)

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
    """Yield a temporary path beside ``path``; when the body succeeds, flush it to disk and rename it over ``path``.

    The temporary file is fsynced before the rename and the folder after it, so a crash or a power cut
    leaves either the old file or the new one, whole.  Temporary files of killed runs are removed first
    (:func:`remove_leftovers`).  Any failure to write — a full disk, a read-only folder, a file held
    open, a folder in the way, ``ulimit -f`` — raises :class:`WriteError`; ``path`` is then untouched.
    """
    path = Path(path)
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        remove_leftovers(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.{_tag()}", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        _fsync(Path(tmp))
        os.replace(tmp, path)
        tmp = ""
        _fsync(path.parent, directory=True)
    except (OSError, FileCreateError, FileSizeError) as e:
        raise WriteError(path, e) from e
    finally:
        if tmp and os.path.lexists(tmp):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


_SHORT_TEXT = 16_383  # a text this long cannot exceed a cell's 32,767 UTF-16 units (XlsxWriter's own shortcut)
_ERROR_RESULTS = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))


def _escape_text(text: str) -> str:
    """The text of an XML element as XlsxWriter escapes it (``&``, ``<``, ``>``; quotes stay)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


_column_name = functools.lru_cache(maxsize=None)(col_letter)
_LEAP_DAY_AFTER = dt.date(1900, 3, 1)  # a date from here on has the serial date_to_serial gives
_MOMENTS = (dt.datetime, dt.date, dt.time, dt.timedelta)  # what XlsxWriter writes as a date or a time
_new = tuple.__new__  # XlsxWriter's cell tuples made directly: the same tuple, without a call of namedtuple's __new__


class PortableWorksheet(Worksheet):
    """A worksheet for formulas that use only functions every engine has (Excel 2016+, LibreOffice, WPS),
    and that writes its commonest cells' XML itself.

    XlsxWriter rewrites each formula through some 150 regular expressions to add the ``_xlfn.``
    prefix of functions newer than Excel 2007; xlsales never writes those (``tests`` check every
    generated formula against the portable list), so the formula is only stripped of its ``=``.

    A report has millions of cells, so its tables are kept a column at a time (:meth:`write_column`), not as
    one cell object per cell, and :meth:`_write_rows` writes a formatted number, date, shared text or formula
    in one step (:meth:`_cell_xml`, :meth:`_Run.xml`), the very XML XlsxWriter writes for it (tests compare the
    two byte by byte); every other cell is left to XlsxWriter.
    """

    fh: Any  # the file of the sheet's XML, XlsxWriter's

    def __init__(self) -> None:
        super().__init__()
        self._long_rows: list[tuple[int, int, int, int, str]] = []  # the long tables' rows XlsxWriter did not mark
        self._runs: list[_Run] = []  # columns kept by write_column until the sheet's XML is written

    @convert_range_args
    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int,
                  options: dict | None = None) -> int:
        """XlsxWriter's, without marking every cell of a long table one by one.

        XlsxWriter notes each cell of a table's range to refuse an overlapping table or merged range later (a
        report's tables hold millions of cells).  A plain table of three rows or more (header, no total row,
        no column formulas) is added by XlsxWriter with its header and first row only and then given its
        whole range; its remaining rows are kept as one rectangle, checked against later tables and merged
        ranges here.  The package is byte for byte XlsxWriter's (a test compares them)."""
        plain = (not self.constant_memory and last_row - first_row >= 2 and first_col <= last_col
                 and set(options or {}) <= {"name", "style", "autofilter", "columns"}
                 and all(set(c or {}) <= {"header", "header_format"} for c in (options or {}).get("columns", []))
                 and first_row >= 0 and first_col >= 0 and last_row < self.xls_rowmax and last_col < self.xls_colmax)
        if not plain:
            return super().add_table(first_row, first_col, last_row, last_col, options)
        whole = xl_range(first_row, first_col, last_row, last_col)
        self._refuse_overlap("Table", whole, first_row, first_col, last_row, last_col, unmarked_from=first_row + 2)
        got = super().add_table(first_row, first_col, first_row + 1, last_col, options)
        if got == 0:
            table = self.tables[-1]
            table["range"] = table["a_range"] = whole
            if "autofilter" in table:
                table["autofilter"] = whole
                for col in range(first_col, last_col + 1):
                    self.filter_cells[(first_row, col)] = ("table", whole)
            self._long_rows.append((first_row + 2, first_col, last_row, last_col, whole))
        return got

    @convert_range_args
    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, data: Any,
                    cell_format: Any = None) -> int:
        """XlsxWriter's, also refusing to overlap the rows of a long table it was not told about."""
        self._refuse_overlap("Merge", xl_range(first_row, first_col, last_row, last_col), min(first_row, last_row),
                             min(first_col, last_col), max(first_row, last_row), max(first_col, last_col))
        return super().merge_range(first_row, first_col, last_row, last_col, data, cell_format)

    def _refuse_overlap(self, what: str, cell_range: str, r0: int, c0: int, r1: int, c1: int,
                        unmarked_from: int | None = None) -> None:
        """OverlappingRange, as XlsxWriter raises it, when rows r0..r1 × columns c0..c1 meet a long table's
        rows below its header and first row; from row ``unmarked_from`` on (rows XlsxWriter will not check),
        also a merged or table cell XlsxWriter has marked."""
        for t0, u0, t1, u1, previous in self._long_rows:
            if t0 <= r1 and r0 <= t1 and u0 <= c1 and c0 <= u1:
                raise OverlappingRange(f"{what} range '{cell_range}' overlaps previous table range '{previous}'.")
        if unmarked_from is None:
            return
        for kind, marked in (("merge", self.merged_cells), ("table", self.table_cells)):
            for (r, c), previous in marked.items():
                if unmarked_from <= r <= r1 and c0 <= c <= c1:
                    raise OverlappingRange(f"{what} range '{cell_range}' overlaps previous {kind} range '{previous}'.")

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula

    def write_column(self, first_row: int, col: int, cells: list[Any], cell_format: object) -> None:
        """Write ``cells`` into column ``col`` from row ``first_row`` down, one per row, as XlsxWriter's
        ``write_*`` would one by one: None leaves the cell out, a number is a number, a text a shared string,
        a ``datetime`` a date, a pair ``(formula, cached value)`` a formula.

        The cells are kept as this list until the sheet's XML is written (:meth:`_write_rows`), which then
        writes them a block of rows at a time; a cell written later at the same place (by any ``write_*``)
        replaces it, as it would replace XlsxWriter's."""
        if (self.constant_memory or cell_format is None or first_row < 0 or first_row + len(cells) > self.xls_rowmax
                or not 0 <= col < self.xls_colmax):  # XlsxWriter decides, cell by cell
            for i, v in enumerate(cells):
                put_cell(self, first_row + i, col, v, cell_format)
            return
        values: list[Any] = [None] * len(cells)
        put, st = self._put_cell, self.str_table
        strings, count = st.string_table, 0
        for i, v in enumerate(cells):
            t = type(v)
            if t is str and len(v) <= _SHORT_TEXT:  # a shared string's index, stored as an int
                index = strings.get(v)
                if index is None:
                    index = strings[v] = st.unique_count
                    st.unique_count += 1
                values[i] = index
                count += 1
            elif t is float or t is int:
                if math.isfinite(v):
                    values[i] = float(v)
                else:
                    put(first_row + i, col, v, cell_format)
            elif v is not None:
                st.count += count
                count = 0
                got = put(first_row + i, col, v, cell_format)
                if got is not None:
                    values[i] = got
        st.count += count
        self._add_run(_Run(first_row, col, cell_format, values))

    def _put_cell(self, row: int, col: int, value: Any, cell_format: object) -> float | tuple | None:
        """A cell :meth:`write_column` keeps (a date as its serial, a formula as its prepared text and value), or
        None once XlsxWriter has written it (a long text, a number that is not finite, an array formula …)."""
        if isinstance(value, _MOMENTS):
            return float(self._convert_date_time(value))
        if type(value) is tuple and value[0] and not value[0].startswith("{"):
            return (self._prepare_formula(value[0]), value[1])
        put_cell(self, row, col, value, cell_format)
        return None

    def _add_run(self, run: _Run) -> None:
        """Keep ``run``, the sheet's size grown to hold it; cells written before at its places are replaced
        (XlsxWriter's or an earlier run's)."""
        values, col, lo = run.values, run.col, run.lo
        if lo is None:
            return
        first, last = run.first + lo, run.first + (run.hi or 0)
        self._check_dimensions(first, col)  # within bounds (write_column checked): the sheet's size grows
        self._check_dimensions(last, col)
        for row in [r for r in self.table if first <= r <= last]:
            cells = self.table[row]
            if col in cells and values[row - run.first] is not None:
                del cells[col]
        for old in self._runs:
            if old.col == col and old.first <= last and first < old.first + len(old.values):
                for row in range(max(first, old.first), min(last + 1, old.first + len(old.values))):
                    if values[row - run.first] is not None:
                        old.values[row - old.first] = None
        self._runs.append(run)

    def _to_table(self, r0: int, c0: int, r1: int, c1: int) -> None:
        """Move the runs' cells in rows r0..r1 × columns c0..c1 into XlsxWriter's table (for its charts' and
        links' look-ups)."""
        for run in self._runs:
            if c0 <= run.col <= c1:
                for row in range(max(r0, run.first), min(r1 + 1, run.first + len(run.values))):
                    i = row - run.first
                    if run.values[i] is not None:
                        self.table[row].setdefault(run.col, run.cell(i))  # a cell written later wins
                        run.values[i] = None

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int) -> Any:
        self._to_table(row_start, col_start, row_end, col_end)
        return super()._get_range_data(row_start, col_start, row_end, col_end)

    def _settled_runs(self) -> list[_Run]:
        """The runs, by column, each without the cells written after it at its places (those are in the
        table) or under a link."""
        by_col: dict[int, list[_Run]] = {}
        for run in self._runs:
            by_col.setdefault(run.col, []).append(run)
        for row, cells in list(self.table.items()):
            for col in cells:
                for run in by_col.get(col, ()):
                    if run.first <= row < run.first + len(run.values):
                        run.values[row - run.first] = None
        for row, links in self.hyperlinks.items():
            for col in links:
                self._to_table(row, col, row, col)
        return sorted((r for r in self._runs if r.lo is not None), key=lambda r: r.col)

    def _number_formats(self, runs: list[_Run]) -> None:
        """Give the sheet's new formats their index in the order XlsxWriter's row-by-row pass would (each at its
        first row's format, then its first cell), so the file is the one XlsxWriter writes."""
        todo: list[tuple[int, int, Any]] = []
        rows = range(self.dim_rowmin, self.dim_rowmax + 1)
        for run in runs:
            if run.fmt is not None and run.fmt.xf_index is None and run.lo is not None:
                todo.append((run.first + run.lo, run.col, run.fmt))
        for row, cells in self.table.items():
            if row in rows:
                todo += [(row, col, c.format) for col, c in cells.items()
                         if c.format is not None and c.format.xf_index is None]
        for row, info in self.row_info.items():
            if row in rows and info.row_format is not None and info.row_format.xf_index is None:
                todo.append((row, -1, info.row_format))
        for _, _, fmt in sorted(todo, key=lambda t: (t[0], t[1])):
            fmt._get_xf_index()

    def write_blanks(self, col: int, rows: list[int], cell_format: object) -> None:
        """Formatted empty cells in column ``col`` at ``rows`` (ascending), as :meth:`write_blank` writes them one
        by one, with the sheet's bounds checked once."""
        if not rows or cell_format is None:
            return
        if self.constant_memory or self._check_dimensions(rows[0], col) or self._check_dimensions(rows[-1], col):
            for r in rows:
                self.write_blank(r, col, None, cell_format)
            return
        table, cell = self.table, CellBlankTuple(cell_format)
        for r in rows:
            table[r][col] = cell

    def _write_formula(self, row: int, col: int, formula: str, cell_format: object = None,
                       value: object = 0) -> int:
        """XlsxWriter's, without its search of every formula for dynamic-array functions (FILTER, UNIQUE, …),
        which no portable formula has."""
        if not formula or formula.startswith("{") or self.constant_memory or self._check_dimensions(row, col):
            return super()._write_formula(row, col, formula, cell_format, value)
        self.table[row][col] = _new(CellFormulaTuple, (self._prepare_formula(formula), cell_format, value))
        return 0

    def _cell_xml(self, row: int, col: int, cell: Any) -> str | None:
        """The XML XlsxWriter writes for a formatted number, date, shared text, formula or empty cell; None for
        others."""
        kind = type(cell).__name__
        if cell.format is None or kind not in ("Number", "Datetime", "String", "Formula", "Blank"):
            return None
        head = f'<c r="{_column_name(col)}{row + 1}" s="{cell.format._get_xf_index()}"'
        if kind == "Blank":  # a formatted empty cell (a template's input cell)
            return f"{head}/>"
        if kind == "String":  # the index of a shared string
            return f'{head} t="s"><v>{cell.string}</v></c>'
        if kind != "Formula":
            return f"{head}><v>{cell.number:.16G}</v></c>"
        return _formula_xml(head, cell.formula, cell.value)

    def _write_rows(self) -> None:
        """XlsxWriter's rows, written a block of rows at a time: the kept columns' cells (:meth:`write_column`)
        a column of the block at a time and joined row by row, the table's commonest cells' XML made here, and
        each block of 16 rows' span found from the rows' own cells; the XML is XlsxWriter's, byte for byte."""
        if self.constant_memory:
            super()._write_rows()
            return
        runs = self._settled_runs()
        self._number_formats(runs)
        self.row_spans = spans = self._spans(runs)
        table, info, comments, fh = self.table, self.row_info, self.comments, self.fh
        tail = self._plain_row_tail()
        out: list[str] = []
        last = self.dim_rowmax + 1
        for a in range(self.dim_rowmin, last, ROW_BLOCK):
            b = min(a + ROW_BLOCK, last)
            live = [run for run in runs if run.first < b and a < run.first + len(run.values)]
            numbers = list(map(str, range(a + 1, b + 1))) if live else []  # the rows' numbers, as references
            parts = [run.xml(a, b, numbers, _column_name(run.col)) for run in live]
            joined = list(map("".join, zip(*parts, strict=True))) if parts else [""] * (b - a)
            for row in range(a, b):
                cells, xml = table.get(row), joined[row - a]
                if not cells and not xml:
                    if row in info or row in comments:
                        fh.write("".join(out))
                        out.clear()
                        self._write_empty_row(row, spans.get(row // 16), info.get(row))
                    continue
                span = spans.get(row // 16)
                if row in info:
                    fh.write("".join(out))
                    out.clear()
                    self._write_row(row, span, info[row])
                else:
                    out.append(f'<row r="{row + 1}" spans="{span}"{tail}>' if span else f'<row r="{row + 1}"{tail}>')
                if cells:
                    mine = [(run.col, p[row - a]) for run, p in zip(live, parts, strict=True) if p[row - a]] if xml else []
                    self._write_cells(row, cells, mine, out)
                else:
                    out.append(xml)
                out.append("</row>")
            fh.write("".join(out))
            out.clear()

    def _write_cells(self, row: int, cells: dict[int, Any], made: list[tuple[int, str]], out: list[str]) -> None:
        """A row's cells from the table, and the XML ``made`` of its kept cells, in column order, into ``out``
        (a cell XlsxWriter writes itself is written straight to the file, after ``out``)."""
        first, last = self.dim_colmin, self.dim_colmax
        items: list[tuple[int, Any]] = sorted([*cells.items(), *made], key=lambda t: t[0]) if made else \
            [(col, cells[col]) for col in sorted(cells)]
        for col, cell in items:
            if col < first or col > last:
                continue
            xml = cell if type(cell) is str else self._cell_xml(row, col, cell)
            if xml is None:
                self.fh.write("".join(out))
                out.clear()
                self._write_cell(row, col, cell)
            else:
                out.append(xml)

    def _plain_row_tail(self) -> str:
        """The attributes XlsxWriter gives a row of its own after ``r`` and ``spans`` (a sheet's default height,
        Excel 2010's descent): the same for every row without settings of its own."""
        saved: Any = self.fh
        probe = self.fh = io.StringIO()
        try:
            self._write_row(0, None)
        finally:
            self.fh = saved
        tag = probe.getvalue()
        return tag[len('<row r="1"'):-1]

    def _spans(self, runs: list[_Run]) -> dict[int, str]:
        """The ``spans`` of each block of 16 rows: first to last column (1-based) holding a cell or a comment, as
        XlsxWriter's ``_calculate_spans`` finds them by visiting every column of every row."""
        lo: dict[int, int] = {}
        hi: dict[int, int] = {}
        first, last = self.dim_colmin, self.dim_colmax

        def mark(block: int, c0: int, c1: int) -> None:
            lo[block] = min(lo.get(block, c0), c0)
            hi[block] = max(hi.get(block, c1), c1)

        for rows in (self.table, self.comments):
            for row, cells in rows.items():
                if not cells or row < self.dim_rowmin or row > self.dim_rowmax:
                    continue
                c0, c1 = min(cells), max(cells)
                if c0 < first or c1 > last:
                    inside = [c for c in cells if first <= c <= last]
                    if not inside:
                        continue
                    c0, c1 = min(inside), max(inside)
                mark(row // 16, c0, c1)
        for run in runs:
            values, top = run.values, run.first
            dense = None not in values
            for block in range(top // 16, (top + len(values) - 1) // 16 + 1):
                part = values[max(block * 16 - top, 0):block * 16 + 16 - top]
                if dense or part.count(None) < len(part):
                    mark(block, run.col, run.col)
        return {b: f"{lo[b] + 1}:{hi[b] + 1}" for b in lo}


def _formula_xml(head: str, formula: str, value: Any) -> str:
    """A formula cell's XML as XlsxWriter writes it, after its ``<c r=".." s=".."`` head, with its cached value."""
    if isinstance(value, bool):
        head, value = head + ' t="b"', int(value)
    elif isinstance(value, str):
        if value in _ERROR_RESULTS:
            head += ' t="e"'
        elif value:
            head += ' t="str"'
        value = _escape_text(value)
    return f"{head}><f>{_escape_text(formula)}</f><v>{value}</v></c>"


ROW_BLOCK = 1024  # rows whose kept cells are turned into XML at a time


class _Run:
    """A column's cells kept by :meth:`PortableWorksheet.write_column`: from row ``first`` down, one value per
    row — None (no cell), a float (a number or a date's serial), an int (a shared string's index) or a pair
    (prepared formula, cached value)."""

    __slots__ = ("first", "col", "fmt", "values")

    def __init__(self, first: int, col: int, fmt: Any, values: list[Any]) -> None:
        self.first, self.col, self.fmt, self.values = first, col, fmt, values

    @property
    def lo(self) -> int | None:
        """The index of the first cell, None when there is none."""
        return next((i for i, v in enumerate(self.values) if v is not None), None)

    @property
    def hi(self) -> int | None:
        """The index of the last cell, None when there is none."""
        values = self.values
        return next((i for i in range(len(values) - 1, -1, -1) if values[i] is not None), None)

    def cell(self, i: int) -> Any:
        """Cell ``i`` as XlsxWriter's own cell tuple."""
        v = self.values[i]
        if type(v) is int:
            return _new(CellStringTuple, (v, self.fmt))
        if type(v) is float:
            return _new(CellNumberTuple, (v, self.fmt))
        return _new(CellFormulaTuple, (v[0], self.fmt, v[1]))

    def xml(self, a: int, b: int, numbers: list[str], letter: str) -> list[str]:
        """The XML of the cells in rows ``a``..``b - 1`` (numbered ``numbers``), one string per row ("" where there
        is no cell)."""
        first, values = self.first, self.values
        lo, hi = max(a, first), min(b, first + len(values))
        head, s = f'<c r="{letter}', f'" s="{self.fmt._get_xf_index()}"'
        text, number = s + ' t="s"><v>', s + "><v>"
        made = [("" if v is None else f"{head}{r}{text}{v}</v></c>" if type(v) is int
                 else f"{head}{r}{number}{v:.16G}</v></c>" if type(v) is float
                 else _formula_xml(f"{head}{r}{s}", v[0], v[1]))
                for r, v in zip(numbers[lo - a:hi - a], values[lo - first:hi - first], strict=True)]
        return [""] * (lo - a) + made + [""] * (b - hi) if lo > a or hi < b else made


_KIND: contextvars.ContextVar[str] = contextvars.ContextVar("xlsales_kind", default="")
KIND_PROPERTY = "xlsales"  # the custom document property naming what xlsales wrote (report, targets)


@contextlib.contextmanager
def output_kind(kind: str) -> Iterator[None]:
    """Workbooks made within it carry ``kind`` in their custom property :data:`KIND_PROPERTY`, so a later run
    knows the file is one xlsales wrote (and may replace it)."""
    token = _KIND.set(kind)
    try:
        yield
    finally:
        _KIND.reset(token)


ZIP_CHUNK = 32 << 20  # bytes of a part read and compressed per call; each call lets go of Python's lock once


class _ZipAlong(Packager):
    """XlsxWriter's packager, zipping each part beside the writing as soon as the part is written.

    XlsxWriter assembles every part (one XML file per sheet) and only then zips them one by one, so compressing
    them (0.3 s of a 200-rep report, 1.6 s at realistic size) adds to the time Python spends writing the XML.
    Compression runs without Python's lock; here each large part (:data:`ZIP_AHEAD`) is compressed by one of
    :data:`ZIP_THREADS` threads as soon as it is written, while the next ones are written and compressed, and a
    last thread adds the parts to the archive in XlsxWriter's order (compressing the small ones itself).  The
    archive is XlsxWriter's byte for byte: the same parts in the same order, each entry made as ``ZipFile.write``
    makes it (the file's time set to XlsxWriter's 1980-01-31) and compressed as its compressor would, only read in
    larger chunks (:data:`ZIP_CHUNK`).

    XlsxWriter's own zipping loop is left nothing to do (:meth:`_create_package` returns no part), and a failure
    here is kept in :attr:`failed` for :meth:`_Book.close` to raise once XlsxWriter has closed its own archive.
    """

    def __init__(self, archive: io.BytesIO, zip64: bool) -> None:
        super().__init__()
        self.failed: BaseException | None = None
        self._zip = zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=zip64)
        self._todo: queue.SimpleQueue[tuple[str, str, Future[bytes] | None] | None] = queue.SimpleQueue()
        self._handed = 0  # parts listed in self.filenames already handed over
        self._thread = threading.Thread(target=self._zip_parts, name="xlsales-zip", daemon=True)
        self._deflating: ThreadPoolExecutor | None = None  # made for the first large part

    def _filename(self, xml_filename: str) -> Any:
        self._hand_over()  # a new part is started: every part listed before it is written and closed
        return super()._filename(xml_filename)

    def _hand_over(self) -> None:
        for os_filename, xml_filename, _ in self.filenames[self._handed:]:
            deflated = None  # a small part is compressed as it is added to the archive
            if os.path.getsize(os_filename) >= ZIP_AHEAD:
                if self._deflating is None:
                    self._deflating = ThreadPoolExecutor(ZIP_THREADS, thread_name_prefix="xlsales-deflate")
                deflated = self._deflating.submit(_deflate, os_filename)
            self._todo.put((os_filename, xml_filename, deflated))
        self._handed = len(self.filenames)

    def _create_package(self) -> list:
        self._thread.start()
        try:
            super()._create_package()
            self._hand_over()
        except BaseException as e:  # raised by _Book.close, after XlsxWriter has closed its own archive
            self.failed = self.failed or e
        finally:
            self._todo.put(None)
            self._thread.join()
            if self._deflating is not None:
                self._deflating.shutdown(wait=True, cancel_futures=True)
            try:
                self._zip.close()
            except BaseException as e:
                self.failed = self.failed or e
        return []

    def _write_shared_strings_file(self) -> None:
        """XlsxWriter's, through :class:`_SharedStrings`."""
        table = self.workbook.str_table
        if not table.count:
            return
        sst = _SharedStrings()
        sst.string_table = table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()

    def _zip_parts(self) -> None:
        stamp = time.mktime((1980, 1, 31, 0, 0, 0, 0, 0, -1))  # XlsxWriter's time for every part
        while (part := self._todo.get()) is not None:
            if self.failed is not None:
                continue
            os_filename, xml_filename, deflated = part
            try:
                os.utime(os_filename, (stamp, stamp))
                entry = zipfile.ZipInfo.from_file(os_filename, xml_filename)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with open(os_filename, "rb") as src, self._zip.open(entry, "w") as dest:
                    if deflated is not None and hasattr(dest, "_compressor"):  # zipfile checks the part's size
                        dest._compressor = _Deflated(deflated.result())  # and CRC; its bytes are ready
                    shutil.copyfileobj(src, dest, ZIP_CHUNK)
                os.remove(os_filename)
            except BaseException as e:
                self.failed = e


ZIP_THREADS = 2  # large parts compressed at once
ZIP_AHEAD = 1 << 20  # a part this large is compressed as soon as it is written, beside the others


def _deflate(path: str) -> bytes:
    """The file at ``path`` compressed as ``zipfile`` compresses an entry (raw deflate, zlib's default level)."""
    squeeze = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    with open(path, "rb") as f:
        out = [squeeze.compress(block) for block in iter(functools.partial(f.read, ZIP_CHUNK), b"")]
    out.append(squeeze.flush())
    return b"".join(out)


class _Deflated:
    """A zipfile entry's compressor whose output was made beforehand (by :func:`_deflate`): all of it at the flush."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def compress(self, data: bytes) -> bytes:
        return b""

    def flush(self) -> bytes:
        return self._data


# what makes XlsxWriter write a shared string other than as <si><t>text</t></si>: a control character or its
# _xHHHH_ escape, a non-character, whitespace at either end (xml:space), or what looks like a rich string's runs
_SPECIAL_STRING = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]|^\s|\s$|^<r>")


class _SharedStrings(SharedStrings):
    """XlsxWriter's shared strings part, its plain strings (nearly all) written in one pass: the same XML."""

    def _write_sst_strings(self) -> None:
        out: list[str] = []
        special = _SPECIAL_STRING.search
        for text in self.string_table.string_array:
            if special(text) is None:
                out.append(f"<si><t>{_escape_text(text)}</t></si>")
            else:
                self.fh.write("".join(out))
                out.clear()
                self._write_si(text)
        self.fh.write("".join(out))


class _Book(Workbook):
    """An XlsxWriter workbook zipped in memory and written to its file by one plain write on :meth:`close`.

    A full disk or a size limit then fails that one write with a clean ``OSError`` (which :func:`atomic`
    reports), never inside XlsxWriter's zip writer, whose half-closed archive would complain again when it
    is collected.  The parts (one XML file per sheet) are assembled in a private temporary folder, removed
    on close, rather than held in memory: a 1,000-rep report's parts would take several hundred MB.  They are
    zipped as they are written (:class:`_ZipAlong`).
    """

    def __init__(self, path: Path, options: dict) -> None:
        self._target = Path(path)
        self._buffer = io.BytesIO()  # XlsxWriter's own archive: left empty, every part goes to _archive
        self._archive = io.BytesIO()
        self._packing: _ZipAlong | None = None
        self._parts = scratch.folder("parts")
        super().__init__(self._buffer, {**options, "in_memory": False, "tmpdir": self._parts.name})

    def _get_packager(self) -> Packager:
        self._packing = _ZipAlong(self._archive, self.allow_zip64)
        return self._packing

    def close(self) -> None:
        if self.fileclosed:
            return
        try:
            super().close()
        finally:
            self._parts.cleanup()
        failed = self._packing.failed if self._packing is not None else None
        if isinstance(failed, zipfile.LargeZipFile):  # as XlsxWriter reports it
            raise FileSizeError("Filesize would require ZIP64 extensions. Use workbook.use_zip64().") from failed
        if failed is not None:
            raise failed
        data, self._archive = self._archive.getvalue(), io.BytesIO()
        with open(self._target, "wb") as f:
            f.write(data)


def new_workbook(path: Path, title: str, kind: str = "") -> Workbook:
    wb = _Book(Path(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
    wb.worksheet_class = PortableWorksheet
    wb.set_properties({"title": title, "author": "xlsales", "created": FIXED_DATE})
    if kind or _KIND.get():
        wb.set_custom_property(KIND_PROPERTY, kind or _KIND.get())
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


def validation(col: Column, lang: Lang, list_name: str | None, values: list[str] | None = None) -> dict:
    """The data-validation dict XlsxWriter takes for one column.

    ``values``: the labels of a dropdown; its input message lists exactly them.  A column with a
    ``suggest`` list (the rep's own customers) offers it but accepts other text, with a note.
    """
    title = col.header(lang)[:32]
    msg = col.help(lang)
    v: dict
    if col.suggest and list_name:
        v = {"validate": "list", "source": f"={list_name}", "error_type": "information",
             "error_title": title, "error_message": ("不在您的「客户」表中。如是新客户,请先在「客户」表登记;"
                                                     "点「确定」仍可保留" if lang == "zh" else
                                                     "Not on your Customers sheet. Enter a new customer there "
                                                     "first; click OK to keep it anyway")}
        if msg:
            v.update({"input_title": title, "input_message": msg[:250]})
        return v
    if col.kind in ("choice", "bool"):
        v = {"validate": "list", "source": f"={list_name}"}
        shown = "、".join(values or []) if lang == "zh" else ", ".join(values or [])
        pick = (f"可选:{shown}" if lang == "zh" else f"One of: {shown}") if values else \
            ("请从下拉列表选择" if lang == "zh" else "Pick a value from the list")
        msg = f"{msg}{'。' if lang == 'zh' else '. '}{pick}" if msg else pick
    elif col.kind in ("money", "number"):
        v = {"validate": "decimal", "criteria": ">=", "value": col.min if col.min is not None else -1e15}
        if col.max is not None:
            v = {"validate": "decimal", "criteria": "between", "minimum": col.min or 0, "maximum": col.max}
        if col.kind == "money":
            msg = msg or ("请输入金额(元),不能为负" if lang == "zh" else "Enter an amount in yuan, not negative")
        else:
            msg = msg or ("请输入数字" if lang == "zh" else "Enter a number")
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
                rows: Sequence[dict] | None = None, *, labels: dict[str, dict[str, str]] | None = None,
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
    r0 = table.first_row
    n = max(capacity if capacity is not None else table.rows, len(rows), 1)
    cols = table.columns
    at = _open_table(ws, fm, table, lang, n, style)
    for c in cols:
        ci = at[c.key]
        fmt = cell_format(fm, c)
        ws.set_column(ci, ci, c.width, fmt)
        if list_names is not None and c.kind != "formula" and not c.locked:
            src = list_names.get(c.suggest or "", "") or list_names.get(c.choices or "", "")
            values = list(labels.get(c.choices or "", {}).values()) if c.kind in ("choice", "bool") else None
            if c.kind == "bool" and not values:
                values = list(labels.get("yesno", {}).values())
            ws.data_validation(r0 + 1, ci, r0 + n, ci, validation(c, lang, src, values))
    fmts = {c.key: cell_format(fm, c) for c in cols}
    blanks: dict[str, list[int]] = {c.key: [] for c in cols}  # empty input cells, written a column at a time
    for i in range(n):
        r = r0 + 1 + i
        row = rows[i] if i < len(rows) else {}
        for c in cols:
            value = row.get(c.key)
            if c.kind != "formula" and (value is None or value == ""):
                blanks[c.key].append(r)
            else:
                write_cell(ws, r, at[c.key], c, value, fm, labels, at, fmts[c.key])
    for c in cols:
        put_blanks(ws, at[c.key], blanks[c.key], fmts[c.key])
    if any(len(header_text(c, lang)) * (2 if lang == "zh" else 1) > c.width * 1.1 for c in cols):
        ws.set_row(r0, 40)
    print_setup(ws)
    ws.repeat_rows(r0)
    return r0 + n


def _open_table(ws: Worksheet, fm: Formats, table: Table, lang: Lang, n: int, style: str) -> dict[str, int]:
    """The table's title and its Excel table of ``n`` rows; each column's sheet index by key."""
    r0, c0, cols = table.first_row, table.first_col, table.columns
    if table.title(lang):
        ws.write_string(r0 - 1 if r0 else r0, c0, table.title(lang), fm.title())
    ws.add_table(r0, c0, r0 + n, c0 + len(cols) - 1, {
        "name": table.name, "style": style, "autofilter": True,
        "columns": [{"header": header_text(c, lang), "header_format": fm.header(c.kind == "formula")} for c in cols],
    })
    return {c.key: c0 + i for i, c in enumerate(cols)}


def _write_report_table(ws: Worksheet, fm: Formats, table: Table, lang: Lang, rows: Sequence[dict],
                        labels: dict[str, dict[str, str]], formulas: dict[str, list[str | None]], style: str) -> int:
    """:func:`write_table` for a report: column by column, blank cells left out, figures as formulas."""
    r0 = table.first_row
    n = max(len(rows), 1)
    cols = table.columns
    at = _open_table(ws, fm, table, lang, n, style)
    for c in cols:
        ci = at[c.key]
        fmt = cell_format(fm, c)
        ws.set_column(ci, ci, c.width, fmt)
        fx = formulas.get(c.key)
        values = rows.column(c.key) if isinstance(rows, Rows) else [row.get(c.key) for row in rows]
        names = labels.get(c.choices or "") if c.kind == "choice" else None  # a choice's code → its label
        if fx is not None or c.kind == "formula":
            cells = [_report_value(ws, r0 + 1 + i, ci, c, v, fx[i] if fx else None, names, labels, at)
                     for i, v in enumerate(values)]
        elif names is not None:  # a choice's label for its code
            cells = [shown if type(v) is str and v and (shown := names.get(v, v)) and len(shown) <= MAX_TEXT
                     else None if v is None or v == "" else _report_value(ws, r0 + 1 + i, ci, c, v, None, names, labels, at)
                     for i, v in enumerate(values)]
        elif c.kind in ("date", "month") and not ws.date_1904:  # a date's serial, as write_datetime stores it
            cells = [float(date_to_serial(v)) if type(v) is dt.date and v >= _LEAP_DAY_AFTER
                     else None if v is None or v == "" else _report_value(ws, r0 + 1 + i, ci, c, v, None, names, labels, at)
                     for i, v in enumerate(values)]
        else:  # numbers and texts (most cells) as they are
            cells = [v if (t := type(v)) is float or t is int or (t is str and v and len(v) <= MAX_TEXT)
                     else None if v is None or v == "" else _report_value(ws, r0 + 1 + i, ci, c, v, None, names, labels, at)
                     for i, v in enumerate(values)]
        put_column(ws, r0 + 1, ci, cells, fmt)
    if any(len(header_text(c, lang)) * (2 if lang == "zh" else 1) > c.width * 1.1 for c in cols):
        ws.set_row(r0, 40)
    print_setup(ws)
    ws.repeat_rows(r0)
    return r0 + n


def _report_value(ws: Worksheet, r: int, c: int, col: Column, value: object, formula: str | None,
                  names: dict[str, str] | None, labels: dict[str, dict[str, str]], at: dict[str, int]) -> Any:
    """What a report table's cell (r, c) holds for ``value``: its figure's ``formula`` (with ``value`` cached),
    nothing for an empty value, a number, a text (a choice's label), a date's serial, or what :func:`write_cell`
    would write."""
    if formula is not None:
        return formula, "" if value is None else value
    plain = col.kind != "formula"
    if plain and (type(value) is float or type(value) is int):
        return value
    if plain and type(value) is str and value and (text := value if names is None else names.get(value, value)):
        return fit_text(ws, r, c, text)
    if (col.kind in ("date", "month") and not ws.date_1904 and type(value) is dt.date
            and value >= _LEAP_DAY_AFTER):
        return float(date_to_serial(value))  # the serial write_datetime stores
    if col.kind == "formula" or (value is not None and value != ""):
        return cell_content(ws, r, c, col, value, labels, at)
    return None


def put_column(ws: Worksheet, first_row: int, col: int, cells: list[Any], fmt: object) -> None:
    """Write ``cells`` into column ``col`` from ``first_row`` down (see :meth:`PortableWorksheet.write_column`)."""
    if isinstance(ws, PortableWorksheet):
        ws.write_column(first_row, col, cells, fmt)
    else:
        for i, v in enumerate(cells):
            put_cell(ws, first_row + i, col, v, fmt)


def put_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: object) -> None:
    """One cell of :func:`put_column` written by XlsxWriter: nothing for None, a pair (formula, cached value) as a
    formula, a text, a date or a number."""
    if value is None:
        return
    if type(value) is tuple:
        ws.write_formula(row, col, value[0], fmt, value[1])
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, _MOMENTS):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def put_blanks(ws: Worksheet, col: int, rows: list[int], fmt: object) -> None:
    """Formatted empty cells at ``rows`` of column ``col``, in one go on a :class:`PortableWorksheet`."""
    if isinstance(ws, PortableWorksheet):
        ws.write_blanks(col, rows, fmt)
    else:
        for r in rows:
            ws.write_blank(r, col, None, fmt)


def cell_format(fm: Formats, col: Column):
    if col.kind == "formula":
        kind = "percent" if col.key == "probability" else "money"
        return fm.get(kind, locked=True, fill=FORMULA_FILL)
    if col.locked:
        return fm.get(col.kind, locked=True, fill=FORMULA_FILL)
    return fm.get(col.kind, locked=False)


@dataclass(frozen=True)
class Cut:
    """A text that did not fit its cell: where it went and how long it was."""

    sheet: str
    cell: str
    length: int


_CUTS: contextvars.ContextVar[list[Cut] | None] = contextvars.ContextVar("xlsales_cuts", default=None)


@contextlib.contextmanager
def collect_cuts() -> Iterator[list[Cut]]:
    """Within it, every text :func:`write_cell` had to cut is listed in the yielded list (to report it)."""
    cuts: list[Cut] = []
    token = _CUTS.set(cuts)
    try:
        yield cuts
    finally:
        _CUTS.reset(token)


def fit_text(ws: Worksheet, r: int, c: int, text: str) -> str:
    """``text`` if a cell holds it; else its start and a note of the cut (listed for :func:`collect_cuts`)."""
    if len(text) <= MAX_TEXT:
        return text
    note = f" …[已截断 cut: {len(text):,} 字符 characters]"
    cuts = _CUTS.get()
    if cuts is not None:
        cuts.append(Cut(ws.name, f"{col_letter(c)}{r + 1}", len(text)))
    return text[:MAX_TEXT - len(note)] + note


def write_cell(ws: Worksheet, r: int, c: int, col: Column, value: object, fm: Formats,
               labels: dict[str, dict[str, str]], at: dict[str, int], fmt: object = None) -> None:
    """Write one cell of a schema column (``fmt``: another format than the column's, e.g. a highlight)."""
    fmt = fmt or cell_format(fm, col)
    content = cell_content(ws, r, c, col, value, labels, at)
    if content is None:
        ws.write_blank(r, c, None, fmt)
    else:
        put_cell(ws, r, c, content, fmt)


def cell_content(ws: Worksheet, r: int, c: int, col: Column, value: object, labels: dict[str, dict[str, str]],
                 at: dict[str, int]) -> Any:
    """What cell (r, c) of a schema column shows for ``value``: None (empty), a pair (formula, cached value) for a
    formula column (its placeholders the row's cells), a date, a number, or a text — a choice's label, yes/no
    for a flag, never a formula even when it starts with '=', cut when a cell cannot hold it."""
    if col.kind == "formula":
        formula = col.formula or ""
        return formula.format(**{k: f"{_column_name(at[k])}{r + 1}" for k in _placeholders(formula)}), \
            "" if value is None else value
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
    return fit_text(ws, r, c, text)


@functools.lru_cache(maxsize=256)
def _placeholders(formula: str) -> tuple[str, ...]:
    """The ``{key}`` placeholders of a column's formula."""
    return tuple(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(formula) if name))


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
