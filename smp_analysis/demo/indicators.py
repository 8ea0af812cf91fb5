"""Synthetic partner indicators for the demo county: ``indicators/partner_indicators.csv``.

The long format of :mod:`smp_analysis.sources.indicators`, for the 13 districts and every
year the police.uk data cover, at the magnitudes of a real Strategic Assessment's partner
data: hospital admissions for assault (per 10,000), road casualties killed or seriously
injured (all ages and under 16, per 10,000), proven reoffending against its predicted rate,
alcohol-related admissions (per 100,000), first-time entrants to youth justice (per 100,000
aged 10-17), Domestic Abuse One Stop Shop visitors (per 10,000), and a biennial resident
survey of feeling safe by day and after dark (per cent of respondents). Needle finds and
community protection warnings are the focus district's own service counts.

Counts are drawn from a gamma-Poisson (negative binomial) model, so they vary from year to
year more than a Poisson count would, as real ones do. The focus district's latest values
are those quoted in the Safer Maidstone Partnership's papers (assault admissions 48 -> 65;
KSI casualties 54 -> 76; reoffending 9.97% against 7.86% predicted; needle finds towards
1,200 a year; One Stop Shop visitors towards 140; community protection warnings +204%).

A separate random generator (seeded from the demo seed) keeps the police.uk files and every
other demo output byte-identical to those written without it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .geography import DISTRICTS, FOCUS_DISTRICT

FILE = Path("indicators") / "partner_indicators.csv"
STREAM = 14  # the generator stream of this module (issue 14)


@dataclass(frozen=True)
class Spec:
    id: str
    label: str
    kind: str
    per: int
    polarity: str
    source: str
    level: float  # events per person of the denominator (or the proportion)
    years: tuple[int, int]  # first and last year (start year of a financial year)
    calendar: str = "fy"  # fy | cy | survey
    share: float = 1.0  # denominator as a share of the population
    trend: float = 0.0  # log change per year
    spread: float = 0.25  # how strongly the districts' crime level moves the indicator
    focus_only: bool = False
    fixed: tuple[tuple[int, float], ...] = ()  # focus district: (year, numerator)


SOURCE = "Synthetic demonstration data (smp demo-data)"
SPECS = (
    Spec("assault_admissions", "Hospital admissions for assault", "rate", 10_000, "lower",
         f"{SOURCE}: hospital episode statistics", 3.3e-4, (2008, 2023), spread=1.0,
         trend=-0.01, fixed=((2022, 48), (2023, 65))),
    Spec("ksi_all_ages", "Road casualties killed or seriously injured, all ages", "rate",
         10_000, "lower", f"{SOURCE}: STATS19 road casualties", 3.6e-4, (2009, 2023), "cy",
         spread=0.3, fixed=((2021, 70), (2022, 54), (2023, 76))),
    Spec("ksi_under_16", "Road casualties killed or seriously injured, aged under 16", "rate",
         10_000, "lower", f"{SOURCE}: STATS19 road casualties", 1.6e-4, (2009, 2023), "cy",
         share=0.19, spread=0.3),
    Spec("alcohol_admissions", "Alcohol-related hospital admissions (narrow measure)", "rate",
         100_000, "lower", f"{SOURCE}: hospital episode statistics", 5.6e-3, (2008, 2023),
         spread=0.8, trend=0.01),
    Spec("youth_first_time_entrants",
         "First-time entrants to the youth justice system, aged 10 to 17", "rate", 100_000,
         "lower", f"{SOURCE}: youth offending service", 4.0e-3, (2008, 2023), share=0.095,
         spread=0.8, trend=-0.07),
    Spec("da_one_stop_shop", "Domestic Abuse One Stop Shop visitors", "rate", 10_000,
         "higher", f"{SOURCE}: One Stop Shop records", 6.0e-4, (2011, 2023), spread=0.5,
         fixed=((2021, 100), (2022, 121), (2023, 150))),
    Spec("needle_finds", "Discarded needles found and removed", "count", 1, "lower",
         f"{SOURCE}: council street cleansing", 1500 / 160_000, (2008, 2023), focus_only=True,
         fixed=((2021, 1480), (2022, 1390), (2023, 1310))),
    Spec("community_protection_warnings", "Community protection warnings issued", "count", 1,
         "neutral", f"{SOURCE}: council enforcement records", 45 / 170_000, (2015, 2023),
         focus_only=True, fixed=((2022, 50), (2023, 152))),
    Spec("feel_safe_day", "Residents who feel safe in their local area during the day",
         "proportion", 100, "higher", f"{SOURCE}: resident survey", 0.87, (2009, 2023),
         "survey", fixed=((2021, 0.858), (2023, 0.892))),
    Spec("feel_safe_night", "Residents who feel safe in their local area after dark",
         "proportion", 100, "higher", f"{SOURCE}: resident survey", 0.58, (2009, 2023),
         "survey", fixed=((2021, 0.561), (2023, 0.532))),
)
REOFFENDING = Spec("reoffending", "Proven reoffending, adult cohort, against predicted",
                   "observed_vs_predicted", 100, "lower",
                   f"{SOURCE}: Ministry of Justice proven reoffending", 0.0035, (2009, 2022),
                   "cy")
YEAR_TO_YEAR = 0.06  # extra log-normal variation of each district's yearly level
RESPONDENTS = 500


def _period(spec: Spec, year: int) -> tuple[dt.date, dt.date]:
    if spec.calendar == "fy":
        return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
    if spec.calendar == "survey":
        return dt.date(year, 9, 1), dt.date(year, 11, 30)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _population(district, year: int) -> float:
    return district.population_2011 * (1 + district.growth) ** (year - 2011)


def _years(spec: Spec) -> range:
    step = 2 if spec.calendar == "survey" else 1
    return range(spec.years[0], spec.years[1] + 1, step)


def _rows(spec: Spec, rng: np.random.Generator) -> list[dict]:
    rows = []
    fixed = dict(spec.fixed)
    districts = [d for d in DISTRICTS if d.code == FOCUS_DISTRICT] if spec.focus_only \
        else DISTRICTS
    for district in districts:
        effect = district.crime_level ** spec.spread * rng.lognormal(0.0, 0.08)
        for year in _years(spec):
            start, end = _period(spec, year)
            denominator = round(_population(district, year) * spec.share)
            drift = np.exp(spec.trend * (year - 2016) + rng.normal(0.0, YEAR_TO_YEAR))
            if spec.kind == "proportion":
                respondents = int(rng.integers(RESPONDENTS - 120, RESPONDENTS + 121))
                level = spec.level - 0.04 * (district.crime_level - 1) + rng.normal(0, 0.02)
                if district.code == FOCUS_DISTRICT and year in fixed:
                    level = fixed[year]
                    numerator = round(level * respondents)
                else:
                    numerator = int(rng.binomial(respondents, min(max(level, 0.01), 0.99)))
                denominator = respondents
            else:
                mean = spec.level * effect * drift * (denominator if spec.kind != "count"
                                                      else _population(district, year))
                numerator = int(rng.poisson(mean))
                if district.code == FOCUS_DISTRICT and year in fixed:
                    numerator = int(fixed[year])
            rows.append(_row(spec, district, start, end, numerator,
                             denominator if spec.kind != "count" else None))
    return rows


def _reoffending_rows(rng: np.random.Generator) -> list[dict]:
    spec = REOFFENDING
    rows = []
    for district in DISTRICTS:
        excess = 1 + 0.15 * (district.crime_level - 1) + rng.normal(0.0, 0.05)
        for year in _years(spec):
            start, end = _period(spec, year)
            cohort = int(rng.poisson(spec.level * _population(district, year)))
            predicted = round(float(np.clip(rng.normal(8.0, 0.6), 5.0, 12.0)), 2)
            actual = int(rng.binomial(cohort, min(predicted / 100 * excess, 0.99)))
            if district.code == FOCUS_DISTRICT and year == spec.years[1]:
                cohort, actual, predicted = 602, 60, 7.86  # 9.97% against 7.86% predicted
            rows.append(_row(spec, district, start, end, actual, cohort, predicted))
    return rows


def _row(spec: Spec, district, start: dt.date, end: dt.date, numerator: int,
         denominator: int | None, predicted: float | None = None) -> dict:
    return {"indicator_id": spec.id, "indicator_label": spec.label, "area_code": district.code,
            "area_name": district.name, "period_start": start.isoformat(),
            "period_end": end.isoformat(), "numerator": numerator,
            "denominator": "" if denominator is None else denominator,
            "per": "" if spec.kind == "count" else spec.per, "polarity": spec.polarity,
            "kind": spec.kind, "predicted": "" if predicted is None else f"{predicted:.2f}",
            "source": spec.source}


def write_indicators(out: Path, seed: int) -> Path:
    """Write the partner-indicator file under `out` and return its path."""
    rng = np.random.default_rng([seed, STREAM])
    rows = []
    for spec in SPECS:
        rows += sorted(_rows(spec, rng), key=lambda r: (r["area_code"], r["period_start"]))
        if spec.id == "ksi_under_16":
            rows += sorted(_reoffending_rows(rng),
                           key=lambda r: (r["area_code"], r["period_start"]))
    frame = pd.DataFrame(rows)  # in the order of SPECS, then area and period
    path = out / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path
