"""差异、周报与记分卡 Variance, the weekly management report and the rep scorecard (SPEC §4–§7, §10).

Built like :mod:`xlsales.report.review`: every figure is an :class:`xlsales.core.expr.Expr`
over the report's tables, defined once here; a rep's cell sums the data, every
other level sums the rows below it.  Definitions (also in ``docs/figures.md``):

* **Windows** — the report week, and the month, fiscal quarter and fiscal year of the as-of date.
* **Working days** — Monday–Friday minus the setup's holidays (``NETWORKDAYS``); *elapsed* = the
  window's working days before the as-of date, *left* = the rest.
* **Target** — the raised revenue target (plan where none): the week's from the daily targets (each
  rep-month over its working days, at the target's rounding unit), longer windows from the monthly ones.
* **Actual** — week: the deals won in the week; month, quarter, year: the actuals (finance, else won
  deals by close month) of the window's months.
* **Forecast (landing)** — week: the rep's commit for the week; month, quarter, year: the *landing* —
  booked in the window's months before the as-of month, + the larger of the as-of month's forecast
  and what is booked in it, + the forecast of the window's later months.  The same landing as the
  weekly commit review's.
* **Commit forecast** = won + commit deals closing in the window.
* **Attainment** = actual / target; **gap** = target − actual; **run-rate projection** = actual /
  elapsed × working days; **needed per working day** = max(gap, 0) / days left; **forecast accuracy**
  = max(0, 1 − |actual − forecast| / forecast).
* **Weekly report** — the visits of last week (the week just reported), this week's planned visits,
  the month's target and actual; **scorecard** — one sortable row per rep.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from xlsales.core.expr import (
    Abs,
    Children,
    Div,
    Expr,
    Figure,
    Grid,
    Max,
    Name,
    Num,
    Ratio,
    Ref,
    Row,
    Sum,
    Table,
    WorkDays,
    blank_if_zero,
    eq,
    ge,
    gt,
    le,
    nonblank,
)
from xlsales.core.issues import col_letter
from xlsales.core.periods import add_months, label, quarter_name
from xlsales.core.records import no_missing, rows_of
from xlsales.core.schema import Lang, norm
from xlsales.core.targets import UNASSIGNED
from xlsales.report.book import (
    LEVEL_LABEL,
    NO,
    YES,
    Entity,
    ReviewData,
    entities,
    org_rows,
    submissions,
    submitted_cells,
)
from xlsales.report.layout import band, place, put_grid, put_table, relative
from xlsales.report.model import Block, Chart, Report
from xlsales.report.review import Figures
from xlsales.report.tables import ABNORMAL, CUMULATIVE, NEXT_WEEK, SCORECARD, SIGNALS, VARIANCE, WEEKLY_REPORT

WINDOWS = ("week", "month", "quarter", "year")
WINDOW_LABEL = {"zh": {"week": "本周", "month": "本月", "quarter": "本季", "year": "本财年"},
                "en": {"week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}}
COMPLAINT = {"zh": "上周客诉拜访", "en": "complaint visit last week"}
NOT_VISITED = {"zh": "A类客户上周和本周都没有拜访", "en": "A-class customer with no visit last week or this week"}
LEVELS = ("rep", "team", "region", "company")


def _summed(rep: Expr, key: str) -> dict[str, Expr]:
    return {"rep": rep, "team": Children(key), "region": Children(key), "company": Children(key)}


def _every(e: Expr) -> dict[str, Expr]:
    return dict.fromkeys(LEVELS, e)


def _cols(table) -> dict[str, str]:
    return {c.key: col_letter(table.first_col + i) for i, c in enumerate(table.columns)}


def _target(f: Figures, key: str, table: Table, col: str, a: dt.date, b: dt.date) -> Figure:
    """The target of a window from ``table`` (daily or monthly); a region adds its unassigned part."""
    crits = (ge(col, a), le(col, b))
    return Figure(key, {"rep": Sum(table, "target", crits), "team": Children(key),
                        "region": Children(key) + Sum(table, "target", (*crits, eq("rep_id", UNASSIGNED))),
                        "company": Children(key)})


def landing(f: Figures, a: dt.date, b: dt.date) -> Expr:
    """Booked before the as-of month + the as-of month's landing + the forecast of the later months."""
    cal = f.d.cal
    m0 = f.m0
    month = Max((f.forecast("forecast", eq("month", m0)), f.booked(m0, m0)))
    if b < m0:
        return f.booked(a, b)
    return (f.booked(a, add_months(m0, -1)) + month
            + f.forecast("forecast", ge("month", add_months(m0, 1)), le("month", b))) if a <= cal.as_of else \
        f.forecast("forecast", ge("month", a), le("month", b))


