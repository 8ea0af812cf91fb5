"""Benchmark: `smp ingest police-uk` end to end as a user runs it, against pandas.

For each data set (the 33 real Northumbria files in ../shared/data, and the demo county in
data/demo/police_uk when it has been generated), alternating, `--repeats` times:

* **baseline**: a fresh Python process that runs ``pandas.read_csv(f, dtype=str)`` on every
  file (no validation, nothing stored). Two figures: the time of the reads alone (what the
  issue compares with) and the whole process (interpreter start and ``import pandas`` too).
* **ours**: a fresh ``python -m smp_analysis.cli ingest police-uk FOLDER --store NEW`` process,
  timed from start to exit: interpreter start, imports, validation with quarantine, the
  Parquet parts and the register, the data-quality findings and the ingest report.

Medians are printed with the ratio ours / baseline (goal: at most 1.0 against the reads
alone). Then peak memory (max RSS of the ingest process, from the kernel) for a quarter of the
files and for all of them: ingest streams the files in bounded batches, so it stays flat.

``--code DIR`` also times the ingest of another checkout (e.g. ``git archive main`` unpacked
into a folder) in the same run, against the same baseline: the before/after figures.

Run: .venv/bin/python benchmarks/ingest.py [--repeats 3] [--code /tmp/main-src]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
NORTHUMBRIA = PROJECT.parent / "shared" / "data" / "police_uk" / "northumbria"
DEMO = PROJECT / "data" / "demo" / "police_uk"

BASELINE = """
import sys, time, json
t0 = time.perf_counter()
import pandas as pd
files = sys.argv[1:]
t1 = time.perf_counter()
rows = sum(len(pd.read_csv(f, dtype=str)) for f in files)
print(json.dumps({"rows": rows, "read": time.perf_counter() - t1}))
"""


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.name.endswith(("-street.csv",
                                                                   "-street.csv.gz")))


def run(argv: list[str], code: Path | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system, all threads), peak RSS (MB, from the kernel)
    and stdout of a child process (exit 1 is a run with failed files)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, **code_env(code))
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            sys.exit(f"{' '.join(argv[:6])} failed ({proc.returncode})")
        out.seek(0)
        return (seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                out.read().decode())


def code_env(code: Path | None) -> dict:
    """Popen arguments running `code`'s package (this tree's when None): the child starts in
    that folder, and `python -m` puts its working folder first on sys.path, before the
    installed (editable) package."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code) + os.pathsep + env.get("PYTHONPATH", "")
    return {"env": env, "cwd": code or PROJECT}


def ingest_argv(inputs: list[Path], store: Path) -> list[str]:
    return [sys.executable, "-m", "smp_analysis.cli", "ingest", "police-uk",
            *map(str, inputs), "--store", str(store)]


def bench(name: str, folder: Path, repeats: int, codes: dict[str, Path | None]) -> None:
    files = files_of(folder)
    for f in files:  # warm the page cache for every contender alike
        f.read_bytes()
    base: dict[str, list[float]] = {"read": [], "wall": [], "cpu": []}
    ours: dict[str, dict[str, list[float]]] = {label: {"wall": [], "cpu": []} for label in codes}
    rows = None
    for _ in range(repeats):
        wall, cpu, _, out = run([sys.executable, "-c", BASELINE, *map(str, files)])
        result = json.loads(out)
        rows = result["rows"]
        for key, value in (("read", result["read"]), ("wall", wall), ("cpu", cpu)):
            base[key].append(value)
        for label, code in codes.items():
            with tempfile.TemporaryDirectory(prefix="smp-bench-") as tmp:
                store = Path(tmp) / "s.duckdb"
                wall, cpu, _, _ = run(ingest_argv([folder], store), code)
                ours[label]["wall"].append(wall)
                ours[label]["cpu"].append(cpu)
                document = json.loads(store.with_name("ingest-report.json").read_text())
                read = sum(f["rows_read"] for f in document["files"])
                assert read == rows, (label, read, rows)
    med = {key: statistics.median(values) for key, values in base.items()}
    print(f"{name}: {len(files)} files, {rows:,} rows (medians of {repeats}, in this run)")
    print(f"  baseline pandas.read_csv(dtype=str), the reads alone:  {med['read']:6.2f} s")
    print(f"  baseline, whole process (start, import pandas, reads): {med['wall']:6.2f} s, "
          f"CPU {med['cpu']:.2f} s")
    for label, times in ours.items():
        wall, cpu = statistics.median(times["wall"]), statistics.median(times["cpu"])
        print(f"  smp ingest police-uk, end to end [{label}]: {wall:6.2f} s, CPU {cpu:.2f} s")
        print(f"    ratio {wall / med['read']:.2f} x the reads (goal <= 1.0), "
              f"{wall / med['wall']:.2f} x the whole baseline process, CPU "
              f"{cpu / med['cpu']:.2f} x   (runs: {', '.join(f'{x:.2f}' for x in times['wall'])})")


def memory(name: str, folder: Path, codes: dict[str, Path | None]) -> None:
    files = files_of(folder)
    quarter = files[: max(1, len(files) // 4)]
    for label, code in codes.items():
        peaks = []
        for subset in (quarter, files):
            with tempfile.TemporaryDirectory(prefix="smp-bench-") as tmp:
                peaks.append(run(ingest_argv(subset, Path(tmp) / "s.duckdb"), code)[2])
        print(f"  peak RSS [{label}]: {len(quarter)} files {peaks[0]:.0f} MB, {len(files)} files "
              f"{peaks[1]:.0f} MB (growth {100 * (peaks[1] / peaks[0] - 1):+.0f}%)")


def compile_package(tree: Path) -> None:
    """Write the bytecode of `tree`'s package, as pip does when it installs it (an editable
    install does not, and PYTHONDONTWRITEBYTECODE stops every run from writing it)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "smp_analysis")],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", type=Path, help="another checkout to time in the same run")
    parser.add_argument("--only", choices=("northumbria", "demo"))
    args = parser.parse_args()
    codes: dict[str, Path | None] = {"this tree": None}
    if args.code is not None:
        codes = {f"{args.code}": args.code.resolve(), **codes}
    for code in codes.values():  # timed as installed: pip compiles a regular install
        compile_package(code or PROJECT)
    sets = [("Northumbria (real)", NORTHUMBRIA), ("demo county", DEMO)]
    sets = [(n, f) for n, f in sets if args.only is None or args.only in n.lower()]
    if not any(f.is_dir() for _, f in sets):
        sys.exit(f"neither {NORTHUMBRIA} nor {DEMO} exists (run `make demo-data`)")
    for name, folder in sets:
        if not folder.is_dir():
            print(f"{name}: {folder} is missing, skipped")
            continue
        bench(name, folder, args.repeats, codes)
        memory(name, folder, codes)


if __name__ == "__main__":
    main()
