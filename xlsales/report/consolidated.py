"""The consolidated report: summary, issues, submissions, the data, the reviews, variance and their sources.

:func:`full_report` builds the whole workbook as a :class:`~xlsales.report.model.Report`
(:func:`xlsales.report.model.render_xlsx` writes it).  Every figure is a live, portable
formula (COUNTIFS/SUMIFS/SUM/IF/MAX… over the report's own tables — Excel
2016+, LibreOffice and WPS) whose cached value is Python's number, and every
figure says its period.  Text is always written as text: a rep's ``=cmd`` never
becomes a formula.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from xlsales.core import actuals as act
from xlsales.core.combine import Consolidation
from xlsales.core.expr import Figure, Grid, Ref, Row, ge, le
from xlsales.core.history import History
from xlsales.core.issues import col_letter, count, rule_name
from xlsales.core.periods import Calendar, quarter_name
from xlsales.core.records import columns_of, rows_of
from xlsales.core.schema import Lang
from xlsales.core.setup import Setup
from xlsales.report.book import FILE_STATUS, MISSING, STATUS, Previous, ReviewData, source_sheets
from xlsales.report.layout import put_grid
from xlsales.report.model import Block, CondFormat, Report, Sheet, render_xlsx
from xlsales.report.review import Figures, add_reviews
from xlsales.report.rollups import add_rollups
from xlsales.report.tables import (
    DATA,
    HISTORY_TABLES,
    ISSUES,
    MONTHLY,
    ROLLUPS,
    SCORECARD,
    STAGES,
    SUBMISSIONS,
    SUMMARY_PERIODS,
    URGENT,
    VARIANCE,
    WEEKLY,
    WEEKLY_REPORT,
)
from xlsales.report.variance import add_variance_sheets

SEVERITY = {"zh": {"error": "错误", "warning": "警告"}, "en": {"error": "error", "warning": "warning"}}
WINDOW_NAMES = {"week": ("本周", "this week"), "month": ("本月", "this month"), "quarter": ("本季", "this quarter"),
                "ytd": ("本财年至今", "fiscal year to date"), "open": ("全部未结(不限日期)", "all open (any date)")}


def calendar(c: Consolidation, setup: Setup) -> Calendar:
    return Calendar(c.as_of, setup.fiscal_year_start.month, int(setup.threshold("forecast_months")))


def full_report(c: Consolidation, setup: Setup, lang: Lang = "zh", targets: pd.DataFrame | None = None,
                actuals: pd.DataFrame | None = None, last_week: Previous | None = None,
                last_month: Previous | None = None, history: History | None = None,
                returns: dict[str, str] | None = None, reviewed: Callable[[dict], None] | None = None
                ) -> tuple[Report, dict]:
    """The consolidated report and its headline figures (``totals`` by period, the ``calendar``).

    ``actuals``: finance actuals read from a file (None: the setup's Actuals table, else won deals stand
    in, and every sheet says so); ``last_week``/``last_month``: figures of earlier reports; ``history``: the
    ledger's history (:mod:`xlsales.core.history`) — its sheets (deal changes, accuracy, win rates) are added when given;
    ``returns``: {submitted file: link to its returned workbook, relative to the report} for the Submissions sheet;
    ``reviewed(figures)``: called once the reviews' figures are known (``calendar``, ``grids``, ``data``; the
    ledger's snapshot needs no more), before the rest of the report is built.
    """
    cal = calendar(c, setup)
    d = ReviewData(c, setup, lang, cal, targets, act.resolve(setup, c, actuals), last_week, last_month)
    _review_issues(c, d)
    rep = Report("xlsales consolidated report", lang)
    summary = rep.sheet("汇总" if lang == "zh" else "Summary")
    _issues(rep, c, lang)
    _urgent(rep, d)
    sh = rep.sheet(SUBMISSIONS.sheet(lang))
    sh.put(0, 0, "提交情况 · 按时 = 本期的文件且在截止时间前保存" if lang == "zh" else
           "Submissions · on time = this period's file, saved before the deadline", style="subtitle")
    sh.blocks.append(_submissions_block(d, returns or {}))
    sh.freeze = (2, 1)
    for k, t in DATA.items():
        frame = d.tables[k].frame
        sh = rep.sheet(t.sheet(lang))
        sh.put(0, 0, (f"{t.sheet_zh} {t.sheet_en}:{len(frame)} 行 rows · 按业务员排列,各业务员的数字读取自己的行:可筛选,"
                      "不要排序 · grouped by rep; each rep's figures read their own rows: filter, do not sort"),
               style="subtitle")
        sh.blocks.append(Block(t, columns_of(frame, blanks=True), d.labels))
        sh.freeze = (2, 4)
        sh.protect = True
    grids = add_reviews(rep, d)
    if reviewed is not None:
        reviewed({"calendar": cal, "grids": dict(grids), "data": d})
    add_variance_sheets(rep, d)
    add_rollups(rep, d)
    if history is not None:
        from xlsales.report.history_sheets import add_history_sheets

        grids.update(add_history_sheets(rep, d, history))
    source_sheets(rep, d)
    totals = _summary(summary, d)
    front = [summary.name, URGENT.sheet(lang), WEEKLY.sheet(lang), MONTHLY.sheet(lang), VARIANCE.sheet(lang), WEEKLY_REPORT.sheet(lang),
             SCORECARD.sheet(lang), ROLLUPS.sheet(lang), STAGES.sheet(lang),
             *(t.sheet(lang) for t in HISTORY_TABLES)]  # the ledger's history, when there is one
    rep.sheets.sort(key=lambda s: front.index(s.name) if s.name in front else len(front))
    return rep, {"totals": totals, "calendar": cal, "grids": grids, "data": d}


def _submissions_block(d: ReviewData, returns: dict[str, str]) -> Block:
    """One row per file (and per rep who sent none), each file with issues linked to its returned workbook."""
    rows = rows_of(d.frames["submissions"], blanks=True)
    links: list[str | None] = []
    for r in rows:
        link = returns.get(str(r.get("file") or ""))
        name = link.replace("\\", "/").rsplit("/", 1)[-1] if link else None
        r["return_file"] = name
        links.append(f'=HYPERLINK("{_quote(link)}","{_quote(name)}")' if link and name else None)
    return Block(SUBMISSIONS, rows, formulas={"return_file": links})


def _quote(text: str | None) -> str:
    return (text or "").replace('"', '""')


def write_report(c: Consolidation, setup: Setup, out: Path, lang: Lang = "zh", targets: pd.DataFrame | None = None,
                 actuals: pd.DataFrame | None = None) -> Path:
    """Write the whole report of ``c`` to ``out`` (atomically); inputs are never touched."""
    return render_xlsx(full_report(c, setup, lang, targets, actuals)[0], out)


def _review_issues(c: Consolidation, d: ReviewData) -> None:
    """The checks that need the actuals and targets: a month forecast below what is booked, forecast months
    without a target.  Added to the consolidation's issues once (a second report of it adds nothing)."""
    from xlsales.core.rules import check_forecast_vs_booked, check_target_months

    found = check_forecast_vs_booked(c.accepted("forecast"), d.actuals.frame, c.letters.get("forecast", {}),
                                     d.cal.month[0])
    found += check_target_months(d.frames["targets"], d.cal.forecast_months)
    have = set(c.issues)
    c.issues.extend(i for i in found if i not in have)


