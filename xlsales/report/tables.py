"""Every table of the consolidated report, declared once: its sheet, its columns, their headers and kinds.

The sheets' builders (:mod:`xlsales.report.review`, :mod:`xlsales.report.variance`,
:mod:`xlsales.report`, :mod:`xlsales.report.book`) fill these tables; the columns
are the schema's vocabulary (:mod:`xlsales.core.schema`), so a rep id, a team or a
region reads the same on every sheet, and a figure column says its period.
"""

from __future__ import annotations

import dataclasses

from xlsales.core import schema
from xlsales.core.history import CHANGE_KINDS
from xlsales.core.schema import C, Column, Table

# --- the vocabulary ---------------------------------------------------------------------------------


def money(key: str, zh: str, en: str, width: float = 13) -> Column:
    return C(key, zh, en, "money", width=width)


def pct(key: str, zh: str, en: str, width: float = 10) -> Column:
    return C(key, zh, en, "percent", width=width)


def count(key: str, zh: str, en: str, width: float = 8) -> Column:
    return C(key, zh, en, "int", width=width)


def _like(table: Table, key: str, **change: object) -> Column:
    """A setup column as a report column: same key and headers, not required, not locked."""
    return dataclasses.replace(table.column(key), required=False, locked=False, aliases=(), help_zh="", help_en="",
                               **change)  # type: ignore[arg-type]


REP_ID = _like(schema.ROSTER, "rep_id", width=10)
REP_NAME = dataclasses.replace(_like(schema.ROSTER, "name", width=9), key="rep_name")
TEAM = _like(schema.ROSTER, "team", width=11)
REGION = _like(schema.ROSTER, "region", width=8)
MONTH = C("month", "月份", "Month", "month", width=10)
DATE = C("date", "日期", "Date", "date", width=11)
#: the first columns of every organisation sheet; the key (rep id, team or region) sits in column B
ENTITY: tuple[Column, ...] = (C("level", "级别", "Level", width=8), C("key", "编号/名称", "Key", width=11),
                              C("name", "姓名", "Name", width=9), TEAM, REGION)
WHO: tuple[Column, ...] = (REP_ID, REP_NAME, TEAM, REGION)
SOURCE: tuple[Column, ...] = (C("_status", "状态", "Status", width=8), C("_file", "来源文件", "Source file", width=16),
                              C("_sheet", "工作表", "Sheet", width=10), C("_row", "行号", "Row", "int", width=6))

# --- issues, submissions and the consolidated data ------------------------------------------------------

ISSUES = Table("issues", "RptIssues", "问题", "Issues", (
    C("severity", "严重性", "Severity", width=8), C("rule", "规则", "Rule", width=22),
    C("file", "文件", "File", width=16), C("sheet", "工作表", "Sheet", width=10), C("cell", "单元格", "Cell", width=8),
    C("value", "值", "Value", width=16), C("zh", "说明(中文)", "Message (zh)", width=60),
    C("en", "说明(英文)", "Message (en)", width=60)), rows=0)

SUBMISSIONS = Table("submissions", "RptSubmissions", "提交", "Submissions", (
    C("file", "文件", "File", width=18), REP_ID, REP_NAME, TEAM, REGION,
    C("status", "状态", "Status", width=10), C("period", "周期", "Period", "date", width=11),
    count("rows_read", "读取行", "Rows read", 9), count("rows_accepted", "有效行", "Accepted", 9),
    count("rows_rejected", "拒绝行", "Rejected", 9), count("rows_superseded", "被替代行", "Superseded", 9),
    count("rows_unaccounted", "差额", "Unaccounted", 8),
    count("errors", "错误", "Errors", 7), count("warnings", "警告", "Warnings", 7),
    C("modified", "修改时间", "Modified", "text", width=19), C("on_time", "按时", "On time", width=7),
    C("sha256", "SHA-256", "SHA-256", width=20),
    C("return_file", "退回文件", "Returned workbook", width=16)), rows=0)

#: SPEC §7 市场状况反映表: visits flagged with a market signal, escalated at once
URGENT = Table("urgent", "RptUrgent", "紧急", "Urgent", (
    *WHO, DATE, dataclasses.replace(schema.VISITS.column("market_signal"), help_zh="", help_en="", aliases=()),
    C("customer", "客户", "Customer", width=20), C("competitor", "竞争对手信息", "Competitor info", width=24),
    C("customer_news", "客户动态", "Customer news", width=24), C("feedback", "客户反馈", "Customer feedback", width=24),
    C("complaint_detail", "客诉内容", "Complaint", width=20), C("_file", "来源文件", "Source file", width=14),
    C("_row", "行号", "Row", "int", width=6)), rows=0)

