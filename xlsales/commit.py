"""Commit rollups, the weekly commit review and the monthly forecast review (SPEC §3–§5).

Rows are entities — every rep, then their team, region and the company — and
every figure is a :class:`~xlsales.formula.Sum` over the report's data tables,
so it is computed here by pandas and written as a SUMIFS/COUNTIFS formula with
that value cached.  The manager's adjustments override a rep's or a team's
commit for the week; the rep's own number stays beside it.  "Last week" and
"last month" come from the previous report (``--previous``) — without one the
comparisons say so instead of showing 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .consolidate import Consolidation
from .formula import Cond, Sum, Where, quote, ratio, ratio_xl
from .issues import col_letter
from .model import Block, Chart, CondFormat, Report, Sheet
from .report import STATUS, data_table
from .schema import C, Lang, Table
from .setup import Setup

LEVELS = ("rep", "team", "region", "company")
LEVEL_LABEL = {"zh": {"rep": "业务员", "team": "团队", "region": "大区", "company": "公司"},
               "en": {"rep": "Rep", "team": "Team", "region": "Region", "company": "Company"}}
GRAIN_LABEL = {"zh": {"week": "周", "month": "月", "quarter": "季"},
               "en": {"week": "week", "month": "month", "quarter": "quarter"}}
NO_PREVIOUS = {"zh": "无上期数据", "en": "no previous week"}
YES = {"zh": "是", "en": "Yes"}
NO = {"zh": "否", "en": "No"}

ENTITY = (C("level", "级别", "Level", width=8), C("key", "编号/名称", "Key", width=11),
          C("name", "姓名", "Name", width=9), C("team", "团队", "Team", width=11), C("region", "大区", "Region", width=8))


def _m(key: str, zh: str, en: str, kind: str = "money", width: float = 13) -> C:  # a figure column
    return C(key, zh, en, kind, width=width)  # type: ignore[arg-type]


WEEKLY_REVIEW = Table("weekly_review", "RptWeeklyCommit", "周度承诺", "WeeklyCommitReview", (
    *ENTITY,
    C("submitted", "提交", "Submitted", width=9),
    _m("last_commit", "上周承诺", "Last week commit"),
    _m("last_actual", "上周实际", "Last week actual"),
    _m("actual_vs_commit", "实际/承诺", "Actual / commit", "percent", 10),
    _m("commit_own", "本周承诺(本人)", "Commit (own)"),
    _m("commit_adj", "本周承诺(调整后)", "Commit (adjusted)"),
    C("adjusted_by", "调整人/原因", "Adjusted by / why", width=18),
    _m("upside_own", "本周有望", "Upside this week"),
    _m("commit_share", "承诺/(承诺+有望)", "Commit / (commit + upside)", "percent", 11),
    _m("commit_deals", "本周到期承诺商机", "Commit deals closing this week"),
    _m("month_fc_up", "本月预测+有望", "Month forecast + upside"),
    _m("month_target", "本月调高目标", "Month raised target"),
    _m("month_ratio", "本月达成预估", "Month vs target", "percent", 10),
    _m("quarter_fc_up", "本季预测+有望", "Quarter forecast + upside"),
    _m("quarter_target", "本季调高目标", "Quarter raised target"),
    _m("quarter_ratio", "本季达成预估", "Quarter vs target", "percent", 10),
    _m("won", "已成交订单", "Orders won"),
    _m("unrealized", "未实现订单", "Unrealized orders"),
    _m("unrealized_share", "未实现占比", "Unrealized share", "percent", 10),
), rows=0)

MONTHLY_REVIEW = Table("monthly_review", "RptMonthlyReview", "月度预测", "MonthlyReview", (
    *ENTITY,
    _m("months", "已填预测月数", "Forecast months", "int", 9),
    _m("reps", "业务员数", "Reps", "int", 8),
    _m("compliant", "100%提交人数", "Reps fully submitted", "int", 10),
    _m("compliance", "提交率", "Submission rate", "percent", 9),
    _m("fc12", "12个月预测", "12-month forecast"),
    _m("up12", "12个月有望", "12-month upside"),
    _m("total12", "预测+有望", "Forecast + upside"),
    _m("annual_target", "年度调高目标", "Annual raised target"),
    _m("target_ratio", "(预测+有望)/目标", "(Forecast + upside) / target", "percent", 11),
    _m("pipeline_open", "未结通路", "Open pipeline"),
    _m("coverage", "通路/目标", "Pipeline / target", "percent", 10),
    _m("quality", "通路质量(≥50%)", "Quality (≥ 50%)", "percent", 10),
    _m("commit_total", "承诺合计", "Commit total"),
    _m("prev_pipeline", "上期通路", "Previous pipeline"),
    _m("pipeline_growth", "通路环比", "Pipeline growth", "percent", 10),
    _m("prev_commit", "上期承诺", "Previous commit"),
    _m("commit_growth", "承诺环比", "Commit growth", "percent", 10),
), rows=0)

ROLLUPS = Table("rollups", "RptRollups", "按期汇总", "Rollups", (
    *ENTITY,
    C("grain", "粒度", "Grain", width=6), C("period", "期间", "Period", width=10),
    C("start", "开始", "Start", "date", width=11), C("end", "结束", "End", "date", width=11),
    _m("closed", "已成交", "Closed"), _m("commit", "承诺", "Commit"), _m("upside", "有望", "Upside"),
    _m("pipeline", "通路", "Pipeline"), _m("weighted", "加权通路", "Weighted"),
    _m("commit_forecast", "承诺预测", "Commit forecast"), _m("best_case", "最佳预测", "Best case"),
    _m("open_pipeline", "未结通路", "Open pipeline"),
), rows=0)

TARGETS = Table("targets", "RptTargets", "目标", "Targets", (
    C("rep_id", "业务员编号", "Rep ID", width=10), C("team", "团队", "Team", width=11),
    C("region", "大区", "Region", width=8), C("month", "月份", "Month", "month", width=10),
    _m("target", "调高目标(销售额)", "Raised target (revenue)"),
), rows=0)

PREVIOUS = Table("previous", "RptPrevious", "上期", "Previous", (
    C("level", "级别", "Level", width=8), C("key", "编号/名称", "Key", width=11),
    C("period", "周期", "Period", "date", width=11),
    _m("commit_adj", "承诺(调整后)", "Commit (adjusted)"), _m("pipeline_open", "未结通路", "Open pipeline"),
    _m("commit_total", "承诺合计", "Commit total"),
), rows=0)

ADJUST = Table("adjust", "RptAdjustments", "调整", "Adjustments", (
    C("level", "级别", "Level", width=8), C("key", "业务员编号/团队", "Rep ID / team", width=14),
    C("week", "周(周一)", "Week of", "date", width=11), _m("commit", "调整后承诺", "Adjusted commit"),
    C("reason", "原因", "Reason", width=30), C("by", "调整人", "Adjusted by", width=10),
), rows=0)

THRESHOLD_SHEET = Table("thresholds", "RptThresholds", "阈值", "Thresholds", (
    C("key", "键", "Key", width=24), C("label", "说明", "Label", width=44), C("value", "值", "Value", "number", width=10),
), rows=0)

STAGE_TABLE = Table("stage_pipeline", "RptStagePipeline", "阶段分布", "ByStage", (
    C("stage", "阶段", "Stage", width=14), _m("probability", "概率", "Probability", "percent", 9),
    _m("amount", "金额", "Amount"), _m("weighted", "加权金额", "Weighted"),
), rows=0)


@dataclass
class Periods:
    week: tuple[dt.date, dt.date]
    last_week: tuple[dt.date, dt.date]
    month: tuple[dt.date, dt.date]
    quarter: tuple[dt.date, dt.date]


def periods(week_start: dt.date, fiscal_start: dt.date) -> Periods:
    """This week, last week, this month and this fiscal quarter, as inclusive date ranges."""
    w = (week_start, week_start + dt.timedelta(days=6))
    lw = (week_start - dt.timedelta(days=7), week_start - dt.timedelta(days=1))
    m0 = week_start.replace(day=1)
    m1 = _add_months(m0, 1) - dt.timedelta(days=1)
    offset = (m0.month - fiscal_start.month) % 3
    q0 = _add_months(m0, -offset)
    q1 = _add_months(q0, 3) - dt.timedelta(days=1)
    return Periods(w, lw, (m0, m1), (q0, q1))


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def entities(setup: Setup) -> list[dict]:
    """Reps grouped under team subtotals, region subtotals, then the company."""
    out: list[dict] = []
    roster = [r for r in setup.rows("roster") if r.get("active") in (True, None)]
    regions = list(dict.fromkeys(r["region"] for r in roster))
    for g in regions:
        teams = list(dict.fromkeys(r["team"] for r in roster if r["region"] == g))
        for t in teams:
            for r in roster:
                if r["team"] == t and r["region"] == g:
                    out.append({"level": "rep", "key": r["rep_id"], "name": r["name"], "team": t, "region": g})
            out.append({"level": "team", "key": t, "name": "", "team": t, "region": g})
        out.append({"level": "region", "key": g, "name": "", "team": "", "region": g})
    out.append({"level": "company", "key": "", "name": "", "team": "", "region": ""})
    return out


def org(e: dict, row: int) -> list[Cond]:
    """The condition selecting an entity's rows in a data table (the key sits in column B)."""
    col = {"rep": "rep_id", "team": "team", "region": "region"}.get(e["level"])
    return [] if col is None else [Cond(col, "=", e["key"], f"$B${row + 1}")]


