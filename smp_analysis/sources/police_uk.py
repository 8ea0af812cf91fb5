"""Reader for data.police.uk street-level crime CSVs (and force extracts in that format).

Reference: data.police.uk "Data > About" (street-level crime and outcomes, 12 columns), which
documents that anti-social behaviour rows have no Crime ID and that crimes that could not be
mapped have no coordinates or LSOA ("No Location"). Both are valid and kept.

Validation uses a pandera schema applied lazily, so every failing row of a file is found in one
pass; failing rows are quarantined with file, line, column and reason rather than dropped.
Rows read = rows loaded + rows quarantined, for every file.

Most files break no rule. They are read by Arrow and checked with the same rules as whole
columns (:func:`_clean_typed`, which also types them), without pandas row objects or pandera;
only a file that fails a check goes through pandera, which then reports every problem in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..categories import known_types
from ._csv import (
    BOM,
    MAX_FIELD_CHARS,
    QUARANTINE_COLUMNS,
    ReadResult,
    check_header_line,
    decode,
    empty_quarantine,
    head_lines,
    normalise_line_ends,
    read_input,
    sha256_of,
    split_records,
)

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]
FIELDS = [
    "crime_id", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
    "lsoa_code", "lsoa_name", "crime_type", "last_outcome_category", "context",
]
FILE_NAME = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-street\.csv(\.gz)?$",
                       re.IGNORECASE)
EARLIEST_MONTH = "2000-01"  # data.police.uk begins in December 2010
# Great Britain and Northern Ireland with a margin; police.uk coordinates are WGS84.
LONGITUDE_RANGE = (-9.0, 2.5)
LATITUDE_RANGE = (49.0, 61.5)


def _as_series(result: pa.Array, index: pd.Index) -> pd.Series:
    import pandas as pd

    return pd.Series(result.to_numpy(zero_copy_only=False), index=index)


def _matches(pattern: str):
    def check(values: pa.Array) -> pa.Array:
        return pc.match_substring_regex(values, pattern)
    return check


def _one_of(values) -> callable:
    value_set = []  # made on first use: pa.array makes pyarrow import pandas

    def check(column: pa.Array) -> pa.Array:
        if not value_set:
            value_set.append(pa.array(sorted(values), pa.string()))
        return pc.is_in(column, value_set=value_set[0])
    return check


def _as_numbers(values: pa.Array) -> pa.Array:
    """Arrow's own float parsing, value by value: unparseable text becomes null."""
    text = pc.if_else(pc.equal(values, ""), None, values)
    try:  # the usual case: every value parses
        return pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parsed = {}
    for value in pc.unique(text).to_pylist():
        if value is None:
            continue
        try:
            parsed[value] = pc.cast(pa.array([value]), pa.float64())[0].as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed[value] = None
    return pa.array([parsed.get(v) for v in text.to_pylist()], pa.float64())


def _number_in(lo: float, hi: float):
    """Check: empty, or a number (as Arrow parses it) within [lo, hi]."""
    def check(values: pa.Array) -> pa.Array:
        numbers = _as_numbers(values)
        in_range = pc.and_(pc.greater_equal(numbers, lo), pc.less_equal(numbers, hi))
        return pc.or_(pc.equal(values, ""), pc.fill_null(in_range, False))
    return check


def _crime_id_present(columns) -> pa.Array:
    return pc.or_(pc.not_equal(columns["Crime ID"], ""),
                  pc.equal(columns["Crime type"], "Anti-social behaviour"))


def latest_month(today: dt.date | None = None) -> str:
    """The latest month a file may hold: the current one (police.uk publishes ~2 months late)."""
    return f"{(today or dt.date.today()):%Y-%m}"


def _month_in_range(values: pa.Array) -> pa.Array:
    """Valid YYYY-MM text between EARLIEST_MONTH and this month (other text passes: the format
    rule reports it)."""
    well_formed = pc.match_substring_regex(values, MONTH_PATTERN)
    in_range = pc.and_(pc.greater_equal(values, EARLIEST_MONTH),
                       pc.less_equal(values, latest_month()))
    return pc.or_(pc.invert(well_formed), in_range)


