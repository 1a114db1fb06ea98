"""The business rules a consolidation checks, as pure functions over the combined tables.

Each check takes the consolidated frames (every row carries ``_file``,
``_sheet``, ``_row`` and ``rep_id``) and returns issues; error-level issues on
a row take that row out of every total.  Cell-level problems (types, lists,
required fields) are found earlier by the reader; these are the rules that need
the setup, the period or more than one row or file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from itertools import islice
from typing import Any

import pandas as pd

from xlsales.core.issues import Issue, define, make
from xlsales.core.money import cents
from xlsales.core.records import rows_of
from xlsales.core.schema import CHECKLIST, FORECAST, OPPORTUNITIES, VISITS, Table
from xlsales.core.setup import Setup

MAX_NAMED = 5  # rows of other reps a duplicate names; the rest are counted ("and 995 more")

define("commit_below_90", "error",
       "承诺商机的阶段概率只有 {prob},低于承诺要求的 {min}。请推进阶段或改为「有望/管道」。",
       "A commit deal at {prob} is below the {min} a commit needs. Advance the stage or make it Upside/Pipeline.")
define("upside_as_commit", "error",
       "阶段「{stage}」属于有望(Upside),却标为承诺。有望从不计入承诺:请改类别,或在确认后推进阶段。",
       "Stage '{stage}' is an upside stage but the deal is marked Commit. Upside never counts as commit: "
       "change the category or advance the stage.")
define("commit_checklist", "warning",
       "承诺商机的检查项未完成:{missing}。全部为「是」才算合格承诺。",
       "Commit deal with checklist items not done: {missing}. All must be Yes for a qualified commit.")
define("likely_commit_in_upside", "warning",
       "阶段已达 {prob} 却放在「有望」。很可能成交的单应计入承诺,否则影响承诺准确性。",
       "At {prob} this deal sits in Upside. A deal this likely belongs in Commit, or commit accuracy suffers.")
define("close_date_past", "warning",
       "未结商机的预计成交日期 {value} 已过(截至 {as_of})。请更新日期或阶段。",
       "Open deal whose expected close {value} has passed (as of {as_of}). Update the date or the stage.")
define("stage_category_mismatch", "error",
       "阶段「{stage}」与预测类别「{category}」矛盾。下订单应为「已成交」,丢单应为「丢单」,反之亦然。",
       "Stage '{stage}' contradicts forecast category '{category}'. Won goes with Closed, Lost with Lost, "
       "and the other way round.")
define("won_future_close", "error",
       "已下订单的成交日期 {value} 在未来(截至 {as_of})。请填写实际下单日期。",
       "A won deal closes on {value}, in the future (as of {as_of}). Enter the actual order date.")
define("won_no_amount", "error", "已下订单的金额为 0。请填写订单金额。", "A won deal has amount 0. Enter the order amount.")
define("duplicate_opp_id", "error",
       "商机编号「{value}」同时出现在 {others}。一个商机只能有一个负责人:请与主管确认归属后删除重复行。",
       "Opportunity id '{value}' also appears in {others_en}. A deal has one owner: agree with your manager and "
       "remove the duplicate.")
define("shared_customer", "warning",
       "客户「{value}」同时被 {others} 登记。一个客户只归一位业务员:请主管确认归属。",
       "Customer '{value}' is also claimed by {others_en}. One customer, one owner: the manager decides.")
define("visit_outside_period", "warning",
       "拜访日期 {value} 不在本期({start} 至 {end})内。完成的拜访应在上周至今,计划的拜访在本周或下周。",
       "Visit date {value} is outside the period ({start} to {end}). Done visits belong to last week up to today, "
       "planned ones to this week or next.")
define("visit_done_future", "warning",
       "拜访标为「完成」,日期 {value} 却在未来(截至 {as_of})。请改为「计划」,或填写实际拜访日期。",
       "A visit marked done is dated {value}, in the future (as of {as_of}). Mark it planned, or enter the day it "
       "took place.")
define("commit_row_mismatch", "warning",
       "本周承诺填的是 {value},而本周({start} 至 {end})到期的承诺商机合计 {deals}。请核对:承诺应由商机清单支撑。",
       "This week's commit says {value}, but the commit deals closing this week ({start} to {end}) add up to "
       "{deals}. Check them: a commit must rest on the deal list.")
define("forecast_below_booked", "warning",
       "{month} 的预测 {value} 低于本月已成交 {booked}。请把预测改为不低于已成交的数(本月落地按已成交计)。",
       "The forecast for {month}, {value}, is below what is already booked this month, {booked}. Raise it to at "
       "least the booked amount (this month's landing counts what is booked).")
define("target_months_missing", "warning",
       "12 个预测月({first} 至 {last})中只有 {n} 个月有目标(缺 {missing})。请在目标表中添加这些月份所在年度的"
       "计划目标;缺的月份按 0 计。",
       "Only {n} of the 12 forecast months ({first} to {last}) have a target (missing {missing}). Add the plan "
       "target of their year to the Targets table; the missing months count as 0.")
define("forecast_incomplete", "error",
       "12 个月滚动预测只填了 {n} 个月(缺 {missing})。预测须 100% 提交,没有例外。",
       "The 12-month forecast has only {n} months (missing {missing}). Submission must be 100%, no exceptions.")


Row = Mapping[str, Any]  # one row of a combined table, column → value


def _where(row: Row, letters: dict[str, str], col: str) -> tuple[str, str, str]:
    letter = letters.get(col, "")
    return str(row["_file"]), str(row["_sheet"]), f"{letter}{int(row['_row'])}" if letter else ""


def _rows(df: pd.DataFrame, *keys: str) -> list[dict[str, Any]]:
    """The rows of ``df`` with only ``keys`` and where each row came from (what a rule reads)."""
    return rows_of(df, only=(*keys, "_file", "_sheet", "_row"))


def _issue(rule: str, row: Row, letters: dict[str, str], col: str, value: object, **p: Any) -> Issue:
    f, s, c = _where(row, letters, col)
    return make(rule, f, s, c, value, **p)


def check_opportunities(df: pd.DataFrame, letters: dict[str, dict[str, str]], setup: Setup, as_of: dt.date
                        ) -> list[Issue]:
    """Commit rules, stage/category consistency, won deals, stale close dates, duplicate ids."""
    out: list[Issue] = []
    if df.empty:
        return out
    probs = setup.stage_probability()
    stages = {r.en: r for r in setup.stages.itertuples()}
    cmin = setup.threshold("commit_min_probability")
    qual = setup.threshold("quality_probability")
    lab = _labels(setup)
    for r in _rows(df, "stage", "category", "close_date", "amount", *CHECKLIST):
        L = letters.get(r["_file"], {})  # noqa: N806
        stage, cat = r.get("stage"), r.get("category")
        if stage is None or cat is None:
            continue
        st = stages.get(stage)
        p = probs.get(stage, 0.0)
        is_open = bool(st.open) if st is not None and st.open is not None else stage not in ("Won", "Lost")
        if (stage == "Won") != (cat == "closed") or (stage == "Lost") != (cat == "lost"):
            out.append(_issue("stage_category_mismatch", r, L, "category", lab["category"].get(cat, cat),
                              stage=lab["stage"].get(stage, stage), category=lab["category"].get(cat, cat)))
            continue
        if cat == "commit":
            default = getattr(st, "category", None)
            if default == "upside" and p < cmin:
                out.append(_issue("upside_as_commit", r, L, "category", lab["category"]["commit"],
                                  stage=lab["stage"].get(stage, stage)))
            elif p < cmin:
                out.append(_issue("commit_below_90", r, L, "stage", lab["stage"].get(stage, stage),
                                  prob=f"{p:.0%}", min=f"{cmin:.0%}"))
            missing = [OPPORTUNITIES.column(k).zh for k in CHECKLIST if r.get(k) is not True]
            if missing:
                first = next(k for k in CHECKLIST if r.get(k) is not True)
                yes_no: dict[object, str] = {True: lab["yesno"]["yes"], False: lab["yesno"]["no"]}
                shown = yes_no.get(r.get(first), "")
                out.append(_issue("commit_checklist", r, L, first, shown, missing="、".join(missing)))
        elif cat == "upside" and p >= cmin and p > qual:
            out.append(_issue("likely_commit_in_upside", r, L, "category", lab["category"]["upside"],
                              prob=f"{p:.0%}"))
        close = r.get("close_date")
        if is_open and isinstance(close, dt.date) and close < as_of:
            out.append(_issue("close_date_past", r, L, "close_date", close.isoformat(), as_of=as_of.isoformat()))
        if stage == "Won":
            if isinstance(close, dt.date) and close > as_of:
                out.append(_issue("won_future_close", r, L, "close_date", close.isoformat(),
                                  as_of=as_of.isoformat()))
            if r.get("amount") == 0:
                out.append(_issue("won_no_amount", r, L, "amount", 0))
    out.extend(_duplicates(df, letters, "opp_id", "duplicate_opp_id", by_rep=True))
    out.extend(_repeats_in_file(df, letters, "opp_id", "商机编号 Opp ID"))
    return out


def _repeats_in_file(df: pd.DataFrame, letters: dict[str, dict[str, str]], col: str, label: str) -> list[Issue]:
    """The same key twice in one file: the second and later rows are errors naming the first."""
    out: list[Issue] = []
    seen: dict[tuple[str, str], Row] = {}
    for r in _rows(df, col):
        v = r.get(col)
        if v is None:
            continue
        k = (str(r["_file"]), str(v).strip().casefold())
        if k in seen:
            first = seen[k]
            L = letters.get(r["_file"], {})  # noqa: N806
            out.append(_issue("duplicate_key", r, L, col, v, column=label, other=_where(first, L, col)[2]))
        else:
            seen[k] = r
    return out


def check_customers(df: pd.DataFrame, letters: dict[str, dict[str, str]]) -> list[Issue]:
    """One customer, one owner: a customer on two reps' lists is a conflict to surface."""
    return _duplicates(df, letters, "customer", "shared_customer", by_rep=True)


