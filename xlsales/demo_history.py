"""The demo's past: the weeks before the demo week, consolidated in order so the ledger has a history to show.

:func:`past_fills` works backwards from the demo week's fills (:func:`xlsales.synth.generate`): a deal won
in the demo week was a commit deal closing on that day before it; a lost one was an open pipeline deal; of
the open deals some are new this week, some slipped (their expected close was earlier), some moved stage
or amount — each deal's story drawn once from the seed.  :func:`consolidate_past` writes and consolidates
those weeks oldest first — one rep late each week, one rep missing in one week, a resubmission that the
manager consolidates again — then leaves the inbox empty for the demo week itself.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from xlsales.core.periods import forecast_months
from xlsales.core.schema import CHECKLIST, Lang
from xlsales.core.setup import Setup
from xlsales.report.templates import build_rep_workbook
from xlsales.synth import RepFill, write_fills

if TYPE_CHECKING:
    from xlsales.run import ConsolidateResult

#: weeks of history the demo consolidates before the demo week
WEEKS = 4


def _story(rnd: random.Random, weeks: int) -> tuple[str, int]:
    """What happened to an open deal over the past ``weeks``: a kind and the week (1 = last week) it did."""
    kind = rnd.choices(["same", "new", "slipped", "stage_back", "advanced", "amount"], (40, 15, 15, 10, 10, 10))[0]
    return kind, rnd.randint(1, weeks)


def _with_stage(deal: dict, stage: str, setup: Setup) -> None:
    cats = {str(r.en): str(r.category) for r in setup.stages.itertuples()}
    deal["stage"] = stage
    deal["category"] = cats.get(stage, deal.get("category", "pipeline"))
    if deal["category"] == "commit":
        deal.update(dict.fromkeys(CHECKLIST, True))


def past_fills(setup: Setup, fills: list[RepFill], weeks: int = WEEKS, seed: int = 7
               ) -> list[tuple[dt.date, list[RepFill]]]:
    """The fills of the ``weeks`` report weeks before the demo week, oldest first."""
    period = setup.period
    rnd = random.Random(f"xlsales-demo-history-{seed}")
    order = [str(r.en) for r in setup.stages.itertuples() if 0 < float(r.probability) < 1]
    stories = {(f.rep["rep_id"], i): _story(rnd, weeks) for f in fills
               for i, _ in enumerate(f.data["opportunities"])}
    # besides, each rep commits a deal in each past week (its actual is reported by a later past week): most
    # are won that week, some for less, some a week late, some lost — the accuracy sheet's history
    booked = {(f.rep["rep_id"], k): (float(rnd.randrange(80, 900) * 1000), rnd.randint(0, 4),
                                     rnd.choices(["won", "cut", "late", "lost"], (65, 15, 10, 10))[0])
              for f in fills for k in range(weeks, 1, -1)}
    out = []
    for k in range(weeks, 0, -1):
        monday = period - dt.timedelta(days=7 * k)
        week = []
        for f in fills:
            data = copy.deepcopy(f.data)
            deals = _committed(f, booked, k, period, setup)
            for i, d in enumerate(data["opportunities"]):
                kind, when = stories[(f.rep["rep_id"], i)]
                close = d.get("close_date")
                if d.get("stage") == "Won" and isinstance(close, dt.date) and close >= monday:
                    _with_stage(d, "Negotiated", setup)  # committed for the day it was won
                elif d.get("stage") == "Lost" and isinstance(close, dt.date) and close >= monday:
                    _with_stage(d, "Intent", setup)
                    d["close_date"] = close + dt.timedelta(days=30)
                elif d.get("stage") in order and k >= when:  # before its change
                    if kind == "new":
                        continue
                    if kind == "slipped" and isinstance(close, dt.date):
                        d["close_date"] = max(monday, close - dt.timedelta(days=rnd.choice((14, 21, 35))))
                    elif kind in ("stage_back", "advanced"):
                        j = order.index(d["stage"]) + (1 if kind == "stage_back" else -1)
                        if 0 <= j < len(order):
                            _with_stage(d, order[j], setup)
                    elif kind == "amount" and isinstance(d.get("amount"), float):
                        d["amount"] = float(round(d["amount"] * rnd.choice((0.8, 1.25)) / 1000) * 1000)
                deals.append(d)
            data["opportunities"] = deals
            end = monday + dt.timedelta(days=7)
            data["weekly"] = [{
                "commit": float(sum(d["amount"] for d in deals if d["category"] == "commit"
                                    and isinstance(d["amount"], float) and monday <= d["close_date"] < end)),
                "upside": float(sum(d["amount"] for d in deals if d["category"] == "upside"
                                    and isinstance(d["amount"], float)
                                    and monday <= d["close_date"] < monday + dt.timedelta(days=21)))}]
            values = [m["forecast"] for m in data["forecast"]]
            data["forecast"] = [{"month": m, "forecast": values[min(j, len(values) - 1)],
                                 "upside": data["forecast"][min(j, len(values) - 1)]["upside"]}
                                for j, m in enumerate(forecast_months(monday, len(values)))]
            shift = dt.timedelta(days=7 * k)
            data["visits"] = [{**v, "date": v["date"] - shift} for v in data["visits"]]
            for d in deals:
                if isinstance(d.get("last_update"), dt.date):
                    d["last_update"] = d["last_update"] - shift
            week.append(RepFill(f.rep, data, list(f.mistakes)))
        out.append((monday, week))
    return out


def _committed(f: RepFill, booked: dict, j: int, period: dt.date, setup: Setup) -> list[dict]:
    """The past weeks' committed deals as rep ``f`` lists them in past week ``j`` (weeks before the demo week)."""
    out = []
    customers = f.data.get("customers") or [{"customer": ""}]
    for (rep, k), (amount, offset, fate) in booked.items():
        if rep != f.rep["rep_id"] or j > k:
            continue
        monday = period - dt.timedelta(days=7 * k)
        if fate == "late" and k < 3:  # a week late would be the demo week's own news: won on time instead
            fate = "won"
        d = {"opp_id": f"{rep}-H{k:02d}", "customer": customers[k % len(customers)]["customer"], "product": "运维服务",
             "amount": amount, "close_date": monday + dt.timedelta(days=offset), "next_action": "推动合同审批"}
        if fate == "late":
            if j == k - 1:
                d["close_date"] += dt.timedelta(days=7)  # slipped to the next week
            elif j < k - 1:
                d["close_date"] += dt.timedelta(days=7)
                _with_stage(d, "Won", setup)
                d["realized"] = True
                out.append(d)
                continue
        if j == k or (fate == "late" and j == k - 1):
            _with_stage(d, "Negotiated", setup)
        elif fate == "lost":
            _with_stage(d, "Lost", setup)
        else:
            _with_stage(d, "Won", setup)
            d["realized"] = True
            if fate == "cut":
                d["amount"] = float(round(amount * 0.8 / 1000) * 1000)
        out.append(d)
    return out


