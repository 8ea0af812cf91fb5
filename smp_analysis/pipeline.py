"""Bring a store up to date with the inputs a params file names (the step before a report).

The appendix build never ingests: ``smp appendix`` (and the batch) call :func:`prepare_store`
first, then the report step only reads the store. Ingest is incremental (files are identified
by SHA-256), so an up-to-date store costs only the hashing.
"""

from __future__ import annotations

from . import store
from .params import AssessmentParams
from .store import ingest, quality


class PrepareError(RuntimeError):
    """Some police.uk files named in params could not be read (each named with its problem)."""


def prepare_store(params: AssessmentParams, *, progress: bool = False) -> ingest.IngestReport:
    """Ingest police.uk files, reference tables and victim extracts named in `params`;
    refresh the stored data-quality findings when anything changed."""
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
    finally:
        con.close()
    if report.failed:
        problems = "\n".join(f.error or f.path for f in report.failed)
        raise PrepareError(f"{len(report.failed)} police.uk file(s) could not be read:\n"
                           f"{problems}")
    return report


def _load_boundaries(con, params: AssessmentParams, *, force: bool) -> None:
    """Boundary files after the lookups they are checked against (reloaded when a lookup
    changed, so the kept areas follow the lookup)."""
    boundaries = params.data.boundaries
    if boundaries is None:
        return
    for level, path in boundaries.files().items():
        ingest.load_boundaries(con, level, path, force=force,
                               code_column=getattr(boundaries, f"{level}_code_column"))
