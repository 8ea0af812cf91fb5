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
* ``demo-manifest.json``: the seed and the true effects built in (for tests and method checks),
  and the marker file ``.synthetic-demo`` that makes every report built on it say so.

District populations are the Census 2011 usual residents of the 12 Kent districts and Medway.
LSOA, MSOA and ward codes are synthetic (E019..., E029..., E059...: ranges ONS has not issued)
so they can never be mistaken for real areas.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .categories import POLICE_UK_TYPES
from .sources.police_uk import COLUMNS
from .store import SYNTHETIC_MARKER

GENERATOR_VERSION = 1
FIRST_MONTH = pd.Period("2008-04", "M")
LAST_MONTH = pd.Period("2024-03", "M")
FORCE = "Kent"
FORCE_LABEL = "Kent Police"
RECORDING_CHANGE = {"month": "2014-04", "crime_types": ["Violence and sexual offences"],
                    "uplift": 0.25}


@dataclass(frozen=True)
class District:
    code: str
    name: str
    lookup_name: str
    population_2011: int
    lon: float
    lat: float
    crime_level: float  # relative to the county
    growth: float  # population growth per year


DISTRICTS = (
    District("E07000105", "Ashford", "Ashford", 117_956, 0.872, 51.146, 0.98, 0.012),
    District("E07000106", "Canterbury", "Canterbury", 151_145, 1.080, 51.280, 1.02, 0.008),
    District("E07000107", "Dartford", "Dartford", 97_365, 0.218, 51.446, 1.04, 0.015),
    District("E07000108", "Dover", "Dover", 111_674, 1.311, 51.126, 1.03, 0.005),
    District("E07000109", "Gravesham", "Gravesham", 101_720, 0.369, 51.441, 1.00, 0.007),
    District("E07000110", "Maidstone", "Maidstone", 155_143, 0.522, 51.271, 1.10, 0.011),
    District("E07000111", "Sevenoaks", "Sevenoaks", 114_893, 0.190, 51.272, 0.70, 0.005),
    District("E07000112", "Shepway", "Shepway", 107_969, 1.166, 51.081, 1.06, 0.005),
    District("E07000113", "Swale", "Swale", 135_835, 0.758, 51.340, 1.22, 0.009),
    District("E07000114", "Thanet", "Thanet", 134_186, 1.380, 51.358, 1.45, 0.007),
    District("E07000115", "Tonbridge and Malling", "Tonbridge and Malling", 120_805, 0.356,
             51.290, 0.80, 0.010),
    District("E07000116", "Tunbridge Wells", "Tunbridge Wells", 115_049, 0.263, 51.132, 0.78,
             0.006),
    District("E06000035", "Medway", "Medway UA", 263_925, 0.545, 51.388, 1.18, 0.009),
)
FOCUS_DISTRICT = "E07000110"

MAIDSTONE_WARDS = (
    "Allington", "Barming", "Bearsted", "Boughton Monchelsea and Chart Sutton", "Boxley",
    "Bridge", "Coxheath and Hunton", "Detling and Thurnham", "Downswood and Otham", "East",
    "Fant", "Harrietsham and Lenham", "Headcorn", "Heath", "High Street", "Leeds", "Loose",
    "Marden and Yalding", "North", "North Downs", "Park Wood", "Shepway North",
    "Shepway South", "South", "Staplehurst", "Sutton Valence and Langley",
)
TOWN_CENTRE_WARDS = ("High Street", "Park Wood", "Shepway North")