def _not_too_long(values: pa.Array) -> pa.Array:
    return pc.less_equal(pc.utf8_length(values), MAX_FIELD_CHARS)


MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
TOO_LONG = f"field is longer than {MAX_FIELD_CHARS:,} characters"

# The rules, defined once on Arrow columns of text: (column, check, message). The pandera schema
# is built from them (street_schema), and the ingest's fast path evaluates the very same
# functions on the Arrow table; pandera is asked for its detailed failure cases whenever any
# rule fails.
COLUMN_RULES = [
    ("Month", _matches(MONTH_PATTERN), "Month is not YYYY-MM"),
    ("Month", _month_in_range,
     f"Month is in the future or before {EARLIEST_MONTH} (a typing or export error)"),
    ("Longitude", _number_in(*LONGITUDE_RANGE), "Longitude is not a number in range"),
    ("Latitude", _number_in(*LATITUDE_RANGE), "Latitude is not a number in range"),
    ("LSOA code", _matches(r"^([EW]01\d{6})?$"), "LSOA code is not E01/W01 + 6 digits"),
    ("Crime type", _one_of(known_types()), "Crime type is not a police.uk category"),
    *[(column, _not_too_long, f"{column} {TOO_LONG}") for column in COLUMNS],
]
ROW_RULES = [
    (_crime_id_present, "Crime ID is empty on a crime row (only ASB rows may omit it)"),
]


def _on_series(fn):
    return lambda s: _as_series(fn(pa.array(s, pa.string())), s.index)


def _on_frame(fn):
    return lambda df: _as_series(fn({c: pa.array(df[c], pa.string()) for c in df.columns}),
                                 df.index)


def street_schema():
    """The pandera schema of a police.uk street CSV, on raw text columns (a
    ``pandera.DataFrameSchema``; pandera is imported here, for the files that fail a rule)."""
    import pandera.pandas as pandera

    checks: dict[str, list] = {}
    for column, fn, message in COLUMN_RULES:
        checks.setdefault(column, []).append(pandera.Check(_on_series(fn), error=message))
    return pandera.DataFrameSchema(
        {column: pandera.Column(None, column_checks) for column, column_checks in checks.items()},
        checks=[pandera.Check(_on_frame(fn), error=message) for fn, message in ROW_RULES],
        strict=False,
    )


def file_month_and_force(path: Path) -> tuple[str | None, str | None]:
    match = FILE_NAME.match(path.name)
    return (match["month"], match["force"].lower()) if match else (None, None)


def read_street_csv(path: str | Path) -> ReadResult:
    """Read and validate one street-level CSV (``.csv`` or ``.csv.gz``).

    Raises :class:`~smp_analysis.errors.InputError` for an unusable file (empty, not UTF-8,
    wrong header). Otherwise returns valid rows (typed, snake_case columns plus ``line``) and
    the quarantined rows with their reasons.
    """
    path = Path(path)
    return parse_street_csv(path, read_input(path))


