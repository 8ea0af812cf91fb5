"""One force-month, one file: which file's rows the store keeps when two files hold the same
force and month.

A police.uk street file holds one force (``Reported by``) and one month, but the same
force-month can arrive twice: downloaded again after police.uk republished it (outcomes are
updated for months), kept in two folders, renamed, or gzipped. Loading both would count every
crime twice, so the store records which force-months each file holds (table ``file_months``)
and keeps each force-month from one file only.

**Newer wins.** Of two files holding a force-month, the *newer* is the one modified later (the
file's modification time, which a download sets); when both times are equal, the one whose full
path sorts later. The rule depends only on the files, never on the order they are given in, so
repeated runs keep the same file. The older file's rows for that force-month are dropped: the
whole file when it holds nothing else (it is reported as ``superseded``), only those rows when
it also holds other force-months. Each replacement is reported by ``smp ingest`` and kept in
the table ``replacements``.

A file whose force-months are all held by a newer file is remembered (``superseded_files``), so
later runs skip it without parsing it again, for as long as the newer file stays in the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .connection import _part


@dataclass
class Replacement:
    force: str
    month: str  # YYYY-MM
    kept: str  # path of the file whose rows are kept
    replaced: str  # path of the file whose rows for this force-month were dropped
    rows_replaced: int
    why: str


@dataclass(frozen=True)
class _File:
    file_id: int
    path: str
    sha: str
    modified_ns: int

    @property
    def order(self) -> tuple[int, str]:
        return (self.modified_ns or 0, self.path)

    @property
    def modified(self) -> str:
        if not self.modified_ns:
            return "unknown time"
        return f"{dt.datetime.fromtimestamp(self.modified_ns / 1e9):%Y-%m-%d %H:%M:%S}"


def months_of(table: pa.Table) -> list[tuple[str, dt.date, int]]:
    """(force, month, rows) of a parsed file's valid rows; the force is ``Reported by`` (or
    ``Falls within`` when that is empty)."""
    if table.num_rows == 0:
        return []
    reported = table["reported_by"]
    force = pc.if_else(pc.equal(reported, ""), table["falls_within"], reported)
    month = table["month"]
    # the usual file: one force, one month (two cheap comparisons instead of a group-by)
    if (pc.all(pc.equal(force, force[0])).as_py() and pc.all(pc.equal(month, month[0])).as_py()
            and force[0].is_valid):
        return [(force[0].as_py(), month[0].as_py(), table.num_rows)]
    grouped = pa.table({"force": pc.fill_null(force, ""), "month": table["month"]}).group_by(
        ["force", "month"]).aggregate([([], "count_all")])
    return list(zip(grouped["force"].to_pylist(), grouped["month"].to_pylist(),
                    grouped["count_all"].to_pylist(), strict=True))


def record_months(con: duckdb.DuckDBPyConnection, file_id: int,
                  months: list[tuple[str, dt.date, int]]) -> None:
    if months:
        con.executemany("INSERT INTO file_months VALUES (?, ?, ?, ?)",
                        [(file_id, force, month, rows) for force, month, rows in months])


def superseded_notes(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(sha256, note) of contents wholly held by a newer file that is still in the store."""
    con.execute("DELETE FROM superseded_files WHERE by_file_id NOT IN "
                "(SELECT file_id FROM source_files)")
    return [(sha, f"{months} is held from the newer file {path}, so this file was not loaded")
            for sha, months, path in con.execute(
                "SELECT s.sha256, any_value(s.force_months), any_value(f.path) "
                "FROM superseded_files s JOIN source_files f ON f.file_id = s.by_file_id "
                "GROUP BY s.sha256").fetchall()]


def resolve(con: duckdb.DuckDBPyConnection, file_id: int, run) -> list[Replacement]:
    """Make every force-month of `file_id` come from one file (newer wins)."""
    done: list[Replacement] = []
    while file_id is not None:
        other = con.execute(
            "SELECT o.file_id FROM file_months o JOIN file_months n USING (force, month) "
            "WHERE n.file_id = ? AND o.file_id <> ? ORDER BY o.file_id LIMIT 1",
            [file_id, file_id]).fetchone()
        if other is None:
            break
        new, old = _info(con, file_id), _info(con, other[0])
        winner, loser = (new, old) if new.order > old.order else (old, new)
        shared = con.execute(
            "SELECT l.force, l.month, l.rows FROM file_months l JOIN file_months w "
            "USING (force, month) WHERE l.file_id = ? AND w.file_id = ? ORDER BY ALL",
            [loser.file_id, winner.file_id]).fetchall()
        remaining = _drop_months(con, loser, winner, shared, run, done)
        if loser.file_id == file_id:
            file_id = remaining
    return done


def resolve_all(con: duckdb.DuckDBPyConnection, run) -> list[Replacement]:
    """Resolve force-months stored twice by earlier versions (before this rule existed)."""
    ids = [i for (i,) in con.execute(
        "SELECT DISTINCT a.file_id FROM file_months a JOIN file_months b USING (force, month) "
        "WHERE a.file_id <> b.file_id ORDER BY 1").fetchall()]
    done: list[Replacement] = []
    for file_id in ids:
        if con.execute("SELECT 1 FROM source_files WHERE file_id = ?", [file_id]).fetchone():
            done.extend(resolve(con, file_id, run))
    return done


