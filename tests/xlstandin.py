"""A stand-in for desktop Excel behind xlwings' own API, for testing the buttons on Linux.

Excel cannot run here, so the tests drive the real ``xlwings`` package
(``xlwings.main``: ``Book``, ``Sheet``, ``Range``, its value conversion and
range resizing) against an *engine* of our own: subclasses of
``xlwings.base_classes`` that keep the workbook in memory.  The engine is never
kinder than Excel:

* it offers only members that **both** desktop engines of the pinned xlwings
  (``_xlwindows`` and ``_xlmac``) implement — ``tests/test_xlstandin.py`` reads
  their source and fails if this file offers anything more; so code that works
  here cannot rely on, say, ``Sheet.freeze_panes`` (remote engine only);
* ``Range.raw_value`` does what Excel does with an assigned value: ``'text``
  stays text, ``=…`` becomes a formula (refused, as Excel would raise or prompt,
  when it is malformed, names a sheet that does not exist or holds a string
  literal over 255 characters), text that looks like a number or a date becomes
  one, a scalar fills the whole range, a 2-D list fills from the top-left cell
  (a smaller list leaves ``#N/A``, a larger one is cut), a ragged list is refused;
* opening a workbook reads the real file (values and formulas, via openpyxl),
  and two open workbooks cannot share a name.

Members used only by the tests start with an underscore (``_cells``,
``_alerts``, ``_status_log``, ``_answer``…), so they never count as API.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from xlwings import base_classes

_PIDS = itertools.count(40000)
_NUMBER = re.compile(r"^\s*[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?\s*%?\s*$")
_DATE = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
_SHEET_REF = re.compile(r"'((?:[^']|'')+)'!|(?<![\w.\"])([A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)!")
_STRING = re.compile(r'"((?:[^"]|"")*)"')


class ExcelError(Exception):
    """What COM / AppleScript raise when Excel refuses an operation."""


@dataclass
class Cell:
    value: Any = None  # what Range.Value gives: a number, text, bool, datetime, or None; for a formula its result
    formula: str | None = None
    prefixed: bool = False  # entered with a leading apostrophe


class Engine:
    """The engine object ``App.engine`` returns (xlwings has no base class for it); desktop behaviour."""

    @property
    def apps(self) -> Apps:
        return _APPS

    @property
    def name(self) -> str:
        return "standin"

    @property
    def type(self) -> str:
        return "desktop"

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any) -> Any:
        # as both desktop engines: None and NaN become "", numpy numbers floats
        if x is None:
            return ""
        if isinstance(x, float) and x != x:
            return ""
        if hasattr(x, "item") and not isinstance(x, str | bytes):
            return x.item()
        return x

    @staticmethod
    def clean_value_data(data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any,
                         err_to_str: Any) -> Any:
        return [[empty_as if c in ("", None) else c for c in row] for row in data]


class Apps(base_classes.Apps):
    def __init__(self) -> None:
        self._apps: list[App] = []

    def keys(self) -> list[int]:
        return [a.pid for a in self._apps]

    def add(self, spec: Any = None, add_book: Any = None, xl: Any = None, visible: Any = None) -> App:
        app = App()
        self._apps.append(app)
        return app

    def __iter__(self) -> Iterator[App]:
        return iter(list(self._apps))

    def __len__(self) -> int:
        return len(self._apps)

    def __getitem__(self, pid: int) -> App:
        for a in self._apps:
            if a.pid == pid:
                return a
        raise KeyError(pid)


_APPS = Apps()
ALERT_BUTTONS = {None: ("ok",), "ok": ("ok",), "ok_cancel": ("ok", "cancel"), "yes_no": ("yes", "no"),
                 "yes_no_cancel": ("yes", "no", "cancel")}
ALERT_MODES = {None, "info", "critical"}
CALCULATION = ("automatic", "manual", "semiautomatic")


class App(base_classes.App):
    def __init__(self) -> None:
        self._pid = next(_PIDS)
        self._books = Books(self)
        self._screen_updating = True
        self._enable_events = True
        self._calculation = "automatic"
        self._display_alerts = True
        self._status_log: list[Any] = []
        self._alerts: list[tuple[str, str | None, str, str | None]] = []
        self._answer = "ok"  # what the next alert returns when it has that button

    @property
    def engine(self) -> Engine:
        return Engine()

    @property
    def api(self) -> App:
        return self

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def version(self) -> str:
        return "16.0"

    @property
    def books(self) -> Books:
        return self._books

    @property
    def screen_updating(self) -> bool:
        return self._screen_updating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self._screen_updating = bool(value)

    @property
    def enable_events(self) -> bool:
        return self._enable_events

    @enable_events.setter
    def enable_events(self, value: bool) -> None:
        self._enable_events = bool(value)

    @property
    def display_alerts(self) -> bool:
        return self._display_alerts

    @display_alerts.setter
    def display_alerts(self, value: bool) -> None:
        self._display_alerts = bool(value)

    @property
    def calculation(self) -> str:
        return self._calculation

    @calculation.setter
    def calculation(self, value: str) -> None:
        if value not in CALCULATION:
            raise KeyError(value)  # both engines look the value up in a dict
        if not self._books._books:
            raise ExcelError("Excel sets the calculation mode only while a workbook is open")
        self._calculation = value

    @property
    def status_bar(self) -> Any:
        return self._status_log[-1] if self._status_log else False

    @status_bar.setter
    def status_bar(self, value: Any) -> None:
        self._status_log.append(value)

    def alert(self, prompt: str, title: str | None, buttons: str | None, mode: str | None,
              callback: str | None) -> str:
        if buttons not in ALERT_BUTTONS or mode not in ALERT_MODES:
            raise KeyError((buttons, mode))  # both engines look these up in dicts
        self._alerts.append((prompt, title, buttons or "ok", mode))
        offered = ALERT_BUTTONS[buttons]
        return self._answer if self._answer in offered else offered[0]

    def activate(self, steal_focus: bool = False) -> None:
        pass


class Books(base_classes.Books):
    def __init__(self, app: App) -> None:
        self.app = app  # both engines keep it as an attribute (xlwings.main reads it)
        self._books: list[Book] = []

    @property
    def api(self) -> Books:
        return self

    @property
    def active(self) -> Book:
        if not self._books:
            raise ExcelError("no active workbook")
        return self._books[-1]

    def __call__(self, name_or_index: int | str) -> Book:
        if isinstance(name_or_index, int):
            return self._books[name_or_index - 1]
        for b in self._books:
            if b.name.casefold() == str(name_or_index).casefold():
                return b
        raise KeyError(name_or_index)  # as _xlwindows: a missing book is a KeyError

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self) -> Iterator[Book]:
        return iter(list(self._books))

    def add(self) -> Book:
        n = len(self._books) + 1
        return self._attach(Book(self.app, f"Book{n}", (("Sheet1", {}),)))

    def open(self, fullname: str, *args: Any, **kwargs: Any) -> Book:
        name = Path(fullname).name
        if any(b.name.casefold() == name.casefold() for b in self._books):
            raise ExcelError(f"A document with the name '{name}' is already open.")
        return self._attach(_load(self.app, Path(fullname)))

    def _attach(self, book: Book) -> Book:
        self._books.append(book)
        return book


class Book(base_classes.Book):
    def __init__(self, app: App, fullname: str, sheets: tuple[tuple[str, dict[tuple[int, int], Cell]], ...]) -> None:
        self._app = app
        self._fullname = fullname
        self._sheets = Sheets(self)
        for name, cells in sheets:
            self._sheets._append(Sheet(self, name, cells))
        self._closed = False

    @property
    def api(self) -> Book:
        return self

    @property
    def app(self) -> App:
        return self._app

    @property
    def name(self) -> str:
        return Path(self._fullname).name

    @property
    def fullname(self) -> str:
        return self._fullname

    @property
    def sheets(self) -> Sheets:
        return self._sheets

    def activate(self) -> None:
        pass

    def close(self) -> None:
        self._app._books._books.remove(self)
        self._closed = True


def _load(app: App, path: Path) -> Book:
    """The workbook as Excel shows it after opening: each cell's formula, or its value."""
    keep_vba = path.suffix.lower() == ".xlsm"
    wb = openpyxl.load_workbook(path, keep_vba=keep_vba)
    values = openpyxl.load_workbook(path, data_only=True, keep_vba=keep_vba)
    sheets = []
    for ws in wb.worksheets:
        cells: dict[tuple[int, int], Cell] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                cached = values[ws.title].cell(c.row, c.column).value
                if isinstance(c.value, str) and c.value.startswith("="):
                    cells[(c.row, c.column)] = Cell(cached, c.value)
                else:
                    cells[(c.row, c.column)] = Cell(c.value, None, bool(c.quotePrefix))
        sheets.append((ws.title, cells))
    return Book(app, str(path), tuple(sheets))


