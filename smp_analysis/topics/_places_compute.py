"""The computations behind :mod:`smp_analysis.topics.places` (store queries and methods), kept
apart from the presentation so both stay readable."""

from __future__ import annotations

import math

import pandas as pd

from ..categories import CRIME_TYPES, with_groups
from ..methods.change import change_table, fit_dispersions
from ..methods.concentration import gini, persistence, top_group_size, top_share
from ..methods.near_repeat import to_british_national_grid
from ..report import maps
from ..report.context import Assessment
from ..store import queries
from . import _near_repeats as nr
from ._years import (
    SERIES,
    comparable_months,
    months_with_data,
    shift,
    short_name,
    usable_months,
)

TESTED_CATEGORIES = ("Total recorded crime", "Violence and sexual offences",
                     "Anti-social behaviour", "Burglary")
NO_WARD = "No ward in the lookup"


def by_category(monthly: pd.DataFrame) -> pd.DataFrame:
    """``area_code, month, category, count``: each crime type, the Home Office groups and
    total crime (ASB once).

    >>> m = pd.DataFrame({"area_code": ["A", "A"], "month": pd.to_datetime(["2020-01-01"] * 2),
    ...                   "crime_type": ["Burglary", "Drugs"], "count": [2, 3]})
    >>> by_category(m).groupby("category")["count"].sum().to_dict()["Total recorded crime"]
    5
    """
    types = monthly.rename(columns={"crime_type": "category"})
    groups = with_groups(monthly)
    groups = groups[groups["group"] != "Anti-social behaviour"]
    groups = groups.drop(columns="crime_type").rename(columns={"group": "category"})
    frame = pd.concat([types, groups], ignore_index=True)
    frame = frame.groupby(["category", "area_code", "month"], as_index=False)["count"].sum()
    frame["month"] = pd.PeriodIndex(pd.to_datetime(frame["month"]), freq="M")
    return frame


def hotspots(long: pd.DataFrame, info: pd.DataFrame, now, before, history_months, *,
             alpha: float, tested=TESTED_CATEGORIES) -> pd.DataFrame:
    """Per (category, area): counts now and before, share, rate per 1,000, rank by rate, and
    the change test (each area's own dispersion; BH across the areas of a category).
    `info` is indexed by area code with ``name``, ``population`` (and ``ward``)."""
    rows = []
    areas = info.index
    # one table of every category's months by area (a category without a month or an area
    # gets 0 there, as reindexing its own table would)
    every = long.pivot_table(index="month", columns=["category", "area_code"], values="count",
                             aggfunc="sum", fill_value=0)
    present = set(every.columns.get_level_values(0))
    for category in SERIES:
        wide = (every[category] if category in present
                else pd.DataFrame(index=every.index[:0])).reindex(columns=areas, fill_value=0)
        current = wide.reindex(now, fill_value=0).sum()
        previous = wide.reindex(before, fill_value=0).sum()
        if category in tested:
            history = wide.reindex(history_months, fill_value=0)
            fits = fit_dispersions(history)
            phi = pd.Series({a: math.nan if f is None else f.dispersion
                             for a, f in fits.items()})
            df = pd.Series({a: math.inf if f is None else float(f.df) for a, f in fits.items()})
        else:
            phi, df = pd.Series(math.nan, index=areas), pd.Series(math.inf, index=areas)
        changes = change_table(current, previous, alpha=alpha, dispersion=phi,
                               dispersion_df=df, adjust="bh")
        frame = changes.reindex(areas)
        frame["share"] = current / current.sum() if current.sum() else math.nan
        population = pd.to_numeric(info["population"], errors="coerce")
        frame["rate"] = 1000 * current / population.where(population > 0)
        frame["rate_rank"] = frame["rate"].rank(ascending=False, method="min")
        frame["name"] = info["name"]
        if "ward" in info:
            frame["ward"] = info["ward"]
        frame["category"] = category
        rows.append(frame.rename_axis("area_code").reset_index())
    return pd.concat(rows, ignore_index=True).set_index(["category", "area_code"])


