"""Writing the store: police.uk files (here), reference tables and victim extracts
(:mod:`.extracts`, re-exported).

Identity of an input file is the SHA-256 of its content (decompressed, for ``.csv.gz``):
re-ingesting an unchanged file is a no-op, the same bytes under another path are not loaded
twice, and a changed file replaces its old rows. A registered file whose path and stat key
(size, modification and change times, inode: :func:`.connection.stat_key`) are those it had
when it was hashed is known to be unchanged without reading it, so bringing a national store
up to date costs a stat per file rather than hashing gigabytes. One force-month is stored from one file only:
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
import json
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from ..errors import InputError, Problem
from ..sources._csv import NotThisFormat
from ..sources.discover import Candidate, discover
from . import overlaps
from .connection import (
    _create_crimes_view,
    broken_parts,
    is_synthetic,
    part_is_intact,
    parts_dir,
    stat_key,
)
from .connection import _part as run_part
from .extracts import (  # noqa: F401 - the store's writing API lives in one namespace
    REFERENCE_READERS,
    VICTIM_READERS,
    load_reference,
    load_victim_extract,
)
from .parts import (  # noqa: F401
    PART_DICTIONARY_COLUMNS,
    Read,
    finish_one,
    load_one,
    read_one,
    write_part,
)

IN_STORE = ("loaded", "replaced", "unchanged", "repaired")
# Files (and bytes, unless one file is larger) loaded ahead of validation, at most: a core keeps
# parsing while the first validation imports pandas (docs/scaling.md); memory stays flat.
READ_AHEAD_FILES = 4
READ_AHEAD_BYTES = 32 << 20


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
        return {"files": [{k: getattr(f, k) for k in keys} for f in self.files],
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

    Files are read, hashed, validated and written as Parquet parts by `workers` threads a few
    files ahead of the register (pyarrow and hashlib release the GIL; see :meth:`_Run.ingest`),
    so memory stays flat however many files there are. The run is one transaction (see the module docstring).
    Raises InputError when the paths hold nothing to read. `repair_only`: read again only the
    registered files whose parts are missing or damaged (``smp store repair``).
    """
    paths = [Path(p) for p in paths]
    found = discover(paths)
    broken = broken_parts(con)
    impossible = overlaps.out_of_range(con)
    for file_id, months in impossible.items():  # read again: such rows are quarantined now
        broken.setdefault(file_id, "it holds rows dated " + ", ".join(
            f"{m:%Y-%m}" for _, m, _ in months) + " (impossible months)")
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
    trim: list[tuple[int, str]] = []
    for file_id, problem in broken.items():
        (path,) = con.execute("SELECT path FROM source_files WHERE file_id = ?",
                              [file_id]).fetchone()
        if Path(path).is_file():
            if path not in listed:
                candidates.append(Candidate(Path(path), True))
        elif file_id in impossible and part_is_intact(run_part(con, file_id)):
            trim.append((file_id, path))
        else:
            lost.append((file_id, path, problem))
    written: list[Path] = []  # parts of this run
    replaced: list[Path] = []  # parts of files this run replaces
    parts_dir(con).mkdir(parents=True, exist_ok=True)
    # One transaction per run: a changed file's old rows are replaced atomically, and a run
    # that fails part-way leaves the store exactly as it was.
    con.execute("BEGIN TRANSACTION")
    try:
        run = _Run(con, outcomes, written, replaced, broken, len(candidates))
        for file_id, path, problem in lost:
            run.forget_lost(file_id, path, problem)
        for file_id, path in trim:
            note = overlaps.drop_bad_months(con, file_id, impossible[file_id], run)
            outcomes.append(FileOutcome(path, "", "repaired", note=note))
        run.replacements.extend(overlaps.resolve_all(con, run))
        run.reload()
        run.ingest(candidates, progress=progress, workers=workers)
        run.flush()
    except BaseException:
        con.execute("ROLLBACK")
        for part in written:
            part.unlink(missing_ok=True)
        raise
    if any(o.status in ("loaded", "replaced", "repaired", "superseded") for o in outcomes) or (
            lost or trim or run.replacements):
        # stored data-quality findings and the index describe the old contents (see
        # quality.refresh)
        con.execute("DROP TABLE IF EXISTS anomalies")
        con.execute("DROP TABLE IF EXISTS crime_index")
    con.execute("COMMIT")
    for part in replaced:
        part.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    _create_crimes_view(con, strict=False)
    return IngestReport(outcomes, run.replacements)


