"""The Monday job: read every rep workbook in the inbox, validate, and combine — nothing lost.

:func:`consolidate` reads each file (never modifying it), resolves whose it is,
keeps the latest submission per rep, applies the business rules of
:mod:`xlsales.rules`, and returns a :class:`Consolidation`: one row per file,
the combined tables (every row, accepted or not, with rep, team and region),
every issue, and the totals over accepted rows.

Whose file it is: a workbook built from a template carries its rep id, period and template id
signed with the manager's key (:mod:`xlsales.templates`); given the key, a signature that does
not match the workbook is ``identity_forged`` (the file is rejected), and a workbook without one
is ``identity_unsigned`` — a warning, or nothing, or an error, as the ``unsigned_workbooks``
setting says (warn by default; accept; reject).

Which of one rep's files counts ("latest"): this period's file beats any other period's, a
verified signature beats none, then the later period, then the workbook's own saved time
(``dcterms:modified``, which a copy or a sync keeps), then the file's mtime; an exact tie between
two different files is ``latest_tie``.  Files in archive-like sub-folders (归档, archive, old,
旧, backup, 备份 …) and links leading outside the inbox are listed with an issue each, never read.

Each file is read inside its own guard: whatever happens to one file (no permission,
removed mid-run, a FIFO, a link to nothing, a parser failure, an absurd cell) becomes
that file's issue, never the end of the run.

Rows are counted where they are decided: read by the reader, rejected where an error
rejects them (a cell error in the reader, a rule error in :func:`_reject_rows`, or the
whole file), superseded when a later file from the same rep counts instead, accepted
from the combined tables.  Per file and overall,
rows read = accepted + rejected + superseded — a check the tests make, not a definition.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import rules, safety, schema
from .intake import RepRead, context, read_rep
from .issues import Issue, count, define, make
from .money import cents
from .reader import BookError, empty_frame, from_workbook
from .safety import Sandbox
from .schema import norm
from .setup import Setup, monday
from .templates import IDENTITY_SHEET, SIGNATURE_CELL, SIGNED_FIELDS, check_signature, forecast_months

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
define("superseded", "warning", "同一业务员的另一份提交「{newer}」计入,本文件未计入:{why}。",
       "Another submission from the same rep, '{newer}', counts instead; this file was not counted: {why_en}.")
define("latest_tie", "warning",
       "「{value}」与「{other}」是同一业务员同一周期的不同文件,保存时间和修改时间都相同,无法判断哪份最新;"
       "已按文件名计入「{value}」。请删除不需要的那份后重新汇总。",
       "'{value}' and '{other}' are different files of one rep and one period with the same saved and modified "
       "times, so neither is the latest; '{value}' was counted by its name. Remove the one not wanted and run the "
       "consolidation again.")
define("identity_forged", "error",
       "工作簿的身份与它的签名不符({why}),可能是复制了别人的文件后改了业务员编号或周期。此文件未计入。"
       "请让业务员用主管发给他本人的模板填写后重新发送。",
       "The workbook's identity does not match its signature ({why_en}); it may be a copy of someone else's file "
       "with the rep id or period changed. The file was not counted. Ask the rep to fill in the template the "
       "manager sent them and resend.")
define("identity_unsigned", "warning",
       "工作簿没有可核对的身份签名({why}),无法确认是 {rep} 本人的文件;数据已计入。如无问题,可在主管工作簿「设置」表"
       "添加 unsigned_workbooks = accept 不再提示(设为 reject 则拒收这类文件);最好请业务员改用新模板。",
       "The workbook carries no identity signature that can be checked ({why_en}), so it cannot be confirmed as "
       "{rep}'s; it was counted. To accept such files silently, add unsigned_workbooks = accept on the manager "
       "workbook's Settings sheet (reject refuses them); better, have the rep use a new template.")
define("identity_unsigned_rejected", "error",
       "工作簿没有可核对的身份签名({why}),按「设置」中 unsigned_workbooks = reject 拒收,未计入。"
       "请业务员用主管发给他本人的新模板填写后重新发送。",
       "The workbook carries no identity signature that can be checked ({why_en}) and Settings say "
       "unsigned_workbooks = reject, so it was not counted. Ask the rep to fill in the new template the manager "
       "sent them and resend.")
define("identity_key_missing", "warning",
       "主管文件夹中没有签名密钥 {value},无法核对业务员工作簿的身份签名(本次未核对)。请从备份找回该文件;"
       "或点「刷新」生成新密钥,并把新模板发给所有业务员。",
       "The manager's folder has no signing key {value}, so the rep workbooks' identity signatures were not checked. "
       "Restore the file from a backup, or click Refresh to make a new key and send the new templates to every rep.")
define("file_in_archive", "warning",
       "「{value}」在归档/备份文件夹「{folder}」中,未汇总(这类文件夹里的文件不参与汇总)。如果它是本期要交的文件,"
       "请把它移出该文件夹。",
       "'{value}' is in the archive/backup folder '{folder}' and was not consolidated (files in such folders never "
       "are). If it is this period's file, move it out of that folder.")
define("file_link_outside", "warning",
       "「{value}」是指向收件箱之外的链接(指向 {target}),未汇总。请把文件本身复制到收件箱。",
       "'{value}' is a link to a file outside the inbox ({target}) and was not consolidated. Copy the file itself "
       "into the inbox.")

# Sub-folders whose files are kept, not submitted: a name holding one of these words (any case) or characters.
ARCHIVE_WORDS = frozenset({"archive", "archives", "archived", "old", "older", "backup", "backups", "bak", "history",
                           "trash", "recycle", "deleted", "obsolete"})
ARCHIVE_CJK = ("归档", "存档", "备份", "旧", "历史", "废弃", "回收", "过期", "作废")
UNSIGNED_POLICIES = {"warn": ("warn", "警告", ""), "accept": ("accept", "接受", "是", "yes"),
                     "reject": ("reject", "拒收", "拒绝")}  # the values setup.UNSIGNED_VALUES allows
define("missing_submission", "error", "业务员 {value}({name})本期没有提交工作簿。",
       "Rep {value} ({name}) submitted no workbook this period.")
define("folder_unreadable", "error",
       "无法读取文件夹「{value}」({reason}),其中的文件都未汇总。请检查该文件夹的权限,然后重新汇总。",
       "The folder '{value}' cannot be read ({reason}); none of its files were consolidated. Check the folder's "
       "permissions, then run the consolidation again.")
define("folder_link_ignored", "warning",
       "「{value}」是指向其他文件夹的链接,其中的文件未汇总。如需汇总,请把文件本身放入收件箱。",
       "'{value}' is a link to another folder; its files were not consolidated. Put the files themselves in the "
       "inbox to have them counted.")
define("file_read_failed", "error",
       "读取此文件时出现意外错误({value}),此文件未计入,其他文件不受影响。请把此文件转交 xlsales 维护人员。",
       "An unexpected error occurred while reading this file ({value}); it was not counted and the other files were "
       "not affected. Pass the file to whoever maintains xlsales.")


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


# --- finding the files ------------------------------------------------------------

def discover(inbox: Path) -> tuple[list[Path], list[Issue]]:
    """Workbooks under ``inbox`` (sub-folders too), skipping Excel lock files and hidden files.

    Every other entry is reported: a workbook name that is not a regular file (a FIFO, a device,
    a link to nothing) is returned so that reading it says why; other names are ``file_ignored``;
    a folder that cannot be listed is ``folder_unreadable``; a link to a folder is not followed.
    """
    inbox = Path(inbox)
    real_inbox = Path(os.path.realpath(inbox))
    found: list[tuple[Path, Issue | None]] = []

    def rel(p: str | Path) -> str:
        return str(Path(p).relative_to(inbox)) if Path(p) != inbox else "."

    def unreadable(e: OSError) -> None:
        where = e.filename or inbox
        found.append((Path(where), make("folder_unreadable", rel(where), value=rel(where),
                                        reason=e.strerror or type(e).__name__)))

    for root, dirs, files in os.walk(inbox, onerror=unreadable):
        here = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith((".", "~$"))]
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                found.append((here / d, make("folder_link_ignored", rel(here / d), value=rel(here / d))))
        kept = next((part for part in Path(rel(here)).parts if archived(part)), None) if here != inbox else None
        for name in files:
            p = here / name
            if name.startswith((".", "~$")) or name.lower() in ("thumbs.db", "desktop.ini"):
                continue
            if p.suffix.lower() not in SUFFIXES:
                if kept is None:
                    found.append((p, make("file_ignored", rel(p), value=rel(p))))
            elif kept is not None:
                found.append((p, make("file_in_archive", rel(p), value=rel(p), folder=kept)))
            elif (outside := _outside(p, real_inbox)) is not None:
                found.append((p, make("file_link_outside", rel(p), value=rel(p), target=outside)))
            else:
                found.append((p, None))
    found.sort(key=lambda x: x[0])
    return [p for p, i in found if i is None], [i for _, i in found if i is not None]


def archived(name: str) -> bool:
    """Whether a folder's name says it keeps old files (归档, archive, old, 旧, backup, 备份 …)."""
    words = {w for w in re.split(r"[^0-9a-z]+", name.casefold()) if w}
    return bool(words & ARCHIVE_WORDS) or any(ch in name for ch in ARCHIVE_CJK)