def _duplicates(df: pd.DataFrame, letters: dict[str, dict[str, str]], col: str, rule: str, by_rep: bool
                ) -> list[Issue]:
    """One issue per row whose ``col`` (trimmed, any case) other reps have too, naming the first
    :data:`MAX_NAMED` of their rows and counting the rest — linear in the rows, whatever the sharing."""
    out: list[Issue] = []
    if df.empty:
        return out
    key = df[col].map(lambda v: str(v).strip().casefold() if v is not None else None)
    shared = key.notna() & key.duplicated(keep=False)
    groups: dict[str, list[dict[str, Any]]] = {}
    for k, r in zip(key[shared], rows_of(df[shared]), strict=True):
        groups.setdefault(k, []).append(r)
    for k in sorted(groups):
        rows = groups[k]
        if by_rep and len({r["rep_id"] for r in rows}) < 2:
            continue
        others = _others(rows, letters, col)
        for r in rows:
            zh, en = others[r["rep_id"]]
            out.append(_issue(rule, r, letters.get(r["_file"], {}), col, r[col], others=zh, others_en=en))
    return out


def _others(rows: list[dict], letters: dict[str, dict[str, str]], col: str) -> dict[object, tuple[str, str]]:
    """For each rep among ``rows``: the other reps' rows, sorted, the first :data:`MAX_NAMED` named
    (``R002 (R002.xlsx!A4)``) and the rest counted, in zh and en."""
    owner: dict[str, object] = {}
    for o in rows:
        owner[f"{o['rep_id']} ({o['_file']}!{letters.get(o['_file'], {}).get(col, '')}{int(o['_row'])})"] = o["rep_id"]
    ordered = sorted(owner)
    own: dict[object, int] = {}
    for rep in owner.values():
        own[rep] = own.get(rep, 0) + 1
    out: dict[object, tuple[str, str]] = {}
    for rep, mine in own.items():
        named = list(islice((e for e in ordered if owner[e] != rep), MAX_NAMED))
        rest = len(ordered) - mine - len(named)
        shown = ", ".join(named)
        out[rep] = (f"{shown} 等另外 {rest:,} 处" if rest else shown, f"{shown} and {rest:,} more" if rest else shown)
    return out


