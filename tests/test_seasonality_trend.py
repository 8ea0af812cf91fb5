"""Seasonality and multi-year trend methods against independent answers: simulated series with
known peaks and trends, an independent IRLS fit, and statsmodels' quadratic Poisson model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from smp_analysis.methods.change import _poisson_fitted
from smp_analysis.methods.seasonality import (
    TooLittleHistory,
    describe_pattern,
    month_names,
    seasonality,
)
from smp_analysis.methods.trend import annual_trend, growth_change


def _series(values, start="2017-04"):
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="M"))


def _negative_binomial(rng, mean, shape):
    return rng.poisson(rng.gamma(shape, np.asarray(mean, float) / shape))


# ---------------------------------------------------------------- seasonality

def test_known_summer_peak_is_found_with_its_size():
    rng = np.random.default_rng(1)
    months = pd.period_range("2018-01", periods=60, freq="M")
    factor = np.array([1.25 if m.month in (6, 7, 8) else 1.0 for m in months])
    trend = np.exp(0.03 * np.arange(60) / 12)
    y = rng.poisson(400 * factor * trend)
    r = seasonality(pd.Series(y, index=months))
    assert r.seasonal and r.p_value < 1e-6
    assert r.peak_months == (6, 7, 8)
    assert r.peak_ratio == pytest.approx(1.25 / (1 + 3 * 0.25 / 12), abs=0.03)
    assert r.describe().startswith("peaks in June to August, ")


def test_winter_peak_across_the_new_year_is_in_calendar_order():
    rng = np.random.default_rng(2)
    months = pd.period_range("2019-04", periods=48, freq="M")
    factor = np.array([1.4 if m.month in (12, 1) else 1.0 for m in months])
    r = seasonality(pd.Series(rng.poisson(300 * factor), index=months))
    assert r.peak_months == (1, 12)
    assert "December to January" in r.describe()


def test_over_dispersed_series_without_seasonality_rejects_at_about_alpha():
    """Negative binomial months (variance mu + mu^2/40, dispersion ~6 at mu=200) with a trend
    and no month effects: a Poisson test would reject nearly always, ours about 5%."""
    rng = np.random.default_rng(3)
    months = pd.period_range("2016-01", periods=48, freq="M")
    trend = 200 * np.exp(-0.05 * np.arange(48) / 12)
    rejections = sum(
        seasonality(pd.Series(_negative_binomial(rng, trend, 40.0), index=months)).seasonal
        for _ in range(200))
    assert 0.015 <= rejections / 200 <= 0.095


def test_f_test_matches_an_independent_irls_fit():
    rng = np.random.default_rng(4)
    months = pd.period_range("2015-01", periods=60, freq="M")
    y = _negative_binomial(rng, [150 * (1 + 0.15 * math.cos(2 * math.pi * (m.month - 7) / 12))
                                 for m in months], 30.0).astype(float)
    r = seasonality(pd.Series(y, index=months))
    t = np.arange(60) / 12.0
    base = np.column_stack([np.ones(60), t])
    month = np.array([m.month for m in months])
    full = np.column_stack([base] + [(month == k).astype(float) for k in range(2, 13)])

    def deviance(mu):
        return 2 * np.sum(np.where(y > 0, y * np.log(y / mu), 0) - (y - mu))

    mu_full, mu_base = _poisson_fitted(y, full), _poisson_fitted(y, base)
    phi = max(1.0, np.sum((y - mu_full) ** 2 / mu_full) / (60 - 13))
    f = (deviance(mu_base) - deviance(mu_full)) / 11 / phi
    assert r.f_statistic == pytest.approx(f, rel=1e-6)
    assert r.p_value == pytest.approx(stats.f.sf(f, 11, 47), rel=1e-5)
    assert r.dispersion == pytest.approx(phi, rel=1e-6)
    beta = np.linalg.lstsq(full, np.log(mu_full), rcond=None)[0]  # exact: mu = exp(X beta)
    level = np.exp(np.concatenate([[0.0], beta[2:]]))
    assert np.allclose(r.effects.to_numpy(), level / level.mean(), rtol=1e-5)


def test_missing_months_are_left_out_not_zero_filled():
    rng = np.random.default_rng(5)
    months = pd.period_range("2018-01", periods=48, freq="M")
    y = pd.Series(rng.poisson(100, 48).astype(float), index=months)
    holed = y.copy()
    holed.iloc[[5, 17, 30]] = np.nan
    r = seasonality(holed)
    assert r.months == 45
    assert r.f_statistic == pytest.approx(seasonality(y.drop(y.index[[5, 17, 30]])).f_statistic)


def test_too_little_history_is_refused_with_a_reason():
    with pytest.raises(TooLittleHistory, match="35 month"):
        seasonality(_series([10] * 35))
    months = pd.period_range("2018-01", periods=48, freq="M")
    no_march = pd.Series([10.0] * 48, index=months)
    no_march[no_march.index.month == 3] = np.nan
    with pytest.raises(TooLittleHistory, match="March"):
        seasonality(no_march)
    with pytest.raises(ValueError, match="whole numbers"):
        seasonality(_series([1.5] * 40))
    with pytest.raises(TypeError):
        seasonality(pd.Series([1] * 40))


def test_series_of_zeros_and_sparse_months():
    assert not seasonality(_series([0] * 40)).seasonal
    sparse = _series([0 if i % 12 == 1 else 3 for i in range(48)])  # one month always empty
    r = seasonality(sparse)
    assert r.seasonal and r.effects.min() < 1e-6


def test_wording():
    assert month_names([3]) == "March"
    assert month_names([6, 7]) == "June to July"
    assert month_names([1, 2, 11, 12]) == "November to February"
    assert describe_pattern(False, (), 1.0) == "no clear seasonal pattern"


# ---------------------------------------------------------------- annual trend

def test_trend_matches_an_independent_fit_and_t_test():
    y = np.array([7372.0, 7810, 8001, 8290, 8457])
    r = annual_trend(pd.Series(y, index=[2019, 2020, 2021, 2022, 2023]))
    design = np.column_stack([np.ones(5), np.arange(5) - 2.0])
    mu = _poisson_fitted(y, design)
    slope = np.polyfit(np.arange(5), np.log(mu), 1)[0]
    phi = max(1.0, np.sum((y - mu) ** 2 / mu) / 3)
    w = mu
    xc = np.arange(5) - np.average(np.arange(5), weights=w)
    se = math.sqrt(phi / np.sum(w * xc ** 2))
    assert r.annual_change == pytest.approx(math.expm1(slope), rel=1e-6)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(slope / se), 3), rel=1e-5)
    assert r.ci_low == pytest.approx(math.expm1(slope - stats.t.ppf(0.975, 3) * se), rel=1e-5)


def test_trend_interval_covers_the_true_growth_about_95_percent_of_the_time():
    rng = np.random.default_rng(6)
    truth = 0.05
    years = np.arange(5)
    covered = rejected_flat = 0
    sims = 250
    for _ in range(sims):
        y = _negative_binomial(rng, 3000 * (1 + truth) ** years, 200.0)
        r = annual_trend(pd.Series(y))
        covered += r.ci_low <= truth <= r.ci_high
        flat = annual_trend(pd.Series(_negative_binomial(rng, [3000] * 5, 200.0)))
        rejected_flat += flat.significant
    assert covered / sims >= 0.92
    assert rejected_flat / sims <= 0.08


def test_trend_with_exposure_and_checks():
    r = annual_trend(pd.Series([100, 110, 121]), pd.Series([12, 12, 12]))
    assert r.annual_change == pytest.approx(0.1, abs=1e-6)
    with pytest.raises(ValueError, match="three years"):
        annual_trend(pd.Series([1, 2]))
    with pytest.raises(ValueError, match="exposure"):
        annual_trend(pd.Series([1, 2, 3]), pd.Series([1, 0, 1]))


# ---------------------------------------------------------------- growth change

def test_growth_change_equals_the_quadratic_term_of_a_poisson_fit():
    import statsmodels.api as sm

    y = np.array([7372.0, 8101, 8457])
    t = np.arange(3.0)
    fit = sm.GLM(y, np.column_stack([np.ones(3), t, t ** 2]),
                 family=sm.families.Poisson()).fit()
    g = growth_change(*y.astype(int))
    assert math.log(g.ratio) == pytest.approx(2 * fit.params[2], rel=1e-6)
    z = fit.params[2] / fit.bse[2]
    assert g.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-4)
    assert g.previous_change == pytest.approx(8101 / 7372 - 1)
    assert g.ratio < 1 and g.direction == "no clear change"  # p = 0.06


def test_growth_change_size_under_steady_growth():
    rng = np.random.default_rng(7)
    rejections = sum(growth_change(*rng.poisson([5000, 5250, 5512.5])).significant
                     for _ in range(2000))
    assert 0.035 <= rejections / 2000 <= 0.065


def test_growth_change_dispersion_widens_and_zero_counts():
    tight = growth_change(1000, 1200, 1250)
    wide = growth_change(1000, 1200, 1250, dispersion=5.0, dispersion_df=40)
    assert wide.p_value > tight.p_value and wide.ci_high > tight.ci_high
    assert math.isnan(growth_change(0, 5, 6).p_value)
    assert growth_change(100, 120, 150, exposures=(12, 12, 6)).latest_change == pytest.approx(1.5)
