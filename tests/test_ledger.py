"""The ledger: migrations, idempotency, resubmissions, two processes at once, a process killed mid-snapshot, and a
ledger that cannot be used — each against SQLite and a real PostgreSQL server (``ledger_url`` in conftest)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from xlsales import synth
from xlsales.cli import do_init, main
from xlsales.io import ledger as lg
from xlsales.run import consolidate_folder

from .conftest import forked_children

ROOT = Path(__file__).resolve().parents[1]
PERIOD = dt.date(2026, 11, 23)


def _make(folder: Path, seed: int) -> Path:
    setup = synth.demo_setup(3, PERIOD)
    out = do_init(folder, "zh", None, False, PERIOD, setup)
    synth.write_fills(setup, synth.generate(setup, seed=seed, mistakes=False), out["inbox"], "zh", submitted=True)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("ledger-folders")
    return _make(base / "a", 1), _make(base / "b", 2)


@pytest.fixture
def folder_a(folders, tmp_path):
    return Path(shutil.copytree(folders[0], tmp_path / "a"))


@pytest.fixture
def folder_b(folders, tmp_path):
    return Path(shutil.copytree(folders[1], tmp_path / "b"))


def _count(url: str, table: str, where: str = "") -> int:
    engine = sa.create_engine(lg._driver_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.text(f"SELECT COUNT(*) FROM {table} {where}")).scalar())  # noqa: S608
    finally:
        engine.dispose()


def _sql(url: str, *statements: str) -> None:
    engine = sa.create_engine(lg._driver_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as c:
            for s in statements:
                c.execute(sa.text(s))
    finally:
        engine.dispose()


# --- migrations ------------------------------------------------------------------------------------------------

def test_a_new_ledger_is_created_at_the_current_schema(ledger_url):
    with lg.open_ledger(ledger_url) as book:
        names = set(sa.inspect(book.engine).get_table_names())
        with book.engine.connect() as c:
            version = c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == lg.head_revision() == lg.HEAD_REVISION == "0002"
    assert {"snapshots", "submissions", "rows", "issues", "figures", "adjustments", "targets",
            "snapshot_regions"} <= names


def test_a_schema_1_ledger_is_migrated_and_keeps_its_snapshots(ledger_url):
    lg.migrate_to(ledger_url, "0001")
    _sql(ledger_url,
         "INSERT INTO snapshots (id, created, as_of, period, content_hash) VALUES "
         "(1, '2026-11-16 09:00:00', '2026-11-16', '2026-11-16', 'h1')",
         "INSERT INTO submissions (snapshot_id, file, rep_id, region, status) VALUES (1, 'R001.xlsx', 'R001', '华东', "
         "'accepted'), (1, 'R007.xlsx', 'R007', '华北', 'accepted'), (1, 'R002.xlsx', 'R002', '华东', 'accepted')",
         "INSERT INTO figures (snapshot_id, review, level, key, region, name, value) VALUES "
         "(1, 'weekly', 'rep', 'R001', '华东', 'commit_adj', 1000.0)")
    assert "scope" not in {c["name"] for c in sa.inspect(sa.create_engine(lg._driver_url(ledger_url))).get_columns(
        "snapshots")}
    with lg.open_ledger(ledger_url) as book:
        snaps = book.snapshots()
        prev = book.previous(snaps[0])
    assert [(s["id"], s["scope"], s["regions"]) for s in snaps] == [(1, "folder", ["华东", "华北"])]
    assert prev.frame.to_dict("records")[0]["commit_adj"] == 1000.0


def test_a_ledger_of_a_newer_xlsales_is_refused_but_the_report_is_written(ledger_url, folder_a):
    lg.open_ledger(ledger_url).close()
    _sql(ledger_url, "UPDATE alembic_version SET version_num = '0099'")
    s = consolidate_folder(folder_a, ledger=ledger_url).summary()
    assert Path(s["report"]).is_file() and s["recorded"] is False
    assert s["ledger"]["reason"] == "newer" and "0099" in s["ledger"]["zh"] and "Upgrade xlsales" in s["ledger"]["en"]
    assert _count(ledger_url, "snapshots") == 0


# --- idempotency and resubmissions ---------------------------------------------------------------------------------

def test_the_same_inbox_adds_no_snapshot_and_a_resubmission_supersedes(ledger_url, folder_a, capsys):
    first = consolidate_folder(folder_a, ledger=ledger_url).summary()
    assert first["recorded"] and first["ledger"]["new"] and first["ledger"]["snapshot"] == 1
    assert main(["consolidate", str(folder_a), "--ledger", ledger_url, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["recorded"] is True and again["ledger"]["new"] is False and again["ledger"]["snapshot"] == 1
    assert again["ledger"]["reason"] == "unchanged" and "#1" in again["ledger"]["zh"]
    assert _count(ledger_url, "snapshots") == 1
    rows_before = _count(ledger_url, "rows", "WHERE snapshot_id = 1")
    assert rows_before == first["rows"]["read"] - first["rows"]["superseded"] - first["rows"]["rejected"] + \
        _count(ledger_url, "rows", "WHERE snapshot_id = 1 AND NOT ok")
    # R001 sends a corrected workbook: a new snapshot for the same week supersedes the first one
    setup = synth.demo_setup(3, PERIOD)
    fill = synth.generate(setup, seed=1, mistakes=False)[0]
    fill.data["opportunities"] = fill.data["opportunities"][:-1]
    (path,) = synth.write_fills(setup, [fill], folder_a / "inbox", "zh")
    at = dt.datetime.combine(PERIOD - dt.timedelta(days=1), dt.time(21, 0)).timestamp()
    os.utime(path, (at, at))
    resubmitted = consolidate_folder(folder_a, ledger=ledger_url).summary()
    assert resubmitted["ledger"]["snapshot"] == 2 and resubmitted["ledger"]["supersedes"] == 1
    with lg.open_ledger(ledger_url) as book:
        snaps = book.snapshots()
        assert [(s["id"], s["superseded_by"]) for s in snaps] == [(1, 2), (2, None)]
        assert list(book.current()) == [PERIOD] and book.current()[PERIOD]["id"] == 2
        old = book.rows(1, "opportunities")
        new = book.rows(2, "opportunities")
    assert _count(ledger_url, "rows", "WHERE snapshot_id = 1") == rows_before  # the old snapshot is unchanged
    assert len(old) - len(new) == 1 and isinstance(old["close_date"].iloc[0], dt.date)


def test_a_reader_of_a_few_columns_or_figures_gets_those_as_a_reader_of_all_would(ledger_url, folder_a):
    """History reads only the deals' columns and the reps' figures it uses: the same values, nothing else."""
    consolidate_folder(folder_a, ledger=ledger_url)
    with lg.open_ledger(ledger_url) as book:
        every, few = book.rows(1, "opportunities"), book.rows(1, "opportunities", ["opp_id", "amount", "nope"])
        figs = book.figures(1)
        mine = book.figures(1, level="rep", review="weekly", names=["commit_adj", "month_forecast"])
    assert list(few.columns) == ["opp_id", "amount", "_ok", "_file", "_sheet", "_row", "_snapshot"]
    assert len(every) > 10 and few.to_dict("records") == every[list(few.columns)].to_dict("records")
    assert set(figs["level"]) >= {"rep", "team", "company"} and set(figs["review"]) >= {"weekly", "monthly"}
    want = figs[(figs["level"] == "rep") & (figs["review"] == "weekly")
                & figs["name"].isin(["commit_adj", "month_forecast"])]
    assert len(mine) == len(want) == 2 * 3  # two figures of each of the three reps
    assert mine.to_dict("records") == want.to_dict("records")


def test_cell_values_are_encoded_for_the_ledger_as_json_keeps_them():
    """A snapshot's rows are JSON: dates and times tagged, NaN and NaT as null, numpy scalars as Python's, anything
    else as its text — each column encoded in one pass (encode_all) exactly as one value at a time (encode)."""
    import math

    import numpy as np
    import pandas as pd

    values = ["客户", "", 0, -3, 2.5, -0.0, float("nan"), float("inf"), None, True, False, np.int64(7), np.float64(1.5),
              np.float64("nan"), dt.date(2026, 11, 23), dt.datetime(2026, 11, 23, 9, 30), pd.NaT, dt.time(9, 30)]
    expected = ["客户", "", 0, -3, 2.5, -0.0, None, math.inf, None, True, False, 7, 1.5, None, {"$d": "2026-11-23"},
                {"$t": "2026-11-23T09:30:00"}, None, "09:30:00"]
    for got in (lg.encode_all(values), [lg.encode(v) for v in values]):
        assert got == expected
        assert [type(v) for v in got] == [type(v) for v in expected]
        assert math.copysign(1, got[5]) == -1  # -0.0 kept as it is


# --- the snapshot is recorded while the report is built and written -----------------------------------------------

def test_the_report_says_which_snapshot_it_became(ledger_url, folder_a):
    """The snapshot is recorded on another core while the report is built and written, from the moment its figures
    are known; the ledger's status is the report's last cell, on the summary sheet, and names the snapshot the
    ledger gave it."""
    s = consolidate_folder(folder_a, ledger=ledger_url).summary()
    assert s["ledger"]["new"] and s["ledger"]["snapshot"] == 1
    a3 = openpyxl.load_workbook(s["report"], read_only=True)["汇总"]["A3"].value
    assert a3.startswith("台账 Ledger · 已记入台账") and "快照 #1" in a3 and "snapshot #1." in a3
    with lg.open_ledger(ledger_url) as book:
        (snap,) = book.snapshots()
    assert snap["report"] == str(s["report"]) and snap["rows_accepted"] == s["rows"]["accepted"]


@pytest.mark.parametrize("cores", ["all", "one"])
def test_a_report_that_cannot_be_written_is_still_recorded(ledger_url, folder_a, cores, monkeypatch):
    """As when the snapshot was recorded before the report was written: the ledger holds this week's inputs even
    when the report's path is held (here by a folder), so the run after it says they are unchanged.  On one core
    (and on Windows) the snapshot is recorded in this process, as soon as the report's figures are known."""
    from xlsales.run import RunError

    if cores == "one":
        if not hasattr(os, "sched_getaffinity"):
            pytest.skip("no CPU affinity here")
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    report = folder_a / "reports" / "consolidated-2026-11-23.xlsx"
    report.mkdir(parents=True)
    with pytest.raises(RunError) as e:
        consolidate_folder(folder_a, ledger=ledger_url)
    assert e.value.code == 3
    assert _count(ledger_url, "snapshots") == 1
    report.rmdir()
    again = consolidate_folder(folder_a, ledger=ledger_url).summary()
    assert again["ledger"]["reason"] == "unchanged" and again["ledger"]["snapshot"] == 1


