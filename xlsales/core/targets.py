"""Target decomposition 目标分解: annual → region → A/B/C area → month → week/day → rep, exact to the unit.

Pure: no I/O.  Every split is :func:`split`'s largest-remainder rounding done in
exact rational arithmetic (:class:`fractions.Fraction`), so at every level the
children add up *exactly* to their parent and rounding never creates or loses
money.

The path (:func:`decompose`), per target kind and basis (plan / raised):

1. **company** — the Targets row of the fiscal year (``period`` ``"2026"``).
2. **region** — by RegionWeights; if that table has no weights, by last year's
   actuals (:func:`weights_from_actuals`) when given, else equally.
3. **area** — the region's target is split over the area classes A/B/C present
   in the region by ClassWeights (classes with no area in the region drop out,
   so the others are scaled up), then each class's part over its areas by the
   AreaWeights weight (all blank: equally; some blank: the blanks take the mean
   of the given ones).  A region with no AreaWeights row is one area named like
   the region.
4. **month** — each area's annual target over the 12 fiscal months by the
   Seasonality index of each calendar month (or :func:`season_from_actuals`).
5. **day** — each area-month over its working days: Monday–Friday, not a
   setup holiday (a month without one falls back to its calendar days).
6. **week** — the sum of an area's days in each ISO week (``"2026-W10"``); a
   week crossing a month boundary carries days of both months, so weeks add up
   to the year, not to each month.
7. **rep** — each area-month over the area's active reps by ``share`` (blank = 1);
   a ramping rep (``ramp`` below 100%, blank = 100%) gets ``ramp`` × their share,
   and what that leaves goes to the area's fully ramped reps by their shares —
   or, when the area has none, stays :data:`UNASSIGNED` with a warning.  A new
   rep alone in an area at 50% ramp carries half the area; the other half is
   reported as unassigned.  Each month is its own split, but a
   tie goes to the rep furthest behind their exact share so far in the year, so
   equal reps take turns instead of the first one always getting the extra unit.
   An area with no rep keeps its target under the rep :data:`UNASSIGNED`, so the
   rep level still adds up.

Days: ties go to the earlier working day, so a month's extra units sit at its start.

Weights are shared by all kinds (the setup has one set); actuals passed to
:func:`decompose` may carry a ``kind`` column and then weight each kind apart.
Setup problems become :class:`~xlsales.core.issues.Issue` records naming the cell,
and a fallback (stated in the message) keeps every level exact.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd

from xlsales.core import schema
from xlsales.core.issues import Issue, define, make
from xlsales.core.setup import Setup

KINDS: tuple[str, ...] = ("revenue", "gross_margin", "new_customers", "collections")
LEVELS: tuple[str, ...] = ("company", "region", "area", "month", "week", "day", "rep")
BASES: tuple[str, ...] = ("plan", "raised")
COLUMNS: tuple[str, ...] = ("kind", "basis", "level", "region", "area", "rep", "period", "target")
UNASSIGNED = "(未分配)"

Number = int | float | Fraction | Decimal

define("target_weights_zero", "error",
       "「{table}」中{group}的权重合计为 0,无法分解。请至少填一个大于 0 的权重;暂按平均分配。",
       "The weights of {group} in '{table}' add up to 0, so nothing can be split. "
       "Enter at least one weight above 0; split equally meanwhile.")
define("target_negative", "error",
       "「{column}」不能为负数({value})。请改为 0 或正数;暂按 0 计算。",
       "'{column}' cannot be negative ({value}). Enter 0 or a positive number; counted as 0 meanwhile.")
define("target_not_number", "error",
       "「{column}」应为数字,实际为「{value}」。请输入数字;暂按 {fallback} 计算。",
       "'{column}' must be a number, found '{value}'. Enter a number; counted as {fallback} meanwhile.")
define("target_rep_no_area", "error",
       "业务员 {rep} 的区域「{value}」不在大区「{region}」的区域表(分解权重)中。请在区域表中添加该区域,"
       "或改正名单中的区域;该业务员暂不分配目标。",
       "Rep {rep}'s area '{value}' is not among region '{region}''s areas (Weights sheet). Add the area there "
       "or correct the roster; the rep gets no target meanwhile.")
define("target_region_no_weight", "error",
       "大区「{value}」有区域或业务员,但大区权重表中没有它的权重。请在大区权重表中添加一行;暂按其他大区的平均权重计算。",
       "Region '{value}' has areas or reps but no row in the region weights. Add one; "
       "it gets the mean of the other regions' weights meanwhile.")
define("target_season_months", "error",
       "旺淡季指数应为 1–12 月各一行,{found}。请补齐或删除多余的行;暂按各月平均分配。",
       "Seasonality needs exactly one row per month 1–12; {found_en}. Fix the rows; months split equally meanwhile.")
define("target_class_no_weight", "error",
       "区域等级「{value}」在等级权重表中没有权重。请在等级权重表中添加该等级;暂按 0 计算。",
       "Area class '{value}' has no row in the class weights. Add it; counted as 0 meanwhile.")
define("target_area_no_rep", "warning",
       "区域「{value}」(大区 {region})没有在职业务员,其目标记在「" + UNASSIGNED + "」名下。请在名单中指定业务员。",
       "Area '{value}' (region {region}) has no active rep; its target is held under '" + UNASSIGNED + "'. "
       "Assign a rep in the roster.")
define("target_region_no_area", "warning",
       "大区「{value}」在区域表中没有区域,整个大区按一个区域分解。请在区域表中添加它的区域。",
       "Region '{value}' has no rows in the area table, so the whole region is split as one area. Add its areas.")
define("target_no_weights", "warning",
       "{table}为空,暂按{how_zh}分配。请填写{table}。",
       "{table_en} is empty; split {how_en} meanwhile. Fill in the table.")
define("target_no_workdays", "warning",
       "{value} 没有工作日(全为周末或假日),该月目标按日历天分配。请检查日历表。",
       "{value} has no working day (all weekends or holidays); its target is spread over calendar days. "
       "Check the calendar.")
define("target_missing", "warning",
       "目标表中没有「{kind}」{year} 年的目标。请添加一行。",
       "The Targets table has no {kind} target for {year}. Add a row.")
define("target_no_regions", "error",
       "没有任何大区:大区权重表、区域表和名单都为空,目标无法分解。请填写大区权重和区域。",
       "There is no region: the region weights, the areas and the roster are all empty, so nothing can be "
       "decomposed. Fill in the region weights and the areas.")
define("target_ramp_unassigned", "warning",
       "区域「{value}」(大区 {region})的业务员都在爬坡期,{share} 的区域目标没有人承担,记在「" + UNASSIGNED + "」名下。"
       "请为该区域指定一名满额业务员,或调整爬坡系数。",
       "Every rep of area '{value}' (region {region}) is ramping, so {share} of the area's target has no owner and "
       "is held under '" + UNASSIGNED + "'. Give the area a fully ramped rep or change the ramp factors.")
define("target_bad_unit", "error",
       "「{column}」应为大于 0 的数字,实际为「{value}」。请改正;暂按 {fallback} 取整。",
       "'{column}' must be a number above 0, found '{value}'. Fix it; rounding to {fallback} meanwhile.")


# ---------------------------------------------------------------------------
# Exact splitting.

def to_fraction(x: object) -> Fraction:
    """An exact rational for a number; floats are read by their shortest decimal form.

    >>> to_fraction(0.1), to_fraction(Decimal("2.50")), to_fraction(3)
    (Fraction(1, 10), Fraction(5, 2), Fraction(3, 1))
    """
    if isinstance(x, bool):
        raise TypeError(f"not a number: {x!r}")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Integral):
        return Fraction(int(x))
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise ValueError(f"not a finite number: {x!r}")
        return Fraction(x)
    if isinstance(x, numbers.Real):
        f = float(x)
        if not math.isfinite(f):
            raise ValueError(f"not a finite number: {x!r}")
        return Fraction(repr(f))
    if isinstance(x, str):
        try:
            return to_fraction(float(x)) if "e" in x.lower() else Fraction(x.strip().replace(",", ""))
        except (ValueError, ZeroDivisionError) as e:
            raise ValueError(f"not a number: {x!r}") from e
    raise TypeError(f"not a number: {x!r}")


def _allocate(total: Fraction, weights: Sequence[Fraction], unit: Fraction,
              carry: Sequence[Fraction] | None = None) -> list[Fraction]:
    """Largest remainder of ``total`` by ``weights`` at ``unit`` (weights ≥ 0, Σ > 0, unit > 0).

    In units: each part gets the floor of its exact share; the whole units left
    go one each to the parts with the largest fractional remainder; a sub-unit
    remainder (total not a multiple of the unit) goes to the next part in that
    order.  Ties: larger remainder, then smaller ``carry`` (how far a part is
    already ahead of its exact share), then larger weight, then earlier position.
    Zero-weight parts always get exactly 0.
    """
    if total < 0:
        back = None if carry is None else [-c for c in carry]
        return [-p for p in _allocate(-total, weights, unit, back)]
    # Exact in integers: over a common denominator the weights are W_i, and part i's exact share in units
    # is units.num × W_i / (units.den × ΣW) — its floor and remainder are one divmod.
    common = math.lcm(*(w.denominator for w in weights))
    ws = [w.numerator * (common // w.denominator) for w in weights]
    units = total / unit
    den = units.denominator * sum(ws)
    floors, rems = zip(*(divmod(units.numerator * w, den) for w in ws), strict=True)
    whole = math.floor(units)
    rest = units - whole
    whole -= sum(floors)
    keys = carry if carry is not None else [0] * len(ws)
    order = sorted((i for i, w in enumerate(ws) if w > 0), key=lambda i: (-rems[i], keys[i], -ws[i], i))
    parts: list = list(floors)
    for i in order[:whole]:
        parts[i] += 1
    if rest:
        parts[order[whole]] += rest
    scale: Fraction | int = unit.numerator if unit.denominator == 1 else unit  # whole units stay int: fast
    return [scale * p for p in parts]


def _checked(total: object, weights: Iterable[object], unit: object) -> tuple[Fraction, list[Fraction], Fraction]:
    t, u = to_fraction(total), to_fraction(unit)
    ws = [to_fraction(w) for w in weights]
    if u <= 0:
        raise ValueError(f"the unit must be above 0, got {unit!r}")
    if not ws:
        raise ValueError("no weights to split over")
    if any(w < 0 for w in ws):
        raise ValueError(f"weights cannot be negative: {[str(w) for w in ws if w < 0]}")
    if sum(ws) == 0:
        raise ValueError("the weights add up to 0; give at least one weight above 0")
    return t, ws, u


def _shape(parts: list[Fraction], *like: object) -> list:
    if any(isinstance(x, Fraction) for x in like):
        return parts
    if any(isinstance(x, Decimal) for x in like):
        return [Decimal(p.numerator) / Decimal(p.denominator) for p in parts]
    return [int(p) if p.denominator == 1 else float(p) for p in parts]


def split(total: Number, weights: Iterable[Number], unit: Number = 1) -> list:
    """Split ``total`` by ``weights`` into parts that add up exactly to ``total``.

    Largest-remainder rounding at ``unit``: every part is a multiple of ``unit``
    and differs from its exact share ``total × w / Σw`` by less than one unit.
    Ties in the remainder go to the larger weight, then to the earlier position,
    so the same input always gives the same parts.  If ``total`` is not a
    multiple of ``unit``, the sub-unit remainder goes whole to the one part next
    in line for a unit (the only part that is then not a multiple of ``unit``).
    Zero weights get exactly 0.  Arithmetic is exact (:class:`~fractions.Fraction`);
    the result is ``int`` where whole and ``float`` otherwise, or ``Decimal`` /
    ``Fraction`` when ``total`` or ``unit`` is one.

    Raises ``ValueError`` for no weights, a negative weight, weights adding up
    to 0, or a unit ≤ 0.

    >>> split(1_000_000, [50, 35, 15], 1000)
    [500000, 350000, 150000]
    >>> split(100, [1, 1, 1])
    [34, 33, 33]
    >>> split(1_234_567, [1, 1], 1000)
    [617567, 617000]
    """
    t, ws, u = _checked(total, weights, unit)
    return _shape(_allocate(t, ws, u), total, unit)


def seasonal(annual: Number, indices: Sequence[Number], unit: Number = 1) -> list:
    """Split an annual target into 12 months by seasonality indices (exactly, see :func:`split`).

    >>> seasonal(1_200_000, [0.5, 0.5] + [1] * 9 + [2], 1000)[:3]
    [50000, 50000, 100000]
    """
    if len(indices) != 12:
        raise ValueError(f"need 12 monthly indices, got {len(indices)}")
    return split(annual, indices, unit)


def weights_from_actuals(df: pd.DataFrame, by: str = "region", value: str = "amount") -> dict[str, float]:
    """Each group's share of last year's actuals as weights (sums per ``by``, negatives as 0).

    >>> weights_from_actuals(pd.DataFrame({"region": ["E", "W", "E"], "amount": [60, 30, 10]}))
    {'E': 70.0, 'W': 30.0}
    """
    if df.empty:
        return {}
    vals = pd.to_numeric(df[value], errors="coerce").fillna(0.0)
    sums = vals.groupby(df[by].astype(str), sort=False).sum()
    return {str(k): max(float(v), 0.0) for k, v in sums.items()}


def season_from_actuals(df: pd.DataFrame, date: str = "date", value: str = "amount") -> list[float]:
    """Seasonality indices (mean 1) from last year's monthly actuals; ``date`` may be a date or a month 1–12.

    >>> season_from_actuals(pd.DataFrame({"date": list(range(1, 13)), "amount": [1] * 11 + [2]}))[-1]
    1.8461538461538463
    """
    months = df[date].map(lambda d: d if isinstance(d, numbers.Integral) else pd.Timestamp(d).month)
    vals = pd.to_numeric(df[value], errors="coerce").fillna(0.0).clip(lower=0)
    sums = vals.groupby(months).sum()
    per = [float(sums.get(m, 0.0)) for m in range(1, 13)]
    total = sum(per)
    if total <= 0:
        raise ValueError("the actuals add up to 0; no seasonality can be derived")
    return [12 * p / total for p in per]


# ---------------------------------------------------------------------------
# Reading and checking the setup.

@dataclass
class _Area:
    region: str
    name: str
    area_class: str
    weight: Fraction | None
    row: int | None  # AreaWeights row, None for a region's stand-in area
    reps: list[tuple[str, Fraction, Fraction]] = field(default_factory=list)  # (rep, share, ramp)


@dataclass
class _Plan:
    regions: list[str]
    region_weights: dict[str, Fraction] | None  # None: none given
    class_weights: dict[str, Fraction] | None
    areas: dict[str, list[_Area]]
    season: list[Fraction] | None  # by calendar month 1–12; None: none given
    holidays: set[dt.date]


class _Checker:
    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.issues: list[Issue] = []

    def at(self, tbl: str, i: int | None, col: str, rule: str, value: object = "", /, **p: Any) -> None:
        f, s, c = self.setup.where(tbl, i, col) if i is not None else ("", "", "")
        self.issues.append(make(rule, f, s, c, value, **p))

    def number(self, table: str, i: int, col: str, v: object, fallback: Fraction | None = Fraction(0),
               negative_ok: bool = False) -> Fraction | None:
        """A cell's value as a Fraction; blank → None; bad or negative → an issue and ``fallback``."""
        if _blank(v):
            return None
        label = _label(table, col)
        try:
            x = to_fraction(v)
        except (TypeError, ValueError):
            self.at(table, i, col, "target_not_number", v, column=label, fallback=_show(fallback))
            return fallback
        if x < 0 and not negative_ok:
            self.at(table, i, col, "target_negative", _show(x), column=label)
            return Fraction(0)
        return x


