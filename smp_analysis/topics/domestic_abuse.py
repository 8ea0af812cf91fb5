"""Chapter: domestic abuse and repeat victimisation (incidents, repeat incidents and victims,
the Marac repeat rate, by ward), from pseudonymised victim-level extracts.

Every figure the chapter publishes (the summary table, the ward table, the high-harm table,
the sentences, the chart and the key-findings headline) is one entry of a single
:class:`~smp_analysis.report.disclosure.Protection`, computed once for the whole chapter with
the relations a reader knows between them (:func:`chapter_relations`), so no table, sentence
or label can reveal a figure another one hides. Methods: :mod:`smp_analysis.methods.repeats`;
disclosure control: :mod:`smp_analysis.report.disclosure`.
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
from ..report.disclosure import Protection, Relation, at_most, protect, total
from ..report.markup import Block, Prose
from ..report.tables import Table, protected_table
from ..report.words import chance_sentence, change_sentence, p_value
from ..store import has_table, queries

HIGH_HARM_TYPES = ("Stalking", "Controlling or coercive behaviour", "Threats to kill",
                   "Breach of order")
MEASURES = ("incidents", "repeat_incidents", "victims", "repeat_victims")
WARD_COUNTS = ("Incidents", "Repeat incidents", "Victims", "Repeat victims")
PERIODS = ("previous", "current")
WITHHELD = "is not published, to protect confidentiality"


def district(period: str, measure: str) -> tuple:
    """Key of a district figure: period 'current' or 'previous'; measure one of
    :data:`MEASURES`, 'crimes', 'marac_referrals' or 'marac_repeats'."""
    return ("district", period, measure)


def ward(name: str, measure: str) -> tuple:
    """Key of a ward figure (current period), measure one of :data:`MEASURES`."""
    return ("ward", name, measure)


def high_harm(name: str | None, kind: str) -> tuple:
    """Key of a high-harm count of one ward (`name`), or of the district (`name` None)."""
    return ("high_harm", name, kind)


def linked(key, *, one_first_incident: bool) -> list[Relation]:
    """What the definitions of the repeat measures imply for one area (`key(measure)`).

    A repeat incident is an incident; each victim has an incident; a repeat victim is a victim
    with a repeat incident; a victim without repeats has at least one non-repeat incident, so
    victims - repeat victims <= incidents - repeat incidents. When the repeat window spans the
    whole period (`one_first_incident`), a victim has at most one non-repeat incident in it, so
    incidents - repeat incidents <= victims.
    """
    i, r, v, rv = (key(m) for m in MEASURES)
    out = [at_most(r, i), at_most(v, i), at_most(rv, v), at_most(rv, r), at_most([v, r], [i, rv])]
    if one_first_incident:
        out.append(at_most(i, [v, r]))
    return out


def chapter_relations(wards: list[str], *, marac: bool, one_first_incident: dict[str, bool],
                      ) -> list[Relation]:
    """Every linear fact a reader knows between the chapter's figures."""
    relations: list[Relation] = []
    for period in PERIODS:
        relations += linked(lambda m, p=period: district(p, m),
                            one_first_incident=one_first_incident[period])
        relations.append(at_most(district(period, "crimes"), district(period, "incidents")))
        if marac:
            relations.append(at_most(district(period, "marac_repeats"),
                                     district(period, "marac_referrals")))
    for name in wards:
        relations += linked(lambda m, n=name: ward(n, m),
                            one_first_incident=one_first_incident["current"])
        relations.append(at_most([high_harm(name, k) for k in HIGH_HARM_TYPES],
                                 ward(name, "incidents")))
    for measure in ("incidents", "repeat_incidents"):  # each incident is in one ward
        relations.append(total(district("current", measure), [ward(n, measure) for n in wards]))
    for measure in ("victims", "repeat_victims"):  # a victim may have incidents in two wards
        relations.append(at_most(district("current", measure), [ward(n, measure) for n in wards]))
        relations += [at_most(ward(n, measure), district("current", measure)) for n in wards]
    for kind in HIGH_HARM_TYPES:
        relations.append(total(high_harm(None, kind), [high_harm(n, kind) for n in wards]))
    relations.append(at_most([high_harm(None, k) for k in HIGH_HARM_TYPES],
                             district("current", "incidents")))
    return relations


def near_totals(wards: list[str]) -> list[Relation]:
    """Totals a reader may assume although they need not hold: incidents = victims + repeat
    incidents (no victim had an incident in the look-back), and district victims (repeat
    victims) = the sum over wards (no victim has incidents in two wards)."""
    areas = [lambda m, p=p: district(p, m) for p in PERIODS]
    areas += [lambda m, n=n: ward(n, m) for n in wards]
    near = [total(key("incidents"), [key("victims"), key("repeat_incidents")]) for key in areas]
    for measure in ("victims", "repeat_victims"):
        near.append(total(district("current", measure), [ward(n, measure) for n in wards]))
    return near


