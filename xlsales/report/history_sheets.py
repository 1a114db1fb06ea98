"""The report's history sheets: deal changes, forecast accuracy and on-time record, win rates (ledger history).

Built like :mod:`xlsales.report.review`: the rows :mod:`xlsales.core.history` derives from the ledger are written as the
report's own tables (商机变化明细, 历史期间, 商机轨迹), and every figure over them is an
:class:`xlsales.expr.Expr` — a ``COUNTIFS``/``SUMIFS`` formula whose cached value numpy computed — per rep,
team (region + team), region and company, each level summing the rows that match it.  Only a report whose
ledger holds earlier snapshots gets these sheets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlsales.core.expr import (
    Blank,
    Crit,
    Ctx,
    Div,
    Expr,
    Figure,
    Grid,
    If,
    Max,
    Num,
    Ratio,
    Ref,
    Round,
    Row,
    Sum,
    Values,
    blank_if_zero,
    eq,
    ge,
)
from xlsales.core.history import CHANGE_KINDS, History
from xlsales.core.issues import col_letter
from xlsales.core.periods import label
from xlsales.core.records import rows_of
from xlsales.report.book import NO, YES, ReviewData, entities, where
from xlsales.report.layout import band, place
from xlsales.report.model import Report
from xlsales.report.review import new_grid
from xlsales.report.tables import ACCURACY, CHANGE_COUNTS, DEAL_CHANGES, DEAL_PATHS, HISTORY_PERIODS, WIN_RATES

GRAIN = {"zh": {"week": "周", "month": "月"}, "en": {"week": "week", "month": "month"}}
OUTCOME = {"zh": {"won": "赢单", "lost": "丢单", "open": "未结"}, "en": {"won": "won", "lost": "lost", "open": "open"}}
CHANGE = {"zh": {k: zh for k, zh, _ in CHANGE_KINDS}, "en": {k: en for k, _, en in CHANGE_KINDS}}
ALL_STAGES = {"zh": "全部商机(每个商机一次)", "en": "All deals (each once)"}
LEVELS = ("rep", "team", "region", "company")


@dataclass(frozen=True, eq=False)
class Sqrt(Expr):
    """SQRT(x) of a non-negative x."""

    x: Expr

    def evaluate(self, ctx: Ctx) -> Values:
        return np.sqrt(self.x.evaluate(ctx))

    def formula(self, ctx: Ctx, i: int) -> str:
        return f"SQRT({self.x.formula(ctx, i)})"


def _every(e: Expr) -> dict[str, Expr]:
    return dict.fromkeys(LEVELS, e)


def _cols(table) -> dict[str, str]:
    return {c.key: col_letter(table.first_col + i) for i, c in enumerate(table.columns)}


def _who(d: ReviewData, rep: str) -> dict:
    r = d.roster.get(str(rep), {})
    return {"rep_id": rep, "rep_name": r.get("name"), "team": r.get("team") or "", "region": r.get("region") or ""}


def _frame(rows: list[dict], table) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=table.keys)


def _clean(v: object) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    return v.item() if isinstance(v, np.generic) else v


# --- the data tables -----------------------------------------------------------------------------------------

def change_rows(d: ReviewData, h: History) -> list[dict]:
    lang, lab = d.lang, d.labels
    out = []
    for r in rows_of(h.changes):
        out.append({**_who(d, r["rep_id"]), "change": CHANGE[lang][r["change"]], "opp_id": r["opp_id"],
                    "customer": r["customer"], "amount_before": r["amount_before"], "amount_after": r["amount_after"],
                    "close_before": r["close_before"], "close_after": r["close_after"],
                    **{f"{k}_{w}": lab[k].get(str(r[f"{k}_{w}"]), r[f"{k}_{w}"]) if r[f"{k}_{w}"] is not None else None
                       for k in ("stage", "category") for w in ("before", "after")}})
    return [{k: _clean(v) for k, v in r.items()} for r in out]


def path_rows(d: ReviewData, h: History) -> list[dict]:
    lang = d.lang
    return [{k: _clean(v) for k, v in {
        **_who(d, r["rep_id"]), "opp_id": r["opp_id"], "customer": r["customer"],
        "stage": d.labels["stage"].get(str(r["stage"]), r["stage"]), "probability": r["probability"],
        "outcome": OUTCOME[lang][r["outcome"]], "advanced": YES[lang] if r["advanced"] else NO[lang],
        "first": int(r["first"]), "first_seen": r["first_seen"], "last_seen": r["last_seen"]}.items()}
        for r in rows_of(h.paths)]


def put_periods(report: Report, d: ReviewData, h: History) -> pd.DataFrame:
    """历史期间: each rep's weeks and months with commit, actual, on time; the ratio and commit² are formulas."""
    lang = d.lang
    text: list[dict[str, Any]] = []
    for r in rows_of(h.periods):
        text.append({k: _clean(v) for k, v in {
            **_who(d, r["rep_id"]), "grain": GRAIN[lang][r["grain"]], "period": r["period"], "start": r["start"],
            "end": r["end"], "commit": r["commit"], "actual": r["actual"], "submitted": r["submitted"],
            "on_time": r["on_time"], "snapshot": r["snapshot"]}.items()})
    first = HISTORY_PERIODS.first_row + 2
    levels = ["rep" if t["commit"] is not None else "none" for t in text]
    g = Grid([Row(first + i) for i in range(len(text))], levels, _cols(HISTORY_PERIODS))
    for key in ("commit", "actual"):
        g.values[key] = np.array([np.nan if t[key] is None else float(t[key]) for t in text], dtype=float)
    g.compute([Figure("ratio", {"rep": Ratio(Ref("actual"), Ref("commit"))}, money=False),
               Figure("commit_sq", {"rep": Ref("commit") * Ref("commit")}, money=False)])
    for t in text:  # data columns stand as written; the grid adds the two formula columns
        t.setdefault("commit", None)
    sh = place(report, HISTORY_PERIODS, g, text,
               "历史期间 · 每位业务员最近 13 周和 12 个月:期初承诺、实际成交(之后第一次汇总所报)、按时提交 · 数据来自台账"
               if lang == "zh" else "History periods · each rep's last 13 weeks and 12 months: commit at the start, "
               "actual won (as the first later consolidation reported it), on time · from the ledger")
    sh.freeze = (2, 4)
    frame = _frame(text, HISTORY_PERIODS)
    frame["ratio"] = g.column("ratio")[:len(text)]
    frame["commit_sq"] = g.column("commit_sq")[:len(text)]
    return frame


