"""Confidence intervals for the counts, rates and proportions a chapter shows.

References
----------
* Exact Poisson interval for a count x (Garwood 1936, Biometrika 28, 437-442): lower
  chi2(alpha/2; 2x) / 2, upper chi2(1 - alpha/2; 2x + 2) / 2; the interval of R's
  ``poisson.test``.
* Byar's approximation to it (Breslow and Day 1987, *Statistical Methods in Cancer Research*
  II, p. 69): lower x (1 - 1/(9x) - z/(3 sqrt x))^3, upper (x + 1)(1 - 1/(9(x + 1)) +
  z/(3 sqrt(x + 1)))^3. Public Health England's practice (APHO Technical Briefing 3,
  "Commonly used public health statistics and their confidence intervals", 2008; PHE/OHID
  Fingertips "Technical guide: confidence intervals"; R package PHEindicatormethods
  ``phe_rate``) is the exact interval below 10 events and Byar's from 10: ``method="phe"``.
* Wilson score interval for a proportion (Wilson 1927, JASA 22, 209-212), recommended by
  Newcombe 1998 (Statistics in Medicine 17, 857-872, method 3) and used by PHE for
  proportions; the tests reproduce Newcombe's Table II.

A rate's interval is the count's interval divided by the denominator (the population or
person-time is treated as known), expressed per ``per``.

>>> [round(v, 2) for v in poisson_exact(10)]
[4.8, 18.39]
>>> [round(v, 2) for v in byar(65)]
[50.16, 82.85]
>>> [round(v, 4) for v in wilson(81, 263)]
[0.2553, 0.3662]
>>> r = rate_interval(65, 171_000, per=10_000)
>>> round(r.value, 2), round(r.low, 2), round(r.high, 2), r.method
(3.8, 2.93, 4.84, 'Byar')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

PHE_EXACT_BELOW = 10  # PHE: exact Poisson limits below 10 events, Byar's from 10


def _z(level: float) -> float:
    _check_level(level)
    return float(stats.norm.ppf(0.5 + level / 2))


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")


def _counts(x, name: str = "count") -> np.ndarray:
    values = np.asarray(x, dtype=float)
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError(f"{name} must be >= 0")
    return values


def _out(low: np.ndarray, high: np.ndarray, scalar: bool):
    if scalar:
        return float(low), float(high)
    return low, high


def poisson_exact(count, level: float = 0.95):
    """Exact (Garwood) interval for a Poisson count; arrays give arrays.

    >>> [round(v, 4) for v in poisson_exact(0)]
    [0.0, 3.6889]
    """
    _check_level(level)
    x = _counts(count)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(x > 0, stats.chi2.ppf(alpha / 2, 2 * x) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    return _out(low, high, np.ndim(count) == 0)


def byar(count, level: float = 0.95):
    """Byar's approximation to the exact Poisson interval (lower limit 0 for a zero count)."""
    z = _z(level)
    x = _counts(count)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(x > 0, x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3, 0.0)
    high = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    return _out(np.maximum(low, 0.0), high, np.ndim(count) == 0)


def count_interval(count, level: float = 0.95, *, method: str = "phe"):
    """Interval for a count: ``"exact"``, ``"byar"`` or ``"phe"`` (exact below 10, else Byar).

    >>> [round(v, 2) for v in count_interval(9)]  # below 10: exact
    [4.12, 17.08]
    """
    if method == "exact":
        return poisson_exact(count, level)
    if method == "byar":
        return byar(count, level)
    if method != "phe":
        raise ValueError("method must be 'phe', 'exact' or 'byar'")
    x = _counts(count)
    exact_low, exact_high = poisson_exact(x, level)
    byar_low, byar_high = byar(x, level)
    small = x < PHE_EXACT_BELOW
    return _out(np.where(small, exact_low, byar_low), np.where(small, exact_high, byar_high),
                np.ndim(count) == 0)


@dataclass(frozen=True)
class Interval:
    """A value (rate per ``per`` or proportion per ``per``) with its interval."""

    value: float
    low: float
    high: float
    level: float
    method: str

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


def rate_interval(count: float, denominator: float, *, per: float = 1000,
                  level: float = 0.95, method: str = "phe") -> Interval:
    """A rate per `per` with the interval of its count (denominator treated as known)."""
    if not denominator > 0:
        raise ValueError(f"denominator must be positive, got {denominator!r}")
    low, high = count_interval(count, level, method=method)
    name = {"exact": "exact Poisson", "byar": "Byar"}.get(method)
    if name is None:
        name = "exact Poisson" if count < PHE_EXACT_BELOW else "Byar"
    scale = per / denominator
    return Interval(count * scale, low * scale, high * scale, level, name)


def wilson(successes, n, level: float = 0.95):
    """Wilson score interval for a proportion (no continuity correction).

    >>> [round(v, 4) for v in wilson(0, 20)]
    [0.0, 0.1611]
    """
    z = _z(level)
    x = _counts(successes, "successes")
    total = _counts(n, "n")
    if (total <= 0).any() or (x > total).any():
        raise ValueError("need 0 <= successes <= n and n > 0")
    p = x / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return _out(np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1),
                np.ndim(successes) == 0 and np.ndim(n) == 0)


def proportion_interval(successes: float, n: float, *, per: float = 100,
                        level: float = 0.95) -> Interval:
    """A proportion per `per` (100: a percentage) with its Wilson interval.

    >>> r = proportion_interval(15, 148)
    >>> round(r.value, 2), round(r.low, 2), round(r.high, 2)
    (10.14, 6.24, 16.05)
    """
    low, high = wilson(successes, n, level)
    return Interval(per * successes / n, per * low, per * high, level, "Wilson")
