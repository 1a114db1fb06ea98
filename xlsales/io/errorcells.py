"""Excel error values (#N/A, #REF!, …) by sheet and cell, and the date system, for every workbook format.

python-calamine reports an error cell as an empty cell, so a ``#REF!`` where an
amount belongs would vanish without a trace.  This module finds them in the file
itself: cells of type ``e`` in an ``.xlsx/.xlsm`` sheet part, cells LibreOffice
marks ``calcext:value-type="error"`` in an ``.ods``, and FORMULA records with an
error result or BOOLERR error records in an ``.xls`` (BIFF8).  It also tells
whether a workbook counts dates from 1904 (:func:`date1904`).

XML is read by streaming ``iterparse`` through defusedxml (a DTD or an entity
declaration is refused, never expanded), one element at a time and cleared
behind, so time is linear in the part's size and memory stays flat.  OLE2
compound files (``.xls``) are opened with olefile.  Runs inside the sandboxed
reader after :mod:`xlsales.io.safety` has bounded every part's size; a part that
cannot be read yields no error cells rather than an exception.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import olefile
from defusedxml.ElementTree import iterparse as _defused_iterparse

Cells = dict[str, dict[tuple[int, int], str]]

BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
               0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
MAX_ROWS, MAX_COLS = 1_048_576, 16_384  # Excel's grid
DEFAULT_LIMIT = 10_000_000  # error cells in one workbook


class TooManyErrorCellsError(Exception):
    """More error cells than the caller's limit: the workbook is refused rather than expanded."""


def error_cells(path: Path, limit: int = DEFAULT_LIMIT) -> Cells:
    """{sheet name: {(row, col): error text}} (0-based) of the workbook at ``path``; empty when none or unknown."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return {}
    return error_cells_in(data, limit)


def error_cells_in(data: bytes, limit: int = DEFAULT_LIMIT) -> Cells:
    """:func:`error_cells` of a workbook's bytes; raises :class:`TooManyErrorCellsError` past ``limit`` cells."""
    budget = _Budget(limit)
    try:
        if data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "content.xml" in names and "mimetype" in names:
                    return _ods(z, budget)
                return _xlsx(z, names, budget)
        if data.startswith(olefile.MAGIC):
            return _xls(_biff_stream(data), budget)
    except TooManyErrorCellsError:
        raise
    except Exception:  # noqa: BLE001 - best effort after the safety checks; none found is the fallback
        return {}
    return {}


def date1904(data: bytes) -> bool:
    """True when the workbook counts date serials from 1904-01-01 (Mac Excel's date system)."""
    try:
        if data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "content.xml" in names and "mimetype" in names:
                    return _ods_null_date(z) == "1904-01-01"
                book = _workbook_part(z, names)
                if book is None:
                    return False
                with z.open(book) as f:
                    for el in _ends(f):
                        if _local(el.tag) == "workbookPr":
                            return el.get("date1904", "").strip().lower() in ("1", "true")
                        if _local(el.tag) == "sheets":
                            break
                return False
        if data.startswith(olefile.MAGIC):
            for rtype, body in _globals(_biff_stream(data)):
                if rtype == 0x0022 and len(body) >= 2:  # DATEMODE
                    return struct.unpack_from("<H", body)[0] == 1
    except Exception:  # noqa: BLE001 - unknown means the default 1900 system
        return False
    return False


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise TooManyErrorCellsError


# --- XML helpers ------------------------------------------------------------------------

