"""Nothing a typo, a bad argument or a broken setup does ends in a traceback (issue #16 §1, §4).

Every case runs the real command on a real folder made by ``xlsales demo``/``init`` and expects a
message in zh and en and exit code 2, with nothing written.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlsales.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    got = capsys.readouterr()
    return code, got.out, got.err


def zh_and_en(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and any("a" <= ch <= "z" for ch in text)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def set_value(path: Path, sheet: str, key: str, value: object) -> str:
    """Set the value of ``key`` on a key/value setup sheet (设置 or 阈值); returns the cell."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb[sheet]
    for row in ws.iter_rows(min_row=1):
        if row[0].value == key:
            row[2].value = value
            wb.save(path)
            return row[2].coordinate
    raise AssertionError(f"{key} not on {sheet}")


# --- §1 bad arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_an_as_of_date_the_calendar_cannot_handle_is_exit_2(demo, capsys, as_of):
    before = snapshot(demo / "reports")
    code, _, err = run(capsys, "consolidate", demo, "--as-of", as_of)
    assert code == 2, err
    assert as_of in err and "--as-of" in err and zh_and_en(err)
    assert snapshot(demo / "reports") == before


def test_a_setup_period_the_calendar_cannot_handle_is_a_setup_error_naming_its_cell(demo, capsys):
    cell = set_value(demo / "manager.xlsm", "设置", "period", "9999-12-31")
    code, _, err = run(capsys, "consolidate", demo)
    assert code == 2, err
    assert f"设置!{cell}" in err and "setup_value" in err and "2099" in err


@pytest.mark.parametrize("period", ["9999-12-31", "0001-01-01"])
def test_init_with_a_period_out_of_range_writes_nothing(tmp_path, capsys, period):
    code, _, err = run(capsys, "init", tmp_path / "t", "--period", period)
    assert code == 2 and zh_and_en(err) and "--period" in err
    assert not (tmp_path / "t").exists()


def test_init_onto_the_manager_workbook_is_a_message(demo, capsys):
    before = (demo / "manager.xlsm").read_bytes()
    for args in (["init", demo / "manager.xlsm"], ["init", demo / "manager.xlsm", "--force"]):
        code, _, err = run(capsys, *args)
        assert code == 2 and zh_and_en(err) and "manager.xlsm" in err
    assert (demo / "manager.xlsm").read_bytes() == before


def test_init_with_an_xlsx_roster_reads_it_through_the_safe_reader(tmp_path, capsys):
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["业务员编号", "姓名", "团队", "大区", "在职"])
    ws.append(["S01", "甲", "北区", "北方", "是"])
    ws.append(["S02", "乙", "北区", "北方", "否"])
    ws.append(["S03", "丙", "南区", "南方", None])
    wb.save(roster)
    code, _, err = run(capsys, "init", tmp_path / "t", "--roster", roster)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "t" / "templates").iterdir()) == ["S01.xlsx", "S03.xlsx"]


