"""The manager's jobs as library functions: consolidate, targets, roll forward (the Refresh button).

Every caller — the ``xlsales`` command, the buttons of ``manager.xlsm`` and
any script — runs a job through these functions, so each job finds its inputs
the same way whoever asks:

* the **setup** from the manager workbook in the folder (errors stop the job);
* the **inbox** named in 设置 Settings (``inbox``), unless a caller names another;
* **last week** from ``--previous`` when given, else the newest earlier report
  in the reports folder (``consolidated-YYYY-MM-DD.xlsx`` of an earlier week);
* **finance actuals** from ``--actuals`` when given, else the file named by the
  ``actuals_file`` setting (relative to the folder), else the setup's 实际
  Actuals table, else won deals stand in (the report says which);
* **targets** from ``reports/targets.xlsx`` when present, else decomposed from the setup.

The report is written atomically into the reports folder.  A problem the user
can fix raises :class:`RunError` with a zh and an en message (and the issues
behind it); nothing here prints or talks to Excel.

主管的三项工作(汇总、目标分解、刷新)作为库函数:命令行和 Excel 按钮调用同一套流程。
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from xlsales.core import schema
from xlsales.core.issues import Issue, count, make
from xlsales.report.writer import WriteError, collect_cuts, output_kind

if TYPE_CHECKING:
    from xlsales.core.combine import Consolidation
    from xlsales.core.setup import Setup
    from xlsales.io.aside import Aside
    from xlsales.io.ledger_run import LedgerRun, LedgerStatus
    from xlsales.report.book import Previous
    from xlsales.report.model import Report

Progress = Callable[[int, int, str], None]
BeforeWrite = Callable[[Path], None]  # called with a path just before it is (re)written
REPORT_NAME = re.compile(r"^consolidated-(\d{4}-\d{2}-\d{2})\.xlsx$")
EXIT_USAGE, EXIT_WRITE = 2, 3  # RunError codes: a problem with the inputs; an output that could not be written
REPORT_KIND, TARGETS_KIND = "report", "targets"  # what xlsales writes (the workbook's custom property "xlsales")
# Outputs written before that property existed are known by their title (XlsxWriter's document properties).
LEGACY_TITLES = {REPORT_KIND: "xlsales consolidated report", TARGETS_KIND: "目标分解 Targets"}
KIND_LABEL = {REPORT_KIND: ("汇总报告", "consolidated report"), TARGETS_KIND: ("目标分解表", "targets workbook")}


class RunError(Exception):
    """A problem the user can fix: a message in zh and en, the issues behind it, an exit code."""

    def __init__(self, zh: str, en: str, issues: list[Issue] | None = None, code: int = 2,
                 lang: str | None = None) -> None:
        super().__init__(f"{zh}\n  {en}")
        self.zh, self.en, self.issues, self.code = zh, en, list(issues or []), code
        self.lang = lang  # the setup's language, once it is known

    def message(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def write_failed(e: WriteError) -> RunError:
    """The :class:`RunError` (exit 3) for an output that could not be written; what was there is untouched."""
    zh, en = e.describe()
    return RunError(zh + "原有文件未被改动。", en + " The file that was there is untouched.", code=EXIT_WRITE)


# --- where outputs may go ------------------------------------------------------------------

def output_kind_of(path: Path) -> str | None:
    """What xlsales wrote at ``path`` (``"report"``, ``"targets"``), from its document properties; None otherwise."""
    from xlsales.io.parse import properties
    from xlsales.report.writer import KIND_PROPERTY

    props = properties(Path(path))
    if props is None:
        return None
    kind = (props.get("custom") or {}).get(KIND_PROPERTY)
    if kind:
        return str(kind)
    if props.get("creator") == "xlsales":
        return next((k for k, title in LEGACY_TITLES.items() if props.get("title") == title), None)
    return None


def check_output(out: Path, kind: str, *, folder: Path, setup: Setup, inputs: dict[Path, tuple[str, str]],
                 explicit: bool) -> None:
    """Refuse an output path that is an input or a file xlsales did not write (exit 2; nothing is written).

    Never written over: the manager workbook, the signing key, anything in the inbox or templates folder,
    the files named in ``inputs`` ({path: (zh, en) what it is}), and an existing file that is not an
    xlsales output of ``kind`` (its document properties say what wrote it).  ``explicit``: the caller named
    ``out`` (``--out``), so a folder there is a usage error; at the default path it is a write failure.
    """
    from xlsales.core.identity import KEY_NAME
    from xlsales.io.manager import MANAGER_NAMES

    out = Path(out)
    zh_kind, en_kind = KIND_LABEL[kind]
    if explicit and out.is_dir():
        raise RunError(f"--out {out} 是一个文件夹;请给出{zh_kind}的文件路径,如 {out / 'report.xlsx'}。",
                       f"--out {out} is a folder; give the path of the {en_kind} file, e.g. {out / 'report.xlsx'}.")
    real = out.resolve()
    named: dict[Path, tuple[str, str]] = {folder / n: ("主管工作簿", "the manager workbook") for n in MANAGER_NAMES}
    named[folder / KEY_NAME] = ("签名密钥", "the signing key")
    named.update(inputs)
    trees = {_inbox_of(folder, setup): ("收件箱", "the inbox"), folder / "templates": ("模板文件夹", "the templates folder")}
    what = next((w for p, w in named.items() if p.resolve() == real), None)
    if what is None:
        what = next((w for t, w in trees.items() if real.is_relative_to(t.resolve())), None)
    if what is not None:
        raise RunError(f"不会写入 {out}:它是 xlsales 的输入({what[0]})。xlsales 从不覆盖它读取的文件;"
                       "请用 --out 另选一个文件名。",
                       f"Not writing {out}: it is one of xlsales' inputs ({what[1]}). xlsales never writes over what "
                       "it reads; choose another name with --out.")
    if (out.is_file() or (out.is_symlink() and not out.exists())) and output_kind_of(out) != kind:
        raise RunError(f"不会覆盖 {out}:这个文件不是 xlsales 写的{zh_kind}(文档属性中没有 xlsales 的标记)。"
                       "请把它移走,或用 --out 另选一个文件名。",
                       f"Not replacing {out}: it is not a {en_kind} that xlsales wrote (its document properties "
                       "carry no xlsales mark). Move it away, or choose another name with --out.")


def _inbox_of(folder: Path, setup: Setup) -> Path:
    return folder / (setup.setting("inbox", "inbox") or "inbox")


# --- finding the inputs -------------------------------------------------------------

def load_folder_setup(folder: Path) -> tuple[Setup, list[Issue], Path]:
    """The setup of the manager workbook in ``folder`` (its issues, its path); setup errors raise."""
    from xlsales.io.manager import load_setup, manager_path

    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"找不到文件夹 {folder}。", f"No such folder: {folder}")
    path = manager_path(folder)
    if path is None:
        raise RunError(f"{folder} 中没有主管工作簿 manager.xlsm。请先运行 xlsales init。",
                       f"No manager workbook (manager.xlsm) in {folder}; run xlsales init first.")
    setup, issues = load_setup(path)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise RunError(f"主管工作簿的设置有 {len(errors)} 个错误,请先修正并保存。",
                       f"The manager workbook's setup has {len(errors)} error(s); fix them and save first.", issues,
                       lang=setup.lang)
    return setup, issues, path


class _InLanguage:
    """Within it, a :class:`RunError` learns the setup's language (the Excel buttons answer in it)."""

    def __init__(self, setup: Setup) -> None:
        self.lang = setup.lang

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, e: BaseException | None, tb: object) -> None:
        if isinstance(e, RunError) and e.lang is None:
            e.lang = self.lang


