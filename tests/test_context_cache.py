"""The Assessment's cache of store queries: one query per set of areas and level, whatever
spans the chapters ask for, and each answer the query's own (checked against the store's
answer on real data in test_places_patterns.py)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from smp_analysis.params import load_params
from smp_analysis.report.context import Assessment
from smp_analysis.store import queries

PROJECT = __import__("pathlib").Path(__file__).resolve().parents[1]
MONTHS = pd.date_range("2015-01-01", "2024-03-01", freq="MS")


def _store_answer(start, end, area_codes, level):
    """What monthly_counts returns for a small made-up store (its SQL semantics)."""
    rows = [(area, month, kind, (i % 7) + (level == "lsoa"))
            for area in ("A", "B", "C") for i, month in enumerate(MONTHS)
            for kind in ("Burglary", "Drugs")]
    frame = pd.DataFrame(rows, columns=["area_code", "month", "crime_type", "count"])
    keep = (frame["month"] >= pd.Timestamp(start)) & (frame["month"] <= pd.Timestamp(end))
    if area_codes is not None:
        keep &= frame["area_code"].isin(list(area_codes))
    return frame[keep].sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.fixture
def sa(monkeypatch):
    calls = []

    def monthly_counts(con, *, start, end, area_codes=None, level="district"):
        calls.append((start, end, None if area_codes is None else tuple(area_codes), level))
        return _store_answer(start, end, area_codes, level)

    monkeypatch.setattr(queries, "monthly_counts", monthly_counts)
    params = load_params(PROJECT / "params" / "2023-24.yaml", check_files=False)
    assessment = Assessment(params, duckdb.connect())
    assessment.calls = calls
    return assessment


SPANS = [(dt.date(2019, 4, 1), dt.date(2020, 3, 31)), (dt.date(1900, 1, 1), dt.date(2024, 3, 31)),
         (dt.date(2023, 4, 15), dt.date(2023, 6, 1)), (dt.date(2015, 1, 1), dt.date(2015, 1, 1))]


def test_one_query_for_every_span_of_the_same_areas(sa):
    for start, end in SPANS:
        got = sa.monthly(start=start, end=end, area_codes=["A", "B"])
        pd.testing.assert_frame_equal(got, _store_answer(start, end, ["A", "B"], "district"))
    assert len(sa.calls) == 1
    # the one query covers every month up to the end of the assessment period
    assert sa.calls[0][1] >= sa.current.end and sa.calls[0][0] <= dt.date(1900, 1, 1)


def test_areas_and_levels_are_kept_apart(sa):
    a = sa.monthly(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31), area_codes=["A"])
    b = sa.monthly(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31), area_codes=["B"])
    every = sa.monthly(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31))
    lsoa = sa.monthly(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31), area_codes=["A"],
                      level="lsoa")
    assert set(a["area_code"]) == {"A"} and set(b["area_code"]) == {"B"}
    assert set(every["area_code"]) == {"A", "B", "C"}
    assert (lsoa["count"] == a["count"] + 1).all()
    assert [c[2:] for c in sa.calls] == [(("A",), "district"), (("B",), "district"),
                                         (None, "district"), (("A",), "lsoa")]
    sa.monthly(start=dt.date(2016, 1, 1), end=dt.date(2016, 12, 31), area_codes=["B"])
    assert len(sa.calls) == 4


def test_a_later_end_asks_the_store_again_and_answers_are_copies(sa):
    first = sa.monthly(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31), area_codes=["A"])
    first["count"] = -1  # a chapter changing its frame changes nobody else's
    again = sa.monthly(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31), area_codes=["A"])
    assert (again["count"] >= 0).all() and len(sa.calls) == 1
    later = dt.date(2026, 3, 31)
    sa.monthly(start=dt.date(2020, 1, 1), end=later, area_codes=["A"])
    assert len(sa.calls) == 2 and sa.calls[1][1] == later
    sa.monthly(start=dt.date(2021, 1, 1), end=dt.date(2025, 1, 1), area_codes=["A"])
    assert len(sa.calls) == 2
