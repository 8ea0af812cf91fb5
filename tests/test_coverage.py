"""Coverage (which months are usable) and like-for-like pairing, by hand; the coverage table in
the store; the data.police.uk category history; district codes across ONS changes."""

from __future__ import annotations

import pandas as pd
import pytest

from smp_analysis import categories, store
from smp_analysis.areas import resolve_district
from smp_analysis.methods.quality import coverage_table
from smp_analysis.report.coverage import LikeForLike, minimum_months, month_coverage
from smp_analysis.store import ingest, queries
from smp_analysis.store import quality as dataquality

MONTHS = pd.period_range("2021-03", "2023-02", freq="M")


def _table(bad: dict[str, str], force: str = "F", months=MONTHS) -> pd.DataFrame:
    """A coverage table for `force`: every month usable except `bad` (month -> 'none' or
    'low')."""
    rows = []
    for m in months:
        kind = bad.get(str(m))
        rows.append({"force": force, "month": m.to_timestamp(), "rows": 0 if kind == "none" else 9,
                     "has_data": kind != "none", "incomplete": kind is not None,
                     "reason": {"none": "no data: the force published no file for this month",
                                "low": "marked incomplete by the data-quality check (low)"}.get(
                         kind)})
    return pd.DataFrame(rows)


def _pair(bad, current=("2022-03", "2023-02"), previous=("2021-03", "2022-02"), forces=("F",),
          table=None):
    table = _table(bad) if table is None else table
    cur = pd.period_range(*current, freq="M")
    prev = pd.period_range(*previous, freq="M")
    return LikeForLike.pair(month_coverage(table, forces, cur, "this year"),
                            month_coverage(table, forces, prev, "last year"))


def test_every_month_usable_is_complete_with_no_caveat():
    pair = _pair({})
    assert (pair.n, pair.of, pair.complete, pair.enough) == (12, 12, True, True)
    assert pair.caveat() == "" and pair.scope() == ""


def test_a_missing_month_drops_its_calendar_month_from_both_periods():
    pair = _pair({"2022-01": "none"})
    assert pair.n == 11 and "2023-01" not in {str(m) for m in pair.current_months}
    assert "2022-01" not in {str(m) for m in pair.previous_months}
    assert pair.scope() == "over the 11 months with complete data in both years"
    assert "January 2022 has no data" in pair.caveat() and "January 2023" in pair.caveat()


def test_below_three_quarters_no_verdict_and_the_months_are_named():
    bad = {f"2021-{m:02d}": "low" for m in range(3, 7)}  # four months marked incomplete
    pair = _pair(bad)
    assert pair.n == 8 and pair.minimum == 9 and not pair.enough
    text = pair.caveat()
    assert "no verdict" in text and "at least 9" in text
    assert "March 2021, April 2021, May 2021 and June 2021 were marked incomplete" in text


def test_no_previous_data_says_no_data_never_rose_from_none():
    months = pd.period_range("2022-03", "2023-02", freq="M")
    pair = _pair({}, table=_table({}, months=months))
    assert pair.no_previous_data and pair.n == 0
    assert pair.caveat() == ("There are no data for last year, so no change from it can be "
                             "given.")


def test_a_month_is_usable_only_when_every_force_has_it():
    both = pd.concat([_table({}), _table({"2022-05": "low"}, force="G")])
    pair = _pair({}, forces=("F", "G"), table=both)
    assert pair.n == 11 and "May 2022 was marked incomplete" in pair.caveat()
    none = month_coverage(both, (), MONTHS[:3], "x", area="Nowhere")
    assert none.n_usable == 0 and "no police.uk rows located in Nowhere" in none.reasons[MONTHS[0]]


def test_periods_of_different_lengths_pair_by_month_of_year():
    pair = _pair({}, current=("2022-06", "2022-08"), previous=("2021-01", "2021-12"))
    assert [str(m) for m in pair.previous_months] == ["2021-06", "2021-07", "2021-08"]
    assert pair.after(pd.Period("2021-07", "M")).n == 2


def test_minimum_months():
    assert [minimum_months(n) for n in (1, 2, 3, 4, 6, 12, 24)] == [1, 2, 3, 3, 5, 9, 18]


def test_coverage_table_by_hand():
    monthly = pd.DataFrame({"force": ["F"] * 4 + ["G"],
                            "month": pd.to_datetime(["2021-01-01", "2021-02-01", "2021-04-01",
                                                     "2021-05-01", "2021-03-01"]),
                            "rows": [100, 40, 100, 100, 7]})
    found = pd.DataFrame({"force": ["F", "F"], "month": pd.to_datetime(["2021-02-01",
                                                                        "2021-03-01"]),
                          "kind": ["implausibly low volume", "missing month"],
                          "detail": ["40 in February 2021, 60% below", "no records"]})
    table = coverage_table(monthly, found)
    f = table[table["force"] == "F"].set_index(table.loc[table["force"] == "F", "month"]
                                               .dt.strftime("%Y-%m"))
    assert f["has_data"].to_dict() == {"2021-01": True, "2021-02": True, "2021-03": False,
                                       "2021-04": True, "2021-05": True}
    assert f["incomplete"].to_dict() == {"2021-01": False, "2021-02": True, "2021-03": True,
                                         "2021-04": False, "2021-05": False}
    assert "60% below" in f.loc["2021-02", "reason"]
    assert f.loc["2021-03", "reason"].startswith("no data")
    assert len(table[table["force"] == "G"]) == 1


