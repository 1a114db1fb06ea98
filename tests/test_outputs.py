"""Outputs (issue #16 §5): a report that cannot be written is a message and exit 3, the last one untouched;
xlsales never writes over its inputs or over a file it did not write; nothing half-written is ever left.

Failures are real: a read-only folder (root's override dropped with setpriv), a full disk (a small tmpfs in a
private mount namespace), ``ulimit -f``, a report path held by a folder, a writer killed mid-file.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from xlsales.cli import main
from xlsales.report import writer

from .conftest import ROOT
from .test_reliability import run, snapshot, zh_and_en

PERIOD = "2026-11-23"
REPORT = f"consolidated-{PERIOD}.xlsx"


def cli(*args: object, prefix: list[str] | None = None, preexec=None, timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "xlsales.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, preexec_fn=preexec, check=False)


def unprivileged() -> list[str]:
    """Run as root without the override of file permissions (so a read-only folder is read-only)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test file permissions as root"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all"]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def assert_write_failure(done: subprocess.CompletedProcess[str], path: Path) -> None:
    assert done.returncode == 3, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert zh_and_en(done.stderr) and path.name in done.stderr, done.stderr


# --- the report cannot be written: exit 3, the previous report untouched ---------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_read_only_reports_folder_is_exit_3_and_the_last_report_is_untouched(demo):
    reports = demo / "reports"
    before = snapshot(reports)
    reports.chmod(0o555)
    try:
        done = cli("consolidate", demo, prefix=unprivileged())
    finally:
        reports.chmod(0o755)
    assert_write_failure(done, reports / REPORT)
    assert "只读" in done.stderr or "权限" in done.stderr
    assert snapshot(reports) == before and leftovers(reports) == []


def test_a_report_held_open_is_exit_3(demo):
    """Excel on Windows locks an open report; here the report's path is held by a folder, which cannot be replaced."""
    reports = demo / "reports"
    (reports / REPORT).unlink()
    (reports / REPORT).mkdir()
    (reports / REPORT / "held").write_text("open in Excel")
    before = snapshot(reports)
    done = cli("consolidate", demo)
    assert_write_failure(done, reports / REPORT)
    assert snapshot(reports) == before and leftovers(reports) == []


def test_ulimit_f_is_exit_3_and_the_last_report_is_untouched(demo):
    reports = demo / "reports"
    before = snapshot(reports)
    limit = 120_000  # the rep workbooks (~46 kB) are still read; the report (~250 kB) cannot be written

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = cli("consolidate", demo, preexec=small_files)
    assert_write_failure(done, reports / REPORT)
    assert "ulimit" in done.stderr
    assert snapshot(reports) == before and leftovers(reports) == []


