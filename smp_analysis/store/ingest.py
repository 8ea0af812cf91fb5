"""Writing the store: police.uk files, reference tables and victim extracts.

Identity of an input file is its SHA-256: re-ingesting an unchanged file is a no-op, the same
bytes under another path are not loaded twice, and a changed file replaces its old rows. A run
is one transaction: new parts only become visible when the register commits, replaced parts
are deleted after it, and a failed run leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from ..errors import InputError, Problem
from ..sources import geography
from ..sources._csv import sha256_of
from ..sources.police_uk import find_street_files, parse_street_csv
from .connection import _create_crimes_view, _part, has_table, is_synthetic, parts_dir


@dataclass
class FileOutcome:
    path: str
    sha256: str
    status: str  # loaded | replaced | unchanged | duplicate | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class IngestReport:
    files: list[FileOutcome]

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    def totals(self) -> dict[str, int]:
        return {key: sum(getattr(f, key) for f in self.files)
                for key in ("rows_read", "rows_loaded", "rows_quarantined")}

    def to_json(self) -> dict:
        """The ``files`` part of ingest-report.json (unchanged files carry their counts from
        the run that loaded them; duplicates and failures carry none)."""
        keys = ("path", "sha256", "status", "rows_read", "rows_loaded", "rows_quarantined",
                "reasons", "error")
        return {"files": [{k: asdict(f)[k] for k in keys} for f in self.files]}



def _register_file(con, path: str, sha: str, kind: str, counts: tuple[int, int, int],
                   reasons: dict[str, int], file_id: int | None = None) -> int:
    if file_id is None:
        file_id = con.execute("SELECT nextval('file_ids')").fetchone()[0]
    con.execute(
        "INSERT INTO source_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file_id, path, sha, kind, *counts, json.dumps(reasons, sort_keys=True),
         is_synthetic(path), dt.datetime.now()],
    )
    return file_id


def ingest_police_uk(con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], *,
                     progress: bool = False, workers: int = 2) -> IngestReport:
    """Load street-level CSVs (files or folders) into the store, incrementally.

    Files are read, hashed, validated and written as Parquet parts by `workers` threads a couple
    of files ahead of the register (pyarrow and hashlib release the GIL), so memory stays flat
    however many files there are. The run is one transaction (see the module docstring).
    """
    files = find_street_files([Path(p) for p in paths])
    known = {sha: (path, counts) for sha, path, *counts in con.execute(
        "SELECT sha256, path, rows_read, rows_loaded, rows_quarantined, reasons "
        "FROM source_files WHERE kind = 'police_uk'").fetchall()}
    outcomes: list[FileOutcome] = []
    seen: dict[str, str] = {}
    written: list[Path] = []  # parts of this run
    replaced: list[Path] = []  # parts of files this run replaces
    parts_dir(con).mkdir(parents=True, exist_ok=True)
    # One transaction per run: a changed file's old rows are replaced atomically, and a run
    # that fails part-way leaves the store exactly as it was.
    con.execute("BEGIN TRANSACTION")
    try:
        _ingest_files(con, files, known, seen, outcomes, written, replaced,
                      progress=progress, workers=workers)
    except BaseException:
        con.execute("ROLLBACK")
        for part in written:
            part.unlink(missing_ok=True)
        raise
    if any(o.status in ("loaded", "replaced") for o in outcomes):
        # stored data-quality findings describe the old contents (see quality.refresh)
        con.execute("DROP TABLE IF EXISTS anomalies")
    con.execute("COMMIT")
    for part in replaced:
        part.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    _create_crimes_view(con)
    return IngestReport(outcomes)


def _ingest_files(con, files, known, seen, outcomes, written, replaced, *, progress,
                  workers) -> None:
    hashes = frozenset(known)

    def submit(path: Path):
        file_id = con.execute("SELECT nextval('file_ids')").fetchone()[0]
        return pool.submit(_read_one, path, hashes, _part(con, file_id), file_id)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque = deque()
        queue = iter(files)
        for path in queue:
            pending.append(submit(path))
            if len(pending) > workers:
                break
        with tqdm(total=len(files), desc="ingest", unit="file", disable=not progress) as bar:
            while pending:
                path, sha, parsed, part, file_id = pending.popleft().result()
                if part is not None:
                    written.append(part)
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(submit(nxt))
                if sha in known:
                    stored_path, (read, loaded, quarantined, reasons) = known[sha]
                    if stored_path == str(path):
                        outcomes.append(FileOutcome(str(path), sha, "unchanged", read, loaded,
                                                    quarantined, json.loads(reasons or "{}")))
                    else:
                        outcomes.append(FileOutcome(str(path), sha, "duplicate"))
                elif sha in seen:
                    outcomes.append(FileOutcome(str(path), sha, "duplicate"))
                elif isinstance(parsed, InputError):
                    outcomes.append(FileOutcome(str(path), sha, "failed", error=str(parsed)))
                else:
                    outcomes.append(_store_one(con, path, parsed, file_id, replaced))
                    seen[sha] = str(path)
                if part is not None and (sha in known or outcomes[-1].status in (
                        "duplicate", "failed")):
                    part.unlink(missing_ok=True)  # written in vain (same bytes seen twice)
                bar.update()


PART_DICTIONARY_COLUMNS = ["month", "reported_by", "falls_within", "crime_type",
                           "last_outcome_category", "lsoa_code", "lsoa_name", "context", "file_id"]


def _read_one(path: Path, known: frozenset[str], part: Path, file_id: int):
    """Worker: read, hash, validate, and write the file's rows as a Parquet part."""
    import pyarrow.parquet as pq

    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if sha in known:
        return path, sha, None, None, file_id
    try:
        result = parse_street_csv(path, data, sha)
    except InputError as exc:
        return path, sha, exc, None, file_id
    rows = result.table.append_column("file_id", pa.array(
        np.full(result.table.num_rows, file_id, dtype=np.int32)))
    tmp = part.with_suffix(".tmp")
    # lz4, dictionary encoding only for the repetitive text columns and statistics only where
    # queries filter (month, file): the cheapest write we measured; parts are ~35 MB per
    # 500,000 rows
    pq.write_table(rows, tmp, compression="lz4",
                   use_dictionary=PART_DICTIONARY_COLUMNS, write_statistics=["month", "file_id"])
    tmp.replace(part)
    return path, sha, result, part, file_id


