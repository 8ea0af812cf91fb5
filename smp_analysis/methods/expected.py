"""Actual versus anticipated volumes of crime, per month and for the assessment year.

Kent's performance papers compare crime "against anticipated volumes which have been calculated
using the seasonality of crimes during the past 5 year period". Two methods:

* ``farrington`` (default): :func:`smp_analysis.methods.farrington.farrington_flexible` in the
  **crime-layer configuration** :data:`CRIME_LAYER`: b = 5 years of monthly history, w = 1
  month either side, the rest of each baseline year as a seasonal factor (Noufaily et al. 2013,
  ``no_periods``), reweighting, a trend only when significant and b >= 3, no limit54 silencing
  (crime counts are not rare), and the negative binomial upper bound at the (1 - alpha)
  quantile of the linear predictor (Noufaily's ``muan``). The bound's nominal level is
  calibrated (:data:`NOMINAL_ALPHA`, by years of history) so that on null simulated series
  like the demo's (seasonal, negative binomial with dispersion 2 to 10, trends of -5% to +3% a
  year; ``benchmarks/null_simulation.py``) at most alpha = 5% of month-series fall above it by
  chance (measured 2.2% to 4.6%); Farrington's original settings put 6.3% to 13.4% there.
  :data:`FALSE_ALARM_RATE` holds the rate a chapter assumes for each number of years (5%, which
  the measured rates stay under) when it states how many flags chance alone would produce.
* ``seasonal_mean``: for each month, the mean of the same calendar month in the b previous years,
  scaled by the recent trend: multiplied by (total of the 12 months before the assessment
  period) / (mean of the b 12-month totals before it). That is, last year's level distributed by
  the average seasonal pattern of b years. Upper bound: expected + z(1-alpha) sqrt(phi expected),
  phi = max(1, Pearson dispersion of the baseline months around their calendar-month means).

**Missing is missing.** A month with no usable data (absent from the input, or listed in
``unusable``: e.g. marked incomplete by the data-quality check) is never counted as zero: it is
left out of every baseline, and an assessed month without usable data is shown with its status
and left out of the annual comparison, which says over how many months it runs. Months in
``exclude`` (e.g. the 2020-21 lockdowns) are left out of baselines too. ``series_start`` lets a
series begin later than the data (a category that data.police.uk redefined: its months before
the change mean something else, :mod:`smp_analysis.categories`).

With less history than b years, a series uses as many whole years as it has (at least 1) and
the notes say so.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..periods import ReportingPeriod
from .farrington import farrington_flexible

Method = Literal["farrington", "seasonal_mean"]
W_MONTHLY = 1
CRIME_LAYER = dict(w=W_MONTHLY, no_periods=10, threshold_method="muan", reweight=True,
                   weights_threshold=2.58, trend=True, p_threshold_trend=0.05,
                   past_weeks_not_included=W_MONTHLY, limit54=(0, 4))
# Per years of history b: the seasonal factor's levels and the nominal tail probability of the
# bound for alpha = 0.05 (scaled in proportion for other alphas), and the false-alarm rate per
# month-series a chapter assumes (the measured rates across dispersions 2-10 stay under it:
# benchmarks/null_simulation.py). With one year, ten levels would leave two residual degrees of freedom
# (the false-alarm rate then exceeds 5% at any level); two levels (the reference months and the
# rest of the year) leave ten, and count seasonal swings as variation: a cautious bound.
NO_PERIODS = {1: 2, 2: 10, 3: 10, 4: 10, 5: 10}
NOMINAL_ALPHA = {1: 0.03, 2: 0.03, 3: 0.025, 4: 0.03, 5: 0.03}
FALSE_ALARM_RATE = {1: 0.05, 2: 0.05, 3: 0.05, 4: 0.05, 5: 0.05}
MIN_BASELINE_MONTHS = 2

NO_DATA, INCOMPLETE, NO_BASELINE, OK = "no data", "incomplete", "no baseline", "ok"


@dataclass(frozen=True)
class ExpectedVolumes:
    method: str
    monthly: pd.DataFrame  # crime_type, month, observed, expected, upperbound, exceeds, status
    annual: pd.DataFrame  # crime_type, observed, expected, percent_vs_expected, months_above,
    #                       months (compared), of (months in the period)
    years_used: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def checks(self) -> int:
        """Month-series compared with an upper bound."""
        return int(self.monthly["upperbound"].notna().sum())

    @property
    def chance_flags(self) -> float:
        """Flags chance alone would produce across the checks (false-alarm rate x checks)."""
        if self.method != "farrington":
            return float("nan")
        rows = self.monthly[self.monthly["upperbound"].notna()]
        rates = rows["crime_type"].map(lambda t: FALSE_ALARM_RATE[min(5, self.years_used[t])])
        return float(rates.sum())


def _wide(monthly: pd.DataFrame, last: pd.Period) -> pd.DataFrame:
    """`crime_type, month, count` -> months x types (float). Types without a row in a month that
    has data are 0; months with no row at all are NaN (no data, never zero)."""
    months = pd.PeriodIndex(pd.to_datetime(monthly["month"]), freq="M")
    frame = monthly.assign(month=months).pivot_table(
        index="month", columns="crime_type", values="count", aggfunc="sum", fill_value=0)
    full = pd.period_range(frame.index.min(), max(frame.index.max(), last), freq="M")
    return frame.reindex(full).astype(float)


def expected_volumes(monthly: pd.DataFrame, *, period: ReportingPeriod,
                     method: Method = "farrington", years: int = 5, exclude=(),
                     alpha: float = 0.05, unusable=(),
                     series_start: Mapping[str, pd.Period] | None = None) -> ExpectedVolumes:
    """Actual vs anticipated monthly volumes for every crime type in `monthly`.

    `monthly` holds ``crime_type, month, count`` for one area; `unusable` lists months without
    usable data (see module doc), `series_start` the first month of series that start late.
    """
    if method not in ("farrington", "seasonal_mean"):
        raise ValueError("method must be 'farrington' or 'seasonal_mean'")
    if monthly.empty:
        raise ValueError("there are no police.uk records for this area")
    wide = _wide(monthly, period.last_month).loc[:period.last_month]
    if period.first_month > wide.index.max() or period.first_month < wide.index.min():
        raise ValueError(f"the data ({wide.index.min():%B %Y} to {wide.index.max():%B %Y}) do "
                         f"not reach back before {period.first_month:%B %Y}")
    bad = pd.PeriodIndex([pd.Period(m, "M") for m in unusable], freq="M")
    incomplete = wide.index.isin(bad) & wide.notna().all(axis=1).to_numpy()
    wide[wide.index.isin(bad)] = np.nan
    for name, start in (series_start or {}).items():
        if name in wide.columns and start is not None:
            wide.loc[wide.index < pd.Period(start, "M"), name] = np.nan
    excluded = pd.PeriodIndex([pd.Period(m, "M") for m in exclude], freq="M")
    first = wide.index.get_loc(period.first_month)
    margin = W_MONTHLY if method == "farrington" else 0
    years_used = {}
    for name in wide.columns:
        valid = np.flatnonzero(wide[name].notna().to_numpy()[:first])
        available = (first - margin - valid[0]) // 12 if len(valid) else 0
        years_used[name] = int(min(years, available))
    if max(years_used.values()) < 1:
        start = wide.dropna(how="all").index.min()
        raise ValueError(f"expected volumes need at least one year of history before "
                         f"{period.first_month:%B %Y}; the usable data start in {start:%B %Y}")
    notes = _notes(years_used, years, period, excluded, bad, wide.index)
    parts = []
    for b in sorted(set(years_used.values()) - {0}):
        names = [n for n, y in years_used.items() if y == b]
        runner = _farrington if method == "farrington" else _seasonal_mean
        parts.append(runner(wide[names], first, b, excluded, alpha))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    table = _with_status(table, wide, first, incomplete)
    annual = _annual(table, period)
    return ExpectedVolumes(method, table, annual, years_used, notes)


def _notes(years_used: dict, years: int, period: ReportingPeriod, excluded: pd.PeriodIndex,
           bad: pd.PeriodIndex, index: pd.PeriodIndex) -> list[str]:
    notes = []
    fewer = {y for y in years_used.values() if y < years}
    for b in sorted(fewer):
        names = [n for n, y in years_used.items() if y == b]
        which = "every category" if len(names) == len(years_used) else _join(
            [n.lower() for n in names])
        if b == 0:
            notes.append(f"Less than one year of usable history exists before "
                         f"{period.first_month:%B %Y} for {which}, so no anticipated volume is "
                         "calculated for it.")
        else:
            history = "Only 1 year of usable history exists" if b == 1 else \
                f"Only {b} years of usable history exist"
            notes.append(f"{history} before {period.first_month:%B %Y} for {which}, so "
                         f"anticipated volumes use {b} {'year' if b == 1 else 'years'} instead "
                         f"of {years}.")
    if len(excluded):
        left_out = "1 month is" if len(excluded) == 1 else f"{len(excluded)} months are"
        notes.append(f"{left_out} left out of the baselines: "
                     f"{excluded.min():%B %Y} to {excluded.max():%B %Y}.")
    dropped = bad[(bad >= index.min()) & (bad < period.first_month)]
    if len(dropped):
        months = "1 month" if len(dropped) == 1 else f"{len(dropped)} months"
        notes.append(f"{months} without usable data are left out of the "
                     "baselines (never counted as zero): "
                     + ", ".join(f"{m:%B %Y}" for m in dropped.sort_values()) + ".")
    return notes


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _farrington(wide: pd.DataFrame, first: int, b: int, excluded: pd.PeriodIndex,
                alpha: float) -> pd.DataFrame:
    """Run the crime-layer configuration on series sharing b, grouped by their missing months
    (each group's missing months are left out of its baselines)."""
    assess = wide.index[first:]
    nominal = NOMINAL_ALPHA[min(b, 5)] * alpha / 0.05
    config = {**CRIME_LAYER, "alpha": nominal, "no_periods": NO_PERIODS[min(b, 5)]}
    out = []
    patterns: dict[tuple, list[str]] = {}
    for name in wide.columns:
        patterns.setdefault(tuple(np.flatnonzero(wide[name].isna().to_numpy())), []).append(name)
    for missing, names in patterns.items():
        left_out = wide.index[list(missing)].union(excluded)
        values = wide[names].fillna(0).astype("int64")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = farrington_flexible(values, freq=12, assess=assess, b=b,
                                         exclude_from_baseline=left_out, **config)
        result = result.reset_index().rename(columns={"series": "crime_type",
                                                      "level_1": "month"})
        result = result.rename(columns={result.columns[1]: "month"})
        enough = _baseline_sizes(len(wide), first, b, set(missing) | set(
            np.flatnonzero(wide.index.isin(excluded))))
        result.loc[np.tile(~enough, len(names)), ["expected", "upperbound"]] = np.nan
        out.append(result[["crime_type", "month", "observed", "expected", "upperbound"]])
    return pd.concat(out, ignore_index=True)


def _baseline_sizes(n: int, first: int, b: int, left_out: set) -> np.ndarray:
    """For each assessed position: are at least MIN_BASELINE_MONTHS of its reference months
    (the same month +-w in each of the b years) usable?"""
    ok = []
    for k in range(first, n):
        refs = [k - 12 * i + d for i in range(1, b + 1) for d in range(-W_MONTHLY, W_MONTHLY + 1)]
        ok.append(sum(r not in left_out for r in refs) >= MIN_BASELINE_MONTHS)
    return np.array(ok)


def _seasonal_mean(wide: pd.DataFrame, first: int, b: int, excluded: pd.PeriodIndex,
                   alpha: float) -> pd.DataFrame:
    values = wide.to_numpy(dtype=float, copy=True)  # months x types, NaN = no usable data
    baseline = values[first - 12 * b:first].copy()
    baseline[wide.index[first - 12 * b:first].isin(excluded)] = np.nan
    blocks = baseline.reshape(b, 12, -1)  # year x month-of-period x type
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a calendar month with no data at all
        month_means = np.nanmean(blocks, axis=0)  # month-of-period x type
        filled = np.where(np.isnan(blocks), month_means[None, ...], blocks)
        # a calendar month without data in any baseline year has no mean: it is left out of
        # every year's total (so the scale compares like with like) and has no expected value
        totals = np.nansum(filled, axis=1)  # year x type (year 0 = oldest)
        scale = totals[-1] / totals.mean(axis=0)
        expected = month_means * scale[None, :]
        resid = np.where(np.isnan(blocks), 0.0, (blocks - month_means[None, ...]) ** 2
                         / np.where(month_means > 0, month_means, 1)[None, ...])
        used = (~np.isnan(blocks)).sum(axis=(0, 1))
        dof = np.maximum(used - 12, 1)
        phi = np.maximum(1.0, resid.sum(axis=(0, 1)) / dof)
    z = stats.norm.ppf(1 - alpha)
    upper = expected + z * np.sqrt(phi[None, :] * np.maximum(expected, 0))
    rows = []
    for j in range(len(wide) - first):
        for t, crime_type in enumerate(wide.columns):
            rows.append({"crime_type": crime_type, "month": wide.index[first + j],
                         "observed": values[first + j, t], "expected": expected[j % 12, t],
                         "upperbound": upper[j % 12, t]})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["crime_type", "month"], kind="stable")


