"""Home Office offence-level tables for deriving harm weights (docs/data_dictionary.md):

* the offence-to-category mapping (``CrimeCatMappings.csv``: ``Offence_Code``,
  ``Police.uk_Cat``; one row per Home Office offence code);
* police recorded crime by police force area (``prc-pfa-YYYYYY*.csv``: ``Force_Name``,
  ``Offence_Code``, ``Number_of_Offences``, one row per force, quarter and offence);
* offence-level severity weights (ONS Crime Severity Score weights saved as CSV with columns
  ``offence_code`` and ``weight``; header names are matched ignoring case, spaces and '_').

Offence codes are text ("8N", "37.2", "AF"): read as strings, never as numbers. Category
names are matched to the data.police.uk names ignoring case ("Violence and Sexual Offences"
in the mapping is "Violence and sexual offences"). Every problem in a file is reported at
once with its line and column.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from ..categories import CRIME_TYPES
from ..errors import InputError, Problem


def _simple(name: str) -> str:
    return re.sub(r"[\s_.]+", "", str(name)).lower()


def _read(path: str | Path, needed: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """The file with the `needed` columns renamed to their keys (aliases matched loosely);
    every line number kept in ``line``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem(str(path), "file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), f"cannot be read as UTF-8 text: {exc}")) from None
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        raise InputError(Problem(str(path), "the file is empty"))
    header, body = records[0], records[1:]
    # a row with more or fewer fields than the header would shift every column after it
    ragged = [Problem(str(path), f"{len(r)} fields where the header has {len(header)}", i)
              for i, r in enumerate(body, 2) if r and len(r) != len(header)]
    if ragged:
        raise InputError(ragged)
    frame = pd.DataFrame([r for r in body if r], columns=header, dtype=str)
    columns = {_simple(c): c for c in frame.columns}
    rename, missing = {}, []
    for key, aliases in needed.items():
        found = next((columns[_simple(a)] for a in aliases if _simple(a) in columns), None)
        if found is None:
            missing.append(f"{aliases[0]}")
        else:
            rename[found] = key
    if missing:
        raise InputError(Problem(str(path), f"missing column(s) {', '.join(missing)}; the "
                                 f"header has {', '.join(map(str, frame.columns))}", 1))
    out = frame[list(rename)].rename(columns=rename)
    out["line"] = [i for i, r in enumerate(body, 2) if r]
    return out


def police_uk_category(name: str) -> str | None:
    """The data.police.uk crime type a name means, ignoring case and spacing (None if none).

    >>> police_uk_category("Violence and Sexual Offences"), police_uk_category("Fraud")
    ('Violence and sexual offences', None)
    """
    known = {_simple(t): t for t in CRIME_TYPES}
    return known.get(_simple(name))


def read_offence_mapping(path: str | Path) -> pd.Series:
    """Offence code -> data.police.uk crime type, from a CrimeCatMappings-style file."""
    frame = _read(path, {"offence_code": ("Offence_Code", "offence code"),
                         "category": ("Police.uk_Cat", "Policeuk_Cat", "category")})
    problems = []
    codes = frame["offence_code"].str.strip()
    for line, code, name in zip(frame["line"], codes, frame["category"], strict=True):
        if not code:
            problems.append(Problem(str(path), "empty offence code", line, "Offence_Code"))
        elif police_uk_category(name) is None:
            problems.append(Problem(str(path), f"{name!r} is not a data.police.uk crime type "
                                    f"({', '.join(CRIME_TYPES)})", line, "Police.uk_Cat"))
    repeated = codes[codes.duplicated(keep=False) & (codes != "")]
    for line, code in zip(frame.loc[repeated.index, "line"], repeated, strict=True):
        problems.append(Problem(str(path), f"offence code {code!r} is mapped more than once",
                                line, "Offence_Code"))
    if problems:
        raise InputError(problems)
    return pd.Series([police_uk_category(n) for n in frame["category"]],
                     index=pd.Index(codes, name="offence_code"), name="category")


def read_offence_counts(path: str | Path, *, force: str | None = None) -> pd.Series:
    """Recorded offences by offence code (all quarters and rows summed) for one force (all
    forces when `force` is None), from a prc-pfa-style file. Negative numbers are kept
    (they are reclassification adjustments); :func:`~smp_analysis.methods.harm.
    category_weights` counts a negative total as 0."""
    frame = _read(path, {"force": ("Force_Name", "force"),
                         "offence_code": ("Offence_Code", "offence code"),
                         "count": ("Number_of_Offences", "offences", "count")})
    numbers = pd.to_numeric(frame["count"].str.replace(",", "", regex=False).str.strip(),
                            errors="coerce")
    bad = frame[numbers.isna() | (numbers != numbers.round())]
    problems = [Problem(str(path), f"{value!r} is not a whole number of offences", line,
                        "Number_of_Offences") for line, value in
                zip(bad["line"], bad["count"], strict=True)]
    if problems:
        raise InputError(problems)
    frame = frame.assign(count=numbers.astype("int64"),
                         offence_code=frame["offence_code"].str.strip())
    if force is not None:
        chosen = frame[frame["force"].str.strip().str.lower() == force.strip().lower()]
        if chosen.empty:
            forces = sorted(frame["force"].unique())
            raise InputError(Problem(str(path), f"no rows for force {force!r}; the file has "
                                     f"{', '.join(forces[:60])}", None, "Force_Name"))
        frame = chosen
    return frame.groupby("offence_code")["count"].sum().rename("offences")


def read_offence_weights(path: str | Path) -> pd.Series:
    """Offence code -> severity weight (e.g. the ONS Crime Severity Score weights)."""
    frame = _read(path, {"offence_code": ("offence_code", "Offence code", "code"),
                         "weight": ("weight", "severity weight", "CSS weight")})
    weights = pd.to_numeric(frame["weight"].str.replace(",", "", regex=False).str.strip(),
                            errors="coerce")
    codes = frame["offence_code"].str.strip()
    problems = [Problem(str(path), f"{value!r} is not a number >= 0", line, "weight")
                for line, value, w in zip(frame["line"], frame["weight"], weights, strict=True)
                if not (w >= 0)]
    problems += [Problem(str(path), f"offence code {c!r} is given more than once", line,
                         "offence_code")
                 for line, c in zip(frame["line"], codes, strict=True)
                 if (codes == c).sum() > 1]
    if problems:
        raise InputError(problems)
    return pd.Series(weights.to_numpy(), index=pd.Index(codes, name="offence_code"),
                     name="weight")
