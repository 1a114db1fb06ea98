"""What the ledger's history tells a manager: deal changes, forecast accuracy and bias, on-time record, win rates.

Each rule below is a definition (``docs/figures.md`` repeats them); the report writes the rows these
functions make into its own tables and every figure over them is a formula (:mod:`xlsales.report.history_sheets`).

A **point** is one consolidation as history sees it: its period and as-of date, the accepted deals, the
reps whose file counted and whether each was on time — the snapshot in force of an earlier period (the
latest one: a resubmission supersedes), or the consolidation running now.

* **Deal changes since last week** compare the deals of last week's point with now, for the reps whose file
  counted both times, deal by deal (rep + deal id):
  *new* — not in last week's list; *won* / *lost* — now won / lost and not so last week;
  *slipped* — still open, and its expected close moved past the end of the period it was in (its week for a
  commit deal, its month otherwise); *pulled in* — moved before that period's start;
  *stage back* — still open at a stage earlier in the stage table; *amount cut* / *raised* — the amount of an
  open deal changed; *category changed* — both open (commit, upside, pipeline) and the category differs;
  *vanished* — open last week, gone now without being marked lost.
* **Forecast accuracy** of a week = actual ÷ commit, where the commit is the adjusted commit the week's own
  consolidation recorded (made at the week's start) and the actual is the rep's won deals closing in that
  week, as the first later consolidation with the rep's file reports them.  Of a month: the month's
  forecast in the first consolidation of that month, against the won deals closing in the month as the first
  consolidation after it reports them.  A period without a commit, or without a later report, has no ratio.
  *In band* = inside ``actual_vs_commit_low``–``high`` (95–110%); *bias* = mean (actual ÷ commit) − 1 over
  the periods with a ratio (above 0: sandbagging, below: over-commit); *volatility* = the standard deviation
  of the weekly commit ÷ its mean, over the weeks on record.
* **On time** per week: the rep's file for that week counted and was saved before Monday 09:00.
* **Win rates**: every deal seen in the history at an open stage; its *outcome* is its category when last
  seen (won, lost, else open).  Win rate of a stage = won ÷ (won + lost) of the deals seen at it;
  *conversion* = the share of them seen later at a later stage or won.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from xlsales.core.periods import add_months, month_window
from xlsales.core.records import rows_of

if TYPE_CHECKING:
    from xlsales.core.combine import Consolidation
    from xlsales.core.setup import Setup

OPEN = ("commit", "upside", "pipeline")
CHANGE_KINDS: tuple[tuple[str, str, str], ...] = (  # code, zh, en
    ("new", "新增", "New"), ("won", "赢单", "Won"), ("lost", "丢单", "Lost"),
    ("slipped", "推迟", "Slipped"), ("pulled_in", "提前", "Pulled in"), ("stage_back", "阶段倒退", "Stage back"),
    ("amount_cut", "金额下调", "Amount cut"), ("amount_raised", "金额上调", "Amount raised"),
    ("category", "类别变更", "Category changed"), ("vanished", "消失(未标丢单)", "Vanished (not marked lost)"),
)
WEEKS, MONTHS = 13, 12
HISTORY_REVIEW, HISTORY_FIGURES = "weekly", ("commit_adj", "month_forecast")  # the reps' figures history reads
PATH_WEEKS = 52  # win rates read this many weeks of history
CHANGE_COLUMNS = ["rep_id", "change", "opp_id", "customer", "amount_before", "amount_after", "close_before",
                  "close_after", "stage_before", "stage_after", "category_before", "category_after"]
PERIOD_COLUMNS = ["rep_id", "grain", "period", "start", "end", "commit", "actual", "submitted", "on_time", "snapshot"]
PATH_COLUMNS = ["rep_id", "opp_id", "customer", "stage", "probability", "outcome", "advanced", "first", "first_seen",
                "last_seen"]


@dataclass
class Point:
    """One consolidation as history sees it."""

    period: dt.date
    as_of: dt.date
    deals: pd.DataFrame  # accepted opportunities: rep_id, opp_id, customer, amount, stage, category, close_date
    counted: set[str]  # reps whose file counted
    on_time: dict[str, bool]  # every rep of the roster then: on time?
    figures: pd.DataFrame | None = None  # review figures (level, key, review, name, value), at least the reps'
    # HISTORY_FIGURES of HISTORY_REVIEW; None for "now"
    snapshot: int | None = None


@dataclass
class History:
    """The history a report shows: the points used and the rows of the history tables (codes, not labels)."""

    points: list[Point]  # earlier points, oldest first
    now: Point
    last_week: Point | None
    changes: pd.DataFrame
    periods: pd.DataFrame
    paths: pd.DataFrame
    snapshots: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.points


# --- points ------------------------------------------------------------------------------------------------

DEAL_COLUMNS = ["rep_id", "opp_id", "customer", "amount", "stage", "category", "close_date"]


def deals_of(df: pd.DataFrame) -> pd.DataFrame:
    if df is None or df.empty:
        return pd.DataFrame(columns=DEAL_COLUMNS)
    df = df[df["_ok"].astype(bool)] if "_ok" in df.columns else df
    out = df.reindex(columns=DEAL_COLUMNS).copy()
    out["rep_id"] = out["rep_id"].astype(str)
    out["opp_id"] = out["opp_id"].map(lambda v: None if v is None or v != v else str(v))
    return out[out["opp_id"].notna()].drop_duplicates(["rep_id", "opp_id"], keep="first").reset_index(drop=True)


def point_of(c: Consolidation, deadline: dt.datetime, roster: list[str]) -> Point:
    """The consolidation running now as a point."""
    counted = {str(f.rep_id) for f in c.files if f.status == "accepted" and f.rep_id}
    on_time = dict.fromkeys(roster, False)
    for f in c.files:
        if f.status == "accepted" and f.rep_id:
            on_time[str(f.rep_id)] = (f.period == c.period and f.modified is not None and f.modified <= deadline)
    return Point(c.period, c.as_of, deals_of(c.frames["opportunities"]), counted, on_time)


def _period_of(d: dt.date, commit: bool) -> tuple[dt.date, dt.date]:
    if commit:
        a = d - dt.timedelta(days=d.weekday())
        return a, a + dt.timedelta(days=6)
    return month_window(d)


def _num(v: object) -> float | None:
    """A number, or None (blank, NaN, text)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def _date(v: object) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    return v if isinstance(v, dt.date) else None


