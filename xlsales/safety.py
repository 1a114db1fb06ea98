"""Hostile-file guard: decide whether an inbox file is safe and readable before any parser sees it.

Every failure becomes exactly one file-level :class:`~xlsales.issues.Issue` — never an
exception, a hang or a huge allocation.  :func:`check_file` does bounded pre-checks only
(size, magic bytes, zip central directory, a capped streaming inflate of every part that
checks real sizes, CRCs and refuses ``<!DOCTYPE``/``<!ENTITY``, OLE2 encryption streams and
the BIFF ``FILEPASS`` record).  :func:`open_book` then parses the whole workbook once in a
child process under a time and memory budget, and only after that opens it in-process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import python_calamine

from .issues import Issue, define, make

MB = 1024 * 1024

LIMITS: dict[str, int | float] = {
    "max_file_bytes": 50 * MB,  # the file on disk
    "max_unzipped_bytes": 200 * MB,  # sum of all zip entries, declared and actually inflated
    "max_ratio": 100,  # per-entry inflated/compressed ratio ...
    "ratio_min_bytes": 1 * MB,  # ... checked for entries at least this big (tiny parts compress oddly)
    "max_entries": 10_000,  # zip entries
    "max_cells": 10_000_000,  # cells in one sheet's used range (anchored at A1)
    "parse_seconds": 30,  # wall time of the sandboxed full parse; 0 disables the sandbox
    "parse_memory_bytes": 2048 * MB,  # address-space limit of the sandbox (POSIX only)
}

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")

define("file_empty", "error", "文件是空的(0 字节),可能上传或同步没有完成。请让业务员重新保存后再发送一次。",
       "The file is empty (0 bytes); the upload or sync may not have finished. Ask the rep to save it again and resend.")
define("file_not_workbook", "error",
       "文件不是 Excel 工作簿(内容看起来是{value})。请让业务员用 Excel 打开原模板填写,另存为 .xlsx 后重新发送。",
       "The file is not an Excel workbook (its content looks like {value}). Ask the rep to fill in the template "
       "in Excel, save it as .xlsx and resend.")
define("file_encrypted", "error",
       "文件设置了打开密码(已加密:{value}),无法读取。请让业务员去掉密码(文件 → 信息 → 保护工作簿 → 用密码进行加密,"
       "清空密码),重新保存为 .xlsx 后发送。",
       "The file is password-protected ({value}) and cannot be read. Ask the rep to remove the password "
       "(File → Info → Protect Workbook → Encrypt with Password, clear it), re-save as .xlsx and resend.")
define("file_corrupt", "error",
       "文件已损坏或不完整({value})。请让业务员在 Excel 中打开检查,重新保存为 .xlsx 后再发送。",
       "The file is damaged or incomplete ({value}). Ask the rep to open it in Excel, check it, re-save as .xlsx "
       "and resend.")
define("file_bomb", "error",
       "文件展开后大小或结构异常({value}),为安全起见已拒绝。请让业务员把数据复制到一份新的原模板中保存后再发送。",
       "The file expands to an abnormal size or structure ({value}) and was refused for safety. Ask the rep to copy "
       "the data into a fresh copy of the template, save and resend.")
define("file_xml_entities", "error",
       "文件内部的 XML 含有 DOCTYPE/实体声明({value}),Excel 不会生成这种内容,为安全起见已拒绝。"
       "请让业务员用 Excel 重新保存为 .xlsx 后发送。",
       "An XML part inside the file declares a DOCTYPE or entities ({value}); Excel never writes these, so the file "
       "was refused for safety. Ask the rep to re-save it from Excel as .xlsx and resend.")
define("file_too_large", "error",
       "文件过大({value},上限 {limit})。请删除多余的工作表、图片和空白格式后重新保存。",
       "The file is too large ({value}; the limit is {limit}). Remove unused sheets, pictures and blank formatting, "
       "then save again.")
define("file_unsupported", "error",
       "不支持此文件类型或内容({value})。请另存为普通 .xlsx 后发送(也接受 .xlsm、.xls、.ods)。",
       "This file type or content is not supported ({value}). Save it as a plain .xlsx and resend (.xlsm, .xls and "
       ".ods are also accepted).")
define("file_unreadable", "error",
       "无法打开文件({value})。请确认文件没有在别处打开、已经同步完成,然后重试。",
       "The file cannot be opened ({value}). Check that it is not open elsewhere and has finished syncing, then retry.")

RULE_IDS = frozenset({"file_empty", "file_not_workbook", "file_encrypted", "file_corrupt", "file_bomb",
                      "file_xml_entities", "file_too_large", "file_unsupported", "file_unreadable"})

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 1 * MB
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


class _RefusedError(Exception):
    """Internal: stop checking and report ``rule`` with ``value``."""

    def __init__(self, rule: str, value: str = "", **params: object) -> None:
        super().__init__(rule, value)
        self.rule, self.value, self.params = rule, value, params


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} bytes"


# --- public API -------------------------------------------------------------

def check_file(path: Path) -> Issue | None:
    """None when ``path`` may be parsed; otherwise one file-level issue.  Never raises."""
    path = Path(path)
    try:
        _check(path)
    except _RefusedError as r:
        return make(r.rule, file=str(path), value=r.value, **r.params)
    except OSError as e:
        return make("file_unreadable", file=str(path), value=e.strerror or type(e).__name__)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - a surprise in a pre-check still means "do not parse"
        return make("file_corrupt", file=str(path), value=f"{type(e).__name__}: {str(e)[:120]}")
    return None


def open_book(path: Path, *, sandbox: bool | Sandbox | None = None
              ) -> tuple[python_calamine.CalamineWorkbook | None, Issue | None]:
    """:func:`check_file`, then a sandboxed trial parse, then open with python-calamine.

    ``sandbox`` (default: on when ``LIMITS["parse_seconds"]`` > 0) first parses every sheet in a
    child process with a wall-time and memory limit, so a file that would hang or exhaust
    memory becomes a ``file_bomb`` issue instead; pass a :class:`Sandbox` to share one child
    across many files.  Never raises.
    """
    path = Path(path)
    issue = check_file(path)
    if issue is not None:
        return None, issue
    if sandbox is None:
        sandbox = LIMITS["parse_seconds"] > 0
    if isinstance(sandbox, Sandbox):
        issue = sandbox.check(path) if LIMITS["parse_seconds"] > 0 else None
    else:
        issue = _trial_parse(path) if sandbox else None
    if issue is not None:
        return None, issue
    try:
        return _open(path), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - pyo3 panics derive from BaseException
        return None, _from_exception(type(e).__name__, str(e), str(path))


def read_sheet(book: python_calamine.CalamineWorkbook, name: str, file: str | None = None
               ) -> tuple[list[list] | None, Issue | None]:
    """All rows of sheet ``name`` as raw calamine values, anchored at A1 (row 0 is Excel row 1).

    Empty cells are ``""``.  A sheet whose used range exceeds ``LIMITS["max_cells"]`` is refused.
    ``file`` names the issue's file (default: the book's path).  Never raises.
    """
    file = file if file is not None else str(getattr(book, "path", None) or "")
    try:
        sheet = book.get_sheet_by_name(name)
        cells = _cells(sheet.end)
        if cells > LIMITS["max_cells"]:
            return None, make("file_bomb", file=file, sheet=name,
                              value=f"{cells:,} cells in the used range, limit {LIMITS['max_cells']:,}")
        return sheet.to_python(skip_empty_area=False), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001
        return None, _from_exception(type(e).__name__, str(e), file, name)


# --- classification ---------------------------------------------------------

def _check(path: Path) -> None:
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise _RefusedError("file_unsupported", ext or "no extension")
    st = path.stat()
    if not path.is_file():
        raise _RefusedError("file_unreadable", "not a regular file")
    if st.st_size == 0:
        raise _RefusedError("file_empty")
    if st.st_size > LIMITS["max_file_bytes"]:
        raise _RefusedError("file_too_large", _size(st.st_size), limit=_size(LIMITS["max_file_bytes"]))
    with path.open("rb") as fp:
        head = fp.read(8)
        if head.startswith(_ZIP_MAGIC):
            _check_zip(fp, st.st_size)
        elif head == _OLE_MAGIC:
            fp.seek(0)
            _check_ole(fp.read(LIMITS["max_file_bytes"]))
        else:
            fp.seek(0)
            raise _RefusedError("file_not_workbook", _describe(fp.read(512)))


def _content_kind(path: Path) -> str:
    with path.open("rb") as fp:
        head = fp.read(8)
    return "ole" if head == _OLE_MAGIC else "zip"


def _describe(head: bytes) -> str:
    """A short human label for non-workbook content."""
    known = {b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
             b"{\\rtf": "an RTF document", b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7z archive",
             b"\x1f\x8b": "a gzip archive"}
    for magic, label in known.items():
        if head.startswith(magic):
            return label
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return "an HTML page"
    if text.startswith(b"<"):
        return "an XML document"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary data"
    return "plain text or CSV"


def _from_exception(kind: str, message: str, file: str, sheet: str = "") -> Issue:
    """Map a reader exception (by class name, so the sandbox can report it) to one issue."""
    low = message.lower()
    short = f"{kind}: {message[:160]}" if message else kind
    if kind == "PasswordError" or "password" in low or "encrypt" in low:
        rule = "file_encrypted"
    elif kind == "MemoryError" or "limit exceeded" in low:
        rule = "file_bomb"
    elif "unrecognized sheet" in low or "unsupported" in low or "not supported" in low:
        rule = "file_unsupported"
    elif "invalid ole" in low or "not an office document" in low:
        rule = "file_not_workbook"
        short = "an unknown document"
    elif kind in ("WorksheetNotFound", "WorkbookClosed") or kind.endswith(("OSError", "FileNotFoundError",
                                                                           "PermissionError")):
        rule = "file_unreadable"
    else:  # ZipError, XmlError, CalamineError, PanicException, ...
        rule = "file_corrupt"
    return make(rule, file=file, sheet=sheet, value=short)


# --- zip packages (xlsx, xlsm, ods) ----------------------------------------

def _check_zip(fp: Any, size: int) -> None:
    count, cd_size = _end_of_central_directory(fp, size)
    if count > LIMITS["max_entries"] or cd_size > LIMITS["max_entries"] * 512:
        raise _RefusedError("file_bomb", f"{count:,} zip entries, limit {LIMITS['max_entries']:,}")
    import zipfile

    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error, EOFError) as e:
        raise _RefusedError("file_corrupt", f"broken zip: {e}") from e
    infos = zf.infolist()
    if len(infos) > LIMITS["max_entries"]:
        raise _RefusedError("file_bomb", f"{len(infos):,} zip entries, limit {LIMITS['max_entries']:,}")
    seen: set[str] = set()
    for info in infos:
        key = info.filename.replace("\\", "/").lstrip("/").casefold()
        if key in seen:
            raise _RefusedError("file_corrupt", f"duplicate zip entry {info.filename}")
        seen.add(key)
        if info.flag_bits & 0x1:
            raise _RefusedError("file_encrypted", f"zip entry {info.filename} is encrypted")
        _check_ratio(info.filename, info.file_size, info.compress_size, "declares")
    declared = sum(i.file_size for i in infos)
    if declared > LIMITS["max_unzipped_bytes"]:
        raise _RefusedError("file_bomb", f"declares {_size(declared)} uncompressed, limit "
                                    f"{_size(LIMITS['max_unzipped_bytes'])}")
    ods = "mimetype" in seen
    if ods:
        mime = _inflate(fp, next(i for i in infos if i.filename.casefold() == "mimetype"), [0], scan=False)
        if not mime.startswith(_ODS_MIME):
            raise _RefusedError("file_not_workbook", f"an OpenDocument file that is not a spreadsheet ({mime[:60]!r})")
        manifest = next((i for i in infos if i.filename == "META-INF/manifest.xml"), None)
        if manifest is not None and manifest.file_size > 16 * MB:
            raise _RefusedError("file_bomb", f"META-INF/manifest.xml declares {_size(manifest.file_size)}")
        if manifest is not None and b"encryption-data" in _inflate(fp, manifest, [0], keep=True):
            raise _RefusedError("file_encrypted", "ODF encryption-data in META-INF/manifest.xml")
    elif not any(re.search(r"(^|/)workbook\d*\.(xml|bin)$", k) for k in seen):
        raise _RefusedError("file_not_workbook", "a zip archive without a workbook part")
    total = [0]
    for info in infos:
        _inflate(fp, info, total)


def _end_of_central_directory(fp: Any, size: int) -> tuple[int, int]:
    """(entry count, central-directory size) from the EOCD record, read before anything else."""
    tail = min(size, 22 + 65535)
    fp.seek(size - tail)
    data = fp.read(tail)
    pos = data.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(data):
        raise _RefusedError("file_corrupt", "no zip end record: the file is truncated or damaged")
    _, _, _, _, count, cd_size, _, _ = struct.unpack_from("<4s4H2LH", data, pos)
    if count == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64: the real numbers are in the zip64 end record
        loc = data.rfind(b"PK\x06\x07", 0, pos)
        if loc < 0 or loc + 20 > len(data):
            raise _RefusedError("file_corrupt", "zip64 locator missing")
        (offset,) = struct.unpack_from("<Q", data, loc + 8)
        if offset + 56 > size:
            raise _RefusedError("file_corrupt", "zip64 end record out of range")
        fp.seek(offset)
        rec = fp.read(56)
        if not rec.startswith(b"PK\x06\x06"):
            raise _RefusedError("file_corrupt", "zip64 end record missing")
        count, cd_size = struct.unpack_from("<QQ", rec, 32)
    return count, cd_size


def _check_ratio(name: str, inflated: int, compressed: int, verb: str) -> None:
    if inflated >= LIMITS["ratio_min_bytes"] and inflated > LIMITS["max_ratio"] * max(compressed, 1):
        raise _RefusedError("file_bomb", f"{name} {verb} {_size(inflated)} from {_size(compressed)}, ratio over "
                                    f"{LIMITS['max_ratio']}")


_XML_NAME = re.compile(r"\.(xml|rels|vml)$", re.I)
_NEEDLES = (b"<!doctype", b"<!entity")


def _inflate(fp: Any, info: Any, total: list[int], *, scan: bool = True, keep: bool = False) -> bytes:
    """Stream one entry from its raw bytes, trusting no header.

    Counts the bytes really produced (capped at the declared size + 1 and the global limit),
    checks ratio and CRC, and — for XML-looking parts when ``scan`` — refuses DOCTYPE/ENTITY
    declarations without expanding anything.  Returns the first chunk (all of it if ``keep``).
    """
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) < 30 or not local.startswith(b"PK\x03\x04"):
        raise _RefusedError("file_corrupt", f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    method = info.compress_type
    if method not in (0, 8):
        raise _RefusedError("file_unsupported", f"zip compression method {method} in {info.filename}")
    inflater = zlib.decompressobj(-15) if method == 8 else None
    remaining, produced, crc = info.compress_size, 0, 0
    first, kept, is_xml, carry = b"", [], None, b""
    limit = info.file_size + 1  # one byte over the declared size proves the header lies

    def consume(out: bytes) -> None:
        nonlocal produced, crc, first, is_xml, carry
        if not out:
            return
        produced += len(out)
        total[0] += len(out)
        if produced > info.file_size:
            raise _RefusedError("file_bomb", f"{info.filename} inflates beyond its declared {_size(info.file_size)}")
        if total[0] > LIMITS["max_unzipped_bytes"]:
            raise _RefusedError("file_bomb", f"inflates to over {_size(LIMITS['max_unzipped_bytes'])}")
        crc = zlib.crc32(out, crc)
        if keep:
            kept.append(out)
        if is_xml is None:
            first = out
            start = out.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
            is_xml = scan and (start.startswith(b"<") or bool(_XML_NAME.search(info.filename)))
        if is_xml:
            text = carry + (out.replace(b"\x00", b"") if b"\x00" in out else out).lower()
            for needle in _NEEDLES:
                if needle in text:
                    raise _RefusedError("file_xml_entities", f"<!{needle[2:].upper().decode()} in {info.filename}")
            carry = text[-16:]

    try:
        while remaining > 0:
            raw = fp.read(min(_CHUNK, remaining))
            if not raw:
                raise _RefusedError("file_corrupt", f"{info.filename} is cut off")
            remaining -= len(raw)
            if inflater is None:
                consume(raw)
                continue
            data = raw
            while data and not inflater.eof:
                consume(inflater.decompress(data, min(_CHUNK, limit - produced)))
                data = inflater.unconsumed_tail
                _check_ratio(info.filename, produced, info.compress_size - remaining, "inflates to")
            if inflater.eof:
                break
        if inflater is not None:
            consume(inflater.flush(min(_CHUNK, limit - produced)))
            if not inflater.eof:
                raise _RefusedError("file_corrupt", f"{info.filename}: compressed data ends early")
    except zlib.error as e:
        raise _RefusedError("file_corrupt", f"{info.filename}: {e}") from e
    if produced != info.file_size or crc != info.CRC:
        raise _RefusedError("file_corrupt", f"{info.filename}: size or checksum does not match")
    return b"".join(kept) if keep else first


# --- OLE2 compound files (xls, encrypted OOXML) ----------------------------

_FREESECT, _ENDOFCHAIN = 0xFFFFFFFF, 0xFFFFFFFE


class _Cfb:
    """Just enough of [MS-CFB] to list directory names and read one stream, with loop guards."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            raise _RefusedError("file_corrupt", "compound file header is cut off")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise _RefusedError("file_corrupt", "bad compound file header")
        self.ssize = 1 << shift
        self.nsect = max(0, (len(data) - self.ssize) // self.ssize)
        n_fat, first_dir = struct.unpack_from("<LL", data, 0x2C)
        self.cutoff, first_minifat, _, first_difat, n_difat = struct.unpack_from("<LLLLL", data, 0x38)
        fat_sects = [s for s in struct.unpack_from("<109L", data, 0x4C) if s < self.nsect]
        sect = first_difat
        for _ in range(min(n_difat, self.nsect)):
            if sect >= self.nsect:
                break
            words = struct.unpack_from(f"<{self.ssize // 4}L", self._sector(sect))
            fat_sects += [s for s in words[:-1] if s < self.nsect]
            sect = words[-1]
        fat_sects = fat_sects[: max(n_fat, 0)]
        self.fat = [w for s in fat_sects for w in struct.unpack_from(f"<{self.ssize // 4}L", self._sector(s))]
        self.entries: list[tuple[str, int, int, int]] = []  # name, type, start, size
        dirdata = self._chain(first_dir, self.fat, self.ssize, self._sector)
        for off in range(0, len(dirdata) - 127, 128):
            nlen, etype = struct.unpack_from("<HB", dirdata, off + 64)
            start, size = struct.unpack_from("<LQ", dirdata, off + 116)
            if shift == 9:
                size &= 0xFFFFFFFF
            name = dirdata[off: off + max(0, min(nlen, 64) - 2)].decode("utf-16-le", "replace")
            self.entries.append((name, etype, start, size))
        minifat = self._chain(first_minifat, self.fat, self.ssize, self._sector)
        self.minifat = list(struct.unpack_from(f"<{len(minifat) // 4}L", minifat))

    def _sector(self, sid: int) -> bytes:
        off = (sid + 1) * self.ssize
        return self.data[off: off + self.ssize]

    def _chain(self, start: int, fat: list[int], size: int, get: Any, limit: int | None = None) -> bytes:
        out, sid, seen = [], start, 0
        while sid not in (_ENDOFCHAIN, _FREESECT) and sid < len(fat) and seen <= len(fat):
            out.append(get(sid))
            seen += 1
            if limit is not None and seen * size >= limit:
                break
            sid = fat[sid]
        if seen > len(fat):
            raise _RefusedError("file_corrupt", "compound file sector chain loops")
        return b"".join(out)

    def names(self) -> set[str]:
        return {e[0] for e in self.entries if e[1] in (1, 2, 5)}

    def stream(self, wanted: str) -> bytes:
        for name, etype, start, size in self.entries:
            if etype == 2 and name.casefold() == wanted.casefold():
                if size < self.cutoff and self.entries and self.entries[0][1] == 5:
                    root = self.entries[0]
                    mini = self._chain(root[2], self.fat, self.ssize, self._sector)

                    def get(sid: int, mini: bytes = mini) -> bytes:
                        return mini[sid * 64: sid * 64 + 64]

                    return self._chain(start, self.minifat, 64, get, size)[:size]
                return self._chain(start, self.fat, self.ssize, self._sector, size)[:size]
        return b""


def _check_ole(data: bytes) -> None:
    try:
        cfb = _Cfb(data)
        names = {n.casefold() for n in cfb.names()}
        if names & {"encryptioninfo", "encryptedpackage"}:
            raise _RefusedError("file_encrypted", "an Office-encrypted package (EncryptedPackage)")
        book = "workbook" if "workbook" in names else "book" if "book" in names else ""
        if not book:
            raise _RefusedError("file_not_workbook", "an Office document that is not a workbook (e.g. Word)")
        if biff_has_filepass(cfb.stream(book)):
            raise _RefusedError("file_encrypted", "an .xls with a FILEPASS record")
    except (struct.error, IndexError, ValueError) as e:
        raise _RefusedError("file_corrupt", f"broken compound file: {e}") from e


def biff_has_filepass(stream: bytes) -> bool:
    """True when the BIFF workbook globals (up to the first EOF record) hold a FILEPASS record."""
    pos = 0
    while pos + 4 <= len(stream):
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        if rtype == 0x002F:
            return True
        if rtype == 0x000A:
            return False
        pos += 4 + rlen
    return False


# --- opening and the sandboxed trial parse ---------------------------------

def _open(path: Path) -> python_calamine.CalamineWorkbook:
    """Open by path, or by content when the extension lies (an .xls renamed .xlsx and vice versa)."""
    expect = "ole" if path.suffix.lower() == ".xls" else "zip"
    if _content_kind(path) == expect:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))


