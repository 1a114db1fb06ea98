"""The weekly commit review 周度承诺 and the monthly forecast review 月度预测 (SPEC §3–§5, §10).

Rows are the organisation (:func:`xlsales.report.book.entities`): each rep, their team,
the region, the company.  Every figure is an :class:`xlsales.core.expr.Expr` defined
once below: a rep's cell sums the report's data (``SUMIFS`` on the rep id), a
team's, region's and the company's cell sums the rows below it, and ratios are
taken on each row's own cells — so each number is Python's value cached under a
live formula, and both come from the same definition.

The periods (the sheet's title states their dates; ``docs/figures.md`` defines
every figure):

* **last week** — last week's commit (from last week's report) vs the deals won in last week;
* **this week** — the rep's commit and upside for the report week (the manager's adjustment where there
  is one), the commit deals closing this week and how many of them pass the whole commit checklist;
* **this month / quarter** of the as-of date — target, booked so far, *landing* (booked + the forecast of
  the rest; a month's landing is the larger of its forecast and what is booked) and landing + upside;
* **this fiscal year to date** — orders won and the share not yet realized;
* **the 12 forecast months** — Σ forecast and upside against the target of the same 12 months;
* **coverage** — qualified open pipeline (stage probability > 0) closing in the month, the quarter and the
  12 months ÷ that period's remaining target;
* **last month** — pipeline and commit growth against the latest report of the previous month.
"""

from __future__ import annotations

from xlsales.core.expr import Children, Crit, Expr, Figure, Grid, If, Max, Name, Num, Ratio, Ref, Sum, eq, ge, gt, le
from xlsales.core.periods import add_months, label, quarter_name
from xlsales.core.records import rows_of
from xlsales.core.schema import Table as SchemaTable
from xlsales.core.targets import UNASSIGNED
from xlsales.report.book import (
    LEVEL_LABEL,
    Entity,
    ReviewData,
    entities,
    org_rows,
    submissions,
    submitted_cells,
)
from xlsales.report.layout import band, place
from xlsales.report.model import Report
from xlsales.report.tables import MONTHLY, WEEKLY

NO_DATA = {"zh": "无上期数据", "en": "no earlier report"}

LEVELS_ALL = ("rep", "team", "region", "company")


def _every(expr: Expr) -> dict[str, Expr]:
    return dict.fromkeys(LEVELS_ALL, expr)


def _summed(rep: Expr, key: str) -> dict[str, Expr]:
    """A rep computes ``rep``; teams, regions and the company add up the rows below them."""
    return {"rep": rep, "team": Children(key), "region": Children(key), "company": Children(key)}


def _cols(table: SchemaTable) -> dict[str, str]:
    from xlsales.core.issues import col_letter

    return {c.key: col_letter(table.first_col + i) for i, c in enumerate(table.columns)}


def new_grid(table: SchemaTable, ents: list[Entity]) -> Grid:
    rows = org_rows(ents, table.first_row + 2)
    for r, e in zip(rows, ents, strict=True):  # non-rep rows carry their own keys for the sums that need them
        if e.level == "team":
            r.crits = (eq("region", e.region), eq("team", e.team))
        elif e.level == "region":
            r.crits = (eq("region", e.region),)
    return Grid(rows, [e.level for e in ents], _cols(table))


class Figures:
    """The building blocks of both reviews, from one :class:`ReviewData`."""

    def __init__(self, d: ReviewData) -> None:
        self.d = d
        t = d.tables
        self.opps, self.fc, self.weekly, self.tg, self.act = (t["opportunities"], t["forecast"], t["weekly"],
                                                                t["targets"], t["actuals"])
        cal = d.cal
        self.m0, self.m1 = cal.month
        self.q0, self.q1 = cal.quarter

    def deals(self, col: str | None, *crits: Crit) -> Sum:
        return Sum(self.opps, col, (self.d.ok(), *crits))

    def forecast(self, col: str | None, *crits: Crit) -> Sum:
        return Sum(self.fc, col, (self.d.ok(), *crits))

    def booked(self, a: object, b: object) -> Sum:
        """Actuals (finance, else won deals) of the months from ``a`` to ``b``."""
        return Sum(self.act, "amount", (self.d.revenue(), ge("month", a), le("month", b)))

    def qualified(self, *crits: Crit) -> Sum:
        """Qualified open pipeline: open categories, stage probability above 0."""
        lab = self.d.labels["category"]
        return self.deals("amount", Crit("category", "<>", lab["closed"]), Crit("category", "<>", lab["lost"]),
                          gt("probability", 0), *crits)


