"""Send back: one annotated workbook per rep whose submission has issues (``returns/<period>/<rep>.xlsx``).

Each returned workbook is the rep's own template built afresh (:func:`xlsales.report.templates.build_rep_workbook`:
the same validations, protection, formulas and signed identity, for the period consolidated) holding
every row of the file that counted — accepted or not, in the order read.  Every issue on a cell becomes a
comment on that cell and the cell is highlighted (red an error, amber a warning); rows that did not count
are shaded; a first sheet 退回问题 Issues lists every issue in zh and en with its fix, each linked to its
cell.  A value that could not be read is written back as it was typed, so the rep sees it.  The rep can
correct the returned workbook and send it in again.  The submitted file is never touched.

:func:`plan_returns` decides what goes where (pure); :func:`write_returns` writes the files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from xlsales.core import schema
from xlsales.core.combine import Consolidation, FileResult
from xlsales.core.issues import Issue, a1, rule_name
from xlsales.core.periods import forecast_months
from xlsales.core.records import plain_records
from xlsales.core.schema import Lang
from xlsales.core.setup import Setup, list_labels
from xlsales.report.templates import attendance_days

RETURNS = "returns"
SHEET = {"zh": "退回问题", "en": "Returned issues"}
FILL = {"error": "#FF9B9B", "warning": "#FFD966"}  # the cell with the issue
REJECTED_FILL = "#F2DCDB"  # every other input cell of a row that did not count
READ_RULES = {"coerced"}  # a value read another way: the value itself was understood
_CELL = re.compile(r"^([A-Z]{1,3})(\d+)$")


@dataclass
class Mark:
    """Issues on one cell of the returned workbook (0-based row and column of a table's sheet)."""

    table: str
    row: int
    col: int
    issues: list[Issue] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return "error" if any(i.severity == "error" for i in self.issues) else "warning"

    def cell(self) -> str:
        return a1(self.row, self.col)


@dataclass
class ReturnPlan:
    """What one rep's returned workbook holds."""

    rep_id: str
    file: str  # the submitted file (as the consolidation shows it)
    data: dict[str, list[dict]]
    marks: dict[tuple[str, int, int], Mark]
    others: list[Issue]  # issues not on a cell of a table (the file, the identity block)
    rejected: dict[str, list[int]]  # table → 0-based rows of the returned sheet that did not count

    @property
    def issues(self) -> list[Issue]:
        return [i for m in self.marks.values() for i in m.issues] + self.others


def plan_returns(c: Consolidation, setup: Setup) -> list[ReturnPlan]:
    """A plan for each rep whose counted file has at least one issue."""
    months = forecast_months(c.period, int(setup.threshold("forecast_months")))
    out = []
    for f in c.files:
        if f.status != "accepted" or not f.rep_id:
            continue
        issues = [i for i in c.issues if i.file == f.display]
        if issues:
            out.append(_plan(c, f, issues, months))
    return out


def _plan(c: Consolidation, f: FileResult, issues: list[Issue], months: list[dt.date]) -> ReturnPlan:
    data: dict[str, list[dict]] = {}
    where: dict[tuple[str, str, int], tuple[str, int, dict]] = {}  # (sheet, letter, row) → (table, new row, record)
    rejected: dict[str, list[int]] = {}
    header = {k: tr.header_row for k, tr in (f.read.tables.items() if f.read else [])}
    # tables whose rows are fixed slots (a month of the forecast, a day of the week): the column and its slots
    slots = {"forecast": ("month", months), "attendance": ("date", attendance_days(c.period))}
    for t in schema.REP_TABLES:
        df = c.frames[t.key]
        rows = df[df["_file"] == f.display] if not df.empty else df
        recs = plain_records(rows)
        letters = c.letters.get(t.key, {}).get(f.display, {})
        kept: list[dict] = []
        for rec in recs:
            if t.key in slots:
                slot_col, fixed = slots[t.key]
                slot = rec.get(slot_col)
                if not isinstance(slot, dt.date) or slot not in fixed:
                    continue
                i = fixed.index(slot)
                rec["_index"] = i
            elif t.key == "weekly":
                if kept:
                    continue
                i = 0
            else:
                i = len(kept)
            kept.append(rec)
            new_row = t.first_row + 1 + i
            for letter in letters.values():
                where[(str(rec["_sheet"]), letter, int(cast(int, rec["_row"])))] = (t.key, new_row, rec)
            if not rec.get("_ok", True):
                rejected.setdefault(t.key, []).append(new_row)
        data[t.key] = kept
    marks: dict[tuple[str, int, int], Mark] = {}
    others: list[Issue] = []
    for issue in issues:
        m = _CELL.match(issue.cell or "")
        hit = where.get((issue.sheet, m.group(1), int(m.group(2)))) if m else None
        top = header.get("forecast")
        if m and hit is None and issue.rule == "forecast_incomplete" and top is not None:
            i = int(m.group(2)) - (int(top) + 2)  # the row of the first missing month
            if 0 <= i < len(months):
                hit = ("forecast", schema.FORECAST.first_row + 1 + i, {})
        table = schema.rep_table(hit[0]) if hit else None
        col = _letters_key(c, hit[0], f.display, m.group(1)) if hit and m else None
        if hit is None or table is None or col is None:
            others.append(issue)
            continue
        key, row, rec = hit
        ci = table.first_col + table.keys.index(col)
        mark = marks.setdefault((key, row, ci), Mark(key, row, ci))
        mark.issues.append(issue)
        if rec and rec.get(col) is None and issue.value and issue.rule not in READ_RULES:
            rec[col] = issue.value  # what the rep typed, shown again beside its comment
    return ReturnPlan(str(f.rep_id), f.display, data, marks, others, rejected)


def _letters_key(c: Consolidation, table: str, file: str, letter: str) -> str | None:
    letters = c.letters.get(table, {}).get(file, {})
    found = next((k for k, v in letters.items() if v == letter), None)
    if found is None and table == "forecast":
        return "forecast"  # a missing month: its forecast cell
    return found


# --- writing ---------------------------------------------------------------------------------------------

def return_path(folder: Path, period: dt.date, rep_id: str) -> Path:
    return Path(folder) / RETURNS / period.isoformat() / f"{rep_id}.xlsx"


def write_returns(c: Consolidation, setup: Setup, folder: Path, lang: Lang, key: bytes | None
                  ) -> dict[str, Path]:
    """Write each rep's returned workbook into ``folder/returns/<period>/`` ({rep id: path}).

    Each file is written atomically; a rep's earlier return of this period whose issues are now gone is
    removed, so the folder holds exactly the returns of this consolidation.
    """
    from xlsales.report.templates import build_rep_workbook

    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    out: dict[str, Path] = {}
    for plan in plan_returns(c, setup):
        rep = roster.get(plan.rep_id, {"rep_id": plan.rep_id, "name": "", "team": "", "region": ""})
        path = return_path(folder, c.period, plan.rep_id)
        writer = _Annotate(plan, setup, lang)
        build_rep_workbook(path, setup, rep, lang, plan.data, key=key, period=c.period,
                           before=writer.before, after=writer.after)
        out[plan.rep_id] = path
    here = Path(folder) / RETURNS / c.period.isoformat()
    if here.is_dir():
        for p in here.glob("*.xlsx"):
            if p.stem in roster and p.stem not in out:
                with contextlib.suppress(OSError):
                    os.unlink(p)
    return out


class _Annotate:
    """The two hooks of :func:`build_rep_workbook` that make a template a returned workbook."""

    def __init__(self, plan: ReturnPlan, setup: Setup, lang: Lang) -> None:
        self.plan, self.setup, self.lang = plan, setup, lang
        self.list_ws = None

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def before(self, wb, fm) -> None:
        """The first sheet: what this workbook is and every issue, linked to its cell."""
        from xlsales.report.writer import print_setup, protect

        ws = wb.add_worksheet(SHEET[self.lang])
        self.list_ws = ws
        p = self.plan
        n_err = sum(1 for i in p.issues if i.severity == "error")
        n_warn = len(p.issues) - n_err
        ws.set_column(0, 0, 8)
        ws.set_column(1, 1, 18)
        ws.set_column(2, 3, 9)
        ws.set_column(4, 4, 14)
        ws.set_column(5, 6, 60)
        ws.write_string(0, 0, self.t(f"退回:{p.file} 的问题(错误 {n_err},警告 {n_warn})",
                                     f"Returned: the issues of {p.file} ({n_err} errors, {n_warn} warnings)"),
                        fm.get("text", bold=True, font_size=14, font_color="#9C0006"))
        ws.merge_range(1, 0, 1, 6, "", fm.get("text", text_wrap=True, valign="top"))
        ws.write_string(1, 0, self.t(
            "这是按您提交的内容重新生成的工作簿:每个问题都以批注标在单元格上(红色为错误,黄色为警告),灰红色的行未计入汇总。"
            "请按下表逐条改正(点击单元格地址可跳转),保存后把本文件放回收件箱;您原来提交的文件没有被改动。",
            "This workbook was rebuilt from what you submitted: every issue is a comment on its cell (red an error, "
            "amber a warning); shaded rows did not count. Correct them one by one (click an address to go there), "
            "save, and put this file back in the inbox. The file you submitted was not changed."),
            fm.get("text", text_wrap=True, valign="top"))
        ws.set_row(1, 32)
        heads = ["严重性", "规则", "工作表", "单元格", "原值"] if self.lang == "zh" else \
            ["Severity", "Rule", "Sheet", "Cell", "Value"]
        for ci, head in enumerate([*heads, "问题与改法(中文)", "Issue and fix (English)"]):
            ws.write_string(3, ci, head, fm.header())
        sev = {"error": self.t("错误", "error"), "warning": self.t("警告", "warning")}
        link = fm.get("text", font_color="#0563C1", underline=1)

        def put(r: int, i: Issue, sheet: str, cell: str, linked: bool) -> None:
            """One issue's row: a cell of a data sheet is a link to it."""
            ws.write_string(r, 0, sev[i.severity], fm.get("text", fill=FILL[i.severity]))
            ws.write_string(r, 1, rule_name(i.rule, self.lang))
            ws.write_string(r, 2, sheet)
            if linked:
                ws.write_url(r, 3, f"internal:'{sheet}'!{cell}", link, cell)
            else:
                ws.write_string(r, 3, cell)
            ws.write_string(r, 4, i.value or "")
            ws.write_string(r, 5, i.zh, fm.get("text", text_wrap=True))
            ws.write_string(r, 6, i.en, fm.get("text", text_wrap=True))
            ws.set_row(r, _height(i))

        r = 4
        for m in sorted(p.marks.values(), key=lambda m: (_order(m.table), m.row, m.col)):
            for i in m.issues:
                put(r, i, schema.rep_table(m.table).sheet(self.lang), m.cell(), True)
                r += 1
        for i in p.others:
            put(r, i, i.sheet or "", i.cell or "", False)
            r += 1
        if p.rejected:
            r += 1
            parts = [f"{schema.rep_table(k).sheet(self.lang)} " + ", ".join(str(x + 1) for x in rows_)
                     for k, rows_ in sorted(p.rejected.items(), key=lambda kv: _order(kv[0]))]
            ws.write_string(r, 0, self.t("未计入汇总的行:", "Rows that did not count: ") + ";".join(parts),
                            fm.get("text", bold=True, font_color="#9C0006"))
        ws.autofilter(3, 0, max(r - 1, 4), 6)
        ws.freeze_panes(4, 0)
        print_setup(ws)
        protect(ws)

    def after(self, wb, fm, sheets: dict) -> None:
        """Comments and highlights on the data sheets; the issue list opens first."""
        from xlsales.report.writer import cell_format, write_cell

        labels = list_labels(self.setup, self.lang)
        p = self.plan
        for key, rows in p.rejected.items():
            table, ws = schema.rep_table(key), sheets[_sheet_key(key)]
            at = {c.key: table.first_col + i for i, c in enumerate(table.columns)}
            for row in rows:
                rec = _record(p, key, row)
                for col in table.input_columns:
                    if col.locked:
                        continue
                    fmt = fm.get(col.kind, locked=False, fill=REJECTED_FILL) if col.kind != "formula" else \
                        cell_format(fm, col)
                    write_cell(ws, row, at[col.key], col, rec.get(col.key), fm, labels, at, fmt)
        for m in p.marks.values():
            table, ws = schema.rep_table(m.table), sheets[_sheet_key(m.table)]
            at = {c.key: table.first_col + i for i, c in enumerate(table.columns)}
            col = table.columns[m.col - table.first_col]
            rec = _record(p, m.table, m.row)
            value = rec.get(col.key) if col.key != "month" else None
            if col.kind != "formula" and not col.locked:
                write_cell(ws, m.row, m.col, col, value, fm, labels, at,
                           fm.get(col.kind, locked=False, fill=FILL[m.severity]))
            text = "\n\n".join(f"[{self.t('错误', 'error') if i.severity == 'error' else self.t('警告', 'warning')}] "
                               f"{rule_name(i.rule, self.lang)}:{i.message(self.lang)}" for i in m.issues)
            ws.write_comment(m.row, m.col, text[:2000], {"author": "xlsales", "x_scale": 2.6, "y_scale": 1.4})
        if self.list_ws is not None:
            self.list_ws.activate()


def _height(i: Issue) -> float:
    """A row tall enough for the longer of the two messages in their 60-wide columns."""
    lines = max(-(-len(i.zh) * 2 // 58), -(-len(i.en) // 62), 1)
    return 14.0 * lines + 2


def _sheet_key(table: str) -> str:
    return "forecast" if table == "weekly" else table


def _order(table: str) -> int:
    return [t.key for t in schema.REP_TABLES].index(table)


def _record(p: ReturnPlan, table: str, row: int) -> dict:
    """The record written at 0-based ``row`` of ``table``'s sheet in the returned workbook."""
    t = schema.rep_table(table)
    i = row - t.first_row - 1
    rows = p.data.get(table, [])
    if table in ("forecast", "attendance"):  # laid on their months / days, not one after another
        return next((r for r in rows if r.get("_index") == i), {})
    return rows[i] if 0 <= i < len(rows) else {}
