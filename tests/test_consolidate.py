"""Consolidating an inbox: finding files, knowing whose they are, tolerating what reps do, losing nothing.

The helpers at the top (a three-rep setup, a clean rep fill with hand-computed totals, writers) are shared
with ``test_rules.py`` and ``test_report.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import needs_soffice
from xlsales.core import defaults, schema
from xlsales.core.combine import Consolidation
from xlsales.core.issues import Issue
from xlsales.core.periods import forecast_months
from xlsales.core.setup import Setup
from xlsales.io.inbox import consolidate
from xlsales.report.templates import build_rep_workbook

PERIOD = dt.date(2026, 11, 23)  # a Monday; also the default as-of date
FUTURE = PERIOD + dt.timedelta(days=30)

# Row 1 holds a banner, row 2 the header: the first data row of every rep table is Excel row 3.
FIRST = 3
# Columns of the 商机 Opportunities table in the template.
OPP = {c.key: chr(65 + i) for i, c in enumerate(schema.OPPORTUNITIES.columns)}
ALL_YES = {k: True for k in schema.CHECKLIST}


def make_setup(n: int = 3, inactive: tuple[str, ...] = ()) -> Setup:
    """The default setup with only the first ``n`` reps of the sample roster (period 2026-11-23)."""
    roster = [{**r, "active": r["rep_id"] not in inactive} for r in defaults.ROSTER[:n]]
    return Setup.default(roster, PERIOD)


def rep(setup: Setup, rep_id: str) -> dict:
    return next(r for r in setup.rows("roster") if r["rep_id"] == rep_id)


def deal(opp_id: str, amount: object = 100_000.0, stage: str = "Met", category: str = "pipeline",
         close: object = FUTURE, customer: object = "甲客户有限公司", **kw: object) -> dict:
    row = {"opp_id": opp_id, "customer": customer, "product": "交换机", "amount": amount, "stage": stage,
           "close_date": close, "category": category, **kw}
    return {k: v for k, v in row.items() if v is not None}


def forecast(setup: Setup, months: int = 12) -> list[dict]:
    return [{"month": m, "forecast": 500_000.0, "upside": 50_000.0} for m in forecast_months(PERIOD)[:months]]


def fill(setup: Setup, deals: list[dict], *, visits: list[dict] | None = None,
         customers: list[dict] | None = None, months: int = 12) -> dict:
    """A rep fill that no rule objects to, apart from what ``deals``/``visits``/``customers`` bring.

    Unless given, the Customers list holds the deals' customers (class A), one done visit last week goes to the
    first, and the week's commit row is the sum of the commit deals closing this week.
    """
    week_end = PERIOD + dt.timedelta(days=6)
    commit = sum(float(d.get("amount") or 0) for d in deals if d.get("category") == "commit"
                 and isinstance(d.get("close_date"), dt.date) and PERIOD <= d["close_date"] <= week_end)
    names = list(dict.fromkeys(str(d["customer"]) for d in deals if isinstance(d.get("customer"), str))) or ["甲客户"]
    return {
        "opportunities": deals,
        "customers": customers if customers is not None else [{"customer": n, "customer_class": "A"} for n in names],
        "visits": visits if visits is not None else [
            {"date": PERIOD - dt.timedelta(days=3), "customer": names[0], "status": "done",
             "purpose": "service", "result": "完成培训", "cost": 200.0}],
        "forecast": forecast(setup, months),
        "weekly": [{"commit": commit, "upside": 0.0}],
    }


# R001's clean deals and R002's: the baseline every rule test adds one row to.
def r001_deals() -> list[dict]:
    return [
        deal("R001-O1", 100_000.0, "Met", "pipeline"),  # weighted 25,000.00
        deal("R001-O2", 250_000.5, "Negotiated", "commit", PERIOD + dt.timedelta(days=3), **ALL_YES),  # 225,000.45
        deal("R001-O3", 80_000.0, "Won", "closed", PERIOD - dt.timedelta(days=3)),
        deal("R001-O4", 40_000.0, "Selected", "upside", PERIOD + dt.timedelta(days=20)),  # 32,000.00
    ]


def r002_deals() -> list[dict]:
    return [deal("R002-O1", 60_000.0, "Intent", "pipeline", customer="乙客户有限公司")]  # weighted 30,000.00


BASE_TOTALS = {"closed": 80_000.0, "commit": 250_000.5, "upside": 40_000.0, "pipeline": 160_000.0,
               "weighted": 312_000.45}
R001_TOTALS = {**BASE_TOTALS, "pipeline": 100_000.0, "weighted": 282_000.45}  # R001 alone


def write_rep(folder: Path, setup: Setup, rep_id: str, data: dict, name: str | None = None,
              lang: schema.Lang = "zh", identity: str | None = None) -> Path:
    """A rep workbook built from the real template, pre-filled with ``data``."""
    r = rep(setup, rep_id) if identity is None else {**rep(setup, rep_id), "rep_id": identity}
    return build_rep_workbook(Path(folder) / (name or f"{rep_id}.xlsx"), setup, r, lang, data)


def baseline_inbox(folder: Path, setup: Setup, r001_extra: list[dict] = (), r002_extra: list[dict] = (),
                   **r001_kw: object) -> Path:
    """R001 and R002 with their clean deals plus extras; R003 has not submitted."""
    inbox = Path(folder) / "inbox"
    write_rep(inbox, setup, "R001", fill(setup, [*r001_deals(), *r001_extra], **r001_kw))
    write_rep(inbox, setup, "R002", fill(setup, [*r002_deals(), *r002_extra],
                                         customers=[{"customer": "乙客户有限公司", "customer_class": "B"}]))
    return inbox


def issues_of(c: Consolidation, rule: str) -> list[Issue]:
    return [i for i in c.issues if i.rule == rule]


def the(c: Consolidation, rule: str) -> Issue:
    got = issues_of(c, rule)
    assert len(got) == 1, (rule, got, [str(i) for i in c.issues])
    return got[0]


def file_of(c: Consolidation, display: str):
    return next(f for f in c.files if f.display == display)


def deal_row(c: Consolidation, opp_id: str) -> dict:
    df = c.frames["opportunities"]
    hit = df[df["opp_id"] == opp_id]
    assert len(hit) == 1, (opp_id, len(hit))
    return hit.iloc[0].to_dict()


def non_missing(c: Consolidation) -> list[Issue]:
    return [i for i in c.issues if i.rule != "missing_submission"]


def assert_rows_balance(c: Consolidation) -> None:
    """Each count is made where rows are decided, so this balance is a real check (it can fail)."""
    for f in c.files:
        assert f.rows_read == f.rows_accepted + f.rows_rejected + f.rows_superseded, f.display
        if f.status != "superseded":
            assert f.rows_superseded == 0, f.display
    r = c.rows
    assert r["read"] == r["accepted"] + r["rejected"] + r["superseded"] == sum(f.rows_read for f in c.files)
    assert r["rejected"] == sum(f.rows_rejected for f in c.files)
    assert r["accepted"] == sum(int(df["_ok"].sum()) for df in c.frames.values())  # the combined tables agree


def plain_book(path: Path, rep_id: str | None, opp_rows: list[list], lang: schema.Lang = "zh",
               opp_headers: list[str] | None = None, opp_sheet: str | None = None) -> Path:
    """A hand-made workbook (no template): identity on 说明, every rep table's header on row 1 of its sheet.

    ``opp_rows`` are raw cell values under ``opp_headers`` (default: the input columns in schema order);
    a value ``("=FORMULA", "#ERR")`` is written as a formula with that cached error.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    info = wb.add_worksheet("说明" if lang == "zh" else "Instructions")
    if rep_id is not None:
        info.write_string(0, 0, schema.IDENTITY[0].label(lang))
        info.write_string(0, 1, rep_id)
    headers = opp_headers or [c.header(lang) for c in schema.OPPORTUNITIES.input_columns]
    sheets = {t.sheet(lang): [] for t in schema.REP_TABLES}
    for t in schema.REP_TABLES:
        sheets[t.sheet(lang)].append(t)
    for name, tables in sheets.items():
        ws = wb.add_worksheet(opp_sheet if (opp_sheet and schema.OPPORTUNITIES in tables) else name)
        col = 0
        for t in tables:
            heads = headers if t is schema.OPPORTUNITIES else [c.header(lang) for c in t.input_columns]
            for j, h in enumerate(heads):
                ws.write_string(0, col + j, h)
            if t is schema.OPPORTUNITIES:
                for i, row in enumerate(opp_rows, start=1):
                    for j, v in enumerate(row):
                        if isinstance(v, tuple):
                            ws.write_formula(i, j, v[0], None, v[1])
                        elif isinstance(v, str):
                            ws.write_string(i, j, v)
                        elif isinstance(v, dt.date):
                            ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day),
                                              wb.add_format({"num_format": "yyyy-mm-dd"}))
                        elif v is not None:
                            ws.write_number(i, j, v)
            col += len(heads) + 1
    wb.close()
    return path


