"""Benchmark: validated ingest of all Northumbria police.uk files into a new DuckDB store.

In one run: (1) plain `pandas.read_csv` + `concat` of the same files (the baseline), (2) our
`ingest_police_uk` (read, hash, validate with pandera, quarantine, type, store into a new
store), each timed three times, alternating; medians of rows/s of both and the ratio.
Then how many files took the fast (Arrow-only) path, and peak memory (max RSS of a fresh
process) ingesting the first third of the files and all of them: streaming file by file keeps
it flat.

Run: .venv/bin/python benchmarks/ingest.py  (needs ../shared/data)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
SOURCE = PROJECT.parent / "shared" / "data" / "police_uk" / "northumbria"


def _files() -> list[Path]:
    return sorted(SOURCE.rglob("*-street.csv"))


def pandas_baseline(files: list[Path]) -> tuple[int, float]:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return len(frame), time.perf_counter() - start


def ours(files: list[Path], store_path: Path) -> tuple[int, float]:
    from smp_analysis import store
    from smp_analysis.store.ingest import ingest_police_uk

    start = time.perf_counter()
    con = store.connect(store_path)
    report = ingest_police_uk(con, files)
    con.close()
    seconds = time.perf_counter() - start
    assert not report.failed
    return sum(f.rows_read for f in report.files), seconds


def fast_path_files(files: list[Path]) -> int:
    """Files the reader validates on Arrow alone (the common path: no pandas, no pandera)."""
    from smp_analysis.sources import police_uk

    fast = 0
    for f in files:
        table = police_uk._records_fast(f, f.read_bytes())
        fast += table is not None and police_uk._arrow_file_is_clean(f, table)
    return fast


def _peak_rss_child(n_files: int) -> float:
    code = f"""
import resource, sys, tempfile, json
sys.path.insert(0, {str(PROJECT)!r})
from pathlib import Path
from smp_analysis import store
from smp_analysis.store.ingest import ingest_police_uk
files = sorted(Path({str(SOURCE)!r}).rglob('*-street.csv'))[:{n_files}]
with tempfile.TemporaryDirectory() as tmp:
    con = store.connect(Path(tmp) / 's.duckdb')
    ingest_police_uk(con, files)
    con.close()
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if not SOURCE.is_dir():
        sys.exit(f"{SOURCE} is missing: this benchmark reads the real Northumbria files")
    files = _files()
    for f in files:  # warm the page cache for both contenders alike
        f.read_bytes()
    base_times, our_times = [], []
    for _ in range(3):
        n_base, t = pandas_baseline(files)
        base_times.append(t)
        with tempfile.TemporaryDirectory() as tmp:
            n_ours, t = ours(files, Path(tmp) / "bench.duckdb")
        our_times.append(t)
    assert n_base == n_ours, (n_base, n_ours)
    t_base, t_ours = sorted(base_times)[1], sorted(our_times)[1]
    print(f"files: {len(files)}, rows: {n_ours:,}")
    print(f"pandas read_csv + concat (no validation, not stored): {t_base:6.2f} s "
          f"{n_base / t_base / 1e6:6.2f} M rows/s")
    print(f"smp ingest (validated, quarantined, stored):           {t_ours:6.2f} s "
          f"{n_ours / t_ours / 1e6:6.2f} M rows/s   (goal >= 1.0)")
    print(f"ratio ours / pandas (rows/s): {t_base / t_ours:.2f}   (medians of 3; ours: "
          + ", ".join(f"{n_ours / t / 1e6:.2f}" for t in our_times) + " M rows/s)")
    print(f"fast (pyarrow) path taken by {fast_path_files(files)} of {len(files)} files")
    third = max(1, len(files) // 3)
    rss_third, rss_all = _peak_rss_child(third), _peak_rss_child(len(files))
    print(f"peak RSS: {third} files {rss_third:.0f} MB, {len(files)} files {rss_all:.0f} MB "
          f"(growth {100 * (rss_all / rss_third - 1):+.0f}%)")


if __name__ == "__main__":
    main()
