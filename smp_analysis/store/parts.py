"""The parsing side of an ingest: read, hash, validate one file and write its rows as a
Parquet part (run by worker threads; nothing here touches the database).

Two stages, so that the ingest can read ahead: :func:`load_one` (stat, read, hash, parse the
CSV as text: no pandas, little Python) and :func:`finish_one` (validate, type, write the part);
:func:`read_one` is both."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError, Problem
from ..sources._csv import read_input
from ..sources.discover import Candidate
from ..sources.police_uk import clean_street_table, parse_street_csv, street_records
from . import overlaps
from .connection import stat_key

PART_DICTIONARY_COLUMNS = ["month", "reported_by", "falls_within", "crime_type",
                           "last_outcome_category", "lsoa_code", "lsoa_name", "context", "file_id"]


@dataclass
class CleanFile:
    """A file every row of which is loaded: the counts of a
    :class:`~smp_analysis.sources._csv.ReadResult` without its (empty) quarantine frame."""

    table: pa.Table
    reasons: dict[str, int] = field(default_factory=dict)
    quarantine: tuple = ()
    rows_quarantined: int = 0

    @property
    def rows_read(self) -> int:
        return self.table.num_rows

    @property
    def rows_loaded(self) -> int:
        return self.table.num_rows


@dataclass
class Read:
    candidate: Candidate
    sha: str
    parsed: object  # CleanFile | ReadResult | Exception | None (known bytes: not parsed)
    part: Path | None
    file_id: int
    modified_ns: int = 0
    stat_key: str | None = None  # see connection.stat_key
    months: list[tuple[str, dt.date, int]] = field(default_factory=list)


@dataclass
class Loaded:
    """A file read, hashed and parsed as text (:func:`load_one`), to be finished."""

    candidate: Candidate
    sha: str
    data: bytes
    records: pa.Table | None  # None: irregular, the careful path reads it
    file_id: int
    modified_ns: int
    stat_key: str


def read_one(candidate: Candidate, known: frozenset[str], part: Path, file_id: int) -> Read:
    """Worker: read, hash, validate, and write the file's rows as a Parquet part.

    Problems of the file (unreadable, not UTF-8, wrong header, a bug met by odd content) come
    back as the outcome's exception; problems of the store (a full disk) propagate and stop
    the run, which then leaves the store as it was.
    """
    loaded = load_one(candidate, known, file_id)
    return loaded if isinstance(loaded, Read) else finish_one(loaded, part)


def load_one(candidate: Candidate, known: frozenset[str], file_id: int) -> Loaded | Read:
    """First stage of :func:`read_one`: the file read, hashed and parsed as text, or its
    outcome already (a problem, or bytes the store holds)."""
    path = candidate.path
    try:
        info = os.stat(path)  # before reading: a write while reading changes the key
        modified_ns, key = info.st_mtime_ns, stat_key(info)
        data = read_input(path)
    except InputError as exc:
        return Read(candidate, "", exc, None, file_id)
    except OSError as exc:
        return Read(candidate, "", InputError(Problem(str(path), _os_reason(exc))), None,
                     file_id)
    sha = hashlib.sha256(data).hexdigest()
    if sha in known:
        return Read(candidate, sha, None, None, file_id, modified_ns, key)
    try:
        records = street_records(path, data)
    except InputError as exc:
        return Read(candidate, sha, exc, None, file_id, modified_ns, key)
    except Exception as exc:  # noqa: BLE001 - one odd file must never stop the others
        return Read(candidate, sha, _odd_file(path, exc), None, file_id, modified_ns, key)
    return Loaded(candidate, sha, data, records, file_id, modified_ns, key)


def finish_one(loaded: Loaded, part: Path) -> Read:
    """Second stage of :func:`read_one`: validate, type and write the rows as a part."""
    path, sha = loaded.candidate.path, loaded.sha
    outcome = (loaded.candidate, sha)
    try:
        # a file that breaks no rule needs no quarantine and no pandas; any other is read
        # again the careful way, which finds and reports every problem in it
        clean = (clean_street_table(path, loaded.data, loaded.records)
                 if loaded.records is not None else None)
        result = CleanFile(clean) if clean is not None else parse_street_csv(path, loaded.data,
                                                                             sha)
    except InputError as exc:
        return Read(*outcome, exc, None, loaded.file_id, loaded.modified_ns, loaded.stat_key)
    except Exception as exc:  # noqa: BLE001 - one odd file must never stop the others
        return Read(*outcome, _odd_file(path, exc), None, loaded.file_id, loaded.modified_ns,
                    loaded.stat_key)
    rows = result.table.append_column("file_id", pa.array(
        np.full(result.table.num_rows, loaded.file_id, dtype=np.int32)))
    write_part(rows, part)
    return Read(*outcome, result, part, loaded.file_id, loaded.modified_ns, loaded.stat_key,
                overlaps.months_of(result.table))


def _odd_file(path: Path, exc: Exception) -> InputError:
    return InputError(Problem(
        str(path), f"could not be read ({type(exc).__name__}: {exc}); check that it is a "
        "police.uk street-level CSV"))


def write_part(rows: pa.Table, part: Path) -> None:
    import pyarrow.parquet as pq

    tmp = part.with_suffix(".tmp")
    try:
        # no compression, dictionary encoding only for the repetitive text columns and
        # statistics only where queries filter (month, file): the cheapest write we measured
        # (lz4 costs a third more time and saves only the coordinates' bytes, since Crime IDs
        # are random hex); parts are ~100 bytes a row, ~50 MB per 500,000 rows
        pq.write_table(rows, tmp, compression="none", use_dictionary=PART_DICTIONARY_COLUMNS,
                       write_statistics=["month", "file_id"])
        tmp.replace(part)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _os_reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied (check the file's permissions, e.g. chmod u+r)"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    if exc.errno == errno.ENOENT:
        return "disappeared while the run was reading the folder"
    return f"cannot be read: {exc.strerror or exc}"
