"""Which months a chapter can use, and the like-for-like pairing of two periods.

A month is **usable** for an area when every police force the area draws on published it and
the data-quality check did not mark it incomplete (missing, or recorded crime or ASB
implausibly low: :mod:`smp_analysis.store.quality`). Every change between two periods compares
**like for like**: the same calendar months, those usable in both periods (month i of the
assessment period with month i of the previous one when they have the same length, else the
same month of the year). With fewer than :data:`MIN_COMPARED_SHARE` of the period's months
(9 of 12) no verdict on the change is given, only the caveat saying why; with no data for the
previous period the sentence says so instead of "rose from none".

>>> months = pd.period_range("2022-03", "2023-02", freq="M")
>>> previous = pd.period_range("2021-03", "2022-02", freq="M")
>>> table = pd.DataFrame({"force": "F", "month": previous.union(months).to_timestamp(),
...                       "has_data": True, "incomplete": False, "reason": None})
>>> table.loc[table["month"] == "2022-01-01", ["has_data", "incomplete", "reason"]] = (
...     False, True, "no data: the force published no file for this month")
>>> pair = LikeForLike.pair(month_coverage(table, ("F",), months, "2022-23"),
...                         month_coverage(table, ("F",), previous, "2021-22"))
>>> pair.n, pair.of, pair.enough
(11, 12, True)
>>> pair.scope()
'over the 11 months with complete data in both years'
>>> print(pair.caveat())  # doctest: +NORMALIZE_WHITESPACE
The comparison covers the 11 months with complete data in both years: January 2022 has no
data, so it and January 2023 are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .words import join, plural

MIN_COMPARED_SHARE = 0.75
NO_DATA = "no data"


def minimum_months(n_months: int) -> int:
    """Fewest months compared for a verdict: three quarters of the period, rounded up.

    >>> minimum_months(12), minimum_months(2), minimum_months(5)
    (9, 2, 4)
    """
    return max(1, math.ceil(MIN_COMPARED_SHARE * n_months))


def _month_list(months) -> str:
    return join([f"{m:%B %Y}" for m in sorted(months)])


@dataclass(frozen=True)
class MonthCoverage:
    """Usable months of a span of `months` (a period or a history)."""

    name: str
    months: pd.PeriodIndex
    usable: pd.PeriodIndex
    reasons: dict  # unusable month -> why (plain text)

    @property
    def n(self) -> int:
        return len(self.months)

    @property
    def n_usable(self) -> int:
        return len(self.usable)

    @property
    def unusable(self) -> pd.PeriodIndex:
        return self.months.difference(self.usable)

    @property
    def no_data(self) -> pd.PeriodIndex:
        return pd.PeriodIndex([m for m in self.unusable if self.reasons[m].startswith(NO_DATA)],
                              freq="M")

    @property
    def all_missing(self) -> bool:
        """No month of the span has any data at all."""
        return len(self.no_data) == self.n

    def is_usable(self, month: pd.Period) -> bool:
        return month in self.usable

    def why(self, months=None) -> str:
        """Why `months` (default: every unusable month) cannot be used, in one clause.

        Months without data and months marked incomplete are named separately."""
        months = self.unusable if months is None else pd.PeriodIndex(months, freq="M")
        none = [m for m in months if self.reasons.get(m, "").startswith(NO_DATA)]
        flagged = [m for m in months if m not in none and m in self.reasons]
        parts = []
        if none:
            parts.append(f"{_month_list(none)} {'has' if len(none) == 1 else 'have'} no data")
        if flagged:
            parts.append(f"{_month_list(flagged)} {'was' if len(flagged) == 1 else 'were'} "
                         "marked incomplete by the data-quality check")
        return join(parts)

    def describe(self) -> str:
        """'11 of 12 months usable (January 2022 has no data)'."""
        text = f"{self.n_usable} of {plural(self.n, 'month')} usable"
        return text + (f" ({self.why()})" if len(self.unusable) else "")


def month_coverage(table: pd.DataFrame, forces: tuple[str, ...], months: pd.PeriodIndex,
                   name: str = "", *, area: str = "the area") -> MonthCoverage:
    """Coverage of `months` from a coverage table (``force, month, has_data, incomplete,
    reason``): usable when every force in `forces` has data that are not incomplete."""
    months = pd.PeriodIndex(months, freq="M")
    if not forces:
        reason = f"{NO_DATA}: the store holds no police.uk rows located in {area}"
        return MonthCoverage(name, months, months[:0], dict.fromkeys(months, reason))
    keyed = {(r.force, pd.Period(r.month, "M")): r for r in table.itertuples()}
    usable, reasons = [], {}
    for month in months:
        why = []
        for force in forces:
            row = keyed.get((force, month))
            prefix = f"{force}: " if len(forces) > 1 else ""
            if row is None:
                why.append(f"{NO_DATA}: the store holds no {force} data for this month")
            elif not row.has_data:
                why.append(f"{prefix}{row.reason or NO_DATA}")
            elif row.incomplete:
                why.append(f"{prefix}{row.reason or 'marked incomplete'}")
        if why:
            reasons[month] = "; ".join(why) if not any(w.startswith(NO_DATA) for w in why) \
                else next(w for w in why if w.startswith(NO_DATA))
        else:
            usable.append(month)
    return MonthCoverage(name, months, pd.PeriodIndex(usable, freq="M"), reasons)


@dataclass(frozen=True)
class LikeForLike:
    """The months of two periods compared like for like (see module doc)."""

    current: MonthCoverage
    previous: MonthCoverage
    current_months: pd.PeriodIndex
    previous_months: pd.PeriodIndex

    @classmethod
    def pair(cls, current: MonthCoverage, previous: MonthCoverage) -> LikeForLike:
        if current.n == previous.n:
            pairs = list(zip(current.months, previous.months, strict=True))
        else:  # different lengths: the same month of the year, where each occurs once
            by_month = {m.month: m for m in previous.months}
            unique = len(by_month) == previous.n and len({m.month for m in current.months}) \
                == current.n
            pairs = [(m, by_month[m.month]) for m in current.months
                     if unique and m.month in by_month]
        kept = [(c, p) for c, p in pairs if current.is_usable(c) and previous.is_usable(p)]
        return cls(current, previous, pd.PeriodIndex([c for c, _ in kept], freq="M"),
                   pd.PeriodIndex([p for _, p in kept], freq="M"))

    def after(self, month: pd.Period) -> LikeForLike:
        """Only the pairs whose previous month is `month` or later (a comparison that must not
        straddle a change made in `month`)."""
        keep = self.previous_months >= month
        return LikeForLike(self.current, self.previous, self.current_months[keep],
                           self.previous_months[keep])

    @property
    def n(self) -> int:
        return len(self.current_months)

    @property
    def of(self) -> int:
        return self.current.n

    @property
    def minimum(self) -> int:
        return minimum_months(self.of)

    @property
    def enough(self) -> bool:
        """Enough months compared for a verdict on the change."""
        return self.n >= self.minimum

    @property
    def complete(self) -> bool:
        return self.n == self.of

    @property
    def no_previous_data(self) -> bool:
        return self.previous.all_missing

    @property
    def no_current_data(self) -> bool:
        return self.current.all_missing

    def _both(self) -> str:
        return "both years" if self.of == 12 else "both periods"

    def scope(self) -> str:
        """'' when every month is compared, else 'over the 11 months with complete data in
        both years'."""
        if self.complete:
            return ""
        return f"over the {plural(self.n, 'month')} with complete data in {self._both()}"

    def _left_out(self) -> str:
        """Which months are left out and why."""
        current = [m for m in self.current.months if m not in self.current_months]
        bad_current = [m for m in current if not self.current.is_usable(m)]
        bad_previous = [m for m in self.previous.months if not self.previous.is_usable(m)]
        parts = [self.previous.why(bad_previous), self.current.why(bad_current)]
        return "; ".join(p for p in parts if p)

    def caveat(self) -> str:
        """The sentence a reader needs when not every month was compared ('' otherwise)."""
        if self.no_previous_data:
            return (f"There are no data for {self.previous.name}, so no change from it can be "
                    "given.")
        if self.no_current_data:
            return f"There are no data for {self.current.name}, so no change can be given."
        if self.complete:
            return ""
        why = self._left_out()
        if self.n == 0:
            return (f"No month has complete data in {self._both()}, so no change between them "
                    f"can be given: {why}.")
        if not self.enough:
            return (f"Only {self.n} of the {self.of} months have complete data in "
                    f"{self._both()} (at least {self.minimum} are needed), so no verdict is "
                    f"given on whether the change is more than the usual variation: {why}.")
        bad_previous = [p for p in self.previous.months if not self.previous.is_usable(p)]
        bad_current = [c for c in self.current.months if not self.current.is_usable(c)]
        opening = (f"The comparison covers the {plural(self.n, 'month')} with complete data in "
                   f"{self._both()}")
        if len(bad_previous) + len(bad_current) == 1:
            month = (bad_previous or bad_current)[0]
            source = self.previous if bad_previous else self.current
            other = self.current_for(month) if bad_previous else self.previous_for(month)
            if other is not None:
                return (f"{opening}: {source.why([month])}, so it and {other:%B %Y} are left "
                        "out.")
        return (f"{opening}; {plural(self.of - self.n, 'calendar month')} "
                f"{'is' if self.of - self.n == 1 else 'are'} left out of both periods: {why}.")

    def current_for(self, previous_month: pd.Period) -> pd.Period | None:
        """The assessment-period month paired with `previous_month` (None if none)."""
        if self.current.n == self.previous.n:
            position = self.previous.months.get_loc(previous_month)
            return self.current.months[position]
        matches = [m for m in self.current.months if m.month == previous_month.month]
        return matches[0] if matches else None

    def previous_for(self, current_month: pd.Period) -> pd.Period | None:
        if self.current.n == self.previous.n:
            position = self.current.months.get_loc(current_month)
            return self.previous.months[position]
        matches = [m for m in self.previous.months if m.month == current_month.month]
        return matches[0] if matches else None
