"""``xlsales history DIR [--rep ID] [--weeks N] [--json] [--ledger URL]``: what the ledger remembers.

The snapshots (newest last, superseded ones marked), each rep's weekly forecast accuracy (commit at the week's
start, actual won, ratio), the deal changes of the latest week against the week before, and the on-time record —
the same rules as the report's history sheets (:mod:`xlsales.core.history`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xlsales.core.history import WEEKS, _num, assemble, change_counts
from xlsales.io.ledger import points_of


def history_summary(folder: Path, rep: str | None = None, weeks: int = WEEKS, ledger: str | None = None) -> dict:
    """The JSON of ``xlsales history``; :class:`xlsales.run.RunError` when there is no ledger to read."""
    from xlsales.io.ledger import LedgerError, ledger_url, open_ledger
    from xlsales.io.ledger_run import regions_of
    from xlsales.run import RunError, load_folder_setup

    folder = Path(folder).resolve()
    setup, _, _ = load_folder_setup(folder)
    url = ledger_url(folder, setup, ledger)
    if url is None:
        raise RunError("「设置」表的 ledger 为空:没有台账可读。请填写台账文件名或地址,或用 --ledger 指定。",
                       "'ledger' on the Settings sheet is empty: there is no ledger to read. Fill it in, or name "
                       "one with --ledger.")
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        raise RunError(f"台账 {url} 还不存在:先运行一次 xlsales consolidate。",
                       f"The ledger {url} does not exist yet: run xlsales consolidate first.")
    try:
        with open_ledger(url) as book:
            snaps = book.snapshots("folder")
            current = list(book.current("folder", regions_of(setup)).values())
            points = points_of(book, current)
            shown = book.shown
    except LedgerError as e:
        raise RunError(e.zh, e.en) from e
    out: dict = {"ledger": shown,
                 "snapshots": [{"id": s["id"], "period": s["period"].isoformat(), "as_of": s["as_of"].isoformat(),
                                "created": s["created"].isoformat(sep=" "), "files": s["files"],
                                "content_hash": s["content_hash"], "scope": s["scope"], "regions": s["regions"],
                                "superseded_by": s["superseded_by"]} for s in snaps],
                 "accuracy": {}, "changes": {}, "on_time": {}, "latest": None, "last_week": None}
    if not points:
        return out
    h = assemble(points[:-1], points[-1], setup, weeks=weeks)
    out["latest"] = points[-1].snapshot
    out["last_week"] = h.last_week.snapshot if h.last_week else None
    per = h.periods
    for r in per.to_dict("records"):
        if rep and r["rep_id"] != rep:
            continue
        if r["grain"] != "week":
            continue
        rec = out["on_time"].setdefault(r["rep_id"], {"weeks": 0, "submitted": 0, "on_time": 0})
        if _num(r["submitted"]) is not None:
            rec["weeks"] += 1
            rec["submitted"] += int(r["submitted"])
            rec["on_time"] += int(r["on_time"])
        commit, actual = _num(r["commit"]), _num(r["actual"])
        if commit is None or actual is None:
            continue
        out["accuracy"].setdefault(r["rep_id"], []).append(
            {"period": r["period"], "start": r["start"].isoformat(), "commit": commit, "actual": actual,
             "ratio": actual / commit if commit else None})
    changes = h.changes if not rep else h.changes[h.changes["rep_id"] == rep]
    out["changes"] = change_counts(changes)
    return out


def cmd_history(a: argparse.Namespace) -> int:
    from xlsales.console import EXIT_OK, say

    s = history_summary(Path(a.dir), a.rep, a.weeks, a.ledger)
    if a.json:
        print(json.dumps(s, ensure_ascii=False))
        return EXIT_OK
    say(f"台账 {s['ledger']}:{len(s['snapshots'])} 个快照", f"Ledger {s['ledger']}: {len(s['snapshots'])} snapshots")
    for x in s["snapshots"]:
        sup = f" → #{x['superseded_by']}" if x["superseded_by"] else ""
        print(f"  #{x['id']:<4} {x['period']} as of {x['as_of']} · {x['files']} files · {x['created']}{sup}")
    if s["accuracy"]:
        say("每周准确性(实际/承诺):", "Weekly accuracy (actual / commit):")
        for rep, weeks in s["accuracy"].items():
            cells = " ".join(f"{w['period']}:{w['ratio']:.0%}" if w["ratio"] is not None else f"{w['period']}:—"
                             for w in weeks)
            print(f"  {rep}: {cells}")
    if s["changes"]:
        c = s["changes"]
        say("最近一周商机变化:" + "、".join(f"{k} {v}" for k, v in c.items()),
            "Deal changes in the latest week: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("history", help="台账历史:快照、准确性、商机变化 / the ledger's history: snapshots, accuracy, "
                       "deal changes")
    s.add_argument("dir", help="主管文件夹 / the manager's folder")
    s.add_argument("--rep", help="只看一位业务员 / one rep only")
    s.add_argument("--weeks", type=int, default=WEEKS, help=f"最近几周(默认 {WEEKS})/ weeks back (default {WEEKS})")
    s.add_argument("--ledger", help="台账文件或地址 / ledger file or URL (default: the setup's)")
    s.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    s.set_defaults(func=cmd_history)
