"""按期汇总 Rollups and 阶段分布 pipeline by stage: every category by week, month and quarter of expected close.

For each grain (13 weeks around the report week, the months and fiscal quarters in which any accepted
deal closes) and each row of the organisation: won, commit, upside and pipeline closing in the period,
the weighted amount of the same open deals, and the cumulative views (commit forecast = won + commit;
best case = won + commit + upside; open total = commit + upside + pipeline).  A rep's cell sums the
deal table; a team's, region's and the company's sum the rows below them for the same period.
"""

from __future__ import annotations

import datetime as dt

from xlsales.core.expr import Children, Figure, Grid, Ref, Row, eq, ge, le
from xlsales.core.issues import col_letter
from xlsales.core.periods import add_months, quarter_name
from xlsales.report.book import Entity, ReviewData, entities
from xlsales.report.layout import place
from xlsales.report.model import Chart, Report
from xlsales.report.review import Figures
from xlsales.report.tables import ROLLUPS, STAGES

GRAIN_LABEL = {"zh": {"week": "周", "month": "月", "quarter": "季"},
               "en": {"week": "week", "month": "month", "quarter": "quarter"}}
CATEGORIES = ("closed", "commit", "upside", "pipeline")


def periods(d: ReviewData) -> list[tuple[str, str, dt.date, dt.date]]:
    """(grain, label, first day, last day) of every period the rollups show."""
    cal = d.cal
    out: list[tuple[str, str, dt.date, dt.date]] = []
    for k in range(-4, 9):
        s = cal.period + dt.timedelta(weeks=k)
        y, w, _ = s.isocalendar()
        out.append(("week", f"{y}-W{w:02d}", s, s + dt.timedelta(days=6)))
    deals = d.c.accepted("opportunities")
    dates = {x for x in deals["close_date"] if isinstance(x, dt.date)} if not deals.empty else set()
    months = sorted({x.replace(day=1) for x in dates}) or [cal.as_of.replace(day=1)]
    for m in months:
        out.append(("month", m.strftime("%Y-%m"), m, add_months(m, 1) - dt.timedelta(days=1)))
    fs = cal.fiscal_start_month
    quarters = sorted({add_months(m, -((m.month - fs) % 3)) for m in months})
    for q in quarters:
        end = add_months(q, 3) - dt.timedelta(days=1)
        out.append(("quarter", quarter_name((q, end), fs), q, end))
    return out


def rollups(d: ReviewData, ents: list[Entity]) -> tuple[Grid, list[dict]]:
    f, lang = Figures(d), d.lang
    order = ([e for e in ents if e.level == "company"] + [e for e in ents if e.level == "region"]
             + [e for e in ents if e.level == "team"] + [e for e in ents if e.level == "rep"])
    pers = periods(d)
    first = ROLLUPS.first_row + 2
    layout: list[tuple[Entity, tuple[str, str, dt.date, dt.date]]] = [
        (e, p) for grain in ("week", "month", "quarter") for e in order for p in pers if p[0] == grain]
    at = {(e, p): i for i, (e, p) in enumerate(layout)}
    child = {"team": "rep", "region": "team", "company": "region"}
    under = {e: [x for x in order if x.level == child[e.level] and _under(x, e)] for e in order if e.level in child}
    rows: list[Row] = []
    for e, p in layout:
        _, _, a, b = p
        if e.level == "rep":
            rows.append(Row(first + len(rows), (eq("rep_id", e.key), ge("close_date", a), le("close_date", b))))
        else:
            rows.append(Row(first + len(rows), children=tuple(at[(x, p)] for x in under[e])))
    g = Grid(rows, [e.level for e, _ in layout], {c.key: col_letter(ROLLUPS.first_col + i)
                                                   for i, c in enumerate(ROLLUPS.columns)})
    figures = [Figure(k, {"rep": f.deals("amount", d.cat(k)), **{lv: Children(k) for lv in ("team", "region",
                                                                                           "company")}})
               for k in CATEGORIES]
    weighted = (f.deals("weighted", d.cat("commit")) + f.deals("weighted", d.cat("upside"))
                + f.deals("weighted", d.cat("pipeline")))
    figures.append(Figure("weighted", {"rep": weighted, **{lv: Children("weighted")
                                                           for lv in ("team", "region", "company")}}))
    every = ("rep", "team", "region", "company")
    figures += [
        Figure("commit_forecast", dict.fromkeys(every, Ref("closed") + Ref("commit"))),
        Figure("best_case", dict.fromkeys(every, Ref("closed") + Ref("commit") + Ref("upside"))),
        Figure("open_pipeline", dict.fromkeys(every, Ref("commit") + Ref("upside") + Ref("pipeline"))),
    ]
    g.compute(figures)
    text = [{**e.row(lang), "grain": GRAIN_LABEL[lang][p[0]], "period": p[1], "start": p[2], "end": p[3]}
            for e, p in layout]
    return g, text


