"""Change test with over-dispersion, dispersion estimate and false-discovery control, against
hand computations, an independent GLM implementation, a published example and simulations with
known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from smp_analysis.methods.change import (
    TooLittleHistory,
    change_table,
    compare_counts,
    estimate_dispersion,
    fit_dispersion,
    fit_dispersions,
)
from smp_analysis.methods.multiple_testing import benjamini_hochberg

# --------------------------------------------------------------------------- compare_counts


def test_dispersion_one_is_still_r_poisson_test():
    # R: poisson.test(c(11, 6+8+7), c(800, 1083+1050+878)): p = 0.07967, CI 0.8584264 4.2772659
    r = compare_counts(11, 21, current_exposure=800, previous_exposure=3011, dispersion=1.0)
    assert r.test == "exact"
    assert r.p_value == pytest.approx(0.07967, abs=5e-6)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.8584264, 4.2772659), abs=1e-6)


def _glm_null_deviance(x1, x0, t1, t0) -> float:
    """The deviance of 'equal rates' for two Poisson counts, from statsmodels' GLM."""
    fit = sm.GLM(np.array([x1, x0], dtype=float), np.ones((2, 1)),
                 family=sm.families.Poisson(), offset=np.log([t1, t0])).fit()
    return float(fit.deviance)


@pytest.mark.parametrize("x1, x0, t1, t0, phi", [(120, 100, 1, 1, 2.0), (9358, 8845, 11, 11, 4.5),
                                                 (7, 30, 12, 10, 3.0), (0, 12, 1, 1, 2.5)])
def test_quasi_poisson_statistic_is_the_glm_deviance_over_phi(x1, x0, t1, t0, phi):
    r = compare_counts(x1, x0, current_exposure=t1, previous_exposure=t0, dispersion=phi)
    expected = stats.chi2.sf(_glm_null_deviance(x1, x0, t1, t0) / phi, 1)
    assert r.test == "quasi-Poisson" and r.dispersion == phi
    assert r.p_value == pytest.approx(expected, rel=1e-9)


def test_hand_computed_deviance():
    # 2 [120 ln(120/110) + 100 ln(100/110)] = 1.82070; / 2 -> chi2(1) tail 0.3400
    d = 2 * (120 * math.log(120 / 110) + 100 * math.log(100 / 110))
    assert compare_counts(120, 100, dispersion=2).p_value == pytest.approx(
        stats.chi2.sf(d / 2, 1), rel=1e-12)
    assert compare_counts(120, 100, dispersion=2, dispersion_df=20).p_value == pytest.approx(
        stats.f.sf(d / 2, 1, 20), rel=1e-12)


def test_profile_interval_matches_its_definition_and_the_wald_interval_for_large_counts():
    x1, x0, phi = 5300, 5000, 4.0
    r = compare_counts(x1, x0, dispersion=phi)
    crit = stats.chi2.ppf(0.95, 1) * phi
    for ratio in (r.ci_low, r.ci_high):
        p = ratio / (1 + ratio)
        d = 2 * (x1 * math.log(x1 / ((x1 + x0) * p)) + x0 * math.log(x0 / ((x1 + x0) * (1 - p))))
        assert d == pytest.approx(crit, rel=1e-7)
    se = math.sqrt(phi * (1 / x1 + 1 / x0))
    wald = (x1 / x0 * math.exp(-1.959964 * se), x1 / x0 * math.exp(1.959964 * se))
    assert (r.ci_low, r.ci_high) == pytest.approx(wald, rel=2e-3)
    assert r.ci_low < r.rate_ratio < r.ci_high


def test_dispersion_turns_the_seed_papers_clear_rise_into_ordinary_variation():
    assert compare_counts(9358, 8845).significant
    r = compare_counts(9358, 8845, dispersion=4.5)
    assert not r.significant and r.p_value == pytest.approx(
        stats.chi2.sf(_glm_null_deviance(9358, 8845, 1, 1) / 4.5, 1))


