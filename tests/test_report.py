"""The consolidated report workbook and the ``xlsales consolidate`` command."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import needs_soffice
from tests.test_consolidate import (
    BASE_TOTALS,
    FUTURE,
    PERIOD,
    baseline_inbox,
    deal,
    fill,
    make_setup,
    write_rep,
)
from xlsales import synth
from xlsales.cli import main
from xlsales.core.combine import Consolidation
from xlsales.core.setup import Setup
from xlsales.io.inbox import consolidate
from xlsales.io.manager import load_setup, manager_path
from xlsales.io.targets_file import load_targets
from xlsales.report.consolidated import full_report, write_report
from xlsales.report.templates import load_key

SHEETS = ["汇总", "紧急", "周度承诺", "月度预测", "差异", "周报", "记分卡", "按期汇总", "阶段分布", "问题", "提交", "商机", "拜访",
          "预测", "周承诺", "客户", "出勤", "目标", "实际数", "上期", "调整", "阈值", "日目标", "假日"]
CORE = ["问题", "提交", "商机", "拜访", "预测", "周承诺", "客户", "出勤"]  # one Excel table each
INJECTIONS = ['=HYPERLINK("http://x.example/","点我")', "+1", "-x", "@SUM(A1)", "=1+1"]


def _hashes(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _mixed(tmp_path: Path) -> tuple[Setup, Path, Consolidation]:
    """Baseline R001/R002, one error row, one warning row, a rep's formula-like text, R003 missing."""
    setup = make_setup()
    extra = [deal("R001-O5", -5_000.0), deal("R001-O6", 10_000.0, close=PERIOD - dt.timedelta(days=9)),
             deal("R001-O7", 1_000.0, customer=INJECTIONS[2], product=INJECTIONS[1], next_action=INJECTIONS[0]),
             deal("R001-O8", INJECTIONS[4])]
    visits = [{"date": PERIOD, "customer": INJECTIONS[2], "status": "done", "purpose": "order",
               "result": INJECTIONS[3]}]
    inbox = baseline_inbox(tmp_path, setup, extra, visits=visits)
    return setup, inbox, consolidate(inbox, setup)


def _summary_values(path: Path) -> dict[str, object]:
    """Summary label (column A) → cached value (column B); a rule's line by its id (column C)."""
    ws = openpyxl.load_workbook(path, data_only=True)["汇总"]
    out = {}
    for r in ws.iter_rows(min_row=1):
        if r[0].value is None or len(r) < 3:
            continue
        out[str(r[0].value)] = r[1].value
        if " · " in str(r[0].value) and r[2].value:  # 规则名 · rule name | count | rule id
            out[str(r[2].value)] = r[1].value
    return out


def _assert_summary_matches(path: Path, c: Consolidation) -> None:
    s = c.summary()
    got = _summary_values(path)
    want = {
        "已计入 accepted": s["files"]["accepted"], "拒收 rejected": s["files"]["rejected"],
        "已被替代 superseded": s["files"]["superseded"], "未提交 missing": s["files"]["missing"],
        "读取 read": s["rows"]["read"], "有效 accepted": s["rows"]["accepted"], "拒绝 rejected": s["rows"]["rejected"],
        "被替代 superseded": s["rows"]["superseded"], "差额 unaccounted": 0,
        "错误 error": s["issues"]["error"], "警告 warning": s["issues"]["warning"], **s["issues"]["by_rule"],
    }
    assert {k: got.get(k) for k in want} == want
    # all open deals, any date, by category: the consolidation's own totals
    ws = openpyxl.load_workbook(path, data_only=True)["汇总"]
    (row,) = [r for r in ws.iter_rows(values_only=True) if str(r[0]).startswith("全部未结")]
    assert (row[4], row[5], row[6]) == (c.totals["commit"], c.totals["upside"], c.totals["pipeline"])
    assert row[7] == pytest.approx(c.totals["weighted"], abs=0.005)


def _table_rows(ws) -> list[list]:
    """The data rows of the one Excel table on ``ws`` (header excluded)."""
    (table,) = ws.tables.values()
    return [[c.value for c in row] for row in ws[table.ref]][1:]


