"""Repeat victimisation, Marac repeats and disclosure control: hand-computed cases."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from smp_analysis.methods.repeats import (
    compare_proportions,
    flag_repeats,
    marac_repeat_rate,
    repeat_victimisation,
)
from smp_analysis.report.disclosure import MARKER, protect, suppress


def _incidents(rows):
    return pd.DataFrame(rows, columns=["incident_id", "victim_id", "date"]).assign(
        date=lambda f: pd.to_datetime(f["date"]))


def test_window_edges_365_is_a_repeat_366_is_not():
    frame = _incidents([
        ("1", "a", "2021-01-01"), ("2", "a", "2022-01-01"),  # 365 days later: repeat
        ("3", "b", "2021-01-01"), ("4", "b", "2022-01-02"),  # 366 days later: not
    ])
    assert flag_repeats(frame).tolist() == [False, True, False, False]
    assert flag_repeats(frame, window_days=366).tolist() == [False, True, False, True]


def test_same_day_incidents_are_ordered_by_incident_id():
    # numeric ids: 9 comes before 10 although "10" < "9" as text
    frame = _incidents([("10", "a", "2022-03-01"), ("9", "a", "2022-03-01")])
    assert flag_repeats(frame).tolist() == [True, False]
    # text ids: ordered as text
    frame = _incidents([("B-2", "a", "2022-03-01"), ("A-7", "a", "2022-03-01")])
    assert flag_repeats(frame).tolist() == [True, False]


def test_look_back_reaches_before_the_period_and_earlier_victims_do_not_count():
    frame = _incidents([
        ("1", "a", "2021-12-01"),  # before the period: look-back only
        ("2", "a", "2022-02-01"),  # repeat (62 days after 1)
        ("3", "b", "2022-05-01"),  # one-off victim
        ("4", "c", "2021-06-01"),  # victim with incidents only before the period
        ("5", "d", "2022-06-01"), ("6", "d", "2022-06-20"), ("7", "d", "2022-07-01"),
    ])
    r = repeat_victimisation(frame, start="2022-01-01", end="2022-12-31")
    # in period: incidents 2,3,5,6,7 -> 5; victims a,b,d -> 3; repeats 2,6,7 -> 3; victims a,d
    assert (r.incidents, r.victims, r.repeat_incidents, r.repeat_victims) == (5, 3, 3, 2)
    assert r.repeat_incident_rate == pytest.approx(3 / 5)
    assert r.repeat_victim_rate == pytest.approx(2 / 3)
    assert r.incidents_per_victim == pytest.approx(5 / 3)


def test_by_area_and_by_month():
    frame = _incidents([("1", "a", "2022-01-05"), ("2", "a", "2022-01-20"),
                        ("3", "b", "2022-02-01")]).assign(ward=["W1", "W1", "W2"])
    r = repeat_victimisation(frame, start="2022-01-01", end="2022-12-31", area="ward")
    by_area = r.by_area.set_index("ward")
    assert by_area.loc["W1", ["incidents", "repeat_incidents", "victims",
                              "repeat_victims"]].tolist() == [2, 1, 1, 1]
    assert by_area.loc["W2", "repeat_incidents"] == 0
    assert r.by_month.set_index("month").loc[pd.Timestamp("2022-01-01"), "incidents"] == 2


def test_marac_repeat_rate_by_hand():
    referrals = pd.DataFrame({
        "referral_id": ["1", "2", "3", "4", "5"],
        "victim_id": ["a", "a", "b", "b", "c"],
        "referral_date": ["2021-05-01", "2022-04-30", "2021-04-01", "2022-04-02",
                          "2022-06-01"]})
    r = marac_repeat_rate(referrals, start=dt.date(2022, 4, 1), end=dt.date(2023, 3, 31))
    # in period: 2 (364 days after 1: repeat), 4 (366 days after 3: not), 5 (first)
    assert (r.referrals, r.repeat_referrals) == (3, 1)
    assert r.repeat_rate == pytest.approx(1 / 3) and r.within_safelives_range()  # 28-40%


def test_two_proportion_test_by_hand():
    # pooled p = 0.375; se = sqrt(.375 * .625 * (1/100 + 1/100)) = 0.068465; z = 2.19089
    assert compare_proportions(45, 100, 30, 100) == pytest.approx(0.028459, abs=1e-5)


def test_suppression_primary_secondary_and_rates():
    table = pd.DataFrame({"ward": ["A", "B", "C", "D"], "incidents": [50, 4, 9, 20],
                          "repeats": [10, 0, 3, 6]})
    shown = suppress(table, counts=["incidents", "repeats"], threshold=5,
                     rates={"rate": ("repeats", "incidents")}, total_label="Total",
                     label_column="ward")
    # incidents: B (4) primary; C (9) is the smallest other non-zero cell -> secondary, and
    # B + C = 83 - 70 = 13 leaves each between 1 and 12. Both carry the same value-free marker.
    assert shown["incidents"].tolist() == ["50", MARKER, MARKER, "20", "83"]
    # repeats: C (3) primary; D (6) secondary (B is 0 and zero is published)
    assert shown["repeats"].tolist() == ["10", "0", MARKER, MARKER, "19"]
    assert shown["rate"].tolist() == ["20.0%", MARKER, MARKER, MARKER, "22.9%"]
    assert shown["ward"].tolist()[-1] == "Total"


def test_small_total_is_suppressed_too():
    shown = suppress(pd.DataFrame({"w": ["A", "B"], "n": [1, 2]}), counts=["n"], threshold=5,
                     total_label="Total")
    assert shown["n"].tolist() == [MARKER, MARKER, MARKER]


def test_single_counts_are_shown_or_marked():
    p = protect({"a": 0, "b": 1, "c": 4, "d": 5, "e": 1234}, [], 5)
    assert [p.count(k) for k in "abcde"] == ["0", MARKER, MARKER, "5", "1,234"]
    assert p.value("b") is None and p.value("e") == 1234
    assert p.rate("d", "e") == "0.4%" and p.rate("b", "e") == MARKER and p.rate("d", "a") == "–"


def test_domestic_and_crime_options_filter_before_counting():
    frame = _incidents([("1", "a", "2022-01-01"), ("2", "a", "2022-02-01"),
                        ("3", "a", "2022-03-01")]).assign(domestic=[True, False, True],
                                                         is_crime=[True, True, False])
    all_rows = repeat_victimisation(frame, start="2022-01-01", end="2022-12-31")
    domestic = repeat_victimisation(frame, start="2022-01-01", end="2022-12-31",
                                    domestic_only=True)
    crimes = repeat_victimisation(frame, start="2022-01-01", end="2022-12-31",
                                  crimes_only=True)
    assert (all_rows.incidents, all_rows.repeat_incidents) == (3, 2)
    assert (domestic.incidents, domestic.repeat_incidents) == (2, 1)  # 3 repeats 1 (59 days)
    assert (crimes.incidents, crimes.repeat_incidents) == (2, 1)


def test_cli_ingests_an_incident_extract(tmp_path, demo_dir, capsys):
    from smp_analysis.cli import main

    code = main(["ingest", "incidents", str(demo_dir / "victims" / "incidents.csv"),
                 "--store", str(tmp_path / "s.duckdb"),
                 "--key-file", str(demo_dir / "victims" / "pseudonym.key")])
    out = capsys.readouterr().out
    assert code == 0 and "loaded" in out and "0 quarantined" in out
    assert "V0" not in out
