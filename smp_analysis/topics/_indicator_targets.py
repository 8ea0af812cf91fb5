"""Action-plan targets of partner indicators: the target value each params entry defines, the
latest value against it, and its status (:mod:`smp_analysis.methods.targets`).

Which values a target uses (docs/methods.md, "Targets"):

* the **baseline** is the focus area's value in the target's baseline period (the period must
  be in the indicator file exactly);
* targets that move towards a level (``best_n_average``, ``half_the_difference``,
  ``comparison_average`` with ``reduce_to`` / ``increase_to`` / ``match``, ``value``) fix the
  level from the baseline period's data, as when the plan was written, and are judged with
  :func:`~smp_analysis.methods.targets.target_status` (a straight line from the baseline);
* standing targets (``maintain_under`` / ``maintain_over`` the comparison average, which is
  read in the latest period, and ``near_zero_difference``) are judged with
  :func:`~smp_analysis.methods.targets.standing_status`;
* the latest value is the one the chapter shows (the focus area's latest period up to the
  end of the assessment period), with its 95% interval; ``as_of`` is the end of its period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..methods.intervals import count_interval
from ..methods.targets import (
    best_n_average,
    comparison_average,
    half_the_difference,
    percent_difference,
    standing_status,
    target_status,
    trajectory,
)
from ..params import TargetParams
from ._indicator_stats import IndicatorSummary, reading

STANDING = ("maintain_under", "maintain_over")


@dataclass(frozen=True)
class TargetResult:
    indicator_id: str
    label: str
    description: str
    kind: str
    status: str | None  # one of methods.targets.STATUSES, None when it cannot be assessed
    note: str = ""  # why it cannot be assessed, or how it was judged
    unit_kind: str = "rate"  # the indicator's kind, or "count" for measure: count
    per: int = 1
    lower_is_better: bool = True
    baseline_period: tuple[dt.date, dt.date] | None = None
    baseline: float | None = None
    target: float | None = None
    target_date: dt.date | None = None
    current: float | None = None
    interval: tuple[float, float] | None = None
    current_period: tuple[dt.date, dt.date] | None = None
    trajectory: float | None = None
    basis: str = ""  # where the target value comes from
    via_interval: bool = False  # on track only because the interval reaches the line/level


def _direction(spec: TargetParams, summary: IndicatorSummary) -> bool | None:
    rule = spec.rule
    if spec.kind == "comparison_average" and rule in ("reduce_to", "maintain_under"):
        return True
    if spec.kind == "comparison_average" and rule in ("increase_to", "maintain_over"):
        return False
    if spec.kind == "near_zero_difference":
        return True
    direction = spec.direction or summary.polarity
    return {"lower": True, "higher": False}.get(direction)


def _values(rows: pd.DataFrame, per: int, measure: str) -> pd.Series:
    usable = rows[rows["denominator"].notna() & (rows["denominator"] > 0)] \
        if measure == "value" else rows
    if measure == "count":
        return usable.set_index("area_code")["numerator"].astype(float)
    return (per * usable["numerator"] / usable["denominator"]).set_axis(usable["area_code"])


def _abs_difference(reading_, per: int) -> tuple[float, tuple[float, float]]:
    """|% difference| of actual against predicted, and its interval."""
    predicted = reading_.predicted
    value = abs(percent_difference(reading_.value, predicted))
    low = percent_difference(reading_.interval.low, predicted)
    high = percent_difference(reading_.interval.high, predicted)
    if low <= 0 <= high:
        return value, (0.0, max(abs(low), abs(high)))
    return value, (min(abs(low), abs(high)), max(abs(low), abs(high)))


def evaluate(spec: TargetParams, rows: pd.DataFrame, summary: IndicatorSummary | None, *,
             focus: str, area: str, districts: pd.Series, groups: dict[str, list],
             comparison_name: str) -> TargetResult:
    """One target: its value, the latest value and the status (or why there is none)."""
    label = summary.label if summary else spec.indicator
    description = spec.description or spec.kind.replace("_", " ")
    base = dict(indicator_id=spec.indicator, label=label, description=description,
                kind=spec.kind, target_date=spec.target_date)
    if summary is None or summary.current is None:
        return TargetResult(**base, status=None, note=f"there are no data for {area}")
    lower = _direction(spec, summary)
    if lower is None:
        return TargetResult(**base, status=None, note="the indicator has no better direction "
                            "(polarity neutral); give the target a direction")
    if spec.kind == "near_zero_difference" and summary.kind != "observed_vs_predicted":
        return TargetResult(**base, status=None, note="a near-zero-difference target needs an "
                            "observed_vs_predicted indicator")
    per, measure = summary.per, spec.measure
    start, end = spec.baseline.start, spec.baseline.end
    own = rows[rows["area_code"] == focus]
    at_baseline = own[(own["period_start"] == start) & (own["period_end"] == end)]
    base.update(unit_kind="count" if measure == "count" else summary.kind, per=per,
                lower_is_better=lower, baseline_period=(start, end))
    if at_baseline.empty:
        periods = [f"{a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in
                   own[["period_start", "period_end"]].drop_duplicates().tail(3).itertuples(
                       index=False)]
        known = f" (latest periods: {'; '.join(periods)})" if periods else ""
        return TargetResult(**base, status=None, note="the indicator file has no value for "
                            f"{area} for the baseline period {start:%Y-%m-%d} to "
                            f"{end:%Y-%m-%d}{known}")
    current = summary.current
    base["current_period"] = (current.start, current.end)
    first = reading(at_baseline.iloc[0], summary.kind, per)
    if measure == "count":
        baseline_value, now = first.numerator, current.numerator
        interval = count_interval(current.numerator)
    else:
        baseline_value, now = first.value, current.value
        interval = (current.interval.low, current.interval.high)
    codes = groups.get(spec.group, []) if spec.group else list(districts.index)
    group_name = spec.group or comparison_name
    same = rows[rows["area_code"].isin(codes)]

    def group_rows(period_start, period_end) -> pd.DataFrame:
        part = same[(same["period_start"] == period_start) & (same["period_end"] == period_end)]
        return part[part["denominator"].notna() & (part["denominator"] > 0)]

    try:
        if spec.kind == "best_n_average":
            values = _values(group_rows(start, end), per, measure)
            target = best_n_average(values, spec.n, lower_is_better=lower)
            basis = f"the best {spec.n} of {len(values)} {group_name} districts at the baseline"
        elif spec.kind == "half_the_difference":
            part = group_rows(start, end)
            comparison = comparison_average(part["numerator"], part["denominator"], per=per)
            target = half_the_difference(baseline_value, comparison)
            basis = f"half-way to the {group_name} average at the baseline ({comparison:,.2f})"
        elif spec.kind == "comparison_average":
            standing = spec.rule in STANDING
            part = group_rows(current.start, current.end) if standing else group_rows(start, end)
            target = comparison_average(part["numerator"], part["denominator"], per=per)
            basis = (f"the {group_name} average in the latest period" if standing
                     else f"the {group_name} average at the baseline")
        elif spec.kind == "value":
            target, basis = float(spec.value), "a set level"
        else:
            target, basis = float(spec.tolerance), "within the stated tolerance of zero"
            baseline_value, _ = _abs_difference(first, per)
            now, interval = _abs_difference(current, per)
    except ValueError as exc:
        return TargetResult(**base, baseline=baseline_value, status=None,
                            note=f"the target cannot be set: {exc}")
    base.update(baseline=baseline_value, target=target, current=now, interval=interval,
                basis=basis)
    if current.end <= end:
        return TargetResult(**base, status=None, note="there are no data after the baseline "
                            "period yet")
    if spec.kind == "near_zero_difference" or spec.rule in STANDING:
        judge = dict(target_date=spec.target_date, as_of=current.end, lower_is_better=lower)
        status = standing_status(now, target, interval=interval, **judge)
        plain = standing_status(now, target, **judge)
        return TargetResult(**base, status=status, via_interval=status != plain)
    judge = dict(baseline=baseline_value, baseline_date=end, target_date=spec.target_date,
                 as_of=current.end, lower_is_better=lower)
    status = target_status(now, target, interval=interval, **judge)
    plain = target_status(now, target, **judge)
    line = None
    if current.end < spec.target_date:
        line = trajectory(baseline_value, target, baseline_date=end,
                          target_date=spec.target_date, as_of=current.end)
    return TargetResult(**base, status=status, trajectory=line, via_interval=status != plain)

