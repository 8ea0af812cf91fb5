"""Synthetic geography: 13 districts (Census 2011 populations of Kent's 12 districts and
Medway), LSOAs, MSOAs and wards with synthetic codes, the lookups in the real files' layouts,
and yearly populations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FORCE = "Kent"


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




def _district_population(months: pd.PeriodIndex) -> np.ndarray:
    """Population (district x month), growing smoothly from the Census 2011 value."""
    years = np.array([m.year + (m.month - 6.5) / 12 for m in months]) - 2011.25
    return np.array([d.population_2011 * (1 + d.growth) ** years for d in DISTRICTS])




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
    for year in range(months[0].year, months[-1].year + 1):
        for d in DISTRICTS:
            rows.append({"area_code": d.code, "area_name": d.name, "year": year,
                         "population": round(d.population_2011 * (1 + d.growth) ** (year - 2011))})
    pd.DataFrame(rows).to_csv(out / "population" / "population_by_year.csv", index=False,
                              lineterminator="\n")


