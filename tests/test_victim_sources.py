"""Victim-level extracts: validation, pseudonymisation, store, and no identifier leaks."""

from __future__ import annotations

import datetime as dt
import os
import re

import pandas as pd
import pytest

from smp_analysis import store
from smp_analysis.errors import InputError
from smp_analysis.pseudonymise import KEY_ENV, KeyError_, load_key, pseudonym
from smp_analysis.sources.victims import read_incidents, read_marac_referrals
from smp_analysis.store import ingest

KEY = b"5f0c2e8a9b7d41e6a3c8f1d2b4e6a7c9"  # random, as `smp keygen` makes them
HEADER = "incident_id,victim_id,date,time,incident_type,domestic,is_crime,perpetrator_id," \
         "lsoa_code,ward_code,district_code"


def _write(tmp_path, lines, name="incidents.csv", header=HEADER):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


GOOD = "101,VIC001,2023-05-01,21:30,Assault,true,true,PER9,E01024321,E05005044,E07000110"


def test_valid_rows_are_pseudonymised(tmp_path):
    r = read_incidents(_write(tmp_path, [GOOD, GOOD.replace("101,", "102,").replace(
        "2023-05-01", "02/06/2023")]), KEY, today=dt.date(2024, 1, 1))
    rows = r.rows
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 2, 0)
    assert "victim_id" not in rows.columns
    assert rows["victim_key"].tolist() == [pseudonym("VIC001", KEY)] * 2
    assert rows["date"].tolist() == [dt.date(2023, 5, 1), dt.date(2023, 6, 2)]
    assert bool(rows["domestic"].iloc[0]) and bool(rows["is_crime"].iloc[0])


def test_bad_rows_are_quarantined_without_leaking_ids(tmp_path):
    lines = [
        GOOD,
        GOOD.replace("VIC001", "").replace("101,", "102,"),           # missing victim id
        GOOD.replace("101,", "103,").replace("2023-05-01", "2023-13-45"),  # bad date
        GOOD.replace("101,", "104,").replace("2023-05-01", "2031-01-01"),  # future date
        GOOD,                                                        # duplicate incident_id
        GOOD.replace("101,", "105,").replace("true,true", "maybe,true"),
    ]
    r = read_incidents(_write(tmp_path, lines), KEY, today=dt.date(2024, 1, 1))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (6, 1, 5)
    q = r.quarantine.set_index("line")
    assert q.loc[3, "column"] == "victim_id" and pd.isna(q.loc[3, "value"])
    assert "not YYYY-MM-DD" in q.loc[4, "reason"]
    assert "in the future" in q.loc[5, "reason"]
    assert q.loc[6, "reason"].startswith("duplicate incident_id")
    assert q.loc[7, "column"] == "domestic"
    assert "VIC001" not in r.quarantine.to_csv()


def test_missing_columns_are_named(tmp_path):
    path = _write(tmp_path, [], header="incident_id,date")
    with pytest.raises(InputError) as info:
        read_incidents(path, KEY)
    text = str(info.value)
    assert "column 'victim_id': expected column is missing" in text
    assert "column 'district_code'" in text


def test_marac_reader(tmp_path):
    path = _write(tmp_path, ["M1,VIC001,2023-05-01,E07000110", "M1,VIC002,2023-05-02,E07000110",
                             "M2,VIC003,not a date,E07000110"],
                  name="marac.csv", header="referral_id,victim_id,referral_date,district")
    r = read_marac_referrals(path, KEY, today=dt.date(2024, 1, 1))
    assert (r.rows_loaded, r.rows_quarantined) == (1, 2)


