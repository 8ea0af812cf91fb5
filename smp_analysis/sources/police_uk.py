"""Reader for data.police.uk street-level crime CSVs (and force extracts in that format).

Reference: data.police.uk "Data > About" (street-level crime and outcomes, 12 columns), which
documents that anti-social behaviour rows have no Crime ID and that crimes that could not be
mapped have no coordinates or LSOA ("No Location"). Both are valid and kept.

Validation uses a pandera schema applied lazily, so every failing row of a file is found in one
pass; failing rows are quarantined with file, line, column and reason rather than dropped.
Rows read = rows loaded + rows quarantined, for every file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..categories import known_types
from ._csv import QUARANTINE_COLUMNS, ReadResult, decode, sha256_of, split_records

COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]
FIELDS = [
    "crime_id", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
    "lsoa_code", "lsoa_name", "crime_type", "last_outcome_category", "context",
]
FILE_NAME = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-street\.csv$")
# Great Britain and Northern Ireland with a margin; police.uk coordinates are WGS84.
LONGITUDE_RANGE = (-9.0, 2.5)
LATITUDE_RANGE = (49.0, 61.5)


def _number_in(lo: float, hi: float):
    def check(s: pd.Series) -> pd.Series:
        values = pd.to_numeric(s.where(s != ""), errors="coerce")
        return (s == "") | values.between(lo, hi)
    return check


def street_schema() -> pa.DataFrameSchema:
    """The pandera schema of a police.uk street CSV, on raw text columns."""
    return pa.DataFrameSchema(
        {
            "Month": pa.Column(str, pa.Check.str_matches(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                         error="Month is not YYYY-MM")),
            "Longitude": pa.Column(str, pa.Check(_number_in(*LONGITUDE_RANGE),
                                                 error="Longitude is not a number in range")),
            "Latitude": pa.Column(str, pa.Check(_number_in(*LATITUDE_RANGE),
                                                error="Latitude is not a number in range")),
            "LSOA code": pa.Column(str, pa.Check.str_matches(r"^([EW]01\d{6})?$",
                                                             error="LSOA code is not E01/W01 + 6 digits")),
            "Crime type": pa.Column(str, pa.Check.isin(sorted(known_types()),
                                                       error="Crime type is not a police.uk category")),
        },
        checks=[
            pa.Check(lambda df: (df["Crime ID"] != "") | (df["Crime type"] == "Anti-social behaviour"),
                     error="Crime ID is empty on a crime row (only ASB rows may omit it)"),
        ],
        strict=False,
    )


def file_month_and_force(path: Path) -> tuple[str | None, str | None]:
    match = FILE_NAME.match(path.name)
    return (match["month"], match["force"]) if match else (None, None)


def read_street_csv(path: str | Path) -> ReadResult:
    """Read and validate one street-level CSV.

    Raises :class:`~smp_analysis.errors.InputError` for an unusable file (empty, not UTF-8,
    wrong header). Otherwise returns valid rows (typed, snake_case columns plus ``line``) and
    the quarantined rows with their reasons.
    """
    path = Path(path)
    data = path.read_bytes()
    text = decode(path, data)
    records, lines, malformed = split_records(path, text, COLUMNS)
    frame = pd.DataFrame(records, columns=COLUMNS, dtype=str)
    frame.index = pd.Index(lines, name="line")
    problems = _validate(frame)
    file_month, _ = file_month_and_force(path)
    if file_month is not None:
        wrong = frame.index[(frame["Month"] != file_month) & ~frame.index.isin(problems["line"])]
        problems = pd.concat([problems, pd.DataFrame({
            "line": wrong, "column": "Month",
            "reason": f"Month does not match the file name ({file_month})",
            "value": frame.loc[wrong, "Month"].to_numpy()})])
    duplicated = frame.index[(frame["Crime ID"] != "") & frame["Crime ID"].duplicated()]
    problems = pd.concat([problems, pd.DataFrame({
        "line": duplicated, "column": "Crime ID", "reason": "duplicate Crime ID in the file",
        "value": frame.loc[duplicated, "Crime ID"].to_numpy()})])
    problems = pd.concat([problems, pd.DataFrame(
        [(line, None, reason, raw) for line, reason, raw in malformed],
        columns=["line", "column", "reason", "value"])])
    problems.insert(0, "file", str(path))
    problems = problems[QUARANTINE_COLUMNS].sort_values(["line", "column"], na_position="first")
    problems = problems.reset_index(drop=True)

    good = frame.loc[~frame.index.isin(problems["line"])]
    rows = _typed(good)
    result = ReadResult(
        path=str(path),
        sha256=_sha256_bytes(data),
        rows=rows,
        quarantine=problems.astype({"line": "int64"}),
        rows_read=len(records) + len(malformed),
        reasons=problems.drop_duplicates("line")["reason"].value_counts().to_dict(),
    )
    result.check_reconciles()
    return result


def _validate(frame: pd.DataFrame) -> pd.DataFrame:
    try:
        street_schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()]
        lines = cases["index"].astype("int64")
        columns = cases["column"].where(cases["column"].notna() & (cases["schema_context"] == "Column"),
                                        None)
        reasons = cases["check"].astype(str)
        columns = columns.where(columns.notna(), "Crime ID")
        out = pd.DataFrame({"line": lines.to_numpy(), "column": columns.to_numpy(),
                            "reason": reasons.to_numpy()})
        values = [frame.at[line, col] if col in frame.columns else None
                  for line, col in zip(out["line"], out["column"], strict=True)]
        out["value"] = values
        return out.drop_duplicates(["line", "column", "reason"])
    return pd.DataFrame(columns=["line", "column", "reason", "value"])


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns=dict(zip(COLUMNS, FIELDS, strict=True))).reset_index()
    out["month"] = pd.to_datetime(out["month"], format="%Y-%m").dt.date
    for col in ("longitude", "latitude"):
        out[col] = pd.to_numeric(out[col].replace("", np.nan), errors="raise").astype("float64")
    for col in ("crime_id", "lsoa_code", "lsoa_name", "last_outcome_category", "context"):
        out[col] = out[col].replace("", None)
    out["line"] = out["line"].astype("int64")
    return out[["line", *FIELDS]]


def _sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def find_street_files(paths: list[Path]) -> list[Path]:
    """Street CSVs named in `paths` (files, or folders searched recursively), sorted, unique."""
    found: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.update(q.resolve() for q in p.rglob("*-street.csv"))
        else:
            found.add(p.resolve())
    return sorted(found)


__all__ = ["COLUMNS", "FIELDS", "read_street_csv", "street_schema", "find_street_files",
           "sha256_of"]