def _week_setup(setup: Setup, monday: dt.date) -> Setup:
    s = Setup(dict(setup.tables), setup.letters)
    settings = s.tables["settings"].copy()
    settings.loc[settings["key"] == "period", "value"] = monday.isoformat()
    s.tables["settings"] = settings
    return s


def consolidate_past(folder: Path, setup: Setup, fills: list[RepFill], lang: Lang, weeks: int = WEEKS,
                     seed: int = 7, after: Callable[[dt.date, ConsolidateResult], None] | None = None) -> list[ConsolidateResult]:
    """Write and consolidate each past week in ``folder`` (through :func:`xlsales.run.consolidate_folder`),
    oldest first; ``after(monday, result)`` is told of each consolidation.  The inbox is left empty."""
    from xlsales.run import consolidate_folder

    inbox = folder / (setup.setting("inbox", "inbox") or "inbox")
    results = []
    for n, (monday, week) in enumerate(past_fills(setup, fills, weeks, seed)):
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir(parents=True)
        s = _week_setup(setup, monday)
        sent = [f for i, f in enumerate(week) if not (n == 1 and i == len(week) - 2 and len(week) > 2)]
        paths = write_fills(s, sent, inbox, lang, submitted=True)
        if len(paths) > 1:  # a different rep is late each week (write_fills makes the last one late)
            late = paths[n % (len(paths) - 1)]
            at = dt.datetime.combine(monday, dt.time(11, 15)).timestamp()
            os.utime(late, (at, at))
        res = consolidate_folder(folder, as_of=monday)
        results.append(res)
        if after:
            after(monday, res)
        if n == weeks - 2 and week:  # a rep resubmits a corrected file on Monday afternoon; consolidated again
            f = copy.deepcopy(sent[0])
            f.data["opportunities"] = [d for d in f.data["opportunities"] if d.get("stage") != "Lost"] or \
                f.data["opportunities"]
            path = build_rep_workbook(inbox / f"{f.rep['rep_id']}.xlsx", s, f.rep, lang, f.data)
            at = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(22, 0)).timestamp()
            os.utime(path, (at, at))
            res = consolidate_folder(folder, as_of=monday)
            results.append(res)
            if after:
                after(monday, res)
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    return results
