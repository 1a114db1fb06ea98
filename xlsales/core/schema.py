"""One declarative description of every sheet xlsales writes or reads.

Each :class:`Table` names its sheet, its Excel table (ListObject) and its
columns; each :class:`Column` carries everything about one column — key, zh and
en header, aliases, type, whether it is required, the setup list its values come
from, bounds, width and help text.  The template builders (``templates``) and
the reader/validator (``reader``) are both driven from here, so nothing about a
column is written twice.

Column kinds:

``text``     free text
``money``    an amount in yuan, shown as ``¥#,##0``
``number``   a plain number
``int``      a whole number
``percent``  a ratio shown as a percentage (0.9 is 90%)
``date``     a calendar date
``month``    the first day of a month, shown as ``yyyy-mm``
``choice``   one value of a setup list (``Column.choices`` names the list)
``bool``     yes/no, entered as 是/否
``formula``  computed in the workbook; ``Column.formula`` is the template
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "money", "number", "int", "percent", "date", "month", "choice", "bool", "formula"]
Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: Kind = "text"
    required: bool = False
    choices: str | None = None
    aliases: tuple[str, ...] = ()
    width: float = 12.0
    min: float | None = None
    max: float | None = None
    formula: str | None = None
    help_zh: str = ""
    help_en: str = ""
    locked: bool = False
    suggest: str | None = None  # a dropdown of the rep's own entries (free text still accepted), e.g. LIST_MY_CUSTOMERS

    def header(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def help(self, lang: Lang) -> str:
        return self.help_zh if lang == "zh" else self.help_en

    def names(self) -> set[str]:
        """Every normalized header text that identifies this column."""
        return {norm(n) for n in (self.zh, self.en, f"{self.zh} {self.en}", *self.aliases)}


@dataclass(frozen=True)
class Table:
    """A block of rows under one header row: an Excel table in a sheet."""

    key: str
    name: str  # the ListObject name, ASCII
    sheet_zh: str
    sheet_en: str
    columns: tuple[Column, ...]
    rows: int = 100  # capacity pre-sized in a template
    first_row: int = 1  # 0-based row of the header in a template (row 0 holds a title)
    first_col: int = 0
    title_zh: str = ""
    title_en: str = ""
    min_match: int = 0  # headers that must match to recognise the table (0: all required)
    optional: bool = False  # a table newer than some workbooks: read when there, not missed when not

    def sheet(self, lang: Lang) -> str:
        return self.sheet_zh if lang == "zh" else self.sheet_en

    def title(self, lang: Lang) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind != "formula")

    @property
    def needed(self) -> int:
        if self.min_match:
            return self.min_match
        return max(2, sum(1 for c in self.columns if c.required))


@dataclass(frozen=True)
class Field:
    """One labelled cell of an identity or key/value block (label left, value right)."""

    key: str
    zh: str
    en: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def names(self) -> set[str]:
        return {norm(n) for n in (self.zh, self.en, self.key, f"{self.zh} {self.en}", *self.aliases)}


_SPACE = re.compile(r"[\s_\-/()（）:：*·.]+")


def norm(text: object) -> str:
    """Normalize a header or label for matching: width, case, spaces and punctuation."""
    return _norm(str(text))


@functools.lru_cache(maxsize=65_536)
def _norm(text: str) -> str:  # headers and labels repeat in every workbook: each is normalised once
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).strip().lower())


def C(key: str, zh: str, en: str, kind: Kind = "text", **kw) -> Column:  # noqa: N802 - table-like shorthand
    return Column(key, zh, en, kind, **kw)


# ---------------------------------------------------------------------------
# Setup lists every enumerated rep column draws its dropdown from.
# (list name → meaning); the values themselves live in the manager's setup.
LIST_STAGE = "stage"
LIST_CATEGORY = "category"
LIST_PURPOSE = "purpose"
LIST_VISIT_STATUS = "visit_status"
LIST_CLASS = "customer_class"
LIST_YESNO = "yesno"
LIST_KIND = "target_kind"
LIST_ADJ_LEVEL = "adj_level"
LIST_PROP_LEVEL = "prop_level"
LIST_BASIS = "target_basis"
LIST_COMPLAINT = "complaint_status"
LIST_MARKET = "market_signal"
LIST_ATTENDANCE = "attendance"
LIST_MY_CUSTOMERS = "my_customers"  # not a setup list: the rep's own 客户 sheet, offered in a dropdown

# ---------------------------------------------------------------------------
# The rep workbook.

IDENTITY: tuple[Field, ...] = (
    Field("rep_id", "业务员编号", "Rep ID", aliases=("工号", "员工编号", "rep")),
    Field("rep_name", "姓名", "Name", aliases=("业务员", "rep name")),
    Field("team", "团队", "Team", aliases=("办事处", "小组")),
    Field("region", "大区", "Region", aliases=("区域",)),
    Field("period", "周期(周一)", "Week of", "date", aliases=("周期", "本周", "week", "period")),
    Field("lang", "语言", "Language"),
)

#: a visit's or a deal's customer: offered from the rep's own 客户 sheet, other text still accepted (SPEC §8)
_PICK_CUSTOMER: dict[str, Any] = {
    "suggest": LIST_MY_CUSTOMERS, "help_zh": "从下拉列表选择「客户」表中的客户;新客户请先在「客户」表登记",
    "help_en": "Pick a customer of the Customers sheet; enter a new customer there first"}

VISITS = Table(
    "visits", "Visits", "拜访", "Visits",
    (
        C("date", "日期", "Date", "date", required=True, width=12, aliases=("拜访日期", "visit date"),
          help_zh="拜访日期,须在本周期内", help_en="Visit date, within the reporting week"),
        C("customer", "客户", "Customer", required=True, width=22, aliases=("客户名称", "customer name"),
          **_PICK_CUSTOMER),
        C("area", "区域", "Area", width=10, aliases=("地区", "拜访区域")),
        C("status", "计划/完成", "Planned/Done", "choice", required=True, choices=LIST_VISIT_STATUS, width=11,
          aliases=("状态", "status"), help_zh="拜访前选计划,拜访后改为完成", help_en="Planned before the visit, "
          "done after it"),
        C("purpose", "拜访目的", "Purpose", "choice", required=True, choices=LIST_PURPOSE, width=13,
          aliases=("目的",)),
        C("result", "拜访结果", "Result", width=24, aliases=("结果",),
          help_zh="本次拜访的结果;有结果才算有效拜访", help_en="What the visit achieved; a visit with a result is effective"),
        C("order_amount", "订单金额", "Order amount", "money", width=13, min=0, aliases=("订货金额", "订单")),
        C("collection_amount", "收款金额", "Collection", "money", width=13, min=0, aliases=("收款", "回款", "货款回收")),
        C("cost", "拜访费用", "Cost", "money", width=11, min=0, aliases=("费用",)),
        C("competitor", "竞争对手信息", "Competitor info", width=20, aliases=("竞品信息", "竞争对手")),
        C("feedback", "客户反馈", "Customer feedback", width=20, aliases=("反馈",)),
        C("next_step", "下一步", "Next step", width=18, aliases=("下一步计划",)),
        C("supervisor_comment", "主管批注", "Supervisor comment", width=18, aliases=("主管意见", "批注")),
        # SPEC §7: the daily report's complaints, customer news, market signals and the supervisor's sign-off
        C("complaint_detail", "客诉内容", "Complaint", width=20, aliases=("投诉内容", "客诉"),
          help_zh="拜访目的为客诉处理时填写:客户投诉了什么", help_en="For a complaint visit: what the customer "
          "complained about"),
        C("complaint_status", "客诉状态", "Complaint status", "choice", choices=LIST_COMPLAINT, width=11,
          aliases=("投诉状态",), help_zh="客诉处理的进展", help_en="How far the complaint has got"),
        C("customer_news", "客户动态", "Customer news", width=20, aliases=("客户新闻", "客户变化"),
          help_zh="客户的新情况:扩产、搬迁、换供应商、资金等", help_en="What is new at the customer: expansion, a move, "
          "a new supplier, money"),
        C("market_signal", "市场状况", "Market signal", "choice", choices=LIST_MARKET, width=13,
          aliases=("市场情况", "市场状况反映"),
          help_zh="需要立即上报的市场情况;选了就会列入主管报告的「紧急」表", help_en="A market signal to escalate at "
          "once; it puts the row on the manager's Urgent sheet"),
        C("signed_off", "主管签核日期", "Signed off", "date", width=12, aliases=("签核日期", "主管签字日期"),
          help_zh="主管审阅并签核本条拜访的日期", help_en="The day the supervisor reviewed and signed off this visit"),
    ),
    rows=300, min_match=3,
)

#: the weighted amount of a deal, as the rep workbook and the report both write it: cent-rounded like every
#: money figure (Excel's ROUND), so the rep's own column and the report agree to the cent
WEIGHTED_FORMULA = '=IF(OR({amount}="",{probability}=""),"",ROUND({amount}*{probability},2))'

#: the commit checklist's input message (SPEC §3): asked of commit rows only
_CHECK = {"help_zh": "只有承诺行需要填写(其他行为灰色);承诺行有一项不是「是」时整行标黄",
          "help_en": "Needed on commit rows only (greyed on the others); a commit row with an item not Yes turns amber"}

OPPORTUNITIES = Table(
    "opportunities", "Opportunities", "商机", "Opportunities",
    (
        C("opp_id", "商机编号", "Opp ID", required=True, width=11, aliases=("编号", "商机id", "opportunity id", "id"),
          help_zh="每个商机唯一的编号,如 O-001", help_en="A unique id per deal, e.g. O-001"),
        C("customer", "客户", "Customer", required=True, width=22, aliases=("客户名称",), **_PICK_CUSTOMER),
        C("product", "产品", "Product", width=16, aliases=("产品/方案",)),
        C("amount", "金额", "Amount", "money", required=True, width=14, min=0, aliases=("商机金额", "预计金额", "deal amount"),
          help_zh="预计成交金额(元)", help_en="Expected deal amount (yuan)"),
        C("stage", "阶段", "Stage", "choice", required=True, choices=LIST_STAGE, width=14, aliases=("销售阶段", "sales stage"),
          help_zh="概率随阶段自动计算。承诺须达到承诺阶段;下订单对应「已成交」,丢单对应「丢单」",
          help_en="The probability follows the stage. Commit needs a commit stage; Won goes with Closed, Lost "
          "with Lost"),
        C("probability", "概率", "Probability", "formula", width=9, aliases=("赢率", "成交概率", "prob"),
          formula="=IF({stage}=\"\",\"\",IFERROR(INDEX(xs_stage_prob,MATCH({stage},xs_stage_name,0)),\"\"))"),
        C("weighted", "加权金额", "Weighted", "formula", width=14, aliases=("加权", "weighted amount"),
          formula=WEIGHTED_FORMULA),
        C("close_date", "预计成交日期", "Expected close", "date", required=True, width=13,
          aliases=("成交日期", "预计签约日期", "close date")),
        C("category", "预测类别", "Forecast category", "choice", required=True, choices=LIST_CATEGORY, width=11,
          aliases=("类别", "预测分类", "category"),
          help_zh="承诺:本期必签,阶段概率须达 90% 且五项检查为「是」;有望:可能签但不承诺;下订单选「已成交」,丢单选"
          "「丢单」。整行变红表示阶段与类别矛盾",
          help_en="Commit: promised this period, at a 90% stage with all five checks Yes; Upside: may close, not "
          "promised; Won is Closed, Lost is Lost. A red row means stage and category contradict"),
        C("chk_config", "配置已最终确定", "Config final", "bool", choices=LIST_YESNO, width=9, **_CHECK, aliases=("配置确定",)),
        C("chk_contract_end_user", "与最终用户签署合同", "End-user contract", "bool", choices=LIST_YESNO, width=9, **_CHECK,
          aliases=("最终用户合同",)),
        C("chk_contract_si", "与二级SI签署合同", "SI contract", "bool", choices=LIST_YESNO, width=9, **_CHECK,
          aliases=("二级si合同", "与二级 si 签署合同")),
        C("chk_discount", "特殊折扣批准", "Discount approved", "bool", choices=LIST_YESNO, width=9, **_CHECK, aliases=("折扣批准",)),
        C("chk_partner_ready", "合作伙伴已准备好下订单", "Partner ready", "bool", choices=LIST_YESNO, width=9, **_CHECK,
          aliases=("合作伙伴就绪",)),
        C("realized", "已实现", "Realized", "bool", choices=LIST_YESNO, width=8, aliases=("已回款", "已实现订单"),
          help_zh="已下单的订单是否已实现(如已回款);未实现订单应低于 5%",
          help_en="Has the won order been realized (e.g. paid)? Unrealized orders should stay under 5%"),
        C("next_action", "下一步行动", "Next action", width=20, aliases=("下一步",)),
        C("last_update", "最后更新", "Last update", "date", width=12, aliases=("更新日期", "updated")),
    ),
    rows=200,
)

CHECKLIST: tuple[str, ...] = tuple(c.key for c in OPPORTUNITIES.columns if c.key.startswith("chk_"))


FORECAST = Table(
    "forecast", "Forecast", "预测", "Forecast",
    (
        C("month", "月份", "Month", "month", required=True, width=10, locked=True, aliases=("月", "期间")),
        C("forecast", "预测金额", "Forecast", "money", required=True, width=14, min=0, aliases=("预测",),
          help_zh="本月预计成交(含承诺)", help_en="Expected bookings this month (including commit)"),
        C("upside", "有望金额", "Upside", "money", width=14, min=0, aliases=("upside金额",)),
        C("note", "备注", "Note", width=24),
    ),
    rows=12, title_zh="12个月滚动预测", title_en="12-month rolling forecast",
)

WEEKLY = Table(
    "weekly", "WeeklyCommit", "预测", "Forecast",
    (
        C("week", "周(周一)", "Week of", "date", required=True, width=12, locked=True, aliases=("周", "week")),
        C("commit", "本周承诺", "Commit this week", "money", required=True, width=14, min=0, aliases=("承诺",)),
        C("upside", "本周有望", "Upside this week", "money", width=14, min=0, aliases=("本周upside",)),
        C("note", "说明", "Comment", width=24, aliases=("备注",)),
    ),
    rows=1, first_col=6, title_zh="本周承诺", title_en="This week's commit",
)

CUSTOMERS = Table(
    "customers", "Customers", "客户", "Customers",
    (
        C("customer", "客户名称", "Customer", required=True, width=24, aliases=("客户", "名称")),
        C("customer_class", "客户等级", "Class", "choice", required=True, choices=LIST_CLASS, width=9,
          aliases=("等级", "分类", "customer class"), help_zh="A 重点 / B 次要 / C 一般", help_en="A key / B secondary / C other"),
        C("industry", "行业", "Industry", width=12),
        C("size", "规模", "Size", width=10, aliases=("企业规模",)),
        C("location", "所在地区", "Location", width=12, aliases=("地区", "地址")),
        C("contact", "联系人", "Contact", width=12),
        C("phone", "联系电话", "Phone", width=14, aliases=("电话",)),
        C("needs", "需求与备注", "Needs and notes", width=26, aliases=("需求", "备注")),
    ),
    rows=150, min_match=2,
)

#: SPEC §7 daily report: attendance, one row per day of the week the workbook reports (the seven days before its
#: period, the week its done visits fall in); the days are written by the template and locked
ATTENDANCE = Table(
    "attendance", "Attendance", "出勤", "Attendance",
    (
        C("date", "日期", "Date", "date", required=True, width=12, locked=True, aliases=("出勤日期",)),
        C("weekday", "星期", "Weekday", width=8, locked=True, aliases=("周几",)),
        C("attendance", "出勤情况", "Attendance", "choice", required=True, choices=LIST_ATTENDANCE, width=12,
          aliases=("出勤", "考勤", "attendance status"),
          help_zh="每天选一项:在岗为出勤,外地为出差", help_en="One entry a day: Present at work, Business trip when away on business"),
        C("note", "备注", "Note", width=30, aliases=("说明",),
          help_zh="请假、缺勤的原因等", help_en="Why on leave or absent, and the like"),
    ),
    rows=7, title_zh="上周每日出勤:每天选一项", title_en="Last week's daily attendance: one entry a day", optional=True,
)

REP_TABLES: tuple[Table, ...] = (VISITS, OPPORTUNITIES, FORECAST, WEEKLY, CUSTOMERS, ATTENDANCE)
_REP_TABLE = {t.key: t for t in REP_TABLES}


def rep_table(key: str) -> Table:
    """The rep workbook's table ``key`` (``opportunities``, ``visits`` …)."""
    return _REP_TABLE[key]

