"""The Python behind the Control sheet's buttons (xlwings ``RunPython`` targets).

Each button runs one job of :mod:`xlsales.run` — the very functions behind
``xlsales consolidate``, ``xlsales targets`` and template refresh — on the
folder holding the workbook that called it:

* :func:`consolidate` writes ``reports/consolidated-<week>.xlsx`` (the CLI's
  report: tables, conditional formats, charts, live formulas) and opens it in
  Excel as its own workbook;
* :func:`targets` writes ``reports/targets.xlsx`` and opens it;
* :func:`refresh` re-checks the saved setup and rolls every rep forward: next week's workbooks, pre-filled.

In ``manager.xlsm`` a button writes nothing but the Status block and its own
*Last run* cell on the 控制台 Control sheet (:func:`xlsales.excel.workbook.status_cells`):
run time, files and rows, issues by severity, the totals, a link to the
report, and on errors the first issues.  Every other cell, and every setup
sheet, is left exactly as it was.

Everything from ``xw.Book.caller()`` on runs inside one guard: a broken
install, a OneDrive/SharePoint address, a setup error or an unexpected
exception all end in one zh/en message box, never in xlwings' traceback
window.  During a run screen updating and events are off and calculation is
manual; all three are restored in ``finally``.  Progress shows on Excel's
status bar (「汇总中 37/200 R037.xlsx」).

Only the standard library is imported at module level, so that even a
missing package is reported in a message box rather than a traceback.
The xlwings calls made here are listed in ``docs/excel.md``.

按钮背后的 Python:与命令行同一流程;报告另存为文件并单独打开,主管工作簿只写「运行状态」一块。
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TITLE = "xlsales"
FIRST_ISSUES = 8  # issues listed in the Status block
HEADER_LINES = 3  # the Status block's first lines: the action, when it ran, its result (see _header)
ERROR_LOG = "xlsales-error.log"
Line = tuple[str, object, str]  # (label, value, note): one row of the Status block

ACTION_LABEL = {"consolidate": ("汇总", "Consolidate"), "targets": ("目标分解", "Targets"),
                "refresh": ("刷新设置", "Refresh")}
PROGRESS_VERB = {"consolidate": ("汇总中", "Consolidating"), "targets": ("分解目标", "Decomposing"),
                 "refresh": ("刷新中", "Refreshing")}


# --- the three buttons ---------------------------------------------------------------

def consolidate() -> None:
    """Button 汇总 Consolidate."""
    _run("consolidate")


def targets() -> None:
    """Button 目标分解 Targets."""
    _run("targets")


def refresh() -> None:
    """Button 刷新设置 Refresh."""
    _run("refresh")


# --- what a run produces ------------------------------------------------------------

@dataclass
class Outcome:
    """How a button's run ended: the Status block's rows, the Last run text, what to open or say."""

    ok: bool
    last_run: tuple[str, str]  # (zh, en)
    lines: list[Line] = field(default_factory=list)
    open_path: Path | None = None
    message: tuple[str, str] | None = None  # a message box (zh, en), shown after the workbook is written
    lang: str = "zh"  # the setup's language: the Last run cell is written in it


class CancelledError(Exception):
    """The manager chose not to go on (e.g. not to close an open report)."""


class _Ctx:
    """What a body needs: the folder, the app (for the status bar and questions), the language."""

    def __init__(self, action: str, app: Any, folder: Path, book: Any = None) -> None:
        self.action, self.app, self.folder, self.book = action, app, folder, book
        self.lang = "zh"

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def status(self, text: str) -> None:
        with contextlib.suppress(Exception):  # a status bar is a courtesy; never a reason to fail
            self.app.status_bar = f"xlsales: {text}"

    def progress(self, i: int, n: int, name: str) -> None:
        zh, en = PROGRESS_VERB[self.action]
        self.status(f"{self.t(zh, en)} {min(i + 1, n)}/{n} {name}")

    def close_open_book(self, path: Path) -> None:
        """Before ``path`` is rewritten: a workbook of that name open in Excel is closed, if the manager agrees."""
        hits = [b for b in self.app.books if str(b.name).casefold() == path.name.casefold()]
        if not hits:
            return
        answer = self.app.alert(self.t(
            f"「{path.name}」已在 Excel 中打开。要重新生成,需先关闭它(未保存的修改会丢失)。关闭并继续吗?",
            f"'{path.name}' is open in Excel. To write it again it must be closed first (unsaved changes are lost). "
            "Close it and go on?"), TITLE, "ok_cancel", "info")
        if answer != "ok":
            raise CancelledError
        for b in hits:
            b.close()


# --- the frame every button runs in ----------------------------------------------------

def _run(action: str) -> None:
    started, t0 = dt.datetime.now(), time.monotonic()
    app: Any = None
    book: Any = None
    ctx: _Ctx | None = None
    saved: list[tuple[str, Any]] = []
    try:
        import xlwings as xw

        book = xw.Book.caller()
        app = book.app
        saved = _quiet(app)
        ctx = _Ctx(action, app, _folder(str(book.fullname)), book)
        outcome = BODIES[action](ctx)
        outcome.lang = ctx.lang
    except Exception as e:  # every failure, whatever it is, becomes a message and a Status block
        outcome = _failure(e, ctx)
    lines = _header(action, started, time.monotonic() - t0, outcome) + outcome.lines
    try:
        if book is not None:
            _write_status(book, action, started, outcome, lines)
    except Exception as e:
        outcome.message = outcome.message or _describe(e)
    finally:
        if app is not None:
            _restore(app, saved)
    if app is None:
        return  # no Excel to talk to (called outside Excel, or xlwings is broken): nothing more to show
    if outcome.ok and outcome.open_path is not None:
        try:
            app.books.open(str(outcome.open_path))
        except Exception as e:
            zh, en = _describe(e)
            outcome.message = (f"已写出 {outcome.open_path},但 Excel 无法打开它:{zh}",
                               f"{outcome.open_path} was written but Excel could not open it: {en}")
    if outcome.message:
        with contextlib.suppress(Exception):
            app.alert(f"{outcome.message[0]}\n\n{outcome.message[1]}", TITLE, "ok",
                      "info" if outcome.ok else "critical")


def _quiet(app: Any) -> list[tuple[str, Any]]:
    """Screen updating and events off, calculation manual; returns what to restore."""
    saved: list[tuple[str, Any]] = []
    for attr, value in (("screen_updating", False), ("enable_events", False), ("calculation", "manual")):
        try:
            before = getattr(app, attr)
            setattr(app, attr, value)
            saved.append((attr, before))
        except Exception:
            pass
    return saved


def _restore(app: Any, saved: list[tuple[str, Any]]) -> None:
    for attr, value in reversed(saved):
        with contextlib.suppress(Exception):
            setattr(app, attr, value)
    with contextlib.suppress(Exception):
        app.status_bar = False


def _folder(fullname: str) -> Path:
    """The local folder of the calling workbook; a OneDrive/SharePoint address is mapped to its synced folder."""
    from xlsales.run import RunError

    full = fullname
    if re.match(r"^https?://", full, re.IGNORECASE):
        try:
            from xlwings.utils import fullname_url_to_local_path

            full = fullname_url_to_local_path(full)
        except Exception as e:
            raise RunError(
                f"manager.xlsm 是从 OneDrive/SharePoint 打开的({fullname}),找不到它在本机的同步文件夹:{e}。"
                "请从本机的同步文件夹打开 manager.xlsm,或在 ~/.xlwings/xlwings.conf 中设置 ONEDRIVE_CONSUMER_WIN、"
                "ONEDRIVE_COMMERCIAL_WIN 或 SHAREPOINT_WIN(Mac 上为 *_MAC)为本机同步文件夹。",
                f"manager.xlsm was opened from OneDrive/SharePoint ({fullname}) and its local synced folder cannot be "
                f"found: {e}. Open manager.xlsm from the synced folder on this computer, or set ONEDRIVE_CONSUMER_WIN, "
                "ONEDRIVE_COMMERCIAL_WIN or SHAREPOINT_WIN (*_MAC on a Mac) in ~/.xlwings/xlwings.conf to it.") from e
    path = Path(full)
    if not path.is_file():
        raise RunError(f"找不到已保存的主管工作簿 {path}。请先把 manager.xlsm 保存到主管文件夹中,再点按钮。",
                       f"The saved manager workbook {path} cannot be found. Save manager.xlsm in the manager's "
                       "folder first, then click the button.")
    return path.parent


def _failure(e: Exception, ctx: _Ctx | None) -> Outcome:
    from_lang = getattr(e, "lang", None) or (ctx.lang if ctx else "zh")
    if isinstance(e, CancelledError):
        return Outcome(False, ("已取消", "cancelled"), [("结果 Result", "已取消 Cancelled", "")])
    zh, en = _describe(e)
    issues = getattr(e, "issues", None) or []
    lines: list[Line] = [("结果 Result", "出错 Failed", zh if from_lang == "zh" else en)]
    lines += _issue_lines(issues, from_lang)
    if not _is_known(e) and ctx is not None:
        log = _log(ctx.folder, e)
        if log:
            zh += f"\n详细信息已写入 {log},请把它发给管理员。"
            en += f"\nDetails were written to {log}; send it to your administrator."
    message = (zh, en) if from_lang == "zh" else (en, zh)  # the setup's language first
    return Outcome(False, (f"出错:{zh.splitlines()[0]}", f"failed: {en.splitlines()[0]}"), lines, message=message,
                   lang=from_lang)


def _is_known(e: Exception) -> bool:
    """A failure whose message says it all (no log needed): the user's to fix, or the environment's."""
    if isinstance(e, ImportError | OSError):
        return True
    try:
        from xlsales.run import RunError
    except Exception:
        return False
    return isinstance(e, RunError)


def _describe(e: Exception) -> tuple[str, str]:
    """A zh and an en sentence for any exception: what happened and what to do."""
    try:
        from xlsales.run import RunError

        if isinstance(e, RunError):
            return e.zh, e.en
    except Exception:
        pass
    detail = "".join(traceback.format_exception_only(type(e), e)).strip()
    if isinstance(e, ImportError):
        return (f"xlsales 的 Python 环境不完整({detail})。请在命令行运行 pip install --upgrade xlsales,"
                "并确认 xlwings.conf 中的 Interpreter 指向安装了 xlsales 的 Python。",
                f"The Python environment of xlsales is incomplete ({detail}). Run pip install --upgrade xlsales and "
                "check that the Interpreter in xlwings.conf is the Python that has xlsales.")
    if isinstance(e, PermissionError):
        return (f"没有权限写入文件({detail})。文件可能在别的程序(如 WPS 或另一个 Excel 窗口)中打开,或文件夹只读;"
                "请关闭它或换一个文件夹后重试。",
                f"No permission to write a file ({detail}). It may be open in another program (WPS or another Excel "
                "window) or the folder is read-only; close it or use another folder, then retry.")
    if isinstance(e, OSError):
        return (f"文件操作失败({detail})。请检查磁盘空间和文件夹权限后重试。",
                f"A file operation failed ({detail}). Check the disk space and folder permissions, then retry.")
    return (f"运行出错,未完成:{detail}。请检查收件箱和设置后重试;如仍出错,请把此信息发给管理员。",
            f"The run failed and did not finish: {detail}. Check the inbox and the setup and try again; "
            "if it keeps failing, send this message to your administrator.")


def _log(folder: Path, e: Exception) -> Path | None:
    """Append the traceback to ``xlsales-error.log`` beside the manager workbook (for support)."""
    path = folder / ERROR_LOG
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')}\n")
            f.write("".join(traceback.format_exception(type(e), e, e.__traceback__)))
        return path
    except OSError:
        return None


def _issue_lines(issues: list, lang: str, room: int = FIRST_ISSUES + 2) -> list[Line]:
    """The first issues, errors first, in at most ``room`` lines: a heading, the issues, and how many more."""
    if not issues:
        return []
    shown = sorted(issues, key=lambda i: i.severity != "error")[:max(0, min(FIRST_ISSUES, room - 2))]
    lines: list[Line] = [("首要问题 First issues", len(issues), "错误在前 errors first")]
    lines += [(i.where() or i.value or i.rule, i.rule, i.message(lang)) for i in shown]
    if len(issues) > len(shown):
        lines.append(("…", len(issues) - len(shown), "其余见报告的问题表 more on the report's Issues sheet"))
    return lines


def _header(action: str, started: dt.datetime, seconds: float, outcome: Outcome) -> list[Line]:
    zh, en = ACTION_LABEL[action]
    lines: list[Line] = [("操作 Action", f"{zh} {en}", ""),
                         ("时间 Run at", started.strftime("%Y-%m-%d %H:%M:%S"), f"用时 took {seconds:.1f} s")]
    if outcome.ok:
        lines.append(("结果 Result", "完成 Done", ""))
    return lines


# --- the Status block -------------------------------------------------------------------

def _write_status(book: Any, action: str, started: dt.datetime, outcome: Outcome, lines: list[Line]) -> None:
    """Write the Status block and this action's Last run cell — the only cells a button writes."""
    from .workbook import CONTROL_SHEET, LAST_RUN, STATUS_AT, STATUS_SHAPE

    if CONTROL_SHEET not in [s.name for s in book.sheets]:
        zh, en = outcome.message or ("", "")
        outcome.message = (f"{zh}\n(找不到「{CONTROL_SHEET}」表,无法记录运行状态。)".strip(),
                           f"{en}\n(The '{CONTROL_SHEET}' sheet is missing; the run status was not recorded.)".strip())
        return
    sheet = book.sheets[CONTROL_SHEET]
    rows, cols = STATUS_SHAPE
    grid = [[_cell(v) for v in line] for line in lines[:rows]]
    grid += [[None] * cols for _ in range(rows - len(grid))]
    r0, c0 = STATUS_AT
    sheet.range((r0, c0), (r0 + rows - 1, c0 + cols - 1)).value = grid
    text = outcome.last_run[0 if outcome.lang == "zh" else 1]
    sheet.range(LAST_RUN[action]).value = _cell(f"{started:%Y-%m-%d %H:%M} · {text}")


