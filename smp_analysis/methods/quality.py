"""Data-quality checks on monthly police.uk series: gaps and implausible volumes.

* **Missing months**: every calendar month between a series' first and last month must be
  present (data.police.uk publishes one file per force per month).
* **Implausible volume, expected-volume method** (when a force has at least `min_years` = 3
  whole years of history before the month): the month is compared with the volume anticipated
  from the same months of up to 5 previous years by the Farrington flexible method
  (:mod:`smp_analysis.methods.farrington`, monthly settings b <= 5, w = 1; missing months are left
  out of the baselines). Its reweighting keeps earlier defective months from distorting the
  expectation, and the seasonal baseline does not mistake a normal December low for a defect.
* **Implausible volume, robust neighbour comparison** (used when a series is too short for the
  seasonal expected-volume method): each month's offences *per day* are compared with the median
  per-day rate of the months within +-`window` months (itself included). The median is the
  standard robust level estimate (Hampel 1974; Tukey's running medians): it ignores up to half
  the window being wrong, so two consecutive incomplete months do not mask each other. Per-day
  rates remove the calendar effect (February has 28 days). A month is flagged when its ratio to
  that level is below `low` (default 0.80, "more than 20% below") or above `high` (default 1.25,
  the same distance on the log scale, "more than 25% above"). Ordinary seasonal swings in a
  force's monthly crime per day are well inside that band; a partial or doubled publication is not.

>>> import pandas as pd
>>> s = pd.DataFrame({"force": "F", "month": pd.to_datetime(["2018-10-01", "2018-11-01",
...     "2018-12-01", "2019-01-01", "2019-02-01"]), "count": [17347, 11689, 6132, 15658, 14125]})
>>> volume_anomalies(s)["month"].dt.strftime("%Y-%m").tolist()
['2018-11', '2018-12']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ANOMALY_COLUMNS = ["force", "month", "kind", "detail"]
COVERAGE_COLUMNS = ["force", "month", "rows", "has_data", "incomplete", "reason"]
# Findings that make a month incomplete: nothing was published, or too little was.
INCOMPLETE_KINDS = ("missing month", "implausibly low volume", "unusual ASB volume (low)")


def missing_months(series: pd.DataFrame) -> pd.DataFrame:
    """Months absent between each force's first and last month (`force, month, count`)."""
    rows = []
    for force, part in series.groupby("force", sort=True):
        have = pd.PeriodIndex(pd.to_datetime(part.loc[part["count"] > 0, "month"]), freq="M")
        if len(have) == 0:
            continue
        expected = pd.period_range(have.min(), have.max(), freq="M")
        for month in expected.difference(have):
            rows.append({"force": force, "month": month.to_timestamp(), "kind": "missing month",
                         "detail": f"no records for {month.strftime('%B %Y')} between "
                                   f"{have.min().strftime('%B %Y')} and "
                                   f"{have.max().strftime('%B %Y')}"})
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def neighbour_ratio(series: pd.DataFrame, *, window: int = 6) -> pd.DataFrame:
    """Per force and month: count, per-day rate, robust level and ratio (see module doc)."""
    out = []
    for force, part in series.groupby("force", sort=True):
        part = part.sort_values("month").copy()
        months = pd.PeriodIndex(pd.to_datetime(part["month"]), freq="M")
        days = np.array([m.days_in_month for m in months], dtype=float)
        rate = part["count"].to_numpy(dtype=float) / days
        ordinal = np.array([m.ordinal for m in months])
        # A centred window of 2*window+1 months, shifted inwards at the ends of the series so
        # that the first and last months are still compared with a whole year of neighbours.
        lo = np.clip(ordinal - window, ordinal.min(), max(ordinal.min(), ordinal.max() - 2 * window))
        hi = lo + 2 * window
        level = np.array([np.median(rate[(ordinal >= a) & (ordinal <= b)])
                          for a, b in zip(lo, hi, strict=True)])
        part["per_day"] = rate
        part["level_per_day"] = level
        part["expected"] = level * days
        part["ratio"] = np.divide(rate, level, out=np.full_like(rate, np.nan), where=level > 0)
        part["force"] = force
        out.append(part)
    if not out:
        return pd.DataFrame(columns=[*series.columns, "per_day", "level_per_day", "expected",
                                     "ratio"])
    return pd.concat(out, ignore_index=True)


