"""Plain-English sentences for reviewers, built from result objects.

Every sentence with a number in the appendix comes from here, so wording and rounding are
consistent and tested: percentages to one decimal place, counts with thousands separators,
"rose"/"fell"/"did not change", "more"/"fewer" offences.

>>> from smp_analysis.methods.change import compare_counts
>>> change_sentence("Total recorded crime", compare_counts(9358, 8845))
'Total recorded crime rose by 5.8% (513 more offences), from 8,845 to 9,358.'
>>> ordinal(4), ordinal(11), ordinal(22), ordinal(13)
('4th', '11th', '22nd', '13th')
"""

from __future__ import annotations

import math

import pandas as pd

from .methods.change import ChangeResult
from .methods.rates import RankResult


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def count(n: int) -> str:
    """Example:

    >>> count(12345)
    '12,345'
    """
    return f"{n:,}"


def percent(x: float) -> str:
    """Example:

    >>> percent(5.8234), percent(-0.04)
    ('5.8%', '0.0%')
    """
    value = round(x, 1)
    return f"{0.0 if value == 0 else value:.1f}%"


def p_value(p: float) -> str:
    """Example:

    >>> p_value(0.0001), p_value(0.0342), p_value(0.41)
    ('p < 0.001', 'p = 0.034', 'p = 0.41')
    """
    if p < 0.001:
        return "p < 0.001"
    if p < 0.1:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def change_sentence(subject: str, result: ChangeResult, *, noun: str = "offences") -> str:
    """'<subject> rose by 5.8% (513 more offences), from 8,845 to 9,358.'"""
    if result.change == 0:
        return f"{subject} did not change ({count(result.current)} {noun} in both periods)."
    direction = "rose" if result.change > 0 else "fell"
    more = "more" if result.change > 0 else "fewer"
    amount = count(abs(result.change))
    if math.isnan(result.percent_change):
        return (f"{subject} {direction} from none to {count(result.current)} {noun}.")
    return (f"{subject} {direction} by {percent(abs(result.percent_change))} "
            f"({amount} {more} {noun}), from {count(result.previous)} to "
            f"{count(result.current)}.")


def chance_sentence(result: ChangeResult) -> str:
    """Whether a change is more than year-to-year chance variation would produce."""
    if result.change == 0:
        return ""
    if result.significant:
        return (f"This change is larger than chance variation alone would be expected to "
                f"produce ({p_value(result.p_value)}).")
    return (f"A change of this size could arise from chance variation alone "
            f"({p_value(result.p_value)}), so it should not be read as a real shift.")


def rank_sentence(area_name: str, subject: str, result: RankResult, comparison_name: str,
                  *, noun: str = "crimes") -> str:
    """'Maidstone's rate of 62.3 crimes per 1,000 residents is the 4th highest of 13 ...'"""
    rank = "the highest" if result.rank == 1 else f"the {ordinal(result.rank)} highest"
    if result.rank == result.of:
        rank = "the lowest"
    relation = "above" if result.above_average else "below"
    if round(result.rate_per_1000, 1) == round(result.pooled_rate_per_1000, 1):
        relation = "the same as"
        tail = f"the {comparison_name} rate of {result.pooled_rate_per_1000:.1f}"
    else:
        tail = f"the {comparison_name} rate of {result.pooled_rate_per_1000:.1f}"
    return (f"{area_name}'s {subject} rate of {result.rate_per_1000:.1f} {noun} per 1,000 "
            f"residents is {rank} of the {result.of} districts in {comparison_name}, "
            f"{relation} {tail}.")


def change_bullets(table, *, asb_label: str = "Anti-social behaviour") -> str:
    """Markdown bullets, one per row of a :func:`~smp_analysis.methods.change.change_table`."""
    from .methods.change import ChangeResult

    lines = []
    for label, row in table.iterrows():
        result = ChangeResult(int(row["previous"]), int(row["current"]), int(row["change"]),
                              float(row["percent_change"]), float(row["rate_ratio"]),
                              float(row["ci_low"]), float(row["ci_high"]), float(row["p_value"]),
                              alpha=0.0 if not row["significant"] else 1.0)
        noun = "incidents" if label == asb_label else "offences"
        sentence = change_sentence(str(label), result, noun=noun)
        lines.append(f"- {sentence} {chance_sentence(result)}".rstrip())
    return "\n".join(lines)


