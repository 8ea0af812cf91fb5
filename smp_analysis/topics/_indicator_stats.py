"""The numbers behind the partner-indicator chapter: for one indicator, the focus area's
latest value with its interval, the change on the previous period with its test, the
comparison averages, the funnel position and the rank interval.

Pure: a tidy frame of stored indicator rows in, small frozen results out (the chapter,
:mod:`smp_analysis.topics.indicators`, words and draws them). Methods:
:mod:`smp_analysis.methods.intervals`, :mod:`~smp_analysis.methods.change` (counts and rates),
:mod:`~smp_analysis.methods.proportions` (surveys, observed against predicted),
:mod:`~smp_analysis.methods.dispersion`, :mod:`~smp_analysis.methods.funnel` and
:mod:`~smp_analysis.methods.ranks`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..methods.change import ChangeResult, TooLittleHistory, compare_counts, fit_dispersion
from ..methods.dispersion import period_dispersion
from ..methods.intervals import Interval, proportion_interval, rate_interval
from ..methods.proportions import (
    PredictedComparison,
    ProportionChange,
    compare_proportions,
    compare_with_predicted,
)
from ..methods.ranks import RankInterval
from ..methods.targets import comparison_average
from ..sources.indicators import period_months
from ._district_funnel import FunnelComparison, focus_rank_interval, funnel_comparison

SHARES = ("proportion", "observed_vs_predicted")


@dataclass(frozen=True)
class Reading:
    """One value of an indicator for one area and period."""

    start: dt.date
    end: dt.date
    numerator: float
    denominator: float | None
    predicted: float | None
    interval: Interval

    @property
    def value(self) -> float:
        return self.interval.value

    @property
    def months(self) -> float:
        return period_months(self.start, self.end)


@dataclass(frozen=True)
class IndicatorSummary:
    indicator_id: str
    label: str
    kind: str  # count | rate | proportion | observed_vs_predicted
    per: int
    polarity: str  # lower | higher | neutral
    sources: tuple[str, ...]
    current: Reading | None = None
    previous: Reading | None = None
    change: ChangeResult | ProportionChange | None = None
    dispersion: float | None = None  # over-dispersion allowed for in the change test
    predicted: PredictedComparison | None = None
    comparison: float | None = None  # pooled value of the comparison districts
    comparison_predicted: float | None = None
    comparison_change: float | None = None  # % change (shares: points) of the pooled value
    groups: tuple[tuple[str, float | None, int], ...] = ()  # (name, pooled value, areas)
    funnel: FunnelComparison | None = None
    rank: RankInterval | None = None
    rank_allowance: str = "chance variation"
    districts: int = 0  # comparison districts with a value for the current period

    @property
    def is_share(self) -> bool:
        return self.kind in SHARES


def reading(row: pd.Series, kind: str, per: int, level: float = 0.95) -> Reading:
    numerator = float(row["numerator"])
    denominator = None if pd.isna(row["denominator"]) else float(row["denominator"])
    predicted = None if pd.isna(row["predicted"]) else float(row["predicted"])
    if kind == "count":
        interval = rate_interval(numerator, 1.0, per=1, level=level)
    elif kind in SHARES:
        interval = proportion_interval(numerator, denominator, per=per, level=level)
    else:
        interval = rate_interval(numerator, denominator, per=per, level=level)
    return Reading(row["period_start"], row["period_end"], numerator, denominator, predicted,
                   interval)


def with_lengths(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with ``months`` (period length) and ``years`` (start, in years) columns."""
    start = pd.to_datetime(rows["period_start"])
    after = pd.to_datetime(rows["period_end"]) + pd.Timedelta(days=1)
    whole = (after.dt.year - start.dt.year) * 12 + after.dt.month - start.dt.month
    aligned = (start.dt.day == 1) & (after.dt.day == 1)
    months = whole.where(aligned, (after - start).dt.days / 30.4375).astype(float)
    years = (start - pd.Timestamp("2000-01-01")).dt.days / 365.25
    return rows.assign(months=months.to_numpy(), years=years.to_numpy())


