"""``manager.xlsm``: the manager workbook with a Control sheet, buttons and the VBA project.

Layout: first sheet ``控制台 Control`` with three Form Control buttons
(``XS_Consolidate``, ``XS_Targets``, ``XS_Refresh``; captions in zh and en),
what each does, and the last-run cells the buttons fill; then the setup
sheets of :func:`xlsales.report.templates.build_manager_workbook`; last the
``xlwings.conf`` sheet.  The VBA project holds xlwings' standalone modules
(``xlwings.bas``, ``Dictionary.cls``) and every ``macros/*.bas``: the buttons,
the generated UDF wrappers and the ``XS_SelfTest`` macro (it writes
``xlsales-ok`` into Control!A1; it ships so that the LibreOffice check runs on
the very file users get).

``xlwings.conf`` sheet: standalone ``RunPython`` reads its settings from a
sheet of that name (key in column A, value in B, contiguous from A1), then
from ``xlwings.conf`` beside the workbook, then ``~/.xlwings/xlwings.conf``.
The sheet sets only ``UDF Modules`` (``xlsales.excel.udfs``, for an optional
Import Functions); a key present with an empty value would override the
user's config file, so interpreter, conda and PYTHONPATH are left to the
user's ``~/.xlwings/xlwings.conf`` (``python`` on PATH otherwise).

主管宏工作簿:控制台按钮 + 设置表 + VBA 工程(xlwings 独立模式)。
"""

from __future__ import annotations

from pathlib import Path

from xlsxwriter.workbook import Workbook

from xlsales import __version__
from xlsales.core.schema import Lang
from xlsales.core.setup import Setup
from xlsales.report.templates import build_manager_workbook
from xlsales.report.writer import Formats, print_setup

from .vba import add_buttons_and_vba, build_vba_project, document_module_names, load_modules, xlwings_modules

MACROS = Path(__file__).resolve().parents[2] / "macros"
CONTROL_SHEET = "控制台 Control"
CONF_SHEET = "xlwings.conf"
CONF = [("UDF Modules", "xlsales.excel.udfs")]

#: action → (button macro, zh caption, en caption, zh what, en what); in button order.
ACTIONS: dict[str, tuple[str, str, str, str, str]] = {
    "consolidate": ("XS_Consolidate", "汇总", "Consolidate",
                    "与 xlsales consolidate 相同:读取收件箱中所有业务员工作簿,逐格校验,把报告写到 reports/ 并在 Excel 中"
                    "另行打开;本工作簿只在下方「运行状态」中记录结果,其他单元格一概不动。",
                    "As xlsales consolidate: reads every rep workbook in the inbox, validates each cell, writes the "
                    "report to reports/ and opens it as its own workbook; this workbook records only the Status block "
                    "below, no other cell is touched."),
    "targets": ("XS_Targets", "目标分解", "Targets",
                "与 xlsales targets 相同:按设置中的目标、权重和旺淡季分解目标,写出 reports/targets.xlsx 并打开;"
                "结果记在「运行状态」中。",
                "As xlsales targets: decomposes the targets by the weights and seasonality in the setup, writes "
                "reports/targets.xlsx and opens it; the result goes to the Status block."),
    "refresh": ("XS_Refresh", "刷新设置", "Refresh",
                "与 xlsales roll 相同:重新读取并校验已保存的设置,为每位在职业务员写出下一周的工作簿(templates/,"
                "按其最近一次有效提交预填,原工作簿按日期另存);问题列在「运行状态」中。",
                "As xlsales roll: re-checks the saved setup and writes each active rep's workbook for next week "
                "into templates/, pre-filled from their latest accepted submission; problems go to the Status block."),
}
FIRST_BUTTON_ROW = 4  # 0-based row of the first button; each action takes 4 rows
#: action → (row, col), 1-based, of the cell holding the last run's time and summary
LAST_RUN = {a: (FIRST_BUTTON_ROW + 4 * i + 3, 4) for i, a in enumerate(ACTIONS)}
#: what the Consolidate button reads (1-based row, col): 本文件夹 this folder's inbox, or 全公司 the national report
#: from the regions' snapshots in the shared ledger (as ``xlsales consolidate --scope company``).  Row 4 of the
#: Consolidate block, a cell the manager sets and no button writes.
SCOPE_CELL = (FIRST_BUTTON_ROW + 4, 4)
SCOPES: dict[str, tuple[str, str]] = {"folder": ("本文件夹", "This folder"), "company": ("全公司", "Company")}
#: the Status block the buttons write: 1-based (first row, first col) and its size (rows, cols).
#: Together with the LAST_RUN cells it is the only part of manager.xlsm a button ever writes.
STATUS_TITLE_ROW = FIRST_BUTTON_ROW + 4 * len(ACTIONS) + 3  # 0-based row of the block's title
STATUS_AT = (STATUS_TITLE_ROW + 2, 2)
STATUS_SHAPE = (36, 3)


def status_cells() -> set[tuple[int, int]]:
    """Every cell (1-based row, col) of the Control sheet a button may write."""
    r0, c0 = STATUS_AT
    block = {(r0 + i, c0 + j) for i in range(STATUS_SHAPE[0]) for j in range(STATUS_SHAPE[1])}
    return block | set(LAST_RUN.values())


def buttons() -> list[dict]:
    """The Form Control buttons of the Control sheet (XlsxWriter ``insert_button`` options plus ``cell``)."""
    return [{"cell": f"B{FIRST_BUTTON_ROW + 4 * i + 1}", "macro": spec[0], "caption": f"{spec[1]}  {spec[2]}",
             "width": 150, "height": 44, "font": {"bold": True}}
            for i, spec in enumerate(ACTIONS.values())]


