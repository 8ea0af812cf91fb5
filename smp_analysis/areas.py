"""Local authority codes across ONS changes: a params file may name a district by its current
ONS (GSS) code while the LSOA lookup uses older boundaries (the shipped lookup is 2011's).

Reference: ONS, *Code History Database* and *Register of Geographic Codes* (changes since
2011): Gateshead and Northumberland were recoded in April 2013 after a boundary change between
them; four Hertfordshire districts were recoded in 2014-15; districts merged into new
authorities in 2019 (Dorset, Suffolk, Somerset West and Taunton), 2020 (Buckinghamshire), 2021
(Northamptonshire) and 2023 (Cumbria, North Yorkshire, Somerset). The table is data
(``smp_analysis/data/district_code_changes.csv``), not code.

A current code is accepted only with a message: a recoded district is mapped to the lookup's
code; a merged authority has no district in the lookup, and the message names the districts it
replaced. Codes and names are otherwise matched exactly as the lookup has them.

>>> lookup = pd.DataFrame({"area_code": ["E06000048", "E07000004", "E07000005"],
...                        "area_name": ["Northumberland UA", "Aylesbury Vale", "Chiltern"]})
>>> r = resolve_district("E06000057", "Northumberland", lookup)
>>> r.code, r.message.split(";")[0]
('E06000048', 'E06000057 is the current ONS code for Northumberland (since April 2013)')
>>> resolve_district("E07000004", "Aylesbury Vale", lookup).message is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class DistrictCode:
    """A district code from params resolved against the lookup: `code` is the lookup's code
    (None when the lookup has no such district); `message` says what was done, when anything
    was."""

    given: str
    code: str | None
    message: str | None


@cache
def code_changes() -> pd.DataFrame:
    """The ONS code changes table (one row per current code and lookup code it replaced)."""
    return pd.read_csv(Path(__file__).with_name("data") / "district_code_changes.csv",
                       dtype=str, keep_default_na=False)


def _plain(name: str) -> str:
    name = re.sub(r"\s+UA$", "", str(name).strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", name.replace("&", "and")).casefold()


def resolve_district(code: str, name: str | None, lookup: pd.DataFrame) -> DistrictCode:
    """Resolve a district `code` (with its `name` from params, if any) against the lookup's
    ``area_code, area_name`` (see module doc)."""
    known = dict(zip(lookup["area_code"], lookup["area_name"], strict=True))
    if code in known:
        return DistrictCode(code, code, None)
    changes = code_changes()
    rows = changes[changes["current_code"] == code]
    if len(rows):
        first = rows.iloc[0]
        since = pd.Period(first["since"], "M").strftime("%B %Y")
        what = f"{code} is the current ONS code for {first['current_name']} (since {since})"
        present = rows[rows["lookup_code"].isin(list(known))]
        if len(rows) == 1 and len(present) == 1:
            old = present.iloc[0]["lookup_code"]
            return DistrictCode(code, old, f"{what}; the LSOA lookup uses the earlier code {old} "
                                f"({known[old]}), which is used here.")
        parts = ", ".join(f"{r['lookup_name']} ({r['lookup_code']})" for _, r in rows.iterrows())
        return DistrictCode(code, None, f"{what}; the LSOA lookup has no such district: it was "
                            f"formed from {parts}. List those codes instead, or use a lookup on "
                            "current boundaries.")
    if name:
        matches = [c for c, n in known.items() if _plain(n) == _plain(name)]
        if len(matches) == 1:
            return DistrictCode(code, matches[0], f"{code} is not in the LSOA lookup; its "
                                f"district named {known[matches[0]]} has the code {matches[0]}, "
                                "which is used here.")
    named = f" (nor one named {name})" if name else ""
    return DistrictCode(code, None, f"the LSOA lookup has no district with the code {code}"
                        f"{named}; check the code against the lookup's 'Local authority code' "
                        "column.")
