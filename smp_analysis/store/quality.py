"""Data-quality findings and coverage for everything in a store, kept in the store (tables
``anomalies`` and ``coverage``).

They are computed once per ingest that changed the store (:func:`refresh`, called by the
pipeline and by ``smp ingest``) and read by the data-quality chapter, the ingest report and
every chapter that compares months (through the coverage). Queries come from :mod:`.queries`,
the checks from :mod:`smp_analysis.methods.quality`.

**Coverage**: one row per force and month from the force's first to its last published month:
whether data exist (``has_data``), whether the data-quality check marked the month incomplete
(``incomplete``: missing, or recorded crime or ASB implausibly low) and why (``reason``). A
month is *usable* when it has data and is not incomplete. The ingest drops ``anomalies``
whenever the store changes; a ``coverage`` table without ``anomalies`` beside it is therefore
stale and is recomputed.
"""

from __future__ import annotations

import contextlib

import duckdb
import pandas as pd

from ..methods.quality import (
    ANOMALY_COLUMNS,
    coverage_table,
    missing_months,
    share_anomalies,
    volume_anomalies,
)
from . import crime_index, queries
from .connection import has_table

QUALITY_MEMORY_LIMIT = "512MB"
NO_LSOA_THRESHOLD = 0.05  # police.uk months typically have 1-3% of rows with no location
# ASB swings more with the seasons than crime (winter lows near -30%), so its band is wider:
# 0.6 and 1/0.6, symmetric on the log scale.
ASB_BAND = (0.6, 1 / 0.6)
ASB_ADVICE = "a publication problem, or a real change such as lockdown rules enforced as ASB"


def anomalies(con: duckdb.DuckDBPyConnection, monthly: pd.DataFrame | None = None
              ) -> pd.DataFrame:
    """Every anomaly in the store: ``force, month, kind, detail``, sorted by force and month.
    `monthly`: :func:`.queries.force_monthly` of the store, when the caller has it."""
    monthly = queries.force_monthly(con) if monthly is None else monthly
    parts = [
        missing_months(monthly.rename(columns={"rows": "count"})),
        volume_anomalies(monthly.rename(columns={"crimes": "count"})),
        volume_anomalies(monthly.rename(columns={"asb": "count"}), label="anti-social behaviour",
                         low=ASB_BAND[0], high=ASB_BAND[1],
                         kind="unusual ASB volume ({direction})", advice=ASB_ADVICE),
        share_anomalies(monthly, numerator="no_lsoa", denominator="rows",
                        kind="many rows without location", what="have no LSOA (No Location)",
                        threshold=NO_LSOA_THRESHOLD),
    ]
    repeated = queries.repeated_crime_ids(con)
    parts.append(pd.DataFrame({
        "force": repeated["force"], "month": repeated["month"],
        "kind": ["Crime ID in more than one month" if a else "repeated Crime ID"
                 for a in repeated["across_months"]],
        "detail": [(f"{_n(i, 'Crime ID')} also published in an earlier month ({_n(r, 'row')}; "
                    "kept, so the crime counts in both months)") if a else
                   f"{_n(i, 'Crime ID')} {'appears' if i == 1 else 'appear'} on {_n(r, 'row')} "
                   "with different details (kept)"
                   for i, r, a in zip(repeated["ids"], repeated["rows"],
                                      repeated["across_months"], strict=True)]},
        columns=ANOMALY_COLUMNS))
    quarantined = queries.quarantine_summary(con)
    parts.append(pd.DataFrame({
        "force": quarantined["force"], "month": quarantined["month"],
        "kind": "rows quarantined",
        "detail": [f"{_n(n, 'row')}: {reason}" for n, reason in
                   zip(quarantined["rows"], quarantined["reason"], strict=True)]},
        columns=ANOMALY_COLUMNS))
    result = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=ANOMALY_COLUMNS)
    return result.sort_values(["force", "month", "kind"], kind="stable").reset_index(drop=True)


def coverage(con: duckdb.DuckDBPyConnection, found: pd.DataFrame | None = None,
             monthly: pd.DataFrame | None = None) -> pd.DataFrame:
    """Coverage of every force in the store (see module doc): ``force, month, rows, has_data,
    incomplete, reason``."""
    monthly = queries.force_monthly(con) if monthly is None else monthly
    found = anomalies(con, monthly) if found is None else found
    return coverage_table(monthly, found)


def refresh(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Recompute the anomalies and the coverage and keep them in the store (tables
    ``anomalies`` and ``coverage``), so chapters read them instead of recomputing; call after
    every ingest that changed the store. The store's index of its rows
    (:mod:`.crime_index`) is rebuilt first unless it still describes the rows (a victim
    extract's load drops the findings only), and the findings' monthly totals come from it."""
    with _bounded_memory(con):
        if not crime_index.ready(con):
            crime_index.build(con)  # one scan of the rows, for the index and the findings
        monthly = queries.force_monthly(con)
        found = anomalies(con, monthly)
        covered = coverage(con, found, monthly)
    for name, frame in (("coverage", covered), ("anomalies", found)):
        con.register("found_frame", frame)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM found_frame")
        con.unregister("found_frame")
    return found


@contextlib.contextmanager
def _bounded_memory(con: duckdb.DuckDBPyConnection):
    # DuckDB's aggregates spill to disk beyond this, so the memory the findings take stays
    # bounded however many rows the store holds (grouping 29 M Crime IDs would take GBs)
    con.execute(f"SET memory_limit = '{QUALITY_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit")  # the store's connections never set another


def current(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The anomalies of the store as it is: the stored ones when no ingest changed the store
    since they were computed (the ingest drops them whenever it changes anything), otherwise
    computed and kept now (:func:`refresh`). A store whose index of rows is missing (made
    by an earlier version) or out of step gets it rebuilt here, i.e. by the next ingest or
    prepare that can write the store (until then its questions scan every part)."""
    if has_table(con, "anomalies") and has_table(con, "coverage"):
        if not crime_index.ready(con):
            with _bounded_memory(con):
                crime_index.build(con)
        return stored_anomalies(con)
    return refresh(con)


def stored_anomalies(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The anomalies kept by :func:`refresh`, or computed now when the store has none."""
    if not has_table(con, "anomalies"):
        return anomalies(con)
    frame = con.execute("SELECT force, month, kind, detail FROM anomalies").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def stored_coverage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The coverage kept by :func:`refresh`, or computed now when it is missing or stale."""
    if not (has_table(con, "coverage") and has_table(con, "anomalies")):
        return coverage(con, stored_anomalies(con))
    frame = con.execute("SELECT force, month, rows, has_data, incomplete, reason FROM coverage "
                        "ORDER BY force, month").df()
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def anomalies_json(frame: pd.DataFrame) -> list[dict]:
    """Anomalies as ingest-report.json records (month as YYYY-MM)."""
    return [{"force": str(r.force), "month": pd.Timestamp(r.month).strftime("%Y-%m")
             if pd.notna(r.month) else None, "kind": r.kind, "detail": r.detail}
            for r in frame.itertuples()]


def _n(n: int, word: str) -> str:
    """'1 row', '2 rows' (the store does not import the report layer's words)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"
