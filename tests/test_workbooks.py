"""The committed workbooks in workbooks/ are exactly what the code builds (content, not bytes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlsales.cli import build_workbooks
from xlsales.io.normalize import content, diff

from .conftest import ROOT, needs_soffice

COMMITTED = ROOT / "workbooks"
NAMES = ["manager.xlsm", "rep_template_zh.xlsx", "rep_template_en.xlsx"]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wb")
    build_workbooks(out)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_committed_workbook_matches_a_rebuild(rebuilt, name):
    committed = COMMITTED / name
    assert committed.exists(), f"run `xlsales build-workbooks` and commit {name}"
    d = diff(content(committed), content(rebuilt / name))
    assert d == [], "workbooks/ is stale; run `xlsales build-workbooks`:\n" + "\n".join(d)


def test_normalized_content_sees_a_change(rebuilt, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(rebuilt / "rep_template_zh.xlsx")
    wb["商机"]["A1"] = "changed"
    wb.save(tmp_path / "x.xlsx")
    assert diff(content(rebuilt / "rep_template_zh.xlsx"), content(tmp_path / "x.xlsx")) != []


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", NAMES)
def test_libreoffice_opens_and_converts(rebuilt, tmp_path, name):
    needs_soffice()
    from xlsales.io import libreoffice

    pdf = libreoffice.convert(rebuilt / name, "pdf", tmp_path)
    assert pdf.stat().st_size > 1000
    ods = libreoffice.convert(rebuilt / name, "ods", tmp_path)
    assert ods.stat().st_size > 1000