class Sheets(base_classes.Sheets):
    def __init__(self, book: Book) -> None:
        self._book = book
        self._sheets: list[Sheet] = []

    def _append(self, sheet: Sheet) -> None:
        self._sheets.append(sheet)

    @property
    def api(self) -> Sheets:
        return self

    @property
    def active(self) -> Sheet:
        return self._sheets[0]

    def __call__(self, name_or_index: int | str) -> Sheet:
        if isinstance(name_or_index, int):
            return self._sheets[name_or_index - 1]
        for s in self._sheets:
            if s.name.casefold() == str(name_or_index).casefold():
                return s
        raise ExcelError(f"no sheet named {name_or_index!r}")

    def __len__(self) -> int:
        return len(self._sheets)

    def __iter__(self) -> Iterator[Sheet]:
        return iter(list(self._sheets))

    def add(self, before: Sheet | None = None, after: Sheet | None = None) -> Sheet:
        s = Sheet(self._book, f"Sheet{len(self._sheets) + 1}", {})
        pos = self._sheets.index(after) + 1 if after else (self._sheets.index(before) if before else 0)
        self._sheets.insert(pos, s)
        return s


class Sheet(base_classes.Sheet):
    def __init__(self, book: Book, name: str, cells: dict[tuple[int, int], Cell]) -> None:
        self._book = book
        self._name = name
        self._cells = cells

    @property
    def api(self) -> Sheet:
        return self

    @property
    def name(self) -> str:
        return self._name

    @property
    def book(self) -> Book:
        return self._book

    @property
    def index(self) -> int:
        return self._book._sheets._sheets.index(self) + 1

    def range(self, arg1: Any, arg2: Any = None) -> Range:
        r1, c1 = _corner(arg1, self)
        if arg2 is None:
            if isinstance(arg1, Range):
                return arg1
            if isinstance(arg1, str) and ":" in arg1:
                a, b = arg1.split(":", 1)
                return self.range(a, b)
            return Range(self, (r1, c1, 1, 1))
        r2, c2 = _corner(arg2, self, last=True)
        return Range(self, (min(r1, r2), min(c1, c2), abs(r2 - r1) + 1, abs(c2 - c1) + 1))

    def activate(self) -> None:
        pass


