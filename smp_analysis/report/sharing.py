"""One assessment for every chapter of an appendix: the build's cache of opened assessments.

While :func:`shared_assessments` is active (each worker process of an appendix build runs
its chapters inside it), :meth:`Assessment.open
<smp_analysis.report.context.Assessment.open>` returns the same assessment to every chapter
that opens the same params file on the same store, so a topic computed by one chapter is not
computed again by another. A build in two workers hands the topic results of one block to
the next (the key findings), so they are not computed again either. The key is the resolved params path, its
modification time and SHA-256, and the store's identity (as the store's remembered answers
are keyed, :func:`smp_analysis.store.memo.store_identity`): an edited params
file or a rewritten store gives a new assessment. Outside it (an analyst's JupyterLab kernel)
every call opens a new one, so re-running a cell after editing code recomputes.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path

from ..errors import ParamsError
from ..params import load_params
from ..store.memo import store_identity

_SHARED: dict | None = None
_ADOPTED: dict = {}


@contextlib.contextmanager
def shared_assessments(results: dict | None = None):
    """Within this block assessments are shared (see the module's docstring); on leaving it
    their store connections are closed, so no reader is left holding the store.

    `results` are topic results computed by another process of the same build, as that
    process's block gave them: the assessments opened here start with them (the key findings
    then need not compute again what the other worker did). The block gives a dict that, on
    leaving, holds the topic results of every assessment opened in it, by sharing key.
    """
    global _SHARED, _ADOPTED
    outer = _SHARED, _ADOPTED
    _SHARED, _ADOPTED = {}, dict(results or {})
    computed: dict = {}
    try:
        yield computed
    finally:
        opened = _SHARED
        _SHARED, _ADOPTED = outer
        for key, sa in opened.items():
            computed[key] = sa.topic_results()
            with contextlib.suppress(Exception):
                sa.close()


def shared(params_file: str | Path, open_assessment: Callable):
    """`open_assessment(params_file)`, or the assessment already opened for the same key."""
    if _SHARED is None:
        return open_assessment(params_file)
    key = sharing_key(params_file)
    if key is None:
        return open_assessment(params_file)
    if key not in _SHARED:
        _SHARED[key] = open_assessment(params_file)
        if key in _ADOPTED:
            _SHARED[key].adopt(_ADOPTED[key])
    return _SHARED[key]


def sharing_key(params_file: str | Path) -> tuple | None:
    """(params path, mtime, SHA-256, the store's identity: see
    :func:`smp_analysis.store.memo.store_identity`); None when a file is missing or the
    params are invalid (then nothing is shared: the caller gets the usual message)."""
    path = Path(params_file).resolve()
    try:
        raw = path.read_bytes()
        stat = path.stat()
        store_path = Path(load_params(path, check_files=False).data.store)
        store_path.stat()
    except (OSError, ParamsError):
        return None
    return (str(path), stat.st_mtime_ns, hashlib.sha256(raw).hexdigest(),
            store_identity(store_path))
