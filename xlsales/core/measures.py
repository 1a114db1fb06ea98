"""Finance measures: the pure functions behind the Excel UDFs (no I/O, no Excel).

Every function checks its arguments and raises :class:`MeasureError` (a
``ValueError``) with a message in zh and en that the UDF wrappers show in the
cell.  Categories and stages are accepted by code, zh label or en label.

财务度量:Excel 自定义函数背后的纯函数;参数错误时抛出中英文说明。
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

from xlsales.core import defaults
from xlsales.core.money import cents
from xlsales.core.periods import EXCEL_DAY_ZERO
from xlsales.core.targets import seasonal as _seasonal
from xlsales.core.targets import split as _split

__all__ = [
    "CATEGORIES",
    "MeasureError",
    "attainment",
    "commit_total",
    "coverage",
    "growth",
    "number",
    "seasonal",
    "split",
    "stage_probability",
    "stage_table",
    "variance",
    "weighted",
]


class MeasureError(ValueError):
    """A bad argument; ``str(e)`` is ``"中文 / English"``."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


#: category label (code, zh or en, case-insensitive) → code
CATEGORIES: dict[str, str] = {
    label.strip().lower(): code for code, zh, en in defaults.LISTS["category"] for label in (code, zh, en)
}


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def number(v: object, what: str = "值 value", *, blank: float | None = None) -> float:
    """``v`` as a finite float; text like ``"1,200"`` or ``"90%"`` is accepted.

    >>> number("90%"), number(" 1,200 "), number(None, blank=0.0)
    (0.9, 1200.0, 0.0)
    """
    if _blank(v):
        if blank is not None:
            return blank
        raise MeasureError(f"{what.split(' ')[0]}为空", f"{_en(what)} is empty")
    if isinstance(v, bool):
        raise MeasureError(f"{what.split(' ')[0]}应为数字,不是逻辑值", f"{_en(what)} must be a number, not TRUE/FALSE")
    if isinstance(v, int | float):
        f = float(v)
    else:
        text = str(v).strip().replace(",", "").replace("¥", "").replace("，", "")
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1], 0.01
        try:
            f = float(text) * scale
        except ValueError:
            raise MeasureError(f"{what.split(' ')[0]}不是数字:{v!r}", f"{_en(what)} is not a number: {v!r}") from None
    if not math.isfinite(f):
        raise MeasureError(f"{what.split(' ')[0]}不是有限数", f"{_en(what)} is not finite")
    return f


def _en(what: str) -> str:
    return what.split(" ", 1)[1] if " " in what else what


# --- stages -------------------------------------------------------------------

def stage_table(names: Sequence[object] | None = None, probabilities: Sequence[object] | None = None,
                stages: Iterable[Mapping] | None = None) -> dict[str, float]:
    """{stage name (lower case) → probability} from given lists, a stage table, or the default ladder.

    ``stages`` are rows with ``zh``, ``en`` and ``probability`` (a setup's
    Stages table); both names are keys.

    >>> stage_table()["negotiated"], stage_table()["商务谈判完成"]
    (0.9, 0.9)
    >>> stage_table(["A", "B"], [0.1, "50%"])
    {'a': 0.1, 'b': 0.5}
    """
    if names is not None or probabilities is not None:
        names, probabilities = list(names or []), list(probabilities or [])
        if len(names) != len(probabilities):
            raise MeasureError(f"阶段名称 {len(names)} 个,概率 {len(probabilities)} 个,数量须一致",
                               f"{len(names)} stage names but {len(probabilities)} probabilities")
        table: dict[str, float] = {}
        for n, p in zip(names, probabilities, strict=True):
            if _blank(n):
                continue
            table[str(n).strip().lower()] = _probability(p)
        if not table:
            raise MeasureError("阶段表为空", "the stage table is empty")
        return table
    rows = list(stages) if stages is not None else defaults.STAGES
    out: dict[str, float] = {}
    for r in rows:
        p = _probability(r["probability"])
        for key in ("en", "zh"):
            if not _blank(r.get(key)):
                out[str(r[key]).strip().lower()] = p
    return out