def accuracy(actual: Expr, forecast: Expr) -> Expr:
    """max(0, 1 − |actual − forecast| / forecast); blank when the forecast is 0."""
    return blank_if_zero(forecast, Max((Num(0), Num(1) - Div(Abs(actual - forecast), forecast))))


def _window_label(w: str, a: dt.date, d: ReviewData) -> str:
    if w == "week":
        y, n, _ = a.isocalendar()
        return f"{y}-W{n:02d}"
    if w == "month":
        return a.strftime("%Y-%m")
    if w == "quarter":
        return quarter_name((a, a), d.cal.fiscal_start_month)
    return f"FY{d.cal.fiscal_year}"


# --- 差异 Variance -------------------------------------------------------------------------------------------

def variance(d: ReviewData, ents: list[Entity]) -> tuple[list[dict], dict[str, list], dict[str, list]]:
    """One block of entity rows per window; returns (text rows, values by column, formulas by column)."""
    f, cal, lang = Figures(d), d.cal, d.lang
    n = len(ents)
    first = VARIANCE.first_row + 2
    windows = {"week": cal.week, "month": cal.month, "quarter": cal.quarter, "year": cal.year}
    hol = d.tables["holidays"]
    text_rows: list[dict] = []
    values: dict[str, list] = {}
    formulas: dict[str, list] = {}
    for k, w in enumerate(WINDOWS):
        a, b = windows[w]
        rows = org_rows(ents, first + k * n)
        for r, e in zip(rows, ents, strict=True):
            r.window = (a, b)
            if e.level == "region":
                r.crits = (eq("region", e.region),)
        g = Grid(rows, [e.level for e in ents], _cols(VARIANCE))
        in_window = (ge("close_date", a), le("close_date", b))
        forecast: Expr
        if w == "week":
            target = _target(f, "target", d.tables["daily"], "date", a, b)
            actual = f.deals("amount", d.cat("closed"), *in_window)
            forecast = Sum(f.weekly, "commit", (d.ok(), eq("week", a)))
        else:
            target = _target(f, "target", f.tg, "month", a, b)
            actual = f.booked(a, b)
            forecast = landing(f, a, b)
        g.compute([
            Figure("days", _every(WorkDays(hol)), money=False),
            Figure("days_gone", _every(WorkDays(hol, before=cal.as_of)), money=False),
            Figure("left", _every(Ref("days") - Ref("days_gone")), money=False),
            target,
            Figure("actual", _summed(actual, "actual")),
            Figure("forecast", _summed(forecast, "forecast")),
            Figure("commit", _summed(f.deals("amount", d.cat("closed"), *in_window)
                                     + f.deals("amount", d.cat("commit"), *in_window), "commit")),
            Figure("attainment", _every(Ratio(Ref("actual"), Ref("target"))), money=False),
            Figure("gap", _every(Ref("target") - Ref("actual"))),
            Figure("projection", _every(Ratio(Ref("actual") * Ref("days"), Ref("days_gone"))), money=False),
            Figure("proj_attainment", _every(Ratio(Ref("projection"), Ref("target"))), money=False),
            Figure("needed_daily", _every(Ratio(Max((Ref("gap"), Num(0))), Ref("left"))), money=False),
            Figure("accuracy", _every(accuracy(Ref("actual"), Ref("forecast"))), money=False),
        ])
        for e in ents:
            text_rows.append({**e.row(lang), "window": WINDOW_LABEL[lang][w], "period": _window_label(w, a, d),
                              "start": a, "end": b})
        for key in g.values:
            values.setdefault(key, []).extend(g.column(key)[:n])
            formulas.setdefault(key, []).extend(g.formulas[key])
    return text_rows, values, formulas


