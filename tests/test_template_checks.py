"""The template stops mistakes while typing (issue 15, SPEC §2, §3, §7, §8).

Live checks are conditional formats reading the setup through defined names; LibreOffice evaluates their
formulas here row by row against results written by hand.  The customer dropdown offers the rep's own
list and consolidation flags a name not on it; input messages fit their column and list exactly the
dropdown's values, in one language each; the daily report's new fields reach the report's urgent list.
"""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest

from xlsales import synth
from xlsales.core import schema
from xlsales.core.customer_list import check_listed
from xlsales.core.issues import RULES, load_all_rules
from xlsales.core.setup import Setup
from xlsales.io.coerce import to_choice
from xlsales.io.inbox import consolidate
from xlsales.report.consolidated import write_report
from xlsales.report.templates import build_manager_workbook, build_rep_workbook

from .conftest import needs_soffice
from .test_report import PORTABLE, functions_used

YES = dict.fromkeys(schema.CHECKLIST, True)


def _deal(opp_id: str, stage: str, category: str, **kw: object) -> dict:
    return {"opp_id": opp_id, "customer": "甲公司", "amount": 100_000.0, "stage": stage, "category": category,
            "close_date": dt.date(2026, 12, 1), **kw}


DEALS = [
    _deal("O-1", "Solution", "commit", chk_config=True),  # commit at 60%, checklist short
    _deal("O-2", "Won", "upside"),  # won but not closed
    _deal("O-3", "Negotiated", "commit", **{**YES, "chk_partner_ready": False}),  # one check not Yes
    _deal("O-4", "Negotiated", "commit", **YES),  # a clean commit
    _deal("O-5", "Met", "pipeline"),  # a clean pipeline deal
    _deal("O-6", "Lost", "commit"),  # lost with its amount in commit
]
CUSTOMERS = [{"customer": "甲公司", "customer_class": "A"}, {"customer": "乙公司", "customer_class": "B"}]


@pytest.fixture
def book(tmp_path, setup):
    return build_rep_workbook(tmp_path / "rep.xlsx", setup, setup.rows("roster")[0], "zh",
                              {"opportunities": DEALS, "customers": CUSTOMERS})


def _rules(ws) -> list[tuple[str, str]]:
    return [(str(rng.sqref), rule.formula[0]) for rng in ws.conditional_formatting for rule in rng.rules]


def test_the_live_checks_are_conditional_formats_reading_the_setup(book):
    wb = openpyxl.load_workbook(book)
    got = _rules(wb["商机"])
    assert [sq for sq, _ in got] == ["A3:Q202", "A3:Q202", "A3:Q202", "J3:N202"]
    for _, f in got:
        assert "承诺" not in f and "0.9" not in f, "labels and the threshold come from the setup, by name"
    names = {n: wb.defined_names[n].attr_text for n in wb.defined_names if n.startswith("xs_rule_")}
    lists = wb["列表"]
    value = {n: lists[ref.split("!")[1].replace("$", "")].value for n, ref in names.items()}
    assert value["xs_rule_commit"] == "承诺" and value["xs_rule_won_stage"] == "下订单"
    assert value["xs_rule_commit_min"] == 0.9 and value["xs_rule_yes"] == "是"


@pytest.mark.libreoffice
def test_libreoffice_flags_exactly_the_contradicting_and_unchecked_rows(book, tmp_path):
    """Each live check's formula, written into helper cells for rows 3–8 and recalculated by LibreOffice."""
    needs_soffice()
    from xlsales.io.libreoffice import recalculate

    wb = openpyxl.load_workbook(book)
    ws = wb["商机"]
    rules = _rules(ws)
    for k, (_, f) in enumerate(rules):
        for r in range(3, 9):
            ws.cell(r, 30 + k).value = "=" + re.sub(r"(\$[A-Z]+)3\b", rf"\g<1>{r}", f)
    probe = tmp_path / "probe.xlsx"
    wb.save(probe)
    got = openpyxl.load_workbook(recalculate(probe, tmp_path / "lo"), data_only=True)["商机"]
    table = [[bool(got.cell(r, 30 + k).value) for k in range(len(rules))] for r in range(3, 9)]
    # columns: contradiction (red), commit below 90% (red), commit with a check not Yes (amber), not commit (grey)
    assert table == [
        [False, True, True, False],  # O-1 commit at 60%, one check of five
        [True, False, False, True],  # O-2 won but upside
        [False, False, True, False],  # O-3 commit with partner not ready
        [False, False, False, False],  # O-4 a clean commit
        [False, False, False, True],  # O-5 pipeline: checklist greyed
        [True, True, True, False],  # O-6 lost but commit, at 0%
    ]


def test_customer_is_a_dropdown_of_the_rep_s_own_list_that_still_takes_free_text(book):
    wb = openpyxl.load_workbook(book)
    assert wb.defined_names["xs_my_customers"].attr_text == "'客户'!$A$3:$A$152"
    for sheet in ("拜访", "商机"):
        (dv,) = [d for d in wb[sheet].data_validations.dataValidation if str(d.sqref).startswith("B3:")]
        assert dv.type == "list" and dv.formula1 == "xs_my_customers"
        assert dv.errorStyle == "information", "a new customer can still be typed"
        assert "客户" in dv.prompt and "客户" in dv.error


