"""Target decomposition: exact splits, a hand-computed path, setup issues naming the cell, the workbook."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsales.cli import main
from xlsales.core import schema
from xlsales.core.issues import col_letter
from xlsales.core.setup import Setup, frame
from xlsales.core.targets import (
    LEVELS,
    UNASSIGNED,
    _allocate,
    bottom_up_gap,
    decompose,
    fiscal_months,
    level_sums,
    season_from_actuals,
    seasonal,
    split,
    weights_from_actuals,
    working_days,
)
from xlsales.report.targets_book import LONG_TABLE, build_targets_workbook

F = Fraction

# ---------------------------------------------------------------------------
# split: properties.

units = st.sampled_from([1, 7, 10, 1000, F(1, 3), F(1, 100), Decimal("0.01"), Decimal("50")])
weight = st.one_of(st.integers(0, 5), st.fractions(0, 5, max_denominator=7), st.sampled_from([0, 0, 1, 1, 0.7]))
weight_lists = st.lists(weight, min_size=1, max_size=15).filter(lambda ws: sum(F(str(w)) for w in ws) > 0)
totals = st.one_of(st.integers(-10**12, 10**12), st.decimals(-10**6, 10**6, places=2),
                   st.fractions(-1000, 1000, max_denominator=12))


def exact_shares(total, weights) -> list[Fraction]:
    t, ws = F(str(total)) if isinstance(total, Decimal) else F(total), [F(str(w)) for w in weights]
    return [t * w / sum(ws) for w in ws]


def fr(x) -> Fraction:
    return F(str(x)) if isinstance(x, Decimal | float) else F(x)


@given(totals, weight_lists, units)
def test_split_sums_exactly_and_stays_within_a_unit(total, weights, unit):
    parts = split(total, weights, unit)
    assert len(parts) == len(weights)
    assert sum(fr(p) for p in parts) == fr(total)
    u = fr(unit)
    for p, e, w in zip(parts, exact_shares(total, weights), weights, strict=True):
        assert abs(fr(p) - e) < u
        if w == 0:
            assert fr(p) == 0
    off_grid = [p for p in parts if (fr(p) / u).denominator != 1]
    assert len(off_grid) <= (0 if (fr(total) / u).denominator == 1 else 1)


@given(totals, weight_lists, units)
def test_split_is_deterministic_monotone_and_scale_free(total, weights, unit):
    parts = split(total, weights, unit)
    assert split(total, weights, unit) == parts
    assert split(total, [fr(w) * 3 for w in weights], unit) == parts
    sign = 1 if fr(total) >= 0 else -1
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if fr(wi) > fr(wj):
                assert sign * fr(parts[i]) >= sign * fr(parts[j])


@given(st.integers(0, 10**9), st.integers(1, 12), st.sampled_from([1, 10, 1000]))
def test_split_ties_go_to_earlier_positions(total, n, unit):
    parts = split(total, [1] * n, unit)
    assert parts == sorted(parts, reverse=True)
    assert max(parts) - min(parts) <= unit


def _largest_remainder(total: Fraction, weights: list[Fraction], unit: Fraction, carry: list[Fraction]) -> list[Fraction]:
    """The rule of ``_allocate``'s docstring, written out in Fractions (the test's own oracle)."""
    if total < 0:
        return [-p for p in _largest_remainder(-total, weights, unit, [-c for c in carry])]
    units = total / unit
    exact = [units * w / sum(weights) for w in weights]
    floors = [math.floor(e) for e in exact]
    order = sorted((i for i, w in enumerate(weights) if w > 0),
                   key=lambda i: (-(exact[i] - floors[i]), carry[i], -weights[i], i))
    parts = [F(f) for f in floors]
    whole = math.floor(units) - sum(floors)
    for i in order[:whole]:
        parts[i] += 1
    if units - math.floor(units):
        parts[order[whole]] += units - math.floor(units)
    return [p * unit for p in parts]


@given(totals, weight_lists, units, st.lists(st.integers(-3, 3), min_size=15, max_size=15))
def test_allocation_in_integers_is_the_rule_in_fractions(total, weights, unit, carry):
    """The integer arithmetic of the split (fast) gives exactly the parts the rule gives in Fractions, ties broken by a
    carry (how far each part is already ahead) included."""
    t, u, ws = fr(total), fr(unit), [fr(w) for w in weights]
    ahead = [F(c, 3) for c in carry[:len(ws)]]
    assert _allocate(t, ws, u, ahead) == _largest_remainder(t, ws, u, ahead)
    assert _allocate(t, ws, u) == _largest_remainder(t, ws, u, [F(0)] * len(ws))


def test_split_examples_and_types():
    assert split(100, [1, 1, 1]) == [34, 33, 33]
    assert split(1_000_000, [50, 35, 15], 1000) == [500_000, 350_000, 150_000]
    assert split(10, [0, 1, 0, 1]) == [0, 5, 0, 5]
    assert split(1_234_567, [1, 1], 1000) == [617_567, 617_000]  # the sub-unit 567 goes with the next unit
    assert split(Decimal("1.00"), [1, 1, 1], Decimal("0.01")) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert split(F(1), [1, 2], F(1, 3)) == [F(1, 3), F(2, 3)]
    assert split(1, [0.1, 0.2, 0.7], 0.1) == [0.1, 0.2, 0.7]
    assert split(-100, [1, 1, 1]) == [-34, -33, -33]
    assert all(type(p) is int for p in split(10**15 + 1, [0.3, 0.3, 0.4], 1000))


@pytest.mark.parametrize("weights, unit, msg", [
    ([0, 0, 0], 1, "add up to 0"),
    ([], 1, "no weights"),
    ([1, -1, 2], 1, "negative"),
    ([1, 2], 0, "unit"),
])
def test_split_rejects_bad_input(weights, unit, msg):
    with pytest.raises(ValueError, match=msg):
        split(100, weights, unit)


@given(st.integers(0, 10**10), st.lists(st.integers(0, 3), min_size=12, max_size=12).filter(any),
       st.sampled_from([1, 1000]))
def test_seasonal_gives_twelve_months_summing_to_the_year(annual, indices, unit):
    months = seasonal(annual, indices, unit)
    assert len(months) == 12 and sum(months) == annual
    for m, e in zip(months, exact_shares(annual, indices), strict=True):
        assert abs(m - e) < unit


def test_seasonal_needs_twelve_nonnegative_indices():
    with pytest.raises(ValueError, match="12"):
        seasonal(100, [1] * 11)
    with pytest.raises(ValueError, match="negative"):
        seasonal(100, [1] * 11 + [-1])


# ---------------------------------------------------------------------------
# A hand-computed fixture for the whole path (amounts in thousands below).
#
#   revenue 2026: plan 1,200,000, raised 1,320,000, unit 1,000 → 1,200 units
#   regions 东 60 / 西 40                 → 东 720, 西 480
#   classes A 50 / B 35 / C 15
#     东: 甲 A, 乙 B, 丙 C                → 360, 252, 108 (exact)
#     西: 丁 A, 戊 C (no B: 50/65, 15/65) → 369.23, 110.77 → 丁 369, 戊 111
#   seasonality 0.5, 0.5, 1 × 9, 2 (Σ 12)
#     甲 360: 15 15 30×9 60                       (exact)
#     乙 252: 10.5 10.5 21×9 42 → +1 to Jan (tie → earlier)        11 10 21×9 42
#     丙 108: 4.5 4.5 9×9 18   → +1 to Jan                         5 4 9×9 18
#     丁 369: 15.375 ×2, 30.75 ×9, 61.5; 8 units left; the .75s tie → Mar…Oct
#                                                                  15 15 31×8 30 61
#     戊 111: 4.625 ×2, 9.25 ×9, 18.5; 4 left → Jan, Feb (.625), Dec (.5), Mar (first .25)
#                                                                  5 5 10 9×8 19
#   reps: 甲 R1 (share 1) and R2 (share 1, new at 50% ramp): R2 gets 50% of its ½ share = ¼,
#     R1, the fully ramped rep, carries the rest = ¾.
#     Jan, Feb 15 → 11.25 / 3.75: R2 has the larger fraction → R1 11, R2 4 (R1 now ¼ behind each month)
#     Mar 30 → 22.5 / 7.5, a tie: R1 is behind (−½) → 23 / 7; then the carries are equal and the
#     larger weight (R1) takes Apr; from there they alternate: Mar–Nov R1 23 23 22 23 22 23 22 23 22,
#     R2 7 7 8 7 8 7 8 7 8; Dec 60 → 45 / 15.  R1 = 270, R2 = 90 (¾ and ¼ of 360)
#     丁 R5, R6 equal: each odd month ties; the rep behind its exact share wins the tie:
#     R5 8 7 16 15 16 15 16 15 16 15 15 31 = 185, R6 7 8 15 16 15 16 15 16 15 16 15 30 = 184
#   days: 甲 March 30 over 21 working days (holiday 3-09) → 9 × 2 then 12 × 1:
#     3-02…3-06 and 3-10…3-13 get 2,000; the rest 1,000
#     April 30 over 22 days → 4-01…4-03, 4-06…4-10 get 2,000
#   weeks of 甲: W10 10, W11 8 (3-09 is a holiday), W12 5, W13 5, W14 = 3-30 1 + 3-31 1 + 4-01..03 2×3 = 8

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
EXPECTED_REGIONS = {"东": 720_000, "西": 480_000}
EXPECTED_AREAS = {"甲": 360_000, "乙": 252_000, "丙": 108_000, "丁": 369_000, "戊": 111_000}
EXPECTED_MONTHS = {
    "甲": [15, 15] + [30] * 9 + [60],
    "乙": [11, 10] + [21] * 9 + [42],
    "丙": [5, 4] + [9] * 9 + [18],
    "丁": [15, 15] + [31] * 8 + [30, 61],
    "戊": [5, 5, 10] + [9] * 8 + [19],
}
EXPECTED_REPS = {
    "R1": [11, 11, 23, 23, 22, 23, 22, 23, 22, 23, 22, 45],
    "R2": [4, 4, 7, 7, 8, 7, 8, 7, 8, 7, 8, 15],
    "R3": EXPECTED_MONTHS["乙"],
    "R4": EXPECTED_MONTHS["丙"],
    "R5": [8, 7, 16, 15, 16, 15, 16, 15, 16, 15, 15, 31],
    "R6": [7, 8, 15, 16, 15, 16, 15, 16, 15, 16, 15, 30],
    "R7": EXPECTED_MONTHS["戊"],
}
EXPECTED_WEEKS_甲 = {"2026-W10": 10_000, "2026-W11": 8_000, "2026-W12": 5_000, "2026-W13": 5_000,
                    "2026-W14": 8_000}


def rep(rep_id: str, region: str, area: str, ramp: float | None = 1.0, team: str = "T1", **kw) -> dict:
    return {"rep_id": rep_id, "name": f"名{rep_id}", "team": team, "region": region, "area": area,
            "area_class": None, "manager": "M", "active": True, "share": None, "ramp": ramp, **kw}


def tiny_rows() -> dict[str, list[dict]]:
    return {
        "targets": [{"kind": "revenue", "year": 2026, "plan": 1_200_000, "raised": 1_320_000, "unit": 1000}],
        "region_weights": [{"region": "东", "weight": 60}, {"region": "西", "weight": 40}],
        "class_weights": [{"area_class": "A", "weight": 50}, {"area_class": "B", "weight": 35},
                          {"area_class": "C", "weight": 15}],
        "area_weights": [
            {"region": "东", "area": "甲", "area_class": "A", "weight": None},
            {"region": "东", "area": "乙", "area_class": "B", "weight": None},
            {"region": "东", "area": "丙", "area_class": "C", "weight": None},
            {"region": "西", "area": "丁", "area_class": "A", "weight": None},
            {"region": "西", "area": "戊", "area_class": "C", "weight": None},
        ],
        "seasonality": [{"month": m, "index": i} for m, i in enumerate([0.5, 0.5] + [1] * 9 + [2], start=1)],
        "holidays": [{"date": dt.date(2026, 3, 9), "name": "假日"}],
        "roster": [rep("R1", "东", "甲"), rep("R2", "东", "甲", 0.5), rep("R3", "东", "乙", team="T2"),
                   rep("R4", "东", "丙", team="T2"), rep("R5", "西", "丁", None, team="T3"),
                   rep("R6", "西", "丁", team="T3"), rep("R7", "西", "戊", team="T3")],
    }


def tiny(**changes: list[dict]) -> Setup:
    """The fixture setup, with whole tables replaced by ``changes``, located like a read workbook."""
    s = Setup.default()
    rows = {**tiny_rows(), **changes}
    for key, r in rows.items():
        s.tables[key] = frame(next(t for t in schema.SETUP_TABLES if t.key == key), r)
    return locate(s)


def locate(s: Setup) -> Setup:
    """Add the _file/_sheet/_row columns and letters the reader adds, as in the manager workbook:
    each table on its own sheet, header in row 2, data from row 3, columns from A."""
    for t in schema.SETUP_TABLES:
        df = s.tables[t.key]
        df["_file"], df["_sheet"] = "manager.xlsx", t.title_zh or t.sheet_zh
        df["_row"] = [3 + i for i in range(len(df))]
        s.letters[t.key] = {c.key: col_letter(j) for j, c in enumerate(t.columns)}
    return s


@pytest.fixture(scope="module")
def tiny_df() -> pd.DataFrame:
    df, issues = decompose(tiny(), "revenue", "both")
    assert issues == []
    return df


def pick(df: pd.DataFrame, level: str, basis: str = "plan", **eq: str) -> pd.DataFrame:
    sub = df[(df["level"] == level) & (df["basis"] == basis)]
    for k, v in eq.items():
        sub = sub[sub[k] == v]
    return sub


def test_fixture_regions_and_areas(tiny_df):
    assert pick(tiny_df, "company")["target"].tolist() == [1_200_000]
    assert dict(pick(tiny_df, "region")[["region", "target"]].itertuples(index=False)) == EXPECTED_REGIONS
    assert dict(pick(tiny_df, "area")[["area", "target"]].itertuples(index=False)) == EXPECTED_AREAS
    raised = dict(pick(tiny_df, "region", "raised")[["region", "target"]].itertuples(index=False))
    assert raised == {"东": 792_000, "西": 528_000}


@pytest.mark.parametrize("area", list(EXPECTED_MONTHS))
def test_fixture_months(tiny_df, area):
    got = pick(tiny_df, "month", area=area)
    assert got["period"].tolist() == MONTHS
    assert got["target"].tolist() == [1000 * x for x in EXPECTED_MONTHS[area]]


@pytest.mark.parametrize("rep_id", list(EXPECTED_REPS))
def test_fixture_reps(tiny_df, rep_id):
    got = pick(tiny_df, "rep", rep=rep_id)
    assert got["period"].tolist() == MONTHS
    assert got["target"].tolist() == [1000 * x for x in EXPECTED_REPS[rep_id]]


def test_fixture_days_and_weeks(tiny_df):
    march = pick(tiny_df, "day", area="甲")
    march = march[march["period"].str.startswith("2026-03")]
    twos = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06",
            "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"]
    assert len(march) == 21 and "2026-03-09" not in set(march["period"])
    assert march[march["target"] == 2000]["period"].tolist() == twos
    assert (march[~march["period"].isin(twos)]["target"] == 1000).all()
    weeks = dict(pick(tiny_df, "week", area="甲")[["period", "target"]].itertuples(index=False))
    assert {w: weeks[w] for w in EXPECTED_WEEKS_甲} == EXPECTED_WEEKS_甲
    no_weekend = pick(tiny_df, "day")["period"].map(lambda p: dt.date.fromisoformat(p).weekday())
    assert no_weekend.max() <= 4


def check_nesting(df: pd.DataFrame, kind: str, basis: str, unit: int) -> None:
    """Every level adds up to the company total, and every parent to its children."""
    sub = df[(df["kind"] == kind) & (df["basis"] == basis)]
    sums = level_sums(df, kind, basis)
    assert len(set(sums.values())) == 1, sums
    lv = {name: sub[sub["level"] == name] for name in LEVELS}
    areas = lv["area"].set_index(["region", "area"])["target"].sort_index()
    assert (lv["area"].groupby("region")["target"].sum() == lv["region"].set_index("region")["target"].sort_index()).all()
    assert (lv["month"].groupby(["region", "area"])["target"].sum() == areas).all()
    assert (lv["week"].groupby(["region", "area"])["target"].sum() == areas).all()
    month = lv["month"].set_index(["area", "period"])["target"]
    day = lv["day"].assign(period=lv["day"]["period"].str[:7]).groupby(["area", "period"])["target"].sum()
    assert (day == month.loc[day.index]).all()
    reps = lv["rep"].groupby(["area", "period"])["target"].sum()
    assert (reps == month.loc[reps.index]).all()
    assert (sub["target"] % unit == 0).all()


def test_fixture_nests_exactly(tiny_df):
    for basis in ("plan", "raised"):
        check_nesting(tiny_df, "revenue", basis, 1000)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**9), st.sampled_from([1, 100, 1000]), st.lists(st.integers(0, 9), min_size=2, max_size=2),
       st.lists(st.integers(0, 4), min_size=3, max_size=3))
def test_decomposition_nests_for_random_targets(plan, unit, region_w, class_w):
    if not any(region_w) or not any(class_w[:1] + class_w[2:]):
        region_w, class_w = [1, 1], [1, 0, 1]  # zero sums are covered by the issue tests
    plan = plan - plan % unit
    s = tiny(targets=[{"kind": "revenue", "year": 2026, "plan": plan, "raised": None, "unit": unit}],
             region_weights=[{"region": "东", "weight": region_w[0]}, {"region": "西", "weight": region_w[1]}],
             class_weights=[{"area_class": c, "weight": w} for c, w in zip("ABC", class_w, strict=True)])
    df, _ = decompose(s, "revenue")
    check_nesting(df, "revenue", "plan", unit)
    assert level_sums(df, "revenue")["rep"] == plan


def test_default_setup_every_kind_and_basis_adds_up():
    df, issues = decompose(Setup.default(), None, "both")
    assert [i for i in issues if i.severity == "error"] == []
    assert set(df["kind"]) == {"revenue", "gross_margin", "new_customers", "collections"}
    for kind, unit in (("revenue", 1000), ("gross_margin", 1000), ("new_customers", 1), ("collections", 1000)):
        for basis in ("plan", "raised"):
            check_nesting(df, kind, basis, unit)
    r012 = pick(df[df["kind"] == "revenue"], "rep", rep="R012")["target"].sum()
    r011 = pick(df[df["kind"] == "revenue"], "rep", rep="R011")["target"].sum()
    assert r012 < r011  # R012 is new at a 50% ramp


def test_rerun_gives_the_same_table():
    a, _ = decompose(tiny(), None, "both")
    b, _ = decompose(tiny(), None, "both")
    pd.testing.assert_frame_equal(a, b)


def test_basis_selection():
    plan, _ = decompose(tiny(), "revenue")
    raised, _ = decompose(tiny(), "revenue", True)
    assert set(plan["basis"]) == {"plan"} and set(raised["basis"]) == {"raised"}
    assert raised[raised["level"] == "company"]["target"].tolist() == [1_320_000]


def test_sub_unit_total_is_kept_exactly():
    s = tiny(targets=[{"kind": "revenue", "year": 2026, "plan": 1_200_499, "raised": None, "unit": 1000}])
    df, _ = decompose(s, "revenue")
    for lv in LEVELS:
        assert level_sums(df, "revenue")[lv] == 1_200_499
    assert (pick(df, "region")["target"] % 1000 != 0).sum() == 1


def test_fiscal_year_starting_in_april():
    assert fiscal_months(2026, 4)[0] == (2026, 4) and fiscal_months(2026, 4)[-1] == (2027, 3)
    s = tiny()
    s.tables["settings"].loc[s.tables["settings"]["key"] == "fiscal_year_start", "value"] = "2026-04-01"
    df, _ = decompose(s, "revenue")
    months = pick(df, "month", area="甲")
    assert months["period"].tolist()[0] == "2026-04" and months["period"].tolist()[-1] == "2027-03"
    # indices follow the calendar month: March (1) and December (2)
    assert months.set_index("period")["target"]["2026-12"] == 2 * months.set_index("period")["target"]["2027-03"]


def test_working_days_exclude_weekends_and_holidays():
    assert len(working_days(2026, 3, set())) == 22
    days = working_days(2026, 2, {dt.date(2026, 2, d) for d in range(16, 23)})
    assert len(days) == 15 and all(d.weekday() < 5 for d in days)


# ---------------------------------------------------------------------------
# Actuals-based weights.

def test_weights_and_season_from_actuals():
    acts = pd.DataFrame({"region": ["东", "西", "东", "西"], "amount": [300, 100, 0, -50],
                         "date": [dt.date(2025, 1, 5), dt.date(2025, 2, 5), dt.date(2025, 2, 9), dt.date(2025, 12, 1)]})
    assert weights_from_actuals(acts) == {"东": 300.0, "西": 50.0}
    season = season_from_actuals(acts)
    assert len(season) == 12 and season[0] == pytest.approx(12 * 300 / 400) and season[11] == 0
    with pytest.raises(ValueError, match="0"):
        season_from_actuals(acts.assign(amount=0))


def test_no_region_weights_uses_actuals_or_equal():
    s = tiny(region_weights=[])
    df, issues = decompose(s, "revenue")
    assert dict(pick(df, "region")[["region", "target"]].itertuples(index=False)) == {"东": 600_000, "西": 600_000}
    assert [i.rule for i in issues] == ["target_no_weights"]
    acts = pd.DataFrame({"region": ["东", "西"], "amount": [3, 1], "date": [dt.date(2025, 1, 1)] * 2})
    df, _ = decompose(s, "revenue", actuals=acts)
    assert dict(pick(df, "region")[["region", "target"]].itertuples(index=False)) == {"东": 900_000, "西": 300_000}


# ---------------------------------------------------------------------------
# Bad setup: an issue naming the cell, and every level still adds up.

def issues_of(s: Setup) -> tuple[pd.DataFrame, list]:
    df, issues = decompose(s, "revenue")
    sums = level_sums(df, "revenue")
    assert len(set(sums.values())) == 1, sums
    return df, issues


def only(issues: list, rule: str):
    hits = [i for i in issues if i.rule == rule]
    assert len(hits) == 1, issues
    return hits[0]


def test_region_weights_summing_to_zero():
    _, issues = issues_of(tiny(region_weights=[{"region": "东", "weight": 0}, {"region": "西", "weight": 0}]))
    i = only(issues, "target_weights_zero")
    assert (i.file, i.sheet, i.cell, i.severity) == ("manager.xlsx", "大区权重", "B3", "error")
    assert "平均" in i.zh and "equally" in i.en


def test_area_weights_summing_to_zero_in_a_class():
    areas = tiny_rows()["area_weights"]
    areas[3]["weight"] = 0  # 丁, the only A area of 西
    df, issues = issues_of(tiny(area_weights=areas))
    assert only(issues, "target_weights_zero").cell == "D6"


def test_negative_season_index():
    season = tiny_rows()["seasonality"]
    season[2]["index"] = -1
    df, issues = issues_of(tiny(seasonality=season))
    i = only(issues, "target_negative")
    assert (i.sheet, i.cell, i.value) == ("旺淡季指数", "B5", "-1")
    assert pick(df, "month", area="甲", period="2026-03")["target"].tolist() == [0]


def test_rep_in_no_area():
    roster = tiny_rows()["roster"]
    roster[2]["area"] = "庚"
    df, issues = issues_of(tiny(roster=roster))
    i = only(issues, "target_rep_no_area")
    assert (i.sheet, i.cell, i.value) == ("名单", "E5", "庚")
    assert "R3" in i.zh and "R3" in i.en
    assert pick(df, "rep", rep="R3").empty
    assert set(pick(df, "rep", area="乙")["rep"]) == {UNASSIGNED}
    assert only(issues, "target_area_no_rep").cell == "B4"


def test_region_with_reps_but_no_weight():
    roster = [*tiny_rows()["roster"], rep("R8", "北", "")]
    df, issues = issues_of(tiny(roster=roster))
    i = only(issues, "target_region_no_weight")
    assert (i.sheet, i.cell, i.value) == ("名单", "D10", "北")
    got = dict(pick(df, "region")[["region", "target"]].itertuples(index=False))
    assert got == {"东": 480_000, "西": 320_000, "北": 400_000}  # 北 takes the mean weight 50
    assert pick(df, "rep", rep="R8")["target"].sum() == 400_000  # one stand-in area named like the region


@pytest.mark.parametrize("months, cell", [
    (list(range(1, 12)), "A13"),  # December missing: points at the last row
    ([1, 2, 3, 3, 5, 6, 7, 8, 9, 10, 11, 12], "A6"),  # March twice
    (list(range(1, 12)) + [13], "A14"),
])
def test_seasonality_not_twelve_months(months, cell):
    season = [{"month": m, "index": 1} for m in months]
    df, issues = issues_of(tiny(seasonality=season))
    i = only(issues, "target_season_months")
    assert i.cell == cell and i.severity == "error"
    assert pick(df, "month", area="甲")["target"].tolist() == [30_000] * 12


def test_area_class_without_weight():
    areas = tiny_rows()["area_weights"]
    areas[4]["area_class"] = "D"
    _, issues = issues_of(tiny(area_weights=areas))
    assert only(issues, "target_class_no_weight").cell == "C7"


def test_zero_rep_shares_fall_back_to_equal():
    roster = tiny_rows()["roster"]
    roster[4]["share"], roster[5]["share"] = 0, 0
    df, issues = issues_of(tiny(roster=roster))
    assert pick(df, "rep", rep="R5")["target"].sum() == 185_000  # split equally meanwhile
    assert only(issues, "target_weights_zero").cell == "I7"


def test_an_area_of_ramping_reps_leaves_the_rest_unassigned():
    roster = tiny_rows()["roster"]
    roster[4]["ramp"], roster[5]["ramp"] = 0.5, 0  # 丁's two reps: ¼ of the area to R5, nothing to R6
    df, issues = issues_of(tiny(roster=roster))
    r5 = pick(df, "rep", rep="R5")["target"].sum()
    rest = pick(df, "rep", rep=UNASSIGNED)
    assert pick(df, "rep", rep="R6")["target"].sum() == 0
    assert r5 + rest[rest["area"] == "丁"]["target"].sum() == 369_000  # 丁's whole year, nothing lost
    # month by month (thousands) R5 gets ¼ of 丁: Jan, Feb 15 → 3.75, the larger fraction → 4 each; Mar–Oct
    # 31 → 7.75 → 8 each (64); Nov 30 → 7.5, a tie, and R5 is 2.5 ahead of its exact share → 7; Dec 61 →
    # 15.25 → 15.  4 + 4 + 64 + 7 + 15 = 94 (the exact ¼ of the year is 92.25)
    assert r5 == 94_000
    (issue,) = [i for i in issues if i.rule == "target_ramp_unassigned"]
    assert "丁" in issue.zh and "75%" in issue.zh and issue.severity == "warning"


def test_a_new_rep_alone_in_the_demo_area_carries_half():
    df, issues = decompose(Setup.default(), "revenue")
    dg = df[(df["level"] == "rep") & (df["area"] == "东莞")]
    area = df[(df["level"] == "area") & (df["area"] == "东莞")]["target"].sum()
    assert dg[dg["rep"] == "R012"]["target"].sum() * 2 == area  # R012 is at 50% ramp, alone in 东莞
    assert dg[dg["rep"] == UNASSIGNED]["target"].sum() * 2 == area
    assert any(i.rule == "target_ramp_unassigned" and "东莞" in i.zh for i in issues)


def test_bad_unit_and_missing_kind():
    s = tiny(targets=[{"kind": "revenue", "year": 2026, "plan": 1_200_000, "raised": None, "unit": -5}])
    df, issues = decompose(s, ["revenue", "collections"])
    assert only(issues, "target_bad_unit").cell == "E3"
    assert only(issues, "target_missing").severity == "warning"
    assert (df["target"] % 1000 == 0).all()  # the setting's unit


# ---------------------------------------------------------------------------
# Bottom-up check.

def test_bottom_up_gap(tiny_df):
    proposed = pd.DataFrame([
        {"level": "rep", "name": "R1", "period": "2026", "target": 300_000},
        {"level": "rep", "name": "R2", "period": "2026-03", "target": 12_000},
        {"level": "region", "name": "东", "period": "2026", "target": 700_000},
        {"level": "area", "name": "丁", "period": "2026-12", "target": 61_000},
        {"level": "team", "name": "T3", "period": "2026", "target": 500_000},
        {"level": "rep", "name": "R99", "period": "2026", "target": 5},
    ])
    gap = bottom_up_gap(tiny_df, proposed, tiny())
    rows = {(r.level, r.name, r.period): r for r in gap.itertuples()}
    assert rows[("rep", "R1", "2026")].top_down == 270_000 and rows[("rep", "R1", "2026")].gap == 30_000
    assert rows[("rep", "R2", "2026-03")].top_down == 7_000 and rows[("rep", "R2", "2026-03")].gap == 5_000
    assert rows[("region", "东", "2026")].gap == -20_000
    assert rows[("region", "东", "2026")].gap_pct == pytest.approx(-20 / 720)
    assert rows[("area", "丁", "2026-12")].gap == 0
    assert rows[("team", "T3", "2026")].top_down == 369_000 + 111_000
    assert not rows[("rep", "R99", "2026")].matched
    total = rows[("rep", "合计 Total", "2026")]
    assert (total.top_down, total.bottom_up, total.gap) == (270_000, 300_005, 30_005)


# ---------------------------------------------------------------------------
# The workbook.

@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("targets") / "reports" / "targets.xlsx"
    return out, build_targets_workbook(tiny(), out)


def test_workbook_json_shape(tiny_book):
    out, res = tiny_book
    assert res["workbook"] == str(out)
    rev = res["kinds"]["revenue"]
    assert rev["target"] == 1_200_000
    assert {"region", "area", "month", "day", "rep"} <= set(rev["levels"])
    assert set(rev["levels"].values()) == {1_200_000}
    assert set(rev["raised"]["levels"].values()) == {1_320_000}
    json.dumps(res, ensure_ascii=False)
    assert [p.name for p in out.parent.iterdir()] == ["targets.xlsx"]  # no temp file left


def test_workbook_sheets_table_and_cached_formulas(tiny_book):
    out, _ = tiny_book
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["销售额", "目标明细"]
    long = wb["目标明细"]
    assert LONG_TABLE in long.tables
    ref = long.tables[LONG_TABLE].ref
    df, _ = decompose(tiny(), None, "both")
    assert ref == f"A1:H{len(df) + 1}"
    assert [c.value for c in long[1]] == ["目标类型 Kind", "口径 Basis", "层级 Level", "大区 Region", "区域 Area",
                                          "业务员 Rep", "期间 Period", "目标 Target"]
    ws = wb["销售额"]
    cached = openpyxl.load_workbook(out, data_only=True)["销售额"]
    formulas = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert formulas and all("SUMIFS(" in c.value or c.value.startswith("=SUM(") for c in formulas)
    labels: dict = {}  # first row of each label: the plan blocks come first
    for row in range(1, ws.max_row + 1):
        labels.setdefault(cached.cell(row, 1).value, row)
    r = labels["东"]  # first block: plan, regions × months
    assert [cached.cell(r, c).value for c in range(5, 18)] == [
        sum(1000 * EXPECTED_MONTHS[a][m] for a in "甲乙丙") for m in range(12)] + [720_000]
    totals = [row for row in range(1, ws.max_row + 1) if cached.cell(row, 1).value == "合计 Total"]
    assert len(totals) == 6
    assert all(cached.cell(row, 17).value in (1_200_000, 1_320_000) for row in totals)
    reps: dict = {}
    for row in range(1, ws.max_row + 1):
        reps.setdefault(cached.cell(row, 3).value, row)
    assert cached.cell(reps["R5"], 17).value == 185_000 and cached.cell(reps["R5"], 4).value == "名R5"


def test_workbook_lists_issues_when_any(tmp_path):
    roster = tiny_rows()["roster"]
    roster[2]["area"] = "庚"
    build_targets_workbook(tiny(roster=roster), tmp_path / "t.xlsx", lang="en")
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames == ["Revenue", "Target detail", "Issues"]
    rules = [wb["Issues"].cell(r, 2).value for r in range(2, wb["Issues"].max_row + 1)]
    assert "target_rep_no_area" in rules


def test_run_reports_a_missing_manager_workbook(tmp_path, capsys):
    assert main(["targets", str(tmp_path), "--json"]) == 2
    assert "manager" in capsys.readouterr().err


def test_run_json_on_an_initialised_folder(tmp_path, capsys):
    from xlsales.cli import do_init

    do_init(tmp_path / "m", "zh", None, False, dt.date(2026, 11, 23))
    assert main(["targets", str(tmp_path / "m"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["workbook"] == str(tmp_path / "m" / "reports" / "targets.xlsx")
    for kind, v in res["kinds"].items():
        assert set(v["levels"].values()) == {v["target"]}, kind
    assert res["kinds"]["revenue"]["target"] == 120_000_000


@pytest.mark.libreoffice
def test_workbook_formulas_agree_with_libreoffice(tiny_book, tmp_path, soffice_required):
    from xlsales.io.libreoffice import check_formulas

    out, _ = tiny_book
    got = check_formulas(out, tmp_path)
    assert got.cells > 300
    assert got.mismatches == []


def test_issue_names_the_cell_of_a_real_manager_workbook(tmp_path):
    from xlsales.io.manager import load_setup
    from xlsales.report.templates import build_manager_workbook

    roster = tiny_rows()["roster"]
    roster[2]["area"] = "庚"
    build_manager_workbook(tmp_path / "manager.xlsx", tiny(roster=roster), "zh")
    s, load_issues = load_setup(tmp_path)
    assert [i for i in load_issues if i.severity == "error"] == []
    df, issues = decompose(s, "revenue")
    i = only(issues, "target_rep_no_area")
    f, sheet, cell = s.where("roster", 2, "area")
    assert (i.file, i.sheet, i.cell) == (f, sheet, cell) == ("manager.xlsx", "名单", cell)
    ws = openpyxl.load_workbook(tmp_path / "manager.xlsx")[sheet]
    assert ws[cell].value == "庚"
    assert level_sums(df, "revenue")["rep"] == 1_200_000


def test_no_targets_or_no_regions_is_reported():
    df, issues = decompose(tiny(targets=[]))
    assert df.empty and only(issues, "target_missing").severity == "warning"
    df, issues = decompose(tiny(area_weights=[], roster=[], region_weights=[]), "revenue")
    assert only(issues, "target_no_regions").severity == "error"
    assert level_sums(df, "revenue")["region"] == 0


# --- bottom-up proposals from the setup ------------------------------------------------------

def test_proposals_table_feeds_the_bottom_up_sheet(tmp_path):
    """R001 proposes 3,000,000 for 2026-12 where the top-down split gives 2,125,000: gap +875,000 (+41.18%)."""
    import openpyxl

    from xlsales.core.schema import PROPOSALS
    from xlsales.core.setup import frame
    from xlsales.report.targets_book import GAP_SHEET, build_targets_workbook

    setup = Setup.default()
    setup.tables["proposals"] = frame(PROPOSALS, [
        {"level": "rep", "name": "R001", "period": "2026-12", "kind": "revenue", "target": 3_000_000},
        {"level": "rep", "name": "R002", "period": "2026-12-01", "kind": "revenue", "target": 2_000_000},
    ])
    out = tmp_path / "targets.xlsx"
    build_targets_workbook(setup, out)
    ws = openpyxl.load_workbook(out, data_only=True)[GAP_SHEET["zh"]]
    rows = {(r[2], r[3]): r for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    r1 = rows[("业务员", "R001")]
    assert (r1[4], r1[5], r1[6], r1[7]) == ("2026-12", 2_125_000, 3_000_000, 875_000)
    assert r1[8] == pytest.approx(875_000 / 2_125_000)
    r2 = rows[("业务员", "R002")]  # a month typed as a date in Excel still means the month
    assert (r2[4], r2[5], r2[6], r2[7]) == ("2026-12", 2_125_000, 2_000_000, -125_000)
    total = rows[("业务员", "合计 Total")]
    assert (total[5], total[6], total[7]) == (4_250_000, 5_000_000, 750_000)


def test_no_proposals_no_bottom_up_sheet(tmp_path):
    import openpyxl

    from xlsales.report.targets_book import GAP_SHEET, build_targets_workbook

    out = tmp_path / "targets.xlsx"
    build_targets_workbook(Setup.default(), out)
    assert GAP_SHEET["zh"] not in openpyxl.load_workbook(out, read_only=True).sheetnames


def test_reports_read_targets_from_the_targets_workbook(tmp_path):
    """A manager's edit of the long table in reports/targets.xlsx is what the reports compare against."""
    import openpyxl

    from xlsales.io.targets_file import load_targets
    from xlsales.report.targets_book import LONG_SHEET, default_out

    setup = Setup.default()
    df, source = load_targets(setup, tmp_path)
    assert source == "setup" and len(df)
    out = default_out(setup, tmp_path)
    build_targets_workbook(setup, out)
    wb = openpyxl.load_workbook(out)
    ws = wb[LONG_SHEET["zh"]]
    for row in ws.iter_rows(min_row=2):
        kind, basis, level, _, _, rep, period = (c.value for c in row[:7])
        if (kind, basis, level, rep, period) == ("revenue", "raised", "rep", "R001", "2026-11"):
            row[7].value = 1_234_000
            break
    else:
        raise AssertionError("R001's November raised target row not found")
    wb.save(out)
    got, source = load_targets(setup, tmp_path)
    assert source == str(out)
    hit = got[(got["kind"] == "revenue") & (got["basis"] == "raised") & (got["level"] == "rep")
              & (got["rep"] == "R001") & (got["period"] == "2026-11")]
    assert hit["target"].tolist() == [1_234_000]
    assert len(got) == len(df) and set(got["level"]) == {"rep"}  # the reports read rep-months only


def test_a_tie_goes_to_the_larger_weight():
    # 2 units over weights 2 and 6: exact shares 0.5 and 1.5, floors 0 and 1, one unit left and the two
    # remainders tie at .5 — the larger weight takes it, wherever it stands
    assert split(2, [2, 6]) == [0, 2]
    assert split(2, [6, 2]) == [2, 0]
    # equal weights tie on everything but their place: the earlier one
    assert split(1, [1, 1]) == [1, 0]
