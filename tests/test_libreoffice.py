"""LibreOffice as an independent engine: forced recalculation, formula checks, rendering.

Tests marked ``libreoffice`` skip when soffice is absent, unless
``XLSALES_REQUIRE_LO`` is set (scripts/test.sh sets it): then they fail.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from xlsales.io import libreoffice as lo

from .conftest import lo_required


def _gate(what: str, present: bool) -> None:
    """Skip when ``what`` is missing, or fail if XLSALES_REQUIRE_LO is set."""
    if present:
        return
    if lo_required():
        pytest.fail(f"XLSALES_REQUIRE_LO is set but {what} is missing")
    pytest.skip(f"{what} not installed")


@pytest.fixture(autouse=True)
def _need_soffice(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("libreoffice"):
        _gate("LibreOffice (soffice)", lo.soffice() is not None)


# --- the gate itself --------------------------------------------------------


def test_gate_fails_when_required_and_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLSALES_REQUIRE_LO", "1")
    with pytest.raises(pytest.fail.Exception):
        _gate("soffice", False)
    monkeypatch.delenv("XLSALES_REQUIRE_LO")
    with pytest.raises(pytest.skip.Exception):
        _gate("soffice", False)
    _gate("soffice", True)  # present: neither


def test_soffice_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XLSALES_SOFFICE", str(tmp_path / "nope"))
    assert lo.soffice() is None
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("XLSALES_SOFFICE", str(fake))
    assert lo.soffice() == str(fake)


# --- comparison rule (no LibreOffice needed) ----------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1234.56, 1234.56 + 1e-7, True),
        (1234.56, 1234.564, True),  # within half a cent on an amount
        (1234.56, 1234.57, False),  # a cent off
        (0.25, 0.25 + 1e-12, True),
        (0.25, 0.2501, False),  # below 1: relative only, no cent slack
        (2, 3, False),
        (3, 3.0, True),
        ("On track", "On track", True),
        ("On track", "Behind", False),
        ("", None, True),
        (None, 0, False),
        ("2", 2, False),
        (True, True, True),
        (True, False, False),
        (True, 1, False),
        ("#N/A", "#N/A", True),
    ],
)
def test_same(a: object, b: object, same: bool) -> None:
    assert lo._same(a, b, rel=1e-9, money=0.005) is same


# --- recalculation ------------------------------------------------------------


def _stale(path: Path) -> Path:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("S")
    ws.write_formula("A1", "=1+1", None, 3)  # deliberately wrong cached value
    ws.write_formula("A2", "=A1*0+5", None, 5)
    wb.close()
    return path


@pytest.mark.libreoffice
def test_stale_cached_value_is_caught(tmp_path: Path) -> None:
    check = lo.check_formulas(_stale(tmp_path / "stale.xlsx"), tmp_path / "work")
    assert check.cells == 2
    assert check.mismatches == ["S!A1 =1+1: cached=3 recalculated=2"]
    assert not check.ok


@pytest.mark.libreoffice
def test_recalculation_comes_from_the_profile_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: with LibreOffice's default (never recalculate) the stale value goes unnoticed."""
    monkeypatch.setattr(lo, "_profile", None)
    monkeypatch.setattr(lo, "RECALC_MODE", 1)
    try:
        check = lo.check_formulas(_stale(tmp_path / "stale.xlsx"), tmp_path / "work")
    finally:
        lo._drop_profile()  # the next test gets a fresh, forcing profile
    assert check.cells == 2
    assert check.mismatches == []


DEALS = [  # rep, stage, amount
    ("Ana", "Commit", 1234.56),
    ("Ana", "Pipeline", 99.99),
    ("Ana", "Commit", 0.07),
    ("Ben", "Commit", 5000.10),
    ("Ben", "Closed", 250.25),
    ("李雷", "Commit", 333.33),
    ("李雷", "Commit", 333.34),
    ("Ben", "Pipeline", 17.5),
]
TARGETS = {"Ana": 1200.0, "Ben": 6000.0, "李雷": 600.0}


def _good(path: Path, *, off_by_cent: bool = False) -> tuple[Path, int]:
    """A workbook whose every cached value is computed here in Python; returns (path, formula cells)."""
    wb = xlsxwriter.Workbook(path)
    deals = wb.add_worksheet("Deals")
    targets = wb.add_worksheet("Targets")
    rep = wb.add_worksheet("Summary")
    deals.write_row(0, 0, ["Rep", "Stage", "Amount"])
    for i, row in enumerate(DEALS, start=1):
        deals.write_row(i, 0, row)
    targets.write_row(0, 0, ["Rep", "Target"])
    for i, (name, target) in enumerate(TARGETS.items(), start=1):
        targets.write_row(i, 0, [name, target])
    n = len(DEALS) + 1
    a, b, c = f"Deals!$A$2:$A${n}", f"Deals!$B$2:$B${n}", f"Deals!$C$2:$C${n}"
    formulas = 0

    def f(cell: str, formula: str, value: object) -> None:
        nonlocal formulas
        formulas += 1
        rep.write_formula(cell, formula, None, value)

    reps = [*TARGETS, "Zoe"]  # Zoe has no deals and no target
    rep.write_row(0, 0, ["Rep", "Commit", "Deals", "All", "Target", "Attainment", "Status", "Note"])
    for r, name in enumerate(reps, start=2):
        rep.write(f"A{r}", name)
        commit = sum(x for who, st, x in DEALS if who == name and st == "Commit")
        count = sum(1 for who, _, _ in DEALS if who == name)
        total = sum(x for who, _, x in DEALS if who == name)
        target = TARGETS.get(name)
        if off_by_cent and r == 2:
            commit += 0.01
        f(f"B{r}", f'=SUMIFS({c},{a},A{r},{b},"Commit")', commit)
        f(f"C{r}", f"=COUNTIFS({a},A{r})", count)
        f(f"D{r}", f"=SUMPRODUCT(({a}=A{r})*{c})", total)
        f(
            f"E{r}",
            f'=IFERROR(INDEX(Targets!$B$2:$B$4,MATCH(A{r},Targets!$A$2:$A$4,0)),"no target")',
            target or "no target",
        )
        f(f"F{r}", f'=IFERROR(B{r}/E{r},"")', commit / target if target else "")
        f(
            f"G{r}",
            f'=IF(ISNUMBER(F{r}),IF(F{r}>=1,"On track","Behind"),"—")',
            ("On track" if commit >= target else "Behind") if target else "—",
        )
        f(f"H{r}", f'=A{r}&": "&TEXT(B{r},"0.00")', f"{name}: {commit:.2f}")
    last = len(reps) + 1
    grand = sum(x for _, st, x in DEALS if st == "Commit")
    f(f"B{last + 1}", f"=SUM(B2:B{last})", grand)
    f(f"C{last + 1}", f"=SUM(Summary!C2:C{last})=COUNTA({a})", True)
    f(f"D{last + 1}", f"=ROUND(SUM(D2:D{last})/3,2)", round(sum(x for *_, x in DEALS) / 3, 2))
    wb.close()
    return path, formulas