# --- discovery ----------------------------------------------------------------------------------


def test_finds_every_workbook_kind_in_subfolders_and_ignores_locks_and_hidden_files(tmp_path):
    setup = make_setup()
    inbox = tmp_path / "inbox"
    write_rep(inbox, setup, "R001", fill(setup, r001_deals()))
    write_rep(inbox / "华东" / "一组", setup, "R002", fill(setup, r002_deals()))
    shutil.copy(write_rep(tmp_path, setup, "R003", fill(setup, [deal("R003-O1", 7_000.0, customer="丙客户")])), inbox / "R003.xlsm")
    (inbox / "~$R001.xlsx").write_bytes(b"\x00lock owner")
    (inbox / ".R002.xlsx").write_bytes(b"hidden junk")
    (inbox / ".sync").mkdir()
    (inbox / ".sync" / "R001.xlsx").write_bytes(b"sync state")
    (inbox / "说明.txt").write_text("本周的文件", encoding="utf-8")
    (inbox / "华东" / "photo.png").write_bytes(b"\x89PNG")

    c = consolidate(inbox, setup)

    assert sorted(f.display for f in c.files) == sorted(["R001.xlsx", "R003.xlsm", str(Path("华东/一组/R002.xlsx"))])
    assert all(f.status == "accepted" for f in c.files)
    ignored = issues_of(c, "file_ignored")
    assert sorted((i.file, i.severity) for i in ignored) == sorted(
        [("说明.txt", "warning"), (str(Path("华东/photo.png")), "warning")])
    assert non_missing(c) == ignored, [str(i) for i in c.issues]
    assert c.missing == []
    assert c.totals["pipeline"] == 100_000.0 + 60_000.0 + 7_000.0


# --- whose file is it -----------------------------------------------------------------------------


def test_identity_block_names_the_rep_and_file_name_is_a_flagged_fallback(tmp_path):
    setup = make_setup()
    inbox = tmp_path / "inbox"
    write_rep(inbox, setup, "R001", fill(setup, r001_deals()))
    # a hand-made workbook without an identity block, named after its rep
    plain_book(inbox / "R002 王芳 第48周.xlsx", None, [["R002-O1", "乙客户有限公司", "", 60_000.0, "购买意向",
                                                      FUTURE, "通路"]])
    c = consolidate(inbox, setup)
    i = the(c, "identity_from_filename")
    assert (i.severity, i.file) == ("warning", "R002 王芳 第48周.xlsx")
    f = file_of(c, "R002 王芳 第48周.xlsx")
    assert f.rep_id == "R002" and f.status == "accepted"
    assert deal_row(c, "R002-O1")["rep_id"] == "R002"
    assert file_of(c, "R001.xlsx").rep_id == "R001"
    assert c.missing == ["R003"]


def test_unknown_rep_rejects_the_file_and_names_the_identity_cell(tmp_path):
    setup = make_setup()
    inbox = tmp_path / "inbox"
    write_rep(inbox, setup, "R001", fill(setup, r001_deals()), name="R999.xlsx", identity="R999")
    write_rep(inbox, setup, "R002", fill(setup, r002_deals()))
    c = consolidate(inbox, setup)
    i = the(c, "unknown_rep")
    assert (i.severity, i.file, i.sheet, i.cell, i.value) == ("error", "R999.xlsx", "说明", "C3", "R999")
    f = file_of(c, "R999.xlsx")
    assert f.status == "rejected" and f.rows_accepted == 0 and f.rows_rejected == f.rows_read > 0
    assert c.totals == {"closed": 0.0, "commit": 0.0, "upside": 0.0, "pipeline": 60_000.0, "weighted": 30_000.0}
    assert_rows_balance(c)


