"""Rolling forward (issue 15): next week's workbook pre-filled from the rep's latest accepted submission.

The rules of :func:`xlsales.core.roll.carry` with figures written by hand; the invariant that a roll keeps
every open deal and its money (Hypothesis); and the whole loop on the demo — roll, then consolidate the
rolled workbooks unchanged for the next week: the same open deals, customers and forecast months, every
row read accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsales.cli import main
from xlsales.core import schema
from xlsales.core.periods import forecast_months
from xlsales.core.roll import capacity, carry
from xlsales.core.setup import Setup
from xlsales.report.templates import build_rep_workbook
from xlsales.run import RunError, consolidate_folder, roll_folder

WEEK = dt.date(2026, 11, 23)
NEXT = dt.date(2026, 11, 30)
DEC = dt.date(2026, 12, 7)  # a week of the next month: the forecast shifts


def deal(opp_id: str, stage: str, category: str, amount: float, **kw: object) -> dict:
    return {"opp_id": opp_id, "customer": "甲公司", "amount": amount, "stage": stage, "category": category,
            "close_date": dt.date(2026, 12, 15), **kw}


SUBMITTED = {
    "opportunities": [
        deal("O-1", "Intent", "pipeline", 300_000.0, product="交换机", next_action="演示"),
        deal("O-2", "Negotiated", "commit", 120_000.0, chk_config=True, chk_discount=False),
        deal("O-3", "Won", "closed", 80_000.0),
        deal("O-4", "Lost", "lost", 50_000.0),
        deal("O-5", "Approved", "upside", 45_500.5),
    ],
    "customers": [{"customer": "甲公司", "customer_class": "A", "contact": "王经理"},
                  {"customer": "乙公司", "customer_class": "C"}],
    "visits": [
        {"date": dt.date(2026, 11, 24), "customer": "甲公司", "status": "done", "purpose": "service", "result": "ok"},
        {"date": dt.date(2026, 11, 27), "customer": "乙公司", "status": "planned", "purpose": "order"},
        {"date": dt.date(2026, 12, 2), "customer": "甲公司", "status": "planned", "purpose": "collection"},
        {"date": dt.date(2026, 11, 25), "customer": "乙公司", "status": "cancelled", "purpose": "other"},
        {"date": dt.date(2026, 11, 12), "customer": "乙公司", "status": "planned", "purpose": "other"},
    ],
    "forecast": [{"month": dt.date(2026, 11, 1), "forecast": 900_000.0, "upside": 100_000.0},
                 {"month": dt.date(2026, 12, 1), "forecast": 700_000.0, "note": "年底冲量"},
                 *({"month": m, "forecast": 500_000.0} for m in forecast_months(WEEK, 12)[2:])],
    "weekly": [{"week": WEEK, "commit": 120_000.0, "upside": 45_500.5}],
}


def test_open_deals_customers_and_planned_visits_are_carried_won_lost_done_and_commit_are_not(setup):
    got = carry(SUBMITTED, WEEK, forecast_months(NEXT, 12), setup)
    assert [d["opp_id"] for d in got.data["opportunities"]] == ["O-1", "O-2", "O-5"]
    assert got.data["opportunities"][0] == {"opp_id": "O-1", "customer": "甲公司", "product": "交换机",
                                            "amount": 300_000.0, "stage": "Intent", "close_date": dt.date(2026, 12, 15),
                                            "category": "pipeline", "next_action": "演示"}
    assert got.data["opportunities"][1]["chk_config"] is True and got.data["opportunities"][1]["chk_discount"] is False
    assert [c["customer"] for c in got.data["customers"]] == ["甲公司", "乙公司"]
    assert got.data["customers"][0]["contact"] == "王经理"
    # planned and not done, from the week just gone on; the one of two weeks ago is stale
    assert [(v["date"], v["purpose"]) for v in got.data["visits"]] == [(dt.date(2026, 11, 27), "order"),
                                                                      (dt.date(2026, 12, 2), "collection")]
    assert "weekly" not in got.data
    assert (got.deals, got.customers, got.visits, got.forecast_months) == (3, 2, 2, 12)
    assert got.left == {"won_lost": 2, "visits_done": 3, "forecast_past": 0, "weekly": 1}


def test_the_forecast_keeps_its_months_in_the_same_month_and_shifts_when_the_month_changes(setup):
    same = carry(SUBMITTED, WEEK, forecast_months(NEXT, 12), setup).data["forecast"]
    assert [r["month"] for r in same] == forecast_months(NEXT, 12)  # 2026-11 … 2027-10, all twelve
    assert same[0] == {"month": dt.date(2026, 11, 1), "forecast": 900_000.0, "upside": 100_000.0}
    moved = carry(SUBMITTED, NEXT, forecast_months(DEC, 12), setup)
    months = [r["month"] for r in moved.data["forecast"]]
    assert months[0] == dt.date(2026, 12, 1) and months[-1] == dt.date(2027, 10, 1)  # November dropped
    assert len(months) == 11 and dt.date(2027, 11, 1) not in months  # the new month starts empty
    assert moved.data["forecast"][0] == {"month": dt.date(2026, 12, 1), "forecast": 700_000.0, "note": "年底冲量"}
    assert moved.left["forecast_past"] == 1


def test_a_rep_with_250_deals_gets_at_least_100_free_rows():
    assert capacity(schema.OPPORTUNITIES, 0) == 200  # the template's own size
    assert capacity(schema.OPPORTUNITIES, 99) == 200
    assert capacity(schema.OPPORTUNITIES, 101) == 201
    assert capacity(schema.OPPORTUNITIES, 250) == 350


STAGES = ["Lead", "Met", "Intent", "Solution", "Approved", "Selected", "Negotiated", "Won", "Lost"]
CATEGORY = {"Won": "closed", "Lost": "lost"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STAGES), st.sampled_from(["commit", "upside", "pipeline"]),
                          st.integers(min_value=0, max_value=10**9)), max_size=40))
def test_a_roll_keeps_every_open_deal_and_its_money(deals):
    setup = Setup.default()
    rows = [deal(f"O-{i}", s, CATEGORY.get(s, c), a / 100) for i, (s, c, a) in enumerate(deals)]
    got = carry({"opportunities": rows}, WEEK, forecast_months(NEXT, 12), setup).data["opportunities"]
    still_open = [r for r in rows if r["stage"] not in ("Won", "Lost")]
    assert [d["opp_id"] for d in got] == [r["opp_id"] for r in still_open]
    assert sum(d["amount"] for d in got) == sum(r["amount"] for r in still_open)
    assert all(d["stage"] not in ("Won", "Lost") for d in got)


def test_a_big_deal_list_is_written_whole_with_headroom_and_says_how_many_rows_are_free(tmp_path, setup):
    deals = [deal(f"O-{i:03d}", "Intent", "pipeline", 1000.0 * i) for i in range(250)]
    p = build_rep_workbook(tmp_path / "big.xlsx", setup, setup.rows("roster")[0], "zh", {"opportunities": deals},
                           period=NEXT)
    wb = openpyxl.load_workbook(p)
    ws = wb["商机"]
    assert ws.tables["Opportunities"].ref == "A2:Q352"  # header + 250 deals + 100 free rows
    assert ws["A252"].value == "O-249" and ws["A253"].value is None
    assert not ws["A352"].protection.locked
    dv = [d for d in ws.data_validations.dataValidation if str(d.sqref).startswith("E3")]
    assert dv and str(dv[0].sqref) == "E3:E352", "the stage dropdown covers every row"
    assert ws.print_area == "'商机'!$A$1:$Q$262", "the print area ends 10 rows below the data"
    text = " ".join(str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value)
    assert "商机 100 行" in text
    assert wb["说明"]["C7"].value == dt.datetime(2026, 11, 30)


# --- the whole loop on the demo ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("roll") / "demo"
    assert main(["demo", str(folder), "--period", WEEK.isoformat(), "--weeks", "1"]) == 0
    return folder


def _open(c, key: str) -> set[tuple]:
    df = c.accepted(key)
    return set(map(tuple, df[["rep_id", *COMPARE[key]]].astype(str).values.tolist()))


COMPARE = {"opportunities": ["opp_id", "customer", "amount", "stage", "category", "close_date", "chk_config",
                             "chk_discount", "next_action"],
           "customers": ["customer", "customer_class", "contact", "phone"]}


def test_demo_rolls_forward_and_the_rolled_workbooks_consolidate_to_the_same_open_pipeline(demo, tmp_path):
    templates = demo / "templates"
    active = [r["rep_id"] for r in consolidate_folder(demo, ledger="").setup.active_reps().to_dict("records")]
    assert sorted(p.name for p in templates.glob("R???.xlsx")) == [f"{r}.xlsx" for r in active]
    assert sorted(p.name for p in templates.glob("R???-*.xlsx")) == [f"{r}-{WEEK}.xlsx" for r in active]
    before = consolidate_folder(demo, ledger="")
    inbox = tmp_path / "next"
    inbox.mkdir()
    for r in active:
        shutil.copy(templates / f"{r}.xlsx", inbox / f"{r}.xlsx")
    after = consolidate_folder(demo, inbox=inbox, as_of=NEXT, out=tmp_path / "next.xlsx", ledger="")
    assert after.consolidation.period == NEXT
    rows = after.consolidation.rows
    assert rows["read"] == rows["accepted"] and rows["rejected"] == 0
    assert {f.signature for f in after.consolidation.files} == {"verified"}
    counted = set(before.consolidation.accepted("opportunities")["rep_id"])
    open_before = {d for d in _open(before.consolidation, "opportunities") if d[5] not in ("closed", "lost")}
    open_after = {d for d in _open(after.consolidation, "opportunities") if d[0] in counted}
    assert open_after == open_before and len(open_before) > 50
    assert {c for c in _open(after.consolidation, "customers") if c[0] in counted} == \
        _open(before.consolidation, "customers")
    fc_before = before.consolidation.accepted("forecast")
    fc_after = after.consolidation.accepted("forecast")
    pairs = lambda df: set(zip(df["rep_id"], df["month"], df["forecast"], strict=True))  # noqa: E731
    assert {p for p in pairs(fc_after) if p[0] in counted} == pairs(fc_before)  # same month: all twelve carried
    assert after.consolidation.accepted("weekly").empty, "last week's commit row is not carried"
    done = after.consolidation.accepted("visits")
    assert set(done["status"]) == {"planned"}


def test_the_rep_who_did_not_submit_is_pre_filled_from_the_ledger_and_an_issue_says_so(demo):
    res = roll_folder(demo, period=NEXT, reps=["R012"])
    (w,) = res.written
    assert w.source and w.source.startswith("台账 ledger #") and w.deals > 0 and w.customers > 0
    (i,) = [i for i in res.issues if i.rule == "roll_not_this_week"]
    assert i.value == "R012" and "R012" in i.zh and "台账" in i.zh and "ledger" in i.en and i.file == "R012.xlsx"


def test_roll_json_and_a_named_rep_that_is_not_in_the_roster(demo, capsys):
    assert main(["roll", str(demo), "--period", "2026-12-02", "--rep", "R001", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == "2026-11-30"
    (w,) = out["written"]
    assert set(w) >= {"rep", "path", "deals", "customers", "forecast_months"} and w["rep"] == "R001"
    assert w["forecast_months"] == 12 and Path(w["path"]).name == "R001.xlsx"
    with pytest.raises(RunError) as e:
        roll_folder(demo, reps=["R999"])
    assert "R999" in e.value.zh and "R999" in e.value.en and e.value.code == 2
    assert main(["roll", str(demo), "--rep", "R999"]) == 2


def test_default_week_is_the_one_after_the_newest_consolidated(demo):
    res = roll_folder(demo, reps=["R001"])
    assert res.period == NEXT


def test_a_rolled_workbook_keeps_its_validations_and_protection(demo):
    wb = openpyxl.load_workbook(demo / "templates" / "R001.xlsx")
    ws = wb["商机"]
    assert ws.protection.sheet
    kinds = {str(d.sqref).split(":")[0].rstrip("0123456789"): d.type for d in ws.data_validations.dataValidation}
    assert kinds["E"] == "list" and kinds["D"] == "decimal" and kinds["H"] == "date"
    assert ws["A3"].value and not ws["A3"].protection.locked and ws["F3"].protection.locked
    assert wb["_xlsales"].sheet_state == "veryHidden"
    assert wb["说明"]["C7"].value == dt.datetime(2026, 11, 30)
