"""The synthetic rep data: unique customers that never run out, and realistic-size reps."""

from __future__ import annotations

import datetime as dt

from xlsales import synth
from xlsales.intake import read_rep
from xlsales.setup import Setup

PERIOD = dt.date(2026, 11, 23)


def test_customer_names_never_run_out() -> None:
    """400 realistic reps in one city want ~28,000 customers there, more than brand × suffix can name."""
    roster = [{"rep_id": f"X{i:03d}", "name": f"业务员{i}", "team": "上海组", "region": "华东", "area": "上海",
               "active": True} for i in range(400)]
    setup = Setup.default(roster, PERIOD)
    fills = synth.generate(setup, seed=3, mistakes=False, volume=synth.REALISTIC)
    names = [c["customer"] for f in fills for c in f.data["customers"]]
    assert len(names) > len(synth.HEADS) * len(synth.TAILS) * len(synth.MORE_SUFFIX)
    assert len(names) == len(set(names))
    assert all(x.startswith("上海") for x in names)

def test_realistic_reps_have_150_deals_and_250_visits(tmp_path) -> None:
    setup = Setup.default(None, PERIOD)
    fills = synth.generate(setup, seed=5, reps=3, mistakes=False, volume=synth.REALISTIC)
    assert [len(f.data["opportunities"]) for f in fills] == [150] * 3
    assert [len(f.data["visits"]) for f in fills] == [250] * 3
    for f in fills:
        done = [v["date"] for v in f.data["visits"] if v["status"] != "planned"]
        planned = [v["date"] for v in f.data["visits"] if v["status"] == "planned"]
        assert PERIOD - dt.timedelta(weeks=11) <= min(done) and max(done) <= PERIOD + dt.timedelta(days=5)
        assert min(done) < PERIOD, "a quarter of history, not one crowded week"
        assert all(PERIOD + dt.timedelta(days=7) <= d <= PERIOD + dt.timedelta(days=11) for d in planned)
        won = [d["close_date"] for d in f.data["opportunities"] if d["stage"] == "Won"]
        assert won and max(won) <= PERIOD
    # The workbook holds all of it and reads back every row.
    path = synth.write_fills(setup, fills[:1], tmp_path)[0]
    r = read_rep(path, setup)
    assert [i for i in r.issues if i.severity == "error"] == []
    assert r.tables["opportunities"].rows_read == 150 and len(r.tables["opportunities"].accepted) == 150
    assert r.tables["visits"].rows_read == 250 and len(r.tables["visits"].accepted) == 250