def reports_dir(folder: Path, setup: Setup) -> Path:
    return Path(folder) / (setup.setting("reports", "reports") or "reports")


def report_path(folder: Path, setup: Setup, period: dt.date) -> Path:
    """Where the report of the week of ``period`` (its Monday) goes: ``reports/consolidated-YYYY-MM-DD.xlsx``."""
    return reports_dir(folder, setup) / f"consolidated-{period.isoformat()}.xlsx"


def report_period(path: Path) -> dt.date | None:
    """The week of a consolidated report, from its file name ``consolidated-YYYY-MM-DD.xlsx``."""
    m = REPORT_NAME.match(Path(path).name)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def find_previous(folder: Path, period: dt.date) -> Path | None:
    """Last week: the newest report in ``folder`` of a week before ``period``, or None."""
    found = _reports(folder, lambda d: d < period)
    return max(found)[1] if found else None


def find_last_month(folder: Path, period: dt.date, as_of: dt.date) -> Path | None:
    """Last month: the newest report of a week before ``period`` whose week begins in the month before
    the as-of date's month, or None."""
    first = as_of.replace(day=1)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    found = _reports(folder, lambda d: d < period and prev_month <= d < first)
    return max(found)[1] if found else None


def _reports(folder: Path, keep: Callable[[dt.date], bool]) -> list[tuple[dt.date, Path]]:
    if not Path(folder).is_dir():
        return []
    return [(d, p) for p in Path(folder).iterdir() if (d := report_period(p)) is not None and keep(d) and p.is_file()]


# --- consolidate ----------------------------------------------------------------------

