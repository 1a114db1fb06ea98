"""Rolling a rep's workbook forward: what of last week's submission the next week's workbook starts with.

SPEC §3, §5, §7: a rep's deal list, customers and rolling forecast outlive the week; the visit report and
the weekly commit do not.  :func:`carry` takes the rows a rep last submitted (canonical values, by table)
and returns what the next period's workbook is pre-filled with:

* **open deals** (neither won nor lost) with every field the rep typed; won and lost deals are history;
* **customers**, all of them;
* the **12-month forecast** re-laid on the new period's months: a month both share keeps its figures, a
  month that has passed is dropped, a new month starts empty;
* **planned visits** of the week just gone or later that were not done; done and cancelled visits stay in
  the week they belong to;
* the weekly **commit** row is not carried (a new week, a new commit).

:func:`capacity` sizes a table to its rows plus headroom, so a rep with 250 deals is never stuck.
Pure: the standard library and the setup only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from xlsales.core import schema
from xlsales.core.issues import define
from xlsales.core.setup import Setup

#: free rows a pre-filled table keeps below the rep's data (a table is never smaller than its template)
HEADROOM: dict[str, int] = {"opportunities": 100, "visits": 100, "customers": 50}
#: blank rows below the data that the print area still takes in (to write on by hand)
PRINT_SPARE = 10
CLOSED_CATEGORIES = ("closed", "lost")


def capacity(table: schema.Table, rows: int) -> int:
    """Rows ``table`` gets in a workbook holding ``rows`` rows: its template's size, or the data plus headroom."""
    return max(table.rows, rows + HEADROOM.get(table.key, 0))


@dataclass
class Carried:
    """What a rolled workbook is pre-filled with (``data`` by table key) and what was left behind."""

    data: dict[str, list[dict]] = field(default_factory=dict)
    left: dict[str, int] = field(default_factory=dict)  # won_lost, visits_done, forecast_past, weekly

    @property
    def deals(self) -> int:
        return len(self.data.get("opportunities", []))

    @property
    def customers(self) -> int:
        return len(self.data.get("customers", []))

    @property
    def forecast_months(self) -> int:
        return len(self.data.get("forecast", []))

    @property
    def visits(self) -> int:
        return len(self.data.get("visits", []))


def open_flags(setup: Setup) -> dict[str, object]:
    """Each stage's Open flag in the setup, by stage code (for :func:`is_open`)."""
    return {str(r.en): r.open for r in setup.stages.itertuples()}


def is_open(deal: dict, flags: dict[str, object]) -> bool:
    """A deal still being worked: its stage is open in the setup (``flags``: :func:`open_flags`; unknown stages
    count as open) and its category is neither closed nor lost."""
    if deal.get("category") in CLOSED_CATEGORIES:
        return False
    stage = deal.get("stage")
    flag = flags.get(str(stage)) if stage is not None else None
    if flag is None or flag != flag:  # not in the setup, or the Open column left blank
        return stage not in ("Won", "Lost")
    return bool(flag)


def carry(tables: dict[str, list[dict]], since: dt.date, months: list[dt.date], setup: Setup) -> Carried:
    """The next workbook's rows from the rows a rep last submitted.

    ``tables`` holds canonical rows by table key (extra keys such as ``rep_id`` or ``_row`` are dropped);
    ``since`` is the Monday of the week just gone (planned visits from then on are carried); ``months`` are
    the forecast months of the period rolled to.
    """
    out = Carried()
    keys = {t.key: [c.key for c in t.input_columns] for t in schema.REP_TABLES}

    def keep(table: str, row: dict) -> dict:
        return {k: row.get(k) for k in keys[table] if row.get(k) is not None}

    deals = tables.get("opportunities", [])
    flags = open_flags(setup)
    out.data["opportunities"] = [keep("opportunities", d) for d in deals if is_open(d, flags)]
    out.left["won_lost"] = len(deals) - len(out.data["opportunities"])
    out.data["customers"] = [keep("customers", c) for c in tables.get("customers", [])]
    by_month: dict[dt.date, dict] = {}
    for r in tables.get("forecast", []):
        if (m := _month(r.get("month"))) is not None:
            by_month[m] = r
    out.data["forecast"] = [{**keep("forecast", by_month[m]), "month": m} for m in months if m in by_month]
    out.left["forecast_past"] = sum(1 for m in by_month if m < months[0]) if months else 0
    visits = tables.get("visits", [])
    out.data["visits"] = [keep("visits", v) for v in visits
                          if v.get("status") == "planned" and isinstance(v.get("date"), dt.date)
                          and _day(v["date"]) >= since]
    out.left["visits_done"] = len(visits) - len(out.data["visits"])
    out.left["weekly"] = len(tables.get("weekly", []))
    return out


def _day(v: dt.date) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _month(v: object) -> dt.date | None:
    if isinstance(v, dt.date):
        return _day(v).replace(day=1)
    return None


define("roll_not_this_week", "warning",
       "业务员 {value}({name}){week} 这一周没有被计入的提交;新工作簿按其最新的数据「{source}」(周期 {period})预填。"
       "请提醒其每周日按时提交。",
       "Rep {value} ({name}) has no counted submission for the week of {week}; the new workbook is pre-filled from "
       "their newest data, '{source}' (period {period}). Remind them to submit every Sunday.")
define("roll_no_data", "warning",
       "业务员 {value}({name})在收件箱和台账中都没有可用的数据,新工作簿是空白模板。请让其填写后按时提交。",
       "Rep {value} ({name}) has no usable data in the inbox or the ledger; the new workbook is a blank template. "
       "Ask them to fill it in and submit on time.")
define("roll_rows_not_carried", "warning",
       "业务员 {value} 上次提交「{source}」中有 {n} 行因错误未计入汇总,这些行没有带入新工作簿。请按退回文件中的批注改正,"
       "再把这些行填入新工作簿。",
       "{n} row(s) of rep {value}'s last submission '{source}' did not count because of errors and were not carried "
       "into the new workbook. Correct them as the comments of the returned workbook say, then enter them in the new "
       "workbook.")
