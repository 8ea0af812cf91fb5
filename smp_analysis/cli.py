"""smp: build a Community Safety Partnership's Strategic Assessment data appendix.

A thin command-line shell over the library (the notebooks call the same functions): write a
params file for your partnership, load police.uk downloads and victim extracts into a store,
and build the appendix (HTML, A4 PDF, every table as CSV and in one workbook).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from .cli_help import (  # noqa: F401 - the exit codes are part of the CLI's interface
    EXAMPLES,
    EXIT_BUSY,
    EXIT_CODES,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    _HelpFormatter,
    _Version,
)
from .cli_store import (
    _ingest,
    _ingest_indicators,
    _ingest_victims,
    _keygen,
    _store_check,
    _store_repair,
)
from .report.words import plural


# ---------------------------------------------------------------------------------- commands
def _demo_data(args: argparse.Namespace) -> int:
    from .demo import generate

    start = time.perf_counter()
    out = generate(args.out, seed=args.seed, scale=args.scale, progress=sys.stderr.isatty())
    manifest = json.loads((out / "demo-manifest.json").read_text())
    print(f"Synthetic demonstration data written to {out} "
          f"({plural(manifest['rows_written'], 'police.uk row')}, seed {args.seed}) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


def _check_params(args: argparse.Namespace) -> int:
    """Validate every file (all problems of all files reported), then report coverage: the
    usable months of both periods and of the history, from the store brought up to date with
    the file's inputs (``--no-ingest``: from the store as it is). Exit 1 when any file is
    invalid or has a period without a usable month."""
    from . import store
    from .errors import InputError
    from .params import load_params
    from .pipeline import prepare_store
    from .report.context import Assessment

    failed = invalid = 0
    for path in _expand_globs(args.params):
        try:
            params = load_params(path)
        except InputError as exc:
            print(f"smp: {path}: INVALID\n{exc}", file=sys.stderr)
            invalid += 1
            continue
        print(f"{path}: parameters OK ({params.title}; {params.current.name})")
        try:
            if not args.no_ingest:
                prepare_store(params, progress=sys.stderr.isatty())
            elif not Path(params.data.store).exists():
                print(f"  coverage: the store {params.data.store} does not exist yet (run "
                      "without --no-ingest, or `smp appendix`, to build it)")
                continue
            con = store.connect(params.data.store, read_only=True)
            try:
                lines, problems = Assessment(params, con).coverage_report()
            finally:
                con.close()
        except Exception as exc:  # noqa: BLE001 - one file's problem never hides the others
            lines, problems = [], [str(exc).strip() or type(exc).__name__]
        for line in lines:
            print(f"  {line}")
        for problem in problems:
            print(f"  PROBLEM: {problem}", file=sys.stderr)
        if problems:
            print(f"{path}: FAILED ({plural(len(problems), 'problem')})", file=sys.stderr)
            failed += 1
    if failed or invalid:
        print(f"smp: {failed + invalid} of {plural(len(args.params), 'params file')} failed the "
              "check", file=sys.stderr)
    # invalid parameters are bad input (exit 2); a period without usable data is a failed step
    return EXIT_INPUT if invalid else EXIT_FAILED if failed else EXIT_OK


def _appendix(args: argparse.Namespace) -> int:
    """Build every params file's appendix (see :mod:`smp_analysis.cli_appendix`)."""
    from .cli_appendix import appendix_command

    _show_progress()
    args.params = [p.resolve() for p in _expand_globs(args.params)]
    return appendix_command(args)


def _expand_globs(paths: list[Path]) -> list[Path]:
    """`params/*.yaml` as the shell would expand it: Windows' cmd and PowerShell pass the
    pattern through unexpanded."""
    import glob

    expanded = []
    for path in paths:
        matches = sorted(glob.glob(str(path))) if any(c in str(path) for c in "*?[") else []
        expanded.extend([Path(m) for m in matches] or [path])
    return expanded