def test_stored_coverage_is_refreshed_and_never_stale(demo_dir, tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    for month in ("2011-04", "2011-05", "2011-06", "2011-07", "2011-08"):
        ingest.ingest_police_uk(con, [demo_dir / "police_uk" / month])
    dataquality.refresh(con)
    covered = queries.coverage(con)
    june = covered[covered["month"] == "2011-06-01"].iloc[0]
    assert june["has_data"] and june["incomplete"]  # the demo's incomplete publication
    assert covered["incomplete"].sum() == 1
    ingest.ingest_police_uk(con, [demo_dir / "police_uk" / "2011-10"])
    covered = queries.coverage(con)  # recomputed: the store changed since the refresh
    gaps = covered[~covered["has_data"]]["month"].dt.strftime("%Y-%m").tolist()
    assert gaps == ["2011-09"]
    con.close()


# --------------------------------------------------------------------------- category history


def test_category_history_table_matches_the_published_dates():
    history = categories.category_history()
    assert [c.name for c in history] == ["September 2011", "May 2013"]
    may = history[1]
    assert may.introduced == {"Violence and sexual offences", "Public order",
                              "Possession of weapons", "Bicycle theft", "Theft from the person"}
    assert may.affects(["Violence and sexual offences"])  # took sexual offences
    assert not may.affects(["Violence and sexual offences", "Other crime"])
    assert not may.affects(categories.CRIME_TYPES)  # total crime means the same throughout
    assert may.affects(categories.group_types(categories.VICTIM_BASED))


def test_harmonised_groups_across_both_changes():
    groups = categories.harmonised_groups((*categories.CRIME_TYPES,
                                           categories.ANTI_SOCIAL_BEHAVIOUR),
                                          categories.category_history())
    assert groups["Burglary"] == "Burglary" and groups["Anti-social behaviour"] == \
        "Anti-social behaviour"
    assert groups["Drugs"] == groups["Violence and sexual offences"] == \
        "Crime other than burglary, robbery and vehicle crime"


def test_changes_are_found_only_where_the_data_use_the_old_names():
    old = pd.DataFrame({"month": pd.to_datetime(["2011-08-01", "2012-06-01", "2013-06-01"]),
                        "crime_type": ["Other crime", "Public disorder and weapons",
                                       "Public order"]})
    assert [c.name for c in categories.changes_in_data(old)] == ["September 2011", "May 2013"]
    after = old[old["month"] >= "2012-01-01"]
    assert [c.name for c in categories.changes_in_data(after)] == ["May 2013"]
    today = old.assign(crime_type=["Drugs", "Public order", "Public order"])
    assert categories.changes_in_data(today) == ()


def test_series_start():
    history = categories.category_history()
    assert categories.series_start(["Possession of weapons"], history,
                                   pd.Period("2015-10", "M")) == pd.Period("2013-05", "M")
    assert categories.series_start(["Drugs"], history, pd.Period("2012-10", "M")) == \
        pd.Period("2011-09", "M")
    assert categories.series_start(["Burglary"], history, pd.Period("2015-10", "M")) is None


# --------------------------------------------------------------------------- district codes


LOOKUP = pd.DataFrame({"area_code": ["E06000048", "E08000020", "E08000021", "E07000004",
                                     "E07000005"],
                       "area_name": ["Northumberland UA", "Gateshead", "Newcastle upon Tyne",
                                     "Aylesbury Vale", "Chiltern"]})


@pytest.mark.parametrize("code, name, expected, words", [
    ("E08000021", "Newcastle upon Tyne", "E08000021", None),
    ("E08000037", "Gateshead", "E08000020", "current ONS code for Gateshead (since April 2013)"),
    ("E06000057", None, "E06000048", "earlier code E06000048"),
    ("E06000060", "Buckinghamshire", None, "no such district: it was formed from Aylesbury"),
    ("E09999999", "Northumberland", "E06000048", "not in the LSOA lookup; its district named"),
    ("E09999999", "Nowhere", None, "no district with the code E09999999 (nor one named"),
])
def test_district_codes(code, name, expected, words):
    r = resolve_district(code, name, LOOKUP)
    assert r.code == expected
    assert (r.message is None) if words is None else (words in r.message)


def test_check_params_reports_every_file(demo_params, tmp_path, capsys):
    """Every file is checked and reported; a bad one does not hide the others; exit 1."""
    from smp_analysis.cli import main

    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(demo_params.read_text().replace(
        str(demo_params.parent / "store.duckdb"), str(tmp_path / "not-built.duckdb")))
    bad = tmp_path / "bad.yaml"
    bad.write_text("assessment: 1\n")
    assert main(["check-params", str(bad), str(fresh), "--no-ingest"]) == 2  # invalid: bad input
    out, err = capsys.readouterr()
    assert "bad.yaml: INVALID" in err and "required key is missing" in err
    assert "fresh.yaml: parameters OK" in out and "does not exist yet" in out
    assert "1 of 2 params files failed the check" in err
