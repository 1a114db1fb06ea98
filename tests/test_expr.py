"""One definition, two results: expressions evaluated by numpy and written as formulas (hand-computed cases)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from xlsales.core.expr import (
    Children,
    Figure,
    Grid,
    Max,
    Name,
    Ratio,
    Ref,
    Row,
    Sum,
    Table,
    eq,
    ge,
    gt,
    le,
    literal_criterion,
    nonblank,
    round_half_up,
)
from xlsales.core.money import cents

D = dt.date
DEALS = pd.DataFrame([
    # rep, category, amount, close date, note
    ("R1", "已成交", 100.0, D(2026, 11, 2), "x"),
    ("R1", "已成交", 50.5, D(2026, 11, 30), None),
    ("r1", "承诺", 30.0, D(2026, 11, 3), ""),  # lower-case id: SUMIFS matches it to R1
    ("R2", "已成交", 70.0, D(2026, 10, 31), "y"),  # before the window
    ("R2", "已成交", 20.0, D(2026, 11, 15), None),
    ("华东*", "已成交", 5.0, D(2026, 11, 15), None),  # a literal star, not a wildcard
    ("R2", "承诺", None, D(2026, 11, 15), None),  # blank amount counts 0
], columns=["rep_id", "category", "amount", "close_date", "note"])


def table() -> Table:
    return Table("deals", "商机", 3, {"rep_id": "A", "category": "B", "amount": "C", "close_date": "D", "note": "E"},
                 DEALS)


def grid() -> Grid:
    # rows 5, 6, 7: reps R1, R2, 华东*; row 8 the team of the first two; row 9 the company (team + R3's row)
    rows = [Row(5, (eq("rep_id", "R1"),)), Row(6, (eq("rep_id", "R2"),)), Row(7, (eq("rep_id", "华东*"),)),
            Row(8, children=(0, 1)), Row(9, children=(3, 2))]
    return Grid(rows, ["rep", "rep", "rep", "team", "company"], {"won": "F", "commit": "G", "share": "H", "n": "I"})


def test_sums_by_entity_and_window_with_their_formulas() -> None:
    t = table()
    won = Sum(t, "amount", (eq("category", "已成交"), ge("close_date", D(2026, 11, 1)), le("close_date", D(2026, 11, 30))))
    commit = Sum(t, "amount", (eq("category", "承诺"),))
    g = grid().compute([
        Figure("won", {"rep": won, "team": Children("won"), "company": Children("won")}),
        Figure("commit", {"rep": commit, "team": Children("commit"), "company": Children("commit")}),
        Figure("share", {lv: Ratio(Ref("won"), Ref("won") + Ref("commit")) for lv in ("rep", "team", "company")},
               money=False),
        Figure("n", {"rep": Sum(t, None, (nonblank("note"),))}, money=False),
    ])
    # R1: 100 + 50.5 in November; r1's commit 30 is R1's.  R2: 20 (70 is October).  华东*: 5.
    assert list(g.values["won"]) == [150.5, 20.0, 5.0, 170.5, 175.5]
    assert list(g.values["commit"]) == [30.0, 0.0, 0.0, 30.0, 30.0]
    assert g.values["share"][0] == 150.5 / 180.5 and g.values["share"][2] == 1.0
    assert list(g.values["n"][:3]) == [1.0, 1.0, 0.0]  # "x" for R1 ("" is blank), "y" for R2
    assert g.formulas["won"][0] == ("=SUMIFS('商机'!$C$3:$C$9,'商机'!$B$3:$B$9,\"=已成交\",'商机'!$D$3:$D$9,"
                                    "\">=\"&DATE(2026,11,1),'商机'!$D$3:$D$9,\"<=\"&DATE(2026,11,30),"
                                    "'商机'!$A$3:$A$9,\"=R1\")")
    assert g.formulas["won"][2].endswith(",'商机'!$A$3:$A$9,\"=华东~*\")")
    assert g.formulas["won"][3] == "=SUM($F$5:$F$6)"
    assert g.formulas["won"][4] == "=SUM($F$8,$F$7)"
    assert g.formulas["share"][0] == '=IF(($F$5+$G$5)=0,"",($F$5)/($F$5+$G$5))'
    assert g.formulas["n"][0] == "=COUNTIFS('商机'!$E$3:$E$9,\"<>\",'商机'!$A$3:$A$9,\"=R1\")"
    assert g.formulas["n"][3] is None  # no team-level definition: the cell stays empty


def test_a_ratio_over_zero_is_blank_and_says_so() -> None:
    t = table()
    g = Grid([Row(2, (eq("rep_id", "nobody"),))], ["rep"], {"a": "B", "b": "C", "r": "D"}).compute([
        Figure("a", {"rep": Sum(t, "amount", ())}),
        Figure("b", {"rep": Sum(t, "amount", (eq("category", "nothing"),))}),
        Figure("r", {"rep": Ratio(Ref("a"), Ref("b"))}, money=False)])
    assert math.isnan(g.values["r"][0]) and g.value("r", 0) is None
    assert g.formulas["r"][0] == '=IF(OR($C$2="",$C$2=0,$B$2=""),"",$B$2/$C$2)'


def test_thresholds_max_and_counts_above() -> None:
    t = table()
    g = Grid([Row(2)], ["company"], {"big": "B", "m": "C"}).compute([
        Figure("big", {"company": Sum(t, None, (gt("amount", 50),))}, money=False),
        Figure("m", {"company": Max((Ref("big") - Name("xs_t_x", 5.0), Sum(t, "amount", (eq("rep_id", "R2"),))))}),
    ])
    assert g.values["big"][0] == 3.0  # 100, 50.5, 70
    assert g.values["m"][0] == 90.0  # max(3 − 5, 70 + 20)
    assert g.formulas["m"][0] == "=MAX($B$2-xs_t_x,SUMIFS('商机'!$C$3:$C$9,'商机'!$A$3:$A$9,\"=R2\"))"


def test_criteria_are_literal() -> None:
    assert literal_criterion("华东*") == '"=华东~*"'
    assert literal_criterion("a?b~") == '"=a~?b~~"'
    assert literal_criterion('<x"') == '"=<x"""'  # compared for equality, quotes doubled


