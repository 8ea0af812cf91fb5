"""Reporting periods: inclusive ranges of whole months with a human name.

Strategic Assessments use October-September years, financial years (April-March) and
calendar years; all are whole months, so a period is held as inclusive dates and exposes
its months as ``pandas.Period[M]``.

>>> p = ReportingPeriod(dt.date(2013, 10, 1), dt.date(2014, 9, 30))
>>> p.name
'October 2013 to September 2014'
>>> p.n_months
12
>>> p.preceding().name
'October 2012 to September 2013'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class ReportingPeriod:
    start: dt.date
    end: dt.date
    name: str | None = field(default=None)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")
        if self.start.day != 1:
            raise ValueError(f"period start {self.start} must be the first day of a month")
        if (self.end + dt.timedelta(days=1)).day != 1:
            raise ValueError(f"period end {self.end} must be the last day of a month")
        if self.name is None:
            object.__setattr__(self, "name", _default_name(self.start, self.end))

    @property
    def first_month(self) -> pd.Period:
        return pd.Period(self.start, freq="M")

    @property
    def last_month(self) -> pd.Period:
        return pd.Period(self.end, freq="M")

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.first_month, self.last_month, freq="M")

    @property
    def n_months(self) -> int:
        return len(self.months)

    def preceding(self) -> ReportingPeriod:
        """The period of the same length that ends the month before this one starts."""
        first = self.first_month - self.n_months
        last = self.first_month - 1
        return ReportingPeriod(first.start_time.date(), last.end_time.date())

    def contains(self, month: pd.Period) -> bool:
        return self.first_month <= month <= self.last_month


def _default_name(start: dt.date, end: dt.date) -> str:
    return f"{start:%B %Y} to {end:%B %Y}"
