"""Work done beside the main job, on another core: a forked child where that is safe, else in line.

A consolidation loads its targets while the inbox is read, writes the reps' returned workbooks while it builds
and writes the report, and records the ledger's snapshot while it writes the report; each job shares nothing
with the main one but what both read.  :class:`Aside` starts a job in a forked child (Linux with more than one
core: forking is cheap there and the child starts with everything the parent has read); :meth:`Aside.result`
collects what it returned.  Elsewhere (Windows, where Excel's buttons run; macOS, where forking a process
that may hold system frameworks is unsafe), or on one core, the job simply runs when its result is asked for.

A job that fails or dies in the child is run again in line by :meth:`Aside.result`, so its error is raised
where the caller reports it — the job must be safe to repeat (the returned workbooks are written atomically;
the ledger records the same inputs once, and says so when asked again).

:func:`in_halves` shares a list of such jobs (the reps' workbooks that ``roll``, ``init`` and the demo write)
between this process and one child.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
H = TypeVar("H")

_FAILED = ("failed", None)


def can_fork() -> bool:
    """Whether :class:`Aside` runs its job in a forked child here."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    return len(os.sched_getaffinity(0)) > 1


class Aside(Generic[T]):
    """``job()`` started now in a forked child (see the module doc); :meth:`result` gives what it returned.

    ``instead``: the job is not kept to be run again.  Once a child has it, this process lets go of it (and of
    what it holds, so its memory can be reused), and a child that fails gives ``instead()``; where no child
    can run, the job runs at once, here.
    """

    def __init__(self, job: Callable[[], T], instead: Callable[[], T] | None = None) -> None:
        self._job: Callable[[], T] | None = job
        self._instead = instead
        self._pid: int | None = None
        self._fd = -1
        self._answer: tuple[str, object] | None = None
        if not can_fork() or not self._fork(job):
            if instead is not None:
                self._answer, self._job = ("ok", job()), None
            return
        if instead is not None:
            self._job = None

    def _fork(self, job: Callable[[], T]) -> bool:
        """Start ``job`` in a child; False when no child could be made."""
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(Exception):
                stream.flush()
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no memory or process slot for a child: in line, then
            os.close(r)
            os.close(w)
            return False
        if pid == 0:
            os.close(r)
            _child(job, w)  # never returns
        os.close(w)
        self._pid, self._fd = pid, r
        return True

    def join(self) -> None:
        """Wait for the child (if any) and keep its answer; raises nothing."""
        if self._pid is None:
            return
        data = b""
        with contextlib.suppress(OSError), os.fdopen(self._fd, "rb") as f:
            data = f.read()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self._pid, 0)
        self._pid = None
        try:
            got = pickle.loads(data)
        except Exception:  # noqa: BLE001 - the child died before answering
            got = _FAILED
        self._answer = got if isinstance(got, tuple) and len(got) == 2 else _FAILED

    def result(self) -> T:
        """What the job returned: the child's answer, or the job run here (in line, or after it failed there).

        Asked again, the same answer: a job that succeeded runs once."""
        self.join()
        if self._answer is None or self._answer[0] != "ok":
            redo = self._job if self._job is not None else self._instead
            assert redo is not None
            self._answer = ("ok", redo())
        return self._answer[1]  # type: ignore[return-value]


def in_halves(jobs: Sequence[Callable[[], T]], at_least: int = 8) -> list[T]:
    """What each of ``jobs`` returned, in order; every other job run in one forked child (:class:`Aside`) while
    this process runs the rest, when there are ``at_least`` jobs (fewer: the child's start would cost more than it
    saves).  Jobs must be independent and safe to repeat, their results small and picklable (the paths of the
    workbooks they wrote)."""
    return in_halves_with(contextlib.nullcontext, [functools.partial(_ignoring, job) for job in jobs], at_least)


def _ignoring(job: Callable[[], T], _: object) -> T:
    return job()


def in_halves_with(helper: Callable[[], contextlib.AbstractContextManager[H]], jobs: Sequence[Callable[[H], T]],
                   at_least: int = 8) -> list[T]:
    """:func:`in_halves` for jobs that each take a helper (a sandboxed reader) that each half opens for itself
    with ``helper()``: a child shares no helper with its parent."""
    def run(half: Sequence[Callable[[H], T]]) -> list[T]:
        with helper() as h:
            return [job(h) for job in half]

    if len(jobs) < at_least or not can_fork():
        return run(jobs)
    theirs = Aside(lambda: run(jobs[1::2]))
    try:
        mine = run(jobs[0::2])
    except BaseException:
        theirs.join()  # no child left behind when this half fails
        raise
    other = theirs.result()
    return [mine[i // 2] if i % 2 == 0 else other[i // 2] for i in range(len(jobs))]


def _child(job: Callable[[], object], fd: int) -> None:
    """In the forked child: run ``job``, send ("ok", its result) or ``_FAILED``, and leave without cleanup
    (the parent's open files, connections and handlers are the parent's)."""
    try:
        try:
            payload = pickle.dumps(("ok", job()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - reported by the parent, which runs the job again
            payload = pickle.dumps(_FAILED)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
    finally:
        os._exit(0)
