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
from ..methods.rates import RankResult, area_rates, rank_area
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.markup import Block, Blocks, Notice, Prose
from ..report.tables import Table, table
from ..report.words import join, ordinal, plural


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
                    f"{self.kind}; {self.area} in orange, the {self.comparison} rate dashed.",
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
        population=sa.population, by_type=pd.DataFrame(rows), months_note=months_note)


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
