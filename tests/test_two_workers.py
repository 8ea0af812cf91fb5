"""A single appendix built in two worker processes (report/worker.py, run_appendix_in_two):
the key findings are handed the second worker's topic results, and a chapter failing there is
reported as in one worker, the previous appendix left as it was. (The HTML of the demo
appendix built in two workers and in one is compared in test_batch_scale.py.)"""

from __future__ import annotations

import nbformat
import pytest
from test_batch import _params

from smp_analysis.report.build import SECOND_WORKER, AppendixError, build_appendix

pytestmark = pytest.mark.slow


def _notebooks(folder, chapters: dict[str, str]):
    folder.mkdir()
    for name, code in chapters.items():
        params = nbformat.v4.new_code_cell('params_file = "x"')
        params.metadata["tags"] = ["parameters"]
        nb = nbformat.v4.new_notebook(cells=[
            params, nbformat.v4.new_code_cell(
                "from smp_analysis.report import Assessment\n"
                "from smp_analysis.topics import overview, patterns\n"
                "sa = Assessment.open(params_file)\n" + code),
            nbformat.v4.new_markdown_cell(f"# {name}")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def test_the_key_findings_are_handed_the_second_worker_s_results(demo_dir, tmp_path, caplog):
    import logging

    params = _params(demo_dir, tmp_path, "two", ["2014-03", "2014-04", "2014-05"])
    assert "10_patterns" in SECOND_WORKER and "02_overview" not in SECOND_WORKER
    seen = ("computed = {key[1] for key in sa.topic_results()}\n"
            "print(sorted(computed))\n")
    notebooks = _notebooks(tmp_path / "notebooks", {
        "02_overview": "display(overview.compute(sa).summary())\n" + seen,
        "10_patterns": "patterns.compute(sa)\n" + seen,
        # runs after both, in the first worker: it must hold both workers' results uncomputed
        "00_summary": seen + "assert computed == {'smp_analysis.topics.overview', "
                             "'smp_analysis.topics.patterns'}, computed"})
    with caplog.at_level(logging.INFO, logger="smp_analysis.report.build"):
        result = build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=notebooks,
                                workers=2)
    done = [r.getMessage() for r in caplog.records if " done in " in r.getMessage()]
    assert len(done) == 3  # a line a chapter, saying where it ran
    assert any(line.startswith("two: 10_patterns done in ") and
               line.endswith("(1 of 3 chapters in worker 2)") for line in done), done
    outputs = {p.stem: "".join(o.get("text", "") for cell in nbformat.read(p, 4).cells
                               for o in cell.get("outputs", []))
               for p in result.executed}
    # each chapter computed only its own topic: they ran in different processes
    assert "'smp_analysis.topics.patterns'" not in outputs["02_overview"]
    assert "'smp_analysis.topics.overview'" not in outputs["10_patterns"]
    assert result.html.exists()


def test_a_chapter_failing_in_the_second_worker_keeps_the_previous_appendix(
        demo_dir, tmp_path, caplog):
    import logging

    params = _params(demo_dir, tmp_path, "fails", ["2014-04", "2014-05"])
    good = _notebooks(tmp_path / "good", {"02_overview": "display(overview.compute(sa).summary())"})
    first = build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=good, workers=2)
    before = first.html.read_bytes()
    executed = {p.name: p.read_bytes() for p in first.executed}
    assert "03_rates" in SECOND_WORKER and "04_data_quality" not in SECOND_WORKER
    bad = _notebooks(tmp_path / "bad", {
        "02_overview": "display(overview.compute(sa).summary())",
        "03_rates": "raise ValueError('no rates today')",
        "04_data_quality": "print('the first worker went on')"})
    with caplog.at_level(logging.WARNING, logger="smp_analysis.report.build"), \
            pytest.raises(AppendixError, match=r"chapter 03_rates failed: ValueError: no rates "
                                               r"today") as raised:
        build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=bad, workers=2)
    kept = tmp_path / "out" / "fails" / "failed"
    assert str(kept / "03_rates.ipynb") in str(raised.value)  # the kept notebook is named
    # the chapter after it ran, in the other worker, before the error was raised (in one
    # worker it would never have started)
    after = nbformat.read(kept / "04_data_quality.ipynb", 4)
    assert "the first worker went on" in str([cell.get("outputs") for cell in after.cells])
    assert any("03_rates failed" in r.getMessage() for r in caplog.records)  # said at once
    assert first.html.read_bytes() == before  # the previous appendix, untouched
    assert {p.name: p.read_bytes() for p in first.executed} == executed