def cumulative(d: ReviewData, first_row: int) -> tuple[list[dict], Grid]:
    """The company's fiscal months: target and actual of each month, and both from the year's start."""
    f, cal = Figures(d), d.cal
    y0 = cal.year[0]
    months = [add_months(y0, k) for k in range(12)]
    ends = [add_months(m, 1) - dt.timedelta(days=1) for m in months]
    first = first_row + 2
    g = Grid([Row(first + k, (ge("month", m), le("month", e))) for k, (m, e) in enumerate(zip(months, ends,
                                                                                                strict=True))],
             ["company"] * 12, _cols(CUMULATIVE))
    to_date = Grid([Row(first + k, (ge("month", y0), le("month", e))) for k, e in enumerate(ends)],
                   ["company"] * 12, _cols(CUMULATIVE))
    g.compute([Figure("target", {"company": Sum(f.tg, "target", ())}),
               Figure("actual", {"company": Sum(f.act, "amount", (d.revenue(),))})])
    to_date.compute([Figure("cum_target", {"company": Sum(f.tg, "target", ())}),
                     Figure("cum_actual", {"company": Sum(f.act, "amount", (d.revenue(),))})])
    for key in ("cum_target", "cum_actual"):
        g.values[key], g.formulas[key] = to_date.values[key], to_date.formulas[key]
        g.money |= to_date.money
    g.compute([Figure("cum_attainment", {"company": Ratio(Ref("cum_actual"), Ref("cum_target"))}, money=False)])
    text = [{"period": m.strftime("%Y-%m"), "start": m, "end": e} for m, e in zip(months, ends, strict=True)]
    return text, g


# --- 周报 the weekly management report ------------------------------------------------------------------

def _who(d: ReviewData, rep_id: str) -> dict:
    r = d.roster.get(str(rep_id), {})
    return {"rep_id": rep_id, "rep_name": r.get("name"), "team": r.get("team"), "region": r.get("region")}


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v).strip()


def visit_lists(d: ReviewData) -> tuple[list[dict], list[dict], list[dict]]:
    """(market signals and complaints of last week, abnormal customers, this week's planned visits)."""
    lang, lab, cal = d.lang, d.labels, d.cal
    v = d.c.accepted("visits")
    a, b = cal.last_week
    n0, n1 = cal.week
    signals, abnormal, plan = [], [], []
    cust = rows_of(d.c.accepted("customers"), only=("rep_id", "customer", "customer_class"))
    klass = {(str(r["rep_id"]), norm(r.get("customer") or "")): r.get("customer_class") for r in cust}
    names = {(str(r["rep_id"]), norm(r.get("customer") or "")): r["customer"] for r in cust}
    shown = ("rep_id", "date", "customer", "purpose", "status", "competitor", "feedback", "result", "area")
    rows = sorted(rows_of(v, only=shown), key=lambda r: (str(r["rep_id"]), r.get("date") or dt.date.min,
                                                         str(r["customer"])))
    for r in rows:
        day = r.get("date")
        if not isinstance(day, dt.date):
            continue
        code = r.get("purpose")
        purpose = lab["purpose"].get(code, code) if isinstance(code, str) else code
        if a <= day <= b and r.get("status") == "done":
            if _text(r.get("competitor")) or _text(r.get("feedback")):
                signals.append({**_who(d, r["rep_id"]), "date": day, "customer": r.get("customer"),
                                "purpose": purpose, "competitor": r.get("competitor"),
                                "feedback": r.get("feedback"), "result": r.get("result")})
            if r.get("purpose") == "complaint":
                abnormal.append({**_who(d, r["rep_id"]), "customer": r.get("customer"),
                                 "customer_class": klass.get((str(r["rep_id"]), norm(r.get("customer") or ""))),
                                 "reason": COMPLAINT[lang], "date": day,
                                 "detail": _text(r.get("result")) or _text(r.get("feedback"))})
        if n0 <= day <= n1 and r.get("status") == "planned":
            plan.append({**_who(d, r["rep_id"]), "date": day, "customer": r.get("customer"), "area": r.get("area"),
                         "purpose": purpose})
    seen = {(str(r["rep_id"]), norm(r.get("customer") or "")) for r in rows
            if isinstance(r.get("date"), dt.date) and a <= r["date"] <= n1 and r.get("status") != "cancelled"}
    for (rep, key), cls in sorted(klass.items()):
        if cls == "A" and (rep, key) not in seen:
            abnormal.append({**_who(d, rep), "customer": names[(rep, key)], "customer_class": "A",
                             "reason": NOT_VISITED[lang], "date": None, "detail": ""})
    return signals, abnormal, plan


