"""The manager's setup as plain data: roster, stages, lists, thresholds, calendar, targets, weights.

:class:`Setup` holds one pandas DataFrame per setup table (columns = the
schema's column keys, canonical values: list codes, floats, dates).  Tables read
from a workbook carry ``_file``, ``_sheet`` and ``_row`` columns and a column →
letter map, so validation can name the cell.  Pure: no I/O here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xlsales.core import defaults, schema
from xlsales.core.issues import Issue, define, make

LOC_COLS = ("_file", "_sheet", "_row")


@dataclass
class Setup:
    tables: dict[str, pd.DataFrame]
    letters: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column key → letter
    places: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # table → (file, sheet, first data cell)

    # --- construction -----------------------------------------------------
    @classmethod
    def default(cls, roster: list[dict] | None = None, period: dt.date | None = None) -> Setup:
        settings = defaults.settings_rows()
        if period is not None:
            for row in settings:
                if row["key"] == "period":
                    row["value"] = period.isoformat()
        rows = {
            "settings": settings,
            "roster": roster if roster is not None else defaults.ROSTER,
            "stages": defaults.STAGES,
            "lists": defaults.list_rows(),
            "thresholds": defaults.threshold_rows(),
            "holidays": defaults.HOLIDAYS,
            "targets": defaults.TARGETS,
            "region_weights": defaults.REGION_WEIGHTS,
            "class_weights": defaults.CLASS_WEIGHTS,
            "area_weights": defaults.AREA_WEIGHTS,
            "seasonality": defaults.SEASONALITY,
            "adjustments": defaults.ADJUSTMENTS,
            "actuals": defaults.ACTUALS,
            "proposals": defaults.PROPOSALS,
        }
        tables = {t.key: frame(t, rows[t.key]) for t in schema.SETUP_TABLES}
        return cls(tables)

    def rows(self, key: str) -> list[dict]:
        """A table as plain dicts without location columns (for writing it back out)."""
        df = self.tables[key]
        cols = [c for c in df.columns if c not in LOC_COLS]
        return [{c: _plain(v) for c, v in zip(cols, r, strict=True)} for r in df[cols].itertuples(index=False)]

    # --- lookups ------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        df = self.tables["settings"]
        hit = df.loc[df["key"] == key, "value"]
        return str(hit.iloc[0]) if len(hit) and pd.notna(hit.iloc[0]) else default

    def threshold(self, key: str) -> float:
        df = self.tables["thresholds"]
        hit = df.loc[df["key"] == key, "value"]
        if len(hit) and pd.notna(hit.iloc[0]):
            return float(hit.iloc[0])
        return float(defaults.THRESHOLDS[key][0])

    def choices(self, list_name: str) -> list[tuple[str, str, str]]:
        """(code, zh, en) of a setup list; the stage list comes from the Stages table."""
        return self.choices_of([list_name])[list_name]

    def choices_of(self, names: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
        """:meth:`choices` of each of ``names``, the Lists table read once."""
        df = self.tables["lists"]
        listed: dict[object, list[tuple[str, str, str]]] = {}
        for name, c, z, e in zip(*(df[k].tolist() for k in ("list", "code", "zh", "en")), strict=True):
            listed.setdefault(name, []).append((str(c), str(z), str(e)))
        out: dict[str, list[tuple[str, str, str]]] = {}
        for n in names:
            if n == schema.LIST_STAGE:
                zh, en = self.stages["zh"].tolist(), self.stages["en"].tolist()
                out[n] = list(zip(en, zh, en, strict=True))
            elif n not in listed and n in defaults.LISTS:  # a list newer than the manager workbook: its defaults
                out[n] = list(defaults.LISTS[n])
            else:
                out[n] = listed.get(n, [])
        return out

    def label(self, list_name: str, code: str, lang: str) -> str:
        for c, zh, en in self.choices(list_name):
            if c == code:
                return zh if lang == "zh" else en
        return code

    @property
    def stages(self) -> pd.DataFrame:
        return self.tables["stages"]

    def stage_probability(self) -> dict[str, float]:
        return {r.en: float(r.probability) for r in self.stages.itertuples()}

    @property
    def roster(self) -> pd.DataFrame:
        return self.tables["roster"]

    def active_reps(self) -> pd.DataFrame:
        r = self.roster
        return r[r["active"].fillna(True).astype(bool)]

    @property
    def lang(self) -> str:
        return self.setting("language", "zh") or "zh"

    @property
    def period(self) -> dt.date:
        return _date(self.setting("period")) or monday(dt.date.today())

    @property
    def fiscal_year_start(self) -> dt.date:
        return _date(self.setting("fiscal_year_start")) or dt.date(self.period.year, 1, 1)

    @property
    def rounding_unit(self) -> float:
        try:
            return float(self.setting("rounding_unit", "1") or 1)
        except ValueError:
            return 1.0

    @property
    def holidays(self) -> set[dt.date]:
        return {d for d in self.tables["holidays"]["date"] if isinstance(d, dt.date)}

    def where(self, table: str, row_index: int, column: str) -> tuple[str, str, str]:
        """(file, sheet, A1 cell) of a value in a setup table, or blanks for built-in defaults."""
        df = self.tables[table]
        if "_row" not in df.columns:
            return "", "", ""
        r = df.iloc[row_index]
        letter = self.letters.get(table, {}).get(column, "")
        return str(r["_file"]), str(r["_sheet"]), f"{letter}{int(r['_row'])}" if letter else ""


def frame(table: schema.Table, rows: list[dict]) -> pd.DataFrame:
    """A DataFrame with exactly the table's columns (missing keys become None)."""
    return pd.DataFrame([{c.key: r.get(c.key) for c in table.columns} for r in rows],
                        columns=table.keys, dtype=object)


def monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _date(v: object) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v)[:10])
    except (TypeError, ValueError):
        return None


def _plain(v: object) -> object:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


define("setup_table_missing", "error",
       "主管工作簿中找不到必需的「{table}」表(工作表「{value}」),不会改用示例设置。请从备份恢复该工作表"
       "(或从 xlsales init 在另一个文件夹新建的主管工作簿中复制该表),保存后重试。",
       "The manager workbook has no '{table}' table (sheet '{value}'), which is required; the sample setup is never "
       "used instead. Restore the sheet from a backup (or copy it from a manager workbook made by xlsales init in "
       "another folder), save and retry.")
define("setup_table_empty", "error", "「{table}」表是空的。请至少填写一行({what}),保存后重试。",
       "The '{table}' table is empty. Fill in at least one row ({what_en}), save and retry.")
define("threshold_value", "error", "阈值「{key}」的值 {value} 无效:{why}。请改正后保存。",
       "Threshold '{key}' has an invalid value {value}: {why_en}. Correct it and save.")
define("threshold_inverted", "error",
       "阈值「{key}」({value})大于「{other}」({high}):区间上下颠倒了。请让「{key}」不大于「{other}」。",
       "Threshold '{key}' ({value}) is above '{other}' ({high}): the band is upside down. Make '{key}' no more "
       "than '{other}'.")
define("duplicate_team", "error",
       "大区「{region}」中的团队「{value}」与「{other}」({where})只差空格、大小写或全角/半角,会被当作两个团队。"
       "请统一成同一种写法。",
       "Team '{value}' in region '{region}' differs from '{other}' ({where}) only by spaces, case or full-/half-width "
       "characters, so they would count as two teams. Spell them the same way.")

REQUIRED_SETTINGS = ("language", "rounding_unit", "fiscal_year_start", "period")
# The optional setting unsigned_workbooks (what consolidation does with a workbook without identity signature).
UNSIGNED_VALUES = ("", "warn", "警告", "accept", "接受", "是", "yes", "reject", "拒收", "拒绝")
# Setup tables that must hold at least one row: (what a row is, zh / en).
NON_EMPTY = {"settings": ("设置项", "a setting"), "roster": ("业务员", "a rep"), "stages": ("销售阶段", "a sales stage"),
             "lists": ("列表项", "a list entry"), "thresholds": ("阈值", "a threshold"),
             "targets": ("年度目标", "an annual target")}