def parse_street_csv(path: Path, data: bytes, sha256: str | None = None) -> ReadResult:
    """:func:`read_street_csv` on bytes already read (the store hashes and parses one read)."""
    import pandas as pd

    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    data = normalise_line_ends(data)
    table = _records_fast(path, data)
    if table is not None:
        clean = _clean_typed(path, table)
        if clean is not None:
            return ReadResult(str(path), sha256, clean, empty_quarantine(), table.num_rows, {})
        frame, malformed = table.to_pandas(), []
        frame.index = pd.RangeIndex(2, table.num_rows + 2, name="line")
    else:
        frame, malformed = _records_slow(path, data)
    rows_read = len(frame) + len(malformed)
    problems = _validate(frame)
    file_month, _ = file_month_and_force(path)
    extra = []
    if file_month is not None:
        mismatch = frame["Month"] != file_month
        if mismatch.any():
            wrong = frame.index[mismatch & ~frame.index.isin(problems["line"])]
            extra.append(pd.DataFrame({
                "line": wrong, "column": "Month",
                "reason": f"Month does not match the file name ({file_month})",
                "value": frame.loc[wrong, "Month"].to_numpy()}))
    duplicated = _duplicated_rows(frame)
    if len(duplicated):
        extra.append(pd.DataFrame({
            "line": duplicated, "column": "Crime ID", "reason": DUPLICATE_ROW,
            "value": frame.loc[duplicated, "Crime ID"].to_numpy()}))
    if malformed:
        extra.append(pd.DataFrame([(line, None, reason, raw) for line, reason, raw in malformed],
                                  columns=["line", "column", "reason", "value"]))
    if extra:
        problems = pd.concat([problems, *extra])
    problems = _one_reason_for_joined_files(frame, problems, data)
    problems.insert(0, "file", str(path))
    problems = problems[QUARANTINE_COLUMNS].sort_values(["line", "column"], na_position="first")
    problems = problems.reset_index(drop=True).astype({"line": "int64"})
    # the offending value helps to fix a public file, but a whole swallowed file does not
    problems["value"] = problems["value"].map(
        lambda v: v[:200] + "..." if isinstance(v, str) and len(v) > 200 else v)

    good = frame.loc[~frame.index.isin(problems["line"])] if len(problems) else frame
    result = ReadResult(
        path=str(path),
        sha256=sha256,
        table=_typed({c: pa.array(good[c], pa.string()) for c in COLUMNS},
                     good.index.to_numpy(dtype=np.int64)),
        quarantine=problems,
        rows_read=rows_read,
        reasons=problems.drop_duplicates("line")["reason"].value_counts().to_dict(),
    )
    result.check_reconciles()
    return result


def street_records(path: Path, data: bytes) -> pa.Table | None:
    """The records of a regular file as text columns (None when the file is irregular: blank
    lines, quoted line breaks, wrong field counts, bad UTF-8...). Raises InputError for a wrong
    header. Uses neither pandas nor pyarrow's scalars (which import pandas) and runs mostly
    without the GIL, so the store's workers read ahead while the rest of the process starts."""
    return _records_fast(path, normalise_line_ends(data))


def clean_street_table(path: Path, data: bytes, records: pa.Table | None = None
                       ) -> pa.Table | None:
    """The typed rows of a file that is regular and breaks no rule (what
    :func:`parse_street_csv` loads from it, every row); None when anything needs the careful
    path, which then finds and reports every problem. Pandas-free, so that an ingest of clean
    files needs neither pandas nor pandera. Raises InputError for a wrong header.
    `records`: :func:`street_records` of `data`, when the caller has them."""
    table = street_records(path, data) if records is None else records
    return None if table is None else _clean_typed(path, table)


REPEATED_HEADER = ("line repeats the header row: several files were probably joined together "
                   "(split them, or delete this line)")
REPEATED_HEADER_WITH_BOM = (
    "line repeats the header row, with a byte-order mark (BOM, U+FEFF) before it: several "
    "files were joined together (split them, or delete this line)")
INNER_BOM = ("line contains a byte-order mark (BOM, U+FEFF) in the middle of the file: several "
             "files were probably joined together (split them, or delete the mark)")