@pytest.mark.parametrize("cores", ["all", "one"])
def test_a_report_that_fails_once_its_figures_are_known_is_recorded_and_no_child_is_left(ledger_url, folder_a, cores,
                                                                                       monkeypatch):
    """The snapshot's recording starts while the rest of the report is built: when that fails (here a sheet after
    the reviews), the error is the caller's, the recording is waited for — no child is left, alive or a zombie —
    and the snapshot holds the inputs, so the next run says they are unchanged and writes the report."""
    import xlsales.report.consolidated as consolidated

    if cores == "one":
        if not hasattr(os, "sched_getaffinity"):
            pytest.skip("no CPU affinity here")
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})

    def broken(*args: object) -> None:
        raise RuntimeError("the variance sheets failed")

    monkeypatch.setattr(consolidated, "add_variance_sheets", broken)
    before = forked_children()
    with pytest.raises(RuntimeError, match="the variance sheets failed"):
        consolidate_folder(folder_a, ledger=ledger_url)
    assert set(forked_children()) <= set(before)
    assert _count(ledger_url, "snapshots") == 1
    monkeypatch.undo()
    again = consolidate_folder(folder_a, ledger=ledger_url).summary()
    assert again["ledger"]["reason"] == "unchanged" and again["ledger"]["snapshot"] == 1
    assert Path(again["report"]).is_file()


