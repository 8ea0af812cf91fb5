"""Choosing priorities: a weighted scoring matrix, how robust its ranking is to the weights,
and the status of a current priority from the targets that measure it.

References
----------
* The scoring matrix is the multi-criteria "weighted sum" of decision analysis (Department
  for Communities and Local Government, *Multi-criteria analysis: a manual*, 2009, chapter 6,
  "linear additive model": each option scored on each criterion on a common scale, the
  criteria weighted, the weighted scores summed). Community Safety Partnerships have long
  chosen priorities this way (the Safer Maidstone Partnership's 2015 plan: "ranked against a
  number of factors, including volume, trend over time, resident's perception and how much it
  is felt the partnership can influence"), as police forces do with MoRiLE (Management of
  Risk in Law Enforcement, National Police Chiefs' Council, 2016: threat, risk and harm
  scored against the organisation's capacity and capability to act).
* Missing scores: a candidate's score is the weighted mean over the factors it has,
  sum(w x s) / sum(w) over those factors (the "available-case" weighted mean); the factors it
  lacks are flagged, never treated as zero (which would push it down the list for want of
  data).
* Sensitivity to the weights: the weights are drawn from a Dirichlet distribution centred
  on the given ones (parameters ``concentration`` x the normalised weights; its mean is the
  normalised weights and each weight's variance is w(1 - w) / (concentration + 1)), the
  ranking is recomputed for every draw and the share of draws in which a candidate is in the
  top ``top_n`` is reported: the "stochastic multicriteria acceptability analysis" of
  Lahdelma, Hokkanen and Salminen (1998), *European Journal of Operational Research* 106,
  137-143, with weights drawn around stated ones rather than uniformly (Butler, Jia and Dyer
  1997, *EJOR* 103, 531-546, simulate weights the same way).

>>> factors = pd.DataFrame({"volume": [5, 3, 4], "harm": [2, 5, None]},
...                        index=["Burglary", "Robbery", "Drugs"])
>>> score_matrix(factors, {"volume": 1, "harm": 3})[["score", "rank"]]
          score  rank
Burglary   2.75     3
Robbery    4.50     1
Drugs      4.00     2
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

# The statuses of a current priority, from the statuses of the targets linked to it
# (methods.targets.STATUSES).
EXCEEDING, ON_TRACK, NEEDS_ATTENTION, NO_MEASURE = (
    "Exceeding expectations", "On track", "Needs attention", "No measure")
GOOD_TARGET = frozenset({"exceeding expectations", "achieved"})
BAD_TARGET = frozenset({"off track", "not achieved"})
# Scores that differ by less than this are ties (floating-point sums of the same numbers in a
# different order differ in the last bits).
TIE_DECIMALS = 9


def _check_weights(factors: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    if not isinstance(factors, pd.DataFrame):
        raise TypeError("factors must be a DataFrame: one row per candidate, one column per "
                        "factor")
    if not isinstance(weights, Mapping):
        raise TypeError("weights must be a mapping of factor name to weight")
    if factors.index.has_duplicates:
        raise ValueError("factors has repeated candidates: "
                         + ", ".join(map(str, factors.index[factors.index.duplicated()][:5])))
    unknown = [str(k) for k in weights if k not in factors.columns]
    if unknown:
        raise ValueError(f"weights name unknown factor(s) {', '.join(unknown)}; the factors are "
                         + (", ".join(map(str, factors.columns)) or "none"))
    unweighted = [str(c) for c in factors.columns if c not in weights]
    if unweighted:
        raise ValueError(f"factor(s) {', '.join(unweighted)} have no weight; give each factor "
                         "a weight (0 leaves it out)")
    bad = {}
    for name in factors.columns:
        w = weights[name]
        if isinstance(w, bool) or not isinstance(w, int | float | np.integer | np.floating) \
                or not math.isfinite(float(w)) or w < 0:
            bad[str(name)] = w
    if bad:
        raise ValueError("weights must be numbers >= 0: "
                         + ", ".join(f"{k} = {v!r}" for k, v in bad.items()))
    series = pd.Series({c: float(weights[c]) for c in factors.columns}, dtype=float)
    if len(series) == 0 or series.sum() <= 0:
        raise ValueError("at least one factor needs a weight above 0")
    return series


def _scores(factors: pd.DataFrame) -> np.ndarray:
    try:
        values = factors.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"factor scores must be numbers (missing ones empty): {exc}") from None
    if np.isinf(values).any():
        raise ValueError("factor scores must be finite numbers")
    return values


def _weighted_means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rows of `values` (NaN = missing) averaged with `weights`, columns x draws -> rows x
    draws; NaN where a row has no factor with a weight above 0."""
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    totals = filled @ weights
    used = present.astype(float) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(used > 0, totals / np.where(used > 0, used, 1.0), np.nan)


