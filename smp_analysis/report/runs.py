"""Running an appendix's chapters, in one worker process or two, and writing the appendix.

:func:`run_appendix` runs every chapter of one appendix, in a worker (:mod:`.worker`), through
papermill with the in-process engine (:mod:`.engine`), inside
:func:`.sharing.shared_assessments`, so topic results computed by one chapter are reused by
the others and by the key findings (which therefore run last; the appendix keeps the
notebooks' order). It then joins the chapters into the HTML appendix, its tables and
workbook, and writes the resume manifest (:mod:`.manifest`) last.

:func:`run_appendix_in_two` (a single build on two or more cores; called by the caller) runs
the chapters in two such workers at once: each starts with its own chapters, then claims
whichever chapter is left as it becomes free (a marker file a chapter); each returns the
topic results it computed, and the key findings run last in the first worker, handed both
workers' results, where the appendix is written. The caller collects the provenance
meanwhile.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import time
from concurrent.futures import Future
from pathlib import Path

from .worker import pool, result_of, submit_to

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
                 shared: list[Path] = (), lane: int | None = None, then: list[Path] = ()
                 ) -> tuple[dict[str, float], dict]:
    """Execute `order`'s chapters, in order, in this process, into ``failed/`` (moved to
    ``executed/`` once the whole appendix has succeeded), sharing one assessment between
    them; then each of the `shared` chapters no other worker of the build has claimed yet
    (stopping once a chapter of the build has failed); then the `then` chapters, if this
    process ran every `shared` chapter itself (no other worker has results to hand them).
    `results`: topic results another worker computed for this appendix (see
    :func:`.sharing.shared_assessments`). Returns each chapter's seconds and the topic results
    computed here; a failing chapter raises :class:`~.build.AppendixError`. A line is logged a
    chapter, ``(k of n chapters)`` when `count` (the appendix's chapters) is given, k counting
    every worker's. In a build's `lane`, a failure is logged at once (the error is raised once
    both workers have stopped)."""
    import papermill as pm

    from . import engine
    from .build import AppendixError
    from .sharing import shared_assessments

    mine = []

    def claimed():
        for chapter in shared:
            if _marked(work, "failed"):
                return
            if _mark(work, f"{chapter.stem}.claimed"):
                mine.append(chapter)
                yield chapter

    def finally_():  # evaluated once every shared chapter has been claimed
        yield from (then if len(mine) == len(shared) else ())

    seconds: dict[str, float] = {}
    with shared_assessments(results) as computed:
        for chapter in itertools.chain(order, claimed(), finally_()):
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


# ------------------------------------------------------------------ an appendix of a batch
_OWN_RESULTS: dict[str, dict] = {}  # assessment -> this worker's topic results, between steps


def batch_order(to_run: list[Path], *, helper: bool) -> list[Path]:
    """The chapters (not the key findings) in the order a worker of a local batch takes
    them: the appendix's own worker by name, as :func:`run_appendix` runs them; a worker
    helping it from the other end, first the chapters no other needs (as the second worker of
    a single build), the priorities and the chapters showing their results last.

    >>> names = ["00_summary", "01_priorities", "02_overview", "03_rates", "05_expected_volumes",
    ...          "06_domestic_abuse", "07_recording_practice", "09_places", "10_patterns"]
    >>> [p.stem for p in batch_order([Path(f"{n}.ipynb") for n in names], helper=True)]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['09_places', '05_expected_volumes', '10_patterns', '03_rates', '02_overview',
     '07_recording_practice', '06_domestic_abuse', '01_priorities']
    """
    from .build import FIRST_WORKER, LONGEST_FIRST, SECOND_WORKER

    body = [p for p in to_run if not _front_matter(p)]
    if not helper:
        return body
    rank = {name: i for i, name in enumerate((*SECOND_WORKER, *LONGEST_FIRST))}
    return sorted(body[::-1], key=lambda p: (p.stem in FIRST_WORKER,
                                             rank.get(p.stem, len(rank))))


def batch_chapters(params_file: Path, *, work: dict, notebooks_dir: Path,
                   fingerprints: dict | None = None, commit: str | None = None
                   ) -> tuple[str, object]:
    """An appendix of a local batch, in its own worker (:func:`start_appendix` has run): every
    chapter not claimed yet, in order, while a worker with no appendix left to start may help
    from the other end (:func:`batch_helper`). When this worker ran every chapter itself, the
    key findings follow in the same assessment and the appendix is written, as
    :func:`run_appendix` does: ``("built", result)``. Otherwise its topic results are kept
    here for :func:`batch_finish`: ``("helped", seconds)``."""
    from .build import chapters

    to_run = chapters(notebooks_dir)
    seconds, computed = run_chapters(params_file, [], work=work, notebooks_dir=notebooks_dir,
                                     shared=batch_order(to_run, helper=False),
                                     then=[p for p in to_run if _front_matter(p)])
    if all(p.stem in seconds for p in to_run):
        return "built", write_appendix(params_file, to_run, seconds, work=work,
                                       fingerprints=fingerprints, commit=commit)
    _OWN_RESULTS[work["assessment"]] = computed
    return "helped", seconds


def batch_helper(params_file: Path, *, work: dict, notebooks_dir: Path
                 ) -> tuple[dict[str, float], dict]:
    """Help an appendix of a local batch whose own worker is still running its chapters:
    each chapter neither has claimed, from the other end (:func:`batch_order`). Returns their
    seconds and the topic results computed here, for :func:`batch_finish`."""
    from .build import chapters

    return run_chapters(params_file, [], work=work, notebooks_dir=notebooks_dir,
                        shared=batch_order(chapters(notebooks_dir), helper=True))


def batch_finish(params_file: Path, *, work: dict, notebooks_dir: Path,
                 seconds: dict[str, float], helped: dict, fingerprints: dict | None = None,
                 commit: str | None = None, error: str | None = None):
    """The end of a helped appendix of a batch, in its own worker: the key findings, handed
    the topic results of both workers, and the appendix written (:func:`finish_appendix`).
    `error`: why the helper failed; the results kept here are dropped and it is raised."""
    from .build import AppendixError, chapters

    own = _OWN_RESULTS.pop(work["assessment"], {})
    if error is not None:
        raise AppendixError(error)
    results = {key: dict(topics) for key, topics in own.items()}
    for key, topics in helped.items():
        results.setdefault(key, {}).update(topics)
    to_run = chapters(notebooks_dir)
    return finish_appendix(params_file, to_run, [p for p in to_run if _front_matter(p)],
                           seconds, work=work, notebooks_dir=notebooks_dir, results=results,
                           fingerprints=fingerprints, commit=commit)


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
    lanes = [submit_to(executors[lane], run_chapters, params_file, pinned[lane], work=work,
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
    return result_of(submit_to(executors[0], finish_appendix, params_file, to_run, last,
                               seconds, work=work, notebooks_dir=notebooks_dir,
                               results=results, fingerprints=fingerprints, commit=commit,
                               prov=prov))


def _outcome(future: Future) -> tuple[bool, object]:
    try:
        return True, result_of(future)
    except Exception as exc:  # noqa: BLE001 - raised by the caller once both lanes are done
        return False, exc