# --- the file ---------------------------------------------------------------------------------------


def test_report_has_every_sheet_with_tables_and_frozen_headers(tmp_path):
    setup, _, c = _mixed(tmp_path)
    out = write_report(c, setup, tmp_path / "reports" / "r.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == SHEETS
    for name in CORE:
        ws = wb[name]
        assert len(ws.tables) == 1, name
        assert ws.freeze_panes is not None and ws.freeze_panes[-1] == "3", (name, ws.freeze_panes)
    _assert_summary_matches(out, c)


def test_issues_table_has_one_row_per_issue(tmp_path):
    setup, _, c = _mixed(tmp_path)
    out = write_report(c, setup, tmp_path / "r.xlsx")
    rows = _table_rows(openpyxl.load_workbook(out)["问题"])
    assert len(rows) == len(c.issues) > 3
    sev = {"error": "错误", "warning": "警告"}
    assert [(r[0], r[1], r[2] or "", r[3] or "", r[4] or "") for r in rows] == [
        (sev[i.severity], i.rule, i.file, i.sheet, i.cell) for i in c.issues]
    assert ("negative", "R001.xlsx", "商机", "D7") in [(r[1], r[2], r[3], r[4]) for r in rows]


def test_rep_text_that_looks_like_a_formula_stays_text(tmp_path):
    setup, inbox, c = _mixed(tmp_path)
    out = write_report(c, setup, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(out)
    found = {}
    for name in CORE:
        for row in wb[name].iter_rows():
            for cell in row:
                if cell.value in INJECTIONS:
                    found.setdefault(cell.value, []).append((name, cell.coordinate, cell.data_type))
    assert set(found) == set(INJECTIONS), found  # each arrives, in the data or as an issue's value
    assert all(dtype == "s" for cells in found.values() for _, _, dtype in cells), found
    assert any(name == "问题" for name, _, _ in found["=1+1"])  # the unreadable amount, quoted in its issue


def test_submissions_rows_balance_and_match_the_files(tmp_path):
    setup, _, c = _mixed(tmp_path)
    out = write_report(c, setup, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(out, data_only=True)["提交"]
    head = [ws.cell(2, j).value for j in range(1, ws.max_column + 1)]
    col = {h.rstrip(" *"): j for j, h in enumerate(head)}
    rows = {(r[col["文件"]] or r[col["业务员编号"]]): r for r in _table_rows(ws)}
    for f in c.files:
        r = rows[f.display]
        assert (r[col["读取行"]], r[col["有效行"]], r[col["拒绝行"]], r[col["被替代行"]]) == (
            f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_superseded)
        assert r[col["读取行"]] == r[col["有效行"]] + r[col["拒绝行"]] + r[col["被替代行"]]
        assert r[col["差额"]] == 0
        assert r[col["SHA-256"]] == f.sha256
    assert rows["R003"][col["状态"]] == "未提交"
    assert rows["R001.xlsx"][col["拒绝行"]] == 2  # O5 negative, O8 unreadable amount


def test_report_is_written_atomically_and_replaces_an_old_one(tmp_path):
    setup, _, c = _mixed(tmp_path)
    folder = tmp_path / "reports"
    folder.mkdir()
    out = folder / "consolidated.xlsx"
    out.write_bytes(b"last week's report")
    write_report(c, setup, out)
    assert [p.name for p in folder.iterdir()] == ["consolidated.xlsx"]  # no temporary file left behind
    assert openpyxl.load_workbook(out, read_only=True).sheetnames == SHEETS
    c2 = consolidate(baseline_inbox(tmp_path / "again", setup), setup)
    write_report(c2, setup, out)
    assert [p.name for p in folder.iterdir()] == ["consolidated.xlsx"]
    _assert_summary_matches(out, c2)
    assert c2.totals == BASE_TOTALS


def test_inputs_are_never_modified(tmp_path):
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup, [deal("R001-O5", "120万")])
    (inbox / "notes.txt").write_text("hi", encoding="utf-8")
    (inbox / "empty.xlsx").write_bytes(b"")
    before = _hashes(inbox)
    c = consolidate(inbox, setup)
    write_report(c, setup, tmp_path / "out" / "r.xlsx")
    assert _hashes(inbox) == before
    assert {f.display: f.sha256 for f in c.files} == {k: v[0] for k, v in before.items() if k != "notes.txt"}


def test_english_report(tmp_path):
    setup, _, c = _mixed(tmp_path)
    out = write_report(c, setup, tmp_path / "r.xlsx", lang="en")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["Summary", "Urgent"]
    assert {"Issues", "Submissions", "Opportunities", "Visits", "Forecast", "WeeklyCommit", "Customers"} <= set(
        wb.sheetnames)
    assert len(_table_rows(wb["Issues"])) == len(c.issues)


# --- LibreOffice as the independent engine -----------------------------------------------------------------------


@pytest.mark.libreoffice
def test_demo_sized_report_formulas_agree_with_libreoffice(tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    setup = Setup.default()
    inbox = tmp_path / "inbox"
    fills = synth.generate(setup, seed=7, mistakes=True)
    synth.write_fills(setup, fills[:-1], inbox)  # one rep forgets
    c = consolidate(inbox, setup)
    assert c.file_counts["missing"] == 1 and c.rows["rejected"] > 0
    out = write_report(c, setup, tmp_path / "r.xlsx")
    check = check_formulas(out, tmp_path / "lo")
    assert check.cells > 50
    assert check.mismatches == []
    _assert_summary_matches(out, c)


@pytest.mark.libreoffice
def test_cent_amounts_weighted_agree_with_libreoffice(tmp_path):
    """Per-deal weighted amounts round half up like ROUND (702.765 → 702.77); the total sums the rounded deals."""
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    setup = make_setup(1)
    inbox = tmp_path / "inbox"
    deals = [deal("R001-O1", 1_003.95, "Approved", "upside", FUTURE),
             *(deal(f"R001-O{i}", 100.01, "Met", "pipeline") for i in range(2, 5))]
    write_rep(inbox, setup, "R001", fill(setup, deals))
    c = consolidate(inbox, setup)
    out = write_report(c, setup, tmp_path / "r.xlsx")
    assert check_formulas(out, tmp_path / "lo").mismatches == []
    assert c.totals["weighted"] == 777.77  # 702.77 + 3 × 25.00 (100.01 × 25% = 25.0025)


# --- the command ------------------------------------------------------------------------------------------------


ROSTER_CSV = "业务员编号,姓名,团队,大区,在职\nR001,张伟,华东一组,华东,是\nR002,王芳,华东一组,华东,是\nR003,李娜,华东一组,华东,是\n"


def _init(tmp_path: Path) -> Path:
    """``xlsales init`` with a three-rep roster, period 2026-11-23."""
    csv = tmp_path / "roster.csv"
    csv.write_text(ROSTER_CSV, encoding="utf-8")
    d = tmp_path / "team"
    assert main(["init", str(d), "--period", "2026-11-23", "--roster", str(csv)]) == 0
    return d


def _folder(tmp_path: Path, reps: int | None, mistakes: bool) -> tuple[Path, Setup]:
    d = _init(tmp_path)
    setup, issues = load_setup(d)
    assert issues == [] and setup.period == PERIOD
    fills = synth.generate(setup, seed=3, reps=reps, mistakes=mistakes)
    synth.write_fills(setup, fills, d / "inbox")
    return d, setup


def test_cli_json_prints_the_documented_shape(tmp_path, capsys):
    d, setup = _folder(tmp_path, 2, mistakes=True)
    capsys.readouterr()
    assert main(["consolidate", str(d), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert set(s) >= {"report", "files", "rows", "issues", "totals"}
    assert set(s["files"]) == {"read", "accepted", "rejected", "superseded", "missing"}
    assert set(s["rows"]) == {"read", "accepted", "rejected", "superseded"}
    assert set(s["issues"]) == {"error", "warning", "by_rule"}
    assert set(s["totals"]) == {"windows", "week", "month", "quarter", "ytd", "all_open"}
    assert set(s["totals"]["month"]) == {"closed", "commit", "upside", "pipeline", "weighted"}
    assert set(s["totals"]["all_open"]) == {"commit", "upside", "pipeline", "weighted"}  # no date: no closed
    assert s["totals"]["windows"]["month"] == ["2026-11-01", "2026-11-30"]
    c = consolidate(d / "inbox", setup, key=load_key(d))  # as the command does: signatures checked
    full_report(c, setup, "zh", load_targets(setup, d)[0])  # the review adds its own checks to the issues
    assert {k: s[k] for k in ("files", "rows", "issues")} == {
        k: v for k, v in json.loads(json.dumps(c.summary())).items() if k in ("files", "rows", "issues")}
    assert s["totals"]["all_open"]["pipeline"] == c.totals["pipeline"]
    assert s["files"]["read"] == 2 and s["files"]["missing"] == 1
    assert s["rows"]["read"] == s["rows"]["accepted"] + s["rows"]["rejected"] + s["rows"]["superseded"]
    report = Path(s["report"])
    assert report.is_file() and report.parent == d / "reports"
    _assert_summary_matches(report, c)


def test_cli_strict_exits_1_on_errors(tmp_path, capsys):
    d, _ = _folder(tmp_path, 3, mistakes=True)
    assert main(["consolidate", str(d), "--strict"]) == 1


def test_cli_strict_exits_0_when_clean(tmp_path, capsys):
    d, _ = _folder(tmp_path, None, mistakes=False)
    capsys.readouterr()
    assert main(["consolidate", str(d), "--strict", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["issues"]["error"] == 0 and s["files"] == {"read": 3, "accepted": 3, "rejected": 0,
                                                        "superseded": 0, "missing": 0}


def test_cli_missing_folder_exits_2_without_traceback(tmp_path, capsys):
    assert main(["consolidate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err


def test_cli_missing_inbox_exits_2(tmp_path, capsys):
    d = _init(tmp_path)
    (d / "inbox").rmdir()
    capsys.readouterr()
    assert main(["consolidate", str(d)]) == 2
    err = capsys.readouterr().err
    assert "inbox" in err and "Traceback" not in err


@pytest.mark.parametrize("damage", ["garbage", "bad_period"])
def test_cli_broken_setup_exits_2_with_a_message(tmp_path, capsys, damage):
    d = _init(tmp_path)
    manager = manager_path(d)
    assert manager is not None
    if damage == "garbage":
        manager.write_text("not a workbook", encoding="utf-8")
    else:
        wb = openpyxl.load_workbook(manager, keep_vba=manager.suffix == ".xlsm")
        ws = wb["设置"]
        cell = next(r[2] for r in ws.iter_rows() if r[0].value == "period")
        cell.value = "下周一"
        wb.save(manager)
    capsys.readouterr()
    assert main(["consolidate", str(d), "--json"]) == 2
    captured = capsys.readouterr()
    assert (manager.name if damage == "garbage" else "period") in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (d / "reports").exists()


PORTABLE = {"SUM", "SUMIFS", "COUNTIFS", "COUNTA", "IF", "OR", "AND", "MAX", "MIN", "ABS", "ROUND", "DATE",
            "NETWORKDAYS", "ISNUMBER", "IFERROR", "INDEX", "MATCH", "HYPERLINK"}


def functions_used(path: Path) -> set[str]:
    """Every function name in the workbook's cell formulas and conditional formats."""
    used: set[str] = set()
    for ws in openpyxl.load_workbook(path).worksheets:
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
        texts += [f for rng in ws.conditional_formatting for rule in rng.rules for f in rule.formula]
        for t in texts:
            used |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", re.sub(r'"[^"]*"', "", t)))
    return used


def test_every_formula_uses_only_functions_every_engine_has(tmp_path):
    """Excel 2016+, LibreOffice and WPS all have these; the writer therefore skips XlsxWriter's rewriting of newer
    functions (writer.PortableWorksheet) — a new function outside this list must be added here on purpose."""
    setup = Setup.default()
    inbox = tmp_path / "inbox"
    synth.write_fills(setup, synth.generate(setup, seed=7, reps=4, mistakes=True), inbox)
    out = write_report(consolidate(inbox, setup), setup, tmp_path / "r.xlsx")
    used = functions_used(out)
    assert used and used <= PORTABLE, sorted(used - PORTABLE)