class Book:
    """The report's tables, where they sit, and their Python frames (labels as written)."""

    def __init__(self, c: Consolidation, setup: Setup, lang: Lang, targets: pd.DataFrame | None,
                 previous: pd.DataFrame | None) -> None:
        from .templates import list_labels

        self.c, self.setup, self.lang = c, setup, lang
        self.labels = list_labels(setup, lang)
        self.accepted = STATUS[lang][True]
        self.frames: dict[str, pd.DataFrame] = {}
        self.where: dict[str, Where] = {}
        for k in ("opportunities", "forecast", "weekly"):
            df = c.frames[k].copy()
            df["_status"] = df["_ok"].map(lambda ok: STATUS[lang][bool(ok)])
            for col in ("category", "stage"):
                if col in df.columns:
                    lab = self.labels["category" if col == "category" else "stage"]
                    df[col] = df[col].map(lambda v, lab=lab: lab.get(v, v) if v is not None else None)
            if k == "opportunities" and "realized" in df.columns:
                df["realized"] = df["realized"].map(lambda v: YES[lang] if v is True else (NO[lang] if v is False
                                                                                           else None))
            self.frames[k] = df
            self.where[k] = Where(data_table(k), lang, len(df))
        self.frames["targets"] = _target_frame(targets, setup)
        self.where["targets"] = Where(TARGETS, lang, len(self.frames["targets"]))
        self.frames["previous"] = previous if previous is not None else pd.DataFrame(columns=PREVIOUS.keys)
        self.where["previous"] = Where(PREVIOUS, lang, len(self.frames["previous"]))
        adj = setup.rows("adjustments") if "adjustments" in setup.tables else []
        adj = [a for a in adj if a.get("week") == c.period]
        self.frames["adjust"] = pd.DataFrame(
            [{**a, "level": LEVEL_LABEL[lang].get(a["level"], a["level"])} for a in adj], columns=ADJUST.keys)
        self.where["adjust"] = Where(ADJUST, lang, len(adj))
        self.has_previous = previous is not None

    def sum(self, table: str, col: str | None, conds: list[Cond]) -> tuple[float, str]:
        s = Sum(self.where[table], col, [Cond("_status", "=", self.accepted, quote(self.accepted)), *conds]
                if table in ("opportunities", "forecast", "weekly") else conds)
        return s.value(self.frames[table]), s.formula()

    def cat(self, code: str) -> Cond:
        lab = self.labels["category"][code]
        return Cond("category", "=", lab, quote(lab))


