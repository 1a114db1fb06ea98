"""Daily attendance 出勤 (SPEC §7, issue 15): one row per day of the week the workbook reports.

The template's 出勤 sheet lists the seven days of the week reported (the week before the workbook's period,
the week its done visits fall in), the day locked and the attendance a dropdown; consolidation reads it
(a workbook made before the sheet existed is read without it, silently) and the scorecard counts each rep's
days at work (出勤 and 出差) with a formula over the report's 出勤 sheet.  Figures written by hand.
"""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest

from xlsales.core import schema
from xlsales.core.roll import carry
from xlsales.io.inbox import consolidate
from xlsales.report.consolidated import full_report
from xlsales.report.model import render_xlsx
from xlsales.report.tables import SCORECARD
from xlsales.report.templates import build_rep_workbook

from .conftest import needs_soffice
from .test_variance import AS_OF, ROSTER, W, _rows

D = dt.date
DAYS = [D(2026, 11, 16) + dt.timedelta(days=i) for i in range(7)]  # the week reported by the 11-23 workbook


def _week(*codes: str | None) -> list[dict]:
    return [{"date": d, "attendance": c} for d, c in zip(DAYS, codes, strict=True) if c is not None]


def test_the_attendance_sheet_lists_the_seven_days_of_the_week_reported(tmp_path, setup):
    rep = setup.rows("roster")[0]
    wb = openpyxl.load_workbook(build_rep_workbook(tmp_path / "r.xlsx", setup, rep, "zh", period=W))
    ws = wb["出勤"]
    assert [c.value for c in ws[2]][:4] == ["日期 *", "星期", "出勤情况 *", "备注"]
    days = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(3, 11)]
    assert days == [(dt.datetime(2026, 11, 16), "周一"), (dt.datetime(2026, 11, 17), "周二"),
                    (dt.datetime(2026, 11, 18), "周三"), (dt.datetime(2026, 11, 19), "周四"),
                    (dt.datetime(2026, 11, 20), "周五"), (dt.datetime(2026, 11, 21), "周六"),
                    (dt.datetime(2026, 11, 22), "周日"), (None, None)]
    assert ws.protection.sheet and ws["A3"].protection.locked and ws["B3"].protection.locked
    assert not ws["C3"].protection.locked and not ws["D9"].protection.locked
    (dv,) = [d for d in ws.data_validations.dataValidation if str(d.sqref) == "C3:C9"]
    assert dv.type == "list" and dv.formula1 == "xs_attendance"
    assert dv.prompt.endswith("可选:出勤、出差、请假、休息、缺勤")
    en = openpyxl.load_workbook(build_rep_workbook(tmp_path / "e.xlsx", setup, rep, "en", period=W))["Attendance"]
    assert [en.cell(r, 2).value for r in range(3, 10)] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    (dv,) = [d for d in en.data_validations.dataValidation if str(d.sqref) == "C3:C9"]
    assert dv.prompt.endswith("One of: Present, Business trip, Leave, Day off, Absent")


def _build(folder, attendance: dict[str, list[dict]], drop_sheet: tuple[str, ...] = ()):
    from xlsales.core.setup import Setup

    setup = Setup.default(ROSTER, W)
    inbox = folder / "inbox"
    for r in ROSTER:
        rid = r["rep_id"]
        p = build_rep_workbook(inbox / f"{rid}.xlsx", setup, r, "zh", {"attendance": attendance.get(rid, [])})
        if rid in drop_sheet:  # a workbook made before the sheet existed
            wb = openpyxl.load_workbook(p)
            del wb["出勤"]
            wb.save(p)
    c = consolidate(inbox, setup, AS_OF)
    return setup, c


