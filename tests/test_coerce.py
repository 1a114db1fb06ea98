"""Tests of xlsales.coerce: every coercion reps rely on, its note, and the rule id of every failure."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlsales.core.defaults import LISTS, STAGES
from xlsales.core.issues import make
from xlsales.core.money import cents
from xlsales.io import coerce as c
from xlsales.io.coerce import CoerceError, Parsed

STAGE_OPTIONS = [(s["en"], s["zh"], s["en"]) for s in STAGES]
STAGE_NUMBERS = [(s["probability"], s["en"]) for s in STAGES]
ALL_ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
              "#GETTING_DATA"]


def fails(fn, *args, **kw) -> CoerceError:
    with pytest.raises(CoerceError) as info:
        fn(*args, **kw)
    return info.value


# --- CoerceError, is_blank, excel_error -------------------------------------------

def test_coerce_error_carries_rule_and_params_that_fill_the_template():
    err = CoerceError("bad_choice", allowed="是/Yes, 否/No")
    assert (err.rule, err.params) == ("bad_choice", {"allowed": "是/Yes, 否/No"})
    issue = make(err.rule, value="maybe", column="Active", **err.params)
    assert "是/Yes, 否/No" in issue.en


def test_coerce_error_rejects_unknown_rule():
    with pytest.raises(ValueError):
        CoerceError("no_such_rule")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", " \t\n\u3000 ", "\u200b", float("nan")])
def test_is_blank(raw):
    assert c.is_blank(raw)


@pytest.mark.parametrize("raw", [0, 0.0, False, "0", "x", " a ", dt.date(2026, 1, 1), "\u200bx", "\u3000甲", "\ufeff\u200d 1"])
def test_is_not_blank(raw):
    assert not c.is_blank(raw)


_INVISIBLE_OR_SPACE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", " ", "\t", "\n", "\u3000", "\xa0"])


@given(st.lists(_INVISIBLE_OR_SPACE, max_size=4).map("".join), st.text(max_size=6),
       st.lists(_INVISIBLE_OR_SPACE, max_size=4).map("".join))
def test_a_text_is_blank_when_nothing_visible_is_left(before, middle, after):
    """Blank = nothing left once zero-width characters are dropped and whitespace stripped, whatever the text starts
    with (a text that starts with a visible character is decided without dropping anything)."""
    raw = before + middle + after
    visible = [ch for ch in raw if not ch.isspace() and ch not in "\u200b\u200c\u200d\u2060\ufeff"]
    assert c.is_blank(raw) is (not visible)


@pytest.mark.parametrize("raw", ALL_ERRORS)
def test_excel_error_recognised(raw):
    assert c.excel_error(raw) == raw
    assert c.excel_error(f" {raw.lower()} ") == raw


@pytest.mark.parametrize("raw", ["", "N/A", "#", "#hashtag", "NA", 0, None, True, 3.5])
def test_excel_error_none_for_other_values(raw):
    assert c.excel_error(raw) is None


def test_excel_error_in_full_width_or_small_forms_is_still_an_error():
    assert c.excel_error("＃N/A") == "#N/A" and c.excel_error("\u200b﹟REF!") == "#REF!"


def test_only_the_known_characters_normalise_to_a_number_sign():
    """excel_error skips text without one of these characters: no other character may turn into "#"."""
    found = {chr(n) for n in range(0x110000) if "#" in unicodedata.normalize("NFKC", chr(n))}
    assert found == set(c._HASHES)


CALLS = [
    lambda r: c.to_amount(r), lambda r: c.to_number(r), lambda r: c.to_int(r), lambda r: c.to_percent(r),
    lambda r: c.to_date(r), lambda r: c.to_month(r), lambda r: c.to_bool(r),
    lambda r: c.to_choice(r, STAGE_OPTIONS, STAGE_NUMBERS),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("raw", ALL_ERRORS)
def test_excel_errors_are_never_coerced(call, raw):
    assert fails(call, raw).rule == "excel_error"


# --- amounts -------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("1,200,000", 1_200_000), ("1，200，000", 1_200_000), ("120万", 1_200_000), ("1.2亿", 120_000_000),
    ("¥5,000", 5000), ("￥5000", 5000), ("RMB 5000", 5000), ("5000元", 5000), ("5k", 5000), ("5K", 5000),
    ("3.5千", 3500), ("(1,000)", -1000), ("（1,000）", -1000), ("-500", -500), ("12000", 12000),
    ("120万元", 1_200_000), ("１２０万", 1_200_000), ("12,345.678", 12345.68), ("¥-500", -500), ("+5", 5),
])
def test_amount_text_is_read_with_a_note(raw, value):
    got = c.to_amount(raw)
    assert got.value == value
    assert isinstance(got.value, float)
    assert got.note is not None and got.note.startswith(raw.strip()) and "→" in got.note


def test_amount_note_shows_original_and_result():
    assert c.to_amount("120万") == Parsed(1_200_000.0, "120万 → 1,200,000")
    assert c.to_amount("(1,000)").note == "(1,000) → -1,000"


@pytest.mark.parametrize(("raw", "value"), [(12000, 12000.0), (1200000.5, 1200000.5), (-3.25, -3.25), (0, 0.0)])
def test_amount_number_passes_without_note(raw, value):
    assert c.to_amount(raw) == Parsed(value, None)


def test_amount_rounds_to_cents_and_says_so():
    assert c.to_amount(1234.567) == Parsed(1234.57, "1234.567 → 1,234.57")


@pytest.mark.parametrize("raw", ["abc", "5%", "1,2,3", "1.200,50", "--5", "-(5)", "5 5", "万", "", True,
                                 dt.date(2026, 1, 1), float("inf"), float("nan")])
def test_amount_garbage_is_bad_number(raw):
    assert fails(c.to_amount, raw).rule == "bad_number"


@given(st.floats(min_value=-1e13, max_value=1e13, allow_nan=False))
def test_amount_round_trips_through_its_formatted_text(x):
    assert c.to_amount(f"{x:,.2f}").value == float(f"{x:.2f}")
    assert c.to_amount(x).value == cents(x)  # a typed number is rounded as Excel's ROUND: 1.125 → 1.13


def test_a_half_cent_rounds_half_up_as_excel_does():
    assert c.to_amount(1.125).value == 1.13  # Python's round gives 1.12
    assert c.to_amount(31.15 * 0.7).value == 21.81


# --- plain numbers and integers ----------------------------------------------------------

def test_number():
    assert c.to_number(1.25) == Parsed(1.25, None)
    assert c.to_number("1.2万") == Parsed(12000.0, "1.2万 → 12,000")
    assert c.to_number("0.125").value == 0.125  # not rounded to cents
    assert fails(c.to_number, "n/a").rule == "bad_number"


@pytest.mark.parametrize(("raw", "value", "noted"), [(3, 3, False), (3.0, 3, False), ("2026", 2026, True),
                                                    ("1.2万", 12000, True), (2.9999999999999996, 3, False)])
def test_int(raw, value, noted):
    got = c.to_int(raw)
    assert got.value == value and type(got.value) is int
    assert (got.note is not None) == noted


@pytest.mark.parametrize("raw", [1.5, "1.5", "1.23456万"])
def test_int_rejects_fractions(raw):
    assert fails(c.to_int, raw).rule == "not_integer"


def test_int_rejects_text():
    assert fails(c.to_int, "twelve").rule == "bad_number"


# --- percentages --------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value", "note"), [
    ("90%", 0.9, "90% → 90%"), ("９０％", 0.9, "９０％ → 90%"), ("90.5%", 0.905, "90.5% → 90.5%"),
    (0.9, 0.9, None), (1, 1.0, None), (0, 0.0, None), (90, 0.9, "90 → 90%"), ("90", 0.9, "90 → 90%"),
    ("0.9", 0.9, "0.9 → 90%"), (130, 1.3, "130 → 130%"), ("130%", 1.3, "130% → 130%"), ("-5%", -0.05, "-5% → -5%"),
    (1.3, 1.3, None), (12.5, 0.125, "12.5 → 12.5%"),  # a percent-formatted cell holds 130% as 1.3
])
def test_percent(raw, value, note):
    assert c.to_percent(raw) == Parsed(value, note)


@pytest.mark.parametrize("raw", ["abc", "90 percent", "%", "9O%", "", True, dt.date(2026, 1, 1), float("nan")])
def test_percent_garbage_is_bad_percent(raw):
    assert fails(c.to_percent, raw).rule == "bad_percent"


# --- dates -----------------------------------------------------------------------------------

D = dt.date(2026, 11, 30)


def test_serial_numbers_follow_excel():
    assert c.serial_to_date(1) == dt.date(1900, 1, 1)
    assert c.serial_to_date(59) == dt.date(1900, 2, 28)
    assert c.serial_to_date(61) == dt.date(1900, 3, 1)  # after the phantom 1900-02-29
    assert fails(c.serial_to_date, 60).rule == "bad_date"
    assert c.serial_to_date(46000) == dt.date(2025, 12, 9)
    assert c.serial_to_date(0, epoch1904=True) == dt.date(1904, 1, 1)
    assert c.serial_to_date(46000.75) == dt.date(2025, 12, 9)  # time of day dropped
    assert c.date_to_serial(dt.date(2025, 12, 9)) == 46000
    assert c.date_to_serial(dt.date(1904, 1, 1), epoch1904=True) == 0


def test_serials_beyond_the_calendar_are_bad_dates():
    """Excel's last date is serial 2,958,465 (9999-12-31); anything past it, negative or not finite is a bad_date."""
    assert c.serial_to_date(2_958_465) == dt.date(9999, 12, 31)
    for serial in (2_958_466, 3_500_000, 1e308, -1, -0.5, float("inf"), float("-inf"), float("nan")):
        assert fails(c.serial_to_date, serial).rule == "bad_date", serial


