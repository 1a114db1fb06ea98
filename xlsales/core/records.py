"""What reading a workbook yields, as plain data: a table's rows and counts, a rep file's identity and tables.

Made by :mod:`xlsales.io` (the readers), used by the pure core (:mod:`xlsales.core.combine`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, overload

import numpy as np
import pandas as pd

from . import schema
from .issues import Issue
from .schema import Table

LOC = ["_file", "_sheet", "_row", "_ok"]  # where each row came from, and whether it counts


@dataclass
class TableRead:
    """One table as read: its rows (``frame``), issues and counts.

    ``rows_read`` and ``rows_rejected`` are counted as rows are read and rejected; ``refused``
    is set (and the frame empty) when the table was too long to read at all.
    """

    table: Table
    sheet: str | None = None
    header_row: int | None = None
    letters: dict[str, str] = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0
    refused: Issue | None = None

    @property
    def accepted(self) -> pd.DataFrame:
        return self.frame[self.frame["_ok"]] if self.frame is not None else empty_frame(self.table)


def empty_frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame(columns=[*table.keys, *LOC])


@dataclass
class RepRead:
    """What one rep file holds: its identity (raw and where), its period, its tables and their issues."""

    display: str
    identity: dict[str, object] = field(default_factory=dict)
    identity_cells: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableRead] = field(default_factory=dict)
    period: dt.date | None = None  # the identity block's period, read as a date

    @property
    def issues(self) -> list[Issue]:
        return [i for t in self.tables.values() for i in t.issues]

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())


# --- as plain data: what a cache stores (JSON), and reads back into the same objects ---------------------------

PLAIN_FORMAT = 1  # bump when the plain form of a read changes


class PlainError(ValueError):
    """Plain data that is not a read this version wrote (damaged, tampered with or foreign)."""


def value_to_plain(v: object) -> object:
    """A cell value as JSON: text, whole numbers, finite floats, booleans and None as themselves; dates,
    times, durations and non-finite floats tagged (``{"$d": "2026-11-30"}``); anything else is a :class:`PlainError`."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$f": repr(v)}
    if isinstance(v, dt.datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, dt.date):
        return {"$d": v.isoformat()}
    if isinstance(v, dt.time):
        return {"$t": v.isoformat()}
    if isinstance(v, dt.timedelta):
        return {"$td": [v.days, v.seconds, v.microseconds]}
    raise PlainError(f"no plain form for {type(v).__name__}")


_TAGS: dict[str, Callable[[Any], object]] = {
    "$f": lambda x: float(x) if x in ("nan", "inf", "-inf") else _bad(x),
    "$dt": dt.datetime.fromisoformat, "$d": dt.date.fromisoformat, "$t": dt.time.fromisoformat,
    "$td": lambda x: dt.timedelta(days=int(x[0]), seconds=int(x[1]), microseconds=int(x[2])),
}


def _bad(x: object) -> object:
    raise PlainError(f"not a plain value: {x!r}")


