"""Work beside the main job (xlsales.io.aside): on another core where forking is safe, never lost otherwise."""

from __future__ import annotations

import gc
import os
import time
import weakref
from pathlib import Path

import pytest

from xlsales.io import aside
from xlsales.io.aside import Aside

forks = pytest.mark.skipif(not aside.can_fork(), reason="runs in line here (not Linux, or one core)")


@forks
def test_the_job_runs_in_a_child_and_its_result_comes_back() -> None:
    job = Aside(lambda: {"pid": os.getpid(), "paths": [Path("returns/R001.xlsx")]})
    got = job.result()
    assert got["pid"] != os.getpid()  # another process did the work
    assert got["paths"] == [Path("returns/R001.xlsx")]


@forks
def test_the_child_runs_while_the_parent_goes_on(tmp_path: Path) -> None:
    """The parent is not held up: it writes its own file while the child waits for it, then the child answers."""
    mark = tmp_path / "parent-was-here"

    def job() -> bool:
        for _ in range(500):
            if mark.exists():
                return True
            time.sleep(0.01)
        return False

    pending = Aside(job)
    mark.write_text("x")  # would never be seen by a job that ran in line before this line
    assert pending.result() is True


def test_a_job_that_fails_in_the_child_raises_its_error_here() -> None:
    """The child cannot hand back its exception: the job runs again in this process, where it raises."""
    calls: list[int] = []

    def job() -> int:
        calls.append(os.getpid())
        raise OSError(28, "No space left on device")

    pending = Aside(job)
    with pytest.raises(OSError, match="No space left"):
        pending.result()
    assert calls[-1] == os.getpid()  # the error came from the run in this process


def test_a_result_that_cannot_travel_is_made_again_here() -> None:
    pending = Aside(lambda: (lambda: os.getpid()))  # a function made in the job cannot be pickled back
    assert pending.result()() == os.getpid()


@forks
def test_a_child_that_dies_costs_nothing_but_time() -> None:
    parent = os.getpid()

    def job() -> str:
        if os.getpid() != parent:
            os._exit(9)  # killed, no answer
        return "done here"

    assert Aside(job).result() == "done here"


def test_on_one_core_the_job_runs_in_line(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity here")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not aside.can_fork()
    ran: list[int] = []
    pending = Aside(lambda: ran.append(os.getpid()) or "x")
    assert ran == []  # nothing runs until the result is asked for
    assert pending.result() == "x" and ran == [os.getpid()]


def test_join_without_a_child_and_twice_is_harmless() -> None:
    pending = Aside(lambda: 42)
    pending.join()
    pending.join()
    assert pending.result() == 42


@pytest.mark.parametrize("cores", ["many", "one"])
def test_asked_twice_the_job_has_run_once(cores: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The ledger's snapshot is asked for by the report's last cell and again once the report is written: a job
    run in line (one core, or after the child failed) must not run a second time."""
    if cores == "one":
        if not hasattr(os, "sched_getaffinity"):
            pytest.skip("no CPU affinity here")
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    parent = os.getpid()
    runs = tmp_path / "runs"

    def job() -> int:
        with runs.open("a") as f:
            f.write("x")
        if os.getpid() != parent:
            os._exit(9)  # the child dies: the job runs again here, once
        return len(runs.read_text())

    pending = Aside(job)
    first = pending.result()
    assert pending.result() == first
    assert runs.read_text() == ("xx" if aside.can_fork() else "x")


class _Held:
    """Something large a job holds (the ledger's snapshot holds the report's figures)."""


@pytest.mark.parametrize("cores", ["many", "one"])
def test_a_job_with_instead_is_let_go_of(cores: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``instead`` this process does not keep the job (nor what it holds) once a child has it — or, where no
    child can run, once it has run, at once."""
    if cores == "one":
        if not hasattr(os, "sched_getaffinity"):
            pytest.skip("no CPU affinity here")
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    held = _Held()
    gone = weakref.ref(held)
    ran: list[int] = []

    def job(h: _Held = held) -> int:
        ran.append(os.getpid())
        return os.getpid()

    pending = Aside(job, instead=lambda: -1)
    if not aside.can_fork():
        assert ran == [os.getpid()]  # at once, before the result is asked for
    del job, held
    gc.collect()
    assert gone() is None
    got = pending.result()
    assert got != -1 and (got == os.getpid()) is (not aside.can_fork())  # run here only where no child could


@forks
def test_a_child_that_dies_gives_instead_and_the_job_is_not_run_here() -> None:
    parent = os.getpid()
    ran: list[int] = []

    def job() -> str:
        ran.append(os.getpid())
        if os.getpid() != parent:
            os._exit(9)
        return "run here"

    assert Aside(job, instead=lambda: "lost").result() == "lost"
    assert ran == []  # the child's run is not this process's, and it never ran here


@forks
def test_in_halves_every_other_job_runs_in_a_child_and_the_results_keep_their_order() -> None:
    here = os.getpid()
    got = aside.in_halves([lambda i=i: (i, os.getpid()) for i in range(9)])
    assert [i for i, _ in got] == list(range(9))
    assert {pid for i, pid in got if i % 2 == 0} == {here}  # this process: jobs 0, 2, 4, 6, 8
    assert len({pid for i, pid in got if i % 2 == 1}) == 1 and here not in {pid for _, pid in got[1::2]}


def test_in_halves_runs_few_jobs_in_line() -> None:
    """Under ``at_least`` jobs no child starts: its start would cost more than it saves."""
    assert aside.in_halves([lambda: os.getpid()] * 7) == [os.getpid()] * 7


@forks
def test_in_halves_a_job_that_fails_in_the_child_is_done_here(tmp_path: Path) -> None:
    here = os.getpid()

    def job(i: int) -> int:
        if os.getpid() != here and i == 3:
            raise OSError(28, "No space left on device")
        (tmp_path / f"R{i:03d}.xlsx").write_text("x")
        return i

    assert aside.in_halves([lambda i=i: job(i) for i in range(10)]) == list(range(10))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"R{i:03d}.xlsx" for i in range(10)]


@forks
def test_in_halves_a_failure_here_is_raised_and_leaves_no_child(tmp_path: Path) -> None:
    here = os.getpid()

    def job(i: int) -> int:
        if os.getpid() != here:
            (tmp_path / "child").write_text(str(os.getpid()))
        elif i == 4:
            raise OSError(28, "No space left on device")
        return i

    with pytest.raises(OSError, match="No space"):
        aside.in_halves([lambda i=i: job(i) for i in range(10)])
    with pytest.raises(ChildProcessError):  # the child was waited for: it is gone, not a zombie
        os.waitpid(int((tmp_path / "child").read_text()), os.WNOHANG)


@forks
def test_in_halves_with_each_half_opens_its_own_helper() -> None:
    """The helper (a sandboxed reader) is never shared between the parent and its child."""
    import contextlib

    opened: list[int] = []

    @contextlib.contextmanager
    def helper():
        opened.append(os.getpid())
        yield os.getpid()

    got = aside.in_halves_with(helper, [lambda h: (h, os.getpid()) for _ in range(8)])
    assert all(h == pid for h, pid in got) and len({pid for _, pid in got}) == 2
    assert opened == [os.getpid()]  # the parent opened one; the child's own was opened in the child
