"""Action-plan targets and whether a partnership is on track to meet them.

The target kinds are those of Community Safety Partnership action plans (for example the
Safer Maidstone Partnership's: "reduce to the average of the best 4 Kent districts",
"2.38 (half the difference)", "maintain under the KCC average", "reduce to 1,200 a year",
"maintain the % difference between actual and predicted near zero"):

* :func:`best_n_average`: the unweighted mean of the n best areas' values;
* :func:`half_the_difference`: baseline + (comparison - baseline) / 2;
* :func:`comparison_average`: the pooled value of a comparison group (all events over all
  residents, as the county rate in :mod:`smp_analysis.methods.rates`), used to ``reduce_to``,
  ``increase_to`` or ``match`` it, or to ``maintain_under`` / ``maintain_over`` it;
* a ``value``: an absolute level;
* :func:`percent_difference` for observed against predicted (``near_zero_difference``: the
  % difference should stay within a tolerance of zero).

:func:`target_status` is the rule for a target with a date (docs/methods.md has a worked
example). Before the target date the yardstick is the straight line from the baseline value
(at the end of the baseline period) to the target (at the target date): a value on the right
side of the line, or whose confidence interval contains the line's value, is on track. This
is the usual "trajectory" reading of performance-management targets (e.g. the Home Office
and Audit Commission practice of milestones on the way to a target); it assumes steady
progress, which the report says.

:func:`standing_status` is the rule for targets that hold all the time (maintain under or
over a level; keep a difference near zero): "on track" / "off track" before the target date,
"achieved" / "not achieved" from it.

>>> best_n_average([17.0, 18.5, 19.5, 21.0, 25.0, 30.0], 4)
19.0
>>> round(half_the_difference(2.76, 2.00), 2)
2.38
>>> target_status(1350, 1200, baseline=1500, baseline_date="2021-03-31",
...               target_date="2023-03-31", as_of="2022-03-31", lower_is_better=True)
'on track'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

STATUSES = ("achieved", "not achieved", "exceeding expectations", "on track", "off track")


def _finite(name: str, value: float) -> float:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def best_n_average(values: Iterable[float] | Mapping | pd.Series, n: int, *,
                   lower_is_better: bool = True) -> float:
    """The unweighted mean of the `n` best values (lowest when lower is better).

    >>> best_n_average({"A": 3.0, "B": 1.0, "C": 2.0}, 2, lower_is_better=False)
    2.5
    """
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    elif isinstance(values, Mapping):
        values = values.values()
    array = np.asarray(list(values), dtype=float)
    array = array[~np.isnan(array)]
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    if len(array) < n:
        raise ValueError(f"{n} best values were asked for but only {len(array)} areas have "
                         "a value")
    ordered = np.sort(array) if lower_is_better else np.sort(array)[::-1]
    return float(ordered[: int(n)].mean())


def half_the_difference(baseline: float, comparison: float) -> float:
    """Half-way from the baseline to the comparison value: baseline + (comparison -
    baseline) / 2.

    >>> half_the_difference(10.0, 6.0)
    8.0
    """
    baseline = _finite("baseline", baseline)
    return baseline + (_finite("comparison", comparison) - baseline) / 2


def comparison_average(numerators: Sequence[float] | pd.Series,
                       denominators: Sequence[float] | pd.Series, *,
                       per: float = 1000) -> float:
    """The pooled value of a group: sum of numerators / sum of denominators x `per`.

    >>> comparison_average([30, 10], [10_000, 10_000], per=1000)
    2.0
    """
    x = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    if x.shape != n.shape or len(x) == 0:
        raise ValueError("need one numerator per denominator, and at least one area")
    if (n <= 0).any() or np.isnan(x).any():
        raise ValueError("denominators must be positive and numerators numbers")
    return float(per * x.sum() / n.sum())


def percent_difference(actual: float, predicted: float) -> float:
    """(actual - predicted) / predicted x 100: how far the actual is from the predicted.

    >>> round(percent_difference(9.97, 7.86), 1)
    26.8
    """
    predicted = _finite("predicted", predicted)
    if predicted <= 0:
        raise ValueError("predicted must be positive")
    return 100.0 * (_finite("actual", actual) - predicted) / predicted


def _date(name: str, value) -> pd.Timestamp:
    if value is None:
        raise ValueError(f"{name} is required")
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"{name} is not a date: {value!r}")
    return stamp.normalize()


def _meets(value: float, target: float, lower_is_better: bool) -> bool:
    return value <= target if lower_is_better else value >= target


def trajectory(baseline: float, target: float, *, baseline_date, target_date,
               as_of) -> float:
    """The straight line from the baseline (at `baseline_date`) to the target (at
    `target_date`), read at `as_of` (held at the target after the target date); time is
    counted in days.

    >>> trajectory(1500, 1200, baseline_date="2021-03-31", target_date="2023-03-31",
    ...            as_of="2022-03-31")  # 365 of 730 days
    1350.0
    """
    start, end, at = (_date("baseline_date", baseline_date), _date("target_date", target_date),
                      _date("as_of", as_of))
    if end <= start:
        raise ValueError(f"target_date {end:%Y-%m-%d} must be after baseline_date "
                         f"{start:%Y-%m-%d}")
    fraction = min(max((at - start) / (end - start), 0.0), 1.0)
    baseline = _finite("baseline", baseline)
    return baseline + (_finite("target", target) - baseline) * fraction


def target_status(current: float, target: float, *, baseline: float, baseline_date,
                  target_date, as_of, lower_is_better: bool,
                  interval: tuple[float, float] | None = None) -> str:
    """The status of a target with a date, exactly one of :data:`STATUSES`:

    * on or after `target_date`: "achieved" when `current` meets `target` (at or below it
      when lower is better, at or above it otherwise), else "not achieved";
    * before it: "exceeding expectations" when `current` already meets the final target;
      "on track" when it meets the straight-line trajectory from `baseline` to `target` at
      `as_of` (:func:`trajectory`), or when its `interval` (low, high) contains the
      trajectory value; "off track" otherwise.

    `as_of` is the end of the period `current` describes; it cannot precede `baseline_date`.

    >>> kw = dict(baseline=100, baseline_date=dt.date(2022, 3, 31),
    ...           target_date=dt.date(2025, 3, 31), lower_is_better=False)
    >>> target_status(150, 140, as_of=dt.date(2023, 3, 31), **kw)
    'exceeding expectations'
    >>> target_status(105, 140, as_of=dt.date(2023, 3, 31), **kw)  # trajectory 113.3
    'off track'
    >>> target_status(105, 140, as_of=dt.date(2023, 3, 31), interval=(88.0, 125.0), **kw)
    'on track'
    >>> target_status(138, 140, as_of=dt.date(2025, 3, 31), **kw)
    'not achieved'
    """
    current = _finite("current", current)
    target = _finite("target", target)
    start, end, at = (_date("baseline_date", baseline_date), _date("target_date", target_date),
                      _date("as_of", as_of))
    if end <= start:
        raise ValueError(f"target_date {end:%Y-%m-%d} must be after baseline_date "
                         f"{start:%Y-%m-%d}")
    if at < start:
        raise ValueError(f"as_of {at:%Y-%m-%d} is before the baseline date {start:%Y-%m-%d}")
    if at >= end:
        return "achieved" if _meets(current, target, lower_is_better) else "not achieved"
    if _meets(current, target, lower_is_better):
        return "exceeding expectations"
    line = trajectory(baseline, target, baseline_date=start, target_date=end, as_of=at)
    if _meets(current, line, lower_is_better):
        return "on track"
    if interval is not None and _finite("interval low", interval[0]) <= line <= \
            _finite("interval high", interval[1]):
        return "on track"
    return "off track"


def standing_status(current: float, limit: float, *, target_date, as_of,
                    lower_is_better: bool, interval: tuple[float, float] | None = None) -> str:
    """Status of a target that holds throughout (stay under or over `limit`):

    before `target_date` "on track" when `current` is on the right side of `limit` or its
    `interval` contains it, else "off track"; from `target_date` "achieved" / "not achieved"
    (the value itself, as in :func:`target_status`).

    >>> standing_status(5.1, 6.3, target_date="2025-03-31", as_of="2024-03-31",
    ...                 lower_is_better=True)
    'on track'
    >>> standing_status(6.5, 6.3, target_date="2024-03-31", as_of="2024-03-31",
    ...                 lower_is_better=True)
    'not achieved'
    """
    current = _finite("current", current)
    limit = _finite("limit", limit)
    if _date("as_of", as_of) >= _date("target_date", target_date):
        return "achieved" if _meets(current, limit, lower_is_better) else "not achieved"
    if _meets(current, limit, lower_is_better):
        return "on track"
    if interval is not None and interval[0] <= limit <= interval[1]:
        return "on track"
    return "off track"


def status_summary(statuses: Iterable[str]) -> str:
    """One sentence counting statuses, e.g. for the key findings.

    >>> status_summary(["on track"] * 5 + ["exceeding expectations", "off track",
    ...                 "not achieved"])
    '5 of 8 targets on track, 1 exceeding expectations, 1 off track and 1 not achieved.'
    >>> status_summary(["achieved"])
    '1 of 1 target achieved.'
    """
    statuses = list(statuses)
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise ValueError(f"unknown status(es) {unknown}")
    if not statuses:
        return "No targets were set."
    order = ("on track", "exceeding expectations", "achieved", "off track", "not achieved")
    counts = [(s, statuses.count(s)) for s in order if statuses.count(s)]
    first, n = counts[0]
    noun = "target" if len(statuses) == 1 else "targets"
    parts = [f"{n} of {len(statuses)} {noun} {first}"] + [f"{k} {s}" for s, k in counts[1:]]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text + "."


def as_date(value) -> dt.date:
    """A date from a date, datetime, Timestamp or ISO string.

    >>> as_date("2024-03-31")
    datetime.date(2024, 3, 31)
    """
    return _date("date", value).date()