# ---------------------------------------------------------------------------
# The manager's setup.

ROSTER = Table(
    "roster", "Roster", "名单", "Roster",
    (
        C("rep_id", "业务员编号", "Rep ID", required=True, width=12, aliases=("工号", "编号")),
        C("name", "姓名", "Name", required=True, width=10),
        C("team", "团队", "Team", required=True, width=12, aliases=("办事处",)),
        C("region", "大区", "Region", required=True, width=10),
        C("area", "区域", "Area", width=10, aliases=("片区",)),
        C("area_class", "区域等级", "Area class", "choice", choices=LIST_CLASS, width=9),
        C("manager", "主管", "Manager", width=10, aliases=("经理",)),
        C("active", "在职", "Active", "bool", choices=LIST_YESNO, width=7, aliases=("有效",)),
        C("share", "目标份额", "Target share", "number", width=10, min=0,
          help_zh="区域内分配目标的权重;空则平均", help_en="Weight of the area target; blank means equal"),
        C("ramp", "爬坡系数", "Ramp", "percent", width=9, min=0, max=1,
          help_zh="新人目标系数,如 50%", help_en="New-rep ramp factor, e.g. 50%"),
    ),
    rows=60,
)

STAGES = Table(
    "stages", "Stages", "阶段", "Stages",
    (
        C("zh", "阶段(中文)", "Stage (zh)", required=True, width=14),
        C("en", "阶段(英文)", "Stage (en)", required=True, width=14),
        C("probability", "概率", "Probability", "percent", required=True, width=9, min=0, max=1),
        C("phase", "阶段分组", "Phase", width=12),
        C("category", "默认类别", "Default category", "choice", choices=LIST_CATEGORY, width=12),
        C("open", "未结", "Open", "bool", choices=LIST_YESNO, width=7,
          help_zh="是:仍在跟进;否:已成交或丢单", help_en="Yes: still being worked; No: won or lost"),
    ),
    rows=20,
)