@pytest.mark.libreoffice
def test_correct_workbook_has_no_mismatch(tmp_path: Path) -> None:
    path, formulas = _good(tmp_path / "good.xlsx")
    check = lo.check_formulas(path, tmp_path / "work")
    assert check.mismatches == []
    assert check.cells == formulas == 7 * 4 + 3
    # The recalculated copy really holds LibreOffice's values, formulas intact.
    again = openpyxl.load_workbook(tmp_path / "work" / "good.xlsx", data_only=True)["Summary"]
    assert again["B3"].value == pytest.approx(5000.10)
    assert [again[f"G{r}"].value for r in range(2, 6)] == ["On track", "Behind", "On track", "—"]
    assert again["E5"].value == "no target"
    assert openpyxl.load_workbook(tmp_path / "work" / "good.xlsx")["Summary"]["B2"].value.startswith("=SUMIFS(")


@pytest.mark.libreoffice
def test_a_cent_off_is_a_mismatch(tmp_path: Path) -> None:
    path, _ = _good(tmp_path / "cent.xlsx", off_by_cent=True)
    check = lo.check_formulas(path, tmp_path / "work")
    # B2's cached value and the text built from it; attainment 1.0289 vs 1.0289 (+8e-6) is within the
    # half-cent slack given to values >= 1, and the grand total's cached value was right all along.
    cells = [m.split(" ", 1)[0] for m in check.mismatches]
    assert cells == ["Summary!B2", "Summary!H2"]
    assert check.mismatches[0].endswith(": cached=1234.6399999999999 recalculated=1234.63")


# --- convert -----------------------------------------------------------------


@pytest.mark.libreoffice
def test_convert_to_ods_and_refuses_to_overwrite(tmp_path: Path) -> None:
    src = _stale(tmp_path / "s.xlsx")
    ods = lo.convert(src, "ods", tmp_path / "out")
    assert ods == (tmp_path / "out" / "s.ods").resolve() and ods.stat().st_size > 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["s.ods"]  # no temp dir left behind
    with pytest.raises(ValueError, match="overwrite"):
        lo.convert(src, "xlsx", tmp_path)


@pytest.mark.libreoffice
def test_convert_timeout_kills_and_recovers(tmp_path: Path) -> None:
    src = _stale(tmp_path / "s.xlsx")
    with pytest.raises(lo.LibreOfficeError, match="timed out"):
        lo.convert(src, "pdf", tmp_path / "out", timeout=0.05)
    assert lo.convert(src, "pdf", tmp_path / "out").read_bytes().startswith(b"%PDF")


def test_convert_missing_soffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(lo, "soffice", lambda: None)
    with pytest.raises(lo.LibreOfficeError, match="not found"):
        lo.convert(tmp_path / "x.xlsx", "pdf", tmp_path)


# --- rendering ---------------------------------------------------------------


def _chinese(path: Path) -> Path:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("销售")
    ws.set_column("A:B", 24)
    ws.write_row(0, 0, ["销售代表", "承诺金额"])
    ws.write_row(1, 0, ["李雷", 666.67])
    ws.write_row(2, 0, ["韩梅梅", 1200.5])
    ws.write_formula("B4", "=SUM(B2:B3)", None, 1867.17)
    wb.close()
    return path


@pytest.mark.libreoffice
def test_render_png_with_chinese_text(tmp_path: Path) -> None:
    _gate("pdftoppm (poppler-utils)", shutil.which("pdftoppm") is not None)
    pages = lo.render_png(_chinese(tmp_path / "cjk.xlsx"), tmp_path / "png", dpi=60)
    assert pages == [tmp_path / "png" / "cjk-1.png"]
    data = pages[0].read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000
    assert [p.name for p in (tmp_path / "png").iterdir()] == ["cjk-1.png"]


@pytest.mark.libreoffice
def test_pdf_embeds_a_cjk_font(tmp_path: Path) -> None:
    """Chinese text is drawn with a real CJK font (fonts-noto-cjk), not fallback boxes."""
    _gate("pdffonts (poppler-utils)", shutil.which("pdffonts") is not None)
    has_cjk = shutil.which("fc-list") is not None and bool(
        subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.strip()
    )
    _gate("a Chinese font (fonts-noto-cjk)", has_cjk)
    pdf = lo.convert(_chinese(tmp_path / "cjk.xlsx"), "pdf", tmp_path / "pdf")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts, fonts
