"""Issue records: every problem xlsales finds, with where it is and how to fix it.

An :class:`Issue` is plain data — severity, rule id, file, sheet, cell (A1),
the value found, and a message with the fix in zh and en.  Rules are declared
once in :data:`RULES` (modules add their own with :func:`define`) and issues are
made with :func:`make`, which fills the message templates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    zh: str
    en: str


@dataclass(frozen=True)
class Issue:
    severity: Severity
    rule: str
    file: str
    sheet: str = ""
    cell: str = ""
    value: str = ""
    zh: str = ""
    en: str = ""

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def where(self) -> str:
        return "!".join(p for p in (self.file, self.sheet, self.cell) if p)

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} {self.where()}: {self.zh} / {self.en}"

    def as_dict(self) -> dict:
        return asdict(self)


RULES: dict[str, Rule] = {}


def define(rule_id: str, severity: Severity, zh: str, en: str) -> Rule:
    """Declare a rule; message templates use ``str.format`` fields."""
    rule = Rule(rule_id, severity, zh, en)
    RULES[rule_id] = rule
    return rule


def make(rule_id: str, file: str = "", sheet: str = "", cell: str = "", value: object = "",
         severity: Severity | None = None, **params: object) -> Issue:
    """An issue of ``rule_id`` at a location; ``params`` fill the message templates."""
    rule = RULES[rule_id]
    shown = "" if value is None else str(value)
    fields = {"value": shown, **params}  # a "value" param changes how the value reads in the message only
    return Issue(severity or rule.severity, rule_id, file, sheet, cell, shown,
                 rule.zh.format(**fields), rule.en.format(**fields))


def load_all_rules() -> dict[str, Rule]:
    """Every rule of every module (modules declare theirs on import)."""
    import contextlib
    import importlib

    for mod in ("reader", "safety", "rules", "consolidate", "targets", "variance", "actuals"):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"xlsales.{mod}")
    return dict(sorted(RULES.items()))


def rules_markdown() -> str:
    """docs/rules.md: every rule id with its severity and message (placeholders shown as {name})."""
    lines = ["# 规则 · Rules", "",
             "Every problem xlsales reports carries one of these rule ids. Generated from the code "
             "(`xlsales rules --markdown`); `{…}` marks what is filled in from the cell.", "",
             "| rule | severity | 中文 | English |", "|---|---|---|---|"]
    for r in load_all_rules().values():
        zh, en = (t.replace("|", "\\|").replace("\n", " ") for t in (r.zh, r.en))
        lines.append(f"| `{r.id}` | {r.severity} | {zh} | {en} |")
    return "\n".join(lines) + "\n"


def count(issues: list[Issue]) -> dict[str, int]:
    out = {"error": 0, "warning": 0}
    for i in issues:
        out[i.severity] += 1
    return out


def col_letter(col: int) -> str:
    """0-based column index → Excel letters."""
    s = ""
    col += 1
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def a1(row: int, col: int) -> str:
    """0-based row and column → A1 reference."""
    return f"{col_letter(col)}{row + 1}"


# --- rules of reading and validating cells (reader, setup) -----------------
define("required", "error", "「{column}」不能为空,请填写。", "'{column}' is required; fill it in.")
define("bad_number", "error", "「{column}」应为数字,实际为「{value}」。请输入数字,如 12000 或 1.2万。",
       "'{column}' must be a number, found '{value}'. Enter a number such as 12000.")
define("bad_percent", "error", "「{column}」应为百分比,实际为「{value}」。请输入如 90% 或 0.9。",
       "'{column}' must be a percentage, found '{value}'. Enter e.g. 90% or 0.9.")
define("bad_date", "error", "「{column}」应为日期,实际为「{value}」。请输入如 2026-11-30。",
       "'{column}' must be a date, found '{value}'. Enter e.g. 2026-11-30.")
define("ambiguous_date", "error", "「{column}」的日期「{value}」有歧义(日/月顺序不明)。请用 2026-11-30 格式。",
       "'{column}': the date '{value}' is ambiguous (day/month order). Use the form 2026-11-30.")
define("bad_choice", "error", "「{column}」的值「{value}」不在列表中。可选:{allowed}。",
       "'{column}': '{value}' is not in the list. Allowed: {allowed}.")
define("ambiguous_choice", "error", "「{column}」的值「{value}」可对应多个选项:{allowed}。请直接选择名称。",
       "'{column}': '{value}' matches several entries: {allowed}. Pick the name instead.")
define("bad_bool", "error", "「{column}」应为 是/否,实际为「{value}」。", "'{column}' must be Yes/No, found '{value}'.")
define("out_of_range", "error", "「{column}」的值 {value} 超出允许范围 {low}–{high}。",
       "'{column}': {value} is outside the allowed range {low}–{high}.")
define("negative", "error", "「{column}」不能为负数({value})。", "'{column}' cannot be negative ({value}).")
define("absurd_amount", "error", "「{column}」金额 {value} 大得不合理(上限 {limit})。请检查单位。",
       "'{column}': amount {value} is implausibly large (limit {limit}). Check the unit.")
define("excel_error", "error", "「{column}」是 Excel 错误值 {value}。请修正公式或改填数值。",
       "'{column}' holds the Excel error {value}. Fix the formula or type the value.")
define("coerced", "warning", "「{column}」的「{value}」已按 {result} 读取。如不正确请改正。",
       "'{column}': '{value}' was read as {result}. Correct it if that is wrong.")
define("not_integer", "error", "「{column}」应为整数,实际为「{value}」。", "'{column}' must be a whole number, found '{value}'.")
define("totals_row", "warning", "第 {row} 行是合计行,已跳过(不计入数据)。", "Row {row} is a totals row and was skipped.")
define("sheet_missing", "error", "找不到「{table}」表(工作表「{where}」)。请使用原模板,不要删除工作表或表头。",
       "Cannot find the '{table}' table (sheet '{where}'). Use the original template; keep its sheets and headers.")
define("setup_table_default", "warning", "主管工作簿中没有「{table}」表,已使用默认值。可用 xlsales init 重新生成主管工作簿。",
       "The manager workbook has no '{table}' table; defaults were used. Re-create it with xlsales init.")
define("column_missing", "error", "「{table}」缺少必填列「{column}」。请恢复模板中的表头。",
       "'{table}' lacks the required column '{column}'. Restore the template's header.")
define("sheet_found_by_headers", "warning", "工作表被改名为「{value}」,已按表头识别为「{table}」。",
       "The sheet was renamed to '{value}'; recognised as '{table}' by its headers.")
define("duplicate_key", "error", "「{column}」的值「{value}」重复出现(另见 {other})。每项只能出现一次。",
       "'{column}': '{value}' appears more than once (also at {other}). Each must be unique.")
define("setup_value", "error", "设置项「{key}」的值「{value}」无效:{why}",
       "Setting '{key}' has an invalid value '{value}': {why}")
define("setup_missing", "error", "设置中缺少「{key}」。请在「{table}」表中补上。",
       "The setup lacks '{key}'. Add it to the '{table}' table.")