# Thresholds and what they may hold: (lowest, highest, whole number, zh, en); None = unbounded.
THRESHOLD_RANGES: dict[str, tuple[float | None, float | None, bool, str, str]] = {
    "commit_min_probability": (0.0, 1.0, False, "应在 0 到 100% 之间", "must lie between 0 and 100%"),
    "quality_probability": (0.0, 1.0, False, "应在 0 到 100% 之间", "must lie between 0 and 100%"),
    "unrealized_max": (0.0, 1.0, False, "应在 0 到 100% 之间", "must lie between 0 and 100%"),
    "submission_rate": (0.0, 1.0, False, "应在 0 到 100% 之间", "must lie between 0 and 100%"),
    "forecast_months": (1, 36, True, "应为 1 到 36 之间的整数(个月)", "must be a whole number of months from 1 to 36"),
    "coverage_min": (0.0, None, False, "不能为负数", "cannot be negative"),
}
THRESHOLD_POSITIVE = {"max_amount": ("应为大于 0 的金额", "must be an amount above 0")}
THRESHOLD_PAIRS = (("mom_growth_min", "mom_growth_good"),)  # besides every key_low / key_high pair
# The dates xlsales' calendar code handles: periods, the rolling forecast (up to 36 months ahead), fiscal years
# and last year's comparisons all stay inside Excel's and Python's calendars (the templates' date validation too).
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def in_calendar(d: dt.date) -> bool:
    """Whether ``d`` lies in the range the period arithmetic handles (:data:`DATE_MIN`–:data:`DATE_MAX`)."""
    return DATE_MIN <= d <= DATE_MAX
CATEGORY_CODES = ("commit", "upside", "pipeline", "closed", "lost")


def validate(setup: Setup) -> list[Issue]:
    """Cross-row checks of a setup (cell-level checks happen while reading)."""
    out: list[Issue] = []

    def at(table: str, i: int, col: str, rule: str, value: object, **p: Any) -> None:
        f, s, c = setup.where(table, i, col)
        out.append(make(rule, f, s, c, value, **p))

    for key in ("rep_id",):
        _unique(setup, "roster", key, "业务员编号 Rep ID", at)
    _unique(setup, "stages", "zh", "阶段 Stage", at)
    _unique(setup, "stages", "en", "Stage", at)
    cats = {c for c, _, _ in setup.choices("category")}
    for code in CATEGORY_CODES:
        if code not in cats:
            out.append(make("setup_missing", key=f"category:{code}", table="列表 Lists"))
    for key in REQUIRED_SETTINGS:
        if setup.setting(key) is None:
            out.append(make("setup_missing", key=key, table="设置 Settings"))
    df = setup.tables["settings"]
    for i, r in enumerate(df.itertuples()):
        why = _bad_setting(str(r.key), r.value)
        if why:
            at("settings", i, "value", "setup_value", r.value, key=r.key, why=why)
    for key, (zh, en) in NON_EMPTY.items():
        if setup.tables[key].empty:
            t = next(t for t in schema.SETUP_TABLES if t.key == key)
            f, s, c = setup.places.get(key, ("", t.sheet_zh, ""))
            out.append(make("setup_table_empty", f, s, c, "", table=f"{t.sheet_zh} {t.sheet_en}", what=zh, what_en=en))
    out.extend(_check_thresholds(setup))
    out.extend(_check_teams(setup))
    return out


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v:
        return None
    return float(v)


def _at(setup: Setup, table: str, i: int, col: str, rule: str, value: object, **p: Any) -> Issue:
    f, s, c = setup.where(table, i, col)
    return make(rule, f, s, c, value, **p)


