"""The Python behind the Control sheet's buttons (xlwings ``RunPython`` targets).

Each button runs the same core as the CLI on the folder holding the workbook
that called it, then renders its result into that open workbook:

* :func:`consolidate` — ``xlsales consolidate``: the report file under
  ``reports/`` and the same report model rendered live into the report sheets;
* :func:`targets` — ``xlsales targets``: ``reports/targets.xlsx`` and a short
  summary on ``目标结果 Targets``;
* :func:`refresh` — re-reads and validates the setup (as last saved), lists
  the issues on ``设置检查 Setup check`` and writes templates for active reps
  that have none.

Progress goes to Excel's status bar; any problem becomes a message box in the
setup's language — an exception never escapes to xlwings' traceback dialog.

xlwings calls made here, besides those of :mod:`xlsales.excel.live`::

    xw.Book.caller()
    book.fullname
    book.app
    app.status_bar = str | False
    app.screen_updating = bool
    app.alert(prompt, title, mode=...)

按钮背后的 Python:与命令行相同的核心;进度在状态栏,错误以对话框显示,不显示 Python 回溯。
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlwings as xw

from .. import schema
from ..issues import Issue, count
from ..model import Block, Report
from ..setup import Setup
from .live import Status, render_live
from .workbook import CONTROL_SHEET, LAST_RUN

SETUP_CHECK_SHEET = "设置检查 Setup check"
TARGETS_SHEET = "目标结果 Targets"
TITLE = "xlsales"


class ButtonError(Exception):
    """A problem the user can fix, with its message in zh and en."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


# --- the three buttons ---------------------------------------------------------------

def consolidate() -> None:
    """Button 汇总 Consolidate."""
    _run("consolidate", _consolidate)


def targets() -> None:
    """Button 目标分解 Targets."""
    _run("targets", _targets)


def refresh() -> None:
    """Button 刷新设置 Refresh."""
    _run("refresh", _refresh)


# --- the frame every button runs in ----------------------------------------------------

class _Ctx:
    def __init__(self, book: Any) -> None:
        self.book = book
        self.app = book.app
        self.folder = Path(book.fullname).parent
        self.lang = "zh"

    def status(self, text: str) -> None:
        self.app.status_bar = f"xlsales: {text}"

    def progress(self, what: str) -> Status:
        def show(i: int, n: int, name: str) -> None:
            self.status(f"{what} {i}/{n} {name}")

        return show


def _run(action: str, body: Callable[[_Ctx], str]) -> None:
    book = xw.Book.caller()
    ctx = _Ctx(book)
    ctx.app.screen_updating = False
    try:
        done = body(ctx)
        _last_run(ctx, action, done)
    except ButtonError as e:
        _alert(ctx, _t(ctx.lang, e.zh, e.en), "critical")
        _last_run(ctx, action, _t(ctx.lang, e.zh, e.en))
    except Exception as e:  # anything else: a plain message, never a traceback dialog
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        _alert(ctx, _t(ctx.lang, f"运行出错,未完成:{detail}\n请检查收件箱和设置后重试;如仍出错,请把此信息发给管理员。",
                       f"The run failed and did not finish: {detail}\nCheck the inbox and the setup and try again; "
                       "if it keeps failing, send this message to your administrator."), "critical")
        _last_run(ctx, action, _t(ctx.lang, f"出错:{detail}", f"failed: {detail}"))
    finally:
        ctx.app.status_bar = False
        ctx.app.screen_updating = True


def _alert(ctx: _Ctx, text: str, mode: str = "info") -> None:
    ctx.app.screen_updating = True
    ctx.app.alert(text, TITLE, mode=mode)


def _last_run(ctx: _Ctx, action: str, text: str) -> None:
    if CONTROL_SHEET not in [s.name for s in ctx.book.sheets]:
        return
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    ctx.book.sheets[CONTROL_SHEET].range(LAST_RUN[action]).value = "'" + f"{stamp} · {text}"


def _setup(ctx: _Ctx, stop_on_errors: bool = True) -> tuple[Setup, list[Issue]]:
    from ..manager import load_setup

    ctx.status(_t(ctx.lang, "读取设置…", "reading the setup…"))
    setup, issues = load_setup(Path(ctx.book.fullname))
    ctx.lang = setup.lang if setup.lang in schema.LANGS else "zh"
    errors = [i for i in issues if i.severity == "error"]
    if errors and stop_on_errors:
        _issues_sheet(ctx, issues)
        raise ButtonError(f"设置有 {len(errors)} 个错误,已列在「{SETUP_CHECK_SHEET}」表;请修正并保存后再试。",
                          f"The setup has {len(errors)} error(s), listed on '{SETUP_CHECK_SHEET}'; fix them, save "
                          "and try again.")
    return setup, issues


def _issues_sheet(ctx: _Ctx, issues: list[Issue]) -> None:
    from ..report import ISSUES, SEVERITY

    rep = Report("xlsales setup check", ctx.lang)  # type: ignore[arg-type]
    sh = rep.sheet(SETUP_CHECK_SHEET)
    sh.put(0, 0, _t(ctx.lang, f"设置检查:{len(issues)} 个问题", f"Setup check: {len(issues)} issue(s)"), style="subtitle")
    rows = [{**i.as_dict(), "severity": SEVERITY[ctx.lang][i.severity]} for i in issues]
    sh.blocks.append(Block(ISSUES, rows))
    sh.freeze = (2, 0)
    render_live(rep, ctx.book)


# --- bodies ----------------------------------------------------------------------------

