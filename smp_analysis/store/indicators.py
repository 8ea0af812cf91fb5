"""Writing partner-indicator files into the store (:mod:`smp_analysis.sources.indicators`).

Incremental by SHA-256 like every other input: unchanged bytes are a no-op, a changed file
replaces the rows its earlier version loaded, and the same bytes under another path are not
loaded twice. A file that cannot be used at all is remembered (``indicator_failures``) so the
chapter can say why its indicators are missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from ..sources._csv import sha256_of
from .ingest import FileOutcome, _store_quarantine, register_file

INDICATOR_TABLE = """
CREATE TABLE IF NOT EXISTS indicators (
    file_id INTEGER NOT NULL, line BIGINT NOT NULL, indicator_id VARCHAR NOT NULL,
    indicator_label VARCHAR NOT NULL, area_code VARCHAR NOT NULL, area_name VARCHAR,
    period_start DATE NOT NULL, period_end DATE NOT NULL, numerator DOUBLE NOT NULL,
    denominator DOUBLE, per BIGINT NOT NULL, polarity VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    predicted DOUBLE, source VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS indicator_failures (path VARCHAR PRIMARY KEY, error VARCHAR);
"""


def load_indicators(con: duckdb.DuckDBPyConnection, path: str | Path) -> FileOutcome:
    """Load a partner-indicator file (:mod:`smp_analysis.sources.indicators`), replacing the
    rows an earlier version of the same path loaded; unchanged bytes are a no-op.

    Rows that repeat an indicator, area and period already loaded from another file, or that
    define an indicator differently (label, kind, per, polarity) from another file, are
    quarantined naming that file. Raises InputError when the file cannot be used at all
    (:func:`record_indicator_failure` keeps that for the report).
    """
    from ..sources.indicators import DEFINING, OUTPUT_COLUMNS, read_indicators

    path = Path(path).resolve()
    sha = sha256_of(path)
    con.execute(INDICATOR_TABLE)
    previous = con.execute("SELECT file_id, sha256, rows_read, rows_loaded, rows_quarantined, "
                           "reasons FROM source_files WHERE kind = 'indicators' AND path = ?",
                           [str(path)]).fetchall()
    if [row[1] for row in previous] == [sha]:
        _, _, read, loaded, quarantined, reasons = previous[0]
        con.execute("DELETE FROM indicator_failures WHERE path = ?", [str(path)])
        return FileOutcome(str(path), sha, "unchanged", read, loaded, quarantined,
                           json.loads(reasons or "{}"))
    elsewhere = con.execute("SELECT path FROM source_files WHERE kind = 'indicators' AND "
                            "sha256 = ? AND path <> ?", [sha, str(path)]).fetchone()
    if elsewhere is not None:
        return FileOutcome(str(path), sha, "duplicate",
                           error=f"the same bytes are already loaded from {elsewhere[0]}")
    result = read_indicators(path)
    rows = result.rows
    old_ids = [row[0] for row in previous]
    others = con.execute(
        "SELECT i.*, s.path FROM indicators i JOIN source_files s USING (file_id) "
        "WHERE i.file_id NOT IN (SELECT unnest(?::INTEGER[]))", [old_ids]).df()
    for column in ("period_start", "period_end"):
        others[column] = pd.to_datetime(others[column]).dt.date
    rows, clashes = _indicator_clashes(rows, others, path, DEFINING)
    quarantine = pd.concat([result.quarantine, clashes], ignore_index=True) if len(clashes) \
        else result.quarantine
    reasons = quarantine.drop_duplicates("line")["reason"].value_counts().to_dict()
    counts = (result.rows_read, len(rows), quarantine["line"].nunique() if len(quarantine) else 0)
    con.execute("BEGIN TRANSACTION")
    try:
        for old_id in old_ids:
            for table in ("indicators", "quarantine", "source_files"):
                con.execute(f"DELETE FROM {table} WHERE file_id = ?", [old_id])
        file_id = register_file(con, str(path), sha, "indicators", counts, reasons)
        con.register("incoming_indicators", rows[OUTPUT_COLUMNS].assign(file_id=file_id))
        con.execute(f"INSERT INTO indicators (file_id, {', '.join(OUTPUT_COLUMNS)}) "
                    f"SELECT file_id, {', '.join(OUTPUT_COLUMNS)} FROM incoming_indicators")
        con.unregister("incoming_indicators")
        _store_quarantine(con, quarantine, file_id)
        con.execute("DELETE FROM indicator_failures WHERE path = ?", [str(path)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return FileOutcome(str(path), sha, "replaced" if previous else "loaded", *counts, reasons)


def _indicator_clashes(rows: pd.DataFrame, others: pd.DataFrame, path: Path,
                       defining: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of `rows` that clash with rows already loaded from other files, as quarantine."""
    empty = pd.DataFrame(columns=["file", "line", "column", "reason", "value"])
    if others.empty or rows.empty:
        return rows, empty
    problems = []
    definitions = others.drop_duplicates("indicator_id").set_index("indicator_id")
    for column in defining:
        known = rows["indicator_id"].map(definitions[column])
        differs = known.notna() & rows[column].ne(known)
        for i in rows.index[differs]:
            indicator = rows.at[i, "indicator_id"]
            problems.append((int(rows.at[i, "line"]), column,
                             f"{column} differs from {Path(definitions.at[indicator, 'path']).name}"
                             f" for indicator {indicator} ('{definitions.at[indicator, column]}')",
                             str(rows.at[i, column])))
    key = ["indicator_id", "area_code", "period_start", "period_end"]
    merged = rows.reset_index().merge(others[key + ["path"]], on=key, how="inner")
    for _, row in merged.iterrows():
        problems.append((int(row["line"]), "indicator_id", "indicator, area and period are "
                         f"already loaded from {Path(row['path']).name}", row["indicator_id"]))
    if not problems:
        return rows, empty
    quarantine = pd.DataFrame(problems, columns=["line", "column", "reason", "value"])
    quarantine.insert(0, "file", str(path))
    return rows[~rows["line"].isin(quarantine["line"])], quarantine


def record_indicator_failure(con: duckdb.DuckDBPyConnection, path: str | Path,
                             error: str) -> None:
    """Keep why an indicator file could not be loaded, for the chapter to say so."""
    con.execute(INDICATOR_TABLE)
    con.execute("INSERT OR REPLACE INTO indicator_failures VALUES (?, ?)",
                [str(Path(path).resolve()), error])