DATA_SHEETS = {"opportunities": ("RptOpportunities", "商机", "Opportunities"),
               "visits": ("RptVisits", "拜访", "Visits"), "forecast": ("RptForecast", "预测", "Forecast"),
               "weekly": ("RptWeekly", "周承诺", "WeeklyCommit"), "customers": ("RptCustomers", "客户", "Customers"),
               "attendance": ("RptAttendance", "出勤", "Attendance")}


def data_table(key: str) -> Table:
    """The report's table for a rep table: who, the rep's columns, status and source."""
    src = schema.rep_table(key)
    cols: list[Column] = []
    for c in src.columns:
        if key == "opportunities" and c.key == "probability":  # the stage's probability, as the setup has it
            c = dataclasses.replace(c, kind="percent", formula=None)
        cols.append(dataclasses.replace(c, required=False, locked=False))
    name, zh, en = DATA_SHEETS[key]
    return Table(key, name, zh, en, (*WHO, *cols, *SOURCE), rows=0, first_row=1)


DATA: dict[str, Table] = {k: data_table(k) for k in DATA_SHEETS}

SUMMARY_PERIODS = Table("summary_periods", "RptSummaryPeriods", "汇总", "Summary", (
    C("window", "期间", "Period", width=34), C("start", "开始", "From", "date", width=18),
    C("end", "结束", "To", "date", width=16),
    money("closed", "已成交", "Closed"), money("commit", "承诺", "Commit"), money("upside", "有望", "Upside"),
    money("pipeline", "管道", "Pipeline"),
    money("weighted", "加权(承诺+有望+管道)", "Weighted (commit + upside + pipeline)", 16),
    money("commit_forecast", "承诺预测(已成交+承诺)", "Commit forecast (closed + commit)", 16),
    money("best_case", "最佳预测(+有望)", "Best case (+ upside)", 16),
), rows=0, title_zh="按预计成交日期的期间汇总(有效行)", title_en="By period of expected close (accepted rows)")

# --- the review sheets ---------------------------------------------------------------------------------

WEEKLY = Table("weekly_review", "RptWeeklyCommit", "周度承诺", "WeeklyCommitReview", (
    *ENTITY,
    C("submitted", "提交", "Submitted", width=8), C("on_time", "按时", "On time", width=8),
    money("last_commit", "上周承诺", "Last week's commit"),
    money("last_won", "上周成交", "Won last week"),
    pct("won_vs_commit", "上周成交/承诺", "Won / commit"),
    money("commit_own", "本周承诺(本人)", "Commit (own)"),
    money("commit_adj", "本周承诺(调整后)", "Commit (adjusted)"),
    C("adjusted_by", "调整人/原因", "Adjusted by / why", width=18),
    money("upside_own", "本周有望", "Upside"),
    pct("commit_share", "承诺/(承诺+有望)", "Commit / (commit + upside)", 11),
    money("commit_deals", "本周到期承诺商机", "Commit deals closing this week"),
    money("qualified", "其中清单齐全", "of which checklist complete"),
    money("month_target", "本月调高目标", "Month raised target"),
    money("month_booked", "本月已成交", "Month booked"),
    money("month_forecast", "本月预测", "Month forecast"),
    money("month_landing", "本月落地", "Month landing"),
    money("month_best", "本月落地+有望", "Month landing + upside"),
    pct("month_ratio", "本月(落地+有望)/目标", "Month (landing + upside) / target", 11),
    money("quarter_target", "本季调高目标", "Quarter raised target"),
    money("quarter_booked", "本季已成交", "Quarter booked"),
    money("quarter_landing", "本季落地", "Quarter landing"),
    money("quarter_best", "本季落地+有望", "Quarter landing + upside"),
    pct("quarter_ratio", "本季(落地+有望)/目标", "Quarter (landing + upside) / target", 11),
    money("won_ytd", "本财年已成交", "Won this fiscal year"),
    money("unrealized", "其中未实现", "of which not realized"),
    pct("unrealized_share", "未实现占比", "Not realized share"),
), rows=0)

