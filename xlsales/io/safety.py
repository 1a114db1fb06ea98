"""Hostile-file guard and sandboxed reader: from the bytes of an inbox file to plain sheet data, within limits.

Every failure becomes exactly one file-level :class:`~xlsales.core.issues.Issue` — never an
exception, a hang or a huge allocation — and every doubt refuses the file (fails closed).

A file is read once (:func:`load`): its bytes are taken through one file descriptor that
must be a regular file, hashed (SHA-256), and handed to a :class:`Sandbox` — a child
process with a wall-time and memory budget — which checks *those same bytes*
(:func:`check_bytes`: magic bytes, zip structure and a bounded streaming inflate of every
part through :mod:`zipfile`, DOCTYPE/ENTITY declarations, OLE2 compound files through
olefile, password encryption through msoffcrypto-tool) and then parses them completely
(:func:`xlsales.io.parse.parse_workbook`: every sheet's values, Excel error cells, merged
ranges and the date system).  Only plain data comes back: sheet grids of numbers, text,
booleans and dates.  Nothing is ever parsed in this process, so a file swapped on disk
after its check is never read unbounded.

When the sandbox cannot start, dies on a signal or answers nonsense, the file is refused
with an issue that says so — it is never accepted unchecked.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import io
import json
import os
import pickle
import queue
import re
import select
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import olefile

from xlsales.core.issues import Issue, define, make

MB = 1024 * 1024

LIMITS: dict[str, int | float] = {
    "max_file_bytes": 50 * MB,  # the file on disk
    "max_unzipped_bytes": 200 * MB,  # sum of all zip entries, declared and actually inflated
    "max_ratio": 100,  # per-entry inflated/compressed ratio ...
    "ratio_min_bytes": 1 * MB,  # ... checked for entries at least this big (tiny parts compress oddly)
    "max_entries": 10_000,  # zip entries
    "max_cells": 10_000_000,  # cells in one sheet's used range (anchored at A1); also Excel error cells
    "max_book_cells": 20_000_000,  # cells in all sheets together
    "max_merged_cells": 1_000_000,  # cells that merged ranges fill with their top-left value, whole workbook
    "table_row_margin": 1_000,  # data rows a table may hold beyond its template's capacity (schema Table.rows)
    "max_table_rows": 100_000,  # data rows in any one table, whatever its template
    "parse_seconds": 30,  # wall time of the sandboxed check and parse of one file
    "parse_memory_bytes": 2048 * MB,  # address-space limit of the sandbox (POSIX only)
    "max_result_bytes": 1024 * MB,  # the parsed cells the sandbox sends back
}

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
SANDBOX_PYTHON_ENV = "XLSALES_SANDBOX_PYTHON"  # the interpreter that runs the sandbox (default: this one)

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
define("file_no_permission", "error",
       "没有读取此文件的权限({value}),文件未被读取。请让管理员给汇总用的账户开放此文件的读取权限(或重新复制一份),"
       "然后重新汇总。",
       "No permission to read this file ({value}); it was not read. Ask the administrator to let the account that "
       "consolidates read it (or copy the file again), then run the consolidation again.")
define("file_vanished", "error",
       "文件在汇总过程中被移走或删除({value}),未被读取。请确认文件仍在收件箱中(同步软件没有移动它),然后重新汇总。",
       "The file was moved or deleted while the consolidation ran ({value}); it was not read. Check that it is "
       "still in the inbox (and that no sync tool moved it), then run the consolidation again.")
define("file_not_regular", "error",
       "这不是普通文件,而是{value},未被读取。请把工作簿文件本身放入收件箱,并删除这个条目。",
       "This is not an ordinary file but {value}; it was not read. Put the workbook file itself in the inbox and "
       "remove this entry.")
define("file_broken_link", "error",
       "这是一个快捷方式/链接,指向的文件不存在({value})。请把工作簿文件本身(而不是链接)放入收件箱。",
       "This is a shortcut (link) to a file that does not exist ({value}). Put the workbook file itself, not a link, "
       "in the inbox.")
define("file_unchecked", "error",
       "无法对文件进行安全检查({value}),为安全起见未读取此文件。请确认 xlsales 安装完整(可重新安装;"
       "如设置了 XLSALES_SANDBOX_PYTHON,请确认它指向可用的 Python 3.11+),然后重新汇总。",
       "The file could not be checked safely ({value}), so it was not read. Make sure xlsales is installed "
       "completely (reinstall it; if XLSALES_SANDBOX_PYTHON is set, it must name a working Python 3.11+), then run "
       "the consolidation again.")
define("file_crashed", "error",
       "读取此文件时,安全读取进程意外终止({value}),为安全起见未读取此文件。请重新汇总一次;如仍出现,"
       "请让业务员把数据复制到一份新的原模板中保存后重新发送。",
       "The sandboxed reader stopped unexpectedly on this file ({value}), so it was not read. Run the consolidation "
       "again; if it happens again, ask the rep to copy the data into a fresh copy of the template, save and resend.")
define("merged_too_large", "error",
       "合并单元格的范围过大(从 {value} 起的合并区域使合并展开共超过 {limit} 个单元格),为安全起见已拒绝此文件。"
       "常见原因是整行或整列被合并。请取消这些合并单元格,保存后重新发送。",
       "Merged cells cover too much (the merge starting at {value} takes the workbook past {limit} merged cells); the "
       "file was refused for safety. Usually a whole row or column was merged. Unmerge those cells, save and resend.")

RULE_IDS = frozenset({"file_empty", "file_not_workbook", "file_encrypted", "file_corrupt", "file_bomb",
                      "file_xml_entities", "file_too_large", "file_unsupported", "file_unreadable",
                      "file_no_permission", "file_vanished", "file_not_regular", "file_broken_link",
                      "file_unchecked", "file_crashed", "merged_too_large"})

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = olefile.MAGIC
_CHUNK = 1 * MB
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


class RefusedError(Exception):
    """The file is refused: ``rule`` with ``value`` (and ``sheet``/``cell``/message ``params``)."""

    def __init__(self, rule: str, value: str = "", sheet: str = "", cell: str = "", **params: Any) -> None:
        super().__init__(rule, value)
        self.rule, self.value, self.sheet, self.cell, self.params = rule, value, sheet, cell, params

    def issue(self, file: str) -> Issue:
        return make(self.rule, file, self.sheet, self.cell, self.value, **self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "value": self.value, "sheet": self.sheet, "cell": self.cell,
                "params": {k: str(v) for k, v in self.params.items()}}


def _size(n: int | float) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{int(n)} bytes"


# --- what comes back -------------------------------------------------------------

@dataclass
class Workbook:
    """A parsed workbook as plain data: each sheet's cells (rows from A1, merged ranges filled), its Excel
    error cells ``{(row, col): "#N/A"}`` (0-based), whether dates count from 1904, and its document
    properties (``creator``, ``title``, ``modified`` … see :func:`xlsales.io.parse.doc_properties`)."""

    sheet_names: list[str]
    rows: dict[str, list[list[Any]]]
    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    epoch1904: bool = False
    props: dict[str, Any] = field(default_factory=dict)


@dataclass
class Loaded:
    """One file read once: its hash, size and time, and either its :class:`Workbook` or the one issue."""

    path: Path
    name: str
    sha256: str = ""
    size: int = 0
    modified: dt.datetime | None = None
    book: Workbook | None = None
    issue: Issue | None = None


# --- public API -------------------------------------------------------------------

def load(path: Path, sandbox: Sandbox | None = None, name: str | None = None) -> Loaded:
    """Read ``path`` once, hash it, then check and parse those bytes in ``sandbox``.  Never raises.

    ``name`` labels the issue (default: the path).  ``sandbox``: a shared :class:`Sandbox`
    (one worker process for a whole inbox); without one a worker is started for this file.
    """
    out, data = take(path, name)
    if out.issue is None:
        parse_taken(out, data, sandbox)
    return out


def take(path: Path, name: str | None = None) -> tuple[Loaded, bytes]:
    """The first half of :func:`load`: ``path``'s bytes read once and hashed, nothing parsed.  Never raises.

    Returns the :class:`Loaded` (its ``issue`` set when the file is refused before parsing) and the bytes
    for :func:`parse_taken`.
    """
    path = Path(path)
    out = Loaded(path, name if name is not None else str(path))
    try:
        data, st = _read(path)
        out.size = len(data)
        out.sha256 = hashlib.sha256(data).hexdigest()
        out.modified = dt.datetime.fromtimestamp(st.st_mtime).replace(microsecond=0)
        if not data:
            raise RefusedError("file_empty")
    except RefusedError as r:
        out.issue = r.issue(out.name)
        if out.modified is None:
            out.modified = _mtime(path)
        return out, b""
    return out, data


def parse_taken(out: Loaded, data: bytes, sandbox: Sandbox | None = None) -> None:
    """The second half of :func:`load`: check and parse the bytes :func:`take` read, in ``sandbox``
    (a worker of its own without one); sets ``out.book`` or ``out.issue``.  Never raises."""
    path = out.path
    try:
        if sandbox is None:
            with Sandbox() as own:
                got = own.parse(data, out.name, path.suffix)
        else:
            got = sandbox.parse(data, out.name, path.suffix)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - the sandbox's own failure: refuse, never accept unchecked
        got = make("file_unchecked", out.name, value=f"{type(e).__name__}: {str(e)[:160]}")
    if isinstance(got, Issue):
        out.issue = got
    else:
        out.book = got


def open_book(path: Path, *, sandbox: Sandbox | None = None) -> tuple[Workbook | None, Issue | None]:
    """(the parsed :class:`Workbook`, None) or (None, the one file-level issue) — see :func:`load`."""
    got = load(path, sandbox)
    return got.book, got.issue


def read_sheet(book: Workbook, name: str, file: str = "") -> tuple[list[list[Any]] | None, Issue | None]:
    """All rows of sheet ``name`` of a parsed workbook, anchored at A1 (row 0 is Excel row 1); empty cells are ``""``."""
    if name not in book.rows:
        return None, make("file_unreadable", file, name, value=f"no sheet named {name!r}")
    return book.rows[name], None


def check_file(path: Path) -> Issue | None:
    """None when ``path`` passes every pre-parse check (run here, not sandboxed); otherwise one issue."""
    path = Path(path)
    try:
        data, _ = _read(path)
        if not data:
            raise RefusedError("file_empty")
        check_bytes(data)
    except RefusedError as r:
        return r.issue(str(path))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - a surprise in a pre-check still means "do not parse"
        return make("file_corrupt", str(path), value=f"{type(e).__name__}: {str(e)[:120]}")
    return None


# --- reading the bytes, once --------------------------------------------------------

_KINDS = {stat.S_IFIFO: ("a named pipe (FIFO)", "命名管道(FIFO)"), stat.S_IFCHR: ("a character device", "字符设备"),
          stat.S_IFBLK: ("a block device", "块设备"), stat.S_IFSOCK: ("a socket", "套接字"),
          stat.S_IFDIR: ("a folder", "文件夹")}


def _kind(mode: int) -> str:
    en, zh = _KINDS.get(stat.S_IFMT(mode), ("a special file", "特殊文件"))
    return f"{zh} / {en}"


def _os_refusal(e: OSError, path: Path) -> RefusedError:
    reason = e.strerror or type(e).__name__
    if isinstance(e, FileNotFoundError):
        if os.path.islink(path):
            with contextlib.suppress(OSError):
                return RefusedError("file_broken_link", os.readlink(path))
            return RefusedError("file_broken_link", reason)
        return RefusedError("file_vanished", reason)
    if isinstance(e, PermissionError):
        return RefusedError("file_no_permission", reason)
    return RefusedError("file_unreadable", reason)


def _check_stat(st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise RefusedError("file_not_regular", _kind(st.st_mode))
    if st.st_size > LIMITS["max_file_bytes"]:
        raise RefusedError("file_too_large", _size(st.st_size), limit=_size(LIMITS["max_file_bytes"]))


def _read(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of ``path`` through one descriptor that is checked to be a regular file of sane size.

    The descriptor is opened non-blocking, so a FIFO swapped in after the first look cannot hang the run.
    """
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise RefusedError("file_unsupported", ext or "no extension")
    try:
        _check_stat(os.stat(path))
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags)
    except OSError as e:
        raise _os_refusal(e, path) from e
    try:
        st = os.fstat(fd)
        _check_stat(st)
        limit = int(LIMITS["max_file_bytes"])
        parts, got = [], 0
        while got <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        if got > limit:
            raise RefusedError("file_too_large", f"over {_size(limit)}", limit=_size(limit))
        return b"".join(parts), st
    except OSError as e:
        raise _os_refusal(e, path) from e
    finally:
        os.close(fd)