# --- the figures -----------------------------------------------------------------------------------------------

def accuracy_grid(d: ReviewData, ents: list, periods, paths) -> tuple[Grid, list[dict]]:
    lang, setup = d.lang, d.setup
    g = new_grid(ACCURACY, ents)
    low, high = setup.threshold("actual_vs_commit_low"), setup.threshold("actual_vs_commit_high")
    band_crits = (Crit("ratio", ">=", low, '">="&xs_t_actual_vs_commit_low'),
                  Crit("ratio", "<=", high, '"<="&xs_t_actual_vs_commit_high'))
    rated = ge("ratio", 0)
    figures: list[Figure] = []
    for p, grain in (("w", "week"), ("m", "month")):
        gr = eq("grain", GRAIN[lang][grain])
        n = "weeks" if p == "w" else "months"
        figures += [
            Figure(n, _every(Sum(periods, None, (gr, rated))), money=False),
            Figure(f"{p}_commit", _every(Sum(periods, "commit", (gr, rated)))),
            Figure(f"{p}_actual", _every(Sum(periods, "actual", (gr, rated)))),
            Figure(f"{p}_ratio", _every(Ratio(Ref(f"{p}_actual"), Ref(f"{p}_commit"))), money=False),
            Figure(f"{p}_in_band", _every(Sum(periods, None, (gr, *band_crits))), money=False),
            Figure(f"{p}_band_share", _every(Ratio(Ref(f"{p}_in_band"), Ref(n))), money=False),
            Figure(f"{p}_bias", _every(blank_if_zero(Ref(n), Div(Sum(periods, "ratio", (gr, rated)), Ref(n)) - Num(1))),
                   money=False),
        ]
    wk = eq("grain", GRAIN[lang]["week"])
    recorded = ge("commit", 0)
    k = Sum(periods, None, (wk, recorded))
    s1 = Sum(periods, "commit", (wk, recorded))
    s2 = Sum(periods, "commit_sq", (wk, recorded))
    variance = Max((Num(0), Round(Div(s2, k) - Div(s1, k) * Div(s1, k), 0)))
    figures += [
        Figure("w_volatility", {"rep": If(s1, "=", Num(0), Blank(), Div(Sqrt(variance), Div(s1, k)))}, money=False),
        Figure("periods", _every(Sum(periods, None, (wk, ge("submitted", 0)))), money=False),
        Figure("submitted", _every(Sum(periods, "submitted", (wk,))), money=False),
        Figure("on_time", _every(Sum(periods, "on_time", (wk,))), money=False),
        Figure("on_time_rate", _every(Ratio(Ref("on_time"), Ref("periods"))), money=False),
        Figure("won_deals", _every(Sum(paths, None, (eq("first", 1), eq("outcome", OUTCOME[lang]["won"])))),
               money=False),
        Figure("closed_deals", _every(Ref("won_deals") + Sum(paths, None, (eq("first", 1),
                                                                           eq("outcome", OUTCOME[lang]["lost"])))),
               money=False),
        Figure("win_rate", _every(Ratio(Ref("won_deals"), Ref("closed_deals"))), money=False),
    ]
    g.compute(figures)
    return g, [e.row(lang) for e in ents]


