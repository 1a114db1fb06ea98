"""What the review sheets read: the report's data tables, the organisation's rows and the calendar.

:class:`ReviewData` is built once per report.  It holds every table a figure
sums over, exactly as the report writes it (labels in the report's language,
accepted and rejected rows with their status) as :class:`xlsales.core.expr.Table`
objects that know their sheet and columns, and the **source tables** the
figures need besides the rep data — monthly targets, actuals, last week's and
last month's figures, the manager's adjustments, daily targets and holidays.
Each source table is declared here once (:data:`SOURCES`) and written on its
own sheet by :func:`source_sheets`, so every figure can be traced to its inputs.

:func:`org_rows` lays out the organisation: each rep, then their team
(a team is region + team name: two regions may both have a 大客户组), then the
region, then the company.  A rep row sums the data (``SUMIFS`` on the rep id);
every other row sums the rows below it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from xlsales.core import actuals as act
from xlsales.core.combine import Consolidation
from xlsales.core.expr import Crit, Row, Table, eq, ge, le
from xlsales.core.issues import col_letter
from xlsales.core.periods import Calendar
from xlsales.core.records import columns_of, rows_of
from xlsales.core.schema import Lang
from xlsales.core.schema import Table as SchemaTable
from xlsales.core.setup import Setup, list_labels
from xlsales.core.targets import UNASSIGNED, split, to_fraction, working_days
from xlsales.report.model import Block, Report
from xlsales.report.tables import (
    ACTUALS,
    ADJUST,
    DAILY,
    DATA,
    HOLIDAYS,
    PREVIOUS,
    SOURCES,
    SUBMISSIONS,
    TARGETS,
    THRESHOLDS,
)

LEVELS = ("rep", "team", "region", "company")
LEVEL_LABEL = {"zh": {"rep": "业务员", "team": "团队", "region": "大区", "company": "公司"},
               "en": {"rep": "Rep", "team": "Team", "region": "Region", "company": "Company"}}
ALL = {"zh": "全公司", "en": "All"}
STATUS = {"zh": {True: "有效", False: "拒绝"}, "en": {True: "accepted", False: "rejected"}}
FILE_STATUS = {"zh": {"accepted": "已计入", "rejected": "拒收", "superseded": "已被替代"},
               "en": {"accepted": "accepted", "rejected": "rejected", "superseded": "superseded"}}
MISSING = {"zh": "未提交", "en": "missing"}
YES = {"zh": "是", "en": "Yes"}
NO = {"zh": "否", "en": "No"}


SOURCE_TITLE = {
    "targets": "目标 Targets · 调高目标(销售额),按业务员和月份 raised revenue target by rep and month",
    "actuals": "实际数 Actuals",
    "previous": "上期 Previous · 上周和上月报告中的数字 figures of last week's and last month's reports",
    "adjust": "调整 Adjustments · 主管对本周承诺的调整 the manager's adjustments of this week's commit",
    "thresholds": "阈值(来自主管工作簿)Thresholds from the manager workbook",
    "daily": "日目标 Daily targets · 月目标按工作日分到每天,取整到目标单位 monthly targets over working days, at the "
             "target's rounding unit",
    "holidays": "假日 Holidays · 来自主管工作簿的日历 from the manager's calendar",
}


def where(table: SchemaTable, lang: Lang, frame: pd.DataFrame) -> Table:
    """An expression table for a schema table written at its place: sheet, first data row, column letters."""
    cols = {c.key: col_letter(table.first_col + i) for i, c in enumerate(table.columns)}
    return Table(table.key, table.sheet(lang), table.first_row + 2, cols, frame)


@dataclass
class Previous:
    """Figures of an earlier report: per (level, key) ``commit_adj``, ``pipeline_open``, ``commit_total``."""

    frame: pd.DataFrame  # columns: level code, key, region, period, commit_adj, pipeline_open, commit_total
    period: dt.date | None = None
    source: str = ""


class ReviewData:
    """Every table the review sheets sum over, and the calendar and labels they share."""

    def __init__(self, c: Consolidation, setup: Setup, lang: Lang, cal: Calendar,
                 targets: pd.DataFrame | None, actuals: act.Actuals, last_week: Previous | None = None,
                 last_month: Previous | None = None) -> None:
        self.c, self.setup, self.lang, self.cal, self.actuals = c, setup, lang, cal, actuals
        self.last_week, self.last_month = last_week, last_month
        self.labels = list_labels(setup, lang)
        self.accepted = STATUS[lang][True]
        self.roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
        self.tables: dict[str, Table] = {}
        for k in ("opportunities", "visits", "forecast", "weekly", "customers", "attendance"):
            self.tables[k] = where(DATA[k], lang, self._labelled(k))
        self.frames: dict[str, pd.DataFrame] = {
            "targets": _by_rep(self._targets(targets)),
            "actuals": _by_rep(self._actuals()),
            "previous": self._previous(),
            "adjust": self._adjust(),
            "thresholds": pd.DataFrame(setup.rows("thresholds"), columns=THRESHOLDS.keys),
            "daily": _by_rep(self._daily(targets)),
            "holidays": pd.DataFrame([{"date": d, "name": _holiday_name(setup, d)} for d in sorted(setup.holidays)],
                                     columns=HOLIDAYS.keys),
        }
        for t in SOURCES:
            self.tables[t.key] = where(t, lang, self.frames[t.key])
        self.frames["submissions"] = self._submissions()
        self.tables["submissions"] = where(SUBMISSIONS, lang, self.frames["submissions"])

    # --- the submissions: one row per file, and one per rep who sent none ---------------------------
    def _submissions(self) -> pd.DataFrame:
        c, lang, cal = self.c, self.lang, self.cal
        rows = []
        for f in c.files:
            who = self._who(str(f.rep_id)) if f.rep_id else {"rep_id": None, "team": "", "region": ""}
            late = f.period != cal.period or f.modified is None or f.modified > cal.deadline
            rows.append({"file": f.display, **who, "rep_name": self.roster.get(str(f.rep_id), {}).get("name"),
                         "status": FILE_STATUS[lang][f.status], "period": f.period,
                         "rows_read": f.rows_read, "rows_accepted": f.rows_accepted,
                         "rows_rejected": f.rows_rejected, "rows_superseded": f.rows_superseded,
                         "rows_unaccounted": f.rows_read - f.rows_accepted - f.rows_rejected - f.rows_superseded,
                         "errors": f.errors, "warnings": f.warnings,
                         "modified": f.modified.isoformat(sep=" ") if f.modified else "",
                         "on_time": "" if f.status != "accepted" else (NO[lang] if late else YES[lang]),
                         "sha256": f.sha256})
        for rep_id in c.missing:
            rows.append({"file": "", **self._who(rep_id), "rep_name": self.roster.get(rep_id, {}).get("name"),
                         "status": MISSING[lang], "rows_read": 0, "rows_accepted": 0, "rows_rejected": 0,
                         "rows_superseded": 0, "rows_unaccounted": 0, "errors": 1, "warnings": 0,
                         "on_time": NO[lang]})
        return pd.DataFrame(rows, columns=SUBMISSIONS.keys)

    # --- the rep data as the report shows it ---------------------------------------------------
    def _labelled(self, key: str) -> pd.DataFrame:
        df = _by_rep(self.c.frames[key].copy())
        df["_status"] = df["_ok"].map(lambda ok: STATUS[self.lang][bool(ok)])
        lists = {"category": "category", "stage": "stage", "status": "visit_status", "purpose": "purpose",
                 "attendance": "attendance"}
        for col, lst in lists.items():
            if col in df.columns:
                lab = self.labels[lst]
                df[col] = df[col].map(lambda v, lab=lab: lab.get(v, v) if v is not None else None)
        for col in ("realized", *[c for c in df.columns if c.startswith("chk_")]):
            if col in df.columns:
                df[col] = df[col].map(lambda v: YES[self.lang] if v is True else (NO[self.lang] if v is False
                                                                                  else None))
        return df

    # --- criteria every figure uses ------------------------------------------------------------
    def ok(self) -> Crit:
        """Accepted rows only."""
        return eq("_status", self.accepted)

    def cat(self, code: str) -> Crit:
        return eq("category", self.labels["category"][code])

    def visit_status(self, code: str) -> Crit:
        return eq("status", self.labels["visit_status"][code])

    def attendance(self, code: str) -> Crit:
        return eq("attendance", self.labels["attendance"][code])

    def purpose(self, code: str) -> Crit:
        return eq("purpose", self.labels["purpose"][code])

    def yes(self, col: str) -> Crit:
        return eq(col, YES[self.lang])

    def revenue(self) -> Crit:
        return eq("kind", self.labels["target_kind"].get("revenue", "revenue"))

    # --- source frames ------------------------------------------------------------------------------
    def _who(self, rep: str) -> dict:
        r = self.roster.get(rep, {})
        return {"rep_id": rep, "team": r.get("team") or "", "region": r.get("region") or ""}

    def _targets(self, targets: pd.DataFrame | None) -> pd.DataFrame:
        """Raised revenue targets (plan where no raised target exists) by rep and month; the unassigned
        part of an area (no rep, or ramping reps) as the rep (未分配) of its region."""
        rows = []
        for r in _rep_targets(targets).itertuples():
            who = self._who(str(r.rep)) if r.rep != UNASSIGNED else {"rep_id": UNASSIGNED, "team": "",
                                                                      "region": r.region}
            rows.append({**who, "region": who["region"] or r.region,
                         "month": dt.date(int(r.period[:4]), int(r.period[5:7]), 1), "target": float(r.target)})
        return pd.DataFrame(rows, columns=TARGETS.keys)

    def _actuals(self) -> pd.DataFrame:
        lab = self.labels["target_kind"]
        rows = [{**self._who(str(r["rep_id"])), "month": r["month"], "kind": lab.get(r["kind"], r["kind"]),
                 "amount": float(r["amount"])} for r in rows_of(self.actuals.frame)]
        return pd.DataFrame(rows, columns=ACTUALS.keys)

    def _previous(self) -> pd.DataFrame:
        rows = []
        for prev, which in ((self.last_week, "week"), (self.last_month, "month")):
            if prev is None:
                continue
            for r in rows_of(prev.frame):
                rows.append({**r, "level": LEVEL_LABEL[self.lang].get(r["level"], r["level"]),
                             "which": WHICH[self.lang][which], "period": prev.period})
        return pd.DataFrame(rows, columns=PREVIOUS.keys)

    def _adjust(self) -> pd.DataFrame:
        adj = [a for a in self.setup.rows("adjustments") if a.get("week") == self.cal.period]
        rows = []
        teams: dict[str, set[str]] = {}
        for r in self.roster.values():
            teams.setdefault(str(r.get("team")), set()).add(str(r.get("region")))
        for a in adj:
            region = a.get("region") or ""
            if a.get("level") == "rep" and not region:
                region = self._who(str(a.get("key")))["region"]
            elif a.get("level") == "team" and not region and len(teams.get(str(a.get("key")), set())) == 1:
                region = next(iter(teams[str(a.get("key"))]))  # a team name used in one region only
            rows.append({**a, "level": LEVEL_LABEL[self.lang].get(a["level"], a["level"]), "region": region})
        return pd.DataFrame(rows, columns=ADJUST.keys)

    def _daily(self, targets: pd.DataFrame | None) -> pd.DataFrame:
        """Each rep-month target over its working days at the target's rounding unit, for the months the
        report's day-based figures touch (last week, this week and this month)."""
        need = {m.replace(day=1) for w in (self.cal.last_week, self.cal.week, self.cal.month) for m in w}
        unit = to_fraction(self.setup.rounding_unit) if self.setup.rounding_unit > 0 else Fraction(1)
        hol = self.setup.holidays
        rows = []
        for r in _rep_targets(targets).itertuples():
            m = dt.date(int(r.period[:4]), int(r.period[5:7]), 1)
            if m not in need:
                continue
            days = working_days(m.year, m.month, hol) or _calendar(m.year, m.month)
            who = self._who(str(r.rep)) if r.rep != UNASSIGNED else {"rep_id": UNASSIGNED, "team": "",
                                                                      "region": r.region}
            parts = split(to_fraction(r.target), [1] * len(days), unit)
            rows += [{**who, "region": who["region"] or r.region, "date": d, "target": float(x)}
                     for d, x in zip(days, parts, strict=True)]
        return pd.DataFrame(rows, columns=DAILY.keys)


