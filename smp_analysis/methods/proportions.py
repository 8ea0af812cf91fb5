"""Proportions from surveys and cohorts: change between two surveys, and actual against
predicted.

References
----------
* Change between two independent proportions x1/n1 and x0/n0: the score test of equal
  proportions (the two-sample z-test with the pooled proportion, equivalent to Pearson's
  chi-squared test of the 2x2 table; Agresti 2013, *Categorical Data Analysis*, 3rd ed.,
  3.2.1): z = (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0)) with p the pooled proportion; and
  Newcombe's hybrid score interval for the difference (Newcombe 1998, Statistics in Medicine
  17, 873-890, method 10), built from the Wilson intervals (l, u) of each proportion:
  d - sqrt((p1 - l1)^2 + (u0 - p0)^2) to d + sqrt((u1 - p1)^2 + (p0 - l0)^2). These are
  statsmodels' ``test_proportions_2indep(method="score", correction=False)`` and
  ``confint_proportions_2indep(method="newcomb")``, written out to keep statsmodels' import
  out of the chapter; the tests reproduce Newcombe's published examples.
* Actual against predicted (e.g. proven reoffending against the rate predicted from the
  cohort's characteristics): the exact binomial test of the actual count x of n against the
  predicted proportion (scipy ``binomtest``), with the Clopper-Pearson interval.

Survey proportions are treated as simple random samples; a survey with a design effect
(weighting, clustering) has wider intervals than these, which the report says.

>>> r = compare_proportions(56, 70, 48, 80)
>>> round(r.difference, 3), round(r.ci_low, 4), round(r.ci_high, 4), round(r.p_value, 4)
(0.2, 0.0524, 0.3339, 0.008)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from .intervals import wilson


@dataclass(frozen=True)
class ProportionChange:
    current: int
    current_n: int
    previous: int
    previous_n: int
    difference: float  # current proportion - previous proportion
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    test: str = "score"

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)


def _check(x: float, n: float, name: str) -> tuple[int, int]:
    if n <= 0 or x < 0 or x > n or float(x) != int(x) or float(n) != int(n):
        raise ValueError(f"{name}: need whole numbers 0 <= x <= n and n > 0, got {x}/{n}")
    return int(x), int(n)


def compare_proportions(current: int, current_n: int, previous: int, previous_n: int, *,
                        alpha: float = 0.05) -> ProportionChange:
    """Score test and Newcombe interval for current/current_n - previous/previous_n.

    >>> r = compare_proportions(9, 10, 3, 10)  # Newcombe 1998, method 10: 0.1705 to 0.8090
    >>> round(r.ci_low, 4), round(r.ci_high, 4)
    (0.1705, 0.809)
    """
    x1, n1 = _check(current, current_n, "current")
    x0, n0 = _check(previous, previous_n, "previous")
    p1, p0 = x1 / n1, x0 / n0
    difference = p1 - p0
    l1, u1 = wilson(x1, n1, 1 - alpha)
    l0, u0 = wilson(x0, n0, 1 - alpha)
    low = difference - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    if x1 + x0 in (0, n1 + n0):  # everyone or no one in both: nothing to test
        p_value = 1.0
    else:
        pooled = (x1 + x0) / (n1 + n0)
        z = difference / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        p_value = float(2 * stats.norm.sf(abs(z)))
    return ProportionChange(x1, n1, x0, n0, difference, float(low), float(high), p_value,
                            alpha)


@dataclass(frozen=True)
class PredictedComparison:
    actual: int
    n: int
    predicted: float  # predicted proportion (0-1)
    ci_low: float  # Clopper-Pearson interval of the actual proportion
    ci_high: float
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)


def compare_with_predicted(actual: int, n: int, predicted: float, *,
                           alpha: float = 0.05) -> PredictedComparison:
    """Exact binomial test of `actual` of `n` against the `predicted` proportion (0-1).

    >>> r = compare_with_predicted(60, 602, 0.0786)
    >>> round(r.p_value, 3), r.significant
    (0.058, False)
    """
    x, total = _check(actual, n, "actual")
    if not 0 < predicted < 1:
        raise ValueError(f"predicted must be a proportion between 0 and 1, got {predicted!r}")
    test = stats.binomtest(x, total, predicted)
    ci = test.proportion_ci(confidence_level=1 - alpha, method="exact")
    return PredictedComparison(x, total, float(predicted), float(ci.low), float(ci.high),
                               float(test.pvalue), alpha)
