"""The default setup a new manager workbook starts with (SPEC §2–§6).

Every number here is only a starting value: ``xlsales init`` writes these rows
into the manager workbook's setup sheets, and from then on the workbook is the
truth.  Rows are plain dicts keyed by the schema's column keys.
"""

from __future__ import annotations

import datetime as dt

# SPEC §2: the Cisco ladder. Codes are the English names.
STAGES: list[dict] = [
    {"zh": "线索", "en": "Lead", "probability": 0.0, "phase": "线索期 Intake", "category": "pipeline", "open": True},
    {"zh": "与客户会面", "en": "Met", "probability": 0.25, "phase": "销售 Selling", "category": "pipeline", "open": True},
    {"zh": "购买意向", "en": "Intent", "probability": 0.50, "phase": "销售 Selling", "category": "pipeline", "open": True},
    {"zh": "方案", "en": "Solution", "probability": 0.60, "phase": "销售 Selling", "category": "pipeline", "open": True},
    {"zh": "方案认可", "en": "Approved", "probability": 0.70, "phase": "销售 Selling", "category": "upside", "open": True},
    {"zh": "客户选择", "en": "Selected", "probability": 0.80, "phase": "销售 Selling", "category": "upside", "open": True},
    {"zh": "商务谈判完成", "en": "Negotiated", "probability": 0.90, "phase": "收尾 Closing", "category": "commit",
     "open": True},
    {"zh": "下订单", "en": "Won", "probability": 1.0, "phase": "收尾 Closing", "category": "closed", "open": False},
    {"zh": "丢单", "en": "Lost", "probability": 0.0, "phase": "关闭 Closed", "category": "lost", "open": False},
]

# Labels of earlier versions, still read as the same choice: 通路 reads as a sales channel in the mainland
# (now 管道, the pipeline), 导入 as importing (now 线索, a lead).  list → {old label: code}
LEGACY_LABELS: dict[str, dict[str, str]] = {
    "category": {"通路": "pipeline"},
    "stage": {"导入": "Lead"},
}

# list → [(code, zh, en)]
LISTS: dict[str, list[tuple[str, str, str]]] = {
    "category": [
        ("commit", "承诺", "Commit"),
        ("upside", "有望", "Upside"),
        ("pipeline", "管道", "Pipeline"),
        ("closed", "已成交", "Closed"),
        ("lost", "丢单", "Lost"),
    ],
    "purpose": [
        ("new_customer", "开发新客户", "New customer"),
        ("research", "市场调研", "Market research"),
        ("collection", "收款", "Collection"),
        ("service", "服务", "Service"),
        ("complaint", "客诉处理", "Complaint"),
        ("order", "订货", "Order taking"),
        ("other", "其他", "Other"),
    ],
    "attendance": [
        ("present", "出勤", "Present"),
        ("travel", "出差", "Business trip"),
        ("leave", "请假", "Leave"),
        ("rest", "休息", "Day off"),
        ("absent", "缺勤", "Absent"),
    ],
    "complaint_status": [
        ("open", "处理中", "Open"),
        ("resolved", "已解决", "Resolved"),
        ("escalated", "已升级", "Escalated"),
    ],
    "market_signal": [
        ("competitor_promotion", "竞品促销", "Competitor promotion"),
        ("new_product", "竞品新品", "Competitor new product"),
        ("dealer_complaint", "经销商投诉", "Dealer complaint"),
        ("personnel_change", "客户人事变动", "Customer personnel change"),
    ],
    "visit_status": [
        ("planned", "计划", "Planned"),
        ("done", "完成", "Done"),
        ("cancelled", "取消", "Cancelled"),
    ],
    "customer_class": [
        ("A", "A", "A"),
        ("B", "B", "B"),
        ("C", "C", "C"),
    ],
    "yesno": [
        ("yes", "是", "Yes"),
        ("no", "否", "No"),
    ],
    "adj_level": [
        ("rep", "业务员", "Rep"),
        ("team", "团队", "Team"),
    ],
    "prop_level": [
        ("region", "大区", "Region"),
        ("area", "区域", "Area"),
        ("team", "团队", "Team"),
        ("rep", "业务员", "Rep"),
    ],
    "target_basis": [
        ("plan", "计划目标", "Plan"),
        ("raised", "调高目标", "Raised"),
    ],
    "target_kind": [
        ("revenue", "销售额", "Revenue"),
        ("gross_margin", "毛利", "Gross margin"),
        ("new_customers", "新增客户", "New customers"),
        ("collections", "货款回收", "Collections"),
    ],
}

