"""Data-quality checks: hand-made series, the real Kent and Northumbria files, the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from smp_analysis import store
from smp_analysis.cli import main
from smp_analysis.methods.quality import missing_months, neighbour_ratio, volume_anomalies
from smp_analysis.store import ingest
from smp_analysis.store import quality as dataquality


def _series(counts: dict[str, int], force: str = "F") -> pd.DataFrame:
    return pd.DataFrame({"force": force, "month": pd.to_datetime([f"{m}-01" for m in counts]),
                         "count": list(counts.values())})


def test_missing_months_by_hand():
    s = pd.concat([_series({"2021-11": 10, "2021-12": 10, "2022-02": 10, "2022-05": 10}),
                   _series({"2021-01": 5, "2021-02": 5}, force="G")])
    found = missing_months(s)
    assert [(r.force, f"{r.month:%Y-%m}") for r in found.itertuples()] == [
        ("F", "2022-01"), ("F", "2022-03"), ("F", "2022-04")]


def test_february_is_compared_per_day():
    # 28 days x 100 per day = 2,800 is not low against 31 x 100 = 3,100 neighbours
    s = _series({"2021-01": 3100, "2021-02": 2800, "2021-03": 3100})
    assert neighbour_ratio(s)["ratio"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert volume_anomalies(s).empty


def test_thresholds_by_hand():
    # median per day of the window is 100; 79/day is 21% below (flagged), 81/day is not
    base = {f"2021-{m:02d}": 100 * pd.Period(f"2021-{m:02d}").days_in_month for m in range(1, 8)}
    low = dict(base, **{"2021-04": 79 * 30})
    ok = dict(base, **{"2021-04": 81 * 30})
    high = dict(base, **{"2021-04": 126 * 30})
    assert volume_anomalies(_series(low))["kind"].tolist() == ["implausibly low volume"]
    assert volume_anomalies(_series(ok)).empty
    assert volume_anomalies(_series(high))["kind"].tolist() == ["implausibly high volume"]


def test_small_series_are_not_judged():
    s = _series({"2021-01": 10, "2021-02": 1, "2021-03": 10})
    assert volume_anomalies(s).empty


@pytest.fixture(scope="module")
def kent_store(shared_data, tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("kent") / "k.duckdb")
    report = ingest.ingest_police_uk(con, [shared_data / "police_uk" / "kent"])
    yield con, report
    con.close()


def test_kent_reconciles_exactly(kent_store, shared_data):
    _, report = kent_store
    for f in report.files:
        with open(f.path, "rb") as handle:
            physical = sum(1 for _ in handle) - 1
        assert f.rows_read == physical == f.rows_loaded + f.rows_quarantined
    assert sum(f.rows_read for f in report.files) == 75_735  # as ../shared/data/README.md says


def test_kent_incomplete_publication_is_flagged(kent_store):
    con, _ = kent_store
    found = dataquality.anomalies(con)
    volume = found[found["kind"].str.startswith("implausibly")]
    assert sorted(f"{m:%Y-%m}" for m in volume["month"]) == ["2018-11", "2018-12"]
    # the published violence counts for Oct..Jan, as the data README states them
    v = con.execute("""SELECT strftime(month, '%Y-%m') m, count(*) FROM crimes
                       WHERE crime_type = 'Violence and sexual offences' GROUP BY 1 ORDER BY 1
                    """).fetchall()
    assert [n for _, n in v][:3] == [7_699, 5_037, 2_484]


def test_kent_repeated_ids_are_reported(kent_store):
    con, _ = kent_store
    kinds = set(dataquality.anomalies(con)["kind"])
    assert {"repeated Crime ID", "Crime ID in more than one month", "rows quarantined"} <= kinds


def test_northumbria_missing_month_and_reconciliation(shared_data, tmp_path):
    con = store.connect(tmp_path / "n.duckdb")
    report = ingest.ingest_police_uk(con, [shared_data / "police_uk" / "northumbria"])
    assert len(report.files) == 33
    assert sum(f.rows_read for f in report.files) == 524_070
    assert all(f.rows_read == f.rows_loaded + f.rows_quarantined for f in report.files)
    found = dataquality.anomalies(con)
    missing = found[found["kind"] == "missing month"]
    assert [f"{m:%Y-%m}" for m in missing["month"]] == ["2022-01"]
    assert found[found["kind"].str.startswith("implausibly")].empty
    con.close()


def test_cli_ingest_writes_report_and_fails_on_unusable_file(demo_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    shutil.copytree(demo_dir / "police_uk" / "2012-03", folder / "2012-03")
    shutil.copytree(demo_dir / "police_uk" / "2012-04", folder / "2012-04")
    (folder / "2012-05").mkdir()
    (folder / "2012-05" / "2012-05-kent-street.csv").write_text("Crime ID,Month\n")
    code = main(["ingest", "police-uk", str(folder), "--store", str(tmp_path / "s.duckdb")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "2012-05-kent-street.csv, line 1, column 'Reported by': expected column is missing" in out + err
    report = json.loads((tmp_path / "ingest-report.json").read_text())
    statuses = {f["path"].rsplit("/", 1)[-1]: f["status"] for f in report["files"]}
    assert statuses == {"2012-03-kent-street.csv": "loaded", "2012-04-kent-street.csv": "loaded",
                        "2012-05-kent-street.csv": "failed"}
    march = next(f for f in report["files"] if f["path"].endswith("2012-03-kent-street.csv"))
    assert march["rows_quarantined"] == 5 and march["rows_read"] == march["rows_loaded"] + 5
    assert {"force", "month", "kind", "detail"} == set(report["anomalies"][0])
    # running again changes nothing and succeeds once the bad file is fixed
    (folder / "2012-05" / "2012-05-kent-street.csv").unlink()
    assert main(["ingest", "police-uk", str(folder), "--store", str(tmp_path / "s.duckdb")]) == 0


def test_demo_defects_are_found(demo_dir, tmp_path):
    manifest = json.loads((demo_dir / "demo-manifest.json").read_text())
    con = store.connect(tmp_path / "d.duckdb")
    ingest.ingest_police_uk(con, [demo_dir / "police_uk" / y for y in ("2011-06", "2011-03",
                                                                      "2011-04", "2011-05",
                                                                      "2011-07", "2011-08",
                                                                      "2011-09", "2012-03")])
    found = dataquality.anomalies(con)
    low = found[found["kind"] == "implausibly low volume"]
    assert [f"{m:%Y-%m}" for m in low["month"]] == [manifest["defects"]["incomplete_month"]]
    quarantined = found[found["kind"] == "rows quarantined"]
    assert len(quarantined) == manifest["defects"]["rows_added"]
    con.close()


def _seasonal(years: int = 6, start: str = "2015-01") -> pd.DataFrame:
    months = pd.period_range(start, periods=12 * years, freq="M")
    # seasonality as in police data: winter 20% below the summer peak
    level = 10_000 * (1 + 0.11 * np.cos(2 * np.pi * (months.month.to_numpy() - 7) / 12))
    noise = np.resize([1.0, 1.01, 0.99, 1.02, 0.98], len(months))
    return pd.DataFrame({"force": "F", "month": months.to_timestamp(),
                         "count": np.round(level * noise).astype(int)})


def test_seasonal_method_flags_defects_but_not_seasonal_lows():
    s = _seasonal()
    s.loc[s["month"] == "2018-06-01", "count"] //= 2  # an incomplete publication
    found = volume_anomalies(s)
    assert [f"{m:%Y-%m}" for m in found["month"]] == ["2018-06"]
    assert "(Farrington)" in found["detail"].iloc[0]


def test_a_defect_does_not_make_the_next_year_look_unusual():
    s = _seasonal()
    s.loc[s["month"] == "2018-06-01", "count"] //= 2
    s.loc[s["month"] == "2018-07-01", "count"] //= 2
    found = volume_anomalies(s)
    assert sorted(f"{m:%Y-%m}" for m in found["month"]) == ["2018-06", "2018-07"]


def test_neighbour_method_is_used_without_three_years():
    s = _seasonal(years=2)
    s.loc[s["month"] == "2016-06-01", "count"] //= 2
    found = volume_anomalies(s)
    assert [f"{m:%Y-%m}" for m in found["month"]] == ["2016-06"]
    assert "neighbouring months" in found["detail"].iloc[0]


def test_stored_findings_are_dropped_when_the_store_changes(demo_dir, tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    ingest.ingest_police_uk(con, [demo_dir / "police_uk" / "2012-03"])
    dataquality.refresh(con)
    assert len(dataquality.stored_anomalies(con)) == 5  # the demo's five bad rows
    ingest.ingest_police_uk(con, [demo_dir / "police_uk" / "2012-04"])
    assert not store.has_table(con, "anomalies")
    assert len(dataquality.stored_anomalies(con)) >= 5  # recomputed, not stale
    con.close()
