"""Null simulations: how often do the appendix's tests cry wolf when nothing changed?

Known truth, no real change. Monthly counts are negative binomial with dispersion phi
(variance = phi x mean, phi = 2, 3, 5, 10), a seasonal mean like the demo county's categories
(amplitude 5-22%, peaks in different months) and no trend.

1. Year-on-year change (``methods.change``): 5 years of history, then the assessment year is
   compared with the year before it. The dispersion is estimated from the history (the 60
   months before the assessment year, which include the previous year) by
   ``fit_dispersion`` and passed to ``compare_counts`` with its degrees of freedom. Printed:
   the share of series called "larger than chance" by the Poisson test (the old behaviour, the
   same-run baseline) and by the dispersion-aware test; the goal is at most alpha + 2 points.
   Also: the share of 14-series appendices with at least one false call, without and with
   Benjamini-Hochberg.
2. Anticipated volumes (``methods.expected``, the crime-layer configuration): 6 years of
   history then 12 assessed months; printed: the false-alarm rate per month-series (share of
   series-months above the upper bound); the goal is at most 5%.

Run: .venv/bin/python benchmarks/null_simulation.py [--reps N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from smp_analysis.methods.change import change_table, compare_counts, fit_dispersion  # noqa: E402

ALPHA = 0.05
DISPERSIONS = (2.0, 3.0, 5.0, 10.0)
LEVELS = (40.0, 150.0, 600.0)  # mean offences a month: small, middling and large series
HISTORY_MONTHS = 60
MONTHS = pd.period_range("2017-04", periods=HISTORY_MONTHS + 12, freq="M")


def seasonal_mean(rng: np.random.Generator, level: float, n: int) -> np.ndarray:
    amplitude = rng.uniform(0.05, 0.22)
    peak = rng.integers(1, 13)
    month_of_year = np.array([m.month for m in MONTHS[:n]])
    return level * (1 + amplitude * np.cos(2 * np.pi * (month_of_year - peak) / 12))


def draw(rng: np.random.Generator, mu: np.ndarray, phi: float) -> np.ndarray:
    size = mu / (phi - 1)
    return rng.negative_binomial(size, size / (size + mu))


def change_null(reps: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for phi in DISPERSIONS:
        for level in LEVELS:
            poisson = quasi = 0
            for _ in range(reps):
                y = draw(rng, seasonal_mean(rng, level, len(MONTHS)), phi)
                fit = fit_dispersion(pd.Series(y[:HISTORY_MONTHS], index=MONTHS[:HISTORY_MONTHS]))
                current = int(y[HISTORY_MONTHS:].sum())
                previous = int(y[HISTORY_MONTHS - 12:HISTORY_MONTHS].sum())
                poisson += compare_counts(current, previous, alpha=ALPHA).significant
                quasi += compare_counts(current, previous, alpha=ALPHA, dispersion=fit.dispersion,
                                        dispersion_df=fit.df).significant
            rows.append({"dispersion": phi, "mean per month": level,
                         "Poisson test": poisson / reps, "dispersion-aware": quasi / reps})
    return pd.DataFrame(rows)


def family_null(reps: int, seed: int = 7) -> dict:
    """Appendices of 14 null series each, dispersion drawn from 2-10 per series."""
    rng = np.random.default_rng(seed)
    any_raw = any_bh = 0
    for _ in range(reps):
        current, previous, phis, dfs = {}, {}, {}, {}
        for k in range(14):
            phi = rng.uniform(2, 10)
            y = draw(rng, seasonal_mean(rng, rng.choice(LEVELS), len(MONTHS)), phi)
            fit = fit_dispersion(pd.Series(y[:HISTORY_MONTHS], index=MONTHS[:HISTORY_MONTHS]))
            current[k], previous[k] = int(y[HISTORY_MONTHS:].sum()), int(
                y[HISTORY_MONTHS - 12:HISTORY_MONTHS].sum())
            phis[k], dfs[k] = fit.dispersion, fit.df
        kwargs = dict(alpha=ALPHA, dispersion=phis, dispersion_df=dfs)
        any_raw += change_table(pd.Series(current), pd.Series(previous), **kwargs)[
            "significant"].any()
        any_bh += change_table(pd.Series(current), pd.Series(previous), adjust="bh", **kwargs)[
            "significant"].any()
    return {"appendices": reps, "at least one false call (unadjusted)": any_raw / reps,
            "at least one false call (Benjamini-Hochberg)": any_bh / reps}


def expected_null(reps: int, years: int, seed: int = 11) -> pd.DataFrame:
    """False-alarm rate of the anticipated-volume upper bound on null series: the crime-layer
    configuration (``expected_volumes``) and, as the same-run baseline, Farrington's original
    monthly settings (b = years, w = 1, delta threshold with the 2/3 power, nominal alpha)."""
    from smp_analysis.methods.expected import expected_volumes
    from smp_analysis.methods.farrington import farrington_flexible
    from smp_analysis.periods import ReportingPeriod

    rng = np.random.default_rng(seed + years)
    n = 12 * years + 1 + 12
    months = pd.period_range(end="2024-03", periods=n, freq="M")
    period = ReportingPeriod(dt.date(2023, 4, 1), dt.date(2024, 3, 31))
    rows = []
    for phi in DISPERSIONS:
        series = {}
        for r in range(reps):
            level = LEVELS[r % len(LEVELS)]
            amplitude, peak = rng.uniform(0.05, 0.22), rng.integers(1, 13)
            trend = rng.uniform(-0.05, 0.03)
            mu = (level * (1 + amplitude * np.cos(2 * np.pi * (months.month - peak) / 12))
                  * np.exp(np.log1p(trend) * np.arange(n) / 12))
            series[f"s{r}"] = draw(rng, np.asarray(mu, dtype=float), phi)
        wide = pd.DataFrame(series, index=months)
        tidy = wide.stack().rename("count").reset_index().rename(
            columns={"level_0": "month", "level_1": "crime_type"})
        tidy["month"] = pd.PeriodIndex(tidy["month"], freq="M").to_timestamp()
        result = expected_volumes(tidy, period=period, alpha=ALPHA, years=years)
        monthly = result.monthly.dropna(subset=["upperbound"])
        old = farrington_flexible(wide, freq=12, assess=months[-12:], b=years, w=1,
                                  limit54=(0, 4), alpha=ALPHA)
        old = old.dropna(subset=["upperbound"])
        rows.append({"years of history": years, "dispersion": phi,
                     "month-series": len(monthly),
                     "Farrington original settings": float(
                         (old["observed"] > old["upperbound"]).mean()),
                     "crime-layer configuration": float(monthly["exceeds"].mean())})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    args = parser.parse_args()
    pd.set_option("display.width", 120)

    start = time.perf_counter()
    change = change_null(args.reps)
    print(f"1. Year-on-year change, no real change, share called 'larger than chance' at alpha = "
          f"{ALPHA} ({args.reps} series per row; goal <= {ALPHA + 0.02:.2f}):")
    print(change.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    worst = change["dispersion-aware"].max()
    print(f"   worst dispersion-aware share {worst:.3f} "
          f"({'meets' if worst <= ALPHA + 0.02 else 'MISSES'} the goal); Poisson test "
          f"{change['Poisson test'].min():.3f}-{change['Poisson test'].max():.3f} "
          f"[{time.perf_counter() - start:.0f} s]")
    start = time.perf_counter()
    family = family_null(max(100, args.reps // 5))
    print("   14-series appendices with dispersion 2-10: "
          + "; ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in family.items())
          + f" [{time.perf_counter() - start:.0f} s]")

    start = time.perf_counter()
    from smp_analysis.methods.expected import CRIME_LAYER, NO_PERIODS, NOMINAL_ALPHA

    expected = pd.concat([expected_null(max(200, args.reps // 2), years) for years in
                          (1, 2, 3, 5)], ignore_index=True)
    print(f"\n2. Anticipated volumes, no real change: share of month-series above the upper "
          f"bound (goal <= 0.05). Crime layer: {CRIME_LAYER}, levels {NO_PERIODS}, nominal "
          f"tail {NOMINAL_ALPHA}:")
    print(expected.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    worst = expected["crime-layer configuration"].max()
    print(f"   worst crime-layer rate {worst:.3f} ({'meets' if worst <= 0.05 else 'MISSES'} the "
          f"goal); original settings up to {expected['Farrington original settings'].max():.3f}"
          f" [{time.perf_counter() - start:.0f} s]")


if __name__ == "__main__":
    main()
