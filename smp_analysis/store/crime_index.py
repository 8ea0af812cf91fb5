"""Where the stored police.uk rows are: an index of the parts by file, force, month and LSOA,
so that a question about one district reads only the parts that can hold its rows.

One store may hold every force's files (nationally about 2,600 parts and 29 M rows). Without
the index a question about one district joins the LSOA lookup against every row of every
force: in one national appendix, 14 s of such scans, and another 15 s for each force's
first appendix in a worker (measured query by query). The index, table ``crime_index``, has
one row per file, force ("Falls within"), month and LSOA code, with the rows, the crimes (not
anti-social behaviour) and the ASB rows there: about one row per LSOA and month, 2.2 M
nationally, 1 in 13 of the rows. It

- answers the force-level questions outright (monthly totals per force, the first and last
  month, which forces' rows fall in which districts, the rows no area can claim, a file's
  force), as sums of its counts instead of counts of rows, and
- tells a district's questions (monthly counts, crime points, category names) which parts
  hold rows of that district's LSOAs, in that period, or of those forces: the query then
  reads those parts and no other. Rows are never filtered by the index itself, so the answer
  is the one the full scan gives; only parts holding none of the rows asked for are skipped.

It is built with the data-quality findings (:func:`.quality.refresh`, one scan of the rows,
which the findings' monthly totals then reuse) after every ingest that changed the police.uk
rows, which drops it. Before it is used, :func:`ready` checks it against the file register:
the same files, each with its ``rows_loaded``. An index out of step with the parts (left by
anything else that changed them, or missing in a store made by an earlier version until the
next ingest or prepare that can write the store) is ignored, and every question scans every
part, as it would without one.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from .connection import CRIME_COLUMNS, has_table, parts_relation
from .memo import remembered

ASB = "Anti-social behaviour"


def build(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the index from the parts (the view ``crimes``)."""
    # sorted by LSOA so that a lookup join reads few of its row groups
    con.execute(f"""
        CREATE OR REPLACE TABLE crime_index AS
        SELECT file_id, falls_within, month, lsoa_code, count(*)::BIGINT AS rows,
               count(*) FILTER (WHERE crime_type <> '{ASB}')::BIGINT AS crimes,
               count(*) FILTER (WHERE crime_type = '{ASB}')::BIGINT AS asb
        FROM crimes GROUP BY ALL ORDER BY lsoa_code, month, file_id""")


@remembered
def ready(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the index describes the stored parts: it exists and holds exactly the
    registered police.uk files with rows, each with its ``rows_loaded``."""
    if not has_table(con, "crime_index"):
        return False
    (mismatched,) = con.execute("""
        SELECT count(*) FROM (SELECT file_id, sum(rows) AS n FROM crime_index GROUP BY file_id) i
        FULL JOIN (SELECT file_id, rows_loaded AS n FROM source_files
                   WHERE kind = 'police_uk' AND rows_loaded > 0) s USING (file_id)
        WHERE i.n IS DISTINCT FROM s.n""").fetchone()
    return mismatched == 0


def crimes_in(con: duckdb.DuckDBPyConnection, condition: str, args: Sequence = (),
              join: str = "") -> str:
    """The SQL source of the rows a query needs: the parts of the files with index rows ``i``
    (joined by `join`, e.g. with the lookup) that meet `condition`, as a subquery with the
    columns of the view ``crimes``; the view itself when the index is not :func:`ready`.

    Every row the query can count must meet `condition` (it names where, when or whose rows
    they are), so that leaving out the parts without such rows changes no answer."""
    if not ready(con):
        return "crimes"
    ids = [i for (i,) in con.execute(
        f"SELECT DISTINCT i.file_id FROM crime_index i {join} WHERE {condition} ORDER BY 1",
        list(args)).fetchall()]
    return f"(SELECT {CRIME_COLUMNS} FROM {parts_relation(con, ids)})"


# --------------------------------------------------------------------------- answers from it
# Each gives what the function of the same name in :mod:`.queries` gives from the rows.


def force_monthly(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        SELECT falls_within AS force, month, sum(crimes)::BIGINT AS crimes,
               sum(asb)::BIGINT AS asb, sum(rows)::BIGINT AS rows,
               coalesce(sum(rows) FILTER (WHERE lsoa_code IS NULL), 0)::BIGINT AS no_lsoa
        FROM crime_index GROUP BY ALL ORDER BY ALL""").df()


def data_span(con: duckdb.DuckDBPyConnection):
    return con.execute("SELECT min(month), max(month) FROM crime_index").fetchone()


def area_forces(con: duckdb.DuckDBPyConnection, area_codes: Sequence[str]) -> pd.DataFrame:
    return con.execute("""
        SELECT c.falls_within AS force, sum(c.rows)::BIGINT AS rows
        FROM crime_index c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        WHERE l.la_code IN (SELECT unnest(?)) AND c.falls_within IS NOT NULL
        GROUP BY ALL ORDER BY rows DESC, force""", [list(area_codes)]).df()


def force_label(con: duckdb.DuckDBPyConnection, police_force: str) -> str | None:
    row = con.execute("""
        SELECT c.falls_within, sum(c.rows) AS n
        FROM crime_index c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        WHERE l.police_force = ? AND c.falls_within IS NOT NULL
        GROUP BY ALL ORDER BY n DESC, c.falls_within LIMIT 1""", [police_force]).fetchone()
    return None if row is None else row[0]


def force_local_authorities(con: duckdb.DuckDBPyConnection, force: str) -> pd.DataFrame:
    return con.execute("""
        WITH located AS (
            SELECT l.la_code, any_value(l.la_name) AS la_name,
                   any_value(l.police_force) AS lookup_force,
                   coalesce(sum(c.rows) FILTER (WHERE c.falls_within = ?), 0)::BIGINT AS rows,
                   sum(c.rows)::BIGINT AS all_rows
            FROM crime_index c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
            GROUP BY l.la_code)
        SELECT la_code AS area_code, la_name AS area_name, lookup_force, rows,
               rows / all_rows AS share
        FROM located WHERE rows > 0 ORDER BY area_code""", [force]).df()


def force_files(con: duckdb.DuckDBPyConnection, forces: Sequence[str]) -> set[int]:
    return {i for (i,) in con.execute(
        "SELECT DISTINCT file_id FROM crime_index WHERE falls_within IN (SELECT unnest(?))",
        [list(forces)]).fetchall()}
