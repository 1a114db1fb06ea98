"""Regions → company: the national report built from the regions' latest snapshots in a shared ledger.

Each regional manager consolidates their own inbox into the company's PostgreSQL ledger (their snapshots
are tagged with their roster's regions).  ``xlsales consolidate DIR --scope company`` — DIR holds the
company's manager workbook with the national roster — then takes, for every region of that roster, the
latest snapshot of the report week that covers it, and rebuilds the consolidation from the rows, files and
issues recorded there: no rep file is read again.  A region without a snapshot this week is named
(``region_not_consolidated``) and its reps count as missing.  The national report has every sheet a
regional one has, and is itself recorded as a ``company`` snapshot, so its history works the same way.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlsales.core.combine import DATA_TABLES, ORG_COLS, Consolidation, FileResult
from xlsales.core.issues import Issue, define, make
from xlsales.core.setup import Setup, monday
from xlsales.io.ledger import ISSUES, SUBMISSIONS, Ledger, LedgerError, ledger_url, open_ledger
from xlsales.run import (
    REPORT_KIND,
    BeforeWrite,
    ConsolidateResult,
    Progress,
    RunError,
    _InLanguage,
    check_as_of,
    check_output,
    collector_paused,
    load_actuals,
    load_folder_setup,
    make_report,
    report_inputs,
    report_path,
    setting_path,
)

define("region_not_consolidated", "warning",
       "大区「{value}」本周({period})还没有汇总记入台账:全国报告不含该大区的数据,其业务员按未提交计。"
       "请该大区经理先运行汇总,然后重新生成全国报告。",
       "Region '{value}' has not consolidated this week ({period}) into the ledger: the national report leaves it "
       "out and counts its reps as missing. Ask its regional manager to consolidate, then build the national report "
       "again.")


@dataclass
class CompanyResult(ConsolidateResult):
    """A national consolidation: which regional snapshot each region came from, and which regions are missing."""

    regions: dict[str, int] = field(default_factory=dict)  # region → snapshot id
    missing_regions: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        s = super().summary()
        s["scope"] = "company"
        s["regions"] = {"included": self.regions, "missing": self.missing_regions}
        return s


def regional_snapshots(book: Ledger, period: dt.date, regions: list[str]) -> tuple[dict[str, dict], list[str]]:
    """For each region, the latest ``folder`` snapshot of ``period`` that covers it; and the regions with none."""
    snaps = [s for s in book.snapshots("folder") if s["period"] == period]
    found: dict[str, dict] = {}
    for region in regions:
        hit = [s for s in snaps if region in s["regions"]]
        if hit:
            found[region] = hit[-1]
    return found, [g for g in regions if g not in found]


def from_ledger(book: Ledger, setup: Setup, as_of: dt.date) -> tuple[Consolidation, dict[str, int], list[str]]:
    """The consolidation of the week of ``as_of`` rebuilt from the regions' snapshots (no rep file read)."""
    period = monday(as_of)
    roster = [r for r in setup.rows("roster") if r.get("active") in (True, None)]
    regions = list(dict.fromkeys(str(r["region"]) for r in roster if r.get("region")))
    found, missing_regions = regional_snapshots(book, period, regions)
    ids = sorted({int(s["id"]) for s in found.values()})
    files: list[FileResult] = []
    subs = book.table(SUBMISSIONS, ids) if ids else pd.DataFrame()
    for r in subs.to_dict("records") if ids else []:
        if r["status"] == "missing":
            continue
        files.append(FileResult(Path(r["file"]), r["file"], r["status"], r["rep_id"], r["period"], r["rows_read"],
                                r["rows_accepted"], r["rows_rejected"], r["rows_superseded"], r["errors"],
                                r["warnings"], r["sha256"] or "", _datetime(r["modified"])))
    frames: dict[str, pd.DataFrame] = {}
    for tbl in DATA_TABLES:
        df = book.rows(ids, tbl) if ids else pd.DataFrame()
        df = df.drop(columns=["_snapshot"]) if "_snapshot" in df.columns else df
        if df.empty:
            from xlsales.core.records import empty_frame
            from xlsales.core.schema import rep_table

            table = rep_table(tbl)
            df = pd.DataFrame(columns=[*ORG_COLS, *empty_frame(table).columns])
        df["_ok"] = df["_ok"].astype(bool)
        frames[tbl] = df.reset_index(drop=True)
    issues = [Issue("error" if r["severity"] == "error" else "warning",
                    *(str(r[k] or "") for k in ("rule", "file", "sheet", "cell", "value", "zh", "en")))
              for r in (book.table(ISSUES, ids).to_dict("records") if ids else [])
              if r["rule"] != "missing_submission"]
    issues += [make("region_not_consolidated", "", value=g, period=period.isoformat()) for g in missing_regions]
    counted = {f.rep_id for f in files if f.status == "accepted"}
    missing = []
    for r in roster:
        if str(r["rep_id"]) not in counted:
            missing.append(str(r["rep_id"]))
            issues.append(make("missing_submission", "", "", "", r["rep_id"], name=r.get("name", "")))
    c = Consolidation(as_of, period, files, frames, issues, missing, {t: {} for t in DATA_TABLES})
    return c, {g: int(s["id"]) for g, s in found.items()}, missing_regions


