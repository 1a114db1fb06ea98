"""The hostile-file guard: every hostile file built here becomes exactly one file-level issue."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import struct
import sys
import threading
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from xlsales.core.issues import RULES
from xlsales.io import parse, safety

MB = 1024 * 1024


# --- builders --------------------------------------------------------------

def valid_xlsx(path: Path) -> Path:
    """A real workbook written by XlsxWriter (shared strings, numbers, a second sheet)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Deals")
    ws.write_row(0, 0, ["客户", "金额", "阶段"])
    ws.write_row(1, 0, ["Acme", 12000, "Proposal"])
    ws.write_row(2, 0, ["华为", 3.5, "Won"])
    wb.add_worksheet("Notes").write(3, 1, "B4 only")
    wb.close()
    return path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    """Copy a zip, swapping the bytes of the named entries."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
    return dst


def xlsx_with(tmp_path: Path, name: str, part: str, data: bytes) -> Path:
    return rewrite(valid_xlsx(tmp_path / "base.xlsx"), tmp_path / name, {part: data})


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE worksheet [
 <!ENTITY a0 "dha">
 <!ENTITY a1 "&a0;&a0;&a0;&a0;&a0;&a0;&a0;&a0;&a0;&a0;">
 <!ENTITY a2 "&a1;&a1;&a1;&a1;&a1;&a1;&a1;&a1;&a1;&a1;">
 <!ENTITY a3 "&a2;&a2;&a2;&a2;&a2;&a2;&a2;&a2;&a2;&a2;">
 <!ENTITY a9 "&a3;&a3;&a3;&a3;&a3;&a3;&a3;&a3;&a3;&a3;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&a9;</t></is></c></row></sheetData></worksheet>"""

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&x;</t></si></sst>"""


def minimal_package(z: zipfile.ZipFile) -> None:
    """The small parts that make a zip look like an xlsx."""
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
    z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')


def build_empty(tmp_path: Path) -> Path:
    p = tmp_path / "empty.xlsx"
    p.write_bytes(b"")
    return p


def build_text(tmp_path: Path) -> Path:
    p = tmp_path / "notes.xlsx"
    p.write_text("客户,金额\nAcme,12000\n", encoding="utf-8")
    return p


def build_png(tmp_path: Path) -> Path:
    p = tmp_path / "screenshot.xlsx"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    return p


def build_truncated(tmp_path: Path) -> Path:
    data = valid_xlsx(tmp_path / "base.xlsx").read_bytes()
    p = tmp_path / "truncated.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return p


def build_zip_bomb(tmp_path: Path) -> Path:
    """250 MB of zeros streamed into sheet1.xml: a ~250 KB file declaring far more than the limit."""
    p = tmp_path / "bomb.xlsx"
    zeros = bytes(MB)
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        minimal_package(z)
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            for _ in range(250):
                f.write(zeros)
    return p


def build_lying_header(tmp_path: Path) -> Path:
    """sheet1.xml inflates to 2 MB but both its headers claim 1,000 bytes (a modest ratio, so only the size cap sees it)."""
    p = tmp_path / "liar.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        minimal_package(z)
        z.writestr("xl/worksheets/sheet1.xml", os.urandom(MB).hex().encode())
    return understated(p, "xl/worksheets/sheet1.xml")


def understated(p: Path, part: str) -> Path:
    """``p`` with both headers of ``part`` claiming it inflates to 1,000 bytes."""
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        local = z.getinfo(part).header_offset
    struct.pack_into("<L", data, local + 22, 1000)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        (name_len,) = struct.unpack_from("<H", data, pos + 28)
        if data[pos + 46: pos + 46 + name_len] == part.encode():
            struct.pack_into("<L", data, pos + 24, 1000)
        pos = data.find(b"PK\x01\x02", pos + 4)
    p.write_bytes(bytes(data))
    return p


def build_billion_laughs(tmp_path: Path) -> Path:
    return xlsx_with(tmp_path, "laughs.xlsx", "xl/worksheets/sheet1.xml", BILLION_LAUGHS)


def build_xxe(tmp_path: Path) -> Path:
    return xlsx_with(tmp_path, "xxe.xlsx", "xl/sharedStrings.xml", XXE)


def build_utf16_doctype(tmp_path: Path) -> Path:
    """The same XXE, encoded as UTF-16 so a byte search for ASCII would miss it."""
    data = XXE.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16")
    return xlsx_with(tmp_path, "xxe16.xlsx", "xl/sharedStrings.xml", data)


def build_many_entries(tmp_path: Path) -> Path:
    p = tmp_path / "many.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        minimal_package(z)
        for i in range(20_000):
            z.writestr(f"xl/media/{i}.txt", b"")
    return p


def build_duplicate(tmp_path: Path) -> Path:
    p = valid_xlsx(tmp_path / "dup.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, which is the point
        with zipfile.ZipFile(p, "a") as z:
            z.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
    return p


def build_not_a_workbook_zip(tmp_path: Path) -> Path:
    p = tmp_path / "report.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return p


def build_encrypted_ods(tmp_path: Path) -> Path:
    p = tmp_path / "locked.ods"
    manifest = b"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="999">
  <manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">
   <manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/>
  </manifest:encryption-data></manifest:file-entry></manifest:manifest>"""
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", os.urandom(999), zipfile.ZIP_STORED)  # ciphertext: not XML, not deflate
    return p