MONTHLY = Table("monthly_review", "RptMonthlyReview", "月度预测", "MonthlyReview", (
    *ENTITY,
    count("months", "已填预测月数", "Forecast months", 9),
    count("reps", "业务员数", "Reps"),
    count("compliant", "100%提交人数", "Reps fully submitted", 10),
    pct("compliance", "提交率", "Submission rate", 9),
    money("fc12", "12个月预测", "12-month forecast"),
    money("up12", "12个月有望", "12-month upside"),
    money("total12", "12个月预测+有望", "12-month forecast + upside"),
    money("target12", "同期12个月调高目标", "Raised target, same 12 months"),
    pct("ratio12", "(预测+有望)/目标", "(Forecast + upside) / target", 11),
    money("month_target", "本月调高目标", "Month raised target"),
    money("month_booked", "本月已成交", "Month booked"),
    money("month_left", "本月剩余目标", "Month target left"),
    money("month_pipe", "本月合格管道", "Month qualified pipeline"),
    pct("month_cover", "本月覆盖率", "Month coverage"),
    money("quarter_target", "本季调高目标", "Quarter raised target"),
    money("quarter_booked", "本季已成交", "Quarter booked"),
    money("quarter_left", "本季剩余目标", "Quarter target left"),
    money("quarter_pipe", "本季合格管道", "Quarter qualified pipeline"),
    pct("quarter_cover", "本季覆盖率", "Quarter coverage"),
    money("booked12", "12个月已成交", "12 months booked"),
    money("left12", "12个月剩余目标", "12-month target left"),
    money("pipe12", "12个月合格管道", "12-month qualified pipeline"),
    pct("cover12", "12个月覆盖率", "12-month coverage"),
    dataclasses.replace(money("open_pipe", "全部未结合格管道", "All open qualified pipeline", 14),
                        aliases=("未结通路", "Open pipeline")),  # the name in reports before 2026-12
    money("good_pipe", "其中概率≥50%", "of which at ≥ 50%"),
    pct("quality", "管道质量", "Pipeline quality"),
    dataclasses.replace(money("commit_open", "全部未结承诺", "All open commit"), aliases=("承诺合计", "Commit total")),
    money("last_pipe", "上月合格管道", "Last month's pipeline"),
    pct("pipe_growth", "管道环比", "Pipeline growth"),
    money("last_commit", "上月承诺", "Last month's commit"),
    pct("commit_growth", "承诺环比", "Commit growth"),
), rows=0)

ROLLUPS = Table("rollups", "RptRollups", "按期汇总", "Rollups", (
    *ENTITY,
    C("grain", "粒度", "Grain", width=6), C("period", "期间", "Period", width=10),
    C("start", "开始", "Start", "date", width=11), C("end", "结束", "End", "date", width=11),
    money("closed", "已成交", "Closed"), money("commit", "承诺", "Commit"), money("upside", "有望", "Upside"),
    money("pipeline", "管道", "Pipeline"), money("weighted", "加权(承诺+有望+管道)", "Weighted (commit + upside + pipeline)"),
    money("commit_forecast", "承诺预测", "Commit forecast"), money("best_case", "最佳预测", "Best case"),
    money("open_pipeline", "未结合计", "Open total"),
), rows=0)

STAGES = Table("stage_pipeline", "RptStagePipeline", "阶段分布", "ByStage", (
    C("stage", "阶段", "Stage", width=14), pct("probability", "概率", "Probability", 9),
    money("amount", "金额", "Amount"), money("weighted", "加权金额", "Weighted"),
), rows=0)

# --- variance, the weekly management report and the scorecard ---------------------------------------------

VARIANCE = Table("variance", "RptVariance", "差异", "Variance", (
    *ENTITY,
    C("window", "期间", "Window", width=7), C("period", "期间标识", "Period", width=10),
    C("start", "开始", "Start", "date", width=11), C("end", "结束", "End", "date", width=11),
    count("days", "工作日", "Working days", 7), count("days_gone", "已过工作日", "Days elapsed", 7),
    count("left", "剩余工作日", "Days left", 7),
    money("target", "目标", "Target"), money("actual", "实际", "Actual"), money("forecast", "预测(落地)", "Forecast (landing)"),
    money("commit", "承诺预测", "Commit forecast"),
    pct("attainment", "达成率", "Attainment", 9), money("gap", "差距", "Gap to target"),
    money("projection", "按进度预计", "Run-rate projection"),
    pct("proj_attainment", "预计达成率", "Projected attainment", 9),
    money("needed_daily", "每工作日还需", "Needed per working day"),
    pct("accuracy", "预测准确率", "Forecast accuracy", 9),
), rows=0)

