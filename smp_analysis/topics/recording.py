"""Chapter: recording practice and the real change in crime. For each recording change in
params and each crime type it affects: the uplift it caused (interrupted time series; hospital
admissions for assault as a comparator for violence; a published uplift) and the change between
the two periods net of it.

Method: :mod:`smp_analysis.methods.recording` (references there). Months without usable data
(coverage) are never counted as zero: the uplift is estimated on the run of usable months
around the change, and the change between the periods compares like for like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..methods.recording import (
    RecordingInputError,
    UpliftEstimate,
    adjusted_change,
    estimate_recording_uplift,
)
from ..params import RecordingChange
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic
from ..report.markup import EMPTY, Block, Blocks, Prose
from ..report.tables import table
from ..report.words import capitalise, join, signed
from ..store import queries

ESTIMATION_WINDOW_MONTHS = 36
CAVEATS = (
    "These estimates rest on assumptions. The interrupted time series attributes the whole "
    "step at the change date to recording, so a real change in crime at the same moment would "
    "be counted as recording. The comparator method assumes assault admissions follow the true "
    "level of violence; admissions cover only the most serious violence and are small in "
    "number, so their interval is wide. The uplift is estimated for the whole force area, where "
    "recording practice changed, and applied to the partnership's own counts.")
VIOLENCE = "Violence and sexual offences"


@dataclass(frozen=True)
class Adjustment:
    """One crime type affected by one recording change."""

    crime_type: str
    change: RecordingChange
    observed: pd.Series  # monthly counts over the estimation window and both periods
    its: UpliftEstimate | None
    comparator: UpliftEstimate | None
    observed_change: float
    adjusted: dict  # method label -> (low, high) adjusted change
    affects_comparison: bool
    series: pd.DataFrame  # month, observed, adjusted, adjusted_low, adjusted_high (focus area)

    def net_range(self) -> tuple[float, float] | None:
        ranges = [v for v in self.adjusted.values() if "adjusted_low" in v]
        if not ranges:
            return None
        return (min(v["adjusted_low"] for v in ranges), max(v["adjusted_high"] for v in ranges))

    def net_sentence(self) -> str:
        low, high = self.net_range()
        return (f"Net of recording, the real change is estimated at between {signed(low)} and "
                f"{signed(high)}, rather than the {signed(self.observed_change)} the recorded "
                "figures show.")


@dataclass(frozen=True)
class Recording(TopicResult):
    area: str
    comparison: str
    current: ReportingPeriod
    previous: ReportingPeriod
    adjustments: tuple[Adjustment, ...]
    synthetic: bool

    def summary(self) -> Block:
        if not self.adjustments:
            return Prose("No recording-practice change is listed in the parameters for this "
                         "assessment, so recorded figures are compared as they stand.")
        changes = join(sorted({f"{a.change.date:%B %Y}" for a in self.adjustments}))
        affected = [a for a in self.adjustments if a.affects_comparison]
        text = f"Recording-practice changes listed for this assessment: {changes}."
        if affected:
            text += (" The comparison between the two periods straddles a change for "
                     + join([a.crime_type.lower() for a in affected]) + ".")
        else:
            text += " Neither period straddles a change, so no adjustment is needed."
        return Prose(text + " " + CAVEATS)

    def table(self) -> Block:
        if not self.adjustments:
            return EMPTY
        rows = []
        for adj in self.adjustments:
            rows.append({
                "Crime type": adj.crime_type,
                "Recording change": f"{adj.change.date:%B %Y}",
                "Recorded change": 100 * adj.observed_change,
                "Uplift (time series)": _uplift_range(adj.its),
                "Uplift (admissions)": _uplift_range(adj.comparator),
                "Adjusted change (time series)": _adjusted_range(
                    adj.adjusted.get("interrupted time series")),
                "Adjusted change (admissions)": _adjusted_range(
                    adj.adjusted.get("hospital admissions comparator")),
            })
        return table(pd.DataFrame(rows), f"Recorded and recording-adjusted change, {self.area}, "
                     f"{self.previous.name} to {self.current.name}",
                     percents=("Recorded change",))

    def details(self) -> Block:
        return Prose(*(self._sentence(a) for a in self.adjustments))

    def figures(self) -> Block:
        return Blocks(*(self._figure(a) for a in self.adjustments
                        if a.its is not None or a.comparator is not None))

    def headlines(self) -> list[str]:
        return [f"{a.crime_type}: {a.net_sentence()[0].lower()}{a.net_sentence()[1:]}"
                for a in self.adjustments if a.affects_comparison and a.net_range()]

    def _sentence(self, adj: Adjustment) -> str:
        when = f"{adj.change.date:%B %Y}"
        subject = adj.crime_type.lower()
        if not adj.affects_comparison:
            side = "after" if self.previous.start >= adj.change.date else "before"
            return (f"Both {self.previous.name} and {self.current.name} fall {side} the "
                    f"recording change of {when}, so it does not distort this comparison: the "
                    f"recorded change in {subject} of {signed(adj.observed_change)} stands.")
        text = (f"Recorded {subject} in {self.area} changed by {signed(adj.observed_change)} "
                f"between {self.previous.name} and {self.current.name}. Recording practice "
                f"changed in {when} ({adj.change.source}).")
        estimates = []
        if adj.its is not None:
            estimates.append(f"{signed(adj.its.uplift)} by interrupted time series (95% CI "
                             f"{signed(adj.its.ci_low)} to {signed(adj.its.ci_high)})")
        if adj.comparator is not None:
            estimates.append(f"{signed(adj.comparator.uplift)} against hospital admissions for "
                             f"assault, which recording practice does not touch (95% CI "
                             f"{signed(adj.comparator.ci_low)} to "
                             f"{signed(adj.comparator.ci_high)})")
        if estimates:
            text += (f" Across {self.comparison}, the change is estimated to have added "
                     + " and ".join(estimates) + f" to recorded {subject}.")
        if adj.net_range():
            text += " " + capitalise(adj.net_sentence())
        return text

    def _figure(self, adj: Adjustment) -> charts.Figure:
        s = adj.series
        after = s[s["month"] >= pd.Timestamp(adj.change.date)]
        subject = adj.crime_type.lower()
        return charts.recording_chart(
            s, change_date=adj.change.date, period=self.current,
            title=f"{self.area}: {subject}, recorded and adjusted",
            caption=f"Monthly recorded {subject} in {self.area} and the same series adjusted "
                    f"to the recording practice before {adj.change.date:%B %Y}; the shaded band "
                    "reflects the uncertainty of the uplift.",
            alt=f"Line chart of monthly recorded {subject} in {self.area} with the recording "
                f"change of {adj.change.date:%B %Y} marked; after it the recorded series "
                f"averages {after['observed'].mean():.0f} a month and the series adjusted to "
                f"the old recording practice {after['adjusted'].mean():.0f} a month.",
            synthetic=self.synthetic)


def _uplift_range(estimate: UpliftEstimate | None) -> str:
    if estimate is None:
        return "–"
    return (f"{100 * estimate.uplift:+.1f}% ({100 * estimate.ci_low:+.1f}% to "
            f"{100 * estimate.ci_high:+.1f}%)")


def _adjusted_range(adjusted: dict | None) -> str:
    if adjusted is None:
        return "–"
    return f"{100 * adjusted['adjusted_low']:+.1f}% to {100 * adjusted['adjusted_high']:+.1f}%"


@topic
def compute(sa: Assessment) -> Recording:
    """Recording practice is force-wide, so the uplift is estimated on the whole comparison
    area (larger counts, narrower intervals) and applied to the focus area's counts."""
    results = []
    if sa.options.recording_changes:
        first, last = queries.data_span(sa.con)
        areas = list(sa.districts.index)
        admissions = queries.admissions_total(sa.con, areas)
        for change in sa.options.recording_changes:
            results.extend(_adjustments(sa, change, first, last, areas, admissions))
    return Recording(area=sa.focus_name, comparison=sa.comparison_name, current=sa.current,
                     previous=sa.previous, adjustments=tuple(results), synthetic=sa.synthetic)