def _iterparse(f: IO[bytes], events: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    return _defused_iterparse(f, events=events, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def _ends(f: IO[bytes]) -> Iterator[Any]:
    for _, el in _iterparse(f, ("end",)):
        yield el


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _attr(el: Any, local: str, ns_hint: str = "") -> str | None:
    """An attribute by local name, in any namespace containing ``ns_hint`` (prefixes vary between writers)."""
    for key, value in el.attrib.items():
        ns, _, name = key.rpartition("}")
        if name == local and ns_hint in ns:
            return str(value)
    return None


# --- xlsx ---------------------------------------------------------------------------

_REF = re.compile(r"([A-Za-z]{1,3})(\d{1,7})")
_MAYBE_ERROR = re.compile(rb"""\bt\s*=\s*["']e["']""")  # a linear scan: could this part hold an error cell?


def _may_hold_errors(part: bytes) -> bool:
    """Whether a sheet part could hold an error-typed cell: a quoted ``e`` (found by a fast substring search;
    XML quotes an attribute with one kind of quote) then :data:`_MAYBE_ERROR`."""
    return (b'"e"' in part or b"'e'" in part) and _MAYBE_ERROR.search(part) is not None


def _member(names: set[str], part: str) -> str | None:
    if part in names:
        return part
    folded = {n.casefold(): n for n in names}
    return folded.get(part.casefold())


def _rels(z: zipfile.ZipFile, names: set[str], part: str) -> dict[str, tuple[str, str]]:
    """{relationship id: (type, target part)} of ``part`` (targets resolved against its folder)."""
    folder, base = posixpath.split(part)
    rels = _member(names, posixpath.join(folder, "_rels", base + ".rels"))
    out: dict[str, tuple[str, str]] = {}
    if rels is None:
        return out
    with z.open(rels) as f:
        for el in _ends(f):
            if _local(el.tag) != "Relationship" or el.get("TargetMode") == "External":
                continue
            target = el.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[el.get("Id", "")] = (el.get("Type", ""), posixpath.normpath(path))
    return out


def _workbook_part(z: zipfile.ZipFile, names: set[str]) -> str | None:
    for typ, target in _rels(z, names, "").values():
        if typ.endswith("/officeDocument") and (found := _member(names, target)):
            return found
    return _member(names, "xl/workbook.xml")


def _xlsx(z: zipfile.ZipFile, names: set[str], budget: _Budget) -> Cells:
    book = _workbook_part(z, names)
    if book is None:
        return {}
    rels = _rels(z, names, book)
    sheets: list[tuple[str, str]] = []
    with z.open(book) as f:
        for el in _ends(f):
            if _local(el.tag) == "sheet":
                sheets.append((el.get("name", ""), _attr(el, "id", "relationships") or ""))
    out: Cells = {}
    for name, rid in sheets:
        part = _member(names, rels.get(rid, ("", ""))[1])
        if part is None:
            continue
        try:
            data = z.read(part)
            if not _may_hold_errors(data):  # no error-typed cell can be in this part: skip the parse
                continue
            cells = _sheet_errors(io.BytesIO(data), budget)
        except TooManyErrorCellsError:
            raise
        except Exception:  # noqa: BLE001 - one unreadable sheet part hides only its own error cells
            continue
        if cells:
            out[name] = cells
    return out


def _sheet_errors(f: IO[bytes], budget: _Budget) -> dict[tuple[int, int], str]:
    """Error cells of one worksheet part, streamed: rows and cells are cleared as soon as they are seen."""
    cells: dict[tuple[int, int], str] = {}
    row, col = -1, -1
    holder: Any = None  # sheetData, emptied after each row so memory does not grow with the sheet
    for ev, el in _iterparse(f, ("start", "end")):
        tag = _local(el.tag)
        if ev == "start":
            if tag == "row":
                r = el.get("r", "")
                row = int(r) - 1 if r.isdigit() else row + 1
                col = -1
            elif tag == "sheetData":
                holder = el
            continue
        if tag == "c":
            m = _REF.fullmatch(el.get("r", ""))
            if m:
                row, col = int(m.group(2)) - 1, _col(m.group(1))
            else:
                col += 1
            if el.get("t") == "e":
                v = next((ch for ch in el if _local(ch.tag) == "v"), None)
                text = (v.text or "").strip() if v is not None else ""
                budget.take()
                cells[(row, col)] = text or "#VALUE!"
            el.clear()
        elif tag == "row" and holder is not None:
            holder.clear()
    return cells


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


# --- ods ----------------------------------------------------------------------------

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _repeat(el: Any, attr: str, cap: int) -> int:
    raw = el.get(f"{_T}{attr}", "1")
    n = int(raw) if raw.isdigit() else 1
    return max(1, min(n, cap))


def _ods(z: zipfile.ZipFile, budget: _Budget) -> Cells:
    out: Cells = {}
    sheet, row, col = "", 0, 0
    row_errors: list[tuple[int, str]] = []
    with z.open("content.xml") as f:
        for ev, el in _iterparse(f, ("start", "end")):
            tag = el.tag
            if ev == "start":
                if tag == f"{_T}table":
                    sheet, row = el.get(f"{_T}name", ""), 0
                elif tag == f"{_T}table-row":
                    col, row_errors = 0, []
                continue
            if tag in (f"{_T}table-cell", f"{_T}covered-table-cell"):
                rep = _repeat(el, "number-columns-repeated", MAX_COLS)
                if el.get(f"{_CALCEXT}value-type") == "error" and col < MAX_COLS:
                    text = ("".join(p.text or "" for p in el.iter(f"{_TEXT}p")) or "#VALUE!").strip()
                    for c in range(col, min(col + rep, MAX_COLS)):
                        budget.take()
                        row_errors.append((c, text))
                col += rep
                el.clear()
            elif tag == f"{_T}table-row":
                reps = _repeat(el, "number-rows-repeated", MAX_ROWS)
                if row_errors:
                    cells = out.setdefault(sheet, {})
                    for r in range(row, min(row + reps, MAX_ROWS)):
                        budget.take(len(row_errors))
                        for c, text in row_errors:
                            cells[(r, c)] = text
                row = min(row + reps, MAX_ROWS)
                el.clear()
    return out


def _ods_null_date(z: zipfile.ZipFile) -> str:
    """The ``table:null-date`` of an ODS (its day 0), read before the first sheet; default 1899-12-30."""
    with z.open("content.xml") as f:
        for _ev, el in _iterparse(f, ("start",)):
            if el.tag == f"{_T}null-date":
                return str(el.get(f"{_T}date-value", "1899-12-30"))
            if el.tag == f"{_T}table":
                break
    return "1899-12-30"


# --- xls (BIFF8) ------------------------------------------------------------------------

def _biff_stream(data: bytes) -> bytes:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        for name in ("Workbook", "Book"):
            if ole.exists(name):
                return bytes(ole.openstream(name).read())
    return b""


def _records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    """BIFF records from ``pos`` up to and including the next EOF record."""
    while pos + 4 <= len(stream):
        rtype, size = struct.unpack_from("<HH", stream, pos)
        yield rtype, stream[pos + 4:pos + 4 + size]
        if rtype == 0x000A:
            return
        pos += 4 + size


def _globals(stream: bytes) -> Iterator[tuple[int, bytes]]:
    return _records(stream, 0)


def _xls(stream: bytes, budget: _Budget) -> Cells:
    sheets: list[tuple[int, str]] = []
    for rtype, body in _globals(stream):  # BOUNDSHEET records name the sheets
        if rtype == 0x0085 and len(body) >= 8:
            offset = struct.unpack_from("<I", body, 0)[0]
            n, flags = body[6], body[7]
            raw = body[8:8 + (2 * n if flags & 1 else n)]
            sheets.append((offset, raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")))
    out: Cells = {}
    for offset, name in sheets:
        cells: dict[tuple[int, int], str] = {}
        for rtype, body in _records(stream, offset):
            if rtype == 0x0006 and len(body) >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:  # FORMULA
                r, c = struct.unpack_from("<HH", body, 0)
                budget.take()
                cells[(r, c)] = BIFF_ERRORS.get(body[8], "#VALUE!")
            elif rtype == 0x0205 and len(body) >= 8 and body[7] == 1:  # BOOLERR holding an error
                r, c = struct.unpack_from("<HH", body, 0)
                budget.take()
                cells[(r, c)] = BIFF_ERRORS.get(body[6], "#VALUE!")
        if cells:
            out[name] = cells
    return out
