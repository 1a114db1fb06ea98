"""The manager's three jobs as library functions: consolidate, targets, refresh.

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

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import schema
from .issues import Issue, count

if TYPE_CHECKING:
    from .book import Previous
    from .consolidate import Consolidation
    from .ledger_run import LedgerStatus
    from .setup import Setup

Progress = Callable[[int, int, str], None]
BeforeWrite = Callable[[Path], None]  # called with a path just before it is (re)written
REPORT_NAME = re.compile(r"^consolidated-(\d{4}-\d{2}-\d{2})\.xlsx$")


class RunError(Exception):
    """A problem the user can fix: a message in zh and en, the issues behind it, an exit code."""

    def __init__(self, zh: str, en: str, issues: list[Issue] | None = None, code: int = 2,
                 lang: str | None = None) -> None:
        super().__init__(f"{zh}\n  {en}")
        self.zh, self.en, self.issues, self.code = zh, en, list(issues or []), code
        self.lang = lang  # the setup's language, once it is known

    def message(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


# --- finding the inputs -------------------------------------------------------------

def load_folder_setup(folder: Path) -> tuple[Setup, list[Issue], Path]:
    """The setup of the manager workbook in ``folder`` (its issues, its path); setup errors raise."""
    from .manager import load_setup, manager_path

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
    actuals_source: str
    actuals_issues: list[Issue] = field(default_factory=list)
    seconds: float = 0.0
    last_month: Path | None = None  # the latest report of the previous month
    totals: dict = field(default_factory=dict)  # the report's deals by period (see report.full_report)
    ledger: LedgerStatus | None = None  # the snapshot recorded in the ledger, or why not (xlsales.ledger_run)
    previous_from_ledger: str | None = None  # last week / last month read from the ledger: which snapshot
    last_month_from_ledger: str | None = None

    @property
    def lang(self) -> schema.Lang:
        return "en" if self.setup.lang == "en" else "zh"

    def summary(self) -> dict:
        """The JSON summary: the consolidation's counts and totals plus where every input came from."""
        s = self.consolidation.summary(self.report)
        s["totals"] = self.totals
        s["previous"] = str(self.previous) if self.previous else self.previous_from_ledger
        s["last_month"] = str(self.last_month) if self.last_month else self.last_month_from_ledger
        s["recorded"] = bool(self.ledger and self.ledger.recorded)
        s["ledger"] = self.ledger.as_dict() if self.ledger else None
        s["targets"] = self.targets_source
        s["actuals"] = self.actuals_source
        return s


def consolidate_folder(folder: Path, *, as_of: dt.date | None = None, inbox: Path | None = None,
                       out: Path | None = None, previous: Path | None = None, actuals: Path | None = None,
                       progress: Progress | None = None, before_write: BeforeWrite | None = None,
                       ledger: str | None = None) -> ConsolidateResult:
    """Consolidate the inbox of the manager's ``folder`` and write the report; the one pipeline.

    ``previous`` and ``actuals`` override what would be found (see the module doc);
    ``before_write(path)`` runs just before the report is written (the Excel button
    closes an open copy of it there).  ``ledger``: a ledger file or URL instead of the setup's ``ledger``
    setting; the consolidation is recorded there as a snapshot, and last week, last month and the history
    sheets come from it (:mod:`xlsales.ledger_run`) — a ledger that cannot be used never stops the report.
    Raises :class:`RunError` for setup errors, a missing inbox, or an unreadable
    ``previous``/``actuals`` file the caller named.
    """
    started = time.monotonic()
    folder = Path(folder).resolve()
    setup, setup_issues, _ = load_folder_setup(folder)
    with _InLanguage(setup):
        return _consolidate(folder, setup, setup_issues, started, as_of, inbox, out, previous, actuals, progress,
                            before_write, ledger)


