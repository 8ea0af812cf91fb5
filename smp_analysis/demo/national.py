"""Synthetic England and Wales: 43 police forces, 325 districts, five years of monthly
data.police.uk street files (about 6 million rows a year), for testing at national scale.

Nothing here is real except the names and rough sizes of the 43 territorial police forces
(population to the nearest 10,000, number of community safety partnerships approximated by
local authority districts, a rough centre). District names are numbered within each force
("Kent district 04"); district, LSOA and MSOA codes are synthetic (E0790..., W0690..., E019...,
W019..., ranges ONS has not issued). Crime follows the county demo's category model
(:mod:`smp_analysis.demo.crime`): seasonality, trends, the 2020-21 lockdowns, gamma-Poisson
over-dispersion and ~1.5% "No Location" rows.

Generation works one force at a time (memory stays flat) and writes every force's month as one
CSV in the same folder layout as a data.police.uk download:
``police_uk/YYYY-MM/YYYY-MM-<force>-street.csv``.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..categories import POLICE_UK_TYPES
from ..sources.police_uk import COLUMNS
from .crime import CATEGORY_MODEL, NO_LOCATION_SHARE, OUTCOMES, STREETS, lockdown_factor

FIRST_MONTH = pd.Period("2019-04", "M")
LAST_MONTH = pd.Period("2024-03", "M")
PEOPLE_PER_LSOA = 1_650
OVERDISPERSION_SHAPE = 60.0


@dataclass(frozen=True)
class Force:
    name: str  # as in the "Falls within" column
    slug: str  # as in file names
    districts: int
    population: int
    lon: float
    lat: float
    welsh: bool = False


FORCES = (
    Force("Avon and Somerset Constabulary", "avon-and-somerset", 9, 1_730_000, -2.7, 51.3),
    Force("Bedfordshire Police", "bedfordshire", 3, 690_000, -0.45, 52.05),
    Force("Cambridgeshire Constabulary", "cambridgeshire", 6, 900_000, 0.05, 52.35),
    Force("Cheshire Constabulary", "cheshire", 4, 1_080_000, -2.6, 53.2),
    Force("City of London Police", "city-of-london", 1, 10_000, -0.09, 51.515),
    Force("Cleveland Police", "cleveland", 4, 570_000, -1.2, 54.55),
    Force("Cumbria Constabulary", "cumbria", 6, 500_000, -2.9, 54.6),
    Force("Derbyshire Constabulary", "derbyshire", 9, 1_060_000, -1.55, 53.0),
    Force("Devon & Cornwall Police", "devon-and-cornwall", 11, 1_800_000, -4.2, 50.6),
    Force("Dorset Police", "dorset", 3, 780_000, -2.2, 50.75),
    Force("Durham Constabulary", "durham", 2, 640_000, -1.7, 54.7),
    Force("Dyfed-Powys Police", "dyfed-powys", 4, 520_000, -3.9, 52.1, welsh=True),
    Force("Essex Police", "essex", 14, 1_850_000, 0.6, 51.8),
    Force("Gloucestershire Constabulary", "gloucestershire", 6, 640_000, -2.2, 51.85),
    Force("Greater Manchester Police", "greater-manchester", 10, 2_870_000, -2.25, 53.48),
    Force("Gwent Police", "gwent", 5, 600_000, -3.0, 51.65, welsh=True),
    Force("Hampshire Constabulary", "hampshire", 15, 2_000_000, -1.3, 51.0),
    Force("Hertfordshire Constabulary", "hertfordshire", 10, 1_200_000, -0.25, 51.8),
    Force("Humberside Police", "humberside", 4, 930_000, -0.5, 53.75),
    Force("Kent Police", "kent", 13, 1_850_000, 0.7, 51.25),
    Force("Lancashire Constabulary", "lancashire", 14, 1_520_000, -2.6, 53.8),
    Force("Leicestershire Police", "leicestershire", 9, 1_110_000, -1.13, 52.63),
    Force("Lincolnshire Police", "lincolnshire", 7, 770_000, -0.4, 53.1),
    Force("Merseyside Police", "merseyside", 5, 1_430_000, -2.95, 53.4),
    Force("Metropolitan Police Service", "metropolitan", 32, 8_900_000, -0.12, 51.5),
    Force("Norfolk Constabulary", "norfolk", 7, 920_000, 1.0, 52.65),
    Force("North Wales Police", "north-wales", 6, 700_000, -3.6, 53.1, welsh=True),
    Force("North Yorkshire Police", "north-yorkshire", 2, 830_000, -1.3, 54.1),
    Force("Northamptonshire Police", "northamptonshire", 2, 790_000, -0.9, 52.25),
    Force("Northumbria Police", "northumbria", 6, 1_470_000, -1.6, 55.0),
    Force("Nottinghamshire Police", "nottinghamshire", 8, 1_170_000, -1.15, 53.0),
    Force("South Wales Police", "south-wales", 7, 1_330_000, -3.4, 51.6, welsh=True),
    Force("South Yorkshire Police", "south-yorkshire", 4, 1_420_000, -1.35, 53.45),
    Force("Staffordshire Police", "staffordshire", 9, 1_140_000, -2.05, 52.85),
    Force("Suffolk Constabulary", "suffolk", 5, 760_000, 1.0, 52.2),
    Force("Surrey Police", "surrey", 11, 1_200_000, -0.4, 51.25),
    Force("Sussex Police", "sussex", 13, 1_700_000, -0.3, 50.9),
    Force("Thames Valley Police", "thames-valley", 12, 2_400_000, -1.1, 51.65),
    Force("Warwickshire Police", "warwickshire", 5, 600_000, -1.55, 52.3),
    Force("West Mercia Police", "west-mercia", 8, 1_300_000, -2.6, 52.4),
    Force("West Midlands Police", "west-midlands", 7, 2_920_000, -1.9, 52.48),
    Force("West Yorkshire Police", "west-yorkshire", 5, 2_350_000, -1.6, 53.8),
    Force("Wiltshire Police", "wiltshire", 2, 730_000, -1.9, 51.35),
)


def lookup_force(force: Force) -> str:
    """The force as the LSOA lookup spells it (the real lookup drops "Police" etc.)."""
    for suffix in (" Constabulary", " Police Service", " Police"):
        if force.name.endswith(suffix):
            return force.name[: -len(suffix)]
    return force.name


def months() -> pd.PeriodIndex:
    return pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")


def geography(rng: np.random.Generator) -> pd.DataFrame:
    """One row per synthetic LSOA: force, district, codes, names, population, coordinates."""
    rows, lsoa_serial, msoa_serial, district_serial = [], 0, 0, 0
    for f_index, force in enumerate(FORCES):
        shares = rng.gamma(8.0, size=force.districts)
        pops = np.maximum(5_000, force.population * shares / shares.sum()).astype(int)
        country = "W" if force.welsh else "E"
        for d in range(force.districts):
            district_serial += 1
            code = f"{country}0{'6' if force.welsh else '7'}9{district_serial:05d}"
            name = f"{lookup_force(force)} district {d + 1:02d}"
            n_lsoa = max(3, round(pops[d] / PEOPLE_PER_LSOA))
            weights = rng.gamma(30.0, size=n_lsoa)
            lsoa_pops = np.floor(pops[d] * weights / weights.sum()).astype(int)
            lsoa_pops[0] += pops[d] - lsoa_pops.sum()
            centre = (force.lon + rng.normal(0, 0.25), force.lat + rng.normal(0, 0.15))
            radius = 0.08 * np.sqrt(rng.uniform(0, 1, n_lsoa))
            angle = rng.uniform(0, 2 * np.pi, n_lsoa)
            level = float(rng.lognormal(0.0, 0.2))
            attractiveness = rng.lognormal(0.0, 0.45, n_lsoa)
            for i in range(n_lsoa):
                if i % 5 == 0:
                    msoa_serial += 1
                lsoa_serial += 1
                rows.append((f_index, district_serial - 1, code, name,
                             f"{country}019{lsoa_serial:05d}", f"{name} {i // 5 + 1:03d}"
                             f"{'ABCDE'[i % 5]}", f"{country}029{msoa_serial:05d}",
                             int(lsoa_pops[i]), round(centre[0] + 1.6 * radius[i]
                                                      * np.cos(angle[i]), 6),
                             round(centre[1] + radius[i] * np.sin(angle[i]), 6), level,
                             float(attractiveness[i])))
    return pd.DataFrame(rows, columns=[
        "force", "district", "la_code", "la_name", "lsoa_code", "lsoa_name", "msoa_code",
        "population", "lon", "lat", "level", "attractiveness"])


def _means(crime_type: str, population: np.ndarray, level: np.ndarray,
           month_index: pd.PeriodIndex) -> np.ndarray:
    """Expected monthly count (district x month): the county demo's model, 2019 levels."""
    rate, _, trend, amplitude, peak, _ = CATEGORY_MODEL[crime_type]
    t_years = np.array([(m - FIRST_MONTH).n for m in month_index]) / 12.0
    seasonal = 1 + amplitude * np.cos(2 * np.pi * (month_index.month.to_numpy() - peak) / 12)
    days = np.array([m.days_in_month for m in month_index]) / (365.25 / 12)
    lockdown = np.array([lockdown_factor(m, crime_type) for m in month_index])
    per_month = rate / 1000 / 12 * np.exp(t_years * np.log1p(trend)) * seasonal * days * lockdown
    if crime_type == "Anti-social behaviour":
        level = 0.5 + 0.5 * level
    return population[:, None] * level[:, None] * per_month[None, :]


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 16-character hex Crime IDs, vectorised."""
    raw = rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64).astype(">i8")
    return np.frombuffer(binascii.hexlify(raw.tobytes()), dtype="S16").astype(str)


def _write_force(out: Path, rng: np.random.Generator, force: Force, geo: pd.DataFrame,
                 month_index: pd.PeriodIndex) -> int:
    """All months of one force; returns the rows written."""
    districts = geo.groupby("district", sort=True).agg(population=("population", "sum"),
                                                        level=("level", "first"))
    members = [np.flatnonzero(geo["district"].to_numpy() == d) for d in districts.index]
    types = np.array(POLICE_UK_TYPES)
    counts = np.zeros((len(types), len(geo), len(month_index)), dtype=np.int64)
    for t, crime_type in enumerate(types):
        mean = _means(crime_type, districts["population"].to_numpy(float),
                      districts["level"].to_numpy(float), month_index)
        drawn = rng.poisson(rng.gamma(OVERDISPERSION_SHAPE, mean / OVERDISPERSION_SHAPE))
        weights = geo["population"].to_numpy() * geo["attractiveness"].to_numpy()
        for d, rows in enumerate(members):
            p = weights[rows] / weights[rows].sum()
            counts[t, rows, :] = rng.multinomial(drawn[d], p).T
    outcome_names = np.array([o for o, _ in OUTCOMES])
    outcome_p = np.array([p for _, p in OUTCOMES])
    outcome_p = outcome_p / outcome_p.sum()
    streets = np.array([f"On or near {s}" for s in STREETS])
    lsoa_codes, lsoa_names = geo["lsoa_code"].to_numpy(), geo["lsoa_name"].to_numpy()
    lons, lats = geo["lon"].to_numpy(), geo["lat"].to_numpy()
    asb = types == "Anti-social behaviour"
    written = 0
    for m, month in enumerate(month_index):
        cell = counts[:, :, m]
        type_idx, lsoa_idx = np.nonzero(cell)
        reps = cell[type_idx, lsoa_idx]
        n = int(reps.sum())
        order = rng.permutation(n)
        type_of_row = np.repeat(type_idx, reps)[order]
        lsoa_of_row = np.repeat(lsoa_idx, reps)[order]
        is_asb = asb[type_of_row]
        no_location = rng.random(n) < NO_LOCATION_SHARE
        text = month.strftime("%Y-%m")
        table = pa.table({
            COLUMNS[0]: pa.array(np.where(is_asb, "", _hex_ids(rng, n)), pa.string()),
            COLUMNS[1]: pa.array(np.full(n, text), pa.string()),
            COLUMNS[2]: pa.array(np.full(n, force.name), pa.string()),
            COLUMNS[3]: pa.array(np.full(n, force.name), pa.string()),
            COLUMNS[4]: pa.array(np.round(lons[lsoa_of_row] + rng.normal(0, 0.004, n), 6),
                                 pa.float64(), mask=no_location),
            COLUMNS[5]: pa.array(np.round(lats[lsoa_of_row] + rng.normal(0, 0.0025, n), 6),
                                 pa.float64(), mask=no_location),
            COLUMNS[6]: pa.array(np.where(no_location, "No Location",
                                          streets[rng.integers(0, len(streets), n)]),
                                 pa.string()),
            COLUMNS[7]: pa.array(np.where(no_location, "", lsoa_codes[lsoa_of_row]),
                                 pa.string()),
            COLUMNS[8]: pa.array(np.where(no_location, "", lsoa_names[lsoa_of_row]),
                                 pa.string()),
            COLUMNS[9]: pa.array(types[type_of_row], pa.string()),
            COLUMNS[10]: pa.array(np.where(is_asb, "", outcome_names[rng.choice(
                len(OUTCOMES), size=n, p=outcome_p)]), pa.string()),
            COLUMNS[11]: pa.array(np.full(n, ""), pa.string()),
        })
        folder = out / "police_uk" / text
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{text}-{force.slug}-street.csv", "wb") as f:
            f.write((",".join(COLUMNS) + "\n").encode())
            pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False,
                                                         quoting_style="none"))
        written += n
    return written


def _write_lookups(out: Path, geo: pd.DataFrame) -> None:
    folder = out / "geography"
    folder.mkdir(parents=True, exist_ok=True)
    force = geo["force"].map(lambda i: lookup_force(FORCES[i]))
    lookup = pd.DataFrame({
        "Region code": "", "Region name": "",
        "Local authority code": geo["la_code"], "Local authority name": geo["la_name"],
        "MSOA Code": geo["msoa_code"], "MSOA Name": geo["la_name"],
        "LSOA Code": geo["lsoa_code"], "LSOA Name": geo["lsoa_name"], "Police_force": force})
    lookup.to_csv(folder / "PoliceforceLSOA.csv", index=True, lineterminator="\n")
    census = pd.DataFrame({
        "Region code": "", "Region name": "",
        "Local authority code": geo["la_code"], "Local authority name": geo["la_name"],
        "MSOA Code": geo["msoa_code"], "MSOA Name": geo["la_name"],
        "LSOA Code": geo["lsoa_code"], "LSOA Name": geo["lsoa_name"], "": "",
        "Persons": geo["population"].map("{:,}".format),
        "Persons.1": geo["population"].map("{:,}".format), "Persons.2": "0",
        "Households": (geo["population"] / 2.4).round().astype(int).map("{:,}".format)})
    census.to_csv(folder / "census_2011_population_hh.csv", index=False, lineterminator="\n",
                  header=[c.split(".")[0] for c in census.columns])


def generate_national(out: Path, *, seed: int, progress: bool = False) -> dict:
    """Write the national dataset under `out` (an empty folder); returns the manifest."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng([seed, 43])
    geo = geography(rng)
    month_index = months()
    _write_lookups(out, geo)
    rows = 0
    for f_index, force in enumerate(tqdm(FORCES, desc="forces", disable=not progress)):
        part = geo[geo["force"] == f_index].reset_index(drop=True)
        part["district"] = part["district"] - part["district"].min()
        rows += _write_force(out, np.random.default_rng([seed, f_index]), force, part,
                             month_index)
    districts = geo.drop_duplicates("la_code")
    return {
        "scale": "national", "seed": seed, "forces": len(FORCES),
        "districts": int(len(districts)), "lsoas": int(len(geo)),
        "first_month": str(FIRST_MONTH), "last_month": str(LAST_MONTH),
        "rows_written": int(rows),
        "partnerships": [{"force": lookup_force(FORCES[f]), "code": c, "name": n}
                         for f, c, n in zip(districts["force"], districts["la_code"],
                                            districts["la_name"], strict=True)],
        "note": "Synthetic demonstration data. Not real crime data.",
    }


def write_manifest(out: Path, manifest: dict) -> None:
    (out / "demo-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