def _cell(v: object) -> object:
    """A value as Excel must receive it: numbers as numbers, links as formulas, all other text kept as text."""
    if v is None or isinstance(v, bool | int | float):
        return v
    if isinstance(v, _Link):
        return v.formula()
    return "'" + str(v)


@dataclass(frozen=True)
class _Link:
    """A clickable link to a file (HYPERLINK), its file name shown; plain text if Excel could not hold it."""

    path: Path

    def formula(self) -> str:
        target, shown = str(self.path), self.path.name
        if len(target) > 250:  # a formula's text literals hold at most 255 characters
            return "'" + target
        q = target.replace('"', '""')
        return f'=HYPERLINK("{q}","{shown.replace(chr(34), chr(34) * 2)}")'


# --- the bodies ---------------------------------------------------------------------------

def scope_of(book: Any) -> str:
    """The Control sheet's 汇总范围 Scope: ``"folder"`` (also when the cell is empty or the sheet older) or
    ``"company"``; anything else is a :class:`RunError` naming the choices."""
    from xlsales.run import RunError

    from .workbook import CONTROL_SHEET, SCOPE_CELL, SCOPES

    if book is None or CONTROL_SHEET not in [s.name for s in book.sheets]:
        return "folder"
    raw = book.sheets[CONTROL_SHEET].range(SCOPE_CELL).value
    text = "" if raw is None else str(raw).strip().casefold()
    if not text:
        return "folder"
    for code, (zh, en) in SCOPES.items():
        if text in (code, zh.casefold(), en.casefold(), f"{zh} {en}".casefold()):
            return code
    choices = "、".join(f"{zh} {en}" for zh, en in SCOPES.values())
    row, col = SCOPE_CELL
    cell = f"{chr(64 + col)}{row}"
    raise RunError(f"控制台 {cell} 的汇总范围「{raw}」无法识别:请从下拉列表选择 {choices}。",
                   f"The Scope '{raw}' in {cell} of the Control sheet is not a choice: pick {choices} from its list.")


