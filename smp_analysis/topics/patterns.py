"""Chapter: patterns over time: seasonality by crime type and ASB, and multi-year trends
(three- and five-year annual totals, the trend test, whether growth is speeding up or slowing
down, the pre-pandemic comparison, the comparison area's own change, and the focus area's rank
by volume and by rate).

Methods: :mod:`smp_analysis.methods.seasonality`, :mod:`smp_analysis.methods.trend`,
:func:`smp_analysis.methods.change.compare_counts` with
:func:`~smp_analysis.methods.change.fit_dispersion`, and
:func:`~smp_analysis.methods.multiple_testing.benjamini_hochberg` across series. Years are the
assessment period and the same calendar months of earlier years; every comparison counts only
the months usable in all the years compared (:func:`comparable_months`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..categories import TOTAL_CRIME, with_groups
from ..methods.change import TooLittleHistory, compare_counts, fit_dispersion
from ..methods.multiple_testing import benjamini_hochberg
from ..methods.seasonality import TooLittleHistory as TooShortForSeasons
from ..methods.seasonality import describe_pattern, month_names, seasonality
from ..methods.trend import annual_trend, growth_change
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic
from ..report.markup import EMPTY, Block, Blocks, Bullets, Notice, Prose
from ..report.tables import Table, table
from ..report.words import count, plural
from . import _pattern_words as words
from ._years import (
    GROUPS,
    SERIES,
    comparable_months,
    months_with_data,
    series_by_month,
    shift,
    short_name,
    totals,
    usable_months,
)

PANDEMIC_START = pd.Period("2020-03", "M")  # first national lockdown: 23 March 2020


# ------------------------------------------------------------------ the result


@dataclass(frozen=True)
class Patterns(TopicResult):
    area: str
    comparison: str = ""
    current: ReportingPeriod | None = None
    years: tuple[str, ...] = ()  # short names, oldest first
    months_compared: int = 0  # months counted in each year
    annual: pd.DataFrame | None = None  # series x years
    comparison_annual: pd.DataFrame | None = None  # the comparison area, same shape
    trends: pd.DataFrame | None = None  # per series: trend, CI, p, p_adjusted, growth...
    seasons: pd.DataFrame | None = None  # per series: p, p_adjusted, peaks, ratio, verdict
    season_effects: pd.DataFrame | None = None  # series x calendar month ratios
    seasons_missing: str | None = None
    seasons_window: str = ""
    pandemic: pd.DataFrame | None = None  # change_table-like rows against the 2019 months
    pandemic_name: str = ""
    ranks: pd.DataFrame | None = None  # by volume and by rate, this and the previous year
    synthetic: bool = False

    # ---------------------------------------------------------------- trends
    def trend_summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        return Prose(*[s for s in (self.three_year_sentence(), self.five_year_sentence(),
                                   self.growth_sentence(), self.comparison_sentence()) if s])

    def three_year_sentence(self) -> str:
        total = self.annual.loc[TOTAL_CRIME]
        return words.three_years(f"recorded crime in {self.area}", total.iloc[-3:])

    def five_year_sentence(self) -> str:
        if len(self.years) < 4:
            return ""
        row = self.trends.loc[TOTAL_CRIME]
        return words.trend(f"recorded crime in {self.area}", len(self.years), self.years,
                           row["annual_change"], row["ci_low"], row["ci_high"], row["p_value"],
                           row["p_value"] < self.alpha)

    def growth_sentence(self) -> str:
        row = self.trends.loc[TOTAL_CRIME]
        return words.growth("Recorded crime", self.years[-3:], row["previous_change"],
                            row["latest_change"], row["growth_p"], row["growth_p"] < self.alpha)

    def comparison_sentence(self) -> str:
        if self.comparison_annual is None or self.comparison_annual.empty:
            return ""
        focus, other = self.annual.loc[TOTAL_CRIME], self.comparison_annual.loc[TOTAL_CRIME]
        return words.beside(self.area, self.comparison, self.years, focus, other)

    @property
    def alpha(self) -> float:
        return 0.05 if self.trends is None else float(self.trends.attrs.get("alpha", 0.05))

    def trend_table(self) -> Table:
        if self.missing:
            return EMPTY
        view = pd.DataFrame({"Category": list(self.annual.index)})
        for year in self.years:
            view[year] = self.annual[year].to_numpy()
        t = self.trends.reindex(self.annual.index)
        view["Average change a year"] = (100 * t["annual_change"]).to_numpy()
        view["Trend clear?"] = ["Yes" if s else "No" for s in t["significant"]]
        view["p-value (adjusted)"] = t["p_adjusted"].to_numpy()
        return table(view, f"{self.area}: offences and ASB incidents in the same "
                     f"{self.months_compared} months of each year", counts=tuple(self.years),
                     percents=("Average change a year",), p_values=("p-value (adjusted)",))

    def trend_figure(self) -> Block:
        if self.missing:
            return EMPTY
        frame = self.annual.loc[list(GROUPS)]
        items = [f"{name}: " + ", ".join(f"{count(v)} in {y}" for y, v in row.items())
                 for name, row in frame.iterrows()]
        return charts.annual_lines(
            frame, title=f"{self.area}: offences and ASB incidents a year",
            caption=f"Annual totals in {self.area}, counting the same months in each year.",
            alt="Line chart of annual totals. " + "; ".join(items) + ".",
            synthetic=self.synthetic)

    def growth_table(self) -> Table:
        if self.missing:
            return EMPTY
        t = self.trends.reindex(self.annual.index)
        view = pd.DataFrame({
            "Category": list(t.index),
            f"Change to {self.years[-2]}": (100 * t["previous_change"]).to_numpy(),
            f"Change to {self.years[-1]}": (100 * t["latest_change"]).to_numpy(),
            "Growth": t["growth"].to_numpy(),
            "p-value (adjusted)": t["growth_p"].to_numpy()})
        return table(view, f"{self.area}: is the change speeding up or slowing down?",
                     percents=(f"Change to {self.years[-2]}", f"Change to {self.years[-1]}"),
                     p_values=("p-value (adjusted)",))

    def comparison_table(self) -> Table:
        if self.missing or self.comparison_annual is None:
            return EMPTY
        first, last = self.years[0], self.years[-1]
        prev = self.years[-2]

        def pct(frame, a, b):
            return (100 * (frame[b] / frame[a].where(frame[a] > 0) - 1)).to_numpy()

        view = pd.DataFrame({
            "Category": list(GROUPS),
            f"{self.area}: change on {prev}": pct(self.annual.loc[list(GROUPS)], prev, last),
            f"{self.comparison}: change on {prev}": pct(
                self.comparison_annual.loc[list(GROUPS)], prev, last),
            f"{self.area}: change since {first}": pct(self.annual.loc[list(GROUPS)], first,
                                                       last),
            f"{self.comparison}: change since {first}": pct(
                self.comparison_annual.loc[list(GROUPS)], first, last)})
        return table(view, f"{self.area} beside {self.comparison}",
                     percents=tuple(view.columns[1:]))

    def rank_summary(self) -> Block:
        if self.missing or self.ranks is None:
            return EMPTY
        return Prose(words.ranks(self.area, self.comparison, self.ranks, self.years[-2:]))

    def rank_table(self) -> Table:
        if self.missing or self.ranks is None:
            return EMPTY
        r = self.ranks
        view = pd.DataFrame({
            "Category": list(r.index),
            f"Rank by volume, {self.years[-1]}": r["volume_rank"].to_numpy(),
            f"Rank by volume, {self.years[-2]}": r["volume_rank_previous"].to_numpy(),
            f"Rank by rate, {self.years[-1]}": r["rate_rank"].to_numpy(),
            f"Rank by rate, {self.years[-2]}": r["rate_rank_previous"].to_numpy(),
            f"Rate per 1,000, {self.years[-1]}": r["rate"].to_numpy()})
        return table(view, f"{self.area}'s rank among the {int(r['of'].iloc[0])} districts of "
                     f"{self.comparison} (1 = highest)", rates=(view.columns[-1],))

    # ---------------------------------------------------------------- pre-pandemic
    def pandemic_summary(self) -> Block:
        if self.missing or self.pandemic is None:
            return EMPTY
        row = self.pandemic.loc[TOTAL_CRIME]
        return Prose(words.pandemic(self.area, self.pandemic_name, row),
                     words.pandemic_types(self.pandemic))

    def pandemic_table(self) -> Table:
        if self.missing or self.pandemic is None:
            return EMPTY
        p = self.pandemic
        view = pd.DataFrame({
            "Category": list(p.index), self.pandemic_name: p["previous"].to_numpy(),
            self.years[-1]: p["current"].to_numpy(), "% change": p["percent_change"].to_numpy(),
            "More than chance?": ["Yes" if s else "No" for s in p["significant"]],
            "p-value (adjusted)": p["p_adjusted"].to_numpy()})
        return table(view, f"{self.area}: the assessment year against the same months before "
                     "the pandemic", counts=(self.pandemic_name, self.years[-1]),
                     percents=("% change",), p_values=("p-value (adjusted)",))

    # ---------------------------------------------------------------- seasonality
    def seasonality_summary(self) -> Block:
        if self.missing:
            return EMPTY  # the chapter's first section already says why
        if self.seasons is None:
            return Notice(self.seasons_missing, "unavailable")
        s = self.seasons
        clear = s[s["seasonal"]]
        lines = [f"{name}: {row['verdict']}." for name, row in s.iterrows()]
        lead = (f"Seasonal patterns are tested on {self.seasons_window}. "
                f"{len(clear)} of the {len(s)} series show a clear seasonal pattern once "
                "trend, over-dispersion and the number of series tested are allowed for.")
        return Blocks(Prose(lead), Bullets(lines))

    def seasonality_table(self) -> Table:
        if self.missing or self.seasons is None:
            return EMPTY
        s = self.seasons
        view = pd.DataFrame({
            "Category": list(s.index), "Months used": s["months"].to_numpy(),
            "Seasonal?": ["Yes" if v else "No" for v in s["seasonal"]],
            "Peak months": [month_names(m) if m else "–" for m in s["peak_months"]],
            "Highest month vs average": (100 * (s["peak_ratio"] - 1)).to_numpy(),
            "p-value (adjusted)": s["p_adjusted"].to_numpy()})
        return table(view, f"{self.area}: seasonal patterns, {self.seasons_window}",
                     counts=("Months used",), percents=("Highest month vs average",),
                     p_values=("p-value (adjusted)",))

    def seasonality_figure(self) -> Block:
        if self.missing or self.season_effects is None:
            return EMPTY
        clear = self.seasons[self.seasons["seasonal"]]
        items = [f"{name} {row['verdict']}" for name, row in clear.iterrows()]
        return charts.seasonal_heatmap(
            self.season_effects, title=f"{self.area}: each month against the average month",
            caption="Fitted level of each calendar month as a percentage above or below the "
                    "average month (trend removed); series without a clear seasonal pattern "
                    "are marked with an asterisk.",
            alt=("Heat map of month-of-year effects by category. "
                 + ("; ".join(items) if items else "No series has a clear seasonal pattern")
                 + "."),
            clear=list(clear.index), synthetic=self.synthetic)

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        out = [self.three_year_sentence()]
        if self.seasons is not None and TOTAL_CRIME in self.seasons.index:
            out.append(f"Seasonality: recorded crime in {self.area} "
                       f"{self.seasons.loc[TOTAL_CRIME, 'verdict']}.")
        return out


# ------------------------------------------------------------------ compute


# ------------------------------------------------------------------ compute


def _adjusted(p_values: pd.Series) -> pd.Series:
    """BH-adjusted p-values within two families: the groups, and the crime types (with
    ASB); the chapter's sentences and tables quote these."""
    out = pd.Series(math.nan, index=p_values.index)
    for family in (list(GROUPS), [s for s in p_values.index if s not in GROUPS]):
        members = [s for s in family if s in p_values.index]
        out[members] = benjamini_hochberg(p_values[members].to_numpy(dtype=float))
    return out


