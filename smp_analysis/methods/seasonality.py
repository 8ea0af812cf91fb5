"""Is there a seasonal pattern in a monthly count series, beyond trend and over-dispersion?

Method
------
Two quasi-Poisson log-linear models (Wedderburn 1974; McCullagh and Nelder 1989, *Generalized
Linear Models*, 2nd ed., sections 4.5 and 9.2-9.3) are fitted to the months with data:

* the trend-only model  ``log E[y_t] = a + b t``;
* the seasonal model    ``log E[y_t] = a + b t + g_m(t)``, with one term per calendar month.

The month-of-year terms are tested together by the quasi-likelihood F test (McCullagh and
Nelder 1989, 9.3.2; R's ``anova(trend_only, seasonal, test = "F")`` for a ``quasipoisson``
fit): ``F = (D_trend - D_seasonal) / (k - 1) / phi`` on ``(k - 1, n - k - 1)`` degrees of
freedom, where ``k`` is the number of calendar months and ``phi`` the Pearson X^2 / df of the
seasonal model. ``phi`` is floored at 1, as in Farrington et al. (1996) and
:mod:`smp_analysis.methods.change`, so a series is never treated as *less* variable than a
Poisson count (the floor can only make the test more cautious). The same seasonal model
family is used by Farrington et al. (1996) and the seasonal regressions of Bernal, Cummins
and Gasparrini (2017, Int J Epidemiol 46(1), 348-355).

Month effects are read from the seasonal model: the fitted level of calendar month ``m`` over
the average of the twelve fitted levels, ``exp(g_m) / mean_k exp(g_k)`` (the trend cancels).
``peak_months`` are the months at least 10% above that average (:data:`PEAK_THRESHOLD`),
``peak_ratio`` the highest month's ratio. Month lengths are part of the month effects (a
28-day February is about 8% below a flat daily rate), so the threshold for a peak is well
above what calendar length alone can produce (31 / 30.44 days: +1.8%).

Months whose value is NaN (no usable data, or left out on purpose, such as lockdown months)
are left out, never zero-filled. At least three years are needed: 36 months with data and
every calendar month seen at least twice.

>>> months = pd.period_range("2019-01", periods=48, freq="M")
>>> summer = [1.3 if m.month in (6, 7, 8) else 1.0 for m in months]
>>> s = pd.Series([round(200 * f) for f in summer], index=months)
>>> r = seasonality(s)
>>> r.seasonal, r.peak_months, round(r.peak_ratio, 3)
(True, (6, 7, 8), 1.209)
>>> r.describe()
'peaks in June to August, 21% above the monthly average'
"""

from __future__ import annotations

import calendar
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

PEAK_THRESHOLD = 1.10  # a peak month is at least 10% above the average month
MIN_MONTHS = 36
MIN_PER_CALENDAR_MONTH = 2


class TooLittleHistory(ValueError):
    """The series is too short to test for seasonality; the message says how short."""


@dataclass(frozen=True)
class SeasonalityResult:
    """Outcome of :func:`seasonality`. ``effects`` holds, for calendar months 1-12, the fitted
    level over the average month (1.18 = 18% above the average)."""

    p_value: float
    seasonal: bool
    peak_months: tuple[int, ...]
    peak_ratio: float
    effects: pd.Series
    f_statistic: float
    df_numerator: int
    df_denominator: int
    dispersion: float
    months: int
    alpha: float

    @property
    def peak_percent(self) -> float:
        """How far the highest month is above the average month, in percent."""
        return 100 * (self.peak_ratio - 1)

    def describe(self) -> str:
        """'peaks in June to August, 18% above the monthly average', or a plain statement
        that there is no clear pattern (significance is judged by the caller's ``alpha``
        or by an adjusted p-value: see :func:`describe_pattern`)."""
        return describe_pattern(self.seasonal, self.peak_months, self.peak_ratio)

    def __str__(self) -> str:
        return (f"Seasonality test: F({self.df_numerator}, {self.df_denominator}) = "
                f"{self.f_statistic:.2f}, p = {self.p_value:.4g}, dispersion "
                f"{self.dispersion:.2f}, {self.months} months; {self.describe()}")


def month_names(months) -> str:
    """Calendar months as words, runs joined ('June to August'), wrapping past December.

    >>> month_names([6, 7, 8]), month_names([1, 12]), month_names([3, 7, 8, 11])
    ('June to August', 'December to January', 'March, July to August and November')
    """
    chosen = sorted(set(int(m) for m in months))
    if not chosen:
        return ""
    runs: list[list[int]] = []
    for m in chosen:
        if runs and m == runs[-1][-1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][-1] == 12:  # December runs into January
        runs = sorted(runs[1:-1] + [runs[-1] + runs[0]], key=lambda r: r[0])
    words = [calendar.month_name[r[0]] if len(r) == 1
             else f"{calendar.month_name[r[0]]} to {calendar.month_name[r[-1]]}" for r in runs]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_pattern(seasonal: bool, peak_months, peak_ratio: float) -> str:
    """The phrase the chapters use for one series.

    >>> describe_pattern(True, (6, 7, 8), 1.181)
    'peaks in June to August, 18% above the monthly average'
    >>> describe_pattern(False, (6,), 1.12)
    'no clear seasonal pattern'
    >>> describe_pattern(True, (), 1.06)
    'varies with the time of year, but no month is 10% or more above the monthly average'
    """
    if not seasonal:
        return "no clear seasonal pattern"
    if not peak_months:
        return (f"varies with the time of year, but no month is "
                f"{round(100 * (PEAK_THRESHOLD - 1))}% or more above the monthly average")
    return (f"peaks in {month_names(peak_months)}, {round(100 * (peak_ratio - 1))}% above the "
            "monthly average")