def _adjustments(sa: Assessment, change: RecordingChange, first, last, areas: list[str],
                 admissions: pd.Series) -> list[Adjustment]:
    window_months = ESTIMATION_WINDOW_MONTHS
    point = pd.Period(change.date, "M")
    start = min(max(pd.Period(first, "M"), point - window_months), sa.previous.first_month)
    end = min(pd.Period(last, "M"), max(point + window_months - 1, sa.current.last_month))
    months = pd.period_range(start, end, freq="M")
    monthly = sa.monthly(start=start.start_time.date(), end=end.end_time.date(),
                         area_codes=areas)
    usable = set(sa.coverage(months, forces=sa.comparison_forces).usable)
    pairs = sa.like_for_like
    results = []
    for crime_type in change.crime_types:
        part = monthly[monthly["crime_type"] == crime_type].assign(
            month=lambda f: pd.PeriodIndex(pd.to_datetime(f["month"]), freq="M"))
        county = part.groupby("month")["count"].sum().reindex(months, fill_value=0)
        focus = (part[part["area_code"] == sa.focus_code].set_index("month")["count"]
                 .reindex(months, fill_value=0))
        window = _usable_run(county[(months >= point - window_months)
                                    & (months < point + window_months)], usable, point)
        its = _estimate(window, change.date) if window is not None else None
        comparator = (_estimate(window, change.date, comparator=admissions)
                      if window is not None and len(admissions) and crime_type == VIOLENCE
                      else None)
        # like for like: months not compared count in neither period (zero in both)
        current = focus[sa.current.months].where(sa.current.months.isin(pairs.current_months),
                                                 0)
        previous = focus[sa.previous.months].where(
            sa.previous.months.isin(pairs.previous_months), 0)
        if previous.sum() == 0:
            continue
        adjusted = {}
        for label, estimate in (("interrupted time series", its),
                                ("hospital admissions comparator", comparator)):
            if estimate is not None:
                adjusted[label] = adjusted_change(current, previous, change.date,
                                                  (estimate.ci_low, estimate.ci_high))
                adjusted[f"{label} (point)"] = adjusted_change(current, previous, change.date,
                                                               estimate.uplift)
        if change.uplift is not None:
            adjusted["published uplift"] = adjusted_change(current, previous, change.date,
                                                           change.uplift)
        touches = bool((sa.current.months >= point).any()
                       and (sa.previous.months < point).any())
        results.append(Adjustment(
            crime_type, change, focus, its, comparator,
            float(current.sum() / previous.sum() - 1), adjusted, touches,
            under_old_practice(focus, point, its or comparator)))
    return results