def _check_thresholds(setup: Setup) -> list[Issue]:
    """Each threshold within its range (named by cell); every low/high pair the right way up."""
    out: list[Issue] = []
    df = setup.tables["thresholds"]
    seen: dict[str, tuple[int, float]] = {}
    for i, (key, value) in enumerate(zip(df["key"], df["value"], strict=True)):
        v = _number(value)
        if key is None or v is None:
            continue
        key = str(key)
        seen.setdefault(key, (i, v))
        shown = f"{v:g}"
        if key in THRESHOLD_RANGES:
            lowest, highest, whole, zh, en = THRESHOLD_RANGES[key]
            if (lowest is not None and v < lowest) or (highest is not None and v > highest) or \
                    (whole and not v.is_integer()):
                out.append(_at(setup, "thresholds", i, "value", "threshold_value", shown, key=key, why=zh, why_en=en))
        elif key in THRESHOLD_POSITIVE and v <= 0:
            zh, en = THRESHOLD_POSITIVE[key]
            out.append(_at(setup, "thresholds", i, "value", "threshold_value", shown, key=key, why=zh, why_en=en))
    pairs = [(k, k[:-4] + "_high") for k in seen if k.endswith("_low")] + list(THRESHOLD_PAIRS)
    for low, high in pairs:
        if low in seen and high in seen and seen[low][1] > seen[high][1]:
            out.append(_at(setup, "thresholds", seen[low][0], "value", "threshold_inverted", f"{seen[low][1]:g}",
                           key=low, other=high, high=f"{seen[high][1]:g}"))
    return out


def _check_teams(setup: Setup) -> list[Issue]:
    """A team is region + team: within one region, two spellings of one team name are an error."""
    out: list[Issue] = []
    df = setup.tables["roster"]
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for i, (team, region) in enumerate(zip(df["team"], df["region"], strict=True)):
        if not isinstance(team, str) or not team.strip():
            continue
        key = (str(region), schema.norm(team))
        if key not in first:
            first[key] = (i, team)
        elif first[key][1] != team:
            j, other = first[key]
            where = setup.where("roster", j, "team")[2] or f"#{j + 1}"
            out.append(_at(setup, "roster", i, "team", "duplicate_team", team, region=str(region), other=other,
                           where=where))
    return out


def _bad_setting(key: str, value: object) -> str:
    if key in ("fiscal_year_start", "period"):
        d = _date(value)
        if d is None:
            return "应为日期 must be a date (2026-01-01)"
        if not in_calendar(d):
            return (f"应在 {DATE_MIN} 至 {DATE_MAX} 之间 / must lie between {DATE_MIN} and {DATE_MAX} (e.g. "
                    f"{'2026-11-23' if key == 'period' else '2026-01-01'})")
    if key == "language" and str(value) not in schema.LANGS:
        return "应为 zh 或 en / must be zh or en"
    if key == "rounding_unit":
        try:
            if float(str(value)) <= 0:
                return "应为正数 must be positive"
        except ValueError:
            return "应为数字 must be a number"
    if key == "week_start" and str(value) not in {str(i) for i in range(1, 8)}:
        return "应为 1-7 must be 1-7"
    if key == "unsigned_workbooks" and str(value or "").strip().casefold() not in UNSIGNED_VALUES:
        return "应为 警告 warn、接受 accept 或 拒收 reject / must be warn, accept or reject"
    return ""


def _unique(setup: Setup, table: str, key: str, label: str, at) -> None:
    seen: dict[str, int] = {}
    for i, v in enumerate(setup.tables[table][key]):
        if v is None or (isinstance(v, float) and pd.isna(v)):
            continue
        if str(v) in seen:
            first = setup.where(table, seen[str(v)], key)[2] or f"#{seen[str(v)] + 1}"
            at(table, i, key, "duplicate_key", v, column=label, other=first)
        else:
            seen[str(v)] = i


DROPDOWN_LISTS = (schema.LIST_CATEGORY, schema.LIST_PURPOSE, schema.LIST_VISIT_STATUS, schema.LIST_CLASS,
                  schema.LIST_YESNO, schema.LIST_KIND, schema.LIST_ADJ_LEVEL, schema.LIST_PROP_LEVEL,
                  schema.LIST_BASIS, schema.LIST_COMPLAINT, schema.LIST_MARKET, schema.LIST_ATTENDANCE)


def list_labels(setup: Setup, lang: str) -> dict[str, dict[str, str]]:
    """{list: {code: label in lang}} for every setup list, stages included."""
    lists = setup.choices_of([*DROPDOWN_LISTS, schema.LIST_STAGE])
    return {n: {code: (zh if lang == "zh" else en) for code, zh, en in opts} for n, opts in lists.items()}