@pytest.mark.parametrize(("fn", "raw", "rule"), [
    (c.to_date, 3_500_000, "bad_date"),  # a number pasted into a date column: year 11,482
    (c.to_date, 3_500_000.0, "bad_date"),
    (c.to_date, -5, "bad_date"),
    (c.to_date, dt.timedelta(days=10**8), "bad_date"),
    (c.to_date, float("inf"), "bad_date"),
    (c.to_month, 3_500_000, "bad_date"),
    (c.to_month, 1e308, "bad_date"),
    (c.to_month, -1e308, "bad_date"),
    (c.to_amount, "1" * 400, "bad_number"),  # 10^400 as text: no float holds it
    (c.to_amount, "1," + "000," * 10_000 + "000", "bad_number"),
    (c.to_number, "9" * 400, "bad_number"),
    (c.to_int, "9" * 400, "bad_number"),
    (c.to_percent, "9" * 400, "bad_percent"),
    (c.to_percent, "9" * 400 + "%", "bad_percent"),
])
def test_absurd_values_are_cell_errors_not_exceptions(fn, raw, rule):
    assert fails(fn, raw).rule == rule


def test_forty_digit_amount_text_is_read_exactly_to_the_cent():
    """More digits than the default decimal precision (28) still round to cents instead of raising."""
    assert c.to_amount("9" * 40).value == 1e40
    assert c.to_amount("1." + "1" * 40_000).value == 1.11