def _datetime(v: object) -> dt.datetime | None:
    if isinstance(v, dt.datetime):
        return v
    if v is None or v != v:  # NaT / NaN
        return None
    try:
        return pd.Timestamp(v).to_pydatetime()
    except (TypeError, ValueError):
        return None


def consolidate_company(folder: Path, *, as_of: dt.date | None = None, out: Path | None = None,
                        ledger: str | None = None, progress: Progress | None = None,
                        before_write: BeforeWrite | None = None) -> CompanyResult:
    """The national report of ``folder`` (the company's manager folder) from the shared ledger.

    Written like a regional one (:func:`xlsales.run.make_report`): the
    folder's targets and finance actuals (the ``actuals_file`` setting), last week and last month from the
    ledger's company snapshots, never over an input; ``before_write`` as in
    :func:`xlsales.run.consolidate_folder`.
    """
    from xlsales.core.actuals import resolve
    from xlsales.io.ledger_run import LedgerRun

    started = time.monotonic()
    folder = Path(folder).resolve()
    setup, setup_issues, _ = load_folder_setup(folder)
    with _InLanguage(setup), collector_paused():
        check_as_of(as_of)
        period = monday(as_of or setup.period)
        actuals_path = setting_path(folder, setup, "actuals_file")
        default_out = report_path(folder, setup, period)
        check_output(Path(out) if out else default_out, REPORT_KIND, folder=folder, setup=setup,
                     inputs=report_inputs(folder, setup, actuals_path, None), explicit=out is not None)
        url = ledger_url(folder, setup, ledger)
        if url is None:
            raise RunError("全国报告读取各大区的台账:请在「设置」表的 ledger 中填写共享台账地址,或用 --ledger 指定。",
                           "The national report reads the regions' ledger: put the shared ledger's URL in 'ledger' on "
                           "the Settings sheet, or name it with --ledger.")
        if progress:
            progress(0, 1, url.rsplit("/", 1)[-1])
        reading = time.monotonic()
        try:
            with open_ledger(url) as book:
                c, regions, missing_regions = from_ledger(book, setup, as_of or setup.period)
        except LedgerError as e:
            raise RunError(e.zh + " 全国报告需要台账,未生成。", e.en + " The national report needs the ledger; none was "
                           "written.") from e
        if not regions:
            raise RunError(f"台账中没有任何大区 {period} 这一周的快照:请各大区经理先运行汇总。",
                           f"The ledger holds no region's snapshot of the week of {period}: ask "
                           "the regional managers to consolidate first.")
        steps = {"read": time.monotonic() - reading}
        loaded, actuals_issues = load_actuals(actuals_path, setup) if actuals_path else (None, [])
        out = Path(out) if out else default_out
        run = LedgerRun(folder, setup, ledger, scope="company")
        try:
            last_week, last_month = run.last_week(c.period), run.last_month(c.period, c.as_of)
            if before_write:
                before_write(out)
            totals, targets_source, cut, status = make_report(c, setup, folder, run, out, actuals=loaded,
                                                              last_week=last_week, last_month=last_month,
                                                              steps=steps)
        finally:
            run.close()
        return CompanyResult(folder=folder, inbox=folder, report=out, consolidation=c, setup=setup,
                             setup_issues=setup_issues, previous=None, previous_issues=[],
                             targets_source=targets_source, actuals_source=resolve(setup, c, loaded).source,
                             actuals_issues=actuals_issues, seconds=time.monotonic() - started, output_issues=cut,
                             totals=totals, ledger=status, steps=steps,
                             previous_from_ledger=last_week.source if last_week else None,
                             last_month_from_ledger=last_month.source if last_month else None, regions=regions,
                             missing_regions=missing_regions,
                             actuals_file=actuals_path.name if loaded is not None and actuals_path else None)
