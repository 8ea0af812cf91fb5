"""The store's index of its rows (``store/crime_index.py``): every query answered from it, or
reading only the parts it names, gives what the full scan of every row gives, on real files of
two forces and on hand-made rows (cross-border, no location, LSOA not in the lookup, ASB);
it is dropped whenever the store changes, rebuilt, and never used when out of step."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd
import pytest

from smp_analysis import store
from smp_analysis.sources.police_uk import COLUMNS
from smp_analysis.store import crime_index, ingest, quality, queries

MAIDSTONE, NEWCASTLE = "E07000110", "E08000021"


def _answers(con, districts: list[str], forces: list[str]) -> dict:
    """Every query the index serves, for these districts and lookup forces."""
    span = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
    got: dict = {"force_monthly": queries.force_monthly(con),
                 "data_span": queries.data_span(con),
                 "unplaced": queries.unplaced_counts(con, start=span[0], end=span[1]),
                 "quarantine": queries.quarantine_summary(con)}
    for code in districts:
        got["area_forces", code] = queries.area_forces(con, [code])
        for level in ("district", "lsoa"):
            got["monthly_counts", code, level] = queries.monthly_counts(
                con, start=span[0], end=span[1], area_codes=[code], level=level)
        got["crime_points", code] = queries.crime_points(con, district_code=code,
                                                          start=span[0], end=span[1])
    for force in forces:
        label = queries.force_label(con, force)
        got["force_label", force] = label
        got["force_monthly_counts", force] = queries.monthly_counts(
            con, start=span[0], end=span[1], police_force=force)
        got["force_local_authorities", force] = queries.force_local_authorities(con, label)
        got["police_uk_files", force] = queries.police_uk_files(con, [label])
        got["input_files", force] = queries.input_files(con, [label])
        got["category_names", force] = queries.category_names(con, [label])
        got["unplaced", force] = queries.unplaced_counts(con, start=span[0], end=span[1],
                                                         falls_within=label)
    return got


def _full_scan_answers(path, districts, forces) -> dict:
    """The same questions with the index moved aside: every query scans every row."""
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE crime_index RENAME TO crime_index_aside")
    try:
        con = store.connect(path, read_only=True)
        try:
            assert not crime_index.ready(con)
            return _answers(con, districts, forces)
        finally:
            con.close()
    finally:
        with duckdb.connect(str(path)) as con:
            con.execute("ALTER TABLE crime_index_aside RENAME TO crime_index")


def _assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[key], value, obj=str(key))
        else:
            assert got[key] == value, key


def _indexed_store(path, folders, lookup) -> None:
    con = store.connect(path)
    try:
        ingest.load_reference(con, "lsoa_lookup", lookup)
        ingest.ingest_police_uk(con, folders)
        quality.current(con)  # what `smp ingest` and every build's prepare do
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_forces(shared_data, tmp_path_factory):
    """Kent's 5 and Northumbria's 33 real files in one store, with the real lookup."""
    path = tmp_path_factory.mktemp("two") / "s.duckdb"
    _indexed_store(path, [shared_data / "police_uk" / "kent",
                          shared_data / "police_uk" / "northumbria"],
                   shared_data / "geography" / "PoliceforceLSOA.csv")
    return path


def test_real_files_of_two_forces_same_answers_as_the_full_scan(two_forces, shared_data):
    lookup = pd.read_csv(shared_data / "geography" / "PoliceforceLSOA.csv", dtype=str)
    districts = sorted(lookup.loc[lookup["Police_force"].isin(["Kent", "Northumbria"]),
                                  "Local authority code"].unique())
    districts = districts[:3] + [MAIDSTONE, NEWCASTLE] + ["E99999999"]  # last: none
    forces = ["Kent", "Northumbria", "Durham"]  # Durham: no rows in the store
    con = store.connect(two_forces, read_only=True)
    try:
        assert crime_index.ready(con)
        got = _answers(con, districts, forces)
    finally:
        con.close()
    _assert_same(got, _full_scan_answers(two_forces, districts, forces))
    # and against an independent count: Maidstone's rows in the raw files, by pandas
    raw = pd.concat(pd.read_csv(f, dtype=str, usecols=["LSOA code"]) for f in sorted(
        (shared_data / "police_uk" / "kent").rglob("*.csv")))
    lsoas = set(lookup.loc[lookup["Local authority code"] == MAIDSTONE, "LSOA Code"])
    in_maidstone = raw["LSOA code"].isin(lsoas).sum()
    assert got["area_forces", MAIDSTONE]["rows"].sum() == got[
        "monthly_counts", MAIDSTONE, "district"]["count"].sum() == in_maidstone > 1000


def test_a_district_reads_only_the_parts_holding_its_rows(two_forces):
    con = store.connect(two_forces, read_only=True)
    try:
        kent = queries.police_uk_files(con, ["Kent Police"])
        northumbria = queries.police_uk_files(con, ["Northumbria Police"])
        assert len(kent) == 5 and len(northumbria) == 33
        source = crime_index.crimes_in(
            con, "l.la_code = ?", [MAIDSTONE],
            join="JOIN lsoa_lookup l ON l.lsoa_code = i.lsoa_code")
        read = {int(n) for n in re.findall(r"/(\d+)\.parquet", source)}
        assert read == kent
        # a period with no rows reads no part at all
        none = crime_index.crimes_in(con, "i.month < ?", [dt.date(2001, 1, 1)])
        assert "parquet" not in none
    finally:
        con.close()


HANDMADE_LOOKUP = (
    ",Region code,Region name,Local authority code,Local authority name,MSOA Code,MSOA Name,"
    "LSOA Code,LSOA Name,Police_force\n"
    "1,E1,SE,E07000110,Maidstone,E02005070,Maidstone 003,E01024321,Maidstone 003B,Kent\n"
    "2,E1,SE,E07000110,Maidstone,E02005070,Maidstone 003,E01024322,Maidstone 003C,Kent\n"
    "3,E1,NE,E08000021,Newcastle,E02001708,Newcastle 001,E01008294,Newcastle 001A,"
    "Northumbria\n")


def _row(n, month, force, lsoa, crime_type="Burglary", located=True) -> str:
    where = "0.52,51.27,On or near X" if located else ",,No Location"
    return (f"id{month}{force[:3]}{n:04d},{month},{force},{force},{where},{lsoa},"
            f"{'Somewhere 001A' if lsoa else ''},{crime_type},Under investigation,")


def _file(folder, month, force, rows: list[str]):
    slug = force.lower().replace(" police", "").replace(" ", "-")
    path = folder / month / f"{month}-{slug}-street.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


def _handmade(folder):
    """Kent's January: 3 crimes and 2 ASB in Maidstone, 2 crimes over the border in Newcastle,
    1 without a location, 1 in an LSOA the lookup lacks; Northumbria's January: 4 in Newcastle,
    1 in Maidstone; Kent's February: 1 in Maidstone."""
    kent, north = "Kent Police", "Northumbria Police"
    _file(folder, "2019-01", kent, [
        *(_row(i, "2019-01", kent, "E01024321") for i in range(3)),
        *(_row(3 + i, "2019-01", kent, "E01024322", "Anti-social behaviour") for i in range(2)),
        *(_row(5 + i, "2019-01", kent, "E01008294") for i in range(2)),
        _row(7, "2019-01", kent, "", located=False),
        _row(8, "2019-01", kent, "E01099999")])
    _file(folder, "2019-01", north, [
        *(_row(i, "2019-01", north, "E01008294", "Vehicle crime") for i in range(4)),
        _row(4, "2019-01", north, "E01024321", "Vehicle crime")])
    _file(folder, "2019-02", kent, [_row(0, "2019-02", kent, "E01024321")])


