"""Rates per 1,000 residents and the focus area's rank among comparable areas.

Reference: ONS/Home Office practice for police recorded crime by area (offences per 1,000
population, using mid-year population estimates). The *county rate* is the pooled rate, all
offences over all residents, not the unweighted mean of district rates; both are returned.
Rank 1 is the highest rate; ties share the lower rank (``method="min"``), as in league tables.

>>> counts = pd.Series({"A": 600, "B": 300, "C": 100})
>>> pop = pd.Series({"A": 10_000, "B": 10_000, "C": 5_000})
>>> t = area_rates(counts, pop)
>>> t["rate_per_1000"].tolist()
[60.0, 30.0, 20.0]
>>> t["rank"].tolist()
[1, 2, 3]
>>> round(pooled_rate_per_1000(counts, pop), 1)
40.0
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def rate_per_1000(count: float, population: float) -> float:
    """Example:

    >>> rate_per_1000(513, 171_000)
    3.0
    """
    if population <= 0:
        raise ValueError(f"population must be positive, got {population}")
    return 1000.0 * count / population


def area_rates(counts: pd.Series, population: pd.Series) -> pd.DataFrame:
    """``count, population, rate_per_1000, rank`` per area (areas with no count have 0)."""
    missing = population.index.difference(counts.index).tolist()
    unknown = counts.index.difference(population.index).tolist()
    if unknown:
        raise ValueError(f"no population for areas {unknown}")
    if (population <= 0).any():
        raise ValueError("population must be positive for every area")
    counts = pd.concat([counts, pd.Series(0, index=missing)]) if missing else counts
    table = pd.DataFrame({"count": counts.reindex(population.index).astype("int64"),
                          "population": population.astype("int64")})
    table["rate_per_1000"] = 1000.0 * table["count"] / table["population"]
    table["rank"] = table["rate_per_1000"].rank(ascending=False, method="min").astype("int64")
    return table.sort_values(["rank", "rate_per_1000"], ascending=[True, False])


def pooled_rate_per_1000(counts: pd.Series, population: pd.Series) -> float:
    return rate_per_1000(float(counts.reindex(population.index).fillna(0).sum()),
                         float(population.sum()))


@dataclass(frozen=True)
class RankResult:
    area_code: str
    rate_per_1000: float
    rank: int
    of: int
    pooled_rate_per_1000: float
    mean_of_rates: float

    @property
    def above_average(self) -> bool:
        return self.rate_per_1000 > self.pooled_rate_per_1000


def rank_area(counts: pd.Series, population: pd.Series, area_code: str) -> RankResult:
    """Where `area_code` stands among the areas of `population`.

    >>> r = rank_area(pd.Series({"A": 600, "B": 300}), pd.Series({"A": 10_000, "B": 10_000}), "B")
    >>> (r.rank, r.of, r.pooled_rate_per_1000)
    (2, 2, 45.0)
    """
    table = area_rates(counts, population)
    if area_code not in table.index:
        raise KeyError(f"area {area_code!r} is not among the comparison areas")
    row = table.loc[area_code]
    return RankResult(area_code, float(row["rate_per_1000"]), int(row["rank"]), len(table),
                      pooled_rate_per_1000(counts, population),
                      float(table["rate_per_1000"].mean()))
