"""Reading in parallel and once (issue #17): the plain form of a read, the read cache, and a report that does not
depend on either — identical cells and summary with the cache on or off, cold or warm, and with 1 or 2 readers.

No timings here: bench/bench_consolidate.py measures them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from tests.conftest import forked_children
from tests.test_consolidate import baseline_inbox, deal, make_setup
from tests.test_safety import MB, amplified
from xlsales.cli import main
from xlsales.core.records import PlainError, read_from_plain, read_to_plain, rows_of, value_from_plain, value_to_plain
from xlsales.io import cache as rc
from xlsales.io import inbox as ib
from xlsales.io import safety
from xlsales.io.aside import can_fork
from xlsales.io.inbox import consolidate
from xlsales.io.intake import read_rep
from xlsales.run import consolidate_folder, load_folder_setup

PERIOD = "2026-11-30"


# --- the plain form of a read ------------------------------------------------------------------

@pytest.mark.parametrize("v", [None, True, False, 0, -3, 2.5, "", "甲客户", dt.date(2026, 11, 30),
                               dt.datetime(2026, 11, 30, 8, 15, 1, 5), dt.time(9, 30), dt.timedelta(days=3, seconds=5)])
def test_plain_values_round_trip_through_json(v: object) -> None:
    back = value_from_plain(json.loads(json.dumps(value_to_plain(v), allow_nan=False)))
    assert back == v and type(back) is type(v)


def test_non_finite_floats_are_tagged_and_other_objects_refused() -> None:
    back = [value_from_plain(json.loads(json.dumps(value_to_plain(x), allow_nan=False)))
            for x in (math.nan, math.inf, -math.inf)]
    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf]
    for bad in (object(), b"x", [1]):
        with pytest.raises(PlainError):
            value_to_plain(bad)
    for bad in ({"$d": "yesterday"}, {"$f": "1e999"}, {"$x": 1}, [1], {"$d": "2026-11-30", "$t": "09:00"}):
        with pytest.raises((PlainError, ValueError)):
            value_from_plain(bad)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", str(d), "--reps", "12", "--weeks", "0", "--period", PERIOD]) == 0
    return d


def test_every_demo_read_survives_its_plain_form(demo: Path) -> None:
    """Frames (values and dtypes), issues, counts, letters and identity come back exactly as read."""
    setup, _, _ = load_folder_setup(demo)
    for p in sorted((demo / "inbox").glob("*.xlsx")):
        read = read_rep(p, setup, p.name)
        back = read_from_plain(json.loads(json.dumps(read_to_plain(read), ensure_ascii=False, allow_nan=False)))
        assert (back.display, back.identity, back.identity_cells, back.period) == \
            (read.display, read.identity, read.identity_cells, read.period)
        assert list(back.tables) == list(read.tables)
        for key, t in read.tables.items():
            b = back.tables[key]
            assert (b.table, b.sheet, b.header_row, b.letters, b.issues, b.rows_read, b.rows_rejected, b.refused) == \
                (t.table, t.sheet, t.header_row, t.letters, t.issues, t.rows_read, t.rows_rejected, t.refused)
            assert t.frame is not None and b.frame is not None
            assert_frame_equal(b.frame, t.frame, check_exact=True)


# --- the cache ------------------------------------------------------------------------------------

def parsed(c: ib.Consolidation) -> list[str]:
    """The names of the files this consolidation parsed (not taken from the cache), in inbox order."""
    return [f.display for f in c.files if not f.cached]


def _same(a: ib.Consolidation, b: ib.Consolidation) -> None:
    assert a.summary() == b.summary()
    assert a.issues == b.issues
    assert [(f.display, f.status, f.rep_id, f.sha256, f.rows_read, f.rows_rejected) for f in a.files] == \
        [(f.display, f.status, f.rep_id, f.sha256, f.rows_read, f.rows_rejected) for f in b.files]
    for key, df in a.frames.items():
        assert_frame_equal(df, b.frames[key], check_exact=True)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def test_a_rerun_reads_only_new_or_changed_files_and_gives_the_same_result(tmp_path: Path) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    cache = tmp_path / "cache"
    plain = consolidate(inbox, setup)
    assert parsed(plain) == ["R001.xlsx", "R002.xlsx"]
    cold = consolidate(inbox, setup, cache=cache)
    assert parsed(cold) == ["R001.xlsx", "R002.xlsx"] and len(_entries(cache)) == 2
    warm = consolidate(inbox, setup, cache=cache)
    assert parsed(warm) == []  # nothing parsed again
    _same(plain, cold)
    _same(plain, warm)
    baseline_inbox(tmp_path, setup, [deal("R001-O5", 10_000.0)])  # R001 changes, R002 is written again unchanged
    changed = consolidate(inbox, setup, cache=cache)
    assert parsed(changed) == ["R001.xlsx"]
    _same(changed, consolidate(inbox, setup))


@pytest.mark.skipif(not can_fork(), reason="no forked child here: the cache is written in line")
def test_new_reads_are_cached_beside_the_run_and_all_there_when_it_ends(tmp_path: Path) -> None:
    """A forked child stores the reads new to the cache while the run goes on; the caller's stack waits for it:
    when the run ends every read is stored and no child is left."""
    import contextlib

    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    cache = tmp_path / "cache"
    before = forked_children()
    with contextlib.ExitStack() as later:
        cold = consolidate(inbox, setup, cache=cache, later=later)
    assert len(_entries(cache)) == 2
    assert set(forked_children()) <= set(before)  # no new forked copy of this process, alive or a zombie
    warm = consolidate(inbox, setup, cache=cache)
    assert parsed(warm) == []
    _same(cold, warm)


def test_a_setup_that_changes_how_cells_read_reads_every_file_again(tmp_path: Path) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    cache = tmp_path / "cache"
    consolidate(inbox, setup, cache=cache)
    setup.tables["thresholds"].loc[setup.tables["thresholds"]["key"] == "max_amount", "value"] = 1_000.0
    strict = consolidate(inbox, setup, cache=cache)
    assert parsed(strict) == ["R001.xlsx", "R002.xlsx"]
    _same(strict, consolidate(inbox, setup))
    assert any(i.rule == "absurd_amount" for i in strict.issues)


def test_a_file_renamed_is_read_again_under_its_new_name(tmp_path: Path) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    cache = tmp_path / "cache"
    consolidate(inbox, setup, cache=cache)
    (inbox / "R002.xlsx").rename(inbox / "R002-resent.xlsx")
    got = consolidate(inbox, setup, cache=cache)
    assert parsed(got) == ["R002-resent.xlsx"]
    _same(got, consolidate(inbox, setup))


KEY = b"k" * 32  # the folder's signing key: entries are sealed with an HMAC under it


@pytest.mark.parametrize("damage", ["value", "seal", "truncate", "garbage", "other file"])
def test_a_tampered_or_damaged_entry_is_ignored(tmp_path: Path, damage: str) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    cache = tmp_path / "cache"
    truth = consolidate(inbox, setup, key=KEY)
    consolidate(inbox, setup, cache=cache, key=KEY)
    entries = _entries(cache)
    target = next(p for p in entries if "R001.xlsx" in p.read_text(encoding="utf-8", errors="replace"))
    raw = target.read_bytes()
    body, _, seal = raw.rpartition(b"\n")
    assert b"250000.5" in body  # R001's commit deal
    if damage == "value":  # an amount changed, the seal left as it was
        target.write_bytes(body.replace(b"250000.5", b"950000.5") + b"\n" + seal)
    elif damage == "seal":  # an amount changed and a SHA-256 recomputed by someone without the folder's key
        body = body.replace(b"250000.5", b"950000.5")
        target.write_bytes(body + b"\n" + hashlib.sha256(body).hexdigest().encode())
    elif damage == "truncate":
        target.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        target.write_bytes(b"\x00\xff not json \n" + seal)
    else:  # R002's entry in R001's place
        shutil.copyfile(next(p for p in entries if p != target), target)
    again = consolidate(inbox, setup, cache=cache, key=KEY)
    assert parsed(again) == ["R001.xlsx"]
    _same(again, truth)
    third = consolidate(inbox, setup, cache=cache, key=KEY)
    _same(third, truth)  # the entry was written again, whole
    assert parsed(third) == []


def test_an_entry_sealed_with_the_folder_key_is_not_trusted_without_it(tmp_path: Path) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    cache = tmp_path / "cache"
    consolidate(inbox, setup, cache=cache, key=KEY)
    assert parsed(consolidate(inbox, setup, cache=cache, key=KEY)) == []
    assert parsed(consolidate(inbox, setup, cache=cache, key=b"q" * 32)) == ["R001.xlsx", "R002.xlsx"]


def test_a_cache_folder_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder should be")
    _same(consolidate(inbox, setup, cache=blocked), consolidate(inbox, setup))


# --- the report does not depend on the cache or the number of readers ----------------------------------

def cells(xlsx: Path) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """Every sheet's cells as {A1: (formula, cached value)} with shared strings resolved."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(xlsx) as z:
        strings = []
        if "xl/sharedStrings.xml" in z.namelist():
            strings = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
                       for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns)]
        rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        out = {}
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", ns) or []:
            target = rels[sheet.get(rel)].lstrip("/")
            xml = ET.fromstring(z.read(target if target.startswith("xl/") else f"xl/{target}"))
            got = {}
            for c in xml.iter(f"{{{ns['m']}}}c"):
                f, v = c.find("m:f", ns), c.find("m:v", ns)
                value = None if v is None else v.text
                if value is not None and c.get("t") == "s":
                    value = strings[int(value)]
                got[c.get("r")] = (None if f is None else f.text, value)
            out[sheet.get("name")] = got
    return out


