"""`smp appendix`: one appendix with a line a chapter, or a batch with one progress bar.

One params file (no --all-districts, no --scheduler): its chapters' progress, then the files
written. Several, ``--all-districts`` (one params file per district of the comparison area,
:mod:`smp_analysis.report.districts`) or ``--scheduler``: a batch
(:mod:`smp_analysis.report.batch`): one failure never stops the others, appendices unchanged
since their last build are skipped unless ``--force``, and the run ends with a table of built,
unchanged and failed appendices (with the reason); exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from .cli_help import EXIT_FAILED, EXIT_INPUT, EXIT_OK
from .report.words import plural


def appendix_command(args: argparse.Namespace) -> int:
    from .report.worker import import_jsonschema_quickly

    import_jsonschema_quickly()  # before the build imports nbformat (seconds saved)
    from .params import load_params
    from .pipeline import prepare_store
    from .report.build import build_appendices, build_appendix, outcomes_table

    start = time.perf_counter()
    progress = sys.stderr.isatty()
    if args.store_only:
        for path in args.params:
            params = load_params(path)
            report = prepare_store(params, progress=progress)
            loaded = sum(f.status in ("loaded", "replaced") for f in report.files)
            print(f"Store {params.data.store} is up to date for {path} "
                  f"({plural(loaded, 'file')} loaded now)")
        return EXIT_OK
    want_pdf = _want_pdf(args.pdf)
    prepare = True
    if args.all_districts:
        if len(args.params) != 1:
            print("smp: --all-districts takes one params file (its comparison area's districts "
                  f"are built in turn), not {len(args.params)}", file=sys.stderr)
            return EXIT_INPUT
        from .report.districts import district_params

        prepare_store(load_params(args.params[0]), progress=progress)
        args.params = district_params(args.params[0], args.out.resolve())
        prepare = False  # the derived files read the same, now up-to-date store
        print(f"{plural(len(args.params), 'district')} of the comparison area; their params "
              f"files are in {args.params[0].parent}")
    batch = len(args.params) > 1 or args.all_districts or args.scheduler
    if not batch:
        results = [build_appendix(args.params[0], out_dir=args.out.resolve(),
                                  progress=progress, pdf=want_pdf)]
        outcomes, failed = [], []
    else:
        outcomes = build_appendices(args.params, out_dir=args.out.resolve(),
                                    workers=args.workers, progress=progress,
                                    scheduler=args.scheduler, force=args.force, prepare=prepare)
        built = [o for o in outcomes if o.ok]
        results = [o.result for o in built]
        if want_pdf:
            results = _add_pdfs([o.params_file for o in built], results)
        failed = [o for o in outcomes if not o.ok]
    for result in results:
        print(f"Appendix written to {result.html}")
        for label, path in (("PDF", result.pdf), ("Tables (workbook)", result.workbook),
                            ("Tables (CSV)", result.tables)):
            if path is not None:
                print(f"  {label}: {path}")
    if batch:
        for outcome in failed:  # one line each (the table repeats the first part)
            reason = " ".join(line.strip() for line in (outcome.error or "").splitlines())
            print(f"smp: {outcome.params_file}: {reason}", file=sys.stderr)
        print(outcomes_table(outcomes))
    print(f"{plural(len(results), 'appendix', 'appendices')} built of "
          f"{plural(len(args.params), 'params file')} in {time.perf_counter() - start:.1f} s")
    return EXIT_FAILED if failed else EXIT_OK


def _want_pdf(option: str | None) -> bool:
    if option == "if-available":
        from .report.pdf import find_browser

        if find_browser() is None:
            print("smp: no Chromium found, so no PDF this time (apt-get install chromium, or "
                  "`playwright install chromium`, or set SMP_CHROMIUM)", file=sys.stderr)
            return False
    return option is not None


def _add_pdfs(params_files: list[Path], results):
    """PDFs for a batch: printed one after another once every HTML was written (one Chromium
    at a time on a small machine). `results` are in the order of `params_files`."""
    from .params import load_params
    from .report.build import write_appendix_pdf

    return [dataclasses.replace(r, pdf=write_appendix_pdf(r.html, load_params(p)))
            for p, r in zip(params_files, results, strict=True)]
