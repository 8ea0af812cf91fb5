"""Harm weighting: category weights from offence-level severity weights, harm-weighted totals
and a severity score per 1,000 residents.

References
----------
* Office for National Statistics, "Research outputs: developing a Crime Severity Score for
  England and Wales using data on crimes recorded by the police" (2016) and "Crime Severity
  Score (Experimental Statistics)" user guide: each Home Office offence code has a weight,
  the average number of days of custody (with non-custodial sentences converted to custody
  days) handed down for that offence; an area's score is sum(weight x offences) / residents,
  per 1,000 residents here. ONS publishes the weights per offence code, not per data.police.uk
  category.
* A data.police.uk category (e.g. "Violence and sexual offences") holds many offence codes.
  Its weight is the offence-mix weighted mean of theirs, w_c = sum_o (w_o x n_o) / sum_o n_o
  over the offence codes o mapped to c that have a weight, n_o being recorded offences
  (e.g. a force's year from the Home Office police recorded crime tables). The mix matters:
  the same codes weighted by another force's mix give another category weight, which is
  why the derivation reports the force and year used.

Weights are an input (``priorities.harm_weights`` in the params file, with their source),
never hard-coded; the demo's are illustrative only (docs/parameters.md).

>>> weights = pd.Series({"8N": 150.0, "105A": 20.0, "28F": 200.0})
>>> counts = pd.Series({"8N": 100, "105A": 300, "28F": 50})
>>> mapping = pd.Series({"8N": "Violence and sexual offences",
...                      "105A": "Violence and sexual offences", "28F": "Burglary"})
>>> category_weights(weights, counts, mapping)["weight"].round(1).to_dict()
{'Burglary': 200.0, 'Violence and sexual offences': 52.5}
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd


def _series(values, name: str) -> pd.Series:
    series = pd.Series(values) if isinstance(values, Mapping) else values
    if not isinstance(series, pd.Series):
        raise TypeError(f"{name} must be a pandas Series or a mapping")
    series = series.copy()
    series.index = series.index.astype(str)
    if series.index.has_duplicates:
        repeated = sorted(set(series.index[series.index.duplicated()]))
        raise ValueError(f"{name} has repeated offence codes: {', '.join(repeated[:10])}")
    return series


def category_weights(offence_weights: Mapping | pd.Series, offence_counts: Mapping | pd.Series,
                     mapping: Mapping | pd.Series) -> pd.DataFrame:
    """Category weights as the offence-mix weighted mean of offence-level weights.

    `offence_weights`: offence code -> severity weight (>= 0); `offence_counts`: offence code
    -> recorded offences (a negative total, from reclassification, counts as 0);
    `mapping`: offence code -> category. Returns, by category: ``weight``, ``offences`` (with
    a weight), ``unweighted_offences`` (mapped but without a weight: left out, so a category
    whose offences are mostly unweighted rests on few codes), ``codes`` and ``codes_weighted``.
    A category none of whose offences has a weight (or all counts 0) has weight NaN.
    Inputs are not changed.
    """
    w = pd.to_numeric(_series(offence_weights, "offence_weights"), errors="coerce")
    n = pd.to_numeric(_series(offence_counts, "offence_counts"), errors="coerce")
    cat = _series(mapping, "mapping").astype(str)
    if w.isna().any() or (w < 0).any() or np.isinf(w).any():
        bad = w.index[w.isna() | (w < 0) | np.isinf(w)]
        raise ValueError(f"offence weights must be numbers >= 0; bad for {', '.join(bad[:10])}")
    if n.isna().any():
        raise ValueError("offence counts must be numbers; bad for "
                         + ", ".join(n.index[n.isna()][:10]))
    n = n.clip(lower=0)
    frame = pd.DataFrame({"category": cat})
    frame["count"] = n.reindex(frame.index).fillna(0.0)
    frame["weight"] = w.reindex(frame.index)
    has = frame["weight"].notna()
    frame["weighted"] = frame["count"].where(has, 0.0)
    frame["product"] = (frame["weight"] * frame["count"]).where(has, 0.0)
    frame["unweighted"] = frame["count"].where(~has, 0.0)
    grouped = frame.groupby("category").agg(
        product=("product", "sum"), offences=("weighted", "sum"),
        unweighted_offences=("unweighted", "sum"), codes=("count", "size"),
        codes_weighted=("weight", "count"))
    grouped["weight"] = grouped["product"] / grouped["offences"].where(grouped["offences"] > 0)
    return grouped[["weight", "offences", "unweighted_offences", "codes", "codes_weighted"]]


def harm_table(counts: pd.Series, weights: Mapping[str, float]) -> pd.DataFrame:
    """By category: ``count``, ``count_share``, ``weight``, ``harm`` (weight x count) and
    ``harm_share``, most harm first; categories without a weight get NaN harm and no share
    (they are named by :func:`unweighted`).

    >>> t = harm_table(pd.Series({"Burglary": 10, "Drugs": 30}), {"Burglary": 6, "Drugs": 1})
    >>> t[["count_share", "harm", "harm_share"]].round(2).values.tolist()
    [[0.25, 60.0, 0.67], [0.75, 30.0, 0.33]]
    """
    counts = pd.to_numeric(counts, errors="coerce").fillna(0)
    weight = pd.Series({c: weights.get(c, math.nan) for c in counts.index}, dtype=float)
    harm = counts * weight
    total_count = counts.sum()
    total_harm = harm.sum(skipna=True)
    table = pd.DataFrame({
        "count": counts,
        "count_share": counts / total_count if total_count else math.nan,
        "weight": weight, "harm": harm,
        "harm_share": harm / total_harm if total_harm else math.nan})
    return table.sort_values(["harm", "count"], ascending=False, na_position="last",
                             kind="stable")


def unweighted(categories, weights: Mapping[str, float]) -> list[str]:
    """The categories in `categories` that `weights` gives no weight."""
    return [c for c in categories if c not in weights]


def harm_totals(counts: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Harm-weighted total of each row (area) of a area x category count frame: sum over the
    weighted categories of weight x count (unweighted categories are left out).

    >>> c = pd.DataFrame({"Burglary": [10, 0], "Drugs": [30, 5]}, index=["A", "B"])
    >>> harm_totals(c, {"Burglary": 6, "Drugs": 1}).tolist()
    [90.0, 5.0]
    """
    columns = [c for c in counts.columns if c in weights]
    w = pd.Series({c: float(weights[c]) for c in columns}, dtype=float)
    return counts[columns].fillna(0).astype(float) @ w


def severity_score(harm: pd.Series | float, population: pd.Series | float):
    """Harm per 1,000 residents (the ONS Crime Severity Score convention is per resident;
    per 1,000 here so that it reads like the crime rates).

    >>> severity_score(900.0, 120_000)
    7.5
    """
    if isinstance(population, pd.Series):
        return 1000 * harm / population.where(population > 0)
    return 1000 * harm / population if population and population > 0 else math.nan