def test_inactive_rep_is_counted_with_a_warning_and_not_missing(tmp_path):
    setup = make_setup(inactive=("R003",))
    inbox = baseline_inbox(tmp_path, setup)
    write_rep(inbox, setup, "R003", fill(setup, [deal("R003-O1", 5_000.0, customer="丙客户")],
                                         customers=[{"customer": "丙客户", "customer_class": "C"}]))
    c = consolidate(inbox, setup)
    i = the(c, "inactive_rep")
    assert (i.severity, i.file, i.value) == ("warning", "R003.xlsx", "R003")
    assert file_of(c, "R003.xlsx").status == "accepted"
    assert c.totals["pipeline"] == BASE_TOTALS["pipeline"] + 5_000.0
    assert c.missing == [] and issues_of(c, "missing_submission") == []


def test_inactive_rep_who_does_not_submit_is_not_missing(tmp_path):
    setup = make_setup(inactive=("R003",))
    c = consolidate(baseline_inbox(tmp_path, setup), setup)
    assert c.missing == [] and issues_of(c, "missing_submission") == []


def test_identity_inside_wins_over_a_contradicting_file_name(tmp_path):
    setup = make_setup()
    inbox = tmp_path / "inbox"
    write_rep(inbox, setup, "R002", fill(setup, r002_deals()), name="R001.xlsx")  # R002's workbook, R001's name
    c = consolidate(inbox, setup)
    i = the(c, "identity_filename_mismatch")
    assert (i.severity, i.file, i.sheet, i.cell, i.value) == ("warning", "R001.xlsx", "说明", "C3", "R002")
    assert file_of(c, "R001.xlsx").rep_id == "R002"
    assert sorted(c.missing) == ["R001", "R003"]


@pytest.mark.parametrize("newest", ["R001.xlsx", "resent/R001.xlsx"])
def test_two_files_from_one_rep_the_later_counts_the_other_is_superseded(tmp_path, newest):
    setup = make_setup()
    inbox = tmp_path / "inbox"
    first = write_rep(inbox, setup, "R001", fill(setup, [deal("R001-O1", 111_000.0)]))
    second = write_rep(inbox / "resent", setup, "R001", fill(setup, [deal("R001-O1", 222_000.0)]))
    old, new = (second, first) if newest == "R001.xlsx" else (first, second)
    os.utime(old, (1_795_000_000, 1_795_000_000))
    os.utime(new, (1_795_003_600, 1_795_003_600))
    c = consolidate(inbox, setup)
    newer, older = str(Path(newest)), str(old.relative_to(inbox))
    assert file_of(c, newer).status == "accepted" and file_of(c, older).status == "superseded"
    i = the(c, "superseded")
    assert (i.severity, i.file) == ("warning", older) and newer in i.en
    assert c.totals["pipeline"] == (111_000.0 if newest == "R001.xlsx" else 222_000.0)
    assert len(c.frames["opportunities"]) == 1  # never both
    assert c.file_counts == {"read": 2, "accepted": 1, "rejected": 0, "superseded": 1, "missing": 2}
    # each file: 1 deal + 1 customer + 1 visit + 12 forecast months + 1 week = 16 rows
    assert [(f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_superseded) for f in
            (file_of(c, newer), file_of(c, older))] == [(16, 16, 0, 0), (16, 0, 0, 16)]
    assert c.rows == {"read": 32, "accepted": 16, "rejected": 0, "superseded": 16}
    assert_rows_balance(c)


def test_row_counts_with_a_superseded_file_and_rejections_of_every_kind(tmp_path):
    """Counted by hand: superseded rows are not rejected rows, and rejected = read - accepted is never assumed.

    R001 sent twice: the older file (2 clean deals) is superseded; the newer one has a cell error (negative
    amount), a rule error (commit without a checklist) and a warning-only row.  R002 is clean.  R999 is not in
    the roster, so its whole file is rejected.
    """
    setup = make_setup()
    inbox = tmp_path / "inbox"
    old = write_rep(inbox / "earlier", setup, "R001", fill(setup, [deal("R001-O1", 10_000.0), deal("R001-O2", 20_000.0)]))
    new = write_rep(inbox, setup, "R001", fill(setup, [
        deal("R001-O1", 10_000.0),
        deal("R001-O2", -5.0),  # cell error in the reader: negative
        deal("R001-O3", 7_000.0, "Solution", "commit"),  # rule error: commit below 90%, checklist unticked
        deal("R001-O4", 8_000.0, close="2026-12-01"),  # a warning only (date typed as text)
    ]))
    os.utime(old, (1_795_000_000, 1_795_000_000))
    os.utime(new, (1_795_003_600, 1_795_003_600))
    write_rep(inbox, setup, "R002", fill(setup, r002_deals(), customers=[{"customer": "乙客户有限公司",
                                                                           "customer_class": "B"}]))
    write_rep(inbox, setup, "R001", fill(setup, [deal("R999-O1", 1.0)]), name="R999.xlsx", identity="R999")
    c = consolidate(inbox, setup)
    got = {f.display: (f.status, f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_superseded) for f in c.files}
    assert got == {
        str(Path("earlier/R001.xlsx")): ("superseded", 17, 0, 0, 17),  # 2 deals + 1 + 1 + 12 + 1
        "R001.xlsx": ("accepted", 19, 17, 2, 0),  # 4 deals + 1 + 1 + 12 + 1; O2 and O3 rejected
        "R002.xlsx": ("accepted", 16, 16, 0, 0),
        "R999.xlsx": ("rejected", 16, 0, 16, 0),  # the file is refused, each of its rows with it
    }
    assert c.rows == {"read": 68, "accepted": 33, "rejected": 18, "superseded": 17}
    assert_rows_balance(c)


# --- tolerance: what reps do to their workbooks -----------------------------------------------------


