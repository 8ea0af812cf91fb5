"""Bring a store up to date with the inputs a params file names (the step before a report).

The appendix build never ingests: ``smp appendix`` (and the batch) call :func:`prepare_store`
first, then the report step only reads the store. Ingest is incremental (files are identified
by SHA-256), so an up-to-date store costs only the hashing.

Readers (notebook kernels, other builds) may hold the store read-only while this runs. DuckDB
then refuses a writer; if every input is already in the store (checked read-only, by
SHA-256) nothing needs writing and the build goes on, otherwise :class:`StoreBusy` says in one
line which process holds the store and what to do.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb

from . import store
from .errors import InputError, StoreError
from .params import AssessmentParams
from .sources._csv import sha256_of
from .sources.police_uk import find_street_files
from .store import boundaries as boundary_store
from .store import indicators as indicator_store
from .store import ingest, quality, queries
from .store.connection import stat_key
from .store.lock import StoreBusy, lock_conflict

log = logging.getLogger(__name__)  # `smp appendix` prints its lines as progress


class PrepareError(RuntimeError):
    """Some police.uk files named in params could not be read (each named with its problem)."""


def prepare_store(params: AssessmentParams, *, progress: bool = False) -> ingest.IngestReport:
    """Ingest police.uk files, reference tables, boundaries, victim extracts and partner
    indicators named in `params`; refresh the stored data-quality findings when anything
    changed (files already in the store, by path and stat key or by SHA-256, cost a stat or a
    hash)."""
    log.info("%s: bringing the store %s up to date", params.assessment,
             Path(params.data.store).name)
    try:
        con = store.connect(params.data.store)
    except (duckdb.Error, StoreError) as exc:
        holder = lock_conflict(exc)
        if holder is None:
            raise
        # Readers (notebook kernels, other appendix builds) hold the store: fine when there is
        # nothing to write.
        if store_is_current(params):
            return ingest.IngestReport([])
        raise StoreBusy(params.data.store, holder) from None
    try:
        report = ingest.ingest_police_uk(con, params.data.police_uk, progress=progress)
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
        quality.current(con)  # recomputed when anything above changed the store
    finally:
        con.close()
    if report.failed:
        problems = "\n".join(
            f.error if (f.error or "").startswith(f.path) else f"{f.path}: {f.error}"
            for f in report.failed)
        files = "1 police.uk file" if len(report.failed) == 1 else \
            f"{len(report.failed)} police.uk files"
        raise PrepareError(f"{files} could not be read:\n"
                           f"{problems}")
    return report


def store_is_current(params: AssessmentParams) -> bool:
    """True when the store already holds every input file `params` names, byte for byte
    (SHA-256), and its data-quality findings: checked through a read-only connection, so it
    works while notebooks are reading the store. A file whose path and stat key are those it
    was registered with is not hashed again (see :mod:`.store.ingest`)."""
    path = Path(params.data.store)
    if not path.exists():
        return False
    con = store.connect(path, read_only=True)
    try:
        stored = set(queries.input_files(con)["sha256"])
        if not store.has_table(con, "anomalies"):
            return False
        try:
            untouched = {(p, key) for p, key in con.execute(
                "SELECT path, stat_key FROM source_files WHERE stat_key IS NOT NULL"
            ).fetchall()}
        except duckdb.Error:  # a store written before stat keys
            untouched = set()
    finally:
        con.close()
    files = find_street_files([Path(p) for p in params.data.police_uk])
    files += [Path(p) for key, p in params.data.input_paths().items()
              if not key.startswith("data.police_uk")]
    for f in files:
        try:
            if (str(f), stat_key(os.stat(f))) in untouched:
                continue
        except OSError:
            return False
        if sha256_of(f) not in stored:
            return False
    return True


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