def _urgent(rep: Report, d: ReviewData) -> None:
    """紧急 Urgent: every accepted visit flagged with a market signal (SPEC §7), newest first."""
    lang = d.lang
    visits = d.c.accepted("visits")
    visits = visits[visits["market_signal"].notna()] if "market_signal" in visits.columns else visits.iloc[0:0]
    rows: Sequence[dict] = columns_of(visits.sort_values("date", ascending=False, key=lambda s: s.map(str)),
                                      blanks=True) if not visits.empty else []
    sh = rep.sheet(URGENT.sheet(lang))
    sh.put(0, 0, f"市场状况紧急上报:{len(rows)} 条(竞品促销、竞品新品、经销商投诉、客户人事变动)" if lang == "zh" else
           f"Market signals to act on now: {len(rows)} (competitor promotion or new product, dealer complaint, "
           "customer personnel change)", style="subtitle")
    sh.blocks.append(Block(URGENT, rows, d.labels))
    sh.freeze = (2, 2)


def _issues(rep: Report, c: Consolidation, lang: Lang) -> None:
    irows = [{**i.as_dict(), "severity": SEVERITY[lang][i.severity]} for i in c.issues]
    sh = rep.sheet(ISSUES.sheet(lang))
    sh.put(0, 0, f"问题清单:{len(c.issues)} 条" if lang == "zh" else f"Issues: {len(c.issues)}", style="subtitle")
    sh.blocks.append(Block(ISSUES, irows))
    last = ISSUES.first_row + max(len(irows), 1)
    for sev, style in (("error", "bad"), ("warning", "warn")):
        sh.conds.append(CondFormat(2, 0, last, len(ISSUES.columns) - 1, f'=$A3="{SEVERITY[lang][sev]}"', style))
    sh.freeze = (2, 0)