def _edit(path: Path, sheet: str, edit) -> Path:
    wb = openpyxl.load_workbook(path)
    edit(wb[sheet])
    wb.save(path)
    return path


def _clean_inbox(tmp_path: Path, setup: Setup, deals: list[dict], lang: schema.Lang = "zh") -> tuple[Path, Path]:
    inbox = tmp_path / "inbox"
    path = write_rep(inbox, setup, "R001", fill(setup, deals), lang=lang)
    return inbox, path


def test_header_found_by_its_text_after_rows_are_inserted_above(tmp_path):
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", -5_000.0)])

    def edit(ws):
        ws.insert_rows(1, 3)
        ws["A1"] = "华东一组 第48周 商机清单"

    _edit(path, "商机", edit)
    c = consolidate(inbox, setup)
    i = the(c, "negative")
    assert (i.sheet, i.cell, i.severity) == ("商机", f"D{FIRST + 3 + 4}", "error")
    assert c.totals == R001_TOTALS
    assert file_of(c, "R001.xlsx").rows_read == 5 + 1 + 1 + 12 + 1  # deals, customer, visit, forecast months, week


def test_columns_reordered_and_extra_columns_are_read_by_header(tmp_path):
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", -5_000.0)])
    last = FIRST + 4

    def edit(ws):
        ws.insert_cols(1)  # an extra column in front: every column moves one to the right
        ws["A2"] = "内部备注"
        ws["A3"] = "重点跟进"
        ws.move_range(f"E2:E{last}", cols=13)  # the amount column (now E) moved to the far right, R
        ws["S2"] = "我的列"

    _edit(path, "商机", edit)
    c = consolidate(inbox, setup)
    assert c.totals == R001_TOTALS
    assert the(c, "negative").cell == f"R{last}"
    assert deal_row(c, "R001-O2")["amount"] == 250_000.5
    assert deal_row(c, "R001-O1")["customer"] == "甲客户有限公司"


def test_blank_rows_a_totals_row_hidden_rows_and_an_autofilter(tmp_path):
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, r001_deals())

    def edit(ws):
        ws.insert_rows(FIRST + 2, 2)  # two blank rows between O2 and O3
        ws.row_dimensions[FIRST].hidden = True  # O1 hidden by a filter the rep left on
        ws.auto_filter.ref = f"A2:P{FIRST + 20}"
        ws.auto_filter.add_filter_column(4, ["商务谈判完成", "下订单", "客户选择"])
        total_row = FIRST + 4 + 2 + 1
        ws[f"A{total_row}"] = "合计"
        ws[f"D{total_row}"] = 470_000.5

    _edit(path, "商机", edit)
    c = consolidate(inbox, setup)
    assert c.totals == R001_TOTALS
    t = the(c, "totals_row")
    assert (t.severity, t.sheet, t.cell) == ("warning", "商机", f"A{FIRST + 7}")
    assert len(c.frames["opportunities"]) == 4
    assert deal_row(c, "R001-O3")["_row"] == FIRST + 4  # moved down by the blank rows, still read
    assert [i.rule for i in non_missing(c)] == ["totals_row"]


def test_english_totals_row_is_skipped(tmp_path):
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, r001_deals(), lang="en")
    _edit(path, "Opportunities", lambda ws: ws.__setitem__(f"B{FIRST + 4}", "Total"))
    c = consolidate(inbox, setup)
    assert c.totals == R001_TOTALS
    assert the(c, "totals_row").cell == f"A{FIRST + 4}"


def test_merged_customer_cell_spans_its_deals(tmp_path):
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, r001_deals())
    _edit(path, "商机", lambda ws: ws.merge_cells(f"B{FIRST}:B{FIRST + 1}"))  # openpyxl blanks B4
    c = consolidate(inbox, setup)
    assert deal_row(c, "R001-O2")["customer"] == "甲客户有限公司"
    assert issues_of(c, "required") == []
    assert c.totals == R001_TOTALS


def test_renamed_sheet_is_found_by_its_headers(tmp_path):
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", -1.0)])

    def edit(wb_sheet):
        wb_sheet.title = "我的商机"

    _edit(path, "商机", edit)
    c = consolidate(inbox, setup)
    w = the(c, "sheet_found_by_headers")
    assert (w.severity, w.file, w.sheet, w.value) == ("warning", "R001.xlsx", "我的商机", "我的商机")
    assert the(c, "negative").sheet == "我的商机"
    assert c.totals == R001_TOTALS


def test_plain_workbook_with_english_headers_in_any_order(tmp_path):
    setup = make_setup(1)
    inbox = tmp_path / "inbox"
    heads = ["Forecast category", "Amount", "Notes (mine)", "Opp ID", "Stage", "Customer", "Expected close"]
    plain_book(inbox / "R001.xlsx", "R001", [
        ["Commit", "250,000.50", "", "R001-O2", "Negotiated", "甲客户", FUTURE],
        ["Pipeline", 100_000, "hot", "R001-O1", "Met", "甲客户", FUTURE],
        ["Upside", 40_000, "", "R001-O4", "Selected", "甲客户", FUTURE],
    ], lang="en", opp_headers=heads, opp_sheet="Deals")
    c = consolidate(inbox, setup)
    assert c.totals == {"closed": 0.0, "commit": 250_000.5, "upside": 40_000.0, "pipeline": 100_000.0,
                        "weighted": 25_000.0 + 225_000.45 + 32_000.0}
    assert the(c, "coerced").cell == "B2"  # "250,000.50" typed as text
    assert the(c, "sheet_found_by_headers").sheet == "Deals"


# --- coercion through the whole path ----------------------------------------------------------------------


AMOUNTS = [("1,200,000", 1_200_000.0), ("120万", 1_200_000.0), ("1.2亿", 120_000_000.0), ("¥5,000", 5_000.0),
           ("5k", 5_000.0), ("3,456.785", 3_456.79)]


@pytest.mark.parametrize(("typed", "value"), AMOUNTS)
def test_amount_typed_as_text_is_read_with_a_coerced_warning_at_its_cell(tmp_path, typed, value):
    setup = make_setup(1)
    inbox, _ = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", typed)])
    c = consolidate(inbox, setup)
    i = the(c, "coerced")
    assert (i.severity, i.file, i.sheet, i.cell, i.value) == ("warning", "R001.xlsx", "商机", f"D{FIRST + 4}", typed)
    assert deal_row(c, "R001-O5")["amount"] == value
    assert c.totals["pipeline"] == R001_TOTALS["pipeline"] + value  # a warning keeps the row in the totals


