"""One test per business rule: its id, severity, file, sheet and exact cell, and what it does to the totals.

Every test starts from the clean baseline of ``test_consolidate`` (R001 and R002 with hand-computed totals
:data:`BASE_TOTALS`, R003 not submitted) and adds the one row that breaks the rule.  An error takes its
row out of every total; a warning leaves it in.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.test_consolidate import (
    ALL_YES,
    BASE_TOTALS,
    FIRST,
    FUTURE,
    OPP,
    PERIOD,
    baseline_inbox,
    deal,
    deal_row,
    file_of,
    fill,
    issues_of,
    make_setup,
    plain_book,
    r001_deals,
    the,
    write_rep,
)
from xlsales.core import rules
from xlsales.core.issues import RULES
from xlsales.core.rules import check_customers
from xlsales.io.inbox import consolidate

NEW = FIRST + 4  # Excel row of a deal added after R001's four baseline deals
PAST = PERIOD - dt.timedelta(days=3)


def _plus(category: str, amount: float, weighted: float = 0.0) -> dict:
    out = dict(BASE_TOTALS)
    out[category] = round(out[category] + amount, 2)
    out["weighted"] = round(out["weighted"] + weighted, 2)
    return out


# rule, the deal R001 adds, the column its issue names, severity, totals afterwards
DEAL_RULES = [
    ("required", deal("R001-O5", customer=None), "customer", "error", BASE_TOTALS),
    ("bad_choice", deal("R001-O5", stage="签约中"), "stage", "error", BASE_TOTALS),
    ("bad_choice", deal("R001-O5", category="也许"), "category", "error", BASE_TOTALS),
    ("negative", deal("R001-O5", -5_000.0), "amount", "error", BASE_TOTALS),
    ("absurd_amount", deal("R001-O5", 2_000_000_000.0), "amount", "error", BASE_TOTALS),
    ("close_date_past", deal("R001-O5", 10_000.0, close=PERIOD - dt.timedelta(days=20)), "close_date", "warning",
     _plus("pipeline", 10_000.0, 2_500.0)),
    ("commit_below_90", deal("R001-O5", 10_000.0, "Solution", "commit", **ALL_YES), "stage", "error", BASE_TOTALS),
    ("commit_checklist", deal("R001-O5", 10_000.0, "Negotiated", "commit", **{**ALL_YES, "chk_discount": False}),
     "chk_discount", "warning", _plus("commit", 10_000.0, 9_000.0)),
    ("commit_checklist", deal("R001-O5", 10_000.0, "Negotiated", "commit"),  # checklist left blank
     "chk_config", "warning", _plus("commit", 10_000.0, 9_000.0)),
    ("upside_as_commit", deal("R001-O5", 10_000.0, "Approved", "commit", **ALL_YES), "category", "error",
     BASE_TOTALS),
    ("likely_commit_in_upside", deal("R001-O5", 10_000.0, "Negotiated", "upside"), "category", "warning",
     _plus("upside", 10_000.0, 9_000.0)),
    ("stage_category_mismatch", deal("R001-O5", 10_000.0, "Won", "commit", PAST), "category", "error", BASE_TOTALS),
    ("stage_category_mismatch", deal("R001-O5", 10_000.0, "Met", "closed", PAST), "category", "error", BASE_TOTALS),
    ("stage_category_mismatch", deal("R001-O5", 10_000.0, "Lost", "pipeline", PAST), "category", "error",
     BASE_TOTALS),
    ("won_future_close", deal("R001-O5", 10_000.0, "Won", "closed", FUTURE), "close_date", "error", BASE_TOTALS),
    ("won_no_amount", deal("R001-O5", 0.0, "Won", "closed", PAST), "amount", "error", BASE_TOTALS),
]


@pytest.mark.parametrize(("rule", "bad", "column", "severity", "totals"), DEAL_RULES,
                         ids=[f"{r[0]}-{r[2]}" for r in DEAL_RULES])
def test_deal_rule(tmp_path, rule, bad, column, severity, totals):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, [bad]), setup)
    i = the(c, rule)
    assert RULES[rule].severity == severity
    assert (i.severity, i.file, i.sheet, i.cell) == (severity, "R001.xlsx", "商机", f"{OPP[column]}{NEW}")
    assert i.zh and i.en
    others = [x for x in c.issues if x.rule not in (rule, "missing_submission")]
    assert others == [], [str(x) for x in others]
    assert bool(deal_row(c, "R001-O5")["_ok"]) is (severity == "warning")
    assert c.totals == totals


def test_commit_below_90_and_checklist_together(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, [deal("R001-O5", 10_000.0, "Selected", "commit",
                                                          **{**ALL_YES, "chk_partner_ready": "否"})]), setup)
    # Selected (80%) defaults to upside: marking it commit is upside_as_commit, plus the unfinished checklist
    assert [(i.rule, i.cell) for i in c.issues if i.rule != "missing_submission"] == [
        ("upside_as_commit", f"I{NEW}"), ("commit_checklist", f"N{NEW}")]
    assert c.totals == BASE_TOTALS


def test_a_commit_deal_at_90_percent_with_the_full_checklist_is_clean(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, [deal("R001-O5", 10_000.0, "Negotiated", "commit",
                                                          **ALL_YES)]), setup)
    assert [i.rule for i in c.issues] == ["missing_submission"]
    assert c.totals == _plus("commit", 10_000.0, 9_000.0)


def test_upside_at_80_percent_is_not_flagged(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, [deal("R001-O5", 10_000.0, "Selected", "upside")]), setup)
    assert issues_of(c, "likely_commit_in_upside") == []


def test_closed_and_lost_deals_with_past_dates_are_not_stale(tmp_path):
    setup = make_setup()
    old = PERIOD - dt.timedelta(days=60)
    c = consolidate(baseline_inbox(tmp_path, setup, [deal("R001-O5", 10_000.0, "Lost", "lost", old),
                                                      deal("R001-O6", 20_000.0, "Won", "closed", old)]), setup)
    assert issues_of(c, "close_date_past") == []
    assert c.totals == _plus("closed", 20_000.0)


def test_duplicate_opp_id_across_two_reps_takes_both_rows_out(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup, r002_extra=[deal("R001-O1", 70_000.0, customer="乙客户有限公司")])
    c = consolidate(inbox, setup)
    got = sorted((i.file, i.sheet, i.cell, i.value, i.severity) for i in issues_of(c, "duplicate_opp_id"))
    assert got == [("R001.xlsx", "商机", "A3", "R001-O1", "error"), ("R002.xlsx", "商机", "A4", "R001-O1", "error")]
    r1 = next(i for i in c.issues if i.rule == "duplicate_opp_id" and i.file == "R001.xlsx")
    assert "R002" in r1.en and "R002.xlsx!A4" in r1.en
    assert c.totals == {**BASE_TOTALS, "pipeline": 60_000.0, "weighted": 312_000.45 - 25_000.0}


def test_duplicate_key_twice_in_one_file_rejects_the_second_row(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, [deal("R001-O2", 5_000.0)]), setup)
    i = the(c, "duplicate_key")
    assert (i.severity, i.file, i.sheet, i.cell, i.value) == ("error", "R001.xlsx", "商机", f"A{NEW}", "R001-O2")
    assert "A4" in i.en  # names the first occurrence
    assert issues_of(c, "duplicate_opp_id") == []  # one rep: not an ownership conflict
    assert c.totals == BASE_TOTALS  # the first R001-O2 (commit 250,000.50) stays in


def test_shared_customer_is_a_warning_on_both_lists(tmp_path):
    setup = make_setup()
    inbox = tmp_path / "inbox"
    write_rep(inbox, setup, "R001", fill(setup, [deal("R001-O1", 1_000.0, customer="共享客户")]))
    write_rep(inbox, setup, "R002", fill(setup, [deal("R002-O1", 2_000.0, customer="乙客户")], customers=[
        {"customer": "乙客户", "customer_class": "B"}, {"customer": " 共享客户 ", "customer_class": "C"}]))
    c = consolidate(inbox, setup)
    got = sorted((i.file, i.sheet, i.cell, i.severity) for i in issues_of(c, "shared_customer"))
    assert got == [("R001.xlsx", "客户", "A3", "warning"), ("R002.xlsx", "客户", "A4", "warning")]
    assert bool(c.accepted("customers")["customer"].str.strip().eq("共享客户").sum() == 2)
    assert c.totals["pipeline"] == 3_000.0


@pytest.mark.parametrize(("visit", "flagged"), [
    ({"date": PERIOD - dt.timedelta(days=8), "status": "done"}, True),  # done visits: last week up to today
    ({"date": PERIOD - dt.timedelta(days=7), "status": "done"}, False),
    ({"date": PERIOD - dt.timedelta(days=1), "status": "done"}, False),
    ({"date": PERIOD + dt.timedelta(days=10), "status": "planned"}, False),  # planned: last week to next week
    ({"date": PERIOD - dt.timedelta(days=2), "status": "planned"}, False),  # planned but not done: still counted
    ({"date": PERIOD + dt.timedelta(days=14), "status": "planned"}, True),
])
def test_visit_outside_period(tmp_path, visit, flagged):
    setup = make_setup()
    visits = [{"date": PERIOD - dt.timedelta(days=2), "customer": "甲客户", "status": "done", "purpose": "order",
               "order_amount": 800.0},
              {"customer": "甲客户", "purpose": "service", **visit}]
    c = consolidate(baseline_inbox(tmp_path, setup, visits=visits), setup)
    got = [(i.file, i.sheet, i.cell, i.severity, i.value) for i in issues_of(c, "visit_outside_period")]
    assert got == ([("R001.xlsx", "拜访", f"A{FIRST + 1}", "warning", visit["date"].isoformat())] if flagged else [])
    assert bool(c.accepted("visits")["_file"].eq("R001.xlsx").sum() == 2)  # a warning keeps the visit


def test_a_done_visit_in_the_future_is_named(tmp_path):
    setup = make_setup()
    visits = [{"date": PERIOD + dt.timedelta(days=2), "customer": "甲客户", "status": "done", "purpose": "order",
               "order_amount": 800.0}]
    c = consolidate(baseline_inbox(tmp_path, setup, visits=visits), setup)
    i = the(c, "visit_done_future")
    assert (i.file, i.sheet, i.cell, i.severity, i.value) == ("R001.xlsx", "拜访", f"A{FIRST}", "warning",
                                                              "2026-11-25")
    assert not issues_of(c, "visit_outside_period")  # one issue per problem


def test_the_weekly_commit_row_is_reconciled_with_its_deals(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    data = fill(setup, r001_deals())
    data["weekly"] = [{"commit": 300_000.0, "upside": 0.0}]  # the deals closing this week add up to 250,000.50
    write_rep(inbox, setup, "R001", data)
    c = consolidate(inbox, setup)
    i = the(c, "commit_row_mismatch")
    assert (i.file, i.sheet, i.severity) == ("R001.xlsx", "预测", "warning")
    assert "300,000.00" in i.zh and "250,000.50" in i.zh and "2026-11-23" in i.zh


@pytest.mark.parametrize(("table", "row", "rule", "cell", "sheet"), [
    ("visits", {"date": PERIOD, "customer": "甲客户", "status": "done", "purpose": "闲聊"}, "bad_choice", "E", "拜访"),
    ("visits", {"date": PERIOD, "customer": "甲客户", "status": "完成了", "purpose": "order"}, "bad_choice", "D",
     "拜访"),
    ("visits", {"date": PERIOD, "status": "done", "purpose": "order"}, "required", "B", "拜访"),
    ("visits", {"date": PERIOD, "customer": "甲客户", "status": "done", "purpose": "order", "order_amount": -5_000.0},
     "negative", "G", "拜访"),
    ("customers", {"customer": "丁客户", "customer_class": "D"}, "bad_choice", "B", "客户"),
    ("customers", {"customer": "丁客户"}, "required", "B", "客户"),
])
def test_cell_rules_on_visits_and_customers_reject_the_row(tmp_path, table, row, rule, cell, sheet):
    setup = make_setup()
    kw = {"visits": [row]} if table == "visits" else {"customers": [{"customer": "甲客户有限公司",
                                                                      "customer_class": "A"}, row]}
    c = consolidate(baseline_inbox(tmp_path, setup, **kw), setup)
    r = FIRST if table == "visits" else FIRST + 1
    i = the(c, rule)
    assert (i.severity, i.file, i.sheet, i.cell) == ("error", "R001.xlsx", sheet, f"{cell}{r}")
    df = c.frames[table]
    bad = df[(df["_file"] == "R001.xlsx") & (df["_row"] == r)]
    assert len(bad) == 1 and not bool(bad["_ok"].iloc[0])
    assert file_of(c, "R001.xlsx").rows_rejected == 1
    assert c.totals == BASE_TOTALS


def test_forecast_incomplete_is_an_error_naming_the_file_and_sheet(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, months=10), setup)
    i = the(c, "forecast_incomplete")
    assert (i.severity, i.file, i.sheet) == ("error", "R001.xlsx", "预测")
    assert "2027-09" in i.en and "2027-10" in i.en and "10" in i.en
    assert c.totals == BASE_TOTALS


def test_forecast_incomplete_names_the_first_missing_months_cell(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, months=10), setup)
    assert the(c, "forecast_incomplete").cell == f"B{FIRST + 10}"


def test_missing_submission_names_the_rep(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup), setup)
    i = the(c, "missing_submission")
    assert (i.severity, i.file, i.sheet, i.cell, i.value) == ("error", "", "", "", "R003")
    assert "李娜" in i.zh
    assert c.missing == ["R003"] and c.file_counts["missing"] == 1
    assert c.totals == BASE_TOTALS


@pytest.mark.parametrize(("formula", "error"), [("=NA()", "#N/A"), ("=1/0", "#DIV/0!"), ("=A1+B1", "#VALUE!")])
def test_excel_error_in_a_cell(tmp_path, formula, error):
    setup = make_setup(1)
    inbox = tmp_path / "inbox"
    plain_book(inbox / "R001.xlsx", "R001", [
        ["R001-O1", "甲客户", "", 100_000.0, "与客户会面", FUTURE, "通路"],
        ["R001-O2", "甲客户", "", (formula, error), "与客户会面", FUTURE, "通路"],
        ["R001-O3", "甲客户", "", 10_000.0, (formula, error), FUTURE, "通路"],
    ])
    c = consolidate(inbox, setup)
    got = [(i.severity, i.file, i.sheet, i.cell, i.value) for i in issues_of(c, "excel_error")]
    assert got == [("error", "R001.xlsx", "商机", "D3", error), ("error", "R001.xlsx", "商机", "E4", error)]
    assert c.totals["pipeline"] == 100_000.0
    assert file_of(c, "R001.xlsx").rows_rejected == 2


def test_error_text_typed_into_a_cell_is_an_excel_error_too(tmp_path):
    setup = make_setup()
    c = consolidate(baseline_inbox(tmp_path, setup, [deal("R001-O5", "#REF!")]), setup)
    i = the(c, "excel_error")
    assert (i.cell, i.value) == (f"D{NEW}", "#REF!")
    assert c.totals == BASE_TOTALS



def test_an_error_on_the_forecast_does_not_reject_the_weekly_commit_beside_it(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    data = fill(setup, r001_deals())
    data["forecast"] = data["forecast"][1:]  # the first month (row 3) left blank
    write_rep(inbox, setup, "R001", data)
    c = consolidate(inbox, setup)
    assert the(c, "forecast_incomplete").cell == f"B{FIRST}"
    weekly = c.frames["weekly"]
    assert bool(weekly.loc[weekly["_file"] == "R001.xlsx", "_ok"].all())
    assert file_of(c, "R001.xlsx").rows_rejected == 0


def _shared(reps: int, per_rep: int = 1) -> pd.DataFrame:
    """One customer on the lists of ``reps`` reps (``per_rep`` rows each), spelt with spaces and case."""
    rows = [{"rep_id": f"R{n:04d}", "customer": " Acme " if n % 2 else "acme", "_file": f"R{n:04d}.xlsx",
             "_sheet": "客户", "_row": 3 + k, "_ok": True} for n in range(reps) for k in range(per_rep)]
    return pd.DataFrame(rows)


def test_a_customer_shared_by_two_reps_names_each_other_in_full() -> None:
    got = check_customers(_shared(2), {f"R{n:04d}.xlsx": {"customer": "A"} for n in range(2)})
    assert [(i.file, i.cell, i.value) for i in got] == [("R0000.xlsx", "A3", "acme"), ("R0001.xlsx", "A3", " Acme ")]
    assert "R0001 (R0001.xlsx!A3)" in got[0].en and "more" not in got[0].en and "另外" not in got[0].zh
    assert "R0000 (R0000.xlsx!A3)" in got[1].en


def test_a_customer_shared_by_many_reps_names_a_few_others_and_counts_the_rest() -> None:
    """One issue per row, each naming the first others and "and N more" — never the whole team."""
    reps, per_rep = 40, 2
    letters = {f"R{n:04d}.xlsx": {"customer": "A"} for n in range(reps)}
    got = check_customers(_shared(reps, per_rep), letters)
    assert len(got) == reps * per_rep
    first = got[0]
    assert first.file == "R0000.xlsx"
    named = [f"R{n:04d} (R{n:04d}.xlsx!A{3 + k})" for n in range(1, reps) for k in range(per_rep)]
    shown = ", ".join(named[:rules.MAX_NAMED])
    rest = len(named) - rules.MAX_NAMED
    assert f"{shown} and {rest} more" in first.en
    assert f"{shown} 等另外 {rest} 处" in first.zh
    assert "R0000 (" not in first.en  # never itself
    last = got[-1]
    assert last.file == f"R{reps - 1:04d}.xlsx" and "R0000 (R0000.xlsx!A3)" in last.en
    assert f"R{reps - 1:04d} (" not in last.en
    assert all(len(i.en) < 600 for i in got)


def test_a_duplicate_opp_id_across_many_reps_is_capped_too() -> None:
    df = _shared(30).rename(columns={"customer": "opp_id"}).assign(_sheet="商机")
    got = rules._duplicates(df, {f"R{n:04d}.xlsx": {"opp_id": "A"} for n in range(30)}, "opp_id",
                            "duplicate_opp_id", by_rep=True)
    assert len(got) == 30 and all(f"and {29 - rules.MAX_NAMED} more" in i.en for i in got)
