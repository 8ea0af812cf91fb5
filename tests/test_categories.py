"""The police.uk category table and its Home Office grouping."""

from __future__ import annotations

import csv

from smp_analysis.categories import (
    AGAINST_SOCIETY,
    CRIME_TYPES,
    POLICE_UK_TYPES,
    VICTIM_BASED,
    harmonised_type,
    ho_group,
    known_types,
)

# Home Office Counting Rules 2013: offence groups in each top-level grouping.
HOCR_GROUPS = {
    "Violence against the person": VICTIM_BASED, "Sexual offences": VICTIM_BASED,
    "Robbery": VICTIM_BASED, "Theft offences": VICTIM_BASED,
    "Criminal damage and arson": VICTIM_BASED,
    "Drug offences": AGAINST_SOCIETY, "Possession of weapons offences": AGAINST_SOCIETY,
    "Public order offences": AGAINST_SOCIETY, "Miscellaneous crimes": AGAINST_SOCIETY,
}


def test_fourteen_current_types_all_known():
    assert len(POLICE_UK_TYPES) == 14 and len(CRIME_TYPES) == 13
    assert set(POLICE_UK_TYPES) <= known_types()


def test_historic_names_map_to_current_types():
    assert harmonised_type("Violent crime") == "Violence and sexual offences"
    assert harmonised_type("Public disorder and weapons") == "Public order"


def test_grouping_agrees_with_home_office_offence_mapping(shared_data):
    """Each Home Office offence code's group must land in the same grouping via police.uk."""
    by_lower = {t.lower(): t for t in POLICE_UK_TYPES}
    checked = 0
    with open(shared_data / "home_office" / "CrimeCatMappings.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["Offence_Group"] == "Fraud offences":
                continue  # fraud sits outside both groupings; police.uk has no fraud data
            police_uk = by_lower[row["Police.uk_Cat"].lower()]
            assert ho_group(police_uk) == HOCR_GROUPS[row["Offence_Group"]], row
            checked += 1
    assert checked == 128
