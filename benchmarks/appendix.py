"""Benchmark: the full demo appendix build for one assessment.

Prints, from one run on this machine:
  * demo-data generation time (goal < 60 s),
  * first build (ingest 192 months into a new store + chapters + render),
  * warm build (store up to date: the analyst's usual re-run; goal <= 20 s),
  * the baseline: papermill + nbconvert of an empty one-cell notebook (kernel start and
    render floor), and the ratio warm build / baseline.

Each of the last two is the fastest of ``--repeats`` runs (the baseline one more): on a shared
machine other work only ever adds time, and a one-second baseline moves the ratio most.

Goal (issue 12): the warm build at most 10x the empty-notebook baseline, including every chapter
the appendix has.

Run: .venv/bin/python benchmarks/appendix.py [--params params/2015-16.yaml] [--demo data/demo]
(--demo reuses demonstration data already written instead of generating them)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm
from nbconvert import HTMLExporter

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from smp_analysis.demo import generate  # noqa: E402
from smp_analysis.report.build import build_appendix  # noqa: E402


def baseline(work: Path) -> float:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    src = work / "empty.ipynb"
    nbformat.write(nb, src)
    start = time.perf_counter()
    pm.execute_notebook(str(src), str(work / "empty-out.ipynb"), progress_bar=False,
                        kernel_name="python3")
    HTMLExporter(exclude_input=True).from_filename(str(work / "empty-out.ipynb"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default=str(PROJECT / "params" / "2015-16.yaml"))
    parser.add_argument("--demo", type=Path, default=None,
                        help="demonstration data already written (skips generating them)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="warm builds (and one more empty-notebook runs); the fastest counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        demo = args.demo.resolve() if args.demo else generate(work / "demo")
        t_demo = None if args.demo else time.perf_counter() - start
        text = Path(args.params).read_text()
        text = text.replace("../data/smp-demo.duckdb", str(work / "store.duckdb"))
        text = text.replace("../data/demo", str(demo))
        params = work / "params.yaml"
        params.write_text(text)
        start = time.perf_counter()
        build_appendix(params, out_dir=work / "reports")
        t_first = time.perf_counter() - start
        # the fastest of a few runs of each (the shared machine's noise only ever adds time)
        warm = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = build_appendix(params, out_dir=work / "reports")
            warm.append(time.perf_counter() - start)
        bases = [baseline(work) for _ in range(args.repeats + 1)]
        t_warm, t_base = min(warm), min(bases)
        if t_demo is not None:
            print(f"demo data generation      {t_demo:7.1f} s   (goal < 60 s)")
        print(f"first build (with ingest) {t_first:7.1f} s")
        print(f"warm build                {t_warm:7.1f} s   (goal <= 20 s; fastest of "
              f"{', '.join(f'{w:.1f}' for w in warm)})")
        print("  chapters: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
        print(f"baseline (empty notebook) {t_base:7.2f} s   (fastest of "
              f"{', '.join(f'{b:.2f}' for b in bases)})")
        print(f"ratio warm build / baseline: {t_warm / t_base:.1f}x   (goal <= 10x)")


if __name__ == "__main__":
    main()