def _exposure(row, kind: str) -> float:
    months = period_months(row["period_start"], row["period_end"])
    return months if kind == "count" else months * float(row["denominator"])


def history_dispersion(rows: pd.DataFrame, before: dt.date, kind: str
                       ) -> tuple[float, float] | None:
    """(phi, residual df) from an area's earlier periods of one length (all ending before
    `before`), or None when there are too few (see :mod:`smp_analysis.methods.dispersion`;
    monthly series use the seasonal fit of :func:`~smp_analysis.methods.change.fit_dispersion`).
    `rows` are one area's rows of one period length, with :func:`with_lengths` columns.
    """
    earlier = rows[rows["period_end"] < before]
    if kind in SHARES or len(earlier) < 2:
        return None
    months = earlier["months"].to_numpy(dtype=float)
    if abs(months[-1] - 1) < 0.1:
        series = pd.Series(earlier["numerator"].to_numpy(),
                           index=pd.PeriodIndex([pd.Period(d, "M") for d in
                                                 earlier["period_start"]]))
        try:
            fit = fit_dispersion(series[~series.index.duplicated()])
        except (TooLittleHistory, ValueError):
            return None
        return fit.dispersion, float(fit.df)
    exposures = months if kind == "count" else \
        months * earlier["denominator"].to_numpy(dtype=float)
    fit = period_dispersion(earlier["numerator"].to_numpy(dtype=float), exposures,
                            earlier["years"].to_numpy(dtype=float))
    return None if fit is None else (fit.dispersion, float(fit.df))


def summarise(rows: pd.DataFrame, *, focus: str, districts: pd.Series, groups: dict[str, list],
              until: dt.date, alpha: float = 0.05, hide_below: int = 0) -> IndicatorSummary:
    """Everything the chapter says about one indicator (rows of one indicator_id).

    `districts` maps comparison district codes to names; `groups` names further comparison
    groups; only periods ending on or before `until` (the end of the assessment period) are
    used; the current period is the focus area's latest.
    """
    first = rows.iloc[0]
    kind, per = str(first["kind"]), int(first["per"])
    base = IndicatorSummary(str(first["indicator_id"]), str(first["indicator_label"]), kind, per,
                            str(first["polarity"]), tuple(dict.fromkeys(rows["source"])))
    rows = with_lengths(rows[rows["period_end"] <= until])
    own = rows[rows["area_code"] == focus].sort_values(["period_end", "period_start"])
    if own.empty:
        return base
    latest = own.iloc[-1]
    start, end = latest["period_start"], latest["period_end"]
    current = reading(latest, kind, per)
    length = period_months(start, end)
    like = own[(own["months"] - length).abs() < 0.5]
    earlier = like[like["period_end"] < start]
    fields: dict = {"current": current}
    if len(earlier):
        fields.update(_change(latest, earlier.iloc[-1], like, kind, per, alpha))
    if kind == "observed_vs_predicted" and current.predicted is not None and \
            current.denominator:
        fields["predicted"] = compare_with_predicted(
            int(current.numerator), int(current.denominator), current.predicted / per,
            alpha=alpha)
    same = rows[(rows["period_start"] == start) & (rows["period_end"] == end)]
    if kind != "count":
        fields.update(_comparisons(same, rows, focus=focus, districts=districts, groups=groups,
                                   kind=kind, per=per, hide_below=hide_below))
        if "previous" in fields:
            fields["comparison_change"] = _pooled_change(rows, districts, fields["previous"],
                                                         current, kind, per)
    return IndicatorSummary(**{**base.__dict__, **fields})