def change_grid(d: ReviewData, ents: list, changes) -> tuple[Grid, list[dict]]:
    lang = d.lang
    g = new_grid(CHANGE_COUNTS, ents)

    def kind(k: str) -> Crit:
        return eq("change", CHANGE[lang][k])

    figures = [Figure(k, _every(Sum(changes, None, (kind(k),))), money=False) for k, _, _ in CHANGE_KINDS]
    figures += [Figure("won_amount", _every(Sum(changes, "amount_after", (kind("won"),)))),
                Figure("lost_amount", _every(Sum(changes, "amount_after", (kind("lost"),)))),
                Figure("slipped_amount", _every(Sum(changes, "amount_after", (kind("slipped"),)))),
                Figure("vanished_amount", _every(Sum(changes, "amount_before", (kind("vanished"),))))]
    g.compute(figures)
    return g, [e.row(lang) for e in ents]


def win_grid(d: ReviewData, paths) -> tuple[Grid, list[dict]]:
    lang = d.lang
    stages = [r for r in d.setup.stages.itertuples() if 0 < float(r.probability) < 1]
    first = WIN_RATES.first_row + 2
    rows = [Row(first + i, (eq("stage", d.labels["stage"].get(str(r.en), str(r.en))),)) for i, r in enumerate(stages)]
    rows.append(Row(first + len(stages), (eq("first", 1),)))
    g = Grid(rows, ["rep"] * len(stages) + ["company"], _cols(WIN_RATES))
    g.values["probability"] = np.array([float(r.probability) for r in stages] + [np.nan])
    won, lost = eq("outcome", OUTCOME[lang]["won"]), eq("outcome", OUTCOME[lang]["lost"])
    both = ("rep", "company")
    g.compute([
        Figure("deals", dict.fromkeys(both, Sum(paths, None, ())), money=False),
        Figure("won", dict.fromkeys(both, Sum(paths, None, (won,))), money=False),
        Figure("closed", dict.fromkeys(both, Ref("won") + Sum(paths, None, (lost,))), money=False),
        Figure("win_rate", dict.fromkeys(both, Ratio(Ref("won"), Ref("closed"))), money=False),
        Figure("gap", {"rep": If(Ref("closed"), "=", Num(0), Blank(), Ref("win_rate") - Ref("probability"))},
               money=False),
        Figure("advanced", dict.fromkeys(both, Sum(paths, None, (eq("advanced", YES[lang]),))), money=False),
        Figure("conversion", dict.fromkeys(both, Ratio(Ref("advanced"), Ref("deals"))), money=False),
    ])
    text = [{"stage": d.labels["stage"].get(str(r.en), str(r.en)), "probability": float(r.probability)}
            for r in stages]
    text.append({"stage": ALL_STAGES[lang]})
    return g, text


# --- the sheets -------------------------------------------------------------------------------------------------