def _consolidate(folder: Path, setup: Setup, setup_issues: list[Issue], started: float, as_of: dt.date | None,
                 inbox: Path | None, out: Path | None, previous: Path | None, actuals: Path | None,
                 progress: Progress | None, before_write: BeforeWrite | None,
                 ledger: str | None = None) -> ConsolidateResult:
    from .actuals import SOURCE_LABEL, resolve
    from .consolidate import consolidate
    from .ledger_run import LedgerRun, mark_report
    from .model import render_xlsx
    from .report import calendar, full_report
    from .targets_book import load_targets

    lang: schema.Lang = "en" if setup.lang == "en" else "zh"
    box = Path(inbox) if inbox else folder / (setup.setting("inbox", "inbox") or "inbox")
    if not box.is_dir():
        raise RunError(f"找不到收件箱文件夹 {box}。请在「设置」表中检查 inbox,或用 --inbox 指定。",
                       f"No inbox folder {box}. Check 'inbox' on the Settings sheet, or name one with --inbox.")
    actuals_path = Path(actuals) if actuals else _setting_path(folder, setup, "actuals_file")
    loaded, actuals_issues = (_read_actuals(actuals_path, setup) if actuals_path else (None, []))
    c = consolidate(box, setup, as_of, progress=progress)
    reports = reports_dir(folder, setup)
    out = Path(out) if out else reports / f"consolidated-{c.period.isoformat()}.xlsx"
    book = LedgerRun(folder, setup, ledger)
    try:  # last week and last month: --previous, else the ledger, else the reports folder
        ledger_week = None if previous else book.last_week(c.period)
        ledger_month = book.last_month(c.period, c.as_of)
        week_path = Path(previous) if previous else (None if ledger_week else find_previous(reports, c.period))
        last_week, prev_issues = _read_previous(week_path, c.period, explicit=previous is not None)
        month_path = None if ledger_month else find_last_month(reports, c.period, c.as_of)
        last_month, month_issues = _read_previous(month_path, c.period, explicit=False)
        last_week, last_month = last_week or ledger_week, last_month or ledger_month
        targets, targets_source = load_targets(setup, folder)
        report, figures = full_report(c, setup, lang, targets, loaded, last_week, last_month,
                                      history=book.history(c, calendar(c, setup)))
        status = book.record(c, figures, out)
    finally:
        book.close()
    mark_report(report, status)
    if before_write:
        before_write(out)
    render_xlsx(report, out)
    source = resolve(setup, c, loaded).source
    return ConsolidateResult(folder, box, out, c, setup, setup_issues, week_path if last_week else None,
                             prev_issues + month_issues, targets_source,
                             SOURCE_LABEL[source][lang] + (f" ({actuals_path.name})" if loaded is not None and
                                                          actuals_path else ""),
                             actuals_issues, time.monotonic() - started, month_path if last_month else None,
                             figures["totals"], ledger=status,
                             previous_from_ledger=ledger_week.source if ledger_week and last_week is ledger_week
                             else None,
                             last_month_from_ledger=ledger_month.source if ledger_month and last_month is ledger_month
                             else None)


def _setting_path(folder: Path, setup: Setup, key: str) -> Path | None:
    v = (setup.setting(key, "") or "").strip()
    if not v:
        return None
    p = Path(v)
    return p if p.is_absolute() else folder / p


def _read_actuals(path: Path, setup: Setup) -> tuple[pd.DataFrame, list[Issue]]:
    from .actuals import read_actuals
    from .reader import BookError

    if not path.is_file():
        raise RunError(f"找不到实际数文件 {path}。", f"No such actuals file: {path}")
    try:
        return read_actuals(path, setup)
    except BookError as e:
        raise RunError(f"无法读取实际数文件 {path}:{e.issue.zh}", f"Cannot read the actuals file {path}: {e.issue.en}",
                       [e.issue]) from e


def _read_previous(path: Path | None, period: dt.date, *, explicit: bool) -> tuple[Previous | None, list[Issue]]:
    """An earlier report's figures; a file the caller named must be readable and earlier, a found one is
    skipped (with its issue) if not."""
    from .issues import make
    from .previous import read_previous

    if path is None:
        return None, []
    if explicit and not path.is_file():
        raise RunError(f"找不到上周报告 {path}。", f"No such previous report: {path}")
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
    from .targets_book import build_targets_workbook, default_out

    folder = Path(folder).resolve()
    setup, setup_issues, _ = load_folder_setup(folder)
    path = Path(out) if out else default_out(setup, folder)
    with _InLanguage(setup):
        if before_write:
            before_write(path)
        res = build_targets_workbook(setup, path, setup.lang)
    issues = [*setup_issues, *(Issue(**d) for d in res["issues"])]
    return TargetsResult(path, res["kinds"], issues, setup)


# --- refresh --------------------------------------------------------------------------

@dataclass
class RefreshResult:
    setup_issues: list[Issue]
    written: list[Path]
    setup: Setup

    @property
    def counts(self) -> dict[str, int]:
        return count(self.setup_issues)


def refresh_folder(folder: Path) -> RefreshResult:
    """Re-read and check the setup; write a template for every active rep who has none in ``templates/``."""
    from .templates import build_rep_workbook

    folder = Path(folder).resolve()
    setup, setup_issues, _ = load_folder_setup(folder)
    lang: schema.Lang = "en" if setup.lang == "en" else "zh"
    templates = folder / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    written = []
    for rep in setup.active_reps().to_dict("records"):
        path = templates / f"{rep['rep_id']}.xlsx"
        if not path.exists():
            written.append(build_rep_workbook(path, setup, rep, lang))
    return RefreshResult(setup_issues, written, setup)