def _under(x: Entity, e: Entity) -> bool:
    from xlsales.report.book import under

    return under(x, e)


def stage_pipeline(d: ReviewData) -> tuple[Grid, list[dict]]:
    """Open deals by stage: amount and weighted amount (commit + upside + pipeline)."""
    f = Figures(d)
    stages = [s for s in d.setup.stages.itertuples() if s.open is not False]
    first = STAGES.first_row + 2
    rows, text = [], []
    for i, s in enumerate(stages):
        lab = d.labels["stage"][s.en]
        rows.append(Row(first + i, (eq("stage", lab),)))
        text.append({"stage": lab, "probability": float(s.probability)})
    g = Grid(rows, ["company"] * len(rows), {c.key: col_letter(STAGES.first_col + i)
                                              for i, c in enumerate(STAGES.columns)})
    amount = f.deals("amount", d.cat("commit")) + f.deals("amount", d.cat("upside")) \
        + f.deals("amount", d.cat("pipeline"))
    weighted = f.deals("weighted", d.cat("commit")) + f.deals("weighted", d.cat("upside")) \
        + f.deals("weighted", d.cat("pipeline"))
    g.compute([Figure("amount", {"company": amount}), Figure("weighted", {"company": weighted})])
    return g, text


def add_rollups(report: Report, d: ReviewData) -> None:
    lang = report.lang
    zh = lang == "zh"
    ents = entities(d.setup)
    g, text = rollups(d, ents)
    place(report, ROLLUPS, g, text, "按期汇总 · 按预计成交日期的周、月、季汇总;有望从不计入承诺" if zh else
          "Rollups · by week, month and quarter of expected close; upside is never counted in commit")
    sh = report.sheet(ROLLUPS.sheet(lang))
    name = ROLLUPS.sheet(lang)
    r0 = ROLLUPS.first_row + 2
    weeks = sum(1 for t in text if t["level"] == text[0]["level"] and t["grain"] == GRAIN_LABEL[lang]["week"])

    def rng(key: str) -> str:
        c = col_letter(ROLLUPS.first_col + ROLLUPS.keys.index(key))
        return f"='{name}'!${c}${r0}:${c}${r0 + weeks - 1}"

    sh.charts.append(Chart("column", "按周:承诺 vs 已成交(全公司)" if zh else "Commit vs won by week (company)",
                           rng("period"), [("承诺 Commit", rng("commit")), ("已成交 Closed", rng("closed"))],
                           (1, len(ROLLUPS.columns) + 1)))
    sg, stext = stage_pipeline(d)
    st = place(report, STAGES, sg, stext, "按阶段的管道 Pipeline by stage(有效的未结商机 accepted open deals)",
               freeze=(2, 0))
    sn = STAGES.sheet(lang)
    first, last = STAGES.first_row + 2, STAGES.first_row + 1 + len(stext)
    st.charts.append(Chart("bar", "按阶段的管道" if zh else "Pipeline by stage", f"='{sn}'!$A${first}:$A${last}",
                           [("金额 Amount", f"='{sn}'!$C${first}:$C${last}"),
                            ("加权 Weighted", f"='{sn}'!$D${first}:$D${last}")], (1, 6)))
