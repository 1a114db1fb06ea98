"""The stand-in engine (tests/xlstandin.py) is never kinder than desktop Excel.

1. It offers no member that either desktop engine of the installed xlwings lacks: the members of
   ``xlwings/_xlwindows.py`` and ``xlwings/_xlmac.py`` are read from their source (they cannot be
   imported on Linux) — methods, properties, class attributes and attributes set on ``self``.
2. It does with assigned values what Excel does, so a test that passes here cannot lean on a
   kindness: text that looks like a number becomes one, formulas naming missing sheets are refused.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
from pathlib import Path

import pytest
import xlwings as xw

from . import xlstandin

PROTOCOL = {"__call__", "__iter__", "__len__", "__getitem__", "__contains__"}
#: stand-in class → the class of the same role in the desktop engines
ROLES = {"Apps": "Apps", "App": "App", "Books": "Books", "Book": "Book", "Sheets": "Sheets", "Sheet": "Sheet",
         "Range": "Range", "Engine": "Engine"}


def _engine_members(module: str) -> dict[str, set[str]]:
    """{class: members} of an xlwings engine module, read from its source."""
    path = Path(xw.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        names: set[str] = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(item.name)
                for sub in ast.walk(item):
                    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and \
                            sub.value.id == "self" and isinstance(sub.ctx, ast.Store):
                        names.add(sub.attr)
            elif isinstance(item, ast.Assign):
                names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        out[node.name] = names
    return out


def _offered(cls: type, instance_attrs: set[str]) -> set[str]:
    """Public members (and container protocol) a stand-in class defines itself."""
    own = {n for n in vars(cls) if not n.startswith("_") or n in PROTOCOL}
    return own | {a for a in instance_attrs if not a.startswith("_")}


def _self_attrs(cls: type) -> set[str]:
    src = inspect.getsource(cls)
    tree = ast.parse(src.replace("\n    ", "\n") if src.startswith("    ") else src)
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "self" and isinstance(n.ctx, ast.Store)}


def test_the_standin_offers_nothing_either_desktop_engine_lacks() -> None:
    win, mac = _engine_members("_xlwindows"), _engine_members("_xlmac")
    checked = 0
    for ours, theirs in ROLES.items():
        cls = getattr(xlstandin, ours)
        both = win[theirs] & mac[theirs]
        extra = _offered(cls, _self_attrs(cls)) - both
        assert not extra, f"xlstandin.{ours} offers {sorted(extra)}, which _xlwindows or _xlmac lacks"
        checked += len(_offered(cls, _self_attrs(cls)))
    assert checked > 40


def test_the_check_would_catch_an_extra_member() -> None:
    """The member check above can fail: a stand-in with freeze_panes (remote engine only) is caught."""
    win, mac = _engine_members("_xlwindows"), _engine_members("_xlmac")

    class Kinder(xlstandin.Sheet):
        @property
        def freeze_panes(self) -> None:
            return None

    assert "freeze_panes" in _offered(Kinder, set()) - (win["Sheet"] & mac["Sheet"])


@pytest.fixture
def sheet(tmp_path: Path):
    import openpyxl

    path = tmp_path / "b.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.create_sheet("其他 Other")
    wb.save(path)
    _app, book = xlstandin.start(path)
    return book.sheets["S"]


def _cell(sheet, r: int, c: int) -> xlstandin.Cell:
    return sheet.impl._cells.get((r, c), xlstandin.Cell())


def test_values_are_entered_as_excel_enters_them(sheet) -> None:
    sheet.range((1, 1)).value = "001"
    sheet.range((2, 1)).value = "'001"
    sheet.range((3, 1)).value = "2026-11-30"
    sheet.range((4, 1)).value = "12%"
    sheet.range((5, 1)).value = "+cmd"
    sheet.range((6, 1)).value = "='其他 Other'!A1*2"
    assert _cell(sheet, 1, 1).value == 1.0
    assert _cell(sheet, 2, 1).value == "001" and _cell(sheet, 2, 1).prefixed
    assert _cell(sheet, 3, 1).value == dt.datetime(2026, 11, 30)
    assert _cell(sheet, 4, 1).value == pytest.approx(0.12)
    assert _cell(sheet, 5, 1).formula == "=+cmd"
    assert _cell(sheet, 6, 1).formula == "='其他 Other'!A1*2"


def test_what_excel_refuses_is_refused(sheet) -> None:
    with pytest.raises(xlstandin.ExcelError, match="missing sheet"):
        sheet.range((1, 1)).value = "=SUM('Nope'!A1:A2)"
    with pytest.raises(xlstandin.ExcelError, match="255"):
        sheet.range((1, 1)).value = '=HYPERLINK("' + "x" * 300 + '")'
    with pytest.raises(xlstandin.ExcelError, match="parentheses"):
        sheet.range((1, 1)).value = "=SUM(A1"
    with pytest.raises(Exception, match="same length"):  # xlwings refuses a ragged list before Excel sees it
        sheet.range((1, 1)).value = [[1, 2], [3]]
    with pytest.raises(xlstandin.ExcelError, match="ragged"):  # and so does the engine
        sheet.range((1, 1), (2, 2)).impl.raw_value = [[1, 2], [3]]
    with pytest.raises(NotImplementedError):  # xlwings' own base class: desktop engines have no freeze panes
        _ = sheet.freeze_panes


def test_a_list_fills_from_the_top_left_cell(sheet) -> None:
    sheet.range((2, 2)).value = [[1, "'a"], [None, 4]]  # xlwings resizes the 1-cell range to the list
    assert [_cell(sheet, r, c).value for r, c in ((2, 2), (2, 3), (3, 2), (3, 3))] == [1.0, "a", None, 4.0]
    sheet.range((5, 1), (6, 3)).value = 7  # a scalar fills the whole range
    assert {_cell(sheet, r, c).value for r in (5, 6) for c in (1, 2, 3)} == {7.0}
    sheet.range((8, 1), (8, 3)).impl.raw_value = [[1, 2]]  # an engine write of a smaller array: #N/A beyond it
    assert _cell(sheet, 8, 3).value == "#N/A"


def test_alerts_take_only_what_the_engines_know(sheet) -> None:
    app = sheet.book.app
    assert app.alert("x", "t", "ok_cancel", "info") == "ok"
    with pytest.raises(KeyError):
        app.alert("x", "t", "ok", "warning")  # both engines know only "info" and "critical"
