"""Writing the store: reference tables (lookups, population) and victim-level extracts.

Victim extracts are special: no value of them reaches the store except validated fields and
pseudonyms. Their quarantine rows keep file, line, column and reason only (the readers never
return a value), and the store keeps a slow, salted verifier of the pseudonymisation key
(:func:`smp_analysis.pseudonymise.key_verifier`) so that extracts hashed with another key are
refused without making the key cheap to guess.
"""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb

from ..errors import InputError, Problem
from ..sources._csv import sha256_of
from .connection import has_table

# reader functions of smp_analysis.sources.geography, by name: that module (pandera, pandas) is
# imported only when a reference table is loaded
REFERENCE_READERS = {
    "lsoa_lookup": "read_lsoa_lookup",
    "census_population": "read_census_population",
    "ward_lookup": "read_ward_lookup",
    "population_by_year": "read_population_by_year",
    "hospital_admissions": "read_hospital_admissions",
}
VICTIM_READERS = {"incidents": "read_incidents", "marac_referrals": "read_marac_referrals"}


def _sha_or_problem(path: Path) -> str:
    try:
        return sha256_of(path)
    except OSError as exc:
        reason = ("permission denied" if exc.errno in (errno.EACCES, errno.EPERM)
                  else "it is a folder, not a file" if exc.errno == errno.EISDIR
                  else exc.strerror or str(exc))
        raise InputError(Problem(str(path), f"cannot be read: {reason}")) from None


def load_reference(con: duckdb.DuckDBPyConnection, kind: str, path: str | Path) -> bool:
    """Replace reference table `kind` from `path` unless the same bytes are loaded already.

    Returns True when the table was (re)loaded.
    """
    from ..sources import geography
    from .ingest import register_file

    reader = getattr(geography, REFERENCE_READERS[kind])
    path = Path(path).resolve()
    sha = _sha_or_problem(path)
    loaded = con.execute("SELECT sha256 FROM source_files WHERE kind = ?", [kind]).fetchall()
    if loaded == [(sha,)]:
        return False
    frame = reader(path)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM source_files WHERE kind = ?", [kind])
        register_file(con, str(path), sha, kind, (len(frame), len(frame), 0), {})
        con.register("incoming_ref", frame)
        con.execute(f"CREATE OR REPLACE TABLE {kind} AS SELECT * FROM incoming_ref")
        con.unregister("incoming_ref")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return True


def check_store_key(con: duckdb.DuckDBPyConnection, key: bytes, path: Path) -> str | None:
    """Refuse `key` unless it is the store's; returns the verifier to store (None: keep)."""
    from ..pseudonymise import check_key, key_verifier, needs_upgrade, verify_key

    check_key(key)
    con.execute("CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR)")
    stored = con.execute("SELECT value FROM meta WHERE name = 'pseudonym_key'").fetchone()
    if stored is None:
        return key_verifier(key)
    if not verify_key(key, stored[0]):
        raise InputError(Problem(str(path), "this store was built with a different "
                                 "pseudonymisation key; use the same key or a new store"))
    return key_verifier(key) if needs_upgrade(stored[0]) else None


def load_victim_extract(con: duckdb.DuckDBPyConnection, kind: str, path: str | Path,
                        key: bytes):
    """Load a pseudonymised victim-level extract, replacing the previous one of that kind.

    Raw identifiers never reach the store, nor does any value of a quarantined row. Extracts
    hashed with a different key than the store already holds are refused, because their
    pseudonyms would not match; so are keys that are easy to guess.
    """
    from ..sources import victims
    from .ingest import FileOutcome, _store_quarantine, register_file

    path = Path(path).resolve()
    verifier = check_store_key(con, key, path)
    sha = _sha_or_problem(path)
    loaded = con.execute("SELECT file_id, sha256 FROM source_files WHERE kind = ?",
                         [kind]).fetchall()
    if [sha] == [s for _, s in loaded] and has_table(con, kind):
        if verifier is not None:  # an old store's fast fingerprint: replace it
            con.execute("INSERT OR REPLACE INTO meta VALUES ('pseudonym_key', ?)", [verifier])
        return FileOutcome(str(path), sha, "unchanged")
    result = getattr(victims, VICTIM_READERS[kind])(path, key)
    quarantine = result.quarantine.assign(value=None)  # never a victim-level value
    con.execute("BEGIN TRANSACTION")
    try:
        for old_id, _ in loaded:
            con.execute("DELETE FROM quarantine WHERE file_id = ?", [old_id])
            con.execute("DELETE FROM source_files WHERE file_id = ?", [old_id])
        file_id = register_file(con, str(path), sha, kind, (
            result.rows_read, result.rows_loaded, result.rows_quarantined), result.reasons)
        con.register("incoming_victims", result.table)
        con.execute(f"CREATE OR REPLACE TABLE {kind} AS SELECT * FROM incoming_victims")
        con.unregister("incoming_victims")
        _store_quarantine(con, quarantine, file_id)
        # the stored data-quality findings count quarantined rows (see quality.current)
        con.execute("DROP TABLE IF EXISTS anomalies")
        if verifier is not None:
            con.execute("INSERT OR REPLACE INTO meta VALUES ('pseudonym_key', ?)", [verifier])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return FileOutcome(str(path), sha, "replaced" if loaded else "loaded", result.rows_read,
                       result.rows_loaded, result.rows_quarantined, result.reasons)