class _Run:
    """The state of one ingest transaction: the register as it stands (kept in memory, so the
    per-file work needs no query), outcomes so far, and parts written or retired.

    New registrations are inserted in batches (a query costs tens of milliseconds when the
    parsing threads keep the cores busy); :meth:`flush` writes them before anything reads the
    register from the database (an overlap to resolve, the commit).
    """

    def __init__(self, con, outcomes, written, replaced, broken, n_ids: int):
        self.con, self.outcomes, self.written, self.replaced = con, outcomes, written, replaced
        self.broken = set(broken)
        self.folder = parts_dir(con)
        self.replacements: list[overlaps.Replacement] = []
        self.by_file_id: dict[int, FileOutcome] = {}
        self.seen: dict[str, str] = {}
        self.pending_files: list[tuple] = []
        self.pending_months: list[tuple] = []
        self.pending_keys: list[tuple] = []
        self.ids = iter([i for (i,) in con.execute(
            "SELECT nextval('file_ids') FROM range(?)", [max(n_ids, 1)]).fetchall()])
        self.reload()

    def reload(self) -> None:
        """Read the register into memory (at the start, and after resolving an overlap)."""
        self.flush()
        registered = self.con.execute(
            "SELECT file_id, path, sha256, rows_read, rows_loaded, rows_quarantined, reasons, "
            "modified_ns, stat_key FROM source_files WHERE kind = 'police_uk'").fetchall()
        self.files = {fid: (path, sha, (read, loaded, quarantined), reasons)
                      for fid, path, sha, read, loaded, quarantined, reasons, _, _ in registered}
        self.by_path: dict[str, set[int]] = {}
        self.by_sha: dict[str, set[int]] = {}
        for fid, (path, sha, _, _) in self.files.items():
            self._index(fid, path, sha)
        self.modified = {fid: modified for fid, *_, modified, _ in registered}
        self.keys = {(path, key): (fid, sha) for fid, path, sha, *_, key in registered
                     if key is not None}
        self.months = {(force, month): fid for fid, force, month in self.con.execute(
            "SELECT file_id, force, month FROM file_months").fetchall()}
        self.superseded = {sha: note for sha, note in overlaps.superseded_notes(self.con)}

    def _index(self, file_id: int, path: str, sha: str) -> None:
        """Registered files by path and by content, so that each file's lookups cost the same
        whether the store holds 30 files or 3,000."""
        self.by_path.setdefault(path, set()).add(file_id)
        self.by_sha.setdefault(sha, set()).add(file_id)

    def part(self, file_id: int) -> Path:
        return self.folder / f"{int(file_id)}.parquet"

    def new_file_id(self) -> int:
        file_id = next(self.ids, None)
        if file_id is None:
            file_id = self.con.execute("SELECT nextval('file_ids')").fetchone()[0]
        return file_id

    def flush(self) -> None:
        if self.pending_files:
            self.con.execute(
                "INSERT INTO source_files (file_id, path, sha256, kind, rows_read, rows_loaded, "
                "rows_quarantined, reasons, synthetic, ingested_at, modified_ns, stat_key) "
                "SELECT * FROM (VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"]
                                                    * len(self.pending_files)) + ")",
                [v for row in self.pending_files for v in row])
            self.pending_files.clear()
        if self.pending_keys:  # files found unchanged by hashing: next time by their key
            self.con.executemany("UPDATE source_files SET stat_key = ? WHERE file_id = ?",
                                 self.pending_keys)
            self.pending_keys.clear()
        if self.pending_months:
            self.con.execute(
                "INSERT INTO file_months SELECT * FROM (VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(self.pending_months)) + ")",
                [v for row in self.pending_months for v in row])
            self.pending_months.clear()

    def forget_lost(self, file_id: int, path: str, problem: str) -> None:
        """A registered file whose rows were lost and which is no longer on disk."""
        self.drop_file(file_id)
        self.outcomes.append(FileOutcome(
            path, "", "failed", error=f"{path}: {problem} and the file is no longer there, so "
            "its rows could not be restored and were removed from the store; download the "
            "file again and ingest it"))

    def drop_file(self, file_id: int) -> None:
        self.flush()
        for table in ("quarantine", "file_months", "source_files"):
            self.con.execute(f"DELETE FROM {table} WHERE file_id = ?", [file_id])
        gone = self.files.pop(file_id, None)
        if gone is not None:
            self.by_path[gone[0]].discard(file_id)
            self.by_sha[gone[1]].discard(file_id)
        self.months = {k: v for k, v in self.months.items() if v != file_id}
        self.replaced.append(self.part(file_id))

    def ingest(self, candidates: list[Candidate], *, progress: bool, workers: int) -> None:
        """Read the candidates in two stages on `workers` threads (:mod:`.parts`): loading
        (read, hash, parse as text) runs up to READ_AHEAD_FILES files ahead, finishing
        (validate, write the part) `workers` + 1 files ahead of the register, which takes the
        outcomes in the candidates' order."""
        known = frozenset(sha for fid, (_, sha, _, _) in self.files.items()
                          if fid not in self.broken) | frozenset(self.superseded)
        loading: deque = deque()  # Read (known unchanged) | (file_id, bytes, Future[Loaded|Read])
        finishing: deque = deque()  # Read | Future[Read]
        queue = iter(candidates)
        ahead = 0  # bytes of the files loading

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            def fill() -> None:
                nonlocal ahead
                while len(loading) < READ_AHEAD_FILES and (ahead < READ_AHEAD_BYTES
                                                           or not loading):
                    candidate = next(queue, None)
                    if candidate is None:
                        return
                    try:
                        info = os.stat(candidate.path)
                    except OSError:
                        info = None  # load_one names the problem
                    unchanged = self._untouched(candidate, info)
                    if unchanged is not None:
                        loading.append(unchanged)
                        continue
                    file_id, size = self.new_file_id(), info.st_size if info else 0
                    ahead += size
                    loading.append((file_id, size, pool.submit(load_one, candidate, known,
                                                               file_id)))

            def advance() -> None:
                nonlocal ahead
                while loading and len(finishing) <= workers:
                    item = loading.popleft()
                    if not isinstance(item, Read):
                        file_id, size, future = item
                        ahead -= size
                        item = future.result()
                        if not isinstance(item, Read):
                            item = pool.submit(finish_one, item, self.part(file_id))
                    finishing.append(item)
                    fill()

            fill()
            bar = _progress_bar(len(candidates)) if progress else None
            try:
                advance()
                while finishing:
                    read = finishing.popleft()
                    read = read if isinstance(read, Read) else read.result()
                    if read.part is not None:
                        self.written.append(read.part)
                    advance()
                    self.register(read)
                    if bar is not None:
                        bar.update()
            finally:
                if bar is not None:
                    bar.close()
        self.flush()

    def _untouched(self, candidate: Candidate, info: os.stat_result | None) -> Read | None:
        """A registered file whose stat key (from `info`, its ``os.stat``) is unchanged: known
        without reading or hashing it (None when it must be read)."""
        if info is None:
            return None
        key = stat_key(info)
        known = self.keys.get((str(candidate.path), key))
        if known is None or known[0] in self.broken:
            return None
        file_id, sha = known
        return Read(candidate, sha, None, None, file_id, self.modified.get(file_id) or 0, key)

    def register(self, read: Read) -> None:
        path, sha = str(read.candidate.path), read.sha
        outcome = self._known_outcome(path, sha)
        if outcome is None and isinstance(read.parsed, Exception):
            outcome = _problem_outcome(read)
        if outcome is None and read.parsed is None:  # known at the start, gone since: read it
            file_id = self.new_file_id()
            read = read_one(read.candidate, frozenset(), self.part(file_id), file_id)
            if read.part is not None:
                self.written.append(read.part)
            outcome = _problem_outcome(read) if isinstance(read.parsed, Exception) else None
        if outcome is None:
            outcome = self._store(read)
            self.seen[sha] = path
        elif outcome.status == "unchanged" and read.stat_key and (
                (path, read.stat_key) not in self.keys):
            self._remember_key(path, sha, read)
        if read.part is not None and outcome.status not in IN_STORE:
            read.part.unlink(missing_ok=True)  # written in vain (known bytes, failed, ...)
        self.outcomes.append(outcome)

    def _remember_key(self, path: str, sha: str, read: Read) -> None:
        """A file found unchanged by hashing gets its stat key, so the next run skips the
        hashing; only when its modification time is the registered one, which decides which
        of two files holding a force-month is the newer (:mod:`.overlaps`)."""
        for file_id in sorted(self.by_path.get(path, ())):
            if self.files[file_id][1] == sha and file_id not in self.broken and (
                    self.modified.get(file_id) == read.modified_ns):
                self.pending_keys.append((read.stat_key, file_id))
                self.keys[(path, read.stat_key)] = (file_id, sha)
                return

    def _known_outcome(self, path: str, sha: str) -> FileOutcome | None:
        if not sha:
            return None
        stored = sorted((fid, self.files[fid]) for fid in self.by_sha.get(sha, ())
                        if fid not in self.broken)
        same = [(fid, f) for fid, f in stored if f[0] == path]
        if same:
            file_id, (_, _, counts, reasons) = same[0]
            outcome = FileOutcome(path, sha, "unchanged", *counts, json.loads(reasons or "{}"))
            self.by_file_id[file_id] = outcome
            return outcome
        if stored:
            return FileOutcome(path, sha, "duplicate",
                               note=f"same content as {stored[0][1][0]}, loaded once")
        if sha in self.seen:
            return FileOutcome(path, sha, "duplicate",
                               note=f"same content as {self.seen[sha]}, loaded once")
        if sha in self.superseded:
            return FileOutcome(path, sha, "superseded", note=self.superseded[sha])
        return None

    def _store(self, read: Read) -> FileOutcome:
        """Register a parsed file (its part is already written) and retire older versions."""
        result, path = read.parsed, str(read.candidate.path)
        previous = [(fid, self.files[fid][1]) for fid in sorted(self.by_path.get(path, ()))]
        for old_id, _ in previous:
            self.drop_file(old_id)
            self.by_file_id.pop(old_id, None)
        status = ("repaired" if previous and all(s == read.sha for _, s in previous)
                  else "replaced" if previous else "loaded")
        counts = (result.rows_read, result.rows_loaded, result.rows_quarantined)
        reasons = json.dumps(result.reasons, sort_keys=True)
        self.pending_files.append((read.file_id, path, read.sha, "police_uk", *counts, reasons,
                                   is_synthetic(path), dt.datetime.now(), read.modified_ns,
                                   read.stat_key))
        self.files[read.file_id] = (path, read.sha, counts, reasons)
        self._index(read.file_id, path, read.sha)
        _store_quarantine(self.con, result.quarantine, read.file_id)
        outcome = FileOutcome(path, read.sha, status, *counts, result.reasons)
        self.by_file_id[read.file_id] = outcome
        clashes = {self.months[(force, month)] for force, month, _ in read.months
                   if (force, month) in self.months}
        self.pending_months.extend((read.file_id, *m) for m in read.months)
        if clashes:
            self.flush()
            self.replacements.extend(overlaps.resolve(self.con, read.file_id, self))
            self.reload()
        else:
            self.months.update({(force, month): read.file_id for force, month, _ in read.months})
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


def _progress_bar(total: int):
    from tqdm.auto import tqdm  # only when a bar is shown: importing it costs a quarter second

    return tqdm(total=total, desc="ingest", unit="file")


def _problem_outcome(read: Read) -> FileOutcome:
    exc, path = read.parsed, str(read.candidate.path)
    if isinstance(exc, NotThisFormat) and not read.candidate.must_be_street:
        return FileOutcome(path, read.sha, "skipped",
                           note="not a police.uk street-level file: its header is not the "
                           "police.uk one")
    problems = getattr(exc, "problems", [])
    return FileOutcome(path, read.sha, "failed",
                       error=str(problems[0]) if len(problems) == 1 else str(exc))


def _store_quarantine(con: duckdb.DuckDBPyConnection, quarantine, file_id: int) -> None:
    if len(quarantine):
        con.register("incoming_q", quarantine.assign(file_id=file_id))
        con.execute('INSERT INTO quarantine SELECT file_id, file, line, "column", reason,'
                    " value FROM incoming_q")
        con.unregister("incoming_q")
