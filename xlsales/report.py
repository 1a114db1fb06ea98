"""Writing the consolidated report workbook (XlsxWriter, atomic).

Sheets: 汇总 Summary, 问题 Issues, 提交 Submissions, then the consolidated
商机/拜访/预测/周承诺/客户 data with rep, team, region, status and source
columns.  Every figure on Summary is a live formula (COUNTIFS/SUMIFS over the
tables, portable to Excel 2016+, LibreOffice and WPS) written with Python's
value as its cached result.  Text is always written as text: a rep's ``=cmd``
never becomes a formula.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from . import schema
from .consolidate import Consolidation
from .issues import col_letter, count
from .model import Block, CondFormat, Report, Sheet, render_xlsx
from .schema import C, Column, Lang, Table
from .setup import Setup
from .templates import list_labels

STATUS = {"zh": {True: "有效", False: "拒绝"}, "en": {True: "accepted", False: "rejected"}}
FILE_STATUS = {"zh": {"accepted": "已计入", "rejected": "拒收", "superseded": "已被替代"},
               "en": {"accepted": "accepted", "rejected": "rejected", "superseded": "superseded"}}
SEVERITY = {"zh": {"error": "错误", "warning": "警告"}, "en": {"error": "error", "warning": "warning"}}

ORG = (C("rep_id", "业务员编号", "Rep ID", width=10), C("rep_name", "姓名", "Name", width=9),
       C("team", "团队", "Team", width=11), C("region", "大区", "Region", width=8))
SOURCE = (C("_status", "状态", "Status", width=8), C("_file", "来源文件", "Source file", width=16),
          C("_sheet", "工作表", "Sheet", width=10), C("_row", "行号", "Row", "int", width=6))

ISSUES = Table("issues", "RptIssues", "问题", "Issues", (
    C("severity", "严重性", "Severity", width=8), C("rule", "规则", "Rule", width=22),
    C("file", "文件", "File", width=16), C("sheet", "工作表", "Sheet", width=10), C("cell", "单元格", "Cell", width=8),
    C("value", "值", "Value", width=16), C("zh", "说明(中文)", "Message (zh)", width=60),
    C("en", "说明(英文)", "Message (en)", width=60)), rows=0)

SUBMISSIONS = Table("submissions", "RptSubmissions", "提交", "Submissions", (
    C("file", "文件", "File", width=18), C("rep_id", "业务员编号", "Rep ID", width=10),
    C("rep_name", "姓名", "Name", width=9), C("team", "团队", "Team", width=11), C("region", "大区", "Region", width=8),
    C("status", "状态", "Status", width=10), C("period", "周期", "Period", "date", width=11),
    C("rows_read", "读取行", "Rows read", "int", width=9), C("rows_accepted", "有效行", "Accepted", "int", width=9),
    C("rows_rejected", "拒绝行", "Rejected", "int", width=9),
    C("rows_superseded", "被替代行", "Superseded", "int", width=9),
    C("rows_unaccounted", "差额", "Unaccounted", "formula", width=9,
      formula="={rows_read}-{rows_accepted}-{rows_rejected}-{rows_superseded}"),
    C("errors", "错误", "Errors", "int", width=7), C("warnings", "警告", "Warnings", "int", width=7),
    C("modified", "修改时间", "Modified", "text", width=19), C("sha256", "SHA-256", "SHA-256", width=20)), rows=0)

DATA_SHEETS = {"opportunities": ("RptOpportunities", "商机", "Opportunities"),
               "visits": ("RptVisits", "拜访", "Visits"), "forecast": ("RptForecast", "预测", "Forecast"),
               "weekly": ("RptWeekly", "周承诺", "WeeklyCommit"), "customers": ("RptCustomers", "客户", "Customers")}


def data_table(key: str) -> Table:
    """The report's table for a rep table: org columns, the rep's columns, status and source."""
    src = next(t for t in schema.REP_TABLES if t.key == key)
    cols: list[Column] = []
    for c in src.columns:
        if key == "opportunities" and c.key == "probability":
            c = dataclasses.replace(c, kind="percent", formula=None)
        elif key == "opportunities" and c.key == "weighted":
            c = dataclasses.replace(c, formula="=IF(OR({amount}=\"\",{probability}=\"\"),\"\","
                                                "ROUND({amount}*{probability},2))")
        cols.append(dataclasses.replace(c, required=False, locked=False))
    name, zh, en = DATA_SHEETS[key]
    return Table(key, name, zh, en, (*ORG, *cols, *SOURCE), rows=0, first_row=1)


def _col(table: Table, key: str) -> str:
    return col_letter(table.first_col + table.keys.index(key))


def _rng(table: Table, lang: Lang, key: str, n: int) -> str:
    """Absolute A1 range of one column's data rows, sheet-qualified."""
    c = _col(table, key)
    first = table.first_row + 2
    return f"'{table.sheet(lang)}'!${c}${first}:${c}${first + max(n, 1) - 1}"


