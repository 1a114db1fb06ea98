"""Combining the rep files read from an inbox: whose each file is, which one counts, rows and totals.

:func:`combine` takes the files as read (:class:`FileResult` with the parsed workbook), keeps the
latest submission per rep, applies the business rules of :mod:`xlsales.core.rules`, and returns a
:class:`Consolidation`: one row per file, the combined tables (every row, accepted or not, with rep,
team and region), every issue, and the totals over accepted rows.  Per file and overall, rows read =
accepted + rejected + superseded, each counted where it is decided.

Pure: pandas and the other core modules; reading the files is :mod:`xlsales.io.inbox`'s job.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import rules, schema
from .customer_list import check_listed
from .issues import Issue, count, define, make
from .money import cents
from .periods import forecast_months
from .records import RepRead, empty_frame
from .setup import Setup

DATA_TABLES = ("opportunities", "visits", "forecast", "weekly", "customers", "attendance")
ORG_COLS = ["rep_id", "rep_name", "team", "region"]

define("superseded", "warning", "同一业务员的另一份提交「{newer}」计入,本文件未计入:{why}。",
       "Another submission from the same rep, '{newer}', counts instead; this file was not counted: {why_en}.")
define("latest_tie", "warning",
       "「{value}」与「{other}」是同一业务员同一周期的不同文件,保存时间和修改时间都相同,无法判断哪份最新;"
       "已按文件名计入「{value}」。请删除不需要的那份后重新汇总。",
       "'{value}' and '{other}' are different files of one rep and one period with the same saved and modified "
       "times, so neither is the latest; '{value}' was counted by its name. Remove the one not wanted and run the "
       "consolidation again.")
define("missing_submission", "error", "业务员 {value}({name})本期没有提交工作簿。",
       "Rep {value} ({name}) submitted no workbook this period.")

@dataclass
class FileResult:
    """One file of the inbox and what became of it."""

    path: Path
    display: str
    status: str = "accepted"  # accepted | rejected | superseded
    rep_id: str | None = None
    period: dt.date | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_superseded: int = 0
    errors: int = 0
    warnings: int = 0
    sha256: str = ""
    modified: dt.datetime | None = None  # the file's mtime
    saved: dt.datetime | None = None  # the workbook's own saved time (UTC), from its document properties
    signature: str = ""  # verified | unsigned | forged; "" when no key was given
    signed: dict[str, str] | None = None  # the values of its signature sheet, None without one
    read: RepRead | None = None
    cached: bool = False  # its read came from the read cache (same bytes, name and setup as a run before)


@dataclass
class Consolidation:
    as_of: dt.date
    period: dt.date
    files: list[FileResult]
    frames: dict[str, pd.DataFrame]
    issues: list[Issue]
    missing: list[str] = field(default_factory=list)
    letters: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # table → file → column → letter

    @property
    def rows(self) -> dict[str, int]:
        """Rows read, accepted, rejected (with errors, or in a rejected file) and superseded, each counted."""
        return {"read": sum(f.rows_read for f in self.files), "accepted": sum(f.rows_accepted for f in self.files),
                "rejected": sum(f.rows_rejected for f in self.files),
                "superseded": sum(f.rows_superseded for f in self.files)}

    @property
    def file_counts(self) -> dict[str, int]:
        st = [f.status for f in self.files]
        return {"read": len(st), "accepted": st.count("accepted"), "rejected": st.count("rejected"),
                "superseded": st.count("superseded"), "missing": len(self.missing)}

    @property
    def files_from_cache(self) -> int:
        """Files whose read came from the read cache: the same bytes, name and setup as at a run before."""
        return sum(1 for f in self.files if f.cached)

    def accepted(self, key: str) -> pd.DataFrame:
        df = self.frames[key]
        return df[df["_ok"].astype(bool)] if not df.empty else df

    @property
    def totals(self) -> dict[str, float]:
        return totals(self.accepted("opportunities"))

    def summary(self, report: Path | None = None) -> dict:
        by_rule: dict[str, int] = {}
        for i in self.issues:
            by_rule[i.rule] = by_rule.get(i.rule, 0) + 1
        return {"report": str(report) if report else None, "files": self.file_counts, "rows": self.rows,
                "issues": {**count(self.issues), "by_rule": dict(sorted(by_rule.items()))},
                "totals": self.totals, "as_of": self.as_of.isoformat(), "period": self.period.isoformat()}


def totals(deals: pd.DataFrame) -> dict[str, float]:
    """Closed, commit, upside, pipeline (by category) and weighted pipeline over open deals, in yuan."""
    if deals.empty:
        return {k: 0.0 for k in ("closed", "commit", "upside", "pipeline", "weighted")}
    amount = deals["amount"].astype(float)
    out = {k: cents(float(amount[deals["category"] == k].sum())) for k in ("closed", "commit", "upside",
                                                                              "pipeline")}
    open_ = deals["category"].isin(["commit", "upside", "pipeline"])
    if "weighted" in deals.columns:  # each deal's weighted amount is cent-rounded, as the report's ROUND does
        w = deals.loc[open_, "weighted"]
    else:
        w = [cents(float(a) * float(p)) for a, p in zip(amount[open_], deals.loc[open_, "probability"], strict=True)]
    out["weighted"] = cents(float(sum(float(x) for x in w if _num(x))))
    return out


def combine(files: list[FileResult], setup: Setup, as_of: dt.date, issues: list[Issue]) -> Consolidation:
    """Decide which file counts for each rep, combine their tables and apply the rules; ``issues`` are those
    found so far (reading the files), to which the rest are added."""
    week = as_of - dt.timedelta(days=as_of.weekday())
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    issues.extend(_supersede(files, week))
    counted = [f for f in files if f.status == "accepted"]
    frames, letters = _combine(counted, roster, setup.stage_probability())
    rule_issues = rules.check_opportunities(frames["opportunities"][frames["opportunities"]["_ok"]],
                                            letters["opportunities"], setup, as_of)
    rule_issues += rules.check_customers(frames["customers"][frames["customers"]["_ok"]], letters["customers"])
    rule_issues += rules.check_visits(frames["visits"][frames["visits"]["_ok"]], letters["visits"], week, as_of)
    rule_issues += rules.check_commit_rows(frames["weekly"][frames["weekly"]["_ok"]],
                                           frames["opportunities"][frames["opportunities"]["_ok"]],
                                           letters["weekly"], week)
    rule_issues += check_listed({k: frames[k][frames[k]["_ok"]] for k in ("customers", "visits", "opportunities")},
                                letters)
    months = forecast_months(week, int(setup.threshold("forecast_months")))
    rule_issues += rules.check_forecast(frames["forecast"], {f.display: f.read.tables["forecast"] for f in counted
                                                              if f.read}, months)
    issues.extend(rule_issues)
    rejected_by_rules = _reject_rows(frames, letters, rule_issues)
    missing = []
    for rep_id, r in roster.items():
        if r.get("active") in (True, None) and not any(f.rep_id == rep_id for f in counted):
            missing.append(rep_id)
            issues.append(make("missing_submission", "", "", "", rep_id, name=r.get("name", "")))
    _count(files, frames, issues, rejected_by_rules)
    return Consolidation(as_of, week, files, frames, issues, missing, letters)



def _rank(f: FileResult, week: dt.date) -> tuple:
    """What makes one of a rep's files the latest: this period, a verified signature, the later period, the
    workbook's own saved time, the file's time — in that order."""
    return (f.period == week, f.signature == "verified", f.period or dt.date.min, f.saved or dt.datetime.min,
            f.modified or dt.datetime.min)


def _supersede(files: list[FileResult], week: dt.date | None = None) -> list[Issue]:
    """Of several readable files from one rep, the latest counts (see :func:`_rank`); the others are superseded,
    each told why; two different files that tie exactly are ``latest_tie`` (the name decides)."""
    out: list[Issue] = []
    by_rep: dict[str, list[FileResult]] = {}
    for f in files:
        if f.status == "accepted" and f.rep_id:
            by_rep.setdefault(f.rep_id, []).append(f)
    for group in by_rep.values():
        if len(group) < 2:
            continue
        wk = week or max((f.period for f in group if f.period), default=dt.date.min)
        group.sort(key=lambda f: (_rank(f, wk), f.display))
        newest = group[-1]
        ties = [f for f in group[:-1] if _rank(f, wk) == _rank(newest, wk) and f.sha256 != newest.sha256]
        if ties:
            out.append(make("latest_tie", newest.display, value=newest.display,
                            other=", ".join(f.display for f in ties)))
        for f in group[:-1]:
            f.status = "superseded"
            f.rows_superseded, f.rows_rejected = f.rows_read, 0  # none of its rows count, and none were judged
            why, why_en = _why_superseded(f, newest, wk)
            out.append(make("superseded", f.display, value=f.display, newer=newest.display, why=why, why_en=why_en))
    return out


def _when(t: dt.datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S}" if t else "—"


def _why_superseded(f: FileResult, newest: FileResult, week: dt.date) -> tuple[str, str]:
    """Why ``newest`` counts instead of ``f``, in zh and en."""
    if f.sha256 and f.sha256 == newest.sha256:
        return "两者内容完全相同", "the two are identical"
    if newest.period == week and f.period != week:
        p = f.period.isoformat() if f.period else "未知"
        return (f"本文件是 {p} 周期的,计入的是本期 {week} 的文件",
                f"this file is for the period {f.period or 'unknown'}, the one counted for this period {week}")
    if newest.signature == "verified" and f.signature != "verified":
        return "本文件没有可核对的身份签名,计入的文件有", "this file has no signature that verifies; the one counted has"
    if f.period != newest.period:
        return (f"计入的文件周期较新({newest.period} > {f.period})",
                f"the one counted is for a later period ({newest.period} > {f.period})")
    if f.saved != newest.saved:
        return (f"计入的工作簿保存时间较晚(UTC {_when(newest.saved)} > {_when(f.saved)})",
                f"the one counted was saved later by its application (UTC {_when(newest.saved)} > {_when(f.saved)})")
    if f.modified != newest.modified:
        return (f"两者保存时间相同,计入的文件修改时间较晚({_when(newest.modified)} > {_when(f.modified)})",
                f"both were saved at the same time; the one counted was modified later ({_when(newest.modified)} > "
                f"{_when(f.modified)})")
    return "两者时间完全相同,按文件名选取", "both have the same times; the name decided"


def _combine(counted: list[FileResult], roster: dict[str, dict], probs: dict[str, float]
             ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, dict[str, str]]]]:
    frames: dict[str, pd.DataFrame] = {}
    letters: dict[str, dict[str, dict[str, str]]] = {}
    for key in DATA_TABLES:
        table = schema.rep_table(key)
        parts, owners, lets = [], [], {}
        for f in counted:
            assert f.read is not None
            tr = f.read.tables[key]
            lets[f.display] = tr.letters
            if tr.frame is None or tr.frame.empty:
                continue
            parts.append(tr.frame)
            owners.append(f)
        if parts:
            frames[key] = pd.concat(parts, ignore_index=True)
            _add_org(frames[key], owners, [len(p) for p in parts], roster)
        else:
            frames[key] = pd.DataFrame(columns=[*ORG_COLS, *empty_frame(table).columns])
        frames[key]["_ok"] = frames[key]["_ok"].astype(bool)
        letters[key] = lets
    deals = frames["opportunities"]
    if not deals.empty:
        deals["probability"] = deals["stage"].map(lambda s: probs.get(str(s)) if s is not None else None)
        deals["weighted"] = [cents(float(a) * float(p)) if _num(a) and _num(p) else None
                             for a, p in zip(deals["amount"], deals["probability"], strict=True)]
    return frames, letters


def _add_org(df: pd.DataFrame, owners: list[FileResult], counts: list[int], roster: dict[str, dict]) -> None:
    """Rep, name, team and region in front of ``df``, whose rows are ``counts[i]`` rows of ``owners[i]`` in turn —
    the columns a per-file insert of each value would have made, built once for the whole table."""
    org = {"rep_id": [f.rep_id for f in owners]}
    for col, field_ in (("rep_name", "name"), ("team", "team"), ("region", "region")):
        org[col] = [roster.get(f.rep_id or "", {}).get(field_) for f in owners]
    for pos, col in enumerate(ORG_COLS):
        df.insert(pos, col, _repeated(org[col], counts))


def _repeated(values: Sequence[object], counts: list[int]) -> pd.Series:
    """``values[i]`` repeated ``counts[i]`` times, typed as concatenating per-file columns of each value would be:
    one type throughout keeps pandas' own type for it (text, numbers), a mix (text and None) stays objects."""
    flat = np.repeat(np.array([*values, None], dtype=object)[:-1], counts)
    if values[0] is not None and len({type(v) for v in values}) == 1:
        return pd.Series(flat.tolist(), dtype=pd.Series(values[:1]).dtype)
    return pd.Series(flat, dtype=object)