def _mtime(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(os.lstat(path).st_mtime).replace(microsecond=0)
    except (OSError, ValueError, OverflowError):
        return None


# --- classification of the bytes ------------------------------------------------------

def check_bytes(data: bytes, *, only: Collection[str] | None = None) -> None:
    """Raise :class:`RefusedError` unless ``data`` looks like a workbook that is safe to parse.

    Bounded in memory and time: zip parts are inflated in chunks, counting the bytes really produced.
    ``only``: of a zip package, inflate just these parts (its directory is checked whole) — before reading
    those parts alone (the document properties), never before parsing the sheets.
    """
    if not data:
        raise RefusedError("file_empty")
    if data.startswith(_ZIP_MAGIC):
        _check_zip(data, only)
    elif data.startswith(_OLE_MAGIC):
        _check_ole(data)
    else:
        raise RefusedError("file_not_workbook", _describe(data[:512]))


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


def from_exception(kind: str, message: str, file: str, sheet: str = "") -> Issue:
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

def _check_zip(data: bytes, only: Collection[str] | None = None) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error, EOFError, OSError) as e:
        raise RefusedError("file_corrupt", f"broken zip: {e}") from e
    with zf:
        infos = zf.infolist()
        if len(infos) > LIMITS["max_entries"]:
            raise RefusedError("file_bomb", f"{len(infos):,} zip entries, limit {LIMITS['max_entries']:,}")
        seen: set[str] = set()
        for info in infos:
            key = info.filename.replace("\\", "/").lstrip("/").casefold()
            if key in seen:
                raise RefusedError("file_corrupt", f"duplicate zip entry {info.filename}")
            seen.add(key)
            if info.flag_bits & 0x1:
                raise RefusedError("file_encrypted", f"zip entry {info.filename} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise RefusedError("file_unsupported", f"zip compression method {info.compress_type} in "
                                                       f"{info.filename}")
            _check_ratio(info.filename, info.file_size, info.compress_size, "declares")
        declared = sum(i.file_size for i in infos)
        if declared > LIMITS["max_unzipped_bytes"]:
            raise RefusedError("file_bomb", f"declares {_size(declared)} uncompressed, limit "
                                            f"{_size(LIMITS['max_unzipped_bytes'])}")
        if "mimetype" in seen:
            mime = _inflate(zf, next(i for i in infos if i.filename.casefold() == "mimetype"), [0], scan=False)
            if not mime.startswith(_ODS_MIME):
                raise RefusedError("file_not_workbook",
                                   f"an OpenDocument file that is not a spreadsheet ({mime[:60]!r})")
            manifest = next((i for i in infos if i.filename == "META-INF/manifest.xml"), None)
            if manifest is not None and manifest.file_size > 16 * MB:
                raise RefusedError("file_bomb", f"META-INF/manifest.xml declares {_size(manifest.file_size)}")
            if manifest is not None and b"encryption-data" in _inflate(zf, manifest, [0], keep=True):
                raise RefusedError("file_encrypted", "ODF encryption-data in META-INF/manifest.xml")
        elif not any(re.search(r"(^|/)workbook\d*\.(xml|bin)$", k) for k in seen):
            raise RefusedError("file_not_workbook", "a zip archive without a workbook part")
        total = [0]
        for info in infos:
            if only is None or info.filename in only:
                _inflate(zf, info, total)