def modules(macros: Path = MACROS) -> list[tuple[str, str]]:
    """The VBA modules of manager.xlsm: xlwings' standalone modules, then ``macros/*.bas``."""
    return xlwings_modules() + load_modules(macros)


def _control(wb: Workbook, fm: Formats, lang: Lang) -> None:
    ws = wb.add_worksheet(CONTROL_SHEET)
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 62)
    ws.set_column(3, 3, 64)
    ws.set_column(4, 4, 56)
    ws.write_string(1, 1, "xlsales 控制台 · Control", fm.get("text", bold=True, font_size=16, font_color="#1F4E78"))
    ws.write_string(2, 1, "点击按钮运行;进度显示在状态栏,出错时弹出说明。 Click a button; progress shows on the status "
                    "bar, problems in a message box.", fm.note())
    what = fm.get("text", text_wrap=True, valign="top")
    label = fm.get("text", bold=True, font_color="#595959")
    last = fm.get("text", fill="#F2F2F2", border=1, border_color="#D9D9D9", text_wrap=True)
    for i, (_macro, _zh, _en, zh, en) in enumerate(ACTIONS.values()):
        r = FIRST_BUTTON_ROW + 4 * i
        ws.write_string(r, 2, zh, what)
        ws.write_string(r + 1, 2, en, what)
        ws.set_row(r, 32)
        ws.set_row(r + 1, 44)
        ws.write_string(r + 2, 2, "上次运行 Last run", label)
        ws.write_blank(r + 2, 3, None, last)
        ws.set_row(r + 2, 30)  # the Last run text takes two lines
    r = SCOPE_CELL[0] - 1
    ws.set_row(r, 40)
    ws.write_string(r, 2, "汇总范围 Scope", label)
    choices = [f"{zh} {en}" for zh, en in SCOPES.values()]
    ws.write_string(r, 3, choices[0], fm.get("text", fill="#FFF2CC", border=1, border_color="#BF9000"))
    ws.data_validation(r, 3, r, 3, {
        "validate": "list", "source": choices, "input_title": "汇总范围 Scope",
        "input_message": "本文件夹:汇总收件箱中的业务员工作簿。全公司:由共享台账中各大区本周的快照生成全国报告。\n"
                         "This folder: the rep workbooks in the inbox. Company: the national report from the "
                         "regions' snapshots.",
        "error_title": "汇总范围", "error_message": "请从下拉列表选择:" + "、".join(choices)})
    ws.write_string(r, 4, "全公司:由共享台账(设置表 ledger)中各大区本周的快照生成,不读业务员文件。\nCompany: "
                    "the regions' snapshots of the week in the shared ledger (Settings: ledger); no rep file is read.",
                    fm.get("text", italic=True, font_color="#7F7F7F", text_wrap=True, valign="top"))
    foot = FIRST_BUTTON_ROW + 4 * len(ACTIONS) + 1
    ws.write_string(foot, 1, f"xlsales {__version__} · xlwings 0.37.8 · 说明 docs/excel.md", fm.note())
    ws.write_string(STATUS_TITLE_ROW, 1, "运行状态 Status", fm.get("text", bold=True, font_size=13,
                                                              font_color="#1F4E78"))
    ws.write_string(STATUS_TITLE_ROW + 1, 1, "按钮只写这一块和上方的「上次运行」;报告另存为文件并单独打开。"
                    "Buttons write only this block and the Last run cells; reports are files opened on their own.",
                    fm.note())
    key = fm.get("text", bold=True, font_color="#595959")
    value = fm.get("text", num_format="#,##0", align="left")
    r0, c0 = STATUS_AT[0] - 1, STATUS_AT[1] - 1
    for i in range(STATUS_SHAPE[0]):
        ws.write_blank(r0 + i, c0, None, key)
        ws.write_blank(r0 + i, c0 + 1, None, value)
    print_setup(ws)
    ws.fit_to_pages(1, 1)
    ws.activate()


def _conf(wb: Workbook, fm: Formats) -> None:
    ws = wb.add_worksheet(CONF_SHEET)
    ws.set_column(0, 1, 24)
    ws.set_column(3, 3, 90)
    for r, (k, v) in enumerate(CONF):
        ws.write_string(r, 0, k)
        ws.write_string(r, 1, v)
    ws.write_string(0, 3, "xlwings 设置(独立模式):A 列键、B 列值,从 A1 起连续。解释器等请写在 ~/.xlwings/xlwings.conf,"
                    "或在此加一行 Interpreter_Win / Interpreter_Mac。", fm.note())
    ws.write_string(1, 3, "xlwings settings (standalone): key in A, value in B, contiguous from A1. Put the interpreter "
                    "in ~/.xlwings/xlwings.conf or add an Interpreter_Win / Interpreter_Mac row here.", fm.note())


def build_manager_xlsm(path: Path, setup: Setup, lang: Lang = "zh", macros: Path = MACROS) -> Path:
    """Write ``manager.xlsm`` (atomically): Control sheet + buttons, setup sheets, xlwings.conf, VBA project."""
    path = Path(path)
    if path.suffix.lower() != ".xlsm":
        raise ValueError(f"manager workbook with macros must end in .xlsm: {path}")
    mods = modules(macros)

    def before(wb: Workbook, fm: Formats) -> None:
        _control(wb, fm, lang)

    def after(wb: Workbook, fm: Formats) -> None:
        _conf(wb, fm)
        vba = build_vba_project(mods, document_modules=document_module_names(wb))
        add_buttons_and_vba(wb, wb.get_worksheet_by_name(CONTROL_SHEET), buttons(), vba)

    return build_manager_workbook(path, setup, lang, before=before, after=after)