WHICH = {"zh": {"week": "上周", "month": "上月"}, "en": {"week": "last week", "month": "last month"}}


def _by_rep(df: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by rep (their order kept within a rep): each rep's figures read only the rep's rows."""
    if df.empty or "rep_id" not in df.columns:
        return df
    return df.sort_values("rep_id", kind="stable", key=lambda s: s.astype(str)).reset_index(drop=True)


def _rep_targets(targets: pd.DataFrame | None) -> pd.DataFrame:
    if targets is None or targets.empty:
        return pd.DataFrame(columns=["rep", "region", "period", "target"])
    t = targets[(targets["level"] == "rep") & (targets["kind"] == "revenue")]
    basis = "raised" if (t["basis"] == "raised").any() else "plan"
    return t[t["basis"] == basis]


def _calendar(y: int, m: int) -> list[dt.date]:
    d, out = dt.date(y, m, 1), []
    while d.month == m:
        out.append(d)
        d += dt.timedelta(days=1)
    return out


def _holiday_name(setup: Setup, d: dt.date) -> str:
    df = setup.tables["holidays"]
    hit = df.loc[df["date"] == d, "name"]
    return str(hit.iloc[0]) if len(hit) and hit.iloc[0] is not None else ""


# --- the organisation's rows ----------------------------------------------------------------------

@dataclass(frozen=True)
class Entity:
    level: str
    key: str  # rep id, team name, region name, "" for the company
    name: str = ""
    team: str = ""
    region: str = ""

    def row(self, lang: Lang) -> dict:
        return {"level": LEVEL_LABEL[lang][self.level], "key": self.key or ALL[lang], "name": self.name,
                "team": self.team, "region": self.region}


def entities(setup: Setup) -> list[Entity]:
    """Active reps under their team (region + team), the team under its region, then the company."""
    roster = [r for r in setup.rows("roster") if r.get("active") in (True, None)]
    out: list[Entity] = []
    for g in dict.fromkeys(str(r["region"]) for r in roster):
        for t in dict.fromkeys(str(r["team"]) for r in roster if str(r["region"]) == g):
            out += [Entity("rep", str(r["rep_id"]), str(r.get("name") or ""), t, g) for r in roster
                    if str(r["region"]) == g and str(r["team"]) == t]
            out.append(Entity("team", t, "", t, g))
        out.append(Entity("region", g, "", "", g))
    out.append(Entity("company", ""))
    return out


def org_rows(ents: list[Entity], first_row: int) -> list[Row]:
    """Grid rows for ``ents`` written from sheet row ``first_row`` (1-based): reps carry their rep-id
    criterion, teams, regions and the company sum the rows below them."""
    rows: list[Row] = []
    for i, e in enumerate(ents):
        if e.level == "rep":
            rows.append(Row(first_row + i, (eq("rep_id", e.key),)))
            continue
        child = {"team": "rep", "region": "team", "company": "region"}[e.level]
        kids = tuple(j for j, x in enumerate(ents) if x.level == child and under(x, e))
        rows.append(Row(first_row + i, children=kids))
    return rows


def under(x: Entity, e: Entity) -> bool:
    """Is ``x`` inside ``e`` (a team is region + team)?"""
    if e.level == "company":
        return True
    if e.level == "region":
        return x.region == e.region
    if e.level == "team":
        return x.region == e.region and x.team == e.team
    return x.level == "rep" and x.key == e.key


def reps_under(ents: list[Entity], e: Entity) -> list[Entity]:
    return [x for x in ents if x.level == "rep" and under(x, e)]


def window(col: str, a: dt.date, b: dt.date) -> tuple[Crit, Crit]:
    return ge(col, a), le(col, b)


# --- writing the sources -----------------------------------------------------------------------------

def source_sheets(report: Report, data: ReviewData) -> None:
    """One sheet per source table, and a defined name ``xs_t_<key>`` per threshold (the bands use them)."""
    lang = report.lang
    for t in SOURCES:
        sh = report.sheet(t.sheet(lang))
        title = SOURCE_TITLE[t.key]
        if t.key == "actuals":
            title += f" · {data.actuals.label('zh')} / {data.actuals.label('en')}"
        sh.put(0, 0, title, style="subtitle")
        sh.blocks.append(Block(t, columns_of(data.frames[t.key], blanks=True)))
        sh.freeze = (2, 0)
        sh.protect = True  # the figures read these rows where they stand: filter them, but do not sort
    first = THRESHOLDS.first_row + 2
    for i, r in enumerate(rows_of(data.frames["thresholds"])):
        report.names[f"xs_t_{r['key']}"] = f"='{THRESHOLDS.sheet(lang)}'!$C${first + i}"


def submissions(d: ReviewData) -> tuple[set[str], set[str]]:
    """Reps whose accepted file is for the report week, and those of them saved before the deadline."""
    ok = [f for f in d.c.files if f.status == "accepted" and f.period == d.cal.period and f.rep_id]
    return ({str(f.rep_id) for f in ok},
            {str(f.rep_id) for f in ok if f.modified is not None and f.modified <= d.cal.deadline})


def submitted_cells(ents: list[Entity], e: Entity, submitted: set[str], on_time: set[str],
                    lang: Lang) -> dict[str, str]:
    """已提交 / 按时 of an entity: 是/否 for a rep, "n/m" of its reps above."""
    if e.level == "rep":
        return {"submitted": YES[lang] if e.key in submitted else NO[lang],
                "on_time": YES[lang] if e.key in on_time else NO[lang]}
    reps = reps_under(ents, e)
    return {"submitted": f"{sum(1 for x in reps if x.key in submitted)}/{len(reps)}",
            "on_time": f"{sum(1 for x in reps if x.key in on_time)}/{len(reps)}"}

