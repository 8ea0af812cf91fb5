"""Actual versus anticipated volumes of crime, per month and for the assessment year.

Kent's performance papers compare crime "against anticipated volumes which have been calculated
using the seasonality of crimes during the past 5 year period". Two methods:

* ``farrington`` (default): :func:`smp_analysis.methods.farrington.farrington_flexible` with the
  monthly settings b = 5 years, w = 1 month either side, reweighting, trend when significant,
  delta threshold with the 2/3 power transform, no limit54 silencing (crime counts are not rare).
  The upper bound is the one-sided (1 - alpha) prediction limit.
* ``seasonal_mean``: for each month, the mean of the same calendar month in the b previous years,
  scaled by the recent trend: multiplied by (total of the 12 months before the assessment
  period) / (mean of the b 12-month totals before it). That is, last year's level distributed by
  the average seasonal pattern of b years. Upper bound: expected + z(1-alpha) sqrt(phi expected),
  phi = max(1, Pearson dispersion of the baseline months around their calendar-month means).

With less history than b years, both use as many whole years as exist (at least 1) and say so
in ``notes``. Months listed in ``exclude`` (e.g. the 2020-21 lockdowns) are left out of every
baseline (for ``seasonal_mean`` they are replaced by their calendar-month mean of the other
years).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..periods import ReportingPeriod
from .farrington import farrington_flexible

Method = Literal["farrington", "seasonal_mean"]
W_MONTHLY = 1


@dataclass(frozen=True)
class ExpectedVolumes:
    method: str
    monthly: pd.DataFrame  # crime_type, month, observed, expected, upperbound, exceeds
    annual: pd.DataFrame  # crime_type, observed, expected, percent_vs_expected, months_above
    years_used: dict[str, int]
    notes: list[str] = field(default_factory=list)


def _wide(monthly: pd.DataFrame) -> pd.DataFrame:
    """`crime_type, month, count` -> months x types, zero-filled, complete monthly index."""
    months = pd.PeriodIndex(pd.to_datetime(monthly["month"]), freq="M")
    frame = monthly.assign(month=months).pivot_table(
        index="month", columns="crime_type", values="count", aggfunc="sum", fill_value=0)
    full = pd.period_range(frame.index.min(), frame.index.max(), freq="M")
    return frame.reindex(full, fill_value=0).astype("int64")


def expected_volumes(monthly: pd.DataFrame, *, period: ReportingPeriod,
                     method: Method = "farrington", years: int = 5, exclude=(),
                     alpha: float = 0.05) -> ExpectedVolumes:
    """Actual vs anticipated monthly volumes for every crime type in `monthly`.

    `monthly` holds ``crime_type, month, count`` for one area from the first month of history
    to at least the end of `period` (missing months count as 0).
    """
    if method not in ("farrington", "seasonal_mean"):
        raise ValueError("method must be 'farrington' or 'seasonal_mean'")
    wide = _wide(monthly)
    if period.last_month > wide.index.max():
        raise ValueError(f"the data end in {wide.index.max()}, before the period ends "
                         f"({period.last_month})")
    wide = wide.loc[:period.last_month]
    first = wide.index.get_loc(period.first_month)
    margin = W_MONTHLY if method == "farrington" else 0
    available = (first - margin) // 12
    b = min(years, available)
    notes = []
    if b < 1:
        raise ValueError(f"expected volumes need at least one year of history before "
                         f"{period.first_month}; the data start in {wide.index.min()}")
    if b < years:
        history = "1 year of history exists" if b == 1 else f"Only {b} years of history exist"
        notes.append(f"{history} before {period.first_month:%B %Y} "
                     f"(data start {wide.index.min():%B %Y}), so anticipated volumes use {b} "
                     f"{'year' if b == 1 else 'years'} instead of {years}.")
    excluded = pd.PeriodIndex([pd.Period(m, "M") for m in exclude], freq="M")
    if len(excluded):
        left_out = "1 month is" if len(excluded) == 1 else f"{len(excluded)} months are"
        notes.append(f"{left_out} left out of the baselines: "
                     f"{excluded.min():%B %Y} to {excluded.max():%B %Y}.")
    assess = wide.index[first:]
    if method == "farrington":
        result = farrington_flexible(wide, freq=12, assess=assess, b=b, w=W_MONTHLY,
                                     limit54=(0, 4), alpha=alpha,
                                     exclude_from_baseline=excluded)
        table = result.reset_index().rename(columns={"series": "crime_type", "level_1": "month",
                                                     "t": "month"})
        table = table[["crime_type", "month", "observed", "expected", "upperbound"]]
    else:
        table = _seasonal_mean(wide, first, b, excluded, alpha)
    table["observed"] = table["observed"].astype("int64")
    table["exceeds"] = table["observed"] > table["upperbound"]
    table["month"] = table["month"].dt.to_timestamp() if hasattr(table["month"], "dt") else \
        table["month"]
    annual = table.groupby("crime_type", sort=False).agg(
        observed=("observed", "sum"), expected=("expected", "sum"),
        months_above=("exceeds", "sum")).reset_index()
    annual["percent_vs_expected"] = 100 * (annual["observed"] / annual["expected"] - 1)
    return ExpectedVolumes(method, table.reset_index(drop=True), annual,
                           dict.fromkeys(wide.columns, b), notes)


def _seasonal_mean(wide: pd.DataFrame, first: int, b: int, excluded: pd.PeriodIndex,
                   alpha: float) -> pd.DataFrame:
    values = wide.to_numpy(dtype=float)  # months x types
    keep = ~wide.index.isin(excluded)
    baseline = values[first - 12 * b:first]  # b whole years before the period
    base_keep = keep[first - 12 * b:first]
    blocks = baseline.reshape(b, 12, -1)  # year x month-of-period x type
    kept = base_keep.reshape(b, 12)
    with np.errstate(invalid="ignore"):
        month_means = np.nansum(np.where(kept[..., None], blocks, np.nan), axis=0) / \
            kept.sum(axis=0)[:, None]
    filled = np.where(kept[..., None], blocks, month_means[None, ...])
    totals = filled.sum(axis=1)  # year x type (year 0 = oldest)
    scale = totals[-1] / totals.mean(axis=0)
    expected = month_means * scale[None, :]
    fitted = np.broadcast_to(month_means, blocks.shape)
    resid = np.where(kept[..., None], (blocks - fitted) ** 2 / np.where(fitted > 0, fitted, 1), 0)
    dof = max(int(kept.sum()) - 12, 1)
    phi = np.maximum(1.0, resid.sum(axis=(0, 1)) / dof)
    z = stats.norm.ppf(1 - alpha)
    upper = expected + z * np.sqrt(phi[None, :] * expected)
    n_months = len(wide) - first
    rows = []
    for j in range(n_months):
        for t, crime_type in enumerate(wide.columns):
            rows.append({"crime_type": crime_type, "month": wide.index[first + j],
                         "observed": values[first + j, t], "expected": expected[j % 12, t],
                         "upperbound": upper[j % 12, t]})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["crime_type", "month"], kind="stable")
