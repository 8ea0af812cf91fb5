"""Change between two periods, and whether it is larger than the usual variation.

References
----------
* Exact conditional test for the ratio of two Poisson rates (Przyborowski and Wilenski 1940;
  Lehmann and Romano, *Testing Statistical Hypotheses*, 4.6). Given counts x1, x0 with
  exposures t1, t0, under H0 (equal rates) x1 | x1 + x0 ~ Binomial(x1 + x0, t1 / (t1 + t0)).
  The two-sided p-value and the Clopper-Pearson interval for the binomial proportion, mapped to
  the rate ratio, are those of R's ``poisson.test(c(x1, x0), c(t1, t0))``; the tests compare
  against R's documented example. Used when ``dispersion == 1``.
* Over-dispersion: quasi-likelihood (Wedderburn 1974, Biometrika 61, 439-447; McCullagh and
  Nelder 1989, *Generalized Linear Models*, 2nd ed., sections 4.5 and 9.2-9.3). Monthly counts
  of recorded crime vary more than a Poisson count would (var = phi mu with phi of 3 to 10 on
  district series), so the Poisson test calls ordinary year-to-year variation "larger than
  chance" far too often. With ``dispersion = phi > 1`` the test is the quasi-likelihood one:
  the Poisson likelihood-ratio (deviance) statistic for equal rates, divided by phi, referred
  to chi-squared(1), or to F(1, df) when phi was estimated on df residual degrees of freedom
  (``dispersion_df``; McCullagh and Nelder 1989, 9.3.2). The interval is the matching
  profile-likelihood interval {rate ratio : deviance / phi <= critical value}.
* :func:`estimate_dispersion`: phi from the history before the assessment period, as the
  Pearson X^2 / (n - p) of a Poisson log-linear fit with month-of-year terms and a linear
  trend (the quasi-Poisson estimate, McCullagh and Nelder 1989, 4.5.2; the same model family
  as Farrington et al. 1996 and the seasonal regressions of Bernal, Cummins and Gasparrini
  2017), floored at 1 as Farrington et al. do. Missing months are left out, never zero-filled.

What a verdict means (docs/methods.md): with phi estimated from the same series, "larger than
chance" reads "larger than the usual variation from year to year"; it is evidence, not proof,
of a real shift. Recording-practice changes are handled separately (recording chapter).

>>> r = compare_counts(current=9358, previous=8845)
>>> r.change, round(r.percent_change, 1), r.test
(513, 5.8, 'exact')
>>> r.significant
True
>>> compare_counts(current=9358, previous=8845, dispersion=4.5).significant
False
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .exact_binomial import binomial_test
from .multiple_testing import benjamini_hochberg

# Fewest residual degrees of freedom for a dispersion estimate: with fewer, the estimate is too
# unstable to base a verdict on (its coefficient of variation is sqrt(2 / df) > 58%).
MIN_DISPERSION_DF = 6


@dataclass(frozen=True)
class ChangeResult:
    previous: int
    current: int
    change: int
    percent_change: float  # 100 * change / previous; NaN when previous is 0
    rate_ratio: float  # (current / current_exposure) / (previous / previous_exposure)
    ci_low: float
    ci_high: float
    p_value: float  # NaN when no test was possible
    alpha: float
    dispersion: float = 1.0
    test: str = "exact"  # "exact" (Poisson, conditional) or "quasi-Poisson"

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ValueError(f"{name} must be a whole number of offences >= 0, got {value!r}")
    return int(value)


def _binomial_deviance(x1: int, x0: int, p: float) -> float:
    """2 x log-likelihood ratio of x1 of x1 + x0 at its estimate against proportion p (the
    Poisson deviance of equal rates, conditional on the total)."""
    n = x1 + x0
    total = 0.0
    if x1 > 0:
        total += x1 * math.log(x1 / (n * p))
    if x0 > 0:
        total += x0 * math.log(x0 / (n * (1 - p)))
    return 2.0 * total


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(u: float) -> float:
    return 1 / (1 + math.exp(-u)) if u >= 0 else math.exp(u) / (1 + math.exp(u))


def _profile_bound(x1: int, x0: int, target: float, direction: int) -> float:
    """Proportion p on one side of x1 / n where the deviance reaches `target`."""
    n = x1 + x0
    if (direction < 0 and x1 == 0) or (direction > 0 and x0 == 0):
        return 0.0 if direction < 0 else 1.0
    # the estimate itself can be 0 or 1 on the other side: start just inside (0, 1)
    centre = _logit(min(max(x1 / n, 1e-12), 1 - 1e-12))
    step = 1.0
    while _binomial_deviance(x1, x0, _expit(centre + direction * step)) < target:
        step *= 2
        if step > 1e3:
            return 0.0 if direction < 0 else 1.0
    a, b = sorted((centre, centre + direction * step))
    root = optimize.brentq(lambda u: _binomial_deviance(x1, x0, _expit(u)) - target, a, b,
                           xtol=1e-12, rtol=1e-12)
    return _expit(root)


def compare_counts(current: int, previous: int, *, current_exposure: float = 1.0,
                   previous_exposure: float = 1.0, alpha: float = 0.05,
                   dispersion: float = 1.0, dispersion_df: float = math.inf) -> ChangeResult:
    """Compare a count with the previous period's (exposures: e.g. months or population).

    ``dispersion`` (>= 1, e.g. from :func:`estimate_dispersion`) scales the test to counts
    that vary more than a Poisson count; 1 keeps the exact Poisson test of R's
    ``poisson.test``. ``dispersion_df`` is the residual degrees of freedom the dispersion was
    estimated with (infinite: treated as known).

    >>> r = compare_counts(120, 100, dispersion=2.0)
    >>> round(r.p_value, 3), r.test  # deviance 1.8207 / 2 against chi-squared(1)
    (0.34, 'quasi-Poisson')
    """
    x1 = _check_count("current", current)
    x0 = _check_count("previous", previous)
    if not (current_exposure > 0 and previous_exposure > 0):
        raise ValueError("exposures must be positive")
    if not dispersion >= 1 or math.isinf(dispersion):
        raise ValueError(f"dispersion must be a number >= 1 (it is floored at 1), got "
                         f"{dispersion!r}")
    if not dispersion_df > 0:
        raise ValueError("dispersion_df must be positive")
    change = x1 - x0
    percent = 100.0 * change / x0 if x0 > 0 else math.nan
    n = x1 + x0
    exact = dispersion == 1
    test_name = "exact" if exact else "quasi-Poisson"
    if n == 0:
        return ChangeResult(x0, x1, 0, percent, math.nan, math.nan, math.nan, 1.0, alpha,
                            float(dispersion), test_name)
    p_null = current_exposure / (current_exposure + previous_exposure)
    scale = previous_exposure / current_exposure

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    ratio = (x1 / current_exposure) / (x0 / previous_exposure) if x0 > 0 else math.inf
    if exact:
        # scipy.stats.binomtest and its exact proportion_ci, the same numbers at less cost
        p_value, low, high = binomial_test(x1, n, p_null, alpha=alpha)
    else:
        statistic = _binomial_deviance(x1, x0, p_null) / dispersion
        if math.isinf(dispersion_df):
            p_value = float(stats.chi2.sf(statistic, 1))
            critical = float(stats.chi2.ppf(1 - alpha, 1))
        else:
            p_value = float(stats.f.sf(statistic, 1, dispersion_df))
            critical = float(stats.f.ppf(1 - alpha, 1, dispersion_df))
        target = critical * dispersion
        low = _profile_bound(x1, x0, target, -1)
        high = _profile_bound(x1, x0, target, +1)
    return ChangeResult(x0, x1, change, percent, ratio, to_ratio(low), to_ratio(high), p_value,
                        alpha, float(dispersion), test_name)


# --------------------------------------------------------------------------- dispersion


@dataclass(frozen=True)
class DispersionFit:
    """How the dispersion of a monthly series was estimated."""

    dispersion: float  # max(1, pearson)
    pearson: float  # Pearson X^2 / df of the fit
    months: int  # months with data used
    df: int  # residual degrees of freedom
    seasonal: bool  # month-of-year terms were fitted (False: too few months, trend only)


class TooLittleHistory(ValueError):
    """The series is too short for a dispersion estimate; the message says how short."""


def _monthly_index(index: pd.Index) -> pd.PeriodIndex:
    if isinstance(index, pd.DatetimeIndex):
        index = index.to_period("M")
    if not isinstance(index, pd.PeriodIndex) or not index.freqstr.startswith("M"):
        raise TypeError("history must be indexed by monthly periods (pandas.PeriodIndex)")
    if index.has_duplicates:
        raise ValueError("history has repeated months: "
                         + ", ".join(str(m) for m in index[index.duplicated()][:5]))
    return index


def _present_values(index: pd.PeriodIndex, values: np.ndarray) -> tuple[pd.PeriodIndex,
                                                                          np.ndarray]:
    """The months with data and their counts, in `index`'s order; NaN left out."""
    present = ~np.isnan(values)
    index, values = index[present], values[present]
    bad = (values < 0) | (values != np.round(values))
    if bad.any():
        raise ValueError("history counts must be whole numbers >= 0; bad at "
                         + ", ".join(str(m) for m in index[bad][:10]))
    return index, values