LISTS = Table(
    "lists", "Lists", "列表", "Lists",
    (
        C("list", "列表", "List", required=True, width=14),
        C("code", "代码", "Code", required=True, width=12),
        C("zh", "中文", "Chinese", required=True, width=14),
        C("en", "英文", "English", required=True, width=14),
    ),
    rows=60,
)

SETTINGS = Table(
    "settings", "Settings", "设置", "Settings",
    (
        C("key", "键", "Key", required=True, width=18),
        C("label", "说明", "Label", width=30),
        C("value", "值", "Value", required=True, width=22),
    ),
    rows=20,
)

THRESHOLDS = Table(
    "thresholds", "Thresholds", "阈值", "Thresholds",
    (
        C("key", "键", "Key", required=True, width=22),
        C("label", "说明", "Label", width=44),
        C("value", "值", "Value", "number", required=True, width=10),
    ),
    rows=30,
)

HOLIDAYS = Table(
    "holidays", "Holidays", "日历", "Calendar",
    (
        C("date", "日期", "Date", "date", required=True, width=12),
        C("name", "名称", "Name", width=16),
    ),
    rows=40,
)

TARGETS = Table(
    "targets", "Targets", "目标", "Targets",
    (
        C("kind", "目标类型", "Kind", "choice", required=True, choices=LIST_KIND, width=12),
        C("year", "年度", "Year", "int", required=True, width=8),
        C("plan", "计划目标", "Plan target", "number", required=True, width=16, min=0),
        C("raised", "调高目标", "Raised target", "number", width=16, min=0),
        C("unit", "取整单位", "Rounding unit", "number", width=10, min=0),
    ),
    rows=12,
)

