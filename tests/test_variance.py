"""差异, 周报 and 记分卡 against a hand-computed fixture: 3 reps, 2 teams, 1 region.

Week of Mon 2026-11-23, consolidated as of Wed 2026-11-25; the weekly report covers last week's visits
(11-16…11-22) and this week's plan (fiscal year = calendar 2026, the default
calendar: 国庆 Oct 1–7 and the other 2026 holidays).  Working days worked out by hand:

* week 11-23..11-29: 5 (Mon–Fri); elapsed before 11-25: 2 (23, 24); left 3
* Nov: 21 (2–6, 9–13, 16–20, 23–27, 30); elapsed: 17 (2–20 = 15, plus 23, 24); left 4
* Oct: 22 weekdays − 5 holidays on weekdays (1, 2, 5, 6, 7) = 17;  Dec: 23 (1–4, 7–11, 14–18, 21–25, 28–31)
* Q4: 17 + 21 + 23 = 61; elapsed 17 + 17 = 34; left 27
* 2026: 261 weekdays (52 weeks + Thursday Jan 1) − 17 holidays on weekdays
  (Jan 1; Feb 16–20; Apr 6; May 1, 4, 5; Jun 19; Sep 25; Oct 1, 2, 5, 6, 7) = 244; left = Nov 25, 26, 27, 30
  + Dec 23 = 27; elapsed = 244 − 27 = 217

Targets (raised revenue, per rep and month; nothing outside Q4) are whole yuan per working day:
A1 10,000/day (Oct 170k, Nov 210k, Dec 230k), A2 20,000/day (Nov 420k, Dec 460k), B1 5,000/day
(Oct 85k, Nov 105k, Dec 115k).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlsales.core import actuals as act
from xlsales.core.periods import forecast_months
from xlsales.core.schema import ACTUALS, CHECKLIST
from xlsales.core.setup import Setup, frame
from xlsales.io.actuals import read_actuals
from xlsales.io.inbox import consolidate
from xlsales.report.consolidated import full_report
from xlsales.report.model import render_xlsx
from xlsales.report.tables import ABNORMAL, NEXT_WEEK, SCORECARD, SIGNALS, VARIANCE, WEEKLY_REPORT
from xlsales.report.templates import build_rep_workbook

from .conftest import needs_soffice

D = dt.date
W, AS_OF = D(2026, 11, 23), D(2026, 11, 25)
ROSTER = [
    {"rep_id": "A1", "name": "甲一", "team": "T1", "region": "N", "area": "N1", "area_class": "A", "active": True},
    {"rep_id": "A2", "name": "甲二", "team": "T1", "region": "N", "area": "N1", "area_class": "A", "active": True},
    {"rep_id": "B1", "name": "乙一", "team": "T2", "region": "N", "area": "N1", "area_class": "A", "active": True},
]
TARGET = {"A1": {10: 170_000, 11: 210_000, 12: 230_000}, "A2": {11: 420_000, 12: 460_000},
          "B1": {10: 85_000, 11: 105_000, 12: 115_000}}
ACTUAL_ROWS = [
    {"rep_id": "A1", "month": D(2026, 5, 1), "kind": "revenue", "amount": 60_000.0},
    {"rep_id": "A1", "month": D(2026, 10, 1), "kind": "revenue", "amount": 150_000.0},
    {"rep_id": "A1", "month": D(2026, 11, 1), "kind": "revenue", "amount": 180_000.0},
    {"rep_id": "A1", "month": D(2026, 11, 1), "kind": "collections", "amount": 40_000.0},  # not revenue
    {"rep_id": "A2", "month": D(2026, 11, 1), "kind": "revenue", "amount": 300_000.0},
    {"rep_id": "B1", "month": D(2026, 10, 1), "kind": "revenue", "amount": 100_000.0},
    {"rep_id": "B1", "month": D(2026, 11, 1), "kind": "revenue", "amount": 50_000.0},
]
YES = dict.fromkeys(CHECKLIST, True)


def deal(i: str, amount: float, stage: str, cat: str, close: dt.date) -> dict:
    d = {"opp_id": i, "customer": f"客户{i}", "amount": float(amount), "stage": stage, "category": cat,
         "close_date": close}
    return {**d, **YES} if cat == "commit" else d


DEALS = {
    "A1": [deal("a1", 100_000, "Won", "closed", D(2026, 11, 24)),       # this week
           deal("a2", 200_000, "Negotiated", "commit", D(2026, 11, 26)),  # this week
           deal("a3", 50_000, "Negotiated", "commit", D(2026, 12, 10)),   # this quarter
           deal("a4", 80_000, "Selected", "upside", D(2026, 11, 27))],    # upside: never commit
    "A2": [deal("b1", 120_000, "Won", "closed", D(2026, 11, 18)),       # this month, not this week
           deal("b2", 150_000, "Negotiated", "commit", D(2026, 11, 25))],
    "B1": [deal("c1", 30_000, "Won", "closed", D(2026, 10, 5)),         # October
           deal("c2", 40_000, "Intent", "pipeline", D(2026, 11, 27))],
}
WEEKLY = {"A1": 200_000, "A2": 150_000, "B1": 0}
FORECAST = {"A1": 250_000, "A2": 400_000, "B1": 100_000}  # every month of the rolling 12 (Nov 2026 on)


def visit(day: int, status: str, purpose: str, customer: str, month: int = 11, **kw) -> dict:
    return {"date": D(2026, month, day), "status": status, "purpose": purpose, "customer": customer, **kw}


VISITS = {  # last week's visits (11-16…22) and this week's plan (11-23…29)
    "A1": [visit(16, "done", "new_customer", "新客户甲", result="签约", order_amount=50_000.0, cost=500.0,
                 competitor="竞品A降价"),
           visit(17, "done", "collection", "客户a1", result="已收款", collection_amount=40_000.0, cost=300.0),
           visit(17, "done", "complaint", "客户a3", cost=200.0, feedback="交期慢"),  # no result: not effective
           visit(19, "planned", "order", "客户a3"),  # planned, never done
           visit(20, "cancelled", "service", "客户X"),
           visit(26, "planned", "order", "客户a4")],  # this week's plan
    "A2": [],
    "B1": [visit(16, "done", "order", "客户c1", result="下单", order_amount=20_000.0, cost=100.0)],
}
CUSTOMERS = {"A1": [("客户a1", "A"), ("客户a3", "B"), ("客户Z", "A"), ("新客户甲", "C")], "A2": [],
             "B1": [("客户c1", "A")]}
SAVED = {"A1": dt.datetime(2026, 11, 22, 20, 0), "A2": dt.datetime(2026, 11, 23, 10, 0),  # A2 after Mon 09:00
         "B1": dt.datetime(2026, 11, 23, 8, 59)}


def _targets() -> pd.DataFrame:
    rows = [{"kind": "revenue", "basis": "raised", "level": "rep", "region": "N", "area": "N1", "rep": r,
             "period": f"2026-{m:02d}", "target": t} for r, months in TARGET.items() for m, t in months.items()]
    plan = [{**r, "basis": "plan", "target": r["target"] // 2} for r in rows]  # ignored: raised exists
    return pd.DataFrame(rows + plan)


def _build(folder: Path, with_actuals: bool, actuals: pd.DataFrame | None = None):
    setup = Setup.default(ROSTER, W)
    if with_actuals:
        setup.tables["actuals"] = frame(ACTUALS, ACTUAL_ROWS)
    inbox = folder / "inbox"
    for r in ROSTER:
        rid = r["rep_id"]
        data = {"opportunities": DEALS[rid], "visits": VISITS[rid],
                "customers": [{"customer": n, "customer_class": k} for n, k in CUSTOMERS[rid]],
                "forecast": [{"month": m, "forecast": float(FORECAST[rid])} for m in forecast_months(W)],
                "weekly": [{"commit": float(WEEKLY[rid])}]}
        p = build_rep_workbook(inbox / f"{rid}.xlsx", setup, r, "zh", data)
        t = SAVED[rid].timestamp()
        os.utime(p, (t, t))
    c = consolidate(inbox, setup, AS_OF)
    assert [i for i in c.issues if i.severity == "error"] == []
    out = render_xlsx(full_report(c, setup, "zh", _targets(), actuals)[0], folder / "report.xlsx")
    return c, out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("variance"), True)


def _rows(path: Path, table, key=lambda r: f"{r['level']}:{r['key']}") -> dict:
    ws = openpyxl.load_workbook(path, data_only=True)[table.sheet("zh")]
    out = {}
    for row in ws.iter_rows(min_row=table.first_row + 2, values_only=True):
        rec = dict(zip(table.keys, row, strict=False))
        if rec[table.keys[0]] is None:
            break
        out[key(rec)] = rec
    return out


def _list(path: Path, table, anchor: str) -> list[dict]:
    """Rows of a list block found under its title ``anchor`` in column A."""
    ws = openpyxl.load_workbook(path, data_only=True)[table.sheet("zh")]
    col = [c.value for c in ws["A"]]
    start = col.index(anchor) + 2  # title, header, then rows (0-based index + 1 for the header row)
    out = []
    for row in ws.iter_rows(min_row=start + 1, values_only=True):
        if row[0] is None:
            break
        out.append(dict(zip(table.keys, row, strict=False)))
    return out


# (target, actual, forecast, commit, days, days_gone, gap, needed/day, accuracy)
VARIANCE_EXPECTED = {
    # A1 week: 5 × 10k; actual = won a1; forecast = weekly commit; commit = a1 + a2; accuracy 1 − 100/200
    ("业务员:A1", "本周"): (50_000, 100_000, 200_000, 300_000, 5, 2, -50_000, 0.0, 0.5),
    # A1 Nov: finance 180k (collections row not revenue); forecast Nov 250k; 1 − 70/250; 30k / 4 days
    ("业务员:A1", "本月"): (210_000, 180_000, 250_000, 300_000, 21, 17, 30_000, 7_500.0, 0.72),
    # A1 Q4: 170+210+230; 150+180; forecast = Oct actual 150 + Nov, Dec 250 each; commit a1 + a2 + a3
    ("业务员:A1", "本季"): (610_000, 330_000, 650_000, 350_000, 61, 34, 280_000, 280_000 / 27, 1 - 320 / 650),
    # A1 year: May 60 + Oct 150 + Nov 180; forecast = Jan–Oct actuals 210 + 500
    ("业务员:A1", "本财年"): (610_000, 390_000, 710_000, 350_000, 244, 217, 220_000, 220_000 / 27, 1 - 320 / 710),
    # A2 week: b1 closed on 11-18, so nothing booked this week; 1 − 150/150 = 0
    ("业务员:A2", "本周"): (100_000, 0, 150_000, 150_000, 5, 2, 100_000, 100_000 / 3, 0.0),
    ("业务员:A2", "本月"): (420_000, 300_000, 400_000, 270_000, 21, 17, 120_000, 30_000.0, 0.75),
    ("业务员:A2", "本季"): (880_000, 300_000, 800_000, 270_000, 61, 34, 580_000, 580_000 / 27, 1 - 500 / 800),
    # B1 week: no weekly commit → no accuracy; pipeline c2 is not commit
    ("业务员:B1", "本周"): (25_000, 0, 0, 0, 5, 2, 25_000, 25_000 / 3, None),
    ("业务员:B1", "本月"): (105_000, 50_000, 100_000, 0, 21, 17, 55_000, 13_750.0, 0.5),
    # B1 Q4: forecast = Oct actual 100 + 2 × 100; commit = c1 closed in October
    ("业务员:B1", "本季"): (305_000, 150_000, 300_000, 30_000, 61, 34, 155_000, 155_000 / 27, 0.5),
    # T1 = A1 + A2
    ("团队:T1", "本月"): (630_000, 480_000, 650_000, 570_000, 21, 17, 150_000, 37_500.0, 1 - 170 / 650),
    # company = all three
    ("公司:全公司", "本周"): (175_000, 100_000, 350_000, 450_000, 5, 2, 75_000, 25_000.0, 1 - 250 / 350),
    ("公司:全公司", "本月"): (735_000, 530_000, 750_000, 570_000, 21, 17, 205_000, 51_250.0, 1 - 220 / 750),
    ("公司:全公司", "本财年"): (1_795_000, 840_000, 1_810_000, 650_000, 244, 217, 955_000, 955_000 / 27,
                           1 - 970 / 1810),
}


def test_variance_matches_the_hand_computed_table(built):
    _, report = built
    got = _rows(report, VARIANCE, key=lambda r: (f"{r['level']}:{r['key']}", r["window"]))
    for k, (target, actual, fc, commit, days, days_gone, gap, need, accuracy) in VARIANCE_EXPECTED.items():
        r = got[k]
        assert (r["target"], r["actual"], r["forecast"], r["commit"], r["days"], r["days_gone"], r["left"],
                r["gap"]) == (target, actual, fc, commit, days, days_gone, days - days_gone, gap), k
        assert r["attainment"] == pytest.approx(actual / target, rel=1e-12), k
        assert r["projection"] == pytest.approx(actual / days_gone * days, abs=0.005), k  # money: to the cent
        assert r["proj_attainment"] == pytest.approx(actual / days_gone * days / target, rel=1e-12), k
        assert r["needed_daily"] == pytest.approx(need, abs=0.005), k
        if accuracy is None:
            assert r["accuracy"] in (None, ""), k
        else:
            assert r["accuracy"] == pytest.approx(accuracy, rel=1e-12, abs=1e-12), k


def test_cumulative_months_add_up(built):
    _, report = built
    ws = openpyxl.load_workbook(report, data_only=True)[VARIANCE.sheet("zh")]
    col = [c.value for c in ws["A"]]
    i = col.index("2026-10")  # 0-based row of October
    oct_, nov, dec = ([ws.cell(i + 1 + k, j).value for j in range(1, 9)] for k in range(3))
    # Oct: target 170 + 85 = 255k; actual A1 150 + B1 100 = 250k; cumulative actual includes May's 60k
    assert oct_[3:7] == [255_000, 250_000, 255_000, 310_000]
    assert nov[3:7] == [735_000, 530_000, 990_000, 840_000]
    assert dec[3:7] == [805_000, 0, 1_795_000, 840_000]
    assert dec[7] == pytest.approx(840 / 1795, rel=1e-12)


# (submitted, on time, visits scheduled, done, effective, with order, new customers, collections, orders, cost,
#  signals, abnormal, next week)
WEEKLY_EXPECTED = {
    # visits 1–5 fall in last week (done 1, 2, 3; 4 still planned; 5 cancelled); 1 and 2 have a result;
    # 1 brought an order and is a new-customer visit; signals: 1 (competitor) and 3 (feedback);
    # abnormal: complaint visit at 客户a3 and A-class 客户Z not visited last week or this week (客户a1 was);
    # this week's plan: visit 6
    "业务员:A1": ("是", "是", 5, 3, 2, 1, 1, 40_000, 50_000, 1_000, 2, 2, 1),
    "业务员:A2": ("是", "否", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),  # saved Monday 10:00, after the 09:00 deadline
    "团队:T1": ("2/2", "1/2", 5, 3, 2, 1, 1, 40_000, 50_000, 1_000, 2, 2, 1),
    "业务员:B1": ("是", "是", 1, 1, 1, 1, 0, 0, 20_000, 100, 0, 0, 0),
    "公司:全公司": ("3/3", "2/3", 6, 4, 3, 2, 1, 40_000, 70_000, 1_100, 2, 2, 1),
}
# (reps, month attainment, sales per rep (won last week: only A2's b1, 120k, closed 11-18), adherence,
#  effective rate, deal rate, cost per order, cost per 10k)
WEEKLY_RATIOS = {
    "业务员:A1": (1, 180 / 210, 0, 3 / 5, 2 / 3, 1 / 3, 1_000, 200),  # 1000 / 50000 × 10000
    "团队:T1": (2, 480 / 630, 60_000, 3 / 5, 2 / 3, 1 / 3, 1_000, 200),
    "业务员:B1": (1, 50 / 105, 0, 1.0, 1.0, 1.0, 100, 50),  # 100 / 20000 × 10000
    "公司:全公司": (3, 530 / 735, 40_000, 4 / 6, 3 / 4, 2 / 4, 550, 1100 / 7),  # 1100 / 70000 × 10000
}


def test_weekly_report_matches_the_hand_computed_table(built):
    _, report = built
    got = _rows(report, WEEKLY_REPORT)
    keys = ("submitted", "on_time", "planned", "visits", "effective", "deals", "new_customers", "collections",
            "orders", "cost", "signals", "abnormal", "next_week")
    for k, want in WEEKLY_EXPECTED.items():
        assert tuple(got[k][c] for c in keys) == want, k
    for k, (reps, att, per_rep, adh, eff, deal_rate, per_order, per_10k) in WEEKLY_RATIOS.items():
        r = got[k]
        assert r["reps"] == reps
        for col, want in (("attainment", att), ("sales_per_rep", per_rep), ("adherence", adh),
                          ("effective_rate", eff), ("deal_rate", deal_rate), ("cost_per_order", per_order),
                          ("cost_per_10k", per_10k)):
            money = col in ("sales_per_rep", "cost_per_order", "cost_per_10k")  # cached to the cent
            assert r[col] == pytest.approx(want, rel=1e-12, abs=0.005 if money else 1e-12), (k, col)
    assert got["业务员:A2"]["effective_rate"] in (None, "")  # no visit: no rate, not 0%


def test_weekly_report_lists(built):
    _, report = built
    signals = _list(report, SIGNALS, SIGNALS.title_zh)
    assert [(s["customer"], s["competitor"], s["feedback"]) for s in signals] == [
        ("新客户甲", "竞品A降价", None), ("客户a3", None, "交期慢")]
    abnormal = _list(report, ABNORMAL, ABNORMAL.title_zh)
    assert [(a["rep_id"], a["customer"], a["customer_class"], a["reason"]) for a in abnormal] == [
        ("A1", "客户a3", "B", "上周客诉拜访"), ("A1", "客户Z", "A", "A类客户上周和本周都没有拜访")]
    plan = _list(report, NEXT_WEEK, NEXT_WEEK.title_zh)
    assert [(p["rep_id"], p["customer"], p["purpose"]) for p in plan] == [("A1", "客户a4", "订货")]
    assert plan[0]["date"].date() == D(2026, 11, 26)


# (month target, month actual, year target, year actual, month landing (max of forecast and booked), accuracy,
#  forecast months, errors, visits done last week, collections last week, won last week)
SCORE_EXPECTED = {
    "A1": (210_000, 180_000, 610_000, 390_000, 250_000, 0.72, 12, 0, 3, 40_000, 0),
    "A2": (420_000, 300_000, 880_000, 300_000, 400_000, 0.75, 12, 0, 0, 0, 120_000),
    "B1": (105_000, 50_000, 305_000, 150_000, 100_000, 0.5, 12, 0, 1, 0, 0),
}


def test_scorecard_matches_the_hand_computed_table(built):
    _, report = built
    got = _rows(report, SCORECARD, key=lambda r: r["rep_id"])
    assert list(got) == ["A1", "A2", "B1"]
    keys = ("month_target", "month_actual", "year_target", "year_actual", "month_forecast", "accuracy",
            "forecast_months", "errors", "visits", "collections", "week_sales")
    for rep, want in SCORE_EXPECTED.items():
        assert tuple(got[rep][k] for k in keys) == pytest.approx(want, rel=1e-12), rep
        assert got[rep]["forecast_rate"] == 1.0
    assert (got["A1"]["on_time"], got["A2"]["on_time"], got["A2"]["submitted"]) == ("是", "否", "是")
    assert (got["A1"]["effective_rate"], got["A1"]["deal_rate"], got["A1"]["adherence"]) == pytest.approx(
        (2 / 3, 1 / 3, 3 / 5))


def test_scorecard_formulas_refer_to_their_own_row_relatively(built):
    _, report = built
    ws = openpyxl.load_workbook(report)[SCORECARD.sheet("zh")]
    for cell in ("E3", "G3", "L3", "S3"):  # month target, attainment, accuracy, effective visit rate
        f = ws[cell].value
        # absolute references only inside other sheets' ranges ('sheet'!$A$3:$A$9), never to this row
        assert re.search(r"(?<![!:])\$[A-Z]+\$\d", f) is None, f
    assert ',"=A1")' in ws["E3"].value  # the rep's own id, so a sorted row keeps its figures


def test_bands_read_the_thresholds(built):
    _, report = built
    ws = openpyxl.load_workbook(report)[VARIANCE.sheet("zh")]
    rules = [r.formula[0] for rng in ws.conditional_formatting for r in rng.rules]
    assert any("xs_t_actual_vs_commit_low" in f for f in rules)
    assert any("xs_t_actual_vs_commit_high" in f for f in rules)


def test_the_sheets_follow_the_reviews_and_say_where_actuals_came_from(built):
    _, report = built
    wb = openpyxl.load_workbook(report, read_only=True)
    names = wb.sheetnames
    assert names[:7] == ["汇总", "紧急", "周度承诺", "月度预测", "差异", "周报", "记分卡"]
    assert "财务实际数" in wb["差异"]["A1"].value


def test_won_deals_stand_in_without_finance_actuals(tmp_path):
    c, report = _build(tmp_path, False)
    got = _rows(report, VARIANCE, key=lambda r: (f"{r['level']}:{r['key']}", r["window"]))
    # won deals by close month: A1 a1 100k (Nov), A2 b1 120k (Nov), B1 c1 30k (Oct)
    assert got[("业务员:A1", "本月")]["actual"] == 100_000
    assert got[("业务员:A2", "本月")]["actual"] == 120_000
    assert got[("业务员:B1", "本月")]["actual"] == 0
    assert got[("业务员:B1", "本季")]["actual"] == 30_000
    assert got[("公司:全公司", "本财年")]["actual"] == 250_000
    wb = openpyxl.load_workbook(report, read_only=True)
    for sheet in ("差异", "周报", "记分卡"):
        assert "实际数取自已成交商机" in wb[sheet]["A1"].value
    resolved = act.resolve(Setup.default(ROSTER, W), c)
    assert resolved.from_won_deals and resolved.label("en") == "actuals stand in from won deals"


def test_actuals_passed_in_replace_the_setup_table(tmp_path):
    loaded = pd.DataFrame([{"rep_id": "A1", "month": D(2026, 11, 1), "kind": "revenue", "amount": 1_000.0}])
    _, report = _build(tmp_path, True, loaded)
    got = _rows(report, VARIANCE, key=lambda r: (f"{r['level']}:{r['key']}", r["window"]))
    assert got[("业务员:A1", "本月")]["actual"] == 1_000
    assert got[("业务员:A2", "本月")]["actual"] == 0


# --- reading --actuals files ---------------------------------------------------------------

def test_actuals_csv_with_chinese_headers(tmp_path):
    p = tmp_path / "erp.csv"
    p.write_text("业务员编号,月份,目标类型,实际金额\nA1,2026-11,销售额,180000\nA2,2026年10月,货款回收,\"1,234.50\"\n",
                 encoding="utf-8-sig")
    df, issues = read_actuals(p)
    assert [i for i in issues if i.severity == "error"] == []
    assert df.to_dict("records") == [
        {"rep_id": "A1", "month": D(2026, 11, 1), "kind": "revenue", "amount": 180_000.0},
        {"rep_id": "A2", "month": D(2026, 10, 1), "kind": "collections", "amount": 1_234.5}]


def test_actuals_csv_gbk_english_headers_reordered_bad_row_reported(tmp_path):
    p = tmp_path / "erp.csv"
    p.write_bytes("Note,Amount,Month,Rep ID,Kind\n备注,500,2026/09,B1,Revenue\nx,abc,2026/09,B1,Revenue\n"
                  .encode("gb18030"))
    df, issues = read_actuals(p)
    assert df.to_dict("records") == [{"rep_id": "B1", "month": D(2026, 9, 1), "kind": "revenue", "amount": 500.0}]
    bad = [i for i in issues if i.severity == "error"]
    assert len(bad) == 1 and bad[0].cell == "B3"


def test_actuals_xlsx_found_by_headers_on_any_sheet(tmp_path):
    p = tmp_path / "erp.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "ERP export"
    ws.append(["Finance export 2026"])
    ws.append(["Rep ID", "Month", "Kind", "Actual"])
    ws.append([1001, dt.datetime(2026, 11, 15), "Gross margin", 42_000])
    ws.append(["A1", "2026-12", "销售额", 7.5])
    wb.save(p)
    df, _ = read_actuals(p)
    assert df.to_dict("records") == [
        {"rep_id": "1001", "month": D(2026, 11, 1), "kind": "gross_margin", "amount": 42_000.0},
        {"rep_id": "A1", "month": D(2026, 12, 1), "kind": "revenue", "amount": 7.5}]


def test_cli_takes_actuals_and_refuses_a_missing_file(tmp_path, capsys):
    from xlsales.cli import do_init, main, parser

    a = parser().parse_args(["consolidate", "d", "--actuals", "erp.csv"])
    assert a.actuals == "erp.csv"
    do_init(tmp_path / "m", "zh", None, False, D(2026, 11, 23))
    assert main(["consolidate", str(tmp_path / "m"), "--actuals", str(tmp_path / "nope.csv")]) == 2
    assert "找不到实际数文件" in capsys.readouterr().err
    assert not (tmp_path / "m" / "reports").exists()


# --- LibreOffice recalculates every figure -----------------------------------------------------

@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_fixture_identically(built, tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    check = check_formulas(built[1], tmp_path)
    assert check.cells > 500
    assert check.mismatches == []


@pytest.mark.libreoffice
def test_libreoffice_recalculates_a_demo_sized_report_identically(tmp_path):
    needs_soffice()
    from xlsales import synth
    from xlsales.core.targets import decompose
    from xlsales.io.libreoffice import check_formulas

    setup = Setup.default(None, W)
    fills = synth.generate(setup, seed=3, reps=6, mistakes=True)
    synth.write_fills(setup, fills, tmp_path / "inbox", "zh")
    c = consolidate(tmp_path / "inbox", setup, AS_OF)
    targets, _ = decompose(setup, "revenue", raised="both")
    out = render_xlsx(full_report(c, setup, "zh", targets)[0], tmp_path / "demo.xlsx")
    check = check_formulas(out, tmp_path / "lo")
    assert check.cells > 2000
    assert check.mismatches == []
