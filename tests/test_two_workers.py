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


def test_the_key_findings_are_handed_the_second_worker_s_results(demo_dir, tmp_path):
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
    result = build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=notebooks,
                            workers=2)
    outputs = {p.stem: "".join(o.get("text", "") for cell in nbformat.read(p, 4).cells
                               for o in cell.get("outputs", []))
               for p in result.executed}
    # each chapter computed only its own topic: they ran in different processes
    assert "'smp_analysis.topics.patterns'" not in outputs["02_overview"]
    assert "'smp_analysis.topics.overview'" not in outputs["10_patterns"]
    assert result.html.exists()


def test_a_chapter_failing_in_the_second_worker_keeps_the_previous_appendix(demo_dir,
                                                                              tmp_path):
    params = _params(demo_dir, tmp_path, "fails", ["2014-04", "2014-05"])
    good = _notebooks(tmp_path / "good", {"02_overview": "display(overview.compute(sa).summary())"})
    first = build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=good, workers=2)
    before = first.html.read_bytes()
    bad = _notebooks(tmp_path / "bad", {
        "02_overview": "display(overview.compute(sa).summary())",
        "09_places": "raise ValueError('no places today')"})
    with pytest.raises(AppendixError, match=r"chapter 09_places failed: ValueError: no places "
                                            r"today") as raised:
        build_appendix(params, out_dir=tmp_path / "out", notebooks_dir=bad, workers=2)
    assert "09_places.ipynb" in str(raised.value)  # the kept notebook is named
    assert first.html.read_bytes() == before