def test_init_with_a_gb18030_roster_csv(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_bytes("业务员编号,姓名,团队,大区\nS01,张三,华东一组,华东\n".encode("gb18030"))
    code, _, err = run(capsys, "init", tmp_path / "t", "--roster", roster)
    assert code == 0, err
    assert [p.name for p in (tmp_path / "t" / "templates").iterdir()] == ["S01.xlsx"]


@pytest.mark.parametrize("content", [b"\x00\x01\x02\xff\xfe\x95\x96 binary", b"PK\x03\x04 broken zip"])
def test_init_with_an_unreadable_roster_is_exit_2(tmp_path, capsys, content):
    for name in ("roster.csv", "roster.xlsx"):
        roster = tmp_path / name
        roster.write_bytes(content)
        code, _, err = run(capsys, "init", tmp_path / "t", "--roster", roster)
        assert code == 2 and zh_and_en(err) and name in err, err
        assert not (tmp_path / "t").exists()


def test_init_with_an_empty_roster_is_exit_2(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("业务员编号,姓名,团队,大区\n", encoding="utf-8")
    code, _, err = run(capsys, "init", tmp_path / "t", "--roster", roster)
    assert code == 2 and zh_and_en(err) and "roster.csv" in err


def test_an_actuals_csv_with_a_200k_character_field_is_exit_2(demo, capsys, tmp_path):
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("业务员编号,月份,类型,金额\nR001,2026-11,销售额,100\nR001,2026-11,销售额,\"" + "x" * 200_000
                       + "\"\n", encoding="utf-8")
    before = snapshot(demo / "reports")
    code, _, err = run(capsys, "consolidate", demo, "--actuals", actuals)
    assert code == 2, err
    assert "actuals.csv" in err and zh_and_en(err) and "3" in err  # the line
    assert snapshot(demo / "reports") == before


@pytest.mark.parametrize(("content", "why"), [
    ("rep,when,what,how much\nR001,2026-11,revenue,100\n", "headers"),  # none of the Actuals headers
    ("业务员编号,月份,金额\nR001,2026-11,100\n", "类型"),  # a required column missing
    ("业务员编号,月份,类型,金额\n", "rows"),  # the right headers, no rows
])
def test_actuals_that_are_not_actuals_are_exit_2_never_a_silent_fallback_to_won_deals(demo, capsys, tmp_path,
                                                                                        content, why):
    actuals = tmp_path / "erp.csv"
    actuals.write_text(content, encoding="utf-8")
    before = snapshot(demo / "reports")
    code, _, err = run(capsys, "consolidate", demo, "--actuals", actuals)
    assert code == 2, err
    assert "erp.csv" in err and zh_and_en(err)
    assert snapshot(demo / "reports") == before
@pytest.mark.parametrize("value", [1e6, 0, -3, 37, 2.5])
def test_forecast_months_out_of_range_is_a_setup_error_naming_its_cell(demo, capsys, value):
    cell = set_value(demo / "manager.xlsm", "阈值", "forecast_months", value)
    code, _, err = run(capsys, "consolidate", demo)
    assert code == 2, err
    assert f"阈值!{cell}" in err and "forecast_months" in err and zh_and_en(err)



# --- §4 the setup is checked, never silently replaced --------------------------------------------------


REQUIRED = {"设置": "setup_table_missing", "名单": "setup_table_missing", "阶段": "setup_table_missing",
            "列表": "setup_table_missing", "阈值": "setup_table_missing", "目标": "setup_table_missing"}


def edit_manager(path: Path, edit) -> None:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    edit(wb)
    wb.save(path)


@pytest.mark.parametrize("sheet", list(REQUIRED))
def test_a_deleted_required_setup_sheet_stops_consolidate_and_targets_naming_it(demo, capsys, sheet):
    edit_manager(demo / "manager.xlsm", lambda wb: wb.remove(wb[sheet]))
    before = snapshot(demo / "reports")
    for command in ("consolidate", "targets"):
        code, _, err = run(capsys, command, demo)
        assert code == 2, (command, err)
        assert "setup_table_missing" in err and f"manager.xlsm!{sheet}" in err and zh_and_en(err), err
    assert snapshot(demo / "reports") == before  # no report on the sample organisation or the sample target


@pytest.mark.parametrize("sheet", ["名单", "阶段", "目标", "阈值"])
def test_an_emptied_required_setup_table_stops_the_run_naming_it(demo, capsys, sheet):
    def empty(wb):
        ws = wb[sheet]
        ws.delete_rows(3, ws.max_row)

    edit_manager(demo / "manager.xlsm", empty)
    code, _, err = run(capsys, "consolidate", demo)
    assert code == 2, err
    assert "setup_table_empty" in err and f"manager.xlsm!{sheet}!A3" in err


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("actual_vs_commit_low", 1.2, "threshold_inverted"),  # above actual_vs_commit_high (110%)
    ("commit_vs_booked_low", 1.01, "threshold_inverted"),  # above commit_vs_booked_high (100%)
    ("mom_growth_min", 0.2, "threshold_inverted"),  # above mom_growth_good (10%)
    ("commit_min_probability", 1.5, "threshold_value"),
    ("commit_min_probability", -0.1, "threshold_value"),
    ("max_amount", 0, "threshold_value"),
    ("max_amount", -5, "threshold_value"),
])
def test_thresholds_out_of_range_or_upside_down_are_named_by_cell(demo, capsys, key, value, rule):
    cell = set_value(demo / "manager.xlsm", "阈值", key, value)
    code, _, err = run(capsys, "consolidate", demo)
    assert code == 2, err
    assert f"{rule} manager.xlsm!阈值!{cell}" in err and key in err and zh_and_en(err)
    code, _, err = run(capsys, "targets", demo)
    assert code == 2 and rule in err


def test_one_team_spelt_two_ways_within_a_region_is_an_error(demo, capsys):
    def respell(wb):
        ws = wb["名单"]
        ws["C3"] = "HD一组"  # R001 and R002, region 华东
        ws["C4"] = "HD一组"
        ws["C5"] = "ＨＤ一组"  # R003, same region, full-width letters: the same team to a reader, another to SUMIFS
    edit_manager(demo / "manager.xlsm", respell)
    code, _, err = run(capsys, "consolidate", demo)
    assert code == 2, err
    assert "duplicate_team manager.xlsm!名单!C5" in err and "HD一组" in err and "C3" in err
    assert err.count("duplicate_team") == 1
