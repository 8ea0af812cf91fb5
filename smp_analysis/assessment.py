"""An assessment in progress: validated params plus a read-only store connection.

This is the layer the chapter notebooks call. Each method queries the store (filters pushed
into SQL) and hands tidy frames to the pure functions in :mod:`smp_analysis.methods`; nothing
here computes statistics itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import dataquality, store
from .categories import (
    AGAINST_SOCIETY,
    ANTI_SOCIAL_BEHAVIOUR,
    CRIME_TYPES,
    VICTIM_BASED,
    category_table,
)
from .methods.change import change_table, compare_counts
from .methods.expected import ExpectedVolumes, expected_volumes
from .methods.rates import RankResult, area_rates, rank_area
from .methods.recording import (
    RecordingInputError,
    UpliftEstimate,
    adjusted_change,
    estimate_recording_uplift,
)
from .methods.repeats import (
    MaracRepeats,
    RepeatVictimisation,
    compare_proportions,
    marac_repeat_rate,
    repeat_victimisation,
)
from .params import AssessmentParams, load_params
from .periods import ReportingPeriod

TOTAL_CRIME = "Total recorded crime"
GROUP_ORDER = (TOTAL_CRIME, VICTIM_BASED, AGAINST_SOCIETY, ANTI_SOCIAL_BEHAVIOUR)


class Assessment:
    def __init__(self, params: AssessmentParams, con: duckdb.DuckDBPyConnection):
        self.params = params
        self.con = con

    @classmethod
    def open(cls, params_file: str | Path) -> Assessment:
        params = load_params(params_file)
        return cls(params, store.connect(params.data.store, read_only=True))

    # ------------------------------------------------------------------ context
    @property
    def current(self) -> ReportingPeriod:
        return self.params.current

    @property
    def previous(self) -> ReportingPeriod:
        return self.params.previous

    @property
    def focus_code(self) -> str:
        return self.params.focus_area.code

    @property
    def focus_name(self) -> str:
        return self.params.focus_area.name

    @property
    def comparison_name(self) -> str:
        return self.params.comparison_area.name

    @cached_property
    def synthetic(self) -> bool:
        files = store.input_files(self.con)
        return bool(len(files)) and bool(files["synthetic"].any())

    @cached_property
    def districts(self) -> pd.DataFrame:
        area = self.params.comparison_area
        frame = store.districts(self.con, area.police_force, area.districts)
        if area.districts is not None and len(frame) != len(set(area.districts)):
            missing = sorted(set(area.districts) - set(frame["area_code"]))
            raise ValueError(f"comparison_area.districts {missing} are not in the LSOA lookup")
        if self.focus_code not in set(frame["area_code"]):
            raise ValueError(
                f"focus area {self.focus_code} is not a district of police force "
                f"{self.params.comparison_area.police_force!r} in the LSOA lookup")
        return frame.set_index("area_code")

    def population_year(self, period: ReportingPeriod | None = None) -> int:
        """Mid-year estimate used for a period: the year its middle month falls in."""
        period = period or self.current
        return period.months[len(period.months) // 2].year

    # ------------------------------------------------------------------ counts
    def monthly(self, *, start: dt.date, end: dt.date, area_codes=None, level="district"
                ) -> pd.DataFrame:
        return store.monthly_counts(self.con, start=start, end=end, area_codes=area_codes,
                                    level=level)

    def _group_counts(self, period: ReportingPeriod, area_codes) -> pd.DataFrame:
        monthly = self.monthly(start=period.start, end=period.end, area_codes=area_codes)
        return with_groups(monthly)

    def counts_by_type(self, period: ReportingPeriod) -> pd.Series:
        frame = self.monthly(start=period.start, end=period.end, area_codes=[self.focus_code])
        return frame.groupby("crime_type")["count"].sum()

    def change_by_group(self) -> pd.DataFrame:
        """Year-on-year change for total crime, the Home Office groups and ASB."""
        current = self._group_counts(self.current, [self.focus_code]).groupby("group")["count"].sum()
        previous = self._group_counts(self.previous, [self.focus_code]).groupby("group")["count"].sum()
        table = change_table(current, previous, alpha=self.params.options.alpha,
                             current_exposure=self.current.n_months,
                             previous_exposure=self.previous.n_months)
        return table.reindex([g for g in GROUP_ORDER if g in table.index])

    def change_by_type(self) -> pd.DataFrame:
        """Year-on-year change for each police.uk crime type (and ASB)."""
        table = change_table(self.counts_by_type(self.current),
                             self.counts_by_type(self.previous),
                             alpha=self.params.options.alpha,
                             current_exposure=self.current.n_months,
                             previous_exposure=self.previous.n_months)
        order = [t for t in (*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR) if t in table.index]
        return table.reindex(order)

    def monthly_by_group(self, years: int = 5) -> pd.DataFrame:
        """Monthly counts by group for the focus area over the last `years` years."""
        first = self.current.first_month - 12 * years + self.current.n_months
        monthly = self.monthly(start=first.start_time.date(), end=self.current.end,
                               area_codes=[self.focus_code])
        grouped = with_groups(monthly).groupby(["group", "month"], as_index=False)["count"].sum()
        grouped["group"] = pd.Categorical(grouped["group"], categories=GROUP_ORDER, ordered=True)
        return grouped.sort_values(["group", "month"]).reset_index(drop=True)

    # ------------------------------------------------------------------ rates
    @cached_property
    def population(self) -> pd.DataFrame:
        frame = store.population(self.con, area_codes=list(self.districts.index),
                                 year=self.population_year())
        return frame.set_index("area_code")

    def district_counts(self, crime_types=None) -> pd.Series:
        """Offences in the current period per district of the comparison area."""
        frame = self.monthly(start=self.current.start, end=self.current.end,
                             area_codes=list(self.districts.index))
        if crime_types is not None:
            frame = frame[frame["crime_type"].isin(crime_types)]
        return frame.groupby("area_code")["count"].sum()

    def district_rates(self, crime_types=CRIME_TYPES) -> pd.DataFrame:
        table = area_rates(self.district_counts(crime_types), self.population["population"])
        return table.join(self.districts["area_name"])

    def focus_rank(self, crime_types=CRIME_TYPES) -> RankResult:
        return rank_area(self.district_counts(crime_types), self.population["population"],
                         self.focus_code)

    def data_quality(self) -> DataQuality:
        """Reconciliation, quarantine and anomalies for the files behind this report."""
        files = store.input_files(self.con)
        monthly = store.force_monthly(self.con)
        in_period = monthly["month"].between(pd.Timestamp(self.current.start),
                                             pd.Timestamp(self.current.end))
        return DataQuality(
            files=files[files["kind"] == "police_uk"].reset_index(drop=True),
            quarantine=store.quarantine_summary(self.con),
            anomalies=dataquality.stored_anomalies(self.con),
            force_monthly=monthly,
            unplaced=store.unplaced_counts(self.con, start=self.current.start,
                                           end=self.current.end),
            period_rows=int(monthly.loc[in_period, "rows"].sum()),
        )

    def expected(self, period: ReportingPeriod | None = None,
                 method: str | None = None) -> ExpectedVolumes:
        """Actual vs anticipated volumes by crime type (and total crime) for the focus area."""
        period = period or self.current
        first, _ = store.data_span(self.con)
        monthly = self.monthly(start=first, end=period.end, area_codes=[self.focus_code])
        crimes = monthly[monthly["crime_type"] != ANTI_SOCIAL_BEHAVIOUR]
        total = crimes.groupby("month", as_index=False)["count"].sum().assign(
            crime_type=TOTAL_CRIME)
        options = self.params.options
        exclude = [m for e in options.baseline_exclusions for m in e.months()]
        result = expected_volumes(pd.concat([total, monthly], ignore_index=True),
                                  period=period, method=method or options.expected_method,
                                  years=options.expected_years, exclude=exclude,
                                  alpha=options.alpha)
        order = {t: i for i, t in enumerate((TOTAL_CRIME, *CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR))}
        return replace(
            result,
            monthly=result.monthly.sort_values(["crime_type", "month"], key=lambda s: s.map(
                order) if s.name == "crime_type" else s, kind="stable").reset_index(drop=True),
            annual=result.annual.sort_values("crime_type", key=lambda s: s.map(order),
                                             kind="stable").reset_index(drop=True))

    def expected_history(self, years: int = 3) -> pd.DataFrame:
        """Monthly actual/anticipated for the assessment year and up to `years`-1 before it,
        each year computed as its own assessment (skipping years without enough history)."""
        frames = []
        period = self.current
        for _ in range(years):
            try:
                frames.append(self.expected(period).monthly)
            except ValueError:
                break
            period = period.preceding()
        return pd.concat(frames[::-1], ignore_index=True)

    def domestic_abuse(self) -> DomesticAbuse | None:
        """Repeat victimisation and Marac measures; None when no incident extract is loaded."""
        if not store.has_table(self.con, "incidents"):
            return None
        o = self.params.options
        window = o.repeat_window_days
        lookback_start = self.previous.start - dt.timedelta(days=window)
        frame = store.incidents(self.con, district_codes=[self.focus_code],
                                start=lookback_start, end=self.current.end,
                                domestic_only=o.domestic_only, crimes_only=o.crimes_only)
        first = store.incidents(self.con, district_codes=[self.focus_code],
                                start=dt.date(1900, 1, 1), end=self.current.end,
                                domestic_only=False)["date"].min()
        names = store.ward_names(self.con)
        frame["ward"] = frame["ward_code"].map(names).fillna(frame["ward_code"]).fillna(
            "Unknown ward")
        current = repeat_victimisation(frame, start=self.current.start, end=self.current.end,
                                       window_days=window, area="ward")
        previous = repeat_victimisation(frame, start=self.previous.start,
                                        end=self.previous.end, window_days=window, area="ward")
        in_current = frame["date"].between(pd.Timestamp(self.current.start),
                                           pd.Timestamp(self.current.end))
        in_previous = frame["date"].between(pd.Timestamp(self.previous.start),
                                            pd.Timestamp(self.previous.end))
        high = frame[in_current & frame["incident_type"].isin(HIGH_HARM_TYPES)]
        by_ward = (high.pivot_table(index="ward", columns="incident_type", values="incident_id",
                                    aggfunc="count", fill_value=0)
                   .reindex(columns=list(HIGH_HARM_TYPES), fill_value=0)
                   .reindex(sorted(set(frame.loc[in_current, "ward"])), fill_value=0))
        marac_now = marac_before = None
        if store.has_table(self.con, "marac_referrals"):
            referrals = store.marac_referrals(self.con, district_codes=[self.focus_code],
                                              start=lookback_start, end=self.current.end)
            marac_now = marac_repeat_rate(referrals, start=self.current.start,
                                          end=self.current.end, window_days=window)
            marac_before = marac_repeat_rate(referrals, start=self.previous.start,
                                             end=self.previous.end, window_days=window)
        return DomesticAbuse(
            current=current, previous=previous,
            crimes_current=int(frame.loc[in_current, "is_crime"].sum()),
            crimes_previous=int(frame.loc[in_previous, "is_crime"].sum()),
            population=int(self.population.loc[self.focus_code, "population"]),
            repeat_rate_p_value=compare_proportions(
                current.repeat_incidents, current.incidents, previous.repeat_incidents,
                previous.incidents),
            incidents_change=compare_counts(current.incidents, previous.incidents,
                                            alpha=o.alpha),
            marac_current=marac_now, marac_previous=marac_before,
            high_harm_by_ward=by_ward.rename_axis(None, axis=1).reset_index(),
            lookback_complete=bool(pd.notna(first) and first <= pd.Timestamp(lookback_start)),
            window_days=window)

    def recording_adjustments(self, window_months: int = 36) -> list[RecordingAdjustment]:
        """For each recording change in params and each crime type it affects: uplift
        estimates and the observed and adjusted change for the focus area.

        Recording practice is force-wide, so the uplift is estimated on the whole comparison
        area (larger counts, narrower intervals) and applied to the focus area's counts: by
        interrupted time series and, for violence, against hospital admissions for assault.
        """
        results = []
        first, last = store.data_span(self.con)
        areas = list(self.districts.index)
        admissions = store.admissions_total(self.con, areas)
        for change in self.params.options.recording_changes:
            point = pd.Period(change.date, "M")
            start = min(max(pd.Period(first, "M"), point - window_months),
                        self.previous.first_month)
            end = min(pd.Period(last, "M"), max(point + window_months - 1,
                                                 self.current.last_month))
            months = pd.period_range(start, end, freq="M")
            monthly = self.monthly(start=start.start_time.date(), end=end.end_time.date(),
                                   area_codes=areas)
            for crime_type in change.crime_types:
                part = monthly[monthly["crime_type"] == crime_type].assign(
                    month=lambda f: pd.PeriodIndex(pd.to_datetime(f["month"]), freq="M"))
                county = part.groupby("month")["count"].sum().reindex(months, fill_value=0)
                focus = (part[part["area_code"] == self.focus_code].set_index("month")["count"]
                         .reindex(months, fill_value=0))
                window = county[(months >= point - window_months)
                                & (months < point + window_months)]
                its = comparator = None
                try:
                    its = estimate_recording_uplift(window, change.date)
                except RecordingInputError:
                    pass
                if len(admissions) and crime_type == "Violence and sexual offences":
                    try:
                        comparator = estimate_recording_uplift(window, change.date,
                                                               comparator=admissions)
                    except RecordingInputError:
                        pass
                current, previous = focus[self.current.months], focus[self.previous.months]
                adjusted = {}
                for label, estimate in (("interrupted time series", its),
                                        ("hospital admissions comparator", comparator)):
                    if estimate is not None:
                        adjusted[label] = adjusted_change(
                            current, previous, change.date,
                            (estimate.ci_low, estimate.ci_high))
                        adjusted[f"{label} (point)"] = adjusted_change(
                            current, previous, change.date, estimate.uplift)
                if change.uplift is not None:
                    adjusted["published uplift"] = adjusted_change(
                        current, previous, change.date, change.uplift)
                touches = bool((self.current.months >= point).any()
                               and (self.previous.months < point).any())
                results.append(RecordingAdjustment(
                    crime_type, change, focus, its, comparator,
                    float(current.sum() / previous.sum() - 1), adjusted, touches,
                    under_old_practice(focus, point, its or comparator)))
        return results

    def rates_by_type(self) -> pd.DataFrame:
        """Per crime type: focus rate, county rate, rank of the focus area among districts."""
        rows = []
        for crime_type in (*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR):
            r = self.focus_rank([crime_type])
            rows.append({"crime_type": crime_type, "focus_rate": r.rate_per_1000,
                         "county_rate": r.pooled_rate_per_1000, "rank": r.rank, "of": r.of})
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class DomesticAbuse:
    """Victim-level measures for the focus district (pseudonymised; counts are raw here and
    must go through :mod:`smp_analysis.disclosure` before display)."""

    current: RepeatVictimisation
    previous: RepeatVictimisation
    crimes_current: int
    crimes_previous: int
    population: int
    repeat_rate_p_value: float
    incidents_change: object  # ChangeResult
    marac_current: MaracRepeats | None
    marac_previous: MaracRepeats | None
    high_harm_by_ward: pd.DataFrame  # ward_name, one column per high-harm type
    lookback_complete: bool
    window_days: int

    @property
    def rate_per_1000(self) -> float:
        return 1000 * self.current.incidents / self.population


HIGH_HARM_TYPES = ("Stalking", "Controlling or coercive behaviour", "Threats to kill",
                   "Breach of order")


@dataclass(frozen=True)
class RecordingAdjustment:
    """One crime type affected by one recording change."""

    crime_type: str
    change: object  # params.RecordingChange
    observed: pd.Series  # monthly counts over the estimation window and both periods
    its: UpliftEstimate | None
    comparator: UpliftEstimate | None
    observed_change: float
    adjusted: dict  # method label -> (low, high) adjusted change
    affects_comparison: bool
    series: pd.DataFrame  # month, observed, adjusted, adjusted_low, adjusted_high (focus area)


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


@dataclass(frozen=True)
class DataQuality:
    files: pd.DataFrame  # every police.uk file in the store with its reconciliation counts
    quarantine: pd.DataFrame  # path, force, month, reason, rows
    anomalies: pd.DataFrame  # force, month, kind, detail
    force_monthly: pd.DataFrame  # force, month, crimes, asb, rows, no_lsoa
    unplaced: pd.DataFrame  # reason, count (assessment period)
    period_rows: int  # rows in the assessment period


def with_groups(monthly: pd.DataFrame) -> pd.DataFrame:
    """Add the Home Office group to monthly counts and a 'Total recorded crime' copy of crimes."""
    groups = category_table().drop_duplicates("harmonised_type").set_index("harmonised_type")
    frame = monthly.assign(group=monthly["crime_type"].map(groups["ho_group"]))
    crimes = frame[frame["group"] != ANTI_SOCIAL_BEHAVIOUR].assign(group=TOTAL_CRIME)
    return pd.concat([frame, crimes], ignore_index=True)
