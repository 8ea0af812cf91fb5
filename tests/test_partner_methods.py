"""Methods behind the partner-indicator chapter, against published or hand-worked answers.

Sources of the expected values:
* R ``poisson.test`` (documented example: 137 events in 24.19893 thousand person-years; and
  10 events): exact Poisson intervals.
* Newcombe (1998a), Statistics in Medicine 17, 857-872, Table II, method 3 (Wilson):
  81/263, 15/148, 0/20, 1/29. Newcombe (1998b), Statistics in Medicine 17, 873-890, method 10
  (hybrid score interval for a difference): 56/70 - 48/80 and 9/10 - 3/10.
* Byar's approximation and Spiegelhalter's interpolated funnel limits worked by hand below
  from the formulas and Poisson / binomial tables (cumulative probabilities quoted).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from smp_analysis.methods import funnel, intervals, ranks, targets
from smp_analysis.methods.dispersion import period_dispersion
from smp_analysis.methods.proportions import compare_proportions, compare_with_predicted

# ---------------------------------------------------------------- intervals


def test_exact_poisson_interval_matches_r_poisson_test():
    low, high = intervals.poisson_exact(137)
    assert low / 24.19893 == pytest.approx(4.753125, abs=1e-6)
    assert high / 24.19893 == pytest.approx(6.692709, abs=1e-6)
    assert intervals.poisson_exact(10) == pytest.approx((4.795389, 18.390356), abs=1e-6)
    assert intervals.poisson_exact(0)[0] == 0.0
    # upper limit for no events: -log(0.025) = 3.6889
    assert intervals.poisson_exact(0)[1] == pytest.approx(-math.log(0.025), abs=1e-6)


def test_byar_worked_by_hand_for_65_admissions():
    # z = 1.959964; lower = 65 (1 - 1/585 - z / (3 sqrt 65))^3 = 65 x 0.917256^3 = 50.16
    # upper = 66 (1 - 1/594 + z / (3 sqrt 66))^3 = 66 x 1.078733^3 = 82.85
    low, high = intervals.byar(65)
    assert low == pytest.approx(50.16, abs=0.01)
    assert high == pytest.approx(82.85, abs=0.01)
    # close to the exact interval (50.17, 82.85) at 65 events
    exact = intervals.poisson_exact(65)
    assert abs(low - exact[0]) < 0.05 and abs(high - exact[1]) < 0.05


def test_phe_rule_exact_below_ten_byar_from_ten():
    assert intervals.count_interval(9) == pytest.approx(intervals.poisson_exact(9))
    assert intervals.count_interval(10) == pytest.approx(intervals.byar(10))
    assert intervals.rate_interval(9, 1000).method == "exact Poisson"
    assert intervals.rate_interval(10, 1000).method == "Byar"
    lows, highs = intervals.count_interval(np.array([0, 9, 10, 65]))
    assert lows[0] == 0 and highs[3] == pytest.approx(82.85, abs=0.01)


def test_rate_interval_is_the_count_interval_over_the_denominator():
    # assault admissions: 65 in a population of 171,000, per 10,000 -> 3.80 (2.93 to 4.84)
    r = intervals.rate_interval(65, 171_000, per=10_000)
    assert r.value == pytest.approx(3.8012, abs=1e-4)
    assert (r.low, r.high) == pytest.approx((50.16 / 17.1, 82.85 / 17.1), abs=0.001)
    with pytest.raises(ValueError):
        intervals.rate_interval(5, 0)


@pytest.mark.parametrize("x, n, low, high", [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718)])
def test_wilson_reproduces_newcombe_table_ii(x, n, low, high):
    assert intervals.wilson(x, n) == pytest.approx((low, high), abs=5e-5)


def test_proportion_interval_per_100_and_bad_input():
    r = intervals.proportion_interval(81, 263)
    assert r.value == pytest.approx(30.798, abs=1e-3) and r.low == pytest.approx(25.53, abs=0.01)
    with pytest.raises(ValueError):
        intervals.wilson(5, 4)
    with pytest.raises(ValueError):
        intervals.wilson(-1, 4)
    with pytest.raises(ValueError):
        intervals.poisson_exact(3, level=95)


# ---------------------------------------------------------------- funnel limits


def test_funnel_limits_worked_by_hand_with_spiegelhalter_interpolation():
    """Target 10 per 1,000, denominator 1,000: Y ~ Poisson(10). From Poisson tables,
    F(16) = 0.972958, F(17) = 0.985722: y_0.975 = 17, alpha = (0.985722 - 0.975) /
    (0.985722 - 0.972958) = 0.8400, upper 95% limit 16.160. F(3) = 0.010336, F(4) = 0.029253:
    y_0.025 = 4, alpha = (0.029253 - 0.025) / 0.018917 = 0.2248, lower limit 3.775.
    F(1) = 0.000499, F(2) = 0.002769: y_0.001 = 2, alpha = 0.7793, lower 99.8% limit 1.221.
    F(20) = 0.998412, F(21) = 0.999300: y_0.999 = 21, alpha = 0.3378, upper 99.8% 20.662."""
    limits = funnel.funnel_limits(pd.Series({"A": 1000}), 10.0, per=1000).loc["A"]
    assert limits["upper_95"] == pytest.approx(16.160, abs=0.002)
    assert limits["lower_95"] == pytest.approx(3.775, abs=0.002)
    assert limits["lower_99.8"] == pytest.approx(1.221, abs=0.002)
    assert limits["upper_99.8"] == pytest.approx(20.662, abs=0.002)


def test_funnel_limits_binomial_worked_by_hand():
    """Target 50% of 10 respondents: Binomial(10, 0.5), F(7) = 968/1024 = 0.945313,
    F(8) = 1013/1024 = 0.989258: r_0.975 = 8, alpha = (0.989258 - 0.975) / 0.043945 = 0.3244,
    upper limit (8 - 0.3244) / 10 = 76.76%. F(1) = 11/1024 = 0.010742, F(2) = 56/1024 =
    0.054688: r_0.025 = 2, alpha = (0.054688 - 0.025) / 0.043945 = 0.6756, lower limit
    (2 - 0.6756) / 10 = 13.24% (the interpolation spreads each count over (r - 1, r], so the
    limits of a symmetric distribution are not symmetric)."""
    limits = funnel.funnel_limits([10], 50.0, per=100, levels=(0.95,),
                                  distribution="binomial").iloc[0]
    assert limits["upper_95"] == pytest.approx(76.76, abs=0.01)
    assert limits["lower_95"] == pytest.approx(13.24, abs=0.01)


def test_funnel_limits_approach_the_normal_limits_for_large_areas():
    n = pd.Series([1e7])
    limits = funnel.funnel_limits(n, 10.0, per=1000).iloc[0]
    half = 1.959964 * math.sqrt(0.01 / 1e7) * 1000
    assert limits["upper_95"] == pytest.approx(10 + half, rel=1e-3)
    assert limits["lower_95"] == pytest.approx(10 - half, rel=1e-3)


def test_overdispersion_widens_by_root_phi_around_the_target():
    plain = funnel.funnel_limits([1000], 10.0, levels=(0.95,)).iloc[0]
    wide = funnel.funnel_limits([1000], 10.0, levels=(0.95,), dispersion=4.0).iloc[0]
    assert wide["upper_95"] - 10 == pytest.approx(2 * (plain["upper_95"] - 10))
    assert wide["lower_95"] == 0.0  # 10 - 2 x 6.225 < 0: limits stop at zero


def test_funnel_limits_keep_the_index_and_reject_bad_input():
    limits = funnel.funnel_limits(pd.Series({"x": 500, "y": 5000}), 2.0)
    assert list(limits.index) == ["x", "y"]
    assert list(limits.columns) == ["lower_95", "upper_95", "lower_99.8", "upper_99.8"]
    assert (limits.loc["y", "upper_95"] < limits.loc["x", "upper_95"])  # the funnel narrows
    for bad in ([0], [-5], [float("nan")]):
        with pytest.raises(ValueError):
            funnel.funnel_limits(bad, 2.0)
    with pytest.raises(ValueError):
        funnel.funnel_limits([100], 2.0, dispersion=0.5)
    with pytest.raises(ValueError):
        funnel.funnel_limits([100], 120.0, per=100, distribution="binomial")


def test_in_control_areas_fall_outside_the_95_limits_about_5_percent_of_the_time():
    """Known truth: every area has the target rate; simulated counts should cross the 95%
    limits about 5% of the time and the 99.8% limits about 0.2% (Spiegelhalter's
    interpolation keeps the probability close to nominal; Manktelow and Seaton 2012)."""
    rng = np.random.default_rng(7)
    n = pd.Series(rng.integers(2_000, 200_000, 4_000).astype(float))
    limits = funnel.funnel_limits(n, 5.0, per=1000)
    rate = rng.poisson(0.005 * n) / n * 1000
    outside95 = ((rate > limits["upper_95"]) | (rate < limits["lower_95"])).mean()
    outside998 = ((rate > limits["upper_99.8"]) | (rate < limits["lower_99.8"])).mean()
    assert 0.035 < outside95 < 0.065
    assert outside998 < 0.006


def test_funnel_position_names_the_widest_limit_crossed():
    row = pd.Series({"lower_95": 8.0, "upper_95": 12.0, "lower_99.8": 7.0, "upper_99.8": 13.0})
    assert funnel.funnel_position(13.5, row) == "above the 99.8% limit"
    assert funnel.funnel_position(7.5, row) == "below the 95% limit"
    assert funnel.funnel_position(12.0, row) == "within the 95% limits"


def test_funnel_dispersion_worked_by_hand_and_winsorised():
    # target 20 per 1,000 with n = 1,000: se = sqrt(0.02 / 1000); z = +-2.236, 0
    d = funnel.funnel_dispersion([10, 20, 30], [1000, 1000, 1000], 20.0, winsorise=0)
    assert d.phi == pytest.approx(10 / 3, rel=1e-9)
    # 10 areas, 10% Winsorised: the extreme z (here 10) is pulled in to the next one (1)
    z = np.array([-1, -0.5, 0, 0.5, 1, -1, 0.5, 0, 1, 10.0])
    n = np.full(10, 10_000.0)
    y = (0.01 + z * math.sqrt(0.01 / 10_000)) * n
    d = funnel.funnel_dispersion(y, n, 10.0, winsorise=0.1)
    clipped = np.clip(z, -1, 1)
    assert d.phi == pytest.approx(np.mean(clipped ** 2), rel=1e-9)
    assert not d.overdispersed and d.dispersion == 1.0


def test_strongly_varying_areas_are_overdispersed():
    n = np.full(13, 100_000.0)
    y = np.linspace(4_000, 9_000, 13)
    d = funnel.funnel_dispersion(y, n, 1000 * y.sum() / n.sum())
    assert d.overdispersed and d.dispersion == d.phi > 100


# ---------------------------------------------------------------- rank intervals


def test_rank_interval_covers_the_true_rank_with_realistic_dispersion():
    """Known truth: 13 districts, the focus is truly 4th highest. With over-dispersed counts
    (phi = 4) the single-year rank wanders (the issue: 2nd to 8th); the 95% rank interval
    built with the same phi contains the true rank at least 90% of the time."""
    rng = np.random.default_rng(11)
    codes = [f"D{i:02d}" for i in range(13)]
    pop = pd.Series(np.linspace(100_000, 260_000, 13), index=codes)
    true = pd.Series(np.linspace(0.0070, 0.0046, 13), index=codes)  # D03 is 4th highest
    phi, covered, ranks_seen = 4.0, 0, set()
    for rep in range(150):
        mean = (true * pop * 0.1).to_numpy()
        counts = pd.Series(rng.negative_binomial(mean / (phi - 1), 1 / phi), index=codes)
        r = ranks.rank_interval(counts, pop, "D03", dispersion=phi, simulations=2_000, seed=rep)
        covered += r.low <= 4 <= r.high
        ranks_seen.add(r.rank)
    assert covered / 150 >= 0.9
    assert min(ranks_seen) <= 2 and max(ranks_seen) >= 6


def test_rank_interval_is_reproducible_and_certain_when_counts_are_huge():
    counts = pd.Series({"A": 9_000_000, "B": 6_000_000, "C": 3_000_000})
    pop = pd.Series({"A": 1e8, "B": 1e8, "C": 1e8})
    r = ranks.rank_interval(counts, pop, "B")
    assert (r.rank, r.low, r.high, r.of, r.certain) == (2, 2, 2, 3, True)
    small = pd.Series({"A": 12, "B": 10, "C": 8})
    first = ranks.rank_interval(small, pd.Series({"A": 1e4, "B": 1e4, "C": 1e4}), "B")
    again = ranks.rank_interval(small, pd.Series({"A": 1e4, "B": 1e4, "C": 1e4}), "B")
    assert first == again and first.low == 1 and first.high == 3


def test_rank_interval_for_proportions_and_bad_input():
    yes = pd.Series({"A": 450, "B": 300, "C": 150})
    asked = pd.Series({"A": 500, "B": 500, "C": 500})
    assert ranks.rank_interval(yes, asked, "C", kind="proportion").high == 3
    with pytest.raises(KeyError):
        ranks.rank_interval(yes, asked, "Z")
    with pytest.raises(ValueError):
        ranks.rank_intervals(yes, asked, dispersion=0.5)
    with pytest.raises(ValueError):
        ranks.rank_intervals(pd.Series({"A": 600}), pd.Series({"A": 500}), kind="proportion")


# ---------------------------------------------------------------- targets: the seed examples


def test_best_4_kent_districts_average_19_per_1000():
    rates = {"A": 17.0, "B": 18.5, "C": 19.5, "D": 21.0, "E": 22.0, "F": 25.0, "G": 30.0,
             "H": 26.0, "I": 24.0, "J": 23.5, "K": 28.0, "L": 31.0}
    # (17 + 18.5 + 19.5 + 21) / 4 = 19.0
    assert targets.best_n_average(pd.Series(rates), 4) == 19.0
    # higher is better: (31 + 30 + 28 + 26) / 4 = 28.75
    assert targets.best_n_average(pd.Series(rates), 4, lower_is_better=False) == 28.75
    with pytest.raises(ValueError, match="only 12 areas"):
        targets.best_n_average(pd.Series(rates), 13)


def test_half_the_difference_2_38():
    # baseline 2.76, comparison average 2.00: 2.76 + (2.00 - 2.76) / 2 = 2.38
    assert targets.half_the_difference(2.76, 2.00) == pytest.approx(2.38)


def test_maintain_under_the_kcc_average():
    kcc = targets.comparison_average([300, 330], [50_000, 55_000], per=1000)  # 630/105,000
    assert kcc == pytest.approx(6.0)
    assert targets.standing_status(5.1, kcc, target_date="2025-03-31", as_of="2024-03-31",
                                   lower_is_better=True) == "on track"
    assert targets.standing_status(6.4, kcc, target_date="2025-03-31", as_of="2024-03-31",
                                   lower_is_better=True) == "off track"
    assert targets.standing_status(6.4, kcc, target_date="2025-03-31", as_of="2024-03-31",
                                   lower_is_better=True, interval=(5.5, 7.4)) == "on track"
    assert targets.standing_status(5.1, kcc, target_date="2024-03-31", as_of="2024-03-31",
                                   lower_is_better=True) == "achieved"


def test_needle_finds_target_1200_a_year():
    """Baseline 1,500 (year to 31 March 2021), target 1,200 by 31 March 2023. At 31 March 2022
    (365 of 730 days) the straight line is at 1,350: 1,340 is on track, 1,380 off track,
    1,380 with interval 1,308-1,452 on track, 1,150 exceeding expectations; at the target
    date 1,200 is achieved and 1,201 not."""
    kw = dict(baseline=1500, baseline_date="2021-03-31", target_date="2023-03-31",
              lower_is_better=True)
    mid = "2022-03-31"
    assert targets.trajectory(1500, 1200, baseline_date="2021-03-31",
                              target_date="2023-03-31", as_of=mid) == 1350.0
    assert targets.target_status(1340, 1200, as_of=mid, **kw) == "on track"
    assert targets.target_status(1350, 1200, as_of=mid, **kw) == "on track"
    assert targets.target_status(1380, 1200, as_of=mid, **kw) == "off track"
    assert targets.target_status(1380, 1200, as_of=mid, interval=(1308, 1452), **kw) == \
        "on track"
    assert targets.target_status(1150, 1200, as_of=mid, **kw) == "exceeding expectations"
    assert targets.target_status(1200, 1200, as_of="2023-03-31", **kw) == "achieved"
    assert targets.target_status(1201, 1200, as_of="2023-06-30", **kw) == "not achieved"


def test_one_stop_shop_target_140_and_9_per_10000():
    # 140 visitors in a population of 155,000: 140 / 155,000 x 10,000 = 9.03 per 10,000
    assert intervals.rate_interval(140, 155_000, per=10_000).value == pytest.approx(9.03, abs=0.005)
    kw = dict(baseline=100, baseline_date="2022-03-31", target_date="2025-03-31",
              lower_is_better=False)
    assert targets.target_status(150, 140, as_of="2024-03-31", **kw) == "exceeding expectations"
    # line at 31 March 2024: 100 + 40 x 731 / 1096 = 126.7
    assert targets.target_status(127, 140, as_of="2024-03-31", **kw) == "on track"
    assert targets.target_status(126, 140, as_of="2024-03-31", **kw) == "off track"


def test_reoffending_predicted_7_86_actual_9_97():
    # (9.97 - 7.86) / 7.86 = 26.8% above predicted: outside a 5% or 10% tolerance of zero
    difference = targets.percent_difference(9.97, 7.86)
    assert difference == pytest.approx(26.84, abs=0.01)
    assert targets.standing_status(abs(difference), 10, target_date="2023-03-31",
                                   as_of="2023-03-31", lower_is_better=True) == "not achieved"
    # 60 of 602 (9.97%) against 7.86%: exact binomial test, P(X >= 60) + the other tail
    r = compare_with_predicted(60, 602, 0.0786)
    assert r.p_value == pytest.approx(0.0582, abs=0.0005) and not r.significant


def test_target_status_rules_and_errors():
    kw = dict(baseline=10.0, baseline_date="2020-01-01", target_date="2021-01-01",
              lower_is_better=True)
    assert targets.target_status(9.0, 8.0, as_of="2021-01-01", **kw) == "not achieved"
    assert targets.target_status(8.0, 8.0, as_of="2020-06-01", **kw) == "exceeding expectations"
    assert set(targets.STATUSES) == {"achieved", "not achieved", "exceeding expectations",
                                     "on track", "off track"}
    with pytest.raises(ValueError, match="before the baseline"):
        targets.target_status(9.0, 8.0, as_of="2019-06-01", **kw)
    with pytest.raises(ValueError, match="must be after"):
        targets.target_status(9.0, 8.0, baseline=10.0, baseline_date="2021-01-01",
                              target_date="2020-01-01", as_of="2021-01-01",
                              lower_is_better=True)
    with pytest.raises(ValueError, match="finite"):
        targets.target_status(float("nan"), 8.0, as_of="2020-06-01", **kw)


def test_status_summary_sentence():
    statuses = ["on track"] * 5 + ["exceeding expectations"] + ["off track"] * 2
    assert targets.status_summary(statuses) == \
        "5 of 8 targets on track, 1 exceeding expectations and 2 off track."
    with pytest.raises(ValueError):
        targets.status_summary(["nearly"])


# ---------------------------------------------------------------- proportions, dispersion


def test_two_proportions_reproduce_newcombe_and_the_hand_z_test():
    r = compare_proportions(56, 70, 48, 80)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    # pooled p = 104/150; z = 0.2 / sqrt(p (1 - p) (1/70 + 1/80)) = 2.6502
    assert r.p_value == pytest.approx(2 * 0.5 * math.erfc(2.6502 / math.sqrt(2)), abs=1e-4)
    r = compare_proportions(9, 10, 3, 10)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert compare_proportions(0, 10, 0, 12).p_value == 1.0


def test_period_dispersion_by_hand_and_with_known_truth():
    fit = period_dispersion([100, 120, 80, 100, 100, 100, 100, 80, 120, 100])
    assert fit.pearson == pytest.approx(2.0) and fit.df == 8  # X^2 = 1,600 / 100 over 8
    assert period_dispersion([5, 6, 7]) is None
    flat = period_dispersion([100] * 10)
    assert flat.dispersion == 1.0
    # known truth: negative binomial with phi = 4 around a trend, 12 yearly periods
    rng = np.random.default_rng(3)
    estimates = []
    for _ in range(300):
        mean = 400 * np.exp(0.03 * np.arange(12))
        y = rng.negative_binomial(mean / 3, 0.25)
        estimates.append(period_dispersion(y).pearson)
    assert 3.4 < np.mean(estimates) < 4.6


def test_period_dispersion_uses_the_exposure_offset():
    # counts that grow only because the population grows are not over-dispersed
    exposure = np.linspace(1.0, 3.0, 10)
    fit = period_dispersion(100 * exposure, exposure)
    assert fit.pearson == pytest.approx(0.0, abs=1e-9)
