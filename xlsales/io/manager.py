"""The manager's folder: the manager workbook, templates, inbox — and loading the setup from it."""

from __future__ import annotations

from pathlib import Path

from xlsales.core import schema
from xlsales.core.issues import Issue, a1, make
from xlsales.core.records import TableRead
from xlsales.core.setup import Setup, validate
from xlsales.io.reader import BookError, Context, open_book, read_table

MANAGER_NAMES = ("manager.xlsm", "manager.xlsx")
# Setup tables a run cannot do without: missing, they are an error (never the built-in sample); the others
# fall back to their defaults with a warning (setup_table_default).
REQUIRED_TABLES = ("settings", "roster", "stages", "lists", "thresholds", "targets")


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
    tables, letters, places = {}, {}, {}
    zh = any(n in book.sheet_names for n in schema.sheet_names(schema.SETUP_TABLES, "zh"))
    for t in schema.SETUP_TABLES:
        if t.key == "lists" and lists_read.rows_read:
            tr = lists_read
        else:
            ctx = Context(lists.choices, max_amount=float("inf"))
            tr = read_table(book, t, ctx)
        if tr.sheet is not None and schema.norm(tr.sheet) in _other_sheets(t):
            tr = TableRead(t)  # found by its headers on another table's sheet (设置 and 阈值 look alike): not there
        if tr.sheet is None:
            tables[t.key] = fallback.tables[t.key]
            if t.key in REQUIRED_TABLES:  # never the sample organisation or the sample targets instead
                issues.append(make("setup_table_missing", path.name, t.sheet("zh" if zh else "en"), "",
                                   t.sheet("zh" if zh else "en"), table=f"{t.sheet_zh} {t.sheet_en}"))
            else:  # an older manager workbook without this optional table: defaults, said aloud
                issues.append(make("setup_table_default", path.name, value=t.sheet_zh,
                                   table=f"{t.sheet_zh} {t.sheet_en}"))
            continue
        issues.extend(tr.issues)
        tables[t.key] = _strip(tr.frame, keep_loc=True)
        letters[t.key] = tr.letters
        places[t.key] = (path.name, tr.sheet, a1((tr.header_row or 0) + 1, t.first_col))
    setup = Setup(tables, letters, places)
    issues.extend(validate(setup))
    return setup, issues


def _other_sheets(table: schema.Table) -> set[str]:
    """The normalised sheet names of every other setup table."""
    return {schema.norm(n) for t in schema.SETUP_TABLES if t.key != table.key for n in (t.sheet_zh, t.sheet_en)}


def _strip(df, keep_loc: bool = False):
    cols = [c for c in df.columns if c != "_ok" and (keep_loc or not c.startswith("_"))]
    return df[cols].reset_index(drop=True)