def _consolidate(ctx: _Ctx) -> Outcome:
    from xlsales.run import ConsolidateResult, consolidate_folder

    res: ConsolidateResult
    if scope_of(ctx.book) == "company":
        from xlsales.company import consolidate_company

        res = consolidate_company(ctx.folder, progress=ctx.progress, before_write=ctx.close_open_book)
    else:
        res = consolidate_folder(ctx.folder, progress=ctx.progress, before_write=ctx.close_open_book)
    ctx.lang = res.lang
    s = res.summary()
    f, r, i, t = s["files"], s["rows"], s["issues"], s["totals"]
    c = res.consolidation
    month = "–".join(t["windows"]["month"])
    lines: list[Line] = [
        ("报告 Report", _Link(res.report), str(res.report)),
        ("本期 Week of", c.period.isoformat(), f"截至 as of {c.as_of.isoformat()}"),
        *_scope_lines(ctx, s),
        ("文件 读取 Files read", f["read"], ""),
        ("　计入 accepted", f["accepted"], ""),
        ("　拒收 rejected", f["rejected"], ""),
        ("　被替代 superseded", f["superseded"], ""),
        ("　未提交 missing", f["missing"], ", ".join(c.missing)),
        *_cache_lines(ctx, s, c),
        ("行 读取 Rows read", r["read"], "读取 = 有效 + 拒绝 + 被替代 read = accepted + rejected + superseded"),
        ("　有效 accepted", r["accepted"], ""),
        ("　拒绝 rejected", r["rejected"], ""),
        ("　被替代 superseded", r["superseded"], ""),
        ("问题 错误 Errors", i["error"], ""),
        ("问题 警告 Warnings", i["warning"], ""),
        ("本月已成交 Closed this month", t["month"]["closed"], month),
        ("本月承诺 Commit this month", t["month"]["commit"], month),
        ("本月有望 Upside this month", t["month"]["upside"], month),
        ("全部未结管道 All open pipeline", t["all_open"]["pipeline"], ctx.t("不限日期", "any close date")),
        ("全部未结加权 All open weighted", t["all_open"]["weighted"],
         ctx.t("承诺+有望+管道", "commit + upside + pipeline")),
        ("上周 Last week", res.previous.name if res.previous else (res.previous_from_ledger or ctx.t("无", "none")),
         ""),
        ("台账 Ledger", ctx.t("已记入", "recorded") if res.ledger and res.ledger.recorded else ctx.t("未记入", "not recorded"),
         res.ledger.message(ctx.lang) if res.ledger else ""),
        ("目标 Targets", ctx.t("分解自设置", "decomposed from the setup") if res.targets_source == "setup"
         else Path(res.targets_source).name, ""),
        ("实际数 Actuals", res.actuals_label(ctx.lang), ""),
    ]
    errors = [x for x in c.issues if x.severity == "error"]
    from .workbook import STATUS_SHAPE

    lines += _issue_lines(errors, ctx.lang, room=STATUS_SHAPE[0] - HEADER_LINES - len(lines))
    zh = (f"{f['read']} 个文件,未提交 {f['missing']} 人;读取 {r['read']} 行 = 有效 {r['accepted']} + 拒绝 "
          f"{r['rejected']} + 被替代 {r['superseded']};错误 {i['error']},警告 {i['warning']}。报告:{res.report.name}")
    en = (f"{f['read']} files, {f['missing']} missing; rows {r['read']} = {r['accepted']} accepted + "
          f"{r['rejected']} rejected + {r['superseded']} superseded; {i['error']} errors, {i['warning']} warnings. "
          f"Report: {res.report.name}")
    return Outcome(True, (zh, en), lines, res.report)