def _trial_parse(path: Path) -> Issue | None:
    """Parse every sheet in a child process under LIMITS' wall-time and memory budget."""
    args = [sys.executable, "-P", "-c", _WORKER, str(LIMITS["max_cells"]), str(LIMITS["parse_memory_bytes"])]
    line = (json.dumps([str(path), _ext_ok(path)]) + "\n").encode()
    try:
        done = subprocess.run(args, input=line, capture_output=True, timeout=LIMITS["parse_seconds"], check=False)
    except subprocess.TimeoutExpired:
        return make("file_bomb", file=str(path), value=f"reading took over {LIMITS['parse_seconds']} s")
    except OSError:  # cannot start a child: rely on the pre-checks alone
        return None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    return _verdict(path, lines[-1] if lines else "", done.stderr.decode("utf-8", "replace"), done.returncode)


def _ext_ok(path: Path) -> bool:
    return _content_kind(path) == ("ole" if path.suffix.lower() == ".xls" else "zip")


def _verdict(path: Path, line: str, err: str, returncode: int | None) -> Issue | None:
    """The issue (or None) from a sandboxed parse's JSON result line, its stderr and exit code."""
    try:
        result = json.loads(line) if line else {}
    except ValueError:
        result = {}
    if result.get("ok") or "unavailable" in result:  # no calamine in the child: rely on the pre-checks
        return None
    if "bomb" in result:
        return make("file_bomb", file=str(path), value=result["bomb"])
    if "kind" in result:
        return _from_exception(result["kind"], result["message"], str(path))
    if "memory allocation" in err or "MemoryError" in err:
        return make("file_bomb", file=str(path), value=f"reading needs over {_size(LIMITS['parse_memory_bytes'])}")
    if returncode is not None and returncode > 0:  # the child Python itself failed, not the parse
        return make("file_unreadable", file=str(path), value=f"the sandboxed reader failed: {err.strip()[-160:]}")
    return make("file_corrupt", file=str(path), value=f"the reader crashed (signal {-(returncode or 0)})")


