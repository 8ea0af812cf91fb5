"""The embedded DuckDB store: the only module that touches the database.

Raw files go in through :func:`ingest_police_uk` and :func:`load_reference`; chapters read
tidy frames through the query functions, with the area and period filters pushed into SQL so
one partnership's appendix never loads the whole force.

Layout: a DuckDB database file ``STORE`` (file register, quarantine, lookups, victim extracts)
and, beside it, ``STORE.parts/`` holding the validated rows of each police.uk file as one
Parquet file named by its ``file_id``. Every connection sees them as the view ``crimes``.
Parquet parts are written by the parsing threads in parallel (DuckDB allows one writer), which
is what makes ingest fast; DuckDB scans them with the same SQL pushdown as a table.

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
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from .categories import category_table
from .errors import InputError, Problem
from .sources import geography
from .sources._csv import sha256_of
from .sources.police_uk import find_street_files, parse_street_csv

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
        # stored data-quality findings describe the old contents (see dataquality.refresh)
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
    from .pseudonymise import fingerprint
    from .sources import victims

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


def incidents(con: duckdb.DuckDBPyConnection, *, district_codes: Sequence[str],
              start: dt.date, end: dt.date, domestic_only: bool = True,
              crimes_only: bool = False) -> pd.DataFrame:
    """Pseudonymised incidents in the districts between `start` and `end` (inclusive)."""
    where = ["district_code IN (SELECT unnest(?))", "date BETWEEN ? AND ?"]
    if domestic_only:
        where.append("domestic")
    if crimes_only:
        where.append("is_crime")
    frame = con.execute(
        "SELECT incident_id, victim_key, date, incident_type, domestic, is_crime, lsoa_code,"
        f" ward_code, district_code FROM incidents WHERE {' AND '.join(where)}",
        [list(district_codes), start, end]).df()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def marac_referrals(con: duckdb.DuckDBPyConnection, *, district_codes: Sequence[str],
                    start: dt.date, end: dt.date) -> pd.DataFrame:
    frame = con.execute(
        "SELECT referral_id, victim_key, referral_date, district_code FROM marac_referrals "
        "WHERE district_code IN (SELECT unnest(?)) AND referral_date BETWEEN ? AND ?",
        [list(district_codes), start, end]).df()
    frame["referral_date"] = pd.to_datetime(frame["referral_date"])
    return frame


def admissions_total(con: duckdb.DuckDBPyConnection, area_codes: Sequence[str]) -> pd.Series:
    """Monthly hospital admissions for assault summed over areas (PeriodIndex), or empty."""
    if not has_table(con, "hospital_admissions"):
        return pd.Series(dtype="int64")
    frame = con.execute(
        "SELECT month, sum(admissions)::BIGINT AS admissions FROM hospital_admissions "
        "WHERE area_code IN (SELECT unnest(?)) GROUP BY month ORDER BY month",
        [list(area_codes)]).df()
    return pd.Series(frame["admissions"].to_numpy(),
                     index=pd.PeriodIndex(pd.to_datetime(frame["month"]), freq="M"))


def ward_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not has_table(con, "ward_lookup"):
        return {}
    return dict(con.execute("SELECT DISTINCT ward_code, ward_name FROM ward_lookup").fetchall())


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()[0])


# --------------------------------------------------------------------------- queries


def districts(con: duckdb.DuckDBPyConnection, police_force: str | None = None,
              codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Local authorities ``area_code, area_name``: those listed in `codes`, else every one
    the lookup assigns to `police_force`."""
    if codes is not None:
        return con.execute(
            "SELECT DISTINCT la_code AS area_code, la_name AS area_name FROM lsoa_lookup "
            "WHERE la_code IN (SELECT unnest(?)) ORDER BY area_code", [list(codes)]).df()
    return con.execute(
        "SELECT DISTINCT la_code AS area_code, la_name AS area_name FROM lsoa_lookup "
        "WHERE police_force = ? ORDER BY area_code", [police_force]).df()


def _area_column(level: str) -> tuple[str, str]:
    if level == "district":
        return "l.la_code", ""
    if level == "lsoa":
        return "l.lsoa_code", ""
    if level == "ward":
        return "w.ward_code", "JOIN ward_lookup w ON w.lsoa_code = l.lsoa_code"
    raise ValueError(f"unknown area level {level!r}; use 'district', 'ward' or 'lsoa'")


def monthly_counts(con: duckdb.DuckDBPyConnection, *, start: dt.date, end: dt.date,
                   area_codes: Sequence[str] | None = None, police_force: str | None = None,
                   level: str = "district", crime_types: Sequence[str] | None = None
                   ) -> pd.DataFrame:
    """Monthly counts ``area_code, month, crime_type, count`` (harmonised police.uk types).

    Filters (area, force, period, types) run in SQL. `start`/`end` are inclusive dates; the
    month column holds first-of-month timestamps. Crimes whose LSOA is missing or not in the
    lookup cannot be placed in an area and are not counted here (see
    :func:`unplaced_counts`).
    """
    area, join = _area_column(level)
    where = ["c.month BETWEEN ? AND ?"]
    args: list = [start, end]
    if area_codes is not None:
        where.append(f"{area} IN (SELECT unnest(?))")
        args.append(list(area_codes))
    if police_force is not None:
        where.append("l.police_force = ?")
        args.append(police_force)
    if crime_types is not None:
        where.append("k.harmonised_type IN (SELECT unnest(?))")
        args.append(list(crime_types))
    sql = f"""
        SELECT {area} AS area_code, c.month, k.harmonised_type AS crime_type,
               count(*)::BIGINT AS count
        FROM crimes c
        JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        {join}
        JOIN crime_categories k ON k.police_uk_type = c.crime_type
        WHERE {' AND '.join(where)}
        GROUP BY ALL ORDER BY ALL"""
    frame = con.execute(sql, args).df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date]:
    """First and last month with any stored police.uk row."""
    first, last = con.execute("SELECT min(month), max(month) FROM crimes").fetchone()
    if first is None:
        raise ValueError("the store holds no police.uk rows; run `smp ingest police-uk` first")
    return first, last