def _check_ratio(name: str, inflated: int, compressed: int, verb: str) -> None:
    if inflated >= LIMITS["ratio_min_bytes"] and inflated > LIMITS["max_ratio"] * max(compressed, 1):
        raise RefusedError("file_bomb", f"{name} {verb} {_size(inflated)} from {_size(compressed)}, ratio over "
                                        f"{LIMITS['max_ratio']}")


_XML_NAME = re.compile(r"\.(xml|rels|vml)$", re.I)
_NEEDLES = (b"<!doctype", b"<!entity")


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, total: list[int], *, scan: bool = True,
             keep: bool = False) -> bytes:
    """Stream one entry through :meth:`zipfile.ZipFile.open`, trusting none of its sizes.

    zipfile is asked for one byte more than the entry declares (and to skip its own CRC check),
    so a header that under-states the size shows up as a byte too many instead of a silent cut;
    the real inflated bytes are counted against the declared size and the workbook's limit, the
    CRC is checked here, and — for XML-looking parts when ``scan`` — DOCTYPE/ENTITY declarations
    are refused without expanding anything.  Returns the first chunk (all of it if ``keep``).
    """
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    probe.CRC = None  # type: ignore[assignment]  # zipfile then skips its CRC check; ours follows
    produced, crc = 0, 0
    first, kept, is_xml, carry = b"", [], None, b""
    try:
        with zf.open(probe) as f:
            while True:
                out = f.read(_CHUNK)
                if not out:
                    break
                produced += len(out)
                total[0] += len(out)
                if produced > info.file_size:
                    raise RefusedError("file_bomb", f"{info.filename} inflates beyond its declared "
                                                    f"{_size(info.file_size)}")
                if total[0] > LIMITS["max_unzipped_bytes"]:
                    raise RefusedError("file_bomb", f"inflates to over {_size(LIMITS['max_unzipped_bytes'])}")
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
                            raise RefusedError("file_xml_entities",
                                               f"<!{needle[2:].upper().decode()} in {info.filename}")
                    carry = text[-16:]
    except RefusedError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error, NotImplementedError) as e:
        raise RefusedError("file_corrupt", f"{info.filename}: {e}") from e
    if produced != info.file_size or crc != info.CRC:
        raise RefusedError("file_corrupt", f"{info.filename}: size or checksum does not match")
    return b"".join(kept) if keep else first