def test_date_from_serial_has_a_note():
    assert c.to_date(46000) == Parsed(dt.date(2025, 12, 9), "46000 → 2025-12-09")
    assert c.to_date(46000.0).note == "46000 → 2025-12-09"
    assert c.to_date(46000 - 1462, epoch1904=True).value == dt.date(2025, 12, 9)


@pytest.mark.parametrize("raw", [D, dt.datetime(2026, 11, 30, 14, 30)])
def test_date_objects_pass_without_note(raw):
    assert c.to_date(raw) == Parsed(D, None)


@pytest.mark.parametrize("raw", ["2026/11/30", "2026-11-30", "2026.11.30", "2026年11月30日", "2026年11月30号",
                                 "20261130", "2026-11-30 14:00:00", "2026/11/30 9:05", "11/30/2026", "30/11/2026",
                                 "30.11.2026", "２０２６－１１－３０", " 2026-11-30 ", "30 Nov 2026", "Nov 30, 2026",
                                 20261130])
def test_date_text_is_read_with_a_note(raw):
    got = c.to_date(raw)
    assert got.value == D
    assert got.note == f"{str(raw).strip()} → 2026-11-30"


def test_date_same_day_and_month_is_not_ambiguous():
    assert c.to_date("03/03/2026").value == dt.date(2026, 3, 3)


@pytest.mark.parametrize("raw", ["03/04/2026", "12/11/2026", "1-2-2026"])
def test_date_day_month_order_unknown_is_ambiguous(raw):
    assert fails(c.to_date, raw).rule == "ambiguous_date"


@pytest.mark.parametrize("raw", ["hello", "2026-02-30", "13/13/2026", "2026-11-30 25:00", "2026-11/30", "26/11/30",
                                 "", "下周", True, dt.time(9, 0), 61, 32000, 80000, -1, float("nan"),
                                 dt.timedelta(days=10, seconds=54610)])
def test_date_bad(raw):
    assert fails(c.to_date, raw).rule == "bad_date"


def test_date_sane_serial_range_edges():
    assert c.to_date(c.date_to_serial(dt.date(1990, 1, 1))).value == dt.date(1990, 1, 1)
    assert c.to_date(c.date_to_serial(dt.date(2100, 12, 31))).value == dt.date(2100, 12, 31)
    assert fails(c.to_date, c.date_to_serial(dt.date(1989, 12, 31))).rule == "bad_date"
    assert fails(c.to_date, c.date_to_serial(dt.date(2101, 1, 1))).rule == "bad_date"


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)),
       st.floats(min_value=0, max_value=0.999, allow_nan=False))
