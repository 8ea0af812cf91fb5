"""Crime categories: the 14 data.police.uk types and the Home Office grouping.

Reference: data.police.uk "About" page (crime categories used on police.uk) and the
Home Office Counting Rules for Recorded Crime (April 2013), which split police recorded
crime into *victim-based crime* and *other crimes against society*. Anti-social behaviour
is an incident category, not a crime, and is reported separately.

The mapping is data (``smp_analysis/data/crime_categories.csv``), not code. Historic police.uk
names (``Violent crime`` and ``Public disorder and weapons``, used before May 2013) are
mapped to their current successors so that long series stay comparable.

>>> ho_group("Shoplifting")
'Victim-based crime'
>>> ho_group("Drugs")
'Other crimes against society'
>>> len(POLICE_UK_TYPES)
14
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

ANTI_SOCIAL_BEHAVIOUR = "Anti-social behaviour"
VICTIM_BASED = "Victim-based crime"
AGAINST_SOCIETY = "Other crimes against society"
TOTAL_CRIME = "Total recorded crime"
GROUP_ORDER = (TOTAL_CRIME, VICTIM_BASED, AGAINST_SOCIETY, ANTI_SOCIAL_BEHAVIOUR)

POLICE_UK_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
CRIME_TYPES: tuple[str, ...] = tuple(t for t in POLICE_UK_TYPES if t != ANTI_SOCIAL_BEHAVIOUR)


@cache
def category_table() -> pd.DataFrame:
    """The category lookup: one row per police.uk name (current and historic)."""
    table = pd.read_csv(Path(__file__).with_name("data") / "crime_categories.csv", dtype=str,
                        keep_default_na=False)
    table["is_crime"] = table["is_crime"].map({"true": True, "false": False})
    return table


def known_types() -> frozenset[str]:
    """Every crime-type name the ingest accepts (current and historic)."""
    return frozenset(category_table()["police_uk_type"])


def harmonised_type(police_uk_type: str) -> str:
    """Current police.uk name for a current or historic one.

    >>> harmonised_type("Violent crime")
    'Violence and sexual offences'
    """
    return _lookup("harmonised_type")[police_uk_type]


def ho_group(police_uk_type: str) -> str:
    """Home Office group of a police.uk type (or 'Anti-social behaviour')."""
    return _lookup("ho_group")[police_uk_type]


@cache
def _lookup(column: str) -> dict[str, str]:
    table = category_table()
    return dict(zip(table["police_uk_type"], table[column], strict=True))


def with_groups(monthly: pd.DataFrame) -> pd.DataFrame:
    """Add each row's Home Office ``group`` and a 'Total recorded crime' copy of every crime row
    (ASB is not a crime), so totals and groups come from one ``groupby``.

    >>> m = pd.DataFrame({"crime_type": ["Burglary", "Drugs", "Anti-social behaviour"],
    ...                   "count": [5, 2, 9]})
    >>> with_groups(m).groupby("group")["count"].sum().to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'Anti-social behaviour': 9, 'Other crimes against society': 2, 'Total recorded crime': 7,
     'Victim-based crime': 5}
    """
    groups = category_table().drop_duplicates("harmonised_type").set_index("harmonised_type")
    frame = monthly.assign(group=monthly["crime_type"].map(groups["ho_group"]))
    crimes = frame[frame["group"] != ANTI_SOCIAL_BEHAVIOUR].assign(group=TOTAL_CRIME)
    return pd.concat([frame, crimes], ignore_index=True)
