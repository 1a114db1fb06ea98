"""Whose file is this: a rep workbook's signed identity, checked against the manager's key and the roster.

``xlsales init`` keeps a signing key beside the manager workbook (never in a rep file); every template
carries a very hidden sheet with its template id, rep id and period and an HMAC-SHA256 signature over
them.  At consolidation a workbook whose identity block disagrees with its signature is *forged*;
one without a signature (an older template, or data copied into a new file) is *unsigned* — a warning
unless the ``unsigned_workbooks`` setting says otherwise.  The file name is only a flagged fallback.

Pure: the standard library and the other core modules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .issues import Issue, define, make
from .schema import norm

if TYPE_CHECKING:
    from .combine import FileResult

KEY_NAME = ".xlsales-key"  # the manager's signing key, beside the manager workbook (never in a rep file)
IDENTITY_SHEET = "_xlsales"  # the rep workbook's very hidden, protected sheet holding its signed identity
SIGNED_FIELDS = (("template", "xlsales.template"), ("rep", "xlsales.rep"), ("period", "xlsales.period"),
                 ("signature", "xlsales.signature"))  # rows 2-5 of IDENTITY_SHEET: label in A, value in B
SIGNATURE_CELL = "B5"
SIGNATURE_VERSION = "v1"

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
UNSIGNED_POLICIES = {"warn": ("warn", "警告", ""), "accept": ("accept", "接受", "是", "yes"),
                     "reject": ("reject", "拒收", "拒绝")}  # the values setup.UNSIGNED_VALUES allows

def key_id(key: bytes) -> str:
    """A short public name of a key (which folder signed a workbook), never the key itself."""
    return hashlib.sha256(b"xlsales key id\n" + key).hexdigest()[:12]


def sign_identity(key: bytes, rep_id: str, period: str, template_id: str) -> str:
    """``v1:<key id>:<HMAC-SHA256>`` over the rep id, the period (ISO date) and the template id."""
    message = "\n".join(("xlsales identity", SIGNATURE_VERSION, str(rep_id), str(period), str(template_id)))
    mac = hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}:{key_id(key)}:{mac}"


def check_signature(key: bytes, signed: Mapping[str, str]) -> str:
    """``"ok"``, ``"other_key"`` (signed in another manager's folder) or ``"bad"`` for a signature sheet's values."""
    got = str(signed.get("signature", ""))
    parts = got.split(":")
    if len(parts) != 3 or parts[0] != SIGNATURE_VERSION:
        return "bad"
    if not hmac.compare_digest(parts[1], key_id(key)):
        return "other_key"
    want = sign_identity(key, signed.get("rep", ""), signed.get("period", ""), signed.get("template", ""))
    return "ok" if hmac.compare_digest(got, want) else "bad"


def identify(fr: FileResult, roster: dict[str, dict], week: dt.date, guard: IdentityCheck | None = None
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


def unsigned_policy(setting: str | None) -> str:
    """What the ``unsigned_workbooks`` setting says: ``warn`` (the default), ``accept`` or ``reject``."""
    value = (setting or "").strip().casefold()
    return next((k for k, names in UNSIGNED_POLICIES.items() if value in names), "warn")


def signature_of(book: Any) -> dict[str, str] | None:
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
class IdentityCheck:
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


