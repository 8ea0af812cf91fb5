"""Batches at scale: resume (skip what is up to date), --all-districts, a running dask
scheduler, one line for a failed appendix, and byte-identical HTML whichever way it is built."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import nbformat
import pytest
import yaml
from test_batch import _params

from smp_analysis.cli import main
from smp_analysis.report import build, worker
from smp_analysis.report.build import build_appendices
from smp_analysis.report.worker import DASK_PROFILER
from smp_analysis.store import memo

pytestmark = pytest.mark.slow
RUN_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def _built(outcomes) -> list[str]:
    return ["FAILED" if not o.ok else "unchanged" if o.skipped else "built" for o in outcomes]


def test_a_batch_skips_what_is_up_to_date_and_rebuilds_what_changed(demo_dir, one_chapter,
                                                                    tmp_path):
    early = _params(demo_dir, tmp_path, "early", ["2014-01", "2014-02", "2014-03"])
    late = _params(demo_dir, tmp_path, "late", ["2014-04", "2014-05", "2014-06"])
    out = tmp_path / "out"

    def batch(**options):
        return build_appendices([early, late], out_dir=out, notebooks_dir=one_chapter,
                                workers=1, **options)

    assert _built(batch()) == ["built", "built"]
    html = out / "early.html"
    first = html.read_bytes()
    built_at = html.stat().st_mtime_ns
    again = batch()
    assert _built(again) == ["unchanged", "unchanged"]
    assert html.stat().st_mtime_ns == built_at and again[0].html == html
    assert again[0].result.workbook.is_file() and again[0].executed
    os.utime(early)  # touched, same bytes: still up to date
    assert _built(batch()) == ["unchanged", "unchanged"]
    # the params' content changed: that appendix alone is rebuilt
    early.write_text(early.read_text().replace("Test early", "Test early, revised"))
    assert _built(batch()) == ["built", "unchanged"]
    assert "Test early, revised" in html.read_text() and html.read_bytes() != first
    # --force rebuilds everything
    assert _built(batch(force=True)) == ["built", "built"]
    # an interrupted batch: the appendix whose build did not finish has no manifest
    (out / "late" / "manifest.json").unlink()
    assert _built(batch()) == ["unchanged", "built"]
    # an input file changed (a month added to the shared store): both are rebuilt
    month = tmp_path / "police-late" / "2014-07"
    month.parent.mkdir(exist_ok=True)
    import shutil

    shutil.copytree(demo_dir / "police_uk" / "2014-07", month)
    assert _built(batch()) == ["built", "built"]
    # the code changed (a chapter's cells): rebuilt
    chapter = one_chapter / "01_overview.ipynb"
    original = chapter.read_bytes()
    nb = nbformat.read(chapter, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("One more paragraph."))
    try:
        nbformat.write(nb, chapter)
        assert _built(batch()) == ["built", "built"]
    finally:
        chapter.write_bytes(original)


def test_all_districts_builds_one_appendix_per_district(demo_dir, one_chapter, tmp_path,
                                                        monkeypatch, capsys):
    from smp_analysis.demo import DISTRICTS

    base = _params(demo_dir, tmp_path, "2014q2", ["2014-04", "2014-05", "2014-06"],
                   title="Test partnership: 2014 quarter", partnership="Test partnership")
    real = build.build_appendices
    monkeypatch.setattr(build, "build_appendices", lambda files, **kw: real(
        files, notebooks_dir=one_chapter, **{**kw, "workers": 1}))
    out = tmp_path / "out"
    assert main(["appendix", "--params", str(base), "--all-districts", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(DISTRICTS)} built" in printed
    for district in DISTRICTS:
        ident = f"2014q2-{district.name.lower().replace(' ', '-')}"
        html = (out / f"{ident}.html").read_text()
        assert f"{district.name} Community Safety Partnership" in html or \
            district.code == "E07000110"
        written = yaml.safe_load((out / "districts" / "2014q2" / f"{ident}.yaml").read_text())
        assert written["focus_area"] == {"code": district.code, "name": district.name}
    maidstone = yaml.safe_load((out / "districts" / "2014q2" / "2014q2-maidstone.yaml")
                               .read_text())
    assert maidstone["partnership"] == "Test partnership"
    assert maidstone["title"] == "Test partnership: 2014 quarter"
    # run again: nothing changed, nothing rebuilt
    assert main(["appendix", "--params", str(base), "--all-districts", "--out", str(out)]) == 0
    assert f"{len(DISTRICTS)} built ({len(DISTRICTS)} unchanged" in capsys.readouterr().out
    # the worker remembered the store's answers from one district's appendix to the next
    # (smp_analysis.store.memo): the last two, built again with the memo off, are the same
    # pages, so no district was given another's answer
    last = sorted((out / "districts" / "2014q2").glob("*.yaml"))[-2:]
    worker.call(memo.enable, False)
    try:
        assert not worker.call(memo.enabled)  # the worker that builds them asks every time
        again = build_appendices(last, out_dir=tmp_path / "asked", notebooks_dir=one_chapter,
                                 workers=1, force=True)
    finally:
        worker.call(memo.enable)
    for outcome in again:
        assert outcome.ok, outcome.error
        assert RUN_TIME.sub("T", outcome.html.read_text()) == \
            RUN_TIME.sub("T", (out / outcome.html.name).read_text())


def test_a_failed_appendix_in_a_two_worker_batch_is_one_line(demo_dir, one_chapter, tmp_path,
                                                             capfd):
    good = _params(demo_dir, tmp_path, "late", ["2014-04", "2014-05", "2014-06"])
    bad = _params(demo_dir, tmp_path, "bad", [], focus_area={"code": "E07999999",
                                                             "name": "Nowhere"})
    with pytest.MonkeyPatch.context() as patch:
        real = build.build_appendices
        patch.setattr(build, "build_appendices", lambda files, **kw: real(
            files, notebooks_dir=one_chapter, **kw))
        code = main(["appendix", "--params", str(bad), str(good), "--workers", "2",
                     "--out", str(tmp_path / "out")])
    out, err = capfd.readouterr()
    assert code == 1
    assert "Traceback" not in err and "distributed" not in err
    problem = [line for line in err.splitlines() if line.startswith("smp: ")]
    assert len(problem) == 1 and "E07999999" in problem[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_batch_on_a_running_dask_scheduler(demo_dir, one_chapter, tmp_path, capfd):
    """A scheduler and two workers started as separate processes, as on a cluster."""
    from dask.distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = tmp_path / "dask.log"
    started = []
    with logs.open("w") as log:
        def start(*command: str) -> None:
            started.append(subprocess.Popen([sys.executable, "-m", *command], cwd=tmp_path,
                                            stdout=log, stderr=log))
        try:
            start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                  address.rsplit(":", 1)[1], "--no-dashboard")
            for _ in range(2):
                start("distributed.cli.dask_worker", address, "--nthreads", "1",
                      "--no-dashboard", "--host", "127.0.0.1", "--no-nanny")
            deadline = time.monotonic() + 120
            while True:
                try:
                    with Client(address, timeout="5s") as client:
                        client.wait_for_workers(2, timeout=120)
                        profiled = client.run(_profiler_check())
                        break
                except (OSError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            files = [_params(demo_dir, tmp_path, name, months) for name, months in
                     (("early", ["2014-01", "2014-02"]), ("late", ["2014-04", "2014-05"]))]
            outcomes = build_appendices(files, out_dir=tmp_path / "out",
                                        notebooks_dir=one_chapter, scheduler=address)
            assert _built(outcomes) == ["built", "built"], [o.error for o in outcomes]
            assert "April 2014 to June 2014" in outcomes[1].html.read_text()
            with Client(address, timeout="10s") as client:
                ran = client.run(lambda: "smp_analysis.report.engine" in sys.modules)
                profiling = client.run(_profiler_check())
            assert len(ran) == 2 and any(ran.values())  # the workers ran the chapters
            # workers started with dask's default profiler have it stopped by their first build
            assert all(profiled.values()) and not any(profiling[w] for w, built in ran.items() if built), profiling
            assert not _engine_shell_here()  # nothing ran in this process
            # a chapter failing in a dask worker: one line, no worker's traceback
            failing = tmp_path / "failing"
            failing.mkdir()
            nb = nbformat.read(one_chapter / "01_overview.ipynb", as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('no such thing')"))
            nbformat.write(nb, failing / "01_overview.ipynb")
            capfd.readouterr()
            with pytest.MonkeyPatch.context() as patch:
                real = build.build_appendices
                patch.setattr(build, "build_appendices", lambda files, **kw: real(
                    files, notebooks_dir=failing, **kw))
                code = main(["appendix", "--params", str(files[0]), "--scheduler", address,
                             "--out", str(tmp_path / "failed")])
            err = capfd.readouterr().err
            assert code == 1 and "Traceback" not in err and "distributed" not in err, err
            problem = [line for line in err.splitlines() if line.startswith("smp: ")]
            assert len(problem) == 1 and "no such thing" in problem[0], err
        finally:
            for process in started:
                process.terminate()
            for process in started:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _profiler_check():
    """A function for `client.run` telling whether a worker's profiler runs (nested, so it is
    sent by value: a separate worker process cannot import this test module)."""
    names = DASK_PROFILER

    def running(dask_worker) -> bool:
        return any(dask_worker.periodic_callbacks[name].is_running() for name in names
                   if name in dask_worker.periodic_callbacks)
    return running


def test_a_local_batch_runs_in_reused_worker_processes_and_survives_one_dying(
        demo_dir, one_chapter, tmp_path):
    """`workers` local processes (no dask scheduler), each building one appendix at a time;
    one killed between batches fails no more than its own appendix, and the next batch
    builds everything."""
    import signal
    from concurrent.futures import BrokenExecutor

    files = [_params(demo_dir, tmp_path, name, months) for name, months in
             (("a", ["2014-01"]), ("b", ["2014-02"]), ("c", ["2014-03"]))]
    first = build_appendices(files, out_dir=tmp_path / "out", notebooks_dir=one_chapter,
                             workers=2)
    assert _built(first) == ["built"] * 3, [o.error for o in first]
    assert {0, 1} <= set(worker._pools)  # both lanes built
    pid = worker.submit(os.getpid, lane=1).result()
    assert pid != worker.submit(os.getpid, lane=0).result() != os.getpid()
    os.kill(pid, signal.SIGKILL)
    try:
        second = build_appendices(files, out_dir=tmp_path / "again",
                                  notebooks_dir=one_chapter, workers=2, force=True)
    except BrokenExecutor as exc:  # pragma: no cover - the failure this test is for
        pytest.fail(f"a dead worker stopped the batch: {exc}")
    assert _built(second).count("built") >= 2
    assert all("stopped" in o.error for o in second if not o.ok), [o.error for o in second]
    third = build_appendices(files, out_dir=tmp_path / "again", notebooks_dir=one_chapter,
                             workers=2)
    assert "FAILED" not in _built(third)
    assert worker.submit(os.getpid, lane=1).result() != pid  # a new process


def _slow_chapters(folder, seconds: float, failing: str = ""):
    """Chapters 00_summary (the key findings: run last) and 01-04, each waiting `seconds`
    and leaving ``<params>.<chapter>.pid`` beside its params file, the process it ran in;
    chapter 03 raises for the params file named `failing`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("00_summary", "01_first", "02_second", "03_third", "04_fourth"):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell('params_file = "x"')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(
            "import os, time\n"
            f"time.sleep({seconds if name != '00_summary' else 0})\n"
            # no output: the pid's length must not reach the page
            f"_ = open(params_file + '.{name}.pid', 'w').write(str(os.getpid()))\n"
            + (f"assert not ({name == '03_third'} and params_file.endswith('/{failing}.yaml')),"
               " 'chapter three fails here'" if failing else "")),
            nbformat.v4.new_markdown_cell(f"# {name}")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _pids(params_file) -> dict[str, int]:
    return {p.name.split(".")[-2]: int(p.read_text())
            for p in params_file.parent.glob(f"{params_file.name}.*.pid")}