def _target(f: Figures, key: str, a: object, b: object) -> Figure:
    """Raised targets of the months from ``a`` to ``b``: a rep's own; a region adds its unassigned part."""
    crits = (ge("month", a), le("month", b))
    return Figure(key, {"rep": Sum(f.tg, "target", crits), "team": Children(key),
                        "region": Children(key) + Sum(f.tg, "target", (*crits, eq("rep_id", UNASSIGNED))),
                        "company": Children(key)})


# --- the weekly commit review --------------------------------------------------------------------

def weekly_review(d: ReviewData, ents: list[Entity]) -> tuple[Grid, list[dict]]:
    """周度承诺: values and formulas for every entity row (with the text columns in ``rows``)."""
    f, cal, lang = Figures(d), d.cal, d.lang
    g = new_grid(WEEKLY, ents)
    wk0, wk1 = cal.week
    lw0, lw1 = cal.last_week
    y0 = cal.year[0]
    rep_level = LEVEL_LABEL[lang]["rep"]
    team_level = LEVEL_LABEL[lang]["team"]
    adj = d.tables["adjust"]
    prev = d.tables["previous"]
    which = {"zh": "上周", "en": "last week"}[lang]

    def last(level: str, col: str, on: tuple[tuple[str, str], ...]) -> Sum:
        return Sum(prev, col, (eq("level", LEVEL_LABEL[lang][level]), eq("which", which)), on=on)

    def adjusted(level: str, on: tuple[tuple[str, str], ...], otherwise: Expr) -> Expr:
        crits = (eq("level", rep_level if level == "rep" else team_level),)
        return If(Sum(adj, None, crits, on=on), ">", Num(0), Sum(adj, "commit", crits, on=on), otherwise)

    checklist = [d.yes(k) for k in ("chk_config", "chk_contract_end_user", "chk_contract_si", "chk_discount",
                                    "chk_partner_ready")]
    this_week = (ge("close_date", wk0), le("close_date", wk1))
    figures: list[Figure] = []
    if d.last_week is not None:
        figures.append(Figure("last_commit", {
            "rep": last("rep", "commit_adj", (("rep_id", "key"),)),
            "team": last("team", "commit_adj", (("team", "key"),)),
            "region": last("region", "commit_adj", (("region", "key"),)),
            "company": Sum(prev, "commit_adj", (eq("level", LEVEL_LABEL[lang]["company"]), eq("which", which)),
                           own=False)}))
    figures += [
        Figure("last_won", _summed(f.deals("amount", d.cat("closed"), ge("close_date", lw0), le("close_date", lw1)),
                                   "last_won")),
    ]
    if d.last_week is not None:
        figures.append(Figure("won_vs_commit", _every(Ratio(Ref("last_won"), Ref("last_commit"))), money=False))
    figures += [
        Figure("commit_own", _summed(Sum(f.weekly, "commit", (d.ok(), eq("week", wk0))), "commit_own")),
        Figure("upside_own", _summed(Sum(f.weekly, "upside", (d.ok(), eq("week", wk0))), "upside_own")),
        Figure("commit_adj", {
            "rep": adjusted("rep", (("rep_id", "key"),), Ref("commit_own")),
            "team": adjusted("team", (("team", "key"),), Children("commit_adj")),
            "region": Children("commit_adj"), "company": Children("commit_adj")}),
        Figure("commit_share", _every(Ratio(Ref("commit_adj"), Ref("commit_adj") + Ref("upside_own"))), money=False),
        Figure("commit_deals", _summed(f.deals("amount", d.cat("commit"), *this_week), "commit_deals")),
        Figure("qualified", _summed(f.deals("amount", d.cat("commit"), *this_week, *checklist), "qualified")),
        _target(f, "month_target", f.m0, f.m1),
        Figure("month_booked", _summed(f.booked(f.m0, f.m0), "month_booked")),
        Figure("month_forecast", _summed(f.forecast("forecast", eq("month", f.m0)), "month_forecast")),
        Figure("month_landing", _summed(Max((Ref("month_forecast"), Ref("month_booked"))), "month_landing")),
        Figure("month_best", _summed(Ref("month_landing") + f.forecast("upside", eq("month", f.m0)), "month_best")),
        Figure("month_ratio", _every(Ratio(Ref("month_best"), Ref("month_target"))), money=False),
        _target(f, "quarter_target", f.q0, f.q1),
        Figure("quarter_booked", _summed(f.booked(f.q0, f.m0), "quarter_booked")),
        Figure("quarter_landing", _summed(
            f.booked(f.q0, add_months(f.m0, -1)) + Ref("month_landing")
            + f.forecast("forecast", ge("month", add_months(f.m0, 1)), le("month", f.q1)), "quarter_landing")),
        Figure("quarter_best", _summed(
            Ref("quarter_landing") + f.forecast("upside", ge("month", f.m0), le("month", f.q1)), "quarter_best")),
        Figure("quarter_ratio", _every(Ratio(Ref("quarter_best"), Ref("quarter_target"))), money=False),
        Figure("won_ytd", _summed(f.deals("amount", d.cat("closed"), ge("close_date", y0), le("close_date", cal.as_of)),
                                  "won_ytd")),
        Figure("unrealized", _summed(Ref("won_ytd") - f.deals("amount", d.cat("closed"), d.yes("realized"),
                                                             ge("close_date", y0), le("close_date", cal.as_of)),
                                     "unrealized")),
        Figure("unrealized_share", _every(Ratio(Ref("unrealized"), Ref("won_ytd"))), money=False),
    ]
    g.compute(figures)
    submitted, on_time = submissions(d)
    adj_by = {(str(a.get("level")), str(a.get("key")), str(a.get("region") or "")): f"{a.get('by')}: {a.get('reason')}"
              for a in rows_of(d.frames["adjust"])}
    rows = []
    for e in ents:
        row = {**e.row(lang), **submitted_cells(ents, e, submitted, on_time, lang)}
        if e.level in ("rep", "team"):
            lab = LEVEL_LABEL[lang][e.level]
            row["adjusted_by"] = adj_by.get((lab, e.key, e.region)) or adj_by.get((lab, e.key, "")) or ""
        if d.last_week is None:
            row["last_commit"] = NO_DATA[lang]
        rows.append(row)
    return g, rows