CUMULATIVE = Table("var_months", "RptVarMonths", "差异", "Variance", (
    C("period", "月份", "Month", width=10), C("start", "开始", "Start", "date", width=11),
    C("end", "结束", "End", "date", width=11),
    money("target", "月目标", "Target"), money("actual", "月实际", "Actual"),
    money("cum_target", "累计目标", "Cumulative target"), money("cum_actual", "累计实际", "Cumulative actual"),
    pct("cum_attainment", "累计达成率", "Cumulative attainment", 9),
), rows=0, title_zh="全公司按月累计:实际 vs 目标", title_en="Company by month: cumulative actual vs target")

WEEKLY_REPORT = Table("weekly_report", "RptWeeklyReport", "周报", "WeeklyReport", (
    *ENTITY,
    C("submitted", "已提交", "Submitted", width=7), C("on_time", "按时提交", "On time", width=7),
    count("reps", "人数", "Reps", 6),
    money("month_target", "本月目标", "Month target"), money("month_actual", "本月实际", "Month actual"),
    pct("attainment", "本月达成率", "Month attainment", 9),
    money("week_sales", "上周成交", "Won last week"), money("sales_per_rep", "人均周销售额", "Sales per rep"),
    count("new_customers", "新开发客户", "New customers"), money("collections", "上周收款", "Collections"),
    count("planned", "上周排定拜访", "Visits scheduled"), count("visits", "完成拜访", "Visits done"),
    pct("adherence", "计划完成率", "Plan adherence", 9),
    count("effective", "有效拜访", "Effective visits"),
    pct("effective_rate", "有效拜访率", "Effective visit rate", 9),
    count("deals", "成交拜访", "Visits with an order"), pct("deal_rate", "交易率", "Deal rate", 9),
    money("orders", "拜访订单额", "Orders on visits"), money("cost", "拜访费用", "Visit cost"),
    money("cost_per_order", "每单费用", "Cost per order"), money("cost_per_10k", "每万元费用", "Cost per ¥10,000"),
    count("signals", "市场信息", "Market signals"), count("abnormal", "异常客户", "Abnormal customers"),
    count("next_week", "本周计划拜访", "Visits planned this week"),
), rows=0)

SIGNALS = Table("signals", "RptWeeklySignals", "周报", "WeeklyReport", (
    *WHO, DATE, C("customer", "客户", "Customer", width=18),
    C("purpose", "拜访目的", "Purpose", width=10), C("competitor", "竞争对手信息", "Competitor info", width=24),
    C("feedback", "客户反馈", "Customer feedback", width=24), C("result", "拜访结果", "Result", width=20),
), rows=0, title_zh="竞争与市场信息(上周拜访)", title_en="Competitor and market signals (last week's visits)")
ABNORMAL = Table("abnormal", "RptWeeklyAbnormal", "周报", "WeeklyReport", (
    *WHO, C("customer", "客户", "Customer", width=18), C("customer_class", "客户等级", "Class", width=6),
    C("reason", "原因", "Reason", width=30), DATE, C("detail", "说明", "Detail", width=30),
), rows=0, title_zh="异常客户", title_en="Abnormal customers")
NEXT_WEEK = Table("next_week", "RptWeeklyNextWeek", "周报", "WeeklyReport", (
    *WHO, DATE, C("customer", "客户", "Customer", width=18),
    C("area", "区域", "Area", width=10), C("purpose", "拜访目的", "Purpose", width=10),
), rows=0, title_zh="本周计划(业务员的计划拜访)", title_en="This week's plan (the reps' planned visits)")