def test_a_free_worker_helps_the_last_appendix_of_a_batch(demo_dir, tmp_path):
    """Two workers, three appendices: the worker left without an appendix to start takes
    the last one's chapters from the other end, the key findings run in the appendix's own
    worker, and the HTML is the one a single worker builds. A chapter failing in either
    worker fails that appendix alone, as one line."""
    files = [_params(demo_dir, tmp_path, "a", ["2014-04"])]
    for name in ("b", "c"):  # the same data
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(files[0].read_text().replace("assessment: a", f"assessment: {name}"))
    chapters = _slow_chapters(tmp_path / "chapters", 1.0)
    outcomes = build_appendices(files, out_dir=tmp_path / "out", notebooks_dir=chapters,
                                workers=2)
    assert _built(outcomes) == ["built"] * 3, [o.error for o in outcomes]
    last = _pids(files[2])
    assert len(set(last.values())) == 2, last  # two processes ran its chapters
    assert last["00_summary"] == last["01_first"]  # the key findings in its own worker
    assert last["04_fourth"] != last["01_first"]  # the helper started from the other end
    assert len(set(_pids(files[0]).values())) == 1  # the first had a worker to itself
    (alone,) = build_appendices([files[2]], out_dir=tmp_path / "alone", notebooks_dir=chapters,
                                workers=1)
    assert alone.ok and len(set(_pids(files[2]).values())) == 1
    assert RUN_TIME.sub("T", alone.html.read_text()) == \
        RUN_TIME.sub("T", outcomes[2].html.read_text())

    failing = _slow_chapters(tmp_path / "failing", 1.0, failing="c")
    outcomes = build_appendices(files, out_dir=tmp_path / "out", notebooks_dir=failing,
                                workers=2, force=True)
    assert _built(outcomes) == ["built", "built", "FAILED"]
    assert outcomes[2].error.startswith("chapter 03_third failed: AssertionError: chapter "
                                        "three fails here"), outcomes[2].error
    assert (tmp_path / "out" / "c" / "failed" / "03_third.ipynb").is_file()
    assert "c/failed/03_third.ipynb" in outcomes[2].error  # where the notebook is kept
    html = tmp_path / "out" / "c.html"
    assert RUN_TIME.sub("T", html.read_text()) == RUN_TIME.sub("T", alone.html.read_text())


