"""Methods against independent known answers (R outputs, worked examples, hand computation)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from smp_analysis.methods.change import change_table, compare_counts
from smp_analysis.methods.rates import area_rates, pooled_rate_per_1000, rank_area
from smp_analysis.periods import ReportingPeriod


def test_poisson_comparison_matches_r_poisson_test_example():
    # R: poisson.test(c(11, 6+8+7), c(800, 1083+1050+878)) (example in ?poisson.test)
    # -> p-value = 0.07967, 95% CI 0.8584264 4.2772659, rate ratio 1.971488
    r = compare_counts(11, 21, current_exposure=800, previous_exposure=1083 + 1050 + 878)
    assert r.rate_ratio == pytest.approx(1.971488, abs=1e-6)
    assert r.ci_low == pytest.approx(0.8584264, abs=1e-6)
    assert r.ci_high == pytest.approx(4.2772659, abs=1e-6)
    assert r.p_value == pytest.approx(0.07967, abs=5e-6)
    assert not r.significant


def test_equal_exposure_test_is_the_binomial_half_test_by_hand():
    # 15 vs 5 with equal exposure: P(X>=15 | n=20, p=.5) * 2 = 2 * 21700 / 2^20 = 0.041389
    r = compare_counts(15, 5)
    assert r.p_value == pytest.approx(2 * 21700 / 2**20, rel=1e-9)
    assert r.significant


def test_seed_paper_example_change_and_percent():
    r = compare_counts(9358, 8845)
    assert (r.change, round(r.percent_change, 1)) == (513, 5.8)


def test_zero_previous_gives_nan_percent_and_infinite_ratio():
    r = compare_counts(3, 0)
    assert math.isnan(r.percent_change) and math.isinf(r.rate_ratio)


def test_no_offences_in_either_period_is_not_significant():
    r = compare_counts(0, 0)
    assert r.change == 0 and r.p_value == 1.0 and not r.significant


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_bad_counts_are_rejected(bad):
    with pytest.raises(ValueError, match="whole number"):
        compare_counts(bad, 10)


def test_change_table_fills_missing_labels_with_zero():
    t = change_table(pd.Series({"A": 5}), pd.Series({"B": 4}))
    assert t.loc["A", "previous"] == 0 and t.loc["B", "current"] == 0
    assert t.loc["B", "percent_change"] == -100.0


def test_rates_and_ranks_by_hand_with_ties():
    counts = pd.Series({"A": 100, "B": 200, "C": 50, "D": 25})
    pop = pd.Series({"A": 1000, "B": 4000, "C": 1000, "D": 500})
    t = area_rates(counts, pop)
    # rates 100, 50, 50, 50 per 1,000 -> ranks 1, 2, 2, 2
    assert t.loc["A", "rate_per_1000"] == 100.0
    assert t["rank"].to_dict() == {"A": 1, "B": 2, "C": 2, "D": 2}
    # pooled: 375 / 6500 * 1000 = 57.6923; unweighted mean of rates = 62.5
    r = rank_area(counts, pop, "C")
    assert r.pooled_rate_per_1000 == pytest.approx(57.692307, rel=1e-6)
    assert r.mean_of_rates == pytest.approx(62.5)
    assert (r.rank, r.of, r.above_average) == (2, 4, False)


def test_area_with_no_offences_is_ranked_last():
    t = area_rates(pd.Series({"A": 10}), pd.Series({"A": 100, "B": 100}))
    assert t.loc["B", "count"] == 0 and t.loc["B", "rank"] == 2


def test_rate_errors():
    with pytest.raises(ValueError, match="no population"):
        area_rates(pd.Series({"Z": 1}), pd.Series({"A": 100}))
    with pytest.raises(KeyError):
        rank_area(pd.Series({"A": 1}), pd.Series({"A": 100}), "B")
    assert pooled_rate_per_1000(pd.Series({"A": 1}), pd.Series({"A": 1000, "B": 1000})) == 0.5


def test_financial_year_period_and_preceding():
    fy = ReportingPeriod(dt.date(2023, 4, 1), dt.date(2024, 3, 31))
    assert fy.name == "April 2023 to March 2024"
    assert fy.preceding() == ReportingPeriod(dt.date(2022, 4, 1), dt.date(2023, 3, 31))
    assert fy.contains(pd.Period("2024-03", "M")) and not fy.contains(pd.Period("2024-04", "M"))


def test_period_must_end_on_month_end():
    with pytest.raises(ValueError, match="last day of a month"):
        ReportingPeriod(dt.date(2023, 4, 1), dt.date(2024, 3, 30))