@pytest.mark.parametrize("typed", ["2026/11/30", "2026-11-30", "2026年11月30日", "2026.11.30", "20261130"])
def test_close_date_typed_as_text(tmp_path, typed):
    setup = make_setup(1)
    inbox, _ = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", close=typed)])
    c = consolidate(inbox, setup)
    i = the(c, "coerced")
    assert (i.sheet, i.cell, i.value) == ("商机", f"H{FIRST + 4}", typed)
    assert deal_row(c, "R001-O5")["close_date"] == dt.date(2026, 11, 30)


@pytest.mark.parametrize(("epoch1904", "serial"), [(False, 46356), (True, 44894)])
def test_close_date_as_a_general_formatted_serial(tmp_path, epoch1904, serial):
    """2026-11-30 is serial 46356 in the 1900 date system and 44894 in the 1904 one."""
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5")])
    wb = openpyxl.load_workbook(path)
    if epoch1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    cell = wb["商机"][f"H{FIRST + 4}"]
    cell.value, cell.number_format = serial, "General"
    wb.save(path)
    c = consolidate(inbox, setup)
    i = the(c, "coerced")
    assert i.cell == f"H{FIRST + 4}" and float(i.value) == serial
    assert deal_row(c, "R001-O5")["close_date"] == dt.date(2026, 11, 30)
    assert deal_row(c, "R001-O2")["close_date"] == PERIOD + dt.timedelta(days=3)  # real dates unaffected
    assert file_of(c, "R001.xlsx").period == PERIOD


@pytest.mark.parametrize(("typed", "code", "warned"), [
    ("方案", "Solution", False), ("Solution", "Solution", False), ("solution", "Solution", True),
    ("方案/Solution", "Solution", True), ("60%", "Solution", True), (0.6, "Solution", True), ("60", "Solution", True),
    ("25%", "Met", True),
])
def test_stage_by_zh_en_or_probability(tmp_path, typed, code, warned):
    setup = make_setup(1)
    inbox, _ = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", stage=typed)])
    c = consolidate(inbox, setup)
    assert deal_row(c, "R001-O5")["stage"] == code
    got = [(i.cell, i.severity) for i in issues_of(c, "coerced")]
    assert got == ([(f"E{FIRST + 4}", "warning")] if warned else [])
    assert [i.rule for i in non_missing(c) if i.rule != "coerced"] == []


@pytest.mark.parametrize(("typed", "value", "warned"), [
    ("是", True, False), ("否", False, False), ("Yes", True, False), ("y", True, True), ("√", True, True),
    ("1", True, True), ("对", True, True), ("TRUE", True, True), ("n", False, True), ("×", False, True),
])
def test_yes_no_forms(tmp_path, typed, value, warned):
    setup = make_setup(1)
    d = deal("R001-O5", 10_000.0, "Negotiated", "commit", **{**ALL_YES, "chk_config": typed})
    inbox, _ = _clean_inbox(tmp_path, setup, [*r001_deals(), d])
    c = consolidate(inbox, setup)
    assert deal_row(c, "R001-O5")["chk_config"] is value
    got = [(i.cell, i.value) for i in issues_of(c, "coerced")]
    assert got == ([(f"{OPP['chk_config']}{FIRST + 4}", typed)] if warned else [])
    assert len(issues_of(c, "commit_checklist")) == (0 if value else 1)


@pytest.mark.parametrize(("field", "typed", "rule", "letter"), [
    ("close_date", "03/04/2026", "ambiguous_date", "H"),
    ("stage", "0%", "ambiguous_choice", "E"),  # 0% is both Lead and Lost
    ("amount", "一百万", "bad_number", "D"),
    ("close_date", "下周五", "bad_date", "H"),
    ("chk_config", "x", "bad_bool", "J"),
])
def test_ambiguous_or_unreadable_values_are_errors_and_leave_the_totals(tmp_path, field, typed, rule, letter):
    setup = make_setup(1)
    inbox, _ = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", **{"amount": 9_000.0, field: typed})])
    c = consolidate(inbox, setup)
    i = the(c, rule)
    assert (i.severity, i.sheet, i.cell, i.value) == ("error", "商机", f"{letter}{FIRST + 4}", typed)
    assert deal_row(c, "R001-O5")["_ok"] is False or not deal_row(c, "R001-O5")["_ok"]
    assert c.totals == R001_TOTALS
    f = file_of(c, "R001.xlsx")
    assert (f.rows_rejected, f.status) == (1, "accepted")


def test_dd_mm_yyyy_with_a_day_over_12_is_not_ambiguous(tmp_path):
    setup = make_setup(1)
    inbox, _ = _clean_inbox(tmp_path, setup, [*r001_deals(), deal("R001-O5", close="30/11/2026")])
    c = consolidate(inbox, setup)
    assert deal_row(c, "R001-O5")["close_date"] == dt.date(2026, 11, 30)
    assert the(c, "coerced").cell == f"H{FIRST + 4}"


# --- any value in any cell is at most that row's issue ---------------------------------------------------


SENTINEL = 987_654_321.25  # written with openpyxl, then swapped in the sheet XML for what openpyxl cannot write


def _poke_xml(path: Path, old: bytes, new: bytes) -> Path:
    """Replace ``old`` with ``new`` in every part of the package (the sheet XML and shared strings)."""
    src = path.with_suffix(".tmp")
    path.rename(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info).replace(old, new))
    src.unlink()
    return path


R001_WITHOUT_O1 = {**R001_TOTALS, "pipeline": 0.0, "weighted": 257_000.45}  # O1: 100,000 Met, weighted 25,000


