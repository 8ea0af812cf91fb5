"""Writing ward and LSOA boundary files into the store (:mod:`smp_analysis.sources.boundaries`).

Boundaries are kept in the store, not read at report time: an appendix then depends only on
the store, a national file is validated, converted and cut down to the lookup's areas once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from ..errors import InputError, Problem
from ..sources._csv import sha256_of
from .connection import has_table
from .ingest import FileOutcome, register_file

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
        register_file(con, str(path), sha, kind,
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
