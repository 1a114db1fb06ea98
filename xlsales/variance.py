"""差异、周报与记分卡 Variance, the weekly management report and the rep scorecard (SPEC §4–§7).

Built like :mod:`xlsales.commit`: rows are entities (reps under team, region
and company subtotals), every figure is a :class:`~xlsales.formula.Sum` over a
report table — computed here by pandas and written as a portable
SUMIFS/COUNTIFS formula with that value cached.

Definitions (also in ``docs/variance.md``):

* **Windows** — the week of the consolidation (Mon–Sun), its month, its fiscal
  quarter and its fiscal year (from ``fiscal_year_start``).  Each window is
  whole; "to date" means the actuals booked so far.
* **Working days** — Monday–Friday minus the setup's holidays
  (``NETWORKDAYS`` in the workbook).  *Elapsed* = working days of the window
  before the as-of date; *left* = the rest (the as-of day counts as left).
* **Target** — the raised revenue target of the decomposition (the plan target
  when no raised target exists), each rep-month spread over its working days
  by exact largest-remainder splitting to the cent (ties to the earlier day);
  a window's target is the sum of its days.
* **Actual** — week: won deals (category closed) closing in the week, as reps
  report them.  Month, quarter, year: the actuals table (finance, or won deals
  by close month standing in — :mod:`xlsales.actuals`), revenue rows of the
  window's months.
* **Forecast** — week: the rep's commit for the week; month: the rolling
  forecast of the month; quarter and year: actuals of the window's months
  before the current month + the rolling forecast from the current month to
  the window's end (the landing forecast).
* **Commit** — commit forecast = closed + commit deals closing in the window.
* **Attainment** = actual / target.  **Gap** = target − actual.
* **Run-rate projection** = actual / days_gone × working days (blank while no
  working day has elapsed); **projected attainment** = projection / target.
* **Needed per working day** = max(gap, 0) / working days left (blank when none
  is left).
* **Forecast accuracy** = max(0, 1 − |actual − forecast| / forecast), blank when
  the forecast is 0; it is final once the window is over, before that it shows
  how far bookings are from the forecast landing.
* **Weekly report** (this week's visits): effective visit rate = done visits
  with a result / done visits; deal rate = done visits with an order / done
  visits; plan adherence = done visits / all visits dated in the week (done,
  still planned or cancelled); new customers = done 开发新客户 visits with an
  order; sales per rep = won deals closing in the week / active reps; cost per
  order = visit cost / visits with an order; cost per ¥10,000 = visit cost /
  visit orders × 10,000.  Market signals: visits in the week with competitor
  info or customer feedback.  Abnormal customers: a complaint visit in the
  week, or an A-class customer with no visit (done or planned) this week or
  next.  Next week's plan: visits planned for next week.  On time: the
  accepted file was last saved before Monday 09:00 of the week.

Bands use the thresholds' defined names (``xs_t_*``, written by
:func:`xlsales.commit.add_sheets`, which must run first).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pandas as pd

from . import actuals as act
from . import commit as cm
from .commit import ENTITY, LEVEL_LABEL, NO, YES, Book, Grid, entities, org, periods
from .consolidate import Consolidation
from .formula import Cond, Sum, Where, quote, ratio, ratio_xl
from .model import Block, Chart, CondFormat, Report
from .report import SUBMISSIONS, data_table
from .schema import C, Lang, Table, norm
from .setup import Setup
from .targets import split, working_days

WINDOWS = ("week", "month", "quarter", "year")
WINDOW_LABEL = {"zh": {"week": "本周", "month": "本月", "quarter": "本季", "year": "本财年"},
                "en": {"week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}}


def _m(key: str, zh: str, en: str, kind: str = "money", width: float = 12) -> C:
    return C(key, zh, en, kind, width=width)  # type: ignore[arg-type]


VARIANCE = Table("variance", "RptVariance", "差异", "Variance", (
    *ENTITY,
    C("window", "期间", "Window", width=7), C("period", "期间标识", "Period", width=10),
    C("start", "开始", "Start", "date", width=11), C("end", "结束", "End", "date", width=11),
    _m("days", "工作日", "Working days", "int", 7), _m("days_gone", "已过工作日", "Days elapsed", "int", 7),
    _m("left", "剩余工作日", "Days left", "int", 7),
    _m("target", "目标", "Target"), _m("actual", "实际", "Actual"), _m("forecast", "预测", "Forecast"),
    _m("commit", "承诺预测", "Commit forecast"),
    _m("attainment", "达成率", "Attainment", "percent", 9), _m("gap", "差距", "Gap to target"),
    _m("projection", "按进度预计", "Run-rate projection"),
    _m("proj_attainment", "预计达成率", "Projected attainment", "percent", 9),
    _m("needed_daily", "每工作日还需", "Needed per working day"),
    _m("accuracy", "预测准确率", "Forecast accuracy", "percent", 9),
), rows=0)

CUMULATIVE = Table("var_months", "RptVarMonths", "差异", "Variance", (
    C("period", "月份", "Month", width=10), C("start", "开始", "Start", "date", width=11),
    C("end", "结束", "End", "date", width=11),
    _m("target", "月目标", "Target"), _m("actual", "月实际", "Actual"),
    _m("cum_target", "累计目标", "Cumulative target"), _m("cum_actual", "累计实际", "Cumulative actual"),
    _m("cum_attainment", "累计达成率", "Cumulative attainment", "percent", 9),
), rows=0, title_zh="全公司按月累计:实际 vs 目标", title_en="Company by month: cumulative actual vs target")

WEEKLY_REPORT = Table("weekly_report", "RptWeeklyReport", "周报", "WeeklyReport", (
    *ENTITY,
    C("submitted", "已提交", "Submitted", width=7), C("on_time", "按时提交", "On time", width=7),
    _m("reps", "人数", "Reps", "int", 6),
    _m("month_target", "本月目标", "Month target"), _m("month_actual", "本月实际", "Month actual"),
    _m("attainment", "本月达成率", "Month attainment", "percent", 9),
    _m("week_sales", "本周成交", "Booked this week"), _m("sales_per_rep", "人均周销售额", "Sales per rep"),
    _m("new_customers", "新开发客户", "New customers", "int", 8), _m("collections", "本周收款", "Collections"),
    _m("planned", "本周排定拜访", "Visits scheduled", "int", 8), _m("visits", "完成拜访", "Visits done", "int", 8),
    _m("adherence", "计划完成率", "Plan adherence", "percent", 9),
    _m("effective", "有效拜访", "Effective visits", "int", 8),
    _m("effective_rate", "有效拜访率", "Effective visit rate", "percent", 9),
    _m("deals", "成交拜访", "Visits with an order", "int", 8), _m("deal_rate", "交易率", "Deal rate", "percent", 9),
    _m("orders", "拜访订单额", "Orders on visits"), _m("cost", "拜访费用", "Visit cost"),
    _m("cost_per_order", "每单费用", "Cost per order"), _m("cost_per_10k", "每万元费用", "Cost per ¥10,000"),
    _m("signals", "市场信息", "Market signals", "int", 8), _m("abnormal", "异常客户", "Abnormal customers", "int", 8),
    _m("next_week", "下周计划拜访", "Visits next week", "int", 8),
), rows=0)

_WHO = (C("rep_id", "业务员编号", "Rep ID", width=10), C("rep_name", "姓名", "Name", width=9),
        C("team", "团队", "Team", width=11), C("region", "大区", "Region", width=8))
SIGNALS = Table("signals", "RptWeeklySignals", "周报", "WeeklyReport", (
    *_WHO, C("date", "日期", "Date", "date", width=11), C("customer", "客户", "Customer", width=18),
    C("purpose", "拜访目的", "Purpose", width=10), C("competitor", "竞争对手信息", "Competitor info", width=24),
    C("feedback", "客户反馈", "Customer feedback", width=24), C("result", "拜访结果", "Result", width=20),
), rows=0, title_zh="竞争与市场信息(本周拜访)", title_en="Competitor and market signals (this week's visits)")
ABNORMAL = Table("abnormal", "RptWeeklyAbnormal", "周报", "WeeklyReport", (
    *_WHO, C("customer", "客户", "Customer", width=18), C("customer_class", "客户等级", "Class", width=6),
    C("reason", "原因", "Reason", width=30), C("date", "日期", "Date", "date", width=11),
    C("detail", "说明", "Detail", width=30),
), rows=0, title_zh="异常客户", title_en="Abnormal customers")
NEXT_WEEK = Table("next_week", "RptWeeklyNextWeek", "周报", "WeeklyReport", (
    *_WHO, C("date", "日期", "Date", "date", width=11), C("customer", "客户", "Customer", width=18),
    C("area", "区域", "Area", width=10), C("purpose", "拜访目的", "Purpose", width=10),
), rows=0, title_zh="下周计划(业务员的计划拜访)", title_en="Next week's plan (the reps' planned visits)")

SCORECARD = Table("scorecard", "RptScorecard", "记分卡", "Scorecard", (
    *_WHO,
    _m("month_target", "本月目标", "Month target"), _m("month_actual", "本月实际", "Month actual"),
    _m("month_attainment", "本月达成率", "Month attainment", "percent", 9),
    _m("year_target", "年度目标", "Year target"), _m("year_actual", "年度实际", "Year actual"),
    _m("year_attainment", "年度达成率", "Year attainment", "percent", 9),
    _m("month_forecast", "本月预测", "Month forecast"),
    _m("accuracy", "预测准确率", "Forecast accuracy", "percent", 9),
    C("submitted", "已提交", "Submitted", width=7), C("on_time", "按时提交", "On time", width=7),
    _m("forecast_months", "预测月数", "Forecast months", "int", 7),
    _m("forecast_rate", "预测提交率", "Forecast submission", "percent", 9),
    _m("errors", "错误数", "Errors", "int", 7),
    _m("visits", "完成拜访", "Visits done", "int", 8),
    _m("effective_rate", "有效拜访率", "Effective visit rate", "percent", 9),
    _m("deal_rate", "交易率", "Deal rate", "percent", 9),
    _m("adherence", "计划完成率", "Plan adherence", "percent", 9),
    _m("collections", "本周收款", "Collections"), _m("week_sales", "本周成交", "Booked this week"),
), rows=0)

ACTUALS_SHEET = Table("var_actuals", "RptVarActuals", "实际数", "ActualsData", (
    C("rep_id", "业务员编号", "Rep ID", width=10), C("team", "团队", "Team", width=11),
    C("region", "大区", "Region", width=8), C("month", "月份", "Month", "month", width=10),
    C("kind", "目标类型", "Kind", width=10), _m("amount", "实际金额", "Actual", width=14),
), rows=0)
DAILY_TARGETS = Table("var_daily", "RptVarDailyTargets", "日目标", "DailyTargets", (
    C("rep_id", "业务员编号", "Rep ID", width=10), C("team", "团队", "Team", width=11),
    C("region", "大区", "Region", width=8), C("date", "日期", "Date", "date", width=11),
    _m("target", "日目标(销售额)", "Daily target (revenue)", width=14),
), rows=0)
HOLIDAYS = Table("var_holidays", "RptVarHolidays", "假日", "Holidays", (
    C("date", "日期", "Date", "date", width=12), C("name", "名称", "Name", width=16),
), rows=0)

SHEETS = (VARIANCE, WEEKLY_REPORT, SCORECARD)
CENT = Fraction(1, 100)


# --- sums with two more criteria: non-blank text and "greater than" -------------

@dataclasses.dataclass
class XSum(Sum):
    """A :class:`Sum` that also knows ``nonblank`` (criterion ``"<>"``) and ``>`` conditions."""

    def value(self, frame: pd.DataFrame) -> float:
        extra = [c for c in self.conds if c.op in ("nonblank", ">")]
        if extra and not frame.empty:
            mask = pd.Series(True, index=frame.index)
            for c in extra:
                if c.op == "nonblank":
                    mask &= frame[c.col].map(lambda v: v is not None and v == v and str(v) != "")
                else:
                    mask &= frame[c.col].map(lambda v, x=c.value: _num(v) and v > x)
            frame = frame[mask]
        return Sum(self.where, self.col, [c for c in self.conds if c not in extra]).value(frame)


def nonblank(col: str) -> Cond:
    return Cond(col, "nonblank", None, '"<>"')


def above(col: str, x: float) -> Cond:
    return Cond(col, ">", x, f'">{x:g}"')


def _num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v


def _date_xl(d: dt.date) -> str:
    return f"DATE({d.year},{d.month},{d.day})"


def ge(col: str, d: dt.date, ref: str | None = None) -> Cond:
    return Cond(col, ">=", d, f'">="&{ref or _date_xl(d)}')


def le(col: str, d: dt.date, ref: str | None = None) -> Cond:
    return Cond(col, "<=", d, f'"<="&{ref or _date_xl(d)}')


# --- the data behind the sheets ------------------------------------------------------

class Data:
    """Frames (labels as written) and locations of every table the three sheets read."""

    def __init__(self, report: Report, c: Consolidation, setup: Setup, targets: pd.DataFrame | None,
                 actuals: act.Actuals, as_of: dt.date) -> None:
        lang = report.lang
        self.lang, self.c, self.setup, self.as_of, self.actuals = lang, c, setup, as_of, actuals
        self.bk = Book(c, setup, lang, None, None)
        self.labels = self.bk.labels
        self.accepted = self.bk.accepted
        self.roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
        self.p = periods(c.period, setup.fiscal_year_start)
        fs = setup.fiscal_year_start
        y0 = dt.date(c.period.year if c.period.month >= fs.month else c.period.year - 1, fs.month, 1)
        self.windows = {"week": self.p.week, "month": self.p.month, "quarter": self.p.quarter,
                        "year": (y0, cm._add_months(y0, 12) - dt.timedelta(days=1))}
        self.next_week = (self.p.week[0] + dt.timedelta(days=7), self.p.week[1] + dt.timedelta(days=7))
        self.holidays = sorted(setup.holidays)
        self.frames: dict[str, pd.DataFrame] = {}
        self.where: dict[str, Where] = {}
        self._put("daily", DAILY_TARGETS, daily_targets(targets, setup))
        rev = self.labels["target_kind"].get("revenue", "revenue")
        self.revenue = rev
        arows = [{"rep_id": r["rep_id"], "team": self.roster.get(r["rep_id"], {}).get("team"),
                  "region": self.roster.get(r["rep_id"], {}).get("region"), "month": r["month"],
                  "kind": self.labels["target_kind"].get(r["kind"], r["kind"]), "amount": float(r["amount"])}
                 for r in actuals.frame.to_dict("records")]
        self._put("actuals", ACTUALS_SHEET, pd.DataFrame(arows, columns=ACTUALS_SHEET.keys))
        self._put("holidays", HOLIDAYS, pd.DataFrame([{"date": d, "name": _holiday_name(setup, d)}
                                                      for d in self.holidays], columns=HOLIDAYS.keys))
        v = c.frames["visits"].copy()
        v["_status"] = v["_ok"].map(lambda ok: self.bk_status(bool(ok)))
        for col, lst in (("status", "visit_status"), ("purpose", "purpose")):
            v[col] = v[col].map(lambda x, lab=self.labels[lst]: lab.get(x, x) if x is not None else None)
        self._put("visits", data_table("visits"), v)
        self.raw_visits = c.accepted("visits")
        subs = [{"rep_id": f.rep_id, "errors": f.errors} for f in c.files]
        subs += [{"rep_id": r, "errors": 1} for r in c.missing]
        self._put("submissions", SUBMISSIONS, pd.DataFrame(subs, columns=["rep_id", "errors"]))
        deadline = dt.datetime.combine(c.period, dt.time(9, 0))
        self.submitted = {f.rep_id for f in c.files if f.status == "accepted"}
        self.on_time = {f.rep_id for f in c.files if f.status == "accepted" and f.modified is not None
                        and f.modified <= deadline}

    def bk_status(self, ok: bool) -> str:
        from .report import STATUS

        return STATUS[self.lang][ok]

    def _put(self, key: str, table: Table, frame: pd.DataFrame) -> None:
        self.frames[key] = frame
        self.where[key] = Where(table, self.lang, len(frame))

    def sum(self, key: str, col: str | None, conds: list[Cond]) -> tuple[float, str]:
        """A conditional sum over one of the tables; rep data counts accepted rows only."""
        if key in ("opportunities", "forecast", "weekly"):
            return self.bk.sum(key, col, conds)
        if key == "visits":
            conds = [Cond("_status", "=", self.accepted, quote(self.accepted)), *conds]
        s = XSum(self.where[key], col, conds)
        return s.value(self.frames[key]), s.formula()

    def status(self, code: str) -> Cond:
        lab = self.labels["visit_status"][code]
        return Cond("status", "=", lab, quote(lab))

    def purpose(self, code: str) -> Cond:
        lab = self.labels["purpose"][code]
        return Cond("purpose", "=", lab, quote(lab))

    def kind(self) -> Cond:
        return Cond("kind", "=", self.revenue, quote(self.revenue))


def _holiday_name(setup: Setup, d: dt.date) -> str:
    df = setup.tables["holidays"]
    hit = df.loc[df["date"] == d, "name"]
    return str(hit.iloc[0]) if len(hit) and hit.iloc[0] is not None else ""


def daily_targets(targets: pd.DataFrame | None, setup: Setup) -> pd.DataFrame:
    """Each rep-month revenue target (raised, else plan) spread over its working days, exact to the cent."""
    if targets is None or targets.empty:
        return pd.DataFrame(columns=DAILY_TARGETS.keys)
    t = targets[(targets["level"] == "rep") & (targets["kind"] == "revenue")]
    basis = "raised" if (t["basis"] == "raised").any() else "plan"
    t = t[t["basis"] == basis]
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    hol = setup.holidays
    rows = []
    for r in t.itertuples():
        y, m = int(r.period[:4]), int(r.period[5:7])
        days = working_days(y, m, hol) or _calendar(y, m)
        parts = split(Fraction(str(r.target)), [1] * len(days), CENT)
        who = roster.get(str(r.rep), {})
        rows += [{"rep_id": r.rep, "team": who.get("team"), "region": r.region, "date": d,
                  "target": round(float(x), 2)} for d, x in zip(days, parts, strict=True)]
    return pd.DataFrame(rows, columns=DAILY_TARGETS.keys)


def _calendar(y: int, m: int) -> list[dt.date]:
    d, out = dt.date(y, m, 1), []
    while d.month == m:
        out.append(d)
        d += dt.timedelta(days=1)
    return out


def workdays(a: dt.date, b: dt.date, holidays: set[dt.date]) -> int:
    """Monday–Friday days in [a, b] that are not holidays (NETWORKDAYS; 0 when b < a)."""
    n, d = 0, a
    while d <= b:
        if d.weekday() < 5 and d not in holidays:
            n += 1
        d += dt.timedelta(days=1)
    return n


# --- the variance sheet ------------------------------------------------------------

def variance(d: Data, ents: list[dict]) -> Grid:
    """差异: target, actual, forecast, commit and the derived figures per entity and window."""
    lang = d.lang
    g = Grid(VARIANCE)
    first = VARIANCE.first_row + 1
    hol = set(d.holidays)
    hol_rng = d.where["holidays"].rng("date")
    asof = _date_xl(d.as_of)
    m0 = d.p.month[0]
    i = 0
    for w in WINDOWS:
        a, b = d.windows[w]
        for e in ents:
            r = first + i
            i += 1
            row = {**cm._entity_row(e, lang), "window": WINDOW_LABEL[lang][w], "period": _period_label(w, a, d),
                   "start": a, "end": b}
            fx: dict[str, str] = {}

            def put(key: str, value: object, formula: str, row=row, fx=fx) -> None:
                row[key], fx[key] = value, "=" + formula

            ref = {k: g.ref(k, r) for k in VARIANCE.keys}
            o = org(e, r)
            window = (ge("close_date", a, ref["start"]), le("close_date", b, ref["end"]))
            days = workdays(a, b, hol)
            days_gone = workdays(a, min(b, d.as_of - dt.timedelta(days=1)), hol)
            put("days", days, f"NETWORKDAYS({ref['start']},{ref['end']},{hol_rng})")
            put("days_gone", days_gone, f"IF({asof}>{ref['start']},NETWORKDAYS({ref['start']},"
                                    f"MIN({ref['end']},{asof}-1),{hol_rng}),0)")
            put("left", days - days_gone, f"{ref['days']}-{ref['days_gone']}")
            v, f = d.sum("daily", "target", [*o, ge("date", a, ref["start"]), le("date", b, ref["end"])])
            put("target", v, f)
            if w == "week":
                actual, fa = d.sum("opportunities", "amount", [*o, d.bk.cat("closed"), *window])
                fc, ff = d.sum("weekly", "commit", o)
            else:
                actual, fa = d.sum("actuals", "amount", [*o, d.kind(), ge("month", a, ref["start"]),
                                                         le("month", b, ref["end"])])
                past, fp = d.sum("actuals", "amount", [*o, d.kind(), ge("month", a, ref["start"]),
                                                       le("month", m0 - dt.timedelta(days=1))])
                ahead, fh = d.sum("forecast", "forecast", [*o, ge("month", m0), le("month", b, ref["end"])])
                fc, ff = round(past + ahead, 2), f"{fp}+{fh}"
            put("actual", actual, fa)
            put("forecast", fc, ff)
            closed, fcl = d.sum("opportunities", "amount", [*o, d.bk.cat("closed"), *window])
            com, fco = d.sum("opportunities", "amount", [*o, d.bk.cat("commit"), *window])
            put("commit", round(closed + com, 2), f"{fcl}+{fco}")
            tv = row["target"]
            put("attainment", ratio(actual, tv), ratio_xl(ref["actual"], ref["target"]))
            put("gap", round(tv - actual, 2), f"{ref['target']}-{ref['actual']}")
            proj = actual / days_gone * days if days_gone else None
            put("projection", proj, f'IF({ref["days_gone"]}=0,"",{ref["actual"]}/{ref["days_gone"]}*{ref["days"]})')
            put("proj_attainment", ratio(proj, tv), ratio_xl(ref["projection"], ref["target"]))
            left = days - days_gone
            put("needed_daily", max(row["gap"], 0) / left if left else None,
                f'IF({ref["left"]}=0,"",MAX({ref["gap"]},0)/{ref["left"]})')
            put("accuracy", accuracy(actual, fc), _accuracy_xl(ref["actual"], ref["forecast"]))
            g.rows.append(row)
            g.formulas.append(fx)
    return g


def accuracy(actual: float, forecast: float) -> float | None:
    """max(0, 1 − |actual − forecast| / forecast); None when the forecast is 0."""
    if not forecast:
        return None
    return max(0.0, 1 - abs(actual - forecast) / forecast)


def _accuracy_xl(a: str, f: str) -> str:
    return f'IF(OR({f}="",{f}=0),"",MAX(0,1-ABS({a}-{f})/{f}))'


def _period_label(w: str, a: dt.date, d: Data) -> str:
    if w == "week":
        y, n, _ = a.isocalendar()
        return f"{y}-W{n:02d}"
    if w == "month":
        return a.strftime("%Y-%m")
    fy = d.windows["year"][0]
    label = f"FY{fy.year}" if fy.month == 1 else f"FY{fy.year}/{(fy.year + 1) % 100:02d}"
    if w == "quarter":
        return f"{label}-Q{((a.month - fy.month) % 12) // 3 + 1}"
    return label


def cumulative(d: Data, first_row: int) -> Grid:
    """The company's fiscal months: target, actual and both accumulated."""
    t = dataclasses.replace(CUMULATIVE, first_row=first_row)
    g = Grid(t)
    y0, _ = d.windows["year"]
    prev: dict[str, float] = {}
    for k in range(12):
        r = first_row + 1 + k
        a = cm._add_months(y0, k)
        b = cm._add_months(a, 1) - dt.timedelta(days=1)
        ref = {key: g.ref(key, r) for key in t.keys}
        row = {"period": a.strftime("%Y-%m"), "start": a, "end": b}
        fx = {}
        tv, tf = d.sum("daily", "target", [ge("date", a, ref["start"]), le("date", b, ref["end"])])
        av, af = d.sum("actuals", "amount", [d.kind(), ge("month", a, ref["start"]), le("month", b, ref["end"])])
        row["target"], fx["target"] = tv, "=" + tf
        row["actual"], fx["actual"] = av, "=" + af
        for key in ("target", "actual"):
            cum = round(prev.get(key, 0.0) + row[key], 2)
            row[f"cum_{key}"] = cum
            fx[f"cum_{key}"] = f"={ref[key]}" + (f"+{g.ref(f'cum_{key}', r - 1)}" if k else "")
            prev[key] = cum
        row["cum_attainment"] = ratio(row["cum_actual"], row["cum_target"])
        fx["cum_attainment"] = "=" + ratio_xl(ref["cum_actual"], ref["cum_target"])
        g.rows.append(row)
        g.formulas.append(fx)
    return g