def _dispersion(history: pd.Series) -> tuple[float, float]:
    try:
        fit = fit_dispersion(history)
    except TooLittleHistory:
        return math.nan, math.nan
    return fit.dispersion, float(fit.df)


def _excluded(sa: Assessment) -> set:
    return {pd.Period(m, "M") for e in sa.options.baseline_exclusions for m in e.months()}


@topic
def compute(sa: Assessment) -> Patterns:
    o = sa.options
    present = months_with_data(sa)
    years: list[ReportingPeriod] = []
    for k in range(o.trend_years):
        year = shift(sa.current, -12 * k)
        if not any(m in present for m in year.months):
            break
        years.insert(0, year)
    if len(years) < 3:
        return Patterns(area=sa.focus_name, missing=(
            f"Trends need the same months in at least three years; the data for "
            f"{sa.focus_name} cover {plural(len(years), 'year')} ending {sa.current.end:%B %Y}."))
    months = comparable_months(sa, years)
    if len(months[0]) == 0:
        return Patterns(area=sa.focus_name, missing=(
            "No calendar month has data in every one of the years compared, so the years "
            "cannot be compared like for like."))
    monthly = sa.monthly(start=years[0].start, end=sa.current.end,
                         area_codes=list(sa.districts.index))
    focus = series_by_month(monthly[monthly["area_code"] == sa.focus_code])
    county = series_by_month(monthly)
    names = [short_name(y) for y in years]
    annual = pd.DataFrame({n: totals(focus, m) for n, m in zip(names, months, strict=True)})
    county_annual = pd.DataFrame({n: totals(county, m) for n, m in
                                  zip(names, months, strict=True)})
    window = pd.period_range(years[0].first_month, sa.current.last_month, freq="M")
    usable = [m for m in window if m in usable_months(sa) and m not in _excluded(sa)]
    monthly_series = focus.reindex(window).where(pd.Series(window.isin(usable), index=window),
                                                 axis=0)
    history = monthly_series[monthly_series.index < sa.current.first_month]
    trends = _trends(annual, history, o.alpha)
    seasons, effects, seasons_missing = _seasons(monthly_series, o.alpha)
    pandemic, pandemic_name = _pandemic(sa, focus, history)
    return Patterns(
        area=sa.focus_name, comparison=sa.comparison_name, current=sa.current,
        years=tuple(names), months_compared=len(months[0]), annual=annual,
        comparison_annual=county_annual, trends=trends, seasons=seasons,
        season_effects=effects, seasons_missing=seasons_missing,
        seasons_window=f"{len(usable)} months from {window[0]:%B %Y} to {window[-1]:%B %Y}",
        pandemic=pandemic, pandemic_name=pandemic_name,
        ranks=_ranks(sa, monthly, years[-2:]), synthetic=sa.synthetic)


