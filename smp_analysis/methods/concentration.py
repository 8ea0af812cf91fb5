"""How concentrated is crime among places: shares, the top group, Lorenz curve, Gini, and
whether the same places stay in the top group year after year.

References
----------
* Weisburd, D. (2015). The law of crime concentration and the criminology of place.
  Criminology 53(2), 133-157: the share of crime in the places with most crime.
* Bernasco, W. and Steenbeek, W. (2017). More places than crimes: implications for evaluating
  the law of crime concentration at place. J Quant Criminol 33, 451-467: report concentration
  with the Lorenz curve and the Gini coefficient; when there are fewer crimes than places use
  the *generalized* Gini ``G' = max(1, n / N) (G - 1) + 1`` (n places, N crimes), which
  compares with the most even spread the data allow (one crime a place) instead of perfect
  equality. :func:`gini` reproduces the examples of their R package ``lorenzgini``.
* The Gini coefficient of counts sorted ascending ``x_(1) <= ... <= x_(n)`` is
  ``G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i)`` (the "biased" Gini of R's
  ``DescTools::Gini(x, unbiased = FALSE)``), equal to 1 - 2 x (area under the Lorenz curve).

The top group is the ``k = max(1, floor(fraction n + 0.5))`` places with the most crime (10%
of 95 LSOAs: 10). Its share of crime is the sum of the ``k`` largest counts over the total, so
ties at the edge of the group do not change it. For persistence, a place tied with the k-th
largest count is counted in the top group (the group can then hold more than k places).

>>> counts = pd.Series({"A": 50, "B": 30, "C": 10, "D": 5, "E": 5, "F": 0, "G": 0, "H": 0,
...                     "I": 0, "J": 0})
>>> top_share(counts, 0.1), top_share(counts, 0.2)
(0.5, 0.8)
>>> round(gini(counts), 3)  # (5x1 + 5x3 + 10x5 + 30x7 + 50x9) / (10 x 100)
0.73
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _counts(counts) -> np.ndarray:
    values = pd.to_numeric(pd.Series(counts), errors="coerce").to_numpy(dtype=float)
    if len(values) == 0:
        raise ValueError("no areas given")
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError("counts must be numbers >= 0 for every area (use 0 for none)")
    return values


def shares(counts: pd.Series) -> pd.Series:
    """Each area's share (0-1) of the total; NaN when the total is 0.

    >>> shares(pd.Series({"A": 3, "B": 1})).tolist()
    [0.75, 0.25]
    """
    values = _counts(counts)
    total = values.sum()
    return pd.Series(values / total if total else np.full(len(values), np.nan),
                     index=pd.Series(counts).index, name="share")


def top_group_size(n_areas: int, fraction: float = 0.1) -> int:
    """Number of areas in the top `fraction` (at least 1).

    >>> top_group_size(95), top_group_size(26), top_group_size(4), top_group_size(85)
    (10, 3, 1, 9)
    """
    if not 0 < fraction <= 1:
        raise ValueError("fraction must lie in (0, 1]")
    return max(1, math.floor(fraction * n_areas + 0.5))


def top_share(counts: pd.Series, fraction: float = 0.1) -> float:
    """Share of the total in the top `fraction` of areas (NaN when there is no crime)."""
    values = np.sort(_counts(counts))[::-1]
    total = values.sum()
    if not total:
        return math.nan
    return float(values[:top_group_size(len(values), fraction)].sum() / total)


def top_group(counts: pd.Series, fraction: float = 0.1) -> pd.Index:
    """The areas in the top group: the k with most crime, plus any tied with the k-th.

    >>> list(top_group(pd.Series({"A": 5, "B": 9, "C": 5, "D": 1}), 0.4))
    ['B', 'A', 'C']
    """
    series = pd.Series(_counts(counts), index=pd.Series(counts).index)
    k = top_group_size(len(series), fraction)
    ordered = series.sort_values(ascending=False, kind="stable")
    threshold = ordered.iloc[k - 1]
    if threshold == 0:  # areas with no crime are never "top"
        return ordered.index[ordered > 0]
    return ordered.index[ordered >= threshold]


def lorenz_curve(counts: pd.Series) -> pd.DataFrame:
    """The Lorenz curve: cumulative share of areas (sorted from least to most crime) against
    cumulative share of crime, starting at (0, 0).

    >>> lorenz_curve(pd.Series([0, 1, 3])).round(3).values.tolist()
    [[0.0, 0.0], [0.333, 0.0], [0.667, 0.25], [1.0, 1.0]]
    """
    values = np.sort(_counts(counts))
    total = values.sum()
    area = np.arange(len(values) + 1) / len(values)
    crime = np.concatenate([[0.0], np.cumsum(values) / total]) if total else area.copy()
    return pd.DataFrame({"area_share": area, "crime_share": crime})


def gini(counts: pd.Series, *, generalized: bool = True) -> float:
    """Gini coefficient of crime across areas (0 = even, towards 1 = all in one area).

    ``generalized=True`` applies the Bernasco-Steenbeek correction when there are fewer
    crimes than areas (it changes nothing otherwise). Examples from ``lorenzgini``:

    >>> round(gini([10, 8, 2, 0, 0, 0, 0, 0, 0, 0]), 4)
    0.78
    >>> crimes = [5, 2, 1, 0, 0, 0, 0, 0, 0, 0]
    >>> round(gini(crimes, generalized=False), 4), round(gini(crimes), 4)
    (0.8, 0.75)
    """
    values = np.sort(_counts(counts))
    n, total = len(values), values.sum()
    if total == 0:
        return math.nan
    ranks = np.arange(1, n + 1)
    standard = float(((2 * ranks - n - 1) * values).sum() / (n * total))
    if not generalized:
        return standard
    return float(max(1.0, n / total) * (standard - 1) + 1)


def persistence(yearly: pd.DataFrame, fraction: float = 0.1) -> pd.DataFrame:
    """For each area (rows) and year (columns, oldest first): whether it was in the top group,
    with ``years_in_top`` and ``in_latest``. Sorted by years in the top group, then latest
    count.

    >>> yearly = pd.DataFrame({"2021": [9, 5, 1, 0], "2022": [8, 1, 6, 0],
    ...                        "2023": [7, 2, 3, 0]}, index=list("ABCD"))
    >>> p = persistence(yearly, 0.25)
    >>> p["years_in_top"].to_dict(), p["in_latest"].tolist()
    ({'A': 3, 'C': 0, 'B': 0, 'D': 0}, [True, False, False, False])
    """
    if yearly.empty or yearly.shape[1] == 0:
        raise ValueError("give at least one year of counts by area")
    member = pd.DataFrame(False, index=yearly.index, columns=yearly.columns)
    for year in yearly.columns:
        member.loc[top_group(yearly[year].fillna(0), fraction), year] = True
    out = member.copy()
    out["years_in_top"] = member.sum(axis=1).astype(int)
    out["in_latest"] = member[yearly.columns[-1]]
    out["latest"] = yearly[yearly.columns[-1]].fillna(0)
    out = out.sort_values(["years_in_top", "latest"], ascending=False, kind="stable")
    return out.drop(columns="latest")