def _pooled_change(rows: pd.DataFrame, districts: pd.Series, previous: Reading,
                   current: Reading, kind: str, per: int) -> float | None:
    """Change of the comparison districts' pooled value between the two periods, over the
    districts with a value in both (% change; percentage points for shares)."""
    values = []
    for r in (previous, current):
        part = rows[(rows["period_start"] == r.start) & (rows["period_end"] == r.end) &
                    rows["area_code"].isin(districts.index) & (rows["denominator"] > 0)]
        values.append(part.set_index("area_code")[["numerator", "denominator"]])
    both = values[0].index.intersection(values[1].index)
    if len(both) == 0:
        return None
    before, after = (comparison_average(v.loc[both, "numerator"], v.loc[both, "denominator"],
                                        per=per) for v in values)
    if kind in SHARES:
        return after - before
    return 100 * (after - before) / before if before > 0 else None


def _change(latest: pd.Series, previous: pd.Series, like: pd.DataFrame, kind: str, per: int,
            alpha: float) -> dict:
    fields: dict = {"previous": reading(previous, kind, per)}
    if kind in SHARES:
        fields["change"] = compare_proportions(
            int(latest["numerator"]), int(latest["denominator"]), int(previous["numerator"]),
            int(previous["denominator"]), alpha=alpha)
        return fields
    fit = history_dispersion(like, latest["period_start"], kind)
    phi, df = fit if fit is not None else (1.0, float("inf"))
    fields["dispersion"] = phi if fit is not None else None
    fields["change"] = compare_counts(
        int(latest["numerator"]), int(previous["numerator"]),
        current_exposure=_exposure(latest, kind), previous_exposure=_exposure(previous, kind),
        alpha=alpha, dispersion=phi, dispersion_df=df)
    return fields


def _comparisons(same: pd.DataFrame, rows: pd.DataFrame, *, focus: str, districts: pd.Series,
                 groups: dict[str, list], kind: str, per: int, hide_below: int) -> dict:
    """Comparison-district and group averages, funnel and rank interval (current period)."""
    fields: dict = {}
    usable = same[same["denominator"].notna() & (same["denominator"] > 0)]
    comparison = usable[usable["area_code"].isin(districts.index)].set_index("area_code")
    fields["districts"] = len(comparison)
    if len(comparison):
        fields["comparison"] = comparison_average(comparison["numerator"],
                                                  comparison["denominator"], per=per)
        if kind == "observed_vs_predicted":
            weights = comparison["denominator"]
            fields["comparison_predicted"] = float(
                (comparison["predicted"] * weights).sum() / weights.sum())
    group_values = []
    for name, codes in groups.items():
        members = usable[usable["area_code"].isin(codes)]
        value = (comparison_average(members["numerator"], members["denominator"], per=per)
                 if len(members) else None)
        group_values.append((name, value, len(members)))
    fields["groups"] = tuple(group_values)
    if focus not in comparison.index or len(comparison) < 3:
        return fields
    names = districts.reindex(comparison.index).fillna(comparison["area_name"])
    distribution = "binomial" if kind in SHARES else "poisson"
    fields["funnel"] = funnel_comparison(
        comparison["numerator"], comparison["denominator"], names, focus, per=per,
        distribution=distribution, hide_below=hide_below)
    dispersion = {}
    if kind not in SHARES:
        length = float(same["months"].iloc[0])
        alike = rows[((rows["months"] - length).abs() < 0.5) &
                     rows["area_code"].isin(comparison.index)].sort_values("period_end")
        for code, own in alike.groupby("area_code"):
            fit = history_dispersion(own, same["period_start"].iloc[0], kind)
            dispersion[code] = fit[0] if fit is not None else 1.0
    estimated = any(v > 1 for v in dispersion.values())
    fields["rank_allowance"] = (
        "each district's count varying as much as it has from year to year" if estimated
        else "sampling variation in every district's survey" if kind in SHARES
        else "chance variation in every district's count")
    fields["rank"] = focus_rank_interval(
        comparison["numerator"], comparison["denominator"], focus,
        kind="proportion" if kind in SHARES else "rate", dispersion=dispersion or 1.0)
    return fields
