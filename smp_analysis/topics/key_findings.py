"""Front matter: the key findings, one bullet per chapter headline.

The bullets are the chapters' own :meth:`headlines`, taken from the same cached results the
chapters show, so the front page and the chapters cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report.context import Assessment, TopicResult, topic
from ..report.markup import Block, Bullets
from . import (
    data_quality,
    domestic_abuse,
    expected,
    indicators,
    overview,
    patterns,
    places,
    priorities,
    rates,
    recording,
)

# The order of the bullets: the recommended priorities and the current priorities' status
# first, then change, rank, anticipated volumes, data quality, domestic abuse,
# recording practice, partner indicators and targets, places (hotspots), patterns (trends and
# seasons).
SOURCES = (priorities, overview, rates, expected, data_quality, domestic_abuse, recording, indicators,
           places, patterns)


@dataclass(frozen=True)
class KeyFindings(TopicResult):
    findings: tuple[str, ...]

    def bullets(self) -> Block:
        return Bullets(self.findings)


@topic
def compute(sa: Assessment) -> KeyFindings:
    return KeyFindings(findings=tuple(sentence for module in SOURCES
                                      for sentence in module.compute(sa).headlines()))
