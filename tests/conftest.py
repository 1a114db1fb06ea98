"""Shared fixtures: the default setup, built workbooks, the corpus and LibreOffice."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from xlsales.core.setup import Setup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def setup() -> Setup:
    return Setup.default()


@pytest.fixture(scope="session")
def session_setup() -> Setup:
    return Setup.default()


def lo_required() -> bool:
    """XLSALES_REQUIRE_LO set (and not 0): LibreOffice tests must run, never skip (scripts/test.sh sets it)."""
    return os.environ.get("XLSALES_REQUIRE_LO", "") not in ("", "0")


def needs_soffice() -> None:
    """Skip when LibreOffice is absent — unless XLSALES_REQUIRE_LO is set, then fail."""
    from xlsales.io.libreoffice import soffice

    if soffice() is not None:
        return
    if lo_required():
        pytest.fail("LibreOffice (soffice) is required (XLSALES_REQUIRE_LO is set) but not installed")
    pytest.skip("LibreOffice (soffice) not installed")


@pytest.fixture
def soffice_required() -> None:
    needs_soffice()


# --- the real-workbook corpus -----------------------------------------------------------------

CORPUS_ENV = "XLSALES_CORPUS"  # a folder of real workbooks; default: shared/corpus/real-xlsx beside the repository
CORPUS_PARTS = ("shared", "corpus", "real-xlsx")


def find_corpus() -> Path | None:
    """``$XLSALES_CORPUS``, else the first ``shared/corpus/real-xlsx`` found walking up from the repository.

    A worktree (/work/wt-x), the main checkout (/work/main) and CI's fresh clone (a folder with shared/
    beside it) all find it, however deep the checkout sits.
    """
    env = os.environ.get(CORPUS_ENV, "")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for parent in (ROOT, *ROOT.parents):
        candidate = parent.joinpath(*CORPUS_PARTS)
        if candidate.is_dir():
            return candidate
    return None


def corpus_required() -> bool:
    """XLSALES_REQUIRE_CORPUS set (and not 0): corpus tests must run, never skip (scripts/test.sh sets it)."""
    return os.environ.get("XLSALES_REQUIRE_CORPUS", "") not in ("", "0")


def corpus_files() -> list[Path]:
    """Every file of the corpus but its notes (collection time; empty when there is no corpus)."""
    found = find_corpus()
    return sorted(p for p in found.iterdir() if p.is_file() and p.suffix.lower() != ".md") if found else []


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The corpus folder.  Missing: a failure when required, else a skip that says where it looked."""
    found = find_corpus()
    if found is None:
        env = os.environ.get(CORPUS_ENV, "")
        where = f"{CORPUS_ENV}={env} is not a folder" if env else \
            f"no {'/'.join(CORPUS_PARTS)} in {ROOT} or any folder above it; set {CORPUS_ENV}"
        if corpus_required():
            pytest.fail(f"the real-workbook corpus is required (XLSALES_REQUIRE_CORPUS is set): {where}")
        pytest.skip(f"real-workbook corpus absent: {where}")
    return found


# --- PostgreSQL for the ledger ------------------------------------------------------------------

def pg_required() -> bool:
    """XLSALES_REQUIRE_PG set (and not 0): PostgreSQL tests must run, never skip (scripts/test.sh sets it)."""
    return os.environ.get("XLSALES_REQUIRE_PG", "") not in ("", "0")


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on loopback for this session (see tests/pgserver.py)."""
    from .pgserver import Server, pg_bin

    bindir = pg_bin()
    if bindir is None:
        if pg_required():
            pytest.fail("PostgreSQL (initdb, pg_ctl) is required (XLSALES_REQUIRE_PG is set) but not installed")
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not installed")
    server = Server(bindir)
    try:
        server.start()
    except Exception as e:  # noqa: BLE001
        server.stop()
        if pg_required():
            pytest.fail(f"PostgreSQL could not start: {e}")
        pytest.skip(f"PostgreSQL could not start: {e}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    """A new, empty ledger: a SQLite file, and a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("pg_server").database()


# --- a small demo folder, built once ---------------------------------------------------------

DEMO_PERIOD = "2026-11-23"


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """A 4-rep demo folder of the week of 2026-11-23 (with its history and report); copy it, never change it."""
    from xlsales.cli import main

    d = tmp_path_factory.mktemp("demo") / "d"
    assert main(["demo", str(d), "--reps", "4", "--period", DEMO_PERIOD]) == 0
    assert (d / "reports" / f"consolidated-{DEMO_PERIOD}.xlsx").is_file()
    return d


@pytest.fixture
def demo(demo_master, tmp_path) -> Path:
    """A fresh copy of :func:`demo_master` (manager workbook, templates, inbox of 3 reps, reports)."""
    d = tmp_path / "d"
    shutil.copytree(demo_master, d, symlinks=True)
    return d


def forked_children() -> list[int]:
    """Children of this process that are forked copies of it (the same command line) or already dead (zombies)."""
    me = Path("/proc/self/cmdline").read_bytes()
    lists = [t / "children" for t in Path("/proc/self/task").iterdir()]
    if not all(f.exists() for f in lists):
        pytest.skip("this kernel does not list a process's children in /proc")
    kids = [int(p) for f in lists for p in f.read_text().split()]
    left = []
    for pid in kids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z" or Path(f"/proc/{pid}/cmdline").read_bytes() == me:
                left.append(pid)
        except OSError:
            continue
    return left
