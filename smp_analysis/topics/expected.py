"""Chapter: actual against anticipated volumes by crime type, from the seasonality of previous
years (Kent's "anticipated volumes"), with the months above the upper bound.

Methods: :mod:`smp_analysis.methods.expected` (Farrington flexible in the calibrated crime-layer
configuration, R surveillance parity, and the seasonal mean for comparison). Months without
usable data (coverage) are left out of every baseline and of the year's comparison; categories
that data.police.uk redefined during the baseline start after the change, or are compared as
harmonised groups when the change is too recent (:mod:`smp_analysis.categories`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from .. import categories
from ..categories import ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES, TOTAL_CRIME
from ..methods.expected import ExpectedVolumes, expected_volumes
from ..params import Options
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.markup import EMPTY, Block, Blocks, Notice, Prose
from ..report.tables import Table, table
from ..report.words import count, join, percent, plural, vs_expected
from ..store import queries

HISTORY_YEARS = 3
METHOD_NAMES = {
    "farrington": "the Farrington flexible method (quasi-Poisson regression on the same months "
                  "of previous years, with the rest of each year as a seasonal factor, R "
                  "surveillance::farringtonFlexible)",
    "seasonal_mean": "the seasonal mean of previous years scaled to last year's level"}


@dataclass(frozen=True)
class Expected(TopicResult):
    area: str
    current: ReportingPeriod | None = None
    options: Options | None = None
    volumes: ExpectedVolumes | None = None  # the chosen method, assessment period
    other: ExpectedVolumes | None = None  # the other method, for comparison
    history: pd.DataFrame | None = None  # monthly results of this and earlier years
    category_notes: tuple[str, ...] = ()
    synthetic: bool = False

    def summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        notes = [Notice(n, "warning") for n in self.category_notes]
        return Blocks(Prose(self._method_note(), self._sentence()), *notes)

    @when_available
    def intro(self) -> Block:
        """The chapter's opening: what the comparison is, in the words of this assessment."""
        years = self.options.expected_years if self.options else 5
        return Prose(
            "Each month's recorded crime is compared with the volume anticipated from the same "
            f"time of year in up to {plural(years, 'previous year')} (the Farrington method "
            "used in public-health surveillance, which allows for seasonality, a trend where "
            "there is a clear one, and past unusual months). A month is marked when its count "
            "is above the expected range: higher than the usual variation around the "
            "anticipated volume would explain, which is a prompt to look closer, not proof.")

    @when_available
    def annual_table(self) -> Table:
        annual = self.volumes.annual
        view = pd.DataFrame({
            "Category": annual["crime_type"], "Actual": annual["observed"],
            "Anticipated": annual["expected"].round(),
            "% vs anticipated": annual["percent_vs_expected"],
            "Months compared": [f"{m} of {n}" for m, n in zip(annual["months"], annual["of"],
                                                               strict=True)],
            "Months above the expected range": annual["months_above"]})
        return table(view, f"{self.area}, actual and anticipated volumes, {self.current.name}"
                     + self._months_caption(),
                     counts=("Actual", "Anticipated", "Months above the expected range"),
                     percents=("% vs anticipated",))

    @when_available
    def figure(self) -> charts.Figure:
        return charts.expected_grid(
            self.history, period=self.current,
            title=f"{self.area}: actual and anticipated monthly volumes",
            caption="Monthly actual volumes (black) against anticipated volumes (dashed), with "
                    "the band up to the upper bound shaded and months above it in orange; the grey "
                    "line marks the start of the assessment period; gaps are months without "
                    "usable data.",
            alt=self._alt_text(), synthetic=self.synthetic)

    @when_available
    def exceedance_table(self) -> Block:
        monthly = self.volumes.monthly
        above = monthly[monthly["exceeds"]].sort_values(["crime_type", "month"])
        if above.empty:
            return Prose("No month of the assessment period was above its expected range.")
        view = pd.DataFrame({
            "Category": above["crime_type"],
            "Month": [f"{m:%B %Y}" for m in above["month"]],
            "Actual": above["observed"], "Anticipated": above["expected"].round(),
            "Upper bound": above["upperbound"].round(1),
            "% above anticipated": 100 * (above["observed"] / above["expected"] - 1)})
        return table(view, f"Months in {self.current.name} above the expected range",
                     counts=("Actual", "Anticipated"), rates=("Upper bound",),
                     percents=("% above anticipated",))

    @when_available
    def methods_table(self) -> Block:
        chosen, other = self.volumes, self.other
        if other is None:
            return EMPTY
        both = chosen.monthly.merge(other.monthly, on=["crime_type", "month"],
                                    suffixes=("_a", "_b"))
        both = both[(both["status_a"] == "ok") & (both["status_b"] == "ok")]
        sums = both.groupby("crime_type", sort=False).agg(
            observed=("observed_a", "sum"), expected_a=("expected_a", "sum"),
            expected_b=("expected_b", "sum"), months=("month", "size"))
        sums = sums.reindex([t for t in chosen.annual["crime_type"] if t in sums.index])
        view = pd.DataFrame({
            "Category": sums.index, "Actual": sums["observed"].to_numpy(),
            f"Anticipated ({chosen.method})": sums["expected_a"].round().to_numpy(),
            f"Anticipated ({other.method})": sums["expected_b"].round().to_numpy()})
        months = set(sums["months"])
        scope = ("" if months == {self.current.n_months} else
                 " (over the months where both methods have a value and the data are usable: "
                 + ", ".join(sorted({f"{m} of {self.current.n_months}" for m in months})) + ")")
        return table(view, "Anticipated volumes for the year under both methods" + scope,
                     counts=tuple(view.columns[1:]))

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        return [self._total_sentence() or self._categories_sentence()]

    def _months_caption(self) -> str:
        annual = self.volumes.annual
        if (annual["months"] == annual["of"]).all():
            return ""
        return " (months without usable data are left out of both columns)"

    def _method_note(self) -> str:
        volumes, options = self.volumes, self.options
        years = max(volumes.years_used.values()) if volumes.years_used else 0
        text = (f"Anticipated volumes use {METHOD_NAMES[volumes.method]}, with up to "
                f"{plural(years, 'year')} of history.")
        if volumes.method == "farrington":
            text += (" The expected range is calibrated so that, in simulations of series like "
                     f"these with no real change, at most {100 * options.alpha:.0f}% of months "
                     "fall above it by chance.")
        else:
            text += (f" The upper bound is the one-sided {100 * (1 - options.alpha):.0f}% "
                     "limit.")
        for exclusion in options.baseline_exclusions:
            text += (f" {exclusion.start:%B %Y} to {exclusion.end:%B %Y} are left out of the "
                     f"baselines ({exclusion.reason}).")
        # the exclusions were described above with their reasons; keep the other notes
        extra = [n for n in volumes.notes if "are left out of the baselines:" not in n]
        return " ".join([text, *extra])

    def _scope(self, row) -> str:
        if row["months"] == row["of"]:
            return ""
        return f" over the {plural(int(row['months']), 'month')} with usable data"

    def _total_sentence(self) -> str:
        rows = self.volumes.annual.set_index("crime_type")
        if TOTAL_CRIME not in rows.index or rows.loc[TOTAL_CRIME, "months"] == 0:
            return ""
        r = rows.loc[TOTAL_CRIME]
        return (f"{TOTAL_CRIME} was {count(r['observed'])} offences{self._scope(r)}, "
                f"{vs_expected(r['percent_vs_expected'])} the anticipated "
                f"{count(round(r['expected']))}.")

    def _categories_sentence(self) -> str:
        types = self.volumes.annual.set_index("crime_type").drop(index=[TOTAL_CRIME],
                                                                 errors="ignore")
        types = types[types["months"] > 0]
        above = types[types["percent_vs_expected"] > 0].sort_values("percent_vs_expected",
                                                                      ascending=False)
        most = (", most of all " + join([f"{t.lower()} ({percent(v)} above)" for t, v in
                                         above["percent_vs_expected"].head(3).items()])
                if len(above) else "")
        return (f"{len(above)} of {len(types)} categories were above their anticipated volume "
                f"for the year{most}.")

    def _gaps_sentence(self) -> str:
        monthly = self.volumes.monthly
        gaps = monthly[monthly["status"].isin(["no data", "incomplete"])]
        if gaps.empty:
            return ""
        months = sorted(set(gaps["month"]))
        status = dict(zip(gaps["month"], gaps["status"], strict=False))
        parts = [f"{m:%B %Y} ({'no data' if status[m] == 'no data' else 'marked incomplete'})"
                 for m in months]
        return (f"{join(parts)} {'is' if len(months) == 1 else 'are'} left out of the "
                "comparison for the year, which runs over the remaining months.")

    def _sentence(self) -> str:
        lines = [self._total_sentence(), self._categories_sentence(), self._gaps_sentence()]
        flagged = self.volumes.monthly[self.volumes.monthly["exceeds"]]
        checks = self.volumes.checks
        if len(flagged):
            months = flagged.groupby("crime_type")["month"].apply(
                lambda m: join([f"{x:%B %Y}" for x in sorted(m)]))
            lines.append("Months above the expected range: "
                         + "; ".join(f"{t.lower()} in {m}" for t, m in months.items()) + ".")
        else:
            lines.append("No month was above its expected range.")
        if self.volumes.method == "farrington" and checks:
            chance = self.volumes.chance_flags
            lines.append(
                f"Across the {count(checks)} month-and-category checks, chance alone would put "
                f"about {chance:.0f} above their range even with no real change, so a flag is a "
                "prompt to look closer, not proof of a real rise.")
        return " ".join(line for line in lines if line)

    def _alt_text(self) -> str:
        parts = []
        for crime_type, part in self.history.groupby("crime_type", sort=False):
            parts.append(f"{crime_type}: {count(part['observed'].sum())} actual against "
                         f"{count(round(part['expected'].sum()))} anticipated, "
                         f"{plural(int(part['exceeds'].sum()), 'month')} above the upper bound")
        return (f"Small-multiple line charts, one per crime category, of monthly actual and "
                f"anticipated volumes in {self.area} with the upper bound shaded. "
                + "; ".join(parts) + ".")