def _monthly_values(history: pd.Series) -> tuple[pd.PeriodIndex, np.ndarray]:
    """The months with data and their counts, sorted; NaN (no usable data) left out."""
    index = _monthly_index(history.index)
    values = pd.to_numeric(history, errors="coerce").to_numpy(dtype=float)
    index, values = _present_values(index, values)
    order = np.argsort(index.asi8, kind="stable")
    return index[order], values[order]


def fit_dispersion(history: pd.Series) -> DispersionFit:
    """Seasonal quasi-Poisson dispersion of a monthly count series (see module doc).

    `history` is indexed by monthly ``Period``; NaN marks a month without usable data (left
    out). Month-of-year terms are fitted when enough months remain for at least
    ``MIN_DISPERSION_DF`` residual degrees of freedom; otherwise the trend-only fit is used,
    which counts seasonal swings as variation (a larger, more cautious estimate). Raises
    :class:`TooLittleHistory` when even that is impossible.
    """
    return _fit_values(*_monthly_values(history))


def fit_dispersions(history: pd.DataFrame) -> dict:
    """:func:`fit_dispersion` of every column of `history` (monthly series side by side, e.g.
    the areas of a district): ``{column: DispersionFit}``, with ``None`` for a column too short
    for an estimate. The same numbers as one call a column, with the index checked once and
    the columns with the same months fitted together (:func:`_poisson_fitted_many`).

    >>> months = pd.period_range("2019-01", periods=36, freq="M")
    >>> flat = [100 + [10, -20, 10][i // 12] for i in range(36)]
    >>> fits = fit_dispersions(pd.DataFrame({"A": flat, "B": [1.0] * 6 + [None] * 30},
    ...                                            index=months))
    >>> round(fits["A"].dispersion, 4), fits["B"]
    (3.1304, None)
    """
    index = _monthly_index(history.index)
    order = np.argsort(index.asi8, kind="stable")
    index = index[order]
    numeric = all(pd.api.types.is_numeric_dtype(t) for t in history.dtypes)
    frame = history if numeric else history.apply(pd.to_numeric, errors="coerce")
    values = frame.to_numpy(dtype=float)[order]
    groups: dict = {}  # months -> (design or None, [(column, counts)])
    for j, column in enumerate(history.columns):
        months, y = _present_values(index, values[:, j])
        key = months.asi8.tobytes()
        if key not in groups:
            try:
                groups[key] = (_design(months), [])
            except TooLittleHistory:
                groups[key] = (None, [])
        groups[key][1].append((column, y))
    fits = dict.fromkeys(history.columns)
    for built, members in groups.values():
        if built is not None:
            fits.update(zip((c for c, _ in members),
                            _fits(np.column_stack([y for _, y in members]), *built),
                            strict=True))
    return fits