def unplaced_counts(con: duckdb.DuckDBPyConnection, *, start: dt.date, end: dt.date,
                    falls_within: str | None = None) -> pd.DataFrame:
    """Rows in the period that no area can claim: ``reason, count``."""
    args: list = [start, end]
    extra = ""
    if falls_within is not None:
        extra = "AND c.falls_within = ?"
        args.append(falls_within)
    return con.execute(f"""
        SELECT CASE WHEN c.lsoa_code IS NULL THEN 'no LSOA (No Location)'
                    ELSE 'LSOA not in lookup' END AS reason, count(*)::BIGINT AS count
        FROM crimes c LEFT JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        WHERE c.month BETWEEN ? AND ? AND l.lsoa_code IS NULL {extra}
        GROUP BY ALL ORDER BY ALL""", args).df()


def population(con: duckdb.DuckDBPyConnection, *, area_codes: Sequence[str], year: int
               ) -> pd.DataFrame:
    """Population ``area_code, population, year, source`` for districts.

    Uses the mid-year estimate for `year` when loaded, else the latest earlier year, else
    the Census 2011 LSOA sum. The ``source`` column says which, so the report can say it.
    """
    codes = list(area_codes)
    if has_table(con, "population_by_year"):
        frame = con.execute("""
            SELECT area_code, arg_max(population, year) AS population, max(year) AS year
            FROM population_by_year WHERE area_code IN (SELECT unnest(?)) AND year <= ?
            GROUP BY area_code""", [codes, year]).df()
        if set(frame["area_code"]) == set(codes):
            frame["source"] = [f"mid-{y} population estimate" for y in frame["year"]]
            return frame.sort_values("area_code").reset_index(drop=True)
    frame = con.execute("""
        SELECT l.la_code AS area_code, sum(p.population)::BIGINT AS population, 2011 AS year
        FROM census_population p JOIN lsoa_lookup l USING (lsoa_code)
        WHERE l.la_code IN (SELECT unnest(?)) GROUP BY l.la_code""", [codes]).df()
    frame["source"] = "Census 2011 usual residents"
    return frame.sort_values("area_code").reset_index(drop=True)


def force_monthly(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per force (Falls within) and month: crimes, ASB, all rows, rows with no LSOA."""
    frame = con.execute("""
        SELECT falls_within AS force, month,
               count(*) FILTER (WHERE crime_type <> 'Anti-social behaviour')::BIGINT AS crimes,
               count(*) FILTER (WHERE crime_type = 'Anti-social behaviour')::BIGINT AS asb,
               count(*)::BIGINT AS rows,
               count(*) FILTER (WHERE lsoa_code IS NULL)::BIGINT AS no_lsoa
        FROM crimes GROUP BY ALL ORDER BY ALL""").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def repeated_crime_ids(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Crime IDs on more than one stored row: ``force, month, across_months, ids, rows``.

    ``across_months`` is True for IDs published in more than one month's file (reported at
    the latest month), False for IDs repeated within one month with different details.
    """
    frame = con.execute("""
        SELECT force, month, across_months, count(*)::BIGINT AS ids, sum(n)::BIGINT AS rows
        FROM (SELECT any_value(falls_within) AS force, max(month) AS month, count(*) AS n,
                     count(DISTINCT month) > 1 AS across_months
              FROM crimes WHERE crime_id IS NOT NULL GROUP BY crime_id HAVING count(*) > 1)
        GROUP BY ALL ORDER BY ALL""").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined rows by file and reason: ``path, force, month, reason, rows``."""
    frame = con.execute("""
        SELECT s.path, f.force, q.reason, count(DISTINCT q.line)::BIGINT AS rows
        FROM quarantine q JOIN source_files s USING (file_id)
        LEFT JOIN (SELECT file_id, any_value(falls_within) AS force FROM crimes
                   GROUP BY file_id) f USING (file_id)
        GROUP BY ALL ORDER BY ALL""").df()
    names = frame["path"].map(lambda p: Path(p).name)
    parts = names.str.extract(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-street\.csv$")
    frame["month"] = pd.to_datetime(parts["month"], format="%Y-%m", errors="coerce")
    frame["force"] = frame["force"].fillna(parts["force"])
    return frame[["path", "force", "month", "reason", "rows"]]


def input_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every file the store was built from: ``kind, path, sha256, rows_*, synthetic``."""
    return con.execute("""
        SELECT kind, path, sha256, rows_read, rows_loaded, rows_quarantined, synthetic
        FROM source_files ORDER BY kind, path""").df()