def _corner(arg: Any, sheet: Sheet, last: bool = False) -> tuple[int, int]:
    if isinstance(arg, Range):
        r, c, nr, nc = arg.coords[1:]
        return (r + nr - 1, c + nc - 1) if last else (r, c)
    if isinstance(arg, tuple) and len(arg) == 2:
        if 0 in arg:
            raise IndexError("Attempted to access 0-based Range. xlwings/Excel Ranges are 1-based.")
        return int(arg[0]), int(arg[1])
    if isinstance(arg, str):
        m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", arg.strip())
        if not m:
            raise ExcelError(f"not a cell address: {arg!r}")
        col = 0
        for ch in m.group(1).upper():
            col = col * 26 + ord(ch) - 64
        return int(m.group(2)), col
    raise TypeError(f"cannot address a range by {arg!r}")


class Range(base_classes.Range):
    def __init__(self, sheet: Sheet, coords: tuple[int, int, int, int]) -> None:
        self.sheet = sheet  # the Mac engine keeps it as an attribute, Windows as a property: both offer it
        self._coords = coords

    @property
    def api(self) -> Range:
        return self

    @property
    def coords(self) -> tuple[Any, int, int, int, int]:
        return (self.sheet, *self._coords)

    @property
    def row(self) -> int:
        return self._coords[0]

    @property
    def column(self) -> int:
        return self._coords[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self._coords[2], self._coords[3]

    def __len__(self) -> int:
        return self._coords[2] * self._coords[3]

    def __call__(self, row: int, col: int | None = None) -> Range:
        if col is None:  # a linear index, row by row
            row, col = divmod(row - 1, self._coords[3])
            row, col = row + 1, col + 1
        return Range(self.sheet, (self.row + row - 1, self.column + col - 1, 1, 1))

    @property
    def raw_value(self) -> Any:
        rows, cols = self.shape
        grid = tuple(tuple(self.sheet._cells.get((self.row + i, self.column + j), Cell()).value
                           for j in range(cols)) for i in range(rows))
        return grid[0][0] if (rows, cols) == (1, 1) else grid

    @raw_value.setter
    def raw_value(self, data: Any) -> None:
        rows, cols = self.shape
        if isinstance(data, list | tuple):
            grid = [list(r) if isinstance(r, list | tuple) else None for r in data]
            if any(r is None for r in grid):
                grid = [list(data)]  # a 1-D array is one row
            if len({len(r) for r in grid}) > 1:  # type: ignore[arg-type]
                raise ExcelError("ragged array: every row must have the same number of values")
            for i in range(rows):
                for j in range(cols):
                    inside = i < len(grid) and j < len(grid[i])  # type: ignore[arg-type]
                    self._put(self.row + i, self.column + j, grid[i][j] if inside else "#N/A")  # type: ignore[index]
        else:
            for i in range(rows):
                for j in range(cols):
                    self._put(self.row + i, self.column + j, data)

    def _put(self, r: int, c: int, x: Any) -> None:
        cell = _enter(x, self.sheet.book)
        if cell.value is None and cell.formula is None:
            self.sheet._cells.pop((r, c), None)
        else:
            self.sheet._cells[(r, c)] = cell


def _enter(x: Any, book: Book) -> Cell:
    """What Excel stores when ``x`` is assigned to a cell's Value."""
    if x is None or x == "":
        return Cell()
    if isinstance(x, bool):
        return Cell(x)
    if isinstance(x, int | float):
        if x != x or x in (float("inf"), float("-inf")):
            raise ExcelError(f"Excel cannot hold {x!r}")
        return Cell(float(x))
    if isinstance(x, dt.datetime):
        return Cell(x)
    if isinstance(x, dt.date):
        return Cell(dt.datetime(x.year, x.month, x.day))
    if not isinstance(x, str):
        raise ExcelError(f"Excel cannot hold a {type(x).__name__}")
    if len(x) > 32767:
        raise ExcelError("a cell holds at most 32,767 characters")
    if x.startswith("'"):
        return Cell(x[1:], None, True)
    if x.startswith("="):
        _check_formula(x, book)
        return Cell(None, x)
    if _NUMBER.match(x) and any(ch.isdigit() for ch in x):
        text = x.strip().replace(",", "")
        return Cell(float(text[:-1].strip()) / 100 if text.endswith("%") else float(text))
    m = _DATE.match(x)
    if m:
        y, mo, d = (int(g) for g in m.groups()[:3])
        try:
            return Cell(dt.datetime(y, mo, d, int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0)))
        except ValueError:
            pass
    if x[0] in "+-@" and len(x) > 1:
        return Cell(None, "=" + x.lstrip("@"))  # typed like a formula; Excel makes it one
    return Cell(x)


