"""Chapter: domestic abuse and repeat victimisation (incidents, repeat incidents and victims,
the Marac repeat rate, by ward), from pseudonymised victim-level extracts.

Every count shown passes :mod:`smp_analysis.report.disclosure` (small counts suppressed, with
secondary suppression against totals). Methods: :mod:`smp_analysis.methods.repeats`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..methods.change import ChangeResult, compare_counts
from ..methods.repeats import (
    SAFELIVES_REPEAT_RANGE,
    MaracRepeats,
    RepeatVictimisation,
    compare_proportions,
    marac_repeat_rate,
    repeat_victimisation,
)
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.disclosure import is_small, safe_count, suppress
from ..report.markup import Block, Prose
from ..report.tables import Table, protected_table
from ..report.words import chance_sentence, change_sentence, p_value
from ..store import has_table, queries

HIGH_HARM_TYPES = ("Stalking", "Controlling or coercive behaviour", "Threats to kill",
                   "Breach of order")
WARD_COUNTS = ("Incidents", "Repeat incidents", "Victims", "Repeat victims")
HIDDEN = "–"


@dataclass(frozen=True)
class DomesticAbuse(TopicResult):
    """Victim-level measures for the focus district (pseudonymised). Counts are raw here;
    every presentation method passes them through disclosure control."""

    area: str
    current_period: ReportingPeriod | None = None
    previous_period: ReportingPeriod | None = None
    threshold: int = 5
    current: RepeatVictimisation | None = None
    previous: RepeatVictimisation | None = None
    crimes_current: int = 0
    crimes_previous: int = 0
    population: int = 0
    repeat_rate_p_value: float = float("nan")
    incidents_change: ChangeResult | None = None
    marac_current: MaracRepeats | None = None
    marac_previous: MaracRepeats | None = None
    high_harm_by_ward: pd.DataFrame | None = None  # ward, one column per high-harm type
    lookback_complete: bool = True
    window_days: int = 365
    synthetic: bool = False

    @property
    def rate_per_1000(self) -> float:
        return 1000 * self.current.incidents / self.population

    def summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        return Prose(self._summary_text())

    @when_available
    def table(self) -> Table:
        t = self.threshold

        def column(r: RepeatVictimisation, crimes: int, marac: MaracRepeats | None) -> list:
            values = [safe_count(r.incidents, t), safe_count(crimes, t),
                      safe_count(r.victims, t), safe_count(r.repeat_incidents, t),
                      safe_rate(r.repeat_incidents, r.incidents, t),
                      safe_count(r.repeat_victims, t),
                      safe_rate(r.repeat_victims, r.victims, t),
                      HIDDEN if r.victims < t else f"{r.incidents_per_victim:.2f}"]
            if marac is not None:
                values += [safe_count(marac.referrals, t), safe_count(marac.repeat_referrals, t),
                           safe_rate(marac.repeat_referrals, marac.referrals, t)]
            return values

        measures = ["Incidents", "of which crimes", "Victims", "Repeat incidents",
                    "Repeat incident rate", "Repeat victims", "Repeat victim rate",
                    "Incidents per victim"]
        if self.marac_current is not None:
            measures += ["Marac referrals", "Repeat Marac referrals", "Marac repeat rate"]
        view = pd.DataFrame({
            "Measure": measures,
            self.previous_period.name: column(self.previous, self.crimes_previous,
                                              self.marac_previous),
            self.current_period.name: column(self.current, self.crimes_current,
                                             self.marac_current)})
        return protected_table(view, f"Domestic abuse in {self.area}", counts=(),
                               note=self._suppression_note())

    @when_available
    def marac_summary(self) -> Block:
        return Prose(self._marac_sentence())

    @when_available
    def ward_figure(self) -> charts.Figure:
        shown = self._wards()
        visible = shown[(shown["Repeat incident rate"] != HIDDEN)
                        & (shown.index < len(shown) - 1)]
        items = [f"{w} {r}" for w, r in zip(visible["Ward"], visible["Repeat incident rate"],
                                            strict=True)]
        return charts.ward_rate_bars(
            shown, title=f"Repeat domestic-abuse incidents by ward, {self.current_period.name}",
            caption="Repeat incidents as a percentage of domestic-abuse incidents in each "
                    "ward; wards with too few incidents to publish are not shown.",
            alt="Bar chart of the repeat incident rate by ward, highest first, for wards with "
                "enough incidents to publish: " + ", ".join(items) + ".",
            synthetic=self.synthetic)

    @when_available
    def ward_table(self) -> Table:
        return protected_table(self._wards(), f"Domestic abuse by ward, "
                               f"{self.current_period.name}", counts=WARD_COUNTS,
                               note=self._suppression_note())

    @when_available
    def high_harm_table(self) -> Table:
        by_ward = self.high_harm_by_ward
        counts = tuple(c for c in by_ward.columns if c != "ward")
        shown = suppress(by_ward.rename(columns={"ward": "Ward"}), counts=list(counts),
                         threshold=self.threshold, total_label=f"{self.area} total",
                         label_column="Ward")
        return protected_table(shown, f"High-harm domestic-abuse incidents by ward, "
                               f"{self.current_period.name}", counts=counts,
                               note=self._suppression_note())

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        rate = safe_rate(self.current.repeat_incidents, self.current.incidents, self.threshold)
        if rate == HIDDEN:
            return []
        return [f"{rate} of domestic-abuse incidents in {self.area} were repeats (a victim's "
                f"second or later incident within {self.window_days} days)."]

    # ------------------------------------------------------------------ sentences
    def _suppression_note(self) -> str:
        t = self.threshold
        return (f"Counts from 1 to {t - 1} are shown as <{t}; some larger cells are also "
                "hidden so that totals cannot reveal them.")

    def _wards(self) -> pd.DataFrame:
        data = self.current.by_area.rename(columns={
            "ward": "Ward", "incidents": "Incidents", "repeat_incidents": "Repeat incidents",
            "victims": "Victims", "repeat_victims": "Repeat victims"})
        return suppress(data[["Ward", *WARD_COUNTS]], counts=list(WARD_COUNTS),
                        threshold=self.threshold,
                        rates={"Repeat incident rate": ("Repeat incidents", "Incidents")},
                        total_label=f"{self.area} total", label_column="Ward")

    def _summary_text(self) -> str:
        c, p, t = self.current, self.previous, self.threshold
        text = (f"In {self.current_period.name} there were {safe_count(c.incidents, t)} "
                f"domestic-abuse incidents in {self.area} ({self.rate_per_1000:.1f} per 1,000 "
                f"residents), of which {safe_count(self.crimes_current, t)} were recorded as "
                "crimes. ")
        if c.incidents >= t:
            text += (change_sentence("The number of incidents", self.incidents_change,
                                     noun="incidents") + " "
                     + chance_sentence(self.incidents_change))
        rate_now = safe_rate(c.repeat_incidents, c.incidents, t)
        rate_before = safe_rate(p.repeat_incidents, p.incidents, t)
        if rate_now != HIDDEN:
            text += (f" {rate_now} of incidents were repeats (the victim's second or later "
                     f"incident within {self.window_days} days), against {rate_before} in "
                     f"{self.previous_period.name}")
            if self.repeat_rate_p_value == self.repeat_rate_p_value:
                verdict = ("more than chance variation would explain"
                           if self.repeat_rate_p_value < 0.05
                           else "a difference that could arise from chance")
                text += f"; {verdict} ({p_value(self.repeat_rate_p_value)})"
            text += "."
        if c.victims >= t:
            text += (f" {safe_count(c.repeat_victims, t)} of {safe_count(c.victims, t)} "
                     f"victims ({safe_rate(c.repeat_victims, c.victims, t)}) were repeat "
                     f"victims; on average each victim had {c.incidents_per_victim:.2f} "
                     "incidents.")
        if not self.lookback_complete:
            text += (f" The incident data do not reach {self.window_days} days before "
                     f"{self.previous_period.start:%B %Y}, so repeats early in the comparison "
                     "period may be undercounted.")
        return text

    def _marac_sentence(self) -> str:
        now, before, t = self.marac_current, self.marac_previous, self.threshold
        if now is None:
            return "No Marac referral extract was supplied."
        low, high = SAFELIVES_REPEAT_RANGE
        rate = safe_rate(now.repeat_referrals, now.referrals, t)
        if rate == HIDDEN:
            return (f"There were {safe_count(now.referrals, t)} Marac referrals in "
                    f"{self.current_period.name}; numbers are too small to publish a repeat "
                    "rate.")
        if now.repeat_rate < low:
            where = (f"below the {low:.0%} to {high:.0%} range SafeLives expects; a low rate "
                     "can mean repeat victims are not being identified and re-referred")
        elif now.repeat_rate > high:
            where = (f"above the {low:.0%} to {high:.0%} range SafeLives expects; a high rate "
                     "can mean the Marac is not reducing risk for the victims it sees")
        else:
            where = f"within the {low:.0%} to {high:.0%} range SafeLives expects"
        before_text = safe_rate(before.repeat_referrals, before.referrals, t)
        return (f"Of {safe_count(now.referrals, t)} Marac referrals in "
                f"{self.current_period.name}, {safe_count(now.repeat_referrals, t)} ({rate}) "
                f"were repeats within 12 months of a previous referral, {where} "
                f"({self.previous_period.name}: {before_text}).")


def safe_rate(numerator: int, denominator: int, threshold: int) -> str:
    """A percentage that is hidden when either count is small.

    >>> safe_rate(3, 40, 5), safe_rate(12, 40, 5), safe_rate(0, 0, 5)
    ('–', '30.0%', '–')
    """
    if denominator == 0 or is_small(numerator, threshold) or is_small(denominator, threshold):
        return HIDDEN
    return f"{100 * numerator / denominator:.1f}%"


@topic
def compute(sa: Assessment) -> DomesticAbuse:
    if not has_table(sa.con, "incidents"):
        return DomesticAbuse(area=sa.focus_name, missing="No victim-level incident extract was "
                             "supplied for this assessment.")
    o = sa.options
    window = o.repeat_window_days
    lookback_start = sa.previous.start - dt.timedelta(days=window)
    frame = queries.incidents(sa.con, district_codes=[sa.focus_code], start=lookback_start,
                              end=sa.current.end, domestic_only=o.domestic_only,
                              crimes_only=o.crimes_only)
    first = queries.incidents(sa.con, district_codes=[sa.focus_code],
                              start=dt.date(1900, 1, 1), end=sa.current.end,
                              domestic_only=False)["date"].min()
    if pd.isna(first):
        return DomesticAbuse(area=sa.focus_name, missing=(
            f"The victim-level incident extract holds no incidents for {sa.focus_name}, so "
            "domestic abuse and repeat victimisation cannot be measured for it."))
    names = queries.ward_names(sa.con)
    frame["ward"] = frame["ward_code"].map(names).fillna(frame["ward_code"]).fillna(
        "Unknown ward")

    def measures(period: ReportingPeriod) -> RepeatVictimisation:
        return repeat_victimisation(frame, start=period.start, end=period.end,
                                    window_days=window, area="ward")

    def within(period: ReportingPeriod) -> pd.Series:
        return frame["date"].between(pd.Timestamp(period.start), pd.Timestamp(period.end))

    current, previous = measures(sa.current), measures(sa.previous)
    high = frame[within(sa.current) & frame["incident_type"].isin(HIGH_HARM_TYPES)]
    by_ward = (high.pivot_table(index="ward", columns="incident_type", values="incident_id",
                                aggfunc="count", fill_value=0)
               .reindex(columns=list(HIGH_HARM_TYPES), fill_value=0)
               .reindex(sorted(set(frame.loc[within(sa.current), "ward"])), fill_value=0))
    marac_now = marac_before = None
    if has_table(sa.con, "marac_referrals"):
        referrals = queries.marac_referrals(sa.con, district_codes=[sa.focus_code],
                                            start=lookback_start, end=sa.current.end)
        marac_now = marac_repeat_rate(referrals, start=sa.current.start, end=sa.current.end,
                                      window_days=window)
        marac_before = marac_repeat_rate(referrals, start=sa.previous.start,
                                         end=sa.previous.end, window_days=window)
    return DomesticAbuse(
        area=sa.focus_name, current_period=sa.current, previous_period=sa.previous,
        threshold=o.suppression_threshold, current=current, previous=previous,
        crimes_current=int(frame.loc[within(sa.current), "is_crime"].sum()),
        crimes_previous=int(frame.loc[within(sa.previous), "is_crime"].sum()),
        population=int(sa.population.loc[sa.focus_code, "population"]),
        repeat_rate_p_value=compare_proportions(
            current.repeat_incidents, current.incidents, previous.repeat_incidents,
            previous.incidents),
        incidents_change=compare_counts(current.incidents, previous.incidents, alpha=o.alpha),
        marac_current=marac_now, marac_previous=marac_before,
        high_harm_by_ward=by_ward.rename_axis(None, axis=1).reset_index(),
        lookback_complete=bool(pd.notna(first) and first <= pd.Timestamp(lookback_start)),
        window_days=window, synthetic=sa.synthetic)