def build_zip_encrypted_entry(tmp_path: Path) -> Path:
    """A classic zip-password entry: flag bit 0 set on sheet1.xml."""
    p = valid_xlsx(tmp_path / "zipcrypto.xlsx")
    data = bytearray(p.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        (name_len,) = struct.unpack_from("<H", data, pos + 28)
        if data[pos + 46: pos + 46 + name_len] == b"xl/worksheets/sheet1.xml":
            data[pos + 8] |= 1
        pos = data.find(b"PK\x01\x02", pos + 4)
    p.write_bytes(bytes(data))
    return p


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal version-3 compound file: FAT in sector 0, directory in sector 1, then each stream.

    Streams are padded to 4,096 bytes so they live in the normal FAT, not the mini stream.
    """
    assert len(streams) <= 3
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    fat = [0xFFFFFFFD, end]
    body, starts = b"", []
    for data in streams.values():
        data = data.ljust(max(4096, -(-len(data) // 512) * 512), b"\0")
        first, count = len(fat), len(data) // 512
        starts.append((first, len(data)))
        fat += [first + i + 1 for i in range(count - 1)] + [end]
        body += data
    fat += [free] * (128 - len(fat))

    def entry(name: str, etype: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3L", len(raw), etype, 1, free, right, child)
                + bytes(16 + 4 + 16) + struct.pack("<LQ", start, size))

    names = list(streams)
    dirs = entry("Root Entry", 5, 1, free, end, 0)
    for i, (name, (start, size)) in enumerate(zip(names, starts, strict=True)):
        dirs += entry(name, 2, free, i + 2 if i + 1 < len(names) else free, start, size)
    dirs = dirs.ljust(512, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(10) + struct.pack("<8L", 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109L", *([free] * 109)))
    header = header[:0x4C] + struct.pack("<L", 0) + header[0x50:]
    return header + struct.pack("<128L", *fat) + dirs + body


def biff(*records: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack("<HH", rtype, len(data)) + data for rtype, data in records)


BOF, EOF, FILEPASS, CODEPAGE = 0x0809, 0x000A, 0x002F, 0x0042


def build_encrypted_ooxml(tmp_path: Path) -> Path:
    """What Excel writes for 'Encrypt with Password': an OLE2 file holding EncryptionInfo/EncryptedPackage."""
    p = tmp_path / "locked.xlsx"
    p.write_bytes(cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00<encryption/>",
                       "EncryptedPackage": os.urandom(600)}))
    return p


def build_real_encrypted_xlsx(tmp_path: Path) -> Path:
    """A real workbook encrypted by msoffcrypto-tool (ECMA-376 agile encryption, as Excel does it)."""
    import msoffcrypto

    plain = valid_xlsx(tmp_path / "plain.xlsx")
    p = tmp_path / "agile.xlsx"
    with plain.open("rb") as src, p.open("wb") as out:
        msoffcrypto.OfficeFile(src).encrypt("密码123", out)
    return p


def build_xls_filepass(tmp_path: Path) -> Path:
    p = tmp_path / "locked.xls"
    stream = biff((BOF, bytes(16)), (FILEPASS, b"\x01\x00" + bytes(52)), (CODEPAGE, b"\xb0\x04"), (EOF, b""))
    p.write_bytes(cfb({"Workbook": stream}))
    return p


def build_ole_word(tmp_path: Path) -> Path:
    p = tmp_path / "letter.xls"
    p.write_bytes(cfb({"WordDocument": b"\xec\xa5" + bytes(100)}))
    return p


def build_csv(tmp_path: Path) -> Path:
    p = tmp_path / "deals.csv"
    p.write_text("a,b\n1,2\n")
    return p


HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "zero bytes": (build_empty, "file_empty"),
    "text named .xlsx": (build_text, "file_not_workbook"),
    "png named .xlsx": (build_png, "file_not_workbook"),
    "truncated at half": (build_truncated, "file_corrupt"),
    "zip bomb 250 MB of zeros": (build_zip_bomb, "file_bomb"),
    "zip entry lying about its size": (build_lying_header, "file_bomb"),
    "billion laughs in sheet1.xml": (build_billion_laughs, "file_xml_entities"),
    "XXE in sharedStrings.xml": (build_xxe, "file_xml_entities"),
    "XXE in UTF-16 sharedStrings.xml": (build_utf16_doctype, "file_xml_entities"),
    "20,000 zip entries": (build_many_entries, "file_bomb"),
    "duplicate zip entry": (build_duplicate, "file_corrupt"),
    "zip that is not a workbook": (build_not_a_workbook_zip, "file_not_workbook"),
    "encrypted ods": (build_encrypted_ods, "file_encrypted"),
    "zip-password entry": (build_zip_encrypted_entry, "file_encrypted"),
    "Excel-encrypted xlsx (OLE2)": (build_encrypted_ooxml, "file_encrypted"),
    "xlsx really encrypted (agile)": (build_real_encrypted_xlsx, "file_encrypted"),
    "xls with FILEPASS": (build_xls_filepass, "file_encrypted"),
    "Word OLE2 named .xls": (build_ole_word, "file_not_workbook"),
    "unknown extension": (build_csv, "file_unsupported"),
}


# --- tests -----------------------------------------------------------------

@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_gives_one_issue(tmp_path: Path, case: str) -> None:
    build, rule = HOSTILE[case]
    path = build(tmp_path)
    issue = safety.check_file(path)
    assert issue is not None and issue.rule == rule, issue
    assert issue.file == str(path) and issue.sheet == "" and issue.cell == ""
    assert issue.severity == "error" and issue.zh and issue.en
    book, again = safety.open_book(path)  # must not raise either
    assert book is None and again == issue


def test_valid_workbook_passes_and_reads(tmp_path: Path) -> None:
    path = valid_xlsx(tmp_path / "ok.xlsx")
    assert safety.check_file(path) is None
    book, issue = safety.open_book(path)
    assert issue is None and book is not None
    assert book.sheet_names == ["Deals", "Notes"]
    rows, issue = safety.read_sheet(book, "Deals")
    assert issue is None
    assert rows == [["客户", "金额", "阶段"], ["Acme", 12000, "Proposal"], ["华为", 3.5, "Won"]]
    rows, issue = safety.read_sheet(book, "Notes")
    assert issue is None and rows is not None
    assert len(rows) == 4 and rows[3][1] == "B4 only"  # anchored at A1


def test_load_hashes_and_parses_the_same_bytes(tmp_path: Path) -> None:
    path = valid_xlsx(tmp_path / "ok.xlsx")
    data = path.read_bytes()
    got = safety.load(path, name="ok.xlsx")
    assert got.issue is None and got.book is not None
    assert (got.sha256, got.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert got.modified is not None and got.modified.year >= 2024
    with safety.Sandbox() as sb:  # the sandbox parses the bytes it is given, whatever the disk holds by then
        path.write_bytes(b"")
        book = sb.parse(data, "ok.xlsx")
    assert isinstance(book, safety.Workbook) and book.rows["Deals"][1] == ["Acme", 12000, "Proposal"]


def test_parse_workbook_is_plain_data_without_a_process(tmp_path: Path) -> None:
    """The worker's whole job is one pure function of the bytes (what a pool of reader processes would call)."""
    path = tmp_path / "merged.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"date_1904": True})
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["客户", "金额"])
    ws.merge_range("A2:A4", "甲客户", None)
    ws.write_column(1, 1, [1, 2, 3])
    ws.write_formula("B5", "=NA()", None, "#N/A")
    wb.set_properties({"title": "周报", "author": "张伟", "created": dt.datetime(2026, 11, 22, 19, 0)})
    wb.close()
    got = parse.parse_workbook(path.read_bytes(), suffix=".xlsx")
    saved = dt.datetime(2026, 11, 22, 19, 0)
    assert got == {"names": ["S"], "rows": {"S": [["客户", "金额"], ["甲客户", 1], ["甲客户", 2], ["甲客户", 3],
                                                   ["", ""]]},
                   "errors": {"S": {(4, 1): "#N/A"}}, "epoch1904": True,
                   "props": {"title": "周报", "creator": "张伟", "last_modified_by": "张伟", "created": saved,
                             "modified": saved}}