def _store_one(con: duckdb.DuckDBPyConnection, path: Path, result, file_id: int,
               replaced: list[Path]) -> FileOutcome:
    """Register a parsed file (its part is already written) and retire an older version."""
    previous = con.execute(
        "SELECT file_id FROM source_files WHERE path = ? AND kind = 'police_uk'", [str(path)]
    ).fetchall()
    for (old_id,) in previous:
        for table in ("quarantine", "source_files"):
            con.execute(f"DELETE FROM {table} WHERE file_id = ?", [old_id])
        replaced.append(_part(con, old_id))
    _register_file(con, str(path), result.sha256, "police_uk",
                   (result.rows_read, result.rows_loaded, result.rows_quarantined),
                   result.reasons, file_id=file_id)
    _store_quarantine(con, result.quarantine, file_id)
    return FileOutcome(str(path), result.sha256, "replaced" if previous else "loaded",
                       result.rows_read, result.rows_loaded, result.rows_quarantined,
                       result.reasons)


def _store_quarantine(con: duckdb.DuckDBPyConnection, quarantine: pd.DataFrame,
                      file_id: int) -> None:
    if len(quarantine):
        con.register("incoming_q", quarantine.assign(file_id=file_id))
        con.execute('INSERT INTO quarantine SELECT file_id, file, line, "column", reason,'
                    " value FROM incoming_q")
        con.unregister("incoming_q")


REFERENCE_READERS = {
    "lsoa_lookup": geography.read_lsoa_lookup,
    "census_population": geography.read_census_population,
    "ward_lookup": geography.read_ward_lookup,
    "population_by_year": geography.read_population_by_year,
    "hospital_admissions": geography.read_hospital_admissions,
}


def load_reference(con: duckdb.DuckDBPyConnection, kind: str, path: str | Path) -> bool:
    """Replace reference table `kind` from `path` unless the same bytes are loaded already.

    Returns True when the table was (re)loaded.
    """
    reader = REFERENCE_READERS[kind]
    path = Path(path).resolve()
    sha = sha256_of(path)
    loaded = con.execute("SELECT sha256 FROM source_files WHERE kind = ?", [kind]).fetchall()
    if loaded == [(sha,)]:
        return False
    frame = reader(path)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM source_files WHERE kind = ?", [kind])
        _register_file(con, str(path), sha, kind, (len(frame), len(frame), 0), {})
        con.register("incoming_ref", frame)
        con.execute(f"CREATE OR REPLACE TABLE {kind} AS SELECT * FROM incoming_ref")
        con.unregister("incoming_ref")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return True


VICTIM_READERS = {"incidents": "read_incidents", "marac_referrals": "read_marac_referrals"}