def test_key_comes_from_environment_or_file(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(KeyError_, match=KEY_ENV):
        load_key(None)
    key_file = tmp_path / "k"
    key_file.write_text("short")
    key_file.chmod(0o600)
    with pytest.raises(KeyError_, match="at least 16"):
        load_key(key_file)
    key_file.write_text("9d1f4b7a2c6e8f03b5a7d9c1e3f5a7b9\n")
    assert load_key(key_file) == b"9d1f4b7a2c6e8f03b5a7d9c1e3f5a7b9"
    monkeypatch.setenv(KEY_ENV, "e4c2a0f8d6b4e2c0a8f6d4b2e0c8a6f4")
    assert load_key(key_file) == b"e4c2a0f8d6b4e2c0a8f6d4b2e0c8a6f4"


def test_store_holds_no_raw_ids_and_refuses_a_second_key(tmp_path):
    path = _write(tmp_path, [GOOD])
    con = store.connect(tmp_path / "s.duckdb")
    ingest.load_victim_extract(con, "incidents", path, KEY)
    dump = con.execute("SELECT * FROM incidents").df().to_csv()
    assert "VIC001" not in dump and "PER9" not in dump
    assert ingest.load_victim_extract(con, "incidents", path, KEY).status == "unchanged"
    with pytest.raises(InputError, match="different pseudonymisation key"):
        ingest.load_victim_extract(con, "incidents", path,
                                   b"7c3e9a1f5b8d2e4a6c0f9b3d7e1a5c8f")
    con.close()
    assert b"VIC001" not in (tmp_path / "s.duckdb").read_bytes()


@pytest.mark.slow
def test_appendix_leaks_no_identifier_and_no_small_count(built_appendix, demo_dir):
    """Scan every file the appendix build produced (HTML, executed notebooks, any CSV)."""
    raw = pd.read_csv(demo_dir / "victims" / "incidents.csv", dtype=str)
    marac = pd.read_csv(demo_dir / "victims" / "marac_referrals.csv", dtype=str)
    key = (demo_dir / "victims" / "pseudonym.key").read_bytes().strip()
    ids = set(raw["victim_id"]) | set(raw["perpetrator_id"]) | set(marac["victim_id"])
    hashed = {pseudonym(i, key) for i in ids}
    out = built_appendix.html.parent
    produced = [p for p in out.rglob("*") if p.suffix in {".html", ".ipynb", ".csv"}]
    assert built_appendix.html in produced and len(produced) >= 2
    id_pattern = re.compile(r"\b[VP]\d{6}\b|\b[0-9a-f]{32}\b")
    for path in produced:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = set(id_pattern.findall(text))
        assert not (found & (ids | hashed)), f"{path.name} contains an identifier"
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(built_appendix.html.read_text(encoding="utf-8"), "html.parser")
    cells = soup.select("td.smp-protected")
    assert len(cells) > 100
    for cell in cells:  # a published count is 0 or at least the threshold; nothing says "<5"
        value = cell.get_text(strip=True)
        assert value == "[c]" or value == "0" or int(value.replace(",", "")) >= 5, value
    assert any(c.get_text(strip=True) == "[c]" for c in cells)
    assert "<5" not in soup.get_text() and "&lt;5" not in built_appendix.html.read_text()
    protected_tables = [c.find_parent("table") for c in soup.find_all(
        "caption", string=re.compile(r"\[c\]: not published to protect confidentiality.*"
                                     "counts from 1 to 4"))]
    assert len(protected_tables) == 3
    for table in protected_tables:
        for cell in table.find_all("td"):
            assert not re.fullmatch(r"[1-4]", cell.get_text(strip=True)), cell
    chapter = soup.find(id=re.compile(r"^\d+.-Domestic")).find_parent("div").find_parent("div")
    text = " ".join(t.get_text(" ", strip=True) for t in soup.find_all(["p", "li"]))
    small = re.findall(r"(?<![\d,.<])([1-4]) (?:incidents|victims|referrals|crimes)", text)
    assert small == [], small
    assert chapter is not None
    # the chapter as a whole (summary, ward and high-harm tables, rates to their printed
    # precision) attacked by differencing and integer bounds: nothing narrowed below 5 values
    from disclosure_attack import read_chapter

    attacked = read_chapter(str(soup))
    assert len(attacked.hidden) > 10 and attacked.conflicts == []
    assert attacked.recovered(5) == {}
    assert attacked.differencing() == {}
    # the provenance table: victim extracts' row counts are protected too
    for row in soup.select("#provenance tr"):
        tds = [td.get_text(strip=True) for td in row.find_all("td")]
        if tds and tds[0] in ("incidents", "marac_referrals"):
            for value in tds[3:]:
                assert value in ("[c]", "0") or int(value.replace(",", "")) >= 5, tds


def test_env_key_not_left_in_environment_by_tests():
    assert os.environ.get(KEY_ENV) is None