def _target_frame(targets: pd.DataFrame | None, setup: Setup) -> pd.DataFrame:
    if targets is None or targets.empty:
        return pd.DataFrame(columns=TARGETS.keys)
    t = targets[(targets["level"] == "rep") & (targets["basis"] == "raised") & (targets["kind"] == "revenue")]
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    rows = [{"rep_id": r.rep, "team": roster.get(r.rep, {}).get("team") or "", "region": r.region,
             "month": dt.date(int(r.period[:4]), int(r.period[5:7]), 1), "target": float(r.target)}
            for r in t.itertuples()]
    return pd.DataFrame(rows, columns=TARGETS.keys)


# --- the sheets ---------------------------------------------------------------

class Grid:
    """Rows of a review table: values for the Python side, formulas for the cells."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows: list[dict] = []
        self.formulas: list[dict] = []
        self.weeks = 0  # rollups: how many week rows the company has (they come first)

    def col(self, key: str) -> str:
        return col_letter(self.table.first_col + self.table.keys.index(key))

    def start(self, e: dict, lang: Lang) -> tuple[dict, dict]:
        """A new entity row: (values, formulas) to fill with :meth:`put`."""
        row, fx = _entity_row(e, lang), {}
        self.rows.append(row)
        self.formulas.append(fx)
        return row, fx

    @staticmethod
    def put(row: dict, fx: dict, key: str, value: object, formula: str | None = None) -> None:
        row[key] = value
        if formula is not None:
            fx[key] = "=" + formula

    def each(self, ents: list[dict], lang: Lang) -> Iterator[tuple[int, int, dict, dict, Callable[..., None]]]:
        """(index, sheet row, entity, values, put) for every entity, rows added in order."""
        first = self.table.first_row + 1
        for i, e in enumerate(ents):
            row, fx = self.start(e, lang)
            yield i, first + i, e, row, functools.partial(self.put, row, fx)

    def ref(self, key: str, row: int) -> str:
        return f"${self.col(key)}${row + 1}"

    def rng(self, key: str, n: int) -> str:
        first = self.table.first_row + 2
        return f"${self.col(key)}${first}:${self.col(key)}${first + n - 1}"


def _entity_row(e: dict, lang: Lang) -> dict:
    return {**e, "level": LEVEL_LABEL[lang][e["level"]], "key": e["key"] or ("全公司" if lang == "zh" else "All")}


def weekly_review(bk: Book, ents: list[dict], p: Periods) -> Grid:
    """周度承诺: last week vs commit, this week's commit and upside, month and quarter vs raised target."""
    lang, c = bk.lang, bk.c
    g = Grid(WEEKLY_REVIEW)
    status = {f.rep_id: f.status for f in c.files if f.status == "accepted"}
    for _i, r, e, row, put in g.each(ents, lang):
        o = org(e, r)

        # submission
        if e["level"] == "rep":
            put("submitted", YES[lang] if e["key"] in status else NO[lang])
        else:
            reps = [x for x in ents if x["level"] == "rep" and _under(x, e)]
            put("submitted", f"{sum(1 for x in reps if x['key'] in status)}/{len(reps)}")
        # last week
        if bk.has_previous:
            v, f = _prev(bk, e, r, "commit_adj")
            put("last_commit", v, f)
        else:
            put("last_commit", NO_PREVIOUS[lang])
        v, f = bk.sum("opportunities", "amount", [*o, bk.cat("closed"), _ge("close_date", p.last_week[0]),
                                                   _le("close_date", p.last_week[1])])
        put("last_actual", v, f)
        put("actual_vs_commit", ratio(v, row["last_commit"] if bk.has_previous else None),
            ratio_xl(g.ref("last_actual", r), g.ref("last_commit", r)) if bk.has_previous else None)
        # this week
        own, f = bk.sum("weekly", "commit", o)
        put("commit_own", own, f)
        up, fu = bk.sum("weekly", "upside", o)
        put("upside_own", up, fu)
        adj_v, adj_f, by = _adjusted(bk, e, r, g, ents, own)
        put("commit_adj", adj_v, adj_f)
        put("adjusted_by", by)
        put("commit_share", ratio(adj_v, adj_v + up),
            ratio_xl(g.ref("commit_adj", r), f"({g.ref('commit_adj', r)}+{g.ref('upside_own', r)})"))
        v, f = bk.sum("opportunities", "amount", [*o, bk.cat("commit"), _ge("close_date", p.week[0]),
                                                   _le("close_date", p.week[1])])
        put("commit_deals", v, f)
        # month and quarter
        for grain, (a, b) in (("month", p.month), ("quarter", p.quarter)):
            fc, ffc = bk.sum("forecast", "forecast", [*o, _ge("month", a), _le("month", b)])
            fu_, fup = bk.sum("forecast", "upside", [*o, _ge("month", a), _le("month", b)])
            put(f"{grain}_fc_up", round(fc + fu_, 2), f"{ffc}+{fup}")
            tv, tf = bk.sum("targets", "target", [*o, _ge("month", a), _le("month", b)])
            put(f"{grain}_target", tv, tf)
            put(f"{grain}_ratio", ratio(row[f"{grain}_fc_up"], tv),
                ratio_xl(g.ref(f"{grain}_fc_up", r), g.ref(f"{grain}_target", r)))
        won, fw = bk.sum("opportunities", "amount", [*o, bk.cat("closed")])
        put("won", won, fw)
        done, fd = bk.sum("opportunities", "amount", [*o, bk.cat("closed"),
                                                      Cond("realized", "=", YES[lang], quote(YES[lang]))])
        put("unrealized", round(won - done, 2), f"{fw}-{fd}")
        put("unrealized_share", ratio(row["unrealized"], won),
            ratio_xl(g.ref("unrealized", r), g.ref("won", r)))
    return g


