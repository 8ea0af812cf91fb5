"""Deterministic synthetic demonstration data: a county of 13 districts.

Nothing here is real. The generator writes, under one folder, inputs in the same formats as
the real ones so that every chapter runs on a fresh machine with nothing else:

* ``police_uk/YYYY-MM/YYYY-MM-kent-street.csv``: data.police.uk street-level CSVs, April 2008
  to March 2024, all 14 categories, with seasonality (summer peaks in violence and ASB, a
  winter peak in burglary), long-run trends, a recording-practice step up in violence and
  sexual offences from April 2014, the 2020-21 lockdown dips (and ASB rise), and ~1.5% "No
  Location" rows;
* ``geography/PoliceforceLSOA.csv`` and ``geography/census_2011_population_hh.csv`` in the
  layouts of the real files (see :mod:`smp_analysis.sources.geography`), and
  ``geography/ward_lookup.csv`` (Maidstone's 26 real 2003-2023 ward names; the other districts'
  wards are numbered);
* ``population/population_by_year.csv``: mid-year populations 2008-2024 per district;
* ``health/hospital_admissions_assault.csv``: monthly hospital admissions for assault per
  district, driven by the *true* violence level (recording practice does not touch it);
* ``indicators/partner_indicators.csv``: partner indicators (hospital admissions, road
  casualties, reoffending, youth justice, One Stop Shop, needle finds, a resident survey) for
  every district and year, in the long format of :mod:`smp_analysis.sources.indicators`
  (:mod:`.indicators`, drawn with its own random generator);
* ``demo-manifest.json``: the seed and the true effects built in (for tests and method checks),
  and the marker file ``.synthetic-demo`` that makes every report built on it say so.

District populations are the Census 2011 usual residents of the 12 Kent districts and Medway.
LSOA, MSOA and ward codes are synthetic (E019..., E029..., E059...: ranges ONS has not issued)
so they can never be mistaken for real areas.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..categories import POLICE_UK_TYPES
from ..store import SYNTHETIC_MARKER
from .crime import (
    CATEGORY_MODEL,
    FIRST_MONTH,
    LAST_MONTH,
    RECORDING_CHANGE,
    _category_mean,
    _draw_counts,
    _inject_defects,
    _months,
    _write_admissions,
    _write_street_files,
)
from .geography import (
    DISTRICTS,
    FOCUS_DISTRICT,
    FORCE,
    MAIDSTONE_WARDS,
    _build_geography,
    _district_population,
    _write_geography,
    _write_population,
)
from .indicators import write_indicators
from .victims import _write_victim_extracts

GENERATOR_VERSION = 1
__all__ = ["DISTRICTS", "FOCUS_DISTRICT", "MAIDSTONE_WARDS", "generate"]


SCALES = ("county", "national")


def generate(out: str | Path, *, seed: int = 20151, progress: bool = False,
             scale: str = "county") -> Path:
    """Write the synthetic data under `out` (replaced atomically) and return `out`.

    `scale` "county" (default) writes the 13-district county every demo appendix uses;
    "national" writes 43 forces and 325 districts, five years of monthly files at
    realistic volumes (:mod:`smp_analysis.demo.national`), for benchmarks at national scale.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        if scale == "national":
            from .national import generate_national, write_manifest

            write_manifest(tmp, generate_national(tmp, seed=seed, progress=progress))
        else:
            _generate_into(tmp, seed=seed)
        (tmp / SYNTHETIC_MARKER).write_text(
            "Synthetic demonstration data written by `smp demo-data`. Not real crime data.\n")
        if out.exists():
            old = out.with_name(f".{out.name}-old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _generate_into(out: Path, *, seed: int) -> None:
    rng = np.random.default_rng(seed)
    geo = _build_geography(rng)
    months = _months()
    population = _district_population(months)
    _write_geography(out, geo)
    _write_population(out, months, population)

    cells = []  # per category: counts (lsoa x month)
    for crime_type in POLICE_UK_TYPES:
        mean = _category_mean(crime_type, months, population)
        district_counts = _draw_counts(rng, mean)
        centre_weight = CATEGORY_MODEL[crime_type][5]
        weights = geo["population"].to_numpy() * geo["attractiveness"].to_numpy()
        weights = weights * np.where(geo["town_centre"], centre_weight, 1.0)
        lsoa_counts = np.zeros((len(geo), len(months)), dtype=np.int64)
        for d_index in range(len(DISTRICTS)):
            members = np.flatnonzero(geo["district"].to_numpy() == d_index)
            p = weights[members] / weights[members].sum()
            lsoa_counts[members, :] = rng.multinomial(district_counts[d_index], p).T
        cells.append(lsoa_counts)
    counts = np.stack(cells)  # category x lsoa x month

    _write_admissions(out, rng, months, population)
    _write_street_files(out, rng, geo, months, counts)
    victim_counts = _write_victim_extracts(out, rng, geo)
    defects = _inject_defects(out)
    write_indicators(out, seed)  # its own generator: the outputs above do not change
    manifest = {
        "generator_version": GENERATOR_VERSION, "seed": seed,
        "first_month": str(FIRST_MONTH), "last_month": str(LAST_MONTH),
        "police_force": FORCE, "focus_district": FOCUS_DISTRICT,
        "recording_change": RECORDING_CHANGE,
        "rows_written": int(counts.sum()) - defects["rows_removed"] + defects["rows_added"],
        "defects": defects,
        "victim_extracts": victim_counts,
        "note": "Synthetic demonstration data. Not real crime data.",
    }
    (out / "demo-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