def _one_reason_for_joined_files(frame: pd.DataFrame, problems: pd.DataFrame,
                                 data: bytes) -> pd.DataFrame:
    """A header repeated mid-file, or a byte-order mark inside it, is one problem of one line
    with its cause, rather than a dozen column problems."""
    import pandas as pd

    inner_bom = data.find(b"\xef\xbb\xbf", 3 if data.startswith(b"\xef\xbb\xbf") else 0) >= 0
    if not inner_bom and not (frame["Month"] == "Month").any():
        return problems
    cleaned = frame.apply(lambda c: c.str.replace(BOM, "", regex=False).str.strip())
    repeated = (cleaned == COLUMNS).all(axis=1)
    with_bom = frame.apply(lambda c: c.str.contains(BOM, regex=False)).any(axis=1)
    reasons = pd.Series(None, index=frame.index, dtype=object)
    reasons[with_bom] = INNER_BOM
    reasons[repeated] = REPEATED_HEADER
    reasons[repeated & with_bom] = REPEATED_HEADER_WITH_BOM
    reasons = reasons.dropna()
    if not len(reasons):
        return problems
    return pd.concat([
        problems[~problems["line"].isin(reasons.index)],
        pd.DataFrame({"line": reasons.index, "column": None, "reason": reasons.to_numpy(),
                      "value": None})])


COORDINATES = {"Longitude": LONGITUDE_RANGE, "Latitude": LATITUDE_RANGE}


