"""Readers for victim-level extracts: domestic-abuse incidents and Marac referrals.

These files are never public. Their schemas are this project's (docs/data_dictionary.md):

* incidents: ``incident_id, victim_id, date, incident_type, domestic, is_crime, district_code``
  required; ``time, perpetrator_id, lsoa_code, ward_code`` optional.
* Marac referrals: ``referral_id, victim_id, referral_date, district``.

Every row is validated (pandera, lazily, so all problems are found at once); failing rows are
quarantined with file, line, column and reason only: *no value of a victim-level extract is
ever copied* into the quarantine or a reason (a row shifted by one column puts an e-mail
address in ``date``; it must not travel on). Free-text columns are validated too (identifiers
and incident types have a restricted alphabet), so what is kept is a validated field or a
pseudonym. Victim and perpetrator identifiers are replaced by keyed pseudonyms
(:mod:`smp_analysis.pseudonymise`) before the frame leaves this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pandera.pandas as pandera

from ..errors import InputError, Problem
from ..pseudonymise import pseudonyms
from ._csv import (
    QUARANTINE_COLUMNS,
    ReadResult,
    decode,
    diagnose_header,
    normalise_line_ends,
    oversize_reason,
    sha256_of,
)

INCIDENT_REQUIRED = ["incident_id", "victim_id", "date", "incident_type", "domestic", "is_crime",
                     "district_code"]
INCIDENT_OPTIONAL = ["time", "perpetrator_id", "lsoa_code", "ward_code"]
MARAC_REQUIRED = ["referral_id", "victim_id", "referral_date", "district"]
IDENTIFIERS = {"victim_id", "perpetrator_id"}
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
GSS = r"^[EWSNK]\d{8}$"
# identifiers: letters, digits and the separators force systems use (46/12345/23, KT-2023-001)
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9/_.:-]{0,63}$"
# an incident type is a category name, not free text: no '@', no leading house number
INCIDENT_TYPE = r"^[A-Za-z][A-Za-z0-9 ,&/()'.+-]{0,79}$"


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO (2023-04-01) or UK (01/04/2023) dates; anything else -> NaT."""
    iso = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)


def _read_table(path: Path, required: list[str], optional: list[str]):
    """Text frame indexed by line number, plus malformed records; InputError if unusable."""
    try:
        data = normalise_line_ends(path.read_bytes())
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be read: {exc.strerror or exc}")) from None
    text = decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    except csv.Error as exc:
        raise InputError(Problem(str(path), f"CSV syntax error in the header: {exc}", 1)) from None
    missing = [c for c in required if c not in header]
    if missing:
        reason = diagnose_header(header, required, text[:65536].splitlines()[:6])
        if reason is not None:
            raise InputError(Problem(str(path), reason, 1))
        raise InputError([Problem(str(path), "expected column is missing", 1, c)
                          for c in missing])
    repeated = sorted({c for c in header if header.count(c) > 1 and c in required + optional})
    if repeated:
        raise InputError([Problem(str(path), "the column appears more than once in the header; "
                                  "keep one (which one is right cannot be guessed)", 1, c)
                          for c in repeated])
    records, lines, malformed = [], [], []
    previous_end = reader.line_num
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            oversize = oversize_reason(record, start, previous_end)
            if oversize:
                malformed.append((start, None, oversize, None))
            elif len(record) == len(header):
                records.append(record)
                lines.append(start)
            elif record:
                malformed.append((start, None, f"wrong number of fields ({len(record)}, "
                                  f"expected {len(header)})", None))
    except csv.Error as exc:
        raise InputError(Problem(str(path), f"CSV syntax error: {exc}", reader.line_num)) from None
    keep = [c for c in required + optional if c in header]
    frame = pd.DataFrame([[r[header.index(c)] for c in keep] for r in records], columns=keep,
                         dtype=str)
    frame.index = pd.Index(lines, name="line", dtype="int64")
    return frame.apply(lambda s: s.str.strip()), malformed


def _failures(path: Path, frame: pd.DataFrame, schema: pandera.DataFrameSchema) -> pd.DataFrame:
    try:
        schema.validate(frame, lazy=True)
        return pd.DataFrame(columns=["line", "column", "reason", "value"])
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()]
        out = pd.DataFrame({"line": cases["index"].astype("int64").to_numpy(),
                            "column": cases["column"].to_numpy(),
                            "reason": cases["check"].astype(str).to_numpy()})
        out["value"] = None  # never a value of a victim-level extract
        return out.drop_duplicates(["line", "column", "reason"])


def _result(path: Path, data_sha: str, frame: pd.DataFrame, problems: list[pd.DataFrame],
            malformed: list, rows: pd.DataFrame) -> ReadResult:
    import pyarrow as pa

    parts = [p for p in problems if len(p)]
    if malformed:
        parts.append(pd.DataFrame(malformed, columns=["line", "column", "reason", "value"]))
    quarantine = (pd.concat(parts, ignore_index=True) if parts else
                  pd.DataFrame(columns=["line", "column", "reason", "value"]))
    quarantine.insert(0, "file", str(path))
    quarantine = quarantine[QUARANTINE_COLUMNS].astype({"line": "int64"}).sort_values(
        ["line", "column"], na_position="first").reset_index(drop=True)
    result = ReadResult(str(path), data_sha, pa.Table.from_pandas(rows, preserve_index=False),
                        quarantine, len(frame) + len(malformed),
                        quarantine.drop_duplicates("line")["reason"].value_counts().to_dict())
    result.check_reconciles()
    return result


