"""Reading the manager's setup back, and validating it with cell-precise issues."""

from __future__ import annotations

import openpyxl

from xlsales.core.setup import Setup, validate
from xlsales.io.manager import load_setup
from xlsales.report.templates import build_manager_workbook


def _plain(setup: Setup, key: str) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in setup.rows(key)]


def test_default_setup_is_valid(setup):
    assert validate(setup) == []


def test_manager_workbook_round_trip(tmp_path, setup):
    build_manager_workbook(tmp_path / "manager.xlsx", setup, "zh")
    loaded, issues = load_setup(tmp_path)
    assert issues == []
    for key in setup.tables:
        assert _plain(loaded, key) == setup.rows(key), key


def test_english_manager_workbook_round_trip(tmp_path, setup):
    build_manager_workbook(tmp_path / "manager.xlsx", setup, "en")
    loaded, issues = load_setup(tmp_path / "manager.xlsx")
    assert issues == []
    assert _plain(loaded, "stages") == setup.rows("stages")


def test_stage_probability_over_100_names_its_cell(tmp_path, setup):
    p = build_manager_workbook(tmp_path / "manager.xlsx", setup, "zh")
    wb = openpyxl.load_workbook(p)
    wb["阶段"]["C5"] = 1.3  # Intent at 130%
    wb.save(p)
    _, issues = load_setup(tmp_path)
    assert [(i.rule, i.sheet, i.cell) for i in issues] == [("out_of_range", "阶段", "C5")]
    assert "130%" in issues[0].zh


def test_duplicate_rep_id_and_bad_setting(tmp_path, setup):
    p = build_manager_workbook(tmp_path / "manager.xlsx", setup, "zh")
    wb = openpyxl.load_workbook(p)
    wb["名单"]["A4"] = "R001"
    ws = wb["设置"]
    for r in range(3, 20):
        if ws[f"A{r}"].value == "rounding_unit":
            ws[f"C{r}"] = "一千"
            cell = f"C{r}"
    wb.save(p)
    _, issues = load_setup(tmp_path)
    got = {(i.rule, i.sheet, i.cell) for i in issues}
    assert ("duplicate_key", "名单", "A4") in got
    assert ("setup_value", "设置", cell) in got
    assert len(issues) == 2


def test_missing_manager_workbook(tmp_path):
    _, issues = load_setup(tmp_path)
    assert [i.rule for i in issues] == ["setup_missing"]


def test_a_list_s_choices_are_its_rows_in_order_else_its_defaults_and_stages_come_from_the_stage_table(setup):
    """A manager who edited the Lists sheet gets their rows, in their order; a list the workbook does not have yet
    (older than this version) gets its defaults; the stage list is the Stages table's."""
    import pandas as pd

    from xlsales.core import defaults
    from xlsales.core.setup import list_labels

    lists = setup.tables["lists"]
    others = lists[~lists["list"].isin(["category", "purpose"])]
    mine = pd.DataFrame([{"list": "category", "code": "upside", "zh": "有望", "en": "Upside"},
                         {"list": "category", "code": "commit", "zh": "承诺", "en": "Commit"}])
    setup.tables["lists"] = pd.concat([mine, others], ignore_index=True)
    assert setup.choices("category") == [("upside", "有望", "Upside"), ("commit", "承诺", "Commit")]
    assert setup.choices("purpose") == list(defaults.LISTS["purpose"])  # gone from the sheet: the defaults
    assert setup.choices("no_such_list") == []
    assert setup.choices("stage")[:2] == [("Lead", "线索", "Lead"), ("Met", "与客户会面", "Met")]
    labels = list_labels(setup, "en")
    assert labels["category"] == {"upside": "Upside", "commit": "Commit"}
    assert labels["stage"]["Met"] == "Met" and list_labels(setup, "zh")["stage"]["Met"] == "与客户会面"
    assert setup.choices_of(["category", "stage"]) == {"category": setup.choices("category"),
                                                       "stage": setup.choices("stage")}