# SPEC §4–§5 and the validation limits; key → (value, zh label, en label)
THRESHOLDS: dict[str, tuple[float, str, str]] = {
    "commit_min_probability": (0.90, "承诺商机的最低概率", "Lowest probability of a commit deal"),
    "actual_vs_commit_low": (0.95, "上周实际/承诺 健康下限", "Last week actual / commit: healthy from"),
    "actual_vs_commit_high": (1.10, "上周实际/承诺 健康上限", "Last week actual / commit: healthy up to"),
    "commit_vs_booked_low": (0.95, "承诺/已成交 下限", "Commit / booked: from"),
    "commit_vs_booked_high": (1.00, "承诺/已成交 上限", "Commit / booked: up to"),
    "unrealized_max": (0.05, "未实现订单占比上限", "Unrealized orders: at most this share"),
    "submission_rate": (1.00, "12个月预测提交率要求", "12-month forecast submission required"),
    "forecast_months": (12, "滚动预测月数", "Months in the rolling forecast"),
    "mom_growth_min": (0.05, "环比增长最低", "Month-over-month growth: minimum"),
    "mom_growth_good": (0.10, "环比增长良好", "Month-over-month growth: good"),
    "coverage_min": (1.50, "商机管道/目标 覆盖率下限", "Pipeline / target coverage: at least"),
    "quality_probability": (0.50, "商机管道质量:概率不低于", "Pipeline quality: probability at least"),
    "max_amount": (1_000_000_000, "单笔金额上限(超出视为异常)", "Largest plausible single amount"),
}

# key → (value, zh label, en label)
SETTINGS: dict[str, tuple[str, str, str]] = {
    "company": ("示例公司", "公司名称", "Company"),
    "language": ("zh", "语言 zh/en", "Language zh/en"),
    "currency": ("¥", "货币符号", "Currency symbol"),
    "rounding_unit": ("1000", "目标取整单位(元)", "Target rounding unit (yuan)"),
    "fiscal_year_start": ("2026-01-01", "财年开始日期", "Fiscal year start"),
    "week_start": ("1", "每周第一天(1=周一)", "First day of week (1=Monday)"),
    "period": ("2026-11-23", "本期(周一日期)", "Current period (the Monday)"),
    "inbox": ("inbox", "收件箱文件夹", "Inbox folder"),
    "ledger": ("ledger.sqlite", "台账数据库", "Ledger database"),
    "reports": ("reports", "报告文件夹", "Reports folder"),
}

TARGETS: list[dict] = [
    {"kind": "revenue", "year": 2026, "plan": 120_000_000, "raised": 132_000_000, "unit": 1000},
    {"kind": "gross_margin", "year": 2026, "plan": 36_000_000, "raised": 39_600_000, "unit": 1000},
    {"kind": "new_customers", "year": 2026, "plan": 240, "raised": 264, "unit": 1},
    {"kind": "collections", "year": 2026, "plan": 110_000_000, "raised": 121_000_000, "unit": 1000},
    # next year's plan: the 12 forecast months reach into it
    {"kind": "revenue", "year": 2027, "plan": 138_000_000, "raised": 151_800_000, "unit": 1000},
    {"kind": "gross_margin", "year": 2027, "plan": 41_400_000, "raised": 45_540_000, "unit": 1000},
    {"kind": "new_customers", "year": 2027, "plan": 264, "raised": 290, "unit": 1},
    {"kind": "collections", "year": 2027, "plan": 126_500_000, "raised": 139_150_000, "unit": 1000},
]

CLASS_WEIGHTS: list[dict] = [
    {"area_class": "A", "weight": 50},
    {"area_class": "B", "weight": 35},
    {"area_class": "C", "weight": 15},
]

