"""The embedded DuckDB store: the only package that touches the database.

``connection`` opens a store (creating its schema); :mod:`.ingest` writes (police.uk files,
lookups, victim extracts, in transactions); :mod:`.queries` reads (tidy frames for topics, with
area and period filters pushed into SQL); :mod:`.quality` keeps the data-quality findings.

Layout: a DuckDB database file ``STORE`` (file register, quarantine, lookups, victim extracts)
and, beside it, ``STORE.parts/`` holding the validated rows of each police.uk file as one
Parquet file named by its ``file_id``. Every connection sees them as the view ``crimes``.
Parquet parts are written by the parsing threads in parallel (DuckDB allows one writer), which
is what makes ingest fast; DuckDB scans them with the same SQL pushdown as a table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..categories import category_table

SCHEMA = """
CREATE TABLE IF NOT EXISTS source_files (
    file_id INTEGER PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    reasons VARCHAR, synthetic BOOLEAN NOT NULL, ingested_at TIMESTAMP NOT NULL);
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
"""
SYNTHETIC_MARKER = ".synthetic-demo"


def is_synthetic(path: str | Path) -> bool:
    """True when the file sits below a folder written by the demo generator."""
    path = Path(path).resolve()
    return any((parent / SYNTHETIC_MARKER).exists() for parent in path.parents)



CRIME_COLUMNS = ("file_id, line, crime_id, month, reported_by, falls_within, longitude, "
                 "latitude, location, lsoa_code, lsoa_name, crime_type, last_outcome_category, "
                 "context")


def parts_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder of Parquet parts beside the database file of `con`."""
    (database,) = con.execute("SELECT path FROM duckdb_databases() "
                              "WHERE database_name = current_database()").fetchone()
    return Path(database).with_suffix(".parts")


def _part(con: duckdb.DuckDBPyConnection, file_id: int) -> Path:
    return parts_dir(con) / f"{int(file_id)}.parquet"


def _create_crimes_view(con: duckdb.DuckDBPyConnection) -> None:
    ids = [i for (i,) in con.execute("SELECT file_id FROM source_files WHERE kind = 'police_uk'"
                                     " ORDER BY file_id").fetchall()]
    parts = [str(_part(con, i)) for i in ids]
    missing = [p for p in parts if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"the store's parts are incomplete ({len(missing)} missing, "
                                f"e.g. {missing[0]}); re-run `smp ingest police-uk`")
    source = (f"read_parquet([{', '.join(repr(p) for p in parts)}])" if parts
              else "crimes_schema")
    con.execute(f"CREATE OR REPLACE TEMP VIEW crimes AS SELECT {CRIME_COLUMNS} FROM {source}")


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store at `path`."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"store {path} does not exist; run `smp ingest` first")
        con = duckdb.connect(str(path), read_only=True)
        _create_crimes_view(con)
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(SCHEMA)
    _migrate(con)
    _load_categories(con)
    _remove_orphan_parts(con)
    _create_crimes_view(con)
    return con


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Stores made before the Parquet parts kept crimes in a table: drop it and forget the
    police.uk files, so the next ingest loads them again as parts."""
    kind = con.execute("SELECT table_type FROM information_schema.tables "
                       "WHERE table_name = 'crimes' AND table_schema = 'main'").fetchone()
    if kind is not None and kind[0] == "BASE TABLE":
        con.execute("DROP TABLE crimes")
        con.execute("DELETE FROM quarantine WHERE file_id IN (SELECT file_id FROM source_files "
                    "WHERE kind = 'police_uk')")
        con.execute("DELETE FROM source_files WHERE kind = 'police_uk'")


def _remove_orphan_parts(con: duckdb.DuckDBPyConnection) -> None:
    """Delete parts no registered file points to (left by a run that failed)."""
    folder = parts_dir(con)
    if not folder.is_dir():
        return
    keep = {f"{i}.parquet" for (i,) in con.execute(
        "SELECT file_id FROM source_files WHERE kind = 'police_uk'").fetchall()}
    for part in folder.iterdir():
        if part.name not in keep:
            part.unlink()


def _load_categories(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM crime_categories")
    category_frame = category_table()[["police_uk_type", "harmonised_type", "ho_group", "is_crime"]]
    con.register("category_frame", category_frame)
    con.execute("INSERT INTO crime_categories SELECT * FROM category_frame")
    con.unregister("category_frame")



def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()[0])


