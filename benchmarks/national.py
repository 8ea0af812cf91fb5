"""Benchmark: every partnership in England and Wales on one machine (goal: at most 30 minutes).

Steps, each timed (wall and CPU seconds of the process doing it, peak memory):

1. **generation**: ``smp demo-data --scale national`` (43 forces, 325 districts, 2019-04 to
   2024-03, ~29 M rows, ~5.2 GB of CSV) into ``--data`` (default: a new folder under /tmp,
   deleted at the end unless ``--keep``; reused when it already holds the data);
2. **ingest**: ``smp ingest police-uk`` of every file into a new store, end to end as a user
   runs it (validation, quarantine, Parquet parts, data-quality findings of 43 forces);
3. **store prepare**: one params file per partnership (the district as focus area, its force as
   comparison area, 2023-24); ``prepare_store`` for the first loads the lookups and finds the
   ~2,600 police.uk files unchanged (by their stat keys); a second call shows the cost of a
   prepare with nothing to do;
4. **appendices**: ``smp_analysis.report.build.build_appendices`` (the public batch API, which
   prepares the store itself as it sees fit) for ``--partnerships N`` partnerships spread
   evenly over the list (default: all); a sample is extrapolated to all of them from the pace
   at which appendices were finished once the workers had started.

The goal is for the run (ingest, store prepare, appendices); the total with the generation of
the synthetic data is printed too.

Baseline in the same run: ``pandas.read_csv(dtype=str)`` of every `--sample`-th file (rows per
second, extrapolated to all rows), the ratio ingest / pandas reading.

Run: .venv/bin/python benchmarks/national.py [--partnerships 5] [--data DIR] [--keep]
     [--workers 2] [--skip-build]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
GOAL_SECONDS = 30 * 60

BASELINE = """
import sys, time, json
import pandas as pd
files = sys.argv[1:]
start = time.perf_counter()
rows = sum(len(pd.read_csv(f, dtype=str)) for f in files)
print(json.dumps({"rows": rows, "read": time.perf_counter() - start}))
"""


def child(argv: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (all threads), peak RSS (MB) and stdout of a process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=PROJECT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            sys.exit(f"{' '.join(argv[:5])} failed ({code}):\n{err.read().decode()[-3000:]}")
        return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, \
            out.read().decode()


def generate(data: Path) -> tuple[float, float, dict]:
    manifest = data / "demo-manifest.json"
    if manifest.exists():
        return 0.0, 0.0, json.loads(manifest.read_text())
    wall, cpu, _, _ = child([sys.executable, "-m", "smp_analysis.cli", "demo-data", "--scale",
                             "national", "--out", str(data)])
    return wall, cpu, json.loads(manifest.read_text())


def pandas_rate(files: list[Path]) -> tuple[int, float]:
    _, _, _, out = child([sys.executable, "-c", BASELINE, *map(str, files)])
    result = json.loads(out)
    return result["rows"], result["read"]


def write_params(data: Path, manifest: dict, folder: Path, store: Path) -> list[Path]:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for p in manifest["partnerships"]:
        raw = {
            "assessment": f"2023-24-{p['code']}",
            "title": f"{p['name']}: 2023-24 Strategic Assessment",
            "partnership": f"{p['name']} Community Safety Partnership",
            "focus_area": {"code": p["code"], "name": p["name"]},
            "comparison_area": {"name": p["force"], "police_force": p["force"]},
            "period": {"start": "2023-04-01", "end": "2024-03-31",
                       "name": "April 2023 to March 2024 (financial year)"},
            "data": {"store": str(store), "police_uk": [str(data / "police_uk")],
                     "lsoa_lookup": str(data / "geography" / "PoliceforceLSOA.csv"),
                     "census_population": str(data / "geography" /
                                              "census_2011_population_hh.csv")},
        }
        path = folder / f"{p['code']}.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        files.append(path)
    return files


def prepare(params_files: list[Path]) -> tuple[float, float]:
    """prepare_store for the first partnership (loads the lookups; every police.uk file is
    already in the store) and again for the second (nothing to do: the cost a batch pays per
    store, or per partnership if it prepares each one)."""
    from smp_analysis.params import load_params
    from smp_analysis.pipeline import prepare_store

    times = []
    for path in params_files[:2]:
        start = time.perf_counter()
        prepare_store(load_params(path))
        times.append(time.perf_counter() - start)
    return times[0], times[-1]


def spread(files: list[Path], count: int | None) -> list[Path]:
    """`count` of `files` spread evenly over the list (every force's sizes represented), or
    all of them.

    >>> [p.name for p in spread([Path(str(i)) for i in range(10)], 3)]
    ['0', '3', '7']
    """
    if not count or count >= len(files):
        return files
    step = len(files) / count
    return [files[int(i * step + 0.5)] for i in range(count)]


def extrapolate(done: list[float], took: float, total: int, workers: int, *,
                attempted: int | None = None) -> float:
    """The time of all `total` appendices from the finishing times `done` (seconds from the
    start) of the built ones of a sample of `attempted` (default: as many as built) that took
    `took` seconds: the first `workers` carry the start-up, the rest give the pace of the
    workers together.

    >>> extrapolate([10.0, 11.0, 15.0, 16.0, 20.0], 21.0, 9, 2)
    33.0
    >>> extrapolate([10.0, 11.0], 12.0, 9, 2)  # too few to tell the pace: in proportion
    54.0
    """
    attempted = len(done) if attempted is None else attempted
    if attempted >= total or len(done) <= workers:
        return took * total / max(1, attempted)
    pace = (done[-1] - done[workers - 1]) / (len(done) - workers)
    return took + pace * (total - attempted)


def fmt(seconds: float) -> str:
    return f"{seconds / 60:5.1f} min ({seconds:7.1f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder of the national data (generated "
                        "when it holds none; default: a new folder under /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the data and the store")
    parser.add_argument("--partnerships", type=int, default=None,
                        help="build only N appendices (spread over the list) and extrapolate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=25,
                        help="baseline: pandas reads every Nth file")
    parser.add_argument("--skip-build", action="store_true",
                        help="stop after the store prepare (no appendices)")
    args = parser.parse_args()
    data = (args.data or Path(tempfile.mkdtemp(prefix="smp-national-"))).resolve()
    work = Path(tempfile.mkdtemp(prefix="smp-national-run-", dir=data.parent))
    try:
        run(args, data, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep and args.data is None:
            shutil.rmtree(data, ignore_errors=True)


def run(args: argparse.Namespace, data: Path, work: Path) -> None:
    print(f"free disk under {data.parent}: {shutil.disk_usage(data.parent).free / 2**30:.0f} GB "
          "(the data take ~5.2 GB, the store ~3 GB)", flush=True)
    t_gen, cpu_gen, manifest = generate(data)
    files = sorted((data / "police_uk").rglob("*-street.csv"))
    size = sum(f.stat().st_size for f in files)
    print(f"generation: {fmt(t_gen)}, CPU {cpu_gen:.0f} s"
          + ("  (reused: not counted)" if t_gen == 0 else "")
          + f"\n  {len(files):,} files, {manifest['rows_written']:,} rows, "
            f"{size / 2**30:.1f} GB, {len(manifest['partnerships'])} partnerships", flush=True)

    sample = files[:: args.sample]
    rows, read = pandas_rate(sample)
    t_pandas = read * manifest["rows_written"] / rows
    print(f"baseline pandas.read_csv(dtype=str): {rows:,} rows of {len(sample)} files in "
          f"{read:.1f} s, all rows extrapolated: {fmt(t_pandas)}", flush=True)

    store = work / "store" / "smp.duckdb"
    t_ing, cpu_ing, rss_ing, _ = child([sys.executable, "-m", "smp_analysis.cli", "ingest",
                                        "police-uk", str(data / "police_uk"), "--store",
                                        str(store)])
    report = json.loads(store.with_name("ingest-report.json").read_text())
    loaded = sum(f["rows_loaded"] for f in report["files"])
    parts = sum(p.stat().st_size for p in store.with_suffix(".parts").iterdir())
    print(f"ingest (smp ingest police-uk, end to end): {fmt(t_ing)}, CPU {cpu_ing:.0f} s, "
          f"peak RSS {rss_ing:.0f} MB\n  {loaded:,} rows loaded, "
          f"{len(report['anomalies'])} data-quality findings, parts {parts / 2**30:.1f} GB; "
          f"ratio {t_ing / t_pandas:.2f} x pandas reading the same rows", flush=True)

    params_files = write_params(data, manifest, work / "params", store)
    t_prep, t_noop = prepare(params_files)
    print(f"store prepare: {fmt(t_prep)} (lookups loaded, {len(files):,} files found "
          f"unchanged); a second prepare with nothing to do: {t_noop:.1f} s", flush=True)

    t_build_all = 0.0
    if not args.skip_build:
        from smp_analysis.report.build import build_appendices

        chosen = spread(params_files, args.partnerships)
        start = time.time()
        outcomes = build_appendices(chosen, out_dir=work / "reports", workers=args.workers)
        t_build = time.time() - start
        built = sum(1 for o in outcomes if o.ok)
        # when each appendix was finished (its page is written last but one, before the
        # manifest): the first ones carry the workers' start-up, the rest the steady pace
        done = sorted(o.html.stat().st_mtime - start for o in outcomes if o.ok)
        t_build_all = extrapolate(done, t_build, len(params_files), args.workers,
                                  attempted=len(chosen))
        print(f"appendices: {built} of {len(chosen)} built in {fmt(t_build)} "
              f"({t_build / len(chosen):.1f} s each, {args.workers} workers)", flush=True)
        w = args.workers
        if len(chosen) < len(params_files) and len(done) > w:
            print(f"  first {w} finished after {done[w - 1]:.1f} s (start-up included), then "
                  f"one every {(done[-1] - done[w - 1]) / (len(done) - w):.2f} s; all "
                  f"{len(params_files)} extrapolated: {fmt(t_build_all)}", flush=True)
        for o in outcomes:
            if not o.ok:
                print(f"  FAILED {o.params_file.name}: {str(o.error)[:300]}")
    run_time = t_ing + t_prep + t_build_all
    note = " (appendices extrapolated)" if args.partnerships else ""
    skipped = "" if not args.skip_build else " (without appendices)"
    print(f"\nthe run (ingest, store prepare, appendices){note}: {fmt(run_time)}; goal "
          f"{fmt(GOAL_SECONDS)}: {run_time / GOAL_SECONDS:.2f} x the goal{skipped}")
    print(f"with the generation of the synthetic data: {fmt(run_time + t_gen)}, "
          f"{(run_time + t_gen) / GOAL_SECONDS:.2f} x the goal")
    print(f"  generation {t_gen:.0f} s, ingest {t_ing:.0f} s, store prepare {t_prep:.0f} s, "
          f"appendices {t_build_all:.0f} s")


if __name__ == "__main__":
    main()