def deal_changes(before: Point, now: Point, stage_order: dict[str, int]) -> pd.DataFrame:
    """One row per deal and change since ``before`` (see the module doc), for the reps counted both times."""
    reps = before.counted & now.counted
    old = {(r["rep_id"], r["opp_id"]): r for r in rows_of(before.deals) if r["rep_id"] in reps}
    new = {(r["rep_id"], r["opp_id"]): r for r in rows_of(now.deals) if r["rep_id"] in reps}
    rows: list[dict] = []

    def add(kind: str, b: dict | None, a: dict | None) -> None:
        x = a or b or {}
        rows.append({"rep_id": x["rep_id"], "change": kind, "opp_id": x["opp_id"],
                     "customer": (a or {}).get("customer") or (b or {}).get("customer"),
                     "amount_before": _num((b or {}).get("amount")), "amount_after": _num((a or {}).get("amount")),
                     "close_before": _date((b or {}).get("close_date")),
                     "close_after": _date((a or {}).get("close_date")),
                     "stage_before": (b or {}).get("stage"), "stage_after": (a or {}).get("stage"),
                     "category_before": (b or {}).get("category"), "category_after": (a or {}).get("category")})

    for key, a in new.items():
        b = old.get(key)
        if b is None:
            add("new", None, a)
        if a["category"] == "closed" and (b is None or b["category"] != "closed"):
            add("won", b, a)
        if a["category"] == "lost" and (b is None or b["category"] != "lost"):
            add("lost", b, a)
        if b is None or b["category"] not in OPEN:
            continue
        if a["category"] in OPEN:
            cb, ca = _date(b["close_date"]), _date(a["close_date"])
            if cb is not None and ca is not None:
                start, end = _period_of(cb, b["category"] == "commit")
                if ca > end:
                    add("slipped", b, a)
                elif ca < start:
                    add("pulled_in", b, a)
            sb, sa = stage_order.get(str(b["stage"])), stage_order.get(str(a["stage"]))
            if sb is not None and sa is not None and sa < sb:
                add("stage_back", b, a)
            xb, xa = _num(b["amount"]), _num(a["amount"])
            if xb is not None and xa is not None and xa != xb:
                add("amount_cut" if xa < xb else "amount_raised", b, a)
            if a["category"] != b["category"]:
                add("category", b, a)
    for key, b in old.items():
        if key not in new and b["category"] in OPEN:
            add("vanished", b, None)
    df = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    return df.sort_values(["rep_id", "change", "opp_id"], kind="stable").reset_index(drop=True) if len(df) else df


