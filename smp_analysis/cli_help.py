"""What `smp --help` says beyond each option's own help: exit codes, examples, defaults shown
(see :mod:`smp_analysis.cli`). The README's exit-code table lists the same codes (a test checks
it)."""

from __future__ import annotations

import argparse
import sys

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


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked for (reading the
    package metadata costs every other command 40 ms)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show the version and exit"):  # noqa: A002 - argparse's keyword
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(f"{parser.prog} {_version()}\n", sys.stdout)  # as argparse's own
        parser.exit()


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("smp-analysis")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        from . import __version__

        return __version__
