"""Build a source-only ``vbaProject.bin`` (MS-OVBA inside an MS-CFB compound file).

The project holds module *source* only: ``_VBA_PROJECT`` carries version
``0xFFFF`` and no performance cache, and every module stream starts with its
compressed source (``MODULEOFFSET`` 0, no p-code), so Excel compiles the
project on first use.  Written from the [MS-OVBA] and [MS-CFB] specifications;
``read_modules`` uses oletools' olevba as an independent reader.

构建仅含源代码的 vbaProject.bin：不含 p-code，Excel 打开时自行重新编译。
"""

from __future__ import annotations

import io
import re
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_CODEPAGE",
    "add_buttons_and_vba",
    "build_vba_project",
    "compress",
    "document_module_names",
    "load_modules",
    "read_modules",
    "xlwings_modules",
]

#: Project code page (PROJECTCODEPAGE).  936 (GBK) so that the zh comments in
#: ``macros/*.bas`` survive; ASCII code is byte-identical in every ANSI code page.
DEFAULT_CODEPAGE = 936

# --------------------------------------------------------------------------
# MS-OVBA 2.4.1: compression
# --------------------------------------------------------------------------
_CHUNK = 4096
_MAX_CANDIDATES = 48  # match-finder effort per position; any choice decodes identically


