"""Chapter: actual against anticipated volumes by crime type, from the seasonality of previous
years (Kent's "anticipated volumes"), with the months above the upper bound.

Methods: :mod:`smp_analysis.methods.expected` (Farrington flexible, R surveillance parity, and
the seasonal mean for comparison).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from ..categories import ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES, TOTAL_CRIME
from ..methods.expected import ExpectedVolumes, expected_volumes
from ..params import Options
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.markup import Block, Prose
from ..report.tables import Table, table
from ..report.words import count, join, percent, plural, vs_expected
from ..store import queries

HISTORY_YEARS = 3
METHOD_NAMES = {
    "farrington": "the Farrington flexible method (quasi-Poisson regression on the same months "
                  "of previous years, R surveillance::farringtonFlexible)",
    "seasonal_mean": "the seasonal mean of previous years scaled to last year's level"}


@dataclass(frozen=True)
class Expected(TopicResult):
    area: str
    current: ReportingPeriod | None = None
    options: Options | None = None
    volumes: ExpectedVolumes | None = None  # the chosen method, assessment period
    other: ExpectedVolumes | None = None  # the other method, for comparison
    history: pd.DataFrame | None = None  # monthly results of this and earlier years
    synthetic: bool = False

    def summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        return Prose(self._method_note(), self._sentence())

    @when_available
    def annual_table(self) -> Table:
        annual = self.volumes.annual
        view = pd.DataFrame({
            "Category": annual["crime_type"], "Actual": annual["observed"],
            "Anticipated": annual["expected"].round(),
            "% vs anticipated": annual["percent_vs_expected"],
            "Months above upper bound": annual["months_above"]})
        return table(view, f"{self.area}, actual and anticipated volumes, {self.current.name}",
                     counts=("Actual", "Anticipated", "Months above upper bound"),
                     percents=("% vs anticipated",))

    @when_available
    def figure(self) -> charts.Figure:
        return charts.expected_grid(
            self.history, period=self.current,
            title=f"{self.area}: actual and anticipated monthly volumes",
            caption="Monthly actual volumes (black) against anticipated volumes (dashed), with "
                    "the band up to the upper bound shaded and months above it in orange; the grey "
                    "line marks the start of the assessment period.",
            alt=self._alt_text(), synthetic=self.synthetic)

    @when_available
    def exceedance_table(self) -> Table:
        monthly = self.volumes.monthly
        above = monthly[monthly["exceeds"]].sort_values(["crime_type", "month"])
        view = pd.DataFrame({
            "Category": above["crime_type"],
            "Month": [f"{m:%B %Y}" for m in above["month"]],
            "Actual": above["observed"], "Anticipated": above["expected"].round(),
            "Upper bound": above["upperbound"].round(1),
            "% above anticipated": 100 * (above["observed"] / above["expected"] - 1)})
        return table(view, f"Months in {self.current.name} above the upper bound",
                     counts=("Actual", "Anticipated"), rates=("Upper bound",),
                     percents=("% above anticipated",))

    @when_available
    def methods_table(self) -> Table:
        chosen, other = self.volumes, self.other
        merged = chosen.annual.merge(other.annual, on="crime_type", suffixes=("_a", "_b"))
        view = pd.DataFrame({
            "Category": merged["crime_type"], "Actual": merged["observed_a"],
            f"Anticipated ({chosen.method})": merged["expected_a"].round(),
            f"Anticipated ({other.method})": merged["expected_b"].round()})
        return table(view, "Anticipated volumes for the year under both methods",
                     counts=tuple(view.columns[1:]))

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        return [self._total_sentence() or self._categories_sentence()]

    def _method_note(self) -> str:
        volumes, options = self.volumes, self.options
        years = max(volumes.years_used.values()) if volumes.years_used else 0
        text = (f"Anticipated volumes use {METHOD_NAMES[volumes.method]}, with "
                f"{plural(years, 'year')} of history; the upper bound is the one-sided "
                f"{100 * (1 - options.alpha):.0f}% limit.")
        for exclusion in options.baseline_exclusions:
            text += (f" {exclusion.start:%B %Y} to {exclusion.end:%B %Y} are left out of the "
                     f"baselines ({exclusion.reason}).")
        # the exclusions were described above with their reasons; keep the other notes
        extra = [n for n in volumes.notes if "left out of the baselines" not in n]
        return " ".join([text, *extra])

    def _total_sentence(self) -> str:
        rows = self.volumes.annual.set_index("crime_type")
        if TOTAL_CRIME not in rows.index:
            return ""
        r = rows.loc[TOTAL_CRIME]
        return (f"{TOTAL_CRIME} was {count(r['observed'])} offences, "
                f"{vs_expected(r['percent_vs_expected'])} the anticipated "
                f"{count(round(r['expected']))}.")

    def _categories_sentence(self) -> str:
        types = self.volumes.annual.set_index("crime_type").drop(index=[TOTAL_CRIME],
                                                                 errors="ignore")
        above = types[types["percent_vs_expected"] > 0].sort_values("percent_vs_expected",
                                                                      ascending=False)
        most = (", most of all " + join([f"{t.lower()} ({percent(v)} above)" for t, v in
                                         above["percent_vs_expected"].head(3).items()])
                if len(above) else "")
        return (f"{len(above)} of {len(types)} categories were above their anticipated volume "
                f"for the year{most}.")

    def _sentence(self) -> str:
        lines = [self._total_sentence(), self._categories_sentence()]
        flagged = self.volumes.monthly[self.volumes.monthly["exceeds"]]
        if len(flagged):
            months = flagged.groupby("crime_type")["month"].apply(
                lambda m: join([f"{x:%B %Y}" for x in sorted(m)]))
            lines.append("Months above the upper bound (more than chance would explain): "
                         + "; ".join(f"{t.lower()} in {m}" for t, m in months.items()) + ".")
        else:
            lines.append("No month was above its upper bound.")
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
        volumes = _volumes(sa, sa.current, method)
    except ValueError as exc:  # too little history for any baseline
        return Expected(area=sa.focus_name, missing=f"Anticipated volumes cannot be "
                        f"calculated for this assessment: {exc}.")
    history, period = [volumes.monthly], sa.current.preceding()
    for _ in range(HISTORY_YEARS - 1):
        try:
            history.append(_volumes(sa, period, method).monthly)
        except ValueError:
            break
        period = period.preceding()
    other = "seasonal_mean" if method == "farrington" else "farrington"
    return Expected(area=sa.focus_name, current=sa.current, options=sa.options,
                    volumes=volumes, other=_volumes(sa, sa.current, other),
                    history=pd.concat(history[::-1], ignore_index=True),
                    synthetic=sa.synthetic)


ORDER = {t: i for i, t in enumerate((TOTAL_CRIME, *CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR))}


def _volumes(sa: Assessment, period: ReportingPeriod, method: str) -> ExpectedVolumes:
    """Actual vs anticipated volumes by crime type (and total crime) for the focus area."""
    first, _ = queries.data_span(sa.con)
    monthly = sa.monthly(start=first, end=period.end, area_codes=[sa.focus_code])
    crimes = monthly[monthly["crime_type"] != ANTI_SOCIAL_BEHAVIOUR]
    total = crimes.groupby("month", as_index=False)["count"].sum().assign(crime_type=TOTAL_CRIME)
    options = sa.options
    result = expected_volumes(pd.concat([total, monthly], ignore_index=True), period=period,
                              method=method, years=options.expected_years,
                              exclude=[m for e in options.baseline_exclusions
                                       for m in e.months()],
                              alpha=options.alpha)

    def by_type(s: pd.Series) -> pd.Series:
        return s.map(ORDER) if s.name == "crime_type" else s

    return replace(
        result,
        monthly=result.monthly.sort_values(["crime_type", "month"], key=by_type,
                                           kind="stable").reset_index(drop=True),
        annual=result.annual.sort_values("crime_type", key=by_type,
                                         kind="stable").reset_index(drop=True))