# Peak and off-season (旺淡季): Spring Festival slow, year-end rush.
SEASONALITY: list[dict] = [
    {"month": m, "index": i}
    for m, i in enumerate([0.70, 0.60, 0.95, 1.00, 1.00, 1.10, 0.90, 0.90, 1.05, 0.95, 1.15, 1.70], start=1)
]

HOLIDAYS: list[dict] = [
    {"date": dt.date(2026, 1, 1), "name": "元旦"},
    *({"date": dt.date(2026, 2, d), "name": "春节"} for d in range(16, 23)),
    {"date": dt.date(2026, 4, 6), "name": "清明节"},
    *({"date": dt.date(2026, 5, d), "name": "劳动节"} for d in range(1, 6)),
    {"date": dt.date(2026, 6, 19), "name": "端午节"},
    {"date": dt.date(2026, 9, 25), "name": "中秋节"},
    *({"date": dt.date(2026, 10, d), "name": "国庆节"} for d in range(1, 8)),
]

# The sample organisation: 3 regions, 4 teams, 12 reps.
_REPS = [
    ("R001", "张伟", "华东一组", "华东", "上海", "A", "李强"),
    ("R002", "王芳", "华东一组", "华东", "上海", "A", "李强"),
    ("R003", "李娜", "华东一组", "华东", "杭州", "B", "李强"),
    ("R004", "刘洋", "华东二组", "华东", "南京", "B", "陈静"),
    ("R005", "陈磊", "华东二组", "华东", "苏州", "C", "陈静"),
    ("R006", "杨敏", "华东二组", "华东", "杭州", "B", "陈静"),
    ("R007", "赵军", "华北组", "华北", "北京", "A", "周涛"),
    ("R008", "黄丽", "华北组", "华北", "北京", "A", "周涛"),
    ("R009", "周杰", "华北组", "华北", "天津", "C", "周涛"),
    ("R010", "吴静", "华南组", "华南", "广州", "A", "孙磊"),
    ("R011", "徐鹏", "华南组", "华南", "深圳", "A", "孙磊"),
    ("R012", "孙婷", "华南组", "华南", "东莞", "C", "孙磊"),
]

ROSTER: list[dict] = [
    {"rep_id": r, "name": n, "team": t, "region": g, "area": a, "area_class": c, "manager": m,
     "active": True, "share": None, "ramp": 0.5 if r == "R012" else 1.0}
    for r, n, t, g, a, c, m in _REPS
]

REGION_WEIGHTS: list[dict] = [
    {"region": "华东", "weight": 50},
    {"region": "华北", "weight": 28},
    {"region": "华南", "weight": 22},
]

AREA_WEIGHTS: list[dict] = [
    {"region": "华东", "area": "上海", "area_class": "A", "weight": 1},
    {"region": "华东", "area": "杭州", "area_class": "B", "weight": 1},
    {"region": "华东", "area": "南京", "area_class": "B", "weight": 1},
    {"region": "华东", "area": "苏州", "area_class": "C", "weight": 1},
    {"region": "华北", "area": "北京", "area_class": "A", "weight": 1},
    {"region": "华北", "area": "天津", "area_class": "C", "weight": 1},
    {"region": "华南", "area": "广州", "area_class": "A", "weight": 1},
    {"region": "华南", "area": "深圳", "area_class": "A", "weight": 1},
    {"region": "华南", "area": "东莞", "area_class": "C", "weight": 1},
]


ADJUSTMENTS: list[dict] = []
ACTUALS: list[dict] = []
PROPOSALS: list[dict] = []


def settings_rows() -> list[dict]:
    return [{"key": k, "label": f"{zh} {en}", "value": v} for k, (v, zh, en) in SETTINGS.items()]


def threshold_rows() -> list[dict]:
    return [{"key": k, "label": f"{zh} {en}", "value": v} for k, (v, zh, en) in THRESHOLDS.items()]


def list_rows() -> list[dict]:
    return [{"list": name, "code": c, "zh": zh, "en": en} for name, items in LISTS.items() for c, zh, en in items]
