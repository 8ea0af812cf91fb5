"""Harm weights: category weights derived from offence-level weights and a real offence mix
(the Home Office files in ../shared/data/home_office), checked by hand; the readers against
hostile files."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

from smp_analysis.errors import InputError
from smp_analysis.methods.harm import category_weights, harm_table, harm_totals, severity_score
from smp_analysis.sources.home_office import (
    read_offence_counts,
    read_offence_mapping,
    read_offence_weights,
)


def _kent_count(path, code: str) -> int:
    """Kent's offences of one code over the four quarters, read with the csv module."""
    with open(path, newline="", encoding="utf-8") as f:
        return sum(int(row["Number_of_Offences"]) for row in csv.DictReader(f)
                   if row["Force_Name"] == "Kent" and row["Offence_Code"] == code)


def test_category_weight_by_hand_on_the_real_kent_mix(shared_data):
    folder = shared_data / "home_office"
    mapping = read_offence_mapping(folder / "CrimeCatMappings.csv")
    counts = read_offence_counts(folder / "prc-pfa-201718_new.csv", force="Kent")
    robbery = sorted(mapping.index[mapping == "Robbery"])
    assert robbery == ["34A", "34B"]  # robbery of business property, of personal property
    n_a, n_b = (_kent_count(folder / "prc-pfa-201718_new.csv", c) for c in robbery)
    assert (counts["34A"], counts["34B"]) == (n_a, n_b) and n_a > 0 and n_b > 0
    weights = pd.Series({"34A": 500.0, "34B": 300.0, "28F": 120.0})
    derived = category_weights(weights, counts, mapping)
    assert derived.loc["Robbery", "weight"] == pytest.approx((500 * n_a + 300 * n_b)
                                                             / (n_a + n_b))
    assert derived.loc["Robbery", "offences"] == n_a + n_b
    # burglary: only 28F weighted, the other 15 codes reported as unweighted offences
    burglary = mapping.index[mapping == "Burglary"]
    assert derived.loc["Burglary", "weight"] == pytest.approx(120.0)
    assert derived.loc["Burglary", "codes"] == len(burglary) == 16
    assert derived.loc["Burglary", "codes_weighted"] == 1
    assert derived.loc["Burglary", "unweighted_offences"] == sum(
        counts.get(c, 0) for c in burglary if c != "28F")
    assert math.isnan(derived.loc["Drugs", "weight"])  # no weighted code


def test_every_mapping_row_is_a_police_uk_type_whatever_its_case(shared_data):
    mapping = read_offence_mapping(shared_data / "home_office" / "CrimeCatMappings.csv")
    assert len(mapping) == 132
    assert mapping["17A"] == "Violence and sexual offences"  # "Violence and Sexual Offences"
    assert mapping["37.2"] == "Vehicle crime"  # a code that looks like a number stays text


def test_negative_totals_count_as_zero_and_inputs_are_not_changed():
    weights = pd.Series({"1": 10.0, "2": 30.0})
    counts = pd.Series({"1": 10, "2": -4})
    mapping = pd.Series({"1": "Robbery", "2": "Robbery"})
    kept = counts.copy()
    assert category_weights(weights, counts, mapping).loc["Robbery", "weight"] == 10.0
    pd.testing.assert_series_equal(counts, kept)
    with pytest.raises(ValueError, match="offence weights must be numbers >= 0"):
        category_weights(pd.Series({"1": -1.0}), counts, mapping)


def test_harm_shares_totals_and_severity_by_hand():
    counts = pd.Series({"Burglary": 20, "Drugs": 60, "Shoplifting": 20})
    t = harm_table(counts, {"Burglary": 5.0, "Drugs": 1.0})
    # harm 100 and 60 of 160; shoplifting has no weight
    assert t.loc["Burglary", "harm_share"] == pytest.approx(100 / 160)
    assert t.loc["Burglary", "count_share"] == pytest.approx(0.2)
    assert math.isnan(t.loc["Shoplifting", "harm"]) and t.index[-1] == "Shoplifting"
    frame = pd.DataFrame([counts.to_dict()], index=["A"])
    assert harm_totals(frame, {"Burglary": 5.0, "Drugs": 1.0})["A"] == 160.0
    assert severity_score(160.0, 40_000) == pytest.approx(4.0)
    assert math.isnan(severity_score(160.0, 0))


def test_hostile_home_office_files_name_line_and_column(tmp_path):
    bad = tmp_path / "map.csv"
    bad.write_text("Offence_Code,Police.uk_Cat\n8N,Violence and Sexual Offences\n"
                   "99,Fraud offences\n8N,Robbery\n")
    with pytest.raises(InputError) as info:
        read_offence_mapping(bad)
    text = str(info.value)
    assert "line 3, column 'Police.uk_Cat'" in text and "'Fraud offences'" in text
    assert "offence code '8N' is mapped more than once" in text and "3 problems" in text
    counts = tmp_path / "prc.csv"
    counts.write_text("Force_Name,Offence_Code,Number_of_Offences\nKent,8N,12\nKent,8N,x\n")
    with pytest.raises(InputError, match=r"line 3, column 'Number_of_Offences'"):
        read_offence_counts(counts)
    counts.write_text("Force_Name,Offence_Code,Number_of_Offences\nKent,8N,1,234\n")
    with pytest.raises(InputError):
        read_offence_counts(counts)
    counts.write_text("Force_Name,Offence_Code,Number_of_Offences\nKent,8N,\"1,234\"\n")
    assert read_offence_counts(counts, force="kent")["8N"] == 1234
    with pytest.raises(InputError, match="no rows for force 'Essex'"):
        read_offence_counts(counts, force="Essex")
    weights = tmp_path / "css.csv"
    weights.write_text("Offence code,Weight\n8N,150.5\n105A,-3\n")
    with pytest.raises(InputError, match="line 3, column 'weight'"):
        read_offence_weights(weights)
    weights.write_text("code,severity\n8N,1\n")
    with pytest.raises(InputError, match="missing column"):
        read_offence_weights(weights)
    with pytest.raises(InputError, match="file not found"):
        read_offence_weights(tmp_path / "nope.csv")
