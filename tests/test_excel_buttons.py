"""The buttons of manager.xlsm, run through xlwings' own classes against the stand-in engine (tests/xlstandin.py).

What each test checks is what a manager would see in Excel: the report written and opened as its
own workbook, the Status block filled in, every other cell of manager.xlsm exactly as it was, one
zh/en message box for any problem, and Excel's settings restored.  Failures are real ones (a missing
inbox, a reports "folder" that is a file, a setup with a duplicate rep id) — nothing of ours is mocked.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwings as xw

from xlsales.cli import main
from xlsales.excel import buttons
from xlsales.excel.workbook import CONTROL_SHEET, LAST_RUN, STATUS_AT, STATUS_SHAPE, status_cells
from xlsales.io import normalize
from xlsales.io.ledger import open_ledger

from . import xlstandin

WEEK, LAST_WEEK = "2026-11-23", "2026-11-16"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("btn") / "demo"
    assert main(["demo", str(d), "--reps", "4", "--period", WEEK]) == 0
    shutil.rmtree(d / "reports")
    return d


class Excel:
    """A stand-in Excel with manager.xlsm open, set as the caller of the buttons."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.app, self.book = xlstandin.start(folder / "manager.xlsm")
        monkeypatch.setattr(xw.Book, "_mock_caller", self.book, raising=False)
        self.before = xlstandin.snapshot(self.book)

    @property
    def alerts(self) -> list[tuple[str, str | None, str, str | None]]:
        return self.app.impl._alerts

    def status(self) -> dict[str, Any]:
        """The Status block as {label: value}, and the notes as {label + ' note': note}."""
        cells = xlstandin.cells(self.book, CONTROL_SHEET)
        r0, c0 = STATUS_AT
        out: dict[str, Any] = {}
        for r in range(r0, r0 + STATUS_SHAPE[0]):
            label = cells.get((r, c0))
            if label is None:
                continue
            key = str(label.value).strip("\u3000 ")
            v = cells.get((r, c0 + 1))
            note = cells.get((r, c0 + 2))
            out[key] = None if v is None else (v.formula or v.value)
            out[key + " note"] = None if note is None else note.value
        return out

    def last_run(self, action: str) -> str:
        return xlstandin.cells(self.book, CONTROL_SHEET)[LAST_RUN[action]].value

    def assert_only_status_written(self) -> None:
        after = xlstandin.snapshot(self.book)
        assert list(after) == list(self.before)  # no sheet added, removed or reordered
        for name, cells in self.before.items():
            changed = {k for k in set(cells) | set(after[name]) if cells.get(k) != after[name].get(k)}
            allowed = status_cells() if name == CONTROL_SHEET else set()
            assert changed <= allowed, (name, sorted(changed - allowed)[:5])

    def assert_restored(self) -> None:
        impl = self.app.impl
        assert impl.screen_updating is True and impl.enable_events is True and impl.calculation == "automatic"
        assert impl.status_bar is False


