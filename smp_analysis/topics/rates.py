"""Chapter: crime rates per 1,000 residents and the focus area's rank among the comparison
districts, for all crime and for each crime type.

Method: :mod:`smp_analysis.methods.rates` (pooled comparison-area rate; rank 1 = highest).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..categories import ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES
from ..methods.ranks import RankInterval
from ..methods.rates import RankResult, area_rates, rank_area
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic
from ..report.markup import EMPTY, Block, Prose
from ..report.tables import Table, table
from ..report.words import join, ordinal
from ._district_funnel import FunnelComparison, funnel_comparison, rank_interval_sentence


@dataclass(frozen=True)
class Rates(TopicResult):
    area: str
    area_code: str
    comparison: str
    current: ReportingPeriod
    rank: RankResult  # all recorded crime
    districts: pd.DataFrame  # area_rates() with area_name, indexed by area code
    population: pd.DataFrame  # population, year, source by area code
    by_type: pd.DataFrame  # crime_type, focus_rate, county_rate, rank, of
    synthetic: bool
    funnel: FunnelComparison | None = None  # all recorded crime, districts on a funnel plot
    rank_range: RankInterval | None = None  # the focus area's 95% rank interval
    rank_allowance: str = "chance variation"  # what the rank interval allows for

    def summary(self) -> Block:
        sources = sorted(set(self.population["source"]))
        return Prose(rank_sentence(self.area, "recorded crime", self.rank, self.comparison),
                     f"Rates use the {join(sources)} for each district.")

    def figure(self) -> charts.Figure:
        return charts.rate_bars(
            self.districts, focus=self.area_code, reference=self.rank.pooled_rate_per_1000,
            title=f"Recorded crime per 1,000 residents, {self.current.name}",
            caption=f"Recorded crime per 1,000 residents by district of {self.comparison}; "
                    f"{self.area} in dark blue, the other districts in grey, the county rate "
                    "dashed.",
            alt=_rates_alt_text(self.districts, self.area, self.rank.pooled_rate_per_1000),
            synthetic=self.synthetic)

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
                    f"(solid) control limits around the {self.comparison} rate; {self.area} in "
                    "orange.", area=self.area, comparison=self.comparison,
            measure="recorded crimes per 1,000 residents", synthetic=self.synthetic)


@topic
def compute(sa: Assessment) -> Rates:
    monthly = sa.monthly(start=sa.current.start, end=sa.current.end,
                         area_codes=list(sa.districts.index))
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
        area=sa.focus_name, area_code=sa.focus_code, comparison=sa.comparison_name,
        current=sa.current, rank=rank_area(counts(CRIME_TYPES), population, sa.focus_code),
        districts=area_rates(counts(CRIME_TYPES), population).join(sa.districts["area_name"]),
        population=sa.population, by_type=pd.DataFrame(rows), synthetic=sa.synthetic,
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
    dispersion, estimated = {}, 0
    for code in population.index:
        part = history[history["area_code"] == code]
        series = part.groupby(part["month"].dt.to_period("M"))["count"].sum()
        try:
            dispersion[code] = estimate_dispersion(series.reindex(months))
            estimated += 1
        except (TooLittleHistory, ValueError, TypeError):
            dispersion[code] = 1.0
    allowance = ("chance variation in every district's count" if not estimated else
                 "each district's count varying as much as it has from month to month over "
                 "the previous years")
    return {"funnel": funnel, "rank_allowance": allowance,
            "rank_range": focus_rank_interval(crimes, population.astype(float), sa.focus_code,
                                              dispersion=dispersion)}


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


def _rates_alt_text(rates: pd.DataFrame, area: str, pooled: float) -> str:
    items = [f"{row['area_name']} {row['rate_per_1000']:.1f}" for _, row in rates.iterrows()]
    return (f"Bar chart of offences per 1,000 residents by district, highest first, with {area}"
            f" highlighted and the county rate of {pooled:.1f} marked: " + ", ".join(items) + ".")
