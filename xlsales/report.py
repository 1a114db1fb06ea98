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
from .issues import col_letter
from .schema import C, Column, Lang, Table
from .setup import Setup
from .templates import list_labels
from .writer import Formats, atomic, new_workbook, write_table

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
    C("rows_rejected", "拒绝行", "Rejected", "formula", width=9,
      formula="={rows_read}-{rows_accepted}"),
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
    """Write the consolidated report to ``out`` atomically; inputs are never touched."""
    labels = list_labels(setup, lang)
    with atomic(out) as tmp:
        wb = new_workbook(tmp, "xlsales consolidated report")
        fm = Formats(wb)
        summary = wb.add_worksheet("汇总" if lang == "zh" else "Summary")
        sheets = {}
        for t in (ISSUES, SUBMISSIONS):
            sheets[t.key] = wb.add_worksheet(t.sheet(lang))
        tables = {k: data_table(k) for k in DATA_SHEETS}
        for k, t in tables.items():
            sheets[k] = wb.add_worksheet(t.sheet(lang))
        # issues
        irows = [{**i.as_dict(), "severity": SEVERITY[lang][i.severity]} for i in c.issues]
        ws = sheets["issues"]
        ws.write_string(0, 0, f"问题清单:{len(c.issues)} 条" if lang == "zh" else f"Issues: {len(c.issues)}",
                        fm.title())
        last = write_table(wb, ws, fm, ISSUES, lang, irows, capacity=len(irows))
        red = wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})
        amber = wb.add_format({"bg_color": "#FFE699", "font_color": "#7F6000"})
        ws.conditional_format(2, 0, max(last, 2), len(ISSUES.columns) - 1, {
            "type": "formula", "criteria": f'=$A3="{SEVERITY[lang]["error"]}"', "format": red})
        ws.conditional_format(2, 0, max(last, 2), len(ISSUES.columns) - 1, {
            "type": "formula", "criteria": f'=$A3="{SEVERITY[lang]["warning"]}"', "format": amber})
        ws.freeze_panes(2, 0)
        # submissions
        roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
        srows = []
        for f in c.files:
            r = roster.get(f.rep_id or "", {})
            srows.append({"file": f.display, "rep_id": f.rep_id, "rep_name": r.get("name"), "team": r.get("team"),
                          "region": r.get("region"), "status": FILE_STATUS[lang][f.status], "period": f.period,
                          "rows_read": f.rows_read, "rows_accepted": f.rows_accepted,
                          "rows_rejected": f.rows_rejected, "errors": f.errors, "warnings": f.warnings,
                          "modified": f.modified.isoformat(sep=" ") if f.modified else "", "sha256": f.sha256})
        for rep_id in c.missing:
            r = roster.get(rep_id, {})
            srows.append({"file": "", "rep_id": rep_id, "rep_name": r.get("name"), "team": r.get("team"),
                          "region": r.get("region"), "status": "未提交" if lang == "zh" else "missing",
                          "rows_read": 0, "rows_accepted": 0, "rows_rejected": 0, "errors": 1, "warnings": 0})
        ws = sheets["submissions"]
        ws.write_string(0, 0, "提交情况" if lang == "zh" else "Submissions", fm.title())
        write_table(wb, ws, fm, SUBMISSIONS, lang, srows, capacity=len(srows))
        ws.freeze_panes(2, 1)
        # data
        counts = {}
        for k, t in tables.items():
            df = c.frames[k]
            rows = _rows(df, labels, lang)
            counts[k] = len(rows)
            ws = sheets[k]
            ws.write_string(0, 0, f"{t.sheet_zh} {t.sheet_en}:{len(rows)} 行 rows", fm.title())
            write_table(wb, ws, fm, t, lang, rows, labels=labels, capacity=len(rows))
            ws.freeze_panes(2, 4)
        _write_summary(wb, summary, fm, c, setup, lang, tables, counts, len(irows), len(srows))
        summary.activate()
        wb.close()
    return out


