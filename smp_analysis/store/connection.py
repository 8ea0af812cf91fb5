"""The embedded DuckDB store: the only package that touches the database.

``connection`` opens a store (creating its schema); :mod:`.ingest` writes (police.uk files,
lookups, victim extracts, in transactions); :mod:`.queries` reads (tidy frames for topics, with
area and period filters pushed into SQL); :mod:`.quality` keeps the data-quality findings;
:mod:`.health` checks and repairs.

Layout: a DuckDB database file ``STORE`` (file register, quarantine, lookups, victim extracts)
and, beside it, ``STORE.parts/`` holding the validated rows of each police.uk file as one
Parquet file named by its ``file_id``. Every connection sees them as the view ``crimes``.
Parquet parts are written by the parsing threads in parallel (DuckDB allows one writer), which
is what makes ingest fast; DuckDB scans them with the same SQL pushdown as a table.

Opening fails with a :class:`~smp_analysis.errors.StoreError` whose message says what to do
when the store is locked by another process, is not a DuckDB file, or is damaged.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from ..categories import category_records
from ..errors import StoreError
from . import memo

SCHEMA = """
CREATE TABLE IF NOT EXISTS source_files (
    file_id INTEGER PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    reasons VARCHAR, synthetic BOOLEAN NOT NULL, ingested_at TIMESTAMP NOT NULL);
