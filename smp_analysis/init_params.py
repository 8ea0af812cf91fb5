"""`smp init`: a commented params file for one partnership, from its district code or name.

The district is looked up in the LSOA lookup (``PoliceforceLSOA.csv`` layout): its GSS code
and name become the focus area, its police force the comparison area. A name that matches no
district gets a "did you mean" from the closest names and codes; a police force or region
name lists that area's districts. Every key of the file is commented, so an analyst edits
values rather than deleting lines from someone else's file.

>>> period_for(dt.date(2025, 11, 3))
(datetime.date(2024, 10, 1), datetime.date(2025, 9, 30))
>>> assessment_id(dt.date(2025, 9, 30))
'2026-27'
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem


@dataclass(frozen=True)
class District:
    code: str
    name: str
    police_force: str | None
    region: str


def districts(lookup: pd.DataFrame) -> pd.DataFrame:
    """One row a district: ``la_code, la_name, police_force, region_name`` (the force most
    of its LSOAs name; missing when none does)."""
    def force(values: pd.Series):
        named = values.dropna()
        return named.mode().iloc[0] if len(named) else None

    return (lookup.groupby(["la_code", "la_name"], sort=True)
            .agg(police_force=("police_force", force), region_name=("region_name", "first"))
            .reset_index())


def find_district(table: pd.DataFrame, query: str, lookup_path: str | Path) -> District:
    """The district whose code or name is `query` (case and spacing ignored); otherwise an
    InputError that suggests the closest names, or lists a force's or region's districts."""
    wanted = _key(query)
    for column in ("la_code", "la_name"):
        hit = table[table[column].map(_key) == wanted]
        if len(hit) == 1:
            row = hit.iloc[0]
            force = row["police_force"] if isinstance(row["police_force"], str) else None
            return District(row["la_code"], row["la_name"], force, row["region_name"])
    raise InputError(Problem(str(lookup_path), _no_match(table, query)))


def _key(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", str(text)).strip().casefold()


def _no_match(table: pd.DataFrame, query: str) -> str:
    wanted = _key(query)
    for column, what in (("police_force", "police force"), ("region_name", "region")):
        inside = table[table[column].fillna("").map(_key) == wanted]
        if len(inside):
            listed = "; ".join(f"{r.la_code} {r.la_name}" for r in inside.itertuples())
            return (f"{query!r} is a {what}, not a district; choose one of its "
                    f"{len(inside)} districts: {listed}")
    names = dict(zip(table["la_name"].map(_key), table["la_name"], strict=True))
    codes = dict(zip(table["la_code"].map(_key), table["la_name"], strict=True))
    close = difflib.get_close_matches(wanted, list(names) + list(codes), n=3, cutoff=0.6)
    if close:
        suggestions = []
        for key in close:
            name = names.get(key) or codes[key]
            code = table.loc[table["la_name"] == name, "la_code"].iloc[0]
            suggestions.append(f"{name} ({code})")
        return (f"no district {query!r} in the lookup; did you mean "
                f"{' or '.join(dict.fromkeys(suggestions))}? (`smp init --list` lists all)")
    return (f"no district {query!r} in the lookup of {len(table)} districts; give a district's "
            "GSS code (e.g. E07000110) or name; `smp init --list` lists them all")


def period_for(today: dt.date) -> tuple[dt.date, dt.date]:
    """The latest complete October-to-September year before `today` (the year most
    partnerships assess, as in the shipped examples)."""
    end_year = today.year if today >= dt.date(today.year, 10, 1) else today.year - 1
    return dt.date(end_year - 1, 10, 1), dt.date(end_year, 9, 30)


def assessment_id(period_end: dt.date) -> str:
    """The plan year (April to March) the assessment serves: the first that starts after the
    data end. Data to September 2014 -> '2015-16'; to March 2025 -> '2025-26'.

    >>> assessment_id(dt.date(2014, 9, 30)), assessment_id(dt.date(2025, 3, 31))
    ('2015-16', '2025-26')
    """
    year = period_end.year if period_end.month < 4 else period_end.year + 1
    return f"{year}-{(year + 1) % 100:02d}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "partnership"


def _q(text: str) -> str:
    """A YAML double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rel(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(start))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(os.path.abspath(path)).as_posix()