# --- the monthly forecast review --------------------------------------------------------------------

def monthly_review(d: ReviewData, ents: list[Entity]) -> tuple[Grid, list[dict]]:
    """月度预测: submission, Σ12 vs the same 12 months' target, coverage by period, growth vs last month."""
    f, cal, lang = Figures(d), d.cal, d.lang
    g = new_grid(MONTHLY, ents)
    fa, fb = cal.forecast_window
    months12 = (ge("month", fa), le("month", fb))
    prev = d.tables["previous"]
    which = {"zh": "上月", "en": "last month"}[lang]
    q = d.setup.threshold("quality_probability")

    def last(col: str) -> dict[str, Expr]:
        def at(level: str, on: tuple[tuple[str, str], ...], own: bool = True) -> Sum:
            return Sum(prev, col, (eq("level", LEVEL_LABEL[lang][level]), eq("which", which)), on=on, own=own)
        return {"rep": at("rep", (("rep_id", "key"),)), "team": at("team", (("team", "key"),)),
                "region": at("region", (("region", "key"),)), "company": at("company", (), own=False)}

    figures = [
        Figure("months", _summed(f.forecast(None, *months12), "months"), money=False),
        Figure("reps", _summed(Num(1), "reps"), money=False),
        Figure("compliant", _summed(If(Ref("months"), ">=", Name("xs_t_forecast_months",
                                                                d.setup.threshold("forecast_months")),
                                       Num(1), Num(0)), "compliant"), money=False),
        Figure("compliance", _every(Ratio(Ref("compliant"), Ref("reps"))), money=False),
        Figure("fc12", _summed(f.forecast("forecast", *months12), "fc12")),
        Figure("up12", _summed(f.forecast("upside", *months12), "up12")),
        Figure("total12", _every(Ref("fc12") + Ref("up12"))),
        _target(f, "target12", fa, fb),
        Figure("ratio12", _every(Ratio(Ref("total12"), Ref("target12"))), money=False),
    ]
    # coverage: the period's qualified pipeline over what is left of its target (never below 0)
    for key, (a, b), (ba, bb) in (("month", cal.month, (f.m0, f.m0)), ("quarter", cal.quarter, (f.q0, f.m0)),
                                  ("12", (fa, fb), (fa, f.m0))):
        tk, bk, lk, pk, ck = ((f"{key}_target", f"{key}_booked", f"{key}_left", f"{key}_pipe", f"{key}_cover")
                              if key != "12" else ("target12", "booked12", "left12", "pipe12", "cover12"))
        if key != "12":
            figures.append(_target(f, tk, a, b))
        figures += [
            Figure(bk, _summed(f.booked(ba, bb), bk)),
            Figure(lk, _every(Max((Ref(tk) - Ref(bk), Num(0))))),
            Figure(pk, _summed(f.qualified(ge("close_date", a), le("close_date", b)), pk)),
            Figure(ck, _every(Ratio(Ref(pk), Ref(lk))), money=False),
        ]
    figures += [
        Figure("open_pipe", _summed(f.qualified(), "open_pipe")),
        Figure("good_pipe", _summed(f.qualified(Crit("probability", ">=", q, '">="&xs_t_quality_probability')),
                                    "good_pipe")),
        Figure("quality", _every(Ratio(Ref("good_pipe"), Ref("open_pipe"))), money=False),
        Figure("commit_open", _summed(f.deals("amount", d.cat("commit")), "commit_open")),
    ]
    if d.last_month is not None:
        figures += [
            Figure("last_pipe", last("pipeline_open")),
            Figure("pipe_growth", _every(Ratio(Ref("open_pipe") - Ref("last_pipe"), Ref("last_pipe"))), money=False),
            Figure("last_commit", last("commit_total")),
            Figure("commit_growth", _every(Ratio(Ref("commit_open") - Ref("last_commit"), Ref("last_commit"))),
                   money=False),
        ]
    g.compute(figures)
    rows = []
    for e in ents:
        row = e.row(lang)
        if d.last_month is None:
            row["last_pipe"] = row["last_commit"] = NO_DATA[lang]
        rows.append(row)
    return g, rows