def test_date_round_trips_through_serials_and_chinese_text(d, time_of_day):
    serial_1900 = (d - dt.date(1899, 12, 30)).days  # computed independently of the module
    serial_1904 = (d - dt.date(1904, 1, 1)).days
    assert c.to_date(serial_1900).value == d
    assert c.to_date(serial_1900 + time_of_day).value == d
    assert c.to_date(float(serial_1904), epoch1904=True).value == d
    assert c.to_date(f"{d.year}年{d.month}月{d.day}日").value == d


# --- months ----------------------------------------------------------------------------------

NOV = dt.date(2026, 11, 1)


@pytest.mark.parametrize("raw", ["2026-11", "2026/11", "2026.11", "2026年11月", "2026年11月份", "2026-11-01",
                                 "2026-11-30", "202611", 202611, "Nov 2026", "11/2026", dt.date(2026, 11, 17),
                                 dt.datetime(2026, 11, 30, 8), c.date_to_serial(dt.date(2026, 11, 17))])
def test_month_is_reinterpreted_with_a_note(raw):
    got = c.to_month(raw)
    assert got.value == NOV
    assert got.note is not None and got.note.endswith("→ 2026-11")


@pytest.mark.parametrize("raw", [NOV, dt.datetime(2026, 11, 1)])
def test_month_first_of_month_passes_without_note(raw):
    assert c.to_month(raw) == Parsed(NOV, None)


@pytest.mark.parametrize(("raw", "rule"), [("2026-13", "bad_date"), ("11月", "bad_date"), ("abc", "bad_date"),
                                          (5, "bad_date"), ("03/04/2026", "ambiguous_date")])
def test_month_bad(raw, rule):
    assert fails(c.to_month, raw).rule == rule


# --- yes/no ----------------------------------------------------------------------------------

YES = ["是", "Y", "y", "yes", "YES", "√", "✓", "✔", "TRUE", "True", "true", "1", 1, 1.0, "对", "有", "已完成", " 是 "]
NO = ["否", "N", "n", "no", "No", "×", "✗", "FALSE", "False", "0", 0, 0.0, "错", "无", "未完成"]


@pytest.mark.parametrize("raw", YES)
def test_bool_yes(raw):
    assert c.to_bool(raw).value is True


@pytest.mark.parametrize("raw", NO)
def test_bool_no(raw):
    assert c.to_bool(raw).value is False


@pytest.mark.parametrize(("raw", "note"), [
    (True, None), (False, None), ("是", None), ("否", None), ("Yes", None), ("no", None),
    ("√", "√ → 是/Yes"), ("×", "× → 否/No"), (1, "1 → 是/Yes"), ("TRUE", "TRUE → 是/Yes"),
])
def test_bool_note(raw, note):
    assert c.to_bool(raw).note == note


@pytest.mark.parametrize("raw", ["x", "X", "maybe", "2", 2, 0.5, "是否", "", dt.date(2026, 1, 1)])
def test_bool_bad(raw):
    assert fails(c.to_bool, raw).rule == "bad_bool"


# --- choices ---------------------------------------------------------------------------------

PURPOSE = LISTS["purpose"]


@pytest.mark.parametrize(("raw", "code", "note"), [
    ("Lead", "Lead", None), ("导入", "Lead", None), ("  与客户会面 ", "Met", None),
    ("lead", "Lead", "lead → 线索/Lead"), ("ＬＥＡＤ", "Lead", "ＬＥＡＤ → 线索/Lead"),
    ("线索/Lead", "Lead", "线索/Lead → 线索/Lead"),
])
def test_choice_by_label(raw, code, note):
    assert c.to_choice(raw, STAGE_OPTIONS) == Parsed(code, note)


def test_choice_by_code_and_collapsed_spaces():
    assert c.to_choice("new_customer", PURPOSE) == Parsed("new_customer", None)
    assert c.to_choice("order  TAKING", PURPOSE).value == "order"
    assert c.to_choice("Ordertaking", PURPOSE).value == "order"


@pytest.mark.parametrize("raw", ["25%", "２５％", 0.25, 25, "25", "0.25", 25.0])
def test_choice_by_probability(raw):
    got = c.to_choice(raw, STAGE_OPTIONS, STAGE_NUMBERS)
    assert got.value == "Met"
    assert got.note is not None and got.note.endswith("与客户会面/Met")


