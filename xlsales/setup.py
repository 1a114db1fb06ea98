"""The manager's setup as plain data: roster, stages, lists, thresholds, calendar, targets, weights.

:class:`Setup` holds one pandas DataFrame per setup table (columns = the
schema's column keys, canonical values: list codes, floats, dates).  Tables read
from a workbook carry ``_file``, ``_sheet`` and ``_row`` columns and a column →
letter map, so validation can name the cell.  Pure: no I/O here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from . import defaults, schema
from .issues import Issue, make

LOC_COLS = ("_file", "_sheet", "_row")


@dataclass
class Setup:
    tables: dict[str, pd.DataFrame]
    letters: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column key → letter

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
        if list_name == schema.LIST_STAGE:
            return [(r.en, r.zh, r.en) for r in self.stages.itertuples()]
        df = self.tables["lists"]
        sub = df[df["list"] == list_name]
        return [(str(r.code), str(r.zh), str(r.en)) for r in sub.itertuples()]

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


REQUIRED_SETTINGS = ("language", "rounding_unit", "fiscal_year_start", "period")
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

    def at(table: str, i: int, col: str, rule: str, value: object, **p: object) -> None:
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
