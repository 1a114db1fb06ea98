"""Consolidation speed vs the naive way, in the same run.

The naive way is what a manager's script does today: ``pandas.read_excel`` with
openpyxl for every sheet of every rep file, then ``concat`` — no validation, no
issues, no report.  xlsales reads with python-calamine, validates every cell and
applies the business rules.  We report both times and their ratio.

    python bench/bench_consolidate.py [--reps 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from xlsales import defaults, schema, synth
from xlsales.commit import full_report
from xlsales.consolidate import consolidate
from xlsales.model import render_xlsx
from xlsales.setup import Setup
from xlsales.targets import decompose


def roster(n: int) -> list[dict]:
    base = defaults.ROSTER
    return [{**base[i % len(base)], "rep_id": f"B{i + 1:04d}"} for i in range(n)]


def naive(inbox: Path) -> int:
    rows = 0
    frames = []
    for p in sorted(inbox.glob("*.xlsx")):
        for sheet in ("拜访", "商机", "预测", "客户"):
            df = pd.read_excel(p, sheet_name=sheet, header=1, engine="openpyxl").dropna(how="all")
            frames.append(df)
            rows += len(df)
    pd.concat(frames, ignore_index=True)
    return rows


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    setup = Setup.default(roster(a.reps))
    with tempfile.TemporaryDirectory() as d:
        inbox = Path(d) / "inbox"
        fills = synth.generate(setup, seed=1, mistakes=True)
        synth.write_fills(setup, fills, inbox)
        t_naive, n_rows = timed(lambda: naive(inbox), a.repeat)
        t_core, c = timed(lambda: consolidate(inbox, setup), a.repeat)
        targets, _ = decompose(setup, "revenue", raised="both")
        t_full, _ = timed(lambda: render_xlsx(full_report(consolidate(inbox, setup), setup, "zh", targets),
                                              Path(d) / "r.xlsx"), a.repeat)
    rows = c.rows["read"]
    print(f"files: {a.reps}, rows read by xlsales: {rows}, rows read by naive: {n_rows}")
    print(f"naive pandas+openpyxl read (no checks):     {t_naive:7.3f} s")
    print(f"xlsales consolidate (read+validate+rules):  {t_core:7.3f} s   ratio naive/xlsales = "
          f"{t_naive / t_core:5.2f}x")
    print(f"xlsales consolidate + full report (every sheet, formulas): {t_full:7.3f} s   ratio naive/xlsales = "
          f"{t_naive / t_full:5.2f}x")
    print(f"tables: {', '.join(t.key for t in schema.REP_TABLES)}")


if __name__ == "__main__":
    main()
