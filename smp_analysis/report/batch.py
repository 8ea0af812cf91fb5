"""Many appendices in one run: a county's districts, several years, every partnership.

:func:`build_batch` (called as :func:`smp_analysis.report.build.build_appendices`):

1. validates every params file (a bad one is reported, the others go on; two files writing the
   same ``assessment`` are refused);
2. brings each distinct store up to date once per distinct set of inputs (DuckDB allows one
   writer; 13 districts reading the same county files hash them once, not 13 times);
3. fingerprints each store once and skips every appendix whose manifest says it was built from
   the same params, inputs and code (:mod:`.manifest`; ``force=True`` rebuilds);
4. builds the others in worker processes that keep the library imported and one IPython shell
   from one appendix to the next (:mod:`.worker`): `workers` reused local worker processes,
   each taking the next appendix as it finishes one, or helping a running one with its
   chapters once none is left to start (no scheduler: on two cores a dask
   LocalCluster's scheduler, nannies and event loops took about a fifth of the time), or the
   workers of a running dask scheduler (`scheduler`, e.g. ``tcp://10.0.0.5:8786``; its
   workers must see the same paths: a shared filesystem). Every worker reads the stores
   read-only, so any number can share one.

One failing appendix never stops the others; each is one line in the outcome table (the
worker returns the reason instead of raising, so no worker traceback reaches the log). A
batch shows one progress bar, whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..params import AssessmentParams, load_params
from ..pipeline import prepare_store
from . import manifest, provenance, worker
from .build import (
    PROJECT_DIR,
    AppendixError,
    AppendixOutcome,
    AppendixResult,
    _reason,
    chapters,
)


def build_batch(params_files: list[str | Path], *, out_dir: str | Path, notebooks_dir: Path,
                workers: int = 2, progress: bool = False, scheduler: str | None = None,
                force: bool = False, prepare: bool = True) -> list[AppendixOutcome]:
    files = [Path(p).resolve() for p in params_files]
    out_dir = Path(out_dir).resolve()  # workers' current directory may differ
    notebooks_dir = Path(notebooks_dir).resolve()
    outcomes: dict[int, AppendixOutcome] = {}
    if scheduler is None and files:  # the local workers import the library meanwhile
        for lane in range(max(1, min(workers, len(files)))):
            worker.submit(worker.warm_up, lane=lane)
    valid = _validate(files, outcomes)
    with contextlib.ExitStack() as stack:
        # connect first: an unreachable scheduler is one message before any work is done
        client = stack.enter_context(_client(scheduler)) if scheduler else None
        if prepare:
            _prepare(files, valid, outcomes, progress)
        try:
            to_run = chapters(notebooks_dir)
        except AppendixError as exc:
            for i, params in valid.items():
                outcomes[i] = AppendixOutcome(files[i], params.assessment, error=str(exc))
            return [outcomes[i] for i in range(len(files))]
        code = manifest.code_version(to_run)
        digests = {store: manifest.inputs_digest(store)
                   for store in {str(p.data.store) for p in valid.values()}}
        todo: dict[int, dict] = {}
        for i, params in valid.items():
            fingerprints = manifest.stamp(files[i], digests[str(params.data.store)], code)
            record = manifest.manifest_path(out_dir, params.assessment)
            if not force and manifest.is_current(record, fingerprints):
                outcomes[i] = AppendixOutcome(files[i], params.assessment,
                                              _previous_result(out_dir, params), skipped=True)
            else:
                todo[i] = fingerprints
        if todo:
            commit = provenance.git_commit(PROJECT_DIR)  # once, not once an appendix
            tasks = {i: (files[i], out_dir, notebooks_dir, todo[i], commit) for i in todo}
            results = (_run_dask(client, tasks, progress) if client is not None else
                       _run_lanes(tasks, workers, progress))
            for i, (ok, value) in results:
                params = valid[i]
                outcomes[i] = AppendixOutcome(files[i], params.assessment,
                                              **({"result": value} if ok else {"error": value}))
    return [outcomes[i] for i in range(len(files))]


def _validate(files: list[Path], outcomes: dict) -> dict[int, AssessmentParams]:
    valid: dict[int, AssessmentParams] = {}
    outputs: dict[str, Path] = {}
    for i, path in enumerate(files):
        try:
            params = load_params(path)
        except (InputError, OSError, ValueError) as exc:
            outcomes[i] = AppendixOutcome(path, error=f"invalid parameters: {_reason(exc)}")
            continue
        if params.assessment in outputs:
            outcomes[i] = AppendixOutcome(path, params.assessment, error=(
                f"{outputs[params.assessment].name} in this run also writes "
                f"{params.assessment}.html; give each params file its own 'assessment' id"))
            continue
        outputs[params.assessment] = path
        valid[i] = params
    return valid


def _prepare(files: list[Path], valid: dict, outcomes: dict, progress: bool) -> None:
    """Bring each store up to date once for each distinct `data` section naming it."""
    groups: dict[str, list[int]] = {}
    for i, params in valid.items():
        groups.setdefault(params.data.model_dump_json(), []).append(i)
    for members in groups.values():
        try:
            prepare_store(valid[members[0]], progress=progress)
        except Exception as exc:  # noqa: BLE001 - one store's inputs never stop the others
            for i in members:
                outcomes[i] = AppendixOutcome(files[i], valid[i].assessment,
                                              error=f"inputs could not be loaded: {_reason(exc)}")
                del valid[i]


def _previous_result(out_dir: Path, params: AssessmentParams) -> AppendixResult:
    """The outputs an up-to-date appendix already has (what its build returned)."""
    found = manifest.outputs(manifest.manifest_path(out_dir, params.assessment))
    executed = out_dir / params.assessment / "executed"
    return AppendixResult(found["html"], sorted(executed.glob("*.ipynb")), {},
                          found.get("tables"), found.get("workbook"))


def _bar(total: int, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="appendices", unit="appendix", disable=not progress)


@dataclass
class _Build:
    """An appendix of a local batch under way: its lane, where it writes, and the outcome of
    each step so far."""

    args: tuple  # params file, out dir, notebooks dir, fingerprints, commit
    lane: int
    work: dict
    own: tuple | None = None  # (ok, value) of its own worker's chapters
    helper: int | None = None  # the lane helping it
    helped: tuple | None = None  # (ok, value) of the helper


def _run_lanes(tasks: dict, workers: int, progress: bool):
    """The appendices in `workers` reused local worker processes (:func:`.worker.pool` lanes
    0, 1, ...), each building one at a time and taking the next as it finishes; once none is
    left to start, a free worker helps one still running, taking its chapters from the other
    end (:func:`.runs.batch_chapters`, :func:`.runs.batch_helper`), so the last appendices do
    not leave a core idle. The lanes are started (or renewed, when the package changed) once,
    and keep their code to the end of the batch. A worker that dies (killed, out of memory)
    fails its appendix, and the next step sent to its lane starts a new process. Lanes beyond
    the two every build uses are stopped afterwards."""
    from concurrent.futures import FIRST_COMPLETED, wait

    waiting = list(tasks.items())[::-1]  # the next is last
    free = list(range(max(1, min(workers, len(tasks)))))
    for lane in free:
        worker.pool(lane)
    builds: dict[int, _Build] = {}
    running: dict = {}  # future -> (appendix, step, lane)

    def send(i: int, step: str, lane: int, function, *args, **kwargs) -> None:
        fingerprints = builds[i].args[3]
        running[worker.submit(worker.batch_step, fingerprints, function, *args, lane=lane,
                              pinned=True, **kwargs)] = (i, step, lane)

    try:
        with _bar(len(tasks), progress) as bar:
            while waiting or running:
                while free:
                    started = _start_next(waiting, builds, free[0], send) if waiting else \
                        _help_one(builds, free[0], send)
                    if started is None:
                        break
                    free.pop(0)
                    if started is not True:  # it could not start: its outcome
                        free.insert(0, started[1])
                        bar.update(1)
                        yield started[0], started[2]
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: running[f][2]):
                    i, step, lane = running.pop(future)
                    outcome, freed = _step_done(builds, i, step, lane, _result(future), send)
                    free.extend(freed)
                    if outcome is not None:
                        del builds[i]
                        bar.update(1)
                        yield i, outcome
                free.sort()
    finally:
        for lane in range(2, workers):
            worker.release(lane)


def _start_next(waiting: list, builds: dict, lane: int, send):
    """Start the next appendix on `lane`: True, or ``(i, lane, (False, reason))`` when it
    could not be started."""
    from . import runs

    i, args = waiting.pop()
    params_file, out_dir, notebooks_dir, fingerprints, commit = args
    try:
        builds[i] = _Build(args, lane, runs.start_appendix(params_file, out_dir))
        send(i, "own", lane, runs.batch_chapters, params_file, work=builds[i].work,
             notebooks_dir=notebooks_dir, fingerprints=fingerprints, commit=commit)
    except Exception as exc:  # noqa: BLE001 - no process or no folder for it: its outcome
        builds.pop(i, None)
        return i, lane, (False, f"it could not be started: {_reason(exc)}")
    return True


def _help_one(builds: dict, lane: int, send):
    """Send `lane` to help an appendix whose own worker still has chapters to claim: True,
    or None when none has."""
    from . import runs

    for i, build in builds.items():
        total = len(runs.batch_order(chapters(build.args[2]), helper=True))
        if build.own is None and build.helper is None and \
                runs._marked(build.work, "claimed") < total:
            try:
                send(i, "helper", lane, runs.batch_helper, build.args[0], work=build.work,
                     notebooks_dir=build.args[2])
            except Exception:  # noqa: BLE001 - no process: the appendix goes on without help
                return None
            build.helper = lane
            return True
    return None


def _step_done(builds: dict, i: int, step: str, lane: int, result: tuple, send):
    """Record a finished step of appendix `i`; send its last step when it is due. Returns
    the appendix's outcome once it has one (else None) and the lanes now free."""
    from . import runs

    build = builds[i]
    if step == "helper":
        build.helped = result
        freed = [lane]
    elif step == "own":
        build.own = result
        freed = []  # its lane keeps the appendix's results for the last step
    else:  # "finish"
        return result, [lane]
    if build.own is None or (build.helper is not None and build.helped is None):
        return None, freed  # the other worker is still running chapters
    ok, value = build.own
    if not ok:
        return build.own, freed + [build.lane]
    kind, value = value
    if kind == "built":
        return (True, value), freed + [build.lane]
    helped, by_helper = build.helped or (False, "no other worker ran its chapters")
    seconds, results = by_helper if helped else ({}, {})
    params_file, _, notebooks_dir, fingerprints, commit = build.args
    try:
        send(i, "finish", build.lane, runs.batch_finish, params_file, work=build.work,
             notebooks_dir=notebooks_dir, seconds={**value, **seconds}, helped=results,
             fingerprints=fingerprints, commit=commit, error=None if helped else by_helper)
    except Exception as exc:  # noqa: BLE001 - no process for its last step: its outcome
        return (False, f"its last step could not be started: {_reason(exc)}"), \
            freed + [build.lane]
    return None, freed


def _run_dask(client, tasks: dict, progress: bool):
    from dask.distributed import as_completed

    futures = {client.submit(worker.build_task, *args, pure=False,
                             key=f"smp-appendix-{args[0].stem}-{i}"): i
               for i, args in tasks.items()}
    with _bar(len(futures), progress) as bar:
        for future in as_completed(futures):
            bar.update(1)
            yield futures[future], _result(future)


def _result(future) -> tuple[bool, object]:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a worker lost (killed, out of memory)
        return False, f"the worker building it stopped: {_reason(exc)}"


QUIET = ("distributed", "tornado", "asyncio", "bokeh")


@contextlib.contextmanager
def _client(scheduler: str):
    """A dask client of the running scheduler at `scheduler`. Distributed's own log lines (a
    worker's task error, an unresponsive event loop on a loaded machine) are kept off the
    terminal: a failed appendix is reported once, in the outcome table."""
    from dask.distributed import Client

    levels = {name: logging.getLogger(name).level for name in QUIET}
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(f"cannot reach the dask scheduler at {scheduler} ({exc}); "
                               "start it (`dask scheduler`) and its workers (`dask worker "
                               f"{scheduler}`), or leave out --scheduler") from None
        with client:
            yield client
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