PUBLICATION_ADVICE = ("check whether the publication is incomplete or duplicated, or whether a "
                      "real event (such as a lockdown) explains it")


def seasonal_ratio(series: pd.DataFrame, *, min_years: int = 3, max_years: int = 5,
                   exclude: dict | None = None) -> pd.DataFrame:
    """Ratio to the Farrington expected volume for months with `min_years` of history.

    `exclude` maps a force to months (Timestamps) to leave out of its baselines. Returns
    ``force, month, count, expected, ratio`` for the months it could evaluate, by force and
    month. Forces with the same months and the same months left out are evaluated together
    (one Farrington fit per month for all of them: 43 forces cost little more than one).
    """
    groups: dict[tuple, dict] = {}
    for force, part in series.groupby("force", sort=True):
        months = pd.PeriodIndex(pd.to_datetime(part["month"]), freq="M")
        full = pd.period_range(months.min(), months.max(), freq="M")
        counts = pd.Series(part["count"].to_numpy(), index=months).reindex(full)
        missing = full[counts.isna().to_numpy()]
        left_out = missing.union(pd.PeriodIndex(
            [pd.Period(m, "M") for m in (exclude or {}).get(force, [])], freq="M"))
        key = (full[0], full[-1], tuple(missing), tuple(left_out))
        groups.setdefault(key, {})[force] = counts.fillna(0).astype("int64")
    out = []
    for (first, last, missing, left_out), members in groups.items():
        full = pd.period_range(first, last, freq="M")
        frame = pd.DataFrame(members, index=full)
        years = np.array([(k - 1) // 12 for k in range(len(full))])
        for b in range(min_years, max_years + 1):
            positions = np.flatnonzero(np.minimum(years, max_years) == b)
            assess = [full[k] for k in positions if full[k] not in missing]
            if not assess:
                continue
            # imported only when a series is long enough: short series never pay for scipy
            from .farrington import farrington_flexible

            result = farrington_flexible(frame, freq=12, assess=assess, b=b, w=1,
                                         limit54=(0, 4),
                                         exclude_from_baseline=pd.PeriodIndex(left_out,
                                                                              freq="M"))
            out.append(pd.DataFrame({
                "force": result.index.get_level_values(0),
                "month": [m.to_timestamp() for m in result.index.get_level_values(1)],
                "count": result["observed"].to_numpy(), "expected": result["expected"].to_numpy(),
            }))
    if not out:
        return pd.DataFrame(columns=["force", "month", "count", "expected", "ratio"])
    frame = pd.concat(out, ignore_index=True).sort_values(["force", "month"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame["ratio"] = frame["count"] / frame["expected"]
    return frame


def volume_anomalies(series: pd.DataFrame, *, label: str = "recorded crime (excluding ASB)",
                     window: int = 6, low: float = 0.80, high: float = 1.25,
                     min_expected: float = 100.0, kind: str = "implausibly {direction} volume",
                     advice: str = PUBLICATION_ADVICE, min_years: int | None = 3
                     ) -> pd.DataFrame:
    """Months whose volume is implausibly low or high (see module doc for both methods).

    `min_years=None` uses the neighbour comparison only.
    """
    if not 0 < low < 1 < high:
        raise ValueError("need 0 < low < 1 < high")
    ratios = neighbour_ratio(series, window=window).assign(basis="neighbouring months "
                                                            "(per-day median)")
    if min_years is not None:
        # Two passes: months flagged in the first are left out of every baseline in the second,
        # so one defective or extraordinary month does not make later months look unusual.
        seasonal = seasonal_ratio(series, min_years=min_years)
        first = seasonal[(seasonal["ratio"] < low) | (seasonal["ratio"] > high)]
        if len(first):
            flagged = first.groupby("force")["month"].apply(list).to_dict()
            seasonal = seasonal_ratio(series, min_years=min_years, exclude=flagged)
        seasonal = seasonal.assign(basis="the same months of previous years (Farrington)")
        if len(seasonal):
            keys = ["force", "month"]
            ratios["month"] = pd.to_datetime(ratios["month"])
            ratios = ratios.set_index(keys)
            ratios.update(seasonal.set_index(keys)[["expected", "ratio", "basis"]])
            ratios = ratios.reset_index()
    flagged = ratios[(ratios["expected"] >= min_expected)
                     & ((ratios["ratio"] < low) | (ratios["ratio"] > high))]
    rows = []
    for r in flagged.itertuples():
        direction = "low" if r.ratio < 1 else "high"
        percent = abs(r.ratio - 1) * 100
        rows.append({
            "force": r.force, "month": pd.Timestamp(r.month),
            "kind": kind.format(direction=direction),
            "detail": (f"{label}: {int(r.count):,} in {pd.Timestamp(r.month):%B %Y}, "
                       f"{percent:.0f}% {'below' if direction == 'low' else 'above'} the "
                       f"{int(round(r.expected)):,} expected from {r.basis}; {advice}"),
        })
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def share_anomalies(frame: pd.DataFrame, *, numerator: str, denominator: str, kind: str,
                    what: str, threshold: float) -> pd.DataFrame:
    """Months where numerator / denominator exceeds `threshold` (e.g. rows with no LSOA)."""
    share = frame[numerator] / frame[denominator].where(frame[denominator] > 0)
    flagged = frame[share > threshold]
    rows = [{"force": r["force"], "month": pd.Timestamp(r["month"]), "kind": kind,
             "detail": f"{100 * r[numerator] / r[denominator]:.1f}% of rows ({int(r[numerator]):,}"
                       f" of {int(r[denominator]):,}) {what}"}
            for _, r in flagged.iterrows()]
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def coverage_table(force_monthly: pd.DataFrame, anomalies: pd.DataFrame) -> pd.DataFrame:
    """Per force and month from its first to its last published month: ``rows``, ``has_data``,
    ``incomplete`` (missing, or a volume finding in :data:`INCOMPLETE_KINDS`) and ``reason``.

    >>> monthly = pd.DataFrame({"force": "F", "rows": [900, 300, 950],
    ...     "month": pd.to_datetime(["2018-10-01", "2018-11-01", "2019-01-01"])})
    >>> found = pd.DataFrame({"force": ["F"], "month": pd.to_datetime(["2018-11-01"]),
    ...     "kind": ["implausibly low volume"], "detail": ["300, 67% below the 900 expected"]})
    >>> coverage_table(monthly, found)[["has_data", "incomplete"]].to_numpy().tolist()
    [[True, False], [True, True], [False, True], [True, False]]
    """
    flags = anomalies[anomalies["kind"].isin(INCOMPLETE_KINDS)] if len(anomalies) else anomalies
    reasons: dict = {}
    for r in flags.itertuples():
        if r.kind == "missing month":
            continue  # said below, from the coverage itself
        reasons.setdefault((r.force, pd.Period(r.month, "M")), []).append(
            f"marked incomplete by the data-quality check ({r.kind}: {r.detail})")
    rows = []
    for force, part in force_monthly.groupby("force", sort=True):
        have = part[part["rows"] > 0]
        if have.empty:
            continue
        counts = dict(zip(pd.PeriodIndex(pd.to_datetime(have["month"]), freq="M"),
                          have["rows"].astype("int64"), strict=True))
        for month in pd.period_range(min(counts), max(counts), freq="M"):
            has_data = month in counts
            found = reasons.get((force, month), [])
            reason = "; ".join(found) if found else None
            if not has_data:
                reason = "no data: the force published no file for this month"
            rows.append({"force": force, "month": month.to_timestamp(),
                         "rows": int(counts.get(month, 0)), "has_data": has_data,
                         "incomplete": (not has_data) or bool(found), "reason": reason})
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