def test_choice_numbers_as_dict():
    assert c.to_choice(1, STAGE_OPTIONS, {0.25: "Met", 1.0: "Won"}).value == "Won"
    assert c.to_choice("100%", STAGE_OPTIONS, {0.25: "Met", 1.0: "Won"}).value == "Won"
    err = fails(c.to_choice, 0, STAGE_OPTIONS, {0.0: ["Lead", "Lost"]})
    assert (err.rule, err.params) == ("ambiguous_choice", {"allowed": "线索/Lead, 丢单/Lost"})


@pytest.mark.parametrize("raw", [0, "0%", 0.0])
def test_choice_zero_probability_is_ambiguous(raw):
    err = fails(c.to_choice, raw, STAGE_OPTIONS, STAGE_NUMBERS)
    assert (err.rule, err.params) == ("ambiguous_choice", {"allowed": "线索/Lead, 丢单/Lost"})


def test_choice_same_text_naming_two_codes_is_ambiguous():
    err = fails(c.to_choice, "x", [("a", "x", "Alpha"), ("b", "乙", "X")])
    assert err.rule == "ambiguous_choice"


@pytest.mark.parametrize("raw", ["foo", "33%", 0.33, "", True, dt.date(2026, 1, 1)])
def test_choice_unknown(raw):
    err = fails(c.to_choice, raw, STAGE_OPTIONS, STAGE_NUMBERS)
    assert err.rule == "bad_choice"
    assert err.params["allowed"].startswith("线索/Lead, 与客户会面/Met, ")
    assert "column" not in err.params and "value" not in err.params


def test_choice_numbers_only_when_given():
    assert fails(c.to_choice, 25, STAGE_OPTIONS).rule == "bad_choice"


def test_choice_allowed_shows_single_label_once():
    assert fails(c.to_choice, "D", LISTS["customer_class"]).params == {"allowed": "A, B, C"}


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in s)


ALL_OPTIONS = [(opts, opt) for opts in [*LISTS.values(), STAGE_OPTIONS] for opt in opts]


@given(st.sampled_from(ALL_OPTIONS), st.integers(0, 2), st.lists(st.booleans(), min_size=40, max_size=40),
       st.booleans(), st.sampled_from(["", " ", "\u3000", "\t "]))
def test_choice_is_case_and_width_insensitive(pick, which, upper, wide, pad):
    options, (code, zh, en) = pick
    text = (code, zh, en)[which]
    text = "".join(ch.upper() if u else ch.lower() for ch, u in zip(text, upper * 4, strict=False))
    if wide:
        text = _fullwidth(text)
    assert c.to_choice(pad + text + pad, options).value == code


# --- what python-calamine actually hands over ---------------------------------------------------

def test_calamine_error_cells_arrive_blank_but_their_text_is_recognised(corpus):
    """python-calamine 0.9.1 turns error cells into "" — the reader cannot see them through calamine;
    the cached error text in the sheet XML (what openpyxl returns) is what excel_error recognises."""
    python_calamine = pytest.importorskip("python_calamine")
    path = corpus / "calamine__errors.xlsx"
    rows = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    cells = [v for row in rows for v in row]
    assert len(cells) == 7 and all(c.is_blank(v) and c.excel_error(v) is None for v in cells)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    cached = re.findall(r'<c r="A\d+" t="e">.*?<v>(.*?)</v>', xml)
    assert sorted(c.excel_error(v) for v in cached) == sorted(
        ["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"])


def test_calamine_1904_dates_arrive_converted_and_raw_serials_need_the_epoch(corpus):
    python_calamine = pytest.importorskip("python_calamine")
    path = corpus / "calamine__date_1904.xlsx"
    rows = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    assert c.to_date(rows[0][0]) == Parsed(dt.date(2021, 1, 1), None)  # calamine applied the 1904 epoch
    assert c.to_date(rows[1][0]) == Parsed(dt.date(2021, 1, 2), None)
    assert isinstance(rows[2][0], dt.timedelta)  # an [hh]:mm:ss duration cell
    assert fails(c.to_date, rows[2][0]).rule == "bad_date"
    with zipfile.ZipFile(path) as z:
        assert 'date1904="true"' in z.read("xl/workbook.xml").decode()
        serial = float(re.search(r'<c r="A1"[^>]*><v>([^<]+)</v>', z.read("xl/worksheets/sheet1.xml").decode())[1])
    assert c.to_date(serial, epoch1904=True).value == dt.date(2021, 1, 1)
    assert c.to_date(serial).value == dt.date(2016, 12, 31)  # the same number read in the 1900 system

