"""Farrington flexible: parity with R surveillance::farringtonFlexible, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smp_analysis.methods.farrington import FarringtonInputError, farrington_flexible

REFERENCE = "reference/farrington"


def _cases(shared_root):
    return json.loads((shared_root / REFERENCE / "cases.json").read_text())["cases"]


@pytest.fixture(scope="module")
def shared_root(shared_data):
    return shared_data.parent


def _run_case(root, case):
    inp = pd.read_csv(root / REFERENCE / case["input"])
    ctl = case["control"]
    if "date" in inp:
        index = pd.PeriodIndex(pd.to_datetime(inp["date"]), freq="M")
    else:
        index = pd.Index(inp["t"], name="t")
    observed = pd.Series(inp["observed"].to_numpy(), index=index)
    population = (pd.Series(inp["population"].to_numpy(), index=index)
                  if ctl["populationOffset"] else None)
    first, last = case["range"]
    result = farrington_flexible(
        observed, freq=case["freq"], assess=[index[t - 1] for t in range(first, last + 1)],
        b=ctl["b"], w=ctl["w"], reweight=ctl["reweight"],
        weights_threshold=ctl["weightsThreshold"], alpha=ctl["alpha"], trend=ctl["trend"],
        p_threshold_trend=ctl["pThresholdTrend"], limit54=tuple(ctl["limit54"]),
        powertrans=ctl["powertrans"], no_periods=ctl["noPeriods"],
        past_weeks_not_included=ctl["pastWeeksNotIncluded"],
        threshold_method=ctl["thresholdMethod"], population=population)
    return result.reset_index(drop=True), pd.read_csv(root / REFERENCE / case["output"])


CASE_NAMES = ["agona_farrington", "agona_noufaily", "agona_noufaily_muan", "rota1569_crime",
              "rota0004_crime", "rota0004_noufaily12", "rota1569_popoffset"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_matches_r_surveillance(shared_root, name):
    case = next(c for c in _cases(shared_root) if c["name"] == name)
    ours, r = _run_case(shared_root, case)
    assert len(ours) == len(r)
    np.testing.assert_array_equal(ours["observed"].to_numpy(), r["observed"].to_numpy())
    for column in ("expected", "upperbound", "score", "pvalue", "phi"):
        a, e = ours[column].to_numpy(float), r[column].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=f"{column}: NA pattern")
        np.testing.assert_allclose(a[~np.isnan(e)], e[~np.isnan(e)], rtol=1e-6,
                                   err_msg=column)
    np.testing.assert_array_equal(ours["alarm"].to_numpy(), r["alarm"].astype(bool).to_numpy())
    # The reference files mark a kept trend with 0 and a dropped one with NA (see docs/methods.md)
    np.testing.assert_array_equal(ours["trend"].to_numpy(bool), r["trend"].notna().to_numpy())


def test_every_reference_case_is_tested(shared_root):
    assert sorted(c["name"] for c in _cases(shared_root)) == sorted(CASE_NAMES)


def test_batch_equals_one_series_at_a_time(shared_root):
    inputs = shared_root / REFERENCE / "inputs"
    frames = {name: pd.read_csv(inputs / f"{name}.csv") for name in ("rotaBB_00_04",
                                                                       "rotaBB_15_69")}
    index = pd.PeriodIndex(pd.to_datetime(frames["rotaBB_00_04"]["date"]), freq="M")
    wide = pd.DataFrame({k: v["observed"].to_numpy() for k, v in frames.items()}, index=index)
    assess = index[-12:]
    batch = farrington_flexible(wide, freq=12, assess=assess, b=5, w=1, limit54=(0, 4))
    for name in wide.columns:
        single = farrington_flexible(wide[name], freq=12, assess=assess, b=5, w=1,
                                     limit54=(0, 4))
        pd.testing.assert_frame_equal(batch.loc[name], single, check_names=False)


def test_months_fitted_together_equal_one_month_at_a_time(shared_root):
    """Months whose baselines have the same shape are fitted in one vectorised run; months
    left out of the baselines make some baselines shorter, so this also checks the grouping."""
    inputs = shared_root / REFERENCE / "inputs"
    frames = {name: pd.read_csv(inputs / f"{name}.csv") for name in ("rotaBB_00_04",
                                                                       "rotaBB_15_69")}
    index = pd.PeriodIndex(pd.to_datetime(frames["rotaBB_00_04"]["date"]), freq="M")
    wide = pd.DataFrame({k: v["observed"].to_numpy() for k, v in frames.items()}, index=index)
    wide.iloc[-21:-15, 1] = 0  # a quiet spell: some months lack limit54's cases in one series
    assess = index[-30:]
    left_out = [index[-40], index[-27], index[-15]]
    options = dict(freq=12, b=3, w=1, limit54=(5, 4), exclude_from_baseline=left_out)
    together = farrington_flexible(wide, assess=assess, **options)
    assert together["expected"].isna().any() and together["expected"].notna().any()
    for month in assess:
        alone = farrington_flexible(wide, assess=[month], **options)
        for name in wide.columns:
            pd.testing.assert_frame_equal(together.loc[(name, [month]), :],
                                          alone.loc[(name, [month]), :], rtol=1e-10)


def _monthly(values, start="2015-01"):
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="M"))


def test_hand_checked_flat_baseline():
    # Baseline of 15 equal counts of 10 (b=5, w=1, trend off): expected 10; phi is floored at
    # 1, but se.fit uses the unfloored estimate, which is 0 for a perfect fit, so tau = 1 and
    # the delta 2/3 upper bound is (10^(2/3) + 1.6449 * sqrt(4/9 * 10^(1/3)))^(3/2) = 15.629.
    s = _monthly([10] * 72 + [25])
    r = farrington_flexible(s, freq=12, assess=[s.index[-1]], b=5, w=1, trend=False,
                            limit54=(0, 4))
    row = r.iloc[0]
    tau = 1.0
    z = 1.6448536269514722
    upper = (10 ** (2 / 3) + z * np.sqrt(4 / 9 * 10 ** (1 / 3) * tau)) ** 1.5
    assert row["expected"] == pytest.approx(10.0, rel=1e-9)
    assert row["phi"] == 1.0
    assert row["upperbound"] == pytest.approx(upper, rel=1e-9)
    assert upper == pytest.approx(15.6292, abs=1e-4)
    assert bool(row["alarm"]) and row["score"] == pytest.approx(15 / (upper - 10), rel=1e-9)


@pytest.mark.parametrize("values, message", [
    ([3, -1] + [3] * 70, "whole numbers >= 0"),
    ([3, 2.5] + [3] * 70, "whole numbers >= 0"),
    ([3, None] + [3] * 70, "whole numbers >= 0"),
])
def test_bad_counts_are_named(values, message):
    s = _monthly(values)
    with pytest.raises(FarringtonInputError, match=message) as info:
        farrington_flexible(s, freq=12, assess=[s.index[-1]], b=5, w=1)
    assert "2015-02" in str(info.value)


def test_gap_in_monthly_index():
    s = _monthly([5] * 72).drop(pd.Period("2016-03", "M"))
    with pytest.raises(FarringtonInputError, match="missing months: 2016-03"):
        farrington_flexible(s, freq=12, assess=[s.index[-1]], b=5, w=1)


def test_too_little_history():
    s = _monthly([5] * 40)
    with pytest.raises(FarringtonInputError, match="too little history to assess 2018-04: b=5"):
        farrington_flexible(s, freq=12, assess=[s.index[-1]], b=5, w=1)


def test_population_must_align():
    s = _monthly([5] * 72)
    with pytest.raises(FarringtonInputError, match="same index"):
        farrington_flexible(s, freq=12, assess=[s.index[-1]], b=5, w=1,
                            population=pd.Series(1000, index=s.index[1:]))


def test_all_zero_baseline_gives_documented_result_not_a_crash():
    s = _monthly([0] * 72 + [3])
    r = farrington_flexible(s, freq=12, assess=[s.index[-1]], b=5, w=1, limit54=(0, 4))
    row = r.iloc[0]
    # As in R, the GLM converges to a mean of ~0, so any count above zero is an alarm.
    assert 0 <= row["expected"] < 1e-6 and row["upperbound"] < 0.01
    assert bool(row["alarm"]) and not bool(row["trend"])


def test_unknown_label_and_options():
    s = _monthly([5] * 72)
    with pytest.raises(FarringtonInputError, match="not in the index"):
        farrington_flexible(s, freq=12, assess=["2030-01"], b=5, w=1)
    with pytest.raises(FarringtonInputError, match="threshold_method"):
        farrington_flexible(s, freq=12, assess=[s.index[-1]], threshold_method="magic")