@dataclass
class ConsolidateResult:
    """What a consolidation read, found and wrote."""

    folder: Path
    inbox: Path
    report: Path
    consolidation: Consolidation
    setup: Setup
    setup_issues: list[Issue]
    previous: Path | None  # last week's report
    previous_issues: list[Issue]
    targets_source: str
    actuals_source: str  # "finance" or "won_deals" (xlsales.core.actuals)
    actuals_issues: list[Issue] = field(default_factory=list)
    seconds: float = 0.0
    output_issues: list[Issue] = field(default_factory=list)  # what writing the report found (a text cut)
    last_month: Path | None = None  # the latest report of the previous month
    totals: dict = field(default_factory=dict)  # the report's deals by period (see report.full_report)
    ledger: LedgerStatus | None = None  # the snapshot recorded in the ledger, or why not (xlsales.io.ledger_run)
    previous_from_ledger: str | None = None  # last week / last month read from the ledger: which snapshot
    last_month_from_ledger: str | None = None
    actuals_file: str | None = None  # finance's file, when the actuals came from one
    returns: dict[str, Path] = field(default_factory=dict)  # rep id → the returned workbook (returns/<period>/)
    steps: dict[str, float] = field(default_factory=dict)  # seconds by step (make_report's ``steps``)

    @property
    def lang(self) -> schema.Lang:
        return setup_lang(self.setup)

    @property
    def last_week_source(self) -> str | None:
        """Where last week's figures came from: the report file, a ledger snapshot, or None."""
        return str(self.previous) if self.previous else self.previous_from_ledger

    @property
    def last_month_source(self) -> str | None:
        return str(self.last_month) if self.last_month else self.last_month_from_ledger

    def actuals_label(self, lang: schema.Lang) -> str:
        """Where the actuals came from, in words (with finance's file name)."""
        from xlsales.core.actuals import SOURCE_LABEL

        return SOURCE_LABEL[self.actuals_source][lang] + (f" ({self.actuals_file})" if self.actuals_file else "")

    def summary(self) -> dict:
        """The JSON summary: the consolidation's counts and totals plus where every input came from."""
        s = self.consolidation.summary(self.report)
        s["totals"] = self.totals
        s["previous"] = self.last_week_source
        s["last_month"] = self.last_month_source
        s["recorded"] = bool(self.ledger and self.ledger.recorded)
        s["ledger"] = self.ledger.as_dict() if self.ledger else None
        s["targets"] = self.targets_source
        s["actuals"] = {"source": self.actuals_source, "file": self.actuals_file, "label": self.actuals_label(self.lang)}
        s["output_issues"] = [i.as_dict() for i in self.output_issues]
        s["returns"] = {rep: str(p) for rep, p in sorted(self.returns.items())}
        return s


def consolidate_folder(folder: Path, *, as_of: dt.date | None = None, inbox: Path | None = None,
                       out: Path | None = None, previous: Path | None = None, actuals: Path | None = None,
                       progress: Progress | None = None, before_write: BeforeWrite | None = None,
                       ledger: str | None = None, cache: bool = True) -> ConsolidateResult:
    """Consolidate the inbox of the manager's ``folder`` and write the report; the one pipeline.

    ``previous`` and ``actuals`` override what would be found (see the module doc);
    ``before_write(path)`` runs once the inbox is read, before anything is written or recorded (the Excel
    button closes an open copy of the report there; a run cancelled there writes and records nothing).
    ``ledger``: a ledger file or URL instead of the setup's ``ledger`` setting; the consolidation is recorded
    there as a snapshot, and last week, last month and the history sheets come from it
    (:mod:`xlsales.io.ledger_run`) — a ledger that cannot be used never stops the report.
    ``cache``: reuse the reads of unchanged rep files cached in ``DIR/.xlsales-cache/`` (:mod:`xlsales.io.cache`).
    Raises :class:`RunError` for setup errors, a missing inbox, or an unreadable
    ``previous``/``actuals`` file the caller named.
    """
    started = time.monotonic()
    folder = Path(folder).resolve()
    with collector_paused(), contextlib.ExitStack() as later:  # later: the cache's writer, waited for at the end
        setup, setup_issues, _ = load_folder_setup(folder)
        with _InLanguage(setup):
            return _consolidate(folder, setup, setup_issues, started, as_of, inbox, out, previous, actuals, progress,
                                before_write, ledger, cache, later)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's collector of reference cycles paused for one consolidation, and restored after it.

    A consolidation keeps what it reads, computes and writes alive until its report is written, so each of the
    collector's full passes walks every object made so far, and the passes recur as the run grows: at 200 reps
    they took 1.1 s of a 7-second run (docs/benchmarks.md).  What the run lets go of is freed at once by
    reference counting; the few cycles it leaves are collected by a later full pass (the Excel buttons' process
    lives on): what the run made is moved to the oldest generation in one step (frozen, then unfrozen), rather
    than walked by the first young pass.  The forked children (:mod:`xlsales.io.aside`) inherit the pause, so
    they do not touch every page they share with this process either.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if gc.get_freeze_count() == 0:  # nobody else's frozen objects to let go of
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def check_as_of(as_of: dt.date | None) -> None:
    """Refuse an as-of date outside the range the period arithmetic handles (a typo such as 9999-12-31)."""
    from xlsales.core.setup import DATE_MAX, DATE_MIN, in_calendar

    if as_of is not None and not in_calendar(as_of):
        raise RunError(f"截至日期(--as-of){as_of} 超出 xlsales 能处理的日期范围 {DATE_MIN} 至 {DATE_MAX}。"
                       "请给出要汇总那一周中的某一天,如 2026-11-23。",
                       f"The as-of date (--as-of) {as_of} is outside the dates xlsales handles, {DATE_MIN} to "
                       f"{DATE_MAX}. Give a day of the week to consolidate, e.g. 2026-11-23.")