_WORKER = r"""
import io, json, sys
max_cells, mem = int(sys.argv[1]), int(sys.argv[2])
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
except Exception:
    pass
try:
    import python_calamine as pc
except BaseException as e:
    print(json.dumps({"unavailable": f"{type(e).__name__}: {e}"}), flush=True)
    sys.exit(0)
for line in sys.stdin:
    path, ext_ok = json.loads(line)
    try:
        if ext_ok:
            wb = pc.CalamineWorkbook.from_path(path)
        else:
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(open(path, "rb").read()))
        out = {"ok": True}
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            end = sheet.end
            cells = (end[0] + 1) * (end[1] + 1) if end else 0
            if cells > max_cells:
                out = {"bomb": f"sheet {name}: {cells:,} cells in the used range, limit {max_cells:,}"}
                break
            sheet.to_python(skip_empty_area=False)
        del wb
    except BaseException as e:
        out = {"kind": type(e).__name__, "message": str(e)}
    print(json.dumps(out), flush=True)
"""


class Sandbox:
    """One long-lived sandboxed reader for many files: the same limits as :func:`open_book`'s trial parse.

    A file that exceeds the time limit or kills the worker gets its issue and a
    fresh worker takes the next file, so one interpreter start serves a whole
    inbox instead of one per file.  Where ``select`` cannot wait on a pipe
    (Windows), each file gets its own child as before.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._err: Any = None
        self._per_file = os.name == "nt"
        self._off = False  # no calamine in the child: rely on the pre-checks

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._err is not None:
            self._err.close()
            self._err = None

    def _start(self) -> None:
        self.close()
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker; closed in close()
        self._proc = subprocess.Popen(
            [sys.executable, "-P", "-c", _WORKER, str(LIMITS["max_cells"]), str(LIMITS["parse_memory_bytes"])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err)

    def check(self, path: Path) -> Issue | None:
        """The trial parse of ``path`` in the shared worker."""
        if self._per_file:
            return _trial_parse(path)
        if self._off:
            return None
        try:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            proc = self._proc
            assert proc is not None and proc.stdin is not None and proc.stdout is not None
            proc.stdin.write((json.dumps([str(path), _ext_ok(path)]) + "\n").encode())
            proc.stdin.flush()
        except OSError:  # the worker died before reading; start afresh once
            try:
                self._start()
                proc = self._proc
                assert proc is not None and proc.stdin is not None and proc.stdout is not None
                proc.stdin.write((json.dumps([str(path), _ext_ok(path)]) + "\n").encode())
                proc.stdin.flush()
            except OSError:
                return None
        ready, _, _ = select.select([proc.stdout], [], [], LIMITS["parse_seconds"])
        if not ready:
            self.close()
            return make("file_bomb", file=str(path), value=f"reading took over {LIMITS['parse_seconds']} s")
        line = proc.stdout.readline().decode("utf-8", "replace").strip()
        if line and "unavailable" in line:
            self._off = True
            self.close()
            return None
        if not line:  # the worker died on this file (crash or memory limit)
            rc = proc.wait()
            err = ""
            if self._err is not None:
                self._err.seek(0)
                err = self._err.read().decode("utf-8", "replace")
            self.close()
            return _verdict(path, "", err, rc)
        return _verdict(path, line, "", 0)


def _cells(end: tuple[int, int] | None) -> int:
    return (end[0] + 1) * (end[1] + 1) if end else 0