def check_visits(df: pd.DataFrame, letters: dict[str, dict[str, str]], period: dt.date,
                 as_of: dt.date | None = None) -> list[Issue]:
    """Done visits fall in last week up to the as-of date, planned ones from last week to next week;
    a visit marked done cannot be dated after the as-of date."""
    out: list[Issue] = []
    as_of = as_of or period
    start, end_plan = period - dt.timedelta(days=7), period + dt.timedelta(days=13)
    end_done = max(as_of, period - dt.timedelta(days=1))
    for r in _rows(df, "date", "status"):
        d = r.get("date")
        if not isinstance(d, dt.date):
            continue
        at = letters.get(r["_file"], {})
        if r.get("status") == "done" and d > as_of:
            out.append(_issue("visit_done_future", r, at, "date", d.isoformat(), as_of=as_of.isoformat()))
            continue
        end = end_plan if r.get("status") != "done" else end_done
        if not start <= d <= end:
            out.append(_issue("visit_outside_period", r, at, "date", d.isoformat(), start=start.isoformat(),
                              end=end.isoformat()))
    return out


def check_commit_rows(weekly: pd.DataFrame, deals: pd.DataFrame, letters: dict[str, dict[str, str]],
                      period: dt.date) -> list[Issue]:
    """The hand-typed commit for the week against the commit deals closing that week, per rep."""
    out: list[Issue] = []
    if weekly.empty:
        return out
    end = period + dt.timedelta(days=6)
    this_week = deals[(deals["category"] == "commit") & deals["close_date"].map(
        lambda d: isinstance(d, dt.date) and period <= d <= end)] if not deals.empty else deals
    by_rep = this_week.groupby("rep_id")["amount"].sum() if not this_week.empty else pd.Series(dtype=float)
    for r in rows_of(weekly):
        if r.get("week") != period or not isinstance(r.get("commit"), int | float):
            continue
        got = cents(float(by_rep.get(r["rep_id"], 0.0)))
        if cents(float(r["commit"])) != got:
            out.append(_issue("commit_row_mismatch", r, letters.get(r["_file"], {}), "commit",
                              f"{float(r['commit']):,.2f}", deals=f"{got:,.2f}", start=period.isoformat(),
                              end=end.isoformat()))
    return out


