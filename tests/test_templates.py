"""The rep and manager workbooks carry everything the schema asks for."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from xlsales.core import schema
from xlsales.core.issues import col_letter
from xlsales.report.templates import build_manager_workbook, build_rep_workbook

REP_LISTS = {"choice", "bool"}


@pytest.fixture(params=["zh", "en"])
def rep_book(request, tmp_path, setup):
    lang = request.param
    p = build_rep_workbook(tmp_path / f"rep_{lang}.xlsx", setup, setup.rows("roster")[0], lang)
    return lang, openpyxl.load_workbook(p)


def _validations(ws):
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = dv
    return out


def _list_values(wb, name: str) -> list[str]:
    """The values a dropdown's defined name points at."""
    sheet, rng = wb.defined_names[name].attr_text.split("!")
    return [c.value for row in wb[sheet.strip("'")][rng.replace("$", "")] for c in row if c.value is not None]


def _width(ws, idx: int) -> float | None:
    """Width of 1-based column ``idx`` (openpyxl groups equal neighbours into one range)."""
    for d in ws.column_dimensions.values():
        if d.min and d.max and d.min <= idx <= d.max:
            return d.width
    return None


def test_rep_workbook_sheets_in_order(rep_book):
    lang, wb = rep_book
    expected = ["说明", "拜访", "商机", "预测", "客户", "出勤", "列表"] if lang == "zh" else \
        ["Instructions", "Visits", "Opportunities", "Forecast", "Customers", "Attendance", "Lists"]
    assert wb.sheetnames == expected
    assert wb[expected[-1]].sheet_state == "hidden"


@pytest.mark.parametrize("table", schema.REP_TABLES, ids=lambda t: t.key)
def test_every_rep_column_has_its_header_format_and_validation(rep_book, table):
    lang, wb = rep_book
    ws = wb[table.sheet(lang)]
    assert table.name in ws.tables, "each data range is an Excel table"
    ref = ws.tables[table.name].ref
    headers = [c.value for c in ws[ref.split(":")[0]:ref.split(":")[0][0:1] + ref.split(":")[0][1:]][0]]
    assert headers  # the header row exists
    dvs = _validations(ws)
    first = table.first_row + 2  # 1-based first data row
    for i, col in enumerate(table.columns):
        letter = col_letter(table.first_col + i)
        head = ws[f"{letter}{table.first_row + 1}"].value
        assert head.replace(" *", "") == col.header(lang)
        assert (" *" in head) == col.required
        cell = ws[f"{letter}{first}"]
        if col.kind == "formula":
            assert isinstance(cell.value, str) and cell.value.startswith("=")
            assert cell.protection.locked
            continue
        if col.locked:
            assert cell.protection.locked
            continue
        assert not cell.protection.locked, f"{letter}{first} must stay editable"
        dv = dvs.get(letter)
        if col.kind in REP_LISTS:
            assert dv is not None and dv.type == "list", f"{col.key} needs a dropdown"
            name = dv.formula1
            assert name in wb.defined_names, "dropdowns read the setup lists through a defined name"
        elif col.kind in ("money", "number"):
            assert dv is not None and dv.type == "decimal"
            assert cell.number_format == ("¥#,##0" if col.kind == "money" else "#,##0.##")
        elif col.kind == "date":
            assert dv is not None and dv.type == "date"
            assert cell.number_format == "yyyy-mm-dd"
        if col.help(lang):
            assert dv is not None and dv.prompt.startswith(col.help(lang)), f"{col.key} shows its help as input message"
        if col.kind in REP_LISTS:  # a dropdown's prompt lists exactly its values
            assert dv.prompt.endswith(("可选:" if lang == "zh" else "One of: ") + ("、" if lang == "zh" else ", ").join(
                _list_values(wb, dv.formula1))), col.key
        assert _width(ws, table.first_col + i + 1) == pytest.approx(col.width, abs=0.75)
    assert ws.protection.sheet, "sheets are protected"
    assert ws.freeze_panes == f"A{table.first_row + 2}"


def test_dropdown_lists_come_from_setup(tmp_path, setup):
    setup.tables["lists"].loc[setup.tables["lists"]["code"] == "research", "zh"] = "市场走访"
    p = build_rep_workbook(tmp_path / "r.xlsx", setup, setup.rows("roster")[0], "zh")
    wb = openpyxl.load_workbook(p)
    dest = wb.defined_names["xs_purpose"].attr_text
    sheet, rng = dest.split("!")
    values = [c.value for row in wb[sheet.strip("'")][rng.replace("$", "")] for c in row]
    assert "市场走访" in values and "市场调研" not in values


def test_identity_block_prefilled_and_locked(rep_book, setup):
    lang, wb = rep_book
    ws = wb[wb.sheetnames[0]]
    rep = setup.rows("roster")[0]
    labels = {ws.cell(r, 2).value: ws.cell(r, 3) for r in range(1, 12)}
    ident = {f.key: labels[f.label(lang)] for f in schema.IDENTITY}
    assert ident["rep_id"].value == rep["rep_id"] and ident["rep_id"].protection.locked
    assert ident["rep_name"].value == rep["name"]
    assert ident["period"].value == dt.datetime(2026, 11, 23)
    assert ws.protection.sheet


def test_probability_formula_cached_value(tmp_path, setup):
    deal = {"opp_id": "O-1", "customer": "甲公司", "amount": 100000.0, "stage": "Intent", "category": "pipeline",
            "close_date": dt.date(2026, 12, 31)}
    p = build_rep_workbook(tmp_path / "r.xlsx", setup, setup.rows("roster")[0], "zh", {"opportunities": [deal]})
    ws = openpyxl.load_workbook(p, data_only=True)["商机"]
    assert ws["F3"].value == 0.5 and ws["G3"].value == 50000
    assert ws["E3"].value == "购买意向"


def test_forecast_has_twelve_locked_months(rep_book):
    lang, wb = rep_book
    ws = wb[schema.FORECAST.sheet(lang)]
    months = [ws[f"A{r}"].value for r in range(3, 15)]
    assert months[0] == dt.datetime(2026, 11, 1) and months[-1] == dt.datetime(2027, 10, 1)
    assert all(ws[f"A{r}"].protection.locked for r in range(3, 15))
    assert ws["G3"].value == dt.datetime(2026, 11, 23)


def test_manager_workbook_has_every_setup_table(tmp_path, setup):
    p = build_manager_workbook(tmp_path / "m.xlsx", setup, "zh")
    wb = openpyxl.load_workbook(p)
    tables = {name for ws in wb.worksheets for name in ws.tables}
    assert {t.name for t in schema.SETUP_TABLES} <= tables
    assert wb["阶段"]["C3"].value == 0 and wb["阶段"]["C5"].value == 0.5
