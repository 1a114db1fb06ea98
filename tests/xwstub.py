"""An in-memory stand-in for exactly the xlwings API that xlsales.excel.live and .buttons use.

It models what Excel does with what those modules assign: ``Range.value`` with
a string starting ``=`` makes a formula (and fails, as Excel would open a file
dialog, when it names a sheet that does not exist); a leading ``'`` keeps the
rest as text; any other string that looks like a number becomes a number.  A
2-D value must match the range's size.  Anything not listed in
``xlsales/excel/live.py`` and ``buttons.py`` is deliberately absent, so a new
call shows up as an AttributeError in the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CellData:
    value: Any = None
    formula: str | None = None
    number_format: str | None = None
    color: str | None = None
    bold: bool = False
    italic: bool = False
    font_color: str | None = None
    font_size: float | None = None


class Font:
    def __init__(self, rng: Range) -> None:
        self._rng = rng

    def _set(self, attr: str, value: Any) -> None:
        for c in self._rng._cells():
            setattr(c, attr, value)

    bold = property(lambda self: None, lambda self, v: self._set("bold", v))
    italic = property(lambda self: None, lambda self, v: self._set("italic", v))
    color = property(lambda self: None, lambda self, v: self._set("font_color", v))
    size = property(lambda self: None, lambda self, v: self._set("font_size", v))


_SHEET_REF = re.compile(r"'((?:[^']|'')+)'!|(?<![\w.])([A-Za-z_][\w.]*)!")


class Range:
    def __init__(self, sheet: Sheet, first: tuple[int, int], last: tuple[int, int] | None = None) -> None:
        for r, c in (first, last or first):
            if r < 1 or c < 1:
                raise ValueError(f"xlwings rows/cols are 1-based: {(r, c)}")
        self.sheet = sheet
        self.first = first
        self.last = last or first

    @property
    def shape(self) -> tuple[int, int]:
        return self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1

    def _cells(self) -> list[CellData]:
        return [self.sheet._cell(r, c) for r in range(self.first[0], self.last[0] + 1)
                for c in range(self.first[1], self.last[1] + 1)]

    @property
    def value(self) -> Any:
        c = self.sheet.cells.get(self.first)
        return None if c is None else c.value

    @value.setter
    def value(self, v: Any) -> None:
        rows, cols = self.shape
        if isinstance(v, list):
            if len(v) != rows or any(not isinstance(r, list) or len(r) != cols for r in v):
                raise ValueError(f"a {len(v)}-row value does not match the {rows}x{cols} range")
        elif (rows, cols) == (1, 1):
            v = [[v]]
        else:
            raise ValueError("scalar assigned to a multi-cell range")
        for i, line in enumerate(v):
            for j, x in enumerate(line):
                self.sheet._assign(self.first[0] + i, self.first[1] + j, x)

    number_format = property(lambda self: None, lambda self, v: [setattr(c, "number_format", v)
                                                                 for c in self._cells()] and None)
    color = property(lambda self: None, lambda self, v: [setattr(c, "color", v) for c in self._cells()] and None)

    @property
    def font(self) -> Font:
        return Font(self)

    @property
    def column_width(self) -> None:
        return None

    @column_width.setter
    def column_width(self, w: float) -> None:
        for c in range(self.first[1], self.last[1] + 1):
            self.sheet.widths[c] = w


class FreezePanes:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet

    def freeze_at(self, rng: Range) -> None:
        self.sheet.frozen_at = rng.first


class Sheet:
    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], CellData] = {}
        self.widths: dict[int, float] = {}
        self.frozen_at: tuple[int, int] | None = None
        self.freeze_panes = FreezePanes(self)
        self.clears = 0

    def _cell(self, r: int, c: int) -> CellData:
        return self.cells.setdefault((r, c), CellData())

    def _assign(self, r: int, c: int, x: Any) -> None:
        cell = self._cell(r, c)
        cell.value, cell.formula = None, None
        if isinstance(x, str):
            if x.startswith("'"):
                cell.value = x[1:]
            elif x.startswith("="):
                for quoted, bare in _SHEET_REF.findall(x):
                    name = quoted.replace("''", "'") if quoted else bare
                    if name not in [s.name for s in self.book.sheets]:
                        raise RuntimeError(f"Excel would prompt for a file: formula names missing sheet {name!r}")
                cell.formula = x
            else:
                try:
                    cell.value = float(x.replace(",", ""))
                except ValueError:
                    cell.value = x
        else:
            cell.value = x

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> Range:
        if not (isinstance(first, tuple) and (last is None or isinstance(last, tuple))):
            raise TypeError("the stub (like xlsales) addresses cells by (row, col) tuples only")
        return Range(self, first, last)

    def clear(self) -> None:
        self.cells.clear()
        self.widths.clear()
        self.frozen_at = None
        self.clears += 1

    # for tests
    def get(self, r: int, c: int) -> CellData:
        return self.cells.get((r, c), CellData())


class Sheets:
    def __init__(self, book: Book) -> None:
        self._book = book
        self._list: list[Sheet] = []

    def __iter__(self):
        return iter(list(self._list))

    def __getitem__(self, name: str) -> Sheet:
        for s in self._list:
            if s.name == name:
                return s
        raise KeyError(name)

    def add(self, name: str, after: Sheet | None = None) -> Sheet:
        if any(s.name.lower() == name.lower() for s in self._list):
            raise ValueError(f"sheet exists: {name}")
        if len(name) > 31 or re.search(r"[\[\]:*?/\\]", name):
            raise ValueError(f"invalid sheet name {name!r}")
        s = Sheet(self._book, name)
        pos = self._list.index(after) + 1 if after is not None else 0
        self._list.insert(pos, s)
        return s


class Names:
    def __init__(self) -> None:
        self.defined: dict[str, str] = {}

    def add(self, name: str, refers_to: str) -> None:
        self.defined[name] = refers_to


@dataclass
class App:
    status_history: list[Any] = field(default_factory=list)
    alerts: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    screen_updating: bool = True

    @property
    def status_bar(self) -> Any:
        return self.status_history[-1] if self.status_history else False

    @status_bar.setter
    def status_bar(self, v: Any) -> None:
        self.status_history.append(v)

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None) -> str:
        self.alerts.append((prompt, title, mode))
        return "ok"


class Book:
    """``Book.caller()`` returns the book a test set with :meth:`set_caller`."""

    _caller: Book | None = None

    def __init__(self, fullname: str, sheet_names: tuple[str, ...] = ()) -> None:
        self.fullname = fullname
        self.app = App()
        self.sheets = Sheets(self)
        self.names = Names()
        for n in sheet_names:
            self.sheets.add(n, after=list(self.sheets)[-1] if list(self.sheets) else None)

    @classmethod
    def caller(cls) -> Book:
        if cls._caller is None:
            raise RuntimeError("not called from Excel")
        return cls._caller

    @classmethod
    def set_caller(cls, book: Book | None) -> None:
        cls._caller = book
