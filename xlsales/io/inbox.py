"""The Monday job's reading half: every workbook of the inbox, read once and safely, then combined.

:func:`consolidate` lists the inbox (:func:`discover`), reads each file's bytes once under the sandbox's
limits (hash, check, parse — :mod:`xlsales.io.safety`), reads its identity and tables
(:mod:`xlsales.io.intake`), checks its signed identity, and hands the files to the pure
:func:`xlsales.core.combine.combine`.  A file is never modified; whatever goes wrong with one file is
that file's one issue, never the end of the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..core.combine import Consolidation, FileResult, combine
from ..core.identity import IdentityCheck, identify, signature_of, unsigned_policy
from ..core.issues import Issue, define, make
from ..core.setup import Setup, monday
from . import safety
from .aside import Aside
from .cache import CachedRead, ReadCache, fingerprint
from .intake import choice_lists, context, read_rep
from .reader import BookError, Context, from_workbook
from .safety import SandboxPool

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

define("file_ignored", "warning", "「{value}」不是 Excel 工作簿(.xlsx/.xlsm/.xls/.ods),已忽略。",
       "'{value}' is not an Excel workbook (.xlsx/.xlsm/.xls/.ods) and was ignored.")
define("file_in_archive", "warning",
       "「{value}」在归档/备份文件夹「{folder}」中,未汇总(这类文件夹里的文件不参与汇总)。如果它是本期要交的文件,"
       "请把它移出该文件夹。",
       "'{value}' is in the archive/backup folder '{folder}' and was not consolidated (files in such folders never "
       "are). If it is this period's file, move it out of that folder.")
define("file_link_outside", "warning",
       "「{value}」是指向收件箱之外的链接(指向 {target}),未汇总。请把文件本身复制到收件箱。",
       "'{value}' is a link to a file outside the inbox ({target}) and was not consolidated. Copy the file itself "
       "into the inbox.")

# Sub-folders whose files are kept, not submitted: a name holding one of these words (any case) or characters.
ARCHIVE_WORDS = frozenset({"archive", "archives", "archived", "old", "older", "backup", "backups", "bak", "history",
                           "trash", "recycle", "deleted", "obsolete"})
ARCHIVE_CJK = ("归档", "存档", "备份", "旧", "历史", "废弃", "回收", "过期", "作废")
define("folder_unreadable", "error",
       "无法读取文件夹「{value}」({reason}),其中的文件都未汇总。请检查该文件夹的权限,然后重新汇总。",
       "The folder '{value}' cannot be read ({reason}); none of its files were consolidated. Check the folder's "
       "permissions, then run the consolidation again.")
define("folder_link_ignored", "warning",
       "「{value}」是指向其他文件夹的链接,其中的文件未汇总。如需汇总,请把文件本身放入收件箱。",
       "'{value}' is a link to another folder; its files were not consolidated. Put the files themselves in the "
       "inbox to have them counted.")
define("file_read_failed", "error",
       "读取此文件时出现意外错误({value}),此文件未计入,其他文件不受影响。请把此文件转交 xlsales 维护人员。",
       "An unexpected error occurred while reading this file ({value}); it was not counted and the other files were "
       "not affected. Pass the file to whoever maintains xlsales.")


def discover(inbox: Path) -> tuple[list[Path], list[Issue]]:
    """Workbooks under ``inbox`` (sub-folders too), skipping Excel lock files and hidden files.

    Every other entry is reported: a workbook name that is not a regular file (a FIFO, a device,
    a link to nothing) is returned so that reading it says why; other names are ``file_ignored``;
    a folder that cannot be listed is ``folder_unreadable``; a link to a folder is not followed.
    """
    inbox = Path(inbox)
    real_inbox = Path(os.path.realpath(inbox))
    found: list[tuple[Path, Issue | None]] = []

    def rel(p: str | Path) -> str:
        return str(Path(p).relative_to(inbox)) if Path(p) != inbox else "."

    def unreadable(e: OSError) -> None:
        where = e.filename or inbox
        found.append((Path(where), make("folder_unreadable", rel(where), value=rel(where),
                                        reason=e.strerror or type(e).__name__)))

    for root, dirs, files in os.walk(inbox, onerror=unreadable):
        here = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith((".", "~$"))]
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                found.append((here / d, make("folder_link_ignored", rel(here / d), value=rel(here / d))))
        kept = next((part for part in Path(rel(here)).parts if archived(part)), None) if here != inbox else None
        for name in files:
            p = here / name
            if name.startswith((".", "~$")) or name.lower() in ("thumbs.db", "desktop.ini"):
                continue
            if p.suffix.lower() not in SUFFIXES:
                if kept is None:
                    found.append((p, make("file_ignored", rel(p), value=rel(p))))
            elif kept is not None:
                found.append((p, make("file_in_archive", rel(p), value=rel(p), folder=kept)))
            elif (outside := _outside(p, real_inbox)) is not None:
                found.append((p, make("file_link_outside", rel(p), value=rel(p), target=outside)))
            else:
                found.append((p, None))
    found.sort(key=lambda x: x[0])
    return [p for p, i in found if i is None], [i for _, i in found if i is not None]


def archived(name: str) -> bool:
    """Whether a folder's name says it keeps old files (归档, archive, old, 旧, backup, 备份 …)."""
    words = {w for w in re.split(r"[^0-9a-z]+", name.casefold()) if w}
    return bool(words & ARCHIVE_WORDS) or any(ch in name for ch in ARCHIVE_CJK)