def _consolidate(folder: Path, setup: Setup, setup_issues: list[Issue], started: float, as_of: dt.date | None,
                 inbox: Path | None, out: Path | None, previous: Path | None, actuals: Path | None,
                 progress: Progress | None, before_write: BeforeWrite | None,
                 ledger: str | None = None, cache: bool = True,
                 later: contextlib.ExitStack | None = None) -> ConsolidateResult:
    from xlsales.core.actuals import resolve
    from xlsales.core.identity import KEY_NAME
    from xlsales.core.setup import monday
    from xlsales.io.aside import Aside
    from xlsales.io.cache import CACHE_DIR
    from xlsales.io.inbox import consolidate
    from xlsales.io.ledger_run import LedgerRun
    from xlsales.io.targets_file import load_targets
    from xlsales.report.returns import plan_returns, return_path, write_returns
    from xlsales.report.templates import load_key

    check_as_of(as_of)

    box = Path(inbox) if inbox else _inbox_of(folder, setup)
    if not box.is_dir():
        raise RunError(f"找不到收件箱文件夹 {box}。请在「设置」表中检查 inbox,或用 --inbox 指定。",
                       f"No inbox folder {box}. Check 'inbox' on the Settings sheet, or name one with --inbox.")
    actuals_path = Path(actuals) if actuals else setting_path(folder, setup, "actuals_file")
    reports = reports_dir(folder, setup)
    default_out = report_path(folder, setup, monday(as_of or setup.period))
    inputs = report_inputs(folder, setup, actuals_path, previous)
    check_output(Path(out) if out else default_out, REPORT_KIND, folder=folder, setup=setup, inputs=inputs,
                 explicit=out is not None)
    loaded, actuals_issues = (load_actuals(actuals_path, setup) if actuals_path else (None, []))
    key = load_key(folder)
    targets = Aside(functools.partial(load_targets, setup, folder))  # on another core while the inbox is read
    book: LedgerRun | None = None
    try:  # whatever happens, the targets' child is not left waiting to be heard
        reading = time.monotonic()
        c = consolidate(box, setup, as_of, progress=progress, key=key, cache=folder / CACHE_DIR if cache else None,
                        later=later)
        steps = {"read": time.monotonic() - reading}
        if key is None:  # said once: without the key no signature can be checked
            c.issues.append(make("identity_key_missing", "", value=KEY_NAME))
        out = Path(out) if out else default_out
        book = LedgerRun(folder, setup, ledger)
        # last week and last month: --previous, else the ledger, else the reports folder
        ledger_week = None if previous else book.last_week(c.period)
        ledger_month = book.last_month(c.period, c.as_of)
        week_path = Path(previous) if previous else (None if ledger_week else find_previous(reports, c.period))
        last_week, prev_issues = _read_previous(week_path, c.period, explicit=previous is not None)
        month_path = None if ledger_month else find_last_month(reports, c.period, c.as_of)
        last_month, month_issues = _read_previous(month_path, c.period, explicit=False)
        last_week, last_month = last_week or ledger_week, last_month or ledger_month
        planned = {p.file: return_path(folder, c.period, p.rep_id) for p in plan_returns(c, setup)}
        links = {f: os.path.relpath(p, out.parent) for f, p in planned.items()}
        if before_write:
            before_write(out)
        # send back each rep's own workbook with every issue on its cell, on another core while the report is
        # built (the snapshot is recorded on it while the report is written)
        returns = Aside(functools.partial(write_returns, c, setup, folder, setup_lang(setup), key))
        try:
            totals, targets_source, cut, status = make_report(c, setup, folder, book, out, targets=targets.result(),
                                                              actuals=loaded, last_week=last_week,
                                                              last_month=last_month, returns=links, steps=steps)
        finally:
            returns.join()
    finally:
        targets.join()
        if book is not None:
            book.close()
    try:
        returned = returns.result()
    except WriteError as e:
        raise write_failed(e) from e
    source = resolve(setup, c, loaded).source
    return ConsolidateResult(folder, box, out, c, setup, setup_issues, week_path if last_week else None,
                             prev_issues + month_issues, targets_source, source,
                             actuals_issues, time.monotonic() - started, cut, month_path if last_month else None,
                             totals, ledger=status, steps=steps,
                             previous_from_ledger=ledger_week.source if ledger_week and last_week is ledger_week
                             else None,
                             last_month_from_ledger=ledger_month.source if ledger_month and last_month is ledger_month
                             else None,
                             actuals_file=actuals_path.name if loaded is not None and actuals_path else None,
                             returns=returned)


