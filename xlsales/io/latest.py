"""Each rep's latest accepted submission, wherever the folder keeps it: the inbox first, then the ledger.

Rolling forward (:func:`xlsales.run.roll_folder`) pre-fills next week's workbook from what a rep last
submitted.  The inbox is read exactly as a consolidation reads it (:func:`xlsales.io.inbox.consolidate`:
safe reading, signed identity, the latest file per rep); only the accepted rows of the file that counts
are taken.  A rep with no counted file there is looked up in the ledger, newest week first: the rows of
their accepted submission in the snapshot in force of that week.  Nothing here writes a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlsales.core import schema
from xlsales.core.issues import Issue
from xlsales.core.records import plain, plain_records
from xlsales.core.setup import Setup

TABLES = tuple(t.key for t in schema.REP_TABLES)


@dataclass
class Latest:
    """One rep's newest accepted submission: its period, where it was found, its accepted rows by table."""

    rep_id: str
    period: dt.date | None
    source: str  # the inbox file, or "台账 ledger #<snapshot>"
    kind: str  # inbox | ledger
    tables: dict[str, list[dict]] = field(default_factory=dict)
    rejected: int = 0  # rows of that submission that did not count (not carried)


def from_inbox(inbox: Path, setup: Setup, week: dt.date, key: bytes | None,
               cache: Path | None = None) -> tuple[dict[str, Latest], list[Issue]]:
    """The counted file of each rep in ``inbox`` read as of ``week`` (its accepted rows) and the reading's issues.

    ``cache``: the folder of cached reads a consolidation of the same inbox keeps (:mod:`xlsales.io.cache`)."""
    from xlsales.io.inbox import consolidate

    if not Path(inbox).is_dir():
        return {}, []
    c = consolidate(Path(inbox), setup, week, key=key, cache=cache)
    by_file = {k: _rows_by(c.frames[k], lambda df: df["_file"].astype(str), lambda df: df["_ok"]) for k in TABLES}
    out: dict[str, Latest] = {}
    for f in c.files:
        if f.status != "accepted" or not f.rep_id:
            continue
        tables = {k: by_file[k].get(f.display, []) for k in TABLES}
        out[str(f.rep_id)] = Latest(str(f.rep_id), f.period, f.display, "inbox", tables, f.rows_rejected)
    return out, c.issues


def from_ledger(folder: Path, setup: Setup, reps: list[str], before: dt.date, override: str | None = None
                ) -> dict[str, Latest]:
    """For each of ``reps``, the accepted rows of their submission in the newest snapshot in force of a week up
    to ``before``; a ledger that does not exist yet, or cannot be opened, gives nothing."""
    from xlsales.io.ledger import SUBMISSIONS, LedgerError, ledger_url, not_made_yet, open_ledger
    from xlsales.io.ledger_run import regions_of

    url = ledger_url(folder, setup, override)
    if url is None or not reps or not_made_yet(url):
        return {}
    out: dict[str, Latest] = {}
    try:
        with open_ledger(url) as ledger:
            snaps = [s for p, s in ledger.current("folder", regions_of(setup)).items() if p <= before]
            wanted = set(reps)
            for snap in reversed(snaps):
                sid = int(snap["id"])
                subs = ledger.table(SUBMISSIONS, sid)
                have = {str(r.rep_id): r for r in subs.itertuples() if r.status == "accepted" and str(r.rep_id) in wanted}
                if not have:
                    continue
                by_rep = {k: _rows_by(ledger.rows(sid, k), lambda d: d["rep_id"].astype(str),
                                      lambda d: d["_ok"].astype(bool)) for k in TABLES}
                for rep_id, sub in have.items():
                    tables = {k: rows.get(rep_id, []) for k, rows in by_rep.items()}
                    period = sub.period if isinstance(sub.period, dt.date) else snap["period"]
                    out[rep_id] = Latest(rep_id, period, f"台账 ledger #{sid} ({snap['period']})", "ledger", tables,
                                         _count(sub.rows_rejected))
                    wanted.discard(rep_id)
                if not wanted:
                    break
    except LedgerError:
        return out
    return out


def _count(v: object) -> int:
    v = plain(v)
    return int(v) if isinstance(v, int | float) else 0


def _rows_by(df: pd.DataFrame | None, key: Callable[[pd.DataFrame], pd.Series],
             ok: Callable[[pd.DataFrame], pd.Series]) -> dict[str, list[dict]]:
    """The rows of ``df`` that ``ok(df)`` selects, as plain dicts (NaN and NaT as None, timestamps as dates), by
    their value of ``key(df)`` (a file's name, a rep's id), each list in the frame's order."""
    if df is None or df.empty or "rep_id" not in df.columns:
        return {}
    chosen = df[ok(df)]
    out: dict[str, list[dict]] = {}
    for k, row in zip(key(chosen).tolist(), plain_records(chosen), strict=True):
        out.setdefault(k, []).append(row)
    return out