def test_hand_made_rows_counted_by_hand(tmp_path):
    _handmade(tmp_path / "police")
    (tmp_path / "lookup.csv").write_text(HANDMADE_LOOKUP)
    path = tmp_path / "s.duckdb"
    _indexed_store(path, [tmp_path / "police"], tmp_path / "lookup.csv")
    con = store.connect(path, read_only=True)
    try:
        assert crime_index.ready(con)
        got = _answers(con, [MAIDSTONE, NEWCASTLE], ["Kent", "Northumbria"])
    finally:
        con.close()
    _assert_same(got, _full_scan_answers(path, [MAIDSTONE, NEWCASTLE], ["Kent", "Northumbria"]))
    forces = got["area_forces", NEWCASTLE].set_index("force")["rows"].to_dict()
    assert forces == {"Northumbria Police": 4, "Kent Police": 2}
    assert got["area_forces", MAIDSTONE].set_index("force")["rows"].to_dict() == {
        "Kent Police": 6, "Northumbria Police": 1}
    monthly = got["force_monthly"].set_index(["force", "month"])
    jan = pd.Timestamp("2019-01-01")
    assert monthly.loc[("Kent Police", jan), ["crimes", "asb", "rows", "no_lsoa"]].tolist() == [
        7, 2, 9, 1]
    assert got["unplaced"].set_index("reason")["count"].to_dict() == {
        "LSOA not in lookup": 1, "no LSOA (No Location)": 1}
    assert got["force_label", "Northumbria"] == "Northumbria Police"
    assert got["data_span"] == (dt.date(2019, 1, 1), dt.date(2019, 2, 1))
    assert len(got["crime_points", NEWCASTLE]) == 6


def test_dropped_when_the_store_changes_rebuilt_and_never_used_out_of_step(tmp_path):
    folder = tmp_path / "police"
    _handmade(folder)
    (tmp_path / "lookup.csv").write_text(HANDMADE_LOOKUP)
    path = tmp_path / "s.duckdb"
    _indexed_store(path, [folder], tmp_path / "lookup.csv")
    kent_feb = folder / "2019-02" / "2019-02-kent-street.csv"
    _file(folder, "2019-02", "Kent Police", [_row(i, "2019-02", "Kent Police", "E01024321")
                                             for i in range(5)])
    con = store.connect(path)
    try:
        ingest.ingest_police_uk(con, [kent_feb])
        assert not store.has_table(con, "crime_index")  # dropped with the findings
        quality.current(con)
        assert crime_index.ready(con)
        feb = queries.monthly_counts(con, start=dt.date(2019, 2, 1), end=dt.date(2019, 2, 1),
                                     area_codes=[MAIDSTONE])
        assert feb["count"].sum() == 5
        # out of step (as if something else changed the rows): not used, answers still right
        con.execute("DELETE FROM crime_index WHERE month = DATE '2019-02-01'")
        assert not crime_index.ready(con)
        assert queries.monthly_counts(con, start=dt.date(2019, 2, 1), end=dt.date(2019, 2, 1),
                                      area_codes=[MAIDSTONE])["count"].sum() == 5
        # a store made before the index (findings kept, no index) gets one at the next prepare
        con.execute("DROP TABLE crime_index")
        quality.current(con)
        assert crime_index.ready(con)
    finally:
        con.close()
