"""Benchmark: each chapter's compute and presentation time, in one process, warm store.

What the chapters of one appendix cost once the library is imported and the store is up to
date: every chapter notebook's code (``notebooks/NN_*.py``: its topic's ``compute(sa)`` and the
presentation calls its cells make, each block rendered to HTML as the page shows it) runs in
this process against one :class:`~smp_analysis.report.context.Assessment`, so results and
query caches are shared between chapters as in a one-kernel build. The key findings run last,
so each chapter's compute time is its own (the summary then reuses the cached results).

Prints, from one run on this machine:
  * the baseline: papermill + nbconvert of an empty one-cell notebook (kernel start and render
    floor, as in ``appendix.py``), and the time to import the library in a new process;
  * per chapter: compute seconds, presentation (render) seconds, and their total;
  * the total, and its ratio to the empty-notebook baseline (issue 12: one appendix, warm
    store, at most 10x that baseline including the build).

Run: .venv/bin/python benchmarks/chapters.py [--params params/2023-24.yaml] [--profile places]
The store the params name must exist (``make demo-store``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from benchmarks.appendix import baseline  # noqa: E402

CALL = re.compile(r"^display\(result\.(\w+)\(\)\)", re.M)
TOPIC = re.compile(r"^from smp_analysis\.topics import (\w+)", re.M)


def chapters() -> list[tuple[str, str, list[str]]]:
    """``(notebook, topic module, presentation methods)`` of every chapter notebook, the
    front matter (key findings) last."""
    found = []
    for source in sorted((PROJECT / "notebooks").glob("[0-9][0-9]_*.py")):
        text = source.read_text(encoding="utf-8")
        topic = TOPIC.search(text)
        if topic is None:
            continue
        calls = CALL.findall(text)
        if topic.group(1) == "key_findings":
            calls = ["bullets"]
        found.append((source.stem, topic.group(1), calls))
    return sorted(found, key=lambda c: c[0].startswith("00_"))


def render(block) -> int:
    """Render a block as the notebook shows it; the length of its HTML."""
    if hasattr(block, "_repr_mimebundle_"):
        bundle = block._repr_mimebundle_() or {}
        return len(bundle.get("text/html", ""))
    return len(block._repr_html_())


def run(params: Path, profile: str | None) -> list[tuple[str, float, float]]:
    from smp_analysis.report import Assessment

    sa = Assessment.open(params)
    times = []
    for notebook, name, calls in chapters():
        module = import_module(f"smp_analysis.topics.{name}")
        profiler = cProfile.Profile() if profile in (name, notebook, "all") else None
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        result = module.compute(sa)
        computed = time.perf_counter()
        for call in calls:
            render(getattr(result, call)())
        rendered = time.perf_counter()
        if profiler:
            profiler.disable()
            print(f"-- profile of {notebook} (cumulative, top 40)")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        times.append((notebook, computed - start, rendered - computed))
    sa.con.close()
    return times


def import_seconds() -> float:
    """Seconds a new Python process takes to import the library and every topic."""
    code = ("import time; t = time.perf_counter(); import smp_analysis.report; "
            "from smp_analysis.topics import key_findings, overview, rates, data_quality, "
            "expected, domestic_abuse, recording, indicators, places, patterns; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=PROJECT)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default=str(PROJECT / "params" / "2023-24.yaml"))
    parser.add_argument("--profile", help="cProfile one chapter (topic or notebook name, or all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t_base = baseline(Path(tmp))
    t_import = import_seconds()
    start = time.perf_counter()
    times = run(Path(args.params), args.profile)
    t_chapters = time.perf_counter() - start
    print(f"baseline (empty notebook, papermill + nbconvert) {t_base:6.2f} s")
    print(f"import the library (new process)                {t_import:6.2f} s")
    print(f"{'chapter':<28}{'compute':>9}{'render':>9}{'total':>9}")
    for notebook, compute, shown in times:
        print(f"{notebook:<28}{compute:9.2f}{shown:9.2f}{compute + shown:9.2f}")
    compute = sum(t[1] for t in times)
    shown = sum(t[2] for t in times)
    print(f"{'all chapters':<28}{compute:9.2f}{shown:9.2f}{compute + shown:9.2f}")
    print(f"all chapters with opening the assessment: {t_chapters:.2f} s, "
          f"{t_chapters / t_base:.1f}x the empty notebook; with the import "
          f"{(t_chapters + t_import) / t_base:.1f}x (goal for the whole appendix: <= 10x)")


if __name__ == "__main__":
    main()