# --- OLE2 compound files (xls, encrypted OOXML) ----------------------------

def _check_ole(data: bytes) -> None:
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - olefile raises OSError, struct.error, IndexError, ... on damage
        raise RefusedError("file_corrupt", f"broken compound file: {type(e).__name__}: {str(e)[:120]}") from e
    with ole:
        try:
            streams = ole.listdir(streams=True, storages=False)
            for entry in streams:
                if ole.get_size(entry) > len(data):
                    raise RefusedError("file_corrupt", f"stream {'/'.join(entry)} claims more bytes than the file has")
        except RefusedError:
            raise
        except Exception as e:  # noqa: BLE001
            raise RefusedError("file_corrupt", f"broken compound file: {type(e).__name__}") from e
        names = {entry[0].casefold() for entry in streams if len(entry) == 1}
    if names & {"encryptioninfo", "encryptedpackage"}:
        kind = _office_encryption(data)
        raise RefusedError("file_encrypted", f"an Office-encrypted package ({kind or 'EncryptedPackage'})")
    if not names & {"workbook", "book"}:
        raise RefusedError("file_not_workbook", "an Office document that is not a workbook (e.g. Word)")
    if _office_encryption(data):
        raise RefusedError("file_encrypted", "an .xls protected with a password (FILEPASS)")