DISK_FULL = r"""
import hashlib, json, shutil, sys
from pathlib import Path
from xlsales.cli import main
import io, contextlib
folder, saved = Path(sys.argv[1]), Path(sys.argv[2])
reports = folder / "reports"
shutil.copy(saved, reports / saved.name)
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    code = main(["consolidate", str(folder)])
print(json.dumps({"code": code, "err": err.getvalue(), "files": sorted(p.name for p in reports.iterdir()),
                  "same": hashlib.sha256((reports / saved.name).read_bytes()).hexdigest()
                  == hashlib.sha256(saved.read_bytes()).hexdigest()}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a tmpfs in a private mount namespace")
def test_a_full_disk_is_exit_3_and_the_last_report_is_untouched(demo, tmp_path):
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root to mount a small tmpfs")
    saved = tmp_path / REPORT
    shutil.copy(demo / "reports" / REPORT, saved)
    size = saved.stat().st_size + 64 * 1024  # room for last week's report, not for a second one
    script = tmp_path / "disk_full.py"
    script.write_text(DISK_FULL, encoding="utf-8")
    done = subprocess.run([unshare, "-m", "--propagation", "private", "sh", "-c",
                           f'mount -t tmpfs -o size={size} tmpfs "$1" && exec "$2" "$3" "$4" "$5"', "sh",
                           str(demo / "reports"), sys.executable, str(script), str(demo), str(saved)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["code"] == 3, got["err"][-3000:]
    assert "Traceback" not in got["err"] and zh_and_en(got["err"]) and "磁盘" in got["err"]
    assert got["files"] == [REPORT] and got["same"]


def test_out_at_a_folder_is_exit_2(demo, capsys):
    before = snapshot(demo)
    code, _, err = run(capsys, "consolidate", demo, "--out", demo / "reports")
    assert code == 2 and zh_and_en(err) and "--out" in err
    assert snapshot(demo) == before


# --- never over an input, never over a file xlsales did not write ------------------------------------------


@pytest.mark.parametrize("target", ["manager.xlsm", "inbox/R001.xlsx", "inbox/new.xlsx", "reports/targets.xlsx",
                                    "templates/R001.xlsx", "actuals.csv", ".xlsales-key"])
def test_consolidate_never_writes_over_its_inputs(demo, capsys, target):
    actuals = demo / "actuals.csv"
    actuals.write_text("业务员编号,月份,类型,金额\nR001,2026-11,销售额,100\n", encoding="utf-8")
    before = snapshot(demo)
    code, _, err = run(capsys, "consolidate", demo, "--actuals", actuals, "--out", demo / target)
    assert code == 2, err
    assert zh_and_en(err) and Path(target).name in err
    assert snapshot(demo) == before


@pytest.mark.parametrize("target", ["manager.xlsm", "inbox/R001.xlsx", f"reports/{REPORT}"])
def test_targets_never_writes_over_an_input_or_a_report(demo, capsys, target):
    before = snapshot(demo)
    code, _, err = run(capsys, "targets", demo, "--out", demo / target)
    assert code == 2, err
    assert snapshot(demo) == before


def test_out_never_replaces_a_file_xlsales_did_not_write(demo, capsys, tmp_path):
    mine = tmp_path / "我的分析.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "手工分析,请勿覆盖"
    wb.save(mine)
    notes = tmp_path / "notes.xlsx"
    notes.write_text("not even a workbook", encoding="utf-8")
    for path in (mine, notes):
        before = path.read_bytes()
        code, _, err = run(capsys, "consolidate", demo, "--out", path)
        assert code == 2 and zh_and_en(err) and path.name in err, err
        assert path.read_bytes() == before


def test_out_replaces_an_earlier_xlsales_report(demo, capsys, tmp_path):
    out = tmp_path / "weekly.xlsx"
    shutil.copy(demo / "reports" / REPORT, out)
    os.utime(out, (1_700_000_000, 1_700_000_000))
    code, _, err = run(capsys, "consolidate", demo, "--out", out)
    assert code == 0, err
    assert out.stat().st_mtime > 1_700_000_000


def test_a_run_pauses_the_cycle_collector_and_restores_it_after(demo, tmp_path):
    """A consolidation pauses Python's collector of reference cycles (its full passes cost a second of a 200-rep
    run) and restores it when the run ends, also when the run fails; a collector the caller had paused stays so."""
    import gc

    from xlsales.run import RunError, consolidate_folder

    seen: list[bool] = []
    consolidate_folder(demo, progress=lambda i, n, name: seen.append(gc.isenabled()))
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(RunError):
        consolidate_folder(demo, inbox=tmp_path / "nowhere")
    assert gc.isenabled()
    gc.disable()
    try:
        consolidate_folder(demo)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_a_run_made_is_not_walked_by_the_first_young_pass_after_it():
    """After the pause, the objects the run made are moved to the oldest generation in one step: the allocations
    that follow start no collection (a young pass would otherwise walk everything the run made, 0.2 s at 200
    reps), and nobody's objects stay frozen."""
    import gc

    from xlsales.run import collector_paused

    started: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    try:
        with collector_paused():
            made = [[i] for i in range(50_000)]
            gc.callbacks.append(note)  # no pass starts before the pause ends
        after = [[i] for i in range(gc.get_threshold()[0] // 2)]  # fewer than start a young pass
    finally:
        gc.callbacks.remove(note)
    assert started == [] and gc.get_freeze_count() == 0 and len(made) + len(after) > 50_000


@pytest.mark.parametrize("previous", ["manager.xlsm", "reports/targets.xlsx", "inbox/R001.xlsx", "mine.xlsx"])
def test_previous_must_be_an_xlsales_consolidated_report(demo, capsys, previous):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "层级"
    wb.save(demo / "mine.xlsx")
    before = snapshot(demo / "reports")
    code, _, err = run(capsys, "consolidate", demo, "--previous", demo / previous)
    assert code == 2, err
    assert zh_and_en(err) and Path(previous).name in err and "--previous" in err
    assert snapshot(demo / "reports") == before


# --- atomic: fsync, leftovers of a killed run, init --force never half done ---------------------------------


def test_atomic_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    out = tmp_path / "out.xlsx"
    with writer.atomic(out) as tmp:
        tmp.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    assert out.read_bytes().startswith(b"PK")
    assert len(synced) == 2, synced
    assert Path(synced[0]).parent == tmp_path and Path(synced[0]).name.startswith(".out")  # the temp file
    assert synced[1] == str(tmp_path)  # then the folder holding the new name


KILLED = r"""
import os, sys
from pathlib import Path
from xlsales.report.writer import atomic
with atomic(Path(sys.argv[1])) as tmp:
    tmp.write_bytes(b"half a report")
    os._exit(9)  # killed mid-write: no cleanup runs
"""


def test_a_killed_run_s_temp_file_is_removed_by_the_next_run(demo, capsys):
    reports = demo / "reports"
    done = subprocess.run([sys.executable, "-c", KILLED, str(reports / REPORT)], cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 9
    left = leftovers(reports)
    assert len(left) == 1, left
    foreign = reports / ".~lock.consolidated.xlsx#"  # someone else's hidden file is never touched
    foreign.write_text("LibreOffice lock")
    code, _, err = run(capsys, "consolidate", demo)
    assert code == 0, err
    assert leftovers(reports) == [foreign.name]


def test_an_interrupted_init_force_never_leaves_templates_of_two_periods(tmp_path):
    """init --force is killed while it builds the new templates: templates/ holds the old period's set, whole."""
    d = tmp_path / "t"
    roster = tmp_path / "roster.csv"
    roster.write_text("业务员编号,姓名,团队,大区\n" + "".join(f"S{i:02d},人{i},一组,华东\n" for i in range(40)),
                      encoding="utf-8")
    assert main(["init", str(d), "--roster", str(roster), "--period", "2026-11-16"]) == 0
    old = snapshot(d / "templates")
    proc = subprocess.Popen([sys.executable, "-m", "xlsales.cli", "init", str(d), "--force", "--roster", str(roster),
                             "--period", "2026-11-23"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        written = [p for p in d.rglob("S*.xlsx") if p.parent.name != "templates"]
        if len(written) >= 5:
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert killed, "the new templates are written beside templates/, never into it"
    assert snapshot(d / "templates") == old
    assert main(["init", str(d), "--force", "--roster", str(roster), "--period", "2026-11-23"]) == 0
    assert sorted(p.name for p in d.iterdir()) == [".xlsales-key", "inbox", "manager.xlsm", "templates"]
    new = snapshot(d / "templates")
    assert sorted(new) == sorted(old) and all(new[k] != old[k] for k in new)


# --- a text longer than a cell holds ------------------------------------------------------------------------


def test_the_writer_never_cuts_a_text_silently(tmp_path):
    from xlsales.core import schema
    from xlsales.core.setup import Setup

    setup = Setup.default()
    long_note = "备" * 40_000
    with writer.collect_cuts() as cuts:
        from xlsales.report.templates import build_rep_workbook

        build_rep_workbook(tmp_path / "R001.xlsx", setup, setup.rows("roster")[0], "zh",
                           {"customers": [{"customer": "甲", "customer_class": "A", "needs": long_note}]})
    assert [(c.sheet, c.cell, c.length) for c in cuts] == [("客户", f"H{schema.CUSTOMERS.first_row + 2}", 40_000)]
    ws = openpyxl.load_workbook(tmp_path / "R001.xlsx")["客户"]
    text = ws[cuts[0].cell].value
    assert len(text) <= 32_767 and "40,000" in text  # the cell itself says it was cut


def test_a_report_text_over_the_cell_limit_is_reported(demo, capsys):
    """A 32,700-character stage is a bad_choice whose message no longer fits a cell of the report's Issues sheet."""
    path = demo / "inbox" / "R001.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["商机"]["E3"] = "阶" * 32_700
    wb.save(path)
    code, out, err = run(capsys, "consolidate", demo)
    assert code == 0, err
    assert "text_cut" in err and REPORT in err and "问题" in err


def _small_book(path: Path) -> None:
    wb = writer.new_workbook(path, "t")
    wb.add_worksheet("数据").write_string(0, 0, "华东")
    wb.close()


def test_the_parts_are_assembled_in_a_private_folder_that_is_removed(tmp_path, monkeypatch):
    """A workbook's parts are written to a private temporary folder (not held in memory) and it is gone after."""
    import tempfile

    parts = tmp_path / "tmp"
    parts.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parts))
    from xlsxwriter.packager import Packager

    seen: list[str] = []
    real_name = Packager._filename

    def name(self, xml_filename):  # where XlsxWriter writes each part before it is zipped
        got = real_name(self, xml_filename)
        seen.append(Path(got).parent.name[:len("xlsales-parts-")] if isinstance(got, str) else "memory")
        return got

    monkeypatch.setattr(Packager, "_filename", name)
    out = tmp_path / "r.xlsx"
    with writer.atomic(out) as tmp:
        _small_book(tmp)
    assert len(seen) >= 5 and set(seen) == {"xlsales-parts-"}  # workbook, sheet, styles, … each a file
    assert list(parts.iterdir()) == []
    assert openpyxl.load_workbook(out)["数据"]["A1"].value == "华东"


# shared strings XlsxWriter writes with care: whitespace at an end, control characters and their escapes,
# non-characters, line breaks and quotes, what looks like a rich string
_ODD_TEXTS = (" 前有空格", "后有空格 ", "\u3000全角空格", "控制\x01字符", "_x0041_ 像转义", "非字符\ufffe", "换行\n\"引号\"",
              "<r>像富文本</r>", "<r>", "&amp;", "")


def _packaged(wb, parts: Path) -> None:
    """Sheets of several sizes (parts from a few hundred bytes to about 1 MB), a table, formulas and texts."""
    wb.worksheet_class = writer.PortableWorksheet
    wb.set_properties({"title": "t", "author": "xlsales", "created": writer.FIXED_DATE})
    money = wb.add_format({"num_format": "#,##0"})
    for i, n in enumerate((3, 400, 9_000)):
        ws = wb.add_worksheet(f"表{i}")
        ws.add_table(0, 0, n, 2, {"name": f"Tab_{i}", "columns": [{"header": "客户"}, {"header": "金额"},
                                                                {"header": "两倍"}]})
        for r in range(1, n + 1):
            ws.write_string(r, 0, f"客户{r % 37} <&>" if r % 50 else _ODD_TEXTS[r // 50 % len(_ODD_TEXTS)], None)
            ws.write_number(r, 1, r * 1.5, money)
            ws.write_formula(r, 2, f"=B{r + 1}*2", money, r * 3.0)
    wb.close()
    assert not list(parts.iterdir())


def test_the_archive_is_xlsxwriter_s_byte_for_byte_though_each_part_is_zipped_as_soon_as_it_is_written(
        tmp_path, monkeypatch):
    """Parts are compressed by threads beside the writing while the next parts are written (and here read in
    chunks of 1,000 bytes), their shared strings written in one pass: the file must be exactly the one XlsxWriter's
    own zipping loop makes of the same parts."""
    import threading

    import xlsxwriter

    ours_parts, stock_parts = tmp_path / "p1", tmp_path / "p2"
    ours_parts.mkdir(), stock_parts.mkdir()
    monkeypatch.setattr(writer, "ZIP_CHUNK", 1_000)
    monkeypatch.setattr(writer, "ZIP_AHEAD", 20_000)  # the larger parts compressed ahead, the smaller ones in turn
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    _packaged(writer._Book(tmp_path / "ours.xlsx", options), ours_parts)
    _packaged(xlsxwriter.Workbook(str(tmp_path / "stock.xlsx"), {**options, "in_memory": False,
                                                                  "tmpdir": str(stock_parts)}), stock_parts)
    ours, stock = (tmp_path / "ours.xlsx").read_bytes(), (tmp_path / "stock.xlsx").read_bytes()
    assert len(ours) > 100_000 and ours == stock
    assert not [t for t in threading.enumerate() if t.name.startswith(("xlsales-zip", "xlsales-deflate"))]


@pytest.mark.parametrize("where", ["archive", "compressing"])
def test_a_part_that_cannot_be_zipped_fails_the_write_and_the_last_report_stays(tmp_path, monkeypatch, where):
    """An error in the zipping threads (adding a part to the archive, or compressing it) is the writer's error,
    raised on close: never lost with the thread."""
    import threading

    real_utime, real_deflate = os.utime, writer._deflate

    def utime(path, *a, **k):
        if str(path).startswith(str(tmp_path / "tmp")):
            raise OSError(28, "No space left on device")
        return real_utime(path, *a, **k)

    calls: list[str] = []

    def deflate(path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_deflate(path)

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    if where == "archive":
        monkeypatch.setattr(os, "utime", utime)
    else:
        monkeypatch.setattr(writer, "_deflate", deflate)
        monkeypatch.setattr(writer, "ZIP_AHEAD", 0)  # every part compressed ahead
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"last week")
    with pytest.raises(writer.WriteError), writer.atomic(out) as tmp:
        _small_book(tmp)
    assert out.read_bytes() == b"last week"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx", "tmp"] and not list((tmp_path / "tmp").iterdir())
    assert not [t for t in threading.enumerate() if t.name.startswith(("xlsales-zip", "xlsales-deflate"))]


def test_parts_a_killed_run_left_are_removed_by_the_next_workbook(tmp_path, monkeypatch):
    """A run killed while XlsxWriter assembled the parts leaves its folder; the next workbook written removes it
    (its process is gone) and leaves a running process's alone."""
    import subprocess
    import tempfile

    from xlsales.report import scratch

    parts = tmp_path / "tmp"
    parts.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parts))
    monkeypatch.setattr(scratch, "_swept", set())
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    left, running = parts / f"xlsales-parts-{killed.pid}-q1", parts / f"xlsales-parts-{os.getppid()}-q2"
    for d in (left, running):
        d.mkdir()
        (d / "sheet1.xml").write_text("<worksheet/>")
    with writer.atomic(tmp_path / "r.xlsx") as tmp:
        _small_book(tmp)
    assert sorted(parts.iterdir()) == [running]


def test_on_windows_a_process_is_never_signalled_to_know_if_it_left_a_file(monkeypatch):
    """os.kill on Windows ends or interrupts a process instead of asking; there a leftover is told by its age."""
    from xlsales.report import scratch

    def no_signal(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}) called")

    monkeypatch.setattr(os, "kill", no_signal)
    now = time.time()
    assert not scratch.left_behind(123_456, now, posix=False)
    assert scratch.left_behind(123_456, now - scratch.STALE_SECONDS - 60, posix=False)


def test_no_usable_temporary_folder_is_a_write_error_and_the_last_report_stays(tmp_path, monkeypatch):
    import tempfile

    out = tmp_path / "r.xlsx"
    out.write_bytes(b"last week")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with pytest.raises(writer.WriteError), writer.atomic(out) as tmp:
        _small_book(tmp)
    assert out.read_bytes() == b"last week"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_the_worksheet_s_own_cell_xml_is_byte_for_byte_xlsxwriter_s(tmp_path):
    """PortableWorksheet writes common cells itself: the sheet must be exactly what XlsxWriter writes, for
    every kind of cell and cached value (and for cells it leaves to XlsxWriter)."""
    import datetime as dt
    import zipfile

    from xlsxwriter.worksheet import Worksheet

    def book(cls: type, path: Path) -> bytes:
        wb = writer.new_workbook(path, "t")
        wb.worksheet_class = cls
        ws = wb.add_worksheet("S")
        money, plain = wb.add_format({"num_format": "#,##0"}), wb.add_format({})
        ws.set_column(5, 5, 12, money)  # a column format for the unformatted cells below
        ws.set_row(9, 20, plain)
        rows = [
            lambda r: ws.write_number(r, 0, 1234.5, money),
            lambda r: ws.write_number(r, 1, 1 / 3, plain),
            lambda r: ws.write_number(r, 2, -0.0, money),
            lambda r: ws.write_number(r, 3, 12345678901234567890, plain),
            lambda r: ws.write_string(r, 0, "客户 <A&B> \"x\"", plain),
            lambda r: ws.write_string(r, 700, "far column", plain),
            lambda r: ws.write_datetime(r, 1, dt.datetime(2026, 12, 7, 9, 30), money),
            lambda r: ws.write_formula(r, 0, "=SUM(A1:A3)", money, 1234.5),
            lambda r: ws.write_formula(r, 1, '=IF(A1>0,"是&<否>","")', plain, "是&<否>"),
            lambda r: ws.write_formula(r, 2, "=A1>0", plain, True),
            lambda r: ws.write_formula(r, 3, "=1/0", plain, "#DIV/0!"),
            lambda r: ws.write_formula(r, 4, "=A1", plain, ""),
            lambda r: ws.write_formula(r, 5, "=A2", None, 3),
            lambda r: ws.write_number(r, 5, 7),
            lambda r: ws.write_blank(r, 6, None, money),
            lambda r: ws.write_boolean(r, 7, False, plain),
            lambda r: ws.write_string(r, 8, "no format"),
            lambda r: ws.write_rich_string(r, 9, "a", wb.add_format({"bold": True}), "b", plain),
            lambda r: writer.put_column(ws, r, 3, [2.5, "客户 <A&B>", None, 10**20, "长" * 40_000, "far"], money),
            lambda r: writer.put_column(ws, r + 2, 2, ["客户 <A&B>", None, None, None, "new"], plain),
            lambda r: writer.put_blanks(ws, 6, [r + 1, r + 2, r + 5], money),  # a template's empty input cells
            lambda r: writer.put_blanks(ws, 16_384, [r], money),  # past the last column: refused as XlsxWriter does
        ]
        for r, put in enumerate(rows):
            put(r)
        # rows with only a comment or only a row format, hidden and outlined rows, spans of later 16-row blocks
        ws.write_comment(2, 11, "批注 <note>")
        ws.write_comment(27, 3, "只有批注的行")
        ws.set_row(30, None, None, {"hidden": True, "level": 1})
        ws.set_row(33, 30, money)
        ws.write_number(33, 2, 5)
        writer.put_column(ws, 40, 12, [1.0, "x", *[None] * 28, 2.0], money)
        ws.write_formula(47, 1, "=M41", money, 1.0)
        ws.write_number(60, 1, 1, money)  # an unformatted cell between formatted ones, in its place
        ws.write_number(60, 2, 2)
        ws.write_number(60, 3, 3, money)
        ws.write_number(70, 14, 3, money)  # a row whose last column alone sets its block's span
        ws.write_comment(90, 20, "一行只有批注,在自己的一组行里")
        writer.put_blanks(ws, 21, [120, 130], money)  # empty input cells past every other cell: the sheet grows
        wb.close()
        with zipfile.ZipFile(path) as z:
            return z.read("xl/worksheets/sheet1.xml") + z.read("xl/sharedStrings.xml")

    ours, theirs = book(writer.PortableWorksheet, tmp_path / "ours.xlsx"), book(Worksheet, tmp_path / "stock.xlsx")
    assert b't="str"' in ours and b't="e"' in ours and b't="b"' in ours and b"&amp;" in ours
    assert b'<row r="28" spans="3:10"/>' in ours and b'hidden="1" outlineLevel="1"/>' in ours  # a comment's, a format's
    assert b'<row r="71" spans="13:15">' in ours and b'<row r="91" spans="21:21"/>' in ours
    assert b'customFormat="1" ht="30"' in ours and b'<c r="B61" s="1"><v>1</v></c><c r="C61"' in ours
    assert ours == theirs


def _columns_book(cls: type, path: Path) -> dict[str, bytes]:
    """Columns written whole (put_column) among cells written one by one, with worksheet class ``cls``: the
    package's parts."""
    import datetime as dt
    import zipfile

    wb = writer.new_workbook(path, "t")
    wb.worksheet_class = cls
    ws = wb.add_worksheet("S")
    # formats made in one order and first used in another: their numbers follow first use, row by row
    late, row_fmt, pct, money, plain, early = (wb.add_format(p) for p in (
        {"italic": True}, {"bg_color": "#FFFF00"}, {"num_format": "0%"}, {"num_format": "#,##0"}, {"bold": True},
        {"num_format": "yyyy-mm-dd"}))
    ws.write_string(3, 10, "dict cell, same row as a column's first cell", plain)
    writer.put_column(ws, 3, 1, [f"客户{i % 5} <&>" if i % 4 else None for i in range(40)], money)
    writer.put_column(ws, 3, 2, [i * 1.5 if i % 3 else i for i in range(40)], pct)
    writer.put_column(ws, 5, 4, [("=B6*2", 2.5), ("=1/0", "#DIV/0!"), ("=B8>0", True), ('=IF(1,"是&<否>","")', "是&<否>"),
                                 ("=B10", ""), ("{=SUM(B4:B5)}", 3), None, ("=C12", 7)], money)
    writer.put_column(ws, 1, 6, [dt.date(2026, 11, 23), dt.datetime(2026, 11, 23, 12), dt.date(1900, 2, 28), None,
                                 "长" * 40_000, 10**20, -0.0, "", 12345678901234567890, 1 / 3], early)
    ws.write_number(10, 2, 99, late)  # written after a column's cell at its place: replaces it
    ws.write_string(50, 8, "before", plain)  # written before a column's cell at its place: replaced
    writer.put_column(ws, 48, 8, [1.0, None, 2.0, 3.0], money)
    writer.put_column(ws, 60, 8, [1, 2, 3], money)
    writer.put_column(ws, 61, 8, [None, 5], pct)  # a later column over an earlier one, where it has cells
    ws.set_row(12, 20, row_fmt)  # a row with a format of its own, a hidden one, in a column's rows
    ws.set_row(14, None, None, {"hidden": True})
    ws.write_comment(20, 12, "批注")
    ws.write_url(70, 1, "https://example.com", None, "link")
    ws.write_url(71, 1, "https://example.com/2", None, "link")
    writer.put_column(ws, 70, 1, ["over the link's text", 42.0], plain)  # a number over a link: an object link
    writer.put_column(ws, 1_048_570, 3, [1.0] * 10, money)  # past the last row: refused cell by cell
    writer.put_column(ws, 2, 16_384, [1.0], money)  # past the last column: refused
    chart = wb.add_chart({"type": "column"})  # its cached data read from the columns
    chart.add_series({"categories": "=S!$B$4:$B$20", "values": "=S!$C$4:$C$20"})
    ws.insert_chart(2, 14, chart)
    wide = wb.add_worksheet("宽")  # two columns side by side over many blocks, starting and ending inside them
    wide.set_default_row(18)  # every row says its height
    writer.put_column(wide, 0, 0, [f"r{i % 30}" for i in range(2_500)], plain)
    writer.put_column(wide, 1_000, 1, [float(i) for i in range(1_100)], money)
    wide.write_formula(1_500, 1, "=A1", money, 0)
    wb.close()
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.mark.parametrize("block", [7, writer.ROW_BLOCK])
def test_columns_written_whole_are_xlsxwriter_s_cells_byte_for_byte(tmp_path, monkeypatch, block):
    """A report's table is written a column at a time and kept as lists until its sheet is written: the package
    must be exactly what XlsxWriter writes cell by cell — the cells, the strings' order and count, the formats'
    numbers, a cell written later at the same place winning, charts' cached data, links, the sheet's bounds."""
    from xlsxwriter.worksheet import Worksheet

    monkeypatch.setattr(writer, "ROW_BLOCK", block)
    ours = _columns_book(writer.PortableWorksheet, tmp_path / "ours.xlsx")
    theirs = _columns_book(Worksheet, tmp_path / "stock.xlsx")
    sheet = ours["xl/worksheets/sheet1.xml"]
    assert b'<c r="C11" s="' in sheet and b"<v>99</v>" in sheet and b"<v>1E+20</v>" in sheet
    assert b'<c r="I51" s="2"><v>2</v></c>' not in sheet and b'<c r="I63" s="' in sheet
    assert b"over the link" in ours["xl/sharedStrings.xml"] and b"<c:v>" in ours["xl/charts/chart1.xml"]
    assert ours == theirs
    wb = writer.new_workbook(tmp_path / "nan.xlsx", "t")
    with pytest.raises(TypeError):  # as XlsxWriter refuses it
        writer.put_column(wb.add_worksheet("S"), 0, 0, [1.0, float("nan")], wb.add_format({}))


def test_a_report_table_writes_dates_as_excel_serials_and_fills_formula_columns(tmp_path):
    """Report tables write a date column's dates as plain serial numbers in one go: each must be the serial
    Excel shows for that day (hand-counted below), dates before Excel's phantom 1900-02-29 and date-times
    as XlsxWriter writes them; a formula column's placeholders become the row's own cells; a choice shows its
    label (an unknown code itself, a number as a number)."""
    import datetime as dt
    import zipfile

    from xlsales.core.schema import Column, Table

    table = Table("t", "T_dates", "日期表", "Dates", (
        Column("day", "日期", "Day", "date"), Column("month", "月份", "Month", "month"),
        Column("amount", "金额", "Amount", "money"),
        Column("double", "两倍", "Double", "formula", formula="{amount}*2+0*{amount}"),
        Column("stage", "阶段", "Stage", "choice", choices="stage"),
    ))
    rows = [{"day": dt.date(2026, 11, 23), "month": dt.date(2026, 1, 1), "amount": 10.0, "double": 20.0,
             "stage": "S3"},
            {"day": dt.date(1900, 2, 28), "month": dt.date(1900, 3, 1), "amount": 1.5, "double": 3.0, "stage": "SX"},
            {"day": dt.datetime(2026, 11, 23, 12, 0), "month": None, "amount": 2.0, "double": 4.0, "stage": 3.0}]
    path = tmp_path / "dates.xlsx"
    wb = writer.new_workbook(path, "t")
    ws = wb.add_worksheet("日期表")
    writer.write_table(wb, ws, writer.Formats(wb), table, "zh", rows, labels={"stage": {"S3": "方案阶段"}},
                       capacity=len(rows))
    wb.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    # 2026-01-01 is serial 46023 (2025-01-01 is 45658, plus 365); 2026-11-23 is its 327th day
    for cell, serial in (("A3", "46349"), ("B3", "46023"), ("A4", "59"), ("B4", "61"), ("A5", "46349.5")):
        assert f'<c r="{cell}" s="' in xml and f'<v>{serial}</v>' in xml.split(f'<c r="{cell}"')[1].split("</c>")[0]
    assert "<f>C3*2+0*C3</f>" in xml and "<f>C5*2+0*C5</f>" in xml
    book = openpyxl.load_workbook(path)["日期表"]
    assert book["A3"].value == dt.datetime(2026, 11, 23) and book["A3"].is_date
    assert book["A4"].value == dt.datetime(1900, 2, 28) and book["B4"].value == dt.datetime(1900, 3, 1)
    assert book["A5"].value == dt.datetime(2026, 11, 23, 12, 0) and book["B5"].value is None
    assert [book[f"E{r}"].value for r in (3, 4, 5)] == ["方案阶段", "SX", 3]  # a choice shown by its label


def _tables_book(cls: type, path: Path) -> dict[str, bytes]:
    """Tables of every shape a report or template has, written with worksheet class ``cls``: the package's parts."""
    import zipfile

    wb = writer.new_workbook(path, "t")
    wb.worksheet_class = cls
    head = wb.add_format({"bold": True})
    ws = wb.add_worksheet("表")
    ws.add_table(2, 1, 1001, 3, {"name": "Deals", "style": "Table Style Light 9", "autofilter": True,
                                  "columns": [{"header": "客户", "header_format": head}, {"header": "金额"},
                                              {"header": "阶段"}]})
    ws.add_table(2, 5, 4, 6, {"name": "Small", "autofilter": False, "columns": [{"header": "a"}, {"header": "b"}]})
    ws.add_table(1010, 0, 1011, 1, {"name": "OneRow", "style": None})  # too short for the shortcut
    ws.add_table(1020, 0, 1030, 2, {"name": "Totals", "total_row": True,  # XlsxWriter's own path
                                    "columns": [{"header": "x", "total_string": "合计"}, {"header": "y"},
                                                {"header": "z", "total_function": "sum"}]})
    ws.merge_range(0, 0, 0, 3, "标题", head)
    writer.put_column(ws, 3, 1, [f"客户{r % 9}" for r in range(3, 1002)], head)
    ws.autofilter(1040, 0, 1050, 2)
    wb.add_worksheet("第二张").add_table("B2:D40", {"name": "ByLetters"})
    wb.close()
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_long_tables_are_xlsxwriter_s_tables_byte_for_byte(tmp_path):
    """A long table is added without marking each of its cells: the package must be exactly XlsxWriter's."""
    from xlsxwriter.worksheet import Worksheet

    ours, theirs = _tables_book(writer.PortableWorksheet, tmp_path / "ours.xlsx"), \
        _tables_book(Worksheet, tmp_path / "stock.xlsx")
    assert b'ref="B3:D1002"' in ours["xl/tables/table1.xml"] and b'ref="B2:D40"' in ours["xl/tables/table5.xml"]
    assert ours == theirs


@pytest.mark.parametrize("second", [
    lambda ws: ws.add_table(500, 2, 510, 4, {"name": "Inside"}),  # another table in its later rows
    lambda ws: ws.add_table(0, 3, 600, 3, {"name": "Across"}),  # one whose later rows cross its column
    lambda ws: ws.merge_range(700, 0, 701, 1, "x"),  # a merged range in its later rows
    lambda ws: ws.add_table(1000, 1, 1003, 2, {"name": "Below"}),  # one starting on its last row
])
def test_a_range_overlapping_a_long_table_is_refused_as_xlsxwriter_refuses_it(tmp_path, second):
    """XlsxWriter refuses a table or merged range overlapping a table (Excel would call the file corrupt); a long
    table's rows it was not told about must still be refused, with XlsxWriter's error."""
    from xlsxwriter.exceptions import OverlappingRange
    from xlsxwriter.worksheet import Worksheet

    for cls in (writer.PortableWorksheet, Worksheet):
        wb = writer.new_workbook(tmp_path / f"{cls.__name__}.xlsx", "t")
        wb.worksheet_class = cls
        ws = wb.add_worksheet("表")
        ws.add_table(2, 1, 1000, 3, {"name": "Deals"})
        with pytest.raises(OverlappingRange, match="overlaps previous table range 'B3:D1001'"):
            second(ws)
    wb = writer.new_workbook(tmp_path / "merge-first.xlsx", "t")
    ws = wb.add_worksheet("表")
    ws.merge_range(800, 0, 800, 2, "x")  # a merged range first, then a long table over it
    with pytest.raises(OverlappingRange, match="Table range 'B3:D1001' overlaps previous merge range 'A801:C801'"):
        ws.add_table(2, 1, 1000, 3, {"name": "Deals"})
