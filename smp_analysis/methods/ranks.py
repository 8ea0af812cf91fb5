"""How sure a rank is: intervals for an area's rank among comparison areas.

A league-table rank ("4th of 13") moves with chance variation in every area's count: when the
true rank is 4th, a year's counts can put an area anywhere from 2nd to 8th. A rank interval
says which ranks are compatible with the data.

References: Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their
limitations: statistical issues in comparisons of institutional performance. *JRSS A* 159,
385-443; Marshall, E. C. and Spiegelhalter, D. J. (1998). Reliability of league tables of in
vitro fertilisation clinics: retrospective analysis of live birth rates. *BMJ* 316, 1701-1705.
As Marshall and Spiegelhalter do, each area's underlying rate is simulated from its
posterior distribution given its count, the areas are ranked in each simulation, and the
interval is the central 95% of the simulated ranks:

* rates (count x, denominator n): rate ~ Gamma(x + 1/2, 1/n) (the Jeffreys posterior of a
  Poisson rate); proportions: p ~ Beta(x + 1/2, n - x + 1/2);
* over-dispersion phi >= 1 (the count varies phi times more than Poisson, e.g. the estimate
  from the area's own history, :func:`smp_analysis.methods.change.estimate_dispersion`)
  keeps the posterior mean and multiplies its variance by phi: Gamma((x + 1/2) / phi,
  phi / n), and Beta with both parameters divided by phi (a quasi-likelihood posterior).

Rank 1 is the highest value (as in :mod:`smp_analysis.methods.rates`); ties share the better
rank. The simulation uses a fixed seed, so the same data give the same interval.

>>> counts = pd.Series({"A": 120, "B": 100, "C": 80, "D": 60})
>>> pop = pd.Series({"A": 1000, "B": 1000, "C": 1000, "D": 1000})
>>> r = rank_interval(counts, pop, "B")
>>> r.rank, r.low, r.high, r.of
(2, 1, 3, 4)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_SEED = 20151
DEFAULT_SIMULATIONS = 10_000


@dataclass(frozen=True)
class RankInterval:
    area_code: str
    rank: int  # rank of the observed value (1 = highest)
    low: int  # best (smallest) rank of the interval
    high: int
    of: int
    level: float

    @property
    def certain(self) -> bool:
        return self.low == self.high


def _dispersions(dispersion, index: pd.Index) -> np.ndarray:
    if isinstance(dispersion, Mapping | pd.Series):
        values = np.array([float(dispersion.get(code, 1.0)) for code in index])
    else:
        values = np.full(len(index), float(dispersion))
    values = np.where(np.isnan(values), 1.0, values)
    if (values < 1).any() or np.isinf(values).any():
        raise ValueError("dispersion must be >= 1 for every area")
    return values


def simulate_values(numerators: pd.Series, denominators: pd.Series, *, kind: str = "rate",
                    dispersion=1.0, simulations: int = DEFAULT_SIMULATIONS,
                    seed: int = DEFAULT_SEED) -> np.ndarray:
    """Simulated underlying values (simulations x areas), per unit of denominator."""
    index = denominators.index
    x = numerators.reindex(index).to_numpy(dtype=float)
    n = denominators.to_numpy(dtype=float)
    if np.isnan(x).any() or (x < 0).any() or (n <= 0).any():
        raise ValueError("every area needs a numerator >= 0 and a positive denominator")
    phi = _dispersions(dispersion, index)
    rng = np.random.default_rng(seed)
    if kind == "rate":
        shape = (x + 0.5) / phi
        return rng.gamma(shape, phi / n, size=(simulations, len(x)))
    if kind == "proportion":
        if (x > n).any():
            raise ValueError("a proportion's numerator cannot exceed its denominator")
        a, b = (x + 0.5) / phi, (n - x + 0.5) / phi
        return stats.beta.rvs(a, b, size=(simulations, len(x)), random_state=rng)
    raise ValueError("kind must be 'rate' or 'proportion'")


def rank_intervals(numerators: pd.Series, denominators: pd.Series, *, kind: str = "rate",
                   dispersion=1.0, level: float = 0.95,
                   simulations: int = DEFAULT_SIMULATIONS,
                   seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """``rank, rank_low, rank_high`` for every area of `denominators` (1 = highest).

    `dispersion` is one number or one per area (missing areas: 1).
    """
    if not 0 < level < 1:
        raise ValueError("level must lie between 0 and 1")
    draws = simulate_values(numerators, denominators, kind=kind, dispersion=dispersion,
                            simulations=simulations, seed=seed)
    # rank 1 = highest in every simulation (ties have probability zero)
    ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
    tail = (1 - level) / 2
    low = np.quantile(ranks, tail, axis=0, method="inverted_cdf")
    high = np.quantile(ranks, 1 - tail, axis=0, method="inverted_cdf")
    values = numerators.reindex(denominators.index).to_numpy(dtype=float) / \
        denominators.to_numpy(dtype=float)
    observed = pd.Series(values, index=denominators.index).rank(ascending=False, method="min")
    return pd.DataFrame({"rank": observed.astype("int64").to_numpy(),
                         "rank_low": low.astype("int64"), "rank_high": high.astype("int64")},
                        index=denominators.index)


def rank_interval(numerators: pd.Series, denominators: pd.Series, area_code: str, *,
                  kind: str = "rate", dispersion=1.0, level: float = 0.95,
                  simulations: int = DEFAULT_SIMULATIONS,
                  seed: int = DEFAULT_SEED) -> RankInterval:
    """The rank interval of one area among the areas of `denominators`."""
    if area_code not in denominators.index:
        raise KeyError(f"area {area_code!r} is not among the comparison areas")
    table = rank_intervals(numerators, denominators, kind=kind, dispersion=dispersion,
                           level=level, simulations=simulations, seed=seed)
    row = table.loc[area_code]
    return RankInterval(area_code, int(row["rank"]), int(row["rank_low"]),
                        int(row["rank_high"]), len(table), level)
