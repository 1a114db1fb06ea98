"""Finance measures, the UDF wrappers (vectorised, Excel-visible errors) and their generated VBA."""

from __future__ import annotations

import importlib
import io
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlsales.core import measures
from xlsales.core.measures import MeasureError
from xlsales.excel import udf_vba, udfs


# --- measures -----------------------------------------------------------------------
def test_stage_probability_by_zh_en_and_given_table() -> None:
    assert measures.stage_probability("negotiated") == 0.9 == measures.stage_probability("商务谈判完成")
    t = measures.stage_table(["A", "B", None], [0.1, "50%", None])
    assert measures.stage_probability("b", t) == 0.5
    with pytest.raises(MeasureError, match="未知阶段 'X' / unknown stage 'X'"):
        measures.stage_probability("X", t)
    with pytest.raises(MeasureError, match="概率须在 0% 到 100% 之间"):
        measures.stage_table(["A"], [1.5])
    with pytest.raises(MeasureError, match="数量须一致"):
        measures.stage_table(["A", "B"], [0.5])


def test_commit_total_window_and_include() -> None:
    amounts = [100, 200, 300, None, 50]
    cats = ["Commit", "承诺", "upside", "commit", "closed"]
    dates = ["2026-11-03", "2026-12-20", "2026-11-10", "2026-11-11", "2026-11-12"]
    assert measures.commit_total(amounts, cats) == 300
    assert measures.commit_total(amounts, cats, dates, "2026-11-01", "2026-11-30") == 100
    assert measures.commit_total(amounts, cats, include="closed+commit") == 350
    with pytest.raises(MeasureError, match="未知预测类别"):
        measures.commit_total([1], ["maybe"])
    with pytest.raises(MeasureError, match="开始日期 .* 晚于结束日期"):
        measures.commit_total([1], ["commit"], ["2026-11-01"], "2026-12-01", "2026-11-01")


def test_ratios_and_their_errors() -> None:
    assert measures.coverage(1500, 1000) == 1.5
    assert measures.attainment(None, 1000) == 0
    assert measures.variance(900, 1000) == (-100.0, -0.1)
    assert measures.growth(105, 100) == pytest.approx(0.05)
    for fn in (measures.coverage, measures.attainment, measures.variance):
        with pytest.raises(MeasureError, match="目标须大于 0 / target must be greater than 0"):
            fn(1, 0)
    with pytest.raises(MeasureError, match="不是数字"):
        measures.attainment("abc", 10)


@given(st.integers(0, 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any),
       st.sampled_from([1, 10, 1000]))
def test_split_adds_up_exactly(total: int, weights: list[int], unit: int) -> None:
    parts = measures.split(total, weights, unit)
    assert sum(parts) == total and len(parts) == len(weights)


def test_split_errors_are_bilingual() -> None:
    with pytest.raises(MeasureError, match="^权重之和为 0 / weights sum to 0$"):
        measures.split(100, [0, 0])
    with pytest.raises(MeasureError, match="需要 12 个月度指数"):
        measures.seasonal(100, [1, 2])


# --- UDF wrappers ----------------------------------------------------------------------
def test_udfs_are_vectorised_and_spill() -> None:
    assert udfs.XS_STAGE_PROB("Won") == 1.0
    assert udfs.XS_STAGE_PROB([["Won"], ["方案"], ["nope"]]) == [[1.0], [0.6], ["#XS! 未知阶段 'nope' / unknown stage 'nope'"]]
    assert udfs.XS_WEIGHTED([[100.0], [200.0]], [["50%"]]) == [[50.0], [100.0]]
    assert udfs.XS_WEIGHTED([[100.0]], [["Negotiated"]]) == 90.0
    assert udfs.XS_WEIGHTED([[1.0]], [["X"]], [["X"]], [[0.3]]) == 0.3
    assert udfs.XS_COVERAGE([[300.0, 150.0]], [[100.0]]) == [[3.0, 1.5]]
    assert udfs.XS_ATTAINMENT([[95.0]], [[100.0]]) == 0.95
    assert udfs.XS_VARIANCE([[110.0], [90.0]], [[100.0]]) == [[10.0, 0.1], [-10.0, -0.1]]
    assert udfs.XS_GROWTH([[110.0]], [[100.0]]) == pytest.approx(0.1)
    assert udfs.XS_SPLIT([[1000.0]], [[1.0], [1.0], [2.0]], [[10.0]]) == [[250], [250], [500]]
    assert udfs.XS_SPLIT([[1000.0]], [[1.0, 3.0]]) == [[250, 750]]
    assert udfs.XS_SEASONAL([[1200.0]], [[1.0] * 12]) == [[100] * 12]
    assert udfs.XS_COMMIT([[100.0], [200.0]], [["承诺"], ["Upside"]]) == 100.0


