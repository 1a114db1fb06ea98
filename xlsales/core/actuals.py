"""实际数 Actual bookings: from finance where they exist, else won deals stand in (SPEC §4, §6).

Finance's actuals are rows (rep, month, kind, amount): the 实际 Actuals table of
the manager's setup, filled by hand, or an ERP export read with ``--actuals FILE``
(.xlsx/.xlsm/.xls/.ods or .csv; columns are found by their zh/en headers or
aliases, in any order, mixed with other columns).  A file given on the command
line replaces the setup table for that run.

Where there are no finance actuals at all, the accepted won deals (forecast
category 已成交 closed) stand in for revenue actuals, by rep and close month,
and :attr:`Actuals.source` says so, so every report can print
"实际数取自已成交商机 / actuals stand in from won deals".

Canonical frame: ``rep_id`` (str), ``month`` (first day of the month),
``kind`` (a target-kind code: revenue, gross_margin, new_customers, collections)
and ``amount`` (float).  Pure except :func:`read_actuals`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from xlsales.core.combine import Consolidation
from xlsales.core.issues import Issue
from xlsales.core.money import cents
from xlsales.core.records import rows_of
from xlsales.core.setup import Setup

COLUMNS = ("rep_id", "month", "kind", "amount")
FINANCE, WON_DEALS = "finance", "won_deals"
SOURCE_LABEL = {
    FINANCE: {"zh": "财务实际数", "en": "finance actuals"},
    WON_DEALS: {"zh": "实际数取自已成交商机", "en": "actuals stand in from won deals"},
}
CSV_SUFFIXES = (".csv", ".txt")


@dataclass
class Actuals:
    """The actuals a report uses and where they came from (``finance`` or ``won_deals``)."""

    frame: pd.DataFrame
    source: str
    issues: list[Issue] = field(default_factory=list)

    @property
    def from_won_deals(self) -> bool:
        return self.source == WON_DEALS

    def label(self, lang: str) -> str:
        return SOURCE_LABEL[self.source]["zh" if lang == "zh" else "en"]


def empty() -> pd.DataFrame:
    return pd.DataFrame(columns=list(COLUMNS))


def normalize(df: pd.DataFrame | None) -> pd.DataFrame:
    """Canonical actuals: rejected rows (``_ok`` False) and rows without rep, month or amount dropped.

    Rep ids become text (``1001.0`` → ``"1001"``), months the first of the month,
    a blank kind means revenue.  Rows are kept as they are (not summed): the
    report's SUMIFS adds them up, and each row stays traceable.
    """
    if df is None or df.empty:
        return empty()
    if "_ok" in df.columns:
        df = df[df["_ok"].astype(bool)]
    rows = []
    for r in rows_of(df):
        rep, month, amount = _rep(r.get("rep_id")), _month(r.get("month")), _amount(r.get("amount"))
        if not rep or month is None or amount is None:
            continue
        kind = r.get("kind")
        rows.append({"rep_id": rep, "month": month, "kind": str(kind) if _present(kind) else "revenue",
                     "amount": amount})
    return pd.DataFrame(rows, columns=list(COLUMNS)) if rows else empty()


def from_won_deals(c: Consolidation) -> pd.DataFrame:
    """Revenue actuals from accepted won deals (category closed), by rep and close month."""
    deals = c.accepted("opportunities")
    if deals.empty:
        return empty()
    won = deals[deals["category"] == "closed"]
    rows = [{"rep_id": str(r["rep_id"]), "month": r["close_date"].replace(day=1), "kind": "revenue",
             "amount": float(r["amount"])}
            for r in rows_of(won) if isinstance(r.get("close_date"), dt.date) and _amount(r.get("amount"))
            is not None]
    if not rows:
        return empty()
    out = pd.DataFrame(rows).groupby(["rep_id", "month", "kind"], as_index=False, sort=True)["amount"].sum()
    out["amount"] = out["amount"].map(lambda v: cents(float(v)))
    return out[list(COLUMNS)]


def resolve(setup: Setup, c: Consolidation, loaded: pd.DataFrame | None = None) -> Actuals:
    """The actuals to report: ``loaded`` (``--actuals``) if given, else the setup table, else won deals."""
    got = normalize(loaded if loaded is not None else setup.tables.get("actuals"))
    if not got.empty:
        return Actuals(got, FINANCE)
    return Actuals(from_won_deals(c), WON_DEALS)


def _present(v: object) -> bool:
    if v is None:
        return False
    if isinstance(v, float) and v != v:
        return False
    return str(v).strip() != ""


def _rep(v: object) -> str:
    if not _present(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _month(v: object) -> dt.date | None:
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return v.replace(day=1)
    return None


def _amount(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v:
        return None
    return float(v)