def _identifier(column: str) -> pandera.Column:
    return pandera.Column(str, [
        pandera.Check.str_length(min_value=1, error=f"{column} is empty"),
        pandera.Check(lambda s: (s == "") | s.str.fullmatch(IDENTIFIER),
                      error=f"{column} is not an identifier (letters, digits, / _ . : - only)")])


def _date(column: str, today: dt.date) -> pandera.Column:
    return pandera.Column(str, [
        pandera.Check(lambda s: _parse_dates(s).notna(),
                      error=f"{column} is not YYYY-MM-DD or DD/MM/YYYY"),
        pandera.Check(lambda s: ~(_parse_dates(s) > pd.Timestamp(today)),
                      error=f"{column} is in the future (after {today})")])


def read_incidents(path: str | Path, key: bytes, *, today: dt.date | None = None) -> ReadResult:
    """Validated, pseudonymised incidents: ``rows`` has ``victim_key`` (never ``victim_id``)."""
    path = Path(path)
    today = today or dt.date.today()
    frame, malformed = _read_table(path, INCIDENT_REQUIRED, INCIDENT_OPTIONAL)
    dates = _parse_dates(frame["date"])
    flags = TRUE | FALSE
    columns = {
        "incident_id": _identifier("incident_id"),
        "victim_id": _identifier("victim_id"),
        "date": _date("date", today),
        "incident_type": pandera.Column(str, pandera.Check.str_matches(
            INCIDENT_TYPE, error="incident_type is not a category name (letters first; no "
            "e-mail or address)")),
        "domestic": pandera.Column(str, pandera.Check(lambda s: s.str.lower().isin(flags),
                                   error="domestic is not true/false (or yes/no, 1/0)")),
        "is_crime": pandera.Column(str, pandera.Check(lambda s: s.str.lower().isin(flags),
                                   error="is_crime is not true/false (or yes/no, 1/0)")),
        "district_code": pandera.Column(str, pandera.Check.str_matches(
            GSS, error="district_code is not a GSS code")),
    }
    if "time" in frame:
        columns["time"] = pandera.Column(str, pandera.Check.str_matches(
            r"^(([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?)?$", error="time is not HH:MM"))
    for optional in ("lsoa_code", "ward_code"):
        if optional in frame:
            pattern = r"^([EW]01\d{6})?$" if optional == "lsoa_code" else r"^([EWSN]\d{8})?$"
            columns[optional] = pandera.Column(str, pandera.Check.str_matches(
                pattern, error=f"{optional} is not a GSS code"))
    problems = _failures(path, frame, pandera.DataFrameSchema(columns))
    duplicate = frame.index[frame["incident_id"].ne("") & frame["incident_id"].duplicated()]
    dup = pd.DataFrame({"line": duplicate, "column": "incident_id",
                        "reason": "duplicate incident_id (an earlier line has it)",
                        "value": None})
    good = frame.loc[~frame.index.isin(problems["line"]) & ~frame.index.isin(duplicate)]

    def flag(column: str) -> pd.Series:
        return good[column].str.lower().isin(TRUE)

    rows = pd.DataFrame({
        "line": good.index.to_numpy(),
        "incident_id": good["incident_id"].to_numpy(),
        "victim_key": pseudonyms(good["victim_id"], key),
        "perpetrator_key": (pseudonyms(good["perpetrator_id"], key) if "perpetrator_id" in good
                            else None),
        "date": dates.loc[good.index].dt.date.to_numpy(),
        "time": good["time"].replace("", None).to_numpy() if "time" in good else None,
        "incident_type": good["incident_type"].to_numpy(),
        "domestic": flag("domestic").to_numpy(),
        "is_crime": flag("is_crime").to_numpy(),
        "lsoa_code": good["lsoa_code"].replace("", None).to_numpy() if "lsoa_code" in good
        else None,
        "ward_code": good["ward_code"].replace("", None).to_numpy() if "ward_code" in good
        else None,
        "district_code": good["district_code"].to_numpy(),
    })
    rows = rows.astype({"perpetrator_key": "object", "time": "object", "lsoa_code": "object",
                        "ward_code": "object"})
    return _result(path, sha256_of(path), frame, [problems, dup], malformed, rows)


def read_marac_referrals(path: str | Path, key: bytes, *,
                         today: dt.date | None = None) -> ReadResult:
    """Validated, pseudonymised Marac referrals: ``referral_id, victim_key, referral_date,
    district_code``."""
    path = Path(path)
    today = today or dt.date.today()
    frame, malformed = _read_table(path, MARAC_REQUIRED, [])
    schema = pandera.DataFrameSchema({
        "referral_id": _identifier("referral_id"),
        "victim_id": _identifier("victim_id"),
        "referral_date": _date("referral_date", today),
        "district": pandera.Column(str, pandera.Check.str_matches(
            GSS, error="district is not a GSS code")),
    })
    problems = _failures(path, frame, schema)
    duplicate = frame.index[frame["referral_id"].ne("") & frame["referral_id"].duplicated()]
    dup = pd.DataFrame({"line": duplicate, "column": "referral_id",
                        "reason": "duplicate referral_id (an earlier line has it)",
                        "value": None})
    good = frame.loc[~frame.index.isin(problems["line"]) & ~frame.index.isin(duplicate)]
    rows = pd.DataFrame({
        "line": good.index.to_numpy(),
        "referral_id": good["referral_id"].to_numpy(),
        "victim_key": pseudonyms(good["victim_id"], key),
        "referral_date": _parse_dates(good["referral_date"]).dt.date.to_numpy(),
        "district_code": good["district"].to_numpy(),
    })
    return _result(path, sha256_of(path), frame, [problems, dup], malformed, rows)
