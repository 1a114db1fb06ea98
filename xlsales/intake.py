"""Reading one rep workbook: identity block plus every rep table, each cell validated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from . import coerce, schema
from .issues import Issue
from .reader import Book, BookError, Context, TableRead, open_book, read_fields, read_table
from .safety import Sandbox
from .setup import Setup

IDENTITY_SHEETS = ("说明", "Instructions")


@dataclass
class RepRead:
    """What one rep file holds: its identity (raw and where), tables and issues."""

    display: str
    identity: dict[str, object] = field(default_factory=dict)
    identity_cells: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableRead] = field(default_factory=dict)

    @property
    def issues(self) -> list[Issue]:
        return [i for t in self.tables.values() for i in t.issues]

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    @property
    def period(self) -> dt.date | None:
        v = self.identity.get("period")
        if v is None:
            return None
        try:
            return coerce.to_date(v).value
        except coerce.CoerceError:
            return None


def context(setup: Setup) -> Context:
    """Coercion context of a setup: its lists, stages by probability and the amount limit."""
    pairs = [(p, code) for code, p in setup.stage_probability().items()]
    lists = {n: setup.choices(n) for n in {c.choices for t in schema.REP_TABLES for c in t.columns if c.choices}}
    return Context(lambda name: lists.get(name) or setup.choices(name), pairs, setup.threshold("max_amount"))


def read_rep(path: Path, setup: Setup, display: str | None = None, book: Book | None = None,
             ctx: Context | None = None, sandbox: Sandbox | None = None) -> RepRead:
    """Read a rep workbook (``book``: one already read, e.g. by :func:`xlsales.reader.from_workbook`).

    Raises :class:`~xlsales.reader.BookError` with the one file-level issue when the file is unreadable
    or a table is refused (more rows than its template holds plus a margin).
    """
    book = book or open_book(Path(path), display or Path(path).name, sandbox)
    ctx = ctx or context(setup)
    out = RepRead(book.display)
    out.identity, out.identity_cells = read_fields(book, schema.IDENTITY, IDENTITY_SHEETS)
    for t in schema.REP_TABLES:
        tr = read_table(book, t, ctx)
        if tr.refused is not None:
            raise BookError(tr.refused)
        out.tables[t.key] = tr
    return out
