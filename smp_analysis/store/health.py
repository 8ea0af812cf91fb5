"""Checking and repairing a store (``smp store check``, ``smp store repair``).

A store can be damaged from outside: a Parquet part deleted or truncated (a disk clean-up, a
sync tool, a full disk), the database file replaced or corrupted. Check finds every such
problem; repair re-reads each registered file whose part is missing or damaged, when the file
is still at its path with the same content, and says what it could not repair (those rows are
removed from the store, so the other rows can be used, and the report names the files to
download again). `smp ingest` does the same repair on its way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import StoreError
from ..sources._csv import read_input
from .connection import _part, connect, has_table, part_is_intact, parts_dir


@dataclass(frozen=True)
class Finding:
    level: str  # problem | note
    message: str


def check(path: str | Path) -> list[Finding]:
    """Every problem of the store at `path` (raises StoreError when it cannot be opened)."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"store {path} does not exist; run `smp ingest police-uk` first")
    try:
        con = connect(path, read_only=True)
    except StoreError as exc:
        if "lost their stored rows" not in str(exc):
            raise
        con = duckdb.connect(str(path), read_only=True)
    try:
        return [*_tables(con), *_parts(con), *_sources(con), *_overlaps(con), *_months(con),
                *_key(con)]
    finally:
        con.close()


def repair(path: str | Path):
    """Re-read the files whose parts are missing or damaged (see the module docstring)."""
    from . import quality
    from .ingest import ingest_police_uk

    con = connect(path)
    try:
        report = ingest_police_uk(con, [], repair_only=True)
        if report.files or report.replacements or not has_table(con, "anomalies"):
            quality.refresh(con)
    finally:
        con.close()
    return report


def _tables(con) -> list[Finding]:
    found = []
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
        try:
            con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        except duckdb.Error as exc:
            found.append(Finding("problem", f"table {name} cannot be read ({exc}); move the "
                                 "store aside and ingest again"))
    return found


def _parts(con) -> list[Finding]:
    import pyarrow.parquet as pq

    found = []
    registered = con.execute("SELECT file_id, path, rows_loaded FROM source_files "
                             "WHERE kind = 'police_uk' ORDER BY file_id").fetchall()
    for file_id, source, rows in registered:
        part = _part(con, file_id)
        problem = None
        if not part.exists():
            problem = "its stored rows (Parquet part) are missing"
        elif not part_is_intact(part):
            problem = "its stored rows (Parquet part) are damaged"
        else:
            try:
                stored = pq.read_metadata(part).num_rows
            except Exception as exc:  # noqa: BLE001 - any unreadable part is a finding
                problem = f"its stored rows (Parquet part) cannot be read ({exc})"
            else:
                if stored != rows:
                    problem = f"its Parquet part holds {stored:,} rows, the register {rows:,}"
        if problem:
            found.append(Finding("problem", f"{source}: {problem}; `smp store repair` re-reads "
                                 "the file"))
    folder = parts_dir(con)
    keep = {f"{i}.parquet" for i, _, _ in registered}
    orphans = [p for p in folder.iterdir() if p.name not in keep] if folder.is_dir() else []
    if orphans:
        found.append(Finding("note", f"{len(orphans)} file(s) in {folder} belong to no "
                             "registered file (left by an interrupted run); the next ingest "
                             "removes them"))
    return found


def _sources(con) -> list[Finding]:
    import hashlib

    found = []
    for source, sha, modified in con.execute(
            "SELECT path, sha256, modified_ns FROM source_files WHERE kind = 'police_uk' "
            "ORDER BY path").fetchall() if _has_column(con, "modified_ns") else []:
        try:
            now = os.stat(source).st_mtime_ns
        except OSError:
            found.append(Finding("note", f"{source} is no longer there; the store keeps its "
                                 "rows"))
            continue
        if now != modified:
            try:
                changed = hashlib.sha256(read_input(source)).hexdigest() != sha
            except Exception:  # noqa: BLE001 - unreadable now: the ingest will say why
                changed = True
            if changed:
                found.append(Finding("note", f"{source} has changed since it was loaded; "
                                     "`smp ingest police-uk` loads the new version"))
    return found


def _overlaps(con) -> list[Finding]:
    if not has_table(con, "file_months"):
        return []
    twice = con.execute(
        "SELECT force, month, count(*) FROM file_months GROUP BY ALL HAVING count(*) > 1 "
        "ORDER BY ALL").fetchall()
    return [Finding("problem", f"{force} {month:%Y-%m} is stored from {n} files; `smp ingest "
                    "police-uk` keeps the newer file only") for force, month, n in twice]


def _months(con) -> list[Finding]:
    from ..sources.police_uk import EARLIEST_MONTH, latest_month

    try:
        rows = con.execute(
            "SELECT any_value(s.path), string_agg(DISTINCT strftime(c.month, '%Y-%m'), ', ') "
            "FROM crimes c JOIN source_files s USING (file_id) WHERE c.month > ?::DATE OR "
            "c.month < ?::DATE GROUP BY c.file_id ORDER BY 1",
            [f"{latest_month()}-01", f"{EARLIEST_MONTH}-01"]).fetchall()
    except duckdb.Error:  # parts unreadable: reported by _parts
        return []
    return [Finding("problem", f"{source}: holds rows dated {dated} (in the future or before "
                    "2000), which later steps cannot use; `smp store repair` reads the file "
                    "again (such rows are quarantined now) or removes them when the file is "
                    "gone") for source, dated in rows]


def _key(con) -> list[Finding]:
    from ..pseudonymise import needs_upgrade

    if not has_table(con, "meta"):
        return []
    row = con.execute("SELECT value FROM meta WHERE name = 'pseudonym_key'").fetchone()
    if row is not None and needs_upgrade(row[0]):
        return [Finding("note", "the store keeps a fast fingerprint of the pseudonymisation "
                        "key (made by an older version); the next victim-extract ingest "
                        "replaces it by a slow salted verifier")]
    return []


def _has_column(con, column: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE "
                            "table_name = 'source_files' AND column_name = ?",
                            [column]).fetchone()[0])
