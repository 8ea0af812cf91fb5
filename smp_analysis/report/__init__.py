"""The house: the assessment context, the only builders of reviewer text, tables and figures
(each escapes every value from data or params), disclosure control, and the appendix build.

``from smp_analysis.report import Assessment`` is what a chapter notebook starts with; the
build (papermill + nbconvert) lives in :mod:`smp_analysis.report.build`.
"""

from .context import Assessment

__all__ = ["Assessment"]