def _outside(p: Path, real_inbox: Path) -> str | None:
    """Where a link leads when that is a regular file outside the inbox; None for everything else."""
    if not p.is_symlink():
        return None
    target = Path(os.path.realpath(p))
    if not target.is_file() or target.is_relative_to(real_inbox):
        return None  # a link to nothing or to a device is read (and refused as such); one within the inbox is a file there
    return str(target)


# --- the consolidation ---------------------------------------------------------------

def consolidate(inbox: Path, setup: Setup, as_of: dt.date | None = None,
                progress: Callable[[int, int, str], None] | None = None, *, key: bytes | None = None
                ) -> Consolidation:
    """Read, check and combine every workbook in ``inbox``.

    ``key``: the manager's signing key; with it every workbook's identity signature is checked.
    """
    period = setup.period
    as_of = as_of or period
    week = monday(as_of)
    paths, issues = discover(inbox)
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    guard = _Identity(key, unsigned_policy(setup))
    with Sandbox() as sandbox:  # one sandboxed reader process for the whole inbox
        files = _read_all(paths, inbox, setup, sandbox, roster, week, issues, progress, guard)
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


def _read_all(paths: list[Path], inbox: Path, setup: Setup, sandbox: Sandbox, roster: dict[str, dict],
              week: dt.date, issues: list[Issue], progress: Callable[[int, int, str], None] | None,
              guard: _Identity | None = None) -> list[FileResult]:
    """Read each file (never modifying it); whatever goes wrong with one file is that file's one issue."""
    files: list[FileResult] = []
    ctx = context(setup)
    for n, p in enumerate(paths):
        rel = str(p.relative_to(inbox))
        if progress:
            progress(n, len(paths), rel)
        fr = FileResult(p, rel)
        files.append(fr)
        try:  # the per-file guard: read bytes, hash, check, parse, coerce
            loaded = safety.load(p, sandbox, rel)
            fr.sha256, fr.modified = loaded.sha256, loaded.modified
            if loaded.issue is not None or loaded.book is None:
                raise BookError(loaded.issue or make("file_corrupt", rel))
            saved = loaded.book.props.get("modified")
            fr.saved = saved if isinstance(saved, dt.datetime) else None
            fr.signed = signature_of(loaded.book)
            fr.read = read_rep(p, setup, rel, book=from_workbook(loaded.book, p, rel), ctx=ctx)
            fr.rows_read = fr.read.rows_read
            fr.rows_rejected = fr.read.rows_rejected
            file_issues = [*fr.read.issues, *_identify(fr, roster, week, guard)]
        except BookError as e:
            fr.status, fr.read, fr.rows_read, fr.rows_rejected = "rejected", None, 0, 0
            file_issues = [e.issue]
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - one file's surprise must not end the run for every other file
            fr.status, fr.read, fr.rows_read, fr.rows_rejected = "rejected", None, 0, 0
            file_issues = [make("file_read_failed", rel, value=f"{type(e).__name__}: {str(e)[:160]}")]
        issues.extend(file_issues)
    if progress:
        progress(len(paths), len(paths), "")
    return files