ALTER TABLE source_files ADD COLUMN IF NOT EXISTS modified_ns BIGINT;
ALTER TABLE source_files ADD COLUMN IF NOT EXISTS stat_key VARCHAR;
CREATE SEQUENCE IF NOT EXISTS file_ids START 1;
CREATE TABLE IF NOT EXISTS crimes_schema (
    file_id INTEGER NOT NULL, line BIGINT NOT NULL, crime_id VARCHAR, month DATE NOT NULL,
    reported_by VARCHAR, falls_within VARCHAR, longitude DOUBLE, latitude DOUBLE,
    location VARCHAR, lsoa_code VARCHAR, lsoa_name VARCHAR, crime_type VARCHAR NOT NULL,
    last_outcome_category VARCHAR, context VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine (
    file_id INTEGER NOT NULL, file VARCHAR, line BIGINT, "column" VARCHAR, reason VARCHAR,
    value VARCHAR);
CREATE TABLE IF NOT EXISTS crime_categories (
    police_uk_type VARCHAR PRIMARY KEY, harmonised_type VARCHAR, ho_group VARCHAR,
    is_crime BOOLEAN);
CREATE TABLE IF NOT EXISTS file_months (
    file_id INTEGER NOT NULL, force VARCHAR NOT NULL, month DATE NOT NULL, rows BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS superseded_files (
    sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, by_file_id INTEGER NOT NULL,
    force_months VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS replacements (
    force VARCHAR, month DATE, kept VARCHAR, replaced VARCHAR, rows_replaced BIGINT,
    replaced_at TIMESTAMP);
"""
SYNTHETIC_MARKER = ".synthetic-demo"
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def stat_key(info) -> str:
    """What says a file is untouched since it was read: size, modification and change times,
    device and inode. Any write changes the change time (which no program can set back), so a
    registered file with the same key holds the bytes that were hashed, and a run need not read
    it again (``unchanged`` without hashing, which at national scale is most of the time of
    bringing a store up to date).

    >>> from types import SimpleNamespace as S
    >>> stat_key(S(st_size=12, st_mtime_ns=5, st_ctime_ns=6, st_dev=2, st_ino=7))
    '12:5:6:2:7'
    """
    return (f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_dev}:"
            f"{info.st_ino}")


def is_synthetic(path: str | Path) -> bool:
    """True when the file sits below a folder written by the demo generator."""
    path = Path(path).resolve()
    return any((parent / SYNTHETIC_MARKER).exists() for parent in path.parents)


CRIME_COLUMNS = ("file_id, line, crime_id, month, reported_by, falls_within, longitude, "
                 "latitude, location, lsoa_code, lsoa_name, crime_type, last_outcome_category, "
                 "context")


def database_path(con: duckdb.DuckDBPyConnection) -> Path:
    (database,) = con.execute("SELECT path FROM duckdb_databases() "
                              "WHERE database_name = current_database()").fetchone()
    return Path(database)


def parts_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder of Parquet parts beside the database file of `con`."""
    return database_path(con).with_suffix(".parts")


def _part(con: duckdb.DuckDBPyConnection, file_id: int) -> Path:
    return parts_dir(con) / f"{int(file_id)}.parquet"


def part_is_intact(part: Path) -> bool:
    """Cheap check (two 4-byte reads): the file exists and has Parquet's magic at both ends, so
    it was written completely (a truncated or overwritten part fails)."""
    try:
        with open(part, "rb") as f:
            if f.read(4) != b"PAR1":
                return False
            f.seek(-4, os.SEEK_END)
            return f.read(4) == b"PAR1"
    except OSError:
        return False


def broken_parts(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Registered police.uk files whose part is missing or damaged: file_id -> problem."""
    broken = {}
    folder = parts_dir(con)
    for (file_id,) in con.execute("SELECT file_id FROM source_files WHERE kind = 'police_uk' "
                                  "ORDER BY file_id").fetchall():
        part = folder / f"{int(file_id)}.parquet"
        if not part.exists():
            broken[file_id] = "its Parquet part is missing"
        elif not part_is_intact(part):
            broken[file_id] = "its Parquet part is damaged (incomplete)"
    return broken


def _create_crimes_view(con: duckdb.DuckDBPyConnection, *, strict: bool = True) -> None:
    """The view ``crimes`` over every registered part. `strict`: a missing or damaged part is
    an error (reading); otherwise it is left out (ingest repairs it next)."""
    source = _crimes_source(con) if strict else _parts_source(con, strict=False)
    con.execute(f"CREATE OR REPLACE TEMP VIEW crimes AS SELECT {CRIME_COLUMNS} FROM {source}")


@memo.remembered
def _crimes_source(con: duckdb.DuckDBPyConnection) -> str:
    """:func:`_parts_source` of a read-only connection: in a build's workers, checked once per
    store (a store's identity changes with every part written, replaced or removed), not
    once per connection (2,600 parts nationally: a fifth of a second each time). A part
    damaged in place afterwards (truncated by hand) is then not named here: DuckDB's own error
    names the file when a chapter reads it."""
    return _parts_source(con, strict=True)


def _parts_source(con: duckdb.DuckDBPyConnection, *, strict: bool) -> str:
    ids = [i for (i,) in con.execute("SELECT file_id FROM source_files WHERE kind = 'police_uk'"
                                     " ORDER BY file_id").fetchall()]
    broken = broken_parts(con) if ids else {}
    if broken and strict:
        (first, problem), count = next(iter(broken.items())), len(broken)
        path = con.execute("SELECT path FROM source_files WHERE file_id = ?", [first]).fetchone()
        raise StoreError(
            f"the store {database_path(con)} is damaged: {count} police.uk file(s) have lost "
            f"their stored rows (e.g. {path[0]}: {problem}); run `smp store repair --store "
            f"{database_path(con)}` (or `smp ingest police-uk`), which re-reads the files")
    return parts_relation(con, [i for i in ids if i not in broken])


def parts_relation(con: duckdb.DuckDBPyConnection, ids) -> str:
    """SQL reading the parts of the police.uk files `ids` (the empty table of the rows'
    columns when there are none)."""
    folder = parts_dir(con)
    parts = ", ".join(_sql_string(str(folder / f"{int(i)}.parquet")) for i in ids)
    return f"read_parquet([{parts}])" if parts else "crimes_schema"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store at `path`."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"store {path} does not exist; run `smp ingest police-uk` first")
    _check_is_duckdb(path)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of store {path}: "
                             f"{exc.strerror}; choose another --store path") from None
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(open_problem(path, exc)) from None
    try:
        if read_only:
            memo.note_store(con, path)
            _create_crimes_view(con)
            return con
        con.execute(SCHEMA)
        _migrate(con)
        _load_categories(con)
        _remove_orphan_parts(con)
        _create_crimes_view(con, strict=False)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(open_problem(path, exc)) from None
    except BaseException:
        con.close()
        raise
    return con


def _check_is_duckdb(path: Path) -> None:
    """Refuse a file that is not a DuckDB database before DuckDB tries to guess its format
    (it would try to download a reader for SQLite files)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"store {path} is a folder; --store names the database file, e.g. "
                         f"{path / 'smp.duckdb'}") from None
    except OSError as exc:
        raise StoreError(f"store {path} cannot be read: {exc.strerror}") from None
    if not head:
        what = "is an empty file"
    elif head[8:12] != DUCKDB_MAGIC:
        what = "is not a DuckDB database (another kind of file)"
    else:
        return
    raise StoreError(f"store {path} {what}: move it aside (or delete it) and run `smp ingest "
                     "police-uk` to build the store again from the input files")


def open_problem(path: Path, exc: Exception) -> str:
    """One line saying what went wrong opening or using the store, and the fix."""
    text = str(exc)
    lock = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", text)
    if lock or "Could not set lock" in text:
        holder = f" (process {lock.group(2)}, {Path(lock.group(1)).name})" if (
            lock and lock.group(2)) else ""
        return (f"the store {path} is in use by another program{holder}, e.g. a notebook "
                "kernel or another smp run: wait for it to finish, or close it (in Jupyter: "
                "Kernel > Shut Down), then run again")
    if "different configuration" in text:
        return (f"the store {path} is already open in this process in another mode (e.g. a "
                "notebook's read-only connection): close that connection (con.close()) first")
    if "No space left" in text:
        from ..errors import DISK_FULL_FIX

        return f"the disk holding {path} is full: {DISK_FULL_FIX}"
    if "not a valid DuckDB database" in text or "Corrupt database" in text or (
            "Could not read enough bytes" in text) or "checksum" in text:
        return (f"the store {path} is damaged ({text.splitlines()[0][:120]}): move it aside "
                "and run `smp ingest police-uk` to build it again from the input files")
    if "newer version" in text.lower() or "older version" in text.lower() or (
            "version number" in text):
        return (f"the store {path} was written by another DuckDB version: build it again "
                "with `smp ingest police-uk` into a new --store path")
    if "Permission denied" in text or "Read-only file system" in text:
        return (f"the store {path} cannot be written: permission denied or a read-only "
                "folder; choose another --store path or fix the permissions")
    return f"the store {path} cannot be opened: {text.splitlines()[0][:200]}"


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Stores made before the Parquet parts kept crimes in a table: drop it and forget the
    police.uk files, so the next ingest loads them again as parts. Stores made before
    file_months learn which force-months each file holds from its part."""
    kind = con.execute("SELECT table_type FROM information_schema.tables "
                       "WHERE table_name = 'crimes' AND table_schema = 'main'").fetchone()
    if kind is not None and kind[0] == "BASE TABLE":
        con.execute("DROP TABLE crimes")
        con.execute("DELETE FROM quarantine WHERE file_id IN (SELECT file_id FROM source_files "
                    "WHERE kind = 'police_uk')")
        con.execute("DELETE FROM source_files WHERE kind = 'police_uk'")
    unknown = [i for (i,) in con.execute(
        "SELECT file_id FROM source_files s WHERE kind = 'police_uk' AND NOT EXISTS "
        "(SELECT 1 FROM file_months m WHERE m.file_id = s.file_id) ORDER BY file_id").fetchall()]
    parts = [str(_part(con, i)) for i in unknown if part_is_intact(_part(con, i))]
    if parts:
        con.execute(
            "INSERT INTO file_months SELECT file_id, coalesce(reported_by, falls_within, ''), "
            f"month, count(*) FROM read_parquet([{', '.join(_sql_string(p) for p in parts)}]) "
            "GROUP BY ALL")
    for file_id, path in con.execute("SELECT file_id, path FROM source_files WHERE kind = "
                                     "'police_uk' AND modified_ns IS NULL").fetchall():
        try:
            modified = os.stat(path).st_mtime_ns
        except OSError:
            modified = 0
        con.execute("UPDATE source_files SET modified_ns = ? WHERE file_id = ?",
                    [modified, file_id])


def _remove_orphan_parts(con: duckdb.DuckDBPyConnection) -> None:
    """Delete parts no registered file points to (left by a run that failed)."""
    folder = parts_dir(con)
    if not folder.is_dir():
        return
    keep = {f"{i}.parquet" for (i,) in con.execute(
        "SELECT file_id FROM source_files WHERE kind = 'police_uk'").fetchall()}
    for part in folder.iterdir():
        if part.name not in keep and part.is_file():
            part.unlink(missing_ok=True)


def _load_categories(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM crime_categories")
    rows = [(r["police_uk_type"], r["harmonised_type"], r["ho_group"],
             {"true": True, "false": False}.get(r["is_crime"])) for r in category_records()]
    con.execute("INSERT INTO crime_categories VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(rows)), [v for row in rows for v in row])


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()[0])