# --- accuracy and the on-time record -------------------------------------------------------------------------

class _ByRep:
    """Each point's rep-level review figures and won deals, indexed by rep the first time they are asked for —
    not filtered out of the whole point once per rep and period."""

    def __init__(self) -> None:
        self._figures: dict[int, dict[tuple[str, str, str], float]] = {}
        self._won: dict[int, dict[str, list[tuple[dt.date | None, float | None]]]] = {}

    def figure(self, p: Point, rep: str, review: str, name: str) -> float | None:
        """The rep's figure ``name`` of ``review`` that ``p`` recorded (the first one), or None."""
        got = self._figures.get(id(p))
        if got is None:
            got = self._figures[id(p)] = {}
            f = p.figures
            if f is not None and not f.empty:
                mine = f[f["level"] == "rep"]
                for who, of, figure, value in zip(mine["key"], mine["review"], mine["name"], mine["value"],
                                                  strict=True):
                    got.setdefault((who, of, figure), float(value))
        return got.get((rep, review, name))

    def won(self, p: Point, rep: str, a: dt.date, b: dt.date) -> float:
        """The amounts of the rep's won deals closing from ``a`` to ``b`` as ``p`` reports them."""
        got = self._won.get(id(p))
        if got is None:
            got = self._won[id(p)] = {}
            d = p.deals
            if not d.empty:
                hit = d[d["category"] == "closed"]
                for who, amount, close in zip(hit["rep_id"], hit["amount"], hit["close_date"], strict=True):
                    got.setdefault(who, []).append((_date(close), _num(amount)))
        total = 0.0
        for c, x in got.get(rep, ()):
            if c is not None and x is not None and a <= c <= b:
                total += x
        return total


def _reporter(points: list[Point], rep: str, end: dt.date) -> Point | None:
    """The first point after ``end`` in which the rep's file counted: it reports the period's actual."""
    return next((p for p in points if p.as_of > end and rep in p.counted), None)


def periods(points: list[Point], now: Point, reps: list[str], weeks: int = WEEKS, months: int = MONTHS
            ) -> pd.DataFrame:
    """Per rep: the last ``weeks`` report weeks and ``months`` months before now with their commit and actual,
    and this week's submission (no actual yet)."""
    seq = [*points, now]
    rows: list[dict] = []
    by_rep = _ByRep()
    first_week = now.period - dt.timedelta(days=7 * weeks)
    week_points = [p for p in points if first_week <= p.period < now.period]
    month0 = add_months(now.as_of.replace(day=1), -months)
    by_month: dict[dt.date, Point] = {}
    for p in points:
        m = p.as_of.replace(day=1)
        if month0 <= m < now.as_of.replace(day=1) and m not in by_month:
            by_month[m] = p  # the first consolidation of the month
    for rep in reps:
        for p in week_points:
            end = p.period + dt.timedelta(days=6)
            if rep not in p.on_time and rep not in p.counted:
                continue  # not on the roster then
            commit = by_rep.figure(p, rep, HISTORY_REVIEW, "commit_adj")
            reporter = _reporter(seq, rep, end)
            rows.append({"rep_id": rep, "grain": "week", "period": _week_name(p.period), "start": p.period,
                         "end": end, "commit": commit or 0.0,
                         "actual": None if reporter is None else by_rep.won(reporter, rep, p.period, end),
                         "submitted": int(rep in p.counted), "on_time": int(bool(p.on_time.get(rep))),
                         "snapshot": p.snapshot})
        rows.append({"rep_id": rep, "grain": "week", "period": _week_name(now.period), "start": now.period,
                     "end": now.period + dt.timedelta(days=6), "commit": None, "actual": None,
                     "submitted": int(rep in now.counted), "on_time": int(bool(now.on_time.get(rep))),
                     "snapshot": None})
        for m, p in sorted(by_month.items()):
            a, b = month_window(m)
            if rep not in p.counted:
                continue
            reporter = _reporter(seq, rep, b)
            rows.append({"rep_id": rep, "grain": "month", "period": m.strftime("%Y-%m"), "start": a, "end": b,
                         "commit": by_rep.figure(p, rep, HISTORY_REVIEW, "month_forecast") or 0.0,
                         "actual": None if reporter is None else by_rep.won(reporter, rep, a, b),
                         "submitted": None, "on_time": None, "snapshot": p.snapshot})
    return pd.DataFrame(rows, columns=PERIOD_COLUMNS)