def _engine_shell_here() -> bool:
    from smp_analysis.report.engine import BuildShell

    return BuildShell.initialized()


def test_an_unreachable_scheduler_is_one_message(demo_dir, one_chapter, tmp_path, capsys):
    files = [_params(demo_dir, tmp_path, "early", ["2014-01"])]
    code = main(["appendix", "--params", str(files[0]), "--scheduler",
                 f"tcp://127.0.0.1:{_free_port()}", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0 and "cannot reach the dask scheduler" in err and "Traceback" not in err


def test_the_same_inputs_give_the_same_html_whichever_way_it_is_built(
        built_appendix, demo_params, tmp_path):
    """The single build (the session's appendix, its chapters in two worker processes) and a
    batch build of the same params (every chapter in one) give byte-identical HTML apart from
    the run time; the batch leaves this process alone."""
    (again,) = build_appendices([demo_params], out_dir=tmp_path / "again", workers=1,
                                force=True)
    assert again.ok, again.error
    assert RUN_TIME.sub("T", again.html.read_text()) == \
        RUN_TIME.sub("T", built_appendix.html.read_text())
    assert not _engine_shell_here()


def test_derived_params_are_valid_and_name_the_district(tmp_path):
    from smp_analysis.report.districts import derive

    raw = {"assessment": "2023-24", "title": "Annual assessment",
           "partnership": "Safer Maidstone Partnership",
           "focus_area": {"code": "E07000110", "name": "Maidstone"}}
    derived = derive(raw, "E07000116", "Tunbridge Wells", {"E07000116": "tunbridge-wells"})
    assert derived["title"] == "Tunbridge Wells: Annual assessment"
    assert derived["assessment"] == "2023-24-tunbridge-wells"
    assert raw["focus_area"]["code"] == "E07000110"  # the input is not changed