def _clean_typed(path: Path, table: pa.Table) -> pa.Table | None:
    """The typed rows (see :func:`_typed`) when every rule passes, months match the file name
    and no row is duplicated; None as soon as anything fails (the caller then finds and
    reports every problem with pandera).

    The work of the checks is reused for the types: each coordinate column is parsed once and
    checked on the numbers (the rule "empty, or a number within range", evaluated on the
    parsed values), the Month column once for its distinct values.
    """
    distinct: dict[str, pa.Array] = {}
    for column, fn, _ in COLUMN_RULES:
        if fn is _not_too_long:
            # one pass over the byte lengths (bytes >= characters): no hashing of every value
            longest = pc.max(pc.binary_length(table[column])).as_py()
            if longest is not None and longest > MAX_FIELD_CHARS:
                return None
        elif column not in COORDINATES:
            # element-wise rules: the distinct values suffice (one Month, a few hundred LSOAs)
            if column not in distinct:
                distinct[column] = pc.unique(table[column])
            if not pc.all(fn(distinct[column])).as_py():
                return None
    numbers = {}
    for column, (lo, hi) in COORDINATES.items():
        values = table[column]
        try:
            parsed = pc.cast(pc.if_else(pc.equal(values, ""), None, values), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        extremes = pc.min_max(parsed)
        if (extremes["min"].is_valid and (extremes["min"].as_py() < lo
                                          or extremes["max"].as_py() > hi)) or (
                pc.any(pc.is_nan(parsed)).as_py()):
            return None
        numbers[column] = parsed
    ids = table["Crime ID"]
    present = pc.not_equal(ids, "")
    absent = pc.invert(present)
    if pc.any(absent).as_py() and not pc.all(pc.equal(
            pc.filter(table["Crime type"], absent), "Anti-social behaviour")).as_py():
        return None  # the row rule: only ASB rows may omit the Crime ID
    months = distinct["Month"]
    file_month, _ = file_month_and_force(path)
    if file_month is not None and months.to_pylist() not in ([file_month], []):
        return None
    present_ids = pc.filter(ids, present)
    if pc.count_distinct(present_ids).as_py() != len(present_ids):
        return None
    typed = {"longitude": numbers["Longitude"], "latitude": numbers["Latitude"],
             "crime_id": pc.if_else(present, ids, None)}
    if len(months) == 1:  # the usual file: one month, parsed once
        typed["month"] = pa.repeat(pc.cast(pc.strptime(months, "%Y-%m", "s"), pa.date32())[0],
                                   table.num_rows)
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    return _typed({c: table[c] for c in COLUMNS}, lines, typed)


def _records_fast(path: Path, data: bytes) -> pa.Table | None:
    """Parse with pyarrow when the file is regular (one record per line, no bad rows).

    Returns None whenever line numbers could not be trusted or anything is irregular; the
    slow path then finds and reports it precisely.
    """
    if not data or data.isspace():
        return None
    end = data.find(b"\n")
    try:
        header_text = (data if end < 0 else data[:end]).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    check_header_line(path, header_text, COLUMNS, head_lines(data))
    try:
        # Arrow checks UTF-8 and field counts itself: any irregular row raises, and the slow
        # path then reports it with its line number
        table = pacsv.read_csv(
            pa.py_buffer(data), read_options=pacsv.ReadOptions(use_threads=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(COLUMNS, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    # numpy counts without holding the GIL, three times as fast as bytes.count
    newlines = int(np.count_nonzero(np.frombuffer(data, np.uint8) == ord("\n")))
    newlines += 0 if data.endswith(b"\n") else 1
    if table.column_names != COLUMNS or newlines != table.num_rows + 1:
        return None
    return table


def _records_slow(path: Path, data: bytes) -> tuple[pd.DataFrame, list]:
    import pandas as pd

    text = decode(path, data)
    records, lines, malformed = split_records(path, text, COLUMNS)
    frame = pd.DataFrame(records, columns=COLUMNS, dtype=str)
    frame.index = pd.Index(lines, name="line")
    return frame, malformed


DUPLICATE_ROW = "duplicate row (same Crime ID and details as an earlier line)"


def _duplicated_rows(frame: pd.DataFrame) -> pd.Index:
    """Lines repeating an earlier crime row exactly (Crime ID and every other field).

    Such a row would count one crime twice, so it is quarantined. A Crime ID that repeats with
    *different* details (real police.uk files have them) is kept: it is two records, and the
    data-quality checks report it.
    """
    import pandas as pd

    ids = pa.array(frame["Crime ID"], type=pa.string())
    present = pc.filter(ids, pc.not_equal(ids, ""))
    if pc.count_distinct(present).as_py() == len(present):
        return pd.Index([], dtype="int64")
    crimes = frame[frame["Crime ID"] != ""]
    return crimes.index[crimes.duplicated(keep="first")]


def _validate(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd
    import pandera.errors

    try:
        street_schema().validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
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


ARROW_SCHEMA = pa.schema([
    ("line", pa.int64()), ("crime_id", pa.string()), ("month", pa.date32()),
    ("reported_by", pa.string()), ("falls_within", pa.string()), ("longitude", pa.float64()),
    ("latitude", pa.float64()), ("location", pa.string()), ("lsoa_code", pa.string()),
    ("lsoa_name", pa.string()), ("crime_type", pa.string()),
    ("last_outcome_category", pa.string()), ("context", pa.string()),
])


def _typed(columns, lines: np.ndarray, typed: dict | None = None) -> pa.Table:
    """Validated text columns (Arrow) -> typed Arrow table: empty text -> null, numbers, dates.
    `typed`: fields already converted by the caller."""
    out: dict[str, pa.Array] = {"line": pa.array(lines, pa.int64())}
    for source, field in zip(COLUMNS, FIELDS, strict=True):
        values = columns[source]
        if typed and field in typed:
            out[field] = typed[field]
        elif field == "month":
            out[field] = (pc.cast(pc.strptime(values, "%Y-%m", "s"), pa.date32())
                          if len(values) else pa.array([], pa.date32()))
        elif field in ("longitude", "latitude"):
            out[field] = pc.cast(pc.if_else(pc.equal(values, ""), None, values), pa.float64())
        elif field in ("crime_id", "lsoa_code", "lsoa_name", "last_outcome_category", "context"):
            out[field] = pc.if_else(pc.equal(values, ""), None, values)
        else:
            out[field] = values
    return pa.table(out, schema=ARROW_SCHEMA)


def find_street_files(paths: list[Path]) -> list[Path]:
    """Street CSVs named in `paths` (files, or folders searched recursively), sorted, unique.

    Only the files: :func:`smp_analysis.sources.discover.discover` also says why every other
    entry of a folder was skipped.
    """
    from .discover import discover

    return [entry.path for entry in discover(paths).candidates]


__all__ = ["COLUMNS", "FIELDS", "read_street_csv", "street_schema", "find_street_files",
           "sha256_of"]