# --- the weekly management report ------------------------------------------------------

def _who(d: Data, rep_id: str) -> dict:
    r = d.roster.get(str(rep_id), {})
    return {"rep_id": rep_id, "rep_name": r.get("name"), "team": r.get("team"), "region": r.get("region")}


def visit_lists(d: Data) -> tuple[list[dict], list[dict], list[dict]]:
    """(market signals, abnormal customers, next week's plan) from the accepted visits and customers."""
    lang, lab = d.lang, d.labels
    v = d.raw_visits
    a, b = d.p.week
    n0, n1 = d.next_week
    signals, abnormal, plan = [], [], []
    rows = sorted(v.to_dict("records"), key=lambda r: (str(r["rep_id"]), _d(r.get("date")), str(r["customer"])))
    for r in rows:
        day = r.get("date")
        if not isinstance(day, dt.date):
            continue
        purpose = lab["purpose"].get(r.get("purpose"), r.get("purpose"))
        if a <= day <= b:
            if _text(r.get("competitor")) or _text(r.get("feedback")):
                signals.append({**_who(d, r["rep_id"]), "date": day, "customer": r.get("customer"),
                                "purpose": purpose, "competitor": r.get("competitor"),
                                "feedback": r.get("feedback"), "result": r.get("result")})
            if r.get("purpose") == "complaint":
                abnormal.append({**_who(d, r["rep_id"]), "customer": r.get("customer"),
                                 "customer_class": _class_of(d, r["rep_id"], r.get("customer")),
                                 "reason": COMPLAINT[lang], "date": day,
                                 "detail": _text(r.get("result")) or _text(r.get("feedback"))})
        if n0 <= day <= n1 and r.get("status") == "planned":
            plan.append({**_who(d, r["rep_id"]), "date": day, "customer": r.get("customer"), "area": r.get("area"),
                         "purpose": purpose})
    seen = {(str(r["rep_id"]), norm(r.get("customer") or "")) for r in rows
            if isinstance(r.get("date"), dt.date) and a <= r["date"] <= n1 and r.get("status") != "cancelled"}
    cust = d.c.accepted("customers")
    for r in sorted(cust.to_dict("records"), key=lambda r: (str(r["rep_id"]), str(r["customer"]))):
        if r.get("customer_class") == "A" and (str(r["rep_id"]), norm(r.get("customer") or "")) not in seen:
            abnormal.append({**_who(d, r["rep_id"]), "customer": r.get("customer"), "customer_class": "A",
                             "reason": NOT_VISITED[lang], "date": None, "detail": ""})
    return signals, abnormal, plan