def weekly_report(d: ReviewData, ents: list[Entity], lists: dict[str, tuple]) -> Grid:
    """周报: last week's visits and sales, the month's attainment, this week's plan."""
    f, cal = Figures(d), d.cal
    rows = org_rows(ents, WEEKLY_REPORT.first_row + 2)
    for r, e in zip(rows, ents, strict=True):
        if e.level == "region":
            r.crits = (eq("region", e.region),)
    g = Grid(rows, [e.level for e in ents], _cols(WEEKLY_REPORT))
    a, b = cal.last_week
    visits = d.tables["visits"]

    def v(col: str | None, *crits) -> Sum:
        return Sum(visits, col, (d.ok(), ge("date", a), le("date", b), *crits))

    done = d.visit_status("done")
    figures = [
        Figure("reps", _summed(Num(1), "reps"), money=False),
        _target(f, "month_target", f.tg, "month", f.m0, f.m1),
        Figure("month_actual", _summed(f.booked(f.m0, f.m0), "month_actual")),
        Figure("attainment", _every(Ratio(Ref("month_actual"), Ref("month_target"))), money=False),
        Figure("week_sales", _summed(f.deals("amount", d.cat("closed"), ge("close_date", a), le("close_date", b)),
                                     "week_sales")),
        Figure("sales_per_rep", _every(Ratio(Ref("week_sales"), Ref("reps"))), money=False),
        Figure("new_customers", _summed(v(None, done, d.purpose("new_customer"), gt("order_amount", 0)),
                                        "new_customers"), money=False),
        Figure("collections", _summed(v("collection_amount", done), "collections")),
        Figure("planned", _summed(v(None), "planned"), money=False),
        Figure("visits", _summed(v(None, done), "visits"), money=False),
        Figure("adherence", _every(Ratio(Ref("visits"), Ref("planned"))), money=False),
        Figure("effective", _summed(v(None, done, nonblank("result")), "effective"), money=False),
        Figure("effective_rate", _every(Ratio(Ref("effective"), Ref("visits"))), money=False),
        Figure("deals", _summed(v(None, done, gt("order_amount", 0)), "deals"), money=False),
        Figure("deal_rate", _every(Ratio(Ref("deals"), Ref("visits"))), money=False),
        Figure("orders", _summed(v("order_amount", done), "orders")),
        Figure("cost", _summed(v("cost", done), "cost")),
        Figure("cost_per_order", _every(Ratio(Ref("cost"), Ref("deals"))), money=False),
        Figure("cost_per_10k", _every(Ratio(Ref("cost") * Num(10000), Ref("orders"))), money=False),
    ]
    for key, (table, _rows) in lists.items():
        figures.append(Figure(key, _summed(Sum(table, None, ()), key), money=False))
    g.compute(figures)
    return g


# --- 记分卡 the rep scorecard --------------------------------------------------------------------------------

def scorecard(d: ReviewData, reps: list[Entity]) -> Grid:
    """One row per rep; formulas refer to their own row relatively, so the table can be sorted."""
    f, cal = Figures(d), d.cal
    rows = [Row(SCORECARD.first_row + 2 + i, (eq("rep_id", e.key),)) for i, e in enumerate(reps)]
    g = Grid(rows, ["rep"] * len(reps), _cols(SCORECARD), relative=True)
    y0, y1 = cal.year
    a, b = cal.last_week
    visits = d.tables["visits"]
    done = d.visit_status("done")
    subs = d.tables["submissions"]

    def v(col: str | None, *crits) -> Sum:
        return Sum(visits, col, (d.ok(), ge("date", a), le("date", b), *crits))

    def at_work(code: str) -> Sum:  # SPEC §7: the days of last week a rep was at work (present or on a trip)
        return Sum(d.tables["attendance"], None, (d.ok(), ge("date", a), le("date", b), d.attendance(code)))

    need = d.setup.threshold("forecast_months")
    fa, fb = cal.forecast_window
    g.compute([
        Figure("month_target", {"rep": Sum(f.tg, "target", (ge("month", f.m0), le("month", f.m1)))}),
        Figure("month_actual", {"rep": f.booked(f.m0, f.m0)}),
        Figure("month_attainment", {"rep": Ratio(Ref("month_actual"), Ref("month_target"))}, money=False),
        Figure("year_target", {"rep": Sum(f.tg, "target", (ge("month", y0), le("month", y1)))}),
        Figure("year_actual", {"rep": f.booked(y0, y1)}),
        Figure("year_attainment", {"rep": Ratio(Ref("year_actual"), Ref("year_target"))}, money=False),
        Figure("month_forecast", {"rep": landing(f, f.m0, f.m1)}),
        Figure("accuracy", {"rep": accuracy(Ref("month_actual"), Ref("month_forecast"))}, money=False),
        Figure("forecast_months", {"rep": f.forecast(None, ge("month", fa), le("month", fb))}, money=False),
        Figure("forecast_rate", {"rep": Ratio(Ref("forecast_months"), Name("xs_t_forecast_months", need))},
               money=False),
        Figure("errors", {"rep": Sum(subs, "errors", ())}, money=False),
        Figure("visits", {"rep": v(None, done)}, money=False),
        Figure("effective_rate", {"rep": Ratio(v(None, done, nonblank("result")), Ref("visits"))}, money=False),
        Figure("deal_rate", {"rep": Ratio(v(None, done, gt("order_amount", 0)), Ref("visits"))}, money=False),
        Figure("adherence", {"rep": Ratio(Ref("visits"), v(None))}, money=False),
        Figure("collections", {"rep": v("collection_amount", done)}),
        Figure("week_sales", {"rep": f.deals("amount", d.cat("closed"), ge("close_date", a), le("close_date", b))}),
        Figure("attendance", {"rep": at_work("present") + at_work("travel")}, money=False),
    ])
    return g