def _consolidate(ctx: _Ctx) -> str:
    from ..commit import full_report
    from ..consolidate import consolidate as run
    from ..model import render_xlsx
    from ..targets_book import load_targets

    setup, _ = _setup(ctx)
    inbox = ctx.folder / (setup.setting("inbox", "inbox") or "inbox")
    if not inbox.is_dir():
        raise ButtonError(f"找不到收件箱文件夹 {inbox}。请在「设置」表中检查 inbox。",
                          f"No inbox folder {inbox}. Check 'inbox' on the Settings sheet.")
    c = run(inbox, setup, progress=ctx.progress(_t(ctx.lang, "读取", "reading")))
    out = ctx.folder / (setup.setting("reports", "reports") or "reports") / f"consolidated-{c.period.isoformat()}.xlsx"
    ctx.status(_t(ctx.lang, "生成报告…", "building the report…"))
    targets, _source = load_targets(setup, ctx.folder)
    report = full_report(c, setup, ctx.lang, targets)  # type: ignore[arg-type]  # the CLI's report, sheet for sheet
    render_xlsx(report, out)
    render_live(report, ctx.book, ctx.progress(_t(ctx.lang, "写入", "writing")))
    s = c.summary(out)
    f, r, i = s["files"], s["rows"], s["issues"]
    return _t(ctx.lang,
              f"{f['read']} 个文件,未提交 {f['missing']} 人;读取 {r['read']} 行 = 有效 {r['accepted']} + 拒绝 "
              f"{r['rejected']};错误 {i['error']},警告 {i['warning']}。报告:{out.name}",
              f"{f['read']} files, {f['missing']} missing; rows {r['read']} = {r['accepted']} accepted + "
              f"{r['rejected']} rejected; {i['error']} errors, {i['warning']} warnings. Report: {out.name}")


def _targets(ctx: _Ctx) -> str:
    from ..targets_book import build_targets_workbook, default_out

    setup, load_issues = _setup(ctx)
    out = default_out(setup, ctx.folder)
    ctx.status(_t(ctx.lang, "分解目标…", "decomposing targets…"))
    res = build_targets_workbook(setup, out, ctx.lang)
    issues = [*load_issues, *(Issue(**d) for d in res["issues"])]
    render_live(targets_report(setup, res, issues, ctx.lang), ctx.book)
    n = count(issues)
    return _t(ctx.lang, f"已写出 {out.name};问题:错误 {n['error']},警告 {n['warning']}",
              f"wrote {out.name}; issues: {n['error']} errors, {n['warning']} warnings")


def targets_report(setup: Setup, res: dict, issues: list[Issue], lang: str) -> Report:
    """The short targets summary as a report model: one row per target kind, then the issues."""
    from ..report import ISSUES, SEVERITY

    rep = Report("xlsales targets", lang)  # type: ignore[arg-type]
    sh = rep.sheet(TARGETS_SHEET)
    sh.widths = {0: 22, 1: 18, 2: 18, 3: 40}
    sh.put(0, 0, _t(lang, "目标分解结果", "Target decomposition"), style="title")
    sh.put(1, 0, str(res["workbook"]), style="note")
    for col, text in enumerate(("目标类型 Kind", "计划目标 Plan", "调高目标 Raised", "各层合计 Levels")):
        sh.put(3, col, text, style="header")
    row = 4
    for kind, v in res["kinds"].items():
        if v["target"] is None:
            continue
        ok = all(s == v["target"] for s in v["levels"].values())
        raised = (v.get("raised") or {}).get("target")
        sh.put(row, 0, setup.label("target_kind", kind, lang), style="label")
        sh.put(row, 1, v["target"], style="money")
        sh.put(row, 2, raised, style="money")
        sh.put(row, 3, _t(lang, "各层合计一致", "every level adds up") if ok else _t(lang, "合计不一致!", "levels differ!"),
               style="good" if ok else "bad")
        row += 1
    if issues:
        first = row + 2
        sh.put(first - 1, 0, _t(lang, f"问题:{len(issues)} 个", f"Issues: {len(issues)}"), style="subtitle")
        rows = [{**i.as_dict(), "severity": SEVERITY[lang][i.severity]} for i in issues]
        sh.blocks.append(Block(dataclasses.replace(ISSUES, first_row=first), rows))
    return rep


def _refresh(ctx: _Ctx) -> str:
    from ..templates import build_rep_workbook

    setup, issues = _setup(ctx, stop_on_errors=False)
    _issues_sheet(ctx, issues)
    errors = [i for i in issues if i.severity == "error"]
    made: list[str] = []
    if not errors:
        folder = ctx.folder / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        for rep in setup.active_reps().to_dict("records"):
            path = folder / f"{rep['rep_id']}.xlsx"
            if not path.exists():
                ctx.status(_t(ctx.lang, f"生成模板 {path.name}", f"writing template {path.name}"))
                build_rep_workbook(path, setup, rep, ctx.lang)  # type: ignore[arg-type]
                made.append(path.name)
    n = count(issues)
    text = _t(ctx.lang, f"设置问题:错误 {n['error']},警告 {n['warning']};新模板 {len(made)} 份",
              f"setup issues: {n['error']} errors, {n['warning']} warnings; {len(made)} new template(s)")
    if errors:
        raise ButtonError(f"设置有 {len(errors)} 个错误,已列在「{SETUP_CHECK_SHEET}」表;修正前不生成模板。",
                          f"The setup has {len(errors)} error(s), listed on '{SETUP_CHECK_SHEET}'; no templates "
                          "are written until they are fixed.")
    return text + (f" ({', '.join(made)})" if made else "")