def _outside(p: Path, real_inbox: Path) -> str | None:
    """Where a link leads when that is a regular file outside the inbox; None for everything else."""
    if not p.is_symlink():
        return None
    target = Path(os.path.realpath(p))
    if not target.is_file() or target.is_relative_to(real_inbox):
        return None  # a link to nothing or to a device is read (and refused as such); one within the inbox is a file there
    return str(target)


# --- the consolidation ---------------------------------------------------------------

WORKERS_ENV = "XLSALES_WORKERS"  # how many files are read at once (default: one per core)
FILES_PER_READER = 8  # a reader process must have this many files to pay for its start (measured: bench/)


def workers_for(files: int, workers: int | None = None) -> int:
    """How many files to read at once: ``workers``, else ``$XLSALES_WORKERS``, else one per core but one per
    :data:`FILES_PER_READER` files at most (a small inbox is read by one reader: a second one's start would cost
    more than it saves) — never more than there are files, never fewer than one."""
    if workers is None:
        env = os.environ.get(WORKERS_ENV, "").strip()
        workers = int(env) if env.isdigit() else None
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        workers = min(cores, files // FILES_PER_READER)
    return max(1, min(workers, files))


def consolidate(inbox: Path, setup: Setup, as_of: dt.date | None = None,
                progress: Callable[[int, int, str], None] | None = None, *, key: bytes | None = None,
                workers: int | None = None, cache: Path | None = None,
                later: contextlib.ExitStack | None = None) -> Consolidation:
    """Read, check and combine every workbook in ``inbox``.

    ``key``: the manager's signing key; with it every workbook's identity signature is checked.
    ``workers``: files read at once, each by its own sandboxed reader (see :func:`workers_for`).
    ``cache``: a folder of cached reads (:mod:`xlsales.io.cache`); a file whose bytes, name and setup
    are unchanged is not parsed again.  Neither changes the result.  The reads new to the cache are stored by a
    forked child (:class:`~xlsales.io.aside.Aside`) while this process goes on; with ``later``, the caller's
    stack waits for it when the caller's run ends, else it is waited for here.
    """
    period = setup.period
    as_of = as_of or period
    week = monday(as_of)
    paths, issues = discover(inbox)
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    guard = IdentityCheck(key, unsigned_policy(setup.setting("unsigned_workbooks", "")))
    ctx = context(setup)
    reads = None if cache is None else ReadCache(cache, fingerprint(ctx, choice_lists()), key)
    with SandboxPool(workers_for(len(paths), workers)) as pool:
        how = Reading(setup, ctx, pool, reads, roster, week, guard)
        files = _read_all(paths, inbox, how, issues, progress)
    if reads is not None:
        if how.fresh:
            storing = Aside(functools.partial(reads.put_all, how.fresh), instead=_not_stored)
            if later is not None:
                later.callback(storing.join)
            else:
                storing.join()
        reads.prune()
    return combine(files, setup, as_of, issues)


@dataclass
class Reading:
    """What reading each file of one inbox shares: the setup and its coercion context, the readers, the cache,
    and what identifying a file needs (roster, week, signature check)."""

    setup: Setup
    ctx: Context
    pool: SandboxPool
    cache: ReadCache | None
    roster: dict[str, dict]
    week: dt.date
    guard: IdentityCheck | None = None
    fresh: list[tuple[str, str, CachedRead]] = field(default_factory=list)  # parsed now: to store in the cache


def _not_stored() -> None:
    """A cache the forked child could not write: only time is lost, next run."""


def _read_all(paths: list[Path], inbox: Path, how: Reading, issues: list[Issue],
              progress: Callable[[int, int, str], None] | None) -> list[FileResult]:
    """Read each file (never modifying it), as many parsed at once as ``how.pool`` has readers (and as many more
    checked meanwhile); whatever goes wrong with one file is that file's one issue.  Files are handed out and their
    results taken in the order of ``paths``, and ``progress(n, total, name)`` is called in this thread just before
    file ``n`` is handed out."""
    files: list[FileResult] = []
    ahead: deque[Future[tuple[FileResult, list[Issue]]]] = deque()

    def take_oldest() -> None:
        fr, file_issues = ahead.popleft().result()
        files.append(fr)
        issues.extend(file_issues)

    # two threads per reader: while one checks the file its reader has just parsed, the other's file is parsed
    with ThreadPoolExecutor(2 * how.pool.size) as threads:
        for n, p in enumerate(paths):
            if len(ahead) >= 2 * how.pool.size:  # each reader has the next file waiting, no more
                take_oldest()
            rel = str(p.relative_to(inbox))
            if progress:
                progress(n, len(paths), rel)
            ahead.append(threads.submit(_read_one, p, rel, how))
        while ahead:
            take_oldest()
    if progress:
        progress(len(paths), len(paths), "")
    return files


def _read_one(p: Path, rel: str, how: Reading) -> tuple[FileResult, list[Issue]]:
    """One file: its bytes read and hashed, its read from the cache or parsed and validated, its identity."""
    fr = FileResult(p, rel)
    try:  # the per-file guard: read bytes, hash, check, parse, coerce
        loaded, data = safety.take(p, rel)
        fr.sha256, fr.modified = loaded.sha256, loaded.modified
        if loaded.issue is not None:
            raise BookError(loaded.issue)
        got = how.cache.get(loaded.sha256, rel) if how.cache is not None else None
        fr.cached = got is not None
        if got is None:
            got = _parse(p, rel, loaded, data, how)
            if how.cache is not None:
                how.fresh.append((loaded.sha256, rel, got))
        fr.read, fr.saved, fr.signed = got.read, got.saved, got.signed
        fr.rows_read = fr.read.rows_read
        fr.rows_rejected = fr.read.rows_rejected
        return fr, [*fr.read.issues, *identify(fr, how.roster, how.week, how.guard)]
    except BookError as e:
        fr.status, fr.read, fr.rows_read, fr.rows_rejected = "rejected", None, 0, 0
        return fr, [e.issue]
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - one file's surprise must not end the run for every other file
        fr.status, fr.read, fr.rows_read, fr.rows_rejected = "rejected", None, 0, 0
        return fr, [make("file_read_failed", rel, value=f"{type(e).__name__}: {str(e)[:160]}")]


def _parse(p: Path, rel: str, loaded: safety.Loaded, data: bytes, how: Reading) -> CachedRead:
    """Check and parse the bytes in a borrowed sandbox, then read the rep tables; :class:`BookError` if refused."""
    with how.pool.borrow() as sandbox:
        safety.parse_taken(loaded, data, sandbox)
    if loaded.issue is not None or loaded.book is None:
        raise BookError(loaded.issue or make("file_corrupt", rel))
    saved = loaded.book.props.get("modified")
    read = read_rep(p, how.setup, rel, book=from_workbook(loaded.book, p, rel), ctx=how.ctx)
    return CachedRead(read, saved if isinstance(saved, dt.datetime) else None, signature_of(loaded.book))
