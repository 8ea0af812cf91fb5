"""Chapter: crime rates per 1,000 residents and the focus area's rank among the comparison
districts, for all crime and for each crime type.

Method: :mod:`smp_analysis.methods.rates` (pooled comparison-area rate; rank 1 = highest).
Counts cover the months of the assessment period with usable data for the comparison
districts' forces (coverage); a population estimate older than
``options.max_population_age_years`` before the period is shown with a caveat, and districts
of the comparison force that the lookup leaves out are named.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..categories import ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES
from ..methods.ranks import RankInterval
from ..methods.rates import RankResult, area_rates, rank_area
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.markup import EMPTY, Block, Blocks, Notice, Prose
from ..report.tables import Table, table
from ..report.words import join, ordinal, plural
from ._district_funnel import FunnelComparison, funnel_comparison, rank_interval_sentence


@dataclass(frozen=True)
class Rates(TopicResult):
    area: str
    comparison: str
    kind: str = "police force area"  # or "comparison area"
    area_code: str = ""
    current: ReportingPeriod | None = None
    rank: RankResult | None = None  # all recorded crime
    districts: pd.DataFrame | None = None  # area_rates() with area_name, by area code
    population: pd.DataFrame | None = None  # population, year, source by area code
    by_type: pd.DataFrame | None = None  # crime_type, focus_rate, county_rate, rank, of
    months_note: str = ""  # which months the counts cover, when not all
    caveats: tuple[str, ...] = ()  # population age, areas left out or recoded
    synthetic: bool = False
    funnel: FunnelComparison | None = None  # all recorded crime, districts on a funnel plot
    rank_range: RankInterval | None = None  # the focus area's 95% rank interval
    rank_allowance: str = "chance variation"  # what the rank interval allows for

    @when_available
    def intro(self) -> Block:
        return Prose(
            "Rates per 1,000 residents allow districts of different sizes to be compared. The "
            f"{self.comparison} rate is all offences in the {self.kind} divided by all its "
            "residents (not the average of the district rates). Rank 1 is the highest rate.")

    def summary(self) -> Block:
        if self.missing:
            return Blocks(self.missing_note(), *(Notice(c, "warning") for c in self.caveats))
        sources = sorted(set(self.population["source"]))
        text = Prose(rank_sentence(self.area, "recorded crime", self.rank, self.comparison),
                     f"Rates use the {join(sources)} for each district."
                     + (f" {self.months_note}" if self.months_note else ""))
        return Blocks(text, *(Notice(c, "warning") for c in self.caveats))

    @when_available
    def figure(self) -> charts.Figure:
        return charts.rate_bars(
            self.districts, focus=self.area_code, reference=self.rank.pooled_rate_per_1000,
            title=f"Recorded crime per 1,000 residents, {self.current.name}",
            caption=f"Recorded crime per 1,000 residents by district of the {self.comparison} "
                    f"{self.kind}; {self.area} in dark blue, the other districts in grey, the "
                    f"{self.comparison} rate dashed.",
            alt=_rates_alt_text(self.districts, self.area, self.rank.pooled_rate_per_1000,
                                self.comparison),
            reference_label=f"{self.comparison} rate", synthetic=self.synthetic)

    @when_available
    def table(self) -> Table:
        rates = self.districts
        view = pd.DataFrame({
            "Rank": rates["rank"].to_numpy(),
            "District": [f"{name} (focus)" if code == self.area_code else name
                         for code, name in zip(rates.index, rates["area_name"], strict=True)],
            "Offences": rates["count"].to_numpy(),
            "Population": rates["population"].to_numpy(),
            "Rate per 1,000": rates["rate_per_1000"].to_numpy(),
        })
        return table(view, f"Recorded crime per 1,000 residents, {self.current.name}",
                     counts=("Offences", "Population"), rates=("Rate per 1,000",))

    @when_available
    def types_summary(self) -> Block:
        frame = self.by_type
        high = frame[frame["rank"] <= max(1, frame["of"].iloc[0] // 3)]
        if high.empty:
            return Prose(f"{self.area} is not among the highest third of districts for any "
                         "crime type.")
        items = [f"{row['crime_type'].lower()} ({ordinal(int(row['rank']))})"
                 for _, row in high.sort_values("rank").iterrows()]
        return Prose(f"{self.area} is among the highest third of districts for "
                     + join(items) + ".")

    @when_available
    def types_table(self) -> Table:
        frame = self.by_type
        focus, county = (f"{self.area} rate per 1,000", f"{self.comparison} rate per 1,000")
        view = pd.DataFrame({
            "Crime type": frame["crime_type"].to_numpy(),
            focus: frame["focus_rate"].to_numpy(),
            county: frame["county_rate"].to_numpy(),
            "Rank (1 = highest)": [f"{r} of {n}" for r, n in zip(frame["rank"], frame["of"],
                                                                   strict=True)],
        })
        return table(view, f"{self.area} and {self.comparison} rates per 1,000 residents by "
                     f"crime type, {self.current.name}", rates=(focus, county))

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        return [rank_sentence(self.area, "recorded crime", self.rank, self.comparison)]

    def funnel_summary(self) -> Block:
        """Whether the focus area lies outside the funnel's 95% / 99.8% limits, and how sure
        its rank is."""
        if self.funnel is None:
            return EMPTY
        parts = [self.funnel.sentence(self.area, "recorded crime rate", self.comparison,
                                      unit=" per 1,000 residents", noun="rate")]
        if self.rank_range is not None:
            parts.append(rank_interval_sentence(self.area, self.rank_range,
                                                allowance=self.rank_allowance))
        return Prose(*parts)

    def funnel_figure(self) -> Block:
        if self.funnel is None:
            return EMPTY
        return self.funnel.figure(
            title=f"Recorded crime per 1,000 residents by district size, {self.current.name}",
            xlabel="Residents", ylabel="Recorded crimes per 1,000 residents",
            caption=f"Funnel plot of recorded crime per 1,000 residents in the districts of "
                    f"{self.comparison} against their population, with 95% (dashed) and 99.8% "
                    f"(solid) control limits around the {self.comparison} rate; {self.area} is "
                    "the larger dark blue point, named on the chart.", area=self.area,
            comparison=self.comparison,
            measure="recorded crimes per 1,000 residents", synthetic=self.synthetic)


@topic
def compute(sa: Assessment) -> Rates:
    caveats = [c for c in (sa.population_caveat(), *sa.area_notes()) if c]
    covered = sa.coverage(sa.current.months, sa.current.name, forces=sa.comparison_forces)
    base = dict(area=sa.focus_name, comparison=sa.comparison_name, kind=sa.comparison_kind,
                caveats=tuple(caveats), synthetic=sa.synthetic)
    if covered.n_usable == 0:
        return Rates(**base, missing=f"Rates cannot be given for {sa.current.name}: none of its "
                     f"months has usable data ({covered.why()}).")
    frames = [sa.monthly(start=run[0].start_time.date(), end=run[-1].end_time.date(),
                         area_codes=list(sa.districts.index)) for run in _runs(covered.usable)]
    monthly = pd.concat(frames, ignore_index=True)
    months_note = ""
    if covered.n_usable < covered.n:
        months_note = (f"Counts cover the {plural(covered.n_usable, 'month')} of the period "
                       f"with usable data ({covered.why()}).")
    population = sa.population["population"]

    def counts(crime_types) -> pd.Series:
        part = monthly[monthly["crime_type"].isin(crime_types)]
        return part.groupby("area_code")["count"].sum()

    rows = []
    for crime_type in (*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR):
        r = rank_area(counts([crime_type]), population, sa.focus_code)
        rows.append({"crime_type": crime_type, "focus_rate": r.rate_per_1000,
                     "county_rate": r.pooled_rate_per_1000, "rank": r.rank, "of": r.of})
    return Rates(
        **base, area_code=sa.focus_code, current=sa.current,
        rank=rank_area(counts(CRIME_TYPES), population, sa.focus_code),
        districts=area_rates(counts(CRIME_TYPES), population).join(sa.districts["area_name"]),
        population=sa.population, by_type=pd.DataFrame(rows), months_note=months_note,
        **_district_comparison(sa, counts(CRIME_TYPES), population))


def _district_comparison(sa: Assessment, crimes: pd.Series, population: pd.Series) -> dict:
    """The funnel plot and rank interval of all recorded crime (fields of :class:`Rates`).

    Each district's count is allowed to vary as much as its own monthly history shows
    (:func:`~smp_analysis.methods.change.estimate_dispersion` over up to five years before
    the period), or as a Poisson count when it has too little history.
    """
    from ..methods.change import TooLittleHistory, estimate_dispersion
    from ._district_funnel import focus_rank_interval

    crimes = crimes.reindex(population.index).fillna(0)
    funnel = funnel_comparison(crimes, population.astype(float), sa.districts["area_name"],
                               sa.focus_code, per=1000)
    first = sa.current.first_month - 60
    history = sa.monthly(start=first.start_time.date(),
                         end=(sa.current.first_month - 1).end_time.date(),
                         area_codes=list(population.index))
    history = history[history["crime_type"].isin(CRIME_TYPES)]
    months = pd.period_range(first, sa.current.first_month - 1, freq="M")
    # months without usable data are missing, never zero (their counts would look like chance)
    usable = sa.coverage(months, "history", forces=sa.comparison_forces).usable
    dispersion, estimated = {}, 0
    for code in population.index:
        part = history[history["area_code"] == code]
        series = part.groupby(part["month"].dt.to_period("M"))["count"].sum()
        series = series.reindex(months).where(months.isin(usable))
        try:
            dispersion[code] = estimate_dispersion(series)
            estimated += 1
        except (TooLittleHistory, ValueError, TypeError):
            dispersion[code] = 1.0
    allowance = ("chance variation in every district's count" if not estimated else
                 "each district's count varying as much as it has from month to month over "
                 "the previous years")
    return {"funnel": funnel, "rank_allowance": allowance,
            "rank_range": focus_rank_interval(crimes, population.astype(float), sa.focus_code,
                                              dispersion=dispersion)}


def _runs(months: pd.PeriodIndex) -> list[pd.PeriodIndex]:
    """Consecutive runs of months (for one query per run).

    >>> [f"{r[0]}..{r[-1]}" for r in _runs(pd.PeriodIndex(["2022-03", "2022-04", "2022-06"],
    ...                                                    freq="M"))]
    ['2022-03..2022-04', '2022-06..2022-06']
    """
    runs, run = [], []
    for month in sorted(months):
        if run and month != run[-1] + 1:
            runs.append(run)
            run = []
        run.append(month)
    if run:
        runs.append(run)
    return [pd.PeriodIndex(r, freq="M") for r in runs]


def rank_sentence(area_name: str, subject: str, result: RankResult, comparison_name: str,
                  *, noun: str = "crimes") -> str:
    """'Maidstone's recorded crime rate of 62.3 crimes per 1,000 residents is the 4th highest
    of the 13 districts in Kent, above the Kent rate of 60.1.'"""
    rank = "the highest" if result.rank == 1 else f"the {ordinal(result.rank)} highest"
    if result.rank == result.of:
        rank = "the lowest"
    relation = "above" if result.above_average else "below"
    if round(result.rate_per_1000, 1) == round(result.pooled_rate_per_1000, 1):
        relation = "the same as"
    return (f"{area_name}'s {subject} rate of {result.rate_per_1000:.1f} {noun} per 1,000 "
            f"residents is {rank} of the {result.of} districts in {comparison_name}, "
            f"{relation} the {comparison_name} rate of {result.pooled_rate_per_1000:.1f}.")


def _rates_alt_text(rates: pd.DataFrame, area: str, pooled: float, comparison: str) -> str:
    items = [f"{row['area_name']} {row['rate_per_1000']:.1f}" for _, row in rates.iterrows()]
    return (f"Bar chart of offences per 1,000 residents by district, highest first, with {area}"
            f" highlighted and the {comparison} rate of {pooled:.1f} marked: "
            + ", ".join(items) + ".")
