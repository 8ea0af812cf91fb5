"""Synthetic street-level crime: category models with seasonality, trends, a recording step,
lockdowns and over-dispersion; data.police.uk CSVs; assault admissions; injected defects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..categories import POLICE_UK_TYPES
from ..sources.police_uk import COLUMNS
from .geography import DISTRICTS, FORCE

FIRST_MONTH = pd.Period("2008-04", "M")
LAST_MONTH = pd.Period("2024-03", "M")
FORCE_LABEL = f"{FORCE} Police"
RECORDING_CHANGE = {"month": "2014-04", "crime_types": ["Violence and sexual offences"],
                    "uplift": 0.25}


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




def _months() -> pd.PeriodIndex:
    return pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")




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