def _fit_values(months: pd.PeriodIndex, y: np.ndarray) -> DispersionFit:
    """The fit of counts `y` of sorted `months`."""
    return _fits(y[:, None], *_design(months))[0]


def _fits(counts: np.ndarray, design: np.ndarray, seasonal: bool) -> list[DispersionFit]:
    """The fit of each column of `counts` (months x series) on `design`."""
    n, p = design.shape
    fits = [DispersionFit(1.0, 0.0, n, n - p, seasonal)] * counts.shape[1]
    some = np.flatnonzero(counts.sum(axis=0) > 0)
    if len(some):
        y = counts[:, some]
        mu = _poisson_fitted_many(y, design)
        terms = np.where(mu > 1e-10, (y - mu) ** 2 / np.maximum(mu, 1e-10), 0.0)
        for j, pearson in zip(some, terms.sum(axis=0) / (n - p), strict=True):
            fits[j] = DispersionFit(max(1.0, float(pearson)), float(pearson), n, n - p,
                                    seasonal)
    return fits


def _design(months: pd.PeriodIndex) -> tuple[np.ndarray, bool]:
    """Intercept, trend (per year) and, when the months allow, month-of-year columns."""
    n = len(months)
    month_of_year = np.asarray(months.month)
    levels = np.unique(month_of_year)
    seasonal = n - (1 + len(levels)) >= MIN_DISPERSION_DF
    p = 1 + len(levels) if seasonal else 2
    if n - p < MIN_DISPERSION_DF:
        raise TooLittleHistory(
            f"{n} month(s) of history; at least {2 + MIN_DISPERSION_DF} are needed to estimate "
            "how much the monthly counts vary")
    t = months.asi8.astype(float)
    columns = [np.ones(n), (t - t.mean()) / 12.0]
    if seasonal:
        columns += [(month_of_year == level).astype(float) for level in levels[1:]]
    return np.column_stack(columns), seasonal


