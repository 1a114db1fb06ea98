"""Realistic synthetic rep data: the demo, the tests and the benchmarks all use it.

:func:`generate` makes, for every active rep, what a rep would type in a week —
customers, a deal list across all stages, visits, the 12-month forecast and the
weekly commit — as canonical values (list codes, dates, yuan).  With
``mistakes=True`` some reps make the errors real reps make, each recorded in
:attr:`RepFill.mistakes` so a test can check it is caught.  ``volume=REALISTIC``
makes each rep's workbook the size of a real one (150 deals, 250 visits) for the
benchmarks; the default :data:`DEMO` volume is a week's worth.

:func:`organisation` and :func:`demo_setup` make the organisation itself for
``xlsales demo --reps N``: up to 12 reps it is the sample organisation of
:mod:`xlsales.core.defaults` (its first N reps), beyond that a generated company of N
reps in teams of about eight, teams in cities (areas), cities in China's sales
regions, with the region and area weight tables to match.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsales.core import defaults, schema
from xlsales.core.periods import forecast_months
from xlsales.core.schema import CHECKLIST, Lang
from xlsales.core.setup import Setup, frame
from xlsales.io.aside import in_halves
from xlsales.report.templates import build_rep_workbook

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国志红梅琳雪婷宇浩然"
WORDS = ["华拓", "恒通", "鼎信", "瑞丰", "天成", "中联", "汇达", "金桥", "博远", "宏图", "新元", "安泰", "星辰",
         "润泽", "立方", "海纳", "凯盛", "云帆", "嘉禾", "正奇", "德润", "精诚", "领航", "永信"]
SUFFIX = [("科技有限公司", "IT"), ("制造有限公司", "制造"), ("贸易有限公司", "贸易"), ("医药集团", "医药"),
          ("物流股份公司", "物流"), ("电子有限公司", "电子"), ("建设集团", "建筑"), ("食品有限公司", "食品")]
# Beyond the small pool above (which the sample data draws from): brand = head + tail character.
HEADS = "华恒鼎瑞天中汇金博宏新安星润立海凯云嘉正德精领永盛东远信隆泰宇丰达通诚益和兴昌晟"
TAILS = "拓通信丰成联达桥远图元泰辰泽方纳盛帆禾奇润诚航科创源合邦力川峰腾威讯智锐康美光辉"
MORE_SUFFIX = SUFFIX + [("软件有限公司", "IT"), ("网络科技有限公司", "IT"), ("能源股份公司", "能源"),
                        ("化工有限公司", "化工"), ("商贸有限公司", "贸易"), ("生物科技有限公司", "医药"),
                        ("汽车零部件有限公司", "制造"), ("实业有限公司", "制造")]
PRODUCTS = ["网络交换机", "无线方案", "数据中心", "安全防火墙", "视频会议", "云服务", "运维服务", "存储阵列"]
SIZES = ["50人以下", "50-200人", "200-1000人", "1000人以上"]
RESULTS = ["确认需求,约下周演示", "客户预算已批", "递交方案", "收到意向书", "客户要求报价", "催收货款已到账",
           "处理投诉,客户满意", "完成培训", "了解竞品报价", "签订订单"]
COMPETITORS = ["", "", "竞品A降价10%", "竞品B推出新品", "竞品C在做促销", ""]
MARKET_SIGNALS = {("竞品C在做促销", "价格偏高"): "competitor_promotion", ("竞品B推出新品", "认可方案"): "new_product"}
ACTIONS = ["安排技术交流", "提交报价", "推动合同审批", "跟进付款", "邀请参观样板点", "确认配置清单"]

MISTAKES = (
    "commit_below_90",  # a commit deal at a 60% stage
    "commit_checklist",  # a commit deal with a checklist item 否
    "past_close",  # an open deal whose close date has passed
    "unknown_stage",  # a stage typed that is not on the list
    "wan_amount",  # an amount typed as 120万 (read correctly, with a warning)
    "visit_no_customer",  # a visit without a customer
    "negative_amount",  # an order amount of -5000
    "short_forecast",  # only 10 of the 12 forecast months filled
    "duplicate_opp",  # the same opportunity id as another rep
    "shared_customer",  # a customer that another rep also claims
    "upside_as_commit",  # an upside-stage (70%) deal marked commit
)


@dataclass
class RepFill:
    rep: dict
    data: dict[str, list[dict[str, Any]]]
    mistakes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Volume:
    """How much one rep has typed; ranges are inclusive ``(low, high)``."""

    customers: tuple[int, int] = (6, 12)
    deals: tuple[int, int] = (7, 14)
    visits_done: tuple[int, int] = (8, 14)
    visits_planned: tuple[int, int] = (2, 5)
    weeks: int = 1  # weeks of history that done visits and won deals spread over (1: this week only)


#: A week's worth per rep: the demo and the tests.
DEMO = Volume()
#: A real rep's workbook after a quarter: 150 deals, 250 visits (235 done over 12 weeks, 15 planned).
REALISTIC = Volume(customers=(50, 90), deals=(150, 150), visits_done=(235, 235), visits_planned=(15, 15), weeks=12)


def _name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))


def _customer_name(rnd: random.Random, area: str, used: set[str]) -> tuple[str, str]:
    """A customer name not in ``used`` and its industry; always returns.

    First the small pool the sample data has always drawn from (so the sample's
    names stay the same), then brand × suffix (about 25,000 names per area), and
    when even that is crowded a numbered branch, which is always new.
    """
    for _ in range(8):
        suffix, industry = rnd.choice(SUFFIX)
        name = f"{area}{rnd.choice(WORDS)}{suffix}"
        if name not in used:
            return name, industry
    for _ in range(32):
        suffix, industry = rnd.choice(MORE_SUFFIX)
        name = f"{area}{rnd.choice(HEADS)}{rnd.choice(TAILS)}{suffix}"
        if name not in used:
            return name, industry
    k = 1
    while f"{name}第{k}分公司" in used:
        k += 1
    return f"{name}第{k}分公司", industry


def _customers(rnd: random.Random, area: str, n: int, used: set[str]) -> list[dict]:
    out = []
    for _ in range(n):
        name, industry = _customer_name(rnd, area, used)
        used.add(name)
        out.append({"customer": name, "customer_class": rnd.choices("ABC", (2, 3, 5))[0], "industry": industry,
                    "size": rnd.choice(SIZES), "location": area, "contact": _name(rnd),
                    "phone": f"1{rnd.choice('3589')}{rnd.randrange(10**8, 10**9)}",
                    "needs": rnd.choice(["", "扩容", "替换旧设备", "新建分支机构", "降本"])})
    return out


def _deals(rnd: random.Random, rep_id: str, customers: list[dict], setup: Setup, period: dt.date,
           volume: Volume = DEMO) -> list[dict[str, Any]]:
    stages = list(setup.stages.itertuples())
    deals = []
    n = rnd.randint(*volume.deals)
    won_back = max(5, 7 * (volume.weeks - 1))
    for i in range(n):
        st = stages[i % len(stages)] if i < len(stages) else rnd.choice(stages)
        amount = float(rnd.randrange(50, 3000) * 1000)
        cat = st.category if isinstance(st.category, str) else "pipeline"
        if st.en == "Won":
            close = period - dt.timedelta(days=rnd.randrange(0, won_back))
        elif st.en == "Lost":
            close = period - dt.timedelta(days=rnd.randrange(1, max(60, 7 * volume.weeks)))
        elif cat == "commit":
            close = period + dt.timedelta(days=rnd.randrange(0, 10))
        elif cat == "upside":
            close = period + dt.timedelta(days=rnd.randrange(2, 60))
        else:
            close = period + dt.timedelta(days=rnd.randrange(7, 180))
        checks = {k: (cat == "commit" or rnd.random() < 0.4) for k in CHECKLIST}
        deals.append({
            "opp_id": f"{rep_id}-O{i + 1:03d}", "customer": rnd.choice(customers)["customer"],
            "product": rnd.choice(PRODUCTS), "amount": amount, "stage": st.en, "close_date": close,
            "category": cat, **checks, "next_action": rnd.choice(ACTIONS),
            **({"realized": rnd.random() < 0.7} if st.en == "Won" else {}),
            "last_update": period - dt.timedelta(days=rnd.randrange(0, 7)),
        })
    return deals


def _visits(rnd: random.Random, customers: list[dict], area: str, period: dt.date,
            volume: Volume = DEMO) -> list[dict]:
    out = []
    # the calendar of the Monday report: done visits last week, planned ones this week and next
    first, span = period - dt.timedelta(days=7), 6
    for _ in range(rnd.randint(*volume.visits_done)):
        purpose = rnd.choice(["new_customer", "research", "collection", "service", "complaint", "order", "other"])
        out.append({
            "date": first + dt.timedelta(days=rnd.randrange(0, span)), "customer": rnd.choice(customers)["customer"],
            "area": area, "status": "done" if rnd.random() < 0.9 else "cancelled", "purpose": purpose,
            "result": rnd.choice(RESULTS) if rnd.random() < 0.8 else "",
            "order_amount": float(rnd.randrange(10, 500) * 1000) if purpose == "order" else None,
            "collection_amount": float(rnd.randrange(10, 800) * 1000) if purpose == "collection" else None,
            "cost": float(rnd.randrange(50, 800)), "competitor": rnd.choice(COMPETITORS),
            "feedback": rnd.choice(["", "价格偏高", "交期要求紧", "认可方案"]), "next_step": rnd.choice(ACTIONS),
            "supervisor_comment": "",
        })
    for _ in range(rnd.randint(*volume.visits_planned)):
        out.append({"date": period + dt.timedelta(days=rnd.randrange(0, 12)),
                    "customer": rnd.choice(customers)["customer"], "area": area, "status": "planned",
                    "purpose": rnd.choice(["new_customer", "service", "order"]), "result": "", "order_amount": None,
                    "collection_amount": None, "cost": None, "competitor": "", "feedback": "", "next_step": "",
                    "supervisor_comment": ""})
    out.sort(key=lambda v: v["date"])
    for v in out:  # SPEC §7's daily report, derived from what was drawn (the random draws stay as they were)
        if v["status"] != "done":
            continue
        if v["purpose"] == "complaint":
            v["complaint_detail"] = v["feedback"] or "交货延迟"
            v["complaint_status"] = "resolved" if v.get("result") else "open"
        signal = MARKET_SIGNALS.get((v["competitor"], v["feedback"]))
        if signal:
            v["market_signal"] = signal
        if v["feedback"] == "交期要求紧":
            v["customer_news"] = "客户新厂下月投产"
        if v["date"] < period - dt.timedelta(days=2):
            v["signed_off"] = v["date"] + dt.timedelta(days=1)
    return [{k: v for k, v in row.items() if v not in (None, "")} for row in out]


def _attendance(n: int, visits: list[dict], period: dt.date) -> list[dict]:
    """Last week's attendance, derived without a random draw (the draws stay as they were): at work on every
    weekday and on a weekend day with a done visit, off at the weekend; every fourth rep took Wednesday off
    (unless they visited someone that day) and every fifth was away on business on Thursday."""
    visited = {v["date"] for v in visits if v.get("status") == "done"}
    out = []
    for i in range(7):
        d = period - dt.timedelta(days=7 - i)
        code = "present" if i < 5 or d in visited else "rest"
        if i == 2 and n % 4 == 3 and d not in visited:
            code = "leave"
        elif i == 3 and n % 5 == 4:
            code = "travel"
        out.append({"date": d, "attendance": code})
    return out


def generate(setup: Setup, seed: int = 7, reps: int | None = None, mistakes: bool = True,
             volume: Volume = DEMO) -> list[RepFill]:
    """Synthetic fills for the first ``reps`` active reps (all when None).

    ``volume``: how much each rep has typed — :data:`DEMO` (a week) or
    :data:`REALISTIC` (150 deals and 250 visits per rep).  Customer names are
    unique across all reps before the mistakes (one of which shares a customer).
    """
    rnd = random.Random(seed)
    period = setup.period
    roster = setup.rows("roster")
    active = [r for r in roster if r.get("active") in (True, None)]
    if reps is not None:
        active = active[:reps]
    used: set[str] = set()
    fills: list[RepFill] = []
    for rep in active:
        area = rep.get("area") or rep.get("region") or "上海"
        customers = _customers(rnd, str(area), rnd.randint(*volume.customers), used)
        deals = _deals(rnd, rep["rep_id"], customers, setup, period, volume)
        scale = rnd.uniform(0.6, 1.6)
        forecast: list[dict[str, Any]] = [{"month": m, "forecast": float(round(scale * rnd.uniform(400, 1200)) * 1000),
                     "upside": float(round(scale * rnd.uniform(50, 400)) * 1000)}
                    for m in forecast_months(period, int(setup.threshold("forecast_months")))]
        # a rep's forecast of this month is never below what they have already booked in it
        booked = sum(d["amount"] for d in deals if d["category"] == "closed"
                     and (d["close_date"].year, d["close_date"].month) == (period.year, period.month))
        forecast[0]["forecast"] = max(forecast[0]["forecast"], float(-(-booked // 1000) * 1000))
        week_end = period + dt.timedelta(days=7)
        commit = sum(d["amount"] for d in deals if d["category"] == "commit" and period <= d["close_date"] < week_end)
        upside = sum(d["amount"] for d in deals if d["category"] == "upside"
                     and period <= d["close_date"] < period + dt.timedelta(days=21))
        data = {"customers": customers, "opportunities": deals,
                "visits": _visits(rnd, customers, str(area), period, volume),
                "forecast": forecast, "weekly": [{"commit": float(commit), "upside": float(upside)}]}
        data["attendance"] = _attendance(len(fills), data["visits"], period)
        fills.append(RepFill(rep, data))
    if mistakes:
        _add_mistakes(rnd, fills, period)
    return fills


def _add_mistakes(rnd: random.Random, fills: list[RepFill], period: dt.date) -> None:
    """Give the mistakes of :data:`MISTAKES` to reps in turn (skipping the first rep, who is clean)."""
    if len(fills) < 2:
        return
    for i, kind in enumerate(MISTAKES):
        f = fills[1 + i % min(5, len(fills) - 1)]
        other = fills[(fills.index(f) + 1) % len(fills)]
        deals = f.data["opportunities"]
        open_deals = [d for d in deals if d["stage"] not in ("Won", "Lost")]
        d: dict[str, Any] | None
        if kind == "commit_below_90" and open_deals:
            d = open_deals[0]
            d.update(stage="Solution", category="commit")
        elif kind == "commit_checklist":
            d = next((x for x in deals if x["category"] == "commit"), None)
            if d is None:
                continue
            d["chk_discount"] = False
        elif kind == "past_close" and len(open_deals) > 1:
            open_deals[1]["close_date"] = period - dt.timedelta(days=20)
        elif kind == "unknown_stage" and len(open_deals) > 2:
            open_deals[2]["stage"] = "签约中"
        elif kind == "wan_amount" and deals:
            deals[-1]["amount"] = "120万"
        elif kind == "visit_no_customer" and f.data["visits"]:
            f.data["visits"][0].pop("customer", None)
        elif kind == "negative_amount" and f.data["visits"]:
            f.data["visits"][-1]["order_amount"] = -5000.0
        elif kind == "short_forecast":
            f.data["forecast"] = f.data["forecast"][:10]
        elif kind == "duplicate_opp" and deals and other.data["opportunities"]:
            deals[0]["opp_id"] = other.data["opportunities"][0]["opp_id"]
        elif kind == "shared_customer" and f.data["customers"] and other.data["customers"]:
            f.data["customers"][0] = dict(other.data["customers"][0])
        elif kind == "upside_as_commit":
            d = next((x for x in open_deals if x["stage"] == "Approved"), None)
            if d is None:
                continue
            d["category"] = "commit"
        else:
            continue
        f.mistakes.append(kind)


def write_fills(setup: Setup, fills: list[RepFill], folder: Path, lang: Lang = "zh",
                submitted: bool = False) -> list[Path]:
    """Write each fill as ``folder/<rep id>.xlsx`` through the real template builder.

    ``submitted``: date the files as reps really send them — Sunday evening before
    the period's Monday, the last rep late on Monday morning after the 09:00 call.
    """
    paths = in_halves([functools.partial(build_rep_workbook, Path(folder) / f"{f.rep['rep_id']}.xlsx", setup, f.rep,
                                         lang, f.data) for f in fills])
    for i, p in enumerate(paths if submitted else []):
        late = i == len(fills) - 1 and len(fills) > 2
        at = dt.datetime.combine(setup.period, dt.time(10, 30)) if late else \
            dt.datetime.combine(setup.period - dt.timedelta(days=1), dt.time(19, 0)) + dt.timedelta(minutes=7 * i)
        os.utime(p, (at.timestamp(), at.timestamp()))
    return paths


# --- the organisation ------------------------------------------------------------

#: ``xlsales demo --reps N`` accepts 1 ≤ N ≤ MAX_REPS.
MAX_REPS = 5000
TEAM_SIZE = 8  # reps per team in a generated organisation (teams differ by at most one)

# China's sales regions and their cities (areas), most important first; the letter is the area class.
CITIES: dict[str, str] = {
    "华东": "上海A 杭州A 南京A 苏州A 宁波B 无锡B 合肥B 济南B 青岛B 福州B 厦门B 温州C 常州C 南通C 徐州C "
            "绍兴C 嘉兴C 台州C 金华C 烟台C 潍坊C 泉州C 扬州C 芜湖C 临沂C",
    "华北": "北京A 天津A 石家庄B 太原B 呼和浩特B 唐山C 保定C 廊坊C 邯郸C 大同C 包头C 沧州C",
    "华南": "广州A 深圳A 东莞B 佛山B 南宁B 海口B 珠海C 中山C 惠州C 汕头C 江门C 柳州C 桂林C 三亚C",
    "华中": "武汉A 长沙A 郑州A 南昌B 宜昌C 襄阳C 株洲C 洛阳C 岳阳C 赣州C 常德C 南阳C",
    "西南": "成都A 重庆A 昆明B 贵阳B 绵阳C 遵义C 宜宾C 南充C 曲靖C 拉萨C",
    "西北": "西安A 兰州B 乌鲁木齐B 银川B 西宁B 宝鸡C 咸阳C 榆林C",
    "东北": "沈阳A 大连A 哈尔滨B 长春B 吉林C 鞍山C 大庆C 齐齐哈尔C",
}

_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九; 100 and above stay Arabic."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def _areas_in_order() -> list[tuple[str, str, str]]:
    """(region, city, class) taking the regions in turn, so a small company still spans a few regions."""
    lists = [[(region, c[:-1], c[-1]) for c in cities.split()] for region, cities in CITIES.items()]
    out: list[tuple[str, str, str]] = []
    for i in range(max(len(x) for x in lists)):
        out.extend(x[i] for x in lists if i < len(x))
    return out


def _unique_names(rnd: random.Random, n: int) -> list[str]:
    """``n`` distinct Chinese names (surname + one or two given characters), drawn without replacement."""
    one, two = len(GIVEN), len(GIVEN) ** 2
    per_surname = one + two
    space = len(SURNAMES) * per_surname
    if n > space:
        raise ValueError(f"at most {space} distinct names")
    out = []
    for k in rnd.sample(range(space), n):
        s, g = divmod(k, per_surname)
        given = GIVEN[g] if g < one else GIVEN[(g - one) // len(GIVEN)] + GIVEN[(g - one) % len(GIVEN)]
        out.append(SURNAMES[s] + given)
    return out


@dataclass
class Organisation:
    """A roster and the region and area weight tables that match it (rows keyed like the setup tables)."""

    roster: list[dict]
    region_weights: list[dict]
    area_weights: list[dict]

    @property
    def teams(self) -> list[str]:
        return list(dict.fromkeys(r["team"] for r in self.roster))


def check_reps(n: object) -> int:
    """``n`` as a rep count, or ValueError with a zh/en message when it is not 1 … :data:`MAX_REPS`."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_REPS:
        raise ValueError(f"业务员人数 --reps 应在 1 到 {MAX_REPS:,} 之间,收到 {n}。\n"
                         f"  --reps, the number of reps, must be from 1 to {MAX_REPS:,}; got {n}.")
    return n


