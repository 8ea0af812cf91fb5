"""Where the chapters run: a worker process that keeps the library and one IPython shell.

:func:`run_appendix` runs every chapter of one appendix through papermill with the in-process
engine (:mod:`.engine`), inside :func:`.sharing.shared_assessments`, so the library is imported
once per worker and topic results computed by one chapter are reused by the others and by the
key findings (which therefore run last; the appendix keeps the notebooks' order). It then joins
the chapters into the HTML appendix, its tables and workbook, and writes the resume manifest
(:mod:`.manifest`) last.

It must not run in a user's own process (the IPython shell installs display hooks process
wide), so :func:`call` runs it in a worker: a spawned process kept for the life of the caller
and reused by later builds while the package's source is unchanged (an edited module gets a
fresh process), or the current process when it is already such a worker (a dask worker of a
batch calls :func:`build_task` directly). The worker's log lines (one a chapter) are forwarded
to the caller's loggers of the same names.

:func:`run_appendix_in_two` (a single build on two or more cores) runs the chapters in two
such workers ("lanes") at once: each runs its chapters inside its own shared assessment and
returns the topic results it computed; the key findings then run in the first, handed both
workers' results (:func:`.sharing.shared_assessments`), and the appendix is written there.
The caller collects the provenance meanwhile.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import itertools
import logging
import logging.handlers
import multiprocessing
import os
import shutil
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

IN_WORKER = False  # True in the processes this module starts
_loaded_source: str | None = None
log = logging.getLogger("smp_analysis.report.build")  # the lines `smp appendix` prints


def run_appendix(params_file: Path, *, out_dir: Path, notebooks_dir: Path,
                 fingerprints: dict | None = None, commit: str | None = None):
    """Run the chapters of one appendix in this process and write the appendix (HTML,
    tables, workbook; then the manifest when `fingerprints` are given). Returns the
    :class:`~.build.AppendixResult`; a failing chapter raises :class:`~.build.AppendixError`."""
    from .build import chapters

    params_file = Path(params_file).resolve()
    to_run = chapters(notebooks_dir)
    # the key findings (00_*) gather the chapters' results: run them last, when all are cached
    order = sorted(to_run, key=lambda p: (_front_matter(p), p.name))
    work = start_appendix(params_file, out_dir)
    log.info("%s: running %d chapters in one worker process", work["assessment"], len(to_run))
    seconds, _ = run_chapters(params_file, order, work=work, notebooks_dir=notebooks_dir,
                              count=len(to_run))
    return write_appendix(params_file, to_run, seconds, work=work, fingerprints=fingerprints,
                          commit=commit)


def _front_matter(chapter: Path) -> bool:
    from .build import FRONT_MATTER

    return chapter.name.startswith(FRONT_MATTER)


def start_appendix(params_file: Path, out_dir: Path) -> dict:
    """Where a build of `params_file` writes (``assessment``, ``out_dir``, ``failed_dir``,
    ``executed_dir``, ``record``), made ready: the resume record is deleted first, so an
    interrupted build is never taken for a finished one, and the markers of an earlier build
    of the same appendix (:func:`_mark`) are cleared."""
    from ..params import load_params
    from . import manifest

    params = load_params(params_file)
    out_dir = Path(out_dir).resolve()
    work = {"assessment": params.assessment, "out_dir": out_dir,
            "failed_dir": out_dir / params.assessment / "failed",
            "executed_dir": out_dir / params.assessment / "executed",
            "record": manifest.manifest_path(out_dir, params.assessment)}
    work["failed_dir"].mkdir(parents=True, exist_ok=True)
    work["record"].unlink(missing_ok=True)
    for marker in work["failed_dir"].glob(".*.mark"):
        marker.unlink(missing_ok=True)
    return work


def _mark(work: dict, name: str) -> bool:
    """Create the marker `name` of this build (in ``failed/``); False if it exists already.
    Creating a file is atomic, so two workers never both claim a chapter."""
    try:
        os.close(os.open(work["failed_dir"] / f".{name}.mark",
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _marked(work: dict, suffix: str) -> int:
    return sum(1 for _ in work["failed_dir"].glob(f".*{suffix}.mark"))


def run_chapters(params_file: Path, order: list[Path], *, work: dict, notebooks_dir: Path,
                 count: int | None = None, results: dict | None = None,
                 shared: list[Path] = (), lane: int | None = None
                 ) -> tuple[dict[str, float], dict]:
    """Execute `order`'s chapters, in order, in this process, into ``failed/`` (moved to
    ``executed/`` once the whole appendix has succeeded), sharing one assessment between
    them; then each of the `shared` chapters no other worker of the build has claimed yet
    (stopping once a chapter of the build has failed). `results`: topic results another worker
    computed for this appendix (see :func:`.sharing.shared_assessments`). Returns each
    chapter's seconds and the topic results computed here; a failing chapter raises
    :class:`~.build.AppendixError`. A line is logged a chapter, ``(k of n chapters)`` when
    `count` (the appendix's chapters) is given, k counting every worker's. In a build's `lane`,
    a failure is logged at once (the error is raised once both workers have stopped)."""
    import papermill as pm

    from . import engine
    from .build import AppendixError
    from .sharing import shared_assessments

    def claimed():
        for chapter in shared:
            if _marked(work, "failed"):
                return
            if _mark(work, f"{chapter.stem}.claimed"):
                yield chapter

    seconds: dict[str, float] = {}
    with shared_assessments(results) as computed:
        for chapter in itertools.chain(order, claimed()):
            start = time.perf_counter()
            target = work["failed_dir"] / chapter.name
            try:
                engine.execute(chapter, target, parameters={"params_file": str(params_file)},
                               cwd=notebooks_dir)
            except pm.PapermillExecutionError as exc:
                _mark(work, f"{chapter.stem}.failed")
                if lane is not None:
                    log.warning("%s: chapter %s failed (%s: %s); waiting for the other worker's "
                                "chapter", work["assessment"], chapter.stem, exc.ename,
                                exc.evalue)
                raise AppendixError(
                    f"chapter {chapter.stem} failed: {exc.ename}: {exc.evalue}\n"
                    f"The executed notebook with the error is kept at {target}; the previous "
                    "appendix (if any) was left untouched.") from None
            seconds[chapter.stem] = time.perf_counter() - start
            _mark(work, f"{chapter.stem}.done")
            done = f" ({_marked(work, 'done')} of {count} chapters)" if count else ""
            log.info("%s: %s done in %.1f s%s", work["assessment"], chapter.stem,
                     seconds[chapter.stem], done)
    return seconds, computed


def write_appendix(params_file: Path, to_run: list[Path], seconds: dict[str, float], *,
                   work: dict, fingerprints: dict | None = None, commit: str | None = None,
                   prov=None):
    """Once every chapter has run: move the notebooks to ``executed/``, join them into the
    HTML, write the tables and workbook, then the manifest (when `fingerprints` are given).
    `prov`: the appendix's :func:`provenance` when already collected."""
    import nbformat

    from ..atomic import write_text_atomic
    from ..params import load_params
    from . import export, manifest
    from .build import AppendixResult, render_document

    params = load_params(params_file)
    out_dir, failed_dir, executed_dir = work["out_dir"], work["failed_dir"], work["executed_dir"]
    seconds = {p.stem: seconds[p.stem] for p in to_run}
    shutil.rmtree(executed_dir, ignore_errors=True)
    executed_dir.mkdir(parents=True)
    executed = []
    for chapter in to_run:
        dest = executed_dir / chapter.name
        os.replace(failed_dir / chapter.name, dest)
        executed.append(dest)
    shutil.rmtree(failed_dir, ignore_errors=True)

    if prov is None:
        prov = provenance(params, commit)
    document = render_document(params, [(p.name, nbformat.read(p, as_version=4))
                                         for p in executed], prov)
    # tables first, so an HTML that links to them never appears without them
    tables, workbook = export.write(document.tables, document.workbook, out_dir=out_dir,
                                    assessment=params.assessment)
    html_path = out_dir / f"{params.assessment}.html"
    write_text_atomic(html_path, document.html)
    if fingerprints is not None:
        manifest.write(work["record"], fingerprints, assessment=params.assessment,
                       params_file=params_file,
                       outputs={"html": html_path, "tables": tables, "workbook": workbook})
    return AppendixResult(html_path, executed, seconds, tables, workbook)


def provenance(params, commit: str | None = None):
    """The appendix's provenance (:func:`.provenance.collect`): its inputs as the store
    registered them, the code, the run."""
    from .. import store
    from . import provenance as record
    from .build import PROJECT_DIR
    from .context import Assessment

    con = store.connect(params.data.store, read_only=True)
    try:
        sa = Assessment(params, con)
        inputs = record.scoped_inputs(con, params, list(dict.fromkeys(
            (*sa.forces, *sa.comparison_forces))))
    finally:
        con.close()
    return record.collect(params, inputs, project_dir=PROJECT_DIR, commit=commit)


def finish_appendix(params_file: Path, to_run: list[Path], last: list[Path],
                    seconds: dict[str, float], *, work: dict, notebooks_dir: Path,
                    results: dict, fingerprints: dict | None = None,
                    commit: str | None = None, prov=None):
    """The last chapters (the key findings), given the topic results the other chapters
    computed in two workers, then the appendix written (:func:`write_appendix`)."""
    ran, _ = run_chapters(params_file, last, work=work, notebooks_dir=notebooks_dir,
                          count=len(to_run), results=results)
    return write_appendix(params_file, to_run, {**seconds, **ran}, work=work,
                          fingerprints=fingerprints, commit=commit, prov=prov)


def run_appendix_in_two(params_file: Path, *, out_dir: Path, notebooks_dir: Path,
                        fingerprints: dict | None = None, commit: str | None = None):
    """:func:`run_appendix` with the chapters in two worker processes at once (called by
    the caller, not in a worker): :data:`~.build.FIRST_WORKER` chapters in the first,
    :data:`~.build.SECOND_WORKER` in the second, then each claims the next chapter left (in
    the order of :data:`~.build.LONGEST_FIRST`, then by name) as it becomes free; the key
    findings (00_*) run last in the first, given every topic result both computed, and the
    appendix is written there. The same HTML as one worker gives."""
    from ..params import load_params
    from .build import FIRST_WORKER, LONGEST_FIRST, SECOND_WORKER, chapters

    params_file = Path(params_file).resolve()
    notebooks_dir = Path(notebooks_dir).resolve()
    to_run = chapters(notebooks_dir)
    last = [p for p in to_run if _front_matter(p)]
    pinned = [[p for p in to_run if p.stem in names] for names in (FIRST_WORKER, SECOND_WORKER)]
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    left = sorted((p for p in to_run if p not in last and not any(p in c for c in pinned)),
                  key=lambda p: (rank.get(p.stem, len(rank)), p.name))
    # the same two processes for the whole appendix (a source edited meanwhile starts new ones
    # for the next build, not halfway through this one)
    executors = [pool(0), pool(1)]
    work = start_appendix(params_file, out_dir)
    log.info("%s: running %d chapters in two worker processes", work["assessment"],
             len(to_run))
    lanes = [_submit(executors[lane], run_chapters, params_file, pinned[lane], work=work,
                     notebooks_dir=notebooks_dir, count=len(to_run), shared=left, lane=lane)
             for lane in (0, 1)]
    try:  # meanwhile, here: what the appendix was built from (its last pages)
        prov = provenance(load_params(params_file), commit)
    except Exception:
        for future in lanes:  # no worker is left writing into failed/ behind an error
            _outcome(future)
        raise
    outcomes = [_outcome(future) for future in lanes]  # both finish before any error is raised
    for ok, value in outcomes:
        if not ok:
            raise value
    seconds, results = {}, {}
    for (_, (ran, computed)) in outcomes:
        seconds.update(ran)
        for key, topics in computed.items():
            results.setdefault(key, {}).update(topics)
    return _result_of(_submit(executors[0], finish_appendix, params_file, to_run, last,
                              seconds, work=work, notebooks_dir=notebooks_dir,
                              results=results, fingerprints=fingerprints, commit=commit,
                              prov=prov))


def _outcome(future: Future) -> tuple[bool, object]:
    try:
        return True, _result_of(future)
    except Exception as exc:  # noqa: BLE001 - raised by the caller once both lanes are done
        return False, exc


def _result_of(future: Future):
    try:
        return future.result()
    except BrokenProcessPool:
        with _lock:
            shutdown()
        raise RuntimeError("the build's worker process stopped unexpectedly (out of memory, or "
                           "killed); run the build again") from None


def build_task(params_file: Path, out_dir: Path, notebooks_dir: Path,
               fingerprints: dict | None, commit: str | None) -> tuple[bool, object]:
    """One appendix of a batch, in a worker: ``(True, result)`` or ``(False, reason)``. It
    never raises, so a failing appendix is one line in the batch's table, not a worker's
    traceback in the log."""
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
        return True, run_appendix(params_file, out_dir=out_dir, notebooks_dir=notebooks_dir,
                                  fingerprints=fingerprints, commit=commit)
    except Exception as exc:  # noqa: BLE001 - reported in the batch's outcome
        return False, _reason(exc)
    finally:
        log.setLevel(quiet)


_warm = False  # warm_up has run in this process


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
    time. A local cluster is started without it (:func:`.batch._client`); the workers of a
    running scheduler are stopped here, as they may have been started with the default.
    """
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


def pool(lane: int = 0) -> ProcessPoolExecutor:
    """The reused worker process of `lane` (0: every build; 1: the second of a build in two
    workers), started on first use; new ones when the package's source changed since they
    were started (they would run the old code)."""
    global _pool_source, _queue, _listener
    from .manifest import source_digest

    source = source_digest()
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


def submit(function, *args, lane: int = 0, **kwargs) -> Future:
    """`function(*args, **kwargs)` in the reused worker process of `lane`, with this
    process's environment variables (they may have changed since the worker started). A
    worker that died since its last task (killed, out of memory) is replaced."""
    try:
        return _submit(pool(lane), function, *args, **kwargs)
    except BrokenProcessPool:
        with _lock:
            _pools.pop(lane).shutdown(wait=False, cancel_futures=True)
        return _submit(pool(lane), function, *args, **kwargs)


def _submit(executor: ProcessPoolExecutor, function, *args, **kwargs) -> Future:
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
    return _result_of(submit(function, *args, **kwargs))
