"""Benchmark and acceptance run: every district of the demo county, 2023-24, as one batch.

Writes one params file per district (from params/2023-24.yaml: same data and store, the
district as focus area, its own assessment id), builds them all with `build_appendices` (local
worker processes, or the workers of a running dask scheduler), and prints the outcome table.
Goals: 13 of 13 built, and the batch at most 5x the time of one appendix (issue 12). Baseline
measured in the same run: one appendix (Maidstone) built alone with `build_appendix` from cold
(new worker processes, as `smp appendix` runs it), the store already up to date: in two worker
processes (the default on two or more cores, the ratio's baseline: measured before and after
the batch, and their mean taken, as the machine's speed drifts) and in one. The batch starts
from cold too (new worker processes).

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
    def single(workers: int) -> tuple[float, str]:
        """One appendix from cold (new worker processes), as `smp appendix` builds it."""
        worker.shutdown()
        start = time.perf_counter()
        try:
            build_appendix(files[5], out_dir=out / f"single-{workers}", workers=workers)
            outcome = "built"
        except AppendixError as exc:
            outcome = f"FAILED: {str(exc).splitlines()[0]}"
        return time.perf_counter() - start, outcome

    in_one, _ = single(1)
    before, outcome = single(2)
    extra = {"scheduler": args.scheduler} if args.scheduler else {}
    worker.shutdown()  # the batch from cold too, as `smp appendix --all-districts` starts
    start = time.perf_counter()
    outcomes = build_appendices(files, out_dir=out, workers=args.workers, **extra)
    batch = time.perf_counter() - start
    after, _ = single(2)
    # the baseline measured before and after the batch: this machine's speed drifts by a third
    # within minutes, and one measurement on one side of the batch would carry that drift
    alone = (before + after) / 2
    print(outcomes_table(outcomes))
    print(f"baseline: one appendix alone, from cold, in two worker processes (the default on "
          f"2+ cores; {outcome}): {before:.1f} s before the batch, {after:.1f} s after, mean "
          f"{alone:.1f} s; in one worker process {in_one:.1f} s")
    print(f"batch of {len(files)} with {args.workers} worker(s) "
          f"{'on ' + args.scheduler if args.scheduler else 'in local worker processes'}, "
          f"from cold: {batch:.1f} s")
    print(f"ratio batch / one appendix: {batch / alone:.2f}x   (goal <= 5x; {batch / before:.2f}x "
          f"against the one before, {batch / after:.2f}x after; "
          f"{batch / (alone * len(files)):.2f} of building them one after the other); "
          f"{batch / in_one:.2f}x one appendix built in one worker process")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


if __name__ == "__main__":
    main()