def test_zero_counts_and_one_sided_intervals():
    r = compare_counts(0, 12, dispersion=2.0)
    assert r.ci_low == 0 and 0 < r.ci_high < 1
    r = compare_counts(12, 0, dispersion=2.0)
    assert math.isinf(r.ci_high) and r.ci_low > 0 and math.isinf(r.rate_ratio)
    assert compare_counts(0, 0, dispersion=3.0).p_value == 1.0


@pytest.mark.parametrize("bad", [0.5, math.nan, math.inf, -2])
def test_dispersion_below_one_or_not_a_number_is_rejected(bad):
    with pytest.raises(ValueError, match="dispersion"):
        compare_counts(10, 10, dispersion=bad)


# --------------------------------------------------------------------------- dispersion


MONTHS = pd.period_range("2018-01", periods=60, freq="M")


def test_dispersion_by_hand_flat_trend():
    # Each calendar month: years deviate by +d, -2d, +d, so the fitted trend is exactly 0 and
    # the fit is the month means; X^2 = sum 6 d^2 / mean over 12 months, df = 36 - 13.
    means = np.array([80, 90, 100, 110, 120, 130, 140, 130, 120, 110, 100, 90], dtype=float)
    d = np.array([4, 5, 6, 7, 8, 9, 10, 9, 8, 7, 6, 5], dtype=float)
    values = np.concatenate([means + d, means - 2 * d, means + d])
    series = pd.Series(values, index=pd.period_range("2019-01", periods=36, freq="M"))
    fit = fit_dispersion(series)
    assert fit.seasonal and fit.df == 23 and fit.months == 36
    assert fit.pearson == pytest.approx(np.sum(6 * d**2 / means) / 23, rel=1e-8)


def test_dispersion_matches_statsmodels_quasi_poisson_glm():
    """The same model fitted by statsmodels (an independent IRLS): Pearson X^2 / df."""
    rng = np.random.default_rng(3)
    months = MONTHS[:50].delete([7, 30])  # two months without data
    y = rng.negative_binomial(20, 20 / (20 + 120), len(months)).astype(float)
    t = np.array([m.ordinal for m in months], dtype=float)
    dummies = pd.get_dummies(months.month, drop_first=True).to_numpy(dtype=float)
    design = np.column_stack([np.ones(len(y)), t, dummies])
    glm = sm.GLM(y, design, family=sm.families.Poisson()).fit(scale="X2")
    fit = fit_dispersion(pd.Series(y, index=months))
    assert fit.pearson == pytest.approx(glm.scale, rel=1e-8)
    assert fit.df == glm.df_resid == 48 - 13


def test_dispersion_is_floored_at_one():
    series = pd.Series(np.tile([50.0, 60, 70, 80, 90, 100, 100, 90, 80, 70, 60, 50], 3),
                       index=pd.period_range("2019-01", periods=36, freq="M"))
    fit = fit_dispersion(series)
    assert fit.pearson == pytest.approx(0, abs=1e-8) and estimate_dispersion(series) == 1.0


@pytest.mark.parametrize("phi", [2.0, 5.0, 10.0])
def test_dispersion_recovers_the_truth_on_simulated_seasonal_series(phi):
    """Negative binomial with var = phi mu, seasonal mean and a trend: the mean estimate over
    200 series is within 5% of phi (the estimator is nearly unbiased for 60 months)."""
    rng = np.random.default_rng(7)
    t = np.arange(60)
    mu = 200 * (1 + 0.2 * np.cos(2 * np.pi * (t % 12 - 6) / 12)) * np.exp(-0.02 * t / 12)
    size = mu / (phi - 1)
    estimates = [estimate_dispersion(pd.Series(rng.negative_binomial(size, size / (size + mu)),
                                               index=MONTHS)) for _ in range(200)]
    assert np.mean(estimates) == pytest.approx(phi, rel=0.05)


def test_missing_months_are_left_out_not_zero_filled():
    rng = np.random.default_rng(1)
    values = rng.poisson(300, 48).astype(float)
    series = pd.Series(values, index=MONTHS[:48])
    gappy = series.copy()
    gappy.iloc[30] = np.nan
    left_out = fit_dispersion(gappy)
    assert left_out.months == 47 and left_out.df == 47 - 13
    assert left_out.dispersion < 3  # a zero-filled month would add about 300 to X^2 / df
    zero_filled = fit_dispersion(gappy.fillna(0))
    assert zero_filled.dispersion > 5 * left_out.dispersion


