"""Funnel plots: control limits around a target rate or proportion, by the size of each area.

Reference: Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
*Statistics in Medicine* 24, 1185-1202.

* **Exact limits with interpolation** (appendix A.1.1). For an area with denominator n
  (residents, respondents) and target rate theta0 per person, the count under the target is
  Y ~ Poisson(theta0 n) (``distribution="poisson"``) or Binomial(n, theta0)
  (``"binomial"``, proportions). For a tail probability p, y_p is the smallest integer with
  P(Y <= y_p) >= p; because Y is discrete, the limit is interpolated,

      alpha = (P(Y <= y_p) - p) / (P(Y <= y_p) - P(Y <= y_p - 1)),   limit = (y_p - alpha) / n,

  which makes the limits smooth in n. A level L (0.95, 0.998) gives p = (1 - L) / 2 for the
  lower limit and (1 + L) / 2 for the upper. A lower limit below 0 is set to 0.
* **Over-dispersion** (section 4). When areas vary more than chance alone would make them
  (unmeasured differences between areas), the variance is phi times the Poisson or binomial
  variance and the limits are widened by sqrt(phi) around the target:
  theta0 + sqrt(phi) (limit - theta0). :func:`funnel_dispersion` estimates phi as the mean
  squared z-score of the areas, after Winsorising the 10% most extreme z-scores at each end
  (Spiegelhalter 2005, "Handling over-dispersion of performance indicators", *Quality and
  Safety in Health Care* 14, 347-351), with the test I phi ~ chi-squared(I - 1) (the target
  is estimated from the same I areas).

An area above the upper 99.8% limit (about 3 standard deviations) is an "alarm", above the
95% limit (about 2) an "alert"; inside the limits its difference from the target is what
chance (and, when allowed for, the usual variation between areas) would produce.

>>> limits = funnel_limits(pd.Series({"A": 1_000, "B": 100_000}), 10.0)
>>> limits.round(2)
   lower_95  upper_95  lower_99.8  upper_99.8
A      3.78     16.16        1.22       20.66
B      9.38     10.62        9.03       10.99
>>> funnel_position(17.0, limits.loc["A"])
'above the 95% limit'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

LEVELS = (0.95, 0.998)


def level_name(level: float) -> str:
    """'95' for 0.95, '99.8' for 0.998: the suffix of the limit columns.

    >>> level_name(0.95), level_name(0.998), level_name(0.9)
    ('95', '99.8', '90')
    """
    return f"{round(100 * level, 6):g}"


def _distribution(name: str, mean: np.ndarray, n: np.ndarray, theta: float):
    if name == "poisson":
        return stats.poisson(mean)
    if name == "binomial":
        return stats.binom(np.round(n).astype(np.int64), theta)
    raise ValueError("distribution must be 'poisson' or 'binomial'")


def _interpolated_quantile(dist, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated quantile y_p - alpha of a discrete distribution."""
    y = dist.ppf(p)
    at = dist.cdf(y)
    below = dist.cdf(y - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(at > below, (at - p) / (at - below), 0.0)
    return y - alpha


def funnel_limits(denominators, target_rate: float, *, per: float = 1000,
                  levels: Sequence[float] = LEVELS, dispersion: float = 1.0,
                  distribution: str = "poisson") -> pd.DataFrame:
    """Lower and upper control limits, as rates per `per`, for each denominator.

    Returns a DataFrame indexed like `denominators` (a Series keeps its index) with columns
    ``lower_95, upper_95, lower_99.8, upper_99.8`` for the default levels. ``dispersion``
    (>= 1) widens the limits by its square root around the target (section 4).

    >>> funnel_limits([1_000], 10.0, levels=(0.95,), dispersion=4.0).round(2).values.tolist()
    [[0.0, 22.32]]
    """
    if isinstance(denominators, pd.Series):
        index = denominators.index
        n = denominators.to_numpy(dtype=float)
    else:
        n = np.atleast_1d(np.asarray(denominators, dtype=float))
        index = pd.RangeIndex(len(n))
    if np.isnan(n).any() or (n <= 0).any():
        raise ValueError("every denominator must be positive")
    if not per > 0:
        raise ValueError("per must be positive")
    theta = float(target_rate) / per
    if not theta >= 0 or math.isinf(theta):
        raise ValueError(f"target_rate must be a number >= 0, got {target_rate!r}")
    if distribution == "binomial" and theta > 1:
        raise ValueError("a proportion's target cannot exceed `per`")
    if not dispersion >= 1 or math.isinf(dispersion):
        raise ValueError(f"dispersion must be a number >= 1, got {dispersion!r}")
    dist = _distribution(distribution, theta * n, n, theta)
    columns: dict[str, np.ndarray] = {}
    widen = math.sqrt(dispersion)
    ceiling = per if distribution == "binomial" else np.inf
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"levels must lie between 0 and 1, got {level!r}")
        for side, p in (("lower", (1 - level) / 2), ("upper", (1 + level) / 2)):
            if theta == 0:
                limit = np.zeros_like(n)
            else:
                limit = _interpolated_quantile(dist, p) / n * per
            limit = target_rate + widen * (limit - target_rate)
            columns[f"{side}_{level_name(level)}"] = np.clip(limit, 0.0, ceiling)
    return pd.DataFrame(columns, index=index)


