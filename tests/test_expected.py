"""Actual vs anticipated volumes: hand-computed seasonal means, Farrington wiring, notes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from smp_analysis.methods.expected import CRIME_LAYER, NOMINAL_ALPHA, expected_volumes
from smp_analysis.methods.farrington import farrington_flexible
from smp_analysis.periods import ReportingPeriod


def _tidy(values: dict[str, list[int]], start: str = "2019-01") -> pd.DataFrame:
    rows = []
    for crime_type, counts in values.items():
        months = pd.period_range(start, periods=len(counts), freq="M")
        rows += [{"crime_type": crime_type, "month": m.to_timestamp(), "count": c}
                 for m, c in zip(months, counts, strict=True)]
    return pd.DataFrame(rows)


YEAR_2021 = ReportingPeriod(dt.date(2021, 1, 1), dt.date(2021, 12, 31))


def test_seasonal_mean_by_hand():
    # Two baseline years: 2019 all 10 except January 30; 2020 all 20 except January 40.
    y2019 = [30] + [10] * 11
    y2020 = [40] + [20] * 11
    data = _tidy({"Burglary": y2019 + y2020 + [50] * 12})
    r = expected_volumes(data, period=YEAR_2021, method="seasonal_mean", years=2)
    # January mean 35, other months 15; totals 140 and 260 (mean 200); scale 260/200 = 1.3
    jan, feb = r.monthly["expected"].iloc[0], r.monthly["expected"].iloc[1]
    assert jan == pytest.approx(35 * 1.3) and feb == pytest.approx(15 * 1.3)
    assert r.annual.loc[0, "expected"] == pytest.approx(260.0)  # = last year's total
    # phi: Pearson dispersion around month means = sum((y - m)^2 / m) / (24 - 12)
    phi = (2 * 25 / 35 + 22 * 25 / 15) / 12
    assert r.monthly["upperbound"].iloc[1] == pytest.approx(
        19.5 + 1.6448536269514722 * np.sqrt(phi * 19.5))
    assert r.annual.loc[0, "percent_vs_expected"] == pytest.approx(100 * (600 / 260 - 1))


def test_farrington_method_uses_the_crime_layer_configuration():
    rng = np.random.default_rng(3)
    counts = list(rng.poisson(40, 84))
    data = _tidy({"Robbery": counts}, start="2015-01")
    period = ReportingPeriod(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    r = expected_volumes(data, period=period)
    series = pd.Series(counts, index=pd.period_range("2015-01", periods=84, freq="M"))
    direct = farrington_flexible(series, freq=12, assess=series.index[-12:], b=5, w=1,
                                 no_periods=10, threshold_method="muan",
                                 past_weeks_not_included=1, limit54=(0, 4),
                                 alpha=NOMINAL_ALPHA[5])
    assert CRIME_LAYER["no_periods"] == 10 and CRIME_LAYER["threshold_method"] == "muan"
    np.testing.assert_allclose(r.monthly["expected"], direct["expected"])
    np.testing.assert_array_equal(r.monthly["exceeds"],
                                  direct["observed"] > direct["upperbound"])
    assert r.years_used == {"Robbery": 5} and r.notes == []


def test_short_history_uses_fewer_years_and_says_so():
    data = _tidy({"Drugs": [5] * 48})  # 2019-01 .. 2022-12
    period = ReportingPeriod(dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    r = expected_volumes(data, period=period)
    assert r.years_used == {"Drugs": 2}
    assert "Only 2 years of usable history" in r.notes[0]
    with pytest.raises(ValueError, match="at least one year of history"):
        expected_volumes(data, period=ReportingPeriod(dt.date(2019, 7, 1),
                                                      dt.date(2020, 6, 30)))


@pytest.mark.parametrize("method", ["farrington", "seasonal_mean"])
def test_excluded_months_do_not_move_the_baseline(method):
    rng = np.random.default_rng(5)
    base = list(rng.poisson(30, 84))
    spiked = list(base)
    spiked[63] = 400  # 2020-04 in a series starting 2015-01
    period = ReportingPeriod(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    kw = dict(period=period, method=method, exclude=["2020-04"])
    a = expected_volumes(_tidy({"X": base}, "2015-01"), **kw)
    b = expected_volumes(_tidy({"X": spiked}, "2015-01"), **kw)
    np.testing.assert_allclose(a.monthly["expected"], b.monthly["expected"])
    assert any("left out of the baselines" in n for n in a.notes)


def test_a_missing_month_is_left_out_of_the_baseline_never_zero():
    """A month absent from the data (and one marked unusable) is treated as Farrington's
    exclude_from_baseline would treat it, not as a month with no crime."""
    rng = np.random.default_rng(8)
    counts = list(rng.poisson(300, 84))
    months = pd.period_range("2015-01", periods=84, freq="M")
    data = _tidy({"X": counts}, "2015-01")
    period = ReportingPeriod(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    gap = data[data["month"] != pd.Timestamp("2020-01-01")]
    r = expected_volumes(gap, period=period)
    direct = farrington_flexible(pd.Series(counts, index=months), freq=12,
                                 assess=months[-12:], b=5, alpha=NOMINAL_ALPHA[5],
                                 exclude_from_baseline=["2020-01"], **{
                                     k: v for k, v in CRIME_LAYER.items()})
    np.testing.assert_allclose(r.monthly["expected"], direct["expected"])
    zero = counts[:60] + [0] + counts[61:]
    zero_filled = expected_volumes(_tidy({"X": zero}, "2015-01"), period=period)
    assert zero_filled.monthly["expected"].iloc[0] < r.monthly["expected"].iloc[0] - 5
    marked = expected_volumes(data, period=period, unusable=["2020-01"])
    np.testing.assert_allclose(marked.monthly["expected"], r.monthly["expected"])
    assert any("January 2020" in n for n in marked.notes)


def test_an_assessed_month_without_usable_data_is_shown_and_left_out_of_the_year():
    rng = np.random.default_rng(9)
    data = _tidy({"X": list(rng.poisson(100, 84))}, "2015-01")
    period = ReportingPeriod(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    gap = data[data["month"] != pd.Timestamp("2021-03-01")]
    r = expected_volumes(gap, period=period, unusable=["2021-06"])
    status = dict(zip(r.monthly["month"].dt.strftime("%Y-%m"), r.monthly["status"],
                      strict=True))
    assert status["2021-03"] == "no data" and status["2021-06"] == "incomplete"
    assert list(status.values()).count("ok") == 10
    ok = r.monthly[r.monthly["status"] == "ok"]
    row = r.annual.iloc[0]
    assert (row["months"], row["of"]) == (10, 12)
    assert row["observed"] == ok["observed"].sum()
    assert row["expected"] == pytest.approx(ok["expected"].sum())
    assert not r.monthly.loc[r.monthly["status"] != "ok", "exceeds"].any()


def test_series_start_shortens_one_series_and_says_so():
    rng = np.random.default_rng(10)
    data = _tidy({"Weapons": [0] * 52 + list(rng.poisson(30, 32)),
                  "Burglary": list(rng.poisson(80, 84))}, "2015-01")
    period = ReportingPeriod(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    naive = expected_volumes(data, period=period)
    fixed = expected_volumes(data, period=period, series_start={"Weapons": pd.Period("2019-05")})
    assert fixed.years_used == {"Burglary": 5, "Weapons": 1}
    weapons = fixed.annual.set_index("crime_type").loc["Weapons"]
    assert abs(weapons["percent_vs_expected"]) < 30
    assert naive.annual.set_index("crime_type").loc["Weapons", "percent_vs_expected"] > 100
    assert any("weapons" in n and "1 year of usable history" in n for n in fixed.notes)


def test_seasonal_mean_with_one_year_of_history_is_last_year():
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]
    data = _tidy({"X": values + values}, "2020-01")
    r = expected_volumes(data, period=YEAR_2021, method="seasonal_mean", years=5)
    assert r.years_used == {"X": 1}
    np.testing.assert_allclose(r.monthly["expected"], values)


def test_crime_layer_false_alarm_rate_on_null_series():
    """Known truth: no change. Seasonal negative binomial series with dispersion 5 and demo-like
    trends: at most 5% of month-series above the bound (plus Monte Carlo error of 2,400 checks;
    benchmarks/null_simulation.py runs dispersions 2-10 and 1-5 years). Farrington's original
    settings exceed it on the same series."""
    rng = np.random.default_rng(21)
    months = pd.period_range("2017-03", periods=85, freq="M")
    rows = []
    for r in range(200):
        level = (40.0, 150.0, 600.0)[r % 3]
        mu = (level * (1 + rng.uniform(0.05, 0.22) * np.cos(
            2 * np.pi * (months.month.to_numpy() - rng.integers(1, 13)) / 12))
              * np.exp(np.log1p(rng.uniform(-0.05, 0.03)) * np.arange(85) / 12))
        size = mu / 4.0  # dispersion 5: var = mu + mu^2 / size = 5 mu
        rows.append(pd.DataFrame({"crime_type": f"s{r}", "month": months.to_timestamp(),
                                  "count": rng.negative_binomial(size, size / (size + mu))}))
    period = ReportingPeriod(dt.date(2023, 3, 1), dt.date(2024, 2, 29))
    result = expected_volumes(pd.concat(rows), period=period)
    assert result.checks == 2400 and result.years_used["s0"] == 5
    assert result.monthly["exceeds"].mean() <= 0.05 + 0.013
    assert result.chance_flags == pytest.approx(0.05 * 2400)


def test_seasonal_mean_with_a_missing_month_in_its_only_year():
    """One year of history with a month missing: that month has no anticipated value and the
    others are last year's values (never 0 or NaN for every row)."""
    values = [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]
    data = _tidy({"X": values + values}, "2020-01")
    gap = data[data["month"] != pd.Timestamp("2020-03-01")]
    r = expected_volumes(gap, period=YEAR_2021, method="seasonal_mean", years=5)
    expected = r.monthly["expected"].to_numpy()
    assert np.isnan(expected[2]) and r.monthly["status"].iloc[2] == "no baseline"
    np.testing.assert_allclose(np.delete(expected, 2), np.delete(values, 2))
    assert r.annual.loc[0, "months"] == 11
