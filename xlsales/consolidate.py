"""The Monday job: read every rep workbook in the inbox, validate, and combine — nothing lost.

:func:`consolidate` reads each file (never modifying it), resolves whose it is,
keeps the latest submission per rep, applies the business rules of
:mod:`xlsales.rules`, and returns a :class:`Consolidation`: one row per file,
the combined tables (every row, accepted or not, with rep, team and region),
every issue, and the totals over accepted rows.  Per file and overall,
rows read = rows accepted + rows rejected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import rules, schema
from .formula import cents
from .intake import RepRead, context, read_rep
from .issues import Issue, count, define, make
from .reader import BookError, empty_frame
from .safety import Sandbox
from .schema import norm
from .setup import Setup, monday
from .templates import forecast_months

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
DATA_TABLES = ("opportunities", "visits", "forecast", "weekly", "customers")
ORG_COLS = ["rep_id", "rep_name", "team", "region"]

define("file_ignored", "warning", "「{value}」不是 Excel 工作簿(.xlsx/.xlsm/.xls/.ods),已忽略。",
       "'{value}' is not an Excel workbook (.xlsx/.xlsm/.xls/.ods) and was ignored.")
define("identity_from_filename", "warning",
       "工作簿缺少业务员编号,已按文件名认定为 {rep}。请使用主管下发的模板。",
       "The workbook has no rep id; taken from the file name as {rep}. Use the template your manager sent.")
define("identity_filename_mismatch", "warning",
       "工作簿内的业务员编号 {value} 与文件名「{name}」不符。已按工作簿内编号处理;请确认没有交错文件。",
       "The rep id {value} inside does not match the file name '{name}'. The id inside counts; check the "
       "file is the right one.")
define("unknown_rep", "error", "业务员编号「{value}」不在名单中。请在名单中添加该业务员,或检查编号。",
       "Rep id '{value}' is not in the roster. Add the rep to the roster or check the id.")
define("inactive_rep", "warning", "业务员 {value} 在名单中为「非在职」,但提交了文件。数据已计入;请更新名单。",
       "Rep {value} is inactive in the roster but submitted a file. It was counted; update the roster.")
define("period_mismatch", "warning", "工作簿周期 {value} 不是本期 {period}。数据已计入;请确认是本周的最新文件。",
       "The workbook's period {value} is not this period {period}. It was counted; make sure it is this week's.")
define("superseded", "warning", "同一业务员本期有更新的提交「{newer}」,本文件未计入。",
       "A later submission from the same rep, '{newer}', counts instead; this file was not counted.")
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
    errors: int = 0
    warnings: int = 0
    sha256: str = ""
    modified: dt.datetime | None = None
    read: RepRead | None = None


@dataclass
class Consolidation:
    as_of: dt.date
    period: dt.date
    files: list[FileResult]
    frames: dict[str, pd.DataFrame]
    issues: list[Issue]
    missing: list[str] = field(default_factory=list)

    @property
    def rows(self) -> dict[str, int]:
        read = sum(f.rows_read for f in self.files)
        acc = sum(f.rows_accepted for f in self.files)
        return {"read": read, "accepted": acc, "rejected": read - acc}

    @property
    def file_counts(self) -> dict[str, int]:
        st = [f.status for f in self.files]
        return {"read": len(st), "accepted": st.count("accepted"), "rejected": st.count("rejected"),
                "superseded": st.count("superseded"), "missing": len(self.missing)}

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
    out = {k: round(float(amount[deals["category"] == k].sum()), 2) for k in ("closed", "commit", "upside",
                                                                              "pipeline")}
    open_ = deals["category"].isin(["commit", "upside", "pipeline"])
    if "weighted" in deals.columns:  # each deal's weighted amount is cent-rounded, as the report's ROUND does
        w = deals.loc[open_, "weighted"]
    else:
        w = [cents(float(a) * float(p)) for a, p in zip(amount[open_], deals.loc[open_, "probability"], strict=True)]
    out["weighted"] = round(float(sum(float(x) for x in w if _num(x))), 2)
    return out


# --- finding the files ------------------------------------------------------------

def discover(inbox: Path) -> tuple[list[Path], list[Issue]]:
    """Workbooks under ``inbox`` (sub-folders too), skipping Excel lock files and hidden files."""
    paths, issues = [], []
    for p in sorted(Path(inbox).rglob("*")):
        rel = p.relative_to(inbox)
        if any(part.startswith((".", "~$")) for part in rel.parts) or not p.is_file():
            continue
        if p.name.lower() in ("thumbs.db", "desktop.ini"):
            continue
        if p.suffix.lower() in SUFFIXES:
            paths.append(p)
        else:
            issues.append(make("file_ignored", str(rel), value=str(rel)))
    return paths, issues


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- the consolidation ---------------------------------------------------------------

def consolidate(inbox: Path, setup: Setup, as_of: dt.date | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> Consolidation:
    """Read, check and combine every workbook in ``inbox``."""
    period = setup.period
    as_of = as_of or period
    week = monday(as_of)
    paths, issues = discover(inbox)
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    with Sandbox() as sandbox:  # one sandboxed reader process for the whole inbox
        files = _read_all(paths, inbox, setup, sandbox, roster, week, issues, progress)
    issues.extend(_supersede(files))
    counted = [f for f in files if f.status == "accepted"]
    frames, letters = _combine(counted, roster, setup.stage_probability())
    rule_issues = rules.check_opportunities(frames["opportunities"][frames["opportunities"]["_ok"]],
                                            letters["opportunities"], setup, as_of)
    rule_issues += rules.check_customers(frames["customers"][frames["customers"]["_ok"]], letters["customers"])
    rule_issues += rules.check_visits(frames["visits"][frames["visits"]["_ok"]], letters["visits"], week)
    months = forecast_months(week, int(setup.threshold("forecast_months")))
    rule_issues += rules.check_forecast(frames["forecast"], {f.display: f.read.tables["forecast"] for f in counted
                                                              if f.read}, months)
    issues.extend(rule_issues)
    _reject_rows(frames, letters, rule_issues)
    missing = []
    for rep_id, r in roster.items():
        if r.get("active") in (True, None) and not any(f.rep_id == rep_id for f in counted):
            missing.append(rep_id)
            issues.append(make("missing_submission", "", "", "", rep_id, name=r.get("name", "")))
    _count(files, frames, issues)
    return Consolidation(as_of, week, files, frames, issues, missing)


def _read_all(paths: list[Path], inbox: Path, setup: Setup, sandbox: Sandbox, roster: dict[str, dict],
              week: dt.date, issues: list[Issue], progress: Callable[[int, int, str], None] | None
              ) -> list[FileResult]:
    """Read each file (never modifying it); unreadable files become one file-level issue each."""
    files: list[FileResult] = []
    ctx = context(setup)
    for n, p in enumerate(paths):
        rel = str(p.relative_to(inbox))
        if progress:
            progress(n, len(paths), rel)
        fr = FileResult(p, rel, sha256=_sha256(p),
                        modified=dt.datetime.fromtimestamp(p.stat().st_mtime).replace(microsecond=0))
        try:
            fr.read = read_rep(p, setup, rel, ctx=ctx, sandbox=sandbox)
        except BookError as e:
            fr.status = "rejected"
            issues.append(e.issue)
            files.append(fr)
            continue
        issues.extend(fr.read.issues)
        fr.rows_read = fr.read.rows_read
        issues.extend(_identify(fr, roster, week))
        files.append(fr)
    if progress:
        progress(len(paths), len(paths), "")
    return files


def _identify(fr: FileResult, roster: dict[str, dict], week: dt.date) -> list[Issue]:
    """Whose file this is: identity block first, file name as a flagged fallback; checked against the roster."""
    out: list[Issue] = []
    assert fr.read is not None
    ident = fr.read.identity
    cells = fr.read.identity_cells
    raw = ident.get("rep_id")
    stem = fr.path.stem
    rep_id = _text(raw)
    if not rep_id:
        rep_id = _from_name(stem, roster) or stem
        out.append(make("identity_from_filename", fr.display, value=stem, rep=rep_id))
    elif norm(rep_id) not in norm(stem):
        sheet, _, cell = cells.get("rep_id", "!").partition("!")
        out.append(make("identity_filename_mismatch", fr.display, sheet, cell, rep_id, name=fr.path.name))
    fr.rep_id = rep_id
    fr.period = fr.read.period
    if rep_id not in roster:
        sheet, _, cell = cells.get("rep_id", "!").partition("!")
        out.append(make("unknown_rep", fr.display, sheet, cell, rep_id))
        fr.status = "rejected"
    elif roster[rep_id].get("active") is False:
        out.append(make("inactive_rep", fr.display, value=rep_id))
    if fr.period and fr.period != week:
        sheet, _, cell = cells.get("period", "!").partition("!")
        out.append(make("period_mismatch", fr.display, sheet, cell, fr.period.isoformat(), period=week.isoformat()))
    return out


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _from_name(stem: str, roster: dict[str, dict]) -> str | None:
    hits = [r for r in roster if re.search(rf"(?<![0-9A-Za-z]){re.escape(r)}(?![0-9A-Za-z])", stem, re.I)]
    return hits[0] if len(hits) == 1 else None


def _supersede(files: list[FileResult]) -> list[Issue]:
    """Of several readable files from one rep, the latest (modified time, then name) counts."""
    out: list[Issue] = []
    by_rep: dict[str, list[FileResult]] = {}
    for f in files:
        if f.status == "accepted" and f.rep_id:
            by_rep.setdefault(f.rep_id, []).append(f)
    for group in by_rep.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: (f.modified or dt.datetime.min, f.display))
        newest = group[-1]
        for f in group[:-1]:
            f.status = "superseded"
            out.append(make("superseded", f.display, value=f.display, newer=newest.display))
    return out


def _combine(counted: list[FileResult], roster: dict[str, dict], probs: dict[str, float]
             ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, dict[str, str]]]]:
    frames: dict[str, pd.DataFrame] = {}
    letters: dict[str, dict[str, dict[str, str]]] = {}
    for key in DATA_TABLES:
        table = next(t for t in schema.REP_TABLES if t.key == key)
        parts, lets = [], {}
        for f in counted:
            assert f.read is not None
            tr = f.read.tables[key]
            lets[f.display] = tr.letters
            if tr.frame is None or tr.frame.empty:
                continue
            df = tr.frame.copy()
            r = roster.get(f.rep_id or "", {})
            df.insert(0, "region", r.get("region"))
            df.insert(0, "team", r.get("team"))
            df.insert(0, "rep_name", r.get("name"))
            df.insert(0, "rep_id", f.rep_id)
            parts.append(df)
        cols = [*ORG_COLS, *empty_frame(table).columns]
        frames[key] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
        frames[key]["_ok"] = frames[key]["_ok"].astype(bool)
        letters[key] = lets
    deals = frames["opportunities"]
    if not deals.empty:
        deals["probability"] = deals["stage"].map(lambda s: probs.get(str(s)) if s is not None else None)
        deals["weighted"] = [cents(float(a) * float(p)) if _num(a) and _num(p) else None
                             for a, p in zip(deals["amount"], deals["probability"], strict=True)]
    return frames, letters


def _num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v


NOT_ROW_RULES = {"forecast_incomplete"}  # name where a month is missing; no row there to reject


def _reject_rows(frames: dict[str, pd.DataFrame], letters: dict[str, dict[str, dict[str, str]]],
                 issues: list[Issue]) -> None:
    """Rows with an error-level rule issue leave every total — only rows of the table owning that column."""
    bad: dict[tuple[str, str, int], set[str]] = {}
    for i in issues:
        m = re.fullmatch(r"([A-Z]+)(\d+)", i.cell or "")
        if i.severity == "error" and m and i.rule not in NOT_ROW_RULES:
            bad.setdefault((i.file, i.sheet, int(m.group(2))), set()).add(m.group(1))
    if not bad:
        return
    for key, df in frames.items():
        if df.empty:
            continue
        hit = []
        for f, s, r in zip(df["_file"], df["_sheet"], df["_row"], strict=True):
            cols = bad.get((f, s, int(r)))
            hit.append(bool(cols) and bool(cols & set(letters[key].get(f, {}).values())))
        df.loc[hit, "_ok"] = False


def _count(files: list[FileResult], frames: dict[str, pd.DataFrame], issues: list[Issue]) -> None:
    per: dict[str, tuple[int, int]] = {}
    for df in frames.values():
        if df.empty:
            continue
        for file, grp in df.groupby("_file"):
            a, b = per.get(str(file), (0, 0))
            per[str(file)] = (a + len(grp), b + int(grp["_ok"].sum()))
    for f in files:
        f.errors = sum(1 for i in issues if i.file == f.display and i.severity == "error")
        f.warnings = sum(1 for i in issues if i.file == f.display and i.severity == "warning")
        if f.status == "accepted":
            read, acc = per.get(f.display, (0, 0))
            f.rows_read, f.rows_accepted = read, acc
        else:
            f.rows_accepted = 0
        f.rows_rejected = f.rows_read - f.rows_accepted