COMPLAINT = {"zh": "本周客诉拜访", "en": "complaint visit this week"}
NOT_VISITED = {"zh": "A类客户本周及下周无拜访", "en": "A-class customer with no visit this week or next"}


def _d(v: object) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.min


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v).strip()


def _class_of(d: Data, rep: str, customer: object) -> str | None:
    cust = d.c.accepted("customers")
    if cust.empty:
        return None
    hit = cust[(cust["rep_id"] == rep) & (cust["customer"].map(lambda x: norm(x or "")) == norm(customer or ""))]
    return str(hit["customer_class"].iloc[0]) if len(hit) else None


def weekly_report(d: Data, ents: list[dict], lists: dict[str, tuple[Table, list[dict]]]) -> Grid:
    """周报: attainment, new customers, collections, visit rates, cost, signals, abnormal, next week."""
    lang = d.lang
    g = Grid(WEEKLY_REPORT)
    first = WEEKLY_REPORT.first_row + 1
    n = len(ents)
    rl = LEVEL_LABEL[lang]["rep"]
    a, b = d.p.week
    ma, mb = d.p.month
    for i, e in enumerate(ents):
        r = first + i
        row, fx = cm._entity_row(e, lang), {}

        def put(key: str, value: object, formula: str | None = None, row=row, fx=fx) -> None:
            row[key] = value
            if formula is not None:
                fx[key] = "=" + formula

        ref = {k: g.ref(k, r) for k in WEEKLY_REPORT.keys}
        o = org(e, r)
        if e["level"] == "rep":
            put("submitted", YES[lang] if e["key"] in d.submitted else NO[lang])
            put("on_time", YES[lang] if e["key"] in d.on_time else NO[lang])
            put("reps", 1)
        else:
            reps = [x for x in ents if x["level"] == "rep" and cm._under(x, e)]
            put("submitted", f"{sum(1 for x in reps if x['key'] in d.submitted)}/{len(reps)}")
            put("on_time", f"{sum(1 for x in reps if x['key'] in d.on_time)}/{len(reps)}")
            crit = "" if e["level"] == "company" else f',{g.rng(e["level"], n)},$B${r + 1}'
            put("reps", len(reps), f'COUNTIFS({g.rng("level", n)},{quote(rl)}{crit})')
        v, f = d.sum("daily", "target", [*o, ge("date", ma), le("date", mb)])
        put("month_target", v, f)
        v, f = d.sum("actuals", "amount", [*o, d.kind(), ge("month", ma), le("month", mb)])
        put("month_actual", v, f)
        put("attainment", ratio(v, row["month_target"]), ratio_xl(ref["month_actual"], ref["month_target"]))
        week = [ge("date", a), le("date", b)]
        v, f = d.sum("opportunities", "amount", [*o, d.bk.cat("closed"), ge("close_date", a), le("close_date", b)])
        put("week_sales", v, f)
        put("sales_per_rep", ratio(v, row["reps"]), ratio_xl(ref["week_sales"], ref["reps"]))
        done = [*o, d.status("done"), *week]
        for key, col, extra in (("new_customers", None, [d.purpose("new_customer"), above("order_amount", 0)]),
                                ("collections", "collection_amount", []), ("visits", None, []),
                                ("effective", None, [nonblank("result")]),
                                ("deals", None, [above("order_amount", 0)]), ("orders", "order_amount", []),
                                ("cost", "cost", [])):
            v, f = d.sum("visits", col, [*done, *extra])
            put(key, v, f)
        v, f = d.sum("visits", None, [*o, *week])
        put("planned", v, f)
        put("adherence", ratio(row["visits"], row["planned"]), ratio_xl(ref["visits"], ref["planned"]))
        put("effective_rate", ratio(row["effective"], row["visits"]), ratio_xl(ref["effective"], ref["visits"]))
        put("deal_rate", ratio(row["deals"], row["visits"]), ratio_xl(ref["deals"], ref["visits"]))
        put("cost_per_order", ratio(row["cost"], row["deals"]), ratio_xl(ref["cost"], ref["deals"]))
        put("cost_per_10k", None if not row["orders"] else row["cost"] / row["orders"] * 10000,
            f'IF(OR({ref["orders"]}="",{ref["orders"]}=0),"",{ref["cost"]}/{ref["orders"]}*10000)')
        for key in ("signals", "abnormal", "next_week"):
            table, rows = lists[key]
            s = XSum(Where(table, lang, len(rows)), None, o)
            put(key, s.value(pd.DataFrame(rows, columns=table.keys)), s.formula())
        g.rows.append(row)
        g.formulas.append(fx)
    return g