@dataclass(frozen=True)
class DomesticAbuse(TopicResult):
    """Victim-level measures for the focus district (pseudonymised). Counts are raw here;
    every presentation method shows them through `protection`."""

    area: str
    current_period: ReportingPeriod | None = None
    previous_period: ReportingPeriod | None = None
    threshold: int = 5
    current: RepeatVictimisation | None = None
    previous: RepeatVictimisation | None = None
    population: int = 0
    repeat_rate_p_value: float = float("nan")
    incidents_change: ChangeResult | None = None
    marac_current: MaracRepeats | None = None
    marac_previous: MaracRepeats | None = None
    wards: tuple[str, ...] = ()
    protection: Protection | None = None
    lookback_complete: bool = True
    window_days: int = 365
    synthetic: bool = False

    def summary(self) -> Block:
        if self.missing:
            return self.missing_note()
        return Prose(self._summary_text())

    @when_available
    def table(self) -> Table:
        p = self.protection
        rows = [("Incidents", "incidents"), ("of which crimes", "crimes"),
                ("Victims", "victims"), ("Repeat incidents", "repeat_incidents"),
                ("Repeat incident rate", ("repeat_incidents", "incidents")),
                ("Repeat victims", "repeat_victims"),
                ("Repeat victim rate", ("repeat_victims", "victims")),
                ("Incidents per victim", ("incidents", "victims", "{:.2f}"))]
        if self.marac_current is not None:
            rows += [("Marac referrals", "marac_referrals"),
                     ("Repeat Marac referrals", "marac_repeats"),
                     ("Marac repeat rate", ("marac_repeats", "marac_referrals"))]

        def cell(period: str, what) -> str:
            if isinstance(what, str):
                return p.count(district(period, what))
            numerator, denominator, *fmt = what
            return p.rate(district(period, numerator), district(period, denominator), *fmt)

        view = pd.DataFrame({"Measure": [label for label, _ in rows],
                             self.previous_period.name: [cell("previous", w) for _, w in rows],
                             self.current_period.name: [cell("current", w) for _, w in rows]})
        return protected_table(view, f"Domestic abuse in {self.area}", counts=(),
                               note=p.note())

    @when_available
    def marac_summary(self) -> Block:
        return Prose(self._marac_sentence())

    @when_available
    def ward_figure(self) -> charts.Figure:
        shown = self._wards()
        body = shown.iloc[:-1]
        visible = body[body["Repeat incident rate"].str.endswith("%")]
        total_row = shown.iloc[[-1]].assign(**{"Repeat incident rate": [
            r if r.endswith("%") else "–" for r in shown.iloc[[-1]]["Repeat incident rate"]]})
        ranked = visible.assign(rate=visible["Repeat incident rate"].str.rstrip("%").astype(float))
        items = [f"{w} {r}" for w, r in ranked.sort_values("rate", ascending=False, kind="stable")
                 [["Ward", "Repeat incident rate"]].itertuples(index=False)]
        listed = ", ".join(items) if items else "no ward has enough incidents to publish a rate"
        return charts.ward_rate_bars(
            pd.concat([visible, total_row], ignore_index=True),
            title=f"Repeat domestic-abuse incidents by ward, {self.current_period.name}",
            caption="Repeat incidents as a percentage of domestic-abuse incidents in each "
                    "ward; wards whose rate uses a figure that is not published are not shown.",
            alt="Bar chart of the repeat incident rate by ward, highest first, for wards whose "
                "rate can be published: " + listed + ".",
            synthetic=self.synthetic)

    @when_available
    def ward_table(self) -> Table:
        return protected_table(
            self._wards(), f"Domestic abuse by ward, {self.current_period.name}",
            counts=WARD_COUNTS,
            note=self.protection.note() + " A victim with incidents in more than one ward is "
            "counted in each, so ward victims can add up to more than the total.")

    @when_available
    def high_harm_table(self) -> Table:
        p = self.protection
        names = [*self.wards, None]
        view = pd.DataFrame({"Ward": [*self.wards, f"{self.area} total"],
                             **{k: [p.count(high_harm(n, k)) for n in names]
                                for k in HIGH_HARM_TYPES}})
        return protected_table(view, f"High-harm domestic-abuse incidents by ward, "
                               f"{self.current_period.name}", counts=HIGH_HARM_TYPES,
                               note=p.note())

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        rate = self._rate("current")
        if rate is None:
            return []
        return [f"{rate} of domestic-abuse incidents in {self.area} were repeats (a victim's "
                f"second or later incident within {self.window_days} days)."]

    # ------------------------------------------------------------------ presentation helpers
    def _wards(self) -> pd.DataFrame:
        p = self.protection
        rows = [(n, lambda m, n=n: ward(n, m)) for n in self.wards]
        rows.append((f"{self.area} total", lambda m: district("current", m)))
        return pd.DataFrame({
            "Ward": [label for label, _ in rows],
            **{column: [p.count(key(m)) for _, key in rows]
               for column, m in zip(WARD_COUNTS, MEASURES, strict=True)},
            "Repeat incident rate": [p.rate(key("repeat_incidents"), key("incidents"))
                                     for _, key in rows]})

    def _rate(self, period: str) -> str | None:
        """The repeat incident rate of a district period, None when it cannot be published."""
        p = self.protection
        r, i = district(period, "repeat_incidents"), district(period, "incidents")
        if not p.shown(r, i) or p.values[i] == 0:
            return None
        return f"{100 * p.values[r] / p.values[i]:.1f}%"

    def _summary_text(self) -> str:
        p, now, before = self.protection, self.current_period.name, self.previous_period.name
        incidents = district("current", "incidents")
        if p.shown(incidents):
            text = (f"In {now} there were {p.count(incidents)} domestic-abuse incidents in "
                    f"{self.area} ({1000 * p.values[incidents] / self.population:.1f} per 1,000 "
                    "residents)")
            crimes = district("current", "crimes")
            text += (f", of which {p.count(crimes)} were recorded as crimes. " if p.shown(crimes)
                     else f"; the number recorded as crimes {WITHHELD}. ")
        else:
            text = f"The number of domestic-abuse incidents in {self.area} in {now} {WITHHELD}. "
        if p.shown(incidents, district("previous", "incidents")):
            text += (change_sentence("The number of incidents", self.incidents_change,
                                     noun="incidents") + " "
                     + chance_sentence(self.incidents_change))
        elif p.shown(incidents):
            text += f"The number for {before} {WITHHELD}, so no change is given."
        text = text.rstrip()
        rate_now, rate_before = self._rate("current"), self._rate("previous")
        previous_incidents = district("previous", "incidents")
        if p.value(incidents) == 0:
            pass  # no incidents: nothing to say about repeats
        elif rate_now is None:
            text += f" The share of incidents that were repeats {WITHHELD}."
        else:
            against = rate_before or ("no incidents" if p.value(previous_incidents) == 0
                                      else "a figure that is not published")
            text += (f" {rate_now} of incidents were repeats (the victim's second or later "
                     f"incident within {self.window_days} days), against {against} in {before}")
            if rate_before is not None and self.repeat_rate_p_value == self.repeat_rate_p_value:
                verdict = ("more than chance variation would explain"
                           if self.repeat_rate_p_value < 0.05
                           else "a difference that could arise from chance")
                text += f"; {verdict} ({p_value(self.repeat_rate_p_value)})"
            text += "."
        victims, repeat = district("current", "victims"), district("current", "repeat_victims")
        if p.shown(victims, repeat) and p.values[victims] > 0:
            text += (f" {p.count(repeat)} of {p.count(victims)} victims "
                     f"({p.rate(repeat, victims)}) were repeat victims")
            if p.shown(incidents):
                text += (f"; on average each victim had "
                         f"{p.values[incidents] / p.values[victims]:.2f} incidents")
            text += "."
        if not self.lookback_complete:
            text += (f" The incident data do not reach {self.window_days} days before "
                     f"{self.previous_period.start:%B %Y}, so repeats early in the comparison "
                     "period may be undercounted.")
        return text

    def _marac_sentence(self) -> str:
        if self.marac_current is None:
            return "No Marac referral extract was supplied."
        p, now = self.protection, self.current_period.name
        referrals, repeats = district("current", "marac_referrals"), district("current",
                                                                              "marac_repeats")
        if not p.shown(referrals):
            return f"The number of Marac referrals in {now} {WITHHELD}."
        if not p.shown(repeats) or p.values[referrals] == 0:
            return (f"There were {p.count(referrals)} Marac referrals in {now}; the number of "
                    f"repeat referrals {WITHHELD}, so no repeat rate is given.")
        rate = p.values[repeats] / p.values[referrals]
        low, high = SAFELIVES_REPEAT_RANGE
        if rate < low:
            where = (f"below the {low:.0%} to {high:.0%} range SafeLives expects; a low rate "
                     "can mean repeat victims are not being identified and re-referred")
        elif rate > high:
            where = (f"above the {low:.0%} to {high:.0%} range SafeLives expects; a high rate "
                     "can mean the Marac is not reducing risk for the victims it sees")
        else:
            where = f"within the {low:.0%} to {high:.0%} range SafeLives expects"
        before = p.rate(district("previous", "marac_repeats"),
                        district("previous", "marac_referrals"))
        before = before if before.endswith("%") else "not published"
        return (f"Of {p.count(referrals)} Marac referrals in {now}, {p.count(repeats)} "
                f"({p.rate(repeats, referrals)}) were repeats within {self.window_days} days of "
                f"a previous referral, {where} ({self.previous_period.name}: {before}).")