@pytest.mark.parametrize(("cell", "value", "xml", "rule", "shown"), [
    ("H3", 3_500_000, None, "bad_date", "3500000"),  # a number pasted into the date column: year 11,482
    ("H3", -5, None, "bad_date", None),  # a negative serial in a date-formatted cell
    ("H3", SENTINEL, b"INF", "not_a_value", "inf"),
    ("D3", SENTINEL, b"NaN", "not_a_value", "nan"),  # NaN is not a blank amount
    ("D3", SENTINEL, b"1e400", "not_a_value", "inf"),
    ("D3", 1e300, None, "absurd_amount", None),
    ("D3", 1.797693134862316e306, None, "absurd_amount", None),  # × 100 overflows: rounding to cents must not raise
    ("D3", "1" * 400, None, "bad_number", None),
    ("B3", "SENTINEL-TEXT", "客" * 40_000, "text_too_long", "40,000"),  # longer than any Excel cell
])
def test_an_absurd_cell_is_its_row_s_issue_never_the_run_s_end(tmp_path, cell, value, xml, rule, shown):
    """R001-O1 sits on row 3 of 商机; whatever its cell holds, the file and the run go on without that row."""
    setup = make_setup(2)
    inbox = baseline_inbox(tmp_path, setup)
    path = inbox / "R001.xlsx"
    _edit(path, "商机", lambda ws: ws.__setitem__(cell, value))
    if isinstance(xml, bytes):
        _poke_xml(path, b"<v>%s</v>" % repr(SENTINEL).encode(), b"<v>%s</v>" % xml)
    elif isinstance(xml, str):
        _poke_xml(path, value.encode(), xml.encode())
    c = consolidate(inbox, setup)
    i = the(c, rule)
    assert (i.severity, i.file, i.sheet, i.cell) == ("error", "R001.xlsx", "商机", cell)
    if shown is not None:
        assert i.value == shown
    assert i.zh and i.en and len(i.zh) < 500
    f = file_of(c, "R001.xlsx")
    assert (f.status, f.rows_rejected) == ("accepted", 1)
    assert c.totals == {k: R001_WITHOUT_O1[k] + {"pipeline": 60_000.0, "weighted": 30_000.0}.get(k, 0.0)
                        for k in R001_WITHOUT_O1}  # R002's one deal still counts
    assert_rows_balance(c)


def test_a_row_holding_only_nan_is_reported_not_skipped_as_blank(tmp_path):
    """A NaN (which Excel never writes) in an otherwise empty row below the deals is that row's issue."""
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, r001_deals())
    _edit(path, "商机", lambda ws: ws.__setitem__(f"D{FIRST + 4}", SENTINEL))
    _poke_xml(path, b"<v>%s</v>" % repr(SENTINEL).encode(), b"<v>NaN</v>")
    c = consolidate(inbox, setup)
    i = the(c, "not_a_value")
    assert (i.sheet, i.cell, i.value) == ("商机", f"D{FIRST + 4}", "nan")
    assert file_of(c, "R001.xlsx").rows_rejected == 1 and c.totals == R001_TOTALS
    assert_rows_balance(c)


def test_a_merged_column_cannot_make_thousands_of_phantom_rows(tmp_path):
    """One merge from the first deal's customer down 20,034 rows: the file is refused with one issue."""
    setup = make_setup(2)
    inbox = baseline_inbox(tmp_path, setup)
    path = inbox / "R001.xlsx"

    def edit(ws):
        ws["I20036"] = "下方很远处的备注"  # something far below the table stretches the used range
        ws.merge_cells("B3:B20036")

    _edit(path, "商机", edit)
    c = consolidate(inbox, setup)
    mine = [i for i in c.issues if i.file == "R001.xlsx"]
    assert [(i.rule, i.severity, i.sheet) for i in mine] == [("table_too_long", "error", "商机")]
    limit = schema.OPPORTUNITIES.rows + 1_000
    assert mine[0].cell == f"A{FIRST + limit}" and f"{limit:,}" in mine[0].en
    f = file_of(c, "R001.xlsx")
    assert (f.status, f.rows_read, f.rows_accepted) == ("rejected", 0, 0)
    assert c.totals["pipeline"] == 60_000.0  # R002 alone
    assert_rows_balance(c)


# --- per-file isolation: one file's trouble is that file's issue -----------------------------------------


def finishes(seconds: float, fn, *args, **kw):
    """fn(*args, **kw), failing the test if it has not returned after ``seconds`` (a hang guard, not a timing)."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(fn(*args, **kw)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return box[0]


@pytest.mark.skipif(os.name == "nt", reason="FIFOs and /dev are POSIX")
def test_fifos_devices_and_dangling_links_are_one_issue_each(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    os.mkfifo(inbox / "R003.xlsx")  # reading it would wait for a writer forever
    (inbox / "zeros.xlsx").symlink_to("/dev/zero")  # a device behind a workbook's name
    (inbox / "moved.xlsx").symlink_to(tmp_path / "moved-away" / "R003.xlsx")  # a link to nothing
    os.mkfifo(inbox / "pipe.txt")
    c = finishes(120, consolidate, inbox, setup)
    expected = {"R003.xlsx": "file_not_regular", "zeros.xlsx": "file_not_regular", "moved.xlsx": "file_broken_link"}
    for name, rule in expected.items():
        f = file_of(c, name)
        assert (f.status, f.rows_read) == ("rejected", 0), name
        mine = [i for i in c.issues if i.file == name]
        assert [(i.rule, i.severity) for i in mine] == [(rule, "error")], (name, [str(i) for i in mine])
        assert mine[0].zh and mine[0].en
    assert [(i.file, i.severity) for i in issues_of(c, "file_ignored")] == [("pipe.txt", "warning")]
    assert c.totals == BASE_TOTALS
    assert c.file_counts["rejected"] == 3


def test_a_file_removed_while_the_inbox_is_read_is_one_issue(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)

    def progress(n, total, rel):  # called just before each file is read: take R002 away then
        if rel == "R002.xlsx":
            (inbox / rel).unlink()

    c = consolidate(inbox, setup, progress=progress)
    f = file_of(c, "R002.xlsx")
    assert (f.status, f.sha256) == ("rejected", "")
    assert [(i.rule, i.severity) for i in c.issues if i.file == "R002.xlsx"] == [("file_vanished", "error")]
    assert c.totals == R001_TOTALS and file_of(c, "R001.xlsx").status == "accepted"


PERMISSION_RUN = """
import json, sys
from pathlib import Path
from tests.test_consolidate import make_setup
from xlsales.io.inbox import consolidate
c = consolidate(Path(sys.argv[1]), make_setup())
print(json.dumps({"files": {f.display: f.status for f in c.files}, "totals": c.totals,
                  "issues": [[i.rule, i.file, i.severity, bool(i.zh and i.en)] for i in c.issues
                             if i.rule != "missing_submission"]}))