def _under(rep: dict, e: dict) -> bool:
    if e["level"] == "company":
        return True
    return rep[e["level"]] == e["key"] if e["level"] in ("team", "region") else rep["key"] == e["key"]


def _ge(col: str, d: dt.date) -> Cond:
    return Cond(col, ">=", d, f'">="&DATE({d.year},{d.month},{d.day})')


def _le(col: str, d: dt.date) -> Cond:
    return Cond(col, "<=", d, f'"<="&DATE({d.year},{d.month},{d.day})')


def _prev(bk: Book, e: dict, r: int, col: str) -> tuple[float, str]:
    lab = LEVEL_LABEL[bk.lang][e["level"]]
    key = e["key"] or ("全公司" if bk.lang == "zh" else "All")
    s = Sum(bk.where["previous"], col, [Cond("level", "=", lab, quote(lab)), Cond("key", "=", key, f"$B${r + 1}")])
    return s.value(bk.frames["previous"]), s.formula()


def _adjusted(bk: Book, e: dict, r: int, g: Grid, ents: list[dict], own: float) -> tuple[float, str, str]:
    """A rep's or team's adjusted commit: the manager's number for the week, else its own / its members'."""
    lang = bk.lang
    adj = bk.frames["adjust"]
    lab = LEVEL_LABEL[lang][e["level"]]
    n = len(ents)
    if e["level"] in ("rep", "team"):
        conds = [Cond("level", "=", lab, quote(lab)), Cond("key", "=", e["key"], f"$B${r + 1}")]
        cnt = Sum(bk.where["adjust"], None, conds)
        val = Sum(bk.where["adjust"], "commit", conds)
        hit = adj[(adj["level"] == lab) & (adj["key"].astype(str) == str(e["key"]))] if not adj.empty else adj
        if e["level"] == "rep":
            base_v, base_f = own, g.ref("commit_own", r)
        else:
            members = [j for j, x in enumerate(ents) if x["level"] == "rep" and x["team"] == e["key"]]
            base_v = round(sum(float(g.rows[j]["commit_adj"]) for j in members), 2)
            rl = LEVEL_LABEL[lang]["rep"]
            base_f = (f'SUMIFS({g.rng("commit_adj", n)},{g.rng("level", n)},{quote(rl)},'
                      f'{g.rng("team", n)},$B${r + 1})')
        if len(hit):
            v = val.value(adj)
            by = "; ".join(f"{a.by}: {a.reason}" for a in hit.itertuples())
        else:
            v, by = base_v, ""
        return v, f"IF({cnt.formula()}>0,{val.formula()},{base_f})", by
    child = "team" if e["level"] == "region" else "region"
    cl = LEVEL_LABEL[lang][child]
    kids = [j for j, x in enumerate(ents) if x["level"] == child and (e["level"] == "company"
                                                                       or x["region"] == e["key"])]
    v = round(sum(g.rows[j]["commit_adj"] for j in kids), 2)
    crit = f',{g.rng("region", n)},$B${r + 1}' if e["level"] == "region" else ""
    return v, f'SUMIFS({g.rng("commit_adj", n)},{g.rng("level", n)},{quote(cl)}{crit})', ""


