"""A visit's or a deal's customer must be on the rep's own 客户 list (SPEC §8).

The template offers the rep's own customers in a dropdown but accepts other text (a new customer met
today); consolidation flags each name not on that rep's list, so the A-class and one-owner checks are
not broken by a typo.  Pure: pandas only.
"""

from __future__ import annotations

import pandas as pd

from xlsales.core.issues import Issue, define, make
from xlsales.core.schema import norm

define("customer_not_listed", "warning",
       "客户「{value}」不在本工作簿的「客户」表中。请从下拉列表选择已登记的客户;如是新客户,请先在「客户」表登记(含等级)。",
       "Customer '{value}' is not on this workbook's Customers sheet. Pick a listed customer from the dropdown; for a "
       "new customer, enter it (with its class) on the Customers sheet first.")


def check_listed(tables: dict[str, pd.DataFrame], letters: dict[str, dict[str, dict[str, str]]]) -> list[Issue]:
    """Visits and deals (accepted rows) whose customer is not on the same file's accepted customer list."""
    customers = tables["customers"]
    listed: dict[str, set[str]] = {}
    if not customers.empty:
        for f, name in zip(customers["_file"].tolist(), customers["customer"].tolist(), strict=True):
            if name is not None:
                listed.setdefault(str(f), set()).add(norm(name))
    out: list[Issue] = []
    for key in ("visits", "opportunities"):
        df = tables[key]
        if df.empty:
            continue
        for f, s, r, name in zip(*(df[k].tolist() for k in ("_file", "_sheet", "_row", "customer")), strict=True):
            if name is None or name != name or norm(name) in listed.get(str(f), set()):
                continue
            letter = letters.get(key, {}).get(str(f), {}).get("customer", "")
            out.append(make("customer_not_listed", str(f), str(s), f"{letter}{int(r)}" if letter else "", name))
    return out
