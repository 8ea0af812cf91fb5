"""Benchmark and acceptance run: every district of the demo county, 2023-24, as one batch.

Writes one params file per district (from params/2023-24.yaml: same data and store, the
district as focus area, its own assessment id), builds them all with `build_appendices` (dask
workers), and prints the outcome table. Goal: 13 of 13 built. Baseline measured in the same run:
one appendix (Maidstone) built alone; the ratio says how the batch compares with building the
13 one after the other.

Run: .venv/bin/python benchmarks/county_batch.py [--workers N] [--out DIR]
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
from smp_analysis.report.build import build_appendices, outcomes_table  # noqa: E402


def district_params(folder: Path) -> list[Path]:
    base = yaml.safe_load((PROJECT / "params" / "2023-24.yaml").read_text())
    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
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
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="county-"))
    out = args.out or folder / "reports"
    files = district_params(folder)
    start = time.perf_counter()
    single = build_appendices([files[5]], out_dir=out / "single", workers=1)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    outcomes = build_appendices(files, out_dir=out, workers=args.workers)
    batch = time.perf_counter() - start
    print(outcomes_table(outcomes))
    print(f"baseline: one appendix alone {alone:.0f} s ({'built' if single[0].ok else 'FAILED'});"
          f" batch of {len(files)} with {args.workers} worker(s) {batch:.0f} s = "
          f"{batch / (alone * len(files)):.2f} x building them one after the other")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


if __name__ == "__main__":
    main()
