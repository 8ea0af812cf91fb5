"""The house: the assessment context, the only builders of reviewer text, tables and figures
(each escapes every value from data or params), disclosure control, and the appendix build.

``from smp_analysis.report import Assessment`` is what a chapter notebook starts with; the
build (papermill + nbconvert) lives in :mod:`smp_analysis.report.build`.

``Assessment`` is imported on first use (PEP 562), so importing a light module of this package
(``report.words`` for the command line, say) does not import pandas, scipy and every chapter's
dependencies.
"""

__all__ = ["Assessment"]


def __getattr__(name: str):
    if name == "Assessment":
        from .context import Assessment

        return Assessment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