REGION_WEIGHTS = Table(
    "region_weights", "RegionWeights", "大区权重", "RegionWeights",
    (
        C("region", "大区", "Region", required=True, width=10),
        C("weight", "权重", "Weight", "number", required=True, width=9, min=0),
    ),
    rows=12, title_zh="大区权重", title_en="Region weights",
)

CLASS_WEIGHTS = Table(
    "class_weights", "ClassWeights", "等级权重", "ClassWeights",
    (
        C("area_class", "区域等级", "Area class", "choice", required=True, choices=LIST_CLASS, width=9),
        C("weight", "权重", "Weight", "number", required=True, width=9, min=0),
    ),
    rows=3, title_zh="等级权重", title_en="Class weights",
)

AREA_WEIGHTS = Table(
    "area_weights", "AreaWeights", "区域", "Areas",
    (
        C("region", "大区", "Region", required=True, width=10),
        C("area", "区域", "Area", required=True, width=10),
        C("area_class", "区域等级", "Area class", "choice", required=True, choices=LIST_CLASS, width=9),
        C("weight", "权重", "Weight", "number", width=9, min=0),
    ),
    rows=40, title_zh="区域", title_en="Areas",
)

SEASONALITY = Table(
    "seasonality", "Seasonality", "季节指数", "Seasonality",
    (
        C("month", "月份(1-12)", "Month (1-12)", "int", required=True, width=9, min=1, max=12),
        C("index", "季节指数", "Season index", "number", required=True, width=10, min=0),
    ),
    rows=12, title_zh="旺淡季指数", title_en="Seasonality",
)

