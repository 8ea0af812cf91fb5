"""Fair comparison of districts, shared by the rates and partner-indicator chapters: a funnel
plot around the comparison value and the focus area's rank interval, with their sentences.

Methods: :mod:`smp_analysis.methods.funnel` (Spiegelhalter 2005) and
:mod:`smp_analysis.methods.ranks` (Marshall and Spiegelhalter 1998).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..methods.funnel import (
    LEVELS,
    FunnelDispersion,
    funnel_dispersion,
    funnel_limits,
    funnel_position,
    level_name,
)
from ..methods.ranks import RankInterval, rank_interval
from ..report import charts, funnel_chart
from ..report.words import ordinal

GRID_POINTS = 120


def per_phrase(per: int) -> str:
    """'per 1,000' (or '%' for proportions per 100, handled by the caller).

    >>> per_phrase(10_000), per_phrase(1)
    ('per 10,000', '')
    """
    return "" if per == 1 else f"per {per:,}"


@dataclass(frozen=True)
class FunnelComparison:
    """The focus area against the comparison districts on a funnel plot."""

    areas: pd.DataFrame  # by code: name, numerator, denominator, value, position + limits
    curve: pd.DataFrame  # denominator grid and its limits (drawing the funnel)
    target: float  # the pooled comparison value, per `per`
    per: int
    distribution: str  # poisson (rates) or binomial (proportions)
    spread: FunnelDispersion
    focus_code: str
    hidden: int = 0  # areas left off the plot (small counts, disclosure control)

    @property
    def focus_position(self) -> str:
        return str(self.areas.at[self.focus_code, "position"])

    @property
    def poisson_position(self) -> str:
        """Where the focus area would lie with no allowance for over-dispersion."""
        row = self.areas.loc[self.focus_code]
        limits = funnel_limits(pd.Series([row["denominator"]]), self.target, per=self.per,
                               distribution=self.distribution).iloc[0]
        return funnel_position(float(row["value"]), limits)

    def outside(self, level: float = 0.998) -> pd.DataFrame:
        name = level_name(level)
        rows = self.areas
        return rows[(rows["value"] > rows[f"upper_{name}"]) |
                    (rows["value"] < rows[f"lower_{name}"])]

    def sentence(self, area: str, subject: str, comparison: str, *, unit: str,
                 noun: str = "rate") -> str:
        """'Maidstone's recorded crime rate of 62.3 per 1,000 residents lies within the 95%
        limits of a funnel plot of the 13 districts around the Kent rate of 60.1 ...'"""
        value = float(self.areas.at[self.focus_code, "value"])
        text = (f"{area}'s {subject} of {value:,.1f}{unit} lies {self.focus_position} of a "
                f"funnel plot of the {len(self.areas)} districts around the {comparison} "
                f"{noun} of {self.target:,.1f}{unit}")
        if self.spread.overdispersed:
            plain = self.poisson_position
            text += (f"; the limits allow for the districts varying more than chance alone "
                     f"would make them (over-dispersion factor {self.spread.phi:,.1f})")
            if plain != self.focus_position:
                text += f", without which it would lie {plain}"
        elif self.spread.areas >= 2:
            text += "; the districts vary no more than chance would make them"
        return text + "."

    def figure(self, *, title: str, xlabel: str, ylabel: str, caption: str, area: str,
               comparison: str, synthetic: bool, measure: str,
               noun: str = "rate") -> charts.Figure:
        shown = self.areas[self.areas["plotted"]]
        return funnel_chart.funnel_plot(
            shown, self.curve, target=self.target, focus=self.focus_code, title=title,
            xlabel=xlabel, ylabel=ylabel, caption=caption, synthetic=synthetic,
            target_label=f"{comparison} {noun}",
            alt=self.alt_text(area, comparison, measure, xlabel.lower(), noun))

    def alt_text(self, area: str, comparison: str, measure: str, size: str,
                 noun: str = "rate") -> str:
        rows = self.areas[self.areas["plotted"]].sort_values("value", ascending=False)
        items = [f"{row['name']} {row['value']:,.1f} ({row['position']})"
                 for _, row in rows.iterrows()]
        hidden = (f" {self.hidden} district(s) with very small counts are not plotted."
                  if self.hidden else "")
        return (f"Funnel plot of {measure} against the number of {size} in each district, "
                f"with {area} highlighted, the {comparison} {noun} of {self.target:,.1f} as a "
                f"line and 95% and 99.8% control limits. Districts, highest first: "
                + "; ".join(items) + "." + hidden)