def _cache_lines(ctx: _Ctx, s: dict, c: Any) -> list[Line]:
    """How many files were the same as in a run before, their reads reused (a folder's inbox; not the national
    report, which reads the ledger)."""
    if s.get("regions"):
        return []
    same = c.files_from_cache
    return [("文件 未改动 Files unchanged", same,
             ctx.t("与上次汇总时相同,沿用上次的读取结果", "the same as at a run before: their earlier reads reused"))]


def _scope_lines(ctx: _Ctx, s: dict) -> list[Line]:
    """A national report's rows: the regions included (with their snapshots) and those not consolidated."""
    regions = s.get("regions")
    if not regions:
        return []
    included = ", ".join(f"{g} #{n}" for g, n in regions["included"].items())
    missing = ", ".join(regions["missing"])
    return [("范围 Scope", ctx.t("全公司", "Company"), included),
            ("　未汇总大区 regions missing", len(regions["missing"]),
             missing + (ctx.t(" (其业务员按未提交计)", " (their reps count as missing)") if missing else ""))]


def _targets(ctx: _Ctx) -> Outcome:
    from xlsales.core.issues import count
    from xlsales.run import setup_lang, targets_folder

    ctx.status(ctx.t("分解目标…", "decomposing targets…"))
    res = targets_folder(ctx.folder, before_write=ctx.close_open_book)
    ctx.lang = setup_lang(res.setup)
    lines: list[Line] = [("目标分解表 Targets workbook", _Link(res.workbook), str(res.workbook))]
    for kind, v in res.kinds.items():
        if v["target"] is None:
            continue
        ok = all(x == v["target"] for x in v["levels"].values())
        lines.append((res.setup.label("target_kind", kind, ctx.lang), v["target"],
                      ctx.t("各层合计一致", "every level adds up") if ok else ctx.t("合计不一致!", "levels differ!")))
    n = count(res.issues)
    lines += [("问题 错误 Errors", n["error"], ""), ("问题 警告 Warnings", n["warning"], "")]
    lines += _issue_lines(res.issues, ctx.lang)
    return Outcome(True, (f"已写出 {res.workbook.name};错误 {n['error']},警告 {n['warning']}",
                          f"wrote {res.workbook.name}; {n['error']} errors, {n['warning']} warnings"),
                   lines, res.workbook)


