"""The buttons run the CLI's core and render into the calling book (xlwings replaced by tests/xwstub.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from xlsales.cli import main
from xlsales.excel import buttons
from xlsales.excel.workbook import CONTROL_SHEET, LAST_RUN
from xlsales.issues import make

from . import xwstub


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("btn") / "demo"
    assert main(["demo", str(d), "--reps", "4", "--period", "2026-11-23"]) == 0
    shutil.rmtree(d / "reports")
    return d


@pytest.fixture
def book(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> xwstub.Book:
    d = tmp_path / "team"
    shutil.copytree(demo_dir, d)
    names = tuple(openpyxl.load_workbook(d / "manager.xlsm", read_only=True, keep_vba=True).sheetnames)
    b = xwstub.Book(str(d / "manager.xlsm"), names)
    monkeypatch.setattr(buttons, "xw", xwstub)
    xwstub.Book.set_caller(b)
    yield b
    xwstub.Book.set_caller(None)


def _last_run(book: xwstub.Book, action: str) -> str:
    return book.sheets[CONTROL_SHEET].get(*LAST_RUN[action]).value


def _finished_cleanly(book: xwstub.Book) -> None:
    assert book.app.status_history[-1] is False and book.app.screen_updating is True


def test_consolidate_writes_file_and_renders_live(book: xwstub.Book) -> None:
    buttons.consolidate()
    folder = Path(book.fullname).parent
    assert book.app.alerts == []
    assert (folder / "reports" / "consolidated-2026-11-23.xlsx").exists()
    names = [s.name for s in book.sheets]
    assert {"汇总", "问题", "提交", "商机"} <= set(names) and names[0] == CONTROL_SHEET
    assert any(str(s).startswith("xlsales: 读取 1/") for s in book.app.status_history)
    assert "读取 144 行 = 有效 140 + 拒绝 4" in _last_run(book, "consolidate")
    _finished_cleanly(book)


def test_missing_inbox_is_a_message_in_the_users_language(book: xwstub.Book) -> None:
    shutil.rmtree(Path(book.fullname).parent / "inbox")
    buttons.consolidate()
    (text, title, mode), = book.app.alerts
    assert text.startswith("找不到收件箱文件夹") and title == "xlsales" and mode == "critical"
    assert "Traceback" not in text
    _finished_cleanly(book)


def test_english_setup_gets_english_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "en"
    assert main(["init", str(d), "--lang", "en", "--period", "2026-11-23"]) == 0
    shutil.rmtree(d / "inbox")
    b = xwstub.Book(str(d / "manager.xlsm"), (CONTROL_SHEET,))
    monkeypatch.setattr(buttons, "xw", xwstub)
    xwstub.Book.set_caller(b)
    try:
        buttons.consolidate()
    finally:
        xwstub.Book.set_caller(None)
    assert b.app.alerts[0][0].startswith("No inbox folder")


def test_unexpected_error_is_a_message_not_a_traceback(book: xwstub.Book, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsales.consolidate

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(xlsales.consolidate, "consolidate", boom)
    buttons.consolidate()
    (text, _, mode), = book.app.alerts
    assert "运行出错" in text and "RuntimeError: disk on fire" in text and "Traceback" not in text
    assert "出错" in _last_run(book, "consolidate")
    _finished_cleanly(book)


def test_setup_errors_stop_and_are_listed(book: xwstub.Book, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsales.manager
    from xlsales.setup import Setup

    bad = make("setup_missing", "manager.xlsm", key="inbox", table="设置")
    monkeypatch.setattr(xlsales.manager, "load_setup", lambda p: (Setup.default(), [bad]))
    buttons.consolidate()
    assert "设置有 1 个错误" in book.app.alerts[0][0]
    sheet = book.sheets[buttons.SETUP_CHECK_SHEET]
    assert sheet.get(1, 1).value == "设置检查:1 个问题" and sheet.get(3, 2).value == "setup_missing"
    assert not (Path(book.fullname).parent / "reports").exists()


def test_targets_writes_workbook_and_summary(book: xwstub.Book) -> None:
    buttons.targets()
    assert book.app.alerts == []
    assert (Path(book.fullname).parent / "reports" / "targets.xlsx").exists()
    sh = book.sheets[buttons.TARGETS_SHEET]
    assert sh.get(5, 1).value == "销售额" and sh.get(5, 2).value == 120_000_000
    assert sh.get(5, 4).value == "各层合计一致"
    _finished_cleanly(book)


def test_refresh_lists_issues_and_creates_missing_templates(book: xwstub.Book) -> None:
    templates = Path(book.fullname).parent / "templates"
    (templates / "R002.xlsx").unlink()
    buttons.refresh()
    assert book.app.alerts == []
    assert (templates / "R002.xlsx").exists()
    assert book.sheets[buttons.SETUP_CHECK_SHEET].get(1, 1).value == "设置检查:0 个问题"
    assert "新模板 1 份 (R002.xlsx)" in _last_run(book, "refresh")