def add_history_sheets(report: Report, d: ReviewData, h: History) -> dict[str, Grid]:
    """商机变化, 商机变化明细, 预测准确性, 历史期间, 赢单率, 商机轨迹: the history of ``h`` on six sheets."""
    lang = d.lang
    zh = lang == "zh"
    ents = entities(d.setup)
    # the list of changes, the periods and the deal paths: the tables every figure below sums over
    crows = change_rows(d, h)
    sh = report.sheet(DEAL_CHANGES.sheet(lang))
    last = h.last_week
    span = (f"上周 {last.period}(台账快照 #{last.snapshot})→ 本周 {h.now.period}" if zh else
            f"last week {last.period} (ledger snapshot #{last.snapshot}) → this week {h.now.period}") if last else \
        ("台账中没有上周的快照" if zh else "no snapshot of last week in the ledger")
    sh.put(0, 0, (f"商机变化明细 · {span} · 只比较两周都已提交的业务员 · 每个商机每种变化一行" if zh else
                  f"Deal changes · {span} · reps whose file counted both weeks · one row per deal and change"),
           style="subtitle")
    from xlsales.report.model import Block

    sh.blocks.append(Block(DEAL_CHANGES, crows))
    sh.freeze = (2, 4)
    changes = where(DEAL_CHANGES, lang, _frame(crows, DEAL_CHANGES))
    periods = where(HISTORY_PERIODS, lang, put_periods(report, d, h))
    prows = path_rows(d, h)
    sh = report.sheet(DEAL_PATHS.sheet(lang))
    sh.put(0, 0, ("商机轨迹 · 台账中每个商机经过的每个未结阶段一行;结果 = 最后一次出现时的类别" if zh else
                  "Deal paths · one row per deal and open stage it was seen at in the ledger; outcome = its category "
                  "when last seen"), style="subtitle")
    sh.blocks.append(Block(DEAL_PATHS, prows))
    sh.freeze = (2, 5)
    paths = where(DEAL_PATHS, lang, _frame(prows, DEAL_PATHS))

    cg, ctext = change_grid(d, ents, changes)
    place(report, CHANGE_COUNTS, cg, ctext,
          (f"商机变化 · {span} · 计数为「商机变化明细」中的行数(推迟:预计成交日期移出原所在期间,承诺商机按周、其余按月)"
           if zh else f"Deal changes · {span} · counts of the rows of the change list (slipped: the expected close "
           "moved out of its period — the week for a commit deal, else the month)"))
    weeks = [p for p in h.points if p.period >= h.now.period - pd.Timedelta(days=7 * 13)]
    first_week = weeks[0].period if weeks else h.now.period
    ag, atext = accuracy_grid(d, ents, periods, paths)
    band_text = f"{d.setup.threshold('actual_vs_commit_low'):.0%}–{d.setup.threshold('actual_vs_commit_high'):.0%}"
    place(report, ACCURACY, ag, atext,
          (f"预测准确性 · 周:{label((first_week, h.now.period))} 之间已有实际的周,承诺 = 当周汇总的调整后承诺,实际 = 当周赢单 · "
           f"月:最近 12 个月,预测 = 当月第一次汇总的本月预测 · 健康 = 实际/承诺在 {band_text} 之间(「阈值」表) · "
           f"偏差 = 平均(实际/承诺)−1(正 = 保守,负 = 过度承诺)· 波动率 = 周承诺标准差/均值 · 按时 = 周一 9:00 前提交"
           if zh else
           f"Forecast accuracy · weeks: those with an actual between {label((first_week, h.now.period))}; commit = the "
           "week's adjusted commit, actual = won in the week · months: the last 12; forecast = the month's forecast in "
           f"its first consolidation · in band = actual / commit within {band_text} (the Thresholds sheet) · bias = mean "
           "(actual / commit) − 1 (above 0: sandbagging, below: over-commit) · volatility = std / mean of the weekly "
           "commit · on time = before Monday 09:00"))
    wg, wtext = win_grid(d, paths)
    place(report, WIN_RATES, wg, wtext,
               ("赢单率与阶段转化 · 来自台账历史:经过该阶段的商机中,最终赢单 ÷(赢单 + 丢单);转化 = 之后到达更高阶段或赢单的比例;"
                "名义概率来自「阶段」设置" if zh else
                "Win rates and stage conversion from the ledger's history: of the deals seen at a stage, won ÷ (won + "
                "lost); conversion = the share later seen at a later stage or won; nominal probability from the setup's "
                "stages"), freeze=(2, 1))
    n = len(ents)
    for key in ("w_ratio", "m_ratio"):
        band(report, ACCURACY, n, key, [("{x}>=xs_t_actual_vs_commit_low,{x}<=xs_t_actual_vs_commit_high", "good"),
                                        ("TRUE", "bad")])
    for key in ("w_band_share", "on_time_rate"):
        band(report, ACCURACY, n, key, [("{x}>=1", "good"), ("TRUE", "warn")])
    return {"changes": cg, "accuracy": ag, "win_rates": wg}


__all__ = ["Sqrt", "add_history_sheets"]
