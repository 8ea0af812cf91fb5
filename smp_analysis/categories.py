"""Crime categories: the 14 data.police.uk types and the Home Office grouping.

Reference: data.police.uk "About" page (crime categories used on police.uk) and the
Home Office Counting Rules for Recorded Crime (April 2013), which split police recorded
crime into *victim-based crime* and *other crimes against society*. Anti-social behaviour
is an incident category, not a crime, and is reported separately.

The mapping is data (``smp_analysis/data/crime_categories.csv``), not code. Historic police.uk
names (``Violent crime`` and ``Public disorder and weapons``, used before May 2013) are
mapped to their current successors, so every series carries a current name.

**Category history** (``smp_analysis/data/category_history.csv``; data.police.uk "About" page
and its changelog): in September 2011 "Other crime" was split into criminal damage and arson,
drugs, other theft, public disorder and weapons, shoplifting and what remained; in May 2013
"Violent crime" became "Violence and sexual offences" (taking sexual offences from "Other
crime"), "Public disorder and weapons" was split into "Public order" and "Possession of
weapons", and "Bicycle theft" and "Theft from the person" were split off "Other theft". A
series that a change splits means different things on the two sides of it, so a comparison
across the change either uses a harmonised group (the union of the types the change mixed,
:func:`harmonised_groups`) or starts after the change (:func:`series_start`). A change applies
to a store only when its data hold months before the change published under the old scheme
(:func:`changes_in_data`): the synthetic demo uses today's names throughout.

>>> ho_group("Shoplifting")
'Victim-based crime'
>>> ho_group("Drugs")
'Other crimes against society'
>>> len(POLICE_UK_TYPES)
14
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


CATEGORY_FILE = Path(__file__).with_name("data") / "crime_categories.csv"


@cache
def category_records() -> tuple[dict[str, str], ...]:
    """The rows of the category lookup as text (pandas-free: the ingest needs only these, and
    importing pandas would cost it a third of a second)."""
    with open(CATEGORY_FILE, encoding="utf-8-sig", newline="") as f:
        return tuple(csv.DictReader(f))


@cache
def category_table() -> pd.DataFrame:
    """The category lookup: one row per police.uk name (current and historic)."""
    import pandas as pd

    table = pd.read_csv(CATEGORY_FILE, dtype=str, keep_default_na=False)
    table["is_crime"] = table["is_crime"].map({"true": True, "false": False})
    return table


def known_types() -> frozenset[str]:
    """Every crime-type name the ingest accepts (current and historic).

    >>> "Shoplifting" in known_types() and "Violent crime" in known_types()
    True
    """
    return frozenset(r["police_uk_type"] for r in category_records())


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
    return {r["police_uk_type"]: r[column] for r in category_records()}


def with_groups(monthly: pd.DataFrame) -> pd.DataFrame:
    """Add each row's Home Office ``group`` and a 'Total recorded crime' copy of every crime row
    (ASB is not a crime), so totals and groups come from one ``groupby``.

    >>> import pandas as pd
    >>> m = pd.DataFrame({"crime_type": ["Burglary", "Drugs", "Anti-social behaviour"],
    ...                   "count": [5, 2, 9]})
    >>> with_groups(m).groupby("group")["count"].sum().to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'Anti-social behaviour': 9, 'Other crimes against society': 2, 'Total recorded crime': 7,
     'Victim-based crime': 5}
    """
    import pandas as pd

    groups = category_table().drop_duplicates("harmonised_type").set_index("harmonised_type")
    frame = monthly.assign(group=monthly["crime_type"].map(groups["ho_group"]))
    crimes = frame[frame["group"] != ANTI_SOCIAL_BEHAVIOUR].assign(group=TOTAL_CRIME)
    return pd.concat([frame, crimes], ignore_index=True)


# --------------------------------------------------------------------------- category history

# The Home Office groups and the totals as sets of current types, to test them against changes.
SERIES_TYPES: dict[str, frozenset[str]] = {
    TOTAL_CRIME: frozenset(CRIME_TYPES),
    ANTI_SOCIAL_BEHAVIOUR: frozenset({ANTI_SOCIAL_BEHAVIOUR}),
}


@dataclass(frozen=True)
class CategoryChange:
    """One change of the data.police.uk categories (see module doc)."""

    month: pd.Period  # first month published under the new scheme
    groups: tuple[frozenset[str], ...]  # current names comparable across it only together
    introduced: frozenset[str]  # police.uk names first published at this change

    @property
    def name(self) -> str:
        return f"{self.month:%B %Y}"

    def affects(self, types: Iterable[str]) -> bool:
        """True when a series summing `types` (current names) means something different on
        the two sides of this change: the change mixed one of its types with a type outside it.

        >>> may_2013 = category_history()[1]
        >>> may_2013.affects(["Possession of weapons"]), may_2013.affects(["Burglary"])
        (True, False)
        >>> may_2013.affects(["Public order", "Possession of weapons"])
        False
        """
        series = set(types)
        return any(group & series and not group <= series for group in self.groups)


@cache
def category_history() -> tuple[CategoryChange, ...]:
    """The data.police.uk category changes, oldest first."""
    import pandas as pd

    table = pd.read_csv(Path(__file__).with_name("data") / "category_history.csv", dtype=str,
                        keep_default_na=False)
    unknown = sorted(set(table["police_uk_type"]) - known_types())
    if unknown:
        raise ValueError(f"category_history.csv names unknown police.uk types: {unknown}")
    current = _lookup("harmonised_type")
    changes = []
    for month, part in table.groupby("change_month", sort=True):
        groups = tuple(frozenset(current[t] for t in members["police_uk_type"])
                       for _, members in part.groupby("group", sort=True))
        before = set(part.loc[part["side"] == "before", "police_uk_type"])
        after = set(part.loc[part["side"] == "after", "police_uk_type"])
        changes.append(CategoryChange(pd.Period(month, "M"), groups, frozenset(after - before)))
    return tuple(changes)


def changes_in_data(names_by_month: pd.DataFrame,
                    history: Iterable[CategoryChange] | None = None) -> tuple[CategoryChange, ...]:
    """The changes that apply to data holding ``month, crime_type`` (police.uk names as
    published): the data hold months before the change and none of them uses a name the
    change introduced.

    >>> import pandas as pd
    >>> old = pd.DataFrame({"month": pd.to_datetime(["2013-04-01", "2013-05-01"]),
    ...                     "crime_type": ["Violent crime", "Violence and sexual offences"]})
    >>> [c.name for c in changes_in_data(old)]
    ['May 2013']
    >>> today = old.assign(crime_type="Violence and sexual offences")
    >>> changes_in_data(today)
    ()
    """
    import pandas as pd

    months = pd.PeriodIndex(pd.to_datetime(names_by_month["month"]), freq="M")
    names = names_by_month["crime_type"].to_numpy()
    found = []
    for change in category_history() if history is None else history:
        before = months < change.month
        if before.any() and not set(names[before]) & change.introduced:
            found.append(change)
    return tuple(found)


def changes_between(changes: Iterable[CategoryChange], first: pd.Period, last: pd.Period
                    ) -> tuple[CategoryChange, ...]:
    """Changes a span of months from `first` to `last` (inclusive) straddles."""
    return tuple(c for c in changes if first < c.month <= last)


def series_start(types: Iterable[str], changes: Iterable[CategoryChange],
                 before: pd.Period) -> pd.Period | None:
    """First month a series of `types` means what it means in `before`: the latest change
    up to `before` that affects it, or None when no change does."""
    types = list(types)
    months = [c.month for c in changes if c.month <= before and c.affects(types)]
    return max(months) if months else None


def harmonised_groups(types: Iterable[str], changes: Iterable[CategoryChange]
                      ) -> dict[str, str]:
    """Each of `types` mapped to the label of the smallest group of types that means the same
    on both sides of every one of `changes` (types no change touches map to themselves).

    >>> groups = harmonised_groups(CRIME_TYPES, category_history()[1:])
    >>> groups["Possession of weapons"], groups["Burglary"]
    ('Possession of weapons and public order', 'Burglary')
    >>> groups["Bicycle theft"]
    'Bicycle theft, other theft and theft from the person'
    """
    types = list(types)
    parent = {t: t for t in types}

    def root(t: str) -> str:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for change in changes:
        for group in change.groups:
            members = [t for t in types if t in group]
            for other in members[1:]:
                parent[root(other)] = root(members[0])
    members: dict[str, list[str]] = {}
    for t in types:
        members.setdefault(root(t), []).append(t)
    return {t: group_label(members[root(t)]) for t in types}


def group_label(types: Iterable[str]) -> str:
    """A readable name for a harmonised group of types.

    >>> group_label(["Public order", "Possession of weapons"])
    'Possession of weapons and public order'
    >>> group_label([t for t in CRIME_TYPES if t not in ("Burglary", "Robbery")])
    'Crime other than burglary and robbery'
    """
    order = {t: i for i, t in enumerate(POLICE_UK_TYPES)}
    members = sorted(set(types), key=lambda t: (order.get(t, len(order)), t))
    if len(members) == 1:
        return members[0]
    rest = [t for t in CRIME_TYPES if t not in members]
    if set(members) <= set(CRIME_TYPES) and len(members) > len(CRIME_TYPES) / 2:
        return "Crime other than " + _join([t.lower() for t in rest])
    words = [members[0], *(t.lower() for t in members[1:])]
    return _join(words)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def group_types(label: str) -> frozenset[str]:
    """The current types a series label sums: a type, a Home Office group or a total."""
    if label in SERIES_TYPES:
        return SERIES_TYPES[label]
    if label in (VICTIM_BASED, AGAINST_SOCIETY):
        table = category_table()
        return frozenset(table.loc[table["ho_group"] == label, "harmonised_type"])
    return frozenset({label})
