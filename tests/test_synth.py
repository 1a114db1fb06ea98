"""The synthetic organisation and rep data: any size from 1 to 5,000 reps, valid, unique, and it always finishes."""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlsales import synth
from xlsales.cli import main
from xlsales.core import defaults
from xlsales.core.setup import Setup, validate
from xlsales.core.targets import UNASSIGNED, decompose
from xlsales.io.intake import read_rep
from xlsales.io.manager import load_setup

PERIOD = dt.date(2026, 11, 23)


def _check_org(setup: Setup, n: int) -> None:
    roster = setup.rows("roster")
    assert len(setup.active_reps()) == len(roster) == n
    ids = [r["rep_id"] for r in roster]
    assert len(set(ids)) == n
    assert len({r["name"] for r in roster}) == n
    assert validate(setup) == []
    region_of: dict[str, set[str]] = collections.defaultdict(set)
    area_of: dict[str, set[str]] = collections.defaultdict(set)
    for r in roster:
        region_of[r["team"]].add(r["region"])
        area_of[r["team"]].add(r["area"])
    assert all(len(v) == 1 for v in region_of.values()), "a team works in one region"
    sizes = collections.Counter(r["team"] for r in roster)
    if n > len(defaults.ROSTER):  # the sample's 华东一组 covers 上海 and 杭州; a generated team one city
        assert all(len(v) == 1 for v in area_of.values()), "a team works in one area"
        assert max(sizes.values()) - min(sizes.values()) <= 1 and max(sizes.values()) <= synth.TEAM_SIZE
    regions = {r["region"] for r in roster}
    assert {w["region"] for w in setup.rows("region_weights")} == regions
    assert {(w["region"], w["area"]) for w in setup.rows("area_weights")} == {(r["region"], r["area"]) for r in roster}
    targets, issues = decompose(setup, "revenue")
    # the sample's R012 is a new rep at 50% ramp alone in 东莞: half of 东莞 is rightly unassigned and said so
    ramping = n <= len(defaults.ROSTER) and "R012" in ids
    assert [(i.rule, i.value) for i in issues] == ([("target_ramp_unassigned", "东莞")] if ramping else [])
    reps = targets[targets.level == "rep"]
    assert set(reps.rep) - {UNASSIGNED} == set(ids)
    assert int(reps.target.sum()) == 120_000_000


def _check_fills(fills: list[synth.RepFill], setup: Setup, volume: synth.Volume) -> None:
    roster = setup.rows("roster")
    assert [f.rep["rep_id"] for f in fills] == [r["rep_id"] for r in roster]
    customers = [c["customer"] for f in fills for c in f.data["customers"]]
    assert len(customers) == len(set(customers)), "customer names are unique across reps"
    opp_ids = [d["opp_id"] for f in fills for d in f.data["opportunities"]]
    assert len(opp_ids) == len(set(opp_ids))
    months = int(setup.threshold("forecast_months"))
    for f in fills:
        d = f.data
        assert volume.customers[0] <= len(d["customers"]) <= volume.customers[1]
        assert volume.deals[0] <= len(d["opportunities"]) <= volume.deals[1]
        assert volume.visits_done[0] + volume.visits_planned[0] <= len(d["visits"]) \
            <= volume.visits_done[1] + volume.visits_planned[1]
        assert len(d["forecast"]) == months and len(d["weekly"]) == 1
        own = {c["customer"] for c in d["customers"]}
        assert {x["customer"] for x in d["opportunities"]} <= own
        assert {v["customer"] for v in d["visits"]} <= own


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**16))
@example(1, 7).via("the smallest organisation")
@example(12, 7).via("the sample")
@example(13, 7).via("the first generated organisation")
@example(synth.MAX_REPS, 7).via("the largest")
def test_any_size_organisation_is_valid_and_fully_filled(n: int, seed: int) -> None:
    setup = synth.demo_setup(n, PERIOD, seed)
    _check_org(setup, n)
    fills = synth.generate(setup, seed=seed, mistakes=False)
    _check_fills(fills, setup, synth.DEMO)


def test_the_sample_is_unchanged() -> None:
    sample, twelve = Setup.default(None, PERIOD), synth.demo_setup(12, PERIOD)
    for key in ("roster", "region_weights", "area_weights"):
        assert twelve.rows(key) == sample.rows(key), key
    assert [(f.rep, f.data, f.mistakes) for f in synth.generate(twelve, seed=7)] == \
        [(f.rep, f.data, f.mistakes) for f in synth.generate(sample, seed=7)]