# Recorded crime per 1,000 residents per year in April 2008, yearly trend before/after
# April 2014, seasonal amplitude, peak month, and concentration in town centres.
CATEGORY_MODEL = {
    #                               rate, trend<14, trend>=14, amp, peak, centre
    "Anti-social behaviour":        (38.0, -0.06, -0.04, 0.22, 7.0, 2.0),
    "Bicycle theft":                (1.0, -0.02, 0.00, 0.35, 7.0, 2.0),
    "Burglary":                     (7.0, -0.05, -0.03, 0.12, 12.0, 1.0),
    "Criminal damage and arson":    (11.0, -0.04, 0.00, 0.08, 10.5, 1.3),
    "Drugs":                        (2.6, -0.01, -0.03, 0.05, 7.0, 2.0),
    "Other crime":                  (1.2, 0.00, 0.04, 0.04, 7.0, 1.0),
    "Other theft":                  (9.0, -0.03, -0.01, 0.06, 8.0, 2.0),
    "Possession of weapons":        (0.35, 0.00, 0.05, 0.06, 7.0, 2.0),
    "Public order":                 (2.5, 0.02, 0.08, 0.08, 7.0, 2.5),
    "Robbery":                      (0.6, -0.03, 0.00, 0.08, 12.0, 2.5),
    "Shoplifting":                  (4.5, 0.01, 0.01, 0.05, 12.0, 5.0),
    "Theft from the person":        (0.7, -0.02, 0.00, 0.08, 12.0, 5.0),
    "Vehicle crime":                (7.0, -0.05, -0.01, 0.06, 11.0, 1.2),
    "Violence and sexual offences": (13.0, 0.01, 0.01, 0.10, 7.0, 3.0),
}
OVERDISPERSION_SHAPE = 60.0  # gamma-Poisson shape: variance = mu + mu^2/60
NO_LOCATION_SHARE = 0.015
ADMISSIONS_PER_1000 = 0.55

STREETS = (
    "High Street", "Church Road", "Station Road", "London Road", "Park Avenue", "Mill Lane",
    "The Green", "Queens Road", "Kings Road", "Victoria Street", "Sandling Road", "Tonbridge Road",
    "Union Street", "Week Street", "Gabriels Hill", "Bank Street", "Earl Street", "Pudding Lane",
    "Bower Lane", "Hastings Road", "Loose Road", "Sutton Road", "Ashford Road", "Boxley Road",
    "Chatham Road", "Forge Lane", "School Lane", "Orchard Close", "Hop Garden Way", "Oast Court",
    "Parking Area", "Supermarket", "Petrol Station", "Shopping Area", "Sports/Recreation Area",
    "Further/Higher Educational Building", "Nightclub", "Hospital", "Bus/Coach Station",
    "Conference/Exhibition Centre",
)
OUTCOMES = (
    ("Investigation complete; no suspect identified", 0.42),
    ("Unable to prosecute suspect", 0.22),
    ("Offender given a caution", 0.04),
    ("Local resolution", 0.05),
    ("Awaiting court outcome", 0.03),
    ("Court result unavailable", 0.06),
    ("Status update unavailable", 0.10),
    ("Further investigation is not in the public interest", 0.02),
    ("Formal action is not in the public interest", 0.02),
    ("Offender sent to prison", 0.04),
)


def lockdown_factor(month: pd.Period, crime_type: str) -> float:
    """Multiplier for the 2020-21 lockdowns (first, second and third national lockdowns)."""
    key = month.strftime("%Y-%m")
    if crime_type == "Anti-social behaviour":
        return {"2020-04": 2.1, "2020-05": 1.9, "2020-06": 1.5, "2020-07": 1.3, "2020-08": 1.2,
                "2020-09": 1.2, "2020-10": 1.3, "2020-11": 1.6, "2020-12": 1.4,
                "2021-01": 1.6, "2021-02": 1.5, "2021-03": 1.3}.get(key, 1.0)
    if crime_type == "Drugs":
        return {"2020-04": 1.35, "2020-05": 1.3, "2020-06": 1.1}.get(key, 1.0)
    deep = crime_type in ("Shoplifting", "Theft from the person", "Bicycle theft")
    factors = {"2020-04": 0.45 if deep else 0.68, "2020-05": 0.6 if deep else 0.78,
               "2020-06": 0.8 if deep else 0.88, "2020-11": 0.75 if deep else 0.88,
               "2021-01": 0.7 if deep else 0.82, "2021-02": 0.72 if deep else 0.84,
               "2021-03": 0.85 if deep else 0.92}
    return factors.get(key, 1.0)