def setup_lang(setup: Setup) -> schema.Lang:
    """The language the setup asks for (zh unless it says en)."""
    return "en" if setup.lang == "en" else "zh"


def build_report(c: Consolidation, setup: Setup, folder: Path, book: LedgerRun, *,
                 targets: tuple[pd.DataFrame, str] | None = None, actuals: pd.DataFrame | None = None,
                 last_week: Previous | None = None, last_month: Previous | None = None,
                 returns: dict[str, str] | None = None, reviewed: Callable[[dict], None] | None = None
                 ) -> tuple[Report, dict, str]:
    """The report of ``c`` (history from the ledger), its figures and where its targets came from.

    ``targets``: the targets and their source when already loaded, else they are loaded from the folder
    (:func:`~xlsales.io.targets_file.load_targets`).  ``returns``: submitted file → the path of its returned
    workbook, relative to the report (linked from the Submissions sheet).  ``reviewed(figures)``: called as soon
    as the figures the ledger records are known (:func:`~xlsales.report.consolidated.full_report`).
    :func:`write_report` records and writes it.
    """
    from xlsales.io.targets_file import load_targets
    from xlsales.report.consolidated import calendar, full_report

    target_rows, targets_source = targets if targets is not None else load_targets(setup, folder)
    report, figures = full_report(c, setup, setup_lang(setup), target_rows, actuals, last_week, last_month,
                                  history=book.history(c, calendar(c, setup)), returns=returns, reviewed=reviewed)
    return report, figures, targets_source


def make_report(c: Consolidation, setup: Setup, folder: Path, book: LedgerRun, out: Path, *,
                targets: tuple[pd.DataFrame, str] | None = None, actuals: pd.DataFrame | None = None,
                last_week: Previous | None = None, last_month: Previous | None = None,
                returns: dict[str, str] | None = None, steps: dict[str, float] | None = None
                ) -> tuple[dict, str, list[Issue], LedgerStatus]:
    """Build the report (:func:`build_report`) and write it (:func:`write_report`) while its snapshot is recorded
    on another core — from the moment its figures are known, while the rest of the report is built; the totals by
    period, where the targets came from, the cells whose text had to be cut, and the ledger's status.  A report
    that cannot be built after that moment is recorded all the same, as one that cannot be written is.

    ``steps``: given, it gets the seconds of each step — ``build`` (the figures and sheets, the ledger's history
    read), ``write`` (the workbook written, the snapshot's recording waited for)."""
    started: list[Aside[LedgerStatus]] = []
    building = time.monotonic()
    try:
        report, figures, targets_source = build_report(
            c, setup, folder, book, targets=targets, actuals=actuals, last_week=last_week, last_month=last_month,
            returns=returns, reviewed=lambda figures: started.append(book.record_aside(c, figures, out)))
    except BaseException:
        for recording in started:
            recording.result()  # no child left behind
        raise
    totals = figures["totals"]
    recording = started[0] if started else book.record_aside(c, figures, out)
    del figures  # the recording has them: let the report's writing reuse their memory
    writing = time.monotonic()
    cut, status = write_report(report, recording, out)
    if steps is not None:
        steps.update(build=writing - building, write=time.monotonic() - writing)
    return totals, targets_source, cut, status


def write_report(report: Report, recording: Aside[LedgerStatus], out: Path) -> tuple[list[Issue], LedgerStatus]:
    """Write the report atomically while the ledger records its snapshot on another core
    (:meth:`LedgerRun.record_aside`); the cells whose text had to be cut, and the ledger's status.

    The status is the last cell written, on the summary sheet (:func:`~xlsales.io.ledger_run.mark_report`), so
    a report not recorded says so.  The snapshot is recorded whether or not the report could be written, as
    when it was recorded first.  The model's rows are released as their sheets are written
    (``render_xlsx(release=True)``): the caller is done with ``report``.
    """
    from xlsales.io.ledger_run import mark_report
    from xlsales.report.model import render_xlsx

    try:
        with collect_cuts() as cuts, output_kind(REPORT_KIND):
            render_xlsx(report, out, release=True, last=lambda: mark_report(report, recording.result()))
    except WriteError as e:
        raise write_failed(e) from e
    finally:
        status = recording.result()  # its answer also when the report could not be written
    return [make("text_cut", out.name, k.sheet, k.cell, out.name, where=f"{k.sheet}!{k.cell}",
                 length=f"{k.length:,}") for k in cuts], status


def report_inputs(folder: Path, setup: Setup, actuals: Path | None, previous: Path | None) -> dict[Path, tuple[str, str]]:
    """The files a consolidation reads besides the manager workbook and the inbox: never its output."""
    from xlsales.report.targets_book import default_out

    out: dict[Path, tuple[str, str]] = {default_out(setup, folder): ("目标分解表", "the targets workbook")}
    if actuals:
        out[Path(actuals)] = ("实际数文件", "the actuals file")
    if previous:
        out[Path(previous)] = ("上周报告", "last week's report")
    return out


