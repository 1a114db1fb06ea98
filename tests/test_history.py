"""History from the ledger against a hand-computed fixture: 3 reps, 5 consecutive Monday consolidations.

Weeks W0 = 2026-10-26 (October), W1 = 11-02, W2 = 11-09, W3 = 11-16 and W4 = 11-23, the week under review;
each is consolidated through the one pipeline (``consolidate_folder``) into a SQLite ledger.  A1 and A2 are
team T1, B1 is team T2, all in region N.  B1 saves W2's file late (Monday 10:30) and sends nothing in W3.
Every expected figure below was worked out by hand from the deal timelines; the arithmetic is beside it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from xlsales.cli import do_init
from xlsales.core.periods import forecast_months
from xlsales.core.schema import CHECKLIST
from xlsales.core.setup import Setup
from xlsales.report.tables import ACCURACY, CHANGE_COUNTS, DEAL_CHANGES, MONTHLY, WEEKLY, WIN_RATES
from xlsales.report.templates import build_rep_workbook
from xlsales.run import consolidate_folder

from .conftest import needs_soffice

D = dt.date
WEEKS = [D(2026, 10, 26), D(2026, 11, 2), D(2026, 11, 9), D(2026, 11, 16), D(2026, 11, 23)]
ROSTER = [
    {"rep_id": "A1", "name": "甲一", "team": "T1", "region": "N", "area": "N1", "area_class": "A", "active": True},
    {"rep_id": "A2", "name": "甲二", "team": "T1", "region": "N", "area": "N1", "area_class": "A", "active": True},
    {"rep_id": "B1", "name": "乙一", "team": "T2", "region": "N", "area": "N1", "area_class": "A", "active": True},
]
CATEGORY = {"Won": "closed", "Lost": "lost", "Negotiated": "commit", "Approved": "upside", "Selected": "upside"}
K = 1000
# deal → {week index: (amount in thousands, stage, expected close)}; absent in a week = not in that week's list
TIMELINE: dict[str, dict[str, dict[int, tuple[int, str, dt.date]]]] = {
    "A1": {
        "A1-1": {0: (100, "Negotiated", D(2026, 10, 28)), **{w: (100, "Won", D(2026, 10, 29)) for w in (1, 2, 3, 4)}},
        "A1-2": {0: (200, "Negotiated", D(2026, 11, 5)), 1: (200, "Negotiated", D(2026, 11, 5)),
                 **{w: (180, "Won", D(2026, 11, 6)) for w in (2, 3, 4)}},
        "A1-3": {1: (150, "Negotiated", D(2026, 11, 11)), 2: (150, "Negotiated", D(2026, 11, 11)),
                 **{w: (150, "Won", D(2026, 11, 13)) for w in (3, 4)}},
        "A1-4": {2: (120, "Negotiated", D(2026, 11, 18)), 3: (120, "Negotiated", D(2026, 11, 18)),
                 4: (100, "Negotiated", D(2026, 11, 25))},  # slipped out of its week and cut
        "A1-5": {3: (80, "Selected", D(2026, 12, 10)), 4: (80, "Solution", D(2026, 12, 10))},  # back, upside → pipe
        "A1-6": {4: (60, "Met", D(2027, 1, 15))},  # new
        "A1-7": {3: (90, "Intent", D(2026, 12, 20)), 4: (90, "Lost", D(2026, 11, 20))},  # lost
    },
    "A2": {
        "A2-1": {0: (300, "Negotiated", D(2026, 10, 30)), **{w: (300, "Won", D(2026, 10, 30)) for w in (1, 2, 3, 4)}},
        "A2-2": {1: (250, "Negotiated", D(2026, 11, 4)), **{w: (250, "Won", D(2026, 11, 4)) for w in (2, 3, 4)}},
        "A2-3": {2: (100, "Negotiated", D(2026, 11, 10)), **{w: (120, "Won", D(2026, 11, 12)) for w in (3, 4)}},
        "A2-4": {3: (200, "Negotiated", D(2026, 11, 19)), 4: (220, "Won", D(2026, 11, 20))},  # won
        "A2-5": {3: (50, "Approved", D(2026, 12, 1))},  # vanished
        "A2-6": {3: (40, "Intent", D(2027, 2, 10)), 4: (40, "Intent", D(2026, 11, 27))},  # pulled in
        "A2-7": {3: (30, "Met", D(2026, 12, 15)), 4: (30, "Negotiated", D(2026, 12, 15))},  # pipeline → commit
    },
    "B1": {
        "B1-1": {0: (50, "Negotiated", D(2026, 10, 27)), **{w: (50, "Won", D(2026, 10, 27)) for w in (1, 2, 4)}},
        "B1-2": {2: (80, "Negotiated", D(2026, 11, 11)), 4: (80, "Won", D(2026, 11, 12))},
    },
}
COMMIT = {"A1": (100, 200, 150, 120, 100), "A2": (300, 250, 100, 200, 0), "B1": (50, 0, 80, None, 0)}
FORECAST = {"A1": 100, "A2": 200, "B1": 50}  # every month, thousands
LATE = {("B1", 2)}
MISSING = {("B1", 3)}


def _deal(opp: str, amount: int, stage: str, close: dt.date) -> dict:
    cat = CATEGORY.get(stage, "pipeline")
    d = {"opp_id": opp, "customer": f"客户{opp}", "amount": float(amount * K), "stage": stage, "category": cat,
         "close_date": close}
    if cat == "commit":
        d.update(dict.fromkeys(CHECKLIST, True))
    return d


def _week(folder: Path, w: int) -> dict:
    period = WEEKS[w]
    setup = Setup.default(ROSTER, period)
    inbox = folder / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir()
    for r in ROSTER:
        rep = r["rep_id"]
        if (rep, w) in MISSING:
            continue
        deals = [_deal(opp, *t[w]) for opp, t in TIMELINE[rep].items() if w in t]
        data = {"opportunities": deals,
                "forecast": [{"month": m, "forecast": float(FORECAST[rep] * K), "upside": 0.0}
                             for m in forecast_months(period)],
                "weekly": [{"commit": float(COMMIT[rep][w] * K), "upside": 0.0}]}
        path = build_rep_workbook(inbox / f"{rep}.xlsx", setup, r, "zh", data)
        at = dt.datetime.combine(period, dt.time(10, 30)) if (rep, w) in LATE else \
            dt.datetime.combine(period - dt.timedelta(days=1), dt.time(18, 0))
        os.utime(path, (at.timestamp(), at.timestamp()))
    if w == 4:  # last week and last month must come from the ledger, not from earlier report files
        shutil.rmtree(folder / "reports", ignore_errors=True)
    return consolidate_folder(folder, as_of=period).summary()


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history") / "mgr"
    do_init(folder, "zh", None, False, WEEKS[0], Setup.default(ROSTER, WEEKS[0]))
    summaries = [_week(folder, w) for w in range(5)]
    return folder, summaries


def _rows(path: Path, table, key=("level", "key")) -> dict[str, dict]:
    ws = openpyxl.load_workbook(path, data_only=True)[table.sheet("zh")]
    out = {}
    for row in ws.iter_rows(min_row=table.first_row + 2, values_only=True):
        if row[0] is None:
            continue
        rec = dict(zip(table.keys, row, strict=False))
        out[":".join(str(rec[k]) for k in key)] = rec
    return out


def test_every_week_is_recorded_and_last_week_comes_from_the_ledger(weeks):
    folder, s = weeks
    assert [x["recorded"] for x in s] == [True] * 5
    assert [x["ledger"]["snapshot"] for x in s] == [1, 2, 3, 4, 5]
    assert s[4]["previous"].startswith("台账 ledger #4") and s[4]["last_month"].startswith("台账 ledger #1")
    got = _rows(Path(s[4]["report"]), WEEKLY)
    assert got["业务员:A1"]["last_commit"] == 120_000  # W3's commit
    assert got["业务员:A2"]["last_commit"] == 200_000
    assert got["业务员:B1"]["last_commit"] == 0  # no file in W3
    assert got["团队:T1"]["last_commit"] == 320_000
    # last month = W0 (October): A1's open qualified pipeline then was A1-1 100k + A1-2 200k, all commit
    mo = _rows(Path(s[4]["report"]), MONTHLY)
    assert (mo["业务员:A1"]["last_pipe"], mo["业务员:A1"]["last_commit"]) == (300_000, 300_000)
    assert (mo["业务员:A2"]["last_pipe"], mo["业务员:B1"]["last_pipe"]) == (300_000, 50_000)


# W3 → W4 for A1 and A2 (B1 sent nothing in W3, so B1's deals are not compared)
CHANGES = {("A1", "推迟", "A1-4"), ("A1", "金额下调", "A1-4"), ("A1", "阶段倒退", "A1-5"), ("A1", "类别变更", "A1-5"),
           ("A1", "新增", "A1-6"), ("A1", "丢单", "A1-7"), ("A2", "赢单", "A2-4"), ("A2", "消失(未标丢单)", "A2-5"),
           ("A2", "提前", "A2-6"), ("A2", "类别变更", "A2-7")}
# entity → new, won, lost, slipped, pulled in, stage back, amount cut, raised, category, vanished;
#          won amount (A2-4 220k), lost amount (A1-7 90k), slipped amount (A1-4 now 100k), vanished (A2-5 50k)
COUNTS = {
    "业务员:A1": (1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 90_000, 100_000, 0),
    "业务员:A2": (0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 220_000, 0, 0, 50_000),
    "团队:T1": (1, 1, 1, 1, 1, 1, 1, 0, 2, 1, 220_000, 90_000, 100_000, 50_000),
    "业务员:B1": (0,) * 14,
    "大区:N": (1, 1, 1, 1, 1, 1, 1, 0, 2, 1, 220_000, 90_000, 100_000, 50_000),
    "公司:全公司": (1, 1, 1, 1, 1, 1, 1, 0, 2, 1, 220_000, 90_000, 100_000, 50_000),
}


def test_deal_changes_since_last_week(weeks):
    report = Path(weeks[1][4]["report"])
    listed = _rows(report, DEAL_CHANGES, ("rep_id", "change", "opp_id"))
    assert {tuple(k.split(":")) for k in listed} == CHANGES
    slip = listed["A1:推迟:A1-4"]
    assert (slip["close_before"].date(), slip["close_after"].date()) == (D(2026, 11, 18), D(2026, 11, 25))
    assert (slip["amount_before"], slip["amount_after"]) == (120_000, 100_000)
    back = listed["A1:阶段倒退:A1-5"]
    assert (back["stage_before"], back["stage_after"], back["category_before"], back["category_after"]) == (
        "客户选择", "方案", "有望", "管道")
    got = _rows(report, CHANGE_COUNTS)
    keys = [k for k in CHANGE_COUNTS.keys if k not in ("level", "key", "name", "team", "region")]
    for entity, expected in COUNTS.items():
        assert tuple(got[entity][k] for k in keys) == expected, entity


# entity → weeks with a ratio, Σ commit, Σ actual, weeks in 95–110%, mean bias
#   A1: W0 100/100, W1 180/200, W2 150/150, W3 0/120 (A1-4 slipped): bias (1 + .9 + 1 + 0)/4 − 1
#   A2: W0 300/300, W1 250/250, W2 120/100, W3 220/200: in band W0, W1, W3 (110% is inside); bias 4.3/4 − 1
#   B1: W0 50/50, W2 80/80 (reported by W4: no file in W3); W1 and W3 have no commit
WEEKLY_ACCURACY = {
    "业务员:A1": (4, 570_000, 430_000, 2, -0.275),
    "业务员:A2": (4, 850_000, 890_000, 3, 0.075),
    "业务员:B1": (2, 130_000, 130_000, 2, 0.0),
    "团队:T1": (8, 1_420_000, 1_320_000, 5, -0.1),  # (2.9 + 4.3)/8 − 1
    "大区:N": (10, 1_550_000, 1_450_000, 7, -0.08),  # (7.2 + 2)/10 − 1
}
# October (W0 is its first consolidation; W1 reports its actual): forecast vs won in October
MONTHLY_ACCURACY = {
    "业务员:A1": (1, 100_000, 100_000, 1, 0.0),
    "业务员:A2": (1, 200_000, 300_000, 0, 0.5),
    "业务员:B1": (1, 50_000, 50_000, 1, 0.0),
    "团队:T1": (2, 300_000, 400_000, 1, 0.25),
}
# weeks on record (W0–W4), submitted, on time; B1: late in W2, nothing in W3
ON_TIME = {"业务员:A1": (5, 5, 5), "业务员:B1": (5, 4, 3), "团队:T1": (10, 10, 10), "大区:N": (15, 14, 13)}
# won deals / closed deals (won + lost), each deal once: A1 won A1-1..3, lost A1-7; A2 won A2-1..4; B1 won both
WINS = {"业务员:A1": (3, 4), "业务员:A2": (4, 4), "业务员:B1": (2, 2), "团队:T1": (7, 8), "大区:N": (9, 10)}


def test_forecast_accuracy_bias_volatility_and_on_time(weeks):
    got = _rows(Path(weeks[1][4]["report"]), ACCURACY)
    ws = openpyxl.load_workbook(weeks[1][4]["report"], read_only=True)[ACCURACY.sheet("zh")]
    head = " ".join(str(v) for row in ws.iter_rows(max_row=ACCURACY.first_row + 1, values_only=True) for v in row if v)
    assert "健康 = 实际/承诺在 95%–110% 之间" in head  # the band in figures, not the setting's id
    for entity, (n, commit, actual, band, bias) in WEEKLY_ACCURACY.items():
        r = got[entity]
        assert (r["weeks"], r["w_commit"], r["w_actual"], r["w_in_band"]) == (n, commit, actual, band), entity
        assert r["w_ratio"] == pytest.approx(actual / commit, rel=1e-12), entity
        assert r["w_band_share"] == pytest.approx(band / n, rel=1e-12), entity
        assert r["w_bias"] == pytest.approx(bias, abs=1e-12), entity
    for entity, (n, commit, actual, band, bias) in MONTHLY_ACCURACY.items():
        r = got[entity]
        assert (r["months"], r["m_commit"], r["m_actual"], r["m_in_band"]) == (n, commit, actual, band), entity
        assert r["m_bias"] == pytest.approx(bias, abs=1e-12), entity
    # A1's weekly commits on record 100k, 200k, 150k, 120k: mean 142.5k, variance 1,418,750,000 (yuan²)
    assert got["业务员:A1"]["w_volatility"] == pytest.approx(0.2643248977775327, rel=1e-12)
    assert got["团队:T1"]["w_volatility"] in (None, "")  # a rep's figure only
    for entity, (periods, submitted, on_time) in ON_TIME.items():
        r = got[entity]
        assert (r["periods"], r["submitted"], r["on_time"]) == (periods, submitted, on_time), entity
        assert r["on_time_rate"] == pytest.approx(on_time / periods, rel=1e-12)
    for entity, (won, closed) in WINS.items():
        r = got[entity]
        assert (r["won_deals"], r["closed_deals"]) == (won, closed), entity
        assert r["win_rate"] == pytest.approx(won / closed, rel=1e-12), entity


# stage → deals seen there, closed (won + lost), won, moved on later
#   Met: A1-6, A2-7 (moved to Negotiated) · Intent: A1-7 (lost), A2-6 · Solution: A1-5 · Approved: A2-5 ·
#   Selected: A1-5 · Negotiated: A1-1..4, A2-1..4, A2-7, B1-1, B1-2 — nine of them won
WIN_RATES_EXPECTED = {"与客户会面": (2, 0, 0, 1), "购买意向": (2, 1, 0, 0), "方案": (1, 0, 0, 0),
                      "方案认可": (1, 0, 0, 0), "客户选择": (1, 0, 0, 0), "商务谈判完成": (11, 9, 9, 9)}


def test_win_rates_and_stage_conversion(weeks):
    got = _rows(Path(weeks[1][4]["report"]), WIN_RATES, ("stage",))
    for stage, (deals, closed, won, advanced) in WIN_RATES_EXPECTED.items():
        r = got[stage]
        assert (r["deals"], r["closed"], r["won"], r["advanced"]) == (deals, closed, won, advanced), stage
        assert r["conversion"] == pytest.approx(advanced / deals, rel=1e-12)
    assert got["购买意向"]["win_rate"] == 0 and got["购买意向"]["gap"] == pytest.approx(-0.5)
    assert got["商务谈判完成"]["win_rate"] == 1 and got["商务谈判完成"]["gap"] == pytest.approx(0.1)
    assert got["与客户会面"]["win_rate"] in (None, "")  # none closed yet
    every = got["全部商机(每个商机一次)"]
    assert (every["deals"], every["closed"], every["won"]) == (16, 10, 9)


def test_history_json(weeks, capsys):
    import json

    from xlsales.cli import main

    assert main(["history", str(weeks[0]), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["ledger"].startswith("sqlite:///") and [x["id"] for x in s["snapshots"]] == [1, 2, 3, 4, 5]
    assert {"id", "as_of", "created", "files", "content_hash"} <= set(s["snapshots"][0])
    # the latest snapshot (W4) against W3: A1's weeks W0–W3, as in the report
    a1 = s["accuracy"]["A1"]
    assert [(w["period"], w["commit"], w["actual"]) for w in a1] == [
        ("2026-W44", 100_000, 100_000), ("2026-W45", 200_000, 180_000), ("2026-W46", 150_000, 150_000),
        ("2026-W47", 120_000, 0)]
    assert a1[1]["ratio"] == pytest.approx(0.9)
    assert s["changes"] == {"new": 1, "won": 1, "lost": 1, "slipped": 1, "pulled_in": 1, "stage_back": 1,
                            "amount_cut": 1, "amount_raised": 0, "category": 2, "vanished": 1}
    assert s["on_time"]["B1"] == {"weeks": 5, "submitted": 4, "on_time": 3}
    assert main(["history", str(weeks[0]), "--json", "--rep", "A2", "--weeks", "2"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert list(s["accuracy"]) == ["A2"] and [w["period"] for w in s["accuracy"]["A2"]] == ["2026-W46", "2026-W47"]


def test_history_sheets_recalculate_in_libreoffice(weeks, tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    check = check_formulas(Path(weeks[1][4]["report"]), tmp_path)
    assert check.cells > 1000 and check.mismatches == [], check.mismatches[:10]


def test_the_demo_has_a_history_to_show(tmp_path, capsys):
    import json

    from xlsales.cli import main
    from xlsales.report.tables import DEAL_PATHS, HISTORY_PERIODS

    d = tmp_path / "demo"
    assert main(["demo", str(d), "--reps", "4", "--period", "2026-11-23"]) == 0
    capsys.readouterr()
    assert main(["history", str(d), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    # four past weeks, one of them consolidated again after a resubmission, then the demo week
    assert [x["period"] for x in s["snapshots"]] == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-09",
                                                      "2026-11-16", "2026-11-23"]
    assert [x["superseded_by"] for x in s["snapshots"]] == [None, None, 4, None, None, None]
    assert sum(s["changes"].values()) > 0 and any(len(w) >= 3 for w in s["accuracy"].values())
    assert any(v["on_time"] < v["submitted"] for v in s["on_time"].values())  # a late rep
    assert any(v["submitted"] < v["weeks"] for v in s["on_time"].values())  # a missing week
    wb = openpyxl.load_workbook(d / "reports" / "consolidated-2026-11-23.xlsx", read_only=True)
    for table in (DEAL_CHANGES, HISTORY_PERIODS, DEAL_PATHS, CHANGE_COUNTS, ACCURACY, WIN_RATES):
        assert wb[table.sheet("zh")].max_row > table.first_row + 2, table.key  # rows to show


def test_a_period_s_actual_is_the_rep_s_won_deals_closing_from_its_first_to_its_last_day() -> None:
    """The rule of ``periods`` on hand-made points, without a ledger: a week's commit is the rep's own figure of
    the weekly review; its actual counts the rep's won deals closing on the week's Monday through its Sunday, as
    the first later point with the rep's file reports them; a month's the same over the month."""
    import pandas as pd

    from xlsales.core.history import DEAL_COLUMNS, Point, periods

    def deals(*rows: tuple[str, str, float, str, dt.date]) -> pd.DataFrame:
        return pd.DataFrame([{"rep_id": r, "opp_id": o, "customer": "客户", "amount": a, "category": c,
                              "stage": "Won" if c == "closed" else "Negotiated", "close_date": d}
                             for r, o, a, c, d in rows], columns=DEAL_COLUMNS)

    figures = pd.DataFrame([
        {"level": "team", "key": "R1", "review": "weekly", "name": "commit_adj", "value": 777.0},  # a team named so
        {"level": "rep", "key": "R1", "review": "monthly", "name": "commit_adj", "value": 555.0},  # another review
        {"level": "rep", "key": "R1", "review": "weekly", "name": "commit_adj", "value": 100.0},
        {"level": "rep", "key": "R2", "review": "weekly", "name": "commit_adj", "value": 300.0},
        {"level": "rep", "key": "R1", "review": "weekly", "name": "month_forecast", "value": 500.0},
    ])
    both = {"R1", "R2"}
    week = Point(D(2026, 11, 16), D(2026, 11, 16), deals(), both, dict.fromkeys(both, True), figures, 7)
    reporter = Point(D(2026, 11, 23), D(2026, 11, 23), deals(
        ("R1", "a", 40.0, "closed", D(2026, 11, 22)),  # Sunday, the week's last day
        ("R1", "b", 2.0, "closed", D(2026, 11, 16)),  # Monday, its first
        ("R1", "c", 1000.0, "closed", D(2026, 11, 23)),  # the next week
        ("R1", "d", 7.0, "commit", D(2026, 11, 20)),  # not won
        ("R2", "e", 300.0, "closed", D(2026, 11, 18)),  # the other rep's
    ), both, dict.fromkeys(both, True), figures.iloc[0:0], 8)
    now = Point(D(2026, 12, 7), D(2026, 12, 7), deals(
        ("R1", "f", 5.0, "closed", D(2026, 11, 30)),  # November's last day
        ("R1", "g", 3.0, "closed", D(2026, 11, 1)),  # its first
        ("R1", "h", 99.0, "closed", D(2026, 12, 1)),  # December
    ), both, dict.fromkeys(both, True))
    got = periods([week, reporter], now, ["R1", "R2"])
    row = {(r["rep_id"], r["period"]): (r["commit"], r["actual"]) for r in got.to_dict("records")}
    assert row["R1", "2026-W47"] == (100.0, 42.0)  # 40 + 2: not the team's 777, not deal c, d or e
    assert row["R2", "2026-W47"] == (300.0, 300.0)
    # November: the first point of the month (the week of 11-16) made the forecast; now (12-07) reports the month
    assert row["R1", "2026-11"] == (500.0, 8.0)  # 5 + 3: not h