def value_from_plain(v: object) -> object:
    """The inverse of :func:`value_to_plain`."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dict) and len(v) == 1:
        (tag, x), = v.items()
        if tag in _TAGS:
            return _TAGS[tag](x)
    return _bad(v)


def read_to_plain(read: RepRead) -> dict[str, Any]:
    """A :class:`RepRead` as JSON-ready data (see :func:`read_from_plain`)."""
    return {"display": read.display, "period": value_to_plain(read.period),
            "identity": {k: value_to_plain(v) for k, v in read.identity.items()},
            "identity_cells": dict(read.identity_cells),
            "tables": {k: _table_to_plain(t) for k, t in read.tables.items()}}


def read_from_plain(data: Any) -> RepRead:
    """The :class:`RepRead` that :func:`read_to_plain` gave; :class:`PlainError` for anything else."""
    try:
        out = RepRead(_text(data["display"]))
        period = value_from_plain(data["period"])
        out.period = period if isinstance(period, dt.date) else None
        out.identity = {_text(k): value_from_plain(v) for k, v in data["identity"].items()}
        out.identity_cells = {_text(k): _text(v) for k, v in data["identity_cells"].items()}
        out.tables = {_text(k): _table_from_plain(k, t) for k, t in data["tables"].items()}
    except PlainError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise PlainError(f"not a read: {type(e).__name__}: {e}") from e
    return out


def _text(v: object) -> str:
    return v if isinstance(v, str) else str(_bad(v))


def _issue(d: Any) -> Issue:
    if not isinstance(d, dict) or set(d) != {f.name for f in fields(Issue)}:
        _bad(d)
    return Issue(**{k: _text(v) for k, v in d.items()})  # type: ignore[arg-type]


def _table_to_plain(t: TableRead) -> dict[str, Any]:
    frame = None
    if t.frame is not None:
        frame = {"columns": [str(c) for c in t.frame.columns],
                 "rows": [[value_to_plain(_native(v)) for v in row] for row in t.frame.itertuples(index=False)]}
    return {"sheet": t.sheet, "header_row": t.header_row, "letters": dict(t.letters), "frame": frame,
            "issues": [i.as_dict() for i in t.issues], "rows_read": t.rows_read, "rows_rejected": t.rows_rejected,
            "refused": t.refused.as_dict() if t.refused is not None else None}


def plain(v: object) -> object:
    """A frame's cell as a plain Python value: NaN and NaT as None, a timestamp as its date, numpy scalars as
    the Python values they hold."""
    if v is None or _missing(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        return v.item()
    return v


def rows_of(df: pd.DataFrame, blanks: bool = False, *, only: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """``df.to_dict("records")`` — the same dicts of the same values — a column at a time (pandas goes cell by
    cell through text columns, eight times slower on a report's tables).  ``blanks``: pandas' missing values
    (NaN, NaT) as None, which a cell can hold (as :func:`no_missing` would make them).  ``only``: the rows with
    just these columns (those ``df`` has), for a caller that reads a few of many."""
    if only is not None:
        df = df[[k for k in dict.fromkeys(only) if k in df.columns]]
    if not df.columns.is_unique:
        rows = df.to_dict("records")
        return no_missing(rows) if blanks else rows
    return columns_of(df, blanks).dicts()


class Rows(Sequence[dict[str, Any]]):
    """A frame's rows as :func:`rows_of` gives them, kept a column at a time (:func:`columns_of`): a row's dict is
    made when it is asked for; a whole column's values are at hand (:meth:`column`), for writing a column at a
    time without a dict per row."""

    __slots__ = ("_columns", "_n")

    def __init__(self, columns: dict[str, list[Any]], n: int) -> None:
        self._columns, self._n = columns, n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return {k: v[i] for k, v in self._columns.items()}

    def column(self, key: str) -> list[Any]:
        """The values of column ``key``, one per row (None for a column the frame did not have); not a copy."""
        values = self._columns.get(key)
        return values if values is not None else [None] * self._n

    def dicts(self) -> list[dict[str, Any]]:
        """Every row's dict."""
        keys = list(self._columns)
        return [dict(zip(keys, row, strict=True)) for row in zip(*self._columns.values(), strict=True)] if keys \
            else [{} for _ in range(self._n)]


def columns_of(df: pd.DataFrame, blanks: bool = False) -> Rows:
    """:func:`rows_of`, kept a column at a time: the same values, without a dict per row."""
    if not df.columns.is_unique:
        rows = rows_of(df, blanks)
        return Rows({k: [r.get(k) for r in rows] for k in dict.fromkeys(df.columns)}, len(rows))
    return Rows({k: _column_values(df.iloc[:, i], blanks) for i, k in enumerate(df.columns)}, len(df))


def no_missing(rows: list[dict]) -> list[dict]:
    """The rows with None for pandas' missing values (NaN, NaT), which a cell cannot hold."""
    return [{k: (None if _missing(v) else v) for k, v in r.items()} for r in rows]


def _missing(v: object) -> bool:
    return (isinstance(v, float) and v != v) or v is pd.NaT


def _column_values(s: pd.Series, blanks: bool = False) -> list:
    if isinstance(s.dtype, np.dtype) and s.dtype != object:
        values = s.tolist()
    else:
        cells = s.to_numpy(dtype=object)
        kinds = set(map(type, cells))
        if type(pd.NA) in kinds or any(issubclass(k, np.generic) for k in kinds):
            values = [_boxed(v) if isinstance(v, np.generic) else None if v is pd.NA else v for v in cells]
        else:  # Python values only (texts, numbers, dates, None): as they are
            values = cells.tolist()
    if blanks:  # where pandas sees a missing value (found in C), each checked; a blank text is None already
        for i in np.flatnonzero(s.isna().to_numpy()).tolist():
            if values[i] is not None and _missing(values[i]):
                values[i] = None
    return values


def _boxed(v: np.generic) -> object:
    """A numpy scalar as pandas' ``to_dict`` gives it: a Python number or bool, a Timestamp or Timedelta."""
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v)
    if isinstance(v, np.timedelta64):
        return pd.Timedelta(v)
    return v.item()


def plain_records(df: pd.DataFrame) -> list[dict]:
    """The rows of ``df`` as dicts of :func:`plain` values."""
    return [{k: plain(v) for k, v in r.items()} for r in rows_of(df)]


def _native(v: object) -> object:
    """numpy scalars as the Python values they hold (a frame's numeric columns give them back)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, str | dt.date | dt.time | dt.timedelta) else v


def _table_from_plain(key: str, d: Any) -> TableRead:
    table = next((t for t in schema.REP_TABLES if t.key == key), None)
    if table is None:
        _bad(key)
    assert table is not None
    out = TableRead(table, None if d["sheet"] is None else _text(d["sheet"]),
                    None if d["header_row"] is None else int(d["header_row"]),
                    {_text(k): _text(v) for k, v in d["letters"].items()})
    frame = d["frame"]
    if frame is not None:
        columns = [_text(c) for c in frame["columns"]]
        if columns != [*table.keys, *LOC]:
            _bad(columns)
        records = [dict(zip(columns, map(value_from_plain, row), strict=True)) for row in frame["rows"]]
        out.frame = pd.DataFrame(records, columns=columns) if records else empty_frame(table)
    out.issues = [_issue(i) for i in d["issues"]]
    out.rows_read, out.rows_rejected = int(d["rows_read"]), int(d["rows_rejected"])
    out.refused = None if d["refused"] is None else _issue(d["refused"])
    return out