def setting_path(folder: Path, setup: Setup, key: str) -> Path | None:
    v = (setup.setting(key, "") or "").strip()
    if not v:
        return None
    p = Path(v)
    return p if p.is_absolute() else folder / p


def load_actuals(path: Path, setup: Setup) -> tuple[pd.DataFrame, list[Issue]]:
    """Finance's actuals from ``path``; a file that is not an actuals table is an error, never a silent fallback."""
    import csv

    from xlsales.io.actuals import read_actuals
    from xlsales.io.reader import BookError

    if not path.is_file():
        raise RunError(f"找不到实际数文件 {path}。", f"No such actuals file: {path}")
    try:
        frame, issues = read_actuals(path, setup)
    except BookError as e:
        raise RunError(f"无法读取实际数文件 {path}:{e.issue.zh}", f"Cannot read the actuals file {path}: {e.issue.en}",
                       [e.issue]) from e
    except csv.Error as e:
        line = _csv_error_line(path)
        at_zh, at_en = (f"第 {line} 行", f"line {line}") if line else ("", "")
        if "field larger" in str(e):
            zh, en = f"{at_zh}有一个字段超过 {csv.field_size_limit():,} 个字符", \
                f"a field on {at_en or 'a line'} is longer than {csv.field_size_limit():,} characters"
        else:
            zh, en = f"{at_zh} CSV 格式错误({e})", f"{at_en} is not valid CSV ({e})"
        raise RunError(f"无法读取实际数文件 {path}:{zh}。请从 ERP 重新导出(CSV 或 xlsx),检查该行后重试。",
                       f"Cannot read the actuals file {path}: {en}. Export it again from the ERP (CSV or xlsx), "
                       "check that line and retry.") from e
    shape = [i for i in issues if i.rule in ("sheet_missing", "column_missing")]
    if shape:
        raise RunError(f"{path} 不是实际数表:找不到「业务员编号、月份、类型、金额」这些表头(或缺少其中的列)。"
                       "请导出含这些列的表(中文或英文表头均可),然后重试。实际数不会改用已成交商机代替。",
                       f"{path} is not an actuals table: the headers rep id, month, kind and amount (zh or en) are "
                       "missing, or some of them. Export a table with these columns and retry; won deals are not "
                       "used instead.", shape)
    if frame.empty:
        raise RunError(f"实际数文件 {path} 中没有可用的数据行。请导出含数据的文件(有错误的行见下),或不带 --actuals 运行。",
                       f"The actuals file {path} holds no usable rows. Export one with data (rows with errors are "
                       "listed below), or run without --actuals.", [i for i in issues if i.severity == "error"])
    return frame, issues


def _csv_error_line(path: Path) -> int | None:
    """The line where Python's csv reader stops on ``path`` (None when it reads through)."""
    import csv
    import io

    from xlsales.io.csvtext import read_text

    text = read_text(path)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text))
    try:
        for _ in reader:
            pass
    except csv.Error:
        return reader.line_num
    return None


def _read_previous(path: Path | None, period: dt.date, *, explicit: bool) -> tuple[Previous | None, list[Issue]]:
    """An earlier report's figures; a file the caller named must be an xlsales consolidated report, readable and
    earlier; a found one is skipped (with its issue) if not."""
    from xlsales.io.previous import read_previous

    if path is None:
        return None, []
    if explicit and not path.is_file():
        raise RunError(f"找不到上周报告 {path}。", f"No such previous report: {path}")
    if explicit and output_kind_of(path) != REPORT_KIND:
        raise RunError(f"--previous {path} 不是 xlsales 的汇总报告(文档属性中没有 xlsales 报告的标记),不会当作上周数据。"
                       "请给出上周 xlsales consolidate 写出的 consolidated-YYYY-MM-DD.xlsx。",
                       f"--previous {path} is not an xlsales consolidated report (its document properties carry no "
                       "xlsales report mark), so it is not used as last week. Give the consolidated-YYYY-MM-DD.xlsx "
                       "that xlsales consolidate wrote last week.")
    prev, issues = read_previous(path)
    if prev is not None and prev.period is not None and prev.period >= period:
        issues = [make("previous_not_earlier", path.name, value=path.name, period=prev.period.isoformat(),
                       current=period.isoformat())]
        prev = None
    if prev is None and explicit:
        raise RunError(f"不能用 {path} 作为上周报告:{'; '.join(i.zh for i in issues)}",
                       f"{path} cannot be the previous report: {'; '.join(i.en for i in issues)}", issues)
    return prev, issues


# --- targets ------------------------------------------------------------------------

