"""Sentences reviewers read: wording, rounding and direction."""

from __future__ import annotations

import pandas as pd

from smp_analysis.methods.change import change_table, compare_counts
from smp_analysis.methods.rates import rank_area
from smp_analysis.report import words
from smp_analysis.topics.overview import Overview, _largest_changes_sentence
from smp_analysis.topics.rates import rank_sentence


def test_rise_fall_and_no_change_wording():
    assert words.change_sentence("Burglary", compare_counts(90, 100)) == (
        "Burglary fell by 10.0% (10 fewer offences), from 100 to 90.")
    assert words.change_sentence("ASB", compare_counts(7, 7), noun="incidents") == (
        "ASB did not change (7 incidents in both periods).")
    assert words.change_sentence("Robbery", compare_counts(4, 0)) == (
        "Robbery rose from none to 4 offences.")


def test_chance_sentence_depends_on_the_test():
    assert "larger than chance" in words.chance_sentence(compare_counts(150, 100))
    assert "could arise from chance" in words.chance_sentence(compare_counts(104, 100))


def test_rank_sentence_matches_the_seed_style():
    counts = pd.Series({"A": 300, "B": 200, "C": 100, "D": 50})
    pop = pd.Series({"A": 1000, "B": 1000, "C": 1000, "D": 1000})
    r = rank_area(counts, pop, "B")
    assert rank_sentence("Bravo", "recorded crime", r, "Testshire") == (
        "Bravo's recorded crime rate of 200.0 crimes per 1,000 residents is the 2nd highest of "
        "the 4 districts in Testshire, above the Testshire rate of 162.5.")
    lowest = rank_sentence("Delta", "recorded crime", rank_area(counts, pop, "D"), "T")
    assert "is the lowest of the 4 districts" in lowest and "below the T rate" in lowest


def _overview(table: pd.DataFrame) -> Overview:
    import datetime as dt

    from smp_analysis.periods import ReportingPeriod
    from smp_analysis.report.coverage import LikeForLike, month_coverage

    current = ReportingPeriod(dt.date(2023, 4, 1), dt.date(2024, 3, 31))
    previous = current.preceding()
    months = previous.months.union(current.months)
    coverage = pd.DataFrame({"force": "F", "month": months.to_timestamp(), "has_data": True,
                             "incomplete": False, "reason": None})
    pair = LikeForLike.pair(month_coverage(coverage, ("F",), current.months, current.name),
                            month_coverage(coverage, ("F",), previous.months, previous.name))
    table = table.assign(months=12, of=12, scope="", untested="", current_all=table["current"])
    return Overview(area="Testshire", current=current, previous=previous, comparison=pair,
                    groups=table, types=table, monthly=pd.DataFrame(), history_years=5)


def test_change_lines_use_incidents_for_asb():
    t = change_table(pd.Series({"Anti-social behaviour": 120, "Burglary": 80}),
                     pd.Series({"Anti-social behaviour": 100, "Burglary": 100}))
    result = _overview(t)
    lines = result._lines(result.groups)
    assert lines[0].startswith("Anti-social behaviour rose by 20.0% (20 more incidents)")
    assert lines[1].startswith("Burglary fell by 20.0% (20 fewer offences)")
    assert "the usual variation from year to year" in lines[1]


def test_largest_changes_lists_only_clear_changes():
    t = change_table(pd.Series({"Burglary": 300, "Robbery": 11, "Drugs": 100}),
                     pd.Series({"Burglary": 200, "Robbery": 10, "Drugs": 160}))
    assert _largest_changes_sentence(t) == (
        "The largest rises beyond the usual variation were in burglary (100 more); "
        "the largest falls beyond the usual variation were in drugs (60 fewer).")


def test_plurals_are_written_out():
    assert words.plural(1, "finding") == "1 finding"
    assert words.plural(1204, "offence") == "1,204 offences"
    assert words.plural(0, "appendix", "appendices") == "0 appendices"
