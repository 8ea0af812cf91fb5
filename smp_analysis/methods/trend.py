"""Multi-year trends in annual totals, and whether growth is speeding up or slowing down.

References
----------
* :func:`annual_trend`: quasi-Poisson log-linear regression of the annual totals on the year,
  ``log E[y_j] = log e_j + a + b j`` with exposure ``e_j`` (e.g. the number of usable months
  in year j), dispersion ``phi`` = Pearson X^2 / (k - 2) floored at 1 (McCullagh and Nelder
  1989, *Generalized Linear Models*, 2nd ed., 4.5 and 9.2; Farrington et al. 1996 for the
  floor). ``exp(b) - 1`` is the average change a year; its test and interval are the Wald
  ones with the standard error inflated by ``sqrt(phi)`` and referred to Student's t on
  ``k - 2`` degrees of freedom, as R's ``summary(glm(y ~ year, family = quasipoisson))``
  (Pearson dispersion; here floored at 1). With three years there is one degree of freedom,
  so only a very steady, large trend is called clear: that is honest about three points.
* :func:`growth_change`: the ratio of the latest year-on-year rate ratio to the previous one,
  ``(y2 / e2) / (y1 / e1)`` over ``(y1 / e1) / (y0 / e0)``, on the log scale the second
  difference ``log y2 - 2 log y1 + log y0`` (plus exposures). Its Wald standard error from the
  saturated Poisson log-linear model is ``sqrt(phi (1 / y0 + 4 / y1 + 1 / y2))`` (delta
  method; it is the test of the quadratic term of a Poisson regression on three years, and the
  "difference between two estimates" of Altman and Bland 2003, BMJ 326, 219, with the shared
  middle year's covariance included). ``phi`` is a dispersion estimated elsewhere (e.g. from
  the monthly series, :func:`smp_analysis.methods.change.estimate_dispersion`); with
  ``dispersion_df`` the reference distribution is t on those degrees of freedom.

>>> r = annual_trend(pd.Series([1000, 1100, 1210, 1331], index=[2020, 2021, 2022, 2023]))
>>> round(r.annual_change, 4), r.significant
(0.1, True)
>>> g = growth_change(10000, 11000, 11500)
>>> round(g.previous_change, 3), round(g.latest_change, 3), g.direction
(0.1, 0.045, 'slowing')
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class TrendResult:
    """Average change a year over the years given, with its interval and test."""

    years: tuple
    counts: tuple[int, ...]
    annual_change: float  # exp(b) - 1: +0.04 = rising 4% a year on average
    ci_low: float
    ci_high: float
    p_value: float
    dispersion: float
    df: int
    alpha: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)

    @property
    def direction(self) -> str:
        """'rising', 'falling' or 'no clear trend' (judged by the test)."""
        if not self.significant:
            return "no clear trend"
        return "rising" if self.annual_change > 0 else "falling"

    def __str__(self) -> str:
        return (f"Trend over {len(self.years)} years: {100 * self.annual_change:+.1f}% a year "
                f"(95% CI {100 * self.ci_low:+.1f}% to {100 * self.ci_high:+.1f}%), "
                f"p = {self.p_value:.3g}, dispersion {self.dispersion:.2f} on {self.df} df")


def _counts(values) -> np.ndarray:
    y = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    if np.isnan(y).any() or (y < 0).any() or (y != np.round(y)).any():
        raise ValueError("annual totals must be whole numbers >= 0")
    return y


def annual_trend(counts: pd.Series, exposure: pd.Series | None = None, *,
                 alpha: float = 0.05) -> TrendResult:
    """Quasi-Poisson trend of annual totals (oldest first; see module doc). `exposure`
    (same index, > 0) is e.g. the number of usable months in each year.

    >>> r = annual_trend(pd.Series([120, 60, 30]), pd.Series([12, 6, 3]))
    >>> round(r.annual_change, 6), round(r.p_value, 6)  # the same rate each year
    (0.0, 1.0)
    """
    import statsmodels.api as sm

    y = _counts(counts)
    k = len(y)
    if k < 3:
        raise ValueError(f"a trend needs at least three years, got {k}")
    e = np.ones(k) if exposure is None else pd.to_numeric(
        pd.Series(exposure), errors="coerce").to_numpy(dtype=float)
    if len(e) != k or not (e > 0).all():
        raise ValueError("exposure must be positive for every year")
    index = pd.Series(counts).index
    if y.sum() == 0:
        return TrendResult(tuple(index), tuple(int(v) for v in y), 0.0, math.nan, math.nan,
                           1.0, 1.0, k - 2, alpha)
    year = np.arange(k, dtype=float)
    design = np.column_stack([np.ones(k), year - year.mean()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an exact fit is flagged as "perfect separation"
        fit = sm.GLM(y, design, family=sm.families.Poisson(), offset=np.log(e)).fit()
    df = k - 2
    pearson = float(fit.pearson_chi2) / df
    dispersion = max(1.0, pearson)
    slope = float(fit.params[1])
    se = float(fit.bse[1]) * math.sqrt(dispersion)
    if not np.isfinite(se) or se == 0:
        p_value, low, high = (1.0 if slope == 0 else 0.0), slope, slope
    else:
        statistic = slope / se
        p_value = float(2 * stats.t.sf(abs(statistic), df))
        q = float(stats.t.ppf(1 - alpha / 2, df))
        low, high = slope - q * se, slope + q * se
    return TrendResult(tuple(index), tuple(int(v) for v in y), math.expm1(slope),
                       math.expm1(low), math.expm1(high), p_value, dispersion, df, alpha)


@dataclass(frozen=True)
class GrowthChange:
    """The latest year-on-year change against the one before it."""

    counts: tuple[int, int, int]  # oldest first
    previous_change: float  # rate ratio - 1 from year 0 to year 1
    latest_change: float  # rate ratio - 1 from year 1 to year 2
    ratio: float  # (1 + latest) / (1 + previous)
    ci_low: float
    ci_high: float
    p_value: float
    dispersion: float
    alpha: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)

    @property
    def direction(self) -> str:
        """'speeding up' / 'slowing' (the latest change is clearly above / below the one
        before), or 'no clear change'."""
        if not self.significant:
            return "no clear change"
        return "speeding up" if self.ratio > 1 else "slowing"


def growth_change(y0: int, y1: int, y2: int, *, exposures=(1.0, 1.0, 1.0),
                  dispersion: float = 1.0, dispersion_df: float = math.inf,
                  alpha: float = 0.05) -> GrowthChange:
    """Is the latest year-on-year change different from the one before (see module doc)?

    >>> g = growth_change(1000, 1200, 1200)
    >>> round(g.ratio, 4), g.direction  # +20%, then flat: growth has slowed
    (0.8333, 'slowing')
    """
    y = _counts([y0, y1, y2])
    e = np.asarray(exposures, dtype=float)
    if e.shape != (3,) or not (e > 0).all():
        raise ValueError("exposures must be three positive numbers")
    if not dispersion >= 1 or math.isinf(dispersion):
        raise ValueError(f"dispersion must be a number >= 1, got {dispersion!r}")
    rate = y / e
    counts = (int(y[0]), int(y[1]), int(y[2]))
    with np.errstate(divide="ignore", invalid="ignore"):
        previous = rate[1] / rate[0] - 1
        latest = rate[2] / rate[1] - 1
    if (y == 0).any():
        return GrowthChange(counts, float(previous), float(latest), math.nan, math.nan,
                            math.nan, math.nan, float(dispersion), alpha)
    log_ratio = math.log(rate[2]) - 2 * math.log(rate[1]) + math.log(rate[0])
    se = math.sqrt(dispersion * (1 / y[0] + 4 / y[1] + 1 / y[2]))
    if math.isinf(dispersion_df):
        p_value = float(2 * stats.norm.sf(abs(log_ratio) / se))
        q = float(stats.norm.ppf(1 - alpha / 2))
    else:
        p_value = float(2 * stats.t.sf(abs(log_ratio) / se, dispersion_df))
        q = float(stats.t.ppf(1 - alpha / 2, dispersion_df))
    return GrowthChange(counts, float(previous), float(latest), math.exp(log_ratio),
                        math.exp(log_ratio - q * se), math.exp(log_ratio + q * se), p_value,
                        float(dispersion), alpha)