def _rng(table, lang: Lang, key: str, n: int) -> str:
    c = col_letter(table.first_col + table.keys.index(key))
    first = table.first_row + 2
    return f"'{table.sheet(lang)}'!${c}${first}:${c}${first + max(n, 1) - 1}"


def _summary(sh: Sheet, d: ReviewData) -> dict:
    """汇总: files, rows, issues by severity and by rule (in words), and the deals by period; returns the totals."""
    c, lang, cal = d.c, d.lang, d.cal
    zh = lang == "zh"
    sh.widths = {0: 46, 1: 18, 2: 16, 3: 14, 4: 14, 5: 14, 6: 14, 7: 16, 8: 16, 9: 16}
    sh.gridlines = False
    company = d.setup.setting("company", "") or ""
    sh.put(0, 0, f"{company} 周度汇总" if zh else f"{company} weekly consolidation", style="title")
    sh.put(1, 0, (f"本期(周一){cal.period} · 截至 {cal.as_of} · 提交截止 {cal.deadline:%Y-%m-%d %H:%M}" if zh else
                  f"Week of {cal.period} · as of {cal.as_of} · deadline {cal.deadline:%Y-%m-%d %H:%M}"), style="note")
    row = 3
    n_subs, n_issues = len(d.frames["submissions"]), len(c.issues)

    def section(title: str) -> None:
        nonlocal row
        for col, text in enumerate((title, "数值 Value", "条件 Key", "说明 Note")):
            sh.put(row, col, text, style="header")
        row += 1

    def line(text: str, formula: str, value: float, style: str, key: str = "", note: str = "") -> str:
        nonlocal row
        sh.put(row, 0, text, style="label")
        ref = sh.put(row, 1, value, formula, style)
        if key:
            sh.put(row, 2, key, style="label")
        if note:
            sh.put(row, 3, note, style="note")
        row += 1
        return ref

    def key_ref() -> str:
        return f"$C${row + 1}"

    fc = c.file_counts
    section("文件 Files")
    st_rng = _rng(SUBMISSIONS, lang, "status", n_subs)
    for k, zh_l, en_l in (("accepted", "已计入", "accepted"), ("rejected", "拒收", "rejected"),
                          ("superseded", "已被替代", "superseded")):
        line(f"{zh_l} {en_l}", f"=COUNTIFS({st_rng},{key_ref()})", fc[k], "int", FILE_STATUS[lang][k])
    line("未提交 missing", f"=COUNTIFS({st_rng},{key_ref()})", fc["missing"], "int", MISSING[lang],
         ", ".join(c.missing))
    rows = c.rows
    section("行 Rows")
    r_read = line("读取 read", f"=SUM({_rng(SUBMISSIONS, lang, 'rows_read', n_subs)})", rows["read"], "int")
    r_acc = line("有效 accepted", f"=SUM({_rng(SUBMISSIONS, lang, 'rows_accepted', n_subs)})", rows["accepted"],
                 "int")
    r_rej = line("拒绝 rejected", f"=SUM({_rng(SUBMISSIONS, lang, 'rows_rejected', n_subs)})", rows["rejected"],
                 "int", note="有错误的行,及被拒收文件的行 · rows with errors, and the rows of rejected files")
    r_sup = line("被替代 superseded", f"=SUM({_rng(SUBMISSIONS, lang, 'rows_superseded', n_subs)})",
                 rows["superseded"], "int",
                 note="同一业务员较早提交的文件中的行 · rows of a rep's earlier file that a later one replaced")
    line("差额 unaccounted", f"={r_read}-{r_acc}-{r_rej}-{r_sup}",
         rows["read"] - rows["accepted"] - rows["rejected"] - rows["superseded"], "int",
         note="读取 = 有效 + 拒绝 + 被替代,应为 0 · read = accepted + rejected + superseded, so this is 0")
    section("问题 Issues")
    sev = _rng(ISSUES, lang, "severity", n_issues)
    cnt = count(c.issues)
    for k in ("error", "warning"):
        line(f"{SEVERITY['zh'][k]} {k}", f"=COUNTIFS({sev},{key_ref()})", cnt[k], "int", SEVERITY[lang][k])
    # deals by period
    row += 1
    table = dataclasses.replace(SUMMARY_PERIODS, first_row=row + 1)
    totals = _periods(sh, table, d)
    row = table.first_row + 2 + len(totals["windows"]) + 2
    section("按规则 By rule")
    rule_rng = _rng(ISSUES, lang, "rule", n_issues)
    by: dict[str, int] = {}
    for i in c.issues:
        by[i.rule] = by.get(i.rule, 0) + 1
    for rule_id, n in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])):
        line(f"{rule_name(rule_id, 'zh')} · {rule_name(rule_id, 'en')}", f"=COUNTIFS({rule_rng},{key_ref()})", n,
             "int", rule_id)
    return totals