def largest_changes_sentence(table, *, n: int = 3) -> str:
    """Which crime types changed most, in offences, among statistically clear changes."""
    clear = table[table["significant"]]
    if clear.empty:
        return ("No individual crime type changed by more than chance variation would be "
                "expected to produce.")
    rises = clear[clear["change"] > 0].sort_values("change", ascending=False).head(n)
    falls = clear[clear["change"] < 0].sort_values("change").head(n)
    parts = []
    if len(rises):
        parts.append("the largest clear rises were in " + _join(
            [f"{label.lower()} ({count(int(r['change']))} more)" for label, r in rises.iterrows()]))
    if len(falls):
        parts.append("the largest clear falls were in " + _join(
            [f"{label.lower()} ({count(abs(int(r['change'])))} fewer)"
             for label, r in falls.iterrows()]))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _join(items: list[str]) -> str:
    """Example:

    >>> _join(["a", "b", "c"])
    'a, b and c'
    """
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def period_sentence(area_name: str, current, previous) -> str:
    """Example:

    >>> from smp_analysis.periods import ReportingPeriod
    >>> import datetime as dt
    >>> p = ReportingPeriod(dt.date(2013, 10, 1), dt.date(2014, 9, 30))
    >>> print(period_sentence("Maidstone", p, p.preceding()))  # doctest: +NORMALIZE_WHITESPACE
    Figures for Maidstone cover October 2013 to September 2014,
    compared with October 2012 to September 2013.
    """
    return (f"Figures for {area_name} cover {current.name}, compared with {previous.name}.")


def trend_alt_text(monthly, area_name: str) -> str:
    """Alt text for a monthly line chart: what each line does from its first to last year."""
    parts = []
    for group, part in monthly.groupby("group", sort=False, observed=True):
        part = part.sort_values("month")
        first, last = part.head(12)["count"].sum(), part.tail(12)["count"].sum()
        peak = part.loc[part["count"].idxmax()]
        parts.append(f"{group}: {count(int(first))} in the first twelve months shown and "
                     f"{count(int(last))} in the last twelve, peaking at {count(int(peak['count']))}"
                     f" in {peak['month']:%B %Y}")
    return f"Line chart of monthly counts in {area_name}. " + "; ".join(parts) + "."


def change_alt_text(table, area_name: str) -> str:
    ordered = table.sort_values("percent_change", ascending=False)
    items = [f"{label} {percent(row['percent_change'])}" for label, row in ordered.iterrows()]
    return (f"Bar chart of percentage change by crime type in {area_name}, largest rise "
            f"first: " + ", ".join(items) + ".")


def rates_alt_text(rates, area_name: str, pooled: float) -> str:
    items = [f"{row['area_name']} {row['rate_per_1000']:.1f}" for _, row in rates.iterrows()]
    return (f"Bar chart of offences per 1,000 residents by district, highest first, with "
            f"{area_name} highlighted and the county rate of {pooled:.1f} marked: "
            + ", ".join(items) + ".")


def population_note(population) -> str:
    """Which population figures the rates use."""
    sources = sorted(set(population["source"]))
    return f"Rates use the {_join(sources)} for each district."