def _identify(fr: FileResult, roster: dict[str, dict], week: dt.date, guard: _Identity | None = None
              ) -> list[Issue]:
    """Whose file this is: the signed identity (given a key), the identity block, the file name as a flagged
    fallback; checked against the roster."""
    out: list[Issue] = []
    assert fr.read is not None
    ident = fr.read.identity
    cells = fr.read.identity_cells
    raw = ident.get("rep_id")
    stem = fr.path.stem
    rep_id = _text(raw)
    if guard is not None and guard.key is not None:
        out.extend(guard.check(fr))
        if fr.signature == "forged":
            fr.rep_id, fr.period, fr.status = rep_id or None, fr.read.period, "rejected"
            return out
        if not rep_id and fr.signature == "verified" and fr.signed:
            rep_id = fr.signed.get("rep", "")
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
    if fr.signature == "unsigned" and guard is not None and guard.policy == "reject":
        fr.status = "rejected"
    return out


def unsigned_policy(setup: Setup) -> str:
    """What the ``unsigned_workbooks`` setting says: ``warn`` (the default), ``accept`` or ``reject``."""
    value = (setup.setting("unsigned_workbooks", "") or "").strip().casefold()
    return next((k for k, names in UNSIGNED_POLICIES.items() if value in names), "warn")


