"""Every real-world file in the shared corpus becomes data or exactly one file-level issue, never an exception.

The corpus is found by the ``corpus`` fixture (tests/conftest.py: ``XLSALES_CORPUS``, else
``shared/corpus/real-xlsx`` in a folder above the repository); scripts/test.sh requires it, so these
tests fail rather than skip when it is missing.  Files not listed in :data:`EXPECTED` are ordinary
workbooks and must read as data — with the sheets an independent reader sees and with content —
so a new hostile file added to the corpus has to be classified here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pytest

from xlsales.io import safety

from .conftest import corpus_files

NAMES = [p.name for p in corpus_files()] or ["(corpus missing)"]

# file → the rule ids that are a truthful outcome for it
EXPECTED: dict[str, set[str]] = {
    "poi__poc-xmlbomb.xlsx": {"file_xml_entities", "file_bomb"},  # DOCTYPE with nested entities
    "calamine__pass_protected.xlsx": {"file_encrypted"},  # Agile encryption, OLE2 container
    "poi__protected_passtika.xlsx": {"file_encrypted"},  # Standard encryption
    "edr__Test_git_issue289.xlsx": {"file_encrypted"},  # encrypted with Excel's default password
    "calamine__pass_protected.ods": {"file_encrypted"},  # ODF encryption-data in the manifest
    "openpyxl__null_file.xlsx": {"file_empty"},  # zero bytes
    "calamine__too_small.xls": {"file_not_workbook"},  # a 68-byte text file
    "poi__clusterfuzz-testcase-minimized-XLSX2CSVFuzzer-5636439151607808.xlsx": {"file_corrupt"},  # truncated zip
    "poi__xlsx-corrupted.xlsx": {"file_corrupt"},  # _rels/.rels is the text "CORRUPTED"
    "poi__duplicate-filename.xlsx": {"file_corrupt"},  # two zip entries with one name
    "poi__poc-shared-strings.xlsx": {"file_corrupt", "file_bomb"},  # row 0 cell refs; 12 GB amplification
    "calamine__issue_594_dos.ods": {"file_bomb"},  # repeat counts asking for 10^18 cells
    "poi__xlmmacro.xlsm": {"file_unsupported"},  # Excel 4.0 macro sheet: calamine refuses the workbook
}

# Sheet names of the data files openpyxl cannot list, read by hand from each file's own XML or BIFF
# BOUNDSHEET records (content.xml table:name, xl/workbook.xml <sheet name=…>, the Workbook/Book stream).
SHEETS_BY_HAND: dict[str, list[str]] = {
    "calamine__any_sheets.ods": ["Visible", "Hidden", "VeryHidden", "Chart"],
    "calamine__merged_cells.ods": ["Sheet1"],
    "calamine__special_cells.ods": ["sheet1"],
    "calamine__date_1904.xls": ["Sheet1"],
    "calamine__issues.xls": ["datatypes", "Sheet1", "issue2", "issue5", "issue6"],
    "calamine__malformed_format.xls": ["2014"],  # a BIFF5 "Book" stream
    "calamine__strict_iso_paths.xlsx": ["ml_out"],  # Strict OOXML: openpyxl lists no sheet
    "edr__strict_Test_git_issue_283_TimeSpan.xlsx": ["Sheet1"],  # Strict OOXML
    "edr__Test_git_issue_385_backslash.xlsx": ["Sheet1"],  # zip names written with backslashes
    "exceljs__invalid-xml.xlsx": ["Sheet1"],  # stray text before the root element
}

# Data files with no cell value at all, and why (their sources say so).
NO_VALUES: dict[str, str] = {
    "calamine__empty_sheet.xlsx": "a sheet with no cells",
    "calamine__vba.xlsm": "a VBA project; its sheets are empty",
    "exceljs__test-issue-771.xlsx": "an empty sheet with formatting only",
    "calamine__errors.xlsx": "only formulas with cached errors (calamine reads them as empty)",
    "calamine__pictures_in_cell_and_over_cell.xlsx": "pictures in cells, cached as #VALUE!",
}

# Excel error cells per data file that has them, counted by hand in each sheet's XML (t="e" cells).
ERROR_CELLS: dict[str, dict[str, int]] = {
    "calamine__errors.xlsx": {"Feuil1": 7},
    "calamine__pictures_in_cell_and_over_cell.xlsx": {"Sheet1": 2},  # A1 and A3
    "calamine__pivots.xlsx": {"DataSheet": 2, "DataSheet2": 2},
    "poi__bug67784.xlsx": {"Sheet1": 6},
    "sheetjs__metadata_2019.xlsx": {"Sheet1": 8},
}


def outcome(path: Path) -> tuple[safety.Workbook | None, object]:
    """(workbook, None) or (None, issue); any exception fails the test."""
    book, issue = safety.open_book(path)
    if issue is not None:
        assert book is None
    else:
        assert book is not None
    return book, issue


def independent_sheet_names(path: Path) -> list[str]:
    if path.name in SHEETS_BY_HAND:
        return SHEETS_BY_HAND[path.name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
        return list(openpyxl.load_workbook(path, read_only=True).sheetnames)


@pytest.mark.parametrize("name", NAMES)
def test_corpus_file_is_data_or_one_issue(corpus: Path, name: str) -> None:
    path = corpus / name
    book, issue = outcome(path)
    if issue is None:
        assert book is not None
        assert name not in EXPECTED, f"{name} should have been refused as {EXPECTED[name]}"
        assert book.sheet_names == independent_sheet_names(path)
        values = sum(1 for rows in book.rows.values() for row in rows for v in row if v != "")
        assert (values == 0) == (name in NO_VALUES), f"{name}: {values} cell values"
        assert {s: len(c) for s, c in book.errors.items()} == ERROR_CELLS.get(name, {})
        for sheet, rows in book.rows.items():
            assert all(len(r) == len(rows[0]) for r in rows), f"{name}!{sheet} is not rectangular"
        return
    assert issue.rule in safety.RULE_IDS
    assert issue.file == str(path) and issue.cell == "" and issue.zh and issue.en
    assert issue.rule in EXPECTED.get(name, set()), f"{name}: unexpected {issue}"


def test_every_hostile_file_listed_is_in_the_corpus(corpus: Path) -> None:
    listed = set(EXPECTED) | set(SHEETS_BY_HAND) | set(NO_VALUES) | set(ERROR_CELLS)
    assert listed <= {p.name for p in corpus.iterdir()}
    assert len(NAMES) >= 80  # SOURCES.md: 80 files


def _sheets(corpus: Path, name: str) -> dict[str, list[list]]:
    book, issue = outcome(corpus / name)
    assert issue is None and book is not None, issue
    return book.rows


def test_rows_are_anchored_at_a1(corpus: Path) -> None:
    rows = _sheets(corpus, "calamine__temperature-in-middle.xlsx")["Sheet1"]
    assert rows[3][1:3] == ["label", "value"] and rows[0] == ["", "", ""]


@pytest.mark.parametrize(("name", "sheet", "cell", "value"), [
    ("calamine__encoded_entities.xlsx", "Sheet1", (0, 0), "&"),
    ("sheetjs__sushi.xlsx", "Sheet1", (0, 0), "\U0001f363"),
    ("exceljs__invalid-xml.xlsx", "Sheet1", (0, 1), "bar"),  # stray text before the root is tolerated
    ("calamine__issues.xls", "issue2", (1, 1), "b"),
    ("calamine__date_iso.xlsx", "Sheet", (0, 0), None),
    ("calamine__has_x000D_.xlsx", "Sheet1", (0, 0), "ABC\r\nDEF"),
    ("calamine__rph.xlsx", "Sheet1", (0, 0), "課きく　毛こ"),
])
def test_spot_values(corpus: Path, name: str, sheet: str, cell: tuple[int, int], value: object) -> None:
    rows = _sheets(corpus, name)[sheet]
    got = rows[cell[0]][cell[1]]
    if value is None:
        assert got not in ("", None)
    else:
        assert got == value


@pytest.mark.parametrize("name", ["calamine__date_1904.xlsx", "calamine__date_1904.xls"])
def test_the_1904_date_system_is_found_in_xlsx_and_xls(corpus: Path, name: str) -> None:
    book, issue = outcome(corpus / name)
    assert issue is None and book is not None and book.epoch1904
    assert not outcome(corpus / "calamine__date.xlsx")[0].epoch1904  # type: ignore[union-attr]