def params_text(district: District, *, out: Path, lookup: Path, census: Path,
                police_uk: Path, store: Path, start: dt.date, end: dt.date,
                assessment: str, partnership: str) -> str:
    """The commented YAML for one partnership (paths relative to the file's folder)."""
    here = out.parent
    force = district.police_force
    if force:
        comparison = (f"  name: {_q(force)}\n  police_force: {_q(force)}  # Police_force in "
                      "the lookup: every district of this force is compared\n")
    else:
        comparison = (f"  name: {_q(district.region)}\n  police_force: {_q(district.region)}\n"
                      "  # The lookup names no police force for this district: list the "
                      "districts to compare with\n  districts: [" + _q(district.code) + "]\n")
    period_name = f"{start:%B %Y} to {end:%B %Y}"
    return f"""\
# Parameters of a Strategic Assessment, written by `smp init` for {district.name}.
# Every key is explained in docs/parameters.md. Paths are relative to this file; codes are
# quoted strings. Edit the values marked EDIT, then check the file with
#   smp check-params {out.as_posix()}
# and build the appendix with
#   smp appendix --params {out.as_posix()} --pdf
assessment: {_q(assessment)}  # names the outputs: reports/{assessment}.html, .pdf, -tables.xlsx
title: {_q(f"{partnership}: {assessment} Strategic Assessment")}  # on the cover (EDIT)
partnership: {_q(partnership)}  # as it should be printed (EDIT)
focus_area:  # the partnership's district, from the LSOA lookup
  code: {_q(district.code)}
  name: {_q(district.name)}
comparison_area:  # the districts the focus area is ranked among
{comparison}period:  # the assessment period: whole months, first and last day (EDIT)
  start: {start.isoformat()}
  end: {end.isoformat()}
  name: {_q(period_name)}
# previous_period: the same number of months just before `period` unless given here:
# previous_period:
#   start: {dt.date(start.year - 1, start.month, 1).isoformat()}
#   end: {(start - dt.timedelta(days=1)).isoformat()}
data:
  store: {_rel(store, here)}  # the DuckDB store (created on first use)
  police_uk:  # data.police.uk street-level CSVs: files, or folders searched for *-street.csv
    - {_rel(police_uk, here)}
  lsoa_lookup: {_rel(lookup, here)}  # LSOA -> district -> police force
  census_population: {_rel(census, here)}  # Census 2011 residents per LSOA (rates per 1,000)
  # Optional inputs: each adds to a chapter, and a chapter without its input says so.
  # population_by_year: ../data/population/population_by_year.csv  # mid-year estimates
  # ward_lookup: ../data/geography/ward_lookup.csv  # LSOA -> ward (repeat victimisation by ward)
  # hospital_admissions: ../data/health/hospital_admissions_assault.csv
  # incidents: ../data/victims/incidents.csv  # victim-level extract (pseudonymised at ingest)
  # marac_referrals: ../data/victims/marac_referrals.csv
  # pseudonym_key_file: ../secrets/pseudonym.key  # or set $SMP_PSEUDONYM_KEY; never commit it
options:
  alpha: 0.05  # significance level of the tests of change
  suppression_threshold: 5  # victim counts from 1 to 4 are printed as "<5"
  expected_method: farrington  # anticipated volumes: farrington or seasonal_mean
  expected_years: 5  # years of history in the expected-volume baselines
  repeat_window_days: 365  # look-back for repeat incidents and Marac referrals
  domestic_only: true  # repeat measures on domestic incidents only
  crimes_only: false  # repeat measures on crimes only (false: crimes and non-crime incidents)
  baseline_exclusions: []  # e.g. - {{start: 2020-04-01, end: 2021-03-31, reason: "lockdowns"}}
  recording_changes: []  # changes in recording practice to adjust for: docs/parameters.md
"""


def command(args) -> int:
    """`smp init` (see ``smp init --help``): 0 when written or listed, 2 on bad input."""
    import sys

    from .atomic import write_text_atomic
    from .params import load_params
    from .report.words import plural
    from .sources.geography import read_lsoa_lookup

    if not args.lookup.exists():
        raise InputError(_missing_lookup(args.lookup))
    table = districts(read_lsoa_lookup(args.lookup))
    if args.list:
        width = max(len(str(n)) for n in table["la_name"])
        for r in table.itertuples():
            print(f"{r.la_code}  {r.la_name:<{width}}  {r.police_force or '(no force)'}")
        print(f"{plural(len(table), 'district')} in {args.lookup}")
        return 0
    if not args.district:
        print("smp init: give a district code or name (or --list to see them)", file=sys.stderr)
        return 2
    district = find_district(table, args.district, args.lookup)
    if args.period_end:
        end = _month_end(args.period_end)
        start = dt.date(end.year - 1, end.month, 1) + dt.timedelta(days=32)
        start = start.replace(day=1)
    else:
        start, end = period_for(dt.date.today())
    assessment = args.assessment or assessment_id(end)
    partnership = args.partnership or f"{district.name} Community Safety Partnership"
    out = args.out or Path("params") / f"{slug(district.name)}-{assessment}.yaml"
    if out.exists() and not args.force:
        print(f"smp init: {out} exists; choose another --out or add --force to replace it",
              file=sys.stderr)
        return 2
    text = params_text(
        district, out=out, lookup=args.lookup, assessment=assessment, partnership=partnership,
        census=args.census or args.lookup.with_name("census_2011_population_hh.csv"),
        police_uk=args.police_uk, store=args.store or Path("data") / f"{slug(district.name)}"
        ".duckdb", start=start, end=end)
    write_text_atomic(out, text)
    params = load_params(out, check_files=False)  # what was written must be valid
    print(f"Params for {params.focus_area.name} ({params.focus_area.code}), compared with "
          f"{params.comparison_area.name}, {params.current.name}, written to {out}")
    print(f"Next: edit the lines marked EDIT, then `smp check-params {out.as_posix()}`")
    return 0


def _missing_lookup(path: Path) -> Problem:
    return Problem(str(path), "LSOA lookup not found; give --lookup PoliceforceLSOA.csv (or run "
                              "`smp demo-data` for the demonstration county's lookup)")


def _month_end(text: str) -> dt.date:
    try:
        first = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InputError(Problem("--period-end", f"{text!r} is not a month like 2025-09")) \
            from None
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
