"""The sandboxed reader's side: one workbook's bytes in, plain data out — checked, parsed once, within limits.

:func:`parse_workbook` is the whole job for one file and a pure function of its bytes and
limits: :func:`xlsales.io.safety.check_bytes`, then python-calamine reads every sheet (refusing a
used range over ``max_cells``), merged ranges are filled with their top-left value (at most
``max_merged_cells`` cells per workbook), Excel error cells and the date system are found by
:mod:`xlsales.io.errorcells`.  The result holds only lists, dicts, tuples, text, numbers, booleans
and :mod:`datetime` values.

:func:`serve` is the worker loop that :class:`xlsales.io.safety.Sandbox` starts in a child
process under a memory limit: framed requests (limits as JSON, then the file's bytes) on
stdin, one pickled answer per request on stdout.  A pool of readers can call
:func:`parse_workbook` in worker processes of its own, one per core.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import olefile

from xlsales.core.issues import a1
from xlsales.io import errorcells, safety
from xlsales.io.safety import RefusedError
from xlsales.report import scratch


def parse_workbook(data: bytes, limits: Mapping[str, int | float] | None = None, suffix: str = "") -> dict[str, Any]:
    """Check and parse a workbook's bytes: ``{"names", "rows", "errors", "epoch1904", "props"}``.

    ``suffix`` (the file's extension) picks calamine's reader when it agrees with the content
    (an ``.xls`` renamed ``.xlsx`` is read by its content).  Raises
    :class:`~xlsales.io.safety.RefusedError` for a file refused by a check or a limit; any other
    exception is the parser's (the caller maps it with :func:`xlsales.io.safety.from_exception`).
    """
    with _limits(limits or {}) as lim:
        safety.check_bytes(data)
        with _opened(data, suffix) as book:
            return _parse(data, book, lim)


def _reader_suffix(data: bytes, suffix: str) -> str:
    """The extension calamine should read ``data`` as: the file's own when it fits the content."""
    if data.startswith(olefile.MAGIC):
        return ".xls"
    with contextlib.suppress(Exception), zipfile.ZipFile(io.BytesIO(data)) as z:
        if "mimetype" in z.namelist():
            return ".ods"
    return suffix.lower() if suffix.lower() in (".xlsx", ".xlsm") else ".xlsx"


@contextlib.contextmanager
def _opened(data: bytes, suffix: str) -> Iterator[Any]:
    """calamine's workbook of ``data``, read from a private copy of these very bytes.

    calamine picks its reader by the file's extension (its guess from content alone fails on
    some valid files), so the bytes are written once to a private folder under that name.
    """
    import python_calamine

    with scratch.folder("read") as tmp:
        path = Path(tmp) / f"book{_reader_suffix(data, suffix)}"
        path.write_bytes(data)
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            yield book
        finally:
            with contextlib.suppress(Exception):
                book.close()


def _parse(data: bytes, book: Any, lim: Mapping[str, int | float]) -> dict[str, Any]:
    try:
        errors = errorcells.error_cells_in(data, int(lim["max_cells"]))
    except errorcells.TooManyErrorCellsError:
        raise RefusedError("file_bomb", f"over {lim['max_cells']:,} Excel error cells") from None
    names = [str(n) for n in book.sheet_names]
    rows: dict[str, list[list[Any]]] = {}
    total, merge_budget = 0, [int(lim["max_merged_cells"])]
    for name in names:
        sheet = book.get_sheet_by_name(name)
        end = sheet.end
        cells = (end[0] + 1) * (end[1] + 1) if end else 0
        if cells > lim["max_cells"]:
            raise RefusedError("file_bomb", f"{cells:,} cells in the used range, limit {lim['max_cells']:,}",
                               sheet=name)
        total += cells
        if total > lim["max_book_cells"]:
            raise RefusedError("file_bomb", f"over {lim['max_book_cells']:,} cells in all sheets", sheet=name)
        grid = sheet.to_python(skip_empty_area=False)
        fill_merged(name, grid, list(sheet.merged_cell_ranges or []), merge_budget, int(lim["max_merged_cells"]))
        rows[name] = grid
    return {"names": names, "rows": rows, "errors": {n: errors[n] for n in names if n in errors},
            "epoch1904": errorcells.date1904(data), "props": doc_properties(data)}


# --- document properties -----------------------------------------------------------

_CORE_TAGS = {"creator": "creator", "title": "title", "lastModifiedBy": "last_modified_by", "modified": "modified",
              "created": "created"}
_ODF_TAGS = {"initial-creator": "creator", "title": "title", "creator": "last_modified_by", "date": "modified",
             "creation-date": "created"}
_PROPS_MAX = 1024 * 1024  # a properties part larger than this is not read (Excel's are a few hundred bytes)
PROPERTY_PARTS = frozenset(("docProps/core.xml", "docProps/custom.xml", "meta.xml"))  # what doc_properties reads


def doc_properties(data: bytes) -> dict[str, Any]:
    """The workbook's own document properties: ``creator``, ``title``, ``last_modified_by`` (text),
    ``modified``, ``created`` (naive UTC datetimes) and ``custom`` ({name: text}) where the file has them.

    Read from ``docProps/core.xml`` (xlsx/xlsm), ``meta.xml`` (ods) or the OLE SummaryInformation
    stream (xls).  ``modified`` is the time the application last saved the workbook — unlike the
    file's mtime it does not change when the file is copied or synced.  Never raises: a property
    that cannot be read is left out.
    """
    try:
        if data.startswith(olefile.MAGIC):
            return _ole_properties(data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = {i.filename: i for i in z.infolist()}
            out: dict[str, Any] = {}
            for part, tags in (("docProps/core.xml", _CORE_TAGS), ("meta.xml", _ODF_TAGS)):
                info = names.get(part)
                if info is not None and info.file_size <= _PROPS_MAX:
                    out = _xml_properties(z.read(info), tags)
                    break
            custom = names.get("docProps/custom.xml")
            if custom is not None and custom.file_size <= _PROPS_MAX:
                out["custom"] = _custom_properties(z.read(custom))
            return out
    except Exception:  # noqa: BLE001 - properties are a nicety: a damaged part means "unknown", never a failure
        return {}


def properties(path: Path) -> dict[str, Any] | None:
    """The document properties of the workbook at ``path`` (see :func:`doc_properties`), read here
    without parsing any sheet; None when the file is not a workbook that passes :func:`xlsales.io.safety.check_bytes`
    (of a zip package: its directory, and the properties parts, the only ones inflated).

    For deciding what a file is (an xlsales report?) before writing over it: no sandbox, no temporary file.
    """
    try:
        data, _ = safety._read(Path(path))
        safety.check_bytes(data, only=PROPERTY_PARTS)
    except RefusedError:
        return None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception:  # noqa: BLE001 - anything odd means "not a workbook we know"
        return None
    return doc_properties(data)


def _custom_properties(xml: bytes) -> dict[str, str]:
    """``docProps/custom.xml``: {name: value as text} (Excel's File → Properties → Custom)."""
    from defusedxml import ElementTree

    out: dict[str, str] = {}
    for el in ElementTree.fromstring(xml):
        name = el.get("name")
        if name and len(el) and len(out) < 100:
            out[name[:200]] = (el[0].text or "")[:1000]
    return out


def _xml_properties(xml: bytes, tags: Mapping[str, str]) -> dict[str, Any]:
    from defusedxml import ElementTree

    out: dict[str, Any] = {}
    for el in ElementTree.fromstring(xml).iter():
        key = tags.get(str(el.tag).rpartition("}")[2])
        if key is None or key in out or el.text is None:
            continue
        text = el.text.strip()
        out[key] = _when(text) if key in ("modified", "created") else text[:1000]
    return {k: v for k, v in out.items() if v is not None}


def _when(text: str) -> dt.datetime | None:
    """A W3CDTF/ISO time as a naive UTC datetime (to the second), or None."""
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t.replace(microsecond=0)


def _ole_properties(data: bytes) -> dict[str, Any]:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        meta = ole.get_metadata()
    out: dict[str, Any] = {}
    for key, value in (("creator", meta.author), ("title", meta.title), ("last_modified_by", meta.last_saved_by),
                       ("modified", meta.last_saved_time), ("created", meta.create_time)):
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace") if value else None
        if isinstance(value, dt.datetime):
            value = value.replace(microsecond=0, tzinfo=None)
        if value:
            out[key] = value[:1000] if isinstance(value, str) else value
    return out


@contextlib.contextmanager
def _limits(limits: Mapping[str, int | float]) -> Iterator[dict[str, int | float]]:
    """safety.LIMITS as the request says, for the checks that read them; restored afterwards."""
    saved = dict(safety.LIMITS)
    safety.LIMITS.update({k: v for k, v in limits.items() if k in safety.LIMITS})
    try:
        yield dict(safety.LIMITS)
    finally:
        safety.LIMITS.clear()
        safety.LIMITS.update(saved)


def fill_merged(sheet: str, rows: list[list[Any]], merged: list[Any], budget: list[int], limit: int) -> None:
    """Repeat each merged range's top-left value in its empty cells (a merged customer spans its rows).

    Ranges are clipped to the used range; every cell a range covers spends one of ``budget[0]``,
    and a workbook that overspends is refused (``merged_too_large``) instead of expanded.
    """
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(rows) or r0 > r1 or c0 > c1:
            continue
        top = rows[r0]
        value = top[c0] if c0 < len(top) else ""
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            last = min(c1, len(row) - 1)
            if last < c0:
                continue
            budget[0] -= last - c0 + 1
            if budget[0] < 0:
                raise RefusedError("merged_too_large", a1(r0, c0), sheet=sheet, cell=a1(r0, c0), limit=f"{limit:,}")
            for c in range(c0, last + 1):
                if row[c] == "" and (r, c) != (r0, c0):
                    row[c] = value


# --- the worker loop ----------------------------------------------------------------

def _read_exact(stream: IO[bytes], n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_frame(stream: IO[bytes]) -> bytes | None:
    head = _read_exact(stream, 8)
    if head is None:
        return None
    return _read_exact(stream, struct.unpack(">Q", head)[0])


def _answer(data: bytes, meta: Mapping[str, Any], memory: int) -> tuple[bytes, bool]:
    """(the pickled answer for one file, whether the worker must stop after sending it)."""
    fatal = False
    try:
        result: dict[str, Any] = {"ok": parse_workbook(data, meta.get("limits") or {}, str(meta.get("suffix", "")))}
    except RefusedError as r:
        result = {"refused": r.as_dict()}
    except MemoryError:
        result, fatal = {"refused": RefusedError("file_bomb", f"reading needs over {memory:,} bytes").as_dict()}, True
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - calamine's PanicException is a BaseException
        result = {"error": {"kind": type(e).__name__, "message": str(e)[:500]}}
    try:
        return pickle.dumps({**result, "exit": fatal}, protocol=pickle.HIGHEST_PROTOCOL), fatal
    except MemoryError:
        refusal = RefusedError("file_bomb", f"the parsed cells need over {memory:,} bytes")
        return pickle.dumps({"refused": refusal.as_dict(), "exit": True}), True


def serve(memory: int) -> None:
    """Answer framed requests from stdin until it closes, under an address-space limit of ``memory`` bytes."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the answers
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests = sys.stdin.buffer
    while True:
        meta_raw = _read_frame(requests)
        data = _read_frame(requests) if meta_raw is not None else None
        if meta_raw is None or data is None:
            return
        payload, fatal = _answer(data, json.loads(meta_raw), memory)
        del data
        answers.write(struct.pack(">Q", len(payload)))
        answers.write(payload)
        answers.flush()
        if fatal:  # after a MemoryError the interpreter may be fragile: the parent starts a fresh worker
            return
