"""Chapter: partner indicators and targets. For each partner indicator (hospital admissions,
road casualties, reoffending, surveys...): the focus area's latest value with its interval,
the change on the previous period with its test, the comparison averages, the funnel
position and rank interval among the comparison districts; then each action-plan target with
its status.

Data: the partner-indicator files (``data.indicators``; docs/data_dictionary.md). The numbers
come from :mod:`._indicator_stats` and :mod:`._indicator_targets`, which name their methods.
Counts of 1 to ``options.suppression_threshold - 1`` are not published, nor the rates built
on them (these are often counts of victims or patients).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..methods.targets import percent_difference, status_summary
from ..report import charts
from ..report.context import Assessment, TopicResult, topic, when_available
from ..report.markup import EMPTY, Block, Blocks, Bullets, Notice, Prose
from ..report.tables import Table, table
from ..report.words import capitalise, join, ordinal, p_value, plural
from ..store import queries
from ._district_funnel import rank_phrase
from ._indicator_stats import IndicatorSummary, summarise
from ._indicator_targets import TargetResult, evaluate


def period_name(start: dt.date, end: dt.date) -> str:
    """'2023', 'April 2023 to March 2024', 'September to November 2023', 'March 2024'.

    >>> period_name(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    '2023'
    >>> period_name(dt.date(2023, 9, 1), dt.date(2023, 11, 30))
    'September to November 2023'
    """
    whole = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if not whole:
        return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"
    if start.month == 1 and end.month == 12 and start.year == end.year:
        return str(start.year)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%B %Y}"
    if start.year == end.year:
        return f"{start:%B} to {end:%B %Y}"
    return f"{start:%B %Y} to {end:%B %Y}"


def number(value: float) -> str:
    """Two decimals below 10, one below 1,000, none above.

    >>> number(2.375), number(19.04), number(1310.0)
    ('2.38', '19.0', '1,310')
    """
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"


def unit(kind: str, per: int) -> str:
    """' per 10,000', '%' or '' (counts)."""
    if kind == "count" or per == 1:
        return ""
    if kind in ("proportion", "observed_vs_predicted"):
        return "%" if per == 100 else f" per {per:,}"
    return f" per {per:,}"


def formatted(value: float, kind: str, per: int) -> str:
    if kind == "count":
        return f"{value:,.0f}"
    return f"{number(value)}{unit(kind, per)}"


@dataclass(frozen=True)
class Indicators(TopicResult):
    area: str
    comparison: str
    current_name: str = ""
    summaries: tuple[IndicatorSummary, ...] = ()
    targets: tuple[TargetResult, ...] = ()
    groups: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()  # files that could not be read: "name: problems"
    threshold: int = 5
    synthetic: bool = False

    # ---------------------------------------------------------------- wording helpers
    def _small(self, count: float | None) -> bool:
        return count is not None and 0 < count < self.threshold

    def _value(self, s: IndicatorSummary, r) -> str:
        if self._small(r.numerator):
            return f"fewer than {self.threshold} events (not shown)"
        return formatted(r.value, s.kind, s.per)

    def _interval(self, s: IndicatorSummary, r, *, units: bool = True) -> str:
        if self._small(r.numerator):
            return "–"
        if not units:
            if s.kind == "count":
                return f"{r.interval.low:,.0f} to {r.interval.high:,.0f}"
            return f"{number(r.interval.low)} to {number(r.interval.high)}"
        return f"{formatted(r.interval.low, s.kind, s.per)} to " \
               f"{formatted(r.interval.high, s.kind, s.per)}"

    def _change_text(self, s: IndicatorSummary) -> str:
        if s.previous is None or s.change is None:
            return "no earlier period of the same length to compare with"
        when = period_name(s.previous.start, s.previous.end)
        if self._small(s.current.numerator) or self._small(s.previous.numerator):
            return f"too few events to compare with {when}"
        if s.is_share:
            points = 100 * s.change.difference * s.per / 100
            if round(points, 1) == 0:
                movement = f"unchanged on {when}"
            else:
                direction = "up" if points > 0 else "down"
                measure = "percentage points" if s.per == 100 else f"per {s.per:,}"
                movement = f"{direction} {abs(points):.1f} {measure} on {when}"
            verdict = ("more than sampling variation would produce" if s.change.significant
                       else "a difference sampling variation could produce")
            text = f"{movement} ({self._value(s, s.previous)}; {verdict}, " \
                   f"{p_value(s.change.p_value)})"
            if s.comparison_change is not None:
                text += (f", against {_movement(s.comparison_change, ' points')} across "
                         f"{self.comparison}")
            return text
        change = s.change
        pct = 100 * (change.rate_ratio - 1) if s.kind != "count" else change.percent_change
        if change.change == 0 and s.kind == "count":
            movement = f"unchanged on {when}"
        elif pct != pct:
            movement = f"up from none in {when}"
        else:
            movement = f"{'up' if pct > 0 else 'down'} {abs(pct):.1f}% on {when}"
        usual = ("the usual year-to-year variation" if s.dispersion is not None
                 else "chance variation")
        verdict = (f"larger than {usual}" if change.significant
                   else f"a change {usual} could produce")
        extra = (f", allowing for over-dispersion (factor {s.dispersion:.1f})"
                 if s.dispersion is not None and round(s.dispersion, 1) > 1 else "")
        detail = self._value(s, s.previous)
        if s.kind == "rate" and change.percent_change == change.percent_change:
            detail = (f"{detail}; in number {change.current:,} against {change.previous:,}, "
                      f"{change.percent_change:+.1f}%")
        text = f"{movement} ({detail}; {verdict}, {p_value(change.p_value)}{extra})"
        if s.comparison_change is not None:
            text += f", against {_movement(s.comparison_change, '%')} across {self.comparison}"
        return text

    def _comparison_text(self, s: IndicatorSummary) -> str:
        parts = []
        if s.comparison is not None:
            parts.append(f"{self.comparison} {formatted(s.comparison, s.kind, s.per)}")
        parts += [f"{name} {formatted(value, s.kind, s.per)}" for name, value, _ in s.groups
                  if value is not None]
        return join(parts)

    def sentence(self, s: IndicatorSummary) -> str:
        """One sentence on one indicator."""
        if s.current is None:
            return f"{s.label}: no data for {self.area} up to the end of the assessment period."
        c = s.current
        when = period_name(c.start, c.end)
        if s.kind == "observed_vs_predicted" and c.predicted is not None:
            text = (f"{s.label}: {self._value(s, c)} actual against "
                    f"{formatted(c.predicted, s.kind, s.per)} predicted in {self.area} for "
                    f"{when}")
            if s.predicted is not None and not self._small(c.numerator):
                diff = percent_difference(c.value, c.predicted)
                verdict = ("more than chance" if s.predicted.significant
                           else "a difference chance could produce")
                text += (f" ({abs(diff):.1f}% {'above' if diff > 0 else 'below'} predicted; "
                         f"{verdict}, {p_value(s.predicted.p_value)})")
        else:
            text = f"{s.label}: {self._value(s, c)} in {self.area} in {when}"
            if not self._small(c.numerator):
                if s.kind == "count":
                    count = ""
                elif s.is_share:
                    count = f"{c.numerator:,.0f} of {c.denominator:,.0f}; "
                else:
                    count = f"count {c.numerator:,.0f}; "
                text += f" ({count}95% interval {self._interval(s, c, units=False)})"
        text += f", {self._change_text(s)}"
        comparison = self._comparison_text(s)
        if comparison:
            text += f"; {comparison}"
        if s.funnel is not None:
            text += (f"; {s.funnel.focus_position} of the funnel around the {self.comparison} "
                     f"{_noun(s)}")
        if s.rank is not None:
            text += (f"; {rank_phrase(s.rank.rank, s.rank.of)} of {s.rank.of} districts "
                     f"(95% rank interval {ordinal(s.rank.low)} to {ordinal(s.rank.high)})")
        return text + "."

    def target_sentence(self, t: TargetResult) -> str:
        head = f"{t.label}: {t.description}"
        if t.target is None or t.current is None:
            return f"{head}: not assessed, because {t.note}."
        baseline = period_name(*t.baseline_period)
        current = period_name(*t.current_period)
        due = f"{t.target_date.day} {t.target_date:%B %Y}"
        text = (f"{head}: target {formatted(t.target, t.unit_kind, t.per)} by {due} "
                f"({t.basis}), from {formatted(t.baseline, t.unit_kind, t.per)} in {baseline}; "
                f"latest {formatted(t.current, t.unit_kind, t.per)} in {current}")
        if t.kind == "near_zero_difference":
            text = (f"{head}: keep the difference from predicted within "
                    f"{formatted(t.target, 'count', 1)}% by {due}; it was "
                    f"{t.baseline:.1f}% in {baseline} and is {t.current:.1f}% in {current}")
        if t.trajectory is not None and t.status in ("on track", "off track"):
            text += f", against {formatted(t.trajectory, t.unit_kind, t.per)} on the straight " \
                    "line from the baseline to the target"
        if t.status is None:
            return f"{text}: not assessed, because {t.note}."
        if t.via_interval:
            return (f"{text}: {t.status}, because the 95% interval of the latest value "
                    f"({formatted(t.interval[0], t.unit_kind, t.per)} to "
                    f"{formatted(t.interval[1], t.unit_kind, t.per)}) includes "
                    f"{'the line' if t.trajectory is not None else 'the target'}.")
        return f"{text}: {t.status}."

    # ---------------------------------------------------------------- blocks
    def summary(self) -> Block:
        notes = [Notice(f"An indicator file could not be read and is left out: {f}", "warning")
                 for f in self.failures]
        if self.missing:
            return Blocks(self.missing_note(), *notes)
        shown = [s for s in self.summaries if s.current is not None]
        sources = sorted({src for s in shown for src in s.sources})
        text = (f"This chapter covers {plural(len(self.summaries), 'partner indicator')} for "
                f"{self.area} from {plural(len(sources), 'source')}, each at its latest "
                f"period up to the end of {self.current_name}.")
        assessed = [t.status for t in self.targets if t.status is not None]
        if self.targets:
            text += f" Targets: {status_summary(assessed)}" if assessed else \
                " No target can be assessed yet."
        return Blocks(Prose(text), *notes)

    @when_available
    def sentences(self) -> Block:
        return Bullets([self.sentence(s) for s in self.summaries])

    @when_available
    def values_table(self) -> Table:
        rows = []
        for s in self.summaries:
            c = s.current
            rows.append({
                "Indicator": s.label,
                "Period": period_name(c.start, c.end) if c else "–",
                "Value": self._value(s, c) if c else "no data",
                "95% interval": self._interval(s, c) if c else "–",
                "Change on previous period": capitalise(self._change_text(s)) if c else "–",
            })
        return table(pd.DataFrame(rows), f"Partner indicators for {self.area}: latest value, "
                     "95% interval and change on the previous period of the same length")

    @when_available
    def comparison_table(self) -> Block:
        rows = []
        for s in self.summaries:
            if s.current is None or s.kind == "count":
                continue
            row = {"Indicator": s.label, self.area: self._value(s, s.current),
                   self.comparison: (formatted(s.comparison, s.kind, s.per)
                                     if s.comparison is not None else "–")}
            for name, value, _n in s.groups:
                row[name] = formatted(value, s.kind, s.per) if value is not None else "–"
            row["Rank (1 = highest)"] = (f"{ordinal(s.rank.rank)} of {s.rank.of}" if s.rank
                                         else "–")
            row["95% rank interval"] = (f"{ordinal(s.rank.low)} to {ordinal(s.rank.high)}"
                                        if s.rank else "–")
            row["Funnel position"] = s.funnel.focus_position if s.funnel else "–"
            rows.append(row)
        if not rows:
            return EMPTY
        return table(pd.DataFrame(rows), f"{self.area} compared with the districts of "
                     f"{self.comparison} and the comparison groups (pooled averages)")

    @when_available
    def funnel_figures(self) -> Block:
        figures = []
        for s in self.summaries:
            if s.funnel is None:
                continue
            noun = _noun(s)
            measure = (f"{s.label.lower()}{' (%)' if s.is_share and s.per == 100 else ''}"
                       f"{unit(s.kind, s.per) if not s.is_share else ''}")
            figures.append(s.funnel.figure(
                title=f"{s.label}, {period_name(s.current.start, s.current.end)}",
                xlabel="Respondents" if s.kind == "proportion" else
                "Offenders in the cohort" if s.kind == "observed_vs_predicted" else
                "Residents", ylabel=capitalise(noun) + (" (%)" if s.is_share and s.per == 100
                                                        else unit(s.kind, s.per)),
                measure=measure, noun=noun, area=self.area, comparison=self.comparison,
                caption=f"Funnel plot of {s.label.lower()} by district of {self.comparison}, "
                        "with 95% (dashed) and 99.8% (solid) limits around the "
                        f"{self.comparison} value; {self.area} is the larger dark blue point, "
                        "named on the chart. "
                        + s.funnel.sentence(self.area, noun, self.comparison,
                                            unit=unit(s.kind, s.per), noun=noun),
                synthetic=self.synthetic))
        return Blocks(*figures) if figures else EMPTY

    def targets_summary(self) -> Block:
        if self.missing or not self.targets:
            return EMPTY
        assessed = [t.status for t in self.targets if t.status is not None]
        text = status_summary(assessed) if assessed else "No target can be assessed yet."
        waiting = len(self.targets) - len(assessed)
        if waiting:
            text += f" {plural(waiting, 'target')} cannot be assessed (see below)."
        return Prose(text)

    def targets_sentences(self) -> Block:
        if self.missing or not self.targets:
            return EMPTY
        return Bullets([self.target_sentence(t) for t in self.targets])

    def targets_table(self) -> Block:
        if self.missing or not self.targets:
            return EMPTY
        rows = []
        for t in self.targets:
            def show(value, t=t):
                return "–" if value is None else formatted(value, t.unit_kind, t.per)
            rows.append({
                "Indicator": t.label, "Target": t.description,
                "Baseline": (f"{show(t.baseline)} ({period_name(*t.baseline_period)})"
                             if t.baseline_period and t.baseline is not None else "–"),
                "Target value": show(t.target),
                "By": f"{t.target_date:%d %b %Y}" if t.target_date else "–",
                "Latest": (f"{show(t.current)} ({period_name(*t.current_period)})"
                           if t.current_period and t.current is not None else "–"),
                "On the line to target": show(t.trajectory),
                "Status": capitalise(t.status) if t.status else "Not assessed",
            })
        return table(pd.DataFrame(rows), f"Action-plan targets for {self.area} and their "
                     "status")

    def headlines(self) -> list[str]:
        if self.missing:
            return []
        lines = []
        assessed = [t.status for t in self.targets if t.status is not None]
        if assessed:
            lines.append(f"Partner-indicator targets: {status_summary(assessed)}")
        flagged = [s.label.lower() for s in self.summaries
                   if s.funnel is not None and s.funnel.focus_position.endswith("99.8% limit")]
        if flagged:
            lines.append(f"{self.area} lies outside the 99.8% funnel limits of the "
                         f"{self.comparison} districts for {join(flagged)}.")
        return lines


@topic
def compute(sa: Assessment) -> Indicators:
    paths = sa.params.data.indicators
    rows = queries.indicator_rows(sa.con, paths=paths)
    failures = queries.indicator_failures(sa.con)
    if paths is not None:
        named = {str(p.resolve()) for p in paths}
        failures = failures[failures["path"].isin(named)]
    failed = tuple(_failure_text(path, error) for path, error in
                   zip(failures["path"], failures["error"], strict=True))
    base = dict(area=sa.focus_name, comparison=sa.comparison_name, current_name=sa.current.name,
                failures=failed, threshold=sa.options.suppression_threshold,
                synthetic=sa.synthetic)
    if rows.empty:
        reason = ("no partner-indicator file was supplied (data.indicators in the params "
                  "file)" if not paths and not failed else "no usable rows were loaded from the "
                  "partner-indicator files")
        return Indicators(**base, missing=f"Partner indicators and targets cannot be shown: "
                                          f"{reason}.")
    groups = {g.name: list(g.districts) for g in sa.params.comparison_groups}
    names = sa.districts["area_name"]
    order = rows.groupby("indicator_id", sort=False)["line"].min().sort_values(kind="stable")
    summaries = {}
    for indicator in order.index:
        part = rows[rows["indicator_id"] == indicator]
        summaries[indicator] = summarise(
            part, focus=sa.focus_code, districts=names, groups=groups, until=sa.current.end,
            alpha=sa.options.alpha, hide_below=sa.options.suppression_threshold)
    targets = tuple(
        evaluate(spec, rows[(rows["indicator_id"] == spec.indicator) &
                            (rows["period_end"] <= sa.current.end)],
                 summaries.get(spec.indicator), focus=sa.focus_code, area=sa.focus_name,
                 districts=names, groups=groups, comparison_name=sa.comparison_name)
        for spec in sa.params.targets)
    return Indicators(**base, summaries=tuple(summaries.values()), targets=targets,
                      groups=tuple(groups))


def _noun(s: IndicatorSummary) -> str:
    return "percentage" if s.is_share and s.per == 100 else \
        "proportion" if s.is_share else "rate"


def _movement(change: float, suffix: str) -> str:
    """'a rise of 26.3%', 'a fall of 1.5 points', 'no change'.

    >>> _movement(26.3, "%"), _movement(-1.46, " points"), _movement(0.01, "%")
    ('a rise of 26.3%', 'a fall of 1.5 points', 'no change')
    """
    if round(change, 1) == 0:
        return "no change"
    return f"a {'rise' if change > 0 else 'fall'} of {abs(change):.1f}{suffix}"


def _failure_text(path: str, error: str) -> str:
    from pathlib import Path

    problems = [line.strip(" -") for line in str(error).splitlines()[1:4]]
    return f"{Path(path).name} ({'; '.join(problems) or error})"


__all__ = ["Indicators", "charts", "compute"]