def rank_by_type_sentence(frame, area_name: str) -> str:
    """Crime types where the area is among the highest (top third) in the county."""
    high = frame[frame["rank"] <= max(1, frame["of"].iloc[0] // 3)]
    if high.empty:
        return f"{area_name} is not among the highest third of districts for any crime type."
    items = [f"{row['crime_type'].lower()} ({ordinal(int(row['rank']))})"
             for _, row in high.sort_values("rank").iterrows()]
    return (f"{area_name} is among the highest third of districts for " + _join(items) + ".")


def reconciliation_sentence(files) -> str:
    """Rows read = loaded + quarantined, in words, for the police.uk files of a store."""
    read, loaded = int(files["rows_read"].sum()), int(files["rows_loaded"].sum())
    quarantined = int(files["rows_quarantined"].sum())
    status = ("Every row is accounted for" if read == loaded + quarantined
              else "WARNING: the counts do not reconcile")
    return (f"The data store was built from {count(len(files))} police.uk files holding "
            f"{count(read)} rows: {count(loaded)} were loaded and {count(quarantined)} were "
            f"quarantined (set aside with their file, line and reason). {status}: no row was "
            "dropped silently.")


def anomalies_sentence(anomalies, current, previous) -> str:
    """How many findings there are and how many touch the periods compared."""
    if anomalies.empty:
        return "The checks found no missing months, implausible volumes or duplicated records."
    months = anomalies["month"]
    touching = anomalies[months.between(pd.Timestamp(previous.start), pd.Timestamp(current.end))]
    text = (f"The checks made {count(len(anomalies))} finding(s) across the whole data store; "
            f"{count(len(touching))} concern the two periods compared here "
            f"({previous.name} and {current.name}).")
    volume = touching[touching["kind"].str.startswith(("implausibly", "missing"))]
    if len(volume):
        listed = _join([f"{m:%B %Y}" for m in sorted(set(volume["month"]))])
        text += (f" Figures for {listed} should be read with care: see the table below.")
    return text


def unplaced_sentence(unplaced, period_rows: int, period_name: str) -> str:
    """Rows that no district can claim, as a share of the period's rows."""
    total = int(unplaced["count"].sum()) if len(unplaced) else 0
    if period_rows == 0:
        return f"There are no records for {period_name}."
    share = 100 * total / period_rows
    return (f"In {period_name}, {count(total)} of {count(period_rows)} records "
            f"({share:.1f}%) have no location or an LSOA missing from the lookup, so they "
            "count towards force totals but not towards any district.")


def flags_alt_text(monthly, anomalies) -> str:
    flagged = anomalies[anomalies["kind"].str.startswith("implausibly")]
    forces = _join(sorted(set(monthly["force"].astype(str))))
    if flagged.empty:
        marks = "no month is flagged"
    else:
        marks = "flagged months: " + ", ".join(f"{m:%B %Y}" for m in flagged["month"])
    return (f"Line chart of monthly recorded crime excluding anti-social behaviour for {forces}, "
            f"{len(monthly)} months; {marks}.")


def expected_sentence(annual, monthly, *, total_label: str = "Total recorded crime") -> str:
    """Headline for actual vs anticipated: total crime, then the types furthest above."""
    lines = []
    rows = annual.set_index("crime_type")
    if total_label in rows.index:
        r = rows.loc[total_label]
        lines.append(f"{total_label} was {count(int(r['observed']))} offences, "
                     f"{_vs_expected(r['percent_vs_expected'])} the anticipated "
                     f"{count(int(round(r['expected'])))}.")
    types = rows.drop(index=[total_label], errors="ignore")
    above = types[types["percent_vs_expected"] > 0].sort_values("percent_vs_expected",
                                                                  ascending=False)
    lines.append(f"{len(above)} of {len(types)} categories were above their anticipated "
                 "volume for the year" + (
                     ", most of all " + _join([f"{t.lower()} ({percent(v)} above)" for t, v in
                                              above["percent_vs_expected"].head(3).items()])
                     if len(above) else "") + ".")
    flagged = monthly[monthly["exceeds"]]
    if len(flagged):
        months = flagged.groupby("crime_type")["month"].apply(
            lambda m: _join([f"{x:%B %Y}" for x in sorted(m)]))
        lines.append("Months above the upper bound (more than chance would explain): "
                     + "; ".join(f"{t.lower()} in {m}" for t, m in months.items()) + ".")
    else:
        lines.append("No month was above its upper bound.")
    return " ".join(lines)


def _vs_expected(value: float) -> str:
    """Example:

    >>> _vs_expected(12.34), _vs_expected(-3.0), _vs_expected(0.01)
    ('12.3% above', '3.0% below', 'in line with')
    """
    if round(value, 1) == 0:
        return "in line with"
    return f"{percent(abs(value))} {'above' if value > 0 else 'below'}"


def expected_alt_text(history, area_name: str) -> str:
    parts = []
    for crime_type, part in history.groupby("crime_type", sort=False):
        above = int(part["exceeds"].sum())
        parts.append(f"{crime_type}: {count(int(part['observed'].sum()))} actual against "
                     f"{count(int(round(part['expected'].sum())))} anticipated, {above} month(s) "
                     "above the upper bound")
    return (f"Small-multiple line charts, one per crime category, of monthly actual and "
            f"anticipated volumes in {area_name} with the upper bound shaded. "
            + "; ".join(parts) + ".")


def other_expected_method(method: str) -> str:
    """Example:

    >>> other_expected_method("farrington")
    'seasonal_mean'
    """
    return "seasonal_mean" if method == "farrington" else "farrington"


def expected_method_note(expected, options) -> str:
    """Which method and baseline the anticipated volumes rest on, with any caveats."""
    name = {"farrington": "the Farrington flexible method (quasi-Poisson regression on the "
                          "same months of previous years, R surveillance::farringtonFlexible)",
            "seasonal_mean": "the seasonal mean of previous years scaled to last year's level"}
    years = max(expected.years_used.values()) if expected.years_used else 0
    text = (f"Anticipated volumes use {name[expected.method]}, with {years} year(s) of history; "
            f"the upper bound is the one-sided {100 * (1 - options.alpha):.0f}% limit.")
    for exclusion in options.baseline_exclusions:
        text += (f" {exclusion.start:%B %Y} to {exclusion.end:%B %Y} are left out of the "
                 f"baselines ({exclusion.reason}).")
    # the exclusions were described above with their reasons; keep the other notes
    extra = [n for n in expected.notes if "left out of the baselines" not in n]
    return " ".join([text, *extra])


def safe_rate(numerator: int, denominator: int, threshold: int) -> str:
    """A percentage that is hidden when either count is small.


    >>> safe_rate(3, 40, 5), safe_rate(12, 40, 5), safe_rate(0, 0, 5)
    ('–', '30.0%', '–')
    """
    from .disclosure import is_small

    if denominator == 0 or is_small(numerator, threshold) or is_small(denominator, threshold):
        return "–"
    return f"{100 * numerator / denominator:.1f}%"


def domestic_abuse_summary(da, area_name: str, current, previous, threshold: int) -> str:
    """Headline repeat-victimisation sentences; every count passes disclosure control."""
    from .disclosure import safe_count

    c, p = da.current, da.previous
    text = (f"In {current.name} there were {safe_count(c.incidents, threshold)} domestic-abuse "
            f"incidents in {area_name} ({da.rate_per_1000:.1f} per 1,000 residents), of which "
            f"{safe_count(da.crimes_current, threshold)} were recorded as crimes. ")
    if c.incidents >= threshold:
        text += change_sentence("The number of incidents", da.incidents_change,
                                noun="incidents") + " " + chance_sentence(da.incidents_change)
    rate_now = safe_rate(c.repeat_incidents, c.incidents, threshold)
    rate_before = safe_rate(p.repeat_incidents, p.incidents, threshold)
    if rate_now != "–":
        text += (f" {rate_now} of incidents were repeats (the victim's second or later incident "
                 f"within {da.window_days} days), against {rate_before} in {previous.name}")
        if da.repeat_rate_p_value == da.repeat_rate_p_value:
            verdict = ("more than chance variation would explain" if da.repeat_rate_p_value
                       < 0.05 else "a difference that could arise from chance")
            text += f"; {verdict} ({p_value(da.repeat_rate_p_value)})"
        text += "."
    if c.victims >= threshold:
        text += (f" {safe_count(c.repeat_victims, threshold)} of "
                 f"{safe_count(c.victims, threshold)} victims "
                 f"({safe_rate(c.repeat_victims, c.victims, threshold)}) were repeat victims; "
                 f"on average each victim had {c.incidents_per_victim:.2f} incidents.")
    if not da.lookback_complete:
        text += (f" The incident data do not reach {da.window_days} days before "
                 f"{previous.name.split(' to ')[0]}, so repeats early in the comparison period "
                 "may be undercounted.")
    return text


def marac_sentence(now, before, current, previous, threshold: int) -> str:
    """The Marac repeat rate against the SafeLives expected range."""
    from .disclosure import safe_count
    from .methods.repeats import SAFELIVES_REPEAT_RANGE

    if now is None:
        return "No Marac referral extract was supplied."
    low, high = SAFELIVES_REPEAT_RANGE
    rate = safe_rate(now.repeat_referrals, now.referrals, threshold)
    if rate == "–":
        return (f"There were {safe_count(now.referrals, threshold)} Marac referrals in "
                f"{current.name}; numbers are too small to publish a repeat rate.")
    if now.repeat_rate < low:
        where = (f"below the {low:.0%} to {high:.0%} range SafeLives expects; a low rate can "
                 "mean repeat victims are not being identified and re-referred")
    elif now.repeat_rate > high:
        where = (f"above the {low:.0%} to {high:.0%} range SafeLives expects; a high rate can "
                 "mean the Marac is not reducing risk for the victims it sees")
    else:
        where = f"within the {low:.0%} to {high:.0%} range SafeLives expects"
    before_text = safe_rate(before.repeat_referrals, before.referrals, threshold)
    return (f"Of {safe_count(now.referrals, threshold)} Marac referrals in {current.name}, "
            f"{safe_count(now.repeat_referrals, threshold)} ({rate}) were repeats within "
            f"12 months of a previous referral, {where} ({previous.name}: {before_text}).")


def ward_rates_alt_text(shown) -> str:
    visible = shown[(shown["Repeat incident rate"] != "–") & (shown.index < len(shown) - 1)]
    items = [f"{w} {r}" for w, r in zip(visible["Ward"], visible["Repeat incident rate"],
                                        strict=True)]
    return ("Bar chart of the repeat incident rate by ward, highest first, for wards with "
            "enough incidents to publish: " + ", ".join(items) + ".")


def _signed(x: float) -> str:
    """Example:

    >>> _signed(0.0424), _signed(-0.031)
    ('+4.2%', '-3.1%')
    """
    return f"{100 * x:+.1f}%"


def recording_sentence(adj, area_name: str, comparison_name: str, current, previous) -> str:
    """Observed vs recording-adjusted change for one crime type, with method and source."""
    when = f"{adj.change.date:%B %Y}"
    subject = adj.crime_type.lower()
    if not adj.affects_comparison:
        side = "after" if previous.start >= adj.change.date else "before"
        return (f"Both {previous.name} and {current.name} fall {side} the recording change of "
                f"{when}, so it does not distort this comparison: the recorded change in "
                f"{subject} of {_signed(adj.observed_change)} stands.")
    text = (f"Recorded {subject} in {area_name} changed by {_signed(adj.observed_change)} "
            f"between {previous.name} and {current.name}. Recording practice changed in {when} "
            f"({adj.change.source}).")
    estimates = []
    if adj.its is not None:
        estimates.append(f"{_signed(adj.its.uplift)} by interrupted time series (95% CI "
                         f"{_signed(adj.its.ci_low)} to {_signed(adj.its.ci_high)})")
    if adj.comparator is not None:
        estimates.append(f"{_signed(adj.comparator.uplift)} against hospital admissions for "
                         f"assault, which recording practice does not touch (95% CI "
                         f"{_signed(adj.comparator.ci_low)} to "
                         f"{_signed(adj.comparator.ci_high)})")
    if estimates:
        text += (f" Across {comparison_name}, the change is estimated to have added "
                 + " and ".join(estimates) + f" to recorded {subject}.")
    ranges = [v for k, v in adj.adjusted.items() if "adjusted_low" in v]
    if ranges:
        low = min(v["adjusted_low"] for v in ranges)
        high = max(v["adjusted_high"] for v in ranges)
        text += (f" Net of recording, the real change is estimated at between {_signed(low)} "
                 f"and {_signed(high)}, rather than the {_signed(adj.observed_change)} the "
                 "recorded figures show.")
    return text


RECORDING_CAVEATS = (
    "These estimates rest on assumptions. The interrupted time series attributes the whole "
    "step at the change date to recording, so a real change in crime at the same moment would "
    "be counted as recording. The comparator method assumes assault admissions follow the true "
    "level of violence; admissions cover only the most serious violence and are small in "
    "number, so their interval is wide. The uplift is estimated for the whole force area, where "
    "recording practice changed, and applied to the partnership's own counts.")


def recording_alt_text(adj, area_name: str) -> str:
    s = adj.series
    after = s[s["month"] >= pd.Timestamp(adj.change.date)]
    return (f"Line chart of monthly recorded {adj.crime_type.lower()} in {area_name} with the "
            f"recording change of {adj.change.date:%B %Y} marked; after it the recorded series "
            f"averages {after['observed'].mean():.0f} a month and the series adjusted to the "
            f"old recording practice {after['adjusted'].mean():.0f} a month.")


def recording_overview(adjustments) -> str:
    if not adjustments:
        return ("No recording-practice change is listed in the parameters for this assessment, "
                "so recorded figures are compared as they stand.")
    changes = _join(sorted({f"{a.change.date:%B %Y}" for a in adjustments}))
    affected = [a for a in adjustments if a.affects_comparison]
    text = f"Recording-practice changes listed for this assessment: {changes}."
    if affected:
        text += (" The comparison between the two periods straddles a change for "
                 + _join([a.crime_type.lower() for a in affected]) + ".")
    else:
        text += " Neither period straddles a change, so no adjustment is needed."
    return text + " " + RECORDING_CAVEATS


def recording_sentences(adjustments, area_name: str, comparison_name: str, current,
                        previous) -> str:
    """One paragraph per adjusted crime type."""
    return "\n\n".join(recording_sentence(a, area_name, comparison_name, current, previous)
                       for a in adjustments)