def _concentration(lsoas: pd.DataFrame, fraction: float) -> pd.DataFrame:
    rows = {}
    for category in SERIES:
        counts = lsoas.loc[category]["current"]
        rows[category] = {"areas": len(counts), "total": int(counts.sum()),
                          "top_n": top_group_size(len(counts), fraction),
                          "top_share": top_share(counts, fraction),
                          "gini": gini(counts) if counts.sum() else math.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def _years(sa: Assessment) -> list:
    present = months_with_data(sa)
    years = []
    for k in range(sa.options.trend_years):
        year = shift(sa.current, -12 * k)
        if not any(m in present for m in year.months):
            break
        years.insert(0, year)
    return years


def compute_places(sa: Assessment) -> dict:
    o = sa.options
    base = {"area": sa.focus_name}
    areas = queries.district_areas(sa.con, sa.focus_code)
    if areas.empty:
        return {**base, "missing": f"The LSOA lookup assigns no LSOAs to {sa.focus_name}, so "
                "crime cannot be placed within it."}
    now, before = comparable_months(sa, [sa.current, sa.previous])
    if len(now) == 0:
        return {**base, "missing": "No month has data in both the assessment period and the "
                "previous period, so places cannot be compared."}
    years = _years(sa) or [sa.current]
    start = min(years[0].start, sa.previous.start)
    monthly = queries.monthly_counts(sa.con, start=start, end=sa.current.end, level="lsoa",
                                     area_codes=list(areas["lsoa_code"]))
    long = by_category(monthly)
    usable = usable_months(sa)
    excluded = {pd.Period(m, "M") for e in o.baseline_exclusions for m in e.months()}
    history = pd.PeriodIndex([m for m in pd.period_range(start, sa.current.first_month - 1,
                                                         freq="M")
                              if m in usable and m not in excluded], freq="M")
    info = areas.set_index("lsoa_code").rename(columns={"lsoa_name": "name",
                                                        "ward_name": "ward"})
    lsoas = hotspots(long, info, now, before, history, alpha=o.alpha)
    result = {**base, "current": sa.current, "previous": sa.previous,
              "months_compared": len(now), "fraction": o.top_fraction, "alpha": o.alpha,
              "lsoas": lsoas, "concentration": _concentration(lsoas, o.top_fraction),
              "synthetic": sa.synthetic}
    if areas["ward_code"].notna().any():
        ward_of = areas.set_index("lsoa_code")["ward_code"].fillna(NO_WARD)
        ward_long = long.assign(area_code=long["area_code"].map(ward_of))
        ward_info = areas.assign(ward_code=areas["ward_code"].fillna(NO_WARD),
                                 ward_name=areas["ward_name"].fillna(NO_WARD)).groupby(
            "ward_code").agg(name=("ward_name", "first"), population=("population", "sum"))
        result["wards"] = hotspots(ward_long, ward_info, now, before, history, alpha=o.alpha)
    else:
        result["wards_missing"] = ("No ward lookup was supplied (data.ward_lookup), so crime "
                                   "cannot be placed in wards; LSOAs are shown below.")
    result.update(_persistence(sa, years, long, info, o.top_fraction))
    result.update(_maps(sa, result, areas))
    result.update(_near(sa, now))
    return result


def _persistence(sa: Assessment, years, long: pd.DataFrame, info: pd.DataFrame,
                 fraction: float) -> dict:
    if len(years) < 2:
        return {}
    months = comparable_months(sa, years)
    total = long[long["category"] == "Total recorded crime"]
    wide = total.pivot_table(index="month", columns="area_code", values="count",
                             aggfunc="sum", fill_value=0).reindex(columns=info.index,
                                                                  fill_value=0)
    names = [short_name(y) for y in years]
    yearly = pd.DataFrame({n: wide.reindex(m, fill_value=0).sum()
                           for n, m in zip(names, months, strict=True)})
    table = persistence(yearly, fraction)
    table = table[["years_in_top", "in_latest"]].join(yearly).join(info[["name", "ward"]])
    table["ward"] = table["ward"].fillna("–")
    return {"persistence": table, "persistence_years": tuple(names)}


def _maps(sa: Assessment, result: dict, areas: pd.DataFrame) -> dict:
    files = sa.params.data.boundaries.files() if sa.params.data.boundaries else {}
    out: dict = {}
    notes = []
    levels = {"ward": result.get("wards"), "lsoa": result["lsoas"]}
    for level, frame in levels.items():
        if level not in files or frame is None:
            continue
        rates = frame.loc["Total recorded crime"]
        codes = [c for c in rates.index if c != NO_WARD]
        shapes = queries.boundaries(sa.con, level, codes)
        if shapes is None:
            notes.append(f"The {level} boundary file holds none of {sa.focus_name}'s "
                         f"{level}s, so no {level} map is drawn.")
            continue
        missing = sorted(set(codes) - set(shapes["code"]))
        if missing:
            notes.append(f"{len(missing)} of {sa.focus_name}'s {len(codes)} {level}s have no "
                         f"boundary in the file and are not drawn (e.g. {missing[0]}).")
        shapes = shapes.merge(rates[["rate"]], left_on="code", right_index=True, how="left")
        shapes["name"] = shapes["code"].map(rates["name"]).fillna(shapes["name"])
        out[f"{level}_map"] = shapes
    if "lsoa_map" not in out:
        points = queries.crime_points(sa.con, district_code=sa.focus_code,
                                      start=sa.current.start, end=sa.current.end,
                                      crime_types=list(CRIME_TYPES))
        x, y = to_british_national_grid(points["longitude"], points["latitude"])
        located = pd.DataFrame({"x": x, "y": y})
        counts = maps.hexagon_counts(x, y, hexagon_metres=400)
        located.attrs["densest"] = int(counts.max()) if len(counts) else 0
        out["points"] = located
    out["map_notes"] = tuple(notes)
    return out


def _near(sa: Assessment, now) -> dict:
    options = sa.options.near_repeat
    tables, skipped = {}, []
    for crime_type in options.crime_types:
        points = queries.crime_points(sa.con, district_code=sa.focus_code,
                                      start=sa.current.start, end=sa.current.end,
                                      crime_types=[crime_type])
        points = points[pd.PeriodIndex(points["month"], freq="M").isin(now)]
        if len(points) < 20:
            skipped.append(f"{crime_type} ({len(points)} located offences)")
            continue
        tables[crime_type] = nr.near_repeat_table(points, options, alpha=sa.options.alpha)
    missing = None
    if skipped:
        missing = ("Too few located offences for a near-repeat test (at least 20 are needed): "
                   + ", ".join(skipped) + ".")
    return {"near_repeats": tables, "near_repeat_missing": missing}