def _min_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest, ties share the lower (better) rank, NaN last: along axis 0."""
    rounded = np.round(scores, TIE_DECIMALS)
    keyed = np.where(np.isnan(rounded), -np.inf, rounded)
    # rank = 1 + number of candidates with a strictly higher score
    return 1 + (keyed[None, :, ...] > keyed[:, None, ...]).sum(axis=1)


def score_matrix(factors: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """The factors with ``score`` (weighted mean of the factors present), ``rank`` (1 =
    highest score; ties share the lower rank, as ``method="min"``), ``factors_used`` and
    ``missing`` (the factors a candidate has no score for, a tuple; they are left out of its
    mean). A candidate with no weighted factor at all has no score and no rank.

    `factors`: one row per candidate, one column per factor, scores on a common scale (NaN
    where a factor cannot be scored). `weights`: factor -> weight >= 0, one per column.
    Inputs are not changed.

    >>> f = pd.DataFrame({"a": [4, 2, 3], "b": [2, 4, None]}, index=["X", "Y", "Z"])
    >>> m = score_matrix(f, {"a": 1, "b": 1})
    >>> m["score"].tolist(), m["rank"].tolist(), m.loc["Z", "missing"]
    ([3.0, 3.0, 3.0], [1, 1, 1], ('b',))
    >>> score_matrix(f, {"a": 1, "b": -1})
    Traceback (most recent call last):
    ...
    ValueError: weights must be numbers >= 0: b = -1
    """
    w = _check_weights(factors, weights)
    values = _scores(factors)
    scores = _weighted_means(values, w.to_numpy())
    out = factors.copy()
    out["score"] = scores
    ranks = _min_ranks(scores).astype(float)
    ranks[np.isnan(scores)] = np.nan
    out["rank"] = pd.array([None if math.isnan(r) else int(r) for r in ranks], dtype="Int64")
    weighted = w.to_numpy() > 0
    out["factors_used"] = (~np.isnan(values[:, weighted])).sum(axis=1)
    out["missing"] = [tuple(str(c) for c, v in zip(factors.columns, row, strict=True)
                            if math.isnan(v)) for row in values]
    return out


def rank_stability(factors: pd.DataFrame, weights: Mapping[str, float], *, top_n: int,
                   draws: int = 2000, concentration: float = 20, seed: int = 0) -> pd.Series:
    """Share of weight draws in which each candidate ranks in the top `top_n` (rank <=
    `top_n`, ties sharing the lower rank as in :func:`score_matrix`).

    Each draw's weights come from a Dirichlet distribution with parameters `concentration` x
    the normalised weights (mean: the given weights; larger `concentration`, less spread).
    Factors weighted 0 stay at 0 in every draw. Reproducible for a given `seed`.

    >>> f = pd.DataFrame({"a": [5, 1, 3], "b": [5, 1, 3]}, index=["top", "bottom", "middle"])
    >>> rank_stability(f, {"a": 1, "b": 1}, top_n=1, draws=200).to_dict()
    {'top': 1.0, 'bottom': 0.0, 'middle': 0.0}
    """
    if isinstance(top_n, bool) or not isinstance(top_n, int | np.integer) or top_n < 1:
        raise ValueError(f"top_n must be a whole number >= 1, got {top_n!r}")
    scores, ranks = _drawn_ranks(factors, weights, draws=draws, concentration=concentration,
                                 seed=seed)
    in_top = (ranks <= top_n) & ~np.isnan(scores)
    return pd.Series(in_top.mean(axis=1), index=factors.index, name="stability")


def rank_range(factors: pd.DataFrame, weights: Mapping[str, float], *, level: float = 0.9,
               draws: int = 2000, concentration: float = 20, seed: int = 0) -> pd.DataFrame:
    """The central `level` range of each candidate's rank over the same weight draws as
    :func:`rank_stability` (``low``, ``high``; the ``low`` and ``high`` quantiles, rounded
    outwards to whole ranks). A candidate with no score has neither.

    >>> f = pd.DataFrame({"a": [5, 1], "b": [1, 5]}, index=["A", "B"])
    >>> rank_range(f, {"a": 1, "b": 1}, draws=500).to_dict("list")
    {'low': [1, 1], 'high': [2, 2]}
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    scores, ranks = _drawn_ranks(factors, weights, draws=draws, concentration=concentration,
                                 seed=seed)
    tail = (1 - level) / 2
    ranks = np.where(np.isnan(scores), np.nan, ranks)
    low = np.floor(np.nanquantile(ranks, tail, axis=1)) if ranks.size else []
    high = np.ceil(np.nanquantile(ranks, 1 - tail, axis=1)) if ranks.size else []
    return pd.DataFrame({"low": pd.array(low, dtype="Int64"),
                         "high": pd.array(high, dtype="Int64")}, index=factors.index)


