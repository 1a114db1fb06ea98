"""Weekly commit and monthly review against a hand-computed fixture: 3 reps, 2 teams, 20 deals, two weeks.

Week 1 (Mon 2026-11-16) is consolidated first; its report is week 2's last week.  Week 2 (Mon
2026-11-23, the as-of date) is the week under review: this week is 11-23…11-29, last week
11-16…11-22, this month November, this quarter October–December (fiscal year from January), the year to
date 2026-01-01…11-23, the 12 forecast months 2026-11…2027-10.  Every expected figure below was worked
out by hand from the deal list; the arithmetic is written next to it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlsales.core.periods import forecast_months
from xlsales.core.schema import ACTUALS as ACTUALS_TABLE
from xlsales.core.schema import ADJUSTMENTS, CHECKLIST
from xlsales.core.setup import Setup, frame
from xlsales.io.inbox import consolidate
from xlsales.io.previous import read_previous
from xlsales.report.consolidated import full_report
from xlsales.report.model import render_xlsx
from xlsales.report.tables import MONTHLY, ROLLUPS, WEEKLY
from xlsales.report.templates import build_rep_workbook

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
WEEKLY_ROWS = {1: {"A1": (120_000, 0), "A2": (280_000, 0), "B1": (250_000, 0)},
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


def _week(folder: Path, period: dt.date, deals: dict, week: int, last_week=None, last_month=None,
          name: str | None = None):
    setup = _setup(period)
    inbox = folder / f"inbox{week}"
    for r in ROSTER:
        fc, up, n = FORECAST[r["rep_id"]]
        data = {"opportunities": deals[r["rep_id"]],
                "forecast": [{"month": m, "forecast": float(fc), "upside": float(up)}
                             for m in forecast_months(period)[:n]],
                "weekly": [{"commit": float(WEEKLY_ROWS[week][r["rep_id"]][0]),
                            "upside": float(WEEKLY_ROWS[week][r["rep_id"]][1])}]}
        build_rep_workbook(inbox / f"{r['rep_id']}.xlsx", setup, r, "zh", data)
    c = consolidate(inbox, setup)
    rep, figures = full_report(c, setup, "zh", _targets(), None, last_week, last_month)
    out = render_xlsx(rep, folder / (name or f"consolidated-{period.isoformat()}.xlsx"))
    return c, out, figures


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory):
    d = tmp_path_factory.mktemp("weeks")
    _, report1, _ = _week(d, W1, WEEK1_DEALS, 1)
    last_week, issues = read_previous(report1)
    assert issues == [] and last_week is not None and last_week.period == W1
    # week 1's report doubles as "last month": a copy named for a week in October
    october = shutil.copy(report1, d / "consolidated-2026-10-26.xlsx")
    last_month, issues = read_previous(october)
    assert issues == [] and last_month is not None and last_month.period == D(2026, 10, 26)
    c2, report2, figures = _week(d, W2, WEEK2_DEALS, 2, last_week, last_month)
    return c2, report1, report2, figures


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


# entity → last week: (last commit, won last week), this week: (own commit, adjusted, upside, commit deals
# closing this week, of which checklist complete)
WEEKLY_EXPECTED = {
    # last week's commit is week 1's adjusted commit; won last week (11-16…22): a1 100k + a2 50k
    "业务员:A1": (120_000, 150_000, 200_000, 200_000, 80_000, 200_000, 200_000),  # a3 closes 11-25
    "业务员:A2": (280_000, 300_000, 150_000, 120_000, 70_000, 150_000, 150_000),  # adjusted to 120k; b3 is 12-02
    "团队:T1": (380_000, 450_000, 350_000, 320_000, 150_000, 350_000, 350_000),  # week 1's team adjustment 380k
    "业务员:B1": (250_000, 250_000, 180_000, 180_000, 60_000, 180_000, 180_000),  # c2 closed in October
    "团队:T2": (250_000, 250_000, 180_000, 180_000, 60_000, 180_000, 180_000),
    "大区:N": (630_000, 700_000, 530_000, 500_000, 210_000, 530_000, 530_000),
    "公司:全公司": (630_000, 700_000, 530_000, 500_000, 210_000, 530_000, 530_000),
}
# entity → November: (target, booked, forecast, landing = max(forecast, booked), + upside);
#          Q4: (target, booked Oct–Nov, landing = booked Oct + Nov landing + Dec forecast, + Nov–Dec upside);
#          fiscal year to date: (won, not realized)
PLAN_EXPECTED = {
    "业务员:A1": (100_000, 150_000, 100_000, 150_000, 170_000,  # booked a1 + a2 beats the 100k forecast
                 300_000, 150_000, 250_000, 290_000, 150_000, 50_000),  # 0 + 150k + 100k; a2 is not realized
    "业务员:A2": (200_000, 300_000, 150_000, 300_000, 330_000,
                 600_000, 300_000, 450_000, 510_000, 300_000, 0),  # 0 + 300k + 150k; + 30k + 30k
    "团队:T1": (300_000, 450_000, 250_000, 450_000, 500_000, 900_000, 450_000, 700_000, 800_000, 450_000, 50_000),
    "业务员:B1": (50_000, 250_000, 80_000, 250_000, 260_000,
                 150_000, 350_000, 430_000, 450_000, 350_000, 0),  # c2 100k in October + 250k + 80k
    "大区:N": (350_000, 700_000, 330_000, 700_000, 760_000,
              1_050_000, 800_000, 1_130_000, 1_250_000, 800_000, 50_000),
}
# entity → (forecast months, reps, fully submitted, Σ12 forecast + upside, target of the same 12 months (only
#           Nov and Dec 2026 have one), all open qualified pipeline (stage above 0%: A2's 20k lead is out),
#           of which at ≥ 50%, all open commit, last month's pipeline, last month's commit)
MONTHLY_EXPECTED = {
    "业务员:A1": (12, 1, 1, 1_440_000, 200_000, 440_000, 400_000, 200_000, 320_000, 200_000),  # a7 at 25%
    "业务员:A2": (12, 1, 1, 2_160_000, 400_000, 340_000, 340_000, 240_000, 220_000, 150_000),
    "业务员:B1": (11, 1, 0, 990_000, 100_000, 790_000, 780_000, 180_000, 180_000, 180_000),  # c6 at 25%
    "团队:T1": (24, 2, 2, 3_600_000, 600_000, 780_000, 740_000, 440_000, 540_000, 350_000),
    "大区:N": (35, 3, 2, 4_590_000, 700_000, 1_570_000, 1_520_000, 620_000, 720_000, 530_000),
}
# coverage: entity → (quarter target left = max(target − booked, 0), Q4 qualified pipeline,
#                      12-month target left, 12-month qualified pipeline, November's qualified pipeline)
COVERAGE_EXPECTED = {
    "业务员:A1": (150_000, 400_000, 50_000, 440_000, 280_000),  # a3 a4 a5 in Q4; + a7 in 12 months; a3 a4 in Nov
    "业务员:A2": (300_000, 340_000, 100_000, 340_000, 150_000),  # b2 b3 b4 b5; November: b2
    "业务员:B1": (0, 290_000, 0, 790_000, 250_000),  # ahead of target: nothing left, coverage blank
    "团队:T1": (450_000, 740_000, 150_000, 780_000, 430_000),
    "大区:N": (250_000, 1_030_000, 0, 1_570_000, 680_000),
}


def test_weekly_commit_matches_the_hand_computed_table(two_weeks):
    report = two_weeks[2]
    got = _table(report, WEEKLY)
    for key, (lc, lw, own, adj, up, deals, qual) in WEEKLY_EXPECTED.items():
        r = got[key]
        assert (r["last_commit"], r["last_won"], r["commit_own"], r["commit_adj"], r["upside_own"],
                r["commit_deals"], r["qualified"]) == (lc, lw, own, adj, up, deals, qual), key
        assert r["won_vs_commit"] == pytest.approx(lw / lc, rel=1e-12), key
        assert r["commit_share"] == pytest.approx(adj / (adj + up), rel=1e-12), key
    assert got["业务员:A2"]["adjusted_by"] == "李强: 客户推迟"
    assert got["业务员:A1"]["submitted"] == "是" and got["团队:T1"]["submitted"] == "2/2"


def test_month_quarter_and_unrealized_match_the_hand_computed_table(two_weeks):
    got = _table(two_weeks[2], WEEKLY)
    for key, (mt, mb, mf, ml, mbest, qt, qb, ql, qbest, won, unreal) in PLAN_EXPECTED.items():
        r = got[key]
        assert (r["month_target"], r["month_booked"], r["month_forecast"], r["month_landing"], r["month_best"],
                r["quarter_target"], r["quarter_booked"], r["quarter_landing"], r["quarter_best"], r["won_ytd"],
                r["unrealized"]) == (mt, mb, mf, ml, mbest, qt, qb, ql, qbest, won, unreal), key
        assert r["month_ratio"] == pytest.approx(mbest / mt, rel=1e-12), key
        assert r["quarter_ratio"] == pytest.approx(qbest / qt, rel=1e-12), key
        assert r["month_landing"] >= r["month_booked"]  # the month never reads below what is booked
        assert r["unrealized_share"] == pytest.approx(unreal / won, rel=1e-12), key


def test_monthly_review_matches_the_hand_computed_table(two_weeks):
    got = _table(two_weeks[2], MONTHLY)
    for key, (months, reps, ok, total, target, pipe, good, commit, lpipe, lcommit) in MONTHLY_EXPECTED.items():
        r = got[key]
        assert (r["months"], r["reps"], r["compliant"], r["total12"], r["target12"], r["open_pipe"],
                r["good_pipe"], r["commit_open"], r["last_pipe"], r["last_commit"]) == (
            months, reps, ok, total, target, pipe, good, commit, lpipe, lcommit), key
        assert r["ratio12"] == pytest.approx(total / target, rel=1e-12), key
        assert r["quality"] == pytest.approx(good / pipe, rel=1e-12), key
        assert r["pipe_growth"] == pytest.approx((pipe - lpipe) / lpipe, rel=1e-12), key
        assert r["commit_growth"] == pytest.approx((commit - lcommit) / lcommit, rel=1e-12), key
    assert got["大区:N"]["compliance"] == pytest.approx(2 / 3)


def test_coverage_is_qualified_pipeline_of_the_period_over_its_remaining_target(two_weeks):
    got = _table(two_weeks[2], MONTHLY)
    for key, (qleft, qpipe, left12, pipe12, mpipe) in COVERAGE_EXPECTED.items():
        r = got[key]
        assert (r["quarter_left"], r["quarter_pipe"], r["left12"], r["pipe12"], r["month_pipe"]) == (
            qleft, qpipe, left12, pipe12, mpipe), key
        for cover, pipe, left in (("quarter_cover", qpipe, qleft), ("cover12", pipe12, left12)):
            if left:
                assert r[cover] == pytest.approx(pipe / left, rel=1e-12), (key, cover)
            else:
                assert r[cover] in (None, ""), (key, cover)


def test_every_period_is_labelled_with_its_dates(two_weeks):
    wb = openpyxl.load_workbook(two_weeks[2], data_only=True)
    title = wb[WEEKLY.sheet("zh")]["A1"].value
    for text in ("本周 2026-11-23–2026-11-29", "上周 2026-11-16–2026-11-22", "本月 2026-11-01–2026-11-30",
                 "本季 FY2026-Q4 2026-10-01–2026-12-31", "本财年至今 2026-01-01–2026-11-23"):
        assert text in title
    assert "12 个预测月 2026-11-01–2027-10-31" in wb[MONTHLY.sheet("zh")]["A1"].value


def test_the_reviews_own_checks(two_weeks):
    c = two_weeks[0]
    below = {(i.file, i.cell): i for i in c.issues if i.rule == "forecast_below_booked"}
    # every rep's November forecast is below what they booked: A1 100k < 150k, A2 150k < 300k, B1 80k < 250k
    assert set(below) == {("A1.xlsx", "B3"), ("A2.xlsx", "B3"), ("B1.xlsx", "B3")}
    assert all(i.sheet == "预测" for i in below.values())
    (months,) = [i for i in c.issues if i.rule == "target_months_missing"]
    assert "2 个月有目标" in months.zh and "2027-01" in months.zh
    assert not [i for i in c.issues if i.rule == "commit_row_mismatch"]  # each commit row equals its deals


def test_without_earlier_reports_the_comparisons_say_so(tmp_path):
    _, report, _ = _week(tmp_path, W2, WEEK2_DEALS, 2)
    got = _table(report, WEEKLY)
    assert got["业务员:A1"]["last_commit"] == "无上期数据"
    assert got["业务员:A1"]["won_vs_commit"] in (None, "")
    mo = _table(report, MONTHLY)
    assert mo["大区:N"]["last_pipe"] == "无上期数据" and mo["大区:N"]["pipe_growth"] in (None, "")


@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_review_figure_identically(two_weeks, tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    for report in two_weeks[1:3]:
        check = check_formulas(report, tmp_path)
        assert check.cells > 500
        assert check.mismatches == []


def test_period_totals_and_the_json(two_weeks):
    t = two_weeks[3]["totals"]
    assert t["windows"]["month"] == ["2026-11-01", "2026-11-30"]
    # November: closed a1 a2 b1 c1 = 700k; commit a3 b2 c3 = 530k; upside a4 c4 = 140k; pipeline c6 = 10k
    assert (t["month"]["closed"], t["month"]["commit"], t["month"]["upside"], t["month"]["pipeline"]) == (
        700_000, 530_000, 140_000, 10_000)
    # the weighted figure covers the same open deals: 530k × 90% + 140k × 80% + 10k × 25%
    assert t["month"]["weighted"] == pytest.approx(530_000 * 0.9 + 140_000 * 0.8 + 10_000 * 0.25)
    # this week 11-23…29: commit a3 b2 c3 = 530k; upside a4 c4 = 140k; nothing won yet
    assert (t["week"]["closed"], t["week"]["commit"], t["week"]["upside"]) == (0, 530_000, 140_000)
    # the year to date counts c2 (October) too, but not what closes after 11-23
    assert t["ytd"]["closed"] == 800_000
    # all open, whatever the date: commit a3 b2 b3 c3; pipeline a5 a7 b5 b6 c5 c6 c7
    assert t["all_open"]["commit"] == 620_000 and t["all_open"]["pipeline"] == 760_000
    assert "closed" not in t["all_open"]


def test_rollup_views_are_consistent_per_row(two_weeks):
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
            assert (r["closed"], r["commit"], r["upside"], r["pipeline"]) == (700_000, 530_000, 140_000, 10_000)
            assert r["weighted"] == pytest.approx(530_000 * 0.9 + 140_000 * 0.8 + 10_000 * 0.25)
    assert n > 20


# --- a team is region + team; 本月 is the as-of date's month; a stale file is neither on time nor this week's ---

TWO_REGIONS = [
    {"rep_id": "E1", "name": "东一", "team": "大客户组", "region": "华东", "area": "沪", "area_class": "A", "active": True},
    {"rep_id": "S1", "name": "南一", "team": "大客户组", "region": "华南", "area": "穗", "area_class": "A", "active": True},
    {"rep_id": "S2", "name": "南二", "team": "零售组", "region": "华南", "area": "穗", "area_class": "A", "active": True},
]


def _inbox(folder: Path, setup: Setup, roster: list[dict], deals: dict, commits: dict, period: dt.date) -> Path:
    inbox = folder / "inbox"
    for r in roster:
        data = {"opportunities": deals.get(r["rep_id"], []),
                "forecast": [{"month": m, "forecast": 10_000.0} for m in forecast_months(period)],
                "weekly": [{"commit": float(commits.get(r["rep_id"], 0)), "upside": 0.0}]}
        build_rep_workbook(inbox / f"{r['rep_id']}.xlsx", setup, r, "zh", data)
    return inbox


def test_the_same_team_name_in_two_regions_is_two_teams(tmp_path):
    setup = Setup.default(TWO_REGIONS, W2)
    setup.tables["adjustments"] = frame(ADJUSTMENTS, [
        {"level": "team", "key": "大客户组", "region": "华南", "week": W2, "commit": 5_000.0, "reason": "统筹",
         "by": "孙磊"}])
    deals = {"E1": [deal("e1", 100_000, "Negotiated", "commit", D(2026, 11, 25))],
             "S1": [deal("s1", 30_000, "Negotiated", "commit", D(2026, 11, 26))],
             "S2": [deal("s2", 7_000, "Negotiated", "commit", D(2026, 11, 27))]}
    c = consolidate(_inbox(tmp_path, setup, TWO_REGIONS, deals, {"E1": 100_000, "S1": 30_000, "S2": 7_000}, W2),
                    setup)
    rep, _ = full_report(c, setup, "zh")
    out = render_xlsx(rep, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(out, data_only=True)[WEEKLY.sheet("zh")]
    rows = [dict(zip(WEEKLY.keys, r, strict=False)) for r in ws.iter_rows(min_row=3, values_only=True) if r[0]]
    teams = {(r["region"], r["key"]): r for r in rows if r["level"] == "团队"}
    assert set(teams) == {("华东", "大客户组"), ("华南", "大客户组"), ("华南", "零售组")}
    # each team sums its own reps only; the 华南 adjustment changes 华南's 大客户组, not 华东's
    assert (teams[("华东", "大客户组")]["commit_own"], teams[("华东", "大客户组")]["commit_adj"]) == (100_000, 100_000)
    assert (teams[("华南", "大客户组")]["commit_own"], teams[("华南", "大客户组")]["commit_adj"]) == (30_000, 5_000)
    regions = {r["key"]: r for r in rows if r["level"] == "大区"}
    assert regions["华南"]["commit_adj"] == 5_000 + 7_000 and regions["华东"]["commit_adj"] == 100_000
    assert [r for r in rows if r["level"] == "公司"][0]["commit_adj"] == 112_000


@pytest.mark.libreoffice
def test_the_same_team_name_in_two_regions_recalculates_identically(tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    setup = Setup.default(TWO_REGIONS, W2)
    deals = {"E1": [deal("e1", 100_000, "Negotiated", "commit", D(2026, 11, 25))]}
    c = consolidate(_inbox(tmp_path, setup, TWO_REGIONS, deals, {"E1": 100_000}, W2), setup)
    out = render_xlsx(full_report(c, setup, "zh")[0], tmp_path / "r.xlsx")
    assert check_formulas(out, tmp_path / "lo").mismatches == []


def test_this_month_is_the_as_of_dates_month(tmp_path):
    """Run on Wednesday 2 December: the report week began on Monday 30 November, yet 本月 is December."""
    monday = D(2026, 11, 30)
    roster = ROSTER[:1]
    setup = Setup.default(roster, monday)
    setup.tables["actuals"] = frame(ACTUALS_TABLE, [
        {"rep_id": "A1", "month": D(2026, 11, 1), "kind": "revenue", "amount": 70_000.0},
        {"rep_id": "A1", "month": D(2026, 12, 1), "kind": "revenue", "amount": 20_000.0}])
    deals = {"A1": [deal("x1", 20_000, "Won", "closed", D(2026, 12, 1)),
                    deal("x2", 70_000, "Won", "closed", D(2026, 11, 30))]}
    c = consolidate(_inbox(tmp_path, setup, roster, deals, {}, monday), setup, D(2026, 12, 2))
    rep, figures = full_report(c, setup, "zh")
    out = render_xlsx(rep, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(out, data_only=True)
    assert "本月 2026-12-01–2026-12-31" in wb[WEEKLY.sheet("zh")]["A1"].value
    assert "本周 2026-11-30–2026-12-06" in wb[WEEKLY.sheet("zh")]["A1"].value
    got = _table(out, WEEKLY)["业务员:A1"]
    assert got["month_booked"] == 20_000  # December's booking, not November's 70k
    assert got["last_won"] == 0  # last week is 11-23…29: x2 closed on the 30th, in this week
    assert figures["totals"]["month"]["closed"] == 20_000 and figures["totals"]["week"]["closed"] == 90_000
    from xlsales.core.periods import Calendar

    cal = Calendar(D(2026, 12, 2))
    assert cal.week_share(monday, D(2026, 11, 1)) == (1, 7)  # a week across two months counts by its days
    assert cal.week_share(monday, D(2026, 12, 1)) == (6, 7)


def test_a_stale_file_is_neither_on_time_nor_this_weeks_commit(tmp_path):
    setup = Setup.default(ROSTER, W2)
    inbox = _inbox(tmp_path, setup, ROSTER[:2], {}, {"A1": 50_000, "A2": 0}, W2)
    old = Setup.default(ROSTER, W1)  # B1 resubmits last week's workbook
    build_rep_workbook(inbox / "B1.xlsx", old, ROSTER[2], "zh",
                       {"weekly": [{"commit": 80_000.0, "upside": 0.0}],
                        "forecast": [{"month": m, "forecast": 1.0} for m in forecast_months(W1)]})
    c = consolidate(inbox, setup)
    assert [i.file for i in c.issues if i.rule == "period_mismatch"] == ["B1.xlsx"]
    rep, _ = full_report(c, setup, "zh")
    got = _table(render_xlsx(rep, tmp_path / "r.xlsx"), WEEKLY)
    assert (got["业务员:B1"]["submitted"], got["业务员:B1"]["on_time"]) == ("否", "否")
    assert got["业务员:B1"]["commit_own"] == 0  # last week's 80k is not this week's commit
    assert got["公司:全公司"]["commit_own"] == 50_000


def test_daily_targets_are_at_the_target_rounding_unit():
    from xlsales.core import actuals as act
    from xlsales.core.periods import Calendar
    from xlsales.report.book import ReviewData

    setup = Setup.default(ROSTER, W2)
    targets = pd.DataFrame([{"kind": "revenue", "basis": "raised", "level": "rep", "region": "N", "area": "N1",
                             "rep": "A1", "period": "2026-11", "target": 100_000}])
    from xlsales.core.combine import DATA_TABLES, Consolidation

    frames = {k: pd.DataFrame(columns=["_ok"]) for k in DATA_TABLES}

    c = Consolidation(W2, W2, [], frames, [], [])
    d = ReviewData(c, setup, "zh", Calendar(W2), targets, act.Actuals(act.empty(), act.FINANCE))
    daily = d.frames["daily"]
    # November 2026 has 21 working days: 100,000 / 21 = 4,761.9 a day; at 1,000 a unit the days carry 5,000
    # or 4,000 and the month still adds up to 100,000
    assert len(daily) == 21 and daily["target"].sum() == 100_000
    assert set(daily["target"]) == {5_000.0, 4_000.0} and (daily["target"] % 1_000 == 0).all()


def test_a_released_model_writes_the_very_same_workbook(tmp_path):
    """``render_xlsx(release=True)`` (what a consolidation uses, so a 1,000-rep report is not held twice in
    memory) empties the model as it writes and writes the same workbook, part for part."""
    import zipfile

    c, kept, _ = _week(tmp_path, W1, WEEK1_DEALS, 1)
    rep, _ = full_report(c, _setup(W1), "zh", _targets(), None, None, None)
    assert any(sh.blocks for sh in rep.sheets)
    released = render_xlsx(rep, tmp_path / "released.xlsx", release=True)
    assert all(not sh.blocks and not sh.cells for sh in rep.sheets)
    with zipfile.ZipFile(kept) as a, zipfile.ZipFile(released) as b:
        assert a.namelist() == b.namelist()
        assert [n for n in a.namelist() if a.read(n) != b.read(n)] == []
