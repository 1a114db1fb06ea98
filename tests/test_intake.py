"""A rep workbook reads back exactly what was put in: nothing lost, nothing invented."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlsales import synth
from xlsales.core import schema
from xlsales.io.intake import read_rep
from xlsales.report.templates import WEEKDAYS, build_rep_workbook


def _canon(rows: list[dict], table: schema.Table) -> list[dict]:
    keys = [c.key for c in table.columns if c.kind != "formula"]
    out = []
    for r in rows:
        row = {}
        for k in keys:
            v = r.get(k)
            if v in ("", None) or (isinstance(v, float) and v != v):
                v = None
            if isinstance(v, dt.datetime):
                v = v.date()
            if table.column(k).kind == "bool" and v is None:
                v = None
            row[k] = v
        out.append(row)
    return out


def test_untouched_template_reads_as_nothing(tmp_path, setup):
    p = build_rep_workbook(tmp_path / "R001.xlsx", setup, setup.rows("roster")[0], "zh")
    r = read_rep(p, setup)
    assert r.issues == []
    assert {k: t.rows_read for k, t in r.tables.items()} == {t.key: 0 for t in schema.REP_TABLES}
    assert r.identity["rep_id"] == "R001" and r.period == dt.date(2026, 11, 23)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_synthetic_fill_reads_back_exactly(tmp_path, setup, lang):
    fills = synth.generate(setup, seed=11, reps=3, mistakes=False)
    paths = synth.write_fills(setup, fills, tmp_path, lang)
    for fill, path in zip(fills, paths, strict=True):
        r = read_rep(path, setup)
        assert r.issues == [], r.issues[:3]
        assert r.identity["rep_id"] == fill.rep["rep_id"]
        for t in schema.REP_TABLES:
            got = _canon(r.tables[t.key].accepted.to_dict("records"), t)
            want = _canon(fill.data[t.key], t)
            if t.key == "weekly":
                want = [{**w, "week": setup.period} for w in want]
            if t.key == "attendance":  # the template writes each day's weekday
                want = [{**w, "weekday": WEEKDAYS[lang][w["date"].weekday()]} for w in want]
            assert got == want, t.key
        deals = r.tables["opportunities"].accepted
        probs = setup.stage_probability()
        assert list(deals["probability"]) == [probs[s] for s in deals["stage"]], "cached formula values"


def test_mistakes_are_caught_with_their_cells(tmp_path, setup):
    fills = synth.generate(setup, seed=5, mistakes=True)
    f = next(f for f in fills if "unknown_stage" in f.mistakes)
    path = synth.write_fills(setup, [f], tmp_path)[0]
    r = read_rep(path, setup)
    bad = [i for i in r.issues if i.rule == "bad_choice"]
    assert len(bad) == 1 and bad[0].sheet == "商机" and bad[0].cell.startswith("E") and bad[0].value == "签约中"
    assert r.tables["opportunities"].rows_rejected >= 1
    t = r.tables["opportunities"]
    assert t.rows_read == len(t.accepted) + t.rows_rejected


def test_read_cell_empty_and_text_cells():
    """The commonest cells — empty ones and plain texts — read as every other cell is: blanks (invisible
    characters too) are missing values, a required one says so, an Excel error or an over-long text is an
    issue, a text is stripped, and a formula column never requires anything."""
    from xlsales.core.schema import Column
    from xlsales.io.reader import Context, read_cell

    ctx = Context(lambda name: [])
    need = Column("who", "客户", "Customer", "text", required=True)
    may = Column("note", "备注", "Note", "text")
    money = Column("amount", "金额", "Amount", "money", required=True, min=0)
    fx = Column("weighted", "加权", "Weighted", "formula", required=True)
    required = [("required", {})]
    assert read_cell(None, need, ctx) == (None, required) and read_cell("", need, ctx) == (None, required)
    assert read_cell(None, may, ctx) == (None, []) and read_cell("", may, ctx) == (None, [])
    assert read_cell(" \u200b\u3000", need, ctx) == (None, required)
    assert read_cell("", money, ctx) == (None, required) and read_cell("", fx, ctx) == (None, [])
    assert read_cell("  华东机械  ", need, ctx) == ("华东机械", [])
    assert read_cell("C# 项目", may, ctx) == ("C# 项目", [])
    assert read_cell("#N/A", may, ctx) == (None, [("excel_error", {})])
    assert read_cell("＃N/A", need, ctx) == (None, [("excel_error", {})])  # full-width, as Excel shows it in zh
    assert read_cell("长" * 40_000, may, ctx) == (None, [("text_too_long", {"shown": "40,000", "limit": "32,767"})])
    assert read_cell(12.0, may, ctx) == ("12", [])


_RAW = st.one_of(st.none(), st.sampled_from(["", " ", "是", "否", "S3", "方案", "2026-11-23", "3万", "-1", "＃N/A"]),
                 st.floats(allow_nan=True), st.sampled_from([0.0, -0.0, 1.0, 1, True, False, 45_000.5]),
                 st.integers(-3, 3), st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)),
                 st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)))


@settings(max_examples=80, deadline=None)
@given(st.lists(_RAW, max_size=30), st.booleans())
@example([0.0, -0.0, 1, True, 1.0, "1"], False)
def test_a_value_read_again_is_read_as_the_first_time(raws: list, epoch1904: bool) -> None:
    """A table's cells are read once per distinct value and type (most repeat): each cell gets exactly what
    reading it alone gives — the same value, of the same type and sign (0.0 and -0.0, 1 and True are different
    cells), and the same problems."""
    from xlsales.core.setup import Setup
    from xlsales.io.intake import context
    from xlsales.io.reader import _read_cell, read_cell

    ctx = context(Setup.default())
    for col in (c for t in schema.REP_TABLES for c in t.columns if c.key in ("amount", "stage", "date", "customer",
                                                                              "probability", "month", "chk_discount", "weighted")):
        seen = ctx.readings(col, epoch1904)
        for raw in raws + raws:
            got, alone = _read_cell(raw, col, ctx, epoch1904, seen), read_cell(raw, col, ctx, epoch1904)
            assert (type(got[0]), repr(got[0]), got[1]) == (type(alone[0]), repr(alone[0]), alone[1]), (col.key, raw)


def test_a_column_remembers_a_bounded_number_of_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past :data:`KEPT_READINGS` distinct values a column's values are read without being remembered (free text
    repeats little; a hostile inbox cannot grow the memory without bound), and read as before."""
    from xlsales.core.setup import Setup
    from xlsales.io import reader
    from xlsales.io.intake import context

    monkeypatch.setattr(reader, "KEPT_READINGS", 3)
    ctx = context(Setup.default())
    col = next(c for t in schema.REP_TABLES for c in t.columns if c.key == "amount")
    seen = ctx.readings(col, False)
    got = [reader._read_cell(v, col, ctx, False, seen) for v in ("1万", 2.0, "三", 4.0, -5.0, "1万")]
    assert len(seen) == 3 and got[0] == got[5] == (10_000.0, [("coerced", {"result": "1万 → 10,000"})])
    assert got[1:5] == [(2.0, []), (None, [("bad_number", {})]), (4.0, []), (-5.0, [("negative", {})])]
