"""Monday consolidation speed: xlsales vs the naive merge vs the floor, in one run, on the same inboxes.

For every size it builds (once, cached under ``--work``) a manager folder whose
inbox holds one synthetic rep workbook per rep (:mod:`xlsales.synth`, with the
usual deliberate mistakes), then times, each as a child process, wall time and
peak RSS (the largest process of the child's tree, via ``os.wait4`` in a tiny launcher):

- **xlsales** — ``xlsales consolidate DIR --json``: safety checks, reading,
  validation, rules and the whole report workbook;
- **naive** — what a manager's own script does: ``pandas.read_excel`` (openpyxl)
  of each file's four data sheets, ``concat``, the combined tables written with
  openpyxl (``DataFrame.to_excel``); no checks, no report;
- **floor** — the least any tool must do: python-calamine reads the same sheets,
  XlsxWriter writes the same rows (constant-memory mode).

The xlsales runs are cold (``--no-cache``).  It also times a re-run of the 200-rep
inbox after one file changed, with the read cache of the run before; the 200-rep
demo week consolidated with 12 weeks of history in its ledger (``xlsales demo
--weeks 12``: the report's history sheets read every earlier snapshot); and a
headless LibreOffice recalculation of the 200- and 1,000-rep reports.
Prints a Markdown table, writes it with the raw numbers (``results.md``,
``results.json``) and, when matplotlib is installed, a chart (``bench.png``)
into the work folder.

    python bench/bench_consolidate.py                       # 12,50,200,500,1000 + 200 realistic + re-run + history + LibreOffice
    python bench/bench_consolidate.py --reps 12,50,200 --repeat 3 --skip-lo
    python bench/bench_consolidate.py --reps "" --realistic 200

Realistic reps have typed a quarter's worth (150 deals, 250 visits each);
demo-size reps a week's (about 10 deals and 15 visits).  Timings never appear in
the unit tests; only this script measures them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
SHEETS = ("拜访", "商机", "预测", "客户")  # the rep workbook's data sheets (zh), as a manager would hard-code them
HEADER = 1  # 0-based row of the column headers (row 1 is the sheet's title)
SEED = 1
DEMO_SIZES = (12, 50, 200, 500, 1000)
REALISTIC_SIZES = (200,)
TOOLS = ("xlsales", "naive", "floor")


# --- the naive merge and the floor (each runs in its own child process) ---------

def naive(inbox: Path, out: Path) -> int:
    """pandas + openpyxl, the way a manager's script merges the inbox; returns data rows written."""
    import pandas as pd

    frames: dict[str, list] = {s: [] for s in SHEETS}
    for p in sorted(inbox.glob("*.xlsx")):
        for sheet, df in pd.read_excel(p, sheet_name=list(SHEETS), header=HEADER).items():
            df = df.dropna(how="all")
            df.insert(0, "文件", p.name)
            frames[sheet].append(df)
    rows = 0
    with pd.ExcelWriter(out, engine="openpyxl") as w:
        for sheet in SHEETS:
            combined = pd.concat(frames[sheet], ignore_index=True)
            combined.to_excel(w, sheet_name=sheet, index=False)
            rows += len(combined)
    return rows