SCORECARD = Table("scorecard", "RptScorecard", "记分卡", "Scorecard", (
    *WHO,
    money("month_target", "本月目标", "Month target"), money("month_actual", "本月实际", "Month actual"),
    pct("month_attainment", "本月达成率", "Month attainment", 9),
    money("year_target", "本财年目标", "Fiscal year target"), money("year_actual", "本财年实际", "Fiscal year actual"),
    pct("year_attainment", "本财年达成率", "Fiscal year attainment", 9),
    money("month_forecast", "本月落地", "Month landing"),
    pct("accuracy", "预测准确率", "Forecast accuracy", 9),
    C("submitted", "已提交", "Submitted", width=7), C("on_time", "按时提交", "On time", width=7),
    count("forecast_months", "预测月数", "Forecast months", 7),
    pct("forecast_rate", "预测提交率", "Forecast submission", 9),
    count("errors", "错误数", "Errors", 7),
    count("visits", "上周完成拜访", "Visits done last week"),
    pct("effective_rate", "有效拜访率", "Effective visit rate", 9),
    pct("deal_rate", "交易率", "Deal rate", 9),
    pct("adherence", "计划完成率", "Plan adherence", 9),
    money("collections", "上周收款", "Collections last week"), money("week_sales", "上周成交", "Won last week"),
    count("attendance", "上周出勤天数", "Days at work last week", 8),
), rows=0)

# --- the sources every figure reads besides the rep data (each on its own sheet) ----------------------------

TARGETS = Table("targets", "RptTargets", "目标", "Targets", (
    REP_ID, TEAM, REGION, MONTH, money("target", "调高目标(销售额)", "Raised target (revenue)")), rows=0)
ACTUALS = Table("actuals", "RptActuals", "实际数", "ActualsData", (
    REP_ID, TEAM, REGION, MONTH, C("kind", "目标类型", "Kind", width=10), money("amount", "实际金额", "Actual", 14)),
    rows=0)
PREVIOUS = Table("previous", "RptPrevious", "上期", "Previous", (
    C("level", "级别", "Level", width=8), C("key", "编号/名称", "Key", width=14), REGION,
    C("period", "周期", "Period", "date", width=11), C("which", "上周/上月", "Last week / month", width=10),
    money("commit_adj", "承诺(调整后)", "Commit (adjusted)"), money("pipeline_open", "未结合格管道", "Open pipeline"),
    money("commit_total", "未结承诺", "Open commit")), rows=0)
ADJUST = Table("adjust", "RptAdjustments", "调整", "Adjustments", (
    C("level", "级别", "Level", width=8), C("key", "业务员编号/团队", "Rep ID / team", width=14), REGION,
    C("week", "周(周一)", "Week of", "date", width=11), money("commit", "调整后承诺", "Adjusted commit"),
    C("reason", "原因", "Reason", width=30), C("by", "调整人", "Adjusted by", width=10)), rows=0)
THRESHOLDS = Table("thresholds", "RptThresholds", "阈值", "Thresholds", (
    C("key", "键", "Key", width=24), C("label", "说明", "Label", width=44),
    C("value", "值", "Value", "number", width=10)), rows=0)
DAILY = Table("daily", "RptDailyTargets", "日目标", "DailyTargets", (
    REP_ID, TEAM, REGION, DATE, money("target", "日目标(销售额)", "Daily target (revenue)", 14)), rows=0)
HOLIDAYS = Table("holidays", "RptHolidays", "假日", "Holidays", (
    C("date", "日期", "Date", "date", width=12), C("name", "名称", "Name", width=16)), rows=0)
SOURCES: tuple[Table, ...] = (TARGETS, ACTUALS, PREVIOUS, ADJUST, THRESHOLDS, DAILY, HOLIDAYS)

# --- history from the ledger (xlsales.report.history_sheets; only when the ledger has earlier snapshots) -------------

