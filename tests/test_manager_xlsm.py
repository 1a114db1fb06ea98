"""The committed workbooks/manager.xlsm: VBA read back by olevba, run by LibreOffice, buttons, setup tables."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlsales.excel import udf_vba
from xlsales.excel.vba import load_modules, read_modules, xlwings_modules
from xlsales.excel.workbook import ACTIONS, CONF, CONF_SHEET, CONTROL_SHEET, buttons
from xlsales.io.manager import load_setup

from .conftest import ROOT, needs_soffice
from .test_vba import _REGISTRY_ITEMS, _RUNNER, _run_soffice  # noqa: F401 - reused LibreOffice harness

XLSM = ROOT / "workbooks" / "manager.xlsm"
MACROS = ROOT / "macros"


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def test_udf_module_is_up_to_date() -> None:
    assert (MACROS / "xlsales_udfs.bas").read_text(encoding="utf-8") == udf_vba.generate(), \
        "run `python -m xlsales.excel.udf_vba`"


def test_olevba_extracts_exactly_the_macros_folder() -> None:
    got = read_modules(XLSM)
    for name, source in load_modules(MACROS):
        assert got[name] == _lf(source), name
    assert _lf(dict(xlwings_modules())["xlwings"]) == got["xlwings"]
    ours = {n for n, _ in load_modules(MACROS)} | {"xlwings", "Dictionary"}
    docs = {n for n in got if n == "ThisWorkbook" or re.fullmatch(r"Sheet\d+", n)}
    assert set(got) == ours | docs
    assert ours == {"xlsales_buttons", "xlsales_udfs", "xlsales_test", "xlwings", "Dictionary"}


def test_buttons_name_the_button_macros() -> None:
    with zipfile.ZipFile(XLSM) as zf:
        wb_xml = zf.read("xl/workbook.xml").decode()
        first_sheet = re.search(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', wb_xml)
        assert first_sheet.group(1) == CONTROL_SHEET
        rels = zf.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
        vml_name = re.search(r'Target="../drawings/(vmlDrawing\d+\.vml)"', rels).group(1)
        vml = zf.read(f"xl/drawings/{vml_name}").decode()
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in zf.read("[Content_Types].xml").decode()
    shapes = re.findall(r'<x:ClientData ObjectType="Button">(.*?)</x:ClientData>', vml, flags=re.S)
    macros = [re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", s).group(1) for s in shapes]
    assert macros == ["XS_Consolidate", "XS_Targets", "XS_Refresh"] == [b["macro"] for b in buttons()]
    for _macro, zh, en, *_ in ACTIONS.values():
        assert zh in vml and en in vml
    src = _lf((MACROS / "xlsales_buttons.bas").read_text(encoding="utf-8"))
    subs = dict(re.findall(r"^Sub (\w+)\(\)\n\s+RunPython \"(.*)\"\nEnd Sub", src, flags=re.M))
    assert subs == {"XS_Consolidate": "import xlsales.excel.buttons as b; b.consolidate()",
                    "XS_Targets": "import xlsales.excel.buttons as b; b.targets()",
                    "XS_Refresh": "import xlsales.excel.buttons as b; b.refresh()"}
    from xlsales.excel import buttons as py_buttons

    for call in subs.values():
        assert callable(getattr(py_buttons, call.rsplit(".", 1)[1].rstrip("()")))


def test_setup_still_loads_and_conf_sheet() -> None:
    setup, issues = load_setup(XLSM)
    assert issues == []
    assert len(setup.active_reps()) == 12
    wb = openpyxl.load_workbook(XLSM, keep_vba=True)
    assert wb.sheetnames[0] == CONTROL_SHEET and wb.sheetnames[-1] == CONF_SHEET
    conf = wb[CONF_SHEET]
    assert [(conf.cell(r + 1, 1).value, conf.cell(r + 1, 2).value) for r in range(len(CONF))] == CONF
    assert conf.cell(len(CONF) + 1, 1).value is None  # xlwings reads A1 down to the first blank
    assert wb[CONTROL_SHEET]["A1"].value is None


# LibreOffice compiles a document library as a whole and cannot compile xlwings' Dictionary.cls
# (Mac-only helper, heavy #If/#Const use). The runner therefore removes that one module from the
# *loaded* library (in memory; the file is untouched) before invoking XS_SelfTest.
_DROP_DICTIONARY = (
    '    If oDoc.BasicLibraries.getByName(sVbaLib).hasByName("Dictionary") Then '
    'oDoc.BasicLibraries.getByName(sVbaLib).removeByName("Dictionary")\n'
    '    sReport = sReport & "vbacompat "'
)


@pytest.mark.libreoffice
def test_libreoffice_opens_real_manager_and_runs_selftest(tmp_path: Path) -> None:
    needs_soffice()
    import shutil
    from xml.sax.saxutils import escape

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    xlsm = tmp_path / "manager.xlsm"
    shutil.copy(XLSM, xlsm)
    before = xlsm.read_bytes()
    profile = tmp_path / "profile"
    base = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nologo"]
    _run_soffice([*base, "--terminate_after_init"], timeout=120)
    xcu = profile / "user" / "registrymodifications.xcu"
    xcu.write_text(xcu.read_text(encoding="utf-8").replace("</oor:items>", _REGISTRY_ITEMS + "</oor:items>"), "utf-8")
    out, report = tmp_path / "result.xlsx", tmp_path / "report.txt"
    runner = _RUNNER.replace('    sReport = sReport & "vbacompat "', _DROP_DICTIONARY, 1)
    assert runner != _RUNNER
    code = runner.format(in_url=xlsm.as_uri(), out_url=out.as_uri(), report_path=str(report))
    (profile / "user" / "basic" / "Standard" / "Module1.xba").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n'
        '<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
        f'script:language="StarBasic">{escape(code)}</script:module>', encoding="utf-8")
    _run_soffice([*base, "macro:///Standard.Module1.Main"], timeout=180)
    text = report.read_text(encoding="utf-8")
    assert "ERROR" not in text, text
    found = set(re.findall(r"^module \w+\.(\w+)$", text, flags=re.M))
    assert {"xlwings", "Dictionary", "xlsales_buttons", "xlsales_udfs", "xlsales_test", "ThisWorkbook"} <= found, text
    assert "A1 xlsales-ok" in text, text
    saved = openpyxl.load_workbook(out)
    assert saved.sheetnames[0] == CONTROL_SHEET and saved.worksheets[0]["A1"].value == "xlsales-ok"
    assert xlsm.read_bytes() == before  # the check never wrote the workbook itself
