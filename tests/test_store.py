"""The DuckDB store: incremental idempotent ingest and SQL-side filtering."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from smp_analysis import store
from smp_analysis.store import ingest, queries


@pytest.fixture
def small_store(demo_dir, tmp_path):
    """A store with three demo months and the demo lookup."""
    folder = tmp_path / "police"
    for month in ("2014-01", "2014-02", "2014-03"):
        shutil.copytree(demo_dir / "police_uk" / month, folder / month)
    con = store.connect(tmp_path / "s.duckdb")
    ingest.load_reference(con, "lsoa_lookup", demo_dir / "geography/PoliceforceLSOA.csv")
    report = ingest.ingest_police_uk(con, [folder])
    yield con, folder, report
    con.close()


def test_first_ingest_loads_and_reconciles(small_store):
    con, folder, report = small_store
    assert [f.status for f in report.files] == ["loaded"] * 3
    for f in report.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined
    total = con.execute("SELECT count(*) FROM crimes").fetchone()[0]
    assert total == sum(f.rows_loaded for f in report.files)


def test_reingest_is_a_no_op_and_same_file_twice_counts_once(small_store, tmp_path):
    con, folder, _ = small_store
    before = con.execute("SELECT count(*) FROM crimes").fetchone()[0]
    copy = tmp_path / "copy"
    shutil.copytree(folder / "2014-01", copy)
    report = ingest.ingest_police_uk(con, [folder, copy, folder / "2014-01"])
    assert sorted(f.status for f in report.files) == ["duplicate", "unchanged", "unchanged",
                                                      "unchanged"]
    assert con.execute("SELECT count(*) FROM crimes").fetchone()[0] == before


def test_changed_file_replaces_its_rows(small_store):
    con, folder, _ = small_store
    path = folder / "2014-02" / "2014-02-kent-street.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:101]))  # header + 100 rows
    report = ingest.ingest_police_uk(con, [path])
    assert report.files[0].status == "replaced"
    n = con.execute("SELECT count(*) FROM crimes WHERE month = DATE '2014-02-01'").fetchone()[0]
    assert n == 100
    assert con.execute("SELECT count(*) FROM source_files WHERE kind='police_uk'").fetchone()[0] == 3


def test_monthly_counts_match_an_independent_pandas_count(small_store, demo_dir):
    con, folder, _ = small_store
    got = queries.monthly_counts(con, start=pd.Timestamp("2014-02-01").date(),
                               end=pd.Timestamp("2014-02-28").date(), area_codes=["E07000110"])
    raw = pd.read_csv(folder / "2014-02" / "2014-02-kent-street.csv", dtype=str)
    lookup = pd.read_csv(demo_dir / "geography/PoliceforceLSOA.csv", dtype=str)
    lsoas = set(lookup.loc[lookup["Local authority code"] == "E07000110", "LSOA Code"])
    expected = raw[raw["LSOA code"].isin(lsoas)].groupby("Crime type").size()
    assert got.set_index("crime_type")["count"].to_dict() == expected.to_dict()
    assert set(got["area_code"]) == {"E07000110"}


def test_unplaced_rows_are_counted_not_lost(small_store):
    con, folder, report = small_store
    unplaced = queries.unplaced_counts(con, start=pd.Timestamp("2014-01-01").date(),
                                     end=pd.Timestamp("2014-03-31").date())
    placed = queries.monthly_counts(con, start=pd.Timestamp("2014-01-01").date(),
                                  end=pd.Timestamp("2014-03-31").date())
    assert placed["count"].sum() + unplaced["count"].sum() == sum(
        f.rows_loaded for f in report.files)
    assert unplaced["count"].sum() > 0


def test_failed_file_is_reported_and_others_still_load(tmp_path, demo_dir):
    folder = tmp_path / "p"
    shutil.copytree(demo_dir / "police_uk" / "2014-01", folder / "2014-01")
    (folder / "2014-02").mkdir()
    (folder / "2014-02" / "2014-02-kent-street.csv").write_bytes(b"")
    con = store.connect(tmp_path / "s.duckdb")
    report = ingest.ingest_police_uk(con, [folder])
    assert [f.status for f in report.files] == ["loaded", "failed"]
    assert "the file is empty" in report.failed[0].error
    con.close()


def test_failed_run_leaves_the_store_as_it_was(small_store, demo_dir, monkeypatch):
    con, folder, _ = small_store
    before = con.execute("SELECT count(*) FROM crimes").fetchone()[0]
    parts_before = sorted(p.name for p in store.parts_dir(con).iterdir())
    more = folder.parent / "more"
    for month in ("2014-04", "2014-05"):
        shutil.copytree(demo_dir / "police_uk" / month, more / month)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    original = ingest._Run._store
    monkeypatch.setattr(ingest._Run, "_store", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest.ingest_police_uk(con, [more])
    monkeypatch.setattr(ingest._Run, "_store", original)
    assert con.execute("SELECT count(*) FROM crimes").fetchone()[0] == before
    assert sorted(p.name for p in store.parts_dir(con).iterdir()) == parts_before


def test_replaced_file_part_is_removed(small_store):
    con, folder, _ = small_store
    path = folder / "2014-03" / "2014-03-kent-street.csv"
    old_id = con.execute("SELECT file_id FROM source_files WHERE path = ?",
                         [str(path)]).fetchone()[0]
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:51]))
    ingest.ingest_police_uk(con, [path])
    assert not (store.parts_dir(con) / f"{old_id}.parquet").exists()
    assert con.execute("SELECT count(*) FROM crimes WHERE month = DATE '2014-03-01'"
                       ).fetchone()[0] == 50


def test_read_only_connection_sees_the_rows(small_store, tmp_path):
    con, _, report = small_store
    con.close()
    ro = store.connect(tmp_path / "s.duckdb", read_only=True)
    assert ro.execute("SELECT count(*) FROM crimes").fetchone()[0] == sum(
        f.rows_loaded for f in report.files)
    ro.close()
