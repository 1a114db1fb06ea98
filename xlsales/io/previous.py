"""Figures of an earlier consolidated report: last week's commit, last month's pipeline and commit.

Read from the report's own review tables (周度承诺 and 月度预测, found by their headers in zh or en, the
older reports' headers too) through the safe reader, so an earlier report is just another workbook.
The period is the report's week: from its file name (``consolidated-YYYY-MM-DD.xlsx``), else from the
dates in the weekly review's title.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from xlsales.core.issues import Issue, define, make
from xlsales.core.records import rows_of
from xlsales.core.setup import Setup
from xlsales.io.reader import BookError, Context, open_book, read_table
from xlsales.report.book import ALL, LEVEL_LABEL, Previous
from xlsales.report.tables import MONTHLY, WEEKLY

define("previous_not_earlier", "error",
       "上期报告「{value}」的周期 {period} 不早于本期 {current},不能作为上期。请选更早一周的报告。",
       "The previous report '{value}' is for {period}, not before this period {current}, so it cannot be the "
       "previous one. Choose the report of an earlier week.")
define("previous_unreadable", "error",
       "「{value}」不是 xlsales 的汇总报告(找不到周度承诺和月度预测表),不能作为上期报告。",
       "'{value}' is not an xlsales consolidated report (no weekly commit and monthly review tables), so it cannot "
       "be the previous report.")

NAME = re.compile(r"consolidated-(\d{4}-\d{2}-\d{2})")
TITLE = re.compile(r"(?:本周|this week)\s+(\d{4}-\d{2}-\d{2})")


def period_of(path: Path) -> dt.date | None:
    m = NAME.search(Path(path).name)
    if m:
        try:
            return dt.date.fromisoformat(m.group(1))
        except ValueError:
            return None
    return None


def read_previous(path: Path, source: str = "") -> tuple[Previous | None, list[Issue]]:
    """The per-entity figures of an earlier report, or None with the issues saying why."""
    path = Path(path)
    try:
        book = open_book(path, path.name)
    except BookError as e:
        return None, [e.issue]
    ctx = Context(Setup.default().choices)
    w, m = read_table(book, WEEKLY, ctx), read_table(book, MONTHLY, ctx)
    if w.sheet is None or m.sheet is None or w.frame is None or m.frame is None:
        return None, [make("previous_unreadable", path.name, value=path.name)]
    period = period_of(path)
    if period is None:
        title = str(book.sheet(w.sheet).cell(0, 0))
        hit = TITLE.search(title)
        period = dt.date.fromisoformat(hit.group(1)) if hit else None
    to_code = {lab: code for labels in LEVEL_LABEL.values() for code, lab in labels.items()}
    rows: dict[tuple[str, str, str], dict] = {}
    for frame, cols in ((w.frame, ("commit_adj",)), (m.frame, ("open_pipe", "commit_open"))):
        for r in rows_of(frame):
            code = to_code.get(str(r.get("level")))
            if code is None:
                continue
            key = "" if code == "company" or str(r.get("key")) in ALL.values() else str(r.get("key"))
            region = str(r.get("region") or "") if code in ("rep", "team") else (key if code == "region" else "")
            d = rows.setdefault((code, key, region), {"level": code, "key": key, "region": region})
            for col in cols:
                v = r.get(col)
                d[col] = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0
    frame = pd.DataFrame(list(rows.values()), columns=["level", "key", "region", "commit_adj", "open_pipe",
                                                        "commit_open"]).fillna(0.0)
    frame = frame.rename(columns={"open_pipe": "pipeline_open", "commit_open": "commit_total"})
    return Previous(frame, period, source or path.name), []