ADJUSTMENTS = Table(
    "adjustments", "Adjustments", "调整", "Adjustments",
    (
        C("level", "级别", "Level", "choice", required=True, choices=LIST_ADJ_LEVEL, width=9,
          help_zh="业务员或团队", help_en="Rep or team"),
        C("key", "业务员编号/团队", "Rep ID / team", required=True, width=14),
        C("region", "大区", "Region", width=10,
          help_zh="团队调整时填写团队所在大区(同名团队在多个大区时必填)",
          help_en="For a team: its region (needed when two regions have a team of that name)"),
        C("week", "周(周一)", "Week of", "date", required=True, width=12),
        C("commit", "调整后承诺", "Adjusted commit", "money", required=True, width=14, min=0),
        C("reason", "原因", "Reason", required=True, width=30),
        C("by", "调整人", "Adjusted by", required=True, width=10),
    ),
    rows=30,
)

ACTUALS = Table(
    "actuals", "Actuals", "实际", "Actuals",
    (
        C("rep_id", "业务员编号", "Rep ID", required=True, width=12, aliases=("工号", "销售员", "业务员")),
        C("month", "月份", "Month", "month", required=True, width=10, aliases=("期间", "月")),
        C("kind", "目标类型", "Kind", "choice", required=True, choices=LIST_KIND, width=12, aliases=("类型",)),
        C("amount", "实际金额", "Actual", "number", required=True, width=16, aliases=("金额", "实际", "amount")),
    ),
    rows=200, title_zh="财务实际数(可由 --actuals 从 ERP 导出文件读入)",
    title_en="Actuals from finance (or read from an ERP export with --actuals)",
)