def _trends(annual: pd.DataFrame, history: pd.DataFrame, alpha: float) -> pd.DataFrame:
    rows = {}
    for name, values in annual.iterrows():
        trend = annual_trend(values, alpha=alpha)
        phi, df = _dispersion(history[name])
        y0, y1, y2 = values.iloc[-3:].astype(int)
        if math.isnan(phi):
            growth_p, previous, latest, direction = math.nan, math.nan, math.nan, "–"
        else:
            g = growth_change(y0, y1, y2, dispersion=phi, dispersion_df=df, alpha=alpha)
            growth_p, previous, latest = g.p_value, g.previous_change, g.latest_change
            direction = g.direction
        rows[name] = {"annual_change": trend.annual_change, "ci_low": trend.ci_low,
                      "ci_high": trend.ci_high, "p_value": trend.p_value,
                      "previous_change": previous, "latest_change": latest,
                      "growth_p": growth_p, "growth": direction}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["p_adjusted"] = _adjusted(table["p_value"])
    table["significant"] = (table["p_adjusted"] < alpha).fillna(False)
    table["growth_p"] = _adjusted(table["growth_p"])
    table.loc[table["growth_p"] >= alpha, "growth"] = "no clear change"
    table.attrs["alpha"] = alpha
    return table


def _seasons(monthly_series: pd.DataFrame, alpha: float):
    from ..methods.seasonality import check_history

    try:
        check_history(monthly_series[TOTAL_CRIME])
    except TooShortForSeasons as exc:
        return None, None, f"Seasonal patterns cannot be tested: {exc}."
    rows, effects = {}, {}
    for name in monthly_series.columns:
        r = seasonality(monthly_series[name], alpha=alpha)
        rows[name] = {"p_value": r.p_value, "peak_months": r.peak_months,
                      "peak_ratio": r.peak_ratio, "months": r.months}
        effects[name] = r.effects
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["p_adjusted"] = _adjusted(table["p_value"])
    table["seasonal"] = (table["p_adjusted"] < alpha).fillna(False)
    table["verdict"] = [describe_pattern(s, m, r) for s, m, r in
                        zip(table["seasonal"], table["peak_months"], table["peak_ratio"],
                            strict=True)]
    return table, pd.DataFrame(effects).T, None