# --- putting them into the report ---------------------------------------------------------------------------

def _sheet_table(table, first_row: int):
    return dataclasses.replace(table, first_row=first_row)


def add_variance_sheets(report: Report, d: ReviewData) -> dict:
    """差异, 周报 and 记分卡; call after :func:`xlsales.report.review.add_reviews` (the thresholds' names)."""
    lang, cal = report.lang, d.cal
    zh = lang == "zh"
    ents = entities(d.setup)
    flag = f"{'实际数来源' if zh else 'Actuals'}: {d.actuals.label(lang)}"
    q = quarter_name(cal.quarter, cal.fiscal_start_month)
    # variance
    text, values, formulas = variance(d, ents)
    n_var = len(text)
    sh = report.sheet(VARIANCE.sheet(lang))
    sh.put(0, 0, (f"差异 · 截至 {cal.as_of} · 本周 {label(cal.week)} · 本月 {label(cal.month)} · 本季 {q} "
                  f"{label(cal.quarter)} · 本财年 FY{cal.fiscal_year} {label(cal.year)} · {flag}" if zh else
                  f"Variance · as of {cal.as_of} · week {label(cal.week)} · month {label(cal.month)} · quarter {q} "
                  f"{label(cal.quarter)} · fiscal year FY{cal.fiscal_year} {label(cal.year)} · {flag}"),
           style="subtitle")
    put_table(sh, VARIANCE, text, values, formulas)
    cum_first = VARIANCE.first_row + n_var + 4
    cum_table = _sheet_table(CUMULATIVE, cum_first)
    ctext, cum = cumulative(d, cum_first)
    put_grid(sh, cum_table, cum, ctext)
    sh.freeze = (2, 3)
    # weekly report with its three lists below
    signals, abnormal, plan = visit_lists(d)
    lists: dict[str, tuple] = {}
    row0 = WEEKLY_REPORT.first_row + len(ents) + 4
    for key, t, rows in (("signals", SIGNALS, signals), ("abnormal", ABNORMAL, abnormal),
                         ("next_week", NEXT_WEEK, plan)):
        placed = _sheet_table(t, row0)
        frame = pd.DataFrame(rows, columns=t.keys)
        from xlsales.report.book import where

        lists[key] = (where(placed, lang, frame), rows, placed)
        row0 += max(len(rows), 1) + 4
    wk = weekly_report(d, ents, {k: (v[0], v[1]) for k, v in lists.items()})
    wrows = []
    submitted, on_time = submissions(d)
    for e in ents:
        wrows.append({**e.row(lang), **submitted_cells(ents, e, submitted, on_time, lang)})
    sh = place(report, WEEKLY_REPORT, wk, wrows,
               (f"销售管理报告书 · 上周 {label(cal.last_week)} 的拜访与成交;本周 {label(cal.week)} 的计划;本月 "
                f"{label(cal.month)} · {flag}" if zh else
                f"Weekly sales management report · visits and sales of last week {label(cal.last_week)}; this "
                f"week's plan {label(cal.week)}; month {label(cal.month)} · {flag}"))
    for _t, rows, placed in lists.values():
        sh.blocks.append(Block(placed, no_missing(rows)))
    # scorecard
    reps = [e for e in ents if e.level == "rep"]
    sc = scorecard(d, reps)
    srows = []
    for e in reps:
        row = {**_who(d, e.key), "submitted": YES[lang] if e.key in submitted else NO[lang],
               "on_time": YES[lang] if e.key in on_time else NO[lang]}
        srows.append(row)
    place(report, SCORECARD, sc, srows,
          (f"业务员记分卡 · 可按任一列排序 · 本月 {label(cal.month)};本财年 {label(cal.year)};上周 "
           f"{label(cal.last_week)} · {flag}" if zh else
           f"Rep scorecard · sort by any column · month {label(cal.month)}; fiscal year {label(cal.year)}; last week "
           f"{label(cal.last_week)} · {flag}"), freeze=(2, 2))
    _bands(report, n_var, len(ents), len(reps))
    _charts(report, cum_first, len(reps), lang)
    return {"variance": (text, values, formulas), "cumulative": cum, "weekly_report": wk, "scorecard": sc,
            "lists": {k: v[1] for k, v in lists.items()}}


