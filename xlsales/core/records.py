"""What reading a workbook yields, as plain data: a table's rows and counts, a rep file's identity and tables.

Made by :mod:`xlsales.io` (the readers), used by the pure core (:mod:`xlsales.core.combine`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .issues import Issue
from .schema import Table

LOC = ["_file", "_sheet", "_row", "_ok"]  # where each row came from, and whether it counts


@dataclass
class TableRead:
    """One table as read: its rows (``frame``), issues and counts.

    ``rows_read`` and ``rows_rejected`` are counted as rows are read and rejected; ``refused``
    is set (and the frame empty) when the table was too long to read at all.
    """

    table: Table
    sheet: str | None = None
    header_row: int | None = None
    letters: dict[str, str] = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0
    refused: Issue | None = None

    @property
    def accepted(self) -> pd.DataFrame:
        return self.frame[self.frame["_ok"]] if self.frame is not None else empty_frame(self.table)


def empty_frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame(columns=[*table.keys, *LOC])


@dataclass
class RepRead:
    """What one rep file holds: its identity (raw and where), its period, its tables and their issues."""

    display: str
    identity: dict[str, object] = field(default_factory=dict)
    identity_cells: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableRead] = field(default_factory=dict)
    period: dt.date | None = None  # the identity block's period, read as a date

    @property
    def issues(self) -> list[Issue]:
        return [i for t in self.tables.values() for i in t.issues]

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())