def title_weekly(d: ReviewData) -> str:
    cal, zh = d.cal, d.lang == "zh"
    q = quarter_name(cal.quarter, cal.fiscal_start_month)
    if zh:
        return (f"周度承诺 · 截至 {cal.as_of} · 本周 {label(cal.week)} · 上周 {label(cal.last_week)} · "
                f"本月 {label(cal.month)} · 本季 {q} {label(cal.quarter)} · 本财年至今 {label(cal.ytd)}")
    return (f"Weekly commit · as of {cal.as_of} · this week {label(cal.week)} · last week {label(cal.last_week)} · "
            f"month {label(cal.month)} · quarter {q} {label(cal.quarter)} · fiscal year to date {label(cal.ytd)}")


def title_monthly(d: ReviewData) -> str:
    cal, zh = d.cal, d.lang == "zh"
    w = cal.forecast_window
    prev = d.last_month.period.isoformat() if d.last_month and d.last_month.period else ("无" if zh else "none")
    if zh:
        return (f"月度预测 · 截至 {cal.as_of} · 12 个预测月 {label(w)} · 本月 {label(cal.month)} · "
                f"本季 {label(cal.quarter)} · 合格管道 = 未结商机中阶段概率 > 0 · 上月报告 {prev}")
    return (f"Monthly review · as of {cal.as_of} · 12 forecast months {label(w)} · month {label(cal.month)} · "
            f"quarter {label(cal.quarter)} · qualified pipeline = open deals at a stage above 0% · last month's "
            f"report {prev}")


def add_reviews(report: Report, d: ReviewData) -> dict[str, Grid]:
    ents = entities(d.setup)
    wk, wrows = weekly_review(d, ents)
    mo, mrows = monthly_review(d, ents)
    place(report, WEEKLY, wk, wrows, title_weekly(d))
    place(report, MONTHLY, mo, mrows, title_monthly(d))
    n = len(ents)
    band(report, WEEKLY, n, "won_vs_commit", [("{x}>=xs_t_actual_vs_commit_low,{x}<=xs_t_actual_vs_commit_high",
                                               "good"), ("TRUE", "bad")])
    band(report, WEEKLY, n, "commit_share", [("{x}>=xs_t_commit_vs_booked_low,{x}<=xs_t_commit_vs_booked_high",
                                              "good"), ("TRUE", "warn")])
    for key in ("month_ratio", "quarter_ratio"):
        band(report, WEEKLY, n, key, [("{x}>=1", "good"), ("TRUE", "bad")])
    band(report, WEEKLY, n, "unrealized_share", [("{x}<=xs_t_unrealized_max", "good"), ("TRUE", "bad")])
    band(report, MONTHLY, n, "compliance", [("{x}>=xs_t_submission_rate", "good"), ("TRUE", "bad")])
    band(report, MONTHLY, n, "ratio12", [("{x}>=1", "good"), ("TRUE", "bad")])
    for key in ("month_cover", "quarter_cover", "cover12"):
        band(report, MONTHLY, n, key, [("{x}>=xs_t_coverage_min", "good"), ("TRUE", "bad")])
    for key in ("pipe_growth", "commit_growth"):
        band(report, MONTHLY, n, key, [("{x}>=xs_t_mom_growth_good", "good"), ("{x}>=xs_t_mom_growth_min", "warn"),
                                       ("TRUE", "bad")])
    return {"weekly": wk, "monthly": mo}


__all__ = ["MONTHLY", "WEEKLY", "add_reviews", "monthly_review", "weekly_review"]
