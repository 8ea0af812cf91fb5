"""Writing the store: police.uk files (here), reference tables and victim extracts
(:mod:`.extracts`, re-exported).

Identity of an input file is the SHA-256 of its content (decompressed, for ``.csv.gz``):
re-ingesting an unchanged file is a no-op, the same bytes under another path are not loaded
twice, and a changed file replaces its old rows. One force-month is stored from one file only:
when two files hold the same force and month (two downloads of June 2023, a re-download in
another folder), the newer file's rows are kept and the older file's rows for that force-month
are dropped, and the report says so (:mod:`.overlaps` defines "newer").

A run is one transaction: new parts only become visible when the register commits, replaced
parts are deleted after it, and a failed run leaves the store as it was. Every entry of the
folders given is loaded or named with the reason it was not (:mod:`..sources.discover`); one
unreadable file never stops the others. A registered file whose stored part was lost or damaged
is read again from its path when the file is still there (status ``repaired``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from ..errors import InputError, Problem
from ..sources._csv import NotThisFormat, read_input
from ..sources.discover import Candidate, discover
from ..sources.police_uk import parse_street_csv
from . import overlaps
from .connection import _create_crimes_view, _part, broken_parts, is_synthetic, parts_dir
from .extracts import (  # noqa: F401 - the store's writing API lives in one namespace
    REFERENCE_READERS,
    VICTIM_READERS,
    load_reference,
    load_victim_extract,
)

IN_STORE = ("loaded", "replaced", "unchanged", "repaired")


@dataclass
class FileOutcome:
    path: str
    sha256: str
    # loaded | replaced | repaired | unchanged | duplicate | superseded | skipped | failed
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    note: str | None = None  # why skipped, what it replaced, which file holds its months


@dataclass
class IngestReport:
    files: list[FileOutcome]
    replacements: list[overlaps.Replacement] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def skipped(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "skipped"]

    def totals(self) -> dict[str, int]:
        """Rows of the files whose rows are in the store (read = loaded + quarantined)."""
        stored = [f for f in self.files if f.status in IN_STORE]
        return {key: sum(getattr(f, key) for f in stored)
                for key in ("rows_read", "rows_loaded", "rows_quarantined")}

    def to_json(self) -> dict:
        """The ``files`` and ``replacements`` parts of ingest-report.json (unchanged files
        carry their counts from the run that loaded them; duplicates, superseded, skipped and
        failed entries carry none)."""
        keys = ("path", "sha256", "status", "rows_read", "rows_loaded", "rows_quarantined",
                "reasons", "error", "note")
        return {"files": [{k: asdict(f)[k] for k in keys} for f in self.files],
                "replacements": [asdict(r) for r in self.replacements]}


def register_file(con, path: str, sha: str, kind: str, counts: tuple[int, int, int],
                  reasons: dict[str, int], file_id: int | None = None,
                  modified_ns: int | None = None) -> int:
    if file_id is None:
        file_id = con.execute("SELECT nextval('file_ids')").fetchone()[0]
    con.execute(
        "INSERT INTO source_files (file_id, path, sha256, kind, rows_read, rows_loaded, "
        "rows_quarantined, reasons, synthetic, ingested_at, modified_ns) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file_id, path, sha, kind, *counts, json.dumps(reasons, sort_keys=True),
         is_synthetic(path), dt.datetime.now(), modified_ns],
    )
    return file_id


def ingest_police_uk(con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], *,
                     progress: bool = False, workers: int = 2,
                     repair_only: bool = False) -> IngestReport:
    """Load street-level CSVs (files or folders) into the store, incrementally.

    Files are read, hashed, validated and written as Parquet parts by `workers` threads a couple
    of files ahead of the register (pyarrow and hashlib release the GIL), so memory stays flat
    however many files there are. The run is one transaction (see the module docstring).
    Raises InputError when the paths hold nothing to read. `repair_only`: read again only the
    registered files whose parts are missing or damaged (``smp store repair``).
    """
    paths = [Path(p) for p in paths]
    found = discover(paths)
    broken = broken_parts(con)
    if not found.candidates and not repair_only:
        raise InputError(
            [Problem(str(p), "no police.uk street-level CSV file (.csv or .csv.gz) found here")
             for p in paths if not any(s.path == p for s in found.skipped)]
            + [Problem(str(s.path), f"not read: {s.reason}") for s in found.skipped])
    outcomes = [FileOutcome(str(s.path), "", "failed" if s.failed else "skipped",
                            error=s.reason if s.failed else None, note=s.reason)
                for s in found.skipped]
    candidates = list(found.candidates)
    listed = {str(c.path) for c in candidates}
    lost: list[tuple[int, str, str]] = []
    for file_id, problem in broken.items():
        (path,) = con.execute("SELECT path FROM source_files WHERE file_id = ?",
                              [file_id]).fetchone()
        if Path(path).is_file():
            if path not in listed:
                candidates.append(Candidate(Path(path), True))
        else:
            lost.append((file_id, path, problem))
    written: list[Path] = []  # parts of this run
    replaced: list[Path] = []  # parts of files this run replaces
    parts_dir(con).mkdir(parents=True, exist_ok=True)
    # One transaction per run: a changed file's old rows are replaced atomically, and a run
    # that fails part-way leaves the store exactly as it was.
    con.execute("BEGIN TRANSACTION")
    try:
        run = _Run(con, outcomes, written, replaced, broken)
        for file_id, path, problem in lost:
            run.forget_lost(file_id, path, problem)
        run.replacements.extend(overlaps.resolve_all(con, run))
        run.ingest(candidates, progress=progress, workers=workers)
    except BaseException:
        con.execute("ROLLBACK")
        for part in written:
            part.unlink(missing_ok=True)
        raise
    if any(o.status in ("loaded", "replaced", "repaired", "superseded") for o in outcomes) or (
            lost or run.replacements):
        # stored data-quality findings describe the old contents (see quality.refresh)
        con.execute("DROP TABLE IF EXISTS anomalies")
    con.execute("COMMIT")
    for part in replaced:
        part.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    _create_crimes_view(con, strict=False)
    return IngestReport(outcomes, run.replacements)


class _Run:
    """The state of one ingest transaction: outcomes so far and parts written or retired."""

    def __init__(self, con, outcomes, written, replaced, broken):
        self.con, self.outcomes, self.written, self.replaced = con, outcomes, written, replaced
        self.broken = set(broken)
        self.replacements: list[overlaps.Replacement] = []
        self.by_file_id: dict[int, FileOutcome] = {}
        self.seen: dict[str, str] = {}

    def new_file_id(self) -> int:
        return self.con.execute("SELECT nextval('file_ids')").fetchone()[0]

    def forget_lost(self, file_id: int, path: str, problem: str) -> None:
        """A registered file whose rows were lost and which is no longer on disk."""
        self.drop_file(file_id)
        self.outcomes.append(FileOutcome(
            path, "", "failed", error=f"{path}: {problem} and the file is no longer there, so "
            "its rows could not be restored and were removed from the store; download the "
            "file again and ingest it"))

    def drop_file(self, file_id: int) -> None:
        for table in ("quarantine", "file_months", "source_files"):
            self.con.execute(f"DELETE FROM {table} WHERE file_id = ?", [file_id])
        self.replaced.append(_part(self.con, file_id))

    def ingest(self, candidates: list[Candidate], *, progress: bool, workers: int) -> None:
        con = self.con
        known = frozenset(sha for sha, file_id in con.execute(
            "SELECT sha256, file_id FROM source_files WHERE kind = 'police_uk'").fetchall()
            if file_id not in self.broken) | overlaps.superseded_shas(con)

        def submit(candidate: Candidate):
            file_id = self.new_file_id()
            return pool.submit(_read_one, candidate, known, _part(con, file_id), file_id)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            pending: deque = deque()
            queue = iter(candidates)
            for candidate in queue:
                pending.append(submit(candidate))
                if len(pending) > workers:
                    break
            with tqdm(total=len(candidates), desc="ingest", unit="file",
                      disable=not progress) as bar:
                while pending:
                    read = pending.popleft().result()
                    if read.part is not None:
                        self.written.append(read.part)
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.append(submit(nxt))
                    self.register(read)
                    bar.update()

    def register(self, read: _Read) -> None:
        path, sha = str(read.candidate.path), read.sha
        outcome = self._known_outcome(path, sha)
        if outcome is None and isinstance(read.parsed, Exception):
            outcome = _problem_outcome(read)
        if outcome is None and read.parsed is None:  # known at the start, gone since: read it
            read = _read_one(read.candidate, frozenset(), _part(self.con, read.file_id),
                             read.file_id)
            if read.part is not None:
                self.written.append(read.part)
            outcome = _problem_outcome(read) if isinstance(read.parsed, Exception) else None
        if outcome is None:
            outcome = self._store(read)
            self.seen[sha] = path
        if read.part is not None and outcome.status not in IN_STORE:
            read.part.unlink(missing_ok=True)  # written in vain (known bytes, failed, ...)
        self.outcomes.append(outcome)

    def _known_outcome(self, path: str, sha: str) -> FileOutcome | None:
        if not sha:
            return None
        stored = self.con.execute(
            "SELECT file_id, path, rows_read, rows_loaded, rows_quarantined, reasons FROM "
            "source_files WHERE sha256 = ? AND kind = 'police_uk' ORDER BY file_id",
            [sha]).fetchall()
        stored = [s for s in stored if s[0] not in self.broken]
        same = [s for s in stored if s[1] == path]
        if same:
            file_id, _, read, loaded, quarantined, reasons = same[0]
            outcome = FileOutcome(path, sha, "unchanged", read, loaded, quarantined,
                                  json.loads(reasons or "{}"))
            self.by_file_id[file_id] = outcome
            return outcome
        if stored:
            return FileOutcome(path, sha, "duplicate",
                               note=f"same content as {stored[0][1]}, loaded once")
        if sha in self.seen:
            return FileOutcome(path, sha, "duplicate",
                               note=f"same content as {self.seen[sha]}, loaded once")
        holder = overlaps.superseded_by(self.con, sha)
        if holder is not None:
            return FileOutcome(path, sha, "superseded", note=holder)
        return None

    def _store(self, read: _Read) -> FileOutcome:
        """Register a parsed file (its part is already written) and retire older versions."""
        con, result, path = self.con, read.parsed, str(read.candidate.path)
        previous = con.execute(
            "SELECT file_id, sha256 FROM source_files WHERE path = ? AND kind = 'police_uk'",
            [path]).fetchall()
        for old_id, _ in previous:
            self.drop_file(old_id)
            self.by_file_id.pop(old_id, None)
        status = ("repaired" if previous and all(s == read.sha for _, s in previous)
                  else "replaced" if previous else "loaded")
        register_file(con, path, read.sha, "police_uk",
                      (result.rows_read, result.rows_loaded, result.rows_quarantined),
                      result.reasons, file_id=read.file_id, modified_ns=read.modified_ns)
        _store_quarantine(con, result.quarantine, read.file_id)
        overlaps.record_months(con, read.file_id, read.months)
        outcome = FileOutcome(path, read.sha, status, result.rows_read, result.rows_loaded,
                              result.rows_quarantined, result.reasons)
        self.by_file_id[read.file_id] = outcome
        self.replacements.extend(overlaps.resolve(con, read.file_id, self))
        return outcome

    # called back by overlaps when a file loses force-months to a newer one
    def file_superseded(self, file_id: int, path: str, note: str) -> None:
        outcome = self.by_file_id.pop(file_id, None)
        if outcome is None:  # a file of an earlier run: reported too
            outcome = FileOutcome(path, "", "superseded")
            self.outcomes.append(outcome)
        outcome.status, outcome.note = "superseded", note
        outcome.rows_read = outcome.rows_loaded = outcome.rows_quarantined = 0
        outcome.reasons = {}

    def file_trimmed(self, old_id: int, new_id: int, rows: int, note: str) -> None:
        outcome = self.by_file_id.pop(old_id, None)
        if outcome is not None:
            outcome.rows_read -= rows
            outcome.rows_loaded -= rows
            outcome.note = note
            self.by_file_id[new_id] = outcome


def _problem_outcome(read: _Read) -> FileOutcome:
    exc, path = read.parsed, str(read.candidate.path)
    if isinstance(exc, NotThisFormat) and not read.candidate.must_be_street:
        return FileOutcome(path, read.sha, "skipped",
                           note="not a police.uk street-level file: its header is not the "
                           "police.uk one")
    problems = getattr(exc, "problems", [])
    return FileOutcome(path, read.sha, "failed",
                       error=str(problems[0]) if len(problems) == 1 else str(exc))


PART_DICTIONARY_COLUMNS = ["month", "reported_by", "falls_within", "crime_type",
                           "last_outcome_category", "lsoa_code", "lsoa_name", "context", "file_id"]


@dataclass
class _Read:
    candidate: Candidate
    sha: str
    parsed: object  # ReadResult | Exception | None (known bytes: not parsed)
    part: Path | None
    file_id: int
    modified_ns: int = 0
    months: list[tuple[str, dt.date, int]] = field(default_factory=list)


def _read_one(candidate: Candidate, known: frozenset[str], part: Path, file_id: int) -> _Read:
    """Worker: read, hash, validate, and write the file's rows as a Parquet part.

    Problems of the file (unreadable, not UTF-8, wrong header, a bug met by odd content) come
    back as the outcome's exception; problems of the store (a full disk) propagate and stop
    the run, which then leaves the store as it was.
    """
    path = candidate.path
    try:
        modified_ns = os.stat(path).st_mtime_ns
        data = read_input(path)
    except InputError as exc:
        return _Read(candidate, "", exc, None, file_id)
    except OSError as exc:
        return _Read(candidate, "", InputError(Problem(str(path), _os_reason(exc))), None,
                     file_id)
    sha = hashlib.sha256(data).hexdigest()
    if sha in known:
        return _Read(candidate, sha, None, None, file_id, modified_ns)
    try:
        result = parse_street_csv(path, data, sha)
    except InputError as exc:
        return _Read(candidate, sha, exc, None, file_id, modified_ns)
    except Exception as exc:  # noqa: BLE001 - one odd file must never stop the others
        return _Read(candidate, sha, InputError(Problem(
            str(path), f"could not be read ({type(exc).__name__}: {exc}); check that it is a "
            "police.uk street-level CSV")), None, file_id, modified_ns)
    rows = result.table.append_column("file_id", pa.array(
        np.full(result.table.num_rows, file_id, dtype=np.int32)))
    write_part(rows, part)
    return _Read(candidate, sha, result, part, file_id, modified_ns,
                 overlaps.months_of(result.table))


def write_part(rows: pa.Table, part: Path) -> None:
    import pyarrow.parquet as pq

    tmp = part.with_suffix(".tmp")
    try:
        # lz4, dictionary encoding only for the repetitive text columns and statistics only
        # where queries filter (month, file): the cheapest write we measured; parts are
        # ~35 MB per 500,000 rows
        pq.write_table(rows, tmp, compression="lz4", use_dictionary=PART_DICTIONARY_COLUMNS,
                       write_statistics=["month", "file_id"])
        tmp.replace(part)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied (check the file's permissions, e.g. chmod u+r)"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    if exc.errno == errno.ENOENT:
        return "disappeared while the run was reading the folder"
    return f"cannot be read: {exc.strerror or exc}"


def _store_quarantine(con: duckdb.DuckDBPyConnection, quarantine, file_id: int) -> None:
    if len(quarantine):
        con.register("incoming_q", quarantine.assign(file_id=file_id))
        con.execute('INSERT INTO quarantine SELECT file_id, file, line, "column", reason,'
                    " value FROM incoming_q")
        con.unregister("incoming_q")