def _week_name(d: dt.date) -> str:
    y, n, _ = d.isocalendar()
    return f"{y}-W{n:02d}"


# --- win rates ----------------------------------------------------------------------------------------------

def deal_paths(points: list[Point], now: Point, stage_order: dict[str, int], probability: dict[str, float]
               ) -> pd.DataFrame:
    """One row per deal and open stage it was seen at, with the deal's outcome and whether it moved on."""
    seen: dict[tuple[str, str], list[tuple[dt.date, dict]]] = {}
    for p in [*points, now]:
        for r in rows_of(p.deals):
            seen.setdefault((r["rep_id"], r["opp_id"]), []).append((p.as_of, r))
    rows = []
    for (rep, opp), hist in seen.items():
        last = hist[-1][1]
        outcome = {"closed": "won", "lost": "lost"}.get(str(last["category"]), "open")
        first = 1
        stages: dict[str, tuple[dt.date, dt.date, int]] = {}
        for k, (when, r) in enumerate(hist):
            st = str(r["stage"])
            if r["category"] not in OPEN or st not in stage_order:
                continue
            a, _, idx = stages.get(st, (when, when, k))
            stages[st] = (a, when, idx)
        for st, (a, b, idx) in sorted(stages.items(), key=lambda kv: stage_order[kv[0]]):
            later = hist[idx + 1:]
            advanced = any(x["category"] == "closed" or (x["category"] in OPEN and
                                                         stage_order.get(str(x["stage"]), -1) > stage_order[st])
                           for _, x in later)
            rows.append({"rep_id": rep, "opp_id": opp, "customer": last.get("customer"), "stage": st,
                         "probability": probability.get(st), "outcome": outcome, "advanced": advanced,
                         "first": first, "first_seen": a, "last_seen": b})
            first = 0
    return pd.DataFrame(rows, columns=PATH_COLUMNS)


# --- building the history of a consolidation -------------------------------------------------------------------

def stage_maps(setup: Setup) -> tuple[dict[str, int], dict[str, float]]:
    order = {str(r.en): i for i, r in enumerate(setup.stages.itertuples())}
    return order, setup.stage_probability()


def assemble(points: list[Point], now: Point, setup: Setup, weeks: int = WEEKS, months: int = MONTHS,
             snaps: list[dict] | None = None) -> History:
    order, prob = stage_maps(setup)
    last = next((p for p in points if p.period == now.period - dt.timedelta(days=7)), None)
    changes = deal_changes(last, now, order) if last else pd.DataFrame(columns=CHANGE_COLUMNS)
    reps = [str(r["rep_id"]) for r in setup.rows("roster") if r.get("active") in (True, None)]
    return History(points, now, last, changes, periods(points, now, reps, weeks, months),
                   deal_paths([p for p in points if p.period >= now.period - dt.timedelta(days=7 * PATH_WEEKS)],
                              now, order, prob), list(snaps or []))


def change_counts(changes: pd.DataFrame) -> dict[str, int]:
    counts = changes["change"].value_counts() if len(changes) else pd.Series(dtype=int)
    return {k: int(counts.get(k, 0)) for k, _, _ in CHANGE_KINDS}