def test_properties_inflate_only_the_properties_parts_and_refuse_a_bomb_there(tmp_path: Path) -> None:
    """Whether a file is an xlsales report is read from its properties without inflating its sheets (a large
    report is not read whole before it is replaced), but a properties part that lies about its size, or
    declares entities, is refused as any part would be."""
    path = tmp_path / "report.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("汇总").write(0, 0, "x")
    wb.set_properties({"title": "销售周报", "author": "xlsales"})
    wb.set_custom_property("xlsales", "report")
    wb.close()
    custom = zipfile.ZipFile(path).read("docProps/custom.xml")
    got = parse.properties(path)
    assert got is not None and got["custom"] == {"xlsales": "report"} and got["title"] == "销售周报"

    big_sheet = rewrite(path, tmp_path / "big.xlsx", {"xl/worksheets/sheet1.xml": os.urandom(MB).hex().encode()})
    understated(big_sheet, "xl/worksheets/sheet1.xml")
    with pytest.raises(safety.RefusedError):
        safety.check_bytes(big_sheet.read_bytes())  # parsing its sheets: refused
    assert parse.properties(big_sheet)["custom"] == {"xlsales": "report"}  # its properties: read, sheets untouched

    padded = custom.replace(b"</Properties>", b"<!--" + os.urandom(MB).hex().encode() + b"--></Properties>")
    lying = understated(rewrite(path, tmp_path / "lying.xlsx", {"docProps/custom.xml": padded}), "docProps/custom.xml")
    entities = rewrite(path, tmp_path / "entities.xlsx",
                       {"docProps/custom.xml": b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "report">]>' + custom})
    for bad in (lying, entities):
        assert parse.properties(bad) is None, bad.name


def test_xlsx_renamed_xls_is_read_by_content(tmp_path: Path) -> None:
    path = valid_xlsx(tmp_path / "ok.xlsx").rename(tmp_path / "ok.xls")
    book, issue = safety.open_book(path)
    assert issue is None and book is not None
    rows, issue = safety.read_sheet(book, "Deals")
    assert issue is None and rows is not None and rows[1][0] == "Acme"


def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = valid_xlsx(tmp_path / "ok.xlsx")
    monkeypatch.setitem(safety.LIMITS, "max_file_bytes", 1000)
    issue = safety.check_file(path)
    assert issue is not None and issue.rule == "file_too_large"


def test_missing_file_is_an_issue(tmp_path: Path) -> None:
    issue = safety.check_file(tmp_path / "gone.xlsx")
    assert issue is not None and issue.rule == "file_vanished"
    book, again = safety.open_book(tmp_path / "gone.xlsx")
    assert book is None and again == issue


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev are POSIX")
@pytest.mark.parametrize("kind", ["fifo", "device", "dangling link", "folder"])
def test_entries_that_are_not_regular_files_are_one_issue_and_never_block(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "R001.xlsx"
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    elif kind == "device":
        path.symlink_to("/dev/zero")  # endless zeros behind a workbook's name
    elif kind == "dangling link":
        path.symlink_to(tmp_path / "moved-away.xlsx")
    else:
        path.mkdir()
    rule = "file_broken_link" if kind == "dangling link" else "file_not_regular"
    got = finishes(60, safety.load, path)
    assert got.book is None and got.issue is not None and got.issue.rule == rule
    assert got.issue.zh and got.issue.en and got.issue.file == str(path)
    assert safety.check_file(path) == got.issue


def test_sheet_over_cell_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(safety.LIMITS, "max_cells", 5)
    book, issue = safety.open_book(valid_xlsx(tmp_path / "ok.xlsx"))
    assert book is None and issue is not None
    assert issue.rule == "file_bomb" and issue.sheet == "Deals"


def test_read_sheet_unknown_name_is_an_issue(tmp_path: Path) -> None:
    path = valid_xlsx(tmp_path / "ok.xlsx")
    book, _ = safety.open_book(path)
    assert book is not None
    rows, issue = safety.read_sheet(book, "Nope", str(path))
    assert rows is None and issue is not None and issue.rule in safety.RULE_IDS
    assert issue.file == str(path)


def test_malformed_sheet_xml_is_corrupt(tmp_path: Path) -> None:
    path = xlsx_with(tmp_path, "bad.xlsx", "xl/worksheets/sheet1.xml",
                     b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                     b'<row r="1"><c r="A0" t="s"><v>0</v></c></row></sheetData></worksheet>')
    assert safety.check_file(path) is None  # well-formed, so only the parser can object
    book, issue = safety.open_book(path)
    assert book is None and issue is not None and issue.rule == "file_corrupt"


def amplified(tmp_path: Path, name: str, sheet_name: str = "Deals") -> Path:
    """A 100 KB shared string referenced by 4,000 cells: ~400 MB once each cell gets its copy."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sst = b"<sst " + ns + b' count="1" uniqueCount="1"><si><t>' + b"x" * 100_000 + b"</t></si></sst>"
    rows = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d" t="s"><v>0</v></c>' % (c, r) for c in (b"A", b"B", b"C", b"D"))
                    + b"</row>" for r in range(1, 1001))
    sheet = b"<worksheet " + ns + b"><sheetData>" + rows + b"</sheetData></worksheet>"
    base = valid_xlsx(tmp_path / f"base-{name}")
    empty = b"<worksheet " + ns + b"><sheetData/></worksheet>"
    path = rewrite(base, tmp_path / name, {"xl/sharedStrings.xml": sst, "xl/worksheets/sheet1.xml": sheet,
                                           "xl/worksheets/sheet2.xml": empty})
    if sheet_name != "Deals":
        path = rewrite(path, tmp_path / f"renamed-{name}", {"xl/workbook.xml": zipfile.ZipFile(path).read(
            "xl/workbook.xml").replace(b'name="Deals"', b'name="%s"' % sheet_name.encode())})
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="the sandbox memory limit needs POSIX rlimits")
def test_shared_string_amplification_hits_the_memory_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = amplified(tmp_path, "amp.xlsx")
    assert safety.check_file(path) is None  # small and honest on disk
    book, issue = safety.open_book(path)  # within the default 2 GB budget it is readable
    assert issue is None and book is not None
    monkeypatch.setitem(safety.LIMITS, "parse_memory_bytes", 300 * MB)
    book, issue = safety.open_book(path)
    assert book is None and issue is not None and issue.rule == "file_bomb"
    assert safety.open_book(valid_xlsx(tmp_path / "ok.xlsx"))[1] is None  # the 300 MB budget itself is sane


def test_every_rule_is_defined() -> None:
    for rule in safety.RULE_IDS:
        assert rule in RULES and RULES[rule].zh and RULES[rule].en


@pytest.mark.parametrize(("stream", "rule"), [
    (biff((BOF, bytes(16)), (FILEPASS, b"\x01\x00" + bytes(52)), (EOF, b"")), "file_encrypted"),  # RC4
    (biff((BOF, bytes(16)), (FILEPASS, b"\x00\x00" + bytes(52)), (EOF, b"")), "file_encrypted"),  # XOR
    (biff((BOF, bytes(16)), (CODEPAGE, b"\xb0\x04"), (EOF, b""), (FILEPASS, b"\x01\x00" + bytes(52))), None),
    (biff((BOF, bytes(16)), (CODEPAGE, b"\xb0\x04")), None),  # cut off: not proven encrypted; the parser decides
    (b"\x2f", None),
])
def test_xls_password_is_found_in_the_workbook_globals_only(tmp_path: Path, stream: bytes, rule: str | None) -> None:
    """msoffcrypto-tool's FILEPASS check: a FILEPASS after the globals' EOF belongs to no password."""
    path = tmp_path / "book.xls"
    path.write_bytes(cfb({"Workbook": stream}))
    issue = safety.check_file(path)
    assert (issue.rule if issue else None) == rule


def test_cfb_builder_is_a_real_compound_file(tmp_path: Path) -> None:
    """Guards the test fixtures above: olefile and msoffcrypto-tool read what ``cfb`` writes."""
    import msoffcrypto
    import olefile

    path = build_xls_filepass(tmp_path)
    with olefile.OleFileIO(path.read_bytes()) as ole:
        assert ole.listdir() == [["Workbook"]]
    with path.open("rb") as f:
        assert msoffcrypto.OfficeFile(f).is_encrypted()


def test_parse_over_time_budget_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's wall-time limit: a budget no child can meet turns a valid file into file_bomb."""
    path = valid_xlsx(tmp_path / "ok.xlsx")
    monkeypatch.setitem(safety.LIMITS, "parse_seconds", 0.001)
    book, issue = safety.open_book(path)
    assert book is None and issue is not None and issue.rule == "file_bomb" and "s" in issue.value


def test_merged_ranges_fill_within_a_budget_and_refuse_beyond_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "merged.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("商机")
    ws.write_row(0, 0, ["客户", "金额"])
    ws.merge_range("A2:A101", "甲客户", None)  # 100 cells
    for r in range(1, 101):
        ws.write_number(r, 1, r)
    wb.close()
    book, issue = safety.open_book(path)
    assert issue is None and book is not None
    assert [row[0] for row in book.rows["商机"][1:]] == ["甲客户"] * 100
    monkeypatch.setitem(safety.LIMITS, "max_merged_cells", 99)
    book, issue = safety.open_book(path)
    assert book is None and issue is not None
    assert (issue.rule, issue.sheet, issue.cell, issue.severity) == ("merged_too_large", "商机", "A2", "error")
    assert "A2" in issue.zh and "99" in issue.en


# --- failing closed: a sandbox that cannot check a file never lets it through -------------------

def test_a_sandbox_that_cannot_start_refuses_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = valid_xlsx(tmp_path / "ok.xlsx")
    not_executable = tmp_path / "python3"
    not_executable.write_text("#!/bin/sh\n")
    for python in (str(tmp_path / "no-such-python"), str(not_executable)):
        with safety.Sandbox(python=python) as sb:
            got = [safety.load(good, sb) for _ in range(2)]
        for g in got:
            assert g.book is None and g.issue is not None and g.issue.rule == "file_unchecked", g.issue
            assert python in g.issue.value and g.issue.zh and g.issue.en
            assert g.sha256 == hashlib.sha256(good.read_bytes()).hexdigest()  # still traceable
    monkeypatch.setenv(safety.SANDBOX_PYTHON_ENV, str(tmp_path / "no-such-python"))
    book, issue = safety.open_book(good)  # the documented switch reaches the default sandbox too
    assert book is None and issue is not None and issue.rule == "file_unchecked"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX tools")
def test_a_sandbox_that_exits_without_answering_refuses_the_file(tmp_path: Path) -> None:
    with safety.Sandbox(python="/bin/false") as sb:
        got = safety.load(valid_xlsx(tmp_path / "ok.xlsx"), sb)
    assert got.book is None and got.issue is not None and got.issue.rule == "file_unchecked"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_worker_killed_by_a_signal_refuses_the_file_and_the_next_one_is_read(tmp_path: Path, sig: int) -> None:
    """The worker is stopped, handed a file, then killed before it can look at it: that file is refused."""
    good = valid_xlsx(tmp_path / "ok.xlsx")
    with safety.Sandbox() as sb:
        assert safety.load(good, sb).issue is None
        pid = sb.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        killer = threading.Timer(0.5, os.kill, (pid, sig))
        killer.start()
        if sig != signal.SIGKILL:
            threading.Timer(0.7, os.kill, (pid, signal.SIGCONT)).start()  # a stopped process takes SIGKILL only
        got = safety.load(good, sb)
        killer.join()
        after = safety.load(good, sb)
    assert got.book is None and got.issue is not None
    assert got.issue.rule == "file_crashed" and signal.Signals(sig).name in got.issue.value
    assert after.issue is None and after.book is not None  # a fresh worker took the next file


def test_a_sheet_named_unavailable_is_still_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file cannot switch the checks off by what its text says (a sheet named 'unavailable' once did)."""
    bomb = amplified(tmp_path, "amp.xlsx", sheet_name="unavailable")
    monkeypatch.setitem(safety.LIMITS, "max_cells", 1000)
    with safety.Sandbox() as sb:
        first = safety.load(bomb, sb)
        second = safety.load(bomb, sb)
    for got in (first, second):
        assert got.book is None and got.issue is not None and got.issue.rule == "file_bomb"
        assert got.issue.sheet == "unavailable"


# --- one sandboxed reader for a whole inbox ---------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="the shared worker waits on a pipe with select (POSIX)")
def test_shared_sandbox_recovers_after_a_memory_bomb_mid_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """Good, bomb, good through one Sandbox: the bomb is refused and the worker restarts for the next file."""
    bomb = amplified(tmp_path, "amp.xlsx")
    good1, good2 = valid_xlsx(tmp_path / "a.xlsx"), valid_xlsx(tmp_path / "b.xlsx")
    monkeypatch.setitem(safety.LIMITS, "parse_memory_bytes", 300 * MB)
    with safety.Sandbox() as sb:
        verdicts = [safety.open_book(p, sandbox=sb)[1] for p in (good1, bomb, good2, good1)]
    assert verdicts[0] is None and verdicts[2] is None and verdicts[3] is None
    assert verdicts[1] is not None and verdicts[1].rule == "file_bomb"


@pytest.mark.skipif(sys.platform == "win32", reason="the shared worker waits on a pipe with select (POSIX)")
def test_shared_sandbox_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = valid_xlsx(tmp_path / "ok.xlsx")
    with safety.Sandbox() as sb:
        monkeypatch.setitem(safety.LIMITS, "parse_seconds", 0.001)
        got = safety.load(path, sb).issue
        assert got is not None and got.rule == "file_bomb"
        monkeypatch.setitem(safety.LIMITS, "parse_seconds", 30)
        assert safety.load(path, sb).issue is None  # a fresh worker after the kill


def test_shared_sandbox_agrees_with_the_per_file_one_on_the_corpus(corpus: Path) -> None:
    paths = sorted(p for p in corpus.iterdir() if p.suffix.lower() in safety.EXTENSIONS)
    with safety.Sandbox() as sb:
        shared = {p.name: (lambda i: i and i.rule)(safety.open_book(p, sandbox=sb)[1]) for p in paths}
    single = {p.name: (lambda i: i and i.rule)(safety.open_book(p)[1]) for p in paths}
    assert shared == single
    assert sum(1 for v in shared.values() if v) >= 10  # the hostile ones are still refused


def finishes(seconds: float, fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args), failing the test if it has not returned after ``seconds`` (a hang guard, not a timing)."""
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(fn(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return box[0]


def test_the_compression_ratio_limit_refuses_a_file_on_its_own(tmp_path: Path) -> None:
    """2 MB of zeros deflate to about 2 KB: a ratio near 1,000, far over 100, while the whole file stays far under
    every size limit and its headers tell the truth — only the ratio check can refuse it."""
    p = tmp_path / "ratio.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        minimal_package(z)
        z.writestr("xl/worksheets/sheet1.xml", bytes(2 * MB))
    assert p.stat().st_size < 64 * 1024
    assert safety.LIMITS["max_unzipped_bytes"] > 2 * MB
    issue = safety.check_file(p)
    assert issue is not None and issue.rule == "file_bomb"
    assert "ratio over 100" in issue.value


def _gone_pid() -> int:
    """The process id of a process that has ended."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_this_kind_of_folder_that_a_gone_process_left(tmp_path: Path) -> None:
    from xlsales.report import scratch

    gone = _gone_pid()
    left = tmp_path / f"xlsales-read-{gone}-k3j"
    left.mkdir()
    (left / "book.xlsx").write_bytes(b"a rep's figures")
    keep = [tmp_path / f"xlsales-read-{os.getpid()}-a1", tmp_path / f"xlsales-parts-{gone}-b2",
            tmp_path / "xlsales-read-x-c3", tmp_path / f"other-read-{gone}-d4"]
    for k in keep:
        k.mkdir()
    (tmp_path / f"xlsales-read-{gone}-file").write_text("not a folder")
    assert scratch.sweep("read", tmp_path) == [left]
    assert not left.exists() and all(k.is_dir() for k in keep) and (tmp_path / f"xlsales-read-{gone}-file").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="the shared worker waits on a pipe with select (POSIX)")
def test_a_killed_reader_s_copy_of_a_workbook_is_removed_by_the_next_reader(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandboxed reader copies each workbook into a folder of its own; one it was killed in (over its time
    limit) is removed when the next reader starts, and a file read to the end leaves nothing behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the reader process's temporary folder
    left = tmp / f"xlsales-read-{_gone_pid()}-zz9"
    left.mkdir()
    (left / "book.xlsx").write_bytes(valid_xlsx(tmp_path / "ok.xlsx").read_bytes())
    with safety.Sandbox() as sb:
        assert safety.load(tmp_path / "ok.xlsx", sb).issue is None
    assert list(tmp.iterdir()) == []