@topic
def compute(sa: Assessment) -> Expected:
    method = sa.options.expected_method
    try:
        volumes, notes = _volumes(sa, sa.current, method)
    except ValueError as exc:  # too little history for any baseline, or no data at all
        return Expected(area=sa.focus_name, missing=f"Anticipated volumes cannot be "
                        f"calculated for this assessment: {exc}.")
    history, period = [volumes.monthly], sa.current.preceding()
    for _ in range(HISTORY_YEARS - 1):
        try:
            history.append(_volumes(sa, period, method)[0].monthly)
        except ValueError:
            break
        period = period.preceding()
    other_method = "seasonal_mean" if method == "farrington" else "farrington"
    try:
        other = _volumes(sa, sa.current, other_method)[0]
    except ValueError:
        other = None
    return Expected(area=sa.focus_name, current=sa.current, options=sa.options,
                    volumes=volumes, other=other,
                    history=pd.concat(history[::-1], ignore_index=True),
                    category_notes=tuple(notes), synthetic=sa.synthetic)


ORDER = {t: i for i, t in enumerate((TOTAL_CRIME, *CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR))}


def _series_labels(sa: Assessment, period: ReportingPeriod) -> tuple[dict, dict, list[str]]:
    """Each type's series label (itself, or a harmonised group when a category change is too
    recent for a year of baseline after it), each label's first month, and notes saying so."""
    years = sa.options.expected_years
    earliest = period.first_month - 12 * years - 1
    changes = categories.changes_between(sa.category_changes, earliest, period.last_month)
    if not changes:
        return {}, {}, []
    recent = [c for c in changes if c.month > period.first_month - 13]
    labels = categories.harmonised_groups((*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR), recent)
    starts, shortened = {}, {}
    for label in set(labels.values()) | {TOTAL_CRIME}:
        members = [t for t, g in labels.items() if g == label] or list(CRIME_TYPES)
        start = categories.series_start(members, changes, period.last_month)
        if start is not None:
            starts[label] = start
            shortened.setdefault(start, []).append(label)
    notes = []
    for start, names in sorted(shortened.items()):
        notes.append(f"Because data.police.uk changed its crime categories in {start:%B %Y}, "
                     f"the baselines of {join(sorted(n.lower() for n in names))} start then: "
                     "earlier months counted different offences under these names.")
    grouped = sorted({g for t, g in labels.items() if g != t})
    if grouped:
        notes.append(f"The category change of {join([c.name for c in recent])} is less than a "
                     "year before the period, too recent for a baseline after it, so the "
                     "categories it redefined are compared as harmonised groups that mean the "
                     "same on both sides of it: " + "; ".join(grouped) + ".")
    return labels, starts, notes


