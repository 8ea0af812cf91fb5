"""Recording-practice adjustment: worked example, simulation over many seeds, exact cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smp_analysis.methods.recording import (
    RecordingInputError,
    adjusted_change,
    estimate_recording_uplift,
    real_change,
    uplift_from_compliance,
)

MONTHS = pd.period_range("2010-01", periods=96, freq="M")
BREAK = "2014-01-01"


def test_seed_paper_worked_example():
    # "+23% observed with an uplift of 14% to 18% gives about +4.2% to +7.9%"
    low, high = real_change(0.23, (0.14, 0.18))
    assert low == pytest.approx(1.23 / 1.18 - 1) and high == pytest.approx(1.23 / 1.14 - 1)
    assert (round(100 * low, 1), round(100 * high, 1)) == (4.2, 7.9)
    assert real_change(0.10, 0.10) == pytest.approx(0.0)


def _simulated(seed: int, *, uplift: float = 0.2, shape: float | None = None) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(len(MONTHS))
    season = 1 + 0.12 * np.cos(2 * np.pi * (MONTHS.month.to_numpy() - 7) / 12)
    step = np.where(MONTHS >= pd.Period(BREAK, "M"), 1 + uplift, 1.0)
    mu = 1000 * np.exp(0.02 * t / 12) * season * step
    lam = mu if shape is None else rng.gamma(shape, mu / shape)
    return pd.Series(rng.poisson(lam), index=MONTHS)


@pytest.mark.parametrize("shape, within_share", [(None, 0.9), (400, 0.6)])
def test_its_recovers_a_known_uplift_over_many_seeds(shape, within_share):
    """Seasonality, trend and Poisson (or overdispersed) noise; 200 fixed seeds."""
    within = covered = 0
    for seed in range(200):
        r = estimate_recording_uplift(_simulated(seed, shape=shape), BREAK)
        within += abs(r.uplift - 0.2) < 0.03
        covered += r.ci_low <= 0.2 <= r.ci_high
    assert within / 200 >= within_share
    assert 0.90 <= covered / 200 <= 0.99  # nominal 95%


def test_its_counterfactual_removes_the_step():
    r = estimate_recording_uplift(_simulated(1), BREAK)
    after = r.counterfactual.dropna()
    assert after.index.min() == pd.Period(BREAK, "M") and r.counterfactual.isna().sum() == 48
    observed_after = _simulated(1)[after.index]
    assert observed_after.sum() / after.sum() == pytest.approx(1 + r.uplift, rel=0.02)


def test_slope_change_option_still_estimates_the_level_shift():
    r = estimate_recording_uplift(_simulated(2), BREAK, slope_change=True)
    assert abs(r.uplift - 0.2) < 0.06 and "slope change" in r.detail


def test_comparator_ratio_is_exact_on_constructed_data():
    recorded = pd.Series([100] * 12 + [150] * 12, index=MONTHS[:24])
    comparator = pd.Series([50] * 12 + [60] * 12, index=MONTHS[:24])
    r = estimate_recording_uplift(recorded, "2011-01-01", comparator=comparator)
    assert r.uplift == pytest.approx(1.5 / 1.2 - 1)  # 0.25 exactly
    se = np.sqrt(1 / 1200 + 1 / 1800 + 1 / 600 + 1 / 720)
    assert r.ci_low == pytest.approx(1.25 * np.exp(-1.959964 * se) - 1, rel=1e-5)
    assert r.counterfactual.dropna().tolist() == [120.0] * 12


def test_compliance_rates_with_katz_interval():
    r = uplift_from_compliance(0.67, 0.81, n_before=500, n_after=500)
    assert r.uplift == pytest.approx(0.81 / 0.67 - 1)
    se = np.sqrt(0.19 / (0.81 * 500) + 0.33 / (0.67 * 500))
    assert r.ci_high == pytest.approx((0.81 / 0.67) * np.exp(1.959964 * se) - 1, rel=1e-5)


def test_adjusted_change_only_adjusts_months_after_the_change():
    prev = pd.Series(100.0, index=pd.period_range("2013-07", periods=12, freq="M"))
    cur = pd.Series(120.0, index=pd.period_range("2014-07", periods=12, freq="M"))
    # previous period Jul 2013 - Jun 2014: 6 months before the change (100 each) and 6 after
    # (100 / 1.2 each); the current period is all after (120 / 1.2 = 100 each)
    r = adjusted_change(cur, prev, BREAK, 0.2)
    assert r["observed"] == pytest.approx(0.2)
    assert r["adjusted"] == pytest.approx(1200 / (600 + 600 / 1.2) - 1)
    both_after = adjusted_change(cur, cur * 0.9, "2012-01-01", 0.2)
    assert both_after["adjusted"] == pytest.approx(both_after["observed"])


def test_bad_input_is_explained():
    s = _simulated(0)
    with pytest.raises(RecordingInputError, match="outside the series"):
        estimate_recording_uplift(s, "2030-01-01")
    with pytest.raises(RecordingInputError, match="at least 12 months either side"):
        estimate_recording_uplift(s, "2010-06-01")
    with pytest.raises(RecordingInputError, match="indexed by month"):
        estimate_recording_uplift(s.reset_index(drop=True), BREAK)
    with pytest.raises(RecordingInputError, match="without gaps"):
        estimate_recording_uplift(s.drop(pd.Period("2012-05", "M")), BREAK)


@pytest.mark.slow
def test_demo_recording_step_is_found(built_appendix, demo_params, demo_dir):
    """The demo holds a +25% step in violence and sexual offences from April 2014."""
    import json

    from smp_analysis.report import Assessment
    from smp_analysis.topics import recording

    truth = json.loads((demo_dir / "demo-manifest.json").read_text())["recording_change"]
    (adj,) = recording.compute(Assessment.open(demo_params)).adjustments
    assert adj.crime_type in truth["crime_types"] and adj.affects_comparison
    for estimate in (adj.its, adj.comparator):
        assert estimate.ci_low <= truth["uplift"] <= estimate.ci_high
        assert abs(estimate.uplift - truth["uplift"]) < 0.05
    low = adj.adjusted["interrupted time series"]["adjusted_low"]
    high = adj.adjusted["interrupted time series"]["adjusted_high"]
    assert low < high < adj.observed_change