def test_the_command_caches_reads_beside_the_reports_unless_told_not_to(demo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    shutil.copytree(demo, folder)
    shutil.rmtree(folder / rc.CACHE_DIR, ignore_errors=True)
    assert main(["consolidate", str(folder), "--no-cache", "--out", str(tmp_path / "a.xlsx")]) == 0
    assert not (folder / rc.CACHE_DIR).exists()
    assert main(["consolidate", str(folder), "--out", str(tmp_path / "b.xlsx")]) == 0
    assert len(_entries(folder / rc.CACHE_DIR)) == len(list((folder / "inbox").glob("*.xlsx")))


def test_the_command_says_how_long_each_step_took_and_which_reads_it_reused(
        demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The manager sees what a re-run saved: after one file changed, every other file's read came from the cache;
    the steps' seconds are within the run's (JSON ``run``, never in the summary, which is the same however the run
    went)."""
    folder = tmp_path / "folder"
    shutil.copytree(demo, folder)
    shutil.rmtree(folder / rc.CACHE_DIR, ignore_errors=True)
    files = sorted((folder / "inbox").glob("*.xlsx"))
    assert len(files) == 11

    def run_json() -> dict:
        assert main(["consolidate", str(folder), "--json", "--out", str(tmp_path / "r.xlsx")]) == 0
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    first = run_json()
    assert first["run"]["files_from_cache"] == 0
    files[0].write_bytes(files[0].read_bytes() + b"\0")  # the same workbook, other bytes: read again
    again = run_json()
    assert again["run"]["files_from_cache"] == 10
    assert "run" not in consolidate_folder(folder, out=tmp_path / "s.xlsx").summary()
    for s in (first, again):
        steps = s["run"]["steps"]
        assert set(steps) == {"read", "build", "write"}
        assert all(v > 0 for v in steps.values()) and sum(steps.values()) <= s["run"]["seconds"]
    assert main(["consolidate", str(folder), "--out", str(tmp_path / "r.xlsx")]) == 0
    said = capsys.readouterr().out
    assert "11 个文件与上次相同,沿用了上次的读取结果" in said and "11 files unchanged since a run before" in said
    assert re.search(r"用时 \d+\.\d 秒\(读取与校验 \d+\.\d 秒 · 生成报表 \d+\.\d 秒 · 写入 \d+\.\d 秒\)", said)

def test_the_report_is_the_same_with_the_cache_on_or_off_and_one_or_two_readers(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "folder"
    shutil.copytree(demo, folder)
    shutil.rmtree(folder / rc.CACHE_DIR, ignore_errors=True)  # the demo's own consolidation filled one
    ledger = (folder / "ledger.sqlite").read_bytes() if (folder / "ledger.sqlite").exists() else None
    runs = {}
    for name, workers, cache in (("plain", "1", False), ("cold, 2 readers", "2", True), ("warm, 1 reader", "1", True),
                                 ("warm, 2 readers", "2", True)):
        if ledger is not None:  # every run starts from the same ledger: its snapshots are on the report
            (folder / "ledger.sqlite").write_bytes(ledger)
        monkeypatch.setenv(ib.WORKERS_ENV, workers)
        res = consolidate_folder(folder, out=tmp_path / f"{name}.xlsx", cache=cache)
        assert (parsed(res.consolidation) == []) is name.startswith("warm"), name
        summary = res.summary()
        summary.pop("report")
        runs[name] = (cells(res.report), summary)
    assert len(_entries(folder / rc.CACHE_DIR)) == len(list((folder / "inbox").glob("*.xlsx")))
    first = runs.pop("plain")
    assert sum(len(s) for s in first[0].values()) > 1000
    for name, (sheets, summary) in runs.items():
        assert summary == first[1], name
        assert sheets.keys() == first[0].keys(), name
        for sheet, got in sheets.items():
            assert got == first[0][sheet], (name, sheet)


def test_files_read_at_once_are_still_reported_in_inbox_order(tmp_path: Path) -> None:
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    for n in range(3, 9):  # more files than readers, some refused
        (inbox / f"R00{n}.xlsx").write_bytes(b"not a workbook" if n % 2 else (inbox / "R002.xlsx").read_bytes())
    one, two = consolidate(inbox, setup, workers=1), consolidate(inbox, setup, workers=2)
    _same(one, two)
    assert [f.display for f in two.files] == sorted(f.display for f in two.files)


def test_a_hostile_file_read_beside_others_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A memory bomb kills its reader mid-batch while the other reader goes on: the bomb alone is refused, every
    other file is read, and one reader or two give the same consolidation."""
    setup = make_setup()
    inbox = baseline_inbox(tmp_path, setup)
    amplified(inbox, "R001-bomb.xlsx")
    (inbox / "R001-junk.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    shutil.copyfile(inbox / "R002.xlsx", inbox / "R002-again.xlsx")
    monkeypatch.setitem(safety.LIMITS, "parse_memory_bytes", 300 * MB)
    one, two = consolidate(inbox, setup, workers=1), consolidate(inbox, setup, workers=2)
    _same(one, two)
    status = {f.display: f.status for f in two.files}
    assert status["R001-bomb.xlsx"] == status["R001-junk.xlsx"] == "rejected"
    assert status["R001.xlsx"] == "accepted" and {status["R002.xlsx"], status["R002-again.xlsx"]} == \
        {"accepted", "superseded"}
    refused = {i.file: i.rule for i in two.issues if i.file in ("R001-bomb.xlsx", "R001-junk.xlsx")}
    assert refused["R001-bomb.xlsx"] == "file_bomb"


def test_the_workers_default_to_the_cores_when_the_files_pay_for_them_and_never_exceed_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ib.WORKERS_ENV, raising=False)
    assert ib.workers_for(1) == 1 and ib.workers_for(0) == 1
    assert ib.workers_for(2 * ib.FILES_PER_READER - 1) == 1  # too few files to pay for a second reader
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    assert ib.workers_for(1000) == cores and ib.workers_for(1000, 3) == 3 and ib.workers_for(5, 3) == 3
    monkeypatch.setenv(ib.WORKERS_ENV, "2")
    assert ib.workers_for(1000) == 2 and ib.workers_for(1) == 1
    monkeypatch.setenv(ib.WORKERS_ENV, "many")
    assert ib.workers_for(1000) >= 1


def test_a_frame_equality_helper_sees_a_difference() -> None:
    """The comparisons above can fail: a changed dtype is a difference."""
    a = pd.DataFrame({"x": [1, 2]})
    with pytest.raises(AssertionError):
        assert_frame_equal(a, a.astype(float), check_exact=True)


_CELLS = {
    "string": st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=4, max_size=4),
    "object": st.lists(st.one_of(st.none(), st.integers(-5, 5).map(np.int64), st.floats(allow_nan=True).map(np.float64),
                                 st.just(pd.NA), st.just(pd.NaT), st.dates(), st.text(max_size=3), st.booleans(),
                                 st.just(np.datetime64("2026-12-07"))), min_size=4, max_size=4),
    "plain object": st.lists(st.one_of(st.none(), st.text(max_size=3), st.floats(allow_nan=True), st.integers(-9, 9),
                                       st.just(pd.NaT), st.dates()), min_size=4, max_size=4),
    "float64": st.lists(st.floats(allow_nan=True), min_size=4, max_size=4),
    "int64": st.lists(st.integers(-2**40, 2**40), min_size=4, max_size=4),
    "bool": st.lists(st.booleans(), min_size=4, max_size=4),
    "Int64": st.lists(st.one_of(st.none(), st.integers(-9, 9)), min_size=4, max_size=4),
    "datetime64[ns]": st.lists(st.one_of(st.none(), st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1))),
                               min_size=4, max_size=4),
    "category": st.lists(st.one_of(st.none(), st.sampled_from(["甲", "乙"])), min_size=4, max_size=4),
}