# --- two processes at once, and a process killed half-way -------------------------------------------------------

def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xlsales.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)


def test_two_consolidations_at_once_never_interleave(ledger_url, folder_a, folder_b):
    procs = [_cli("consolidate", str(f), "--ledger", ledger_url, "--json", "--out", str(f / f"r{i}.xlsx"))
             for i, f in enumerate((folder_a, folder_b, folder_a))]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    assert all(o["recorded"] for o in outs)
    assert sorted(o["ledger"]["new"] for o in outs) == [False, True, True]  # folder a twice: one snapshot
    assert outs[0]["ledger"]["snapshot"] == outs[2]["ledger"]["snapshot"] != outs[1]["ledger"]["snapshot"]
    with lg.open_ledger(ledger_url) as book:
        assert len(book.snapshots()) == 2
        for o in outs[:2]:
            sid = o["ledger"]["snapshot"]
            subs = book.table(lg.SUBMISSIONS, sid)
            rows = book.table(lg.ROWS, sid)
            assert set(rows["file"]) <= set(subs["file"])  # every row belongs to a file of its own snapshot
            assert int(rows["ok"].astype(bool).sum()) == o["rows"]["accepted"]


KILLED = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from xlsales.io.ledger import Snapshot, open_ledger
    url, marker = sys.argv[1], Path(sys.argv[2])
    meta = {"company": "x", "lang": "zh", "version": "t", "report": "", "files": 1, "rows_read": 3000,
            "rows_accepted": 3000, "errors": 0, "warnings": 0}
    rows = [{"tbl": "visits", "rep_id": "R001", "file": "R001.xlsx", "sheet": "s", "row": i, "ok": True,
             "data": "{}"} for i in range(3000)]
    snap = Snapshot(dt.date(2026, 11, 30), dt.date(2026, 11, 30), "k" * 64, meta, ["华东"], rows=rows)
    def step(table):
        if table == "rows":
            marker.write_text("inside the transaction")
            time.sleep(300)
    open_ledger(url).record(snap, step)
