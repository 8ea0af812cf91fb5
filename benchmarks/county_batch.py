"""Benchmark and acceptance run: every district of the demo county, 2023-24, as one batch.

Writes one params file per district (from params/2023-24.yaml: same data and store, the
district as focus area, its own assessment id), builds them all with `build_appendices` (local
worker processes, or the workers of a running dask scheduler), and prints the outcome table.
Goals: 13 of 13 built, and the batch at most 5x the time of one appendix (issue 12). Baseline
measured in the same run: one appendix (Maidstone) built alone with `build_appendix` from cold
(new worker processes, as `smp appendix` runs it), the store already up to date: in two worker
processes (the default on two or more cores, the ratio's baseline) and in one.

Run: .venv/bin/python benchmarks/county_batch.py [--workers N] [--out DIR] [--scheduler ADDRESS]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from smp_analysis.demo import DISTRICTS  # noqa: E402
from smp_analysis.params import load_params  # noqa: E402
from smp_analysis.pipeline import prepare_store  # noqa: E402
from smp_analysis.report import worker  # noqa: E402
from smp_analysis.report.build import (  # noqa: E402
    AppendixError,
    build_appendices,
    build_appendix,
    outcomes_table,
)


def district_params(folder: Path) -> list[Path]:
    base = yaml.safe_load((PROJECT / "params" / "2023-24.yaml").read_text())
    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):  # boundaries: {wards: ..., lsoas: ...}
            return {k: resolve(v) for k, v in value.items()}
        return str((PROJECT / "params" / value).resolve())

    data = {key: resolve(value) for key, value in base["data"].items()}
    files = []
    for district in DISTRICTS:
        raw = dict(base, assessment=f"2023-24-{district.name.lower().replace(' ', '-')}",
                   title=f"{district.name}: 2023-24 Strategic Assessment",
                   partnership=f"{district.name} Community Safety Partnership",
                   focus_area={"code": district.code, "name": district.name}, data=data)
        path = folder / f"{district.code}.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a running dask.distributed scheduler (default: local worker processes)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="county-"))
    out = args.out or folder / "reports"
    files = district_params(folder)
    prepare_store(load_params(files[0]))  # the store up to date before anything is timed
    singles = {}
    for workers in (1, 2):  # each from cold (new worker processes), as `smp appendix` runs it
        worker.shutdown()
        start = time.perf_counter()
        try:
            build_appendix(files[5], out_dir=out / f"single-{workers}", workers=workers)
            single = "built"
        except AppendixError as exc:
            single = f"FAILED: {str(exc).splitlines()[0]}"
        singles[workers] = time.perf_counter() - start
    alone = singles[2]
    extra = {"scheduler": args.scheduler} if args.scheduler else {}
    start = time.perf_counter()
    outcomes = build_appendices(files, out_dir=out, workers=args.workers, **extra)
    batch = time.perf_counter() - start
    print(outcomes_table(outcomes))
    print(f"baseline: one appendix alone {alone:.1f} s in two worker processes, the default "
          f"on 2+ cores ({single}); {singles[1]:.1f} s in one")
    print(f"batch of {len(files)} with {args.workers} worker(s) "
          f"{'on ' + args.scheduler if args.scheduler else 'in local worker processes'}: {batch:.1f} s")
    print(f"ratio batch / one appendix: {batch / alone:.2f}x   (goal <= 5x; "
          f"{batch / (alone * len(files)):.2f} of building them one after the other); "
          f"{batch / singles[1]:.2f}x one appendix built in one worker process")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


if __name__ == "__main__":
    main()
