"""Excel error values are found in every format, because calamine reports them as empty cells."""

from __future__ import annotations

import datetime as dt
import threading
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from xlsales.core.setup import Setup
from xlsales.io.errorcells import error_cells
from xlsales.io.inbox import consolidate
from xlsales.report.templates import build_rep_workbook

from .conftest import needs_soffice


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


def test_corpus_errors_file(corpus):
    got = error_cells(corpus / "calamine__errors.xlsx")["Feuil1"]
    assert sorted(got.values()) == sorted(["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"])
    assert got[(6, 0)] == "#N/A"


def finishes(seconds: float, fn, *args):
    """fn(*args), failing the test if it has not returned after ``seconds`` (a hang guard, not a timing)."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(fn(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return box[0]


def test_twenty_thousand_error_cells_are_all_found(tmp_path):
    """10,000 rows with #N/A in A and #DIV/0! in C (the layout that took the regex reader 226 s)."""
    path = tmp_path / "many.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Errors & <more>")
    for r in range(10_000):
        ws.write_formula(r, 0, "=NA()", None, "#N/A")
        ws.write_number(r, 1, r)
        ws.write_formula(r, 2, "=1/0", None, "#DIV/0!")
    wb.close()
    got = finishes(60, error_cells, path)
    assert list(got) == ["Errors & <more>"]  # the escaped name comes back as Excel shows it
    cells = got["Errors & <more>"]
    assert len(cells) == 20_000
    assert cells[(0, 0)] == "#N/A" and cells[(0, 2)] == "#DIV/0!"
    assert cells[(9_999, 0)] == "#N/A" and cells[(9_999, 2)] == "#DIV/0!"
    assert (5_000, 1) not in cells
    assert sorted(set(cells.values())) == ["#DIV/0!", "#N/A"]


def _with_sheet1(tmp_path: Path, name: str, sheet: bytes) -> Path:
    """The workbook of :func:`_errors_book` with its sheet part replaced by ``sheet``."""
    src = _errors_book(tmp_path / "base.xlsx")
    out = tmp_path / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info))
    return out


NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def test_twenty_thousand_error_cells_without_cached_text(tmp_path):
    """20,000 error-typed cells with no cached value, then one #N/A: the layout that is quadratic for a regex.

    An error cell without its text is still an error (#VALUE!), never an empty cell.
    """
    rows = b"".join(b'<row r="%d"><c r="A%d" t="e"/><c r="B%d" t="e"/></row>' % (r, r, r) for r in range(1, 10_001))
    last = b'<row r="10001"><c r="C10001" t="e"><v>#N/A</v></c></row>'
    path = _with_sheet1(tmp_path, "bare.xlsx", b"<worksheet " + NS + b"><sheetData>" + rows + last
                        + b"</sheetData></worksheet>")
    cells = finishes(60, error_cells, path)["S"]
    assert len(cells) == 20_001
    assert cells[(0, 0)] == cells[(0, 1)] == cells[(9_999, 1)] == "#VALUE!"
    assert cells[(10_000, 2)] == "#N/A"


def test_error_cells_without_cell_references(tmp_path):
    """A writer that omits r= on rows and cells (as some generators do): positions follow document order."""
    sheet = (b"<worksheet " + NS + b"><sheetData><row><c><v>1</v></c><c t=\"e\"><v>#REF!</v></c></row>"
             b"<row/><row><c t=\"e\"><v>#N/A</v></c></row></sheetData></worksheet>")
    assert error_cells(_with_sheet1(tmp_path, "noref.xlsx", sheet)) == {"S": {(0, 1): "#REF!", (2, 0): "#N/A"}}


def test_error_cells_in_single_quotes_and_spaced_attributes(tmp_path):
    """XML lets a writer quote attributes with apostrophes and space the equals sign: still error cells."""
    sheet = (b"<worksheet " + NS + b"><sheetData><row r='1'><c r='A1' t = 'e'><v>#NAME?</v></c>"
             b"<c r='B1' t='s'><v>0</v></c></row></sheetData></worksheet>")
    assert error_cells(_with_sheet1(tmp_path, "apos.xlsx", sheet)) == {"S": {(0, 0): "#NAME?"}}


def test_error_cell_markup_with_a_dtd_is_not_expanded(tmp_path):
    """defusedxml refuses the DTD: a sheet declaring entities yields no error cells (safety refuses such files)."""
    sheet = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e "#REF!">]><worksheet ' + NS
             + b'><sheetData><row r="1"><c r="A1" t="e"><v>&e;</v></c></row></sheetData></worksheet>')
    assert error_cells(_with_sheet1(tmp_path, "dtd.xlsx", sheet)) == {}


def test_not_a_workbook_has_no_error_cells(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"not a zip at all")
    assert error_cells(p) == {}


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_error_cells_survive_libreoffice_formats(tmp_path, fmt):
    needs_soffice()
    from xlsales.io.libreoffice import convert

    out = convert(_errors_book(tmp_path / "e.xlsx"), fmt, tmp_path / "out")
    assert error_cells(out) == {"S": {(0, 1): "#N/A", (2, 2): "#DIV/0!"}}


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_an_error_in_a_rep_file_is_named_in_every_format(tmp_path, fmt):
    """A deal amount holding #N/A is an excel_error at that cell, whatever format the rep saved."""
    needs_soffice()
    import openpyxl

    from xlsales.io.libreoffice import convert

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
