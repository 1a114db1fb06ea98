"""The ledger inside the one pipeline (:func:`xlsales.run.consolidate_folder`): open it, read last week, last
month and the history from it, record the snapshot, and say what happened — never stopping the report.

:class:`LedgerRun` is used in that order by :mod:`xlsales.run`.  Whatever goes wrong with the ledger
becomes its :class:`LedgerStatus` (``recorded: false`` and why, in zh and en); the report is written all
the same and says so on its summary sheet.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlsales.io.aside import Aside
from xlsales.io.ledger import Ledger, LedgerError, ledger_url, open_ledger, safe_url, snapshot_of

if TYPE_CHECKING:
    from xlsales.core.combine import Consolidation
    from xlsales.core.history import History
    from xlsales.core.periods import Calendar
    from xlsales.core.setup import Setup
    from xlsales.report.book import Previous
    from xlsales.report.model import Report


@dataclass
class LedgerStatus:
    """What became of the ledger in one consolidation (``--json``'s ``ledger``)."""

    url: str | None  # without the password
    recorded: bool
    snapshot: int | None = None
    new: bool = False
    supersedes: int | None = None
    reason: str | None = None  # locked, corrupt, newer, unreachable, failed, bad_url, disabled
    zh: str = ""
    en: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def message(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def regions_of(setup: Setup) -> list[str]:
    return sorted({str(r.get("region")) for r in setup.rows("roster")
                   if r.get("active") in (True, None) and r.get("region")})


class LedgerRun:
    """The ledger of one consolidation: opened once, read, written once, closed."""

    def __init__(self, folder: Path, setup: Setup, override: str | None = None, scope: str = "folder") -> None:
        self.setup, self.scope = setup, scope
        self.regions = regions_of(setup)
        self.url = ledger_url(folder, setup, override)
        self.ledger: Ledger | None = None
        self.status: LedgerStatus | None = None
        self.current: dict[dt.date, dict] = {}
        if self.url is None:
            self.status = LedgerStatus(None, False, reason="disabled",
                                       zh="「设置」表的 ledger 为空:本次汇总不记入台账。",
                                       en="'ledger' on the Settings sheet is empty: this consolidation is not recorded.")
            return
        try:
            self.ledger = open_ledger(self.url)
            self.current = self.ledger.current(scope, self.regions)
        except LedgerError as e:
            self._failed(e)

    def _failed(self, e: LedgerError) -> None:
        if self.ledger is not None:
            self.ledger.close()
        self.ledger = None
        self.status = LedgerStatus(e.url, False, reason=e.kind,
                                   zh=e.zh + " 报告已照常写出,但本次汇总未记入台账。",
                                   en=e.en + " The report was written, but this consolidation was not recorded.")

    # --- reading -------------------------------------------------------------------------------------------
    def last_week(self, period: dt.date) -> Previous | None:
        """The snapshot in force of the report week before ``period``, as last week's figures."""
        snap = self.current.get(period - dt.timedelta(days=7))
        return self._previous(snap)

    def last_month(self, period: dt.date, as_of: dt.date) -> Previous | None:
        """The latest snapshot in force whose week began in the month before the as-of date's month."""
        first = as_of.replace(day=1)
        prev = (first - dt.timedelta(days=1)).replace(day=1)
        found = [s for p, s in self.current.items() if p < period and prev <= p < first]
        return self._previous(found[-1] if found else None)

    def _previous(self, snap: dict | None) -> Previous | None:
        if snap is None or self.ledger is None:
            return None
        try:
            return self.ledger.previous(snap, f"台账 ledger #{snap['id']} ({snap['period']})")
        except Exception as e:  # noqa: BLE001 - a ledger read failing mid-run must not stop the report
            self._failed(LedgerError("failed", safe_url(self.url or ""), reason=f"{type(e).__name__}: {e}"[:200]))
            return None

    def history(self, c: Consolidation, cal: Calendar) -> History | None:
        """The history of this consolidation (None without earlier snapshots or without a ledger)."""
        from xlsales.core.history import point_of
        from xlsales.io.ledger import build

        if self.ledger is None or not any(p < c.period for p in self.current):
            return None
        roster = [str(r["rep_id"]) for r in self.setup.rows("roster")]
        try:
            h = build(self.ledger, point_of(c, cal.deadline, roster), self.setup, self.scope, self.regions)
        except Exception as e:  # noqa: BLE001 - as above
            self._failed(LedgerError("failed", safe_url(self.url or ""), reason=f"{type(e).__name__}: {e}"[:200]))
            return None
        return None if h.empty else h

    # --- writing -------------------------------------------------------------------------------------------
    def record(self, c: Consolidation, figures: dict, report_path: Path) -> LedgerStatus:
        """Record the snapshot (unless these inputs are already in the ledger) and return the status."""
        if self.ledger is None:
            assert self.status is not None
            return self.status
        try:
            snap = snapshot_of(c, self.setup, figures, report_path, self.scope)
            got = self.ledger.record(snap)
        except LedgerError as e:
            self._failed(e)
            assert self.status is not None
            return self.status
        shown = self.ledger.shown
        if not got.new:
            self.status = LedgerStatus(shown, True, got.snapshot, False, None, "unchanged",
                                       f"收件箱与台账快照 #{got.snapshot} 的输入完全相同:未新增快照。",
                                       f"The inputs are those of ledger snapshot #{got.snapshot}: no new snapshot.")
        else:
            sup_zh = f"(取代同一周的快照 #{got.supersedes},旧快照仍可查阅)" if got.supersedes else ""
            sup_en = f" (supersedes snapshot #{got.supersedes} of the same week, which stays readable)" \
                if got.supersedes else ""
            self.status = LedgerStatus(shown, True, got.snapshot, True, got.supersedes, None,
                                       f"已记入台账 {self.ledger.place}:快照 #{got.snapshot}{sup_zh}。",
                                       f"Recorded in the ledger {self.ledger.place} as snapshot #{got.snapshot}{sup_en}.")
        return self.status

    def record_aside(self, c: Consolidation, figures: dict, report_path: Path) -> Aside[LedgerStatus]:
        """:meth:`record` on another core (:class:`~xlsales.io.aside.Aside`), while the report is written; the
        caller may let go of ``figures`` at once.  A recording process that dies gives the status ``failed``
        (the report says it was not recorded); had it committed first, the next run finds the inputs recorded."""
        return Aside(functools.partial(self.record, c, figures, report_path), instead=self._lost)

    def _lost(self) -> LedgerStatus:
        shown = self.ledger.shown if self.ledger is not None else self.url
        return LedgerStatus(shown, False, reason="failed",
                            zh="记录台账快照的进程意外中止:本次汇总未记入台账,报告已照常写出。请重新汇总一次。",
                            en="The process recording the ledger snapshot stopped: this consolidation was not "
                               "recorded. The report was written; consolidate again to record it.")

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()


def mark_report(report: Report, status: LedgerStatus) -> None:
    """The ledger's status on the report's summary sheet (third row), so a report not recorded says so."""
    sheet = report.sheet("汇总" if report.lang == "zh" else "Summary")
    text = f"台账 Ledger · {status.zh} · {status.en}" if status.recorded else \
        f"未记入台账 NOT RECORDED · {status.zh} · {status.en}"
    sheet.put(2, 0, text, style="note" if status.recorded else "bad")
