"""Sentences reviewers read: wording, rounding and direction."""

from __future__ import annotations

import pandas as pd

from smp_analysis import narrative
from smp_analysis.methods.change import change_table, compare_counts
from smp_analysis.methods.rates import rank_area


def test_rise_fall_and_no_change_wording():
    assert narrative.change_sentence("Burglary", compare_counts(90, 100)) == (
        "Burglary fell by 10.0% (10 fewer offences), from 100 to 90.")
    assert narrative.change_sentence("ASB", compare_counts(7, 7), noun="incidents") == (
        "ASB did not change (7 incidents in both periods).")
    assert narrative.change_sentence("Robbery", compare_counts(4, 0)) == (
        "Robbery rose from none to 4 offences.")


def test_chance_sentence_depends_on_the_test():
    assert "larger than chance" in narrative.chance_sentence(compare_counts(150, 100))
    assert "could arise from chance" in narrative.chance_sentence(compare_counts(104, 100))


def test_rank_sentence_matches_the_seed_style():
    counts = pd.Series({"A": 300, "B": 200, "C": 100, "D": 50})
    pop = pd.Series({"A": 1000, "B": 1000, "C": 1000, "D": 1000})
    r = rank_area(counts, pop, "B")
    assert narrative.rank_sentence("Bravo", "recorded crime", r, "Testshire") == (
        "Bravo's recorded crime rate of 200.0 crimes per 1,000 residents is the 2nd highest of "
        "the 4 districts in Testshire, above the Testshire rate of 162.5.")
    lowest = narrative.rank_sentence("Delta", "recorded crime", rank_area(counts, pop, "D"), "T")
    assert "is the lowest of the 4 districts" in lowest and "below the T rate" in lowest


def test_change_bullets_use_incidents_for_asb():
    t = change_table(pd.Series({"Anti-social behaviour": 120, "Burglary": 80}),
                     pd.Series({"Anti-social behaviour": 100, "Burglary": 100}))
    text = narrative.change_bullets(t)
    assert "- Anti-social behaviour rose by 20.0% (20 more incidents)" in text
    assert "- Burglary fell by 20.0% (20 fewer offences)" in text


def test_largest_changes_lists_only_clear_changes():
    t = change_table(pd.Series({"Burglary": 300, "Robbery": 11, "Drugs": 100}),
                     pd.Series({"Burglary": 200, "Robbery": 10, "Drugs": 160}))
    assert narrative.largest_changes_sentence(t) == (
        "The largest clear rises were in burglary (100 more); "
        "the largest clear falls were in drugs (60 fewer).")
