"""Reading the store: the query functions topics call, filters pushed into SQL.

Every function takes an open connection (read-only in topics) and returns a tidy DataFrame;
month columns hold first-of-month timestamps. In the build's worker processes the answers
to the questions every district's appendix asks alike (``@remembered``) are remembered for
every later appendix asking the same store the same question (:mod:`.memo`); a district's own
rows (crime points, boundaries, areas) and victim-level extracts are not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from . import crime_index
from .connection import has_table
from .memo import remembered


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


@remembered
def ward_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not has_table(con, "ward_lookup"):
        return {}
    return dict(con.execute("SELECT DISTINCT ward_code, ward_name FROM ward_lookup").fetchall())



# --------------------------------------------------------------------------- queries


@remembered
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


@remembered
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
    place: list[str] = []  # conditions on the lookup, for the rows and for the parts to read
    args: list = [start, end]
    if area_codes is not None:
        place.append(f"{area} IN (SELECT unnest(?))")
        args.append(list(area_codes))
    if police_force is not None:
        place.append("l.police_force = ?")
        args.append(police_force)
    source = crime_index.crimes_in(
        con, " AND ".join(["i.month BETWEEN ? AND ?", *place]), args,
        join=f"JOIN lsoa_lookup l ON l.lsoa_code = i.lsoa_code {join}")
    where = ["c.month BETWEEN ? AND ?", *place]
    if crime_types is not None:
        where.append("k.harmonised_type IN (SELECT unnest(?))")
        args.append(list(crime_types))
    sql = f"""
        SELECT {area} AS area_code, c.month, k.harmonised_type AS crime_type,
               count(*)::BIGINT AS count
        FROM {source} c
        JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        {join}
        JOIN crime_categories k ON k.police_uk_type = c.crime_type
        WHERE {' AND '.join(where)}
        GROUP BY ALL ORDER BY ALL"""
    frame = con.execute(sql, args).df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


@remembered
def data_span(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date]:
    """First and last month with any stored police.uk row."""
    first, last = crime_index.data_span(con) if crime_index.ready(con) else con.execute(
        "SELECT min(month), max(month) FROM crimes").fetchone()
    if first is None:
        raise ValueError("the store holds no police.uk rows; run `smp ingest police-uk` first")
    return first, last


@remembered
def unplaced_counts(con: duckdb.DuckDBPyConnection, *, start: dt.date, end: dt.date,
                    falls_within: str | None = None) -> pd.DataFrame:
    """Rows in the period that no area can claim: ``reason, count``."""
    # the index's rows are counts of rows (crime_index), the view's single rows
    rows, count = (("crime_index", "sum(c.rows)") if crime_index.ready(con) else
                   ("crimes", "count(*)"))
    args: list = [start, end]
    extra = ""
    if falls_within is not None:
        extra = "AND c.falls_within = ?"
        args.append(falls_within)
    return con.execute(f"""
        SELECT CASE WHEN c.lsoa_code IS NULL THEN 'no LSOA (No Location)'
                    ELSE 'LSOA not in lookup' END AS reason, {count}::BIGINT AS count
        FROM {rows} c LEFT JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        WHERE c.month BETWEEN ? AND ? AND l.lsoa_code IS NULL {extra}
        GROUP BY ALL ORDER BY ALL""", args).df()


@remembered
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


@remembered
def force_monthly(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per force (Falls within) and month: crimes, ASB, all rows, rows with no LSOA."""
    frame = crime_index.force_monthly(con) if crime_index.ready(con) else con.execute("""
        SELECT falls_within AS force, month,
               count(*) FILTER (WHERE crime_type <> 'Anti-social behaviour')::BIGINT AS crimes,
               count(*) FILTER (WHERE crime_type = 'Anti-social behaviour')::BIGINT AS asb,
               count(*)::BIGINT AS rows,
               count(*) FILTER (WHERE lsoa_code IS NULL)::BIGINT AS no_lsoa
        FROM crimes GROUP BY ALL ORDER BY ALL""").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