def _probability(p: object) -> float:
    f = number(p, "概率 probability")
    if not 0 <= f <= 1:
        raise MeasureError(f"概率须在 0% 到 100% 之间,不是 {f:g}", f"probability must be 0%..100%, not {f:g}")
    return f


def stage_probability(stage: object, table: Mapping[str, float] | None = None) -> float:
    """The probability of ``stage`` (zh or en name, case-insensitive).

    >>> stage_probability("Won"), stage_probability("方案")
    (1.0, 0.6)
    """
    table = stage_table() if table is None else table
    if _blank(stage):
        raise MeasureError("阶段为空", "stage is empty")
    key = str(stage).strip().lower()
    if key not in table:
        raise MeasureError(f"未知阶段 {stage!r}", f"unknown stage {stage!r}")
    return table[key]


def weighted(amount: object, probability: object, table: Mapping[str, float] | None = None) -> float:
    """Amount × probability, rounded to the cent as the report's ``ROUND`` does; ``probability`` may be a stage name.

    >>> weighted(100_000, 0.25), weighted(100_000, "Negotiated"), weighted("1,000", "60%"), weighted(31.15, 0.7)
    (25000.0, 90000.0, 600.0, 21.81)
    """
    a = number(amount, "金额 amount")
    if isinstance(probability, str) and not _is_numberlike(probability):
        p = stage_probability(probability, table)
    else:
        p = _probability(probability)
    return cents(a * p)


def _is_numberlike(text: str) -> bool:
    try:
        number(text)
    except MeasureError:
        return False
    return True


# --- commit -------------------------------------------------------------------

def _category(v: object) -> str | None:
    if _blank(v):
        return None
    code = CATEGORIES.get(str(v).strip().lower())
    if code is None:
        raise MeasureError(f"未知预测类别 {v!r}", f"unknown forecast category {v!r}")
    return code


def _date(v: object, what: str) -> dt.date | None:
    if _blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):  # an Excel serial date
        return EXCEL_DAY_ZERO + dt.timedelta(days=int(v))
    try:
        return dt.date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        raise MeasureError(f"{what.split(' ')[0]}不是日期:{v!r}", f"{_en(what)} is not a date: {v!r}") from None


def commit_total(amounts: Sequence[object], categories: Sequence[object], close_dates: Sequence[object] | None = None,
                 start: object = None, end: object = None, include: object = "commit") -> float:
    """Σ amounts whose category is in ``include`` (default commit), optionally closing in [start, end].

    ``include`` is one category or several separated by ``,`` or ``+`` — e.g.
    ``"closed+commit"`` is the commit forecast.  Blank amounts count as 0;
    rows without a category are skipped.

    >>> commit_total([100, 200, 300], ["Commit", "承诺", "upside"])
    300.0
    >>> commit_total([100, 200], ["commit", "closed"], include="closed+commit")
    300.0
    >>> commit_total([100, 200], ["commit", "commit"], ["2026-11-03", "2026-12-20"], "2026-11-01", "2026-11-30")
    100.0
    """
    amounts, categories = list(amounts), list(categories)
    if len(amounts) != len(categories):
        raise MeasureError(f"金额 {len(amounts)} 个,类别 {len(categories)} 个,数量须一致",
                           f"{len(amounts)} amounts but {len(categories)} categories")
    dates = list(close_dates) if close_dates is not None else None
    if dates is not None and len(dates) != len(amounts):
        raise MeasureError(f"成交日期 {len(dates)} 个,金额 {len(amounts)} 个,数量须一致",
                           f"{len(dates)} close dates but {len(amounts)} amounts")
    lo, hi = _date(start, "开始日期 start date"), _date(end, "结束日期 end date")
    if (lo or hi) and dates is None:
        raise MeasureError("给了日期区间却没有成交日期", "a date window needs the close dates")
    if lo and hi and lo > hi:
        raise MeasureError(f"开始日期 {lo} 晚于结束日期 {hi}", f"start {lo} is after end {hi}")
    wanted = {_category(x) for x in str(include).replace("+", ",").split(",")} - {None}
    if not wanted:
        raise MeasureError("未指定类别", "no category to include")
    total = 0.0
    for i, (a, c) in enumerate(zip(amounts, categories, strict=True)):
        if _category(c) not in wanted:
            continue
        if dates is not None and (lo or hi):
            d = _date(dates[i], "成交日期 close date")
            if d is None or (lo and d < lo) or (hi and d > hi):
                continue
        total += number(a, "金额 amount", blank=0.0)
    return cents(total)