def monthly_review(bk: Book, ents: list[dict]) -> Grid:
    """月度预测: submission compliance, Σ12 months vs raised target, coverage, quality, growth."""
    lang, setup = bk.lang, bk.setup
    g = Grid(MONTHLY_REVIEW)
    n = len(ents)
    need = int(setup.threshold("forecast_months"))
    q = setup.threshold("quality_probability")
    rl = LEVEL_LABEL[lang]["rep"]
    for _i, r, e, row, put in g.each(ents, lang):
        o = org(e, r)

        months, fm = bk.sum("forecast", None, o)
        put("months", months, fm)
        if e["level"] == "rep":
            put("reps", 1)
            put("compliant", 1 if months >= need else 0, f'IF({g.ref("months", r)}>=xs_t_forecast_months,1,0)')
        else:
            reps = [j for j, x in enumerate(ents) if x["level"] == "rep" and _under(x, e)]
            crit = "" if e["level"] == "company" else f',{g.rng(e["level"], n)},$B${r + 1}'
            put("reps", len(reps), f'COUNTIFS({g.rng("level", n)},{quote(rl)}{crit})')
            put("compliant", sum(g.rows[j]["compliant"] for j in reps),
                f'SUMIFS({g.rng("compliant", n)},{g.rng("level", n)},{quote(rl)}{crit})')
        put("compliance", ratio(row["compliant"], row["reps"]), ratio_xl(g.ref("compliant", r), g.ref("reps", r)))
        fc, ffc = bk.sum("forecast", "forecast", o)
        up, fup = bk.sum("forecast", "upside", o)
        put("fc12", fc, ffc)
        put("up12", up, fup)
        put("total12", round(fc + up, 2), f'{g.ref("fc12", r)}+{g.ref("up12", r)}')
        tv, tf = bk.sum("targets", "target", o)
        put("annual_target", tv, tf)
        put("target_ratio", ratio(row["total12"], tv), ratio_xl(g.ref("total12", r), g.ref("annual_target", r)))
        parts = [bk.sum("opportunities", "amount", [*o, bk.cat(k)]) for k in ("commit", "upside", "pipeline")]
        put("pipeline_open", round(sum(v for v, _ in parts), 2), "+".join(f for _, f in parts))
        put("coverage", ratio(row["pipeline_open"], tv), ratio_xl(g.ref("pipeline_open", r), g.ref("annual_target", r)))
        good = [bk.sum("opportunities", "amount", [*o, bk.cat(k), Cond("probability", ">=", q,
                                                                         '">="&xs_t_quality_probability')])
                for k in ("commit", "upside", "pipeline")]
        gv = round(sum(v for v, _ in good), 2)
        put("quality", ratio(gv, row["pipeline_open"]),
            ratio_xl("(" + "+".join(f for _, f in good) + ")", g.ref("pipeline_open", r)))
        ct, fct = bk.sum("opportunities", "amount", [*o, bk.cat("commit")])
        put("commit_total", ct, fct)
        for key, prev in (("pipeline", "pipeline_open"), ("commit", "commit_total")):
            if bk.has_previous:
                pv, pf = _prev(bk, e, r, prev)
                put(f"prev_{key}", pv, pf)
                cur = row["pipeline_open" if key == "pipeline" else "commit_total"]
                put(f"{key}_growth", ratio(cur - pv, pv) if pv else None,
                    ratio_xl(f'({g.ref(prev if key == "pipeline" else "commit_total", r)}-{g.ref(f"prev_{key}", r)})',
                             g.ref(f"prev_{key}", r)))
            else:
                put(f"prev_{key}", NO_PREVIOUS[lang])
    return g


