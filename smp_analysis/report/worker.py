"""Where the chapters run: worker processes that keep the library and one IPython shell.

The chapters must not run in a user's own process (the IPython shell installs display hooks
process wide), so :func:`call` and :func:`submit` run a function in a worker: a spawned
process kept for the life of the caller and reused by later builds while the package's source
is unchanged (an edited module gets a fresh process), or the current process when it is
already such a worker (a dask worker of a batch calls :func:`build_task` directly). A single
build may use two (:func:`pool` ``lane`` 0 and 1; :mod:`.runs`). The workers' log lines (one
a chapter) are forwarded to the caller's loggers of the same names. :func:`warm_up` imports
what every chapter needs, once a process.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import logging.handlers
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

IN_WORKER = False  # True in the processes this module starts
_loaded_source: str | None = None
log = logging.getLogger("smp_analysis.report.build")  # the lines `smp appendix` prints


def result_of(future: Future):
    """The result of a worker's `future`; a worker process that died (killed, out of
    memory) is one clear error, and the workers are started afresh by the next build."""
    try:
        return future.result()
    except BrokenProcessPool:
        with _lock:
            shutdown()
        raise RuntimeError("the build's worker process stopped unexpectedly (out of memory, or "
                           "killed); run the build again") from None


def build_task(params_file: Path, out_dir: Path, notebooks_dir: Path,
               fingerprints: dict | None, commit: str | None) -> tuple[bool, object]:
    """One appendix of a batch, all of it, in a worker (a dask worker's task): see
    :func:`batch_step`."""
    from . import runs

    return batch_step(fingerprints, runs.run_appendix, params_file, out_dir=out_dir,
                      notebooks_dir=notebooks_dir, fingerprints=fingerprints, commit=commit)


def batch_step(fingerprints: dict | None, function, /, *args, **kwargs) -> tuple[bool, object]:
    """`function(*args, **kwargs)`, an appendix of a batch or a step of one, in this worker:
    ``(True, result)`` or ``(False, reason)``. It never raises, so a failing appendix is one
    line in the batch's table, not a worker's traceback in the log. The worker must run the
    code that sent the batch (`fingerprints`)."""
    import_jsonschema_quickly()  # before .build imports nbformat
    from .build import _reason
    from .manifest import source_digest

    global _loaded_source
    if _loaded_source is None:  # the code this process imported, read when it first builds
        _loaded_source = source_digest()
    expected = (fingerprints or {}).get("code", {}).get("source_sha256")
    if expected is not None and expected != _loaded_source:
        return False, ("this worker runs different smp-analysis code from the client that sent "
                       "the batch; install the same version (and checkout) on every worker")
    if not _warm:  # a dask worker's first appendix (the local worker was warmed on start)
        warm_up()
        stop_dask_profiler()
    # a batch shows one bar, not a line a chapter
    quiet = log.level
    log.setLevel(logging.WARNING)
    try:
        return True, function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - reported in the batch's outcome
        return False, _reason(exc)
    finally:
        log.setLevel(quiet)
        settle_heap()


_warm = False  # warm_up has run in this process
_appendices = 0  # built by this process, for settle_heap
UNFREEZE_EVERY = 16


def settle_heap() -> None:
    """After an appendix: collect its garbage and freeze what survives it (the modules its
    chapters imported, caches, remembered answers), so that the collection after each later
    chapter looks only at that chapter's objects (a full one took 30-60 ms a chapter, 11
    chapters an appendix). Every :data:`UNFREEZE_EVERY` appendices everything is collected
    again, so a frozen object that has since become garbage is freed."""
    global _appendices
    _appendices += 1
    if _appendices % UNFREEZE_EVERY == 0:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def import_jsonschema_quickly() -> None:
    """Import jsonschema (nbformat's validator, so papermill's and nbconvert's) without the
    ``rfc3987-syntax`` package, which jsonschema imports for its two "iri" format checks when
    it is installed (JupyterLab's dependencies install it). That package builds some 35 Lark
    parsers as it is imported: 1 to 2.6 s in every process that imports nbformat
    (python-jsonschema/jsonschema#1428), for formats no notebook schema uses (nbformat's,
    papermill's and nbconvert's schemas check no format). jsonschema then goes without those
    two checks in this process; a later ``import rfc3987_syntax`` works as usual. Nothing
    happens when jsonschema or rfc3987-syntax is imported already."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # importing a module set to None raises ImportError
    try:
        import jsonschema  # noqa: F401 - imports its format checkers
    finally:
        del sys.modules["rfc3987_syntax"]


# the periodic callbacks of a dask worker that sample and gather the stacks of its threads
DASK_PROFILER = ("profile", "profile-cycle")


def stop_dask_profiler() -> bool:
    """Stop the statistical profiler of the dask worker this runs in, if any; True if it ran.

    A dask worker samples the stack of its task thread every 10 ms (for its dashboard): on a
    build's deep stacks (papermill, IPython, matplotlib) that cost a quarter of an appendix's
    time. The workers of a running scheduler are stopped here, as they may have been started
    with the default; a local worker process (no dask) imports nothing.
    """
    if "distributed" not in sys.modules:  # not a dask worker
        return False
    try:
        from distributed import get_worker

        dask_worker = get_worker()
    except (ImportError, ValueError):  # not in a dask worker
        return False
    running = [callback for name, callback in dask_worker.periodic_callbacks.items()
               if name in DASK_PROFILER and callback.is_running()]
    for callback in running:  # a tornado callback is stopped from its own event loop
        dask_worker.loop.add_callback(callback.stop)
    return bool(running)


def warm_up() -> None:
    """Import what every chapter imports and create the shell (while the caller prepares
    the store, on the other core)."""
    global _warm
    if _warm:
        return
    import_jsonschema_quickly()
    import importlib
    import pkgutil

    from .. import topics
    from . import build, engine  # noqa: F401

    for module in pkgutil.iter_modules(topics.__path__):
        importlib.import_module(f"{topics.__name__}.{module.name}")
    for module in ("openpyxl", "bs4", "papermill"):  # the workbook, the page, the runs
        importlib.import_module(module)
    engine.shell()
    build.html_exporter()
    # every appendix this process builds asks the stores the same force-wide questions
    from ..store import memo

    memo.enable()
    # the modules' objects live as long as the worker: keep them out of every later garbage
    # collection (a full collection of this heap took a quarter of a second)
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)  # an interpreter that exits normally still finalises them
    _warm = True


# ----------------------------------------------------------------------- the worker process
_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}  # lane -> its worker process
_pool_source: str | None = None
_queue = None  # the workers' log records, forwarded by _listener
_listener: logging.handlers.QueueListener | None = None


