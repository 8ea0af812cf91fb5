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


def period_dispersion(counts: Sequence[float], exposures: Sequence[float] | None = None,
                      times: Sequence[float] | None = None) -> PeriodDispersion | None:
    """Quasi-Poisson dispersion of periods' counts (trend + offset), or None when the series
    is too short. `exposures` (e.g. populations) default to 1; `times` (e.g. years) place the
    periods on the trend, default 0, 1, 2, ... (consecutive periods)."""
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
    t = np.arange(len(y), dtype=float) if times is None else np.asarray(times, dtype=float)
    if t.shape != y.shape:
        raise ValueError("one time per count")
    design = np.column_stack([np.ones_like(t), t - t.mean()])
    mu = _poisson_trend_fit(y, design, np.log(exposure))
    pearson = float(np.sum((y - mu) ** 2 / mu) / df)
    return PeriodDispersion(max(1.0, pearson), pearson, len(y), df)


def _poisson_trend_fit(y: np.ndarray, design: np.ndarray, offset: np.ndarray, *,
                       maxit: int = 50, epsilon: float = 1e-10) -> np.ndarray:
    """Fitted means of a Poisson log-linear model with an offset, by iteratively reweighted
    least squares (started and stopped as R's ``glm.fit``); statsmodels' GLM gives the same
    fit (tests/test_partner_methods.py) but costs seconds to import in every chapter kernel."""
    mu = y + 0.1
    eta = np.log(mu)
    deviance_old = np.inf
    for _ in range(maxit):
        root_w = np.sqrt(mu)
        z = eta - offset + (y - mu) / mu
        beta = np.linalg.lstsq(design * root_w[:, None], z * root_w, rcond=None)[0]
        eta = np.maximum(design @ beta + offset, -30.0)
        mu = np.exp(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            deviance = 2 * np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu))
        if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < epsilon:
            break
        deviance_old = deviance
    return mu
