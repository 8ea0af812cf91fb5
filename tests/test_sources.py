"""Readers: police.uk street CSVs and geography lookups, good and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smp_analysis.errors import InputError
from smp_analysis.sources.geography import (
    read_census_population,
    read_lsoa_lookup,
    read_population_by_year,
    read_ward_lookup,
)
from smp_analysis.sources.police_uk import COLUMNS, read_street_csv

HEADER = ",".join(COLUMNS)
ASB = ",2019-01,Kent Police,Kent Police,0.52,51.27,On or near X,E01024321,Maidstone 001A,Anti-social behaviour,,"
CRIME = "abc{n},2019-01,Kent Police,Kent Police,0.52,51.27,On or near X,E01024321,Maidstone 001A,Burglary,Under investigation,"
NO_LOCATION = "def1,2019-01,Kent Police,Kent Police,,,No Location,,,Drugs,Local resolution,"


def _file(tmp_path: Path, lines: list[str], name: str = "2019-01-kent-street.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_asb_without_id_and_no_location_rows_are_valid(tmp_path):
    r = read_street_csv(_file(tmp_path, [ASB, CRIME.format(n=1), NO_LOCATION]))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 3, 0)
    row = r.rows.set_index("line").loc[4]
    assert pd.isna(row["lsoa_code"]) and row["location"] == "No Location"


def test_bad_rows_quarantined_with_line_column_reason(tmp_path):
    lines = [CRIME.format(n=1),
             CRIME.format(n=2).replace("Burglary", "Jaywalking"),
             CRIME.format(n=3).replace("51.27", "151.27"),
             CRIME.format(n=4).replace(",2019-01,", ",2019-1,"),
             CRIME.format(n=1),  # duplicate Crime ID
             CRIME.format(n=6).replace(",Under investigation,", ","),  # truncated: 11 fields
             ASB.replace(",2019-01,", ",2019-02,")]
    r = read_street_csv(_file(tmp_path, lines))
    assert r.rows_read == 7 and r.rows_loaded == 1 and r.rows_quarantined == 6
    q = r.quarantine.set_index("line")
    assert q.loc[3, "column"] == "Crime type" and q.loc[3, "value"] == "Jaywalking"
    assert q.loc[4, "column"] == "Latitude"
    assert "not YYYY-MM" in q.loc[5, "reason"]
    assert q.loc[6, "reason"].startswith("duplicate row")
    assert "wrong number of fields (11, expected 12)" in q.loc[7, "reason"]
    assert "does not match the file name" in q.loc[8, "reason"]


def test_repeated_crime_id_with_different_details_is_kept(tmp_path):
    other = CRIME.format(n=1).replace("On or near X", "On or near Y")
    r = read_street_csv(_file(tmp_path, [CRIME.format(n=1), other]))
    assert (r.rows_loaded, r.rows_quarantined) == (2, 0)


def test_every_problem_of_a_row_is_listed(tmp_path):
    bad = CRIME.format(n=1).replace("Burglary", "X").replace("0.52", "99")
    r = read_street_csv(_file(tmp_path, [bad]))
    assert set(r.quarantine["column"]) == {"Crime type", "Longitude"}
    assert r.rows_quarantined == 1


def test_quoted_commas_and_newlines_keep_line_numbers(tmp_path):
    multi = CRIME.format(n=1).replace("On or near X", '"On or near X,\nY"')
    r = read_street_csv(_file(tmp_path, [multi, CRIME.replace("Burglary", "Nope").format(n=2)]))
    assert r.rows_loaded == 1 and r.rows.iloc[0]["location"] == "On or near X,\nY"
    assert r.quarantine["line"].tolist() == [4]  # the record after a two-line record


def test_bom_and_crlf_load_fully(tmp_path):
    path = tmp_path / "2019-01-kent-street.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([HEADER, ASB, CRIME.format(n=1)]).encode()
                     + b"\r\n")
    r = read_street_csv(path)
    assert (r.rows_read, r.rows_loaded) == (2, 2)


@pytest.mark.parametrize("content, expected", [
    (b"", "the file is empty"),
    (b"Crime ID,Month\n", "expected column is missing"),
    (HEADER.replace("Crime type", "Offence").encode() + b"\n", "column 'Offence': unexpected column"),
    (HEADER.encode() + b"\n" + CRIME.format(n=1).encode() + b"\n\xff\xfe,oops\n",
     "line 3: byte 0xff is not valid UTF-8"),
])
def test_unusable_files_fail_with_a_clear_message(tmp_path, content, expected):
    path = tmp_path / "2019-01-kent-street.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_street_csv(path)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_renamed_column_reports_missing_and_unexpected_together(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(HEADER.replace("Crime type", "Type").replace("Context", "Ctx") + "\n")
    with pytest.raises(InputError) as info:
        read_street_csv(path)
    assert len(info.value.problems) == 4


def test_extra_and_missing_columns_are_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(HEADER.replace(",Context", "") + ",Notes,Extra\n")
    with pytest.raises(InputError) as info:
        read_street_csv(path)
    text = str(info.value)
    assert "column 'Context': expected column is missing" in text
    assert "column 'Notes': unexpected column" in text and "column 'Extra'" in text


def test_header_only_file_loads_nothing(tmp_path):
    r = read_street_csv(_file(tmp_path, []))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (0, 0, 0)


def test_real_kent_month_reconciles(shared_data):
    path = shared_data / "police_uk/kent/2018-10/2018-10-kent-street.csv"
    r = read_street_csv(path)
    with open(path, "rb") as f:
        physical_rows = sum(1 for _ in f) - 1  # no quoted newlines in police.uk downloads
    assert r.rows_read == physical_rows
    assert r.rows_read == r.rows_loaded + r.rows_quarantined
    assert (r.rows["lsoa_code"].isna()).sum() > 0  # real No Location rows are kept


def test_real_lsoa_lookup_has_maidstones_95_lsoas(shared_data):
    lookup = read_lsoa_lookup(shared_data / "geography/PoliceforceLSOA.csv")
    assert len(lookup) == 32_844
    assert (lookup["la_code"] == "E07000110").sum() == 95


def test_real_census_messy_header_reads_all_residents(shared_data):
    census = read_census_population(shared_data / "geography/census_2011_population_hh.csv")
    row = census.set_index("lsoa_code").loc["E01020634"]
    # The file's first data row: "1,563" all residents, "1,517" household residents, 666 hh.
    assert (row["population"], row["households"]) == (1563, 666)


def test_lookup_errors_list_every_bad_row(tmp_path):
    path = tmp_path / "wards.csv"
    path.write_text("lsoa_code,ward_code,ward_name\nE01000001,E05000001,A\nX1,E05000002,B\n"
                    "E01000003,bad,C\n")
    with pytest.raises(InputError) as info:
        read_ward_lookup(path)
    text = str(info.value)
    assert "line 3, column 'lsoa_code'" in text and "line 4, column 'ward_code'" in text


def test_population_by_year_rejects_non_numbers(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("area_code,area_name,year,population\nE07000110,Maidstone,2014,\"1,000\"\n")
    with pytest.raises(InputError, match="line 2, column 'population'"):
        read_population_by_year(path)