def to_fraction_or_none(v: object) -> Fraction | None:
    try:
        return None if _blank(v) else to_fraction(v)
    except (TypeError, ValueError):
        return None


def _blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _text(v: object) -> str:
    return "" if _blank(v) else str(v).strip()


def _show(x: Fraction | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if x.denominator == 1 else f"{float(x):g}"


def _label(table: str, col: str) -> str:
    t = next(t for t in schema.SETUP_TABLES if t.key == table)
    c = t.column(col)
    return f"{c.zh} {c.en}"


def _records(setup: Setup, key: str) -> list[dict]:
    return setup.tables[key].to_dict("records")


def _read_plan(setup: Setup, chk: _Checker) -> _Plan:
    # Region weights, in table order.
    given: dict[str, Fraction | None] = {}
    given_row: dict[str, int] = {}
    for i, r in enumerate(_records(setup, "region_weights")):
        name = _text(r.get("region"))
        if not name:
            continue
        if name in given:
            other = setup.where("region_weights", given_row[name], "region")[2] or f"#{given_row[name] + 1}"
            chk.at("region_weights", i, "region", "duplicate_key", name, column="大区 Region", other=other)
            continue
        given[name] = chk.number("region_weights", i, "weight", r.get("weight"))
        given_row[name] = i
    regions = list(given)
    first_seen: dict[str, tuple[str, int, str]] = {}

    # Class weights.
    cw: dict[str, Fraction] = {}
    for i, r in enumerate(_records(setup, "class_weights")):
        cls = _text(r.get("area_class"))
        if cls and cls not in cw:
            w = chk.number("class_weights", i, "weight", r.get("weight"))
            cw[cls] = Fraction(0) if w is None else w
    if not cw and len(setup.tables["class_weights"]) == 0:
        chk.issues.append(make("target_no_weights", table="等级权重表", table_en="The class-weight table",
                               how_zh="区域平均", how_en="equally over areas"))

    # Areas.
    areas: dict[str, list[_Area]] = {}
    seen_area: dict[tuple[str, str], int] = {}
    for i, r in enumerate(_records(setup, "area_weights")):
        region, name = _text(r.get("region")), _text(r.get("area"))
        if not region or not name:
            continue
        if (region, name) in seen_area:
            j = seen_area[(region, name)]
            other = setup.where("area_weights", j, "area")[2] or f"#{j + 1}"
            chk.at("area_weights", i, "area", "duplicate_key", name, column="区域 Area", other=other)
            continue
        seen_area[(region, name)] = i
        cls = _text(r.get("area_class"))
        if cw and cls not in cw:
            chk.at("area_weights", i, "area_class", "target_class_no_weight", cls)
        w = chk.number("area_weights", i, "weight", r.get("weight"))
        areas.setdefault(region, []).append(_Area(region, name, cls, w, i))
        if region not in regions:
            regions.append(region)
            first_seen[region] = ("area_weights", i, "region")

    # Reps (active only), keeping the roster row for naming cells.
    roster = _records(setup, "roster")
    reps: list[tuple[int, str, str, str, Fraction, Fraction]] = []
    for i, r in enumerate(roster):
        active = r.get("active")
        if not _blank(active) and not bool(active):
            continue
        rep, region = _text(r.get("rep_id")), _text(r.get("region"))
        if not rep or not region:
            continue
        share = chk.number("roster", i, "share", r.get("share"), fallback=Fraction(1))
        ramp = chk.number("roster", i, "ramp", r.get("ramp"), fallback=Fraction(1))
        reps.append((i, rep, region, _text(r.get("area")), Fraction(1) if share is None else share,
                     Fraction(1) if ramp is None else min(ramp, Fraction(1))))
        if region not in regions:
            regions.append(region)
            first_seen[region] = ("roster", i, "region")

    # Regions present but not weighted.
    region_weights: dict[str, Fraction] | None
    weighted = {k: v for k, v in given.items() if v is not None}
    if not weighted:
        region_weights = None
    else:
        mean = sum(weighted.values(), Fraction(0)) / len(weighted)
        region_weights = {}
        for name in regions:
            if name in weighted:
                region_weights[name] = weighted[name]
                continue
            has_rows = name in areas or any(rg == name for _, _, rg, _, _, _ in reps)
            if name in given:  # a row with a blank weight
                if has_rows:
                    chk.at("region_weights", given_row[name], "weight", "target_region_no_weight", name)
                region_weights[name] = mean if has_rows else Fraction(0)
            else:
                table, i, col = first_seen[name]
                chk.at(table, i, col, "target_region_no_weight", name)
                region_weights[name] = mean
        if sum(region_weights.values()) == 0:
            first = next(iter(given_row.values()))
            chk.at("region_weights", first, "weight", "target_weights_zero", 0,
                   table="大区权重 Region weights", group="所有大区 all regions")
            region_weights = {k: Fraction(1) for k in region_weights}

    # Regions without areas become one stand-in area; reps join their area.
    for name in regions:
        if name not in areas:
            if name in given or any(rg == name for _, _, rg, _, _, _ in reps):
                chk.issues.append(make("target_region_no_area", value=name))
            areas[name] = [_Area(name, name, "", None, None)]
    first_rep: dict[int, int] = {}
    for i, rep, region, area, share, ramp in reps:
        found = areas[region]
        hit = found[0] if found[0].row is None else next((a for a in found if a.name == area), None)
        if hit is None:
            chk.at("roster", i, "area", "target_rep_no_area", area or "(空 blank)", rep=rep, region=region)
        else:
            hit.reps.append((rep, share, ramp))
            first_rep.setdefault(id(hit), i)
    for name in regions:
        for a in areas[name]:
            if not a.reps and a.row is not None:
                chk.at("area_weights", a.row, "area", "target_area_no_rep", a.name, region=name)
            elif a.reps and sum(s for _, s, _ in a.reps) == 0:
                i = first_rep[id(a)]
                chk.at("roster", i, "share", "target_weights_zero", 0, table="名单 Roster",
                       group=f"区域 {a.name} 的业务员 (the reps of {a.name})")
            elif a.reps:
                fractions = rep_weights(a.reps)
                if len(fractions) > len(a.reps) and fractions[-1] > 0:
                    chk.issues.append(make("target_ramp_unassigned", value=a.name, region=name,
                                           share=f"{float(fractions[-1]):.0%}"))

    return _Plan(regions, region_weights, cw or None, areas, _read_season(setup, chk), setup.holidays)


def _read_season(setup: Setup, chk: _Checker) -> list[Fraction] | None:
    rows = _records(setup, "seasonality")
    if not rows:
        return None
    found: dict[int, Fraction] = {}
    bad: tuple[int, str, str] | None = None
    for i, r in enumerate(rows):
        m = r.get("month")
        try:
            month = int(to_fraction(m)) if not _blank(m) and to_fraction(m).denominator == 1 else None
        except (TypeError, ValueError):
            month = None
        if month is None or not 1 <= month <= 12:
            bad = bad or (i, f"第 {i + 1} 行月份为「{_text(m)}」", f"row {i + 1} has month '{_text(m)}'")
            continue
        if month in found:
            bad = bad or (i, f"{month} 月出现两次", f"month {month} appears twice")
            continue
        idx = chk.number("seasonality", i, "index", r.get("index"))
        found[month] = Fraction(0) if idx is None else idx
    missing = [m for m in range(1, 13) if m not in found]
    if bad is not None or missing:
        i, zh, en = bad if bad is not None else (
            len(rows) - 1, f"缺少 {', '.join(map(str, missing))} 月", f"month(s) {', '.join(map(str, missing))} missing")
        chk.at("seasonality", i, "month", "target_season_months", rows[i].get("month"), found=zh, found_en=en)
        return [Fraction(1)] * 12
    season = [found[m] for m in range(1, 13)]
    if sum(season) == 0:
        chk.at("seasonality", 0, "index", "target_weights_zero", 0, table="旺淡季指数 Seasonality",
               group="12 个月 the 12 months")
        return [Fraction(1)] * 12
    return season


def _class_split(region: str, areas: list[_Area], cw: dict[str, Fraction] | None, chk: _Checker,
                 setup: Setup) -> tuple[list[str], list[Fraction], dict[str, list[_Area]], dict[str, list[Fraction]]]:
    """The classes of a region with their weights, and each class's areas with theirs (fallbacks applied)."""
    by_class: dict[str, list[_Area]] = {}
    for a in areas:
        by_class.setdefault(a.area_class if cw else "", []).append(a)
    classes = list(by_class)
    cws = [cw.get(c, Fraction(0)) if cw else Fraction(1) for c in classes]
    if sum(cws) == 0:
        rows = setup.tables["class_weights"]
        first = next((i for i, c in enumerate(rows["area_class"]) if _text(c) in classes), None)
        chk.at("class_weights", first, "weight", "target_weights_zero", 0, table="等级权重 Class weights",
               group=f"大区 {region} 的等级 {'/'.join(classes)} (region {region})")
        cws = [Fraction(1)] * len(classes)
    aws: dict[str, list[Fraction]] = {}
    for c, members in by_class.items():
        ws = [a.weight for a in members]
        given = [w for w in ws if w is not None]
        if not given:
            vals = [Fraction(1)] * len(ws)
        else:
            mean = sum(given, Fraction(0)) / len(given)
            vals = [mean if w is None else w for w in ws]
        if sum(vals) == 0:
            chk.at("area_weights", members[0].row, "weight", "target_weights_zero", 0, table="区域 Areas",
                   group=f"大区 {region} 的 {c or '-'} 类区域 (class {c or '-'} areas of {region})")
            vals = [Fraction(1)] * len(ws)
        aws[c] = vals
    return classes, cws, by_class, aws


# ---------------------------------------------------------------------------
# Calendar.

def fiscal_months(year: int, start_month: int = 1) -> list[tuple[int, int]]:
    """(year, month) of the 12 months of fiscal ``year`` starting in ``start_month``.

    >>> fiscal_months(2026, 4)[0], fiscal_months(2026, 4)[-1]
    ((2026, 4), (2027, 3))
    """
    out = []
    for k in range(12):
        m = start_month - 1 + k
        out.append((year + m // 12, m % 12 + 1))
    return out


def working_days(year: int, month: int, holidays: set[dt.date]) -> list[dt.date]:
    """Monday–Friday dates of a month that are not holidays.

    >>> len(working_days(2026, 3, set())), len(working_days(2026, 3, {dt.date(2026, 3, 9)}))
    (22, 21)
    """
    d = dt.date(year, month, 1)
    out = []
    while d.month == month:
        if d.weekday() < 5 and d not in holidays:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def iso_week(d: dt.date) -> str:
    """ISO week label of a date. ``iso_week(dt.date(2026, 3, 2))`` → ``'2026-W10'``."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


# ---------------------------------------------------------------------------
# The decomposition.

def _bases(raised: bool | str) -> tuple[str, ...]:
    if raised == "both":
        return BASES
    if isinstance(raised, bool):
        return ("raised",) if raised else ("plan",)
    raise ValueError(f"raised must be False, True or 'both', got {raised!r}")


def _target_rows(setup: Setup, kinds: list[str] | None, year: int, chk: _Checker) -> list[tuple[str, int, dict]]:
    """(kind, row index, row) of the Targets rows for ``year`` (first row per kind wins)."""
    out: list[tuple[str, int, dict]] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(_records(setup, "targets")):
        kind = _text(r.get("kind"))
        try:
            y = int(to_fraction(r.get("year")))
        except (TypeError, ValueError):
            continue
        if not kind or y != year or (kinds is not None and kind not in kinds):
            continue
        if kind in seen:
            other = setup.where("targets", seen[kind], "kind")[2] or f"#{seen[kind] + 1}"
            chk.at("targets", i, "kind", "duplicate_key", f"{kind} {year}", column="目标类型 Kind", other=other)
            continue
        seen[kind] = i
        out.append((kind, i, r))
    for k in kinds if kinds is not None else ([] if seen else ["(任何 any)"]):
        if k not in seen:
            chk.issues.append(make("target_missing", kind=k, year=year))
    return out


def decompose(setup: Setup, kind: str | Iterable[str] | None = None, raised: bool | str = False, *,
              year: int | None = None, actuals: pd.DataFrame | None = None,
              days: bool = True) -> tuple[pd.DataFrame, list[Issue]]:
    """The long target table and the setup issues found on the way.

    ``kind``: one kind code, several, or None for every kind in the Targets
    table.  ``raised``: False → the plan target, True → the raised target,
    ``"both"`` → both (column ``basis``).  ``year``: the fiscal year (default:
    the year of the ``fiscal_year_start`` setting; months run from its month).
    ``actuals``: last year's actuals (``region``, ``date``, ``amount``,
    optionally ``kind``), used only where the setup gives no region weights or
    no seasonality.  ``days=False`` leaves out the day and week levels (the
    consolidated report needs only rep-months: much faster for a large team).

    Columns: kind, basis, level, region, area, rep, period, target.  Periods:
    company/region/area ``"2026"``, month and rep ``"2026-03"``, week
    ``"2026-W10"``, day ``"2026-03-02"``.  At each level the targets of one
    kind and basis add up exactly to the company target.

    >>> df, issues = decompose(Setup.default(), "revenue")
    >>> int(df[df.level == "day"].target.sum()), int(df[df.level == "rep"].target.sum())
    (120000000, 120000000)
    """
    chk = _Checker(setup)
    kinds = [kind] if isinstance(kind, str) else (list(kind) if kind is not None else None)
    bases = _bases(raised)
    fys = setup.fiscal_year_start
    fy = year if year is not None else fys.year
    months = fiscal_months(fy, fys.month)
    plan = _read_plan(setup, chk)
    targets = _target_rows(setup, kinds, fy, chk)
    default_unit = to_fraction(setup.rounding_unit) if setup.rounding_unit > 0 else Fraction(1)
    day_lists = {ym: _days(ym, plan.holidays, chk) for ym in months} if days else None
    class_splits = {rg: _class_split(rg, plan.areas[rg], plan.class_weights, chk, setup) for rg in plan.regions}
    if not plan.regions and targets:
        chk.issues.append(make("target_no_regions"))
    if plan.region_weights is None and plan.regions:
        how = ("去年实际", "by last year's actuals") if _has(actuals, "region") else ("平均", "equally")
        chk.issues.append(make("target_no_weights", table="大区权重表", table_en="The region-weight table",
                               how_zh=how[0], how_en=how[1]))
    if plan.season is None:
        how = ("去年实际", "by last year's actuals") if _has(actuals, "date") else ("平均", "equally")
        chk.issues.append(make("target_no_weights", table="旺淡季指数表", table_en="The seasonality table",
                               how_zh=how[0], how_en=how[1]))

    data: list[tuple] = []
    for k, i, r in targets:
        unit = _unit(chk, i, r.get("unit"), default_unit)
        own = _for_kind(actuals, k)
        rweights = _region_weights(plan, own)
        season = _season(plan, own)
        sweights = [season[m - 1] for _, m in months]
        for basis in bases:
            total = chk.number("targets", i, basis, r.get(basis)) if basis == "plan" else \
                _raised(chk, i, r.get("raised"))
            if total is None:
                continue
            rows: dict[str, list[tuple]] = {lv: [] for lv in LEVELS}
            _one(rows, k, basis, total, unit, fy, plan, rweights, class_splits, sweights, months, day_lists)
            data.extend(row for lv in LEVELS for row in rows[lv])
    df = pd.DataFrame(data, columns=list(COLUMNS))
    df["target"] = _column(df["target"].tolist())
    return df, chk.issues


def _raised(chk: _Checker, i: int, v: object) -> Fraction | None:
    return None if _blank(v) else chk.number("targets", i, "raised", v)


def _has(df: pd.DataFrame | None, col: str) -> bool:
    return df is not None and not df.empty and col in df.columns


def _for_kind(actuals: pd.DataFrame | None, kind: str) -> pd.DataFrame | None:
    if actuals is None or actuals.empty:
        return None
    if "kind" in actuals.columns:
        return actuals[actuals["kind"] == kind]
    return actuals


def _region_weights(plan: _Plan, actuals: pd.DataFrame | None) -> list[Fraction]:
    if plan.region_weights is not None:
        return [plan.region_weights[r] for r in plan.regions]
    if _has(actuals, "region"):
        got = weights_from_actuals(actuals, "region")
        ws = [to_fraction(got.get(r, 0.0)) for r in plan.regions]
        if sum(ws) > 0:
            return ws
    return [Fraction(1)] * len(plan.regions)


def _season(plan: _Plan, actuals: pd.DataFrame | None) -> list[Fraction]:
    if plan.season is not None:
        return plan.season
    if _has(actuals, "date"):
        try:
            return [to_fraction(x) for x in season_from_actuals(actuals)]
        except ValueError:
            pass
    return [Fraction(1)] * 12


def _unit(chk: _Checker, i: int, v: object, default: Fraction) -> Fraction:
    if _blank(v):
        return default
    try:
        u = to_fraction(v)
    except (TypeError, ValueError):
        u = Fraction(0)
    if u <= 0:
        chk.at("targets", i, "unit", "target_bad_unit", v, column=_label("targets", "unit"), fallback=_show(default))
        return default
    return u


def _days(ym: tuple[int, int], holidays: set[dt.date], chk: _Checker) -> list[dt.date]:
    got = working_days(ym[0], ym[1], holidays)
    if got:
        return got
    chk.issues.append(make("target_no_workdays", value=f"{ym[0]}-{ym[1]:02d}"))
    d, out = dt.date(ym[0], ym[1], 1), []
    while d.month == ym[1]:
        out.append(d)
        d += dt.timedelta(days=1)
    return out


def _one(rows: dict[str, list[tuple]], kind: str, basis: str, total: Fraction, unit: Fraction, fy: int,
         plan: _Plan, rweights: list[Fraction], class_splits: dict, sweights: list[Fraction],
         months: list[tuple[int, int]], days: dict[tuple[int, int], list[dt.date]] | None) -> None:
    year = str(fy)
    rows["company"].append((kind, basis, "company", "", "", "", year, total))
    if not plan.regions:
        return
    for region, rt in zip(plan.regions, _allocate(total, rweights, unit), strict=True):
        rows["region"].append((kind, basis, "region", region, "", "", year, rt))
        classes, cws, by_class, aws = class_splits[region]
        area_t: dict[int, Fraction] = {}
        for c, ct in zip(classes, _allocate(rt, cws, unit), strict=True):
            for a, at in zip(by_class[c], _allocate(ct, aws[c], unit), strict=True):
                area_t[id(a)] = at
        for a in plan.areas[region]:
            at = area_t[id(a)]
            rows["area"].append((kind, basis, "area", region, a.name, "", year, at))
            weeks: dict[str, Fraction] = {}
            rep_w = rep_weights(a.reps) if a.reps else [Fraction(1)]
            reps = [r for r, _, _ in a.reps] + [UNASSIGNED] * (len(rep_w) - len(a.reps))
            if sum(rep_w) == 0:
                rep_w = [Fraction(1)] * len(a.reps)
                reps = reps[:len(a.reps)]
            # how far each rep is ahead of its exact share, × ΣW (integer weights W over their common
            # denominator): it orders the reps as the exact carry would, in int arithmetic
            common = math.lcm(*(w.denominator for w in rep_w))
            big_w = [w.numerator * (common // w.denominator) for w in rep_w]
            big_s = sum(big_w)
            carry: list = [0] * len(reps)
            rep_rows: list[list[tuple]] = [[] for _ in reps]
            for (y, m), mt in zip(months, _allocate(at, sweights, unit), strict=True):
                ym = f"{y}-{m:02d}"
                rows["month"].append((kind, basis, "month", region, a.name, "", ym, mt))
                wd = days[(y, m)] if days is not None else []
                for d, t in zip(wd, _allocate(mt, [Fraction(1)] * len(wd), unit) if wd else [], strict=True):
                    rows["day"].append((kind, basis, "day", region, a.name, "", d.isoformat(), t))
                    wk = iso_week(d)
                    weeks[wk] = weeks.get(wk, Fraction(0)) + t
                parts = _allocate(mt, rep_w, unit, carry)
                for j, (rep, p) in enumerate(zip(reps, parts, strict=True)):
                    carry[j] += p * big_s - mt * big_w[j]
                    rep_rows[j].append((kind, basis, "rep", region, a.name, rep, ym, p))
            for wk, t in weeks.items():
                rows["week"].append((kind, basis, "week", region, a.name, "", wk, t))
            for rr in rep_rows:
                rows["rep"].extend(rr)


def rep_weights(reps: Sequence[tuple[str, Fraction, Fraction]]) -> list[Fraction]:
    """Each rep's fraction of an area's target, plus the unassigned rest when every rep is ramping.

    A ramping rep (ramp < 1) gets ramp × share / Σ shares; the fully ramped reps split what is left by
    their shares.  With no fully ramped rep the rest is one more entry (for :data:`UNASSIGNED`).

    >>> [str(w) for w in rep_weights([("A", Fraction(1), Fraction(1)), ("B", Fraction(1), Fraction(1, 2))])]
    ['3/4', '1/4']
    >>> [str(w) for w in rep_weights([("B", Fraction(1), Fraction(1, 2))])]
    ['1/2', '1/2']
    """
    total = sum((s for _, s, _ in reps), Fraction(0))
    if total == 0:
        return [Fraction(0)] * len(reps)
    ramping = {j: s * r / total for j, (_, s, r) in enumerate(reps) if r < 1}
    rest = 1 - sum(ramping.values(), Fraction(0))
    full = [j for j, (_, _, r) in enumerate(reps) if r >= 1]
    full_share = sum((reps[j][1] for j in full), Fraction(0))
    out = [ramping[j] if j in ramping else (rest * reps[j][1] / full_share if full_share else Fraction(0))
           for j in range(len(reps))]
    if not full_share:
        out.append(rest)
    return out


def _column(values: list[Fraction]) -> pd.Series:
    if all(v.denominator == 1 for v in values):
        return pd.Series([int(v) for v in values], dtype="int64")
    return pd.Series([float(v) for v in values], dtype="float64")


def level_sums(df: pd.DataFrame, kind: str, basis: str = "plan") -> dict[str, int | float]:
    """The sum of each level's targets for one kind and basis.

    >>> df, _ = decompose(Setup.default(), "new_customers")
    >>> level_sums(df, "new_customers")["rep"]
    240
    """
    sub = df[(df["kind"] == kind) & (df["basis"] == basis)]
    out: dict[str, int | float] = {}
    for lv in LEVELS:
        v = sub.loc[sub["level"] == lv, "target"].sum()
        out[lv] = int(v) if float(v).is_integer() else float(v)
    return out


# ---------------------------------------------------------------------------
# Bottom-up check.

GAP_COLUMNS: tuple[str, ...] = ("kind", "basis", "level", "name", "period", "top_down", "bottom_up", "gap",
                                "gap_pct", "matched")
TOTAL = "合计 Total"


def bottom_up_gap(top_down: pd.DataFrame, proposed: pd.DataFrame, setup: Setup | None = None) -> pd.DataFrame:
    """Top-down vs bottom-up: each proposed target beside the decomposed one, and the gap per level.

    ``proposed`` has columns ``level`` (region, area, team or rep), ``name``
    (the region, area, team or rep id), ``period`` (``"2026"`` for the year or
    ``"2026-03"`` for a month), ``target``, and optionally ``kind`` (default
    revenue) and ``basis`` (default plan).  A team's top-down target is the sum
    of its reps' (team from the roster of ``setup``); an annual period of an
    area-month-based level sums the fiscal year's months.  ``gap`` is
    bottom-up − top-down; one ``合计 Total`` row per kind, basis, level and
    period compares the sums of the proposals with the sums of the same names'
    top-down targets.  ``matched`` is False where nothing top-down has that name.

    >>> td, _ = decompose(Setup.default(), "revenue")
    >>> p = pd.DataFrame({"level": ["rep"], "name": ["R001"], "period": ["2026-12"], "target": [3_000_000]})
    >>> bottom_up_gap(td, p, Setup.default()).loc[0, ["top_down", "gap"]].tolist()
    [2125000, 875000]
    """
    start = setup.fiscal_year_start.month if setup is not None else 1
    teams: dict[str, list[str]] = {}
    if setup is not None:
        for r in _records(setup, "roster"):
            teams.setdefault(_text(r.get("team")), []).append(_text(r.get("rep_id")))
    out: list[dict] = []
    for r in proposed.to_dict("records"):
        kind = _text(r.get("kind")) or "revenue"
        basis = _text(r.get("basis")) or "plan"
        level, name, period = _text(r.get("level")), _text(r.get("name")), _text(r.get("period"))
        td = top_down[(top_down["kind"] == kind) & (top_down["basis"] == basis)]
        value, matched = _top_down_of(td, level, name, period, start, teams)
        bu = float(r.get("target")) if not _blank(r.get("target")) else 0.0
        out.append({"kind": kind, "basis": basis, "level": level, "name": name, "period": period,
                    "top_down": value, "bottom_up": bu, "matched": matched})
    df = pd.DataFrame(out, columns=[c for c in GAP_COLUMNS if c not in ("gap", "gap_pct")])
    if not df.empty:
        tot = (df.groupby(["kind", "basis", "level", "period"], sort=False)[["top_down", "bottom_up"]].sum()
               .reset_index())
        tot["name"], tot["matched"] = TOTAL, df.groupby(["kind", "basis", "level", "period"], sort=False)[
            "matched"].all().to_numpy()
        df = pd.concat([df, tot[df.columns]], ignore_index=True)
    df["gap"] = df["bottom_up"] - df["top_down"]
    df["gap_pct"] = [g / t if t else float("nan") for g, t in zip(df["gap"], df["top_down"], strict=True)]
    for c in ("top_down", "bottom_up", "gap"):
        if all(float(v).is_integer() for v in df[c]):
            df[c] = df[c].astype("int64")
    return df[list(GAP_COLUMNS)]


def _top_down_of(td: pd.DataFrame, level: str, name: str, period: str, start: int,
                 teams: dict[str, list[str]]) -> tuple[float, bool]:
    annual = len(period) == 4 and period.isdigit()
    if level == "company":
        hit = td[(td["level"] == "company") & (td["period"] == period)]
        return _total(hit), not hit.empty
    if level in ("region", "area"):
        col = level
        if annual:
            hit = td[(td["level"] == level) & (td[col] == name) & (td["period"] == period)]
        else:
            hit = td[(td["level"] == "month") & (td[col] == name) & (td["period"] == period)]
        return _total(hit), not hit.empty
    if level in ("rep", "team"):
        ids = [name] if level == "rep" else teams.get(name, [])
        reps = td[(td["level"] == "rep") & td["rep"].isin(ids)]
        if annual:
            ms = {f"{y}-{m:02d}" for y, m in fiscal_months(int(period), start)}
            hit = reps[reps["period"].isin(ms)]
        else:
            hit = reps[reps["period"] == period]
        return _total(hit), not hit.empty
    return 0, False


def _total(df: pd.DataFrame) -> int | float:
    v = df["target"].sum() if not df.empty else 0
    return int(v) if float(v).is_integer() else float(v)


__all__ = [
    "BASES", "COLUMNS", "KINDS", "LEVELS", "UNASSIGNED", "bottom_up_gap", "decompose", "fiscal_months", "iso_week",
    "level_sums", "season_from_actuals", "seasonal", "split", "to_fraction", "weights_from_actuals", "working_days",
]
