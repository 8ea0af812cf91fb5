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
    _version,
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
    from .params import load_params

    for path in args.params:
        params = load_params(path)
        print(f"{path}: OK ({params.title}; {params.current.name})")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from . import store
    from .store import ingest, quality

    missing = [str(p) for p in args.paths if not (Path(p).exists() or Path(p).is_symlink())]
    if missing:
        print(f"smp: not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    con = store.connect(args.store)
    try:
        report = ingest.ingest_police_uk(con, args.paths, progress=sys.stderr.isatty())
        anomalies = quality.refresh(con)
    finally:
        con.close()
    _print_ingest(report)
    if len(anomalies):
        print(f"\n{plural(len(anomalies), 'data-quality finding')}:")
        for r in anomalies.itertuples():
            month = f"{r.month:%Y-%m}" if r.month == r.month else "-"
            print(f"  {r.force} {month} {r.kind}: {r.detail}")
    document = {**report.to_json(), "anomalies": quality.anomalies_json(anomalies)}
    _write_ingest_report(Path(args.store), document)
    if report.failed:
        print(f"smp: {plural(len(report.failed), 'file')} could not be loaded (see above); the others "
              "were loaded", file=sys.stderr)
    return 1 if report.failed else 0


def _print_ingest(report) -> None:
    """The ingest table, then what replaced what, what was skipped and why, and errors."""
    listed = [f for f in report.files if f.status != "skipped"]
    width = max((len(Path(f.path).name) for f in listed), default=4)
    print(f"{'file':<{width}}  {'status':<10} {'read':>9} {'loaded':>9} {'quarantined':>11}")
    for f in listed:
        print(f"{Path(f.path).name:<{width}}  {f.status:<10} {f.rows_read:>9,} "
              f"{f.rows_loaded:>9,} {f.rows_quarantined:>11,}")
    totals = report.totals()
    print(f"{'total in store':<{width}}  {'':<10} {totals['rows_read']:>9,} "
          f"{totals['rows_loaded']:>9,} {totals['rows_quarantined']:>11,}")
    if report.replacements:
        print("\nOne force-month is stored from one file, the newer (later modification time):")
        for r in report.replacements:
            print(f"  {r.force} {r.month}: kept {r.kept}; replaced {r.replaced} "
                  f"({r.rows_replaced:,} rows); {r.why}")
    repaired = [f for f in report.files if f.note and f.status == "repaired"]
    if repaired:
        print("\nRepaired:")
        for f in repaired:
            print(f"  {f.path}: {f.note}")
    notes = [f for f in report.files if f.note and f.status in ("duplicate", "superseded")]
    if notes:
        print("\nNot loaded again:")
        for f in notes:
            print(f"  {f.path}: {f.status}: {f.note}")
    if report.skipped:
        print("\nSkipped (not police.uk street-level files):")
        for f in report.skipped:
            print(f"  {f.path}: {f.note}")
    for f in report.failed:
        error = f.error or ""
        print(f"ERROR {error if error.startswith(f.path) else f'{f.path}: {error}'}",
              file=sys.stderr)


def _write_ingest_report(store_path: Path, document: dict) -> None:
    from .atomic import write_text_atomic

    report_path = store_path.with_name("ingest-report.json")
    try:
        write_text_atomic(report_path, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        print(f"smp: warning: the ingest report could not be written to {report_path} "
              f"({exc.strerror or exc}); the store itself was updated", file=sys.stderr)
        return
    print(f"Ingest report written to {report_path}")


def _ingest_victims(args: argparse.Namespace) -> int:
    from . import store
    from .pseudonymise import load_key
    from .store import ingest

    key = load_key(args.key_file)
    con = store.connect(args.store)
    try:
        outcome = ingest.load_victim_extract(con, args.kind, args.path, key)
    finally:
        con.close()
    print(f"{Path(outcome.path).name}: {outcome.status}; {plural(outcome.rows_read, 'row')} "
          f"read, {outcome.rows_loaded:,} loaded, {outcome.rows_quarantined:,} quarantined")
    for reason, n in sorted(outcome.reasons.items()):
        print(f"  {plural(n, 'row')}: {reason}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from .pseudonymise import write_key_file

    path = write_key_file(args.out)
    print(f"New random pseudonymisation key written to {path} (readable by you only).\n"
          "Name it in params (data.pseudonym_key_file) or export it as SMP_PSEUDONYM_KEY. Keep "
          "it out of the repository and back it up: without it, new extracts cannot be linked "
          "to the pseudonyms already stored. Use one key per store unless the stores are meant "
          "to be linked (the same key gives the same person the same pseudonym).")
    return 0


def _store_check(args: argparse.Namespace) -> int:
    from .store import health

    findings = health.check(args.store)
    for finding in findings:
        print(f"{finding.level}: {finding.message}")
    problems = [f for f in findings if f.level == "problem"]
    if problems:
        print(f"smp: {plural(len(problems), 'problem')} in the store {args.store}; `smp store repair "
              f"--store {args.store}` repairs what can be repaired", file=sys.stderr)
        return 1
    print(f"The store {args.store} is consistent.")
    return 0


def _store_repair(args: argparse.Namespace) -> int:
    from .store import health

    report = health.repair(args.store)
    if not report.files and not report.replacements:
        print(f"Nothing to repair in {args.store}.")
        return 0
    _print_ingest(report)
    if report.failed:
        print(f"smp: {plural(len(report.failed), 'file')} could not be repaired (see above)",
              file=sys.stderr)
        return 1
    return 0
def _ingest_indicators(args: argparse.Namespace) -> int:
    from . import store
    from .errors import InputError
    from .store import indicators as indicator_store

    missing = [str(p) for p in args.paths if not Path(p).is_file()]
    if missing:
        print(f"smp: not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    failed = 0
    con = store.connect(args.store)
    try:
        for path in args.paths:
            try:
                outcome = indicator_store.load_indicators(con, path)
            except InputError as exc:
                indicator_store.record_indicator_failure(con, path, str(exc))
                print(f"ERROR {exc}", file=sys.stderr)
                failed += 1
                continue
            print(f"{Path(outcome.path).name}: {outcome.status}; {outcome.rows_read:,} rows "
                  f"read, {outcome.rows_loaded:,} loaded, {outcome.rows_quarantined:,} "
                  "quarantined" + (f" ({outcome.error})" if outcome.error else ""))
            rows = con.execute(
                "SELECT q.line, q.\"column\", q.reason FROM quarantine q JOIN source_files s "
                "USING (file_id) WHERE s.path = ? AND s.kind = 'indicators' ORDER BY q.line",
                [outcome.path]).fetchall()
            for line, column, reason in rows[:50]:
                print(f"  line {line}" + (f", column '{column}'" if column else "")
                      + f": {reason}")
            if len(rows) > 50:
                print(f"  ... and {len(rows) - 50} more")
    finally:
        con.close()
    if failed:
        print(f"smp: {plural(failed, 'file')} could not be loaded (see above)", file=sys.stderr)
    return 1 if failed else 0


def _appendix(args: argparse.Namespace) -> int:
    from .params import load_params
    from .pipeline import prepare_store
    from .report.build import build_appendices, build_appendix

    start = time.perf_counter()
    _show_progress()
    args.params = [p.resolve() for p in _expand_globs(args.params)]
    if args.store_only:
        for path in args.params:
            params = load_params(path)
            report = prepare_store(params, progress=sys.stderr.isatty())
            loaded = sum(f.status in ("loaded", "replaced") for f in report.files)
            print(f"Store {params.data.store} is up to date for {path} "
                  f"({plural(loaded, 'file')} loaded now)")
        return EXIT_OK
    want_pdf = args.pdf is not None
    if args.pdf == "if-available":
        from .report.pdf import find_browser

        if find_browser() is None:
            print("smp: no Chromium found, so no PDF this time (apt-get install chromium, or "
                  "`playwright install chromium`, or set SMP_CHROMIUM)", file=sys.stderr)
            want_pdf = False
    if len(args.params) == 1:
        results = [build_appendix(args.params[0], out_dir=args.out.resolve(),
                                  progress=sys.stderr.isatty(), pdf=want_pdf)]
    else:
        results = build_appendices(args.params, out_dir=args.out.resolve(), workers=args.workers,
                                   progress=sys.stderr.isatty())
        if want_pdf:
            results = _add_pdfs(args.params, results)
    for result in results:
        print(f"Appendix written to {result.html}")
        for label, path in (("PDF", result.pdf), ("Tables (workbook)", result.workbook),
                            ("Tables (CSV)", result.tables)):
            if path is not None:
                print(f"  {label}: {path}")
    print(f"{plural(len(results), 'appendix', 'appendices')} in "
          f"{time.perf_counter() - start:.1f} s")
    return EXIT_OK


def _expand_globs(paths: list[Path]) -> list[Path]:
    """`params/*.yaml` as the shell would expand it: Windows' cmd and PowerShell pass the
    pattern through unexpanded."""
    import glob

    expanded = []
    for path in paths:
        matches = sorted(glob.glob(str(path))) if any(c in str(path) for c in "*?[") else []
        expanded.extend([Path(m) for m in matches] or [path])
    return expanded


def _add_pdfs(params_files: list[Path], results):
    """PDFs for a batch: printed one after another once every HTML was written (one Chromium
    at a time on a small machine). `results` are in the order of `params_files`."""
    import dataclasses

    from .params import load_params
    from .report.build import write_appendix_pdf

    return [dataclasses.replace(r, pdf=write_appendix_pdf(r.html, load_params(p)))
            for p, r in zip(params_files, results, strict=True)]


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
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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

    check = command("check-params", "validate params YAML files",
                    "  smp check-params params/2023-24.yaml params/2022-23.yaml")
    check.add_argument("params", nargs="+", type=Path, help="params files to check")
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
        "  smp appendix --params params/2023-24.yaml --store-only   # update the store only")
    appendix.add_argument("--params", nargs="+", required=True, type=Path, metavar="FILE",
                          help="one or more params files, one appendix each")
    appendix.add_argument("--out", default=Path("reports"), type=Path, metavar="DIR",
                          help="folder for <assessment>.html, .pdf, -tables.xlsx and tables/")
    appendix.add_argument("--pdf", nargs="?", const="yes", choices=("yes", "if-available"),
                          default=None, help="also print an A4 PDF with Chromium; "
                          "'if-available' skips it, with a message, when no Chromium is found")
    appendix.add_argument("--workers", default=max(1, (os.cpu_count() or 2) // 2), type=int,
                          metavar="N", help="parallel appendix builds (dask) when several "
                          "params files are given (default: half the CPU cores, here "
                          "%(default)s)")
    appendix.add_argument("--store-only", action="store_true",
                          help="bring the store up to date and stop (what notebooks read)")
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