def _refresh(ctx: _Ctx) -> Outcome:
    from xlsales.run import refresh_folder, setup_lang

    ctx.status(ctx.t("检查设置,写出下一周的工作簿…", "checking the setup, writing next week's workbooks…"))
    res = refresh_folder(ctx.folder)
    ctx.lang = setup_lang(res.setup)
    n = res.counts
    names = ", ".join(p.name for p in res.paths)
    lines: list[Line] = [("问题 错误 Errors", n["error"], ""), ("问题 警告 Warnings", n["warning"], ""),
                         ("周期 Week of", res.period.isoformat(), ""),
                         ("新工作簿 New workbooks", len(res.written), names),
                         ("模板文件夹 Templates", str(ctx.folder / "templates"), "")]
    lines += _issue_lines(res.setup_issues + res.issues, ctx.lang)
    return Outcome(True, (f"设置问题:错误 {n['error']},警告 {n['warning']};{res.period} 这一周的工作簿 "
                          f"{len(res.written)} 份" + (f" ({names})" if names else ""),
                          f"issues: {n['error']} errors, {n['warning']} warnings; {len(res.written)} workbook(s) "
                          f"for the week of {res.period}" + (f" ({names})" if names else "")), lines)


BODIES: dict[str, Callable[[_Ctx], Outcome]] = {"consolidate": _consolidate, "targets": _targets,
                                                 "refresh": _refresh}