@remembered
def repeated_crime_ids(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Crime IDs on more than one stored row: ``force, month, across_months, ids, rows``.

    ``across_months`` is True for IDs published in more than one month's file (reported at
    the latest month), False for IDs repeated within one month with different details.
    """
    # Grouping 64-bit hashes first finds the few repeated IDs several times faster than
    # grouping every ID's text; the second grouping, on the text, drops hash collisions.
    # The rows are scanned twice rather than kept (a CTE used twice would be materialised:
    # gigabytes at national scale).
    frame = con.execute("""
        WITH repeated AS (SELECT h FROM (SELECT hash(crime_id) AS h FROM crimes
                                         WHERE crime_id IS NOT NULL)
                          GROUP BY h HAVING count(*) > 1)
        SELECT force, month, across_months, count(*)::BIGINT AS ids, sum(n)::BIGINT AS rows
        FROM (SELECT any_value(falls_within) AS force, max(month) AS month, count(*) AS n,
                     min(month) <> max(month) AS across_months
              FROM crimes
              WHERE crime_id IS NOT NULL AND hash(crime_id) IN (SELECT h FROM repeated)
              GROUP BY crime_id HAVING count(*) > 1)
        GROUP BY ALL ORDER BY ALL""").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


@remembered
def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined rows by file and reason: ``path, force, month, reason, rows``."""
    # a file's force: the first "Falls within" of its rows (one, in a police.uk file)
    forces = ("SELECT file_id, min(falls_within) AS force FROM "
              f"{'crime_index' if crime_index.ready(con) else 'crimes'} GROUP BY file_id")
    frame = con.execute(f"""
        SELECT s.path, f.force, q.reason, count(DISTINCT q.line)::BIGINT AS rows
        FROM quarantine q JOIN source_files s USING (file_id)
        LEFT JOIN ({forces}) f USING (file_id)
        GROUP BY ALL ORDER BY ALL""").df()
    names = frame["path"].map(lambda p: Path(p).name)
    parts = names.str.extract(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-street\.csv$")
    frame["month"] = pd.to_datetime(parts["month"], format="%Y-%m", errors="coerce")
    frame["force"] = frame["force"].fillna(parts["force"])
    return frame[["path", "force", "month", "reason", "rows"]]


@remembered
def input_files(con: duckdb.DuckDBPyConnection, forces: Sequence[str] | None = None
                ) -> pd.DataFrame:
    """Every file the store was built from: ``kind, path, sha256, rows_*, synthetic``.

    With `forces`, police.uk files are limited to those of these forces (police.uk "Falls
    within"; a file whose rows were all quarantined is matched by the force in its name)."""
    frame = con.execute("""
        SELECT file_id, kind, path, sha256, rows_read, rows_loaded, rows_quarantined, synthetic
        FROM source_files ORDER BY kind, path""").df()
    if forces is not None:
        keep = police_uk_files(con, forces)
        frame = frame[(frame["kind"] != "police_uk") | frame["file_id"].isin(keep)]
    return frame.drop(columns="file_id").reset_index(drop=True)


def _slug(name: str) -> str:
    """'Kent Police' -> 'kent'; 'Avon and Somerset Constabulary' -> 'avon-and-somerset'."""
    import re

    name = re.sub(r"\b(police|constabulary|police service)\b", "", str(name).lower())
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


@remembered
def police_uk_files(con: duckdb.DuckDBPyConnection, forces: Sequence[str]) -> set[int]:
    """File ids of the police.uk files whose rows belong to `forces`."""
    ids = crime_index.force_files(con, forces) if crime_index.ready(con) else {
        i for (i,) in con.execute(
            "SELECT DISTINCT file_id FROM crimes WHERE falls_within IN (SELECT unnest(?))",
            [list(forces)]).fetchall()}
    slugs = {_slug(f) for f in forces}
    for file_id, path in con.execute("SELECT file_id, path FROM source_files WHERE kind = "
                                     "'police_uk' AND (rows_loaded = 0 OR rows_loaded IS NULL)"
                                     ).fetchall():
        name = Path(path).name
        parts = name.removesuffix("-street.csv").split("-", 2)
        if len(parts) == 3 and parts[2] in slugs:
            ids.add(file_id)
    return ids


# --------------------------------------------------------------------------- coverage and areas


@remembered
def coverage(con: duckdb.DuckDBPyConnection, forces: Sequence[str] | None = None
             ) -> pd.DataFrame:
    """Coverage per force and month (``force, month, rows, has_data, incomplete, reason``; see
    :mod:`smp_analysis.store.quality`), for `forces` (police.uk "Falls within" names) or all."""
    from .quality import stored_coverage

    frame = stored_coverage(con)
    if forces is not None:
        frame = frame[frame["force"].isin(list(forces))]
    return frame.reset_index(drop=True)


@remembered
def area_forces(con: duckdb.DuckDBPyConnection, area_codes: Sequence[str]) -> pd.DataFrame:
    """The forces (police.uk "Falls within") whose rows fall in the districts `area_codes`:
    ``force, rows``, most rows first."""
    if not has_table(con, "lsoa_lookup"):
        return pd.DataFrame({"force": pd.Series(dtype=str), "rows": pd.Series(dtype="int64")})
    if crime_index.ready(con):
        return crime_index.area_forces(con, area_codes)
    return con.execute("""
        SELECT c.falls_within AS force, count(*)::BIGINT AS rows
        FROM crimes c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        WHERE l.la_code IN (SELECT unnest(?)) AND c.falls_within IS NOT NULL
        GROUP BY ALL ORDER BY rows DESC, force""", [list(area_codes)]).df()


@remembered
def force_label(con: duckdb.DuckDBPyConnection, police_force: str) -> str | None:
    """The police.uk "Falls within" name of the rows located in the LSOAs the lookup assigns
    to `police_force` (e.g. "Kent" -> "Kent Police"), or None when there are none."""
    if not has_table(con, "lsoa_lookup"):
        return None
    if crime_index.ready(con):
        return crime_index.force_label(con, police_force)
    row = con.execute("""
        SELECT c.falls_within, count(*) AS n
        FROM crimes c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        WHERE l.police_force = ? AND c.falls_within IS NOT NULL
        GROUP BY ALL ORDER BY n DESC, c.falls_within LIMIT 1""", [police_force]).fetchone()
    return None if row is None else row[0]


@remembered
def force_local_authorities(con: duckdb.DuckDBPyConnection, force: str) -> pd.DataFrame:
    """Local authorities where a force's rows fall: ``area_code, area_name, lookup_force, rows,
    share`` (share of that authority's located rows that are this force's)."""
    if crime_index.ready(con):
        return crime_index.force_local_authorities(con, force)
    return con.execute("""
        WITH located AS (
            SELECT l.la_code, any_value(l.la_name) AS la_name,
                   any_value(l.police_force) AS lookup_force,
                   count(*) FILTER (WHERE c.falls_within = ?)::BIGINT AS rows,
                   count(*)::BIGINT AS all_rows
            FROM crimes c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
            GROUP BY l.la_code)
        SELECT la_code AS area_code, la_name AS area_name, lookup_force, rows,
               rows / all_rows AS share
        FROM located WHERE rows > 0 ORDER BY area_code""", [force]).df()


@remembered
def lookup_districts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every local authority in the LSOA lookup: ``area_code, area_name, police_force``."""
    if not has_table(con, "lsoa_lookup"):
        return pd.DataFrame(columns=["area_code", "area_name", "police_force"])
    return con.execute("""
        SELECT la_code AS area_code, any_value(la_name) AS area_name,
               any_value(police_force) AS police_force
        FROM lsoa_lookup GROUP BY la_code ORDER BY la_code""").df()


@remembered
def category_names(con: duckdb.DuckDBPyConnection, forces: Sequence[str] | None = None
                   ) -> pd.DataFrame:
    """The police.uk crime-type names as published, per month: ``month, crime_type, rows``."""
    where, args, source = "", [], "crimes"
    if forces is not None:
        where, args = "WHERE falls_within IN (SELECT unnest(?))", [list(forces)]
        source = crime_index.crimes_in(con, "i.falls_within IN (SELECT unnest(?))", args)
    frame = con.execute(f"""
        SELECT month, crime_type, count(*)::BIGINT AS rows FROM {source} {where}
        GROUP BY ALL ORDER BY ALL""", args).df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


# --------------------------------------------------------------------------- partner indicators


@remembered
def indicator_rows(con: duckdb.DuckDBPyConnection, *, paths: Sequence[str | Path] | None = None,
                   indicator_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Stored partner-indicator rows with the ``path`` of their file (only the files in
    `paths` when given), or an empty frame when none were loaded. Dates are ``datetime.date``.
    """
    columns = ["indicator_id", "indicator_label", "area_code", "area_name", "period_start",
               "period_end", "numerator", "denominator", "per", "polarity", "kind",
               "predicted", "source", "path", "line"]
    if not has_table(con, "indicators"):
        return pd.DataFrame(columns=columns)
    where, args = ["TRUE"], []
    if paths is not None:
        where.append("s.path IN (SELECT unnest(?))")
        args.append([str(Path(p).resolve()) for p in paths])
    if indicator_ids is not None:
        where.append("i.indicator_id IN (SELECT unnest(?))")
        args.append(list(indicator_ids))
    frame = con.execute(f"""
        SELECT {', '.join('i.' + c for c in columns if c != 'path')}, s.path
        FROM indicators i JOIN source_files s USING (file_id)
        WHERE {' AND '.join(where)}
        ORDER BY i.indicator_id, i.area_code, i.period_start, i.period_end""", args).df()
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame[columns]


@remembered
def indicator_failures(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Indicator files that could not be loaded: ``path, error``."""
    if not has_table(con, "indicator_failures"):
        return pd.DataFrame(columns=["path", "error"])
    return con.execute("SELECT path, error FROM indicator_failures ORDER BY path").df()
# --------------------------------------------------------------------------- places (maps)


def district_areas(con: duckdb.DuckDBPyConnection, district_code: str) -> pd.DataFrame:
    """The LSOAs of a district: ``lsoa_code, lsoa_name, ward_code, ward_name, population``
    (ward columns empty without a ward lookup; population from the Census 2011 table)."""
    ward = ("w.ward_code, w.ward_name", "LEFT JOIN ward_lookup w USING (lsoa_code)") if \
        has_table(con, "ward_lookup") else ("NULL::VARCHAR AS ward_code, NULL::VARCHAR AS "
                                            "ward_name", "")
    population = ("p.population::BIGINT AS population",
                  "LEFT JOIN census_population p USING (lsoa_code)") if \
        has_table(con, "census_population") else ("NULL::BIGINT AS population", "")
    return con.execute(f"""
        SELECT l.lsoa_code, l.lsoa_name, {ward[0]}, {population[0]}
        FROM lsoa_lookup l {ward[1]} {population[1]}
        WHERE l.la_code = ? ORDER BY l.lsoa_code""", [district_code]).df()


def crime_points(con: duckdb.DuckDBPyConnection, *, district_code: str, start: dt.date,
                 end: dt.date, crime_types: Sequence[str] | None = None) -> pd.DataFrame:
    """Located crimes in a district: ``month, crime_type, longitude, latitude, lsoa_code``
    (harmonised types; rows without coordinates are left out, see :func:`unplaced_counts`)."""
    where = ["l.la_code = ?", "c.month BETWEEN ? AND ?", "c.longitude IS NOT NULL",
             "c.latitude IS NOT NULL"]
    args: list = [district_code, start, end]
    source = crime_index.crimes_in(con, "l.la_code = ? AND i.month BETWEEN ? AND ?", args,
                                   join="JOIN lsoa_lookup l ON l.lsoa_code = i.lsoa_code")
    if crime_types is not None:
        where.append("k.harmonised_type IN (SELECT unnest(?))")
        args.append(list(crime_types))
    frame = con.execute(f"""
        SELECT c.month, k.harmonised_type AS crime_type, c.longitude, c.latitude, c.lsoa_code
        FROM {source} c JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code
        JOIN crime_categories k ON k.police_uk_type = c.crime_type
        WHERE {' AND '.join(where)} ORDER BY c.month, c.file_id, c.line""", args).df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def boundaries(con: duckdb.DuckDBPyConnection, level: str, codes: Sequence[str] | None = None):
    """Stored boundaries of one level as a GeoDataFrame ``code, name, geometry`` (British
    National Grid), or None when none are stored."""
    if not has_table(con, "boundaries"):
        return None
    args: list = [level]
    where = "level = ?"
    if codes is not None:
        where += " AND code IN (SELECT unnest(?))"
        args.append(list(codes))
    frame = con.execute(f"SELECT code, name, geometry FROM boundaries WHERE {where} "
                        "ORDER BY code", args).df()
    if frame.empty:
        return None
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(frame[["code", "name"]],
                            geometry=shapely.from_wkb(frame["geometry"].map(bytes).to_list()),
                            crs="EPSG:27700")


@remembered
def boundary_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Registered boundary files: ``kind, path, rows_read, rows_loaded, rows_quarantined,
    reasons``."""
    return con.execute("""
        SELECT kind, path, rows_read, rows_loaded, rows_quarantined, reasons FROM source_files
        WHERE kind IN ('ward_boundaries', 'lsoa_boundaries') ORDER BY kind""").df()
