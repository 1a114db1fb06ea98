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


def make(rule_id: str, file: str = "", sheet: str = "", cell: str = "", value: object = "", *,
         severity: Severity | None = None, **params: object) -> Issue:
    """An issue of ``rule_id`` at a location; ``params`` fill the message templates."""
    rule = RULES[rule_id]
    shown = "" if value is None else str(value)
    fields = {"value": shown, **params}  # a "value" param changes how the value reads in the message only
    return Issue(severity or rule.severity, rule_id, file, sheet, cell, shown,
                 rule.zh.format(**fields), rule.en.format(**fields))


def load_all_rules() -> dict[str, Rule]:
    """Every rule of every module (modules declare theirs on import)."""
    import importlib
    import pkgutil

    import xlsales

    for info in pkgutil.walk_packages(xlsales.__path__, "xlsales."):
        # the Excel layer declares no rules (and needs Excel's libraries); migrations run only inside Alembic
        if not info.name.startswith(("xlsales.excel", "xlsales.io.migrations")):
            importlib.import_module(info.name)
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


# --- the rules in words: what the summary and the issue lists call them -----------------------------
NAMES: dict[str, tuple[str, str]] = {
    "absurd_amount": ("金额大得不合理", "implausible amount"),
    "ambiguous_choice": ("选项有歧义", "ambiguous choice"),
    "ambiguous_date": ("日期有歧义", "ambiguous date"),
    "bad_bool": ("应为是/否", "not yes/no"),
    "bad_choice": ("不在下拉列表中", "not in the list"),
    "bad_date": ("不是日期", "not a date"),
    "bad_number": ("不是数字", "not a number"),
    "bad_percent": ("不是百分比", "not a percentage"),
    "close_date_past": ("预计成交日期已过", "close date in the past"),
    "coerced": ("已按推断读取", "value reinterpreted"),
    "column_missing": ("缺少必填列", "required column missing"),
    "commit_below_90": ("承诺商机概率不足", "commit below the commit probability"),
    "commit_checklist": ("承诺清单未齐", "commit checklist incomplete"),
    "commit_row_mismatch": ("本周承诺与承诺商机不符", "weekly commit differs from its deals"),
    "customer_not_listed": ("客户不在客户表中", "customer not on the customer list"),
    "duplicate_key": ("重复", "duplicate"),
    "duplicate_opp_id": ("商机编号重复", "duplicate deal id"),
    "duplicate_team": ("团队名称写法不一", "one team spelt two ways"),
    "excel_error": ("Excel 错误值", "Excel error value"),
    "file_bomb": ("文件结构异常(已拒绝)", "abnormal file structure (refused)"),
    "file_broken_link": ("链接指向不存在的文件", "broken link"),
    "file_corrupt": ("文件损坏", "damaged file"),
    "file_crashed": ("读取时崩溃(已拒绝)", "reader crashed (refused)"),
    "file_empty": ("空文件", "empty file"),
    "file_encrypted": ("文件有密码", "password-protected file"),
    "file_ignored": ("不是工作簿(已忽略)", "not a workbook (ignored)"),
    "file_in_archive": ("归档文件夹中的文件(未汇总)", "file in an archive folder (not counted)"),
    "file_link_outside": ("指向收件箱外的链接(未汇总)", "link outside the inbox (not counted)"),
    "file_no_permission": ("没有读取权限", "no read permission"),
    "file_not_regular": ("不是普通文件", "not a regular file"),
    "file_not_workbook": ("不是 Excel 工作簿", "not an Excel workbook"),
    "file_read_failed": ("读取失败", "read failed"),
    "file_too_large": ("文件过大", "file too large"),
    "file_unchecked": ("无法安全检查(已拒绝)", "could not be checked (refused)"),
    "file_unreadable": ("无法打开", "cannot be opened"),
    "file_unsupported": ("不支持的文件", "unsupported file"),
    "file_vanished": ("读取中文件消失", "file vanished while read"),
    "file_xml_entities": ("XML 实体声明(已拒绝)", "XML entity declarations (refused)"),
    "folder_link_ignored": ("文件夹链接(未读取)", "folder link (not read)"),
    "folder_unreadable": ("文件夹无法读取", "folder unreadable"),
    "forecast_below_booked": ("本月预测低于已成交", "month forecast below booked"),
    "forecast_incomplete": ("12个月预测不全", "12-month forecast incomplete"),
    "identity_filename_mismatch": ("编号与文件名不符", "rep id differs from file name"),
    "identity_forged": ("身份签名不符(已拒收)", "identity does not match its signature (refused)"),
    "identity_key_missing": ("缺少签名密钥", "signing key missing"),
    "identity_unsigned": ("没有身份签名", "no identity signature"),
    "identity_unsigned_rejected": ("没有身份签名(按设置拒收)", "no identity signature (refused by the setup)"),
    "identity_from_filename": ("按文件名认定业务员", "rep taken from the file name"),
    "inactive_rep": ("非在职业务员提交", "inactive rep submitted"),
    "latest_tie": ("无法判断哪份最新", "no latest file"),
    "likely_commit_in_upside": ("很可能成交却放在有望", "likely deal left in upside"),
    "merged_too_large": ("合并单元格过大(已拒绝)", "merged range too large (refused)"),
    "missing_submission": ("未提交", "no submission"),
    "negative": ("不能为负数", "negative value"),
    "not_a_value": ("不是值", "not a value"),
    "not_integer": ("不是整数", "not a whole number"),
    "out_of_range": ("超出范围", "out of range"),
    "period_mismatch": ("不是本期的文件", "not this period's file"),
    "previous_not_earlier": ("上期报告不早于本期", "previous report not earlier"),
    "previous_unreadable": ("不是 xlsales 报告", "not an xlsales report"),
    "region_not_consolidated": ("大区本周未汇总", "region not consolidated this week"),
    "required": ("必填项为空", "required value missing"),
    "setup_missing": ("设置缺项", "setup item missing"),
    "setup_table_default": ("设置表缺失(用默认值)", "setup table missing (defaults used)"),
    "setup_table_empty": ("必需的设置表为空", "required setup table empty"),
    "setup_table_missing": ("缺少必需的设置表", "required setup table missing"),
    "setup_value": ("设置值无效", "invalid setting"),
    "shared_customer": ("客户归属冲突", "customer claimed twice"),
    "roll_no_data": ("没有可预填的数据", "no data to pre-fill"),
    "roll_not_this_week": ("本周未提交,按较早数据预填", "not submitted this week, pre-filled from older data"),
    "roll_rows_not_carried": ("有错误的行未带入新工作簿", "rows with errors not carried forward"),
    "sheet_found_by_headers": ("工作表被改名", "sheet renamed"),
    "sheet_missing": ("缺少工作表", "sheet missing"),
    "stage_category_mismatch": ("阶段与类别矛盾", "stage contradicts category"),
    "superseded": ("被较新的提交替代", "superseded by a later file"),
    "table_too_long": ("表格行数过多(已拒绝)", "table too long (refused)"),
    "target_area_no_rep": ("区域没有业务员", "area without a rep"),
    "target_bad_unit": ("取整单位无效", "invalid rounding unit"),
    "target_class_no_weight": ("区域等级没有权重", "area class without weight"),
    "target_missing": ("缺少目标", "target missing"),
    "target_months_missing": ("预测月份没有目标", "forecast months without a target"),
    "target_negative": ("目标为负数", "negative target"),
    "target_no_regions": ("没有大区", "no region"),
    "target_no_weights": ("权重表为空", "weights table empty"),
    "target_no_workdays": ("当月没有工作日", "month without working days"),
    "target_not_number": ("目标不是数字", "target not a number"),
    "target_ramp_unassigned": ("爬坡后目标无人承担", "target left unassigned by ramping"),
    "target_region_no_area": ("大区没有区域", "region without areas"),
    "target_region_no_weight": ("大区没有权重", "region without weight"),
    "target_rep_no_area": ("业务员的区域不在区域表", "rep's area not in the areas"),
    "target_season_months": ("旺淡季指数不全", "seasonality incomplete"),
    "target_weights_zero": ("权重合计为 0", "weights sum to zero"),
    "text_cut": ("文字超长已截断", "text cut to fit a cell"),
    "text_too_long": ("文字过长", "text too long"),
    "threshold_inverted": ("阈值上下颠倒", "threshold band upside down"),
    "threshold_value": ("阈值无效", "invalid threshold"),
    "totals_row": ("合计行(已跳过)", "totals row (skipped)"),
    "unknown_rep": ("编号不在名单中", "rep id not in the roster"),
    "upside_as_commit": ("有望阶段标为承诺", "upside-stage deal marked commit"),
    "visit_done_future": ("完成的拜访日期在未来", "done visit dated in the future"),
    "visit_outside_period": ("拜访不在本期", "visit outside the period"),
    "won_future_close": ("已成交但日期在未来", "won with a future date"),
    "won_no_amount": ("已成交没有金额", "won without an amount"),
}


def rule_name(rule_id: str, lang: str = "zh") -> str:
    """A rule's name in words (the id when it has none)."""
    zh, en = NAMES.get(rule_id, (rule_id, rule_id))
    return zh if lang == "zh" else en
