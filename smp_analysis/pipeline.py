"""Bring a store up to date with the inputs a params file names (the step before a report).

The appendix build never ingests: ``smp appendix`` (and the batch) call :func:`prepare_store`
first, then the report step only reads the store. Ingest is incremental (files are identified
by SHA-256), so an up-to-date store costs only the hashing.
"""

from __future__ import annotations

from pathlib import Path

from . import store
from .errors import InputError
from .params import AssessmentParams
from .store import boundaries as boundary_store
from .store import indicators as indicator_store
from .store import ingest, quality


class PrepareError(RuntimeError):
    """Some police.uk files named in params could not be read (each named with its problem)."""


def prepare_store(params: AssessmentParams, *, progress: bool = False) -> ingest.IngestReport:
    """Ingest police.uk files, reference tables, boundaries, victim extracts and partner
    indicators named in `params`; refresh the stored data-quality findings when anything
    changed."""
    con = store.connect(params.data.store)
    try:
        report = ingest.ingest_police_uk(con, params.data.police_uk, progress=progress)
        changed = any(f.status in ("loaded", "replaced") for f in report.files)
        if changed or not store.has_table(con, "anomalies"):
            quality.refresh(con)
        lookups_changed = False
        for kind in ingest.REFERENCE_READERS:
            path = getattr(params.data, kind)
            if path is not None:
                lookups_changed |= ingest.load_reference(con, kind, path)
        _load_boundaries(con, params, force=lookups_changed)
        victim_files = {k: getattr(params.data, k) for k in ingest.VICTIM_READERS}
        if any(victim_files.values()):
            from .pseudonymise import load_key

            key = load_key(params.data.pseudonym_key_file)
            for kind, path in victim_files.items():
                if path is not None:
                    ingest.load_victim_extract(con, kind, path, key)
        load_indicator_files(con, params.data.indicators or [])
    finally:
        con.close()
    if report.failed:
        problems = "\n".join(
            f.error if (f.error or "").startswith(f.path) else f"{f.path}: {f.error}"
            for f in report.failed)
        raise PrepareError(f"{len(report.failed)} police.uk file(s) could not be read:\n"
                           f"{problems}")
    return report


def load_indicator_files(con, paths: list[Path]) -> list[ingest.FileOutcome]:
    """Load each partner-indicator file; a file that cannot be used does not stop the others
    or the appendix: its problems are kept in the store and the chapter names them."""
    outcomes = []
    for path in paths:
        try:
            outcomes.append(indicator_store.load_indicators(con, path))
        except InputError as exc:
            indicator_store.record_indicator_failure(con, path, str(exc))
            outcomes.append(ingest.FileOutcome(str(path), "", "failed", error=str(exc)))
    return outcomes


def _load_boundaries(con, params: AssessmentParams, *, force: bool) -> None:
    """Boundary files after the lookups they are checked against (reloaded when a lookup
    changed, so the kept areas follow the lookup)."""
    boundaries = params.data.boundaries
    if boundaries is None:
        return
    for level, path in boundaries.files().items():
        boundary_store.load_boundaries(con, level, path, force=force,
                                       code_column=getattr(boundaries, f"{level}_code_column"))