def funnel_comparison(numerators: pd.Series, denominators: pd.Series, names: pd.Series,
                      focus_code: str, *, per: int, distribution: str = "poisson",
                      hide_below: int = 0) -> FunnelComparison:
    """Funnel limits around the pooled value of the areas of `denominators`; over-dispersion
    is allowed for when Spiegelhalter's test shows it. Areas with 1 to `hide_below` - 1 events
    are left off the plot (disclosure control) but still count in the comparison."""
    numerators = numerators.reindex(denominators.index).astype(float)
    target = float(per * numerators.sum() / denominators.sum())
    spread = funnel_dispersion(numerators.to_numpy(), denominators.to_numpy(), target,
                               per=per, distribution=distribution)
    limits = funnel_limits(denominators, target, per=per, distribution=distribution,
                           dispersion=spread.dispersion)
    values = per * numerators / denominators
    areas = pd.DataFrame({"name": names.reindex(denominators.index).fillna(
        pd.Series(denominators.index, index=denominators.index)),
        "numerator": numerators, "denominator": denominators.astype(float), "value": values})
    areas = areas.join(limits)
    areas["position"] = [funnel_position(v, limits.loc[code], LEVELS)
                         for code, v in values.items()]
    areas["plotted"] = ~((areas["numerator"] > 0) & (areas["numerator"] < hide_below))
    low, high = float(denominators.min()), float(denominators.max())
    grid = pd.Series(np.geomspace(max(low * 0.7, 1.0), high * 1.3, GRID_POINTS))
    curve = funnel_limits(grid, target, per=per, distribution=distribution,
                          dispersion=spread.dispersion)
    curve.insert(0, "denominator", grid.to_numpy())
    return FunnelComparison(areas, curve, target, per, distribution, spread, focus_code,
                            int((~areas["plotted"]).sum()))


def rank_phrase(rank: int, of: int) -> str:
    """'the highest', 'the 4th highest', 'the lowest'.

    >>> rank_phrase(1, 13), rank_phrase(4, 13), rank_phrase(13, 13)
    ('the highest', 'the 4th highest', 'the lowest')
    """
    if rank == 1:
        return "the highest"
    if rank == of:
        return "the lowest"
    return f"the {ordinal(rank)} highest"


def rank_interval_sentence(area: str, result: RankInterval, *, allowance: str) -> str:
    """'Allowing for chance ..., Maidstone's rank could be anywhere from 3rd to 6th highest of
    the 13 districts (95% rank interval).'"""
    level = f"{100 * result.level:g}%"
    if result.certain:
        return (f"{area} is {rank_phrase(result.rank, result.of)} of the {result.of} districts "
                f"in every simulation allowing for {allowance}: the rank is clear "
                f"({level} rank interval).")
    return (f"{area} ranks {rank_phrase(result.rank, result.of)} of the {result.of} districts, "
            f"but allowing for {allowance} its rank could be anywhere from {ordinal(result.low)}"
            f" to {ordinal(result.high)} highest ({level} rank interval).")


def focus_rank_interval(numerators: pd.Series, denominators: pd.Series, focus_code: str, *,
                        kind: str = "rate", dispersion=1.0) -> RankInterval:
    return rank_interval(numerators.reindex(denominators.index).astype(float), denominators,
                         focus_code, kind=kind, dispersion=dispersion)