def _drawn_ranks(factors, weights, *, draws, concentration, seed):
    """Scores and ranks (candidates x draws) under Dirichlet draws of the weights."""
    w = _check_weights(factors, weights)
    values = _scores(factors)
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ValueError(f"draws must be a whole number >= 1, got {draws!r}")
    if isinstance(concentration, bool) or not isinstance(
            concentration, int | float | np.integer | np.floating) \
            or not math.isfinite(concentration) or concentration <= 0:
        raise ValueError(f"concentration must be a number > 0, got {concentration!r}")
    positive = w.to_numpy() > 0
    alpha = concentration * w.to_numpy()[positive] / w.sum()
    rng = np.random.default_rng(seed)
    drawn = np.zeros((draws, len(w)))
    drawn[:, positive] = rng.dirichlet(alpha, size=draws)
    scores = _weighted_means(values, drawn.T)  # candidates x draws
    return scores, _min_ranks(scores)


def band(value: float, cuts: Sequence[float], scores: Sequence[int] | None = None) -> float:
    """The score of `value` on a scale cut at `cuts` (increasing): below the first cut scores
    1 (or ``scores[0]``), at or above the last ``len(cuts) + 1``; NaN stays NaN.

    >>> [band(v, [0.8, 0.95, 1.05, 1.25]) for v in (0.5, 0.8, 1.0, 1.1, 2.0)]
    [1, 2, 3, 4, 5]
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    scale = list(scores) if scores is not None else list(range(1, len(cuts) + 2))
    return scale[int(np.searchsorted(np.asarray(cuts, dtype=float), value, side="right"))]


def priority_status(target_statuses: Iterable[str | None]) -> tuple[str, str]:
    """The status of a current priority from the statuses of the targets linked to it, and
    why. "Exceeding expectations" when every linked target is exceeding expectations or
    achieved; "On track" when none is off track or not achieved; "Needs attention" otherwise;
    "No measure" when no target is linked, or none of them can be assessed yet (``None``).
    A target that cannot be assessed counts as neither good nor bad.

    >>> priority_status(["on track", "exceeding expectations"])[0]
    'On track'
    >>> priority_status(["achieved", "exceeding expectations"])[0]
    'Exceeding expectations'
    >>> priority_status(["on track", "off track", None])
    ('Needs attention', '1 of its 3 linked targets is off track or not achieved (1 cannot be assessed yet).')
    >>> priority_status([])[0], priority_status([None])[0]
    ('No measure', 'No measure')
    """
    statuses = list(target_statuses)
    assessed = [s for s in statuses if s is not None]
    unknown = set(assessed) - GOOD_TARGET - BAD_TARGET - {"on track"}
    if unknown:
        raise ValueError(f"unknown target status(es) {sorted(unknown)}")
    n = len(statuses)
    if not statuses:
        return NO_MEASURE, "No target of the partner-indicator chapter is linked to it."
    if not assessed:
        return NO_MEASURE, (f"None of its {n} linked targets can be assessed yet." if n > 1 else
                            "Its linked target cannot be assessed yet.")
    bad = sum(s in BAD_TARGET for s in assessed)
    good = sum(s in GOOD_TARGET for s in assessed)
    waiting = n - len(assessed)
    tail = f" ({waiting} cannot be assessed yet)" if waiting else ""
    of = f"of its {n} linked targets" if n > 1 else "linked target"
    if good == n:
        return EXCEEDING, ("Its linked target is exceeding expectations or achieved." if n == 1
                           else f"All {n} of its linked targets are exceeding expectations or "
                           "achieved.")
    if bad == 0:
        return ON_TRACK, (f"None of its {n} linked targets is off track or not achieved{tail}."
                          if n > 1 else "Its linked target is on track.")
    verb = "is" if bad == 1 else "are"
    if n == 1:
        return NEEDS_ATTENTION, "Its linked target is off track or not achieved."
    return NEEDS_ATTENTION, f"{bad} {of} {verb} off track or not achieved{tail}."