def _poisson_fitted(y: np.ndarray, design: np.ndarray, *, maxit: int = 50,
                    epsilon: float = 1e-10) -> np.ndarray:
    """Fitted means of a Poisson log-linear model by iteratively reweighted least squares,
    started and stopped as R's ``glm.fit`` (mu = y + 0.1; relative change in deviance)."""
    return _poisson_fitted_many(y[:, None], design, maxit=maxit, epsilon=epsilon)[:, 0]


def _poisson_fitted_many(counts: np.ndarray, design: np.ndarray, *, maxit: int = 50,
                         epsilon: float = 1e-10) -> np.ndarray:
    """:func:`_poisson_fitted` of each column of `counts` (months x series) on one design,
    fitted together: each series iterates until its own deviance settles, as alone would, and
    the weighted least squares of every series still iterating are solved at once
    (:func:`_least_squares`)."""
    mu = counts + 0.1
    eta = np.log(mu)
    deviance_old = np.full(counts.shape[1], np.inf)
    going = np.arange(counts.shape[1])
    for _ in range(maxit):
        y, m = counts[:, going].T, mu[:, going].T  # series x months
        root_w = np.sqrt(m)
        z = eta[:, going].T + (y - m) / m
        beta = _least_squares(design[None, :, :] * root_w[:, :, None], z * root_w)
        # a calendar month with no offences in any year sends its coefficient to -inf; its
        # fitted values go to 0 with the data and add nothing to X^2, which is what we want
        e = np.maximum(np.einsum("np,sp->sn", design, beta), -30.0)
        m = np.exp(e)
        with np.errstate(divide="ignore", invalid="ignore"):
            deviance = 2 * np.sum(np.where(y > 0, y * np.log(y / m), 0.0) - (y - m), axis=1)
        eta[:, going], mu[:, going] = e.T, m.T
        settled = np.abs(deviance - deviance_old[going]) / (np.abs(deviance) + 0.1) < epsilon
        deviance_old[going] = deviance
        going = going[~settled]
        if not len(going):
            break
    return mu


