"""Years and months for the places and patterns chapters: the same calendar months in
earlier years, short year names, and :func:`comparable_months`, the one place that decides
which months two or more periods compare (like for like, usable data only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ..categories import (
    AGAINST_SOCIETY,
    ANTI_SOCIAL_BEHAVIOUR,
    CRIME_TYPES,
    TOTAL_CRIME,
    VICTIM_BASED,
    with_groups,
)
from ..periods import ReportingPeriod
from ..report.context import Assessment

GROUPS = (TOTAL_CRIME, VICTIM_BASED, AGAINST_SOCIETY, ANTI_SOCIAL_BEHAVIOUR)
SERIES = GROUPS + CRIME_TYPES


def shift(period: ReportingPeriod, months: int) -> ReportingPeriod:
    """The same calendar months `months` later (earlier when negative)."""
    first, last = period.first_month + months, period.last_month + months
    return ReportingPeriod(first.start_time.date(), last.end_time.date())


def short_name(period: ReportingPeriod) -> str:
    """'2023', '2023-24' (a twelve-month year across New Year), else the month range.

    >>> short_name(ReportingPeriod(dt.date(2023, 4, 1), dt.date(2024, 3, 31)))
    '2023-24'
    >>> short_name(ReportingPeriod(dt.date(2019, 1, 1), dt.date(2019, 12, 31)))
    '2019'
    """
    if period.n_months == 12:
        if period.start.month == 1:
            return str(period.start.year)
        return f"{period.start.year}-{period.end.year % 100:02d}"
    return f"{period.start:%b %Y} to {period.end:%b %Y}"


def months_with_data(sa: Assessment) -> frozenset:
    """Months with any stored police.uk row for the focus area (cached on `sa`)."""
    def compute():
        monthly = sa.monthly(start=dt.date(1900, 1, 1), end=sa.current.end,
                             area_codes=[sa.focus_code])
        totals = monthly.groupby("month")["count"].sum()
        return frozenset(pd.PeriodIndex(totals.index[totals > 0], freq="M"))
    return sa.cached(("patterns", "months_with_data"), compute)


def comparable_months(sa: Assessment, periods: Sequence[ReportingPeriod]
                      ) -> list[pd.PeriodIndex]:
    """The months to count in each of `periods` (all the same length) so that they compare
    like for like: the same calendar months in every period, and only months usable in all of
    them (every force the focus area draws on published the month and the data-quality check
    did not mark it incomplete: :mod:`smp_analysis.report.coverage`).
    """
    n = periods[0].n_months
    if any(p.n_months != n for p in periods):
        raise ValueError("periods compared like for like must have the same length")
    usable = usable_months(sa)
    offsets = [k for k in range(n) if all(p.first_month + k in usable for p in periods)]
    return [pd.PeriodIndex([p.first_month + k for k in offsets], freq="M") for p in periods]


def usable_months(sa: Assessment) -> frozenset:
    """Months with usable data for the focus area, from its first stored month to the end of
    the assessment period (cached on `sa`)."""
    def compute():
        present = months_with_data(sa)
        if not present:
            return frozenset()
        span = pd.period_range(min(present), sa.current.last_month, freq="M")
        return frozenset(sa.coverage(span, "history").usable)
    return sa.cached(("patterns", "usable_months"), compute)


def series_by_month(monthly: pd.DataFrame) -> pd.DataFrame:
    """Month x series (groups, total, types) counts from ``month, crime_type, count`` rows.

    >>> m = pd.DataFrame({"month": pd.to_datetime(["2020-01-01"] * 2),
    ...                   "crime_type": ["Burglary", "Anti-social behaviour"], "count": [3, 5]})
    >>> series_by_month(m).loc[pd.Period("2020-01", "M"), [TOTAL_CRIME, "Burglary"]].tolist()
    [3, 3]
    """
    grouped = with_groups(monthly)
    by_group = grouped.pivot_table(index="month", columns="group", values="count",
                                   aggfunc="sum", fill_value=0)
    by_type = monthly.pivot_table(index="month", columns="crime_type", values="count",
                                  aggfunc="sum", fill_value=0)
    wide = pd.concat([by_group, by_type.drop(columns=[ANTI_SOCIAL_BEHAVIOUR], errors="ignore")],
                     axis=1).reindex(columns=list(SERIES), fill_value=0)
    wide.index = pd.PeriodIndex(pd.to_datetime(wide.index), freq="M")
    return wide.fillna(0).astype("int64")


def totals(wide: pd.DataFrame, months: pd.PeriodIndex) -> pd.Series:
    return wide.reindex(months).fillna(0).sum().astype("int64")


