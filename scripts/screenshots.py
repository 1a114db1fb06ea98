"""Render the README screenshots with LibreOffice headless (demo data, first rows of each sheet).

    python scripts/screenshots.py DEMO_DIR docs/img
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import openpyxl

from xlsales.io import libreoffice


def shot(src: Path, sheet: str, area: str, out: Path) -> Path:
    """PNG of one sheet's ``area`` (a copy with only that sheet visible and a print area)."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / f"{out.stem}.xlsx"
        wb = openpyxl.load_workbook(src)
        for ws in wb.worksheets:
            if ws.title != sheet:
                ws.sheet_state = "hidden"
                ws.print_area = None  # LibreOffice prints a hidden sheet that has a print area
        ws = wb[sheet]
        wb.active = wb.worksheets.index(ws)
        ws.print_area = area
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        wb.save(tmp)
        pngs = libreoffice.render_png(tmp, Path(d) / "png", dpi=110)
        shutil.copy(pngs[0], out)
    return out


def control_after_run(demo: Path, out: Path) -> Path:
    """The Control sheet after a click on Consolidate: the button runs (through xlwings' own classes on the
    test stand-in engine) on a copy of the demo folder, its Status block is copied into manager.xlsm, rendered."""
    import xlwings as xw

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import xlstandin
    from xlsales.excel import buttons
    from xlsales.excel.workbook import CONTROL_SHEET, status_cells

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "demo"
        shutil.copytree(demo, folder)
        _app, book = xlstandin.start(folder / "manager.xlsm")
        xw.Book._mock_caller = book  # type: ignore[attr-defined]  # xlwings' own hook for Book.caller()
        buttons.consolidate()
        wb = openpyxl.load_workbook(folder / "manager.xlsm", keep_vba=True)
        ws = wb[CONTROL_SHEET]
        for (r, c), cell in xlstandin.cells(book, CONTROL_SHEET).items():
            if (r, c) in status_cells():
                ws.cell(r, c).value = cell.formula or cell.value
        wb.save(folder / "control.xlsm")
        return shot(folder / "control.xlsm", CONTROL_SHEET, "A1:E58", out)


def returned_with_comments(demo: Path, rep: str, sheet_key: str, area: tuple[int, int, int, int], out: Path) -> Path:
    """PNG of a returned workbook's sheet with its comments shown (a printout hides them): the return is built
    again, as consolidation builds it, with comments visible and only that sheet printed."""
    from xlsales.report.returns import _Annotate, plan_returns
    from xlsales.report.templates import build_rep_workbook, load_key
    from xlsales.run import consolidate_folder

    res = consolidate_folder(demo, ledger="", out=Path(tempfile.mkdtemp()) / "r.xlsx")
    c, setup = res.consolidation, res.setup
    plan = next(p for p in plan_returns(c, setup) if p.rep_id == rep)
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}

    class Shown(_Annotate):
        def after(self, wb, fm, sheets):  # type: ignore[no-untyped-def]
            super().after(wb, fm, sheets)
            target = sheets[sheet_key]
            target.show_comments()
            target.print_area(*area)
            target.fit_to_pages(1, 1)
            target.activate()
            for ws in wb.worksheets():
                if ws is not target:
                    ws.print_area_range = None  # LibreOffice prints a hidden sheet that has a print area
                    ws.hide()

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / f"{out.stem}.xlsx"
        writer = Shown(plan, setup, "zh")
        build_rep_workbook(tmp, setup, roster[rep], "zh", plan.data, key=load_key(demo), period=c.period,
                           after=writer.after)
        pngs = libreoffice.render_png(tmp, Path(d) / "png", dpi=110)
        shutil.copy(pngs[0], out)
    return out


def rep_week(demo: Path, out: Path) -> None:
    """A rep's week in pictures (README): next week's workbook pre-filled, the live checks, the returned one."""
    week = sorted((demo / "returns").iterdir())[-1].name
    print(shot(demo / "templates" / "R002.xlsx", "商机", "A1:Q12", out / "rep-week-prefilled.png"))
    print(shot(demo / "templates" / "R002.xlsx", "说明", "A1:C18", out / "rep-week-instructions.png"))
    print(shot(demo / "inbox" / "R002.xlsx", "商机", "A1:Q14", out / "rep-week-live-checks.png"))
    print(shot(demo / "inbox" / "R002.xlsx", "出勤", "A1:D9", out / "rep-week-attendance.png"))
    print(shot(demo / "returns" / week / "R002.xlsx", "退回问题", "A1:G12", out / "rep-week-returned-issues.png"))
    print(returned_with_comments(demo, "R002", "opportunities", (0, 0, 13, 16), out / "rep-week-returned-comments.png"))


def main(demo: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rep = demo / "inbox" / "R002.xlsx"
    report = sorted((demo / "reports").glob("consolidated-*.xlsx"))[-1]
    print(shot(rep, "商机", "A1:P16", out / "rep-opportunities.png"))
    print(shot(rep, "说明", "A1:C17", out / "rep-instructions.png"))
    print(shot(rep, "拜访", "A1:M18", out / "rep-visits.png"))
    print(shot(report, "汇总", "A1:J40", out / "report-summary.png"))
    print(shot(report, "问题", "A1:H20", out / "report-issues.png"))
    print(shot(report, "周度承诺", "A1:Y23", out / "report-weekly-commit.png"))
    print(shot(report, "月度预测", "A1:W23", out / "report-monthly-review.png"))
    print(shot(report, "商机变化", "A1:S24", out / "report-deal-changes.png"))
    print(shot(report, "预测准确性", "A1:U24", out / "report-accuracy.png"))
    print(shot(report, "赢单率", "A1:I9", out / "report-win-rates.png"))
    print(control_after_run(demo, out / "control-sheet.png"))
    rep_week(demo, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
