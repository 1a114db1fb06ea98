"""Send back (issue 15): every consolidation returns each rep with issues their own workbook, annotated.

On the demo (whose reps fill the template as given, so a cell of the submitted file is the same cell of
the returned one): one comment per cell with issues, on exactly those cells; the first sheet lists every
issue linked to its cell; rejected rows shaded; what could not be read written back as typed; validations,
protection and signature of a template; the submitted files untouched; the report links each return.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from xlsales.cli import main
from xlsales.report.returns import FILL, REJECTED_FILL, SHEET
from xlsales.run import consolidate_folder

from .conftest import needs_soffice

WEEK = "2026-11-23"
DATA_SHEETS = ("拜访", "商机", "预测", "客户", "出勤")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("returns") / "demo"
    assert main(["demo", str(folder), "--period", WEEK, "--weeks", "0"]) == 0
    return folder


@pytest.fixture(scope="module")
def result(demo):
    return consolidate_folder(demo, ledger="")


def _comments(wb) -> dict[tuple[str, str], str]:
    return {(ws.title, c.coordinate): c.comment.text for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.comment}


def _file_issues(result, rep: str) -> list:
    f = next(f for f in result.consolidation.files if f.rep_id == rep and f.status == "accepted")
    return [i for i in result.consolidation.issues if i.file == f.display]


def test_each_rep_with_issues_gets_a_return_and_only_they(result, demo):
    c = result.consolidation
    with_issues = sorted({str(f.rep_id) for f in c.files if f.status == "accepted"
                          and any(i.file == f.display for i in c.issues)})
    assert sorted(result.returns) == with_issues and len(with_issues) >= 4
    assert {p.parent for p in result.returns.values()} == {demo / "returns" / WEEK}
    assert sorted(p.name for p in (demo / "returns" / WEEK).iterdir()) == [f"{r}.xlsx" for r in with_issues]


def test_one_comment_on_each_cell_with_issues_and_nowhere_else(result):
    for rep, path in result.returns.items():
        issues = _file_issues(result, rep)
        cells = {(i.sheet, i.cell) for i in issues if i.cell and i.sheet in DATA_SHEETS}
        got = _comments(openpyxl.load_workbook(path))
        assert set(got) == cells, rep
        for i in issues:
            if (i.sheet, i.cell) in got:
                assert i.zh in got[(i.sheet, i.cell)]  # the workbook's language: zh only
                assert i.en not in got[(i.sheet, i.cell)]


def test_cells_are_highlighted_by_severity_and_rejected_rows_shaded(result):
    seen = set()
    for rep, path in result.returns.items():
        wb = openpyxl.load_workbook(path)
        issues = _file_issues(result, rep)
        for i in issues:
            if i.sheet not in DATA_SHEETS or not i.cell:
                continue
            worst = "error" if any(j.severity == "error" for j in issues if (j.sheet, j.cell) == (i.sheet, i.cell)) \
                else "warning"
            cell = wb[i.sheet][i.cell]
            if cell.protection.locked:  # a formula or a locked month keeps its look; the comment says it
                continue
            assert cell.fill.fgColor.rgb[-6:] == FILL[worst][1:], (rep, i.cell)
            seen.add(worst)
    assert seen == {"error", "warning"}
    # R002's visit without a customer is rejected: its row is shaded, its empty customer cell red
    r2 = result.returns["R002"]
    ws = openpyxl.load_workbook(r2)["拜访"]
    (miss,) = [i for i in _file_issues(result, "R002") if i.rule == "required" and i.sheet == "拜访"]
    row = int(miss.cell[1:])
    assert ws[miss.cell].fill.fgColor.rgb[-6:] == FILL["error"][1:]
    assert ws[f"A{row}"].fill.fgColor.rgb[-6:] == REJECTED_FILL[1:]


def test_a_value_that_could_not_be_read_is_written_back_as_typed(result):
    bad = [(rep, i) for rep in result.returns for i in _file_issues(result, rep) if i.rule == "bad_choice"]
    assert bad
    for rep, i in bad:
        assert openpyxl.load_workbook(result.returns[rep])[i.sheet][i.cell].value == i.value == "签约中"


def test_the_first_sheet_lists_every_issue_with_a_link_to_its_cell(result):
    for rep, path in result.returns.items():
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[0] == SHEET["zh"] and wb.active.title == SHEET["zh"]
        ws = wb[SHEET["zh"]]
        issues = _file_issues(result, rep)
        rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0] in ("错误", "警告")]
        assert len(rows) == len(issues)
        assert sorted(r[5] for r in rows) == sorted(i.zh for i in issues)
        assert sorted(r[6] for r in rows) == sorted(i.en for i in issues)
        links = {c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink}
        for i in issues:
            if i.sheet in DATA_SHEETS and i.cell:
                assert f"'{i.sheet}'!{i.cell}" in links


def test_a_return_keeps_the_template_s_validations_protection_and_signature(result):
    wb = openpyxl.load_workbook(result.returns["R002"])
    ws = wb["商机"]
    assert ws.protection.sheet and wb["拜访"].protection.sheet and wb[SHEET["zh"]].protection.sheet
    kinds = {str(d.sqref).split(":")[0].rstrip("0123456789"): d.type for d in ws.data_validations.dataValidation}
    assert kinds["E"] == "list" and kinds["D"] == "decimal" and kinds["H"] == "date"
    assert ws["F3"].value.startswith("=IF(") and ws["F3"].protection.locked
    assert wb["_xlsales"].sheet_state == "veryHidden"


def test_submitted_files_are_never_modified_and_the_report_links_the_returns(demo, tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (demo / "inbox").iterdir()}
    res = consolidate_folder(demo, ledger="", out=tmp_path / "r.xlsx")
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (demo / "inbox").iterdir()} == before
    ws = openpyxl.load_workbook(res.report)["提交"]
    head = [c.value for c in ws[2]]
    col = head.index("退回文件") + 1
    links = {ws.cell(r, 1).value: ws.cell(r, col).value for r in range(3, ws.max_row + 1)}
    for rep, p in res.returns.items():
        formula = links[f"{rep}.xlsx"]
        assert formula.startswith('=HYPERLINK("') and formula.endswith(f'","{rep}.xlsx")')
        target = formula.split('"')[1]
        assert (res.report.parent / target).resolve() == p.resolve()
    assert links["R001.xlsx"] is None  # a clean file has nothing returned


def test_json_lists_the_returns_and_a_fixed_rep_s_old_return_goes(demo, capsys, tmp_path):
    work = tmp_path / "demo"
    shutil.copytree(demo, work)
    assert main(["consolidate", str(work), "--json", "--ledger", ""]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(out["returns"]) == sorted(p.stem for p in (work / "returns" / WEEK).iterdir())
    # R003 takes its file back: its return of this week goes with the issues it held
    (work / "inbox" / "R003.xlsx").unlink()
    assert main(["consolidate", str(work), "--json", "--ledger", ""]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "R003" not in out["returns"] and not (work / "returns" / WEEK / "R003.xlsx").exists()


@pytest.mark.libreoffice
def test_every_return_opens_and_recalculates_in_libreoffice(result, tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import check_formulas

    for rep, path in result.returns.items():
        check = check_formulas(path, tmp_path / rep)
        assert check.cells > 0 and check.ok, (rep, check.mismatches[:5])


@pytest.mark.libreoffice
def test_libreoffice_keeps_one_comment_per_cell_with_issues(result, tmp_path):
    """Opened and saved again by LibreOffice, each return still has exactly one comment per cell with issues."""
    needs_soffice()
    from xlsales.io.libreoffice import convert

    for rep, path in result.returns.items():
        cells = {(i.sheet, i.cell) for i in _file_issues(result, rep) if i.cell and i.sheet in DATA_SHEETS}
        saved = convert(path, "xlsx", tmp_path / rep)
        assert len(_comments(openpyxl.load_workbook(saved))) == len(cells) > 0, rep