@dataclass
class TargetsResult:
    workbook: Path
    kinds: dict
    issues: list[Issue]
    setup: Setup

    def summary(self) -> dict:
        return {"workbook": str(self.workbook), "kinds": self.kinds, "issues": [i.as_dict() for i in self.issues]}


def targets_folder(folder: Path, *, out: Path | None = None, before_write: BeforeWrite | None = None
                   ) -> TargetsResult:
    """Decompose the setup's targets and write the targets workbook (``reports/targets.xlsx``)."""
    from xlsales.report.targets_book import build_targets_workbook, default_out

    folder = Path(folder).resolve()
    setup, setup_issues, _ = load_folder_setup(folder)
    path = Path(out) if out else default_out(setup, folder)
    with _InLanguage(setup):
        check_output(path, TARGETS_KIND, folder=folder, setup=setup, inputs={}, explicit=out is not None)
        if before_write:
            before_write(path)
        try:
            with output_kind(TARGETS_KIND):
                res = build_targets_workbook(setup, path, setup.lang)
        except WriteError as e:
            raise write_failed(e) from e
    issues = [*setup_issues, *(Issue(**d) for d in res["issues"])]
    return TargetsResult(path, res["kinds"], issues, setup)


# --- roll forward ---------------------------------------------------------------------

@dataclass
class RollWritten:
    """One rep's next workbook: where it is and what it was pre-filled with."""

    rep: str
    path: Path
    deals: int
    customers: int
    forecast_months: int
    visits: int
    source: str | None  # the submission it was pre-filled from (None: a blank template)
    kept: Path | None = None  # the previous workbook, kept under a dated name

    def as_dict(self) -> dict:
        return {"rep": self.rep, "path": str(self.path), "deals": self.deals, "customers": self.customers,
                "forecast_months": self.forecast_months, "visits": self.visits, "source": self.source,
                "kept": str(self.kept) if self.kept else None}


@dataclass
class RollResult:
    """What rolling forward wrote (``--json``: :meth:`summary`)."""

    period: dt.date
    written: list[RollWritten]
    issues: list[Issue]
    setup_issues: list[Issue]
    setup: Setup

    @property
    def paths(self) -> list[Path]:
        return [w.path for w in self.written]

    @property
    def counts(self) -> dict[str, int]:
        return count(self.setup_issues + self.issues)

    def summary(self) -> dict:
        return {"period": self.period.isoformat(), "written": [w.as_dict() for w in self.written],
                "issues": [i.as_dict() for i in self.issues]}


def roll_folder(folder: Path, *, period: dt.date | None = None, reps: list[str] | None = None,
                ledger: str | None = None) -> RollResult:
    """Write next period's workbook for every active rep (or those named) into ``templates/``.

    Each is signed like the templates (same rep, the new period) and pre-filled from the rep's latest
    accepted submission (:mod:`xlsales.io.latest`: the inbox, else the ledger) by the rules of
    :func:`xlsales.core.roll.carry`; the workbook it replaces is kept as ``templates/<rep>-<its period>.xlsx``.
    ``period``: any day of the week to roll to; by default the week after the newest one consolidated (the
    reports folder and the ledger), and never before the week after the setup's period.
    """
    from xlsales.core.issues import make
    from xlsales.core.periods import forecast_months
    from xlsales.core.roll import carry
    from xlsales.core.setup import monday
    from xlsales.io.aside import in_halves_with
    from xlsales.io.cache import CACHE_DIR
    from xlsales.io.latest import from_inbox, from_ledger
    from xlsales.io.safety import Sandbox
    from xlsales.report.templates import create_key, load_key, recover_templates

    folder = Path(folder).resolve()
    setup, setup_issues, _ = load_folder_setup(folder)
    with _InLanguage(setup):
        check_as_of(period)
        lang = setup_lang(setup)
        target = monday(period) if period else _next_week(folder, setup, ledger)
        source = target - dt.timedelta(days=7)
        chosen = _reps_to_roll(setup, reps)
        latest, _ = from_inbox(_inbox_of(folder, setup), setup, source, load_key(folder), folder / CACHE_DIR)
        if any(str(r["rep_id"]) not in latest for r in chosen):
            older = from_ledger(folder, setup, [str(r["rep_id"]) for r in chosen if str(r["rep_id"]) not in latest],
                                source, ledger)
            latest = {**older, **latest}
        months = forecast_months(target, int(setup.threshold("forecast_months")))
        templates = folder / "templates"
        written: list[RollWritten] = []
        issues: list[Issue] = []
        try:
            recover_templates(folder)
            templates.mkdir(parents=True, exist_ok=True)
            key = create_key(folder)
            builds: list[Callable[[Sandbox], Path | None]] = []
            for rep in chosen:
                rep_id = str(rep["rep_id"])
                path = templates / f"{rep_id}.xlsx"
                got = latest.get(rep_id)
                name = rep.get("name", "")
                if got is None:
                    issues.append(make("roll_no_data", path.name, value=rep_id, name=name))
                elif got.period != source:
                    issues.append(make("roll_not_this_week", path.name, value=rep_id, name=name,
                                       week=source.isoformat(), source=got.source,
                                       period=got.period.isoformat() if got.period else "?"))
                if got is not None and got.rejected:
                    issues.append(make("roll_rows_not_carried", path.name, value=rep_id, source=got.source,
                                       n=got.rejected))
                carried = carry(got.tables if got else {}, source, months, setup)
                builds.append(functools.partial(_roll_one, path, setup, rep, lang, carried.data, key, target))
                written.append(RollWritten(rep_id, path, carried.deals, carried.customers, carried.forecast_months,
                                           carried.visits, got.source if got else None))
            for w, kept in zip(written, in_halves_with(Sandbox, builds), strict=True):
                w.kept = kept
        except OSError as e:
            raise write_failed(WriteError(templates, e)) from e
        except WriteError as e:
            raise write_failed(e) from e
    return RollResult(target, written, issues, setup_issues, setup)


