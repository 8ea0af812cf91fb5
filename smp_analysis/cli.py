"""`smp`: a thin command-line shell over the library (the notebooks call the same functions)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _demo_data(args: argparse.Namespace) -> int:
    from .demo import generate

    start = time.perf_counter()
    out = generate(args.out, seed=args.seed, scale=args.scale, progress=sys.stderr.isatty())
    manifest = json.loads((out / "demo-manifest.json").read_text())
    print(f"Synthetic demonstration data written to {out} "
          f"({manifest['rows_written']:,} police.uk rows, seed {args.seed}) "
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
        print(f"\n{len(anomalies)} data-quality finding(s):")
        for r in anomalies.itertuples():
            month = f"{r.month:%Y-%m}" if r.month == r.month else "-"
            print(f"  {r.force} {month} {r.kind}: {r.detail}")
    document = {**report.to_json(), "anomalies": quality.anomalies_json(anomalies)}
    _write_ingest_report(Path(args.store), document)
    if report.failed:
        print(f"smp: {len(report.failed)} file(s) could not be loaded (see above); the others "
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
    print(f"{Path(outcome.path).name}: {outcome.status}; {outcome.rows_read:,} rows read, "
          f"{outcome.rows_loaded:,} loaded, {outcome.rows_quarantined:,} quarantined")
    for reason, n in sorted(outcome.reasons.items()):
        print(f"  {n:,} row(s): {reason}")
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
        print(f"smp: {len(problems)} problem(s) in the store {args.store}; `smp store repair "
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
        print(f"smp: {len(report.failed)} file(s) could not be repaired (see above)",
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
        print(f"smp: {failed} file(s) could not be loaded (see above)", file=sys.stderr)
    return 1 if failed else 0


def _appendix(args: argparse.Namespace) -> int:
    from .report.build import build_appendices, build_appendix

    start = time.perf_counter()
    if len(args.params) == 1:
        results = [build_appendix(args.params[0], out_dir=args.out.resolve(),
                                  progress=sys.stderr.isatty())]
    else:
        results = build_appendices(args.params, out_dir=args.out.resolve(), workers=args.workers,
                                   progress=sys.stderr.isatty())
    for result in results:
        print(f"Appendix written to {result.html}")
    print(f"{len(results)} appendix(es) in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write the synthetic demonstration county")
    demo.add_argument("--out", default="data/demo", type=Path)
    demo.add_argument("--seed", default=20151, type=int)
    demo.add_argument("--scale", choices=("county", "national"), default="county",
                      help="county: the 13-district demo every appendix uses; national: 43 "
                           "forces, 325 districts, five years (~30 M rows, ~6 GB)")
    demo.set_defaults(func=_demo_data)

    check = sub.add_parser("check-params", help="validate params YAML files")
    check.add_argument("params", nargs="+", type=Path)
    check.set_defaults(func=_check_params)

    ingest = sub.add_parser("ingest", help="load input files into the store")
    ingest_sub = ingest.add_subparsers(dest="source", required=True)
    police = ingest_sub.add_parser("police-uk", help="data.police.uk street-level CSVs")
    police.add_argument("paths", nargs="+", type=Path, help="files or folders")
    police.add_argument("--store", default="data/smp.duckdb", type=Path)
    police.set_defaults(func=_ingest)
    for kind, help_text in (("incidents", "victim-level incident extract (pseudonymised)"),
                            ("marac_referrals", "Marac referrals extract (pseudonymised)")):
        victims = ingest_sub.add_parser(kind.replace("_", "-"), help=help_text)
        victims.add_argument("path", type=Path)
        victims.add_argument("--store", default="data/smp.duckdb", type=Path)
        victims.add_argument("--key-file", type=Path, default=None,
                             help="pseudonymisation key file ($SMP_PSEUDONYM_KEY wins)")
        victims.set_defaults(func=_ingest_victims, kind=kind)

    keygen = sub.add_parser("keygen", help="write a new random pseudonymisation key file")
    keygen.add_argument("--out", required=True, type=Path,
                        help="key file to create (never overwritten; readable by you only)")
    keygen.set_defaults(func=_keygen)

    store_cmd = sub.add_parser("store", help="check or repair a store")
    store_sub = store_cmd.add_subparsers(dest="action", required=True)
    for action, func, help_text in (
            ("check", _store_check, "check the store: register, Parquet parts, source files"),
            ("repair", _store_repair, "re-read files whose stored rows are missing or damaged")):
        cmd = store_sub.add_parser(action, help=help_text)
        cmd.add_argument("--store", default="data/smp.duckdb", type=Path)
        cmd.set_defaults(func=func)
    indicators = ingest_sub.add_parser("indicators", help="partner-indicator CSV files")
    indicators.add_argument("paths", nargs="+", type=Path)
    indicators.add_argument("--store", default="data/smp.duckdb", type=Path)
    indicators.set_defaults(func=_ingest_indicators)

    appendix = sub.add_parser("appendix", help="build the HTML appendix for params file(s)")
    appendix.add_argument("--params", nargs="+", required=True, type=Path)
    appendix.add_argument("--out", default=Path("reports"), type=Path)
    appendix.add_argument("--workers", default=max(1, (os.cpu_count() or 2) // 2), type=int,
                          help="parallel appendix builds (dask) when several params files are "
                               "given; default: half the CPU cores")
    appendix.set_defaults(func=_appendix)

    args = parser.parse_args(argv)
    return run(args.func, args)


def run(func, args: argparse.Namespace) -> int:
    """Run a command; any failure becomes one clear message on stderr and an exit code, never
    a traceback (set SMP_DEBUG=1 to see it)."""
    try:
        return func(args)
    except KeyboardInterrupt:
        print("smp: interrupted; outputs are written atomically, so nothing half-written was "
              "kept", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's job is a clear one-line failure
        from .errors import describe

        if os.environ.get("SMP_DEBUG"):
            import traceback

            traceback.print_exc()
        message, code = describe(exc)
        print(f"smp: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
