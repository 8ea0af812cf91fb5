"""Benchmark: repeat victimisation on 1,000,000 incidents (goal: under 5 s on 2 cores).

Baseline measured in the same run: a plain pandas sort of the same frame by victim and date
(the irreducible core of any repeat calculation); the ratio says how much more our full
computation (flags, period filter, rates, by-ward and by-month breakdowns) costs.

Run: .venv/bin/python benchmarks/repeats.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from smp_analysis.methods.repeats import repeat_victimisation  # noqa: E402

N = 1_000_000


def incidents(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    return pd.DataFrame({
        "incident_id": np.arange(10_000_000, 10_000_000 + n).astype(str),
        "victim_key": [f"{v:032x}" for v in rng.integers(0, 2**62, n // 3)[
            rng.integers(0, n // 3, n)]],
        "date": pd.Timestamp("2016-04-01") + pd.to_timedelta(rng.integers(0, 8 * 365, n), "D"),
        "ward": rng.choice([f"E0590{i:04d}" for i in range(26)], n),
    })


def main() -> None:
    frame = incidents()
    start = time.perf_counter()
    frame.sort_values(["victim_key", "date"])
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    result = repeat_victimisation(frame, start="2022-04-01", end="2023-03-31", area="ward")
    ours = time.perf_counter() - start
    print(f"{N:,} incidents; {result.incidents:,} in the period, repeat incident rate "
          f"{result.repeat_incident_rate:.1%}")
    print(f"pandas sort by victim and date (baseline): {baseline:6.2f} s")
    print(f"repeat_victimisation (full):               {ours:6.2f} s   (goal < 5 s)")
    print(f"ratio ours / baseline: {ours / baseline:.2f}")


if __name__ == "__main__":
    main()
