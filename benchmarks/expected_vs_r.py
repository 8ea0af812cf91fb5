"""Benchmark: Farrington flexible in R (surveillance) and in smp_analysis, same workload.

Workload: 182 monthly series (13 districts x 14 categories of the synthetic demo county) x 12
assessed months (April 2023 to March 2024), b = 5, w = 1, delta thresholds. Both sides are timed
around the algorithm call only (R: system.time; ours: perf_counter), the outputs are checked for
parity on the way (expected, upperbound within 1e-6 relative, alarms identical), and the ratio
R time / our time is printed. Goal: >= 20x.

Setup: needs Rscript with surveillance (Debian: r-cran-surveillance); installed with apt-get
when missing and running as root.

Run: .venv/bin/python benchmarks/expected_vs_r.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from smp_analysis import store  # noqa: E402
from smp_analysis.demo import generate  # noqa: E402
from smp_analysis.methods.farrington import farrington_flexible  # noqa: E402

R_SCRIPT = r"""
suppressMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
wide <- read.csv(args[1], check.names = FALSE)
dates <- as.Date(wide$month)
m <- as.matrix(wide[, -1])
s <- sts(observed = m, epoch = dates, frequency = 12)
n <- nrow(m)
control <- list(range = (n - 11):n, b = 5, w = 1, reweight = TRUE, weightsThreshold = 2.58,
                alpha = 0.05, trend = TRUE, pThresholdTrend = 0.05, limit54 = c(0, 4),
                powertrans = "2/3", noPeriods = 1, pastWeeksNotIncluded = 1,
                thresholdMethod = "delta", glmWarnings = FALSE)
elapsed <- system.time(res <- farringtonFlexible(s, control = control))[["elapsed"]]
out <- data.frame(
  series = rep(colnames(m), each = 12), t = rep((n - 11):n, times = ncol(m)),
  expected = as.vector(res@control$expected), upperbound = as.vector(res@upperbound),
  alarm = as.vector(res@alarm))
write.csv(out, args[2], row.names = FALSE)
cat(elapsed, "\n")
"""


def ensure_r() -> str:
    rscript = shutil.which("Rscript")
    ok = rscript and subprocess.run(
        [rscript, "-e", "library(surveillance)"], capture_output=True).returncode == 0
    if not ok:
        print("installing Debian's r-cran-surveillance (one-off)...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "r-cran-surveillance"], check=True,
                       env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/bin:/bin"})
        rscript = shutil.which("Rscript")
    return rscript


def workload(work: Path) -> pd.DataFrame:
    demo = generate(work / "demo")
    con = store.connect(work / "store.duckdb")
    store.ingest_police_uk(con, [demo / "police_uk"])
    store.load_reference(con, "lsoa_lookup", demo / "geography" / "PoliceforceLSOA.csv")
    counts = store.monthly_counts(con, start=dt.date(2008, 4, 1), end=dt.date(2024, 3, 31))
    con.close()
    counts["series"] = counts["area_code"] + ":" + counts["crime_type"]
    wide = counts.pivot_table(index="month", columns="series", values="count", fill_value=0)
    assert wide.shape == (192, 182), wide.shape
    return wide.astype("int64")


def main() -> None:
    rscript = ensure_r()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wide = workload(work)
        source = work / "wide.csv"
        wide.rename_axis("month").reset_index().assign(
            month=lambda f: f["month"].dt.strftime("%Y-%m-%d")).to_csv(source, index=False)
        script = work / "bench.R"
        script.write_text(R_SCRIPT)
        r_out = work / "r.csv"
        proc = subprocess.run([rscript, str(script), str(source), str(r_out)],
                              capture_output=True, text=True, check=True)
        r_seconds = float(proc.stdout.split()[-1])

        series = wide.copy()
        series.index = series.index.to_period("M")
        start = time.perf_counter()
        ours = farrington_flexible(series, freq=12, assess=series.index[-12:], b=5, w=1,
                                   limit54=(0, 4))
        our_seconds = time.perf_counter() - start

        r = pd.read_csv(r_out)
        ours = ours.reset_index()
        assert (ours["series"].to_numpy() == r["series"].to_numpy()).all()
        for column in ("expected", "upperbound"):
            np.testing.assert_allclose(ours[column].to_numpy(float), r[column].to_numpy(float),
                                       rtol=1e-6, err_msg=column)
        assert (ours["alarm"].to_numpy() == r["alarm"].astype(bool).to_numpy()).all()
        print(f"workload: {wide.shape[1]} series x 12 months = {len(r)} evaluations; "
              "parity with R: expected and upperbound within 1e-6, alarms identical")
        print(f"R surveillance::farringtonFlexible: {r_seconds:8.3f} s")
        print(f"smp_analysis farrington_flexible:   {our_seconds:8.3f} s")
        print(f"ratio (R / ours): {r_seconds / our_seconds:.1f}x   (goal >= 20x)")


if __name__ == "__main__":
    main()