def _copy_token_layout(pos_in_chunk: int) -> tuple[int, int]:
    """Return (bit_count, max_length) of a copy token at this chunk position (2.4.1.3.19.1)."""
    bit_count = 4
    while (1 << bit_count) < pos_in_chunk:
        bit_count += 1
    return bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(chunk: bytes) -> bytes:
    """Compress one decompressed chunk (<= 4096 bytes) into a CompressedChunk with header."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = 0
    n = len(chunk)
    while pos < n:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len, best_off = 0, 0
            if pos >= 1 and pos + 3 <= n:
                bit_count, max_len = _copy_token_layout(pos)
                limit = min(max_len, n - pos)
                for cand in reversed(heads.get(chunk[pos : pos + 3], [])[-_MAX_CANDIDATES:]):
                    length = 3
                    while length < limit and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == limit:
                            break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
            else:
                out.append(chunk[pos])
            for p in range(pos, pos + step):
                if p + 3 <= n:
                    heads.setdefault(chunk[p : p + 3], []).append(p)
            pos += step
        out[flag_at] = flags
    if len(out) > _CHUNK:  # incompressible: RawChunk, always 4096 data bytes (2.4.1.3.10)
        return struct.pack("<H", 0x3000 | (_CHUNK - 1)) + chunk.ljust(_CHUNK, b"\x00")
    return struct.pack("<H", 0xB000 | (len(out) + 2 - 3)) + bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer (signature byte + chunks)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        out += _compress_chunk(data[start : start + _CHUNK])
    return bytes(out)


# --------------------------------------------------------------------------
# MS-OVBA 2.4.3: data "encryption" (obfuscation) for CMG / DPB / GC
# --------------------------------------------------------------------------
def _encrypt(project_id: str, data: bytes, seed: int) -> str:
    """Obfuscate ``data`` per 2.4.3.2 and return it as the uppercase hex the PROJECT stream uses."""
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    version_enc = seed ^ version
    proj_key_enc = seed ^ proj_key
    out = bytearray([seed, version_enc, proj_key_enc])
    unenc1, enc1, enc2 = proj_key, proj_key_enc, version_enc

    def push(byte: int) -> None:
        nonlocal unenc1, enc1, enc2
        byte_enc = byte ^ ((enc2 + unenc1) & 0xFF)
        out.append(byte_enc)
        enc2, enc1, unenc1 = enc1, byte_enc, byte

    for _ in range((seed & 6) // 2):  # IgnoredEnc: arbitrary filler bytes
        push(0x00)
    for byte in struct.pack("<I", len(data)):
        push(byte)
    for byte in data:
        push(byte)
    return out.hex().upper()


# --------------------------------------------------------------------------
# MS-CFB: a minimal version-3 compound file writer (512-byte sectors)
# --------------------------------------------------------------------------
_SECTOR = 512
_MINI = 64
_MINI_CUTOFF = 4096
_FREESECT, _ENDOFCHAIN, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[_Entry] | None = None
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    red: bool = False
    start: int = _ENDOFCHAIN
    size: int = 0


def _cfb_key(name: str) -> tuple[int, str]:
    """Directory sibling order (MS-CFB 2.6.4): shorter names first, then case-insensitive."""
    return len(name.encode("utf-16-le")), name.upper()


def _pad(data: bytes, unit: int) -> bytes:
    return data + b"\x00" * (-len(data) % unit)


def _build_cfb(root_children: list[_Entry]) -> bytes:
    """Serialize a storage tree into a compound file."""
    root = _Entry("Root Entry", 5, children=root_children)
    entries: list[_Entry] = [root]

    def number(storage: _Entry) -> None:
        kids = sorted(storage.children or [], key=lambda e: _cfb_key(e.name))
        first = len(entries)
        entries.extend(kids)
        ids = list(range(first, first + len(kids)))

        # Balanced BST from the sorted siblings; nodes on the deepest level red,
        # all others black: every root-to-leaf path then has the same black count.
        depth: dict[int, int] = {}

        def tree(lo: int, hi: int, d: int) -> int:
            if lo >= hi:
                return _NOSTREAM
            mid = (lo + hi) // 2
            depth[mid] = d
            entries[ids[mid]].left = tree(lo, mid, d + 1)
            entries[ids[mid]].right = tree(mid + 1, hi, d + 1)
            return ids[mid]

        storage.child = tree(0, len(kids), 0)
        deepest = max(depth.values(), default=0)
        for i, d in depth.items():
            entries[ids[i]].red = d == deepest and d > 0
        for kid in kids:
            if kid.kind == 1:
                number(kid)

    number(root)

    # Stream payloads: small ones in the mini stream, large ones in regular sectors.
    mini = bytearray()
    minifat: list[int] = []
    big: list[_Entry] = []
    for e in entries:
        if e.kind != 2:
            continue
        e.size = len(e.data)
        if e.size == 0:
            e.start = _ENDOFCHAIN
        elif e.size < _MINI_CUTOFF:
            e.start = len(mini) // _MINI
            count = -(-e.size // _MINI)
            minifat += list(range(e.start + 1, e.start + count)) + [_ENDOFCHAIN]
            mini += _pad(e.data, _MINI)
        else:
            big.append(e)

    n_dir = -(-len(entries) // 4)
    n_minifat = -(-len(minifat) // 128)
    n_mini = -(-len(mini) // _SECTOR)
    n_big = sum(-(-len(e.data) // _SECTOR) for e in big)
    n_fat = 1
    while n_fat * 128 < n_fat + n_dir + n_minifat + n_mini + n_big:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("VBA project too large for a compound file without DIFAT sectors")

    fat: list[int] = [_FATSECT] * n_fat
    body = bytearray()

    def place(payload: bytes) -> int:
        """Append ``payload`` as a sector chain; return its first sector (or ENDOFCHAIN)."""
        count = -(-len(payload) // _SECTOR)
        if count == 0:
            return _ENDOFCHAIN
        first = len(fat)
        fat.extend(list(range(first + 1, first + count)) + [_ENDOFCHAIN])
        body.extend(_pad(payload, _SECTOR))
        return first

    dir_start = len(fat)
    fat.extend(list(range(dir_start + 1, dir_start + n_dir)) + [_ENDOFCHAIN])
    body.extend(b"\x00" * (n_dir * _SECTOR))  # filled in below, once all starts are known
    minifat_start = place(b"".join(struct.pack("<I", v) for v in minifat))
    root.start = place(bytes(mini))
    root.size = len(mini)
    for e in big:
        e.start = place(e.data)

    directory = bytearray()
    for e in entries:
        raw = e.name.encode("utf-16-le")
        if len(raw) > 62:
            raise ValueError(f"compound-file name too long: {e.name!r}")
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            raw,
            len(raw) + 2,
            e.kind,
            0 if e.red else 1,
            e.left,
            e.right,
            e.child,
            b"\x00" * 16,
            0,
            0,
            0,
            e.start if e.kind != 1 else 0,
            e.size,
        )
    while len(directory) < n_dir * _SECTOR:  # unused entries
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, b"", 0, 0, 0, 0, 0
        )
    body[0 : n_dir * _SECTOR] = directory

    fat += [_FREESECT] * (n_fat * 128 - len(fat))
    difat = list(range(n_fat)) + [_FREESECT] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x003E,  # minor version
        0x0003,  # major version 3: 512-byte sectors
        0xFFFE,  # little-endian
        9,  # sector shift (512)
        6,  # mini sector shift (64)
        b"\x00" * 6,
        0,  # directory sectors: must be 0 in version 3
        n_fat,
        dir_start,
        0,  # transaction signature
        _MINI_CUTOFF,
        minifat_start,
        n_minifat,
        _ENDOFCHAIN,  # no DIFAT sectors
        0,
    ) + struct.pack("<109I", *difat)
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    return header + fat_bytes + bytes(body)


# --------------------------------------------------------------------------
# MS-OVBA 2.3: the VBA project streams
# --------------------------------------------------------------------------
_CLASS_BASE = '"0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'
_WORKBOOK_BASE = '"0{00020819-0000-0000-C000-000000000046}"'
_SHEET_BASE = '"0{00020820-0000-0000-C000-000000000046}"'
_STDOLE_LIBID = r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")
_VB_NAME_RE = re.compile(r'Attribute VB_Name = "([^"]*)"\Z')


@dataclass(frozen=True)
class _Module:
    name: str
    kind: str  # "Module" (procedural), "Class", "Document"
    code: str  # stored text, CRLF line endings


def _split_lines(source: str) -> list[str]:
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _prepare(name: str, source: str) -> _Module:
    """Turn a ``.bas``/``.cls`` export into the text stored in the module stream.

    A leading ``VERSION 1.0 CLASS`` / ``BEGIN`` ... ``END`` block (class export
    format) makes it a class module; that block is not part of the stored text.
    ``Attribute VB_Name`` must match ``name`` and is added when absent.
    """
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid VBA module name {name!r}")
    lines = _split_lines(source)
    kind = "Module"
    if lines and lines[0].strip().upper() == "VERSION 1.0 CLASS":
        kind = "Class"
        try:
            end = next(i for i, line in enumerate(lines) if line.strip().upper() == "END")
        except StopIteration:
            raise ValueError(f"module {name}: class header without END") from None
        lines = lines[end + 1 :]
    match = _VB_NAME_RE.match(lines[0].strip()) if lines else None
    if match:
        if match.group(1) != name:
            raise ValueError(f"module {name}: source says Attribute VB_Name = {match.group(1)!r}")
        lines = lines[1:]
    head = [f'Attribute VB_Name = "{name}"']
    if kind == "Class" and not any(line.startswith("Attribute VB_Base") for line in lines):
        head.append(f"Attribute VB_Base = {_CLASS_BASE}")
    return _Module(name, kind, "".join(line + "\r\n" for line in head + lines))


def _document_module(name: str, index: int) -> _Module:
    base = _WORKBOOK_BASE if index == 0 else _SHEET_BASE
    attrs = [
        ("Name", f'"{name}"'),
        ("Base", base),
        ("GlobalNameSpace", "False"),
        ("Creatable", "False"),
        ("PredeclaredId", "True"),
        ("Exposed", "True"),
        ("TemplateDerived", "False"),
        ("Customizable", "True"),
    ]
    return _Module(name, "Document", "".join(f"Attribute VB_{k} = {v}\r\n" for k, v in attrs))


def _rec(rec_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rec_id, len(payload)) + payload


def _dir_stream(modules: Sequence[_Module], project_name: str, codepage: str, cp: int) -> bytes:
    """The uncompressed ``dir`` stream (2.3.4.2)."""

    def text(rec_id: int, value: str, unicode_id: int | None = None) -> bytes:
        out = _rec(rec_id, value.encode(codepage))
        if unicode_id is not None:
            out += _rec(unicode_id, value.encode("utf-16-le"))
        return out

    out = bytearray()
    out += _rec(0x0001, struct.pack("<I", 1))  # PROJECTSYSKIND: Win32; p-code is rebuilt anyway
    out += _rec(0x0002, struct.pack("<I", 0x0409))  # PROJECTLCID
    out += _rec(0x0014, struct.pack("<I", 0x0409))  # PROJECTLCIDINVOKE
    out += _rec(0x0003, struct.pack("<H", cp))  # PROJECTCODEPAGE
    out += text(0x0004, project_name)  # PROJECTNAME
    out += text(0x0005, "", 0x0040)  # PROJECTDOCSTRING
    out += text(0x0006, "", 0x003D)  # PROJECTHELPFILEPATH (path 1 + path 2)
    out += _rec(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _rec(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION (Reserved=4, major, minor)
    out += text(0x000C, "", 0x003C)  # PROJECTCONSTANTS
    # One reference: OLE Automation (stdole), as Excel adds to every new project.
    out += text(0x0016, "stdole", 0x003E)  # REFERENCENAME
    libid = _STDOLE_LIBID.encode(codepage)
    out += _rec(0x000D, struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0))  # REFERENCEREGISTERED
    out += _rec(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for m in modules:
        out += text(0x0019, m.name)  # MODULENAME
        out += _rec(0x0047, m.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += text(0x001A, m.name, 0x0032)  # MODULESTREAMNAME
        out += text(0x001C, "", 0x0048)  # MODULEDOCSTRING
        out += _rec(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: source at 0, no p-code
        out += _rec(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _rec(0x0021 if m.kind == "Module" else 0x0022, b"")  # MODULETYPE
        out += _rec(0x002B, b"")  # module terminator
    out += _rec(0x0010, b"")  # dir terminator
    return bytes(out)


def _project_stream(modules: Sequence[_Module], project_name: str, project_id: str, codepage: str) -> bytes:
    """The text ``PROJECT`` stream (2.3.1)."""
    lines = [f'ID="{project_id}"']
    for m in modules:
        lines.append(f"Document={m.name}/&H00000000" if m.kind == "Document" else f"{m.kind}={m.name}")
    seed = uuid.UUID(project_id).bytes
    cmg = _encrypt(project_id, struct.pack("<I", 0), seed[0])  # ProjectProtectionState: not protected
    dpb = _encrypt(project_id, bytes([0]), seed[1])  # ProjectPassword: none
    gc = _encrypt(project_id, bytes([0xFF]), seed[2])  # ProjectVisibilityState: visible
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{cmg}"',
        f'DPB="{dpb}"',
        f'GC="{gc}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
    ]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return "".join(line + "\r\n" for line in lines).encode(codepage)


def build_vba_project(
    modules: Sequence[tuple[str, str]],
    *,
    document_modules: Sequence[str] = ("ThisWorkbook", "Sheet1"),
    codepage: int = DEFAULT_CODEPAGE,
    project_name: str = "VBAProject",
    project_id: str | None = None,
) -> bytes:
    """Return the bytes of a source-only ``vbaProject.bin``.

    ``modules`` are ``(name, source)`` pairs in ``.bas``/``.cls`` export format.
    ``document_modules`` are the code names of the workbook (first) and of the
    sheets; they must match the workbook's ``codeName`` attributes (see
    :func:`document_module_names`).  The project id defaults to a UUID derived
    from the module names, so identical input gives identical bytes.
    """
    codec = f"cp{codepage}"
    if not document_modules:
        raise ValueError("document_modules must name at least the workbook module")
    mods = [_document_module(name, i) for i, name in enumerate(document_modules)]
    mods += [_prepare(name, source) for name, source in modules]
    seen: set[str] = set()
    for m in mods:
        if not _NAME_RE.match(m.name):
            raise ValueError(f"invalid VBA module name {m.name!r}")
        if m.name.upper() in seen:
            raise ValueError(f"duplicate VBA module name {m.name!r}")
        seen.add(m.name.upper())
    if project_id is None:
        project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xlsales:" + "|".join(sorted(seen)))).upper() + "}"

    streams: list[_Entry] = []
    for m in mods:
        try:
            raw = m.code.encode(codec)
        except UnicodeEncodeError as exc:
            raise ValueError(f"module {m.name}: source not representable in code page {codepage}: {exc}") from None
        streams.append(_Entry(m.name, 2, compress(raw)))
    streams.append(_Entry("_VBA_PROJECT", 2, struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0001)))
    streams.append(_Entry("dir", 2, compress(_dir_stream(mods, project_name, codec, codepage))))

    project_wm = b"".join(m.name.encode(codec) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00" for m in mods)
    return _build_cfb(
        [
            _Entry("VBA", 1, children=streams),
            _Entry("PROJECT", 2, _project_stream(mods, project_name, project_id, codec)),
            _Entry("PROJECTwm", 2, project_wm + b"\x00\x00"),
        ]
    )


# --------------------------------------------------------------------------
# Sources, reading back, and embedding with XlsxWriter
# --------------------------------------------------------------------------
def load_modules(directory: str | Path, pattern: str = "*.bas") -> list[tuple[str, str]]:
    """Read ``(stem, text)`` pairs from ``directory`` (sorted by file name, UTF-8)."""
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(Path(directory).glob(pattern))]


def xlwings_modules() -> list[tuple[str, str]]:
    """The standalone xlwings VBA modules shipped with the installed xlwings package.

    ``xlwings.bas`` (RunPython, UDF import) plus the ``Dictionary`` class it
    uses, as ``xlwings quickstart --standalone`` embeds them.
    """
    import xlwings

    root = Path(xlwings.__file__).parent
    return [
        ("xlwings", (root / "xlwings.bas").read_text(encoding="utf-8")),
        ("Dictionary", (root / "addin" / "Dictionary.cls").read_text(encoding="utf-8")),
    ]


def read_modules(path_or_bytes: str | Path | bytes) -> dict[str, str]:
    """Module name -> stored source, as olevba extracts it from an .xlsm or vbaProject.bin.

    The text is returned unfiltered (``Attribute`` lines kept) with line
    endings normalised to ``\\n``.
    """
    from oletools.olevba import VBA_Parser

    if isinstance(path_or_bytes, bytes):
        parser = VBA_Parser("vbaProject.bin", data=path_or_bytes)
    else:
        parser = VBA_Parser(str(path_or_bytes))
    try:
        result: dict[str, str] = {}
        for _file, stream_path, _vba_name, code in parser.extract_macros():
            if not stream_path:
                continue
            text = code.decode("latin-1") if isinstance(code, bytes) else code
            result[stream_path.split("/")[-1]] = text.replace("\r\n", "\n").replace("\r", "\n")
        return result
    finally:
        parser.close()


def document_module_names(workbook: Any) -> list[str]:
    """Code names XlsxWriter will write for ``workbook``: the workbook's, then each sheet's.

    Mirrors XlsxWriter's defaults for a workbook with a VBA project
    (``ThisWorkbook``, ``Sheet1``..``SheetN`` unless ``set_vba_name`` was used).
    """
    names = [workbook.vba_codename or "ThisWorkbook"]
    for i, sheet in enumerate(workbook.worksheets(), start=1):
        names.append(sheet.vba_codename or f"Sheet{i}")
    return names


def add_buttons_and_vba(workbook: Any, worksheet: Any, buttons: Iterable[dict[str, Any]], vba_bin: bytes) -> None:
    """Embed ``vba_bin`` in an XlsxWriter workbook and put Form Control buttons on ``worksheet``.

    Each button is a dict with ``cell`` (e.g. ``"B2"``) and ``macro`` plus any
    other :meth:`insert_button` option (``caption``, ``width``, ``height``...).
    The workbook file name must end in ``.xlsm``.
    """
    workbook.add_vba_project(io.BytesIO(vba_bin), is_stream=True)
    if workbook.vba_codename is None:
        workbook.set_vba_name("ThisWorkbook")
    for spec in buttons:
        options = {k: v for k, v in spec.items() if k != "cell"}
        if not options.get("macro"):
            raise ValueError(f"button at {spec.get('cell')!r} has no macro")
        worksheet.insert_button(spec["cell"], options)