# --- the scorecard -------------------------------------------------------------------

def scorecard(d: Data, ents: list[dict]) -> Grid:
    """记分卡: one row per rep; every formula refers to its own row relatively, so the table can be sorted."""
    lang = d.lang
    g = Grid(SCORECARD)
    first = SCORECARD.first_row + 1
    need = d.setup.threshold("forecast_months")
    ma, mb = d.windows["month"]
    ya, yb = d.windows["year"]
    m0 = d.p.month[0]
    reps = [e for e in ents if e["level"] == "rep"]
    for i, e in enumerate(reps):
        r = first + i

        def rel(key: str, r=r) -> str:
            return f"${g.col(key)}{r + 1}"

        row: dict = {**_who(d, e["key"])}
        fx: dict[str, str] = {}

        def put(key: str, value: object, formula: str, row=row, fx=fx) -> None:
            row[key], fx[key] = value, "=" + formula

        o = [Cond("rep_id", "=", e["key"], rel("rep_id"))]
        for p, (a, b) in (("month", (ma, mb)), ("year", (ya, yb))):
            v, f = d.sum("daily", "target", [*o, ge("date", a), le("date", b)])
            put(f"{p}_target", v, f)
            v, f = d.sum("actuals", "amount", [*o, d.kind(), ge("month", a), le("month", b)])
            put(f"{p}_actual", v, f)
            put(f"{p}_attainment", ratio(v, row[f"{p}_target"]), ratio_xl(rel(f"{p}_actual"), rel(f"{p}_target")))
        v, f = d.sum("forecast", "forecast", [*o, ge("month", m0), le("month", mb)])
        put("month_forecast", v, f)
        put("accuracy", accuracy(row["month_actual"], v), _accuracy_xl(rel("month_actual"), rel("month_forecast")))
        row["submitted"] = YES[lang] if e["key"] in d.submitted else NO[lang]
        row["on_time"] = YES[lang] if e["key"] in d.on_time else NO[lang]
        v, f = d.sum("forecast", None, o)
        put("forecast_months", v, f)
        put("forecast_rate", v / need if need else None, f"IF(xs_t_forecast_months=0,\"\","
                                                          f"{rel('forecast_months')}/xs_t_forecast_months)")
        v, f = d.sum("submissions", "errors", o)
        put("errors", v, f)
        a, b = d.p.week
        done = [*o, d.status("done"), ge("date", a), le("date", b)]
        visits, fv = d.sum("visits", None, done)
        put("visits", visits, fv)
        eff, fe = d.sum("visits", None, [*done, nonblank("result")])
        put("effective_rate", ratio(eff, visits), ratio_xl(fe, rel("visits")))
        deals, fd = d.sum("visits", None, [*done, above("order_amount", 0)])
        put("deal_rate", ratio(deals, visits), ratio_xl(fd, rel("visits")))
        planned, fp = d.sum("visits", None, [*o, ge("date", a), le("date", b)])
        put("adherence", ratio(visits, planned), ratio_xl(rel("visits"), fp))
        v, f = d.sum("visits", "collection_amount", done)
        put("collections", v, f)
        v, f = d.sum("opportunities", "amount", [*o, d.bk.cat("closed"), ge("close_date", a), le("close_date", b)])
        put("week_sales", v, f)
        g.rows.append(row)
        g.formulas.append(fx)
    return g