def _with_status(table: pd.DataFrame, wide: pd.DataFrame, first: int,
                 incomplete: np.ndarray) -> pd.DataFrame:
    """Observed from the data (NaN without usable data), a status per row, and `exceeds`."""
    months = pd.PeriodIndex(table["month"], freq="M")
    observed = wide.stack(future_stack=True)
    table = table.assign(observed=[observed.get((m, t), np.nan) for m, t in
                                   zip(months, table["crime_type"], strict=True)])
    flagged = set(wide.index[incomplete])
    status = np.where(months.isin(list(flagged)), INCOMPLETE,
                      np.where(table["observed"].isna(), NO_DATA,
                               np.where(table["expected"].isna(), NO_BASELINE, OK)))
    table["status"] = status
    table["exceeds"] = (status == OK) & (table["observed"] > table["upperbound"])
    table["month"] = months.to_timestamp()
    return table[["crime_type", "month", "observed", "expected", "upperbound", "exceeds",
                  "status"]].reset_index(drop=True)


def _annual(table: pd.DataFrame, period: ReportingPeriod) -> pd.DataFrame:
    ok = table[table["status"] == OK]
    annual = ok.groupby("crime_type", sort=False).agg(
        observed=("observed", "sum"), expected=("expected", "sum"),
        months_above=("exceeds", "sum"), months=("month", "size")).reset_index()
    everything = pd.DataFrame({"crime_type": table["crime_type"].unique()})
    annual = everything.merge(annual, on="crime_type", how="left")
    annual[["months", "months_above"]] = annual[["months", "months_above"]].fillna(0).astype(
        "int64")
    annual["of"] = period.n_months
    annual["percent_vs_expected"] = 100 * (annual["observed"] / annual["expected"] - 1)
    return annual[["crime_type", "observed", "expected", "percent_vs_expected", "months_above",
                   "months", "of"]]