def _frame(kinds: list[str], columns: tuple[list, ...]) -> pd.DataFrame:
    return pd.DataFrame({f"c{i}": pd.Series(vals, dtype=object if k == "plain object" else k)
                         for i, (k, vals) in enumerate(zip(kinds, columns, strict=True))}, index=range(4))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(_CELLS)), min_size=0, max_size=6).flatmap(
    lambda kinds: st.tuples(st.just(kinds), st.tuples(*(_CELLS[k] for k in kinds)))))
def test_rows_of_a_frame_are_pandas_records_value_for_value(case):
    """rows_of (column-wise, fast) gives exactly what DataFrame.to_dict("records") gives: the same keys, and values
    of the same type and text (NaN, NA and NaT included)."""
    kinds, columns = case
    df = _frame(kinds, columns)
    ours, theirs = rows_of(df), df.to_dict("records")
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs, strict=True):
        assert list(a) == list(b)
        assert [(type(v), repr(v)) for v in a.values()] == [(type(v), repr(v)) for v in b.values()]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(_CELLS)), min_size=0, max_size=6).flatmap(
    lambda kinds: st.tuples(st.just(kinds), st.tuples(*(_CELLS[k] for k in kinds)))))
def test_rows_of_with_blanks_gives_none_for_nan_and_nat_and_the_rest_as_pandas_does(case):
    """rows_of(blanks=True), what the report's sheets are written from: each NaN and NaT pandas' records hold is None
    (a cell cannot hold them), every other value as pandas gives it."""
    kinds, columns = case
    df = _frame(kinds, columns)
    ours, theirs = rows_of(df, blanks=True), df.to_dict("records")
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs, strict=True):
        assert list(a) == list(b)
        for k, v in b.items():
            if (isinstance(v, float) and v != v) or v is pd.NaT:
                assert a[k] is None
            else:
                assert (type(a[k]), repr(a[k])) == (type(v), repr(v))
