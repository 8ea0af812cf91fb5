"""Benchmark: disclosure control of the domestic-abuse chapter (goal: a district of 26 wards
in under 5 s, 100 wards in under 60 s, on 2 cores).

Baseline measured in the same run: one independent audit of the finished pattern (two integer
programs per suppressed cell, no knowledge of the true values: what the test suite's attacker
pays); the ratio says how many such audits building the pattern costs. The cheap line rule
alone (the appendix's rule before the audit) is timed too, for scale. Wards have lognormal
sizes, so many cells are small, as in real districts.

Run: .venv/bin/python benchmarks/disclosure.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from smp_analysis.methods.repeats import repeat_victimisation  # noqa: E402
from smp_analysis.report import disclosure  # noqa: E402
from smp_analysis.topics import domestic_abuse as da  # noqa: E402

TYPES = [*da.HIGH_HARM_TYPES, *["Assault"] * 6, "Harassment"]


def incidents(wards: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = np.maximum(1, rng.lognormal(3.5, 1.1, wards).astype(int))
    rows = []
    for w, size in enumerate(sizes):
        victims = rng.integers(0, max(1, int(size * 0.8)), size)
        days = rng.integers(0, 730, size)
        for v, d in zip(victims, days, strict=True):
            rows.append((f"W{w:03d}-{v}", pd.Timestamp("2022-04-01") + pd.Timedelta(days=int(d)),
                         TYPES[rng.integers(0, len(TYPES))], f"Ward {w:03d}"))
    frame = pd.DataFrame(rows, columns=["victim_key", "date", "incident_type", "ward"])
    return frame.assign(incident_id=[str(i) for i in range(len(frame))], is_crime=True)


def figures(frame: pd.DataFrame):
    current = repeat_victimisation(frame, start="2023-04-01", end="2024-03-31", area="ward")
    previous = repeat_victimisation(frame, start="2022-04-01", end="2023-03-31", area="ward")
    now = frame[frame["date"] >= pd.Timestamp("2023-04-01")]
    high = (now[now["incident_type"].isin(da.HIGH_HARM_TYPES)]
            .pivot_table(index="ward", columns="incident_type", values="incident_id",
                         aggfunc="count", fill_value=0)
            .reindex(columns=list(da.HIGH_HARM_TYPES), fill_value=0))
    wards, values = da.chapter_figures(current, previous, crimes={
        "current": current.incidents, "previous": previous.incidents}, high=high, marac=None)
    relations = da.chapter_relations(wards, marac=False, one_first_incident={
        "current": True, "previous": True})
    return wards, values, relations


def main() -> None:
    for n, goal in ((26, 5), (100, 60)):
        wards, values, relations = figures(incidents(n))
        near = da.near_totals(wards)
        start = time.perf_counter()
        hidden = {k for k, v in values.items() if disclosure.is_small(v, 5)}
        disclosure._line_rule(values, relations + near, hidden, 5,
                              {k: i for i, k in enumerate(values)})
        line_rule = time.perf_counter() - start
        start = time.perf_counter()
        protection = disclosure.protect(values, relations, 5, near=near)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        weak = protection.audit().unprotected(5)
        baseline = time.perf_counter() - start
        print(f"{n} wards: {len(values)} figures, {len(protection.primary)} small, "
              f"{len(protection.hidden)} suppressed ({len(hidden)} by the line rule alone), "
              f"{len(weak)} unprotected")
        print(f"  line rule alone:                         {line_rule:7.3f} s")
        print(f"  independent audit of the result (baseline): {baseline:7.2f} s")
        print(f"  protect (line rule + audit and repair):  {ours:7.2f} s   (goal < {goal} s)")
        print(f"  ratio protect / audit: {ours / baseline:.1f}")

if __name__ == "__main__":
    main()