def _office_encryption(data: bytes) -> str | None:
    """msoffcrypto-tool's verdict: the encryption kind when ``data`` is a password-encrypted Office file.

    None when it is not, or when msoffcrypto cannot tell (a damaged header): the sandboxed parse decides then.
    """
    import msoffcrypto  # imported here: it pulls in cryptography, needed only for OLE2 files

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        if not office.is_encrypted():
            return None
    except Exception:  # noqa: BLE001 - msoffcrypto raises ParseError, AssertionError, ... on odd streams
        return None
    return str(getattr(office, "type", None) or getattr(office, "format", None) or "password")


# --- the sandbox --------------------------------------------------------------------

class _PlainUnpickler(pickle.Unpickler):
    """Unpickles the sandbox's answer: containers, numbers, text and datetime values, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in ("date", "datetime", "time", "timedelta"):
            return getattr(dt, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _frame(payload: bytes) -> bytes:
    return struct.pack(">Q", len(payload)) + payload


_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from xlsales.io.parse import serve; serve(int(sys.argv[2]))"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the xlsales package


class Sandbox:
    """One long-lived sandboxed reader for many files: check and parse each file's bytes under LIMITS.

    A file that exceeds the time limit or kills the worker gets its issue and a fresh worker
    takes the next file, so one interpreter start serves a whole inbox.  ``python`` (default:
    ``$XLSALES_SANDBOX_PYTHON``, else this interpreter) runs the worker; when it cannot start,
    every file is refused (``file_unchecked``).  Where ``select`` cannot wait on a pipe
    (Windows), each file gets its own child.  One Sandbox serves one thread; a pool of
    readers is several Sandboxes (or :func:`xlsales.io.parse.parse_workbook` in worker processes).
    """

    def __init__(self, python: str | None = None) -> None:
        self.python = python or os.environ.get(SANDBOX_PYTHON_ENV) or sys.executable
        self._proc: subprocess.Popen[bytes] | None = None
        self._err: Any = None
        self._memory = 0
        self._per_file = os.name == "nt"

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The worker's process id, None while none runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def close(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            self._proc.wait()
            for pipe in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(OSError):
                    if pipe is not None:
                        pipe.close()
            self._proc = None
        if self._err is not None:
            self._err.close()
            self._err = None

    def _command(self) -> list[str]:
        return [self.python, "-P", "-c", _BOOT, _PACKAGE_ROOT, str(int(LIMITS["parse_memory_bytes"]))]

    def _start(self) -> None:
        self.close()
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker; closed in close()
        self._memory = int(LIMITS["parse_memory_bytes"])
        self._proc = subprocess.Popen(self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._err)
        assert self._proc.stdin is not None
        os.set_blocking(self._proc.stdin.fileno(), False)

    def parse(self, data: bytes, name: str, suffix: str | None = None) -> Workbook | Issue:
        """Check and parse ``data`` in the worker: the :class:`Workbook`, or the one issue naming ``name``.

        ``suffix``: the file's extension (default: ``name``'s), which picks the reader when it fits the content.
        """
        suffix = Path(name).suffix if suffix is None else suffix
        meta = json.dumps({"limits": dict(LIMITS), "suffix": suffix}).encode()
        request = _frame(meta) + _frame(data)
        if self._per_file:
            return self._parse_once(request, name)
        for attempt in (0, 1):
            fresh = self._proc is None or self._proc.poll() is not None or self._memory != LIMITS["parse_memory_bytes"]
            if fresh:
                try:
                    self._start()
                except OSError as e:
                    self.close()
                    return make("file_unchecked", name, value=f"cannot start {self.python}: {e.strerror or e}")
            err_from = self._err_size()
            outcome, payload = self._exchange(request, time.monotonic() + float(LIMITS["parse_seconds"]))
            if outcome == "reply":
                return self._answer(payload, name)
            if outcome == "timeout":
                self.close()
                return make("file_bomb", name, value=f"reading took over {LIMITS['parse_seconds']} s")
            if outcome == "too big":
                self.close()
                return make("file_bomb", name, value=f"the parsed cells exceed {_size(LIMITS['max_result_bytes'])}")
            if outcome == "broken" and not fresh and attempt == 0:
                self.close()  # the worker died while idle (before this file): one fresh start
                continue
            assert self._proc is not None
            with contextlib.suppress(OSError):
                self._proc.kill()
            rc = self._proc.wait()
            err = self._err_text(err_from)
            self.close()
            return _death(rc, err, name)
        raise AssertionError("unreachable")  # pragma: no cover

    def _err_size(self) -> int:
        return os.fstat(self._err.fileno()).st_size if self._err is not None else 0

    def _err_text(self, start: int) -> str:
        if self._err is None:
            return ""
        self._err.seek(start)
        return str(self._err.read(64 * 1024).decode("utf-8", "replace"))

    def _exchange(self, request: bytes, deadline: float) -> tuple[str, bytes]:
        """Send ``request`` and wait for one framed answer: ("reply", payload) or why there is none."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        wfd, rfd = proc.stdin.fileno(), proc.stdout.fileno()
        view, sent = memoryview(request), 0
        buf, need = bytearray(), -1
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", b""
            readable, writable, _ = select.select([rfd], [wfd] if sent < len(view) else [], [], left)
            if writable:
                try:
                    sent += os.write(wfd, view[sent:sent + _CHUNK])
                except BlockingIOError:
                    pass
                except OSError:  # BrokenPipeError: the worker is gone
                    return "broken", b""
            if not readable:
                continue
            chunk = os.read(rfd, _CHUNK if need < 0 else max(1, min(_CHUNK, need + 8 - len(buf))))
            if not chunk:
                return "eof", b""
            buf += chunk
            if need < 0 and len(buf) >= 8:
                (need,) = struct.unpack_from(">Q", buf)
                if need > LIMITS["max_result_bytes"]:
                    return "too big", b""
            if need >= 0 and len(buf) >= need + 8:
                return "reply", bytes(buf[8:need + 8])

    def _parse_once(self, request: bytes, name: str) -> Workbook | Issue:
        """Windows: one child per file (``select`` cannot wait on pipes there)."""
        try:
            done = subprocess.run(self._command(), input=request, capture_output=True,
                                  timeout=float(LIMITS["parse_seconds"]), check=False)
        except subprocess.TimeoutExpired:
            return make("file_bomb", name, value=f"reading took over {LIMITS['parse_seconds']} s")
        except OSError as e:
            return make("file_unchecked", name, value=f"cannot start {self.python}: {e.strerror or e}")
        out = done.stdout
        if len(out) >= 8 and len(out) >= 8 + struct.unpack_from(">Q", out)[0]:
            return self._answer(out[8:8 + struct.unpack_from(">Q", out)[0]], name)
        return _death(done.returncode, done.stderr.decode("utf-8", "replace"), name)

    def _answer(self, payload: bytes, name: str) -> Workbook | Issue:
        try:
            result = _PlainUnpickler(io.BytesIO(payload)).load()
        except Exception as e:  # noqa: BLE001 - an answer that is not plain data is no answer
            self.close()
            return make("file_unchecked", name, value=f"the sandbox answered something unexpected ({e})")
        if isinstance(result, dict) and result.get("exit"):
            self.close()  # the worker stops after this answer (a MemoryError): the next file gets a fresh one
        return _to_workbook(result, name)


