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

from .errors import InputError
from .report.words import plural

# Exit codes (also in `smp --help` and the README). argparse itself exits 2 on a usage error.
EXIT_OK = 0
EXIT_FAILED = 1  # a step failed: a chapter, an input file that could not be loaded, the PDF
EXIT_INPUT = 2  # bad input: a params file, a missing file, a wrong option
EXIT_BUSY = 3  # the store is open in another process and needs writing
EXIT_INTERRUPTED = 130  # stopped with Ctrl-C

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_FAILED}    a step failed (a chapter, an input file that could not be loaded, the PDF);
       the message says which, and earlier outputs are left as they were
  {EXIT_INPUT}    bad input: an invalid params file, a missing file, a wrong option
  {EXIT_BUSY}    the store is open in another process (e.g. a notebook kernel) and needs
       updating: shut that process down and run again
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
"""

EXAMPLES = """\
examples:
  smp init Maidstone                       # writes params/maidstone-YYYY-YY.yaml
  smp demo-data                            # the synthetic demonstration county in data/demo
  smp ingest police-uk downloads/ --store data/smp.duckdb
  smp check-params params/2023-24.yaml
  smp appendix --params params/2023-24.yaml --pdf
  smp appendix --params params/*.yaml --workers 2     # several appendices in parallel

Run `smp COMMAND --help` for a command's options and their defaults.
"""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option's help (when there is one to show); descriptions and
    epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("smp-analysis")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        from . import __version__

        return __version__


# ---------------------------------------------------------------------------------- commands
def _demo_data(args: argparse.Namespace) -> int:
    from .demo import generate

    start = time.perf_counter()
    out = generate(args.out, seed=args.seed)
    manifest = json.loads((out / "demo-manifest.json").read_text())
    print(f"Synthetic demonstration data written to {out} "
          f"({plural(manifest['rows_written'], 'police.uk row')}, seed {args.seed}) "
          f"in {time.perf_counter() - start:.1f} s")
    return EXIT_OK


def _check_params(args: argparse.Namespace) -> int:
    from .params import load_params

    for path in args.params:
        params = load_params(path)
        print(f"{path}: OK ({params.title}; {params.current.name})")
    return EXIT_OK


def _ingest(args: argparse.Namespace) -> int:
    from . import store
    from .atomic import write_text_atomic
    from .store import ingest, quality

    missing = [str(p) for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"smp: not found: {', '.join(missing)}", file=sys.stderr)
        return EXIT_INPUT
    con = store.connect(args.store)
    try:
        report = ingest.ingest_police_uk(con, args.paths, progress=sys.stderr.isatty())
        anomalies = quality.refresh(con)
    finally:
        con.close()
    width = max((len(Path(f.path).name) for f in report.files), default=4)
    print(f"{'file':<{width}}  {'status':<9} {'read':>9} {'loaded':>9} {'quarantined':>11}")
    for f in report.files:
        print(f"{Path(f.path).name:<{width}}  {f.status:<9} {f.rows_read:>9,} "
              f"{f.rows_loaded:>9,} {f.rows_quarantined:>11,}")
    for f in report.failed:
        print(f"ERROR {f.error}", file=sys.stderr)
    totals = report.totals()
    print(f"{'total':<{width}}  {'':<9} {totals['rows_read']:>9,} {totals['rows_loaded']:>9,} "
          f"{totals['rows_quarantined']:>11,}")
    if len(anomalies):
        print(f"\n{plural(len(anomalies), 'data-quality finding')}:")
        for r in anomalies.itertuples():
            month = f"{r.month:%Y-%m}" if r.month == r.month else "-"
            print(f"  {r.force} {month} {r.kind}: {r.detail}")
    report_path = Path(args.store).with_name("ingest-report.json")
    document = {**report.to_json(), "anomalies": quality.anomalies_json(anomalies)}
    write_text_atomic(report_path, json.dumps(document, indent=2) + "\n")
    print(f"Ingest report written to {report_path}")
    if report.failed:
        print(f"smp: {plural(len(report.failed), 'file')} could not be loaded (see above)",
              file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


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
    return EXIT_OK


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


# ------------------------------------------------------------------------------------ parser
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("smp: interrupted; outputs are written atomically, so none is half-written",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except InputError as exc:
        print(f"smp: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - the CLI's job is a clear one-line failure
        return _report_failure(exc)


def _report_failure(exc: Exception) -> int:
    from .pipeline import PrepareError
    from .pseudonymise import KeyError_
    from .report.build import AppendixError
    from .report.pdf import PdfError
    from .store.lock import StoreBusy

    if isinstance(exc, StoreBusy):
        print(f"smp: {exc}", file=sys.stderr)
        return EXIT_BUSY
    if isinstance(exc, FileNotFoundError | KeyError_):
        print(f"smp: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(exc, AppendixError | PrepareError | PdfError):
        print(f"smp: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if os.environ.get("SMP_DEBUG"):
        raise exc
    print(f"smp: unexpected error: {type(exc).__name__}: {exc}\n"
          "This is a bug in smp-analysis: please report it with the command you ran. "
          "Run again with SMP_DEBUG=1 to see the Python traceback.", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