def rollups(bk: Book, ents: list[dict], as_of: dt.date, fiscal_start: dt.date) -> Grid:
    """Closed, commit, upside, pipeline, weighted and the cumulative views by week, month and quarter."""
    lang = bk.lang
    g = Grid(ROLLUPS)
    first = ROLLUPS.first_row + 1
    deals = bk.c.accepted("opportunities")
    dates = sorted({d for d in deals["close_date"] if isinstance(d, dt.date)}) if not deals.empty else []
    week0 = as_of - dt.timedelta(days=as_of.weekday())
    grains: list[tuple[str, str, dt.date, dt.date]] = []
    for k in range(-4, 9):
        s = week0 + dt.timedelta(weeks=k)
        grains.append(("week", f"{s.isocalendar()[0]}-W{s.isocalendar()[1]:02d}", s, s + dt.timedelta(days=6)))
    months = sorted({d.replace(day=1) for d in dates}) or [as_of.replace(day=1)]
    for m in months:
        grains.append(("month", m.strftime("%Y-%m"), m, _add_months(m, 1) - dt.timedelta(days=1)))
    quarters = sorted({periods(m, fiscal_start).quarter for m in months})
    for a, b in quarters:
        fy = a.year if a.month >= fiscal_start.month else a.year - 1
        qn = ((a.month - fiscal_start.month) % 12) // 3 + 1
        grains.append(("quarter", f"FY{fy}-Q{qn}", a, b))
    order = [e for e in ents if e["level"] == "company"] + [e for e in ents if e["level"] == "region"] + \
        [e for e in ents if e["level"] == "team"] + [e for e in ents if e["level"] == "rep"]
    i = 0
    for grain_key in ("week", "month", "quarter"):
        for e in order:
            for gk, label, a, b in grains:
                if gk != grain_key:
                    continue
                r = first + i
                i += 1
                row, fx = {**_entity_row(e, lang), "grain": GRAIN_LABEL[lang][gk], "period": label, "start": a,
                           "end": b}, {}
                o = org(e, r)
                window = [Cond("close_date", ">=", a, f'">="&{g.ref("start", r)}'),
                          Cond("close_date", "<=", b, f'"<="&{g.ref("end", r)}')]
                for k in ("closed", "commit", "upside", "pipeline"):
                    v, f = bk.sum("opportunities", "amount", [*o, bk.cat(k), *window])
                    row[k], fx[k] = v, "=" + f
                parts = [bk.sum("opportunities", "weighted", [*o, bk.cat(k), *window])
                         for k in ("commit", "upside", "pipeline")]
                row["weighted"] = round(sum(v for v, _ in parts), 2)
                fx["weighted"] = "=" + "+".join(f for _, f in parts)
                ref = {k: g.ref(k, r) for k in ("closed", "commit", "upside", "pipeline")}
                row["commit_forecast"] = round(row["closed"] + row["commit"], 2)
                fx["commit_forecast"] = f"={ref['closed']}+{ref['commit']}"
                row["best_case"] = round(row["closed"] + row["commit"] + row["upside"], 2)
                fx["best_case"] = f"={ref['closed']}+{ref['commit']}+{ref['upside']}"
                row["open_pipeline"] = round(row["pipeline"] + row["upside"] + row["commit"], 2)
                fx["open_pipeline"] = f"={ref['pipeline']}+{ref['upside']}+{ref['commit']}"
                g.rows.append(row)
                g.formulas.append(fx)
    g.weeks = sum(1 for gk, *_ in grains if gk == "week")
    return g


# --- putting them into the report ---------------------------------------------

def _formula_table(grid: Grid) -> Table:
    """The review table with every figure column turned into a per-row formula column."""
    return dataclasses.replace(grid.table, columns=tuple(
        dataclasses.replace(c, formula=None) for c in grid.table.columns))