def _write_summary(wb, ws, fm: Formats, c: Consolidation, setup: Setup, lang: Lang, tables: dict[str, Table],
                   counts: dict[str, int], n_issues: int, n_subs: int) -> None:
    zh = lang == "zh"
    labels = list_labels(setup, lang)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 50)
    company = setup.setting("company", "") or ""
    ws.write_string(0, 0, f"{company} 周度汇总" if zh else f"{company} weekly consolidation",
                    fm.get("text", bold=True, font_size=16, font_color="#1F4E78"))
    ws.write_string(1, 0, (f"本期(周一){c.period.isoformat()} · 截至 {c.as_of.isoformat()}" if zh else
                           f"Week of {c.period.isoformat()} · as of {c.as_of.isoformat()}"), fm.note())
    num = fm.get("int", border=1, border_color="#D9D9D9")
    money = fm.get("money", border=1, border_color="#D9D9D9")
    head = fm.header()
    label_fmt = fm.get("text", border=1, border_color="#D9D9D9")
    row = 3

    def section(title: str) -> None:
        nonlocal row
        ws.write_string(row, 0, title, head)
        ws.write_string(row, 1, "数值 Value", head)
        ws.write_string(row, 2, "条件 Key", head)
        ws.write_string(row, 3, "说明 Note", head)
        row += 1

    def line(label: str, formula: str, value: float, fmt, key: str = "", note: str = "") -> str:
        nonlocal row
        ws.write_string(row, 0, label, label_fmt)
        ws.write_formula(row, 1, formula, fmt, value)
        if key:
            ws.write_string(row, 2, key, label_fmt)
        if note:
            ws.write_string(row, 3, note, fm.note())
        row += 1
        return f"$B${row}"

    sub = SUBMISSIONS
    status = {k: FILE_STATUS[lang][k] for k in ("accepted", "rejected", "superseded")}
    fc = c.file_counts
    section("文件 Files")
    st_rng = _rng(sub, lang, "status", n_subs)
    for k, zh_l, en_l in (("accepted", "已计入", "accepted"), ("rejected", "拒收", "rejected"),
                          ("superseded", "已被替代", "superseded")):
        ws.write_string(row, 2, status[k], label_fmt)
        line(f"{zh_l} {en_l}", f"=COUNTIFS({st_rng},$C${row + 1})", fc[k], num, status[k])
    miss = "未提交" if zh else "missing"
    line("未提交 missing", f"=COUNTIFS({st_rng},$C${row + 1})", fc["missing"], num, miss,
         ", ".join(c.missing))
    rows = c.rows
    section("行 Rows")
    r_read = line("读取 read", f"=SUM({_rng(sub, lang, 'rows_read', n_subs)})", rows["read"], num)
    r_acc = line("有效 accepted", f"=SUM({_rng(sub, lang, 'rows_accepted', n_subs)})", rows["accepted"], num)
    line("拒绝 rejected", f"=SUM({_rng(sub, lang, 'rows_rejected', n_subs)})", rows["rejected"], num,
         note=f"读取 = 有效 + 拒绝 · read = accepted + rejected ({r_read}-{r_acc})")
    section("问题 Issues")
    sev = _rng(ISSUES, lang, "severity", n_issues)
    cnt = {"error": 0, "warning": 0}
    for i in c.issues:
        cnt[i.severity] += 1
    for k in ("error", "warning"):
        ws.write_string(row, 2, SEVERITY[lang][k], label_fmt)
        line(f"{SEVERITY['zh'][k]} {k}", f"=COUNTIFS({sev},$C${row + 1})", cnt[k], num, SEVERITY[lang][k])
    # pipeline totals over accepted deals
    t = tables["opportunities"]
    n = counts["opportunities"]
    amount, cat, ok = _rng(t, lang, "amount", n), _rng(t, lang, "category", n), _rng(t, lang, "_status", n)
    weighted = _rng(t, lang, "weighted", n)
    accepted = STATUS[lang][True]
    tot = c.totals
    section("商机(有效行)Deals, accepted rows")
    refs = {}
    for k in ("closed", "commit", "upside", "pipeline"):
        lab = labels["category"][k]
        refs[k] = line(f"{_cat_name(k)}", f'=SUMIFS({amount},{cat},$C${row + 1},{ok},"{accepted}")', tot[k],
                       money, lab)
    open_labels = [labels["category"][k] for k in ("commit", "upside", "pipeline")]
    wf = "=" + "+".join(f'SUMIFS({weighted},{cat},"{lab}",{ok},"{accepted}")' for lab in open_labels)
    line("加权通路 Weighted pipeline", wf, tot["weighted"], money, note="Σ 金额 × 概率(未结)Σ amount × probability")
    section("累计视图 Cumulative views")
    line("承诺预测 Commit forecast", f"={refs['closed']}+{refs['commit']}", tot["closed"] + tot["commit"], money,
         note="已成交 + 承诺 · Closed + Commit")
    line("最佳预测 Best-case forecast", f"={refs['closed']}+{refs['commit']}+{refs['upside']}",
         tot["closed"] + tot["commit"] + tot["upside"], money, note="已成交 + 承诺 + 有望 · Closed + Commit + Upside")
    line("未结通路 Open pipeline", f"={refs['pipeline']}+{refs['upside']}+{refs['commit']}",
         tot["pipeline"] + tot["upside"] + tot["commit"], money, note="通路 + 有望 + 承诺 · Pipeline + Upside + Commit")
    # issues by rule
    section("按规则 By rule")
    rule_rng = _rng(ISSUES, lang, "rule", n_issues)
    by: dict[str, int] = {}
    for i in c.issues:
        by[i.rule] = by.get(i.rule, 0) + 1
    for rule, k in sorted(by.items()):
        ws.write_string(row, 2, rule, label_fmt)
        line(rule, f"=COUNTIFS({rule_rng},$C${row + 1})", k, num, rule)
    ws.hide_gridlines(2)
    ws.fit_to_pages(1, 0)


def _cat_name(k: str) -> str:
    return {"closed": "已成交 Closed", "commit": "承诺 Commit", "upside": "有望 Upside", "pipeline": "通路 Pipeline"}[k]
