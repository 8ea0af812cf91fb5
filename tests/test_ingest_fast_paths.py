"""The shortcuts that make ingest fast give the same answers as the long way round.

* the clean-file path (Arrow only) and the pandera path type a clean file identically, and a
  file that breaks a coordinate rule still gets every bad row quarantined;
* a registered file is known unchanged by its stat key without being read, and any write to it
  (even one that restores size and modification time) makes the next run read it;
* the stored data-quality findings are reused only while the store is unchanged;
* the Farrington tails from scipy.special are scipy.stats' numbers to the last bit;
* the command line's ingest imports none of the heavy libraries it does not use.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from smp_analysis import store
from smp_analysis.sources import police_uk
from smp_analysis.store import ingest, quality

HEADER = ",".join(police_uk.COLUMNS)


def _row(i: int, month: str = "2023-01", lon: str = "0.5", lat: str = "51.2",
         crime_type: str = "Burglary") -> str:
    crime_id = "" if crime_type == "Anti-social behaviour" else f"{i:064x}"
    return (f"{crime_id},{month},Kent Police,Kent Police,{lon},{lat},On or near Here,"
            f"E01000{i % 1000:03d},Somewhere 001A,{crime_type},Under investigation,")


def _write(folder, month: str, rows: list[str]):
    path = folder / f"{month}-kent-street.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _clean_rows(n: int = 40, month: str = "2023-01") -> list[str]:
    return [_row(i, month, lon="" if i % 7 == 0 else f"{0.4 + i / 1000:.6f}",
                 lat="" if i % 7 == 0 else "51.25",
                 crime_type="Anti-social behaviour" if i % 3 == 0 else "Burglary")
            for i in range(n)]


def test_clean_path_types_a_file_as_the_pandera_path_does(tmp_path, monkeypatch):
    path = _write(tmp_path, "2023-01", _clean_rows())
    fast = police_uk.read_street_csv(path)
    monkeypatch.setattr(police_uk, "_clean_typed", lambda path, table: None)
    slow = police_uk.read_street_csv(path)
    assert fast.table.equals(slow.table)
    assert len(fast.quarantine) == len(slow.quarantine) == 0
    assert fast.rows_read == slow.rows_read == 40


def test_clean_path_with_real_files_matches_the_pandera_path(shared_data, monkeypatch):
    files = sorted((shared_data / "police_uk").rglob("*-street.csv"))[::6]
    fast = [police_uk.read_street_csv(f) for f in files]
    monkeypatch.setattr(police_uk, "_clean_typed", lambda path, table: None)
    for f, result in zip(files, fast, strict=True):
        slow = police_uk.read_street_csv(f)
        assert result.table.equals(slow.table), f
        assert result.rows_quarantined == slow.rows_quarantined, f


@pytest.mark.parametrize("lon, reason", [
    ("12.5", "Longitude is not a number in range"),
    ("nan", "Longitude is not a number in range"),
    ("inf", "Longitude is not a number in range"),
    (" 0.5", "Longitude is not a number in range"),
    ("east", "Longitude is not a number in range"),
])
def test_bad_coordinates_are_quarantined_with_their_line(tmp_path, lon, reason):
    rows = _clean_rows(20)
    rows[4] = _row(4, lon=lon)
    rows[11] = _row(11, lon=lon)
    result = police_uk.read_street_csv(_write(tmp_path, "2023-01", rows))
    assert result.quarantine["line"].tolist() == [6, 13]
    assert set(result.quarantine["reason"]) == {reason}
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == 20


def test_unchanged_file_is_known_by_its_stat_key_without_reading(tmp_path, monkeypatch):
    folder = tmp_path / "police"
    folder.mkdir()
    for month in ("2023-01", "2023-02"):
        _write(folder, month, _clean_rows(30, month))
    con = store.connect(tmp_path / "s.duckdb")
    try:
        first = ingest.ingest_police_uk(con, [folder])
        assert [f.status for f in first.files] == ["loaded", "loaded"]

        def must_not_read(*args, **kwargs):
            raise AssertionError("an unchanged file was read")

        monkeypatch.setattr(ingest, "read_one", must_not_read)
        monkeypatch.setattr(ingest, "load_one", must_not_read)
        again = ingest.ingest_police_uk(con, [folder])
        assert [f.status for f in again.files] == ["unchanged", "unchanged"]
        assert [f.rows_loaded for f in again.files] == [30, 30]
    finally:
        con.close()


def test_a_write_that_restores_size_and_time_is_still_noticed(tmp_path):
    folder = tmp_path / "police"
    folder.mkdir()
    path = _write(folder, "2023-01", _clean_rows(30))
    con = store.connect(tmp_path / "s.duckdb")
    try:
        ingest.ingest_police_uk(con, [folder])
        before = os.stat(path)
        text = path.read_text()
        path.write_text(text.replace("Under investigation", "Under Investigation", 1))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
        report = ingest.ingest_police_uk(con, [folder])
        assert report.files[0].status == "replaced"
        assert con.execute("SELECT count(*) FROM crimes WHERE last_outcome_category = "
                           "'Under Investigation'").fetchone()[0] == 1
    finally:
        con.close()


def test_touched_file_is_hashed_again_and_stays_unchanged(tmp_path):
    folder = tmp_path / "police"
    folder.mkdir()
    path = _write(folder, "2023-01", _clean_rows(30))
    con = store.connect(tmp_path / "s.duckdb")
    try:
        ingest.ingest_police_uk(con, [folder])
        os.utime(path, ns=(1, 1_600_000_000_000_000_000))
        report = ingest.ingest_police_uk(con, [folder])
        assert report.files[0].status == "unchanged"
    finally:
        con.close()


def test_stored_findings_are_reused_only_while_the_store_is_unchanged(tmp_path, monkeypatch):
    folder = tmp_path / "police"
    folder.mkdir()
    _write(folder, "2023-01", _clean_rows(30, "2023-01"))
    _write(folder, "2023-03", _clean_rows(30, "2023-03"))
    con = store.connect(tmp_path / "s.duckdb")
    try:
        ingest.ingest_police_uk(con, [folder])
        found = quality.current(con)
        assert "missing month" in set(found["kind"])
        calls = []
        monkeypatch.setattr(quality, "refresh", lambda c: calls.append(c))
        ingest.ingest_police_uk(con, [folder])
        assert quality.current(con)["kind"].tolist() == found["kind"].tolist()
        assert calls == []  # nothing changed: read back
        _write(folder, "2023-02", _clean_rows(30, "2023-02"))
        ingest.ingest_police_uk(con, [folder])
        quality.current(con)
        assert len(calls) == 1  # a file was loaded: computed again
    finally:
        con.close()


def test_farrington_tails_are_scipy_stats_to_the_last_bit():
    from scipy import stats

    from smp_analysis.methods import tails

    rng = np.random.default_rng(12)
    x, loc = rng.normal(size=500) * 4, rng.normal(size=500)
    scale = np.abs(rng.normal(size=500))
    scale[:5], scale[5:8], x[10], x[11] = 0.0, -1.0, np.inf, np.nan
    q = rng.uniform(size=500)
    q[:3] = [0.0, 1.0, np.nan]
    df = rng.integers(-1, 40, size=500).astype(float)
    with np.errstate(all="ignore"):
        assert np.array_equal(tails.norm_sf(x, loc, scale),
                              stats.norm.sf(x, loc=loc, scale=scale), equal_nan=True)
        assert np.array_equal(tails.norm_ppf(q, loc, scale),
                              stats.norm.ppf(q, loc=loc, scale=scale), equal_nan=True)
        assert np.array_equal(tails.t_sf(np.abs(x), df), stats.t.sf(np.abs(x), df),
                              equal_nan=True)


def test_command_line_ingest_imports_only_what_it_uses():
    code = (
        "import sys\n"
        "import smp_analysis.cli, smp_analysis.store.ingest, smp_analysis.store.quality\n"
        "import smp_analysis.pipeline\n"
        "heavy = ['scipy', 'statsmodels', 'matplotlib', 'pandera', 'tqdm', 'papermill',\n"
        "         'smp_analysis.report.context', 'smp_analysis.topics']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_forces_evaluated_together_get_their_own_expected_volumes():
    """Batching forces in one Farrington call changes nothing but the time: each force's
    expected volumes are those of the force evaluated alone (to rounding), including a force
    with a missing month (evaluated in its own group) and one with a month left out."""
    import pandas as pd

    from smp_analysis.methods.quality import seasonal_ratio, volume_anomalies

    rng = np.random.default_rng(5)
    months = pd.period_range("2019-04", "2024-03", freq="M")
    rows = []
    for f in range(5):
        level = rng.uniform(800, 9000)
        for i, m in enumerate(months):
            if f == 3 and i == 30:
                continue
            volume = level * (1 + 0.2 * np.sin(i / 12 * 2 * np.pi)) * (0.5 if f == 1 and
                                                                      i == 44 else 1)
            rows.append({"force": f"F{f}", "month": m.to_timestamp(),
                         "count": int(rng.poisson(volume))})
    series = pd.DataFrame(rows)
    exclude = {"F2": [pd.Timestamp("2022-08-01")]}
    together = seasonal_ratio(series, exclude=exclude)
    alone = pd.concat([seasonal_ratio(part, exclude=exclude)
                       for _, part in series.groupby("force")], ignore_index=True)
    assert together[["force", "month", "count"]].equals(alone[["force", "month", "count"]])
    np.testing.assert_allclose(together["expected"].to_numpy(float),
                               alone["expected"].to_numpy(float), rtol=1e-12)
    found = volume_anomalies(series)
    each = pd.concat([volume_anomalies(part) for _, part in series.groupby("force")],
                     ignore_index=True)
    assert found.equals(each)
    assert months[44].to_timestamp() in set(found.loc[found["force"] == "F1", "month"])
