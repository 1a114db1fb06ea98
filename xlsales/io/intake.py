"""Reading one rep workbook: identity block plus every rep table, each cell validated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from xlsales.core import schema
from xlsales.core.records import RepRead
from xlsales.core.setup import Setup
from xlsales.io import coerce
from xlsales.io.reader import Book, BookError, Context, open_book, read_fields, read_table
from xlsales.io.safety import Sandbox

IDENTITY_SHEETS = ("说明", "Instructions")


def context(setup: Setup) -> Context:
    """Coercion context of a setup: its lists, stages by probability and the amount limit."""
    pairs = [(p, code) for code, p in setup.stage_probability().items()]
    lists = {n: setup.choices(n) for n in {c.choices for t in schema.REP_TABLES for c in t.columns if c.choices}}
    return Context(lambda name: lists.get(name) or setup.choices(name), pairs, setup.threshold("max_amount"))


def read_rep(path: Path, setup: Setup, display: str | None = None, book: Book | None = None,
             ctx: Context | None = None, sandbox: Sandbox | None = None) -> RepRead:
    """Read a rep workbook (``book``: one already read, e.g. by :func:`xlsales.io.reader.from_workbook`).

    Raises :class:`~xlsales.io.reader.BookError` with the one file-level issue when the file is unreadable
    or a table is refused (more rows than its template holds plus a margin).
    """
    book = book or open_book(Path(path), display or Path(path).name, sandbox)
    ctx = ctx or context(setup)
    out = RepRead(book.display)
    out.identity, out.identity_cells = read_fields(book, schema.IDENTITY, IDENTITY_SHEETS)
    out.period = _period(out.identity.get("period"))
    for t in schema.REP_TABLES:
        tr = read_table(book, t, ctx)
        if tr.refused is not None:
            raise BookError(tr.refused)
        out.tables[t.key] = tr
    return out


def _period(v: object) -> dt.date | None:
    if v is None:
        return None
    try:
        d = coerce.to_date(v).value
    except coerce.CoerceError:
        return None
    return d if isinstance(d, dt.date) else None