def _pandemic(sa: Assessment, focus: pd.DataFrame, history: pd.DataFrame):
    """The assessment period against the same months before the first lockdown."""
    if sa.current.first_month <= PANDEMIC_START:
        return None, ""
    k = 1
    while shift(sa.current, -12 * k).last_month > PANDEMIC_START:
        k += 1
    before = shift(sa.current, -12 * k)
    now_months, before_months = comparable_months(sa, [sa.current, before])
    if len(before_months) == 0:
        return None, ""
    monthly = sa.monthly(start=before.start, end=before.end, area_codes=[sa.focus_code])
    previous = totals(series_by_month(monthly), before_months) if len(monthly) else None
    if previous is None or previous.sum() == 0:
        return None, ""
    current = totals(focus, now_months)
    rows = {}
    for name in SERIES:
        phi, df = _dispersion(history[name])
        r = compare_counts(int(current[name]), int(previous[name]), alpha=sa.options.alpha,
                           dispersion=1.0 if math.isnan(phi) else phi,
                           dispersion_df=math.inf if math.isnan(df) else df)
        rows[name] = {"previous": r.previous, "current": r.current, "change": r.change,
                      "percent_change": r.percent_change, "p_value": r.p_value}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["p_adjusted"] = _adjusted(table["p_value"])
    table["significant"] = (table["p_adjusted"] < sa.options.alpha).fillna(False)
    return table, short_name(before)


