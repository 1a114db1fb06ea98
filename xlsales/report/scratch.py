"""Private temporary folders, and what killed processes left behind.

A consolidation copies each rep's workbook into a folder of its own for the reader and assembles its
outputs' parts in another; both are removed when the work is done.  A process that is killed (Ctrl-C,
a reader over its time limit, a closed Excel) cannot remove them, and a rep's figures would stay in the
system's temporary folder.  So each such folder is named after its process
(``xlsales-<kind>-<pid>-…``), and the next process to make one of that kind removes those whose
process is gone (:func:`sweep`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

STALE_SECONDS = 3600  # where a process cannot be asked whether it runs: older than this is left behind
_swept: set[str] = set()


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this computer runs (POSIX: signal 0 tests without signalling)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def left_behind(pid: int, mtime: float, *, here: bool = True, posix: bool = os.name != "nt") -> bool:
    """Whether a temporary file or folder that process ``pid`` made, last changed at ``mtime``, was left behind.

    ``here``: made on this computer.  Then, on POSIX, its process is gone.  Elsewhere — another computer's
    (a shared folder), or on Windows, where ``os.kill`` would end or interrupt the process instead of asking —
    it is older than :data:`STALE_SECONDS`.
    """
    if here and posix:
        return not alive(pid)
    return time.time() - mtime > STALE_SECONDS


def folder(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A new private temporary folder for ``kind`` (``read``, ``parts``), named after this process; those of
    ``kind`` that gone processes left are removed first (once per process)."""
    if kind not in _swept:
        _swept.add(kind)
        sweep(kind)
    return tempfile.TemporaryDirectory(prefix=f"xlsales-{kind}-{os.getpid()}-")


def sweep(kind: str, where: Path | None = None) -> list[Path]:
    """Remove the ``kind`` folders in ``where`` (default: the system's temporary folder) that this user's
    processes left behind (:func:`left_behind`); returns them.  Another user's folders are never touched."""
    pattern = re.compile(rf"^xlsales-{re.escape(kind)}-(?P<pid>\d+)-")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(where or tempfile.gettempdir()))
    except OSError:
        return removed
    me = os.getuid() if hasattr(os, "getuid") else None
    for e in entries:
        m = pattern.match(e.name)
        if not m:
            continue
        try:
            st = e.stat(follow_symlinks=False)
            if not e.is_dir(follow_symlinks=False) or (me is not None and st.st_uid != me):
                continue
            if left_behind(int(m["pid"]), st.st_mtime):
                shutil.rmtree(e.path, ignore_errors=True)
                removed.append(Path(e.path))
        except (OSError, ValueError):
            continue
    return removed
