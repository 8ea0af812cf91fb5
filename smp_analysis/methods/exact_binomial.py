"""The exact binomial test and Clopper-Pearson interval, as SciPy computes them, without the
per-call overhead of ``scipy.stats.binom``.

References
----------
* Two-sided exact binomial test: the p-value sums the probabilities of every outcome no more
  likely than the one observed (the "minimum likelihood" method of R's ``binom.test``), found by
  a binary search on the other side of the mode; SciPy's ``scipy.stats.binomtest``.
* Clopper, C. J. and Pearson, E. S. (1934), "The use of confidence or fiducial limits
  illustrated in the case of the binomial", Biometrika 26, 404-413: the interval's bounds are
  the proportions at which the binomial tail probabilities equal alpha / 2, found with Brent's
  method on [0, 1] as ``BinomTestResult.proportion_ci(method="exact")`` does.

Why this module exists: the change tests of the places chapter run a few hundred exact tests,
and each ``scipy.stats.binom`` call costs about a hundred times the distribution function it
wraps (argument broadcasting and checks). These functions call the same distribution functions
(SciPy's ufuncs around Boost's binomial), apply the same support rules and clipping, and run the
same search and the same root finder with the same settings, so they return the same floating
point numbers; ``tests/test_methods.py`` compares them with SciPy over a grid of counts.

>>> binomial_test(9358, 9358 + 8845, 0.5, alpha=0.05)[0] < 0.001
True
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

try:  # the ufuncs scipy.stats.binom evaluates (SciPy >= 1.11)
    from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_sf
except ImportError:  # pragma: no cover - another SciPy: the public, slower path
    _binom_cdf = _binom_pmf = _binom_sf = None


def _pmf(k: float, n: int, p: float) -> float:
    if _binom_pmf is None:  # pragma: no cover
        return float(stats.binom.pmf(k, n, p))
    if not (0 <= k <= n) or math.floor(k) != k:
        return 0.0
    return min(max(float(_binom_pmf(k, n, p)), 0.0), 1.0)


def _cdf(k: float, n: int, p: float) -> float:
    if _binom_cdf is None:  # pragma: no cover
        return float(stats.binom.cdf(k, n, p))
    if k >= n:
        return 1.0
    if k < 0:
        return 0.0
    return min(max(float(_binom_cdf(math.floor(k), n, p)), 0.0), 1.0)


def _sf(k: float, n: int, p: float) -> float:
    if _binom_sf is None:  # pragma: no cover
        return float(stats.binom.sf(k, n, p))
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return min(max(float(_binom_sf(math.floor(k), n, p)), 0.0), 1.0)


def _search(a, d: float, lo: float, hi: float) -> float:
    """The index i between lo and hi with a(i) <= d < a(i + 1) (SciPy's binary search)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1


def two_sided_p(k: int, n: int, p: float) -> float:
    """Two-sided p-value of k successes in n trials with success probability p.

    >>> round(two_sided_p(3, 15, 0.1), 4)  # scipy.stats.binomtest(3, 15, 0.1).pvalue
    0.1841
    """
    d = _pmf(k, n, p)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _search(lambda x: -_pmf(x, n, p), -d * rerr, np.ceil(p * n), n)
        y = n - ix + int(d * rerr == _pmf(ix, n, p))
        value = _cdf(k, n, p) + _sf(n - y, n, p)
    else:
        ix = _search(lambda x: _pmf(x, n, p), d * rerr, 0, np.floor(p * n))
        value = _cdf(ix, n, p) + _sf(k - 1, n, p)
    return min(1.0, float(value))


def clopper_pearson(k: int, n: int, confidence_level: float) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided interval of the proportion k / n.

    >>> [round(b, 4) for b in clopper_pearson(3, 15, 0.95)]
    [0.0433, 0.4809]
    """
    half = (1 - confidence_level) / 2  # as SciPy writes it (not alpha / 2: the last bit differs)
    low = 0.0 if k == 0 else optimize.brentq(lambda q: _sf(k - 1, n, q) - half, 0, 1)
    high = 1.0 if k == n else optimize.brentq(lambda q: _cdf(k, n, q) - half, 0, 1)
    return low, high


def binomial_test(k: int, n: int, p: float, *, alpha: float) -> tuple[float, float, float]:
    """``(p_value, ci_low, ci_high)``: SciPy's ``binomtest(k, n, p)`` two-sided p-value and
    its ``proportion_ci(1 - alpha, method="exact")``."""
    if not (0 <= k <= n) or n < 1 or not (0 <= p <= 1):
        raise ValueError(f"need 0 <= k <= n, n >= 1 and 0 <= p <= 1, got {k}, {n}, {p}")
    low, high = clopper_pearson(k, n, 1 - alpha)
    return two_sided_p(k, n, p), low, high
