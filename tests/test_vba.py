"""The VBA project builder: olevba reads back the sources, LibreOffice runs a macro, buttons name macros.

Normalisation used when comparing olevba's output with ``macros/*.bas``:
line endings only (the module stream stores CRLF, the repo files use LF).
The ``Attribute VB_Name`` header is part of both, so it is compared as is.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import struct
import subprocess
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import olefile
import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xlsales.excel.vba import (
    add_buttons_and_vba,
    build_vba_project,
    compress,
    document_module_names,
    load_modules,
    read_modules,
    xlwings_modules,
)

from .conftest import needs_soffice

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros"
BUTTONS = [
    {"cell": "B2", "macro": "XS_Consolidate", "caption": "Consolidate 汇总", "width": 160, "height": 30},
    {"cell": "B5", "macro": "XS_Targets", "caption": "Targets 目标", "width": 160, "height": 30},
    {"cell": "B8", "macro": "XS_Refresh", "caption": "Refresh 刷新", "width": 160, "height": 30},
]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _build_xlsm(path: Path, modules: list[tuple[str, str]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Manager")
    ws.write("D1", "placeholder")
    wb.add_worksheet("Data")
    vba = build_vba_project(modules, document_modules=document_module_names(wb))
    add_buttons_and_vba(wb, ws, BUTTONS, vba)
    wb.close()


@pytest.fixture(scope="module")
def repo_modules() -> list[tuple[str, str]]:
    modules = load_modules(MACROS)
    assert {name for name, _ in modules} >= {"xlsales_test", "xlsales_buttons"}
    return modules


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory: pytest.TempPathFactory, repo_modules: list[tuple[str, str]]) -> Path:
    path = tmp_path_factory.mktemp("vba") / "manager_test.xlsm"
    _build_xlsm(path, repo_modules)
    return path


# ---------------------------------------------------------------- compression / container
@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=9000), st.text(alphabet="ab \n", max_size=12000).map(str.encode)))
def test_compress_roundtrips_through_olevba(data: bytes) -> None:
    packed = compress(data)
    assert packed[0] == 1
    assert (decompress_stream(packed) if data else b"") == data


def test_compress_actually_compresses_source_text() -> None:
    text = (MACROS / "xlsales_buttons.bas").read_bytes() * 20
    assert len(compress(text)) < len(text) // 4


def test_container_layout_and_stale_pcode(repo_modules: list[tuple[str, str]]) -> None:
    data = build_vba_project(repo_modules)
    assert olefile.isOleFile(data=data)
    ole = olefile.OleFileIO(io.BytesIO(data))
    names = {"/".join(p) for p in ole.listdir()}
    assert names == {
        "PROJECT",
        "PROJECTwm",
        "VBA/_VBA_PROJECT",
        "VBA/dir",
        "VBA/ThisWorkbook",
        "VBA/Sheet1",
        "VBA/xlsales_test",
        "VBA/xlsales_buttons",
        "VBA/xlsales_udfs",
    }
    # Version 0xFFFF and no performance cache: Excel must recompile from source.
    assert ole.openstream("VBA/_VBA_PROJECT").read() == struct.pack("<HHBH", 0x61CC, 0xFFFF, 0, 1)
    # No p-code: each module stream is a bare compressed container (signature byte first).
    assert ole.openstream("VBA/xlsales_test").read()[0] == 1
    project = ole.openstream("PROJECT").read().decode("cp936")
    assert "Module=xlsales_test\r\n" in project and "Document=Sheet1/&H00000000\r\n" in project
    assert build_vba_project(repo_modules) == data  # deterministic


def _decrypt(hex_text: str) -> tuple[int, bytes]:
    """MS-OVBA 2.4.3.3 decryption, written independently of the encoder: (project key, data)."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[0], raw[1], raw[2]
    assert seed ^ version_enc == 2
    key = seed ^ key_enc
    unenc, enc1, enc2 = key, key_enc, version_enc
    plain = []
    for byte_enc in raw[3:]:
        byte = byte_enc ^ ((enc2 + unenc) & 0xFF)
        plain.append(byte)
        enc2, enc1, unenc = enc1, byte_enc, byte
    ignored = (seed & 6) // 2
    length = struct.unpack("<I", bytes(plain[ignored : ignored + 4]))[0]
    data = bytes(plain[ignored + 4 :])
    assert len(data) == length
    return key, data