class SandboxPool:
    """``size`` sandboxed readers for as many threads: each file borrows one for its check and parse, so that
    ``size`` files are parsed at once, each under its own limits (a file that hangs or kills its worker costs
    only that worker's next start).  Workers start when first borrowed."""

    def __init__(self, size: int, python: str | None = None) -> None:
        self._all = [Sandbox(python) for _ in range(max(1, size))]
        self._free: queue.SimpleQueue[Sandbox] = queue.SimpleQueue()
        for sb in self._all:
            self._free.put(sb)

    @property
    def size(self) -> int:
        return len(self._all)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Sandbox]:
        sb = self._free.get()
        try:
            yield sb
        finally:
            self._free.put(sb)

    def close(self) -> None:
        for sb in self._all:
            sb.close()


def _to_workbook(result: Any, name: str) -> Workbook | Issue:
    if not isinstance(result, dict):
        return make("file_unchecked", name, value="the sandbox answered something unexpected")
    if "ok" in result:
        ok = result["ok"]
        props = ok.get("props")
        return Workbook(list(ok["names"]), dict(ok["rows"]), dict(ok["errors"]), bool(ok["epoch1904"]),
                        dict(props) if isinstance(props, dict) else {})
    if "refused" in result:
        r = result["refused"]
        return make(r["rule"], name, r.get("sheet", ""), r.get("cell", ""), r.get("value", ""), **r.get("params", {}))
    e = result.get("error") or {}
    return from_exception(str(e.get("kind", "Error")), str(e.get("message", "")), name)


def _death(rc: int | None, err: str, name: str) -> Issue:
    """The issue for a worker that ended without answering (exit code ``rc``, its stderr ``err``)."""
    if "memory allocation" in err or "MemoryError" in err:
        return make("file_bomb", name, value=f"reading needs over {_size(LIMITS['parse_memory_bytes'])}")
    if rc is not None and rc < 0:
        sig = -rc
        if sig == getattr(signal, "SIGXCPU", -1):
            return make("file_bomb", name, value=f"reading took over {LIMITS['parse_seconds']} s of CPU")
        with contextlib.suppress(ValueError):
            return make("file_crashed", name, value=f"signal {sig}, {signal.Signals(sig).name}")
        return make("file_crashed", name, value=f"signal {sig}")
    last = [ln for ln in err.strip().splitlines() if ln.strip()]
    why = last[-1][:200] if last else f"exit code {rc}"
    return make("file_unchecked", name, value=f"the sandboxed reader failed: {why}")


def limits_of(meta: Mapping[str, Any]) -> dict[str, int | float]:
    """LIMITS overridden by those a request carries (the worker's view of the parent's limits)."""
    return {**LIMITS, **{k: v for k, v in dict(meta.get("limits", {})).items() if k in LIMITS}}