def _all_months(sa: Assessment) -> tuple:
    """The focus area's monthly counts from the first stored month to the period's end (one
    query, shared by every period and method)."""
    def query():
        first, _ = queries.data_span(sa.con)
        return first, sa.monthly(start=first, end=sa.current.end, area_codes=[sa.focus_code])
    return sa.cached(("expected", "all months"), query)


def _volumes(sa: Assessment, period: ReportingPeriod, method: str
             ) -> tuple[ExpectedVolumes, list[str]]:
    """Actual vs anticipated volumes by crime type (and total crime) for the focus area."""
    first, monthly = _all_months(sa)
    monthly = monthly[monthly["month"] <= pd.Timestamp(period.end)]
    labels, starts, notes = _series_labels(sa, period)
    if labels:
        monthly = monthly.assign(crime_type=monthly["crime_type"].map(labels).fillna(
            monthly["crime_type"]))
    crimes = monthly[monthly["crime_type"] != ANTI_SOCIAL_BEHAVIOUR]
    total = crimes.groupby("month", as_index=False)["count"].sum().assign(crime_type=TOTAL_CRIME)
    span = pd.period_range(pd.Period(first, "M"), period.last_month, freq="M")
    coverage = sa.coverage(span)
    options = sa.options
    result = expected_volumes(pd.concat([total, monthly], ignore_index=True), period=period,
                              method=method, years=options.expected_years,
                              exclude=[str(m) for m in sa.baseline_excluded],
                              alpha=options.alpha, unusable=[str(m) for m in coverage.unusable],
                              series_start=starts)

    def by_type(s: pd.Series) -> pd.Series:
        return s.map(lambda t: ORDER.get(t, len(ORDER))) if s.name == "crime_type" else s

    return replace(
        result,
        monthly=result.monthly.sort_values(["crime_type", "month"], key=by_type,
                                           kind="stable").reset_index(drop=True),
        annual=result.annual.sort_values("crime_type", key=by_type,
                                         kind="stable").reset_index(drop=True)), notes
