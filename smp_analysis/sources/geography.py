"""Readers for geography and population lookups.

Formats:

* LSOA lookup: the ``PoliceforceLSOA.csv`` layout (a leading unnamed index column, then
  Region code/name, Local authority code/name, MSOA Code/Name, LSOA Code/Name, Police_force),
  as shipped in ``../shared/data/geography`` and written by the demo generator.
* Census 2011 LSOA population: the ``census_2011_population_hh.csv`` layout (ONS table
  KS101EW/QS112EW extract: a blank column, then three columns all named ``Persons`` for all
  usual residents, household residents and communal residents; numbers quoted with
  thousands separators).
* Ward lookup (``lsoa_code, ward_code, ward_name``), yearly population
  (``area_code, area_name, year, population``) and monthly hospital admissions for assault
  (``area_code, month, admissions``): this project's own schemas, see docs/data_dictionary.md.

Reference tables are all-or-nothing: any bad row stops the file with every problem listed,
because a partial lookup would silently move crimes between areas.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from ..errors import InputError, Problem

GSS = r"^[EWSNK]\d{8}$"


def _read_text_csv(path: Path, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError as exc:
        raise InputError(Problem(str(path), f"not UTF-8 text ({exc.reason})")) from None
    except pd.errors.EmptyDataError:
        raise InputError(Problem(str(path), "the file is empty; expected a header row")) from None
    except pd.errors.ParserError as exc:
        raise InputError(Problem(str(path), f"CSV syntax error: {exc}")) from None
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be read: {exc.strerror or exc}")) from None


def _require_columns(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([Problem(str(path), "expected column is missing", 1, c) for c in missing])


def _validate(path: Path, frame: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems = []
        for case in exc.failure_cases.itertuples():
            line = None if pd.isna(case.index) else int(case.index) + 2
            column = case.column if isinstance(case.column, str) else None
            problems.append(Problem(str(path), f"{case.check} (value {case.failure_case!r})",
                                    line, column))
        raise InputError(problems) from None


def read_lsoa_lookup(path: str | Path) -> pd.DataFrame:
    """LSOA -> MSOA -> local authority -> region -> police force lookup."""
    path = Path(path)
    raw = _read_text_csv(path)
    source = {
        "LSOA Code": "lsoa_code", "LSOA Name": "lsoa_name", "MSOA Code": "msoa_code",
        "MSOA Name": "msoa_name", "Local authority code": "la_code",
        "Local authority name": "la_name", "Region code": "region_code",
        "Region name": "region_name", "Police_force": "police_force",
    }
    _require_columns(path, raw, list(source))
    frame = raw[list(source)].rename(columns=source)
    _validate(path, frame, pa.DataFrameSchema({
        "lsoa_code": pa.Column(str, [pa.Check.str_matches(r"^[EW]01\d{6}$")], unique=True),
        "la_code": pa.Column(str, pa.Check.str_matches(GSS)),
    }))
    # Some real rows have no police force (e.g. 3,335 in the shipped lookup); kept as missing.
    frame["police_force"] = frame["police_force"].replace("", None)
    return frame.reset_index(drop=True)


def read_census_population(path: str | Path) -> pd.DataFrame:
    """Census 2011 usual residents per LSOA: ``lsoa_code, population, households``."""
    path = Path(path)
    raw = _read_text_csv(path, header=None)
    header = [h.strip() for h in raw.iloc[0]]
    problems = []
    try:
        code_col = header.index("LSOA Code")
    except ValueError:
        problems.append(Problem(str(path), "expected column is missing", 1, "LSOA Code"))
    persons = [i for i, h in enumerate(header) if h == "Persons"]
    if not persons:
        problems.append(Problem(str(path), "expected column is missing", 1, "Persons"))
    households = [i for i, h in enumerate(header) if h == "Households"]
    if problems:
        raise InputError(problems)
    body = raw.iloc[1:]
    frame = pd.DataFrame({
        "lsoa_code": body[code_col].str.strip(),
        # The first "Persons" column is all usual residents (the other two split it into
        # household and communal residents).
        "population": body[persons[0]].str.replace(",", "", regex=False).str.strip(),
        "households": (body[households[0]].str.replace(",", "", regex=False).str.strip()
                       if households else ""),
    }).reset_index(drop=True)
    _validate(path, frame, pa.DataFrameSchema({
        "lsoa_code": pa.Column(str, pa.Check.str_matches(r"^[EW]01\d{6}$"), unique=True),
        "population": pa.Column(str, pa.Check.str_matches(r"^\d+$",
                                error="population is not a whole number")),
    }))
    frame["population"] = frame["population"].astype("int64")
    frame["households"] = pd.to_numeric(frame["households"].replace("", None)).astype("Int64")
    return frame


def read_ward_lookup(path: str | Path) -> pd.DataFrame:
    """LSOA -> ward lookup: ``lsoa_code, ward_code, ward_name``."""
    path = Path(path)
    frame = _read_text_csv(path)
    _require_columns(path, frame, ["lsoa_code", "ward_code", "ward_name"])
    frame = frame[["lsoa_code", "ward_code", "ward_name"]]
    _validate(path, frame, pa.DataFrameSchema({
        "lsoa_code": pa.Column(str, pa.Check.str_matches(r"^[EW]01\d{6}$"), unique=True),
        "ward_code": pa.Column(str, pa.Check.str_matches(GSS)),
        "ward_name": pa.Column(str, pa.Check.str_length(min_value=1)),
    }))
    return frame


def read_population_by_year(path: str | Path) -> pd.DataFrame:
    """Mid-year population estimates: ``area_code, area_name, year, population``."""
    path = Path(path)
    frame = _read_text_csv(path)
    _require_columns(path, frame, ["area_code", "area_name", "year", "population"])
    frame = frame[["area_code", "area_name", "year", "population"]]
    _validate(path, frame, pa.DataFrameSchema(
        {
            "area_code": pa.Column(str, pa.Check.str_matches(GSS)),
            "year": pa.Column(str, pa.Check.str_matches(r"^(19|20)\d\d$")),
            "population": pa.Column(str, pa.Check.str_matches(r"^\d+$",
                                    error="population is not a whole number")),
        },
        unique=["area_code", "year"],
    ))
    return frame.astype({"year": "int64", "population": "int64"})


def read_hospital_admissions(path: str | Path) -> pd.DataFrame:
    """Monthly hospital admissions for assault: ``area_code, month, admissions``."""
    path = Path(path)
    frame = _read_text_csv(path)
    _require_columns(path, frame, ["area_code", "month", "admissions"])
    frame = frame[["area_code", "month", "admissions"]]
    _validate(path, frame, pa.DataFrameSchema(
        {
            "area_code": pa.Column(str, pa.Check.str_matches(GSS)),
            "month": pa.Column(str, pa.Check.str_matches(r"^\d{4}-(0[1-9]|1[0-2])$")),
            "admissions": pa.Column(str, pa.Check.str_matches(r"^\d+$")),
        },
        unique=["area_code", "month"],
    ))
    frame = frame.astype({"admissions": "int64"})
    frame["month"] = pd.to_datetime(frame["month"], format="%Y-%m").dt.date
    return frame
