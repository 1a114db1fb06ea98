"""The targets workbook 目标分解表: the long target table and one readable sheet per kind.

* ``目标明细`` (en ``Target detail``): every row of :func:`xlsales.core.targets.decompose`
  (both bases) as the Excel table ``TargetsLong`` — the sheet the consolidation
  and variance reports read targets from.
* one sheet per kind (``销售额`` …): for the plan and the raised target, regions ×
  months, areas × months and reps × months.  Every figure is a ``SUMIFS`` over
  the long table whose cached value is Python's number, so the sheet opens with
  the right numbers and stays live if the long table is edited.  Row totals of
  regions and areas read their annual rows, the grand totals read the company
  row, so each block also checks that the decomposition adds up.
* ``问题 Issues``: the setup issues, when there are any.

Months are matched with the criterion ``"2026-03*"`` (a wildcard), which makes
Excel and LibreOffice compare the period as text rather than as a date.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from xlsales.core.issues import Issue, col_letter
from xlsales.core.schema import C, Table
from xlsales.core.setup import Setup
from xlsales.core.targets import BASES, COLUMNS, UNASSIGNED, bottom_up_gap, decompose, level_sums
from xlsales.report.writer import Formats, atomic, new_workbook

LONG_TABLE = "TargetsLong"
LONG_SHEET = {"zh": "目标明细", "en": "Target detail"}
ISSUE_SHEET = {"zh": "问题", "en": "Issues"}
HEADERS: dict[str, tuple[str, str]] = {
    "kind": ("目标类型", "Kind"), "basis": ("口径", "Basis"), "level": ("层级", "Level"),
    "region": ("大区", "Region"), "area": ("区域", "Area"), "rep": ("业务员", "Rep"),
    "period": ("期间", "Period"), "target": ("目标", "Target"),
}
BASIS_LABEL = {"plan": ("计划目标", "Plan target"), "raised": ("调高目标", "Raised target")}
NUM = "#,##0"
FIRST_MONTH_COL = 4  # E: columns A–D hold region, area, rep, name


def _head(key: str) -> str:
    zh, en = HEADERS[key]
    return f"{zh} {en}"


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'")[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in {u.lower() for u in used}:
        name = f"{base[:28]}_{n}"
        n += 1
    used.add(name)
    return name


def _plain(v: object) -> int | float:
    f = float(v)  # type: ignore[arg-type]
    return int(f) if f.is_integer() else f


def build_targets_workbook(setup: Setup, out: Path, lang: str = "zh", *,
                           actuals: pd.DataFrame | None = None) -> dict:
    """Decompose every target of ``setup`` and write the targets workbook to ``out`` (atomically).

    Returns ``{"workbook": path, "kinds": {kind: {"target": plan total, "levels": {level: sum},
    "raised": {"target": …, "levels": …} | None}}, "issues": [issue dicts]}``; every level's sum
    equals the company total.

    >>> import tempfile
    >>> res = build_targets_workbook(Setup.default(), Path(tempfile.mkdtemp()) / "targets.xlsx")
    >>> res["kinds"]["revenue"]["target"], res["kinds"]["revenue"]["levels"]["day"]
    (120000000, 120000000)
    """
    df, issues = decompose(setup, None, "both", actuals=actuals)
    out = Path(out)
    with atomic(out) as tmp:
        _write(setup, df, issues, tmp, lang)
    kinds: dict[str, dict] = {}
    for kind in dict.fromkeys(df["kind"]):
        entry: dict = {"target": None, "levels": {}, "raised": None}
        for basis in BASES:
            sub = df[(df["kind"] == kind) & (df["basis"] == basis) & (df["level"] == "company")]
            if sub.empty:
                continue
            got = {"target": _plain(sub["target"].iloc[0]),
                   "levels": {lv: v for lv, v in level_sums(df, kind, basis).items() if lv != "company"}}
            if basis == "plan":
                entry.update(got)
            else:
                entry["raised"] = got
        kinds[kind] = entry
    return {"workbook": str(out), "kinds": kinds, "issues": [i.as_dict() for i in issues]}


def _write(setup: Setup, df: pd.DataFrame, issues: list[Issue], path: Path, lang: str) -> None:
    wb = new_workbook(path, "目标分解 Targets")
    fm = Formats(wb)
    num = fm.get("text", num_format=NUM)
    used: set[str] = set()
    long_name = _sheet_name(LONG_SHEET.get(lang, LONG_SHEET["zh"]), used)
    kinds = list(dict.fromkeys(df["kind"]))
    sheets = {k: _sheet_name(setup.label("target_kind", k, lang), used) for k in kinds}
    for k in kinds:  # readable sheets first: they are what people open the book for
        _kind_sheet(wb.add_worksheet(sheets[k]), fm, setup, df, k, long_name, len(df))
    ws = wb.add_worksheet(long_name)
    rows = [[_cell(v) for v in r] for r in df[list(COLUMNS)].itertuples(index=False)]
    ws.add_table(0, 0, max(len(rows), 1), len(COLUMNS) - 1, {
        "name": LONG_TABLE, "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": _head(c), "header_format": fm.header(),
                     **({"format": num} if c == "target" else {})} for c in COLUMNS],
        **({"data": rows} if rows else {}),
    })
    for i, width in enumerate((14, 9, 9, 10, 10, 11, 12, 14)):
        ws.set_column(i, i, width, num if COLUMNS[i] == "target" else None)
    ws.freeze_panes(1, 0)
    gaps = bottom_up(setup, df)
    if not gaps.empty:
        _gap_sheet(wb.add_worksheet(_sheet_name(GAP_SHEET.get(lang, GAP_SHEET["zh"]), used)), fm, setup, gaps, lang)
    if issues:
        _issue_sheet(wb.add_worksheet(_sheet_name(ISSUE_SHEET.get(lang, "问题"), used)), fm, issues)
    wb.close()


GAP_SHEET = {"zh": "自下而上", "en": "Bottom-up"}
GAP_HEADERS = (("kind", "目标类型", "Kind"), ("basis", "口径", "Basis"), ("level", "层级", "Level"),
               ("name", "名称", "Name"), ("period", "期间", "Period"), ("top_down", "自上而下", "Top-down"),
               ("bottom_up", "自下而上(提议)", "Bottom-up (proposed)"), ("gap", "差额", "Gap"),
               ("gap_pct", "差额%", "Gap %"), ("matched", "已匹配", "Matched"))


def bottom_up(setup: Setup, df: pd.DataFrame) -> pd.DataFrame:
    """The setup's proposals (提议 table) beside the top-down split; empty when nobody proposed."""
    rows = setup.rows("proposals") if "proposals" in setup.tables else []
    if not rows:
        return pd.DataFrame()
    for r in rows:
        period = str(r.get("period") or "")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", period):  # Excel turned 2026-03 into a date
            r["period"] = period[:7]
        elif re.fullmatch(r"\d{4}\.0", period):
            r["period"] = period[:4]
        r["basis"] = r.get("basis") or "plan"
    return bottom_up_gap(df, pd.DataFrame(rows), setup)