def _monthly(monthly: pd.Series) -> tuple[pd.PeriodIndex, np.ndarray]:
    index = monthly.index
    if isinstance(index, pd.DatetimeIndex):
        index = index.to_period("M")
    if not isinstance(index, pd.PeriodIndex) or not index.freqstr.startswith("M"):
        raise TypeError("monthly must be indexed by monthly periods (pandas.PeriodIndex)")
    if index.has_duplicates:
        raise ValueError("monthly has repeated months: "
                         + ", ".join(str(m) for m in index[index.duplicated()][:5]))
    values = pd.to_numeric(monthly, errors="coerce").to_numpy(dtype=float)
    present = ~np.isnan(values)
    index, values = index[present], values[present]
    bad = (values < 0) | (values != np.round(values)) | np.isinf(values)
    if bad.any():
        raise ValueError("monthly counts must be whole numbers >= 0; bad at "
                         + ", ".join(str(m) for m in index[bad][:10]))
    order = np.argsort(index.asi8, kind="stable")
    return index[order], values[order]


def check_history(monthly: pd.Series) -> None:
    """Raise :class:`TooLittleHistory` unless the series can be tested (see module doc)."""
    months, _ = _monthly(monthly)
    if len(months) < MIN_MONTHS:
        raise TooLittleHistory(
            f"{len(months)} month(s) with data; at least {MIN_MONTHS} (three years) are needed "
            "to test for a seasonal pattern")
    seen = pd.Series(np.asarray(months.month)).value_counts()
    thin = [calendar.month_name[m] for m in range(1, 13)
            if seen.get(m, 0) < MIN_PER_CALENDAR_MONTH]
    if thin:
        raise TooLittleHistory(
            f"{', '.join(thin)} {'is' if len(thin) == 1 else 'are'} seen fewer than "
            f"{MIN_PER_CALENDAR_MONTH} times; each calendar month is needed at least twice")


def seasonality(monthly: pd.Series, *, alpha: float = 0.05) -> SeasonalityResult:
    """Test a monthly count series (index ``pandas.Period[M]``, >= 3 years) for month-of-year
    effects beyond a linear trend and over-dispersion (see module doc).

    >>> months = pd.period_range("2018-01", periods=36, freq="M")
    >>> flat = pd.Series(100, index=months)
    >>> r = seasonality(flat)
    >>> r.seasonal, r.peak_months, round(r.p_value, 6)
    (False, (), 1.0)
    """
    import statsmodels.api as sm  # imported late: statsmodels is slow to import

    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1")
    check_history(monthly)
    months, y = _monthly(monthly)
    n = len(y)
    month_of_year = np.asarray(months.month)
    levels = np.unique(month_of_year)  # all 12 after check_history
    t = (months.asi8 - months.asi8.min()).astype(float) / 12.0
    trend_design = np.column_stack([np.ones(n), t - t.mean()])
    dummies = np.column_stack([(month_of_year == level).astype(float) for level in levels[1:]])
    seasonal_design = np.column_stack([trend_design, dummies])
    df_num = len(levels) - 1
    df_den = n - seasonal_design.shape[1]
    flat_effects = pd.Series(1.0, index=pd.Index(levels, name="month"))
    if y.sum() == 0:
        return SeasonalityResult(1.0, False, (), 1.0, flat_effects, 0.0, df_num, df_den, 1.0,
                                 n, alpha)
    family = sm.families.Poisson()
    with warnings.catch_warnings():
        # an exact fit (a noiseless series) or a calendar month with no events in any year
        # is flagged as "perfect separation"; the fitted values are still right
        warnings.simplefilter("ignore")
        trend_fit = sm.GLM(y, trend_design, family=family).fit()
        seasonal_fit = sm.GLM(y, seasonal_design, family=family).fit()
    pearson = float(seasonal_fit.pearson_chi2) / df_den
    dispersion = max(1.0, pearson)
    drop = max(0.0, float(trend_fit.deviance - seasonal_fit.deviance))
    f_statistic = drop / df_num / dispersion
    p_value = float(stats.f.sf(f_statistic, df_num, df_den))
    gamma = np.concatenate([[0.0], np.asarray(seasonal_fit.params)[2:]])
    level = np.exp(np.maximum(gamma, -30.0))
    effects = pd.Series(level / level.mean(), index=pd.Index(levels, name="month"))
    peaks = tuple(int(m) for m, v in effects.items() if v >= PEAK_THRESHOLD - 1e-9)
    peak_ratio = float(effects.max())
    if math.isnan(p_value):
        p_value = 1.0
    return SeasonalityResult(p_value, p_value < alpha, peaks, peak_ratio, effects, f_statistic,
                             df_num, df_den, dispersion, n, alpha)
