"""Every real-world file in the shared corpus becomes data or exactly one file-level issue, never an exception.

The corpus lives in ``shared/corpus/real-xlsx`` beside the repository (see SOURCES.md there);
``XLSALES_CORPUS`` points elsewhere.  Files not listed in :data:`EXPECTED` are ordinary
workbooks and must read as data, so a new hostile file added to the corpus has to be classified here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlsales import safety

CORPUS = Path(os.environ.get("XLSALES_CORPUS") or Path(__file__).resolve().parents[2] / "shared/corpus/real-xlsx")
if not CORPUS.is_dir():
    pytest.skip(f"corpus folder {CORPUS} is absent (set XLSALES_CORPUS)", allow_module_level=True)

FILES = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix.lower() != ".md")

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


def outcome(path: Path) -> tuple[dict[str, list[list]], object]:
    """({sheet: rows}, None) or ({}, issue); any exception fails the test."""
    book, issue = safety.open_book(path)
    if issue is not None:
        assert book is None
        return {}, issue
    assert book is not None
    sheets: dict[str, list[list]] = {}
    for name in book.sheet_names:
        rows, issue = safety.read_sheet(book, name)
        if issue is not None:
            assert rows is None
            return {}, issue
        sheets[name] = rows
    return sheets, None


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_is_data_or_one_issue(path: Path) -> None:
    sheets, issue = outcome(path)
    if issue is None:
        assert path.name not in EXPECTED, f"{path.name} should have been refused as {EXPECTED[path.name]}"
        assert all(isinstance(rows, list) and all(isinstance(r, list) for r in rows) for rows in sheets.values())
        return
    assert issue.rule in safety.RULE_IDS
    assert issue.file == str(path) and issue.cell == "" and issue.zh and issue.en
    assert issue.rule in EXPECTED.get(path.name, set()), f"{path.name}: unexpected {issue}"


def _sheets(name: str) -> dict[str, list[list]]:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{name} not in this corpus")
    sheets, issue = outcome(path)
    assert issue is None, issue
    return sheets


def test_rows_are_anchored_at_a1() -> None:
    rows = _sheets("calamine__temperature-in-middle.xlsx")["Sheet1"]
    assert rows[3][1:3] == ["label", "value"] and rows[0] == ["", "", ""]


@pytest.mark.parametrize(("name", "sheet", "cell", "value"), [
    ("calamine__encoded_entities.xlsx", "Sheet1", (0, 0), "&"),
    ("sheetjs__sushi.xlsx", "Sheet1", (0, 0), "\U0001f363"),
    ("exceljs__invalid-xml.xlsx", "Sheet1", (0, 1), "bar"),  # stray text before the root is tolerated
    ("calamine__issues.xls", "issue2", (1, 1), "b"),
    ("calamine__date_iso.xlsx", "Sheet", (0, 0), None),
])
def test_spot_values(name: str, sheet: str, cell: tuple[int, int], value: object) -> None:
    rows = _sheets(name)[sheet]
    got = rows[cell[0]][cell[1]]
    if value is None:
        assert got not in ("", None)
    else:
        assert got == value


def test_compound_file_reader_matches_olefile() -> None:
    """The minimal OLE2 reader in safety agrees with olefile on every compound file in the corpus."""
    olefile = pytest.importorskip("olefile")
    checked = 0
    for path in FILES:
        data = path.read_bytes()
        if not data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            continue
        ole, mine = olefile.OleFileIO(data), safety._Cfb(data)
        streams = ["/".join(p) for p in ole.listdir()]
        assert {s.rsplit("/", 1)[-1] for s in streams} <= mine.names(), path.name
        for s in streams:
            if "/" not in s:
                assert mine.stream(s) == ole.openstream(s).read(), (path.name, s)
        checked += 1
    assert checked >= 3
