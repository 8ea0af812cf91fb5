"""The measures behind the Priorities chapter's factor scores, one row per candidate.

For every candidate (the Home Office crime groups and data.police.uk crime types, ASB,
domestic abuse, the partner indicators) this module finds the measure behind each factor and
bands it to 1-5 with the rules in ``priorities.bands`` (docs/methods.md, "Priorities"):

* **volume**: the focus area's rate per 1,000 residents over the comparison area's pooled
  rate (indicators: the latest value over the comparison value, turned round when higher is
  better, so that a ratio above 1 is always worse);
* **trend**: the change on the previous period with the test of
  :func:`~smp_analysis.methods.change.change_table`, counting only the months with data in
  both periods (:func:`~._years.comparable_months`) and allowing for each series' own
  over-dispersion from the years before (months excluded from baselines left out); a change
  beyond that normal variation is "clear";
* **harm**: the candidate's harm (weight x count, :mod:`smp_analysis.methods.harm`) as a share
  of the harm of all recorded crime in the focus area;
* **perception**: the share of residents concerned, from the survey indicator linked to the
  candidate (``priorities.perception``); 100 minus the share who feel safe when the
  indicator's better direction is higher;
* **influence**: the partnership's judgement (``priorities.influence``).

A factor that cannot be measured gets no score and a plain reason (``notes``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from ..categories import AGAINST_SOCIETY, ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES, VICTIM_BASED
from ..methods.change import TooLittleHistory, change_table, fit_dispersion
from ..methods.harm import harm_table
from ..methods.priorities import band
from ..params_priorities import DOMESTIC_ABUSE, FACTORS, PrioritiesParams
from ..report.context import Assessment
from ._years import comparable_months, months_with_data, series_by_month

GROUP_MEMBERS = {VICTIM_BASED: [t for t in CRIME_TYPES if t in (
    "Bicycle theft", "Burglary", "Criminal damage and arson", "Other theft", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences")],
    AGAINST_SOCIETY: ["Drugs", "Other crime", "Possession of weapons", "Public order"]}
HISTORY_YEARS = 5


@dataclass
class Candidate:
    key: str  # crime type / group name, "Domestic abuse", or an indicator_id
    label: str
    kind: str  # "crime group", "crime type", "ASB", "domestic abuse", "partner indicator"
    scores: dict = field(default_factory=dict)  # factor -> 1-5 (absent: not scored)
    measures: dict = field(default_factory=dict)  # factor -> the measure behind the score
    notes: dict = field(default_factory=dict)  # factor -> why it is not scored
    worse_word: str = "rising"  # how a worsening trend is said


def trend_class(percent: float, significant: bool, worse_up: bool, stable_percent: float
                ) -> str:
    """'clear_worsening', 'worsening', 'stable', 'improving' or 'clear_improving'.

    >>> trend_class(12.0, True, True, 5), trend_class(-3.0, False, True, 5)
    ('clear_worsening', 'stable')
    >>> trend_class(-8.0, False, False, 5)
    'worsening'
    """
    if pd.isna(percent):  # no earlier value: up from none
        percent = math.inf
    worse = percent > 0 if worse_up else percent < 0
    if significant:
        return "clear_worsening" if worse else "clear_improving"
    if abs(percent) < stable_percent:
        return "stable"
    return "worsening" if worse else "improving"


def _crime_candidates(sa: Assessment, p: PrioritiesParams, weights: dict | None
                      ) -> tuple[list[Candidate], pd.DataFrame]:
    keys = [VICTIM_BASED, AGAINST_SOCIETY, *CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR]
    out = {k: Candidate(k, k, "crime group" if k in GROUP_MEMBERS else
                        "ASB" if k == ANTI_SOCIAL_BEHAVIOUR else "crime type") for k in keys}
    # volume: focus rate against the comparison area's pooled rate
    monthly = sa.monthly(start=sa.current.start, end=sa.current.end,
                         area_codes=list(sa.districts.index))
    by_area = monthly.pivot_table(index="area_code", columns="crime_type", values="count",
                                  aggfunc="sum", fill_value=0).reindex(
        index=sa.districts.index, columns=[*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR], fill_value=0)
    for group, members in GROUP_MEMBERS.items():
        by_area[group] = by_area[members].sum(axis=1)
    population = sa.population["population"].astype(float)
    for key, c in out.items():
        focus = by_area.at[sa.focus_code, key] / population[sa.focus_code]
        pooled = by_area[key].sum() / population.sum()
        if pooled > 0:
            ratio = focus / pooled
            c.measures["volume"] = ratio
            c.scores["volume"] = band(ratio, p.bands.volume_ratio)
        else:
            c.notes["volume"] = f"no {key.lower()} was recorded in {sa.comparison_name}"
    _trends(sa, p, out)
    _harm(sa, p, out, by_area.loc[sa.focus_code], weights)
    return list(out.values()), by_area


def _trends(sa: Assessment, p: PrioritiesParams, out: dict[str, Candidate]) -> None:
    now, before = comparable_months(sa, [sa.current, sa.previous])
    if len(now) == 0:
        for c in out.values():
            c.notes["trend"] = ("no month has data in both the assessment period and the "
                                "previous one")
        return
    first = sa.current.first_month - 12 * HISTORY_YEARS
    monthly = sa.monthly(start=first.start_time.date(), end=sa.current.end,
                         area_codes=[sa.focus_code])
    wide = series_by_month(monthly) if len(monthly) else pd.DataFrame()
    asb = monthly[monthly["crime_type"] == ANTI_SOCIAL_BEHAVIOUR]
    asb = asb.groupby(pd.PeriodIndex(pd.to_datetime(asb["month"]), freq="M"))["count"].sum()
    wide = wide.assign(**{ANTI_SOCIAL_BEHAVIOUR: asb}).fillna(0) if len(wide) else wide
    present = months_with_data(sa)
    excluded = {pd.Period(m, "M") for e in sa.options.baseline_exclusions for m in e.months()}
    history = pd.PeriodIndex([m for m in pd.period_range(first, sa.current.first_month - 1,
                                                         freq="M")
                              if m in present and m not in excluded], freq="M")
    keys = list(out)
    wide = wide.reindex(columns=keys, fill_value=0)
    phi, df = {}, {}
    for key in keys:
        try:
            fit = fit_dispersion(wide[key].reindex(history))
            phi[key], df[key] = fit.dispersion, float(fit.df)
        except (TooLittleHistory, ValueError, TypeError):
            phi[key], df[key] = math.nan, math.inf
    current = wide.reindex(now, fill_value=0).sum()
    previous = wide.reindex(before, fill_value=0).sum()
    table = change_table(current, previous, alpha=sa.options.alpha,
                         dispersion=pd.Series(phi), dispersion_df=pd.Series(df))
    for key, c in out.items():
        row = table.loc[key]
        if math.isnan(phi[key]):
            c.notes["trend"] = (f"there is too little history before {sa.current.name} to know "
                                "how much it usually varies")
            continue
        cls = trend_class(row["percent_change"], bool(row["significant"]), True,
                          p.bands.trend_stable_percent)
        c.measures["trend"] = row["percent_change"]
        c.measures["trend_class"] = cls
        c.scores["trend"] = getattr(p.bands.trend, cls)


def _harm(sa: Assessment, p: PrioritiesParams, out: dict[str, Candidate], focus: pd.Series,
          weights: dict | None) -> None:
    if weights is None:
        for c in out.values():
            c.notes["harm"] = "no harm weights are given (priorities.harm_weights)"
        return
    crime = harm_table(focus[list(CRIME_TYPES)], weights)
    unweighted = [t for t in CRIME_TYPES if t not in weights and focus[t] > 0]
    total = crime["harm"].sum()
    for key, c in out.items():
        members = GROUP_MEMBERS.get(key, [key])
        lacking = [m for m in members if m not in weights]
        if lacking:
            c.notes["harm"] = f"no harm weight is given for {', '.join(lacking).lower()}"
            continue
        if unweighted or not total > 0:
            c.notes["harm"] = ("not every crime type has a harm weight, so no share of all "
                               "harm can be worked out")
            continue
        harm = sum(weights[m] * float(focus[m]) for m in members)
        c.measures["harm"] = harm / total
        c.scores["harm"] = band(harm / total, p.bands.harm_share)


def _domestic_abuse(sa: Assessment, p: PrioritiesParams, weights: dict | None,
                    crime_harm: float | None) -> Candidate | None:
    from . import domestic_abuse
    from .domestic_abuse import district

    c = Candidate(DOMESTIC_ABUSE, DOMESTIC_ABUSE, "domestic abuse")
    result = domestic_abuse.compute(sa)
    c.notes["volume"] = ("there are no comparison-area figures for domestic abuse (the "
                         "victim-level extract covers the focus area only)")
    if result.missing:
        c.notes["trend"] = c.notes["harm"] = "no victim-level incident extract was supplied"
        return c
    prot = result.protection
    now, before = district("current", "incidents"), district("previous", "incidents")
    if not prot.shown(now, before):
        c.notes["trend"] = c.notes["harm"] = ("the number of incidents is not published (too "
                                              "few to protect confidentiality)")
        return c
    change = result.incidents_change
    cls = trend_class(change.percent_change, change.significant, True,
                      p.bands.trend_stable_percent)
    c.measures["trend"], c.measures["trend_class"] = change.percent_change, cls
    c.scores["trend"] = getattr(p.bands.trend, cls)
    if weights is None or DOMESTIC_ABUSE not in weights:
        c.notes["harm"] = "no harm weight is given for domestic abuse"
    elif not crime_harm:
        c.notes["harm"] = "the harm of all recorded crime cannot be worked out"
    else:
        share = weights[DOMESTIC_ABUSE] * prot.value(now) / crime_harm
        c.measures["harm"] = share
        c.scores["harm"] = band(share, p.bands.harm_share)
    return c


def _indicator_candidates(sa: Assessment, p: PrioritiesParams, weights: dict | None,
                          crime_harm_per_month: float | None) -> tuple[list[Candidate], list]:
    from . import indicators

    result = indicators.compute(sa)
    if result.missing:
        return [], []
    wanted = set(p.indicators) if p.indicators is not None else None
    out, skipped = [], []
    threshold = sa.options.suppression_threshold
    for s in result.summaries:
        if wanted is not None and s.indicator_id not in wanted:
            continue
        if s.polarity not in ("lower", "higher"):
            skipped.append(s.label)
            continue
        c = Candidate(s.indicator_id, s.label, "partner indicator", worse_word="worsening")
        out.append(c)
        if s.current is None:
            for f in ("volume", "trend", "harm"):
                c.notes[f] = f"there are no data for {sa.focus_name}"
            continue
        small = 0 < s.current.numerator < threshold
        lower = s.polarity == "lower"
        if small:
            c.notes["volume"] = c.notes["trend"] = "too few events to publish"
        elif s.comparison is None or not s.comparison > 0 or not s.current.value > 0:
            c.notes["volume"] = f"there is no {sa.comparison_name} value to compare with"
        else:
            ratio = s.current.value / s.comparison if lower else s.comparison / s.current.value
            c.measures["volume"] = ratio
            c.scores["volume"] = band(ratio, p.bands.volume_ratio)
        if not small:
            _indicator_trend(c, s, p, threshold)
        if weights is None or s.indicator_id not in weights:
            c.notes["harm"] = "no harm weight is given"
        elif not crime_harm_per_month:
            c.notes["harm"] = "the harm of all recorded crime cannot be worked out"
        elif small:
            c.notes["harm"] = "too few events to publish"
        else:
            share = (weights[s.indicator_id] * s.current.numerator / s.current.months
                     / crime_harm_per_month)
            c.measures["harm"] = share
            c.scores["harm"] = band(share, p.bands.harm_share)
    return out, skipped


def _indicator_trend(c: Candidate, s, p: PrioritiesParams, threshold: int) -> None:
    if s.change is None or s.previous is None:
        c.notes["trend"] = "there is no earlier period of the same length to compare with"
        return
    if 0 < s.previous.numerator < threshold:
        c.notes["trend"] = "too few events to publish"
        return
    if s.is_share:
        before = s.previous.value
        percent = 100 * (s.current.value - before) / before if before else math.nan
    elif s.kind == "count":
        percent = s.change.percent_change
    else:
        percent = 100 * (s.change.rate_ratio - 1)
    cls = trend_class(percent, s.change.significant, s.polarity == "lower",
                      p.bands.trend_stable_percent)
    c.measures["trend"], c.measures["trend_class"] = percent, cls
    c.scores["trend"] = getattr(p.bands.trend, cls)


def _perception_and_influence(sa: Assessment, p: PrioritiesParams,
                              candidates: list[Candidate]) -> None:
    from . import indicators

    summaries = {s.indicator_id: s for s in indicators.compute(sa).summaries}
    for c in candidates:
        survey = p.perception.get(c.key)
        s = summaries.get(survey) if survey else None
        if survey is None:
            c.notes["perception"] = "no residents' survey indicator is linked"
        elif s is None or s.current is None:
            c.notes["perception"] = f"the survey indicator {survey} has no data for " \
                                    f"{sa.focus_name}"
        elif s.kind != "proportion" or s.polarity not in ("lower", "higher"):
            c.notes["perception"] = (f"the survey indicator {survey} is not a share of "
                                     "residents with a better direction")
        else:
            share = 100 * s.current.value / s.per
            concern = share if s.polarity == "lower" else 100 - share
            c.measures["perception"] = concern
            c.measures["perception_source"] = s.label
            c.scores["perception"] = band(concern, p.bands.perception_percent)
        if p.influence is None:
            c.notes["influence"] = "no judgement of the partnership's influence is given"
        elif c.key in p.influence.scores:
            c.scores["influence"] = p.influence.scores[c.key]
            c.measures["influence"] = p.influence.scores[c.key]
        else:
            c.notes["influence"] = "the partnership's judgement gives no score"


def candidates(sa: Assessment) -> dict:
    """Every candidate with its factor scores, measures and notes, and the district counts
    of the current period (for the harm section)."""
    p = sa.params.priorities
    weights = dict(p.harm_weights.weights) if p.harm_weights else None
    crime, by_area = _crime_candidates(sa, p, weights)
    crime_harm = None
    if weights is not None and all(t in weights for t in CRIME_TYPES):
        crime_harm = float(sum(weights[t] * by_area.at[sa.focus_code, t] for t in CRIME_TYPES))
    da = _domestic_abuse(sa, p, weights, crime_harm)
    per_month = crime_harm / sa.current.n_months if crime_harm else None
    partner, skipped = _indicator_candidates(sa, p, weights, per_month)
    every = [*crime, da, *partner]
    _perception_and_influence(sa, p, every)
    return {"candidates": every, "skipped": skipped, "by_area": by_area}


def factor_frame(cands: list[Candidate]) -> pd.DataFrame:
    """One row per candidate label, one column per factor (NaN: not scored)."""
    return pd.DataFrame([[c.scores.get(f, math.nan) for f in FACTORS] for c in cands],
                        index=pd.Index([c.label for c in cands], name="candidate"),
                        columns=list(FACTORS), dtype=float)


def period_counts(sa: Assessment, start: dt.date, end: dt.date) -> pd.DataFrame:
    """District x crime type counts of a period."""
    monthly = sa.monthly(start=start, end=end, area_codes=list(sa.districts.index))
    return monthly.pivot_table(index="area_code", columns="crime_type", values="count",
                               aggfunc="sum", fill_value=0).reindex(
        index=sa.districts.index, columns=list(CRIME_TYPES), fill_value=0)
