"""Change between two periods, with an exact test of whether it is more than chance.

Reference: the conditional (exact) test for the ratio of two Poisson rates (Przyborowski and
Wilenski 1940; Lehmann and Romano, *Testing Statistical Hypotheses*, 4.6). Given counts x1, x0
with exposures t1, t0, under H0 (equal rates) x1 | x1 + x0 ~ Binomial(x1 + x0, t1 / (t1 + t0)).
The two-sided p-value and the Clopper-Pearson interval for the binomial proportion, mapped to the
rate ratio, are those of R's ``poisson.test(c(x1, x0), c(t1, t0))``; the tests compare against
R's documented example.

Caveat (docs/assumptions.md): recorded crime is over-dispersed relative to the Poisson, so the
test is a screen for "more than chance", not proof of a real change; recording practice changes
are handled separately (recording chapter).

>>> r = compare_counts(current=9358, previous=8845)
>>> r.change, round(r.percent_change, 1)
(513, 5.8)
>>> r.significant
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class ChangeResult:
    previous: int
    current: int
    change: int
    percent_change: float  # NaN when previous is 0
    rate_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ValueError(f"{name} must be a whole number of offences >= 0, got {value!r}")
    return int(value)


def compare_counts(current: int, previous: int, *, current_exposure: float = 1.0,
                   previous_exposure: float = 1.0, alpha: float = 0.05) -> ChangeResult:
    """Compare a count with the previous period's (exposures: e.g. months or population)."""
    x1 = _check_count("current", current)
    x0 = _check_count("previous", previous)
    if current_exposure <= 0 or previous_exposure <= 0:
        raise ValueError("exposures must be positive")
    change = x1 - x0
    percent = 100.0 * change / x0 if x0 > 0 else math.nan
    n = x1 + x0
    if n == 0:
        return ChangeResult(x0, x1, 0, percent, math.nan, math.nan, math.nan, 1.0, alpha)
    p_null = current_exposure / (current_exposure + previous_exposure)
    test = stats.binomtest(x1, n, p_null, alternative="two-sided")
    ci = test.proportion_ci(confidence_level=1 - alpha, method="exact")
    scale = previous_exposure / current_exposure

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    ratio = (x1 / current_exposure) / (x0 / previous_exposure) if x0 > 0 else math.inf
    return ChangeResult(x0, x1, change, percent, ratio, to_ratio(ci.low), to_ratio(ci.high),
                        float(test.pvalue), alpha)


def change_table(current: pd.Series, previous: pd.Series, *, alpha: float = 0.05,
                 current_exposure: float = 1.0, previous_exposure: float = 1.0) -> pd.DataFrame:
    """One row per label: previous, current, change, percent_change, p_value, significant.

    `current` and `previous` are counts indexed by the same labels (missing counts are 0).

    >>> t = change_table(pd.Series({"A": 120, "B": 10}), pd.Series({"A": 100, "B": 10}))
    >>> t.loc["A", ["previous", "current", "change"]].tolist()
    [100, 120, 20]
    """
    labels = current.index.union(previous.index, sort=False)
    rows = {}
    for label in labels:
        r = compare_counts(int(current.get(label, 0)), int(previous.get(label, 0)),
                           current_exposure=current_exposure,
                           previous_exposure=previous_exposure, alpha=alpha)
        rows[label] = {"previous": r.previous, "current": r.current, "change": r.change,
                       "percent_change": r.percent_change, "rate_ratio": r.rate_ratio,
                       "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
                       "significant": r.significant}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = current.index.name or previous.index.name
    return table.astype({"previous": "int64", "current": "int64", "change": "int64"})
