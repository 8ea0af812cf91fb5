"""The synthetic demo county: deterministic, complete, and carrying the effects chapters need."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from smp_analysis.categories import POLICE_UK_TYPES
from smp_analysis.demo import DISTRICTS, MAIDSTONE_WARDS, generate
from smp_analysis.sources.geography import read_lsoa_lookup, read_ward_lookup
from smp_analysis.store import SYNTHETIC_MARKER


@pytest.fixture(scope="module")
def street(demo_dir):
    """All demo street rows (selected columns) read independently with pandas."""
    files = sorted((demo_dir / "police_uk").rglob("*-street.csv"))
    frames = [pd.read_csv(f, usecols=["Month", "LSOA code", "Crime type"], dtype=str)
              for f in files]
    return files, pd.concat(frames, ignore_index=True)


def test_same_seed_same_bytes(demo_dir, tmp_path):
    again = generate(tmp_path / "again")
    for rel in ("police_uk/2014-07/2014-07-kent-street.csv", "demo-manifest.json",
                "geography/census_2011_population_hh.csv",
                "health/hospital_admissions_assault.csv"):
        assert (hashlib.sha256((again / rel).read_bytes()).hexdigest()
                == hashlib.sha256((demo_dir / rel).read_bytes()).hexdigest()), rel


def test_marker_and_manifest(demo_dir):
    assert (demo_dir / SYNTHETIC_MARKER).exists()
    manifest = json.loads((demo_dir / "demo-manifest.json").read_text())
    assert manifest["recording_change"]["month"] == "2014-04"


def test_thirteen_districts_with_census_populations(demo_dir):
    lookup = read_lsoa_lookup(demo_dir / "geography/PoliceforceLSOA.csv")
    assert lookup["la_code"].nunique() == 13
    assert {d.name for d in DISTRICTS} >= {"Maidstone", "Medway", "Thanet", "Sevenoaks"}
    census = pd.read_csv(demo_dir / "geography/census_2011_population_hh.csv", thousands=",")
    maidstone = census[census["Local authority code"] == "E07000110"]
    assert len(maidstone) == 95 and maidstone["Persons"].sum() == 155_143


def test_maidstone_has_its_26_real_ward_names(demo_dir):
    wards = read_ward_lookup(demo_dir / "geography/ward_lookup.csv")
    lookup = read_lsoa_lookup(demo_dir / "geography/PoliceforceLSOA.csv")
    maidstone = wards.merge(lookup, on="lsoa_code").query("la_code == 'E07000110'")
    assert set(maidstone["ward_name"]) == set(MAIDSTONE_WARDS) and len(MAIDSTONE_WARDS) == 26


def test_months_april_2008_to_march_2024_all_categories(street):
    files, rows = street
    assert len(files) == 192
    assert files[0].name == "2008-04-kent-street.csv" and files[-1].name == "2024-03-kent-street.csv"
    types = set(rows["Crime type"].dropna())
    assert set(POLICE_UK_TYPES) <= types
    assert types - set(POLICE_UK_TYPES) == {"Bicycle crime"}  # the injected bad row


def _yearly(rows: pd.DataFrame, crime_type: str) -> pd.Series:
    part = rows[rows["Crime type"] == crime_type]
    return part.groupby("Month").size()


def test_violence_peaks_in_summer(street):
    monthly = _yearly(street[1], "Violence and sexual offences")
    by_month = monthly.groupby(monthly.index.str[5:]).mean()
    assert by_month["07"] > 1.1 * by_month["01"]


def test_recording_step_in_violence_but_not_in_admissions(street, demo_dir):
    monthly = _yearly(street[1], "Violence and sexual offences")
    before = monthly["2013-04":"2014-03"].sum()
    after = monthly["2014-04":"2015-03"].sum()
    admissions = pd.read_csv(demo_dir / "health/hospital_admissions_assault.csv", dtype={"month": str})
    adm = admissions.groupby("month")["admissions"].sum()
    adm_ratio = adm["2014-04":"2015-03"].sum() / adm["2013-04":"2014-03"].sum()
    assert after / before > 1.18
    assert abs(adm_ratio - 1) < 0.08


def test_lockdown_dip_and_asb_rise(street):
    rows = street[1]
    crimes = rows[rows["Crime type"] != "Anti-social behaviour"].groupby("Month").size()
    asb = rows[rows["Crime type"] == "Anti-social behaviour"].groupby("Month").size()
    assert crimes["2020-04"] < 0.8 * crimes["2019-04"]
    assert asb["2020-04"] > 1.6 * asb["2019-04"]


def test_national_scale_geography_and_one_force_round_trip(tmp_path):
    """The national generator: 43 forces, ~300 districts, valid street files (read back with
    the police.uk reader), every LSOA placed in the lookup."""
    import numpy as np

    from smp_analysis.demo import national
    from smp_analysis.sources.geography import read_lsoa_lookup
    from smp_analysis.sources.police_uk import read_street_csv

    geo = national.geography(np.random.default_rng(1))
    assert geo["force"].nunique() == 43
    assert geo["la_code"].nunique() == 325
    assert 55e6 < geo["population"].sum() < 65e6
    national._write_lookups(tmp_path, geo)
    lookup = read_lsoa_lookup(tmp_path / "geography" / "PoliceforceLSOA.csv")
    assert len(lookup) == len(geo) and lookup["police_force"].nunique() == 43
    kent = next(i for i, f in enumerate(national.FORCES) if f.slug == "kent")
    part = geo[geo["force"] == kent].reset_index(drop=True)
    part["district"] -= part["district"].min()
    months = national.months()[:2]
    rows = national._write_force(tmp_path, np.random.default_rng(2), national.FORCES[kent],
                                 part, months)
    # Kent: ~1.85 M residents at ~98 records per 1,000 a year -> ~15,000 a month
    assert 20_000 < rows < 40_000
    result = read_street_csv(tmp_path / "police_uk" / "2019-04" / "2019-04-kent-street.csv")
    assert result.rows_quarantined == 0 and result.rows_loaded > 10_000
    assert set(result.table.column("falls_within").unique().to_pylist()) == {"Kent Police"}