def test_project_protection_fields_decrypt(repo_modules: list[tuple[str, str]]) -> None:
    ole = olefile.OleFileIO(io.BytesIO(build_vba_project(repo_modules)))
    text = ole.openstream("PROJECT").read().decode("cp936")
    fields = dict(re.findall(r'^(\w+)="([^"]*)"\r$', text, flags=re.M))
    key = sum(fields["ID"].encode()) & 0xFF
    uuid.UUID(fields["ID"])
    assert _decrypt(fields["CMG"]) == (key, b"\x00\x00\x00\x00")
    assert _decrypt(fields["DPB"]) == (key, b"\x00")
    assert _decrypt(fields["GC"]) == (key, b"\xff")


def test_bad_module_names_and_mismatched_header_rejected() -> None:
    with pytest.raises(ValueError, match="invalid VBA module name"):
        build_vba_project([("1bad", "Sub X()\nEnd Sub\n")])
    with pytest.raises(ValueError, match="VB_Name"):
        build_vba_project([("Good", 'Attribute VB_Name = "Other"\nSub X()\nEnd Sub\n')])
    with pytest.raises(ValueError, match="duplicate"):
        build_vba_project([("Sheet1", "Sub X()\nEnd Sub\n")])
    with pytest.raises(ValueError, match="code page"):
        build_vba_project([("M", "' \u00e9\u00e8 caf\u00e9 \u0e01\n")], codepage=1252)


# ---------------------------------------------------------------- check 1: olevba reads back the sources
def test_olevba_extracts_exact_module_sources(xlsm: Path, repo_modules: list[tuple[str, str]]) -> None:
    got = read_modules(xlsm)
    for name, source in repo_modules:
        assert got[name] == _lf(source), name
    assert set(got) == {"ThisWorkbook", "Sheet1", "Sheet2"} | {name for name, _ in repo_modules}
    assert got["ThisWorkbook"].startswith('Attribute VB_Name = "ThisWorkbook"\nAttribute VB_Base = "0{00020819-')


def test_module_without_header_gets_one_and_crlf_is_stored() -> None:
    got = read_modules(build_vba_project([("Plain", "Sub A()\r\nEnd Sub")]))
    assert got["Plain"] == 'Attribute VB_Name = "Plain"\nSub A()\nEnd Sub\n'


def test_xlwings_standalone_modules_roundtrip() -> None:
    modules = xlwings_modules()
    got = read_modules(build_vba_project(modules))
    bas = dict(modules)
    assert got["xlwings"] == _lf(bas["xlwings"])
    assert "Public Function RunPython(" in got["xlwings"]
    # The class export header (VERSION/BEGIN/END) is not stored; VB_Base marks it a class.
    cls = _lf(bas["Dictionary"])
    stored = got["Dictionary"]
    assert stored.startswith('Attribute VB_Name = "Dictionary"\nAttribute VB_Base = "0{FCFB3D2A-')
    assert stored.endswith(cls.split('Attribute VB_Name = "Dictionary"\n', 1)[1])
    ole = olefile.OleFileIO(io.BytesIO(build_vba_project(modules)))
    assert "Class=Dictionary\r\n" in ole.openstream("PROJECT").read().decode("cp936")