def _bands(report: Report, n_var: int, n_ents: int, n_reps: int) -> None:
    lang = report.lang

    rel = relative
    healthy = (f"{rel(VARIANCE, 'actual')}/{rel(VARIANCE, 'forecast')}>=xs_t_actual_vs_commit_low,"
               f"{rel(VARIANCE, 'actual')}/{rel(VARIANCE, 'forecast')}<=xs_t_actual_vs_commit_high")
    pace = f"{rel(VARIANCE, 'days')}>0,{{x}}>={rel(VARIANCE, 'days_gone')}/{rel(VARIANCE, 'days')}"
    band(report, VARIANCE, n_var, "attainment", [("{x}>=1", "good"), (pace, "warn"), ("TRUE", "bad")])
    band(report, VARIANCE, n_var, "proj_attainment", [("{x}>=1", "good"), ("{x}>=xs_t_actual_vs_commit_low", "warn"),
                                                     ("TRUE", "bad")])
    band(report, VARIANCE, n_var, "accuracy", [(healthy, "good"), ("TRUE", "bad")])
    band(report, WEEKLY_REPORT, n_ents, "attainment", [("{x}>=1", "good"), ("TRUE", "bad")])
    for key in ("month_attainment", "year_attainment"):
        band(report, SCORECARD, n_reps, key, [("{x}>=1", "good"), ("TRUE", "bad")])
    band(report, SCORECARD, n_reps, "forecast_rate", [("{x}>=xs_t_submission_rate", "good"), ("TRUE", "bad")])
    sc_healthy = (f"{rel(SCORECARD, 'month_actual')}/{rel(SCORECARD, 'month_forecast')}>=xs_t_actual_vs_commit_low,"
                  f"{rel(SCORECARD, 'month_actual')}/{rel(SCORECARD, 'month_forecast')}<=xs_t_actual_vs_commit_high")
    band(report, SCORECARD, n_reps, "accuracy", [(sc_healthy, "good"), ("TRUE", "bad")])
    _ = lang


def _charts(report: Report, cum_first: int, n_reps: int, lang: Lang) -> None:
    zh = lang == "zh"
    sh = report.sheet(VARIANCE.sheet(lang))
    scn, vn = SCORECARD.sheet(lang), VARIANCE.sheet(lang)
    n = max(n_reps, 1)
    r0 = SCORECARD.first_row + 2

    def srng(key: str) -> str:
        c = col_letter(SCORECARD.first_col + SCORECARD.keys.index(key))
        return f"='{scn}'!${c}${r0}:${c}${r0 + n - 1}"

    x = len(VARIANCE.columns) + 1
    sh.charts.append(Chart("bar", "业务员达成率" if zh else "Attainment by rep", srng("rep_id"),
                           [("本月 Month", srng("month_attainment")), ("本财年 Year", srng("year_attainment"))],
                           (1, x)))
    c0 = cum_first + 2

    def crng(key: str) -> str:
        c = col_letter(CUMULATIVE.first_col + CUMULATIVE.keys.index(key))
        return f"='{vn}'!${c}${c0}:${c}${c0 + 11}"

    sh.charts.append(Chart("line", "按月累计:实际 vs 目标" if zh else "Cumulative actual vs target by month",
                           crng("period"), [("累计目标 Target", crng("cum_target")),
                                            ("累计实际 Actual", crng("cum_actual"))], (18, x)))


__all__ = ["LEVEL_LABEL", "add_variance_sheets", "landing", "scorecard", "variance", "visit_lists", "weekly_report"]
