"""Normalized workbook content for golden comparisons: what a user sees and what Excel enforces.

Bytes differ between two builds of the same workbook (zip timestamps, ordering);
content should not.  :func:`content` reads a workbook with openpyxl and returns
plain data — cell values and formulas, number formats, data validations,
tables, defined names, freeze panes, protection, column widths, hidden state —
so two workbooks can be compared with ``==`` and a difference shown as a diff.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl


def content(path: Path) -> dict:
    wb = openpyxl.load_workbook(path, data_only=False)
    out: dict = {"sheets": {}, "names": {}}
    for name, dn in sorted(wb.defined_names.items()):
        out["names"][name] = dn.attr_text
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                v = c.value
                if isinstance(v, dt.datetime | dt.date):
                    v = v.isoformat()
                cells[c.coordinate] = [v, c.number_format, bool(c.protection.locked)]
        dvs = sorted(
            [str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2, dv.promptTitle, dv.prompt]
            for dv in ws.data_validations.dataValidation
        )
        out["sheets"][ws.title] = {
            "state": ws.sheet_state,
            "cells": cells,
            "validations": dvs,
            "tables": sorted([t.name, t.ref, [c.name for c in t.tableColumns]] for t in ws.tables.values()),
            "freeze": ws.freeze_panes,
            "protected": bool(ws.protection.sheet),
            "widths": {k: round(d.width, 2) for k, d in sorted(ws.column_dimensions.items()) if d.width},
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        }
    return out


def diff(a: dict, b: dict, path: str = "") -> list[str]:
    """Human-readable differences between two :func:`content` results (first 50)."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                out.append(f"{path}/{k}: only in second")
            elif k not in b:
                out.append(f"{path}/{k}: only in first")
            else:
                out.extend(diff(a[k], b[k], f"{path}/{k}"))
    elif a != b:
        out.append(f"{path}: {a!r} != {b!r}")
    return out[:50]