# --- putting them into the report ------------------------------------------------------

def add_variance_sheets(report: Report, consolidation: Consolidation, setup: Setup,
                        targets_df: pd.DataFrame | None, actuals_df: pd.DataFrame | None,
                        as_of: dt.date | None = None) -> dict:
    """Add 差异, 周报 and 记分卡 and their sources (实际数, 日目标, 假日); call after ``commit.add_sheets``.

    ``actuals_df``: actuals read with ``--actuals`` (None: the setup's Actuals
    table; both empty: won deals stand in, and every sheet says so).
    """
    lang = report.lang
    zh = lang == "zh"
    c = consolidation
    actuals = act.resolve(setup, c, actuals_df)
    d = Data(report, c, setup, targets_df, actuals, as_of or c.as_of)
    ents = entities(setup)
    flag = f"{'实际数来源' if zh else 'Actuals'}: {actuals.label(lang)}"
    # variance
    var = variance(d, ents)
    cum = cumulative(d, VARIANCE.first_row + len(var.rows) + 4)
    sh = report.sheet(VARIANCE.sheet(lang))
    w = d.windows
    sh.put(0, 0, (f"差异 · 截至 {d.as_of};本周 {w['week'][0]}–{w['week'][1]};本月 {w['month'][0]:%Y-%m};"
                  f"本季 {w['quarter'][0]:%Y-%m}–{w['quarter'][1]:%Y-%m};本财年 {w['year'][0]:%Y-%m} 起 · {flag}"
                  if zh else
                  f"Variance · as of {d.as_of}; week {w['week'][0]}–{w['week'][1]}; month {w['month'][0]:%Y-%m}; "
                  f"quarter {w['quarter'][0]:%Y-%m}–{w['quarter'][1]:%Y-%m}; fiscal year from "
                  f"{w['year'][0]:%Y-%m} · {flag}"), style="subtitle")
    cm._grid_block(sh, var)
    cm._grid_block(sh, cum)
    sh.freeze = (2, 3)
    # weekly report with its three lists below
    signals, abnormal, plan = visit_lists(d)
    lists: dict[str, tuple[Table, list[dict]]] = {}
    row0 = WEEKLY_REPORT.first_row + len(ents) + 4
    for key, t, rows in (("signals", SIGNALS, signals), ("abnormal", ABNORMAL, abnormal),
                         ("next_week", NEXT_WEEK, plan)):
        lists[key] = (dataclasses.replace(t, first_row=row0), rows)
        row0 += max(len(rows), 1) + 4
    wk = weekly_report(d, ents, lists)
    sh = report.sheet(WEEKLY_REPORT.sheet(lang))
    sh.put(0, 0, (f"销售管理报告书 · 本周 {d.p.week[0]}–{d.p.week[1]};下周 {d.next_week[0]}–{d.next_week[1]} · {flag}"
                  if zh else f"Weekly sales management report · week {d.p.week[0]}–{d.p.week[1]}; next week "
                  f"{d.next_week[0]}–{d.next_week[1]} · {flag}"), style="subtitle")
    for t, rows in lists.values():
        sh.blocks.append(Block(t, _clean(rows)))
    cm._grid_block(sh, wk)
    sh.freeze = (2, 3)
    # scorecard
    sc = scorecard(d, ents)
    sh = report.sheet(SCORECARD.sheet(lang))
    sh.put(0, 0, (f"业务员记分卡 · 可按任一列排序 · 本月 {w['month'][0]:%Y-%m};本周 {d.p.week[0]} · {flag}" if zh else
                  f"Rep scorecard · sort by any column · month {w['month'][0]:%Y-%m}; week {d.p.week[0]} · {flag}"),
           style="subtitle")
    cm._grid_block(sh, sc)
    sh.freeze = (2, 2)
    _bands(report, var, wk, sc, lang)
    _var_charts(report, var, cum, sc, lang)
    # sources
    titles = {"actuals": f"实际数 Actuals · {actuals.label('zh')} / {actuals.label('en')}",
              "daily": "日目标 Daily targets · 调高目标(无则计划目标)按工作日分到每天 raised (else plan) target "
                       "per working day",
              "holidays": "假日 Holidays · 来自主管工作簿的日历 from the manager's calendar"}
    for key, t in (("actuals", ACTUALS_SHEET), ("daily", DAILY_TARGETS), ("holidays", HOLIDAYS)):
        s = report.sheet(t.sheet(lang))
        s.put(0, 0, titles[key], style="subtitle")
        s.blocks.append(Block(t, _clean(d.frames[key].to_dict("records"))))
        s.freeze = (2, 0)
    return {"variance": var, "cumulative": cum, "weekly_report": wk, "scorecard": sc, "actuals": actuals,
            "lists": {k: rows for k, (_, rows) in lists.items()}}


