"""Reads cached by content: a rep workbook parsed and validated once is not read again while its bytes are the same.

An entry is the plain form of what reading one file gave (:func:`xlsales.core.records.read_to_plain`: the
identity, every table's rows, letters, counts and issues, the workbook's own saved time and signature sheet),
stored as JSON — never pickle — in one file per entry under the cache folder (``DIR/.xlsales-cache/`` beside
the reports).  It is found by the SHA-256 of the file's bytes, the file's name in the inbox, and a
fingerprint of everything else reading depends on: the xlsales version and source code, the parser's and
pandas' versions, the reading limits, and the setup's lists, stage probabilities and amount limit
(:func:`fingerprint`).  What reading does not decide — whose file it is, its signature's verdict, which of a
rep's files counts, the business rules against the roster, the stages, the thresholds and the as-of date —
is decided afresh on every run.

Each entry carries an HMAC-SHA256 of its body, keyed by the folder's signing key (a plain SHA-256 without one):
an entry that does not verify, does not parse, or belongs to another file, version or setup is ignored (and
rewritten), never trusted.  Entries are written atomically (a temporary file renamed over the entry), so a
killed run leaves whole entries or none; entries unused for :data:`KEEP_DAYS` days are removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import xlsales
from xlsales.core.records import PLAIN_FORMAT, PlainError, RepRead, read_from_plain, read_to_plain, value_from_plain
from xlsales.core.records import value_to_plain as plain
from xlsales.io import safety
from xlsales.io.reader import Context

CACHE_DIR = ".xlsales-cache"
KEEP_DAYS = 60
_SUFFIX = ".json"


@dataclass
class CachedRead:
    """What reading one file gave, as the inbox needs it: the read, the workbook's saved time and signature sheet."""

    read: RepRead
    saved: dt.datetime | None
    signed: dict[str, str] | None


def _code_digest() -> str:
    """SHA-256 of the xlsales source: any change to the code that reads makes every entry foreign."""
    h = hashlib.sha256()
    root = Path(xlsales.__file__).parent
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def fingerprint(ctx: Context, names: list[str]) -> str:
    """What a read depends on besides the file: versions, code, limits and the setup's side of reading.

    ``names``: the lists the rep tables' choice columns use (``ctx.choices(name)`` of each is included).
    """
    parts = {"format": PLAIN_FORMAT, "xlsales": xlsales.__version__, "code": _code_digest(),
             "calamine": _version("python-calamine"), "pandas": _version("pandas"),
             "limits": {k: safety.LIMITS[k] for k in sorted(safety.LIMITS)},
             "lists": {n: [list(o) for o in ctx.choices(n)] for n in sorted(names)},
             "stages": [list(p) for p in ctx.stage_numbers], "max_amount": ctx.max_amount}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class ReadCache:
    """The cache folder of one consolidation: :meth:`get` and :meth:`put` by file hash and name."""

    def __init__(self, folder: Path, setup_print: str, key: bytes | None = None) -> None:
        self.folder = Path(folder)
        self.setup_print = setup_print
        self._key = key
        self.hits = self.misses = 0

    def _entry(self, sha256: str, display: str) -> Path:
        name = hashlib.sha256(f"{sha256}\0{display}\0{self.setup_print}".encode()).hexdigest()
        return self.folder / f"{name}{_SUFFIX}"

    def _seal(self, body: bytes) -> str:
        if self._key is None:
            return hashlib.sha256(body).hexdigest()
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def get(self, sha256: str, display: str) -> CachedRead | None:
        """The cached read of the file with these bytes and this name, or None (absent, foreign or not intact)."""
        path = self._entry(sha256, display)
        got = self._load(path, sha256, display)
        if got is None:
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):
            os.utime(path)  # in use: kept by prune()
        return got

    def _load(self, path: Path, sha256: str, display: str) -> CachedRead | None:
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        body, sep, seal = raw.rpartition(b"\n")
        if not sep or not hmac.compare_digest(seal.decode("ascii", "replace"), self._seal(body)):
            return None
        try:
            data = json.loads(body)
            if (data["file"], data["name"], data["setup"]) != (sha256, display, self.setup_print):
                return None
            saved = value_from_plain(data["saved"])
            signed = data["signed"]
            if signed is not None and not (isinstance(signed, dict) and
                                           all(isinstance(v, str) for v in signed.values())):
                return None
            return CachedRead(read_from_plain(data["read"]), saved if isinstance(saved, dt.datetime) else None,
                              signed)
        except (PlainError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, sha256: str, display: str, got: CachedRead) -> None:
        """Store a read; a read that has no plain form, or a folder that cannot be written, just is not cached."""
        try:
            body = json.dumps({"file": sha256, "name": display, "setup": self.setup_print, "saved": plain(got.saved),
                               "signed": got.signed, "read": read_to_plain(got.read)},
                              ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        except (PlainError, ValueError, TypeError):
            return
        _write_atomic(self._entry(sha256, display), body + b"\n" + self._seal(body).encode())

    def put_all(self, entries: list[tuple[str, str, CachedRead]]) -> None:
        """:meth:`put` each of ``entries`` (file hash, name, read)."""
        for sha256, display, got in entries:
            self.put(sha256, display, got)

    def prune(self, days: float = KEEP_DAYS) -> None:
        """Remove entries not used for ``days`` days and temporary files of killed runs."""
        cutoff = time.time() - days * 86_400
        with contextlib.suppress(OSError):
            for p in self.folder.iterdir():
                with contextlib.suppress(OSError):
                    if p.is_file() and (p.name.startswith(".") or p.suffix == _SUFFIX) and p.stat().st_mtime < cutoff:
                        p.unlink()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        tmp = ""
    except OSError:
        pass  # a cache that cannot be written only costs time
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