""")


def test_a_process_killed_mid_snapshot_leaves_the_ledger_as_it_was(ledger_url, folder_a, tmp_path):
    consolidate_folder(folder_a, ledger=ledger_url)
    marker = tmp_path / "inside"
    child = subprocess.Popen([sys.executable, "-c", KILLED, ledger_url, str(marker)], cwd=ROOT,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    if ledger_url.startswith("sqlite:///"):
        path = ledger_url[len("sqlite:///"):]
        assert Path(path + "-journal").exists()  # the half-written transaction's hot journal
    with lg.open_ledger(ledger_url, timeout=60) as book:  # rolled back on open
        assert [s["id"] for s in book.snapshots()] == [1]
    assert _count(ledger_url, "rows", "WHERE tbl = 'visits' AND file = 'R001.xlsx' AND sheet = 's'") == 0
    if ledger_url.startswith("sqlite:///"):
        assert sqlite3.connect(ledger_url[len("sqlite:///"):]).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # and the ledger takes the next consolidation
    (folder_a / "inbox" / "R003.xlsx").unlink()
    after = consolidate_folder(folder_a, ledger=ledger_url).summary()["ledger"]
    assert after["new"] and after["supersedes"] == 1  # (PostgreSQL's id sequence skips the killed one's id)
    assert _count(ledger_url, "snapshots") == 2


# --- a ledger that cannot be used never stops the report ----------------------------------------------------------

def _not_recorded(s: dict, reason: str) -> str:
    assert Path(s["report"]).is_file() and s["recorded"] is False
    assert s["ledger"]["recorded"] is False and s["ledger"]["reason"] == reason, s["ledger"]
    assert "报告已照常写出" in s["ledger"]["zh"] and "The report was written" in s["ledger"]["en"]
    a3 = openpyxl.load_workbook(s["report"], read_only=True)["汇总"]["A3"].value
    assert a3.startswith("未记入台账 NOT RECORDED")
    return s["ledger"]["zh"] + s["ledger"]["en"]


def test_a_corrupt_ledger_file(folder_a):
    (folder_a / "ledger.sqlite").write_bytes(b"this is not a database\n" * 100)
    text = _not_recorded(consolidate_folder(folder_a).summary(), "corrupt")
    assert str(folder_a / "ledger.sqlite") in text and "备份" in text and "backup" in text
    assert (folder_a / "ledger.sqlite").read_bytes().startswith(b"this is not")  # never overwritten


def test_a_locked_ledger(folder_a, monkeypatch):
    consolidate_folder(folder_a)
    monkeypatch.setattr(lg, "LOCK_TIMEOUT", 0.5)
    holder = sqlite3.connect(folder_a / "ledger.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (folder_a / "inbox" / "R002.xlsx").unlink()
        text = _not_recorded(consolidate_folder(folder_a).summary(), "locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "另一次汇总" in text and "another consolidation" in text


def test_an_unreachable_server_hides_the_password(folder_a, capsys):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://sales:s3cret@127.0.0.1:{port}/ledger"
    assert main(["consolidate", str(folder_a), "--ledger", url, "--json"]) == 0
    cap = capsys.readouterr()
    s = json.loads(cap.out)
    text = _not_recorded(s, "unreachable")
    assert f"postgresql://sales@127.0.0.1:{port}/ledger" in text and s["ledger"]["url"].endswith("/ledger")
    assert "s3cret" not in cap.out + cap.err


def test_no_ledger_when_the_setting_is_off(folder_a):
    s = consolidate_folder(folder_a, ledger="off").summary()
    assert s["recorded"] is False and s["ledger"]["reason"] == "disabled" and Path(s["report"]).is_file()
    assert not (folder_a / "ledger.sqlite").exists()


def test_a_ledger_at_the_current_schema_opens_without_alembic(tmp_path):
    """Every run after the first finds its ledger current with one query; Alembic is not even imported."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    lg.open_ledger(url).close()  # the first run creates it
    code = ("import sys; from xlsales.io import ledger as lg; lg.open_ledger(sys.argv[1]).close(); "
            "print('alembic' in sys.modules)")
    got = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True)
    assert got.stdout.strip() == "False"
