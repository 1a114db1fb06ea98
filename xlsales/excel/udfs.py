"""Excel worksheet functions for finance (xlwings UDFs), thin wrappers of :mod:`xlsales.core.measures`.

Every argument that can be a range is read as a 2-D list (``ndim=2``) and
the function is applied cell by cell with broadcasting (a single cell pairs
with every cell of the other range); a 1×1 result is returned as a value, a
larger one as a 2-D list, which Excel 365 spills as a dynamic array.  A bad
argument gives the text ``#XS! 中文 / English`` in the cell — never a Python
traceback.  The VBA wrappers Excel calls are generated from these definitions
by :mod:`xlsales.excel.udf_vba` into ``macros/xlsales_udfs.bas``.

财务自定义函数:区域参数逐格计算并可溢出为动态数组;参数错误时单元格显示 "#XS! 中文 / English"。
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import xlwings as xw

from xlsales.core import measures
from xlsales.core.measures import MeasureError

MODULE = "xlsales.excel.udfs"
ERROR_PREFIX = "#XS! "


@dataclass(frozen=True)
class Udf:
    """What the VBA generator and the docs need about one UDF."""

    name: str
    func: Callable
    doc: str
    args: tuple[tuple[str, str, bool], ...]  # (name, doc, optional)


UDFS: dict[str, Udf] = {}


def udf(**arg_docs: str) -> Callable[[Callable], Callable]:
    """Register ``f`` as an xlwings UDF (``@xw.func`` + ``@xw.arg(..., ndim=2, doc=...)``) in :data:`UDFS`."""

    def deco(f: Callable) -> Callable:
        params = inspect.signature(f).parameters
        assert set(arg_docs) == set(params), f"{f.__name__}: document every argument"
        wrapped = xw.func(category="xlsales")(f)
        for name in params:
            wrapped = xw.arg(name, ndim=2, doc=arg_docs[name])(wrapped)
        UDFS[f.__name__] = Udf(f.__name__, wrapped, inspect.getdoc(f) or "",
                               tuple((n, arg_docs[n], p.default is not inspect.Parameter.empty)
                                     for n, p in params.items()))
        return wrapped

    return deco


# --- shapes -------------------------------------------------------------------

Grid = list[list[object]]


def error_text(e: Exception) -> str:
    """The Excel-visible text of an error."""
    if isinstance(e, MeasureError):
        return f"{ERROR_PREFIX}{e}"
    return f"{ERROR_PREFIX}内部错误 / internal error: {type(e).__name__}: {e}"


def grid(v: object) -> Grid:
    """A value, a 1-D list (a column) or a 2-D list as a 2-D list."""
    if isinstance(v, list | tuple):
        if not v:
            return [[None]]
        if isinstance(v[0], list | tuple):
            return [list(r) for r in v]
        return [[x] for x in v]
    return [[v]]


def flat(v: object) -> list[object]:
    """Cells of a range in reading order (row by row)."""
    return [x for row in grid(v) for x in row]


def _shape(*grids: Grid) -> tuple[int, int]:
    rows = max(len(g) for g in grids)
    cols = max(len(g[0]) for g in grids)
    for g in grids:
        if len(g) not in (1, rows) or len(g[0]) not in (1, cols):
            raise MeasureError(f"区域大小不一致:{len(g)}×{len(g[0])} 与 {rows}×{cols}",
                               f"ranges differ in size: {len(g)}x{len(g[0])} vs {rows}x{cols}")
    return rows, cols


def _at(g: Grid, r: int, c: int) -> object:
    return g[r if len(g) > 1 else 0][c if len(g[0]) > 1 else 0]


def _out(g: Grid) -> object:
    return g[0][0] if len(g) == 1 and len(g[0]) == 1 else g


def elementwise(fn: Callable[..., object], *args: object, width: int = 1) -> object:
    """Apply ``fn`` cell by cell with broadcasting; each input cell gives ``width`` output cells.

    The result is always rectangular: a bad input cell gets its error text in each of
    its ``width`` cells, so an array formula never receives a shorter row.
    """
    try:
        grids = [grid(a) for a in args]
        rows, cols = _shape(*grids)
    except Exception as e:  # shown in the cells, never raised into Excel
        return _out([[error_text(e)] * width])
    out: Grid = []
    for r in range(rows):
        line: list[object] = []
        for c in range(cols):
            try:
                value = fn(*(_at(g, r, c) for g in grids))
                cells = list(value) if isinstance(value, tuple) else [value]
                if len(cells) != width:
                    raise MeasureError(f"内部错误:得到 {len(cells)} 个值,应为 {width} 个",
                                       f"internal error: {len(cells)} values where {width} were expected")
            except Exception as e:
                cells = [error_text(e)] * width
            line.extend(cells)
        out.append(line)
    return _out(out)


def _whole(fn: Callable[[], object]) -> object:
    """Run a whole-range computation; an error becomes one cell of text."""
    try:
        return fn()
    except Exception as e:
        return error_text(e)


def _reshape(values: list, like: object) -> object:
    """``values`` laid out in the shape of the range ``like`` (reading order)."""
    g = grid(like)
    cols = len(g[0])
    return _out([values[i : i + cols] for i in range(0, len(values), cols)])


def _table(names: object, probabilities: object) -> dict[str, float] | None:
    if _missing(names) and _missing(probabilities):
        return None
    return measures.stage_table(flat(names), flat(probabilities))


def _missing(v: object) -> bool:
    return v is None or v == [[None]]


def _opt(v: object, default: object = None) -> object:
    if isinstance(v, list):
        v = flat(v)[0] if flat(v) else None
    return default if v is None or v == "" else v


# --- the functions --------------------------------------------------------------

@udf(stage="阶段名称(中文或英文),可为区域 / stage name (zh or en), a cell or a range",
     stage_names="可选:阶段名称列,如 xs_stage_name / optional: the stage names, e.g. xs_stage_name",
     probabilities="可选:对应的概率列,如 xs_stage_prob / optional: their probabilities, e.g. xs_stage_prob")
def XS_STAGE_PROB(stage, stage_names=None, probabilities=None):  # noqa: N802
    """阶段对应的成交概率 / The win probability of a sales stage (default: the standard ladder)."""
    try:
        table = _table(stage_names, probabilities)
    except Exception as e:
        return error_text(e)
    return elementwise(lambda s: measures.stage_probability(s, table), stage)


@udf(amount="金额,可为区域 / amount, a cell or a range",
     probability="概率或阶段名称,可为区域 / probability or stage name, a cell or a range",
     stage_names="可选:阶段名称列 / optional: the stage names",
     probabilities="可选:对应的概率列 / optional: their probabilities")
def XS_WEIGHTED(amount, probability, stage_names=None, probabilities=None):  # noqa: N802
    """加权金额 = 金额 × 概率 / Weighted amount = amount × probability (or the stage's probability)."""
    try:
        table = _table(stage_names, probabilities)
    except Exception as e:
        return error_text(e)
    return elementwise(lambda a, p: measures.weighted(a, p, table), amount, probability)


@udf(amounts="金额列 / the amounts", categories="预测类别列:承诺、有望、管道、已成交 / the forecast categories",
     close_dates="可选:预计成交日期列 / optional: the close dates",
     date_from="可选:区间开始日期 / optional: window start date",
     date_to="可选:区间结束日期 / optional: window end date",
     include="可选:计入的类别,默认 commit;如 closed+commit / optional: categories to count, default commit")
def XS_COMMIT(amounts, categories, close_dates=None, date_from=None, date_to=None, include=None):  # noqa: N802
    """承诺合计:类别为承诺(或指定类别)的金额之和,可限成交日期区间 / Commit total, optionally within a close-date window."""
    return _whole(lambda: measures.commit_total(
        flat(amounts), flat(categories), None if _missing(close_dates) else flat(close_dates),
        _opt(date_from), _opt(date_to), _opt(include, "commit")))


@udf(pipeline="商机管道金额,可为区域 / pipeline amount, a cell or a range",
     target="目标,可为区域 / target, a cell or a range")
def XS_COVERAGE(pipeline, target):  # noqa: N802
    """覆盖率 = 商机管道 / 目标(健康 > 150%)/ Coverage = pipeline / target (healthy above 150%)."""
    return elementwise(measures.coverage, pipeline, target)


@udf(actual="实际,可为区域 / actual, a cell or a range", target="目标,可为区域 / target, a cell or a range")
def XS_ATTAINMENT(actual, target):  # noqa: N802
    """达成率 = 实际 / 目标 / Attainment = actual / target."""
    return elementwise(measures.attainment, actual, target)


@udf(actual="实际,可为区域 / actual, a cell or a range", target="目标,可为区域 / target, a cell or a range")
def XS_VARIANCE(actual, target):  # noqa: N802
    """差异:两列 [实际−目标, 差异%] / Variance: two columns [actual − target, variance %]."""
    return elementwise(measures.variance, actual, target, width=2)


@udf(current="本期,可为区域 / this period, a cell or a range",
     previous="上期,可为区域 / previous period, a cell or a range")
def XS_GROWTH(current, previous):  # noqa: N802
    """环比增长 = 本期 / 上期 − 1(≥10% 良好,≥5% 最低)/ Growth = current / previous − 1."""
    return elementwise(measures.growth, current, previous)


@udf(total="要分解的总额 / the total to split", weights="权重区域 / the weights (a range)",
     unit="可选:取整单位,如 1000 / optional: rounding unit, e.g. 1000")
def XS_SPLIT(total, weights, unit=None):  # noqa: N802
    """按权重精确分解,各部分之和等于总额(最大余数法) / Split a total by weights; the parts add up exactly."""
    return _whole(lambda: _reshape(measures.split(_opt(total), flat(weights), _opt(unit, 1)), weights))


@udf(annual="年度目标 / the annual target", indices="12 个月的旺淡季指数 / the 12 monthly seasonality indices",
     unit="可选:取整单位 / optional: rounding unit")
def XS_SEASONAL(annual, indices, unit=None):  # noqa: N802
    """按旺淡季指数把年度目标分到 12 个月 / Split an annual target into 12 months by seasonality."""
    return _whole(lambda: _reshape(measures.seasonal(_opt(annual), flat(indices), _opt(unit, 1)), indices))