def test_short_history_falls_back_to_trend_only_and_then_refuses():
    short = pd.Series(np.full(14, 100.0), index=MONTHS[:14])
    fit = fit_dispersion(short)
    assert not fit.seasonal and fit.df == 12
    with pytest.raises(TooLittleHistory, match="7 month"):
        fit_dispersion(pd.Series(np.full(7, 100.0), index=MONTHS[:7]))


def test_bad_histories_are_rejected():
    with pytest.raises(TypeError, match="monthly periods"):
        estimate_dispersion(pd.Series([1.0] * 30))
    with pytest.raises(ValueError, match="whole numbers"):
        estimate_dispersion(pd.Series([1.5] * 30, index=MONTHS[:30]))


def test_sparse_series_with_empty_calendar_months():
    values = np.zeros(48)
    values[[5, 17, 29, 41]] = [3, 1, 2, 4]  # June only
    assert estimate_dispersion(pd.Series(values, index=MONTHS[:48])) >= 1.0
    assert estimate_dispersion(pd.Series(np.zeros(48), index=MONTHS[:48])) == 1.0


# --------------------------------------------------------------------------- null simulation


def test_change_test_holds_its_level_on_over_dispersed_seasonal_series_with_no_change():
    """Known truth: no change. Monthly NB counts with dispersion 5, seasonal, 4 years of
    history then the two compared years. The Poisson test calls most of them 'larger than
    chance'; the dispersion-aware test stays near alpha (benchmarks/null_simulation.py runs
    this for dispersion 2 to 10 with more replicates)."""
    rng = np.random.default_rng(2024)
    phi, reps = 5.0, 300
    t = np.arange(72)
    mu = 150 * (1 + 0.15 * np.cos(2 * np.pi * (t % 12 - 7) / 12))
    size = mu / (phi - 1)
    months = pd.period_range("2017-04", periods=72, freq="M")
    quasi = poisson = 0
    for _ in range(reps):
        y = rng.negative_binomial(size, size / (size + mu))
        history = pd.Series(y[:60], index=months[:60])
        fit = fit_dispersion(history)
        cur, prev = int(y[60:].sum()), int(y[48:60].sum())
        quasi += compare_counts(cur, prev, dispersion=fit.dispersion,
                                dispersion_df=fit.df).significant
        poisson += compare_counts(cur, prev).significant
    assert quasi / reps <= 0.05 + 0.03  # 0.03: 2 points plus Monte Carlo error of 300 reps
    assert poisson / reps > 0.25


# --------------------------------------------------------------------------- BH and tables


def test_benjamini_hochberg_published_example():
    """Benjamini & Hochberg (1995), section 4: 15 p-values from a myocardial infarction
    study; at q = 0.05 the procedure rejects the four smallest (Bonferroni rejects three)."""
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
         0.4262, 0.5719, 0.6528, 0.7590, 1.0000]
    adjusted = benjamini_hochberg(p)
    assert (adjusted <= 0.05).sum() == 4
    # hand: 15 p(j) / j for j = 4..9 is .035625, .0603, .0695, .063857, .0645, .0765; the
    # adjusted value is the minimum of these from j on
    assert adjusted[3:9] == pytest.approx([0.035625, 0.0603, 0.063857, 0.063857, 0.0645,
                                           0.0765], abs=1e-6)


def test_benjamini_hochberg_keeps_order_and_ignores_nan():
    adjusted = benjamini_hochberg([0.2, 0.01, math.nan, 0.03, 0.04])
    assert math.isnan(adjusted[2])
    assert adjusted[[0, 1, 3, 4]] == pytest.approx([0.2, 0.04, 0.04 * 4 / 3, 0.04 * 4 / 3])
    with pytest.raises(ValueError):
        benjamini_hochberg([1.2])


