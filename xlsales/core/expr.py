"""Every number twice, from one definition: an expression gives both the Python value and the Excel formula.

A report figure is an :class:`Expr` — conditional sums and counts over a data
table (:class:`Sum`), references to other figures of the same row
(:class:`Ref`), constants and named thresholds, and arithmetic over them
(``+``, ``-``, ``*``, :class:`Ratio`, :class:`Max`, :class:`Min`, :class:`If`).
The same object is *evaluated* by numpy/pandas — vectorised over every row of a
sheet at once — and *written* as a portable formula (``SUMIFS``, ``COUNTIFS``,
``SUM``, ``IF``, ``MAX``…: Excel 2016+, LibreOffice and WPS).

Values are float arrays with ``NaN`` for a blank cell (a ratio over zero shows
blank, as its formula's ``""`` does).  Text criteria match as ``SUMIFS`` does —
case-insensitively and literally (``*``, ``?`` and ``~`` are escaped in every
generated criterion, and a value starting with ``=``, ``<`` or ``>`` is still
compared for equality).  Nothing is cached between sheets: a :class:`Table`
normalises its own columns once, for its own frame.

Pure: numpy, pandas and the standard library.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlsales.core.money import round_half_up

Values = np.ndarray  # float64, NaN = blank


def quote(text: str) -> str:
    """An Excel string literal."""
    return '"' + str(text).replace('"', '""') + '"'


def literal_criterion(text: object) -> str:
    """A SUMIFS criterion matching exactly ``text`` (case-insensitively, as Excel does): wildcards escaped."""
    return Crit("", "=", str(text)).criterion()


def date_xl(d: dt.date) -> str:
    return f"DATE({d.year},{d.month},{d.day})"


def _num(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


# --- the data a sheet's figures read ------------------------------------------------------

class Table:
    """A table of the report as written: where it sits and its frame (values exactly as in the cells).

    ``first_row`` is the 1-based sheet row of the first data row; ``cols`` maps a
    column key to its letter.  Columns are normalised once for comparison, per table.
    """

    def __init__(self, name: str, sheet: str, first_row: int, cols: dict[str, str], frame: pd.DataFrame) -> None:
        self.name, self.sheet, self.first_row, self.cols = name, sheet, first_row, cols
        self.frame = frame.reset_index(drop=True)
        self._norm: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._blocks: dict[str, dict[str, tuple[int, int]] | None] = {}
        self._rng: dict[tuple[str, tuple[int, int] | None], str] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def rng(self, col: str, rows: tuple[int, int] | None = None) -> str:
        """The column's cells: every data row, or only the rows ``(first, last)`` (0-based, inclusive)."""
        got = self._rng.get((col, rows))
        if got is None:
            c = self.cols[col]
            a, b = rows if rows is not None else (0, max(len(self.frame), 1) - 1)
            got = f"'{self.sheet.replace(chr(39), chr(39) * 2)}'!${c}${self.first_row + a}:${c}${self.first_row + b}"
            self._rng[(col, rows)] = got
        return got

    def blocks(self, col: str) -> dict[str, tuple[int, int]] | None:
        """Where each value of ``col`` sits when every value's rows are contiguous (a table sorted by rep):
        {case-folded value: (first, last)}; None when they are not.  A formula for one rep then reads only
        that rep's rows, so a report's recalculation grows with its rows, not with reps × rows."""
        if col not in self._blocks:
            text = self.column(col)[1]
            found: dict[str, tuple[int, int]] = {}
            contiguous = True
            for i, v in enumerate(text):
                if v in found:
                    a, b = found[v]
                    if b != i - 1:
                        contiguous = False
                        break
                    found[v] = (a, i)
                else:
                    found[v] = (i, i)
            self._blocks[col] = found if contiguous else None
        return self._blocks[col]

    def column(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """(numbers, text) of a column: floats (dates as ordinals; NaN where not a number or date) and
        case-folded text ("" for numbers and blanks) — what SUMIFS compares against."""
        hit = self._norm.get(col)
        if hit is None:
            raw = self.frame[col].tolist() if col in self.frame.columns else [None] * len(self.frame)
            hit = _plain_column(raw) or _any_column(raw)
            self._norm[col] = hit
        return hit

    def values(self, col: str) -> np.ndarray:
        return self.column(col)[0]


def _plain_column(raw: list) -> tuple[np.ndarray, np.ndarray] | None:
    """:meth:`Table.column` of a column of texts, Python numbers and blanks, in two passes; None for any other."""
    if not set(map(type, raw)) <= {str, float, int, type(None)}:
        return None
    text = np.array([v.casefold() if type(v) is str else "" for v in raw], dtype=object)
    nums = np.array([np.nan if type(v) is str or v is None else v for v in raw], dtype=float)
    return nums, text


def _any_column(raw: list) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Table.column` value by value: booleans, dates and date-times, numpy numbers, other values as text."""
    nums = np.full(len(raw), np.nan)
    text = np.empty(len(raw), dtype=object)
    for i, v in enumerate(raw):
        t = ""
        if isinstance(v, bool):
            t = "true" if v else "false"
        elif isinstance(v, dt.datetime):
            nums[i] = v.date().toordinal()
        elif isinstance(v, dt.date):
            nums[i] = v.toordinal()
        elif isinstance(v, int | float | np.integer | np.floating):
            if v == v:
                nums[i] = float(v)
        elif isinstance(v, str):
            t = v.casefold()
        elif v is not None and v is not pd.NaT:
            t = str(v).casefold()
        text[i] = t
    return nums, text


# --- criteria -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Crit:
    """One SUMIFS criterion: ``col`` compared with ``value`` by ``op`` (``= >= <= > < <>``)."""

    col: str
    op: str
    value: object = None  # text, number, date; for "<>" None means "not blank"
    xl: str | None = None  # the criterion as Excel text when it must differ (e.g. a threshold's name)

    def mask(self, t: Table) -> np.ndarray:
        nums, text = t.column(self.col)
        v = self.value
        if self.op == "<>" and v is None:
            return ~np.isnan(nums) | (text != "")
        if self.op in ("=", "<>") and isinstance(v, str):
            hit = text == v.casefold()
            return hit if self.op == "=" else ~hit
        x = float(v.toordinal()) if isinstance(v, dt.date) else float(v)  # type: ignore[arg-type]
        with np.errstate(invalid="ignore"):
            return {"=": nums == x, "<>": ~(nums == x), ">=": nums >= x, "<=": nums <= x, ">": nums > x,
                    "<": nums < x}[self.op]

    def criterion(self) -> str:
        """The criterion as SUMIFS text (worked out once per criterion)."""
        return self._criterion

    @functools.cached_property
    def _criterion(self) -> str:
        if self.xl is not None:
            return self.xl
        v = self.value
        if self.op == "<>" and v is None:
            return '"<>"'
        if isinstance(v, str):
            escaped = v.replace("~", "~~").replace("*", "~*").replace("?", "~?")
            return quote(self.op + escaped)
        if isinstance(v, dt.date):
            return f'"{self.op}"&{date_xl(v)}'
        return quote(f"{self.op}{_num(float(v))}")  # type: ignore[arg-type]


def eq(col: str, value: object) -> Crit:
    return Crit(col, "=", value)


def ge(col: str, value: object, xl: str | None = None) -> Crit:
    return Crit(col, ">=", value, xl)


def le(col: str, value: object, xl: str | None = None) -> Crit:
    return Crit(col, "<=", value, xl)


def gt(col: str, value: object) -> Crit:
    return Crit(col, ">", value)


def nonblank(col: str) -> Crit:
    return Crit(col, "<>")


def between(col: str, a: dt.date, b: dt.date) -> tuple[Crit, Crit]:
    return ge(col, a), le(col, b)


# --- the rows a grid computes -----------------------------------------------------------------

@dataclass
class Row:
    """One row of a figure grid: its entity criteria (``rep_id``…) and the rows it sums."""

    sheet_row: int  # 1-based
    crits: tuple[Crit, ...] = ()
    children: tuple[int, ...] = ()  # indices of child rows in the grid
    window: tuple[dt.date, dt.date] | None = None  # the row's period, where its figures need its dates


class Ctx:
    """What an expression is evaluated and written against: the grid's rows and the sheet's columns."""

    def __init__(self, rows: Sequence[Row], cols: dict[str, str], values: dict[str, Values],
                 subset: np.ndarray | None = None, relative: bool = False) -> None:
        self.rows, self.cols, self.values, self.relative = rows, cols, values, relative
        self.subset = np.arange(len(rows)) if subset is None else subset

    def ref(self, key: str, i: int) -> str:
        """The cell of ``key`` in row ``i``; relative to the row when the grid's rows may be sorted."""
        return f"${self.cols[key]}{'' if self.relative else '$'}{self.rows[i].sheet_row}"


# --- expressions ---------------------------------------------------------------------------------

class Expr:
    """A figure: :meth:`evaluate` gives a value per row of ``ctx.subset``; :meth:`formula` the row's formula."""

    def evaluate(self, ctx: Ctx) -> Values:
        raise NotImplementedError

    def formula(self, ctx: Ctx, i: int) -> str:
        raise NotImplementedError

    # arithmetic
    def __add__(self, other: Expr | float) -> Expr:
        return Add((self, _e(other)))

    def __radd__(self, other: Expr | float) -> Expr:
        return Add((_e(other), self))

    def __sub__(self, other: Expr | float) -> Expr:
        return Sub(self, _e(other))

    def __mul__(self, other: Expr | float) -> Expr:
        return Mul(self, _e(other))


def _e(x: Expr | float) -> Expr:
    return x if isinstance(x, Expr) else Num(float(x))


@dataclass(frozen=True, eq=False)
class Num(Expr):
    x: float

    def evaluate(self, ctx: Ctx) -> Values:
        return np.full(len(ctx.subset), self.x, dtype=float)

    def formula(self, ctx: Ctx, i: int) -> str:
        return _num(self.x)


@dataclass(frozen=True, eq=False)
class Name(Expr):
    """A defined name of the workbook (a threshold, ``xs_t_…``) and its value."""

    name: str
    x: float

    def evaluate(self, ctx: Ctx) -> Values:
        return np.full(len(ctx.subset), self.x, dtype=float)

    def formula(self, ctx: Ctx, i: int) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Ref(Expr):
    """Another figure of the same row (computed before this one)."""

    key: str

    def evaluate(self, ctx: Ctx) -> Values:
        return ctx.values[self.key][ctx.subset]

    def formula(self, ctx: Ctx, i: int) -> str:
        return ctx.ref(self.key, i)


@dataclass(frozen=True, eq=False)
class Sum(Expr):
    """Σ ``col`` (or the count of rows when ``col`` is None) of ``table``'s rows meeting every criterion
    and the row's own entity criteria: ``SUMIFS``/``COUNTIFS``.

    ``on`` renames the row's criteria columns for this table (``(("rep_id", "key"),)``: a rep row's
    ``rep_id`` criterion applies to this table's ``key`` column); ``own=False`` ignores them.
    """

    table: Table
    col: str | None
    crits: tuple[Crit, ...] = ()
    on: tuple[tuple[str, str], ...] = ()
    own: bool = True

    def _row_crits(self, row: Row) -> tuple[Crit, ...]:
        if not self.own:
            return ()
        if not self.on:
            return row.crits
        names = dict(self.on)
        return tuple(dataclasses.replace(c, col=names[c.col]) if c.col in names else c for c in row.crits)

    def evaluate(self, ctx: Ctx) -> Values:
        t = self.table
        base = np.ones(len(t), dtype=bool)
        for c in self.crits:
            base &= c.mask(t)
        vals = np.ones(len(t)) if self.col is None else np.nan_to_num(t.values(self.col), nan=0.0)
        out = np.zeros(len(ctx.subset))
        # rows that differ only in the values of their text equalities are one groupby
        groups: dict[tuple, list[tuple[int, tuple[str, ...]]]] = {}
        for j, i in enumerate(ctx.subset):
            keys: list[Crit] = []
            rest: list[Crit] = []
            for c in self._row_crits(ctx.rows[i]):
                (keys if c.op == "=" and isinstance(c.value, str) else rest).append(c)
            groups.setdefault((tuple(c.col for c in keys), tuple(rest)), []).append(
                (j, tuple(str(c.value).casefold() for c in keys)))
        for (cols, rest), members in groups.items():
            m = base.copy()
            for c in rest:
                m &= c.mask(t)
            if not cols:
                total = float(vals[m].sum())
                for j, _ in members:
                    out[j] = total
                continue
            by = [t.column(c)[1][m] for c in cols]
            summed = pd.Series(vals[m]).groupby(by if len(by) > 1 else by[0]).sum()
            wanted = [k if len(k) > 1 else k[0] for _, k in members]
            got = summed.reindex(pd.MultiIndex.from_tuples(wanted) if len(cols) > 1 else wanted)
            out[[j for j, _ in members]] = got.fillna(0.0).to_numpy(dtype=float)
        return out

    def formula(self, ctx: Ctx, i: int) -> str:
        t = self.table
        own = self._row_crits(ctx.rows[i])
        crits = (*self.crits, *own)
        if not crits:
            return f"COUNTA({t.rng(next(iter(t.cols)))})" if self.col is None else f"SUM({t.rng(self.col)})"
        rows = None
        for c in own:  # the rows of the row's own entity (a rep's block), when the table keeps them together
            if c.op == "=" and isinstance(c.value, str):
                blocks = t.blocks(c.col)
                if blocks is not None:
                    rows = blocks.get(c.value.casefold())
                    if rows is None:
                        return "0"  # the entity has no row in this table
                    break
        pairs = ",".join(f"{t.rng(c.col, rows)},{c.criterion()}" for c in crits)
        return f"COUNTIFS({pairs})" if self.col is None else f"SUMIFS({t.rng(self.col, rows)},{pairs})"


@dataclass(frozen=True, eq=False)
class Children(Expr):
    """The sum of this column over the row's child rows (a team sums its reps): ``SUM`` of their cells."""

    key: str

    def evaluate(self, ctx: Ctx) -> Values:
        col = np.nan_to_num(ctx.values[self.key], nan=0.0)
        return np.array([col[list(ctx.rows[int(i)].children)].sum() if ctx.rows[int(i)].children else 0.0
                         for i in ctx.subset])

    def formula(self, ctx: Ctx, i: int) -> str:
        kids = [ctx.rows[k].sheet_row for k in ctx.rows[i].children]
        if not kids:
            return "0"
        c = ctx.cols[self.key]
        parts: list[str] = []
        start = prev = kids[0]
        for r in [*kids[1:], None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            parts.append(f"${c}${start}" if start == prev else f"${c}${start}:${c}${prev}")
            if r is not None:
                start = prev = r
        return _sum_args(parts)


def _sum_args(parts: list[str]) -> str:
    """SUM of many references, nested so no call takes more than 255 arguments."""
    while len(parts) > 250:
        parts = [f"SUM({','.join(parts[k:k + 250])})" for k in range(0, len(parts), 250)]
    return f"SUM({','.join(parts)})"


@dataclass(frozen=True, eq=False)
class WorkDays(Expr):
    """Working days (Monday–Friday, not a holiday) of the row's window — ``NETWORKDAYS`` over the row's
    ``start``/``end`` cells; ``before`` counts only the days before that date (the window's past part)."""

    holidays: Table
    before: dt.date | None = None

    def evaluate(self, ctx: Ctx) -> Values:
        hol = {dt.date.fromordinal(int(x)) for x in self.holidays.values("date") if x == x}
        out = []
        counted: dict[tuple[dt.date, dt.date], float] = {}  # rows of one period share their window
        for i in ctx.subset:
            w = ctx.rows[int(i)].window
            if w is None:
                out.append(np.nan)
                continue
            a, b = w
            if self.before is not None:
                b = min(b, self.before - dt.timedelta(days=1))
            if (a, b) not in counted:
                counted[a, b] = float(workdays(a, b, hol))
            out.append(counted[a, b])
        return np.array(out)

    def formula(self, ctx: Ctx, i: int) -> str:
        a, b, hol = ctx.ref("start", i), ctx.ref("end", i), self.holidays.rng("date")
        if self.before is None:
            return f"NETWORKDAYS({a},{b},{hol})"
        d = date_xl(self.before)
        return f"IF({d}>{a},NETWORKDAYS({a},MIN({b},{d}-1),{hol}),0)"


def workdays(a: dt.date, b: dt.date, holidays: set[dt.date]) -> int:
    """Monday–Friday days in [a, b] that are not holidays (NETWORKDAYS; 0 when b < a)."""
    n, d = 0, a
    while d <= b:
        if d.weekday() < 5 and d not in holidays:
            n += 1
        d += dt.timedelta(days=1)
    return n


@dataclass(frozen=True, eq=False)
class Abs(Expr):
    x: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        return np.abs(self.x.evaluate(ctx))

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"ABS({self.x.formula(ctx, i)})"


@dataclass(frozen=True, eq=False)
class Add(Expr):
    terms: tuple[Expr, ...]

    def evaluate(self, ctx: Ctx) -> Values:
        out = np.zeros(len(ctx.subset))
        for t in self.terms:
            out = out + np.nan_to_num(t.evaluate(ctx), nan=0.0)
        return out

    def formula(self, ctx: Ctx, i: int) -> str:
        return "+".join(_paren(t, ctx, i, "+") for t in self.terms)


@dataclass(frozen=True, eq=False)
class Sub(Expr):
    a: Expr
    b: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        return np.nan_to_num(self.a.evaluate(ctx), nan=0.0) - np.nan_to_num(self.b.evaluate(ctx), nan=0.0)

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"{_paren(self.a, ctx, i, '+')}-{_paren(self.b, ctx, i, '-')}"


@dataclass(frozen=True, eq=False)
class Mul(Expr):
    a: Expr
    b: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        return self.a.evaluate(ctx) * self.b.evaluate(ctx)

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"{_paren(self.a, ctx, i, '*')}*{_paren(self.b, ctx, i, '*')}"


def _paren(e: Expr, ctx: Ctx, i: int, op: str) -> str:
    f = e.formula(ctx, i)
    simple = isinstance(e, Num | Name | Ref | Sum | Children | Ratio | Max | Min | If | Round | WorkDays | Abs | Blank)
    if simple or (op == "+" and isinstance(e, Add | Sub)) or (op == "*" and isinstance(e, Mul | Div)):
        return f
    return f"({f})"


@dataclass(frozen=True, eq=False)
class Ratio(Expr):
    """a ÷ b, blank when either is blank or b is 0 (``IF(OR(b="",b=0,a=""),"",a/b)``)."""

    a: Expr
    b: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        a, b = self.a.evaluate(ctx), self.b.evaluate(ctx)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isnan(a) | np.isnan(b) | (b == 0), np.nan, a / b)

    def formula(self, ctx: Ctx, i: int) -> str:
        a, b = self.a.formula(ctx, i), self.b.formula(ctx, i)
        if isinstance(self.b, Ref | Num | Name) and isinstance(self.a, Ref | Num | Name):
            return f'IF(OR({b}="",{b}=0,{a}=""),"",{a}/{b})'
        return f'IF(({b})=0,"",({a})/({b}))'


@dataclass(frozen=True, eq=False)
class Div(Expr):
    """a ÷ b with no guard: only where the formula around it has ruled out a zero (see :func:`blank_if_zero`)."""

    a: Expr
    b: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.a.evaluate(ctx) / self.b.evaluate(ctx)

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"{_paren(self.a, ctx, i, '*')}/{_paren(self.b, ctx, i, '/')}"


@dataclass(frozen=True, eq=False)
class Blank(Expr):
    """An empty cell (the formula's ``""``)."""

    def evaluate(self, ctx: Ctx) -> Values:
        return np.full(len(ctx.subset), np.nan)

    def formula(self, ctx: Ctx, i: int) -> str:
        return '""'


def blank_if_zero(test: Expr, value: Expr) -> Expr:
    """``value``, or a blank cell when ``test`` is 0 — e.g. a figure that divides by ``test``."""
    return If(test, "=", Num(0), Blank(), value)


@dataclass(frozen=True, eq=False)
class Max(Expr):
    terms: tuple[Expr, ...]

    def evaluate(self, ctx: Ctx) -> Values:
        return np.max(np.vstack([np.nan_to_num(t.evaluate(ctx), nan=0.0) for t in self.terms]), axis=0)

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"MAX({','.join(t.formula(ctx, i) for t in self.terms)})"


@dataclass(frozen=True, eq=False)
class Min(Expr):
    terms: tuple[Expr, ...]

    def evaluate(self, ctx: Ctx) -> Values:
        return np.min(np.vstack([np.nan_to_num(t.evaluate(ctx), nan=0.0) for t in self.terms]), axis=0)

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"MIN({','.join(t.formula(ctx, i) for t in self.terms)})"


@dataclass(frozen=True, eq=False)
class Round(Expr):
    """ROUND(x, digits) — half away from zero at 15 significant digits, as Excel and LibreOffice round."""

    x: Expr
    digits: int = 2

    def evaluate(self, ctx: Ctx) -> Values:
        return round_half_up(self.x.evaluate(ctx), self.digits)

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"ROUND({self.x.formula(ctx, i)},{self.digits})"


@dataclass(frozen=True, eq=False)
class If(Expr):
    """IF(a op b, then, else) with op one of ``> >= < <= = <>``."""

    a: Expr
    op: str
    b: Expr
    then: Expr
    other: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        a, b = np.nan_to_num(self.a.evaluate(ctx), nan=0.0), np.nan_to_num(self.b.evaluate(ctx), nan=0.0)
        cond = {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "=": a == b, "<>": a != b}[self.op]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cond, self.then.evaluate(ctx), self.other.evaluate(ctx))

    def formula(self, ctx: Ctx, i: int) -> str:
        return (f"IF({self.a.formula(ctx, i)}{self.op}{self.b.formula(ctx, i)},{self.then.formula(ctx, i)},"
                f"{self.other.formula(ctx, i)})")


# --- a grid of figures ------------------------------------------------------------------------------

@dataclass
class Figure:
    """A column of a grid: how each level computes it (``rep``/``team``/``region``/``company`` → Expr)."""

    key: str
    by_level: dict[str, Expr]
    money: bool = True  # an amount summed from amounts: its cached value is rounded to the cent (a quotient is not)


@dataclass
class Grid:
    """Rows of one sheet (entities or periods) × figures; :meth:`compute` fills values and formulas."""

    rows: list[Row]
    levels: list[str]  # the level of each row
    cols: dict[str, str]  # key → column letter
    relative: bool = False  # formulas refer to their own row relatively (a sortable table)
    values: dict[str, Values] = field(default_factory=dict)  # unrounded, as the formulas compute them
    money: set[str] = field(default_factory=set)  # keys whose cached values are rounded to the cent
    formulas: dict[str, list[str | None]] = field(default_factory=dict)

    def compute(self, figures: Iterable[Figure]) -> Grid:
        levels = np.array(self.levels)
        for fig in figures:
            vals = np.full(len(self.rows), np.nan)
            forms: list[str | None] = [None] * len(self.rows)
            # lower levels first: a team's Children() reads its reps' values of the same column
            for level in order_levels(self.levels):
                expr = fig.by_level.get(level)
                if expr is None:
                    continue
                idx = np.flatnonzero(levels == level)
                self.values[fig.key] = vals
                ctx = Ctx(self.rows, self.cols, self.values, idx, self.relative)
                vals[idx] = expr.evaluate(ctx)
                for i in idx:
                    forms[i] = "=" + expr.formula(ctx, int(i))
            self.values[fig.key] = vals
            self.formulas[fig.key] = forms
            if fig.money:
                self.money.add(fig.key)
        return self

    def value(self, key: str, i: int) -> float | None:
        """The cell's cached value: blank as None, money to the cent."""
        v = float(self.values[key][i])
        if v != v:
            return None
        return float(round_half_up(v, 2)) if key in self.money else v

    def column(self, key: str) -> list[float | None]:
        """:meth:`value` of every row, rounded in one pass."""
        vals = self.values[key]
        if key in self.money:
            vals = round_half_up(vals, 2)
        return [None if v != v else v for v in vals.tolist()]


def order_levels(levels: Sequence[str], order: Sequence[str] = ("rep", "team", "region", "company")) -> list[str]:
    return sorted(dict.fromkeys(levels), key=lambda lv: order.index(lv) if lv in order else len(order))


Evaluate = Callable[[Ctx], Values]