@pytest.fixture
def excel(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Excel:
    folder = tmp_path / "销售 团队" / "华东"  # a folder name with spaces and Chinese, as managers have
    shutil.copytree(demo_dir, folder)
    return Excel(folder, monkeypatch)


def test_consolidate_writes_and_opens_the_report_and_only_the_status_block(excel: Excel) -> None:
    buttons.consolidate()
    report = excel.folder / "reports" / f"consolidated-{WEEK}.xlsx"
    assert excel.alerts == []
    excel.assert_only_status_written()
    excel.assert_restored()
    # the report is its own open workbook, exactly the file
    opened = [b for b in excel.app.books if b.name == report.name]
    assert len(opened) == 1 and Path(opened[0].fullname) == report
    file_cells = openpyxl.load_workbook(report)["汇总"]
    shown = xlstandin.cells(opened[0], "汇总")
    assert shown[(8, 2)].formula == file_cells["B8"].value and shown[(8, 2)].formula.startswith("=COUNTIFS(")
    # the Status block: counts that add up, the totals, a link to the report
    st = excel.status()
    assert st["结果 Result"] == "完成 Done" and st["操作 Action"] == "汇总 Consolidate"
    assert st["报告 Report"] == f'=HYPERLINK("{report}","{report.name}")'
    # 143 rows of visits, deals, forecast, commit and customers + 3 files × 7 days of attendance
    assert st["行 读取 Rows read"] == st["有效 accepted"] + st["拒绝 rejected"] + st["被替代 superseded"] == 164
    assert st["文件 读取 Files read"] == 3 and st["未提交 missing"] == 1  # a 4-rep organisation; one forgets
    # the demo consolidated this inbox before: every file is the same, its read reused from the cache
    assert st["文件 未改动 Files unchanged"] == 3
    assert st["本月已成交 Closed this month"] > 0 and st["本月已成交 Closed this month note"] == "2026-11-01–2026-11-30"
    assert st["上周 Last week"].startswith("台账 ledger #")  # the demo's history: last week from the ledger
    assert st["台账 Ledger"] == "已记入"
    assert "读取 164 行 = 有效 160 + 拒绝 4 + 被替代 0" in excel.last_run("consolidate")
    assert any(str(s).startswith("xlsales: 汇总中 1/3 R001.xlsx") for s in excel.app.impl._status_log)


def _figures(path: Path) -> dict:
    """The report's cells (values and formulas), without the per-run parts."""
    return normalize.content(path)["sheets"]


def test_button_and_cli_give_the_same_report_including_last_week(excel: Excel, tmp_path: Path) -> None:
    folder = excel.folder
    assert main(["consolidate", str(folder), "--as-of", LAST_WEEK, "--json"]) == 0  # last week's report exists
    buttons.consolidate()
    assert excel.alerts == []
    assert excel.status()["上周 Last week"].endswith(f"({LAST_WEEK})")  # the snapshot the CLI just recorded
    by_button = folder / "reports" / f"consolidated-{WEEK}.xlsx"
    by_cli = tmp_path / "cli.xlsx"
    assert main(["consolidate", str(folder), "--out", str(by_cli), "--json"]) == 0
    a, b = _figures(by_button), _figures(by_cli)
    diff = normalize.diff(a, b)  # the links to the returned workbooks are relative to where each report is
    assert diff and all(d.startswith("/提交/cells/") and "HYPERLINK(" in d and "/returns/2026-11-23/" in d
                        for d in diff)
    assert [d for d in diff if "R002.xlsx" in d], "R002's file has issues: its return is linked"
    # last week's commit is a figure, not "no previous week"
    wb = openpyxl.load_workbook(by_button, data_only=True)
    ws = wb["周度承诺"]
    header = [c.value for c in ws[2]]
    col = header.index("上周承诺") + 1
    values = [ws.cell(r, col).value for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value]
    assert values and all(isinstance(v, int | float) for v in values)


def test_a_missing_inbox_is_one_message_box_and_the_status(excel: Excel) -> None:
    shutil.rmtree(excel.folder / "inbox")
    buttons.consolidate()
    (text, title, buttons_, mode), = excel.alerts
    assert text.startswith("找不到收件箱文件夹") and "No inbox folder" in text
    assert title == "xlsales" and mode == "critical" and "Traceback" not in text
    assert excel.status()["结果 Result"] == "出错 Failed"
    assert "出错" in excel.last_run("consolidate")
    assert not (excel.folder / "reports").exists()
    excel.assert_only_status_written()
    excel.assert_restored()


def test_a_failure_to_write_is_explained_not_a_traceback(excel: Excel) -> None:
    (excel.folder / "reports").write_text("not a folder")  # the report cannot be written
    buttons.consolidate()
    (text, _, _, mode), = excel.alerts
    assert "无法写入" in text and "Cannot write" in text and "reports" in text and mode == "critical"
    assert "Traceback" not in text
    excel.assert_only_status_written()
    excel.assert_restored()


def test_a_broken_install_is_a_message(excel: Excel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xlsales.run", None)  # `import xlsales.run` now fails, as in a broken install
    buttons.consolidate()
    (text, _, _, mode), = excel.alerts
    assert "pip install --upgrade xlsales" in text and mode == "critical"
    excel.assert_only_status_written()
    excel.assert_restored()


def test_setup_errors_stop_and_are_listed_in_the_status(excel: Excel) -> None:
    path = excel.folder / "manager.xlsm"
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb["名单"]
    ws["A4"] = ws["A3"].value  # the second rep gets the first rep's id: a duplicate
    wb.save(path)
    buttons.consolidate()
    assert "设置有 1 个错误" in excel.alerts[0][0]
    st = excel.status()
    assert st["首要问题 First issues"] == 1
    assert st["manager.xlsm!名单!A4"] == "duplicate_key"
    assert not (excel.folder / "reports").exists()


def _snapshots(folder: Path) -> int:
    book = open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}")
    try:
        return len(book.snapshots())
    finally:
        book.close()


def test_a_report_already_open_is_closed_only_if_the_manager_agrees(excel: Excel) -> None:
    buttons.consolidate()
    report = excel.folder / "reports" / f"consolidated-{WEEK}.xlsx"
    first = [b for b in excel.app.books if b.name == report.name][0]
    excel.app.impl._answer = "cancel"
    before = _snapshots(excel.folder)
    written = {p: p.read_bytes() for p in sorted((excel.folder / "returns").rglob("*.xlsx")) + [report]}
    assert len(written) > 1  # the demo's mistakes: some reps get their workbook back
    sorted((excel.folder / "inbox").glob("*.xlsx"))[0].unlink()  # new inputs: they would be a new snapshot
    buttons.consolidate()
    (question, _, choice, _), = excel.alerts
    assert choice == "ok_cancel" and "已在 Excel 中打开" in question
    assert [b.name for b in excel.app.books].count(report.name) == 1 and first.impl._closed is False
    assert excel.status()["结果 Result"] == "已取消 Cancelled"
    assert _snapshots(excel.folder) == before  # a cancelled run records nothing in the ledger
    # … and writes nothing: neither the report nor a returned workbook
    assert {p: p.read_bytes() for p in sorted((excel.folder / "returns").rglob("*.xlsx")) + [report]} == written
    excel.app.impl._answer = "ok"
    buttons.consolidate()
    assert first.impl._closed is True
    assert [b.name for b in excel.app.books].count(report.name) == 1
    excel.assert_only_status_written()


def test_onedrive_address_is_mapped_to_the_synced_folder(excel: Excel, monkeypatch: pytest.MonkeyPatch) -> None:
    root = excel.folder.parent.parent  # …/销售 团队 plays the local OneDrive folder
    monkeypatch.setenv("OneDrive", str(root))
    monkeypatch.delenv("OneDriveConsumer", raising=False)
    excel.book.impl._fullname = "https://d.docs.live.net/abc123/销售 团队/华东/manager.xlsm"
    buttons.consolidate()
    assert excel.alerts == []
    assert (excel.folder / "reports" / f"consolidated-{WEEK}.xlsx").exists()


def test_an_unmapped_onedrive_address_says_what_to_configure(excel: Excel, monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("OneDrive", str(tmp_path / "elsewhere"))
    excel.book.impl._fullname = "https://d.docs.live.net/abc123/华东/manager.xlsm"
    buttons.consolidate()
    (text, *_), = excel.alerts
    assert "OneDrive" in text and "ONEDRIVE_CONSUMER_WIN" in text


def test_targets_writes_and_opens_the_targets_workbook(excel: Excel) -> None:
    buttons.targets()
    assert excel.alerts == []
    out = excel.folder / "reports" / "targets.xlsx"
    assert out.exists() and [b.name for b in excel.app.books] == ["manager.xlsm", "targets.xlsx"]
    st = excel.status()
    assert st["销售额"] == 120_000_000 and st["销售额 note"] == "各层合计一致"
    excel.assert_only_status_written()
    excel.assert_restored()


def test_refresh_rolls_every_rep_forward_to_next_week(excel: Excel) -> None:
    templates = excel.folder / "templates"
    (templates / "R002.xlsx").unlink()
    buttons.refresh()
    assert excel.alerts == []
    nxt = (dt.date.fromisoformat(WEEK) + dt.timedelta(days=7)).isoformat()  # the week after the one consolidated
    assert (templates / "R002.xlsx").exists() and (templates / f"R001-{nxt}.xlsx").exists()
    st = excel.status()
    assert st["新工作簿 New workbooks"] == 4 and st["新工作簿 New workbooks note"] == \
        "R001.xlsx, R002.xlsx, R003.xlsx, R004.xlsx"
    assert st["周期 Week of"] == nxt
    assert f"{nxt} 这一周的工作簿 4 份" in excel.last_run("refresh")
    excel.assert_only_status_written()


def test_english_setup_gets_english_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "en"
    assert main(["init", str(d), "--lang", "en", "--period", WEEK]) == 0
    shutil.rmtree(d / "inbox")
    excel = Excel(d, monkeypatch)
    buttons.consolidate()
    (text, *_), = excel.alerts
    assert "No inbox folder" in text
    assert "No inbox folder" in excel.status()["结果 Result note"]


def test_a_missing_control_sheet_does_not_stop_the_report(excel: Excel) -> None:
    excel.book.impl._sheets._sheets[0]._name = "Control (renamed)"
    buttons.consolidate()
    (text, _, _, mode), = excel.alerts
    assert "运行状态" in text and mode == "info"
    assert (excel.folder / "reports" / f"consolidated-{WEEK}.xlsx").exists()


def test_issues_shown_fit_the_room_left_and_say_how_many_more() -> None:
    from xlsales.core.issues import load_all_rules, make

    load_all_rules()
    issues = [make("file_corrupt", f"R{n:03}.xlsx") for n in range(12)]
    full = buttons._issue_lines(issues, "zh")
    assert len(full) == 1 + buttons.FIRST_ISSUES + 1 and full[-1][:2] == ("…", 12 - buttons.FIRST_ISSUES)
    tight = buttons._issue_lines(issues, "zh", room=5)  # a national report's block has two more lines above
    assert len(tight) == 5 and tight[0][1] == 12 and [x[0] for x in tight[1:4]] == ["R000.xlsx", "R001.xlsx",
                                                                                      "R002.xlsx"]
    assert tight[-1][:2] == ("…", 9)
    assert buttons._issue_lines(issues[:2], "zh", room=5)[1:] == full[1:3]  # all fit: no "more" line