def _show_progress() -> None:
    """One line a chapter on stderr (the build logs them; minutes pass on two cores)."""
    for name in ("smp_analysis.report.build", "smp_analysis.pipeline"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        if not any(getattr(h, "smp_progress", False) for h in logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("  %(message)s"))
            handler.smp_progress = True
            logger.addHandler(handler)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (smp is also called in-process,
    e.g. by tests, which replace sys.stderr)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _init(args: argparse.Namespace) -> int:
    from .init_params import command

    return command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smp", description=__doc__,
                                     formatter_class=_HelpFormatter,
                                     epilog=EXAMPLES + "\n" + EXIT_CODES)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, examples: str = "", **kwargs):
        return sub.add_parser(name, help=help_text, description=help_text[:1].upper()
                              + help_text[1:] + ".", formatter_class=_HelpFormatter,
                              epilog=(f"examples:\n{examples}\n\n" if examples else "")
                              + EXIT_CODES, **kwargs)

    init = command("init", "write a commented params file for a partnership's district",
                   "  smp init Maidstone\n  smp init E07000110 --period-end 2025-09\n"
                   "  smp init Kent                   # a force: lists its districts\n"
                   "  smp init --list --lookup ../shared/data/geography/PoliceforceLSOA.csv")
    init.add_argument("district", nargs="?", help="district GSS code (E07000110) or name "
                      "(Maidstone), as in the LSOA lookup")
    init.add_argument("--lookup", type=Path, metavar="CSV",
                      default=Path("data/demo/geography/PoliceforceLSOA.csv"),
                      help="LSOA -> district -> police force lookup (PoliceforceLSOA.csv layout)")
    init.add_argument("--list", action="store_true", help="list every district in the lookup")
    init.add_argument("--period-end", metavar="YYYY-MM", help="last month of the 12-month "
                      "assessment period (default: the latest September)")
    init.add_argument("--assessment", help="assessment id naming the outputs (default: the "
                      "plan year after the period, e.g. 2026-27 for data to September 2025)")
    init.add_argument("--partnership", help="the partnership's name (default: '<district> "
                      "Community Safety Partnership')")
    init.add_argument("--police-uk", type=Path, default=Path("data/police_uk"), metavar="DIR",
                      help="folder of data.police.uk street-level CSVs")
    init.add_argument("--census", type=Path, default=None, metavar="CSV", help="Census 2011 LSOA population "
                      "(default: census_2011_population_hh.csv beside the lookup)")
    init.add_argument("--store", type=Path, default=None, metavar="FILE",
                      help="DuckDB store (default: data/<district>.duckdb)")
    init.add_argument("--out", type=Path, default=None, metavar="FILE",
                      help="params file to write (default: params/<district>-<assessment>.yaml)")
    init.add_argument("--force", action="store_true", help="replace --out if it exists")
    init.set_defaults(func=_init)

    demo = command("demo-data", "write the synthetic demonstration county",
                   "  smp demo-data --out data/demo")
    demo.add_argument("--out", default=Path("data/demo"), type=Path,
                      help="folder to write (police.uk files, lookups, victim extracts)")
    demo.add_argument("--seed", default=20151, type=int,
                      help="random seed (the same seed writes the same files)")
    demo.add_argument("--scale", choices=("county", "national"), default="county",
                      help="county: the 13-district demo every appendix uses; national: 43 "
                           "forces, 325 districts, five years (~30 M rows, ~6 GB)")
    demo.set_defaults(func=_demo_data)

    check = command("check-params", "validate params YAML files and report the months with "
                    "usable data", "  smp check-params params/2023-24.yaml params/2022-23.yaml\n"
                    "  smp check-params params/*.yaml --no-ingest")
    check.add_argument("params", nargs="+", type=Path, help="params files to check")
    check.add_argument("--no-ingest", action="store_true",
                       help="report coverage from the store as it is, without loading inputs")
    check.set_defaults(func=_check_params)

    ingest = command("ingest", "load input files into the store",
                     "  smp ingest police-uk downloads/ --store data/smp.duckdb\n"
                     "  smp ingest incidents extracts/da.csv --key-file secrets/pseudonym.key")
    ingest_sub = ingest.add_subparsers(dest="source", required=True, metavar="SOURCE")
    police = ingest_sub.add_parser("police-uk", help="data.police.uk street-level CSVs",
                                   formatter_class=_HelpFormatter, epilog=EXIT_CODES)
    police.add_argument("paths", nargs="+", type=Path,
                        help="CSV files, or folders searched for *-street.csv")
    police.add_argument("--store", default=Path("data/smp.duckdb"), type=Path,
                        help="DuckDB store to load into (created if missing)")
    police.set_defaults(func=_ingest)
    for kind, help_text in (("incidents", "victim-level incident extract (pseudonymised)"),
                            ("marac_referrals", "Marac referrals extract (pseudonymised)")):
        victims = ingest_sub.add_parser(kind.replace("_", "-"), help=help_text,
                                        formatter_class=_HelpFormatter, epilog=EXIT_CODES)
        victims.add_argument("path", type=Path, help="the extract (docs/data_dictionary.md)")
        victims.add_argument("--store", default=Path("data/smp.duckdb"), type=Path,
                             help="DuckDB store to load into (created if missing)")
        victims.add_argument("--key-file", type=Path, default=None,
                             help="pseudonymisation key file ($SMP_PSEUDONYM_KEY wins)")
        victims.set_defaults(func=_ingest_victims, kind=kind)
    indicators = ingest_sub.add_parser("indicators", help="partner-indicator CSV files",
                                       formatter_class=_HelpFormatter, epilog=EXIT_CODES)
    indicators.add_argument("paths", nargs="+", type=Path, help="partner-indicator CSV files")
    indicators.add_argument("--store", default=Path("data/smp.duckdb"), type=Path,
                            help="DuckDB store to load into (created if missing)")
    indicators.set_defaults(func=_ingest_indicators)

    keygen = command("keygen", "write a new random pseudonymisation key file",
                     "  smp keygen --out secrets/pseudonym.key")
    keygen.add_argument("--out", required=True, type=Path,
                        help="key file to create (never overwritten; readable by you only)")
    keygen.set_defaults(func=_keygen)

    store_cmd = command("store", "check or repair a store",
                        "  smp store check --store data/smp.duckdb\n"
                        "  smp store repair --store data/smp.duckdb")
    store_sub = store_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, func, help_text in (
            ("check", _store_check, "check the store: register, Parquet parts, source files"),
            ("repair", _store_repair, "re-read files whose stored rows are missing or damaged")):
        cmd = store_sub.add_parser(action, help=help_text, formatter_class=_HelpFormatter,
                                   epilog=EXIT_CODES)
        cmd.add_argument("--store", default=Path("data/smp.duckdb"), type=Path,
                         help="the DuckDB store")
        cmd.set_defaults(func=func)

    appendix = command(
        "appendix", "build the appendix (HTML, tables as CSV and workbook, optional PDF)",
        "  smp appendix --params params/2023-24.yaml --pdf\n"
        "  smp appendix --params params/*.yaml --workers 2 --out reports/\n"
        "  smp appendix --params params/2023-24.yaml --all-districts   # every district\n"
        "  smp appendix --params params/*.yaml --scheduler tcp://10.0.0.5:8786\n"
        "  smp appendix --params params/2023-24.yaml --store-only   # update the store only")
    appendix.add_argument("--params", nargs="+", required=True, type=Path, metavar="FILE",
                          help="one or more params files, one appendix each")
    appendix.add_argument("--out", default=Path("reports"), type=Path, metavar="DIR",
                          help="folder for <assessment>.html, .pdf, -tables.xlsx and tables/")
    appendix.add_argument("--pdf", nargs="?", const="yes", choices=("yes", "if-available"),
                          default=None, help="also print an A4 PDF with Chromium; "
                          "'if-available' skips it, with a message, when no Chromium is found")
    appendix.add_argument("--workers", default=max(1, (os.cpu_count() or 2) // 2), type=int,
                          metavar="N", help="appendices built at once, each in its own "
                          "worker process, when several params files are given (default: half "
                          "the CPU cores, here %(default)s)")
    appendix.add_argument("--store-only", action="store_true",
                          help="bring the store up to date and stop (what notebooks read)")
    appendix.add_argument("--all-districts", action="store_true",
                          help="from one params file, one appendix per district of its "
                          "comparison area, each district in turn the focus (ids suffixed "
                          "with the district's name; docs/scaling.md)")
    appendix.add_argument("--scheduler", metavar="ADDRESS", default=None,
                          help="build a batch on a running dask.distributed scheduler (e.g. "
                          "tcp://10.0.0.5:8786) instead of local worker processes; its workers "
                          "must see the same paths (docs/scaling.md)")
    appendix.add_argument("--force", action="store_true",
                          help="rebuild every appendix of a batch, also those whose params, "
                          "input files and code are unchanged since their last build")
    appendix.set_defaults(func=_appendix)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args.func, args)


def run(func, args: argparse.Namespace) -> int:
    """Run a command; any failure becomes one clear message on stderr and an exit code, never
    a traceback (set SMP_DEBUG=1 to see it)."""
    try:
        return func(args)
    except KeyboardInterrupt:
        print("smp: interrupted; outputs are written atomically, so nothing half-written was "
              "kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the CLI's job is a clear one-line failure
        from .errors import describe

        if os.environ.get("SMP_DEBUG"):
            import traceback

            traceback.print_exc()
        message, code = describe(exc)
        print(f"smp: {message}", file=sys.stderr)
        return EXIT_BUSY if _store_held(exc) else code


def _store_held(exc: BaseException) -> bool:
    """The store is open in another process (exit code 3: shut that process down)."""
    from .store.lock import StoreBusy, lock_conflict

    return isinstance(exc, StoreBusy) or lock_conflict(exc) is not None


if __name__ == "__main__":
    sys.exit(main())
