"""The calendar of a review: which days "this week", "this month", "this quarter" and "last week" mean.

One rule for every figure (SPEC §10):

* The **report week** is the Monday-to-Sunday week of the as-of date; reps submit their workbook for it
  by **Monday 09:00** of that week (the deadline of "on time").
* **Last week** is the report week before it: the week the visit report and last week's actual cover.
* **This month / quarter / year** are those of the **as-of date** (fiscal quarters and years from the
  setup's fiscal year start).  The days before the as-of date are the period's *past part*, the
  as-of date and after its *remaining part*.  A week that spans two months counts toward each month by
  its days there (:meth:`Calendar.week_share`).
* The **12 forecast months** start with the month of the report week's Monday (the rep workbook's months).

Every window is an inclusive ``(first, last)`` pair of dates and has a label that says its dates.
Pure: the standard library only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

Window = tuple[dt.date, dt.date]
DEADLINE = dt.time(9, 0)


EXCEL_DAY_ZERO = dt.date(1899, 12, 30)  # serial 0 counting back from any date after Excel's phantom 1900-02-29
EXCEL_DAY_ZERO_1904 = dt.date(1904, 1, 1)  # serial 0 in the 1904 date system (old Mac Excel)


def date_to_serial(d: dt.date, epoch1904: bool = False) -> int:
    """The Excel serial number of a date from 1900-03-01 on (the 1900 system counts a phantom 1900-02-29)."""
    return (d - (EXCEL_DAY_ZERO_1904 if epoch1904 else EXCEL_DAY_ZERO)).days


def monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def add_months(d: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``d``'s month."""
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def month_window(d: dt.date) -> Window:
    first = d.replace(day=1)
    return first, add_months(first, 1) - dt.timedelta(days=1)


def months_between(a: dt.date, b: dt.date) -> list[dt.date]:
    """First days of the months from ``a``'s month to ``b``'s month (inclusive)."""
    out, m = [], a.replace(day=1)
    while m <= b:
        out.append(m)
        m = add_months(m, 1)
    return out


@dataclass(frozen=True)
class Calendar:
    """Every window a review uses, from the as-of date and the fiscal year's first month."""

    as_of: dt.date
    fiscal_start_month: int = 1
    forecast_n: int = 12

    @property
    def week(self) -> Window:
        m = monday(self.as_of)
        return m, m + dt.timedelta(days=6)

    @property
    def period(self) -> dt.date:
        """The report week's Monday: the period a rep's workbook is for."""
        return self.week[0]

    @property
    def deadline(self) -> dt.datetime:
        """Monday 09:00 of the report week: a file saved later is late."""
        return dt.datetime.combine(self.period, DEADLINE)

    @property
    def last_week(self) -> Window:
        a = self.period - dt.timedelta(days=7)
        return a, a + dt.timedelta(days=6)

    @property
    def next_week(self) -> Window:
        a = self.period + dt.timedelta(days=7)
        return a, a + dt.timedelta(days=6)

    @property
    def month(self) -> Window:
        return month_window(self.as_of)

    @property
    def quarter(self) -> Window:
        m0 = self.as_of.replace(day=1)
        offset = (m0.month - self.fiscal_start_month) % 3
        q0 = add_months(m0, -offset)
        return q0, add_months(q0, 3) - dt.timedelta(days=1)

    @property
    def year(self) -> Window:
        fs = self.fiscal_start_month
        y = self.as_of.year if self.as_of.month >= fs else self.as_of.year - 1
        a = dt.date(y, fs, 1)
        return a, add_months(a, 12) - dt.timedelta(days=1)

    @property
    def fiscal_year(self) -> int:
        """The fiscal year's number: the calendar year it starts in."""
        return self.year[0].year

    def to_date(self, w: Window) -> Window | None:
        """The past part of a window: its days before the as-of date (None when there are none)."""
        end = min(w[1], self.as_of - dt.timedelta(days=1))
        return (w[0], end) if end >= w[0] else None

    def rest(self, w: Window) -> Window | None:
        """The remaining part: from the as-of date to the window's end (None when it is over)."""
        start = max(w[0], self.as_of)
        return (start, w[1]) if start <= w[1] else None

    @property
    def ytd(self) -> Window:
        """Fiscal year to date: from the year's first day to the as-of date."""
        return self.year[0], self.as_of

    @property
    def forecast_months(self) -> list[dt.date]:
        """The months of the rolling forecast, starting with the report week's month."""
        first = self.period.replace(day=1)
        return [add_months(first, k) for k in range(self.forecast_n)]

    @property
    def forecast_window(self) -> Window:
        ms = self.forecast_months
        return ms[0], add_months(ms[-1], 1) - dt.timedelta(days=1)

    def months_before(self, w: Window) -> list[dt.date]:
        """The window's whole months before the as-of date's month (its booked past)."""
        current = self.as_of.replace(day=1)
        return [m for m in months_between(*w) if m < current]

    def months_after(self, w: Window) -> list[dt.date]:
        """The window's months after the as-of date's month (forecast only)."""
        current = self.as_of.replace(day=1)
        return [m for m in months_between(*w) if m > current]

    def week_share(self, week_start: dt.date, month: dt.date) -> tuple[int, int]:
        """(days of the week in ``month``, 7): how a weekly figure splits between two months."""
        days = [week_start + dt.timedelta(days=k) for k in range(7)]
        return sum(1 for d in days if (d.year, d.month) == (month.year, month.month)), 7


def label(w: Window, lang: str = "zh") -> str:
    """A window's dates as a sheet shows them: ``2026-11-30–2026-12-06``."""
    return f"{w[0].isoformat()}–{w[1].isoformat()}"


def quarter_name(w: Window, fiscal_start_month: int) -> str:
    fy = w[0].year if w[0].month >= fiscal_start_month else w[0].year - 1
    q = ((w[0].month - fiscal_start_month) % 12) // 3 + 1
    return f"FY{fy}-Q{q}"


def forecast_months(period: dt.date, n: int = 12) -> list[dt.date]:
    """The ``n`` months of the rolling forecast, starting with the period's month."""
    first = period.replace(day=1)
    return [add_months(first, k) for k in range(n)]
