"""A single appendix built in two worker processes (report/runs.py, run_appendix_in_two):
the key findings are handed the other worker's topic results, every chapter runs once, and a
chapter failing in either worker is reported as in one worker, the previous appendix left as
it was. (The HTML of the demo appendix built in two workers and in one is compared in
test_batch_scale.py.)"""

from __future__ import annotations

import logging

import nbformat
import pytest
from test_batch import _params

from smp_analysis.report.build import (
    FIRST_WORKER,
    SECOND_WORKER,
    AppendixError,
    build_appendix,
)

pytestmark = pytest.mark.slow


def _notebooks(folder, chapters: dict[str, str]):
    folder.mkdir()
    for name, code in chapters.items():
        params = nbformat.v4.new_code_cell('params_file = "x"')
        params.metadata["tags"] = ["parameters"]
        nb = nbformat.v4.new_notebook(cells=[
            params, nbformat.v4.new_code_cell(
                "import os\n"
                "from smp_analysis.report import Assessment\n"
                "from smp_analysis.topics import overview, patterns\n"
                "sa = Assessment.open(params_file)\n"
                "print('process', os.getpid())\n" + code),
            nbformat.v4.new_markdown_cell(f"# {name}")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _printed(notebook) -> str:
    return "".join(o.get("text", "") for cell in nbformat.read(notebook, 4).cells
                   for o in cell.get("outputs", []))


def test_the_key_findings_are_handed_the_other_worker_s_results(demo_dir, tmp_path, caplog):
    params = _params(demo_dir, tmp_path, "two", ["2014-03", "2014-04", "2014-05"])
    assert "01_priorities" in FIRST_WORKER and "09_places" in SECOND_WORKER
    seen = "print(sorted(key[1] for key in sa.topic_results()))\n"
    notebooks = _notebooks(tmp_path / "notebooks", {
        # one topic in each worker, whichever starts first
        "01_priorities": "overview.compute(sa)\n" + seen,
        "09_places": "patterns.compute(sa)\n" + seen,
        "02_overview": "print('a chapter either worker may take')",
        # runs after both, in the first worker: it must hold both workers' results uncomputed
        "00_summary": "computed = {key[1] for key in sa.topic_results()}\n"
                      "assert computed == {'smp_analysis.topics.overview', "
                      "'smp_analysis.topics.patterns'}, computed"})
    with caplog.at_level(logging.INFO, logger="smp_analysis.report.build"):
        result = build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=notebooks,
                                workers=2)
    printed = {p.stem: _printed(p) for p in result.executed}
    # each computed only its own topic, in a process of its own
    assert "'smp_analysis.topics.patterns'" not in printed["01_priorities"]
    assert "'smp_analysis.topics.overview'" not in printed["09_places"]
    pids = {stem: text.split("process ")[1].split()[0] for stem, text in printed.items()}
    assert pids["01_priorities"] != pids["09_places"]
    assert pids["00_summary"] == pids["01_priorities"]
    # every chapter ran once, and was counted among all the appendix's chapters
    done = sorted(r.getMessage() for r in caplog.records if " done in " in r.getMessage())
    assert [line.split()[1] for line in done] == sorted(printed), done
    assert sorted(line.rsplit("(", 1)[1] for line in done) == [
        f"{k} of 4 chapters)" for k in range(1, 5)], done
    assert result.html.exists()
    assert not list((tmp_path / "out" / "two").glob("failed"))  # markers gone with failed/


@pytest.mark.parametrize("failing", ["01_priorities", "09_places"])
def test_a_chapter_failing_in_either_worker_keeps_the_previous_appendix(demo_dir, tmp_path,
                                                                       caplog, failing):
    params = _params(demo_dir, tmp_path, "fails", ["2014-04", "2014-05"])
    chapters = {"01_priorities": "display(overview.compute(sa).summary())",
                "09_places": "print('places')", "02_overview": "print('overview')"}
    first = build_appendix(params, out_dir=tmp_path / "out",
                           notebooks_dir=_notebooks(tmp_path / "good", chapters), workers=2)
    before = first.html.read_bytes()
    executed = {p.name: p.read_bytes() for p in first.executed}
    chapters[failing] = "raise ValueError('not today')"
    bad = _notebooks(tmp_path / "bad", chapters)
    with caplog.at_level(logging.WARNING, logger="smp_analysis.report.build"), \
            pytest.raises(AppendixError, match=rf"chapter {failing} failed: ValueError: not "
                                               r"today") as raised:
        build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=bad, workers=2)
    kept = tmp_path / "out" / "fails" / "failed" / f"{failing}.ipynb"
    assert str(kept) in str(raised.value) and "not today" in kept.read_text()
    assert any(f"{failing} failed" in r.getMessage() for r in caplog.records)  # said at once
    assert first.html.read_bytes() == before  # the previous appendix, untouched
    assert {p.name: p.read_bytes() for p in first.executed} == executed
    # and the next build, fixed, is whole again (no marker of the failed one left in the way)
    fixed = build_appendix(params, out_dir=tmp_path / "out",
                           notebooks_dir=_notebooks(tmp_path / "fixed", {
                               **chapters, failing: "print('fixed')"}), workers=2)
    assert sorted(p.stem for p in fixed.executed) == sorted(chapters)
