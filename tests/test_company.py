"""Regions → company: two regional managers consolidate into one shared ledger; the national report is built from
their snapshots without reading a rep file, and names the region that has not consolidated this week."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl

from xlsales import synth
from xlsales.cli import do_init, main
from xlsales.core.setup import Setup
from xlsales.io import ledger as lg
from xlsales.report.tables import WEEKLY

PERIOD = dt.date(2026, 11, 23)


def _region_folder(base: Path, region: str, national: Setup, fills: list) -> Path:
    roster = [r for r in national.rows("roster") if r["region"] == region]
    setup = Setup.default(roster, PERIOD)
    out = do_init(base / region, "zh", None, False, PERIOD, setup)
    mine = [f for f in fills if f.rep["region"] == region]
    synth.write_fills(setup, mine, out["inbox"], "zh", submitted=True)
    return base / region


def _company_row(path: str, key: str) -> float:
    ws = openpyxl.load_workbook(path, data_only=True)[WEEKLY.sheet("zh")]
    head = [c.value for c in ws[WEEKLY.first_row + 1]]
    col = [h.replace(" *", "") if h else h for h in head].index("本周承诺(调整后)")
    for row in ws.iter_rows(min_row=WEEKLY.first_row + 2, values_only=True):
        if row[0] == "公司":
            return float(row[col])
    raise AssertionError(key)


def test_the_national_report_comes_from_the_regions_snapshots(ledger_url, tmp_path, capsys):
    national = Setup.default(None, PERIOD)  # 12 reps: 华东 6, 华北 3, 华南 3
    fills = synth.generate(national, seed=3, mistakes=False)
    east = _region_folder(tmp_path, "华东", national, fills)
    north = _region_folder(tmp_path, "华北", national, fills)
    company = tmp_path / "company"
    do_init(company, "zh", None, False, PERIOD, national)
    regional = []
    for folder in (east, north):
        assert main(["consolidate", str(folder), "--ledger", ledger_url, "--json"]) == 0
        regional.append(json.loads(capsys.readouterr().out))
        shutil.rmtree(folder / "inbox")  # the national report must not need any rep file
    assert [r["ledger"]["snapshot"] for r in regional] == [1, 2]
    assert main(["consolidate", str(company), "--scope", "company", "--ledger", ledger_url, "--json"]) == 0
    cap = capsys.readouterr()
    s = json.loads(cap.out)
    assert "华南" in cap.err and "not consolidated" in cap.err
    assert s["scope"] == "company" and s["regions"] == {"included": {"华东": 1, "华北": 2}, "missing": ["华南"]}
    assert s["recorded"] and s["ledger"]["snapshot"] == 3
    assert s["files"]["read"] == regional[0]["files"]["read"] + regional[1]["files"]["read"] == 9
    assert s["files"]["missing"] == 3  # 华南's reps
    assert s["rows"]["accepted"] == regional[0]["rows"]["accepted"] + regional[1]["rows"]["accepted"]
    assert s["issues"]["by_rule"]["region_not_consolidated"] == 1
    for key in ("commit", "upside", "pipeline", "weighted"):
        assert s["totals"]["all_open"][key] == round(sum(r["totals"]["all_open"][key] for r in regional), 2), key
    # the company's adjusted commit is the regions' sum
    east_commit, north_commit = (_company_row(r["report"], "commit_adj") for r in regional)
    assert _company_row(s["report"], "commit_adj") == east_commit + north_commit
    with lg.open_ledger(ledger_url) as book:
        snaps = book.snapshots()
    assert [(x["scope"], x["regions"]) for x in snaps] == [("folder", ["华东"]), ("folder", ["华北"]),
                                                           ("company", ["华东", "华北", "华南"])]
    # the same week again: nothing new
    assert main(["consolidate", str(company), "--scope", "company", "--ledger", ledger_url, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["ledger"]["new"] is False and again["ledger"]["snapshot"] == 3


def test_the_national_report_needs_a_ledger_with_this_weeks_snapshots(tmp_path, capsys):
    company = tmp_path / "company"
    do_init(company, "zh", None, False, PERIOD, Setup.default(None, PERIOD))
    assert main(["consolidate", str(company), "--scope", "company"]) == 2
    err = capsys.readouterr().err
    assert "没有任何大区" in err and "ask the regional managers to consolidate" in err


def test_the_control_sheets_scope_runs_the_national_report_from_the_button(tmp_path, monkeypatch):
    """汇总范围 = 全公司 on the Control sheet: the Consolidate button builds what --scope company builds."""
    import xlwings as xw

    from xlsales.excel import buttons
    from xlsales.excel.workbook import CONTROL_SHEET, SCOPE_CELL

    from . import xlstandin

    url = f"sqlite:///{tmp_path / 'company-ledger.sqlite'}"
    national = Setup.default(None, PERIOD)
    fills = synth.generate(national, seed=3, mistakes=False)
    for region in ("华东", "华北"):
        assert main(["consolidate", str(_region_folder(tmp_path, region, national, fills)), "--ledger", url,
                     "--json"]) == 0
    national.tables["settings"].loc[national.tables["settings"]["key"] == "ledger", "value"] = url
    company = tmp_path / "company"
    do_init(company, "zh", None, False, PERIOD, national)
    app, book = xlstandin.start(company / "manager.xlsm")
    monkeypatch.setattr(xw.Book, "_mock_caller", book, raising=False)
    control = book.sheets[CONTROL_SHEET]
    assert control.range(SCOPE_CELL).value == "本文件夹 This folder"  # a new workbook consolidates its own inbox
    control.range(SCOPE_CELL).value = "全公司 Company"
    buttons.consolidate()
    assert app.impl._alerts == []
    report = company / "reports" / f"consolidated-{PERIOD}.xlsx"
    assert [b.name for b in app.books if b.name == report.name] == [report.name]
    status = {str(r[0].value).strip("\u3000 "): (r[1].value, r[2].value)
              for r in (control.range((row, 2), (row, 4)) for row in range(1, 60)) if r[0].value}
    assert status["范围 Scope"] == ("全公司", "华东 #1, 华北 #2")
    assert status["未汇总大区 regions missing"] == (1, "华南 (其业务员按未提交计)")
    assert status["文件 读取 Files read"][0] == 9 and status["未提交 missing"][0] == 3
    with lg.open_ledger(url) as ledger:
        assert [s["scope"] for s in ledger.snapshots()] == ["folder", "folder", "company"]
    # what the command gives for the same week is the same report
    assert _company_row(str(report), "commit_adj") > 0
    out = tmp_path / "cli.xlsx"
    assert main(["consolidate", str(company), "--scope", "company", "--out", str(out)]) == 0
    assert _company_row(str(out), "commit_adj") == _company_row(str(report), "commit_adj")


def test_a_scope_that_is_not_a_choice_is_named_with_its_cell(tmp_path, monkeypatch):
    import xlwings as xw

    from xlsales.excel import buttons
    from xlsales.excel.workbook import CONTROL_SHEET, SCOPE_CELL

    from . import xlstandin

    company = tmp_path / "company"
    do_init(company, "zh", None, False, PERIOD, Setup.default(None, PERIOD))
    app, book = xlstandin.start(company / "manager.xlsm")
    monkeypatch.setattr(xw.Book, "_mock_caller", book, raising=False)
    book.sheets[CONTROL_SHEET].range(SCOPE_CELL).value = "全国"
    buttons.consolidate()
    [(text, _title, _buttons, mode)] = app.impl._alerts
    assert "D8" in text and "「全国」无法识别" in text and "全公司 Company" in text and mode == "critical"
    assert not (company / "reports").exists() or not list((company / "reports").glob("consolidated-*"))