def test_half_cents_round_as_excel() -> None:
    assert round_half_up(31.15 * 0.7) == 21.81  # Python's round gives 21.8
    assert round_half_up(-2.675) == -2.68
    assert list(round_half_up(np.array([0.005, 1.005, 2.5]), 0)) == [0.0, 1.0, 3.0]


def test_a_number_too_large_to_scale_rounds_to_itself() -> None:
    """ROUND(x, 2) of a number past 10^306 (x × 100 overflows) is x, as in Excel: it has no cents to round."""
    for x in (1.797693134862316e306, -1.797693134862316e306, 1.7976931348623157e308):
        assert round_half_up(x) == x and round_half_up(np.array([x]))[0] == x and cents(x) == x


@given(st.integers(0, 10**11), st.sampled_from([0.05, 0.15, 0.25, 0.33, 0.5, 0.6, 0.7, 0.8, 0.9]))
def test_vector_rounding_is_the_scalar_rounding(cents_amount: int, p: float) -> None:
    x = cents_amount / 100 * p
    assert round_half_up(np.array([x]))[0] == cents(x)


def test_a_rep_reads_only_its_own_rows_when_the_table_keeps_them_together():
    t = Table("deals", "商机", 3, {"rep_id": "A", "amount": "B"},
              pd.DataFrame({"rep_id": ["R1", "R1", "R2", "R2", "R2"], "amount": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    g = Grid([Row(5, (eq("rep_id", "R1"),)), Row(6, (eq("rep_id", "R2"),)), Row(7, (eq("rep_id", "R3"),))],
             ["rep"] * 3, {"x": "C"}).compute([Figure("x", {"rep": Sum(t, "amount", ())})])
    assert list(g.values["x"]) == [3.0, 12.0, 0.0]
    # sheet rows 3–4 are R1's, 5–7 R2's; R3 has none
    assert g.formulas["x"][0] == "=SUMIFS('商机'!$B$3:$B$4,'商机'!$A$3:$A$4,\"=R1\")"
    assert g.formulas["x"][1] == "=SUMIFS('商机'!$B$5:$B$7,'商机'!$A$5:$A$7,\"=R2\")"
    assert g.formulas["x"][2] == "=0"
    # rows out of order: every formula reads the whole column
    shuffled = Table("deals", "商机", 3, {"rep_id": "A", "amount": "B"},
                     pd.DataFrame({"rep_id": ["R1", "R2", "R1"], "amount": [1.0, 3.0, 2.0]}))
    g = Grid([Row(5, (eq("rep_id", "R1"),))], ["rep"], {"x": "C"}).compute(
        [Figure("x", {"rep": Sum(shuffled, "amount", ())})])
    assert g.formulas["x"][0] == "=SUMIFS('商机'!$B$3:$B$5,'商机'!$A$3:$A$5,\"=R1\")" and g.values["x"][0] == 3.0


@given(st.lists(st.one_of(st.floats(min_value=-1e13, max_value=1e13), st.just(math.nan),
                          st.integers(-10**9, 10**9).map(lambda c: c / 200)), min_size=1, max_size=40))
def test_a_column_of_cached_values_is_each_cell_s_value(xs: list[float]) -> None:
    """The per-column rounding a sheet is written with gives exactly each cell's own cached value."""
    g = Grid([Row(i + 2) for i in range(len(xs))], ["rep"] * len(xs), {"m": "B", "r": "C"})
    g.values = {"m": np.array(xs, dtype=float), "r": np.array(xs, dtype=float)}
    g.money = {"m"}
    for key in ("m", "r"):
        assert g.column(key) == [g.value(key, i) for i in range(len(xs))]
    assert [v is None for v in g.column("m")] == [x != x for x in xs]


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15), st.integers(0, 4))
def test_one_number_rounds_as_the_array_does(x: float, digits: int) -> None:
    assert round_half_up(x, digits) == round_half_up(np.array([x]), digits)[0]


@given(st.lists(st.one_of(st.none(), st.text(max_size=4), st.floats(), st.integers(-2**60, 2**60), st.booleans(),
                          st.dates(), st.just(pd.NaT), st.just(np.float64("nan"))), max_size=30))
def test_a_table_column_reads_texts_numbers_and_blanks_as_value_by_value(raw: list) -> None:
    """A column of only texts, numbers and blanks is normalised in two passes: exactly the numbers and texts the
    value-by-value reading gives (any other kind of value is read value by value)."""
    from xlsales.core.expr import _any_column, _plain_column

    fast = _plain_column(raw)
    plain = all(type(v) in (str, float, int, type(None)) for v in raw)
    assert (fast is not None) == plain
    if fast is not None:
        nums, text = _any_column(raw)
        assert fast[1].dtype == object and list(fast[1]) == list(text)
        assert np.array_equal(fast[0], nums, equal_nan=True) and fast[0].dtype == nums.dtype


def test_a_table_column_compares_as_sumifs_does() -> None:
    """Texts case-folded, numbers as numbers, blanks as neither."""
    t = Table("t", "S", 2, {"x": "A"}, pd.DataFrame({"x": ["Acme", 3, None, 2.5, math.nan, "ÄB"]}, dtype=object))
    nums, text = t.column("x")
    assert list(text) == ["acme", "", "", "", "", "äb"]
    assert np.array_equal(nums, [np.nan, 3.0, np.nan, 2.5, np.nan, np.nan], equal_nan=True)