# --- ratios -------------------------------------------------------------------

def _ratio(num: object, den: object, num_what: str, den_what: str) -> float:
    n = number(num, num_what, blank=0.0)
    d = number(den, den_what)
    if d <= 0:
        raise MeasureError(f"{den_what.split(' ')[0]}须大于 0", f"{_en(den_what)} must be greater than 0")
    return n / d


def coverage(pipeline: object, target: object) -> float:
    """Pipeline / target (SPEC §5: healthy above 150%).

    >>> coverage(1_500_000, 1_000_000)
    1.5
    """
    return _ratio(pipeline, target, "商机管道 pipeline", "目标 target")


def attainment(actual: object, target: object) -> float:
    """Actual / target.

    >>> attainment(950, 1000)
    0.95
    """
    return _ratio(actual, target, "实际 actual", "目标 target")


def variance(actual: object, target: object) -> tuple[float, float]:
    """(actual − target, (actual − target) / target).

    >>> variance(1100, 1000)
    (100.0, 0.1)
    """
    a = number(actual, "实际 actual", blank=0.0)
    t = number(target, "目标 target")
    if t <= 0:
        raise MeasureError("目标须大于 0", "target must be greater than 0")
    diff = cents(a - t)
    return diff, diff / t


def growth(current: object, previous: object) -> float:
    """Period-over-period growth (SPEC §5: ≥ 10% good, ≥ 5% minimum).

    >>> growth(110, 100)
    0.1
    """
    c = number(current, "本期 current", blank=0.0)
    p = number(previous, "上期 previous")
    if p <= 0:
        raise MeasureError("上期须大于 0", "previous must be greater than 0")
    return round(c / p - 1, 12)


# --- splits -------------------------------------------------------------------

def _weights(weights: Sequence[object]) -> list[float]:
    ws = [number(w, "权重 weight", blank=0.0) for w in weights]
    if not ws:
        raise MeasureError("没有权重", "no weights")
    if any(w < 0 for w in ws):
        raise MeasureError("权重不能为负", "a weight is negative")
    if sum(ws) == 0:
        raise MeasureError("权重之和为 0", "weights sum to 0")
    return ws


def _unit(unit: object) -> float:
    u = number(unit, "取整单位 unit", blank=1.0)
    if u <= 0:
        raise MeasureError("取整单位须大于 0", "the unit must be greater than 0")
    return int(u) if float(u).is_integer() else u


def split(total: object, weights: Sequence[object], unit: object = 1) -> list:
    """Split ``total`` by ``weights`` exactly (largest remainder at ``unit``, see :func:`xlsales.core.targets.split`).

    >>> split(1_000_000, [50, 35, 15], 1000)
    [500000, 350000, 150000]
    """
    t = number(total, "总额 total")
    t2 = int(t) if t.is_integer() else t
    return _split(t2, _weights(weights), _unit(unit))


def seasonal(annual: object, indices: Sequence[object], unit: object = 1) -> list:
    """Split an annual target into 12 months by seasonality indices.

    >>> seasonal(1_200_000, [1] * 12, 1000)[:2]
    [100000, 100000]
    """
    if len(indices) != 12:
        raise MeasureError(f"需要 12 个月度指数,收到 {len(indices)} 个", f"need 12 monthly indices, got {len(indices)}")
    a = number(annual, "年度目标 annual target")
    return _seasonal(int(a) if a.is_integer() else a, _weights(indices), _unit(unit))