def signature_of(book: safety.Workbook) -> dict[str, str] | None:
    """The values of a workbook's signature sheet ({template, rep, period, signature}); None without the sheet."""
    rows = book.rows.get(IDENTITY_SHEET)
    if rows is None:
        return None
    labels = {label: k for k, label in SIGNED_FIELDS}
    out: dict[str, str] = {}
    for row in rows[:12]:
        if len(row) >= 2 and isinstance(row[0], str) and row[0].strip() in labels:
            out.setdefault(labels[row[0].strip()], _text(row[1]))
    return out


@dataclass
class _Identity:
    """Checks each workbook's signed identity against the manager's key and the workbook's own identity block."""

    key: bytes | None
    policy: str = "warn"

    def check(self, fr: FileResult) -> list[Issue]:
        assert fr.read is not None and self.key is not None
        signed = fr.signed
        cells = fr.read.identity_cells
        if not signed or not signed.get("signature"):
            why = ("没有签名表:旧版模板,或数据被复制到了新文件" if signed is None else "签名表是空的",
                   "no signature sheet: an older template, or the data was copied into a new file" if signed is None
                   else "the signature sheet is empty")
            return self._unsigned(fr, why)
        verdict = check_signature(self.key, signed)
        if verdict == "other_key":
            return self._unsigned(fr, ("签名来自另一个主管文件夹的密钥", "it was signed with another manager folder's key"))
        if verdict == "bad":
            return self._forged(fr, IDENTITY_SHEET, SIGNATURE_CELL, signed.get("rep", ""),
                                ("签名表中的内容被改过", "the signature sheet was edited"))
        rep = _text(fr.read.identity.get("rep_id"))
        if rep and norm(rep) != norm(signed.get("rep", "")):
            sheet, _, cell = cells.get("rep_id", "!").partition("!")
            return self._forged(fr, sheet, cell, rep, (f"签名属于 {signed.get('rep')},工作簿中写的是 {rep}",
                                                       f"it is signed for {signed.get('rep')}, the workbook says {rep}"))
        period = fr.read.period
        if period is not None and period.isoformat() != signed.get("period"):
            sheet, _, cell = cells.get("period", "!").partition("!")
            return self._forged(fr, sheet, cell, period.isoformat(),
                                (f"签名的周期是 {signed.get('period')},工作簿中写的是 {period}",
                                 f"it is signed for the period {signed.get('period')}, the workbook says {period}"))
        fr.signature = "verified"
        return []

    def _unsigned(self, fr: FileResult, why: tuple[str, str]) -> list[Issue]:
        fr.signature = "unsigned"
        if self.policy == "accept":
            return []
        rule = "identity_unsigned_rejected" if self.policy == "reject" else "identity_unsigned"
        rep = _text(fr.read.identity.get("rep_id")) if fr.read else ""
        return [make(rule, fr.display, value=rep, rep=rep or fr.path.stem, why=why[0], why_en=why[1])]

    def _forged(self, fr: FileResult, sheet: str, cell: str, value: str, why: tuple[str, str]) -> list[Issue]:
        fr.signature = "forged"
        return [make("identity_forged", fr.display, sheet, cell, value, why=why[0], why_en=why[1])]


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _from_name(stem: str, roster: dict[str, dict]) -> str | None:
    hits = [r for r in roster if re.search(rf"(?<![0-9A-Za-z]){re.escape(r)}(?![0-9A-Za-z])", stem, re.I)]
    return hits[0] if len(hits) == 1 else None


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
        for f, s, r, ok in zip(df["_file"], df["_sheet"], df["_row"], df["_ok"], strict=True):
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
        for file, ok in zip(df["_file"], df["_ok"], strict=True):
            if ok:
                accepted[str(file)] = accepted.get(str(file), 0) + 1
    for f in files:
        f.errors = sum(1 for i in issues if i.file == f.display and i.severity == "error")
        f.warnings = sum(1 for i in issues if i.file == f.display and i.severity == "warning")
        if f.status == "accepted":
            f.rows_accepted = accepted.get(f.display, 0)
            f.rows_rejected += rejected_by_rules.get(f.display, 0)
        elif f.status == "rejected":  # the whole file is refused: each of its rows with it
            f.rows_accepted, f.rows_rejected = 0, f.rows_read
        else:
            f.rows_accepted = 0