def _gap_sheet(ws: Worksheet, fm: Formats, setup: Setup, gaps: pd.DataFrame, lang: str) -> None:
    """Top-down vs bottom-up per proposal and per level total; gap and gap % are formulas."""
    zh = lang == "zh"
    ws.write_string(0, 0, "自上而下 vs 自下而上:差额 = 提议 − 分解" if zh else
                    "Top-down vs bottom-up: gap = proposed − decomposed", fm.title())
    for c, (_, hz, he) in enumerate(GAP_HEADERS):
        ws.write_string(1, c, f"{hz} {he}", fm.header())
    num = fm.get("text", num_format=NUM)
    pct = fm.get("percent")
    for i, r in enumerate(gaps.to_dict("records")):
        row = 2 + i
        ws.write_string(row, 0, setup.label("target_kind", r["kind"], lang))
        ws.write_string(row, 1, setup.label("target_basis", r["basis"], lang))
        ws.write_string(row, 2, setup.label("prop_level", r["level"], lang))
        ws.write_string(row, 3, str(r["name"]))
        ws.write_string(row, 4, str(r["period"]))
        ws.write_number(row, 5, float(r["top_down"]), num)
        ws.write_number(row, 6, float(r["bottom_up"]), num)
        ws.write_formula(row, 7, f"=G{row + 1}-F{row + 1}", num, _plain(r["gap"]))
        pv = r["gap_pct"]
        ws.write_formula(row, 8, f'=IF(F{row + 1}=0,"",H{row + 1}/F{row + 1})', pct,
                         "" if pv != pv else float(pv))
        ws.write_string(row, 9, ("是" if r["matched"] else "否") if zh else ("yes" if r["matched"] else "no"))
    for c, w in enumerate((10, 10, 8, 14, 9, 14, 16, 14, 9, 8)):
        ws.set_column(c, c, w)
    ws.freeze_panes(2, 0)