def _next_week(folder: Path, setup: Setup, ledger: str | None) -> dt.date:
    """The week after the newest one consolidated (reports folder, ledger), at least the week after the setup's."""
    from xlsales.core.setup import monday

    weeks = [monday(setup.period)] + [d for d, _ in _reports(reports_dir(folder, setup), lambda d: True)]
    try:
        from xlsales.io.ledger import LedgerError, ledger_url, not_made_yet, open_ledger
        from xlsales.io.ledger_run import regions_of

        url = ledger_url(folder, setup, ledger)
        if url and not not_made_yet(url):
            with open_ledger(url) as book:
                weeks += list(book.current("folder", regions_of(setup)))
    except LedgerError:
        pass
    return max(weeks) + dt.timedelta(days=7)


def _reps_to_roll(setup: Setup, reps: list[str] | None) -> list[dict]:
    """The active reps, or those named (each must be an active rep of the roster)."""
    active = setup.active_reps().to_dict("records")
    if not reps:
        return active
    by_id = {str(r["rep_id"]): r for r in active}
    unknown = [r for r in reps if str(r) not in by_id]
    if unknown:
        raise RunError(f"名单中没有这些在职业务员:{'、'.join(unknown)}。请核对 --rep 的编号(见主管工作簿「名单」表)。",
                       f"No active rep with these ids in the roster: {', '.join(unknown)}. Check the --rep ids "
                       "(the manager workbook's Roster sheet).")
    return [by_id[str(r)] for r in dict.fromkeys(reps)]


def _roll_one(path: Path, setup: Setup, rep: dict, lang: schema.Lang, data: dict[str, list[dict]], key: bytes,
              period: dt.date, sandbox: object) -> Path | None:
    """One rep's next workbook written at ``path`` after the one there is kept (:func:`_keep_previous`, which
    reads it with ``sandbox``); the kept copy's path.  Repeated, it keeps the workbook it wrote as that week's copy
    and writes it again, as a second roll to the same week does."""
    from xlsales.report.templates import build_rep_workbook

    kept = _keep_previous(path, sandbox)  # a copy: the workbook itself stays until replaced
    build_rep_workbook(path, setup, rep, lang, data, key=key, period=period)
    return kept


def _keep_previous(path: Path, sandbox: object = None) -> Path | None:
    """Copy the workbook at ``path`` (if any) to ``<rep>-<its period>.xlsx`` beside it; return that path."""
    import shutil

    from xlsales.report.writer import atomic

    if not path.is_file():
        return None
    when = _workbook_period(path, sandbox) or dt.date.fromtimestamp(path.stat().st_mtime)
    kept = path.with_name(f"{path.stem}-{when.isoformat()}{path.suffix}")
    with atomic(kept) as tmp:
        shutil.copy2(path, tmp)
    return kept


def _workbook_period(path: Path, sandbox: object = None) -> dt.date | None:
    """The period in a rep workbook's identity block, read the safe way; None when it cannot be read."""
    from xlsales.core.schema import IDENTITY
    from xlsales.io.coerce import CoerceError, to_date
    from xlsales.io.intake import IDENTITY_SHEETS
    from xlsales.io.reader import BookError, open_book, read_fields

    try:
        values, _ = read_fields(open_book(path, path.name, sandbox), IDENTITY, IDENTITY_SHEETS)  # type: ignore
        got = values.get("period")
        return to_date(got).value if got is not None else None  # type: ignore[return-value]
    except (BookError, CoerceError):
        return None


# --- refresh --------------------------------------------------------------------------

RefreshResult = RollResult  # the former name of what the Refresh button returns


def refresh_folder(folder: Path) -> RollResult:
    """The Refresh button: re-read and check the saved setup, then roll every active rep forward
    (:func:`roll_folder`, its default week) — a rep new in the roster gets a blank workbook."""
    return roll_folder(folder)