def funnel_position(value: float, limits: pd.Series, levels: Sequence[float] = LEVELS) -> str:
    """Where a value lies against one row of :func:`funnel_limits`: 'above the 99.8% limit',
    'above the 95% limit', 'within the 95% limits', 'below the 95% limit' or 'below the 99.8%
    limit' (the widest limit it crosses).

    >>> row = pd.Series({"lower_95": 8.0, "upper_95": 12.0, "lower_99.8": 7.0, "upper_99.8": 13.0})
    >>> funnel_position(12.5, row), funnel_position(6.0, row), funnel_position(10.0, row)
    ('above the 95% limit', 'below the 99.8% limit', 'within the 95% limits')
    """
    for level in sorted(levels, reverse=True):
        name = level_name(level)
        if value > limits[f"upper_{name}"]:
            return f"above the {name}% limit"
        if value < limits[f"lower_{name}"]:
            return f"below the {name}% limit"
    return f"within the {level_name(min(levels))}% limits"


@dataclass(frozen=True)
class FunnelDispersion:
    """Spiegelhalter's over-dispersion estimate for a set of areas."""

    phi: float  # Winsorised mean squared z-score (not floored)
    p_value: float  # test of phi = 1: I phi against chi-squared(I - 1)
    areas: int
    alpha: float = 0.05

    @property
    def overdispersed(self) -> bool:
        return self.phi > 1 and self.p_value < self.alpha

    @property
    def dispersion(self) -> float:
        """The factor to widen the limits by: phi when over-dispersion is shown, else 1."""
        return self.phi if self.overdispersed else 1.0


def _winsorise(z: np.ndarray, fraction: float) -> np.ndarray:
    k = int(math.floor(fraction * len(z)))
    if k == 0:
        return z
    ordered = np.sort(z)
    return np.clip(z, ordered[k], ordered[len(z) - 1 - k])


def funnel_dispersion(numerators, denominators, target_rate: float, *, per: float = 1000,
                      distribution: str = "poisson", winsorise: float = 0.1,
                      alpha: float = 0.05) -> FunnelDispersion:
    """Over-dispersion of areas around the target (see module doc).

    z_i = (y_i - theta0) / sqrt(V(theta0) / n_i), y_i = numerator / denominator, V = theta0
    (Poisson) or theta0 (1 - theta0) (binomial); phi = mean of the Winsorised z_i^2.

    >>> d = funnel_dispersion([10, 20, 30], [1_000, 1_000, 1_000], 20.0, winsorise=0)
    >>> round(d.phi, 3), d.areas  # z = -2.236, 0, 2.236: (5 + 0 + 5) / 3
    (3.333, 3)
    """
    y = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    if y.shape != n.shape or y.ndim != 1:
        raise ValueError("numerators and denominators must be one-dimensional and alike")
    if (n <= 0).any() or (y < 0).any():
        raise ValueError("denominators must be positive and numerators >= 0")
    theta = float(target_rate) / per
    if len(y) < 2 or theta <= 0 or (distribution == "binomial" and theta >= 1):
        return FunnelDispersion(math.nan, math.nan, len(y), alpha)
    variance = theta if distribution == "poisson" else theta * (1 - theta)
    z = (y / n - theta) / np.sqrt(variance / n)
    phi = float(np.mean(_winsorise(z, winsorise) ** 2))
    p_value = float(stats.chi2.sf(len(z) * phi, len(z) - 1))
    return FunnelDispersion(phi, p_value, len(z), alpha)
