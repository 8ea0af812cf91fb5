"""Over-dispersion of a yearly (or any regular, non-monthly) series of counts.

Partner indicators are mostly yearly. Whether this year's change is larger than the usual
year-to-year variation depends on how much the series varies beyond Poisson chance; as for
monthly crime (:func:`smp_analysis.methods.change.estimate_dispersion`, which adds
month-of-year terms), the estimate is the quasi-Poisson one (McCullagh and Nelder 1989,
*Generalized Linear Models*, 2nd ed., 4.5.2): the Pearson X^2 / (n - p) of a Poisson
log-linear fit with a linear trend and log(exposure) as offset (the population, so growth in
the denominator is not mistaken for variation), floored at 1. With fewer than
``MIN_DISPERSION_DF`` residual degrees of freedom (8 periods) no estimate is made.

>>> counts = [100, 120, 80, 100, 100, 100, 100, 80, 120, 100]  # symmetric: no trend
>>> fit = period_dispersion(counts)
>>> round(fit.pearson, 2), fit.df  # X^2 = 4 x 20^2 / 100 = 16, over 10 - 2
(2.0, 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .change import MIN_DISPERSION_DF


@dataclass(frozen=True)
class PeriodDispersion:
    dispersion: float  # max(1, pearson)
    pearson: float
    periods: int
    df: int


def period_dispersion(counts: Sequence[float], exposures: Sequence[float] | None = None
                      ) -> PeriodDispersion | None:
    """Quasi-Poisson dispersion of consecutive periods' counts (trend + offset), or None when
    the series is too short. `exposures` (e.g. populations) default to 1."""
    import statsmodels.api as sm

    y = np.asarray(counts, dtype=float)
    exposure = np.ones_like(y) if exposures is None else np.asarray(exposures, dtype=float)
    if y.shape != exposure.shape or y.ndim != 1:
        raise ValueError("counts and exposures must be one-dimensional and alike")
    if np.isnan(y).any() or (y < 0).any() or (exposure <= 0).any():
        raise ValueError("counts must be >= 0 and exposures positive")
    df = len(y) - 2
    if df < MIN_DISPERSION_DF:
        return None
    if y.sum() == 0:
        return PeriodDispersion(1.0, 0.0, len(y), df)
    t = np.arange(len(y), dtype=float)
    design = np.column_stack([np.ones_like(t), t - t.mean()])
    fit = sm.GLM(y, design, family=sm.families.Poisson(), offset=np.log(exposure)).fit()
    pearson = float(np.sum((y - fit.mu) ** 2 / fit.mu) / df)
    return PeriodDispersion(max(1.0, pearson), pearson, len(y), df)
