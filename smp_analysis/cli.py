"""`smp`: a thin command-line shell over the library (the notebooks call the same functions)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .errors import InputError


def _demo_data(args: argparse.Namespace) -> int:
    from .demo import generate

    start = time.perf_counter()
    out = generate(args.out, seed=args.seed)
    manifest = json.loads((out / "demo-manifest.json").read_text())
    print(f"Synthetic demonstration data written to {out} "
          f"({manifest['rows_written']:,} police.uk rows, seed {args.seed}) "
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

    failed = 0
    for path in args.params:
        try:
            params = load_params(path)
        except InputError as exc:
            print(f"{path}: INVALID\n{exc}", file=sys.stderr)
            failed += 1
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
            print(f"{path}: FAILED ({len(problems)} problem(s))", file=sys.stderr)
            failed += 1
    if failed:
        print(f"smp: {failed} of {len(args.params)} params file(s) failed the check",
              file=sys.stderr)
    return 1 if failed else 0


def _ingest(args: argparse.Namespace) -> int:
    from . import store
    from .atomic import write_text_atomic
    from .store import ingest, quality

    missing = [str(p) for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"smp: not found: {', '.join(missing)}", file=sys.stderr)
        return 2
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
        print(f"\n{len(anomalies)} data-quality finding(s):")
        for r in anomalies.itertuples():
            month = f"{r.month:%Y-%m}" if r.month == r.month else "-"
            print(f"  {r.force} {month} {r.kind}: {r.detail}")
    report_path = Path(args.store).with_name("ingest-report.json")
    document = {**report.to_json(), "anomalies": quality.anomalies_json(anomalies)}
    write_text_atomic(report_path, json.dumps(document, indent=2) + "\n")
    print(f"Ingest report written to {report_path}")
    if report.failed:
        print(f"smp: {len(report.failed)} file(s) could not be loaded (see above)", file=sys.stderr)
    return 1 if report.failed else 0


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


def _appendix(args: argparse.Namespace) -> int:
    """Build every params file's appendix; one failure never stops the others. Ends with a
    table of built and failed appendices (with the reason); exit 1 if any failed."""
    from .report.build import build_appendices, outcomes_table

    start = time.perf_counter()
    outcomes = build_appendices(args.params, out_dir=args.out.resolve(), workers=args.workers,
                                progress=sys.stderr.isatty())
    for outcome in outcomes:
        if outcome.ok:
            print(f"Appendix written to {outcome.html}")
        else:
            print(f"smp: {outcome.params_file}: {outcome.error}", file=sys.stderr)
    print(outcomes_table(outcomes))
    print(f"{len(outcomes)} params file(s) in {time.perf_counter() - start:.1f} s")
    return 0 if all(o.ok for o in outcomes) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write the synthetic demonstration county")
    demo.add_argument("--out", default="data/demo", type=Path)
    demo.add_argument("--seed", default=20151, type=int)
    demo.set_defaults(func=_demo_data)

    check = sub.add_parser("check-params", help="validate params YAML files and report the "
                           "months with usable data")
    check.add_argument("params", nargs="+", type=Path)
    check.add_argument("--no-ingest", action="store_true",
                       help="report coverage from the store as it is, without loading inputs")
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

    appendix = sub.add_parser("appendix", help="build the HTML appendix for params file(s)")
    appendix.add_argument("--params", nargs="+", required=True, type=Path)
    appendix.add_argument("--out", default=Path("reports"), type=Path)
    appendix.add_argument("--workers", default=max(1, (os.cpu_count() or 2) // 2), type=int,
                          help="parallel appendix builds (dask) when several params files are "
                               "given; default: half the CPU cores")
    appendix.set_defaults(func=_appendix)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"smp: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the CLI's job is a clear one-line failure
        from .pipeline import PrepareError
        from .pseudonymise import KeyError_
        from .report.build import AppendixError

        if isinstance(exc, AppendixError | PrepareError | FileNotFoundError | KeyError_):
            print(f"smp: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