PROPOSALS = Table(
    "proposals", "Proposals", "提议", "Proposals",
    (
        C("level", "层级", "Level", "choice", required=True, choices=LIST_PROP_LEVEL, width=9,
          help_zh="大区、区域、团队或业务员", help_en="Region, area, team or rep"),
        C("name", "名称/编号", "Name / rep ID", required=True, width=14),
        C("period", "期间", "Period", required=True, width=10,
          help_zh="年度如 2026,或月份如 2026-03", help_en="A year such as 2026, or a month such as 2026-03"),
        C("kind", "目标类型", "Kind", "choice", required=True, choices=LIST_KIND, width=12),
        C("basis", "口径", "Basis", "choice", choices=LIST_BASIS, width=10, help_zh="空=计划目标",
          help_en="Blank means the plan target"),
        C("target", "提议目标", "Proposed target", "number", required=True, width=16, min=0),
    ),
    rows=40, title_zh="自下而上:业务员或团队提议的目标(与自上而下分解对比)",
    title_en="Bottom-up: targets proposed by reps or teams (compared with the top-down split)",
)

SETUP_TABLES: tuple[Table, ...] = (
    SETTINGS, ROSTER, STAGES, LISTS, THRESHOLDS, HOLIDAYS, TARGETS,
    REGION_WEIGHTS, CLASS_WEIGHTS, AREA_WEIGHTS, SEASONALITY, ADJUSTMENTS, ACTUALS, PROPOSALS,
)


def sheet_names(tables: tuple[Table, ...], lang: Lang) -> list[str]:
    """Distinct sheet names of ``tables`` in order."""
    out: list[str] = []
    for t in tables:
        if t.sheet(lang) not in out:
            out.append(t.sheet(lang))
    return out


__all__ = [
    "CHECKLIST", "Column", "Field", "IDENTITY", "LANGS", "REP_TABLES", "SETUP_TABLES", "Table", "norm",
    "sheet_names", "field",
]
