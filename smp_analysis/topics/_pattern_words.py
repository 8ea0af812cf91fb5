"""Sentences of the patterns chapter (multi-year trends), as plain text.

>>> three_years("recorded crime in Maidstone", pd.Series([8101, 7372, 8457],
...             index=["2021-22", "2022-23", "2023-24"]))  # doctest: +NORMALIZE_WHITESPACE
'Over the past three years recorded crime in Maidstone has risen from a low of 7,372 in 2022-23 to
8,457 in 2023-24.'
>>> growth("Recorded crime", ("2021-22", "2022-23", "2023-24"),
...        0.099, 0.044, 0.03, True)  # doctest: +NORMALIZE_WHITESPACE
'Recorded crime continues to rise, but the rate of growth has slowed: up 4.4% in 2023-24 against
9.9% in 2022-23, a difference larger than the usual variation from year to year (p = 0.030).'
"""

from __future__ import annotations

import math

import pandas as pd

from ..report.words import capitalise, count, join, ordinal, p_value


def _pct(x: float) -> str:
    return f"{abs(100 * x):.1f}%"


def three_years(subject: str, values: pd.Series) -> str:
    """How a series of three annual totals moved, in words."""
    (a, b, c), (ya, yb, yc) = values.astype(int).tolist(), list(values.index)
    head = f"Over the past three years {subject}"
    if a < b < c:
        return f"{head} has risen each year, from {count(a)} in {ya} to {count(c)} in {yc}."
    if a > b > c:
        return f"{head} has fallen each year, from {count(a)} in {ya} to {count(c)} in {yc}."
    if c > a and b < a:
        return f"{head} has risen from a low of {count(b)} in {yb} to {count(c)} in {yc}."
    if c < a and b > a:
        return f"{head} has fallen from a high of {count(b)} in {yb} to {count(c)} in {yc}."
    return f"Over the past three years {subject} was {count(a)} in {ya}, {count(b)} in {yb} " \
           f"and {count(c)} in {yc}."


def trend(subject: str, n_years: int, years, change: float, low: float, high: float,
          p: float, clear: bool) -> str:
    """The multi-year trend test in words.

    >>> trend("recorded crime", 5, ("2019-20", "", "", "", "2023-24"), 0.034, 0.01, 0.06,
    ...       0.02, True)  # doctest: +NORMALIZE_WHITESPACE
    'Over the five years from 2019-20 to 2023-24 recorded crime changed by +3.4% a year on average
    (95% interval +1.0% to +6.0%): a rising trend, larger than the usual variation from year to
    year (p = 0.020).'
    """
    spelled = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
               9: "nine", 10: "ten"}.get(n_years, str(n_years))
    text = (f"Over the {spelled} years from {years[0]} to {years[-1]} {subject} changed by "
            f"{100 * change:+.1f}% a year on average (95% interval {100 * low:+.1f}% to "
            f"{100 * high:+.1f}%)")
    if math.isnan(p):
        return text + "."
    if clear:
        kind = "a rising trend" if change > 0 else "a falling trend"
        return f"{text}: {kind}, larger than the usual variation from year to year " \
               f"({p_value(p)})."
    return f"{text}: no clear trend, as changes of this size are within the usual variation " \
           f"from year to year ({p_value(p)})."


def growth(subject: str, years, previous: float, latest: float, p: float, clear: bool) -> str:
    """Is the latest year-on-year change speeding up or slowing down?"""
    y1, y2 = years[-2], years[-1]
    if any(math.isnan(v) for v in (previous, latest)):
        return ""
    if previous > 0 and latest > 0:
        verb = "continues to rise"
        how = ("but the rate of growth has slowed" if latest < previous
               else "and the rate of growth has increased")
    elif previous < 0 and latest < 0:
        verb = "continues to fall"
        how = ("but the fall has slowed" if latest > previous else "and the fall has sped up")
    else:
        return (f"{subject} {'rose' if previous > 0 else 'fell'} by {_pct(previous)} in {y1} "
                f"and {'rose' if latest > 0 else 'fell'} by {_pct(latest)} in {y2}.")
    detail = (f"{'up' if latest > 0 else 'down'} {_pct(latest)} in {y2} against "
              f"{_pct(previous)} in {y1}")
    if math.isnan(p):
        return f"{subject} {verb}, {how}: {detail}."
    verdict = ("a difference larger than the usual variation from year to year" if clear else
               "a difference within the usual variation from year to year")
    return f"{subject} {verb}, {how}: {detail}, {verdict} ({p_value(p)})."