def _rows(df: pd.DataFrame, labels: dict, lang: Lang) -> list[dict]:
    out = []
    for r in df.to_dict("records"):
        r = {k: (None if _na(v) else v) for k, v in r.items()}
        r["_status"] = STATUS[lang][bool(r.get("_ok"))]
        out.append(r)
    return out


def _na(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def write_report(c: Consolidation, setup: Setup, out: Path, lang: Lang = "zh") -> Path:
    """Write the core report (summary, issues, submissions, data) to ``out`` atomically.

    The CLI and the Consolidate button write the full report instead —
    :func:`xlsales.commit.full_report` adds the weekly and monthly reviews,
    variance, rollups and their sources to this same model.  Inputs are never touched.
    """
    return render_xlsx(build_report(c, setup, lang), out)


def build_report(c: Consolidation, setup: Setup, lang: Lang = "zh") -> Report:
    """The consolidated report as a :class:`~xlsales.model.Report` (file and live renderers share it)."""
    labels = list_labels(setup, lang)
    rep = Report("xlsales consolidated report", lang)
    summary = rep.sheet("汇总" if lang == "zh" else "Summary")
    # issues
    irows = [{**i.as_dict(), "severity": SEVERITY[lang][i.severity]} for i in c.issues]
    sh = rep.sheet(ISSUES.sheet(lang))
    sh.put(0, 0, f"问题清单:{len(c.issues)} 条" if lang == "zh" else f"Issues: {len(c.issues)}", style="subtitle")
    sh.blocks.append(Block(ISSUES, irows))
    last = ISSUES.first_row + max(len(irows), 1)
    for sev, style in (("error", "bad"), ("warning", "warn")):
        sh.conds.append(CondFormat(2, 0, last, len(ISSUES.columns) - 1, f'=$A3="{SEVERITY[lang][sev]}"', style))
    sh.freeze = (2, 0)
    # submissions
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    srows = []
    for f in c.files:
        r = roster.get(f.rep_id or "", {})
        srows.append({"file": f.display, "rep_id": f.rep_id, "rep_name": r.get("name"), "team": r.get("team"),
                      "region": r.get("region"), "status": FILE_STATUS[lang][f.status], "period": f.period,
                      "rows_read": f.rows_read, "rows_accepted": f.rows_accepted,
                      "rows_rejected": f.rows_rejected, "rows_superseded": f.rows_superseded,
                      "rows_unaccounted": f.rows_read - f.rows_accepted - f.rows_rejected - f.rows_superseded,
                      "errors": f.errors, "warnings": f.warnings,
                      "modified": f.modified.isoformat(sep=" ") if f.modified else "", "sha256": f.sha256})
    for rep_id in c.missing:
        r = roster.get(rep_id, {})
        srows.append({"file": "", "rep_id": rep_id, "rep_name": r.get("name"), "team": r.get("team"),
                      "region": r.get("region"), "status": MISSING[lang],
                      "rows_read": 0, "rows_accepted": 0, "rows_rejected": 0, "rows_superseded": 0,
                      "rows_unaccounted": 0, "errors": 1, "warnings": 0})
    sh = rep.sheet(SUBMISSIONS.sheet(lang))
    sh.put(0, 0, "提交情况" if lang == "zh" else "Submissions", style="subtitle")
    sh.blocks.append(Block(SUBMISSIONS, srows))
    sh.freeze = (2, 1)
    # data
    tables = {k: data_table(k) for k in DATA_SHEETS}
    counts = {}
    for k, t in tables.items():
        rows = _rows(c.frames[k], labels, lang)
        counts[k] = len(rows)
        sh = rep.sheet(t.sheet(lang))
        sh.put(0, 0, f"{t.sheet_zh} {t.sheet_en}:{len(rows)} 行 rows", style="subtitle")
        sh.blocks.append(Block(t, rows, labels))
        sh.freeze = (2, 4)
    _summary(summary, c, setup, lang, tables, counts, len(irows), len(srows))
    return rep


def _summary(sh: Sheet, c: Consolidation, setup: Setup, lang: Lang, tables: dict[str, Table],
             counts: dict[str, int], n_issues: int, n_subs: int) -> None:
    zh = lang == "zh"
    labels = list_labels(setup, lang)
    sh.widths = {0: 34, 1: 18, 2: 16, 3: 50}
    sh.gridlines = False
    company = setup.setting("company", "") or ""
    sh.put(0, 0, f"{company} 周度汇总" if zh else f"{company} weekly consolidation", style="title")
    sh.put(1, 0, (f"本期(周一){c.period.isoformat()} · 截至 {c.as_of.isoformat()}" if zh else
                  f"Week of {c.period.isoformat()} · as of {c.as_of.isoformat()}"), style="note")
    row = 3

    def section(title: str) -> None:
        nonlocal row
        for col, text in enumerate((title, "数值 Value", "条件 Key", "说明 Note")):
            sh.put(row, col, text, style="header")
        row += 1

    def line(label: str, formula: str, value: float, style: str, key: str = "", note: str = "") -> str:
        nonlocal row
        sh.put(row, 0, label, style="label")
        ref = sh.put(row, 1, value, formula, style)
        if key:
            sh.put(row, 2, key, style="label")
        if note:
            sh.put(row, 3, note, style="note")
        row += 1
        return ref

    def key_ref() -> str:
        return f"$C${row + 1}"

    sub = SUBMISSIONS
    fc = c.file_counts
    section("文件 Files")
    st_rng = _rng(sub, lang, "status", n_subs)
    for k, zh_l, en_l in (("accepted", "已计入", "accepted"), ("rejected", "拒收", "rejected"),
                          ("superseded", "已被替代", "superseded")):
        line(f"{zh_l} {en_l}", f"=COUNTIFS({st_rng},{key_ref()})", fc[k], "int", FILE_STATUS[lang][k])
    line("未提交 missing", f"=COUNTIFS({st_rng},{key_ref()})", fc["missing"], "int", MISSING[lang],
         ", ".join(c.missing))
    rows = c.rows
    section("行 Rows")
    r_read = line("读取 read", f"=SUM({_rng(sub, lang, 'rows_read', n_subs)})", rows["read"], "int")
    r_acc = line("有效 accepted", f"=SUM({_rng(sub, lang, 'rows_accepted', n_subs)})", rows["accepted"], "int")
    r_rej = line("拒绝 rejected", f"=SUM({_rng(sub, lang, 'rows_rejected', n_subs)})", rows["rejected"], "int",
                 note="有错误的行,及被拒收文件的行 · rows with errors, and the rows of rejected files")
    r_sup = line("被替代 superseded", f"=SUM({_rng(sub, lang, 'rows_superseded', n_subs)})", rows["superseded"], "int",
                 note="同一业务员较早提交的文件中的行 · rows of a rep's earlier file that a later one replaced")
    line("差额 unaccounted", f"={r_read}-{r_acc}-{r_rej}-{r_sup}",
         rows["read"] - rows["accepted"] - rows["rejected"] - rows["superseded"], "int",
         note="读取 = 有效 + 拒绝 + 被替代,应为 0 · read = accepted + rejected + superseded, so this is 0")
    section("问题 Issues")
    sev = _rng(ISSUES, lang, "severity", n_issues)
    cnt = count(c.issues)
    for k in ("error", "warning"):
        line(f"{SEVERITY['zh'][k]} {k}", f"=COUNTIFS({sev},{key_ref()})", cnt[k], "int", SEVERITY[lang][k])
    t = tables["opportunities"]
    n = counts["opportunities"]
    amount, cat, ok = _rng(t, lang, "amount", n), _rng(t, lang, "category", n), _rng(t, lang, "_status", n)
    weighted = _rng(t, lang, "weighted", n)
    accepted = STATUS[lang][True]
    tot = c.totals
    section("商机(有效行)Deals, accepted rows")
    refs = {}
    for k in ("closed", "commit", "upside", "pipeline"):
        refs[k] = line(CATEGORY_NAMES[k], f'=SUMIFS({amount},{cat},{key_ref()},{ok},"{accepted}")', tot[k],
                       "money", labels["category"][k])
    open_labels = [labels["category"][k] for k in ("commit", "upside", "pipeline")]
    wf = "=" + "+".join(f'SUMIFS({weighted},{cat},"{lab}",{ok},"{accepted}")' for lab in open_labels)
    line("加权通路 Weighted pipeline", wf, tot["weighted"], "money", note="Σ 金额 × 概率(未结)Σ amount × probability")
    section("累计视图 Cumulative views")
    line("承诺预测 Commit forecast", f"={refs['closed']}+{refs['commit']}", tot["closed"] + tot["commit"], "money",
         note="已成交 + 承诺 · Closed + Commit")
    line("最佳预测 Best-case forecast", f"={refs['closed']}+{refs['commit']}+{refs['upside']}",
         tot["closed"] + tot["commit"] + tot["upside"], "money", note="已成交 + 承诺 + 有望 · Closed + Commit + Upside")
    line("未结通路 Open pipeline", f"={refs['pipeline']}+{refs['upside']}+{refs['commit']}",
         tot["pipeline"] + tot["upside"] + tot["commit"], "money", note="通路 + 有望 + 承诺 · Pipeline + Upside + Commit")
    section("按规则 By rule")
    rule_rng = _rng(ISSUES, lang, "rule", n_issues)
    by: dict[str, int] = {}
    for i in c.issues:
        by[i.rule] = by.get(i.rule, 0) + 1
    for rule_id, n in sorted(by.items()):
        line(rule_id, f"=COUNTIFS({rule_rng},{key_ref()})", n, "int", rule_id)


MISSING = {"zh": "未提交", "en": "missing"}
CATEGORY_NAMES = {"closed": "已成交 Closed", "commit": "承诺 Commit", "upside": "有望 Upside", "pipeline": "通路 Pipeline"}
