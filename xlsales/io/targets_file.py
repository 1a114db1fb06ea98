"""The targets the reports compare against: the targets workbook's long table when it exists, else the setup's.

Reading ``reports/targets.xlsx`` is input (a manager may have edited it); decomposing the setup is the
pure :func:`xlsales.core.targets.decompose`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.setup import Setup
from ..core.targets import COLUMNS, decompose
from ..report.targets_book import LONG, default_out


def load_targets(setup: Setup, setup_dir: Path, levels: tuple[str, ...] | None = ("rep",)
                 ) -> tuple[pd.DataFrame, str]:
    """The targets the reports compare against, and where they came from.

    ``DIR/reports/targets.xlsx`` when it exists (so a manager's edits to its long
    table count), else a fresh :func:`~xlsales.core.targets.decompose` of the setup —
    the same numbers ``xlsales targets`` would write.  The next fiscal year's plan,
    when the Targets table has one, is decomposed and added: the 12 forecast
    months reach into it.  ``levels``: the levels wanted (the reports need rep-months only).
    """
    from .reader import BookError, open_book

    fy = setup.fiscal_year_start.year
    nxt = next_year(setup, fy)
    if levels is not None:
        nxt = nxt[nxt["level"].isin(levels)]
    path = default_out(setup, setup_dir)
    if path.exists():
        try:
            df = read_long(open_book(path, path.name), levels=levels)
        except BookError:
            df = None
        if df is not None:
            return pd.concat([df, nxt], ignore_index=True) if not nxt.empty else df, str(path)
    df, _ = decompose(setup, None, "both", days=False)
    if levels is not None:
        df = df[df["level"].isin(levels)].reset_index(drop=True)
    return pd.concat([df, nxt], ignore_index=True) if not nxt.empty else df, "setup"


def read_long(book, levels: tuple[str, ...] | None = None) -> pd.DataFrame | None:
    """The long target table of a targets workbook xlsales wrote (None if it has none, or a row is not a
    target): columns found by their headers; only ``levels`` (all when None).  Read directly — the table
    is xlsales' own output and can hold a hundred thousand rows."""
    from .reader import find_table

    where = find_table(book, LONG)
    if where is None:
        return None
    name, header, cols, _ = where
    if set(cols) != set(COLUMNS):
        return None
    rows = book.sheet(name).rows
    at = {k: cols[k] for k in COLUMNS}
    out = []
    for raw in rows[header + 1:]:
        rec = {k: (raw[i] if i < len(raw) else None) for k, i in at.items()}
        if all(v in (None, "") for v in rec.values()):
            continue
        level = "" if rec["level"] is None else str(rec["level"])
        if levels is not None and level not in levels:
            continue
        t = rec["target"]
        if not isinstance(t, int | float) or isinstance(t, bool) or t != t:
            return None
        out.append({**{k: "" if rec[k] is None else str(rec[k]) for k in COLUMNS[:-1]}, "target": float(t)})
    return pd.DataFrame(out, columns=list(COLUMNS))


def next_year(setup: Setup, fy: int) -> pd.DataFrame:
    """The decomposition of fiscal year ``fy + 1`` when the Targets table plans it, else an empty frame."""
    years = set()
    for y in setup.tables["targets"]["year"]:
        try:
            years.add(int(y))
        except (TypeError, ValueError):
            continue
    if fy + 1 not in years:
        return pd.DataFrame(columns=list(COLUMNS))
    df, _ = decompose(setup, None, "both", year=fy + 1, days=False)
    return df


