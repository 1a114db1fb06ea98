"""Excel error values (#N/A, #REF!, …) by sheet and cell, for every workbook format xlsales reads.

python-calamine reports an error cell as an empty cell, so a ``#REF!`` where an
amount belongs would vanish without a trace.  This module finds them in the file
itself: cells of type ``e`` in an ``.xlsx/.xlsm`` sheet part, cells LibreOffice
marks ``calcext:value-type="error"`` in an ``.ods``, and FORMULA records with an
error result or BOOLERR error records in an ``.xls`` (BIFF8).  Only called after
:mod:`xlsales.safety` has bounded every part's size and refused entity
declarations; any surprise yields no error cells rather than an exception.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path
from xml.etree.ElementTree import iterparse

Cells = dict[str, dict[tuple[int, int], str]]

BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
               0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


def error_cells(path: Path) -> Cells:
    """{sheet name: {(row, col): error text}} (0-based) of ``path``; empty when none or unknown."""
    try:
        suffix = Path(path).suffix.lower()
        with open(path, "rb") as f:
            head = f.read(8)
        if head.startswith(b"PK"):
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                if "xl/workbook.xml" in names:
                    return _xlsx(z, names)
                if "content.xml" in names:
                    return _ods(z)
            return {}
        if head.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
            return _xls(Path(path).read_bytes())
    except Exception:  # noqa: BLE001 - best effort after the safety checks; none found is the fallback
        return {}
    return {}


# --- xlsx ---------------------------------------------------------------------------

_CELL_ERR = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?t="e"[^>]*>(?:(?!</c>).)*?<v>([^<]*)</v>', re.S)
_SHEET = re.compile(rb'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(rb'<Relationship [^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"|'
                  rb'<Relationship [^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')


def _xlsx(z: zipfile.ZipFile, names: set[str]) -> Cells:
    rels = z.read("xl/_rels/workbook.xml.rels")
    targets = {}
    for m in _REL.finditer(rels):
        rid, tgt = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        targets[rid] = tgt.decode()
    out: Cells = {}
    for m in _SHEET.finditer(z.read("xl/workbook.xml")):
        tgt = targets.get(m.group(2), "")
        part = tgt.lstrip("/") if tgt.startswith("/") else f"xl/{tgt}"
        if part not in names:
            continue
        data = z.read(part)
        if b't="e"' not in data:
            continue
        cells = {}
        for em in _CELL_ERR.finditer(data):
            col = 0
            for ch in em.group(1).decode():
                col = col * 26 + ord(ch) - 64
            cells[(int(em.group(2)) - 1, col - 1)] = em.group(3).decode()
        out[_unescape(m.group(1).decode())] = cells
    return out


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


# --- ods ----------------------------------------------------------------------------

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_MAX_ROWS = 1_048_576


def _ods(z: zipfile.ZipFile) -> Cells:
    out: Cells = {}
    sheet, row, col = "", 0, 0
    with z.open("content.xml") as f:
        for ev, el in iterparse(f, events=("start", "end")):
            tag = el.tag
            if ev == "start":
                if tag == f"{_T}table":
                    sheet, row = el.get(f"{_T}name", ""), 0
                elif tag == f"{_T}table-row":
                    col = 0
                continue
            if tag in (f"{_T}table-cell", f"{_T}covered-table-cell"):
                rep = int(el.get(f"{_T}number-columns-repeated", "1"))
                if el.get(f"{_CALCEXT}value-type") == "error":
                    text = "".join(p.text or "" for p in el.iter(f"{_TEXT}p")) or "#VALUE!"
                    out.setdefault(sheet, {})[(row, col)] = text.strip()
                col += rep
                el.clear()
            elif tag == f"{_T}table-row":
                row += int(el.get(f"{_T}number-rows-repeated", "1"))
                if row > _MAX_ROWS:
                    row = _MAX_ROWS
                el.clear()
    return out


# --- xls (BIFF8) ------------------------------------------------------------------------

def _xls(data: bytes) -> Cells:
    from .safety import _Cfb

    cfb = _Cfb(data)
    names = {n.lower() for n in cfb.names()}
    stream = cfb.stream("Workbook" if "workbook" in names else "Book")
    sheets: list[tuple[int, str]] = []
    pos = 0
    while pos + 4 <= len(stream):  # the workbook globals: BOUNDSHEET records name the sheets
        rtype, size = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4:pos + 4 + size]
        if rtype == 0x0085 and len(body) >= 8:
            offset = struct.unpack_from("<I", body, 0)[0]
            n, flags = body[6], body[7]
            raw = body[8:8 + (2 * n if flags & 1 else n)]
            sheets.append((offset, raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")))
        if rtype == 0x000A:  # EOF of the globals
            break
        pos += 4 + size
    out: Cells = {}
    for offset, name in sheets:
        pos, cells = offset, {}
        while pos + 4 <= len(stream):
            rtype, size = struct.unpack_from("<HH", stream, pos)
            body = stream[pos + 4:pos + 4 + size]
            if rtype == 0x0006 and len(body) >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:  # FORMULA
                r, c = struct.unpack_from("<HH", body, 0)
                cells[(r, c)] = BIFF_ERRORS.get(body[8], "#VALUE!")
            elif rtype == 0x0205 and len(body) >= 8 and body[7] == 1:  # BOOLERR holding an error
                r, c = struct.unpack_from("<HH", body, 0)
                cells[(r, c)] = BIFF_ERRORS.get(body[6], "#VALUE!")
            elif rtype == 0x000A:
                break
            pos += 4 + size
        if cells:
            out[name] = cells
    return out
