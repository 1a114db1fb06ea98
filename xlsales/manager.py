"""The manager's folder: the manager workbook, templates, inbox — and loading the setup from it."""

from __future__ import annotations

from pathlib import Path

from . import schema
from .issues import Issue, make
from .reader import BookError, Context, open_book, read_table
from .setup import Setup, validate

MANAGER_NAMES = ("manager.xlsm", "manager.xlsx")


def manager_path(folder: Path) -> Path | None:
    """The manager workbook in ``folder`` (``.xlsm`` preferred), or None."""
    for name in MANAGER_NAMES:
        p = Path(folder) / name
        if p.exists():
            return p
    return None


def load_setup(folder_or_file: Path) -> tuple[Setup, list[Issue]]:
    """Read and validate every setup table of the manager workbook.

    Cell-level problems (a probability of 130%, a date that is not one) and
    cross-row problems (a rep id twice) come back as issues naming the cell; the
    setup is still returned so callers can decide (the CLI stops on errors).
    """
    p = Path(folder_or_file)
    path = p if p.is_file() else manager_path(p)
    if path is None:
        return Setup.default(), [make("setup_missing", str(p), key="manager.xlsx", table=str(p))]
    try:
        book = open_book(path, path.name)
    except BookError as e:
        return Setup.default(), [e.issue]
    fallback = Setup.default()
    issues: list[Issue] = []
    lists_read = read_table(book, schema.LISTS, Context(fallback.choices))
    lists = Setup({**fallback.tables, "lists": _strip(lists_read.frame)}) if lists_read.rows_read else fallback
    tables, letters = {}, {}
    for t in schema.SETUP_TABLES:
        if t.key == "lists" and lists_read.rows_read:
            tr = lists_read
        else:
            ctx = Context(lists.choices, max_amount=float("inf"))
            tr = read_table(book, t, ctx)
        if tr.sheet is None:  # an older manager workbook without this table: defaults, said aloud
            issues.append(make("setup_table_default", path.name, value=t.sheet_zh, table=f"{t.sheet_zh} {t.sheet_en}"))
            tables[t.key] = fallback.tables[t.key]
            continue
        issues.extend(tr.issues)
        tables[t.key] = _strip(tr.frame, keep_loc=True)
        letters[t.key] = tr.letters
    setup = Setup(tables, letters)
    issues.extend(validate(setup))
    return setup, issues


def _strip(df, keep_loc: bool = False):
    cols = [c for c in df.columns if c != "_ok" and (keep_loc or not c.startswith("_"))]
    return df[cols].reset_index(drop=True)