def test_a_customer_not_on_the_rep_s_list_is_flagged_at_consolidation():
    customers = pd.DataFrame({"_file": ["a.xlsx", "a.xlsx", "b.xlsx"], "customer": ["甲公司", "乙公司", "丙公司"]})
    visits = pd.DataFrame({"_file": ["a.xlsx", "a.xlsx", "b.xlsx"], "_sheet": ["拜访"] * 3, "_row": [3, 4, 3],
                           "customer": ["甲公司 ", "丙公司", "丙公司"]})
    deals = pd.DataFrame({"_file": ["b.xlsx"], "_sheet": ["商机"], "_row": [5], "customer": ["甲公司"]})
    letters = {"visits": {"a.xlsx": {"customer": "B"}, "b.xlsx": {"customer": "B"}},
               "opportunities": {"b.xlsx": {"customer": "B"}}}
    got = check_listed({"customers": customers, "visits": visits, "opportunities": deals}, letters)
    assert [(i.rule, i.file, i.sheet, i.cell, i.value, i.severity) for i in got] == [
        ("customer_not_listed", "a.xlsx", "拜访", "B4", "丙公司", "warning"),  # 甲公司 with a space is 甲公司
        ("customer_not_listed", "b.xlsx", "商机", "B5", "甲公司", "warning"),  # on a's list, not b's
    ]
    assert "「客户」表" in got[0].zh and "Customers sheet" in got[0].en


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_input_messages_fit_their_column_and_speak_one_language(tmp_path, setup, lang):
    rep = openpyxl.load_workbook(build_rep_workbook(tmp_path / "r.xlsx", setup, setup.rows("roster")[0], lang))
    mgr = openpyxl.load_workbook(build_manager_workbook(tmp_path / "m.xlsx", setup, lang))
    kinds = {(t.sheet(lang), c.header(lang)): c.kind for t in (*schema.REP_TABLES, *schema.SETUP_TABLES)
             for c in t.columns}
    seen = 0
    for wb in (rep, mgr):
        for ws in wb.worksheets:
            for dv in ws.data_validations.dataValidation:
                texts = [t for t in (dv.prompt, dv.error) if t]
                for t in texts:
                    if lang == "zh":
                        assert not re.search(r"[A-Za-z]{2,}", t.replace("SI", "")), t
                    else:
                        assert not re.search(r"[\u3000-\u9fff\uff00-\uffef]", t), t
                head = ws.cell(_row_of(ws, dv), _col_of(dv)).value
                kind = kinds.get((ws.title, str(head).replace(" *", "")))
                if kind is not None and kind != "money":
                    assert "元" not in (dv.prompt or "") and "yuan" not in (dv.prompt or ""), (ws.title, head)
                seen += 1
    assert seen > 40
    status = [d for d in rep.worksheets[1].data_validations.dataValidation if str(d.sqref).startswith("D3:")][0]
    assert status.prompt.endswith("可选:计划、完成、取消" if lang == "zh" else "One of: Planned, Done, Cancelled")


def _col_of(dv) -> int:
    return openpyxl.utils.column_index_from_string(re.match(r"[A-Z]+", str(dv.sqref)).group(0))


def _row_of(ws, dv) -> int:
    return int(re.match(r"[A-Z]+(\d+)", str(dv.sqref)).group(1)) - 1  # the header sits right above


def test_every_formula_and_live_check_of_the_rep_workbook_is_portable(book):
    used = functions_used(book)
    assert used and used <= PORTABLE, sorted(used - PORTABLE)


def test_mainland_words_pipeline_is_guan_dao_and_a_lead_is_xian_suo():
    setup = Setup.default()
    assert setup.label("category", "pipeline", "zh") == "管道"
    assert setup.label("stage", "Lead", "zh") == "线索"
    load_all_rules()
    assert not [r.id for r in RULES.values() if "通路" in r.zh or "导入" in r.zh]
    # what earlier templates say is still read as the same choice, silently
    assert to_choice("通路", setup.choices("category")).value == "pipeline"
    assert to_choice("通路", setup.choices("category")).note is None
    assert to_choice("导入", setup.choices("stage")).value == "Lead"


def test_the_daily_report_fields_are_in_the_template_and_a_market_signal_reaches_the_urgent_sheet(tmp_path, setup):
    wb = openpyxl.load_workbook(build_rep_workbook(tmp_path / "r.xlsx", setup, setup.rows("roster")[0], "zh"))
    heads = [c.value for c in wb["拜访"][2]]
    for h in ("客诉内容", "客诉状态", "客户动态", "市场状况", "主管签核日期"):
        assert h in heads
    dv = {str(d.sqref).split(":")[0]: d for d in wb["拜访"].data_validations.dataValidation}
    col = openpyxl.utils.get_column_letter(heads.index("市场状况") + 1)
    assert dv[f"{col}3"].formula1 == "xs_market_signal"
    assert dv[f"{col}3"].prompt.endswith("可选:竞品促销、竞品新品、经销商投诉、客户人事变动")
    inbox = tmp_path / "inbox"
    fills = synth.generate(setup, seed=7, reps=3, mistakes=False)
    visit = fills[0].data["visits"][0]
    visit.update(status="done", market_signal="dealer_complaint", customer_news="客户采购总监离职")
    synth.write_fills(setup, fills, inbox)
    c = consolidate(inbox, setup)
    flagged = c.accepted("visits")
    flagged = flagged[flagged["market_signal"].notna()]
    assert "dealer_complaint" in set(flagged["market_signal"])
    out = write_report(c, setup, tmp_path / "report.xlsx")
    ws = openpyxl.load_workbook(out)["紧急"]
    assert openpyxl.load_workbook(out).sheetnames[1] == "紧急", "right after the summary"
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True) if r[0]]
    assert len(rows) == len(flagged)
    (mine,) = [r for r in rows if r[5] == "经销商投诉"]
    assert mine[0] == fills[0].rep["rep_id"] and mine[8] == "客户采购总监离职"