def chapter_figures(current: RepeatVictimisation, previous: RepeatVictimisation, *,
                    crimes: dict[str, int], high: pd.DataFrame,
                    marac: dict[str, MaracRepeats] | None) -> tuple[list[str], dict]:
    """The wards and every count the chapter publishes, keyed for :func:`chapter_relations`.
    `high` has one row per ward (index) and one column per high-harm type."""
    by_ward = current.by_area.set_index("ward") if len(current.by_area) else None
    wards = [] if by_ward is None else sorted(by_ward.index.astype(str))
    values: dict = {}
    for name in wards:
        for m in MEASURES:
            values[ward(name, m)] = int(by_ward.at[name, m])
    for kind in HIGH_HARM_TYPES:
        for name in wards:
            values[high_harm(name, kind)] = int(high.at[name, kind]) if name in high.index \
                else 0
        values[high_harm(None, kind)] = sum(values[high_harm(n, kind)] for n in wards)
    for period, r in (("previous", previous), ("current", current)):
        for m in MEASURES:
            values[district(period, m)] = int(getattr(r, m))
        values[district(period, "crimes")] = int(crimes[period])
        if marac is not None:
            values[district(period, "marac_referrals")] = marac[period].referrals
            values[district(period, "marac_repeats")] = marac[period].repeat_referrals
    return wards, values


