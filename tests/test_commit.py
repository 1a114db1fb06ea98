"""Weekly commit and monthly review against a hand-computed fixture: 3 reps, 2 teams, 20 deals, two weeks.

Week 1 (Mon 2026-11-16) is consolidated first; its report is week 2's ``previous``.
Week 2 (Mon 2026-11-23) is the week under review.  Every expected figure below was
worked out by hand from the deal list; the arithmetic is written next to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsales.commit import MONTHLY_REVIEW, WEEKLY_REVIEW, full_report, read_previous
from xlsales.consolidate import consolidate, totals
from xlsales.formula import cents
from xlsales.model import render_xlsx
from xlsales.schema import ADJUSTMENTS, CHECKLIST
from xlsales.setup import Setup, frame
from xlsales.templates import build_rep_workbook, forecast_months

from .conftest import needs_soffice

D = dt.date
W1, W2 = D(2026, 11, 16), D(2026, 11, 23)
ROSTER = [
    {"rep_id": "A1", "name": "甲一", "team": "T1", "region": "N", "area": "N1", "area_class": "A", "active": True},
    {"rep_id": "A2", "name": "甲二", "team": "T1", "region": "N", "area": "N1", "area_class": "A", "active": True},
    {"rep_id": "B1", "name": "乙一", "team": "T2", "region": "N", "area": "N1", "area_class": "A", "active": True},
]
YES = dict.fromkeys(CHECKLIST, True)


def deal(i: str, amount: float, stage: str, cat: str, close: dt.date, **kw) -> dict:
    d = {"opp_id": i, "customer": f"客户{i}", "amount": float(amount), "stage": stage, "category": cat,
         "close_date": close, **kw}
    if cat == "commit":
        d.update(YES)
    return d


WEEK2_DEALS = {
    "A1": [deal("a1", 100_000, "Won", "closed", D(2026, 11, 18), realized=True),
           deal("a2", 50_000, "Won", "closed", D(2026, 11, 20), realized=False),
           deal("a3", 200_000, "Negotiated", "commit", D(2026, 11, 25)),
           deal("a4", 80_000, "Selected", "upside", D(2026, 11, 27)),
           deal("a5", 120_000, "Intent", "pipeline", D(2026, 12, 15)),
           deal("a6", 60_000, "Lost", "lost", D(2026, 11, 10)),
           deal("a7", 40_000, "Met", "pipeline", D(2027, 1, 20))],
    "A2": [deal("b1", 300_000, "Won", "closed", D(2026, 11, 17), realized=True),
           deal("b2", 150_000, "Negotiated", "commit", D(2026, 11, 26)),
           deal("b3", 90_000, "Negotiated", "commit", D(2026, 12, 2)),
           deal("b4", 70_000, "Approved", "upside", D(2026, 12, 10)),
           deal("b5", 30_000, "Solution", "pipeline", D(2026, 12, 20)),
           deal("b6", 20_000, "Lead", "pipeline", D(2027, 2, 1))],
    "B1": [deal("c1", 250_000, "Won", "closed", D(2026, 11, 19), realized=True),
           deal("c2", 100_000, "Won", "closed", D(2026, 10, 5), realized=True),
           deal("c3", 180_000, "Negotiated", "commit", D(2026, 11, 24)),
           deal("c4", 60_000, "Selected", "upside", D(2026, 11, 28)),
           deal("c5", 40_000, "Intent", "pipeline", D(2026, 12, 5)),
           deal("c6", 10_000, "Met", "pipeline", D(2026, 11, 30)),
           deal("c7", 500_000, "Solution", "pipeline", D(2027, 3, 1))],
}
WEEK1_DEALS = {"A1": [WEEK2_DEALS["A1"][2], WEEK2_DEALS["A1"][4]],
               "A2": [WEEK2_DEALS["A2"][1], WEEK2_DEALS["A2"][3]],
               "B1": [WEEK2_DEALS["B1"][2]]}
WEEKLY = {1: {"A1": (120_000, 0), "A2": (280_000, 0), "B1": (250_000, 0)},
          2: {"A1": (200_000, 80_000), "A2": (150_000, 70_000), "B1": (180_000, 60_000)}}
FORECAST = {"A1": (100_000, 20_000, 12), "A2": (150_000, 30_000, 12), "B1": (80_000, 10_000, 11)}
# raised revenue targets per rep for Oct, Nov, Dec 2026 (the fiscal Q4); nothing else
TARGET = {"A1": 100_000, "A2": 200_000, "B1": 50_000}
ADJ = [{"level": "team", "key": "T1", "week": W1, "commit": 380_000, "reason": "团队统筹", "by": "李强"},
       {"level": "rep", "key": "A2", "week": W2, "commit": 120_000, "reason": "客户推迟", "by": "李强"}]


def _setup(period: dt.date) -> Setup:
    s = Setup.default(ROSTER, period)
    s.tables["adjustments"] = frame(ADJUSTMENTS, ADJ)
    return s


def _targets() -> pd.DataFrame:
    rows = [{"kind": "revenue", "basis": "raised", "level": "rep", "region": "N", "area": "N1", "rep": r,
             "period": f"2026-{m:02d}", "target": t} for r, t in TARGET.items() for m in (10, 11, 12)]
    return pd.DataFrame(rows)


def _week(folder: Path, period: dt.date, deals: dict, week: int, previous: pd.DataFrame | None):
    setup = _setup(period)
    inbox = folder / f"inbox{week}"
    for r in ROSTER:
        fc, up, n = FORECAST[r["rep_id"]]
        data = {"opportunities": deals[r["rep_id"]],
                "forecast": [{"month": m, "forecast": float(fc), "upside": float(up)}
                             for m in forecast_months(period)[:n]],
                "weekly": [{"commit": float(WEEKLY[week][r["rep_id"]][0]),
                            "upside": float(WEEKLY[week][r["rep_id"]][1])}]}
        build_rep_workbook(inbox / f"{r['rep_id']}.xlsx", setup, r, "zh", data)
    c = consolidate(inbox, setup)
    rep = full_report(c, setup, "zh", _targets(), previous)
    out = render_xlsx(rep, folder / f"consolidated-{period.isoformat()}.xlsx")
    return c, out


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory):
    d = tmp_path_factory.mktemp("weeks")
    _, report1 = _week(d, W1, WEEK1_DEALS, 1, None)
    prev, issues = read_previous(report1, "zh")
    assert issues == []
    c2, report2 = _week(d, W2, WEEK2_DEALS, 2, prev)
    return c2, report1, report2


def _table(path: Path, table) -> dict[str, dict]:
    ws = openpyxl.load_workbook(path, data_only=True)[table.sheet("zh")]
    head = [c.value for c in ws[table.first_row + 1]]
    keys = table.keys
    out = {}
    for row in ws.iter_rows(min_row=table.first_row + 2, values_only=True):
        if row[0] is None:
            continue
        rec = dict(zip(keys, row, strict=False))
        out[f"{rec['level']}:{rec['key']}"] = rec
    assert [h.replace(" *", "") for h in head[:2]] == ["级别", "编号/名称"]
    return out


# entity → (last_commit, last_actual, actual/commit, own, adjusted, upside, commit share, commit deals this week)
WEEKLY_EXPECTED = {
    "业务员:A1": (120_000, 150_000, 150 / 120, 200_000, 200_000, 80_000, 200 / 280, 200_000),  # a1+a2 last week
    "业务员:A2": (280_000, 300_000, 300 / 280, 150_000, 120_000, 70_000, 120 / 190, 150_000),  # adjusted to 120k
    "团队:T1": (380_000, 450_000, 450 / 380, 350_000, 320_000, 150_000, 320 / 470, 350_000),  # week-1 team adj 380k
    "业务员:B1": (250_000, 250_000, 1.0, 180_000, 180_000, 60_000, 180 / 240, 180_000),  # c2 is October
    "团队:T2": (250_000, 250_000, 1.0, 180_000, 180_000, 60_000, 0.75, 180_000),
    "大区:N": (630_000, 700_000, 700 / 630, 530_000, 500_000, 210_000, 500 / 710, 530_000),
    "公司:全公司": (630_000, 700_000, 700 / 630, 530_000, 500_000, 210_000, 500 / 710, 530_000),
}
# entity → (month fc+up, month target, quarter fc+up, quarter target, won, unrealized)
PLAN_EXPECTED = {
    "业务员:A1": (120_000, 100_000, 240_000, 300_000, 150_000, 50_000),  # a2 not realized
    "业务员:A2": (180_000, 200_000, 360_000, 600_000, 300_000, 0),
    "团队:T1": (300_000, 300_000, 600_000, 900_000, 450_000, 50_000),
    "业务员:B1": (90_000, 50_000, 180_000, 150_000, 350_000, 0),  # won includes c2 (October)
    "大区:N": (390_000, 350_000, 780_000, 1_050_000, 800_000, 50_000),
}
# entity → (months, reps, compliant, total12, annual target, open pipeline, quality, commit total,
#           previous pipeline, previous commit)
MONTHLY_EXPECTED = {
    "业务员:A1": (12, 1, 1, 1_440_000, 300_000, 440_000, 400 / 440, 200_000, 320_000, 200_000),
    "业务员:A2": (12, 1, 1, 2_160_000, 600_000, 360_000, 340 / 360, 240_000, 220_000, 150_000),
    "业务员:B1": (11, 1, 0, 990_000, 150_000, 790_000, 780 / 790, 180_000, 180_000, 180_000),
    "团队:T1": (24, 2, 2, 3_600_000, 900_000, 800_000, 740 / 800, 440_000, 540_000, 350_000),
    "大区:N": (35, 3, 2, 4_590_000, 1_050_000, 1_590_000, 1520 / 1590, 620_000, 720_000, 530_000),
}


def test_weekly_commit_matches_the_hand_computed_table(two_weeks):
    _, _, report = two_weeks
    got = _table(report, WEEKLY_REVIEW)
    for key, (lc, la, avc, own, adj, up, share, deals) in WEEKLY_EXPECTED.items():
        r = got[key]
        assert (r["last_commit"], r["last_actual"], r["commit_own"], r["commit_adj"], r["upside_own"],
                r["commit_deals"]) == (lc, la, own, adj, up, deals), key
        assert r["actual_vs_commit"] == pytest.approx(avc, rel=1e-12), key
        assert r["commit_share"] == pytest.approx(share, rel=1e-12), key
    assert got["业务员:A2"]["adjusted_by"] == "李强: 客户推迟"
    assert got["业务员:A1"]["submitted"] == "是" and got["团队:T1"]["submitted"] == "2/2"


def test_month_quarter_and_unrealized_match_the_hand_computed_table(two_weeks):
    _, _, report = two_weeks
    got = _table(report, WEEKLY_REVIEW)
    for key, (m, mt, q, qt, won, unreal) in PLAN_EXPECTED.items():
        r = got[key]
        assert (r["month_fc_up"], r["month_target"], r["quarter_fc_up"], r["quarter_target"], r["won"],
                r["unrealized"]) == (m, mt, q, qt, won, unreal), key
        assert r["month_ratio"] == pytest.approx(m / mt, rel=1e-12)
        assert r["unrealized_share"] == pytest.approx(unreal / won, rel=1e-12)


def test_monthly_review_matches_the_hand_computed_table(two_weeks):
    _, _, report = two_weeks
    got = _table(report, MONTHLY_REVIEW)
    for key, (months, reps, ok, total, target, pipe, quality, commit, ppipe, pcommit) in MONTHLY_EXPECTED.items():
        r = got[key]
        assert (r["months"], r["reps"], r["compliant"], r["total12"], r["annual_target"], r["pipeline_open"],
                r["commit_total"], r["prev_pipeline"], r["prev_commit"]) == (
            months, reps, ok, total, target, pipe, commit, ppipe, pcommit), key
        assert r["quality"] == pytest.approx(quality, rel=1e-12), key
        assert r["coverage"] == pytest.approx(pipe / target, rel=1e-12), key
        assert r["pipeline_growth"] == pytest.approx((pipe - ppipe) / ppipe, rel=1e-12), key
    assert got["大区:N"]["compliance"] == pytest.approx(2 / 3)


def test_without_previous_the_comparisons_say_so(tmp_path):
    _, report = _week(tmp_path, W2, WEEK2_DEALS, 2, None)
    got = _table(report, WEEKLY_REVIEW)
    assert got["业务员:A1"]["last_commit"] == "无上期数据"
    assert got["业务员:A1"]["actual_vs_commit"] in (None, "")


@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_review_figure_identically(two_weeks, tmp_path):
    needs_soffice()
    from xlsales.libreoffice import check_formulas

    for report in two_weeks[1:]:
        check = check_formulas(report, tmp_path)
        assert check.cells > 500
        assert check.mismatches == []


CATS = ("closed", "commit", "upside", "pipeline", "lost")
STAGE_OF = {"closed": "Won", "commit": "Negotiated", "upside": "Selected", "pipeline": "Intent", "lost": "Lost"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CATS), st.integers(1, 10_000_000)), max_size=25))
def test_cumulative_views_match_their_definitions(deals):
    df = pd.DataFrame([{"category": c, "amount": a / 100, "probability": 0.5} for c, a in deals],
                      columns=["category", "amount", "probability"])
    t = totals(df)
    by = {c: round(sum(a / 100 for k, a in deals if k == c), 2) for c in CATS}
    assert t["closed"] == pytest.approx(by["closed"], abs=0.005)
    assert t["commit"] == pytest.approx(by["commit"], abs=0.005)  # upside never in commit
    assert t["upside"] == pytest.approx(by["upside"], abs=0.005)
    commit_forecast = t["closed"] + t["commit"]
    best_case = commit_forecast + t["upside"]
    open_pipeline = t["pipeline"] + t["upside"] + t["commit"]
    assert best_case - commit_forecast == pytest.approx(by["upside"], abs=0.01)
    assert open_pipeline == pytest.approx(by["pipeline"] + by["upside"] + by["commit"], abs=0.01)
    open_deals = [a / 100 for k, a in deals if k in ("pipeline", "upside", "commit")]
    assert t["weighted"] == pytest.approx(sum(cents(0.5 * a) for a in open_deals), abs=1e-6)


def test_rollup_views_are_consistent_per_row(two_weeks):
    from xlsales.commit import ROLLUPS

    ws = openpyxl.load_workbook(two_weeks[2], data_only=True)[ROLLUPS.sheet("zh")]
    keys = ROLLUPS.keys
    n = 0
    for row in ws.iter_rows(min_row=ROLLUPS.first_row + 2, values_only=True):
        r = dict(zip(keys, row, strict=False))
        if r["level"] is None:
            continue
        n += 1
        assert r["commit_forecast"] == pytest.approx(r["closed"] + r["commit"])
        assert r["best_case"] == pytest.approx(r["closed"] + r["commit"] + r["upside"])
        assert r["open_pipeline"] == pytest.approx(r["pipeline"] + r["upside"] + r["commit"])
        if (r["level"], r["grain"], r["period"]) == ("公司", "月", "2026-11"):
            # Nov: closed a1 a2 b1 c1 = 700k; commit a3 b2 c3 = 530k; upside a4 c4 = 140k; pipeline c6 = 10k
            assert (r["closed"], r["commit"], r["upside"], r["pipeline"]) == (700_000, 530_000, 140_000, 10_000)
            assert r["weighted"] == pytest.approx(530_000 * 0.9 + 140_000 * 0.8 + 10_000 * 0.25)
    assert n > 20