def _build_geography(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    lsoa_serial = msoa_serial = ward_serial = 0
    for d_index, d in enumerate(DISTRICTS):
        n_lsoa = 95 if d.code == FOCUS_DISTRICT else max(40, round(d.population_2011 / 1600))
        weights = rng.gamma(30.0, size=n_lsoa)
        pops = np.floor(d.population_2011 * weights / weights.sum()).astype(int)
        pops[0] += d.population_2011 - pops.sum()
        if d.code == FOCUS_DISTRICT:
            ward_names = list(MAIDSTONE_WARDS)
        else:
            ward_names = [f"{d.name} ward {i + 1:02d}" for i in range(max(12, n_lsoa // 4))]
        # Every ward gets at least one LSOA; the rest follow in contiguous runs.
        ward_of = np.sort(np.concatenate([
            np.arange(len(ward_names)),
            rng.integers(0, len(ward_names), n_lsoa - len(ward_names)),
        ]))
        ward_codes = [f"E059{ward_serial + i + 1:05d}" for i in range(len(ward_names))]
        ward_serial += len(ward_names)
        angle = rng.uniform(0, 2 * np.pi, n_lsoa)
        radius = 0.09 * np.sqrt(rng.uniform(0, 1, n_lsoa))
        msoa_number = 0
        for i in range(n_lsoa):
            if i % 5 == 0:
                msoa_number += 1
                msoa_serial += 1
            lsoa_serial += 1
            letter = "ABCDE"[i % 5]
            ward = ward_names[ward_of[i]]
            centre = ward in TOWN_CENTRE_WARDS or (d.code != FOCUS_DISTRICT and ward_of[i] == 0)
            rows.append({
                "district": d_index,
                "lsoa_code": f"E019{lsoa_serial:05d}",
                "lsoa_name": f"{d.name} {msoa_number:03d}{letter}",
                "msoa_code": f"E029{msoa_serial:05d}",
                "msoa_name": f"{d.name} {msoa_number:03d}",
                "ward_code": ward_codes[ward_of[i]],
                "ward_name": ward,
                "population": int(pops[i]),
                "lon": round(d.lon + radius[i] * np.cos(angle[i]) * 1.6, 6),
                "lat": round(d.lat + radius[i] * np.sin(angle[i]), 6),
                "town_centre": centre,
                "attractiveness": float(rng.lognormal(0.0, 0.45)),
            })
    return pd.DataFrame(rows)


def _months() -> pd.PeriodIndex:
    return pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")


def _district_population(months: pd.PeriodIndex) -> np.ndarray:
    """Population (district x month), growing smoothly from the Census 2011 value."""
    years = np.array([m.year + (m.month - 6.5) / 12 for m in months]) - 2011.25
    return np.array([d.population_2011 * (1 + d.growth) ** years for d in DISTRICTS])


def _category_mean(crime_type: str, months: pd.PeriodIndex, population: np.ndarray,
                   *, recorded: bool = True) -> np.ndarray:
    """Expected monthly count (district x month) for one category."""
    rate, trend_before, trend_after, amplitude, peak, _ = CATEGORY_MODEL[crime_type]
    change_point = pd.Period(RECORDING_CHANGE["month"], "M")
    t_years = np.array([(m - FIRST_MONTH).n for m in months]) / 12.0
    t_change = (change_point - FIRST_MONTH).n / 12.0
    log_trend = np.where(
        t_years < t_change,
        t_years * np.log1p(trend_before),
        t_change * np.log1p(trend_before) + (t_years - t_change) * np.log1p(trend_after),
    )
    month_of_year = np.array([m.month for m in months])
    seasonal = 1 + amplitude * np.cos(2 * np.pi * (month_of_year - peak) / 12)
    days = np.array([m.days_in_month for m in months]) / (365.25 / 12)
    lockdown = np.array([lockdown_factor(m, crime_type) for m in months])
    step = np.ones(len(months))
    if recorded and crime_type in RECORDING_CHANGE["crime_types"]:
        step = np.where(months >= change_point, 1 + RECORDING_CHANGE["uplift"], 1.0)
    level = np.array([d.crime_level for d in DISTRICTS])[:, None]
    if crime_type == "Anti-social behaviour":
        level = 0.5 + 0.5 * level
    per_month = rate / 1000 / 12 * np.exp(log_trend) * seasonal * days * lockdown * step
    return population * level * per_month[None, :]


def _draw_counts(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    mixed = rng.gamma(OVERDISPERSION_SHAPE, mean / OVERDISPERSION_SHAPE)
    return rng.poisson(mixed)


def generate(out: str | Path, *, seed: int = 20151, progress: bool = False) -> Path:
    """Write the synthetic county under `out` (replaced atomically) and return `out`."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
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


def _write_geography(out: Path, geo: pd.DataFrame) -> None:
    (out / "geography").mkdir(parents=True)
    district = geo["district"].map(lambda i: DISTRICTS[i])
    lookup = pd.DataFrame({
        "Region code": "E12000008", "Region name": "SOUTH EAST",
        "Local authority code": district.map(lambda d: d.code),
        "Local authority name": district.map(lambda d: d.lookup_name),
        "MSOA Code": geo["msoa_code"], "MSOA Name": geo["msoa_name"],
        "LSOA Code": geo["lsoa_code"], "LSOA Name": geo["lsoa_name"],
        "Police_force": FORCE,
    })
    lookup.to_csv(out / "geography" / "PoliceforceLSOA.csv", index=True, lineterminator="\n")
    communal = (geo["population"] * 0.015).round().astype(int)
    households = (geo["population"] / 2.4).round().astype(int)
    census = pd.DataFrame({
        "Region code": "E12000008", "Region name": "SOUTH EAST",
        "Local authority code": lookup["Local authority code"],
        "Local authority name": lookup["Local authority name"],
        "MSOA Code": geo["msoa_code"], "MSOA Name": geo["msoa_name"],
        "LSOA Code": geo["lsoa_code"], "LSOA Name": geo["lsoa_name"], "": "",
        "Persons": geo["population"].map("{:,}".format),
        "Persons.1": (geo["population"] - communal).map("{:,}".format),
        "Persons.2": communal.map("{:,}".format),
        "Hectares": 120, "Persons per hectare": (geo["population"] / 120).round(1),
        "Households": households.map("{:,}".format),
        "Persons per household": (geo["population"] / households).round(1),
    })
    header = [c.split(".")[0] for c in census.columns]
    census.to_csv(out / "geography" / "census_2011_population_hh.csv", index=False,
                  header=header, lineterminator="\n")
    geo[["lsoa_code", "ward_code", "ward_name"]].to_csv(
        out / "geography" / "ward_lookup.csv", index=False, lineterminator="\n")


def _write_population(out: Path, months: pd.PeriodIndex, population: np.ndarray) -> None:
    (out / "population").mkdir(parents=True)
    rows = []
    for year in range(FIRST_MONTH.year, LAST_MONTH.year + 1):
        for d in DISTRICTS:
            rows.append({"area_code": d.code, "area_name": d.name, "year": year,
                         "population": round(d.population_2011 * (1 + d.growth) ** (year - 2011))})
    pd.DataFrame(rows).to_csv(out / "population" / "population_by_year.csv", index=False,
                              lineterminator="\n")


def _write_admissions(out: Path, rng: np.random.Generator, months: pd.PeriodIndex,
                      population: np.ndarray) -> None:
    (out / "health").mkdir(parents=True)
    violence = _category_mean("Violence and sexual offences", months, population, recorded=False)
    rate = CATEGORY_MODEL["Violence and sexual offences"][0]
    admissions = rng.poisson(violence * ADMISSIONS_PER_1000 / rate)
    frame = pd.DataFrame({
        "area_code": np.repeat([d.code for d in DISTRICTS], len(months)),
        "month": np.tile(months.strftime("%Y-%m"), len(DISTRICTS)),
        "admissions": admissions.ravel(),
    })
    frame.to_csv(out / "health" / "hospital_admissions_assault.csv", index=False,
                 lineterminator="\n")


def _write_street_files(out: Path, rng: np.random.Generator, geo: pd.DataFrame,
                        months: pd.PeriodIndex, counts: np.ndarray) -> None:
    n_types, n_lsoa, n_months = counts.shape
    outcome_names = np.array([o for o, _ in OUTCOMES])
    outcome_p = np.array([p for _, p in OUTCOMES])
    outcome_p = outcome_p / outcome_p.sum()
    types = np.array(POLICE_UK_TYPES)
    lsoa_codes = geo["lsoa_code"].to_numpy()
    lsoa_names = geo["lsoa_name"].to_numpy()
    lons = geo["lon"].to_numpy()
    lats = geo["lat"].to_numpy()
    streets = np.array([f"On or near {s}" for s in STREETS])
    asb = types == "Anti-social behaviour"
    for m_index, month in enumerate(months):
        per_cell = counts[:, :, m_index]  # type x lsoa
        n = int(per_cell.sum())
        type_idx, lsoa_idx = np.nonzero(per_cell)
        reps = per_cell[type_idx, lsoa_idx]
        type_of_row = np.repeat(type_idx, reps)
        lsoa_of_row = np.repeat(lsoa_idx, reps)
        order = rng.permutation(n)
        type_of_row, lsoa_of_row = type_of_row[order], lsoa_of_row[order]
        is_asb = asb[type_of_row]
        no_location = rng.random(n) < NO_LOCATION_SHARE
        ids = rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64)
        crime_id = np.where(is_asb, "", np.array([f"{v:016x}" for v in ids.tolist()], dtype=object))
        outcome = outcome_names[rng.choice(len(OUTCOMES), size=n, p=outcome_p)]
        outcome = np.where(is_asb, "", outcome)
        lon = np.round(lons[lsoa_of_row] + rng.normal(0, 0.004, n), 6)
        lat = np.round(lats[lsoa_of_row] + rng.normal(0, 0.0025, n), 6)
        location = streets[rng.integers(0, len(streets), n)]
        month_text = month.strftime("%Y-%m")
        table = pa.table({
            COLUMNS[0]: pa.array(crime_id, pa.string()),
            COLUMNS[1]: pa.array(np.full(n, month_text), pa.string()),
            COLUMNS[2]: pa.array(np.full(n, f"{FORCE_LABEL}"), pa.string()),
            COLUMNS[3]: pa.array(np.full(n, f"{FORCE_LABEL}"), pa.string()),
            COLUMNS[4]: pa.array(lon, pa.float64(), mask=no_location),
            COLUMNS[5]: pa.array(lat, pa.float64(), mask=no_location),
            COLUMNS[6]: pa.array(np.where(no_location, "No Location", location), pa.string()),
            COLUMNS[7]: pa.array(np.where(no_location, "", lsoa_codes[lsoa_of_row]), pa.string()),
            COLUMNS[8]: pa.array(np.where(no_location, "", lsoa_names[lsoa_of_row]), pa.string()),
            COLUMNS[9]: pa.array(types[type_of_row], pa.string()),
            COLUMNS[10]: pa.array(outcome, pa.string()),
            COLUMNS[11]: pa.array(np.full(n, ""), pa.string()),
        })
        folder = out / "police_uk" / month_text
        folder.mkdir(parents=True)
        with open(folder / f"{month_text}-kent-street.csv", "wb") as f:
            f.write((",".join(COLUMNS) + "\n").encode())
            pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False,
                                                         quoting_style="none"))


INCOMPLETE_MONTH = "2011-06"  # published with only ~45% of its crimes (ASB complete)
BAD_ROWS_MONTH = "2012-03"


def _inject_defects(out: Path) -> dict:
    """Real-world defects, so the data-quality chapter has something true to find."""
    path = out / "police_uk" / INCOMPLETE_MONTH / f"{INCOMPLETE_MONTH}-kent-street.csv"
    header, *lines = path.read_text().splitlines()
    kept = [line for i, line in enumerate(lines)
            if ",Anti-social behaviour," in line or i % 20 < 9]
    path.write_text("\n".join([header, *kept]) + "\n")
    removed = len(lines) - len(kept)

    path = out / "police_uk" / BAD_ROWS_MONTH / f"{BAD_ROWS_MONTH}-kent-street.csv"
    header, *lines = path.read_text().splitlines()
    crime = next(line for line in lines if not line.startswith(","))
    fields = crime.split(",")
    bad = [
        ",".join([fields[0][:-4] + "bad1", *fields[1:9], "Bicycle crime", *fields[10:]]),
        ",".join([fields[0][:-4] + "bad2", *fields[1:5], "151.2", *fields[6:]]),
        crime,  # an exact duplicate row
        ",".join([fields[0][:-4] + "bad3", "2012-04", *fields[2:]]),
        ",".join([fields[0][:-4] + "bad4", *fields[1:11]]),  # truncated: 11 fields
    ]
    path.write_text("\n".join([header, *lines, *bad]) + "\n")
    return {"incomplete_month": INCOMPLETE_MONTH, "rows_removed": removed,
            "bad_rows_month": BAD_ROWS_MONTH, "rows_added": len(bad)}


# Victim-level extracts (domestic abuse incidents and Marac referrals) for the focus district.
VICTIMS_FIRST = dt.date(2012, 4, 1)
VICTIMS_LAST = dt.date(2024, 3, 31)
NEW_VICTIMS_PER_YEAR = 1_650
INCIDENT_TYPES = ("Assault", "Harassment", "Criminal damage", "Verbal argument", "Stalking",
                  "Controlling or coercive behaviour", "Breach of order", "Threats to kill")
CRIME_SHARE = {"Assault": 0.95, "Harassment": 0.7, "Criminal damage": 0.9,
               "Verbal argument": 0.05, "Stalking": 0.9, "Controlling or coercive behaviour": 0.8,
               "Breach of order": 0.85, "Threats to kill": 0.95}


def _write_victim_extracts(out: Path, rng: np.random.Generator, geo: pd.DataFrame) -> dict:
    """Synthetic incident and Marac extracts with a realistic repeat structure: most victims
    have one incident, a minority many; gaps between incidents are often months, sometimes
    longer than a year (so 365-day repeats and later returns both occur)."""
    folder = out / "victims"
    folder.mkdir(parents=True)
    focus = geo[geo["district"] == next(i for i, d in enumerate(DISTRICTS)
                                         if d.code == FOCUS_DISTRICT)]
    days = (VICTIMS_LAST - VICTIMS_FIRST).days + 1
    n_victims = int(NEW_VICTIMS_PER_YEAR * days / 365.25)
    first_day = rng.integers(0, days, n_victims)
    # incidents per victim: 1 + negative binomial (heavy tail)
    extra = rng.negative_binomial(0.6, 0.5, n_victims)
    home = rng.choice(len(focus), n_victims, p=(focus["population"] * focus["attractiveness"]
                                               / (focus["population"] * focus[
                                                   "attractiveness"]).sum()).to_numpy())
    victim_of, day_of = [], []
    for v in range(n_victims):
        day = int(first_day[v])
        for k in range(1 + int(extra[v])):
            if k:
                day += int(rng.lognormal(np.log(110), 1.0)) + 1  # median ~110 days
            if day >= days:
                break
            victim_of.append(v)
            day_of.append(day)
    victim_of = np.array(victim_of)
    day_of = np.array(day_of)
    order = np.lexsort((rng.random(len(day_of)), day_of))
    victim_of, day_of = victim_of[order], day_of[order]
    n = len(day_of)
    types = np.array(INCIDENT_TYPES)[rng.choice(len(INCIDENT_TYPES), n,
                                                p=[.3, .15, .1, .2, .05, .1, .05, .05])]
    is_crime = rng.random(n) < np.array([CRIME_SHARE[t] for t in types])
    domestic = rng.random(n) < 0.93
    dates = pd.to_datetime(VICTIMS_FIRST) + pd.to_timedelta(day_of, unit="D")
    lsoa = focus.iloc[home[victim_of]]
    incidents = pd.DataFrame({
        "incident_id": [f"{10_000_000 + i}" for i in range(n)],
        "victim_id": [f"V{v:06d}" for v in victim_of],
        "date": dates.strftime("%Y-%m-%d"),
        "time": [f"{h:02d}:{m:02d}" for h, m in zip(rng.integers(0, 24, n),
                                                      rng.integers(0, 60, n), strict=True)],
        "incident_type": types,
        "domestic": np.where(domestic, "true", "false"),
        "is_crime": np.where(is_crime, "true", "false"),
        "perpetrator_id": [f"P{v:06d}" for v in victim_of],
        "lsoa_code": lsoa["lsoa_code"].to_numpy(),
        "ward_code": lsoa["ward_code"].to_numpy(),
        "district_code": FOCUS_DISTRICT,
    })
    incidents.to_csv(folder / "incidents.csv", index=False, lineterminator="\n")
    # Marac: the highest-risk ~12% of victims are referred after an incident; some again.
    risky = rng.random(n_victims) < 0.12
    referrals = []
    for i in np.flatnonzero(domestic & risky[victim_of] & (rng.random(n) < 0.6)):
        referrals.append((int(victim_of[i]), int(day_of[i]) + int(rng.integers(3, 30))))
    referrals = [(v, d) for v, d in referrals if d < days]
    referrals.sort(key=lambda r: r[1])
    marac = pd.DataFrame({
        "referral_id": [f"M{i + 1:06d}" for i in range(len(referrals))],
        "victim_id": [f"V{v:06d}" for v, _ in referrals],
        "referral_date": [(VICTIMS_FIRST + dt.timedelta(days=d)).isoformat()
                          for _, d in referrals],
        "district": FOCUS_DISTRICT,
    })
    marac.to_csv(folder / "marac_referrals.csv", index=False, lineterminator="\n")
    # A demo-only key, next to the synthetic data it belongs to; real keys live outside the
    # repository (environment variable SMP_PSEUDONYM_KEY or a protected key file).
    (folder / "pseudonym.key").write_text(rng.bytes(24).hex() + "\n")
    return {"incidents": n, "victims": n_victims, "marac_referrals": len(marac)}