def check_forecast_vs_booked(forecast: pd.DataFrame, booked: pd.DataFrame, letters: dict[str, dict[str, str]],
                             month: dt.date) -> list[Issue]:
    """A rep's forecast of the as-of month below what they have already booked in it."""
    out: list[Issue] = []
    if forecast.empty or booked.empty:
        return out
    got = booked[(booked["month"] == month) & (booked["kind"] == "revenue")].groupby("rep_id")["amount"].sum()
    for r in rows_of(forecast[forecast["month"] == month]):
        b = float(got.get(str(r["rep_id"]), 0.0))
        fc = r.get("forecast")
        if isinstance(fc, int | float) and cents(float(fc)) < cents(b):
            out.append(_issue("forecast_below_booked", r, letters.get(r["_file"], {}), "forecast",
                              f"{float(fc):,.2f}", month=month.strftime("%Y-%m"), booked=f"{b:,.2f}"))
    return out


def check_target_months(targets: pd.DataFrame, months: list[dt.date]) -> list[Issue]:
    """Forecast months without any revenue target (the next fiscal year not planned yet)."""
    have = set(targets["month"]) if not targets.empty else set()
    missing = [m for m in months if m not in have]
    if not missing or not months:
        return []
    return [make("target_months_missing", value=len(months) - len(missing), n=len(months) - len(missing),
                 first=months[0].strftime("%Y-%m"), last=months[-1].strftime("%Y-%m"),
                 missing=", ".join(m.strftime("%Y-%m") for m in missing))]


def check_forecast(df: pd.DataFrame, reads: dict, months: list[dt.date]) -> list[Issue]:
    """Every submitted file has all forecast months: 100% submission, no exceptions.

    ``reads`` maps a file to its forecast :class:`~xlsales.io.reader.TableRead`; the
    issue names the forecast cell of the first missing month in the template's
    layout (one month per row under the header).
    """
    out: list[Issue] = []
    months_of = df.groupby("_file")["month"].agg(set).to_dict() if not df.empty else {}
    for file, tr in reads.items():
        got = months_of.get(file, set())
        missing = [m for m in months if m not in got]
        if not missing:
            continue
        cell = ""
        if tr.header_row is not None and "forecast" in tr.letters:
            cell = f"{tr.letters['forecast']}{tr.header_row + 2 + months.index(missing[0])}"
        out.append(make("forecast_incomplete", file, tr.sheet or FORECAST.sheet_zh, cell,
                        len(months) - len(missing), n=len(months) - len(missing),
                        missing=", ".join(m.strftime("%Y-%m") for m in missing)))
    return out


def _labels(setup: Setup) -> dict[str, dict[str, str]]:
    lang = setup.lang if setup.lang in ("zh", "en") else "zh"
    return {n: {c: (zh if lang == "zh" else en) for c, zh, en in setup.choices(n)}
            for n in ("stage", "category", "yesno")}


TABLES_CHECKED: tuple[Table, ...] = (OPPORTUNITIES, VISITS)