def measure(frame: pd.DataFrame, referrals: pd.DataFrame | None, *, area: str,
            current: ReportingPeriod, previous: ReportingPeriod, window_days: int,
            threshold: int, alpha: float, population: int, lookback_complete: bool = True,
            synthetic: bool = False) -> DomesticAbuse:
    """The chapter from an incident frame (``incident_id, victim_key, date, incident_type,
    is_crime, ward``; look-back included) and an optional Marac referral frame
    (``referral_id, victim_key, referral_date``), already filtered to the area and options."""
    frame = frame.assign(ward=frame["ward"].astype(str))

    def within(period: ReportingPeriod) -> pd.Series:
        return frame["date"].between(pd.Timestamp(period.start), pd.Timestamp(period.end))

    periods = {"previous": previous, "current": current}
    measured = {k: repeat_victimisation(frame, start=p.start, end=p.end,
                                        window_days=window_days, area="ward")
                for k, p in periods.items()}
    now, before = measured["current"], measured["previous"]
    high = frame[within(current) & frame["incident_type"].isin(HIGH_HARM_TYPES)]
    by_type = (high.pivot_table(index="ward", columns="incident_type", values="incident_id",
                                aggfunc="count", fill_value=0)
               .reindex(columns=list(HIGH_HARM_TYPES), fill_value=0))
    marac = None
    if referrals is not None:
        marac = {k: marac_repeat_rate(referrals, start=p.start, end=p.end,
                                      window_days=window_days) for k, p in periods.items()}
    crimes = {k: int(frame.loc[within(p), "is_crime"].sum()) for k, p in periods.items()}
    wards, values = chapter_figures(now, before, crimes=crimes, high=by_type, marac=marac)
    relations = chapter_relations(wards, marac=marac is not None, one_first_incident={
        k: window_days >= (p.end - p.start).days for k, p in periods.items()})
    return DomesticAbuse(
        area=area, current_period=current, previous_period=previous, threshold=threshold,
        current=now, previous=before, population=population,
        repeat_rate_p_value=compare_proportions(now.repeat_incidents, now.incidents,
                                                before.repeat_incidents, before.incidents),
        incidents_change=compare_counts(now.incidents, before.incidents, alpha=alpha),
        marac_current=marac and marac["current"], marac_previous=marac and marac["previous"],
        wards=tuple(wards),
        protection=protect(values, relations, threshold, near=near_totals(wards)),
        lookback_complete=lookback_complete, window_days=window_days, synthetic=synthetic)


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
    referrals = None
    if has_table(sa.con, "marac_referrals"):
        referrals = queries.marac_referrals(sa.con, district_codes=[sa.focus_code],
                                            start=lookback_start, end=sa.current.end)
    return measure(frame, referrals, area=sa.focus_name, current=sa.current,
                   previous=sa.previous, window_days=window, threshold=o.suppression_threshold,
                   alpha=o.alpha, population=int(sa.population.loc[sa.focus_code, "population"]),
                   lookback_complete=bool(first <= pd.Timestamp(lookback_start)),
                   synthetic=sa.synthetic)