"""


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_files_and_folders_without_read_permission_are_one_issue_each(tmp_path):
    """Run as a user the permissions apply to (root keeps them: its override is dropped with setpriv)."""
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    locked = inbox / "R002.xlsx"
    locked.chmod(0)
    hidden = inbox / "华东"
    write_rep(hidden, setup, "R003", fill(setup, [deal("R003-O1", 7_000.0, customer="丙客户")]))
    hidden.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test file permissions as root"
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    try:
        done = subprocess.run([*prefix, sys.executable, "-c", PERMISSION_RUN, str(inbox)], capture_output=True,
                              text=True, cwd=Path(__file__).resolve().parents[1], timeout=300, check=False)
    finally:
        locked.chmod(0o644)
        hidden.chmod(0o755)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["files"] == {"R001.xlsx": "accepted", "R002.xlsx": "rejected"}
    assert sorted(got["issues"]) == [["file_no_permission", "R002.xlsx", "error", True],
                                     ["folder_unreadable", "华东", "error", True]]
    assert got["totals"] == R001_TOTALS


# --- row accounting ------------------------------------------------------------------------------------


def test_rows_read_equal_accepted_plus_rejected_per_file_and_overall(tmp_path):
    setup = make_setup()
    bad = [deal("R001-O5", -1.0), deal("R001-O6", stage="签约中"), deal("R001-O7", close="2026-11-01")]
    inbox = baseline_inbox(tmp_path, setup, bad)
    c = consolidate(inbox, setup)
    r1, r2 = file_of(c, "R001.xlsx"), file_of(c, "R002.xlsx")
    # R001: 7 deals + 1 customer + 1 visit + 12 forecast months + 1 week; O5 and O6 are errors, O7 a warning
    assert (r1.rows_read, r1.rows_accepted, r1.rows_rejected) == (22, 20, 2)
    assert (r2.rows_read, r2.rows_accepted, r2.rows_rejected) == (16, 16, 0)
    assert c.rows == {"read": 38, "accepted": 36, "rejected": 2, "superseded": 0}
    assert_rows_balance(c)


def test_rule_rejections_count_as_rejected_rows(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup, [deal("R001-O5", 5_000.0, "Solution", "commit", **ALL_YES)])
    c = consolidate(inbox, setup)
    assert file_of(c, "R001.xlsx").rows_rejected == 1
    assert c.rows["rejected"] == 1
    assert_rows_balance(c)


# --- bad files --------------------------------------------------------------------------------------------


def test_bad_files_are_one_issue_each_and_the_rest_is_consolidated(tmp_path, corpus):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    (inbox / "empty.xlsx").write_bytes(b"")
    (inbox / "notes.xlsx").write_text("这不是工作簿 this is not a workbook\n" * 20, encoding="utf-8")
    good = (inbox / "R002.xlsx").read_bytes()
    (inbox / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    shutil.copy(corpus / "calamine__pass_protected.xlsx", inbox / "locked.xlsx")
    c = consolidate(inbox, setup)
    expected = {"empty.xlsx": "file_empty", "notes.xlsx": "file_not_workbook", "truncated.xlsx": "file_corrupt",
                "locked.xlsx": "file_encrypted"}
    for name, rule in expected.items():
        f = file_of(c, name)
        mine = [i for i in c.issues if i.file == name]
        assert f.status == "rejected" and f.rows_read == 0, name
        assert [(i.rule, i.severity) for i in mine] == [(rule, "error")], (name, [str(i) for i in mine])
    assert c.totals == BASE_TOTALS
    assert c.file_counts == {"read": 2 + len(expected), "accepted": 2, "rejected": len(expected), "superseded": 0,
                             "missing": 1}


def test_workbook_lacking_a_table_is_reported_not_raised(tmp_path):
    """A workbook whose Visits sheet was deleted: one sheet_missing error, the rest still read."""
    setup = make_setup(1)
    inbox, path = _clean_inbox(tmp_path, setup, r001_deals())
    wb = openpyxl.load_workbook(path)
    del wb["拜访"]
    wb.save(path)
    c = consolidate(inbox, setup)
    i = the(c, "sheet_missing")
    assert (i.severity, i.file) == ("error", "R001.xlsx")
    assert c.totals == R001_TOTALS


def test_corpus_in_the_inbox_never_raises_and_never_drops_a_file(tmp_path, corpus):
    setup = make_setup(1)
    inbox = tmp_path / "inbox"
    shutil.copytree(corpus, inbox)
    write_rep(inbox, setup, "R001", fill(setup, r001_deals()))
    c = consolidate(inbox, setup)
    names = sorted(p.name for p in corpus.iterdir() if p.is_file())
    books = [n for n in names if Path(n).suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods")]
    assert sorted(f.display for f in c.files) == sorted([*books, "R001.xlsx"])
    for f in c.files:
        if f.display == "R001.xlsx":
            assert f.status == "accepted"
            continue
        mine = [i for i in c.issues if i.file == f.display]
        assert f.status == "rejected", f.display  # no corpus file is a rep workbook of this roster
        assert any(i.severity == "error" for i in mine), (f.display, [str(i) for i in mine])
        assert f.rows_accepted == 0 and f.rows_read == f.rows_rejected
    others = [n for n in names if n not in books]
    assert sorted(i.file for i in issues_of(c, "file_ignored")) == others
    assert c.totals == R001_TOTALS
    assert_rows_balance(c)


# --- the round trip (Hypothesis) ------------------------------------------------------------------------------

STAGES = [(s["en"], s["probability"], s["category"]) for s in defaults.STAGES]
CENTS = st.integers(min_value=1, max_value=5_000_000_000)  # ¥0.01 … ¥50,000,000.00


@st.composite
def deals_strategy(draw, rep_id: str) -> list[dict]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        stage, _, category = draw(st.sampled_from(STAGES))
        cents = draw(CENTS)
        if stage == "Won":
            close = PERIOD - dt.timedelta(days=draw(st.integers(0, 30)))
        elif stage == "Lost":
            close = PERIOD - dt.timedelta(days=draw(st.integers(1, 90)))
        else:
            close = PERIOD + dt.timedelta(days=draw(st.integers(1, 365)))
        out.append(deal(f"{rep_id}-O{i + 1}", float(Decimal(cents) / 100), stage, category, close,
                        customer=f"{rep_id} 客户", **ALL_YES))
    return out


def _round_trip(deals_by_rep: dict[str, list[dict]]) -> tuple[Consolidation, dict[str, Decimal]]:
    setup = make_setup(2)
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp)
        for rep_id, deals in deals_by_rep.items():
            write_rep(inbox, setup, rep_id, fill(setup, deals, customers=[
                {"customer": f"{rep_id} 客户", "customer_class": "B"}]))
        c = consolidate(inbox, setup)
    want = {k: Decimal(0) for k in ("closed", "commit", "upside", "pipeline", "lost")}
    for deals in deals_by_rep.values():
        for d in deals:
            want[d["category"]] += Decimal(str(d["amount"]))
    return c, want


def _rows_written(deals_by_rep: dict[str, list[dict]]) -> int:
    return sum(len(d) + 1 + 1 + 12 + 1 for d in deals_by_rep.values())  # deals, customer, visit, forecast, week


HYPO = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])


@HYPO
@given(st.fixed_dictionaries({"R001": deals_strategy("R001"), "R002": deals_strategy("R002")}))
def test_round_trip_totals_exact_and_rows_conserved(deals_by_rep):
    c, want = _round_trip(deals_by_rep)
    assert [str(i) for i in c.issues if i.severity == "error"] == []
    for k in ("closed", "commit", "upside", "pipeline"):
        assert c.totals[k] == float(want[k]), k
    assert c.rows == {"read": _rows_written(deals_by_rep), "accepted": _rows_written(deals_by_rep), "rejected": 0,
                      "superseded": 0}
    got = sorted((r["opp_id"], r["amount"], r["stage"], r["category"], r["close_date"])
                 for r in c.frames["opportunities"].to_dict("records"))
    sent = sorted((d["opp_id"], d["amount"], d["stage"], d["category"], d["close_date"])
                  for ds in deals_by_rep.values() for d in ds)
    assert got == sent


def _weighted(deals_by_rep: dict[str, list[dict]]) -> float:
    """Σ over open deals of amount × probability rounded to the cent, half up (as Excel's ROUND does)."""
    prob = {s: Decimal(str(p)) for s, p, _ in STAGES}
    total = sum((Decimal(str(d["amount"])) * prob[d["stage"]]).quantize(Decimal("0.01"), ROUND_HALF_UP)
                for ds in deals_by_rep.values() for d in ds if d["category"] in ("commit", "upside", "pipeline"))
    return float(total)


@HYPO
@example({"R001": [deal(f"R001-O{i}", 100.01, "Met", "pipeline") for i in range(1, 4)], "R002": []})
@example({"R001": [deal("R001-O1", 1003.95, "Approved", "upside")], "R002": []})
@given(st.fixed_dictionaries({"R001": deals_strategy("R001"), "R002": deals_strategy("R002")}))
def test_round_trip_weighted_is_the_sum_of_cent_rounded_deals(deals_by_rep):
    c, _ = _round_trip(deals_by_rep)
    assert c.totals["weighted"] == _weighted(deals_by_rep)
    per_deal = {r["opp_id"]: r["weighted"] for r in c.frames["opportunities"].to_dict("records")
                if r["category"] in ("commit", "upside", "pipeline")}
    assert per_deal == {d["opp_id"]: _weighted({"x": [d]}) for ds in deals_by_rep.values() for d in ds
                        if d["category"] in ("commit", "upside", "pipeline")}


# --- LibreOffice ------------------------------------------------------------------------------------------


def _comparable(c: Consolidation) -> dict:
    def strip(display: str) -> str:
        return Path(display).stem

    frames = {}
    for k, df in c.frames.items():
        rows = []
        for r in df.drop(columns=["probability", "weighted"], errors="ignore").to_dict("records"):
            r = {key: (None if v != v else v) if isinstance(v, float) else v for key, v in r.items()}
            r["_file"] = strip(r["_file"])
            rows.append(r)
        frames[k] = sorted(rows, key=lambda r: (r["_file"], r["_sheet"], r["_row"]))
    issues = sorted((i.severity, i.rule, strip(i.file), i.sheet, i.cell, i.value) for i in c.issues)
    return {"totals": c.totals, "rows": c.rows, "frames": frames, "issues": issues,
            "files": sorted((strip(f.display), f.status, f.rep_id, f.rows_read, f.rows_accepted) for f in c.files)}


@pytest.mark.libreoffice
def test_files_saved_by_libreoffice_consolidate_like_the_originals(tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import convert

    setup = make_setup()
    originals = baseline_inbox(tmp_path / "orig", setup, [deal("R001-O5", "120万"), deal("R001-O6", -1.0),
                                                          deal("R001-O7", close="2026-11-01")])
    write_rep(originals, setup, "R003", fill(setup, [deal("R003-O1", 33_333.33, "Approved", "upside")],
                                             customers=[{"customer": "丙客户", "customer_class": "C"}]))
    saved = tmp_path / "saved"
    convert(originals / "R001.xlsx", "xlsx:Calc MS Excel 2007 XML", saved)
    convert(originals / "R002.xlsx", "ods", saved)
    convert(originals / "R003.xlsx", "xls:MS Excel 97", saved)
    assert sorted(p.name for p in saved.iterdir()) == ["R001.xlsx", "R002.ods", "R003.xls"]
    a, b = consolidate(originals, setup), consolidate(saved, setup)
    assert b.totals == a.totals == {"closed": 80_000.0, "commit": 250_000.5, "upside": 73_333.33,
                                    "pipeline": 1_460_000.0, "weighted": 660_333.78}
    assert _comparable(b) == _comparable(a)