def load_victim_extract(con: duckdb.DuckDBPyConnection, kind: str, path: str | Path,
                        key: bytes) -> FileOutcome:
    """Load a pseudonymised victim-level extract, replacing the previous one of that kind.

    Raw identifiers never reach the store. Extracts hashed with a different key than the store
    already holds are refused, because their pseudonyms would not match.
    """
    from ..pseudonymise import fingerprint
    from ..sources import victims

    path = Path(path).resolve()
    sha = sha256_of(path)
    con.execute("CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR)")
    stored = con.execute("SELECT value FROM meta WHERE name = 'pseudonym_key'").fetchone()
    if stored is not None and stored[0] != fingerprint(key):
        raise InputError(Problem(str(path), "this store was built with a different "
                                 "pseudonymisation key; use the same key or a new store"))
    loaded = con.execute("SELECT file_id, sha256 FROM source_files WHERE kind = ?",
                         [kind]).fetchall()
    if [sha] == [s for _, s in loaded] and has_table(con, kind):
        return FileOutcome(str(path), sha, "unchanged")
    result = getattr(victims, VICTIM_READERS[kind])(path, key)
    con.execute("BEGIN TRANSACTION")
    try:
        for (old_id,) in [(f,) for f, _ in loaded]:
            con.execute("DELETE FROM quarantine WHERE file_id = ?", [old_id])
            con.execute("DELETE FROM source_files WHERE file_id = ?", [old_id])
        file_id = _register_file(con, str(path), sha, kind, (
            result.rows_read, result.rows_loaded, result.rows_quarantined), result.reasons)
        con.register("incoming_victims", result.table)
        con.execute(f"CREATE OR REPLACE TABLE {kind} AS SELECT * FROM incoming_victims")
        con.unregister("incoming_victims")
        _store_quarantine(con, result.quarantine, file_id)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('pseudonym_key', ?)",
                    [fingerprint(key)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return FileOutcome(str(path), sha, "replaced" if loaded else "loaded", result.rows_read,
                       result.rows_loaded, result.rows_quarantined, result.reasons)




# ---------------------------------------------------------------- boundaries (maps)
BOUNDARY_LOOKUPS = {"lsoa": ("lsoa_lookup", "lsoa_code", "data.lsoa_lookup"),
                    "ward": ("ward_lookup", "ward_code", "data.ward_lookup")}


def load_boundaries(con: duckdb.DuckDBPyConnection, level: str, path: str | Path, *,
                    code_column: str | None = None, force: bool = False) -> FileOutcome:
    """Load a ward or LSOA boundary file into the table ``boundaries`` (level, code, name,
    geometry as WKB in British National Grid), replacing that level's previous file.

    Boundaries are kept in the store, not read at report time, so an appendix depends only on
    the store (the file may move or change afterwards), the file is validated and converted
    once, and only the areas the lookup knows are kept (a national boundary file shrinks to
    the lookup's areas). Features whose code is not in the lookup (other areas, or another
    census year's codes) are counted in the register, not loaded; a file none of whose codes
    match is refused. `force` reloads an unchanged file (after the lookup changed).
    """
    from ..sources.boundaries import read_boundaries

    table, column, param = BOUNDARY_LOOKUPS[level]
    kind = f"{level}_boundaries"
    path = Path(path).resolve()
    sha = sha256_of(path)
    loaded = con.execute("SELECT sha256 FROM source_files WHERE kind = ?", [kind]).fetchall()
    if loaded == [(sha,)] and not force and has_table(con, "boundaries"):
        return FileOutcome(str(path), sha, "unchanged")
    if not has_table(con, table):
        raise InputError(Problem(str(path), f"{level} boundaries need the {level} lookup "
                                 f"({param}) to check their codes; add it to params"))
    boundary = read_boundaries(path, level, code_column=code_column)
    frame = boundary.frame
    known = {c for (c,) in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
    matched = frame["code"].isin(known).to_numpy()
    if not matched.any():
        example = frame["code"].iloc[0]
        raise InputError(Problem(str(path), f"none of the {len(frame)} codes in column "
                                 f"{boundary.code_column!r} (e.g. {example}) is in the {level} "
                                 f"lookup ({param}): is the file for another level or census "
                                 "year (2011 and 2021 LSOA codes differ)?"))
    kept = frame[matched]
    reasons = {}
    if (~matched).any():
        reasons[f"code not in the {level} lookup (not loaded)"] = int((~matched).sum())
    if boundary.repaired:
        reasons["invalid polygon repaired"] = boundary.repaired
    rows = pd.DataFrame({"level": level, "code": kept["code"].to_numpy(),
                         "name": kept["name"].to_numpy(),
                         "geometry": [g.wkb for g in kept.geometry]})
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE TABLE IF NOT EXISTS boundaries (level VARCHAR NOT NULL, "
                    "code VARCHAR NOT NULL, name VARCHAR, geometry BLOB NOT NULL)")
        con.execute("DELETE FROM boundaries WHERE level = ?", [level])
        con.execute("DELETE FROM source_files WHERE kind = ?", [kind])
        _register_file(con, str(path), sha, kind,
                       (len(frame), len(kept), int((~matched).sum())), reasons)
        con.register("incoming_boundaries", rows)
        con.execute("INSERT INTO boundaries SELECT level, code, name, geometry "
                    "FROM incoming_boundaries")
        con.unregister("incoming_boundaries")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return FileOutcome(str(path), sha, "replaced" if loaded else "loaded", len(frame),
                       len(kept), int((~matched).sum()), reasons)