def test_udf_errors_are_excel_visible_text() -> None:
    assert udfs.XS_SPLIT([[100.0]], [[0.0], [0.0]]) == "#XS! 权重之和为 0 / weights sum to 0"
    assert udfs.XS_COVERAGE([[1.0, 2.0]], [[1.0, 2.0, 3.0]]).startswith("#XS! 区域大小不一致")
    assert udfs.XS_ATTAINMENT([[1.0]], [[None]]) == "#XS! 目标为空 / target is empty"
    assert udfs.XS_STAGE_PROB([["Won"]], [["A", "B"]], [[0.1]]).startswith("#XS! 阶段名称 2 个,概率 1 个")
    # an unexpected exception is text too, never a traceback
    assert udfs.elementwise(lambda x: 1 / 0, 1).startswith("#XS! 内部错误 / internal error: ZeroDivisionError")


def test_weighted_rounds_half_cents_as_the_reports_round() -> None:
    # 31.15 × 70% = 21.805 (binary 21.804999…): Excel's ROUND and the report give 21.81, Python's round 21.8
    assert udfs.XS_WEIGHTED([[31.15]], [["70%"]]) == 21.81
    assert measures.weighted(31.15, 0.7) == 21.81


def _rectangular(v: object) -> bool:
    return not isinstance(v, list) or len({len(r) for r in v}) == 1


def test_array_results_are_rectangular_whatever_the_input() -> None:
    # a bad row gives its error text in each of its cells, never a shorter row
    got = udfs.XS_VARIANCE([[110.0], ["abc"], [90.0]], [[100.0]])
    assert got[0] == [10.0, 0.1] and got[2] == [-10.0, -0.1]
    assert got[1] == ["#XS! 实际不是数字:'abc' / actual is not a number: 'abc'"] * 2
    assert _rectangular(got)
    assert udfs.XS_VARIANCE([[1.0, 2.0]], [[1.0, 2.0, 3.0]]) == [["#XS! 区域大小不一致:1×2 与 1×3 / ranges differ "
                                                                "in size: 1x2 vs 1x3"] * 2]
    for fn, args in ((udfs.XS_WEIGHTED, ([[1.0], [None], ["x"]], [["50%"]])),
                     (udfs.XS_COVERAGE, ([[1.0, "?"]], [[0.0]])), (udfs.XS_STAGE_PROB, ([["Won", 3]],)),
                     (udfs.XS_SPLIT, ([[100.0]], [[1.0, "x"], [2.0, 3.0]]))):
        assert _rectangular(fn(*args)), fn.__name__


def test_every_udf_argument_is_documented_and_listed() -> None:
    assert sorted(udfs.UDFS) == ["XS_ATTAINMENT", "XS_COMMIT", "XS_COVERAGE", "XS_GROWTH", "XS_SEASONAL",
                                 "XS_SPLIT", "XS_STAGE_PROB", "XS_VARIANCE", "XS_WEIGHTED"]
    for u in udfs.UDFS.values():
        assert " / " in u.doc and all(" / " in d for _, d, _ in u.args)


# --- generated VBA ----------------------------------------------------------------------
def _real_xlwings_generator(monkeypatch: pytest.MonkeyPatch):
    """xlwings 0.37.8's own ``xlfunc``/``xlarg``/``generate_vba_wrapper``, imported with pywin32 stubbed out."""
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        mod = types.ModuleType(name)
        mod.CoInitialize = lambda: None  # type: ignore[attr-defined]
        mod.Dispatch = object  # type: ignore[attr-defined]
        mod.com_error = Exception  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    real = importlib.import_module("xlwings.udfs")
    monkeypatch.delitem(sys.modules, "xlwings.udfs")
    return real


def test_generated_wrappers_match_xlwings_import_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _real_xlwings_generator(monkeypatch)
    module = types.ModuleType("fake_udfs")
    for name, u in udfs.UDFS.items():
        def clone(*a, _f=u.func):  # a fresh function object carrying the same signature
            return _f(*a)
        clone.__name__ = name
        clone.__signature__ = __import__("inspect").signature(u.func)  # type: ignore[attr-defined]
        clone.__wrapped__ = u.func  # type: ignore[attr-defined]
        f = real.xlfunc(category="xlsales")(clone)
        for arg, doc, _ in u.args:
            f = real.xlarg(arg, ndim=2, doc=doc)(f)
        setattr(module, name, f)
    buf = io.StringIO()
    real.generate_vba_wrapper(udfs.MODULE, module, buf, types.SimpleNamespace(Name="manager.xlsm"))
    ours = udf_vba.generate()
    assert ours.split("\n", 4)[4] == buf.getvalue()
    assert ours.splitlines()[0] == 'Attribute VB_Name = "xlsales_udfs"'


def test_committed_module_is_current_and_check_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert udf_vba.main(["--check"]) == 0
    monkeypatch.setattr(udf_vba, "OUT", tmp_path / "x.bas")
    assert udf_vba.main(["--check"]) == 1
    assert udf_vba.main([]) == 0 and udf_vba.main(["--check"]) == 0