ATTENDANCE = {
    "A1": _week("present", "present", "travel", "leave", "present", "rest", "rest"),  # at work 4 days
    "A2": _week("present", None, None, None, None, None, None),  # one day filled: at work 1 day
    "B1": _week("present", "present", "present", "absent", "present", "present", "rest"),  # at work 5 days
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attendance")
    setup, c = _build(folder, ATTENDANCE)
    out = render_xlsx(full_report(c, setup, "zh")[0], folder / "report.xlsx")
    return c, out


def test_consolidation_reads_each_filled_day_and_skips_the_blank_ones(built):
    c, _ = built
    df = c.accepted("attendance")
    got = sorted((r, d.isoformat(), a) for r, d, a in zip(df["rep_id"], df["date"], df["attendance"], strict=True))
    assert len(got) == 15  # 7 + 1 + 7
    assert ("A1", "2026-11-18", "travel") in got and ("B1", "2026-11-19", "absent") in got
    assert [g for g in got if g[0] == "A2"] == [("A2", "2026-11-16", "present")]
    assert not [i for i in c.issues if i.sheet == "出勤"]
    assert c.rows["read"] == c.rows["accepted"]


def test_the_scorecard_counts_days_at_work_present_or_on_a_trip(built):
    _, report = built
    got = _rows(report, SCORECARD, key=lambda r: r["rep_id"])
    assert {rep: got[rep]["attendance"] for rep in ("A1", "A2", "B1")} == {"A1": 4, "A2": 1, "B1": 5}
    ws = openpyxl.load_workbook(report)[SCORECARD.sheet("zh")]
    col = openpyxl.utils.get_column_letter(SCORECARD.keys.index("attendance") + 1)
    header = ws[f"{col}{SCORECARD.first_row + 1}"].value
    assert header == "上周出勤天数"
    f = ws[f"{col}{SCORECARD.first_row + 2}"].value
    assert f.startswith("=") and "'出勤'!" in f and '"=出勤"' in f and '"=出差"' in f, f
    data = openpyxl.load_workbook(report)["出勤"]
    assert data.cell(2, 1).value == "业务员编号"


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_days_at_work(built, tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import recalculate

    _, report = built
    got = _rows(recalculate(report, tmp_path / "lo"), SCORECARD, key=lambda r: r["rep_id"])
    assert {rep: got[rep]["attendance"] for rep in ("A1", "A2", "B1")} == {"A1": 4, "A2": 1, "B1": 5}


def test_a_workbook_made_before_the_attendance_sheet_is_read_without_it(tmp_path):
    _, c = _build(tmp_path, ATTENDANCE, drop_sheet=("A2",))
    a2 = next(f for f in c.files if f.rep_id == "A2")
    assert a2.status == "accepted"
    assert not [i for i in c.issues if i.file == a2.display and i.rule in ("sheet_missing", "sheet_found_by_headers")]
    assert set(c.accepted("attendance")["rep_id"]) == {"A1", "B1"}


def test_a_day_with_an_unknown_attendance_is_an_error_on_its_cell(tmp_path):
    _, c = _build(tmp_path, {"A1": [{"date": DAYS[2], "attendance": "在家"}]})
    (i,) = [i for i in c.issues if i.sheet == "出勤"]
    assert (i.rule, i.cell, i.value, i.severity) == ("bad_choice", "C5", "在家", "error")
    assert "出勤/Present, 出差/Business trip, 请假/Leave, 休息/Day off, 缺勤/Absent" in i.zh


def test_a_return_puts_each_day_back_on_its_row_with_the_issue_as_a_comment(tmp_path):
    from xlsales.report.returns import write_returns

    setup, c = _build(tmp_path, {"A1": [{"date": DAYS[0], "attendance": "present"},
                                        {"date": DAYS[2], "attendance": "在家", "note": "下雨"},
                                        {"date": DAYS[4], "attendance": "leave"}]})
    returned = write_returns(c, setup, tmp_path, "zh", None)
    assert "A1" in returned  # (every rep here also lacks a forecast)
    ws = openpyxl.load_workbook(returned["A1"])["出勤"]
    got = [(ws.cell(r, 1).value.date(), ws.cell(r, 3).value, ws.cell(r, 4).value) for r in range(3, 10)]
    assert got == [(DAYS[0], "出勤", None), (DAYS[1], None, None), (DAYS[2], "在家", "下雨"), (DAYS[3], None, None),
                   (DAYS[4], "请假", None), (DAYS[5], None, None), (DAYS[6], None, None)]
    comments = {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment}
    assert list(comments) == ["C5"] and "在家" in comments["C5"] and "出勤" in comments["C5"]
    assert ws.protection.sheet and any(str(d.sqref) == "C3:C9" for d in ws.data_validations.dataValidation)


def test_attendance_is_not_carried_into_next_week(setup):
    got = carry({"attendance": _week("present", "present", "present", "present", "present", "rest", "rest")},
                W, [], setup)
    assert "attendance" not in got.data
    assert [t.key for t in schema.REP_TABLES].count("attendance") == 1


def test_the_scorecard_header_says_days_in_english_too():
    assert SCORECARD.column("attendance").en == "Days at work last week"
    assert re.fullmatch(r"[^\x00-\x7f]+", SCORECARD.column("attendance").zh)