class _Forward(logging.Handler):
    """Hand a worker's log record to this process's logger of the same name."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def _init_worker(queue) -> None:
    global IN_WORKER
    IN_WORKER = True
    os.environ["MPLBACKEND"] = "Agg"
    logger = logging.getLogger("smp_analysis")
    logger.addHandler(logging.handlers.QueueHandler(queue))
    logger.setLevel(logging.INFO)
    logger.propagate = False


def pool(lane: int = 0, *, pinned: bool = False) -> ProcessPoolExecutor:
    """The reused worker process of `lane` (0: every build; 1: the second of a build in two
    workers; more in a batch), started on first use; new ones when the package's source
    changed since they were started (they would run the old code), unless `pinned` (a batch
    under way keeps its processes: one whose code differs from the batch's fails its
    appendices with that reason, see :func:`build_task`)."""
    global _pool_source, _queue, _listener
    from .manifest import source_digest

    source = _pool_source if pinned and _pool_source is not None else source_digest()
    with _lock:
        if _pools and _pool_source != source:
            shutdown()
        if lane not in _pools:
            context = multiprocessing.get_context("spawn")
            if _listener is None:
                _queue = context.Queue()
                _listener = logging.handlers.QueueListener(_queue, _Forward())
                _listener.start()
            _pools[lane] = ProcessPoolExecutor(max_workers=1, mp_context=context,
                                               initializer=_init_worker, initargs=(_queue,))
            _pool_source = source
        return _pools[lane]


def release(lane: int) -> None:
    """Stop the worker process of `lane`, if it runs (a batch's lanes beyond the two every
    build uses, once the batch is done)."""
    with _lock:
        executor = _pools.pop(lane, None)
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes (at exit, or before starting ones with newer code)."""
    global _listener, _queue
    while _pools:
        _pools.popitem()[1].shutdown(wait=True, cancel_futures=True)
    if _listener is not None:
        _listener.stop()
        _listener = _queue = None


atexit.register(shutdown)


@contextlib.contextmanager
def _main_not_imported():
    """A spawned process imports the caller's ``__main__`` again (to unpickle functions
    defined there), which runs a user's script without an ``if __name__ == "__main__"``
    guard a second time. The worker runs only library functions, so it is not told about it."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def submit(function, *args, lane: int = 0, pinned: bool = False, **kwargs) -> Future:
    """`function(*args, **kwargs)` in the reused worker process of `lane`, with this
    process's environment variables (they may have changed since the worker started). A
    worker that died since its last task (killed, out of memory) is replaced. `pinned`: see
    :func:`pool`."""
    try:
        return submit_to(pool(lane, pinned=pinned), function, *args, **kwargs)
    except BrokenProcessPool:
        with _lock:
            _pools.pop(lane).shutdown(wait=False, cancel_futures=True)
        return submit_to(pool(lane, pinned=pinned), function, *args, **kwargs)


def submit_to(executor: ProcessPoolExecutor, function, *args, **kwargs) -> Future:
    """`function(*args, **kwargs)` in `executor`'s worker process (see :func:`submit`)."""
    with _main_not_imported():  # the process starts on the first submit
        return executor.submit(_in_environment, dict(os.environ), function, *args, **kwargs)


def _in_environment(environment: dict, function, *args, **kwargs):
    os.environ.clear()
    os.environ.update(environment)
    os.environ["MPLBACKEND"] = "Agg"  # a caller in Jupyter has the inline backend set
    return function(*args, **kwargs)


def call(function, *args, **kwargs):
    """`function(*args, **kwargs)` in the worker process (here when this is one)."""
    if IN_WORKER:
        return function(*args, **kwargs)
    return result_of(submit(function, *args, **kwargs))