def _num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v


NOT_ROW_RULES = {"forecast_incomplete"}  # name where a month is missing; no row there to reject


def _reject_rows(frames: dict[str, pd.DataFrame], letters: dict[str, dict[str, dict[str, str]]],
                 issues: list[Issue]) -> dict[str, int]:
    """Rows with an error-level rule issue leave every total — only rows of the table owning that column.

    Returns, per file, how many rows this rejected (rows already rejected by a cell error are not counted twice).
    """
    bad: dict[tuple[str, str, int], set[str]] = {}
    for i in issues:
        m = re.fullmatch(r"([A-Z]+)(\d+)", i.cell or "")
        if i.severity == "error" and m and i.rule not in NOT_ROW_RULES:
            bad.setdefault((i.file, i.sheet, int(m.group(2))), set()).add(m.group(1))
    rejected: dict[str, int] = {}
    if not bad:
        return rejected
    for key, df in frames.items():
        if df.empty:
            continue
        hit = []
        for f, s, r, ok in zip(*(df[k].tolist() for k in ("_file", "_sheet", "_row", "_ok")), strict=True):
            cols = bad.get((f, s, int(r)))
            now = cols is not None and bool(cols & set(letters[key].get(f, {}).values()))
            hit.append(now)
            if now and ok:
                rejected[str(f)] = rejected.get(str(f), 0) + 1
        df.loc[hit, "_ok"] = False
    return rejected


def _count(files: list[FileResult], frames: dict[str, pd.DataFrame], issues: list[Issue],
           rejected_by_rules: dict[str, int]) -> None:
    """Issues per file; accepted rows counted in the combined tables; rule rejections added where they happened."""
    accepted: dict[str, int] = {}
    for df in frames.values():
        if df.empty:
            continue
        for file, ok in zip(df["_file"].tolist(), df["_ok"].tolist(), strict=True):
            if ok:
                accepted[str(file)] = accepted.get(str(file), 0) + 1
    per_file = Counter((i.file, i.severity) for i in issues)
    for f in files:
        f.errors, f.warnings = per_file[(f.display, "error")], per_file[(f.display, "warning")]
        if f.status == "accepted":
            f.rows_accepted = accepted.get(f.display, 0)
            f.rows_rejected += rejected_by_rules.get(f.display, 0)
        elif f.status == "rejected":  # the whole file is refused: each of its rows with it
            f.rows_accepted, f.rows_rejected = 0, f.rows_read
        else:
            f.rows_accepted = 0
