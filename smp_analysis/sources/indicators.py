"""Reader for partner indicators: one long CSV format for any indicator by area and period.

Schema (docs/data_dictionary.md, "Partner indicators"): one row per indicator, area and
period, with the columns

* required: ``indicator_id, indicator_label, area_code, period_start, period_end, numerator,
  per, polarity, kind, source``;
* optional: ``area_name``, ``denominator`` (population, respondents or cohort; needed by
  every kind but ``count``), ``predicted`` (needed by ``observed_vs_predicted``).

Header names are matched without regard to case, surrounding spaces, or spaces/hyphens
versus underscores ("Indicator ID" is ``indicator_id``); other columns are ignored. Every row
is validated (pandera, lazily, so every problem in the file is found at once); a failing row
is quarantined with file, line, column and reason, never dropped: rows read = rows loaded +
rows quarantined. Within a file the rows of one indicator must agree on its label, kind,
``per`` and polarity (a row that disagrees with the indicator's first row is quarantined,
naming that row's line), and an indicator, area and period may appear once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pandera

from ..errors import InputError, Problem
from ..remembered import by_content
from ._csv import QUARANTINE_COLUMNS, ReadResult, decode, sha256_of

REQUIRED = ["indicator_id", "indicator_label", "area_code", "period_start", "period_end",
            "numerator", "per", "polarity", "kind", "source"]
OPTIONAL = ["area_name", "denominator", "predicted"]
KINDS = ("count", "rate", "proportion", "observed_vs_predicted")
POLARITIES = ("lower", "higher", "neutral")
PERS = (1, 100, 1000, 10_000, 100_000)
GSS = r"^[EWSNK]\d{8}$"
INDICATOR_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
DEFINING = ("indicator_label", "kind", "per", "polarity")
OUTPUT_COLUMNS = ["line", "indicator_id", "indicator_label", "area_code", "area_name",
                  "period_start", "period_end", "numerator", "denominator", "per", "polarity",
                  "kind", "predicted", "source"]

_POLARITY_WORDS = {"lower": "lower", "low": "lower", "lower is better": "lower",
                   "lower_is_better": "lower", "higher": "higher", "high": "higher",
                   "higher is better": "higher", "higher_is_better": "higher",
                   "neutral": "neutral", "none": "neutral", "": "neutral"}


def normalise_header(name: str) -> str:
    """'Indicator ID ' -> 'indicator_id'.

    >>> normalise_header(" Period-Start"), normalise_header("\\ufeffkind")
    ('period_start', 'kind')
    """
    return re.sub(r"[\s-]+", "_", name.replace("\ufeff", "").strip().lower())


def _kind(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().lower()).replace("observed_v_predicted",
                                                                 "observed_vs_predicted")


def _number(values: pd.Series) -> pd.Series:
    """Numbers with optional thousands separators ('1,234'); anything else -> NaN."""
    cleaned = values.str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    return pd.to_numeric(cleaned.where(cleaned.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
                                       .fillna(False)), errors="coerce")


def parse_dates(values: pd.Series, *, end: bool = False) -> pd.Series:
    """ISO (2023-04-01), UK (01/04/2023) or a month (2023-04: its first day, or with
    ``end=True`` its last day); anything else -> NaT."""
    iso = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")
    month = pd.to_datetime(values, format="%Y-%m", errors="coerce")
    if end:
        month = month + pd.offsets.MonthEnd(0)
    return iso.fillna(uk).fillna(month)


def _read_table(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, list]:
    text = decode(path, path.read_bytes() if data is None else data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        raw_header = next(reader)
    except StopIteration:
        raise InputError(Problem(str(path), "no header row", 1)) from None
    except csv.Error as exc:
        raise InputError(Problem(str(path), f"CSV syntax error: {exc}", 1)) from None
    header = [normalise_header(h) for h in raw_header]
    problems = [Problem(str(path), "expected column is missing", 1, c)
                for c in REQUIRED if c not in header]
    repeated = sorted({h for h in header if h and header.count(h) > 1} & set(REQUIRED + OPTIONAL))
    problems += [Problem(str(path), "column appears more than once", 1, c) for c in repeated]
    if problems:
        raise InputError(problems)
    records, lines, malformed = [], [], []
    previous_end = reader.line_num
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if len(record) == len(header):
                records.append(record)
                lines.append(start)
            elif any(field.strip() for field in record):
                malformed.append((start, None, f"wrong number of fields ({len(record)}, "
                                  f"expected {len(header)})", ",".join(record)[:200]))
    except csv.Error as exc:
        raise InputError(Problem(str(path), f"CSV syntax error: {exc}", reader.line_num)) \
            from None
    frame = pd.DataFrame(records, columns=header, dtype=str)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame.index = pd.Index(lines, name="line", dtype="int64")
    for column in OPTIONAL:
        if column not in frame:
            frame[column] = ""
    return frame[REQUIRED + OPTIONAL].apply(lambda s: s.str.strip()), malformed


def _schema() -> pandera.DataFrameSchema:
    def date(column: str, end: bool = False) -> pandera.Column:
        return pandera.Column(str, pandera.Check(
            lambda s: parse_dates(s, end=end).notna(),
            error=f"{column} is not YYYY-MM-DD, DD/MM/YYYY or YYYY-MM"))

    def non_empty(column: str) -> pandera.Column:
        return pandera.Column(str, pandera.Check.str_length(min_value=1,
                                                            error=f"{column} is empty"))

    def optional_number(column: str, rule: str, test) -> pandera.Column:
        return pandera.Column(str, pandera.Check(
            lambda s: s.eq("") | test(_number(s)).fillna(False),
            error=f"{column} is not {rule}"))

    return pandera.DataFrameSchema({
        "indicator_id": pandera.Column(str, pandera.Check.str_matches(
            INDICATOR_ID, error="indicator_id must be letters, digits, '_', '-' or '.'")),
        "indicator_label": non_empty("indicator_label"),
        "area_code": pandera.Column(str, pandera.Check.str_matches(
            GSS, error="area_code is not a GSS code (a letter and 8 digits, e.g. E07000110)")),
        "period_start": date("period_start"),
        "period_end": date("period_end", end=True),
        "numerator": pandera.Column(str, pandera.Check(
            lambda s: (_number(s) >= 0) & (_number(s) == np.floor(_number(s))),
            error="numerator is not a whole number >= 0 (suppressed values such as '*' "
                  "cannot be used)")),
        "denominator": optional_number("denominator", "a number > 0", lambda v: v > 0),
        "predicted": optional_number("predicted", "a number >= 0", lambda v: v >= 0),
        "per": pandera.Column(str, pandera.Check(
            lambda s: s.eq("") | _number(s).isin(PERS),
            error="per is not one of 1, 100, 1000, 10000, 100000")),
        "polarity": pandera.Column(str, pandera.Check(
            lambda s: s.str.lower().isin(set(_POLARITY_WORDS) - {""}),
            error="polarity is not lower, higher or neutral")),
        "kind": pandera.Column(str, pandera.Check(
            lambda s: s.map(_kind).isin(KINDS),
            error="kind is not count, rate, proportion or observed_vs_predicted")),
        "source": non_empty("source"),
    })


def _failures(frame: pd.DataFrame) -> pd.DataFrame:
    try:
        _schema().validate(frame, lazy=True)
        return pd.DataFrame(columns=["line", "column", "reason", "value"])
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()]
        out = pd.DataFrame({"line": cases["index"].astype("int64").to_numpy(),
                            "column": cases["column"].to_numpy(),
                            "reason": cases["check"].astype(str).to_numpy()})
        out["value"] = [frame.at[line, col] for line, col in
                        zip(out["line"], out["column"], strict=True)]
        return out.drop_duplicates(["line", "column", "reason"])


def _problem_rows(frame: pd.DataFrame, mask: pd.Series, column: str, reason) -> pd.DataFrame:
    hit = frame.index[mask.fillna(False).to_numpy(dtype=bool)]
    reasons = [reason(line) if callable(reason) else reason for line in hit]
    return pd.DataFrame({"line": hit, "column": column, "reason": reasons,
                         "value": frame.loc[hit, column].to_numpy() if len(hit) else []})


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    kind = frame["kind"].map(_kind)
    per = _number(frame["per"])
    return pd.DataFrame({
        "line": frame.index.to_numpy(),
        "indicator_id": frame["indicator_id"].to_numpy(),
        "indicator_label": frame["indicator_label"].to_numpy(),
        "area_code": frame["area_code"].to_numpy(),
        "area_name": frame["area_name"].replace("", None).to_numpy(),
        "period_start": parse_dates(frame["period_start"]).dt.date.to_numpy(),
        "period_end": parse_dates(frame["period_end"], end=True).dt.date.to_numpy(),
        "numerator": _number(frame["numerator"]).to_numpy(),
        "denominator": _number(frame["denominator"]).to_numpy(),
        "per": per.where(per.notna(), 1).to_numpy(),
        "polarity": frame["polarity"].str.lower().map(_POLARITY_WORDS).to_numpy(),
        "kind": kind.to_numpy(),
        "predicted": _number(frame["predicted"]).to_numpy(),
        "source": frame["source"].to_numpy(),
    }, index=frame.index)


def _row_rules(frame: pd.DataFrame, typed: pd.DataFrame) -> list[pd.DataFrame]:
    """Rules across the columns of one row."""
    kind, per = typed["kind"], typed["per"]
    needs_denominator = kind.isin(["rate", "proportion", "observed_vs_predicted"])
    share = kind.isin(["proportion", "observed_vs_predicted"])
    return [
        _problem_rows(frame, typed["period_end"] < typed["period_start"], "period_end",
                      "period_end is before period_start"),
        _problem_rows(frame, needs_denominator & frame["denominator"].eq(""), "denominator",
                      "denominator is needed for a rate, proportion or observed_vs_predicted"),
        _problem_rows(frame, share & (typed["numerator"] > typed["denominator"]), "numerator",
                      "numerator is larger than the denominator (a proportion)"),
        _problem_rows(frame, kind.eq("rate") & frame["per"].eq(""), "per",
                      "per is needed for a rate (e.g. 1000 for per 1,000 residents)"),
        _problem_rows(frame, share & ~per.isin([1, 100]), "per",
                      "per must be 100 (a percentage) or 1 for a proportion"),
        _problem_rows(frame, kind.eq("observed_vs_predicted") & frame["predicted"].eq(""),
                      "predicted", "predicted is needed for observed_vs_predicted"),
        _problem_rows(frame, kind.eq("observed_vs_predicted") & (typed["predicted"] > per),
                      "predicted", "predicted is larger than per (it is a proportion per per)"),
        _problem_rows(frame, kind.eq("count") & ~per.isin([1]), "per",
                      "per must be empty or 1 for a count"),
    ]


def _consistency(frame: pd.DataFrame, typed: pd.DataFrame) -> list[pd.DataFrame]:
    """One definition per indicator (its first row's), one row per indicator, area, period."""
    out = []
    first = typed.groupby("indicator_id", sort=False).head(1).set_index("indicator_id")
    first_line = first["line"]
    for column in DEFINING:
        expected = typed["indicator_id"].map(first[column])
        differs = typed[column].ne(expected)

        def reason(line, column=column):
            indicator = typed.at[line, "indicator_id"]
            return (f"{column} differs from line {int(first_line[indicator])} for indicator "
                    f"{indicator} ('{first.at[indicator, column]}')")
        out.append(_problem_rows(frame, differs, column, reason))
    key = ["indicator_id", "area_code", "period_start", "period_end"]
    duplicated = typed.duplicated(key, keep="first")
    first_of_key = typed.drop_duplicates(key).set_index(key)["line"]

    def duplicate_reason(line):
        row = typed.loc[line, key]
        return (f"indicator, area and period repeat line "
                f"{int(first_of_key.loc[tuple(row)])}")
    out.append(_problem_rows(frame, duplicated, "indicator_id", duplicate_reason))
    return out


def read_indicators(path: str | Path) -> ReadResult:
    """Validated partner-indicator rows (columns :data:`OUTPUT_COLUMNS`) and the quarantine.

    Raises :class:`~smp_analysis.errors.InputError` when the file cannot be used at all
    (empty, not UTF-8, a required column missing), naming every such problem.
    """
    import pyarrow as pa

    path = Path(path)
    frame, malformed = _read_table(path)
    problems = [_failures(frame)]
    good = frame.loc[~frame.index.isin(problems[0]["line"])]
    typed = _typed(good)
    problems += _row_rules(good, typed)
    bad = pd.concat([p["line"] for p in problems if len(p)] or [pd.Series(dtype="int64")])
    typed = typed.loc[~typed.index.isin(bad)]
    problems += _consistency(good.loc[typed.index], typed)
    bad = pd.concat([p["line"] for p in problems if len(p)] or [pd.Series(dtype="int64")])
    rows = typed.loc[~typed.index.isin(bad), OUTPUT_COLUMNS].reset_index(drop=True)
    rows = rows.astype({"line": "int64", "numerator": "float64", "denominator": "float64",
                        "per": "int64", "predicted": "float64", "area_name": "object"})
    parts = [p for p in problems if len(p)]
    if malformed:
        parts.append(pd.DataFrame(malformed, columns=["line", "column", "reason", "value"]))
    quarantine = (pd.concat(parts, ignore_index=True) if parts else
                  pd.DataFrame(columns=["line", "column", "reason", "value"]))
    quarantine.insert(0, "file", str(path))
    quarantine = quarantine[QUARANTINE_COLUMNS].astype({"line": "int64"}).sort_values(
        ["line", "column"], na_position="first").reset_index(drop=True)
    schema = pa.schema([("line", pa.int64()), ("indicator_id", pa.string()),
                        ("indicator_label", pa.string()), ("area_code", pa.string()),
                        ("area_name", pa.string()), ("period_start", pa.date32()),
                        ("period_end", pa.date32()), ("numerator", pa.float64()),
                        ("denominator", pa.float64()), ("per", pa.int64()),
                        ("polarity", pa.string()), ("kind", pa.string()),
                        ("predicted", pa.float64()), ("source", pa.string())])
    result = ReadResult(str(path), sha256_of(path),
                        pa.Table.from_pandas(rows, schema=schema, preserve_index=False),
                        quarantine, len(frame) + len(malformed),
                        quarantine.drop_duplicates("line")["reason"].value_counts().to_dict())
    result.check_reconciles()
    return result


def indicator_ids(path: str | Path) -> frozenset[str]:
    """The indicator ids a file defines (a quick read for checking params; no validation of
    the rows). The same bytes are parsed once a process: every chapter of an appendix checks
    its params against them. Raises InputError when the file has no usable header."""
    path = Path(path)
    return _ids(path, path.read_bytes())


@by_content
def _ids(path: Path, data: bytes) -> frozenset[str]:
    frame, _ = _read_table(path, data)
    return frozenset(i for i in frame["indicator_id"] if re.fullmatch(INDICATOR_ID, i))


def period_months(start: dt.date, end: dt.date) -> float:
    """Length of a period in months (whole months count exactly; days pro rata).

    >>> period_months(dt.date(2023, 4, 1), dt.date(2024, 3, 31))
    12.0
    """
    first = pd.Timestamp(start)
    after = pd.Timestamp(end) + pd.Timedelta(days=1)
    whole = (after.year - first.year) * 12 + after.month - first.month
    if first.day == 1 and after.day == 1:
        return float(whole)
    return (after - first).days / 30.4375
