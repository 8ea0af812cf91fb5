"""Shared CSV plumbing: decode, split into records with their line numbers, reconcile."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ..errors import InputError, Problem

QUARANTINE_COLUMNS = ["file", "line", "column", "reason", "value"]


@dataclass
class ReadResult:
    """Validated rows of one file, the rows set aside, and the reconciliation counts."""

    path: str
    sha256: str
    table: pa.Table  # typed valid rows
    quarantine: pd.DataFrame
    rows_read: int
    reasons: dict[str, int] = field(default_factory=dict)

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The valid rows as a pandas DataFrame (missing text as None/NaN)."""
        return self.table.to_pandas()

    @property
    def rows_loaded(self) -> int:
        return self.table.num_rows

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine["line"].nunique() if len(self.quarantine) else 0

    def check_reconciles(self) -> None:
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise AssertionError(
                f"{self.path}: {self.rows_read} rows read but {self.rows_loaded} loaded + "
                f"{self.rows_quarantined} quarantined"
            )


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text of a file (BOM removed); a clear error naming the first bad line otherwise."""
    if not data.strip():
        raise InputError(Problem(str(path), "the file is empty; expected a header row and data"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            Problem(
                str(path),
                f"byte 0x{data[exc.start]:02x} is not valid UTF-8; re-save the file as UTF-8 "
                "(e.g. in Excel: Save As > CSV UTF-8)",
                line=line,
            )
        ) from None
    return text


def split_records(
    path: Path, text: str, expected_header: list[str]
) -> tuple[list[list[str]], list[int], list[tuple[int, str, str]]]:
    """Records of a CSV with their first line number; malformed records set aside.

    Returns (good records, their start lines, [(line, reason, raw)] of records whose field
    count is wrong). Raises InputError when the header is not the expected one.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(Problem(str(path), "no header row", line=1)) from None
    _check_header(path, header, expected_header)
    width = len(expected_header)
    records: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str, str]] = []
    previous_end = reader.line_num
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if len(record) == width:
                records.append(record)
                lines.append(start)
            elif record:  # a blank line is not a record
                bad.append(
                    (start, f"wrong number of fields ({len(record)}, expected {width})",
                     ",".join(record)[:200])
                )
    except csv.Error as exc:
        raise InputError(Problem(str(path), f"CSV syntax error: {exc}", reader.line_num)) from None
    return records, lines, bad


def check_header_line(path: Path, line: str, expected: list[str]) -> None:
    """Check a header given as one line of text (raises InputError listing every problem)."""
    _check_header(path, next(csv.reader([line.rstrip("\r")]), []), expected)


def _check_header(path: Path, header: list[str], expected: list[str]) -> None:
    stripped = [h.strip() for h in header]
    if stripped == expected:
        return
    problems = []
    missing = [c for c in expected if c not in stripped]
    extra = [c for c in stripped if c not in expected]
    for column in missing:
        problems.append(Problem(str(path), "expected column is missing", 1, column))
    for column in extra:
        problems.append(Problem(str(path), "unexpected column", 1, column or "(blank)"))
    if not problems:
        problems.append(
            Problem(str(path), f"columns are in the wrong order; expected: {', '.join(expected)}", 1)
        )
    raise InputError(problems)