def _ranks(sa: Assessment, monthly: pd.DataFrame, pair: list[ReportingPeriod]):
    """Rank by volume and by rate among the comparison districts, this and last year."""
    from ..methods.rates import area_rates
    from ..store import queries

    before, now = comparable_months(sa, pair)
    frame = monthly.assign(month=pd.PeriodIndex(pd.to_datetime(monthly["month"]), freq="M"))
    result = {}
    for label, months, period in (("", now, pair[1]), ("_previous", before, pair[0])):
        part = frame[frame["month"].isin(months)]
        population = queries.population(sa.con, area_codes=list(sa.districts.index),
                                        year=sa.population_year(period)).set_index(
            "area_code")["population"]
        for name in GROUPS:
            rows = with_groups(part)
            counts = rows[rows["group"] == name].groupby("area_code")["count"].sum()
            rates = area_rates(counts.reindex(population.index, fill_value=0), population)
            volume = rates["count"].rank(ascending=False, method="min").astype(int)
            entry = result.setdefault(name, {"of": len(rates)})
            entry[f"volume_rank{label}"] = int(volume[sa.focus_code])
            entry[f"rate_rank{label}"] = int(rates.loc[sa.focus_code, "rank"])
            if not label:
                entry["rate"] = float(rates.loc[sa.focus_code, "rate_per_1000"])
    return pd.DataFrame.from_dict(result, orient="index")