def _check_formula(f: str, book: Book) -> None:
    """Refuse what Excel refuses (an error) or cannot resolve without prompting for a file."""
    body = _STRING.sub("", f)
    if body.count('"') % 2:
        raise ExcelError(f"unterminated text in formula: {f}")
    for s in _STRING.findall(f):
        if len(s.replace('""', '"')) > 255:
            raise ExcelError("text values in formulas are limited to 255 characters")
    depth = 0
    for ch in body:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise ExcelError(f"unbalanced parentheses: {f}")
    if depth:
        raise ExcelError(f"unbalanced parentheses: {f}")
    names = {s.name.casefold() for s in book.sheets}
    for quoted, bare in _SHEET_REF.findall(body):
        name = quoted.replace("''", "'") if quoted else bare
        if name.casefold() not in names:
            raise ExcelError(f"Excel would prompt for a file: the formula names a missing sheet {name!r}")


# --- helpers for the tests (not part of any engine) ----------------------------------------

def start(path: Path) -> tuple[Any, Any]:
    """A new stand-in Excel with ``path`` open; returns (xlwings App, xlwings Book) of xlwings' own classes."""
    import xlwings as xw

    app = _APPS.add()
    impl = app.books.open(str(path))
    return xw.App(impl=app), xw.Book(impl=impl)


def snapshot(book: Any) -> dict[str, dict[tuple[int, int], tuple[Any, str | None]]]:
    """Every sheet's cells as {(row, col): (value, formula)} — what a test compares before and after."""
    return {s.name: {k: (c.value, c.formula) for k, c in s.impl._cells.items()} for s in book.sheets}


def cells(book: Any, sheet: str) -> dict[tuple[int, int], Cell]:
    return book.sheets[sheet].impl._cells