def floor(inbox: Path, out: Path) -> int:
    """python-calamine read + XlsxWriter write of the same sheets and rows; returns data rows written."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    header: dict[str, list] = {}
    tables: dict[str, list[list]] = {s: [] for s in SHEETS}
    for p in sorted(inbox.glob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(p))
        for sheet in SHEETS:
            rows = wb.get_sheet_by_name(sheet).to_python()
            if len(rows) > HEADER:
                header.setdefault(sheet, rows[HEADER])
            tables[sheet].extend([p.name, *r] for r in rows[HEADER + 1:] if any(v != "" for v in r))
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    for sheet in SHEETS:
        ws = book.add_worksheet(sheet)
        ws.write_row(0, 0, ["文件", *header.get(sheet, [])])
        for i, r in enumerate(tables[sheet], start=1):
            ws.write_row(i, 0, r)
    book.close()
    return sum(len(t) for t in tables.values())


def lo_recalc(report: Path, outdir: Path, timeout: float) -> dict:
    """Seconds for LibreOffice to start on a fresh profile (a tiny file) and to recalculate ``report``."""
    import xlsxwriter

    from xlsales.io.libreoffice import recalculate, soffice

    if soffice() is None:
        return {"error": "LibreOffice (soffice) not found"}
    outdir.mkdir(parents=True, exist_ok=True)
    tiny = outdir / "warmup.xlsx"
    book = xlsxwriter.Workbook(str(tiny))
    book.add_worksheet().write_formula("A1", "=1+1", None, 2)
    book.close()
    t = time.perf_counter()
    recalculate(tiny, outdir / "warm", timeout=timeout)
    warm = time.perf_counter() - t
    t = time.perf_counter()
    recalculate(report, outdir, timeout=timeout)
    return {"warmup": warm, "recalc": time.perf_counter() - t}


def _task(argv: list[str]) -> int:
    """Child-process entry: ``_task naive|floor INBOX OUT`` or ``_task lo REPORT OUTDIR TIMEOUT``; prints JSON."""
    kind, a, b, *rest = argv
    if kind == "lo":
        print(json.dumps(lo_recalc(Path(a), Path(b), float(rest[0]))))
    else:
        print(json.dumps({"rows": {"naive": naive, "floor": floor}[kind](Path(a), Path(b))}))
    return 0


# --- building the inboxes --------------------------------------------------------

@dataclass(frozen=True)
class Case:
    reps: int
    realistic: bool = False

    @property
    def key(self) -> str:
        return f"{'real' if self.realistic else 'demo'}-{self.reps}"

    @property
    def label(self) -> str:
        return f"{self.reps} realistic" if self.realistic else str(self.reps)


INBOX_SOURCES = ("synth.py", "core/schema.py", "core/defaults.py", "report/templates.py")


def fingerprint(case: Case) -> str:
    """What the inbox depends on: the case, the seed, the generator and the schema (not the consolidation code)."""
    return _digest(f"{case.key} seed={SEED}", INBOX_SOURCES)


def _digest(what: str, sources: tuple[str, ...]) -> str:
    h = hashlib.sha256(what.encode())
    for name in sources:
        h.update((ROOT / "xlsales" / name).read_bytes())
    return h.hexdigest()


def build(case: Case, work: Path, rebuild: bool = False) -> Path:
    """``work/<case>/`` with manager.xlsm and a full inbox, rebuilt only when its fingerprint changed."""
    from xlsales import synth
    from xlsales.excel.workbook import build_manager_xlsm

    folder = work / case.key
    stamp = folder / ".fingerprint"
    fp = fingerprint(case)
    if not rebuild and stamp.is_file() and stamp.read_text() == fp:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "inbox").mkdir(parents=True)
    t = time.perf_counter()
    setup = synth.demo_setup(case.reps, seed=SEED)
    build_manager_xlsm(folder / "manager.xlsm", setup, "zh")
    volume = synth.REALISTIC if case.realistic else synth.DEMO
    fills = synth.generate(setup, seed=SEED, mistakes=True, volume=volume)
    synth.write_fills(setup, fills, folder / "inbox", "zh", submitted=True)
    stamp.write_text(fp)
    print(f"  built {case.key}: {len(fills)} rep workbooks in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return folder


HISTORY_PERIOD = "2026-11-30"  # the history case's demo week, fixed so that its folder can be reused


def build_history(reps: int, weeks: int, work: Path, rebuild: bool, timeout: float) -> Path:
    """``work/hist-<reps>-<weeks>w/``: ``xlsales demo`` of ``reps`` reps whose ``weeks`` weeks before the demo week
    were consolidated in order into its ledger, the demo week's workbooks in the inbox; rebuilt only when the
    generator, the past's story, the schema or the ledger changed."""
    folder = work / f"hist-{reps}-{weeks}w"
    stamp = folder / ".fingerprint"
    fp = _digest(f"history {reps} {weeks} {HISTORY_PERIOD} seed={SEED}",
                 (*INBOX_SOURCES, "demo_history.py", "io/ledger.py"))
    if not rebuild and stamp.is_file() and stamp.read_text() == fp:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    t = time.perf_counter()
    cmd = [*xlsales_cmd(), "demo", str(folder), "--reps", str(reps), "--weeks", str(weeks), "--period", HISTORY_PERIOD]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise ChildError(f"exit {done.returncode}: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    stamp.write_text(fp)
    print(f"  built {folder.name}: {reps} reps, {weeks} weeks of history in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    return folder


# --- measuring -------------------------------------------------------------------

@dataclass
class Run:
    seconds: float  # wall
    cpu: float  # user + system of the whole process tree
    peak_mib: float
    out: dict


class ChildError(RuntimeError):
    pass


def _mib(maxrss: int) -> float:
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS, KiB on Linux


# A child's peak RSS starts at the high-water mark of the process it was forked from, so a command is
# not started from this (large) process but from this tiny launcher, which times it and reports its
# rusage (os.wait4: the largest process of the command's tree) in a file.
LAUNCHER = """
import json, os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
t = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t
with open(report, "w") as f:
    json.dump({"seconds": seconds, "code": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss,
               "cpu": usage.ru_utime + usage.ru_stime}, f)
"""


def run_child(cmd: list[str], timeout: float) -> Run:
    """Run ``cmd``: wall seconds, peak RSS of its largest process, and its last stdout line as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        report, out, err = Path(tmp) / "usage.json", Path(tmp) / "out", Path(tmp) / "err"
        with out.open("wb") as o, err.open("wb") as e:
            p = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *cmd],
                                 stdin=subprocess.DEVNULL, stdout=o, stderr=e, start_new_session=True)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise ChildError(f"timed out after {timeout:g} s: {' '.join(cmd)}") from None
        text, errors = out.read_text(errors="replace"), err.read_text(errors="replace")
        usage = json.loads(report.read_text()) if report.is_file() else {"code": p.returncode}
    if p.returncode != 0 or usage["code"] != 0:
        raise ChildError(f"exit {usage['code']}: {' '.join(cmd)}\n{errors[-2000:]}")
    lines = [x for x in text.splitlines() if x.strip()]
    return Run(usage["seconds"], usage["cpu"], _mib(usage["maxrss"]), json.loads(lines[-1]) if lines else {})


def xlsales_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("xlsales")
    if exe.is_file():
        return [str(exe)]
    return [sys.executable, "-c", "import sys; from xlsales.cli import command; sys.exit(command(sys.argv[1:]))"]


def commands(case: Case, folder: Path, out: Path) -> dict[str, list[str]]:
    me = [sys.executable, str(Path(__file__).resolve()), "_task"]
    return {
        "xlsales": [*xlsales_cmd(), "consolidate", str(folder), "--json", "--no-cache",
                    "--out", str(out / f"{case.key}-xlsales.xlsx")],
        "naive": [*me, "naive", str(folder / "inbox"), str(out / f"{case.key}-naive.xlsx")],
        "floor": [*me, "floor", str(folder / "inbox"), str(out / f"{case.key}-floor.xlsx")],
    }


def measure(case: Case, folder: Path, out: Path, repeat: int, timeout: float) -> dict:
    runs: dict[str, list[Run]] = {t: [] for t in TOOLS}
    cmds = commands(case, folder, out)
    for _ in range(repeat):
        for tool in TOOLS:  # interleaved, so a slow moment of the machine hits all three alike
            runs[tool].append(run_child(cmds[tool], timeout))
    x = runs["xlsales"][-1].out
    res = {
        "case": case.key, "label": case.label, "reps": case.reps, "realistic": case.realistic,
        "files": len(list((folder / "inbox").glob("*.xlsx"))),
        "rows_xlsales": x.get("rows", {}).get("read"), "rows_naive": runs["naive"][-1].out.get("rows"),
        "rows_floor": runs["floor"][-1].out.get("rows"),
        "errors": x.get("issues", {}).get("error"), "warnings": x.get("issues", {}).get("warning"),
        "report": str(out / f"{case.key}-xlsales.xlsx"),
    }
    for tool in TOOLS:
        res[f"{tool}_s"] = statistics.median(r.seconds for r in runs[tool])
        res[f"{tool}_all_s"] = [round(r.seconds, 3) for r in runs[tool]]
        res[f"{tool}_cpu_s"] = statistics.median(r.cpu for r in runs[tool])
        res[f"{tool}_mib"] = max(r.peak_mib for r in runs[tool])
    res["xlsales_steps"] = steps_of(runs["xlsales"])
    res["xlsales_vs_naive"] = res["xlsales_s"] / res["naive_s"]
    res["xlsales_vs_floor"] = res["xlsales_s"] / res["floor_s"]
    return res


def steps_of(runs: list[Run]) -> dict[str, float]:
    """The median seconds of each step xlsales reports (``run.steps`` of its JSON: read, build, write) and of the
    rest of the wall time (``other``: starting Python and the imports, the setup, the ledger's last weeks, ending)."""
    per = []
    for r in runs:
        steps = dict(r.out.get("run", {}).get("steps", {}))
        per.append({**steps, "other": r.seconds - sum(steps.values())})
    return {k: statistics.median(p.get(k, 0.0) for p in per) for k in per[0]} if per else {}


def _said_steps(steps: dict[str, float]) -> str:
    names = {"read": "reading", "build": "building the report", "write": "writing", "other": "the rest"}
    return ", ".join(f"{names.get(k, k)} {_s(v)}" for k, v in steps.items())


def measure_history(folder: Path, reps: int, weeks: int, out: Path, repeat: int, timeout: float) -> dict:
    """Consolidating the demo week of ``folder`` (:func:`build_history`) cold, with its ledger's history: on a copy,
    ``repeat`` times (the same inputs again record no new snapshot)."""
    work = folder.parent / f"{folder.name}-run"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(folder, work)
    cmd = [*xlsales_cmd(), "consolidate", str(work), "--json", "--no-cache", "--out", str(out / f"{folder.name}.xlsx")]
    runs = [run_child(cmd, timeout) for _ in range(repeat)]
    return {"reps": reps, "weeks": weeks, "rows": runs[-1].out.get("rows", {}).get("read"),
            "s": statistics.median(r.seconds for r in runs), "all_s": [round(r.seconds, 3) for r in runs],
            "cpu_s": statistics.median(r.cpu for r in runs), "mib": max(r.peak_mib for r in runs),
            "steps": steps_of(runs)}


def change_one_file(case: Case, inbox: Path, n: int) -> str:
    """Re-write one rep's workbook as that rep would after changing one deal's amount (by ``n`` yuan), keeping its
    received time; returns the file's name.  The rep is the second of the roster (the last one is the late one)."""
    from xlsales import synth

    setup = synth.demo_setup(case.reps, seed=SEED)
    volume = synth.REALISTIC if case.realistic else synth.DEMO
    fill = synth.generate(setup, seed=SEED, mistakes=True, volume=volume)[1]
    fill.data["opportunities"][0]["amount"] = float(fill.data["opportunities"][0]["amount"]) + n
    target = inbox / f"{fill.rep['rep_id']}.xlsx"
    times = target.stat()
    synth.write_fills(setup, [fill], inbox, "zh")
    os.utime(target, (times.st_atime, times.st_mtime))
    return target.name


def measure_rerun(case: Case, folder: Path, out: Path, repeat: int, timeout: float) -> dict:
    """Consolidating again after one file of the inbox changed, with the read cache (``.xlsales-cache``) of the run
    before: a copy of the case's folder is consolidated once with the cache (filling it), then ``repeat`` times
    after changing one file each time."""
    work = folder.parent / f"{case.key}-rerun"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(folder, work)
    shutil.rmtree(work / ".xlsales-cache", ignore_errors=True)
    report = out / f"{case.key}-rerun.xlsx"
    cmd = [*xlsales_cmd(), "consolidate", str(work), "--json", "--out", str(report)]
    first = run_child(cmd, timeout)  # every file read, every read cached
    runs: list[Run] = []
    for n in range(repeat):
        changed = change_one_file(case, work / "inbox", n + 1)
        runs.append(run_child(cmd, timeout))
    files = runs[-1].out.get("files", {})
    return {"case": case.key, "label": case.label, "changed": changed, "files": files,
            "first_with_cache_s": first.seconds, "first_with_cache_mib": first.peak_mib,
            "rerun_s": statistics.median(r.seconds for r in runs), "rerun_all_s": [round(r.seconds, 3) for r in runs],
            "rerun_cpu_s": statistics.median(r.cpu for r in runs), "rerun_mib": max(r.peak_mib for r in runs),
            "rerun_steps": steps_of(runs), "from_cache": runs[-1].out.get("run", {}).get("files_from_cache")}


# --- reporting ---------------------------------------------------------------------

def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def compiled() -> None:
    """Compile xlsales to bytecode, as an installed copy is: with PYTHONDONTWRITEBYTECODE set (as on some
    machines) every timed run would otherwise compile its modules again, a cost a user's runs do not have."""
    import compileall

    compileall.compile_dir(str(ROOT / "xlsales"), quiet=1)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def environment(repeat: int) -> dict:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--", "xlsales"):
        commit += " + uncommitted changes in xlsales/"
    return {
        "date": dt.date.today().isoformat(), "commit": commit, "cores": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(), "repeat": repeat, "load_start": _load(),
        "versions": {d: _version(d) for d in ("pandas", "openpyxl", "python-calamine", "XlsxWriter")},
    }


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _s(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}")


def _pair(r: dict, tool: str) -> str:
    return f"{_s(r[tool + '_s'])} ({_s(r.get(tool + '_cpu_s'))})"


def markdown(env: dict, results: list[dict], lo: list[dict] | None, rerun: dict | None = None,
             history: dict | None = None) -> str:
    v = env["versions"]
    lines = [
        f"Measured {env['date']} at commit `{env['commit']}` on {env['machine']} (Python {env['python']}, "
        f"pandas {v['pandas']}, openpyxl {v['openpyxl']}, python-calamine {v['python-calamine']}, "
        f"XlsxWriter {v['XlsxWriter']}); median of {env['repeat']} run(s). Time = wall seconds of the whole "
        "process (CPU seconds, user + system, in brackets); peak = largest resident set of the process tree. "
        f"1-minute load average {env['load_start']} at the start, {env.get('load_end', '—')} at the end "
        "(other work on the machine slows the wall times, less the CPU times).",
        "",
        "| reps | files | rows read | xlsales s (CPU) | xlsales peak MiB | naive s (CPU) | naive peak MiB | floor s (CPU) "
        "| floor peak MiB | xlsales / naive | xlsales / floor | issues (errors / warnings) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['files']:,} | {r['rows_xlsales'] or 0:,} | {_pair(r, 'xlsales')} | "
            f"{r['xlsales_mib']:.0f} | {_pair(r, 'naive')} | {r['naive_mib']:.0f} | {_pair(r, 'floor')} | "
            f"{r['floor_mib']:.0f} | {r['xlsales_vs_naive']:.2f}× | {r['xlsales_vs_floor']:.1f}× | "
            f"{r['errors'] or 0:,} / {r['warnings'] or 0:,} |")
    for one in lo or []:
        lines.append("")
        if "error" in one:
            lines.append(f"LibreOffice recalculation of the {one['label']}-rep report: not measured ({one['error']}).")
        else:
            lines.append(f"LibreOffice headless recalculation (load, recompute every formula, save) of the "
                         f"{one['label']}-rep report: **{_s(one['recalc'])} s**, peak {one['mib']:.0f} MiB "
                         f"(starting LibreOffice on a fresh profile first: {_s(one['warmup'])} s, not included).")
    if rerun:
        full = next((r for r in results if r["case"] == rerun["case"]), None)
        ratio = f", {full['xlsales_s'] / rerun['rerun_s']:.1f}× faster than the full run without the cache " \
            f"({_s(full['xlsales_s'])} s)" if full else ""
        lines.append("")
        lines.append(f"Re-consolidating {rerun['label']} reps after one file changed ({rerun['changed']}), with the "
                     f"read cache of the run before: **{_s(rerun['rerun_s'])} s** (CPU {_s(rerun['rerun_cpu_s'])} s, "
                     f"peak {rerun['rerun_mib']:.0f} MiB; runs {rerun['rerun_all_s']}){ratio}. The first run, which "
                     f"filled the cache, took {_s(rerun['first_with_cache_s'])} s.")
        if rerun.get("rerun_steps"):
            lines.append("")
            lines.append(f"By step (median seconds; the rest: starting Python and the imports, the setup, the ledger's "
                         f"last weeks, ending): the re-run {_said_steps(rerun['rerun_steps'])}, "
                         f"{rerun.get('from_cache')} of {rerun.get('files', {}).get('read', '?')} files' reads from the "
                         "cache" + (f"; the full run without the cache {_said_steps(full['xlsales_steps'])}"
                                    if full and full.get("xlsales_steps") else "") + ".")
    if history:
        plain = next((r for r in results if r["reps"] == history["reps"] and not r["realistic"]), None)
        lines.append("")
        lines.append(f"With {history['weeks']} weeks of history in the ledger ({history['reps']} reps, "
                     f"`xlsales demo --weeks {history['weeks']}`, {history['rows'] or 0:,} rows read; the report's "
                     f"history sheets read every earlier week's snapshot): **{_s(history['s'])} s** "
                     f"(CPU {_s(history['cpu_s'])} s, peak {history['mib']:.0f} MiB; runs {history['all_s']}), by step "
                     f"{_said_steps(history['steps'])}"
                     + (f"; the {plain['label']}-rep inbox without history took {_s(plain['xlsales_s'])} s"
                        if plain else "") + ".")
    return "\n".join(lines) + "\n"


def chart(results: list[dict], path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return "matplotlib is not installed: no chart (pip install -e '.[bench]' to get one)"
    demo = sorted((r for r in results if not r["realistic"]), key=lambda r: r["reps"])
    real = [r for r in results if r["realistic"]]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for tool, style in (("xlsales", "o-"), ("naive", "s--"), ("floor", "^:")):
        line = ax.plot([r["reps"] for r in demo], [r[f"{tool}_s"] for r in demo], style, label=tool)[0] \
            if demo else None
        if real:
            ax.plot([r["reps"] for r in real], [r[f"{tool}_s"] for r in real], style[0], markersize=10,
                    markerfacecolor="none", color=line.get_color() if line else None,
                    label=f"{tool}, realistic reps")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.set_xticks(sorted({r["reps"] for r in results}))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("reps (one workbook each)")
    ax.set_ylabel("seconds (wall, median)")
    ax.set_title("Consolidating the Monday inbox")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f"chart: {path}"


# --- main ----------------------------------------------------------------------------

def _sizes(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x) for x in text.replace(" ", "").split(",") if x)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"a comma-separated list of rep counts, e.g. 12,50,200: {text!r}") from e
    if any(not 1 <= n <= 5000 for n in out):
        raise argparse.ArgumentTypeError(f"rep counts run from 1 to 5000: {text!r}")
    return out


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=_sizes, help="demo-size organisations to time, comma-separated "
                    f"(default {','.join(map(str, DEMO_SIZES))}; '' for none)")
    ap.add_argument("--realistic", type=_sizes, help="realistic-size organisations (150 deals, 250 visits per rep) "
                    f"(default {','.join(map(str, REALISTIC_SIZES))} when --reps is not given, else none)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is reported (default 1)")
    ap.add_argument("--skip-lo", action="store_true", help="do not time the LibreOffice recalculation")
    ap.add_argument("--lo-reps", type=_sizes, default=(200, 1000),
                    help="the demo sizes whose reports LibreOffice recalculates (default 200,1000; each must be "
                    "among --reps)")
    ap.add_argument("--lo-timeout", type=float, default=900, help="seconds allowed per recalculation (default 900)")
    ap.add_argument("--rerun-reps", type=int, default=200,
                    help="the demo size re-consolidated after one changed file, with the cache (default 200; must "
                    "be among --reps; 0 for none)")
    ap.add_argument("--history-reps", type=int, default=200,
                    help="the demo size consolidated with weeks of history in its ledger (default 200; 0 for none)")
    ap.add_argument("--history-weeks", type=int, default=12, help="weeks of that history (default 12)")
    ap.add_argument("--work", type=Path, default=WORK, help=f"cache of inboxes and outputs (default {WORK})")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the inboxes even if cached")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed per child process (default 3600)")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_task"]:
        return _task(argv[1:])
    a = parser().parse_args(argv)
    demo = DEMO_SIZES if a.reps is None else a.reps
    real = (REALISTIC_SIZES if a.reps is None else ()) if a.realistic is None else a.realistic
    cases = [Case(n) for n in demo] + [Case(n, True) for n in real]
    if not cases:
        print("nothing to measure: give --reps and/or --realistic", file=sys.stderr)
        return 2
    work = a.work.resolve()
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    (work / ".gitignore").write_text("*\n")
    env = environment(a.repeat)
    compiled()
    results: list[dict] = []
    lo: list[dict] = []
    rerun: dict | None = None
    history: dict | None = None
    for case in cases:
        print(f"[{case.label}] building/reusing the inbox …", file=sys.stderr)
        folder = build(case, work, a.rebuild)
        print(f"[{case.label}] timing xlsales, naive, floor × {a.repeat} …", file=sys.stderr)
        try:
            r = measure(case, folder, out, a.repeat, a.timeout)
        except ChildError as e:
            print(f"[{case.label}] FAILED: {e}", file=sys.stderr)
            continue
        results.append(r)
        print(f"[{case.label}] xlsales {_s(r['xlsales_s'])} s, naive {_s(r['naive_s'])} s, "
              f"floor {_s(r['floor_s'])} s", file=sys.stderr)
        if case.reps == a.rerun_reps and not case.realistic:
            print(f"[{case.label}] re-consolidating after one changed file, with the cache × {a.repeat} …",
                  file=sys.stderr)
            try:
                rerun = measure_rerun(case, folder, out, a.repeat, a.timeout)
                print(f"[{case.label}] re-run {_s(rerun['rerun_s'])} s", file=sys.stderr)
            except ChildError as e:
                print(f"[{case.label}] re-run FAILED: {e}", file=sys.stderr)
        _save(work, env, results, lo, rerun, history)
    if a.history_reps > 0 and a.history_weeks > 0:
        label = f"[{a.history_reps}, {a.history_weeks} weeks of history]"
        try:
            print(f"{label} building/reusing the folder …", file=sys.stderr)
            folder = build_history(a.history_reps, a.history_weeks, work, a.rebuild, a.timeout)
            print(f"{label} timing xlsales × {a.repeat} …", file=sys.stderr)
            history = measure_history(folder, a.history_reps, a.history_weeks, out, a.repeat, a.timeout)
            print(f"{label} xlsales {_s(history['s'])} s", file=sys.stderr)
        except ChildError as e:
            print(f"{label} FAILED: {e}", file=sys.stderr)
        _save(work, env, results, lo, rerun, history)
    if not a.skip_lo:
        me = [sys.executable, str(Path(__file__).resolve()), "_task"]
        for reps in a.lo_reps:
            case = next((r for r in results if r["reps"] == reps and not r["realistic"]), None)
            if case is None:
                print(f"LibreOffice: no {reps}-rep demo report in this run; skipped", file=sys.stderr)
                continue
            print(f"[LibreOffice] recalculating the {reps}-rep report …", file=sys.stderr)
            try:
                run = run_child([*me, "lo", case["report"], str(out / f"lo-{reps}"), str(a.lo_timeout)],
                                a.lo_timeout + 120)
                lo.append({"label": str(reps), "mib": run.peak_mib, **run.out})
            except ChildError as e:
                lo.append({"label": str(reps), "error": str(e).splitlines()[0]})
            _save(work, env, results, lo, rerun, history)
    env["load_end"] = _load()
    text = markdown(env, results, lo, rerun, history)
    _save(work, env, results, lo, rerun, history)
    print(text)
    print(f"written: {work / 'results.md'}, {work / 'results.json'}", file=sys.stderr)
    print(chart(results, work / "bench.png"), file=sys.stderr)
    return 0


def _save(work: Path, env: dict, results: list[dict], lo: list[dict], rerun: dict | None,
          history: dict | None = None) -> None:
    (work / "results.json").write_text(json.dumps({"env": env, "results": results, "libreoffice": lo,
                                                   "rerun": rerun, "history": history}, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    (work / "results.md").write_text(markdown(env, results, lo, rerun, history), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