def _cell(v: object) -> object:
    if isinstance(v, str):
        return v or None
    return _plain(v)


def _issue_sheet(ws: Worksheet, fm: Formats, issues: list[Issue]) -> None:
    heads = ["级别 Severity", "规则 Rule", "位置 Where", "说明", "Message"]
    for c, h in enumerate(heads):
        ws.write_string(0, c, h, fm.header())
    for r, i in enumerate(issues, start=1):
        for c, v in enumerate((i.severity, i.rule, i.where(), i.zh, i.en)):
            ws.write_string(r, c, v)
    for c, w in enumerate((9, 22, 28, 60, 60)):
        ws.set_column(c, c, w)


class _Refs:
    """Absolute ranges of the long table's columns, and SUMIFS formulas over them."""

    def __init__(self, sheet: str, n: int) -> None:
        q = "'" + sheet.replace("'", "''") + "'"
        last = max(n, 1) + 1
        self.col = {c: f"{q}!${col_letter(i)}$2:${col_letter(i)}${last}" for i, c in enumerate(COLUMNS)}

    def sumifs(self, **criteria: str) -> str:
        parts = [self.col["target"]]
        for key, crit in criteria.items():
            parts += [self.col[key], crit]
        return "SUMIFS(" + ",".join(parts) + ")"


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _kind_sheet(ws: Worksheet, fm: Formats, setup: Setup, df: pd.DataFrame, kind: str, long_sheet: str,
                n: int) -> None:
    refs = _Refs(long_sheet, n)
    num = fm.get("text", num_format=NUM)
    bold_num = fm.get("text", num_format=NUM, bold=True)
    bold = fm.get("text", bold=True)
    zh, en = setup.label("target_kind", kind, "zh"), setup.label("target_kind", kind, "en")
    company = df[(df["kind"] == kind) & (df["level"] == "company")]
    year = str(company["period"].iloc[0]) if not company.empty else ""
    ws.write_string(0, 0, f"{zh} {en} {year} 目标分解 Target decomposition", fm.title())
    ws.write_string(1, 0, f"数字为对「{long_sheet}」的 SUMIFS 公式 / every figure is a SUMIFS over '{long_sheet}'",
                    fm.note())
    names = {str(r.get("rep_id")): str(r.get("name") or "") for r in setup.tables["roster"].to_dict("records")}
    row = 3
    for basis in BASES:
        sub = df[(df["kind"] == kind) & (df["basis"] == basis)]
        if sub.empty:
            continue
        months = list(dict.fromkeys(sub.loc[sub["level"] == "month", "period"]))
        bz, be = BASIS_LABEL[basis]
        ws.write_string(row, 0, f"{bz} {be}", fm.get("text", bold=True, font_size=12))
        row += 1
        base = {"kind": _q(kind), "basis": _q(basis)}
        row = _block(ws, fm, refs, sub, base, months, row, "region", names, num, bold, bold_num) + 1
        row = _block(ws, fm, refs, sub, base, months, row, "area", names, num, bold, bold_num) + 1
        row = _block(ws, fm, refs, sub, base, months, row, "rep", names, num, bold, bold_num) + 1
    ws.set_column(0, 1, 10)
    ws.set_column(2, 3, 10)
    ws.set_column(FIRST_MONTH_COL, FIRST_MONTH_COL + 12, 12)
    ws.freeze_panes(3, FIRST_MONTH_COL)