def _changed(x: float) -> str:
    if math.isnan(x):
        return "could not be compared"
    if round(100 * x, 1) == 0:
        return "did not change"
    return f"{'rose' if x > 0 else 'fell'} by {_pct(x)}"


def beside(area: str, comparison: str, years, focus: pd.Series, other: pd.Series) -> str:
    """The focus area's change beside the comparison area's.

    >>> years = ["2021-22", "2022-23", "2023-24"]
    >>> beside("Maidstone", "Kent", years, pd.Series([100, 110, 121], index=years),
    ...        pd.Series([1000, 1000, 990], index=years))  # doctest: +NORMALIZE_WHITESPACE
    'Compared with 2022-23, recorded crime rose by 10.0% in Maidstone and fell by 1.0% across Kent as
    a whole; since 2021-22 it rose by 21.0% in Maidstone and fell by 1.0% in Kent.'
    """
    prev, last, first = years[-2], years[-1], years[0]

    def rel(s, a, b):
        return s[b] / s[a] - 1 if s[a] > 0 else math.nan

    return (f"Compared with {prev}, recorded crime {_changed(rel(focus, prev, last))} in {area} "
            f"and {_changed(rel(other, prev, last))} across {comparison} as a whole; since "
            f"{first} it {_changed(rel(focus, first, last))} in {area} and "
            f"{_changed(rel(other, first, last))} in {comparison}.")


def ranks(area: str, comparison: str, table: pd.DataFrame, years) -> str:
    """Rank by volume and by rate, with the previous year's ranks."""
    prev, last = years[-2], years[-1]
    parts = []
    of = int(table["of"].iloc[0])
    for name, row in table.loc[[n for n in table.index if n in (
            "Total recorded crime", "Anti-social behaviour")]].iterrows():
        parts.append(
            f"for {name.lower()} it is {ordinal(int(row['volume_rank']))} by volume "
            f"({ordinal(int(row['volume_rank_previous']))} in {prev}) and "
            f"{ordinal(int(row['rate_rank']))} by rate per 1,000 residents "
            f"({ordinal(int(row['rate_rank_previous']))} in {prev})")
    return (f"Among the {of} districts of {comparison} in {last} (1 = highest), "
            + join(parts) + ".")


def pandemic(area: str, name: str, row: pd.Series) -> str:
    """Total crime against the same months before the pandemic."""
    change = row["percent_change"]
    if math.isnan(change):
        return ""
    direction = "higher" if change > 0 else "lower"
    verdict = ("larger than the usual variation from year to year" if row["significant"] else
               "within the usual variation from year to year")
    return (f"Compared with the same months of {name}, before the pandemic, recorded crime in "
            f"{area} is {abs(change):.1f}% {direction} ({count(row['current'])} against "
            f"{count(row['previous'])}), a difference {verdict} ({p_value(row['p_adjusted'])}).")


def pandemic_types(table: pd.DataFrame) -> str:
    """Which crime types differ clearly from before the pandemic."""
    types = table.drop(index=[i for i in table.index if i in (
        "Total recorded crime", "Victim-based crime", "Other crimes against society")],
        errors="ignore")
    clear = types[types["significant"]]
    if clear.empty:
        return ("No crime type or ASB differs from its pre-pandemic level by more than the "
                "usual variation from year to year.")
    up = [f"{n.lower()} ({_pct(r['percent_change'] / 100)} higher)" for n, r in
          clear[clear["change"] > 0].sort_values("percent_change", ascending=False).iterrows()]
    down = [f"{n.lower()} ({_pct(r['percent_change'] / 100)} lower)" for n, r in
            clear[clear["change"] < 0].sort_values("percent_change").iterrows()]
    parts = []
    if up:
        parts.append("clearly above their pre-pandemic level: " + join(up))
    if down:
        parts.append("clearly below it: " + join(down))
    return capitalise("; ".join(parts)) + "."