# ---------------------------------------------------------------- check 3: buttons name the right macros
def test_button_drawing_parts_name_existing_macros(xlsm: Path, repo_modules: list[tuple[str, str]]) -> None:
    with zipfile.ZipFile(xlsm) as zf:
        names = zf.namelist()
        vml_parts = [n for n in names if re.fullmatch(r"xl/drawings/vmlDrawing\d+\.vml", n)]
        assert len(vml_parts) == 1
        vml = zf.read(vml_parts[0]).decode("utf-8")
        rels = zf.read("xl/worksheets/_rels/sheet1.xml.rels").decode("utf-8")
        workbook_xml = zf.read("xl/workbook.xml").decode("utf-8")
        content_types = zf.read("[Content_Types].xml").decode("utf-8")
    assert "vmlDrawing" in rels
    assert 'codeName="ThisWorkbook"' in workbook_xml
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in content_types
    shapes = re.findall(r'<x:ClientData ObjectType="Button">(.*?)</x:ClientData>', vml, flags=re.S)
    macros = [re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", s).group(1) for s in shapes]
    assert macros == [b["macro"] for b in BUTTONS]
    for button in BUTTONS:
        assert button["caption"] in vml
    # Every macro a button names is a Sub in the button module, which calls RunPython.
    source = dict(repo_modules)["xlsales_buttons"]
    subs = dict(re.findall(r"^Sub (\w+)\(\)\n\s+(RunPython \".*\")\nEnd Sub", _lf(source), flags=re.M))
    assert set(macros) == set(subs)
    assert subs["XS_Consolidate"] == 'RunPython "import xlsales.excel.buttons as b; b.consolidate()"'
    assert subs["XS_Targets"] == 'RunPython "import xlsales.excel.buttons as b; b.targets()"'
    assert subs["XS_Refresh"] == 'RunPython "import xlsales.excel.buttons as b; b.refresh()"'


def test_button_without_macro_rejected(tmp_path: Path) -> None:
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsm"))
    ws = wb.add_worksheet()
    with pytest.raises(ValueError, match="no macro"):
        add_buttons_and_vba(wb, ws, [{"cell": "A1", "caption": "x"}], build_vba_project([]))
    wb.close()


# ---------------------------------------------------------------- check 2: LibreOffice runs a macro
_REGISTRY_ITEMS = """
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Filter/Import/VBA"><prop oor:name="Load" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Filter/Import/VBA"><prop oor:name="Executable" oor:op="fuse"><value>true</value></prop></item>
"""

# StarBasic runner placed in the private profile's Standard library: opens the
# workbook with macro execution allowed, lists the document's Basic libraries
# and modules (LibreOffice's VBA import), invokes XS_SelfTest through the
# document's script provider, saves a copy as .xlsx and quits.
_RUNNER = """REM xlsales LibreOffice VBA check (note: Lib is a Basic keyword, hence the o/s prefixes)
Sub Main
    Dim sReport As String
    On Error GoTo Failed
    Dim aProps(1) As New com.sun.star.beans.PropertyValue
    aProps(0).Name = "MacroExecutionMode"
    aProps(0).Value = 4
    aProps(1).Name = "Hidden"
    aProps(1).Value = True
    Dim oDoc As Object
    oDoc = StarDesktop.loadComponentFromURL("{in_url}", "_blank", 0, aProps())
    Dim oLibs As Object, oLib As Object, sLibName As String, sVbaLib As String
    oLibs = oDoc.BasicLibraries
    Dim i As Integer, j As Integer
    For i = LBound(oLibs.ElementNames) To UBound(oLibs.ElementNames)
        sLibName = oLibs.ElementNames(i)
        oLibs.loadLibrary(sLibName)
        oLib = oLibs.getByName(sLibName)
        For j = LBound(oLib.ElementNames) To UBound(oLib.ElementNames)
            sReport = sReport & "module " & sLibName & "." & oLib.ElementNames(j) & Chr(10)
            If oLib.ElementNames(j) = "xlsales_test" Then sVbaLib = sLibName
        Next j
    Next i
    sReport = sReport & "vbacompat " & oLibs.VBACompatibilityMode & Chr(10)
    Dim oScript As Object
    oScript = oDoc.getScriptProvider().getScript("vnd.sun.star.script:" & sVbaLib & ".xlsales_test.XS_SelfTest?language=Basic&location=document")
    oScript.invoke(Array(), Array(), Array())
    sReport = sReport & "A1 " & oDoc.Sheets.getByIndex(0).getCellByPosition(0, 0).String & Chr(10)
    Dim aSave(0) As New com.sun.star.beans.PropertyValue
    aSave(0).Name = "FilterName"
    aSave(0).Value = "Calc MS Excel 2007 XML"
    oDoc.storeToURL("{out_url}", aSave())
    oDoc.close(True)
    sReport = sReport & "saved" & Chr(10)
    GoTo Done
Failed:
    sReport = sReport & "ERROR " & Err & " " & Error$ & " at line " & Erl & Chr(10)
Done:
    Dim iFile As Integer
    iFile = FreeFile
    Open "{report_path}" For Output As #iFile
    Print #iFile, sReport
    Close #iFile
    StarDesktop.terminate()
End Sub
"""


def _run_soffice(args: list[str], timeout: float) -> None:
    """Run soffice in its own process group; kill that group (only) on timeout."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise


def _libreoffice_run_selftest(soffice: str, xlsm: Path, work: Path) -> tuple[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    profile = work / "profile"
    profile_url = profile.as_uri()
    base = [soffice, f"-env:UserInstallation={profile_url}", "--headless", "--norestore", "--nologo"]
    _run_soffice([*base, "--terminate_after_init"], timeout=120)  # create the private profile
    xcu = profile / "user" / "registrymodifications.xcu"
    xcu.write_text(xcu.read_text(encoding="utf-8").replace("</oor:items>", _REGISTRY_ITEMS + "</oor:items>"), "utf-8")
    out = work / "result.xlsx"
    report = work / "report.txt"
    code = _RUNNER.format(in_url=xlsm.as_uri(), out_url=out.as_uri(), report_path=str(report))
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    module.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n'
        '<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
        f'script:language="StarBasic">{escape(code)}</script:module>',
        encoding="utf-8",
    )
    _run_soffice([*base, "macro:///Standard.Module1.Main"], timeout=120)
    assert report.exists(), "LibreOffice did not run the runner macro"
    return report.read_text(encoding="utf-8"), out


@pytest.fixture
def soffice() -> str:
    if SOFFICE is None:
        needs_soffice()
    return SOFFICE


@pytest.mark.libreoffice
def test_libreoffice_imports_modules_and_runs_selftest(soffice: str, xlsm: Path, tmp_path: Path) -> None:
    # Start from a workbook whose A1 is empty, so only the macro can put the marker there.
    assert openpyxl.load_workbook(xlsm, keep_vba=True).worksheets[0]["A1"].value is None
    report, out = _libreoffice_run_selftest(soffice, xlsm, tmp_path)
    assert "ERROR" not in report, report
    modules = set(re.findall(r"^module \w+\.(\w+)$", report, flags=re.M))
    assert modules == {"ThisWorkbook", "Sheet1", "Sheet2", "xlsales_test", "xlsales_buttons", "xlsales_udfs"}, report
    assert "A1 xlsales-ok" in report, report
    saved = openpyxl.load_workbook(out)
    assert saved.worksheets[0]["A1"].value == "xlsales-ok"
    assert saved.worksheets[0]["D1"].value == "placeholder"


_GREETER_CLS = """VERSION 1.0 CLASS
BEGIN
  MultiUse = -1  'True
END
Attribute VB_Name = "Greeter"
Attribute VB_GlobalNameSpace = False
Attribute VB_Creatable = False
Attribute VB_PredeclaredId = False
Attribute VB_Exposed = False
Option Explicit

Public Function Hello(ByVal who As String) As String
    Hello = "class-ok " & who
End Function
"""

_SELFTEST_WITH_CLASS = """Attribute VB_Name = "xlsales_test"
Sub XS_SelfTest()
    Dim g As New Greeter
    ThisWorkbook.Worksheets(1).Range("A1").Value = g.Hello("xlsales")
End Sub
"""


@pytest.mark.libreoffice
def test_libreoffice_runs_class_module_code(soffice: str, tmp_path: Path) -> None:
    """A class module (``VERSION 1.0 CLASS`` export) is stored so that LibreOffice can instantiate it."""
    path = tmp_path / "class.xlsm"
    _build_xlsm(path, [("xlsales_test", _SELFTEST_WITH_CLASS), ("Greeter", _GREETER_CLS)])
    report, out = _libreoffice_run_selftest(soffice, path, tmp_path / "lo")
    assert "ERROR" not in report, report
    assert openpyxl.load_workbook(out).worksheets[0]["A1"].value == "class-ok xlsales"
