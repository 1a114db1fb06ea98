"""Excel error values are found in every format, because calamine reports them as empty cells."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from xlsales.consolidate import consolidate
from xlsales.errorcells import error_cells
from xlsales.setup import Setup
from xlsales.templates import build_rep_workbook

from .conftest import ROOT, needs_soffice

CORPUS = ROOT.parent / "shared" / "corpus" / "real-xlsx"


def _errors_book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write("A1", "x")
    ws.write_formula("B1", "=NA()", None, "#N/A")
    ws.write_formula("C3", "=1/0", None, "#DIV/0!")
    wb.close()
    return path


def test_xlsx_error_cells(tmp_path):
    assert error_cells(_errors_book(tmp_path / "e.xlsx")) == {"S": {(0, 1): "#N/A", (2, 2): "#DIV/0!"}}


def test_corpus_errors_file():
    path = CORPUS / "calamine__errors.xlsx"
    if not path.exists():
        pytest.skip("corpus absent")
    got = error_cells(path)["Feuil1"]
    assert sorted(got.values()) == sorted(["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"])
    assert got[(6, 0)] == "#N/A"


def test_not_a_workbook_has_no_error_cells(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"not a zip at all")
    assert error_cells(p) == {}


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_error_cells_survive_libreoffice_formats(tmp_path, fmt):
    needs_soffice()
    from xlsales.libreoffice import convert

    out = convert(_errors_book(tmp_path / "e.xlsx"), fmt, tmp_path / "out")
    assert error_cells(out) == {"S": {(0, 1): "#N/A", (2, 2): "#DIV/0!"}}


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_an_error_in_a_rep_file_is_named_in_every_format(tmp_path, fmt):
    """A deal amount holding #N/A is an excel_error at that cell, whatever format the rep saved."""
    needs_soffice()
    import openpyxl

    from xlsales.libreoffice import convert

    setup = Setup.default()
    rep = setup.rows("roster")[0]
    deal = {"opp_id": "O-1", "customer": "甲", "amount": 1000.0, "stage": "Met", "category": "pipeline",
            "close_date": dt.date(2026, 12, 31)}
    src = build_rep_workbook(tmp_path / "R001.xlsx", setup, rep, "zh", {"opportunities": [deal, {**deal,
                                                                                                  "opp_id": "O-2"}]})
    wb = openpyxl.load_workbook(src)
    wb["商机"]["D4"] = "=NA()"
    wb.save(src)
    inbox = tmp_path / "inbox"
    convert(src, fmt, inbox)
    c = consolidate(inbox, setup)
    errs = [(i.rule, i.sheet, i.cell) for i in c.issues if i.rule == "excel_error"]
    assert errs == [("excel_error", "商机", "D4")]
    assert c.totals["pipeline"] == 1000.0  # the broken row is out of the totals, the other one in