OPP_ID = C("opp_id", "商机编号", "Deal ID", width=12)
CUSTOMER = C("customer", "客户", "Customer", width=20)
DEAL_CHANGES = Table("deal_changes", "RptDealChanges", "商机变化明细", "DealChangeList", (
    *WHO, C("change", "变化", "Change", width=12), OPP_ID, CUSTOMER,
    money("amount_before", "上周金额", "Amount last week"), money("amount_after", "本周金额", "Amount now"),
    C("close_before", "上周预计成交", "Close last week", "date", width=11),
    C("close_after", "本周预计成交", "Close now", "date", width=11),
    C("stage_before", "上周阶段", "Stage last week", width=12), C("stage_after", "本周阶段", "Stage now", width=12),
    C("category_before", "上周类别", "Category last week", width=9),
    C("category_after", "本周类别", "Category now", width=9),
), rows=0)
CHANGE_COUNTS = Table("change_counts", "RptChangeCounts", "商机变化", "DealChanges", (
    *ENTITY, *(count(k, zh, en, 9) for k, zh, en in CHANGE_KINDS),
    money("won_amount", "赢单金额", "Won amount"), money("lost_amount", "丢单金额", "Lost amount"),
    money("slipped_amount", "推迟金额", "Slipped amount"), money("vanished_amount", "消失金额", "Vanished amount"),
), rows=0)
HISTORY_PERIODS = Table("history_periods", "RptHistoryPeriods", "历史期间", "HistoryPeriods", (
    *WHO, C("grain", "粒度", "Grain", width=6), C("period", "期间", "Period", width=10),
    C("start", "开始", "Start", "date", width=11), C("end", "结束", "End", "date", width=11),
    money("commit", "期初承诺", "Commit at the start"), money("actual", "实际成交", "Actual (won)"),
    pct("ratio", "实际/承诺", "Actual / commit"),
    count("submitted", "已提交", "Submitted", 7), count("on_time", "按时", "On time", 7),
    C("snapshot", "台账快照", "Ledger snapshot", "int", width=8),
    C("commit_sq", "承诺²(波动率用)", "Commit² (for volatility)", "number", width=16),
), rows=0)
ACCURACY = Table("accuracy", "RptAccuracy", "预测准确性", "ForecastAccuracy", (
    *ENTITY,
    count("weeks", "有承诺的周数", "Weeks with a commit"), money("w_commit", "周承诺合计", "Weekly commit Σ"),
    money("w_actual", "周实际合计", "Weekly actual Σ"), pct("w_ratio", "周实际/承诺", "Weekly actual / commit"),
    count("w_in_band", "健康周数", "Weeks in band"), pct("w_band_share", "健康周占比", "Share in band"),
    pct("w_bias", "周平均偏差", "Weekly mean bias"), pct("w_volatility", "周承诺波动率", "Weekly commit volatility", 11),
    count("months", "有预测的月数", "Months with a forecast"), money("m_commit", "月初预测合计", "Monthly forecast Σ"),
    money("m_actual", "月实际合计", "Monthly actual Σ"), pct("m_ratio", "月实际/预测", "Monthly actual / forecast"),
    count("m_in_band", "健康月数", "Months in band"), pct("m_band_share", "健康月占比", "Share in band"),
    pct("m_bias", "月平均偏差", "Monthly mean bias"),
    count("periods", "记录周数", "Weeks on record"), count("submitted", "提交周数", "Weeks submitted"),
    count("on_time", "按时周数", "Weeks on time"), pct("on_time_rate", "按时率", "On-time rate"),
    count("closed_deals", "已结商机", "Closed deals"), count("won_deals", "赢单数", "Won deals"),
    pct("win_rate", "赢单率", "Win rate"),
), rows=0)
DEAL_PATHS = Table("deal_paths", "RptDealPaths", "商机轨迹", "DealPaths", (
    *WHO, OPP_ID, CUSTOMER, C("stage", "经过阶段", "Stage seen", width=12),
    pct("probability", "名义概率", "Nominal probability"), C("outcome", "结果", "Outcome", width=8),
    C("advanced", "之后推进", "Moved on later", width=8), count("first", "首行", "First row", 6),
    C("first_seen", "首次出现", "First seen", "date", width=11), C("last_seen", "最后出现", "Last seen", "date", width=11),
), rows=0)
WIN_RATES = Table("win_rates", "RptWinRates", "赢单率", "WinRates", (
    C("stage", "阶段", "Stage", width=16), pct("probability", "名义概率", "Nominal probability"),
    count("deals", "经过该阶段的商机", "Deals seen at the stage", 10), count("closed", "已结(赢+丢)", "Closed (won + lost)", 10),
    count("won", "赢单", "Won"), pct("win_rate", "历史赢单率", "Historical win rate"),
    pct("gap", "历史−名义", "History − nominal"), count("advanced", "推进到更高阶段", "Moved to a later stage", 10),
    pct("conversion", "阶段转化率", "Stage conversion"),
), rows=0)
HISTORY_TABLES: tuple[Table, ...] = (CHANGE_COUNTS, DEAL_CHANGES, ACCURACY, HISTORY_PERIODS, WIN_RATES, DEAL_PATHS)
