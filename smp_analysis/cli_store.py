"""The store commands of `smp`: ingest police.uk files, victim extracts and partner
indicators, make a pseudonymisation key, check and repair a store (:mod:`smp_analysis.cli`
holds the parser and the report commands)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report.words import plural


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
        anomalies = quality.current(con)  # recomputed only when the store changed
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
