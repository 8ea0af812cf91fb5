"""Key findings: the headline sentence of each chapter, gathered for the front of the appendix.

Every sentence comes from the same library functions the chapters use, so the summary and the
chapters cannot disagree.
"""

from __future__ import annotations

from . import narrative
from .assessment import TOTAL_CRIME, Assessment
from .methods.change import ChangeResult


def key_findings(sa: Assessment) -> str:
    """Markdown bullets: change, rank, anticipated volumes, data quality, domestic abuse,
    recording practice (each only when its data are available)."""
    bullets = []
    groups = sa.change_by_group()
    if TOTAL_CRIME in groups.index:
        row = groups.loc[TOTAL_CRIME]
        result = ChangeResult(int(row["previous"]), int(row["current"]), int(row["change"]),
                              float(row["percent_change"]), float(row["rate_ratio"]),
                              float(row["ci_low"]), float(row["ci_high"]),
                              float(row["p_value"]), sa.params.options.alpha)
        bullets.append(narrative.change_sentence(f"Total recorded crime in {sa.focus_name}",
                                                 result) + " "
                       + narrative.chance_sentence(result))
    bullets.append(narrative.rank_sentence(sa.focus_name, "recorded crime", sa.focus_rank(),
                                           sa.comparison_name))
    try:
        expected = sa.expected()
    except ValueError:
        expected = None
    if expected is not None:
        bullets.append(narrative.expected_sentence(expected.annual, expected.monthly)
                       .split(". ")[0] + ".")
    quality = sa.data_quality()
    bullets.append(narrative.anomalies_sentence(quality.anomalies, sa.current, sa.previous))
    da = sa.domestic_abuse()
    if da is not None:
        threshold = sa.params.options.suppression_threshold
        rate = narrative.safe_rate(da.current.repeat_incidents, da.current.incidents, threshold)
        if rate != "–":
            bullets.append(f"{rate} of domestic-abuse incidents in {sa.focus_name} were repeats "
                           f"(a victim's second or later incident within {da.window_days} "
                           "days).")
    for adjustment in sa.recording_adjustments():
        if adjustment.affects_comparison:
            net = narrative.recording_sentence(
                adjustment, sa.focus_name, sa.comparison_name, sa.current, sa.previous
            ).split(". ")[-1]
            bullets.append(f"{adjustment.crime_type}: {net[0].lower()}{net[1:]}")
    return "\n".join(f"- {b}" for b in bullets if b)
