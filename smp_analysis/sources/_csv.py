"""Shared CSV plumbing: decode, split into records with their line numbers, reconcile."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

QUARANTINE_COLUMNS = ["file", "line", "column", "reason", "value"]
# No field of the formats read here is longer than a few hundred characters; a longer one is a
# broken row (an unclosed quote swallowing the lines after it, binary junk), set aside as such.
MAX_FIELD_CHARS = 4096
# Python's csv module refuses fields over 128 KiB with an exception that would reject the whole
# file; the limit above is enforced per row instead.
csv.field_size_limit(2 ** 31 - 1)
# A .csv.gz is decompressed in memory; none of these files comes near this (a month of the
# largest force is ~40 MB), so anything larger is refused rather than exhausting memory.
MAX_DECOMPRESSED_BYTES = 2 << 30
BOM = "\ufeff"


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


def empty_quarantine() -> pd.DataFrame:
    """A quarantine frame with no rows (a copy: callers may add to it)."""
    return _empty_quarantine().copy()


@cache
def _empty_quarantine() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=QUARANTINE_COLUMNS).astype({"line": "int64"})


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_input(path: str | Path) -> bytes:
    """The bytes of an input file, decompressed when its name ends in ``.gz``.

    Raises InputError for a damaged or oversized gzip file; OSError (permissions...) is left to
    the caller, which names the file.
    """
    path = Path(path)
    if not path.name.lower().endswith(".gz"):
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(MAX_DECOMPRESSED_BYTES + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(Problem(str(path), f"not a readable gzip file ({exc}); download it "
                                 "again or decompress it yourself")) from None
    if len(data) > MAX_DECOMPRESSED_BYTES:
        raise InputError(Problem(str(path), "decompresses to more than 2 GiB; this is not a "
                                 "police.uk monthly file"))
    return data


def normalise_line_ends(data: bytes) -> bytes:
    """Old Mac files end lines with CR alone; read them as lines rather than one long line."""
    if b"\r" in data and b"\n" not in data:
        return data.replace(b"\r", b"\n")
    return data


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
    _check_header(path, header, expected_header, text[:65536].splitlines()[:6])
    width = len(expected_header)
    records: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str, str]] = []
    previous_end = reader.line_num
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            oversize = oversize_reason(record, start, previous_end)
            if oversize:
                bad.append((start, oversize, ""))
            elif len(record) == width:
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


def oversize_reason(record: list[str], start: int, end: int) -> str | None:
    """Why a record is too big to be a row (None when it is not)."""
    longest = max((len(f) for f in record), default=0)
    if longest <= MAX_FIELD_CHARS:
        return None
    if end - start >= 10:
        return (f"a quote (\") opened on this line is not closed until line {end}: the "
                f"lines between were read as one field; fix the quote")
    return f"a field is {longest:,} characters long (at most {MAX_FIELD_CHARS:,} expected)"


class NotThisFormat(InputError):
    """The file's header has little in common with the expected one: another kind of file."""


def head_lines(data: bytes, n: int = 6) -> list[str]:
    """The first `n` lines of a file as text (for header diagnosis; bad bytes replaced)."""
    chunk = normalise_line_ends(data[:65536])
    if chunk.startswith(b"\xef\xbb\xbf"):
        chunk = chunk[3:]
    return chunk.decode("utf-8", errors="replace").splitlines()[:n]


def check_header_line(path: Path, line: str, expected: list[str],
                      first_lines: list[str] | None = None) -> None:
    """Check a header given as one line of text (raises InputError listing every problem)."""
    try:
        header = next(csv.reader([line.rstrip("\r")]), [])
    except csv.Error:
        header = [line]
    _check_header(path, header, expected, first_lines or [line])


def _simplified(name: str) -> str:
    return " ".join(name.replace("_", " ").replace(BOM, "").split()).lower()


def _fields(line: str, delimiter: str = ",") -> list[str]:
    try:
        return [f.strip() for f in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def diagnose_header(header: list[str], expected: list[str], first_lines: list[str]
                    ) -> str | None:
    """One sentence naming the cause when a header is the expected one, disguised.

    >>> cols = ["Crime ID", "Month", "Crime type"]
    >>> diagnose_header(["Crime ID;Month;Crime type"], cols, ["Crime ID;Month;Crime type"])[:50]
    'the file is separated by semicolons, not commas: s'
    >>> diagnose_header(["crime id", "month", "crime type"], cols, [])[:60]
    "the header's column names differ from the expected ones only"
    """
    wanted = [_simplified(c) for c in expected]
    first = first_lines[0] if first_lines else ",".join(header)
    if first.lstrip(BOM).strip().lower().startswith("sep="):
        return (f"line 1 is Excel's '{first.strip()[:8]}' hint, not the header: delete that "
                "line (or save the file from Excel as CSV UTF-8, which does not write it)")
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        split = _fields(first, delimiter)
        if len(split) > len(header) and sum(_simplified(f) in wanted for f in split) >= 2:
            return (f"the file is separated by {name}, not commas: save it again as "
                    "comma-separated CSV (in Excel: Save As > CSV UTF-8 (Comma delimited))")
    if len(header) == 1 and len(_fields(header[0])) > 1:
        return ("the whole header row is one quoted field: remove the quotes around the "
                "header line")
    with_bom = [h for h in header if BOM in h]
    if with_bom:
        return ("the header contains a byte-order mark (BOM, U+FEFF) inside it, before "
                f"'{with_bom[0].replace(BOM, '').strip()}': the file was probably joined from "
                "several files or saved twice; remove the mark (save again as CSV UTF-8)")
    exact = {h.strip() for h in header}
    if set(wanted) <= {_simplified(h) for h in header} and not set(expected) <= exact:
        example = next(h.strip() for h in header
                       if _simplified(h) in wanted and h.strip() not in expected)
        return ("the header's column names differ from the expected ones only in upper/lower "
                f"case, spaces or underscores (e.g. '{example}'): restore the original header "
                f"row: {', '.join(expected)}")
    for number, line in enumerate(first_lines[1:], start=2):
        if [_simplified(f) for f in _fields(line.lstrip(BOM))] == wanted:
            return (f"the header is on line {number}, not line 1: delete the "
                    f"{number - 1} line{'s' if number > 2 else ''} above it")
    return None


def _check_header(path: Path, header: list[str], expected: list[str],
                  first_lines: list[str] | None = None) -> None:
    stripped = [h.strip() for h in header]
    if stripped == expected:
        return
    reason = diagnose_header(header, expected, first_lines or [])
    if reason is not None:
        raise InputError(Problem(str(path), reason, 1))
    repeated = sorted({c for c in stripped if stripped.count(c) > 1 and c})
    if repeated and sorted(set(stripped)) == sorted(expected):
        raise InputError([Problem(str(path), "the column appears more than once in the header;"
                                  " remove the copies", 1, c) for c in repeated])
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
    wanted = {_simplified(c) for c in expected}
    if sum(_simplified(h) in wanted for h in stripped) * 2 < len(expected):
        raise NotThisFormat(problems)
    raise InputError(problems)