def add_sheets(report: Report, c: Consolidation, setup: Setup, targets: pd.DataFrame | None = None,
               previous: pd.DataFrame | None = None) -> dict[str, Grid]:
    """Add 周度承诺, 月度预测, 按期汇总, 阶段分布 and their source sheets (目标, 上期, 调整, 阈值)."""
    lang = report.lang
    bk = Book(c, setup, lang, targets, previous)
    p = periods(c.period, setup.fiscal_year_start)
    ents = entities(setup)
    weekly = weekly_review(bk, ents, p)
    monthly = monthly_review(bk, ents)
    roll = rollups(bk, ents, c.as_of, setup.fiscal_year_start)
    zh = lang == "zh"
    # review sheets
    for grid, title, note in (
        (weekly, ("周度承诺" if zh else "Weekly commit"),
         (f"本周 {p.week[0]} 至 {p.week[1]};上周 {p.last_week[0]} 至 {p.last_week[1]};"
          f"本月 {p.month[0]:%Y-%m};本季 {p.quarter[0]:%Y-%m} 至 {p.quarter[1]:%Y-%m}")),
        (monthly, ("月度预测" if zh else "Monthly forecast review"),
         "12 个月滚动预测:100% 提交;(预测+有望)达到调高目标;通路/目标 > 150%;环比增长 ≥ 5%(≥ 10% 为好)"),
        (roll, ("按期汇总" if zh else "Rollups"), "按预计成交日期的周、月、季汇总;有望从不计入承诺"),
    ):
        sh = report.sheet(grid.table.sheet(lang))
        sh.put(0, 0, f"{title} · {note}", style="subtitle")
        _grid_block(sh, grid)
        sh.freeze = (2, 3)
    _bands(report, weekly, monthly, lang)
    _charts(report, bk, roll, lang)
    # sources
    for t, frame in ((TARGETS, bk.frames["targets"]), (PREVIOUS, bk.frames["previous"]),
                     (ADJUST, bk.frames["adjust"])):
        sh = report.sheet(t.sheet(lang))
        sh.put(0, 0, f"{t.sheet_zh} {t.sheet_en}", style="subtitle")
        sh.blocks.append(Block(t, frame.to_dict("records")))
        sh.freeze = (2, 0)
    th = report.sheet(THRESHOLD_SHEET.sheet(lang))
    trows = setup.rows("thresholds")
    th.put(0, 0, "阈值(来自主管工作簿)Thresholds from the manager workbook", style="subtitle")
    th.blocks.append(Block(THRESHOLD_SHEET, trows))
    for i, r in enumerate(trows):
        report.names[f"xs_t_{r['key']}"] = f"='{THRESHOLD_SHEET.sheet(lang)}'!$C${THRESHOLD_SHEET.first_row + 2 + i}"
    return {"weekly": weekly, "monthly": monthly, "rollups": roll}


def _grid_block(sh: Sheet, grid: Grid) -> None:
    t = _formula_table(grid)
    sh.blocks.append(Block(t, grid.rows))
    first = t.first_row + 1
    for i, fx in enumerate(grid.formulas):
        for key, f in fx.items():
            col = t.first_col + t.keys.index(key)
            kind = t.column(key).kind
            sh.put(first + i, col, grid.rows[i][key], f, {"percent": "percent", "int": "int"}.get(kind, "money"))


def _bands(report: Report, weekly: Grid, monthly: Grid, lang: Lang) -> None:
    """Green/amber/red from the thresholds (defined names xs_t_*), never hard-coded numbers."""
    def band(grid: Grid, key: str, good: str, warn: str | None = None) -> None:
        sh = report.sheet(grid.table.sheet(lang))
        col = grid.table.first_col + grid.table.keys.index(key)
        r0 = grid.table.first_row + 1
        r1 = r0 + max(len(grid.rows), 1) - 1
        cell = f"{grid.col(key)}{r0 + 1}"
        isnum = f"ISNUMBER({cell})"
        sh.conds.append(CondFormat(r0, col, r1, col, f"=AND({isnum},{good.format(x=cell)})", "good"))
        if warn:
            sh.conds.append(CondFormat(r0, col, r1, col, f"=AND({isnum},{warn.format(x=cell)})", "warn"))
        sh.conds.append(CondFormat(r0, col, r1, col, f"={isnum}", "bad"))

    band(weekly, "actual_vs_commit", "{x}>=xs_t_actual_vs_commit_low,{x}<=xs_t_actual_vs_commit_high")
    band(weekly, "month_ratio", "{x}>=1")
    band(weekly, "quarter_ratio", "{x}>=1")
    band(weekly, "unrealized_share", "{x}<=xs_t_unrealized_max")
    band(monthly, "compliance", "{x}>=xs_t_submission_rate")
    band(monthly, "target_ratio", "{x}>=1")
    band(monthly, "coverage", "{x}>=xs_t_coverage_min")
    band(monthly, "pipeline_growth", "{x}>=xs_t_mom_growth_good", "{x}>=xs_t_mom_growth_min")
    band(monthly, "commit_growth", "{x}>=xs_t_mom_growth_good", "{x}>=xs_t_mom_growth_min")