def _periods(sh: Sheet, table, d: ReviewData) -> dict:
    """The deals of each period by category (close date in the period), and all open deals."""
    cal = d.cal
    f = Figures(d)
    windows = {"week": cal.week, "month": cal.month, "quarter": cal.quarter, "ytd": cal.ytd}
    first = table.first_row + 2
    rows = [Row(first + i, (ge("close_date", a), le("close_date", b))) for i, (a, b) in enumerate(windows.values())]
    rows.append(Row(first + len(rows)))  # all open deals, whatever their date
    cols = {c.key: col_letter(table.first_col + i) for i, c in enumerate(table.columns)}
    g = Grid(rows, ["period"] * len(windows) + ["open"], cols)
    deals = {k: f.deals("amount", d.cat(k)) for k in ("closed", "commit", "upside", "pipeline")}
    weighted = (f.deals("weighted", d.cat("commit")) + f.deals("weighted", d.cat("upside"))
                + f.deals("weighted", d.cat("pipeline")))
    both = ("period", "open")
    g.compute([
        Figure("closed", {"period": deals["closed"]}),
        *(Figure(k, dict.fromkeys(both, deals[k])) for k in ("commit", "upside", "pipeline")),
        Figure("weighted", dict.fromkeys(both, weighted)),
        Figure("commit_forecast", {"period": Ref("closed") + Ref("commit")}),
        Figure("best_case", {"period": Ref("closed") + Ref("commit") + Ref("upside")}),
    ])
    q = quarter_name(cal.quarter, cal.fiscal_start_month)
    text = []
    for key, (a, b) in windows.items():
        zh, en = WINDOW_NAMES[key]
        name = f"{zh} {en}" + (f" {q}" if key == "quarter" else "")
        text.append({"window": name, "start": a, "end": b})
    zh, en = WINDOW_NAMES["open"]
    text.append({"window": f"{zh} {en}"})
    put_grid(sh, table, g, text)
    out: dict = {"windows": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in windows.items()}}
    for i, key in enumerate([*windows, "all_open"]):
        out[key] = {k: g.value(k, i) for k in ("closed", "commit", "upside", "pipeline", "weighted")
                    if g.formulas[k][i] is not None}
    return out


__all__ = ["STATUS", "calendar", "full_report", "write_report"]
