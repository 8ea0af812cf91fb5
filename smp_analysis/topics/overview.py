"""Chapter: overview of recorded crime and anti-social behaviour, and change on the previous
period, for total crime, the Home Office groups and each police.uk crime type.

Method: :func:`smp_analysis.methods.change.change_table` (exact conditional test for the ratio
of two Poisson rates; see that module for the reference and caveats).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..categories import (
    ANTI_SOCIAL_BEHAVIOUR,
    CRIME_TYPES,
    GROUP_ORDER,
    TOTAL_CRIME,
    with_groups,
)
from ..methods.change import ChangeResult, change_table
from ..periods import ReportingPeriod
from ..report import charts
from ..report.context import Assessment, TopicResult, topic
from ..report.markup import Block, Blocks, Bullets, Prose
from ..report.tables import Table, table
from ..report.words import chance_sentence, change_sentence, count, join, percent

TREND_YEARS = 5


@dataclass(frozen=True)
class Overview(TopicResult):
    area: str
    current: ReportingPeriod
    previous: ReportingPeriod
    groups: pd.DataFrame  # change_table rows: total crime, the two groups, ASB
    types: pd.DataFrame  # change_table rows: the crime types and ASB
    monthly: pd.DataFrame  # group, month, count over TREND_YEARS years
    synthetic: bool

    def summary(self) -> Block:
        return Blocks(Prose(f"Figures for {self.area} cover {self.current.name}, compared "
                            f"with {self.previous.name}."),
                      Bullets(_change_lines(self.groups)))

    def groups_table(self) -> Table:
        return _change_table(self.groups, f"{self.area}, {self.previous.name} compared with "
                             f"{self.current.name}", label="Category")

    def trend_figure(self) -> charts.Figure:
        return charts.monthly_lines(
            self.monthly, series="group", value="count",
            title=f"{self.area}: recorded crime and ASB per month", period=self.current,
            caption=f"Monthly offences and ASB incidents in {self.area} over five years; the "
                    f"shaded band is the assessment period ({self.current.name}).",
            alt=_trend_alt_text(self.monthly, self.area), synthetic=self.synthetic)

    def types_summary(self) -> Block:
        return Prose(_largest_changes_sentence(self.types))

    def types_table(self) -> Table:
        return _change_table(self.types, f"{self.area}, change by crime type",
                             label="Crime type")

    def types_figure(self) -> charts.Figure:
        return charts.change_bars(
            self.types, title=f"{self.area}: % change by crime type",
            caption=f"Percentage change from {self.previous.name} to {self.current.name} by "
                    "crime type; rises in orange, falls in blue.",
            alt=_change_alt_text(self.types, self.area), synthetic=self.synthetic)

    def headlines(self) -> list[str]:
        if TOTAL_CRIME not in self.groups.index:
            return []
        result = _result(self.groups.loc[TOTAL_CRIME])
        return [f"{change_sentence(f'Total recorded crime in {self.area}', result)} "
                f"{chance_sentence(result)}"]


@topic
def compute(sa: Assessment) -> Overview:
    def by_group(period: ReportingPeriod) -> pd.Series:
        monthly = sa.monthly(start=period.start, end=period.end, area_codes=[sa.focus_code])
        return with_groups(monthly).groupby("group")["count"].sum()

    def by_type(period: ReportingPeriod) -> pd.Series:
        monthly = sa.monthly(start=period.start, end=period.end, area_codes=[sa.focus_code])
        return monthly.groupby("crime_type")["count"].sum()

    options = dict(alpha=sa.options.alpha, current_exposure=sa.current.n_months,
                   previous_exposure=sa.previous.n_months)
    groups = change_table(by_group(sa.current), by_group(sa.previous), **options)
    types = change_table(by_type(sa.current), by_type(sa.previous), **options)
    return Overview(
        area=sa.focus_name, current=sa.current, previous=sa.previous,
        groups=groups.reindex([g for g in GROUP_ORDER if g in groups.index]),
        types=types.reindex([t for t in (*CRIME_TYPES, ANTI_SOCIAL_BEHAVIOUR)
                             if t in types.index]),
        monthly=_monthly_by_group(sa, TREND_YEARS), synthetic=sa.synthetic)


def _monthly_by_group(sa: Assessment, years: int) -> pd.DataFrame:
    """Monthly counts by group for the focus area over the last `years` years."""
    first = sa.current.first_month - 12 * years + sa.current.n_months
    monthly = sa.monthly(start=first.start_time.date(), end=sa.current.end,
                         area_codes=[sa.focus_code])
    grouped = with_groups(monthly).groupby(["group", "month"], as_index=False)["count"].sum()
    grouped["group"] = pd.Categorical(grouped["group"], categories=GROUP_ORDER, ordered=True)
    return grouped.sort_values(["group", "month"]).reset_index(drop=True)


def _result(row: pd.Series) -> ChangeResult:
    """A change_table row back as the result object the sentences take."""
    return ChangeResult(int(row["previous"]), int(row["current"]), int(row["change"]),
                        float(row["percent_change"]), float(row["rate_ratio"]),
                        float(row["ci_low"]), float(row["ci_high"]), float(row["p_value"]),
                        alpha=1.0 if row["significant"] else 0.0)


def _change_lines(changes: pd.DataFrame) -> list[str]:
    lines = []
    for label, row in changes.iterrows():
        result = _result(row)
        noun = "incidents" if label == ANTI_SOCIAL_BEHAVIOUR else "offences"
        lines.append(f"{change_sentence(str(label), result, noun=noun)} "
                     f"{chance_sentence(result)}".rstrip())
    return lines


def _largest_changes_sentence(changes: pd.DataFrame, *, n: int = 3) -> str:
    """Which crime types changed most, in offences, among statistically clear changes.

    >>> t = change_table(pd.Series({"Burglary": 300, "Robbery": 11, "Drugs": 100}),
    ...                  pd.Series({"Burglary": 200, "Robbery": 10, "Drugs": 160}))
    >>> _largest_changes_sentence(t)
    'The largest clear rises were in burglary (100 more); the largest clear falls were in drugs (60 fewer).'
    """
    clear = changes[changes["significant"]]
    if clear.empty:
        return ("No individual crime type changed by more than chance variation would be "
                "expected to produce.")
    rises = clear[clear["change"] > 0].sort_values("change", ascending=False).head(n)
    falls = clear[clear["change"] < 0].sort_values("change").head(n)
    parts = []
    if len(rises):
        parts.append("the largest clear rises were in " + join(
            [f"{label.lower()} ({count(r['change'])} more)" for label, r in rises.iterrows()]))
    if len(falls):
        parts.append("the largest clear falls were in " + join(
            [f"{label.lower()} ({count(abs(r['change']))} fewer)"
             for label, r in falls.iterrows()]))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _change_table(changes: pd.DataFrame, caption: str, *, label: str) -> Table:
    view = pd.DataFrame({
        label: changes.index.astype(str),
        "Previous period": changes["previous"].to_numpy(),
        "Assessment period": changes["current"].to_numpy(),
        "Change": changes["change"].to_numpy(),
        "% change": changes["percent_change"].to_numpy(),
        "More than chance?": ["Yes" if s else "No" for s in changes["significant"]],
        "p-value": changes["p_value"].to_numpy(),
    })
    return table(view, caption, counts=("Previous period", "Assessment period"),
                 differences=("Change",), percents=("% change",), p_values=("p-value",))


def _trend_alt_text(monthly: pd.DataFrame, area: str) -> str:
    """What each line does from its first to its last year."""
    parts = []
    for group, part in monthly.groupby("group", sort=False, observed=True):
        part = part.sort_values("month")
        first, last = part.head(12)["count"].sum(), part.tail(12)["count"].sum()
        peak = part.loc[part["count"].idxmax()]
        parts.append(f"{group}: {count(first)} in the first twelve months shown and "
                     f"{count(last)} in the last twelve, peaking at {count(peak['count'])}"
                     f" in {peak['month']:%B %Y}")
    return f"Line chart of monthly counts in {area}. " + "; ".join(parts) + "."


def _change_alt_text(changes: pd.DataFrame, area: str) -> str:
    ordered = changes.sort_values("percent_change", ascending=False)
    items = [f"{label} {percent(row['percent_change'])}" for label, row in ordered.iterrows()]
    return (f"Bar chart of percentage change by crime type in {area}, largest rise first: "
            + ", ".join(items) + ".")