def _least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least-squares solutions x of a[s] x = b[s] for each s, by the singular value
    decomposition, as ``numpy.linalg.lstsq(a[s], b[s], rcond=None)`` gives them: singular
    values at most eps x max(n, p) x the largest count as zero, so a rank-deficient system
    gets the minimum-norm solution.

    >>> a = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]])
    >>> b = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])
    >>> np.round(_least_squares(a, b), 12).tolist()  # the second: rank 1, minimum norm
    [[1.0, 2.0], [0.5, 0.5]]
    """
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    kept = s > np.finfo(float).eps * max(a.shape[1:]) * s[:, :1]
    inverse = np.divide(1.0, s, out=np.zeros_like(s), where=kept)
    return np.einsum("spq,sp->sq", vt, inverse * np.einsum("snp,sn->sp", u, b))


def estimate_dispersion(history: pd.Series) -> float:
    """The dispersion (>= 1) of a monthly count series from the years before the assessment
    period: seasonal quasi-Poisson fit, month-of-year terms and a linear trend.

    >>> months = pd.period_range("2019-01", periods=36, freq="M")
    >>> deviation = [10, -20, 10]  # year 1, 2, 3: the trend stays flat
    >>> s = pd.Series([100 + deviation[i // 12] for i in range(36)], index=months)
    >>> round(estimate_dispersion(s), 4)  # 12 x 600 / 100 / (36 - 13)
    3.1304
    """
    return fit_dispersion(history).dispersion


# --------------------------------------------------------------------------- many series


def _per_label(value, labels) -> dict:
    if isinstance(value, Mapping | pd.Series):
        return {label: float(value.get(label, math.nan)) for label in labels}
    return dict.fromkeys(labels, float(value))


def _untested(x1: int, x0: int, current_exposure: float,
              previous_exposure: float) -> ChangeResult:
    """The counts, change and rate ratio of a label that is not tested (interval and p-value
    NaN), as :func:`compare_counts` would give them, without running a test."""
    x1, x0 = _check_count("current", x1), _check_count("previous", x0)
    if not (current_exposure > 0 and previous_exposure > 0):
        raise ValueError("exposures must be positive")
    percent = 100.0 * (x1 - x0) / x0 if x0 > 0 else math.nan
    if x1 + x0 == 0:
        ratio = math.nan
    else:
        ratio = (x1 / current_exposure) / (x0 / previous_exposure) if x0 > 0 else math.inf
    return ChangeResult(x0, x1, x1 - x0, percent, ratio, math.nan, math.nan, math.nan, math.nan)


def change_table(current: pd.Series, previous: pd.Series, *, alpha: float = 0.05,
                 current_exposure: float = 1.0, previous_exposure: float = 1.0,
                 dispersion: float | Mapping | pd.Series = 1.0,
                 dispersion_df: float | Mapping | pd.Series = math.inf,
                 adjust: Literal["none", "bh"] = "none") -> pd.DataFrame:
    """One row per label: previous, current, change, percent_change, rate_ratio, ci_low,
    ci_high, p_value, dispersion, p_adjusted, significant.

    `current` and `previous` are counts indexed by the same labels (missing counts are 0).
    `dispersion` (and `dispersion_df`) may be one number or one per label; a label whose
    dispersion is NaN (no estimate) is not tested (p_value NaN, significant False).
    ``adjust="bh"`` controls the false discovery rate across the labels tested
    (:func:`~smp_analysis.methods.multiple_testing.benjamini_hochberg`); ``significant`` then
    uses the adjusted p-values.

    >>> t = change_table(pd.Series({"A": 120, "B": 10}), pd.Series({"A": 100, "B": 10}))
    >>> t.loc["A", ["previous", "current", "change"]].tolist()
    [100, 120, 20]
    """
    if adjust not in ("none", "bh"):
        raise ValueError("adjust must be 'none' or 'bh'")
    labels = current.index.union(previous.index, sort=False)
    phis = _per_label(dispersion, labels)
    dfs = _per_label(dispersion_df, labels)
    rows = {}
    for label in labels:
        x1, x0 = int(current.get(label, 0)), int(previous.get(label, 0))
        phi = phis[label]
        if math.isnan(phi):  # not tested: the counts and their ratio only (no test to run)
            r = _untested(x1, x0, current_exposure, previous_exposure)
        else:
            r = compare_counts(x1, x0, current_exposure=current_exposure,
                               previous_exposure=previous_exposure, alpha=alpha,
                               dispersion=phi,
                               dispersion_df=dfs[label] if dfs[label] > 0 else math.inf)
        rows[label] = {"previous": r.previous, "current": r.current, "change": r.change,
                       "percent_change": r.percent_change, "rate_ratio": r.rate_ratio,
                       "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
                       "dispersion": phi}
    columns = ["previous", "current", "change", "percent_change", "rate_ratio", "ci_low",
               "ci_high", "p_value", "dispersion"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index.name = current.index.name or previous.index.name
    p_values = table["p_value"].to_numpy(dtype=float)
    table["p_adjusted"] = benjamini_hochberg(p_values) if adjust == "bh" and len(table) else \
        p_values
    table["significant"] = (table["p_adjusted"] < alpha).fillna(False).astype(bool)
    return table.astype({"previous": "int64", "current": "int64", "change": "int64"})