def _clean(rows: list[dict]) -> list[dict]:
    """Blanks for pandas' missing values (NaN, NaT), which a cell cannot hold."""
    return [{k: (None if v is None or (isinstance(v, float) and v != v) or v is pd.NaT else v)
             for k, v in r.items()} for r in rows]


def _bands(report: Report, var: Grid, wk: Grid, sc: Grid, lang: Lang) -> None:
    """Green/amber/red; the limits are the thresholds' defined names (xs_t_*) or the row's own pace."""
    def band(grid: Grid, key: str, rules: list[tuple[str, str]]) -> None:
        sh = report.sheet(grid.table.sheet(lang))
        col = grid.table.first_col + grid.table.keys.index(key)
        r0 = grid.table.first_row + 1
        r1 = r0 + max(len(grid.rows), 1) - 1
        row = r0 + 1

        refs = {k: f"${grid.col(k)}{row}" for k in grid.table.keys}
        x = refs[key]
        for test, style in rules:
            sh.conds.append(CondFormat(r0, col, r1, col, f"=AND(ISNUMBER({x}),{test.format(x=x, c=refs)})", style))

    healthy = ("{c[actual]}/{c[forecast]}>=xs_t_actual_vs_commit_low,"
               "{c[actual]}/{c[forecast]}<=xs_t_actual_vs_commit_high")
    band(var, "attainment", [("{x}>=1", "good"), ("{c[days]}>0,{x}>={c[days_gone]}/{c[days]}", "warn"),
                             ("TRUE", "bad")])
    band(var, "proj_attainment", [("{x}>=1", "good"), ("{x}>=xs_t_actual_vs_commit_low", "warn"), ("TRUE", "bad")])
    band(var, "accuracy", [(healthy, "good"), ("TRUE", "bad")])
    band(wk, "attainment", [("{x}>=1", "good"), ("TRUE", "bad")])
    band(sc, "month_attainment", [("{x}>=1", "good"), ("TRUE", "bad")])
    band(sc, "year_attainment", [("{x}>=1", "good"), ("TRUE", "bad")])
    band(sc, "forecast_rate", [("{x}>=xs_t_submission_rate", "good"), ("TRUE", "bad")])
    sc_healthy = ("{c[month_actual]}/{c[month_forecast]}>=xs_t_actual_vs_commit_low,"
                  "{c[month_actual]}/{c[month_forecast]}<=xs_t_actual_vs_commit_high")
    band(sc, "accuracy", [(sc_healthy, "good"), ("TRUE", "bad")])


def _var_charts(report: Report, var: Grid, cum: Grid, sc: Grid, lang: Lang) -> None:
    zh = lang == "zh"
    sh = report.sheet(VARIANCE.sheet(lang))
    scn, vn = SCORECARD.sheet(lang), VARIANCE.sheet(lang)
    n = max(len(sc.rows), 1)
    r0 = SCORECARD.first_row + 2

    def srng(key: str) -> str:
        c = sc.col(key)
        return f"='{scn}'!${c}${r0}:${c}${r0 + n - 1}"

    x = len(VARIANCE.columns) + 1
    sh.charts.append(Chart("bar", "业务员达成率" if zh else "Attainment by rep", srng("rep_id"),
                           [("本月 Month", srng("month_attainment")), ("本财年 Year", srng("year_attainment"))],
                           (1, x)))
    c0 = cum.table.first_row + 2

    def crng(key: str) -> str:
        c = cum.col(key)
        return f"='{vn}'!${c}${c0}:${c}${c0 + 11}"

    sh.charts.append(Chart("line", "按月累计:实际 vs 目标" if zh else "Cumulative actual vs target by month",
                           crng("period"), [("累计目标 Target", crng("cum_target")),
                                            ("累计实际 Actual", crng("cum_actual"))], (18, x)))
