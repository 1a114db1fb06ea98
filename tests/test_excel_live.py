"""The live renderer writes the same report as the file renderer (checked against tests/xwstub.py, not Excel)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from xlsales.cli import main
from xlsales.commit import full_report
from xlsales.consolidate import consolidate
from xlsales.excel.live import excel_value, render_live
from xlsales.manager import load_setup
from xlsales.model import Report, render_xlsx
from xlsales.targets_book import load_targets

from . import xwstub


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    d = tmp_path_factory.mktemp("live") / "demo"
    assert main(["demo", str(d), "--reps", "4", "--period", "2026-11-23"]) == 0
    setup, issues = load_setup(d)
    assert not [i for i in issues if i.severity == "error"]
    targets, _ = load_targets(setup, d)  # the whole report: reviews, variance, rollups, sources
    rep = full_report(consolidate(d / "inbox", setup, dt.date(2026, 11, 25)), setup, "zh", targets)
    return rep, render_xlsx(rep, d / "file.xlsx")


def _file_cells(ws) -> dict[tuple[int, int], tuple[object, str]]:
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and c.value != "":
                out[(c.row, c.column)] = (c.value, c.number_format)
    return out


def _stub_cells(sh: xwstub.Sheet) -> dict[tuple[int, int], tuple[object, str]]:
    return {k: (c.formula if c.formula is not None else c.value, c.number_format or "General")
            for k, c in sh.cells.items() if c.formula is not None or c.value not in (None, "")}


def test_live_render_matches_file_cell_by_cell(report: tuple[Report, Path]) -> None:
    rep, path = report
    book = xwstub.Book("/x/manager.xlsm", ("控制台 Control", "设置"))
    statuses: list[tuple[int, int, str]] = []
    names = render_live(rep, book, lambda i, n, s: statuses.append((i, n, s)))
    wb = openpyxl.load_workbook(path)
    assert names == wb.sheetnames == [s.name for s in book.sheets][2:]
    assert statuses[-1] == (len(names), len(names), names[-1])
    checked = 0
    for name in names:
        want, got = _file_cells(wb[name]), _stub_cells(book.sheets[name])
        assert set(got) == set(want), name
        for k, (value, fmt) in want.items():
            assert got[k][0] == value, (name, k)
            assert got[k][1] == fmt, (name, k, "number format")
            checked += 1
        assert (wb[name].freeze_panes or None) == (
            None if book.sheets[name].frozen_at is None else
            f"{openpyxl.utils.get_column_letter(book.sheets[name].frozen_at[1])}{book.sheets[name].frozen_at[0]}")
    assert checked > 1000
    summary = book.sheets["汇总"]
    assert any(c.formula and c.formula.startswith("=SUMIFS(") for c in summary.cells.values())
    assert summary.get(1, 1).bold and summary.get(1, 1).font_color == "#1F4E78"


def test_rerender_clears_and_keeps_sheets(report: tuple[Report, Path]) -> None:
    rep, _ = report
    book = xwstub.Book("/x/manager.xlsm", ("控制台 Control",))
    render_live(rep, book)
    book.sheets["汇总"].range((200, 1)).value = "stale"
    render_live(rep, book)
    assert [s.name for s in book.sheets].count("汇总") == 1
    assert book.sheets["汇总"].clears == 1 and book.sheets["汇总"].get(200, 1).value is None


def test_text_is_never_a_formula_or_number() -> None:
    book = xwstub.Book("/x/b.xlsm", ("S",))
    sh = book.sheets["S"]
    for i, text in enumerate(["=cmd|' /C calc'!A0", "001", "+1", "2026-11-30"], start=1):
        sh.range((i, 1)).value = excel_value(text)
        assert sh.get(i, 1).value == text and sh.get(i, 1).formula is None
    assert excel_value(dt.date(2026, 1, 2)) == dt.datetime(2026, 1, 2)
    # the stand-in does what Excel does with unprotected text, so the test above can fail
    sh.range((9, 1)).value = "001"
    assert sh.get(9, 1).value == 1.0
    with pytest.raises(RuntimeError, match="missing sheet"):
        sh.range((10, 1)).value = "=SUM('Nope'!A1:A2)"