def _usable_run(window: pd.Series, usable: set, point: pd.Period) -> pd.Series | None:
    """The run of consecutive usable months of `window` that contains the change month.

    >>> months = pd.period_range("2014-01", periods=6, freq="M")
    >>> window = pd.Series(range(6), index=months)
    >>> usable = set(months) - {pd.Period("2014-02", "M")}
    >>> [str(m) for m in _usable_run(window, usable, pd.Period("2014-04", "M")).index]
    ['2014-03', '2014-04', '2014-05', '2014-06']
    >>> _usable_run(window, usable, pd.Period("2014-02", "M")) is None
    True
    """
    if point not in usable or point not in window.index:
        return None
    months = list(window.index)
    k = months.index(point)
    lo = hi = k
    while lo > 0 and months[lo - 1] in usable:
        lo -= 1
    while hi < len(months) - 1 and months[hi + 1] in usable:
        hi += 1
    return window.iloc[lo:hi + 1]


def _estimate(window: pd.Series, date, **kwargs) -> UpliftEstimate | None:
    try:
        return estimate_recording_uplift(window, date, **kwargs)
    except RecordingInputError:
        return None


def under_old_practice(observed: pd.Series, point: pd.Period, estimate) -> pd.DataFrame:
    """The focus area's monthly counts as they would have been recorded before the change:
    months from the change on divided by (1 + uplift), with the uplift's interval."""
    after = (observed.index >= point).astype(float)
    frame = pd.DataFrame({"month": observed.index.to_timestamp(),
                          "observed": observed.to_numpy(dtype=float)})
    if estimate is None:
        return frame.assign(adjusted=np.nan, adjusted_low=np.nan, adjusted_high=np.nan)
    for column, u in (("adjusted", estimate.uplift), ("adjusted_low", estimate.ci_high),
                      ("adjusted_high", estimate.ci_low)):
        frame[column] = frame["observed"] / (1 + u * after)
    return frame