def _block(ws: Worksheet, fm: Formats, refs: _Refs, sub: pd.DataFrame, base: dict[str, str], months: list[str],
           row: int, by: str, names: dict[str, str], num, bold, bold_num) -> int:
    """One block (regions, areas or reps × months) from ``row``; returns the row after it."""
    heads = [_head("region"), _head("area"), _head("rep"), "姓名 Name", *months, "合计 Total"]
    for c, h in enumerate(heads):
        ws.write_string(row, c, h, fm.header())
    hdr = row + 1  # 1-based Excel row of the header, for the month criteria
    total_col = FIRST_MONTH_COL + len(months)
    level = {"region": "month", "area": "month", "rep": "rep"}[by]
    keys = {"region": ["region"], "area": ["region", "area"], "rep": ["region", "area", "rep"]}[by]
    cells = sub[sub["level"] == level]
    entities = list(dict.fromkeys(cells[keys].itertuples(index=False, name=None)))
    values = cells.groupby(keys + ["period"], sort=False)["target"].sum()
    annual = sub[sub["level"] == by].groupby(keys, sort=False)["target"].sum() if by != "rep" else None
    for ent in entities:
        row += 1
        r1 = row + 1
        for c, v in enumerate(ent):
            ws.write_string(row, c, v)
        if by == "rep" and ent[2] != UNASSIGNED:
            ws.write_string(row, 3, names.get(ent[2], ""))
        crit = {**base, "level": _q(level)}
        crit.update({k: f"${col_letter(i)}{r1}" for i, k in enumerate(keys)})
        for j, p in enumerate(months):
            col = FIRST_MONTH_COL + j
            f = refs.sumifs(**crit, period=f'{col_letter(col)}${hdr}&"*"')
            ws.write_formula(row, col, "=" + f, num, _plain(values.get((*ent, p), 0)))
        first, last = col_letter(FIRST_MONTH_COL), col_letter(total_col - 1)
        row_total = sum(values.get((*ent, p), 0) for p in months)
        if annual is not None:
            crit_a = {**base, "level": _q(by), **{k: f"${col_letter(i)}{r1}" for i, k in enumerate(keys)}}
            key = ent if len(ent) > 1 else ent[0]
            ws.write_formula(row, total_col, "=" + refs.sumifs(**crit_a), bold_num, _plain(annual.get(key, 0)))
        else:
            ws.write_formula(row, total_col, f"=SUM({first}{r1}:{last}{r1})", bold_num, _plain(row_total))
    row += 1
    ws.write_string(row, 0, "合计 Total", bold)
    for j, p in enumerate(months):
        col = FIRST_MONTH_COL + j
        f = refs.sumifs(**base, level=_q(level), period=f'{col_letter(col)}${hdr}&"*"')
        ws.write_formula(row, col, "=" + f, bold_num, _plain(cells.loc[cells["period"] == p, "target"].sum()))
    company = sub.loc[sub["level"] == "company", "target"]
    ws.write_formula(row, total_col, "=" + refs.sumifs(**base, level=_q("company")), bold_num,
                     _plain(company.sum()))
    return row + 1


def default_out(setup: Setup, setup_dir: Path) -> Path:
    """``DIR/reports/targets.xlsx`` (the ``reports`` setting names the folder).

    >>> default_out(Setup.default(), Path("/nonexistent/sales")).as_posix()
    '/nonexistent/sales/reports/targets.xlsx'
    """
    folder = setup_dir.parent if setup_dir.is_file() else setup_dir
    return folder / (setup.setting("reports", "reports") or "reports") / "targets.xlsx"


LONG = Table("targets_long", LONG_TABLE, LONG_SHEET["zh"], LONG_SHEET["en"], tuple(
    C(k, HEADERS[k][0], HEADERS[k][1], "number" if k == "target" else "text", required=k in ("kind", "target"))
    for k in COLUMNS), rows=0, first_row=0)