def _info(con: duckdb.DuckDBPyConnection, file_id: int) -> _File:
    path, sha, modified = con.execute(
        "SELECT path, sha256, modified_ns FROM source_files WHERE file_id = ?",
        [file_id]).fetchone()
    return _File(file_id, path, sha, modified or 0)


def _why(winner: _File, loser: _File) -> str:
    if winner.modified_ns != loser.modified_ns:
        return (f"kept the newer file (modified {winner.modified}; the other {loser.modified})")
    return (f"both files were modified at {winner.modified}; kept the one whose path sorts "
            "later")


def _drop_months(con, loser: _File, winner: _File, shared, run,
                 done: list[Replacement]) -> int | None:
    """Drop `shared` force-months from `loser`; returns its file id afterwards (None when
    nothing is left of it)."""
    why = _why(winner, loser)
    labels = ", ".join(f"{force} {month:%Y-%m}" for force, month, _ in shared)
    for force, month, rows in shared:
        done.append(Replacement(force, f"{month:%Y-%m}", winner.path, loser.path, rows, why))
        con.execute("INSERT INTO replacements VALUES (?, ?, ?, ?, ?, ?)",
                    [force, month, winner.path, loser.path, rows, dt.datetime.now()])
    total = con.execute("SELECT count(*) FROM file_months WHERE file_id = ?",
                        [loser.file_id]).fetchone()[0]
    note = (f"{labels} is held from the newer file {winner.path} ({why}), so this file's rows "
            "for it were not kept")
    if total == len(shared):
        run.drop_file(loser.file_id)
        con.execute("INSERT INTO superseded_files VALUES (?, ?, ?, ?)",
                    [loser.sha, loser.path, winner.file_id, labels])
        run.file_superseded(loser.file_id, loser.path, note)
        return None
    return _trim(con, loser, shared, run, note)


def _trim(con, loser: _File, shared, run, note: str) -> int:
    """Rewrite a file's part without some force-months, under a new file id (the old part stays
    valid until the run commits, so a failed run still leaves the store as it was)."""
    import pyarrow.parquet as pq

    from .parts import write_part

    table = pq.read_table(_part(con, loser.file_id))
    reported = table["reported_by"]
    force = pc.fill_null(pc.if_else(pc.equal(reported, ""), table["falls_within"], reported), "")
    drop = pa.array([False] * table.num_rows)
    for name, month, _ in shared:
        drop = pc.or_(drop, pc.and_(pc.equal(force, name), pc.equal(table["month"], month)))
    kept = table.filter(pc.invert(drop))
    rows = table.num_rows - kept.num_rows
    new_id = run.new_file_id()
    kept = kept.set_column(kept.schema.get_field_index("file_id"), "file_id",
                           pa.array([new_id] * kept.num_rows, pa.int32()))
    write_part(kept, _part(con, new_id))
    run.written.append(_part(con, new_id))
    con.execute("INSERT INTO source_files SELECT ? AS file_id, * EXCLUDE (file_id) "
                "FROM source_files WHERE file_id = ?", [new_id, loser.file_id])
    con.execute("UPDATE source_files SET rows_read = rows_read - ?, rows_loaded = rows_loaded - ? "
                "WHERE file_id = ?", [rows, rows, new_id])
    for table_name in ("quarantine", "file_months"):
        con.execute(f"UPDATE {table_name} SET file_id = ? WHERE file_id = ?",
                    [new_id, loser.file_id])
    for name, month, _ in shared:
        con.execute("DELETE FROM file_months WHERE file_id = ? AND force = ? AND month = ?",
                    [new_id, name, month])
    con.execute("DELETE FROM source_files WHERE file_id = ?", [loser.file_id])
    run.replaced.append(_part(con, loser.file_id))
    run.file_trimmed(loser.file_id, new_id, rows, note)
    return new_id


def out_of_range(con: duckdb.DuckDBPyConnection) -> dict[int, list[tuple[str, dt.date, int]]]:
    """Force-months dated in the future or before 2000, by file: stored by versions that did
    not quarantine such rows (they broke every later step)."""
    from ..sources.police_uk import EARLIEST_MONTH, latest_month

    found: dict[int, list] = {}
    for file_id, force, month, rows in con.execute(
            "SELECT file_id, force, month, rows FROM file_months WHERE month > ?::DATE "
            "OR month < ?::DATE ORDER BY ALL",
            [f"{latest_month()}-01", f"{EARLIEST_MONTH}-01"]).fetchall():
        found.setdefault(file_id, []).append((force, month, rows))
    return found


def drop_bad_months(con: duckdb.DuckDBPyConnection, file_id: int, months, run) -> str:
    """Remove a gone file's rows of impossible months; returns the note for the report."""
    loser = _info(con, file_id)
    labels = ", ".join(f"{month:%Y-%m}" for _, month, _ in months)
    rows = sum(r for _, _, r in months)
    note = (f"{rows:,} stored row(s) dated {labels} (impossible months) were removed; the file "
            "is no longer there to be read again")
    total = con.execute("SELECT count(*) FROM file_months WHERE file_id = ?",
                        [file_id]).fetchone()[0]
    if total == len(months):
        run.drop_file(file_id)
    else:
        _trim(con, loser, months, run, note)
    return note