def test_small_organisations_are_the_first_reps_of_the_sample() -> None:
    org = synth.organisation(4)
    assert org.roster == defaults.ROSTER[:4]
    assert [w["region"] for w in org.region_weights] == ["华东"]
    assert [w["area"] for w in org.area_weights] == ["上海", "杭州", "南京"]


def test_generated_organisation_scales_teams_areas_and_regions() -> None:
    shapes = {}
    for n in (13, 50, 200, 1000, synth.MAX_REPS):
        org = synth.organisation(n)
        shapes[n] = (len(org.teams), len(org.area_weights), len(org.region_weights))
        assert len(org.teams) == -(-n // synth.TEAM_SIZE)
        assert len(set(org.teams)) == len(org.teams), "team names are unique across the company"
    teams, areas, regions = zip(*(shapes[n] for n in sorted(shapes)), strict=True)
    assert list(teams) == sorted(teams) and list(areas) == sorted(areas) and list(regions) == sorted(regions)
    assert shapes[13][2] == 1 and shapes[200][2] == len(synth.CITIES)
    assert synth.organisation(1000).roster[-1]["rep_id"] == "R1000"
    assert synth.organisation(200, seed=1).roster != synth.organisation(200, seed=2).roster
    assert synth.organisation(200, seed=1).roster == synth.organisation(200, seed=1).roster


@pytest.mark.parametrize("bad", [0, -3, synth.MAX_REPS + 1, True, 2.5, "12"])
def test_sizes_outside_the_range_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="1 到 5,000") as e:
        synth.organisation(bad)  # type: ignore[arg-type]
    assert "must be from 1 to 5,000" in str(e.value)


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
    setup = synth.demo_setup(20, PERIOD)
    fills = synth.generate(setup, seed=5, reps=3, mistakes=False, volume=synth.REALISTIC)
    assert [len(f.data["opportunities"]) for f in fills] == [150] * 3
    assert [len(f.data["visits"]) for f in fills] == [250] * 3
    for f in fills:
        done = [v["date"] for v in f.data["visits"] if v["status"] != "planned"]
        planned = [v["date"] for v in f.data["visits"] if v["status"] == "planned"]
        # the Monday report's calendar: done visits last week, planned ones this week and next
        assert all(PERIOD - dt.timedelta(days=7) <= d < PERIOD for d in done)
        assert all(PERIOD <= d <= PERIOD + dt.timedelta(days=13) for d in planned)
        won = [d["close_date"] for d in f.data["opportunities"] if d["stage"] == "Won"]
        assert won and max(won) <= PERIOD
    # The workbook holds all of it and reads back every row.
    path = synth.write_fills(setup, fills[:1], tmp_path)[0]
    r = read_rep(path, setup)
    assert [i for i in r.issues if i.severity == "error"] == []
    assert r.tables["opportunities"].rows_read == 150 and len(r.tables["opportunities"].accepted) == 150
    assert r.tables["visits"].rows_read == 250 and len(r.tables["visits"].accepted) == 250


@pytest.mark.parametrize(("n", "word"), [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (47, "四十七"),
                                         (99, "九十九"), (100, "100")])
def test_zh_number(n: int, word: str) -> None:
    assert synth.zh_number(n) == word


@pytest.mark.parametrize("reps", ["0", "5001", "-1"])
def test_demo_refuses_sizes_outside_the_range(tmp_path, capsys, reps: str) -> None:
    d = tmp_path / "demo"
    assert main(["demo", str(d), "--reps", reps]) == 2
    err = capsys.readouterr().err
    assert "业务员人数" in err and "must be from 1 to 5,000" in err and reps in err
    assert not d.exists()


def test_demo_builds_an_organisation_of_n_reps(tmp_path, capsys) -> None:
    d = tmp_path / "demo"
    assert main(["demo", str(d), "--reps", "20", "--period", "2026-11-23"]) == 0
    setup, issues = load_setup(d)
    assert issues == []
    assert len(setup.active_reps()) == 20
    assert [r["rep_id"] for r in setup.rows("roster")] == [f"R{i:03d}" for i in range(1, 21)]
    assert {r["team"] for r in setup.rows("roster")} == {"上海一组", "上海二组", "北京组"}
    assert len([p for p in (d / "templates").glob("*.xlsx") if "-" not in p.stem]) == 20  # rolled to next week
    assert len(list((d / "templates").glob("R*-2026-11-23.xlsx"))) == 20  # this week's, kept
    assert len(list((d / "inbox").glob("*.xlsx"))) == 19, "one rep forgets to submit"
    capsys.readouterr()
    assert main(["consolidate", str(d), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"]["read"] == 19 and summary["files"]["missing"] == 1