def organisation(n: int, seed: int = 7) -> Organisation:
    """An organisation of ``n`` active reps (1 ≤ n ≤ :data:`MAX_REPS`).

    Up to 12 reps: the first ``n`` reps of the sample organisation, with the
    sample's weights for the regions and areas they work in (12 gives exactly
    the sample).  Beyond: ``ceil(n / 8)`` teams, about two teams per city until
    every city in :data:`CITIES` is used, cities taken region by region in turn.
    Team names are the city plus a number (上海一组, 上海二组; 上海组 when the city
    has one team), so they are unique across the company.  Rep ids are
    R001 … (four digits from 1,000 reps), names are distinct, about one rep in
    twelve is a new hire at 50% ramp.  Region weight = reps in the region; area
    weight = reps in the area.  Deterministic for a given ``n`` and ``seed``.
    """
    n = check_reps(n)
    if n <= len(defaults.ROSTER):
        roster = [dict(r) for r in defaults.ROSTER[:n]]
        regions = {r["region"] for r in roster}
        areas = {(r["region"], r["area"]) for r in roster}
        return Organisation(roster,
                            [dict(w) for w in defaults.REGION_WEIGHTS if w["region"] in regions],
                            [dict(w) for w in defaults.AREA_WEIGHTS if (w["region"], w["area"]) in areas])
    rnd = random.Random(f"xlsales-org-{seed}")
    n_teams = -(-n // TEAM_SIZE)
    places = _areas_in_order()
    places = places[:min(len(places), -(-n_teams // 2))]
    # Teams are dealt to the places in turn, then listed place by place; team sizes differ by at most one.
    per_place = [len(range(p, n_teams, len(places))) for p in range(len(places))]
    teams = [(p, k) for p in range(len(places)) for k in range(1, per_place[p] + 1)]
    names = _unique_names(rnd, n + n_teams)
    leads, rep_names = names[:n_teams], names[n_teams:]
    width = max(3, len(str(n)))
    base, extra = divmod(n, n_teams)
    roster = []
    for t, (p, k) in enumerate(teams):
        region, city, cls = places[p]
        team = f"{city}{zh_number(k) if per_place[p] > 1 else ''}组"
        for _ in range(base + (t < extra)):
            i = len(roster)
            roster.append({"rep_id": f"R{i + 1:0{width}d}", "name": rep_names[i], "team": team,
                           "region": region, "area": city, "area_class": cls, "manager": leads[t],
                           "active": True, "share": None, "ramp": 0.5 if rnd.random() < 1 / 12 else 1.0})
    reps_in: dict[tuple[str, str], int] = {}
    for r in roster:
        reps_in[(r["region"], r["area"])] = reps_in.get((r["region"], r["area"]), 0) + 1
    region_weights: dict[str, int] = {}
    for (region, _), k in reps_in.items():
        region_weights[region] = region_weights.get(region, 0) + k
    return Organisation(
        roster,
        [{"region": g, "weight": w} for g, w in region_weights.items()],
        [{"region": g, "area": a, "area_class": c, "weight": reps_in[(g, a)]} for g, a, c in places],
    )


def demo_setup(reps: int, period: dt.date | None = None, seed: int = 7) -> Setup:
    """The default setup with the organisation of ``reps`` reps (roster, region and area weights)."""
    org = organisation(reps, seed)
    setup = Setup.default(org.roster, period)
    setup.tables["region_weights"] = frame(schema.REGION_WEIGHTS, org.region_weights)
    setup.tables["area_weights"] = frame(schema.AREA_WEIGHTS, org.area_weights)
    return setup