def _charts(report: Report, bk: Book, roll: Grid, lang: Lang) -> None:
    zh = lang == "zh"
    sh = report.sheet(roll.table.sheet(lang))
    name = roll.table.sheet(lang)
    r0 = roll.table.first_row + 2
    n = roll.weeks  # the company's weeks come first

    def rng(key: str) -> str:
        c = roll.col(key)
        return f"='{name}'!${c}${r0}:${c}${r0 + n - 1}"

    sh.charts.append(Chart("column", "按周:承诺 vs 实际(全公司)" if zh else "Commit vs actual by week (company)",
                           rng("period"), [("承诺 Commit", rng("commit")), ("已成交 Closed", rng("closed"))],
                           (1, len(roll.table.columns) + 1)))
    # pipeline by stage
    st = report.sheet(STAGE_TABLE.sheet(lang))
    st.put(0, 0, "按阶段的通路 Pipeline by stage(有效的未结商机 accepted open deals)", style="subtitle")
    rows, fx = [], []
    first = STAGE_TABLE.first_row + 1
    stages = [s for s in bk.setup.stages.itertuples() if s.open is not False]
    for i, s in enumerate(stages):
        lab = bk.labels["stage"][s.en]
        r = first + i
        cond = [Cond("stage", "=", lab, f"$A${r + 1}")]
        a = [bk.sum("opportunities", "amount", [*cond, bk.cat(k)]) for k in ("commit", "upside", "pipeline")]
        w = [bk.sum("opportunities", "weighted", [*cond, bk.cat(k)]) for k in ("commit", "upside", "pipeline")]
        rows.append({"stage": lab, "probability": float(s.probability), "amount": round(sum(v for v, _ in a), 2),
                     "weighted": round(sum(v for v, _ in w), 2)})
        fx.append({"amount": "=" + "+".join(f for _, f in a), "weighted": "=" + "+".join(f for _, f in w)})
    g = Grid(STAGE_TABLE)
    g.rows, g.formulas = rows, fx
    _grid_block(st, g)
    sn = STAGE_TABLE.sheet(lang)
    last = first + len(rows)
    st.charts.append(Chart("bar", "按阶段的通路" if zh else "Pipeline by stage", f"='{sn}'!$A${first + 1}:$A${last}",
                           [("金额 Amount", f"='{sn}'!$C${first + 1}:$C${last}"),
                            ("加权 Weighted", f"='{sn}'!$D${first + 1}:$D${last}")], (1, 6)))


# --- the whole report and last week's -------------------------------------------

def full_report(c: Consolidation, setup: Setup, lang: Lang, targets: pd.DataFrame | None = None,
                previous: pd.DataFrame | None = None, actuals: pd.DataFrame | None = None) -> Report:
    """The consolidated report with the review sheets right after the summary.

    ``actuals``: finance actuals read with ``--actuals`` (None: the setup's table, else won deals).
    """
    from .report import build_report
    from .variance import SHEETS as VARIANCE_SHEETS
    from .variance import add_variance_sheets

    rep = build_report(c, setup, lang)
    add_sheets(rep, c, setup, targets, previous)
    add_variance_sheets(rep, c, setup, targets, actuals, c.as_of)
    front = [rep.sheets[0].name, WEEKLY_REVIEW.sheet(lang), MONTHLY_REVIEW.sheet(lang),
             *(t.sheet(lang) for t in VARIANCE_SHEETS), ROLLUPS.sheet(lang), STAGE_TABLE.sheet(lang)]
    rep.sheets.sort(key=lambda s: front.index(s.name) if s.name in front else len(front))
    return rep


def read_previous(path: Path, lang: Lang) -> tuple[pd.DataFrame | None, list]:
    """Last week's per-entity commit, open pipeline and commit total from a previous report."""
    import re

    from .reader import BookError, Context, open_book, read_table
    from .setup import Setup as _Setup

    try:
        book = open_book(Path(path), Path(path).name)
    except BookError as e:
        return None, [e.issue]
    ctx = Context(_Setup.default().choices)
    w = read_table(book, WEEKLY_REVIEW, ctx)
    m = read_table(book, MONTHLY_REVIEW, ctx)
    if w.sheet is None or m.sheet is None:
        return None, [i for i in w.issues + m.issues if i.rule == "sheet_missing"]
    to_code = {lab: code for labels in LEVEL_LABEL.values() for code, lab in labels.items()}
    all_key = {"全公司", "All"}
    found = re.search(r"(\d{4}-\d{2}-\d{2})", Path(path).name)
    period = dt.date.fromisoformat(found.group(1)) if found else None
    rows: dict[tuple[str, str], dict] = {}
    for frame, cols in ((w.frame, ("commit_adj",)), (m.frame, ("pipeline_open", "commit_total"))):
        for r in frame.to_dict("records"):
            code = to_code.get(str(r["level"]))
            if code is None:
                continue
            key = "全公司" if lang == "zh" and r["key"] in all_key else ("All" if r["key"] in all_key else r["key"])
            d = rows.setdefault((code, str(key)), {"level": LEVEL_LABEL[lang][code], "key": str(key),
                                                   "period": period})
            for col in cols:
                v = r.get(col)
                d[col] = float(v) if isinstance(v, int | float) else 0.0
    out = pd.DataFrame(list(rows.values()), columns=PREVIOUS.keys)
    for col in ("commit_adj", "pipeline_open", "commit_total"):
        out[col] = out[col].fillna(0.0)
    return out, []