def test_change_table_per_label_dispersion_and_bh():
    current = pd.Series({"A": 150, "B": 140, "C": 1000})
    previous = pd.Series({"A": 100, "B": 100, "C": 1000})
    plain = change_table(current, previous)
    assert plain["significant"].tolist() == [True, True, False]
    t = change_table(current, previous, dispersion={"A": 1.0, "B": 4.0}, adjust="bh")
    assert t.loc["B", "p_value"] == pytest.approx(compare_counts(140, 100, dispersion=4).p_value)
    assert math.isnan(t.loc["C", "p_value"]) and not t.loc["C", "significant"]
    # BH over the two tested labels only (m = 2): A has the smaller p-value, 2 p_A < p_B
    assert t.loc["A", "p_adjusted"] == pytest.approx(2 * t.loc["A", "p_value"])
    assert t.loc["B", "p_adjusted"] == pytest.approx(t.loc["B", "p_value"])
    assert t.loc["A", "significant"] and not t.loc["B", "significant"]


def test_untested_labels_keep_counts_and_ratio_but_run_no_test():
    # C has no dispersion: its counts, change and rate ratio are those compare_counts gives,
    # its interval and p-values are NaN, and so are a label's with no offences in either period
    current = pd.Series({"A": 150, "C": 120, "D": 0, "E": 7})
    previous = pd.Series({"A": 100, "C": 100, "D": 0, "E": 0})
    t = change_table(current, previous, dispersion={"A": 2.0}, current_exposure=2,
                     previous_exposure=3, adjust="bh")
    full = compare_counts(120, 100, current_exposure=2, previous_exposure=3)
    row = t.loc["C"]
    assert (row["previous"], row["current"], row["change"]) == (100, 120, 20)
    assert row["percent_change"] == full.percent_change and row["rate_ratio"] == full.rate_ratio
    assert all(math.isnan(row[c]) for c in ("ci_low", "ci_high", "p_value", "p_adjusted"))
    assert math.isnan(t.loc["D", "rate_ratio"]) and math.isinf(t.loc["E", "rate_ratio"])
    assert math.isnan(t.loc["E", "percent_change"])
    assert t.loc["A", "p_adjusted"] == t.loc["A", "p_value"]  # the only label tested
    assert t["significant"].tolist() == [t.loc["A", "p_value"] < 0.05, False, False, False]


@pytest.mark.parametrize("n", [1, 2, 7, 30, 101, 1000, 4999, 20_000])
def test_exact_binomial_test_is_scipys_to_the_last_bit(n):
    from smp_analysis.methods.exact_binomial import binomial_test

    rng = np.random.default_rng(n)
    ks = sorted({0, 1, n // 3, n // 2, n - 1, n, *rng.integers(0, n + 1, 6).tolist()})
    for k in (k for k in ks if 0 <= k <= n):
        for p in (0.5, 0.25, 12 / 23, 0.0, 1.0, float(rng.random())):
            for alpha in (0.05, 0.01):
                reference = stats.binomtest(k, n, p)
                ci = reference.proportion_ci(confidence_level=1 - alpha, method="exact")
                assert binomial_test(k, n, p, alpha=alpha) == (reference.pvalue, ci.low, ci.high)


def test_fit_dispersions_of_many_series_is_fit_dispersion_of_each():
    # an unsorted index, different missing months per column, a column too short, a column of
    # zeros, a trend-only column: each fit is the one-series fit, to the last bit
    rng = np.random.default_rng(7)
    months = pd.period_range("2018-01", periods=60, freq="M")
    frame = pd.DataFrame({f"S{i}": rng.negative_binomial(5, 5 / (5 + 40 + i), 60).astype(float)
                          for i in range(6)}, index=months)
    frame.iloc[[3, 17, 40], 1] = np.nan
    frame.iloc[7:, 2] = np.nan  # 7 months: refused
    frame["S3"] = 0.0
    frame.iloc[:47, 4] = np.nan  # 13 months: trend only
    frame = frame.iloc[rng.permutation(60)]
    fits = fit_dispersions(frame)
    for column in frame.columns:
        try:
            alone = fit_dispersion(frame[column])
        except TooLittleHistory:
            alone = None
        assert fits[column] == alone, column
    assert fits["S2"] is None and not fits["S4"].seasonal and fits["S0"].seasonal
    with pytest.raises(ValueError, match="whole numbers"):
        fit_dispersions(frame.assign(S0=-1.0))
