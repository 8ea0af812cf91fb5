"""Hostile params files (duplicate keys, impossible dates, reversed intervals) and names that
charts must draw literally; provenance that does not cry "+dirty" over notebook outputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from _hostile import smp

from smp_analysis.errors import ParamsError
from smp_analysis.params import load_params

PROJECT = Path(__file__).resolve().parents[1]
BASE = (PROJECT / "params" / "2015-16.yaml").read_text()


def _params(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_duplicate_key_is_named_with_both_lines(capsys, tmp_path):
    text = BASE.replace("  end: 2014-09-30\n", "  end: 2014-09-30\n  end: 2014-08-31\n", 1)
    path = _params(tmp_path, text)
    with pytest.raises(ParamsError) as info:
        load_params(path, check_files=False)
    (problem,) = info.value.problems
    first = _line_of(text, "end: 2014-09-30")
    assert problem.line == first + 1
    assert f"period.end: key given twice (first on line {first})" in problem.message
    run = smp(capsys, "check-params", path)
    assert run.code == 2 and f"line {first + 1}: period.end: key given twice" in run.err


def test_duplicate_top_level_key(tmp_path):
    path = _params(tmp_path, BASE + "\ntitle: Another title\n")
    with pytest.raises(ParamsError, match="title: key given twice"):
        load_params(path, check_files=False)


@pytest.mark.parametrize("date", ["2023-02-30", "2014-13-01", "2014-00-10"])
def test_impossible_date_is_a_params_error_with_key_and_line(capsys, tmp_path, date):
    text = BASE.replace("start: 2013-10-01", f"start: {date}", 1)
    path = _params(tmp_path, text)
    run = smp(capsys, "check-params", path)
    assert run.code == 2
    line = _line_of(text, f"start: {date}")
    assert f"line {line}" in run.err and "period.start" in run.err
    assert date in run.err


def test_reversed_uplift_interval_is_rejected(tmp_path):
    text = BASE.replace('      crime_types: ["Violence and sexual offences"]\n',
                        '      crime_types: ["Violence and sexual offences"]\n'
                        '      uplift: [0.18, 0.14]\n', 1)
    assert "uplift: [0.18, 0.14]" in text
    path = _params(tmp_path, text)
    with pytest.raises(ParamsError) as info:
        load_params(path, check_files=False)
    message = str(info.value)
    assert "uplift" in message and "low, high" in message and "[0.14, 0.18]" in message
    assert f"line {_line_of(text, 'uplift: [0.18, 0.14]')}" in message


def test_validation_errors_carry_their_line(tmp_path):
    text = BASE.replace('  code: "E07000110"', "  code: 110", 1)
    path = _params(tmp_path, text)
    with pytest.raises(ParamsError) as info:
        load_params(path, check_files=False)
    (problem,) = info.value.problems
    assert problem.line == _line_of(text, "code: 110") and "quote codes" in problem.message


def test_a_folder_or_unreadable_params_file(capsys, tmp_path):
    run = smp(capsys, "check-params", tmp_path)
    assert run.code == 2 and "is a folder, not a file" in run.err
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\xff\xfe\x00title")
    run = smp(capsys, "check-params", binary)
    assert run.code == 2 and "not valid YAML" in run.err


# --------------------------------------------------------------------------- chart text


NAMES = ["Ward $1 & Co", "50% Town", "_North", "a^b", "x_1$y$", "$\\alpha$", "cost $5 $"]


def test_names_with_tex_characters_render_literally(monkeypatch):
    from smp_analysis.report import charts

    drawn = {}
    real_finish = charts.finish

    def keep(fig, **kwargs):
        fig.canvas.draw()  # mathtext, if it were on, would parse (and choke on) the names
        drawn["labels"] = [t for t in fig.axes[0].get_yticklabels()]
        drawn["title"] = fig.axes[0].get_title(loc="left")
        return real_finish(fig, **kwargs)

    monkeypatch.setattr(charts, "finish", keep)
    table = pd.DataFrame({"percent_change": range(-3, len(NAMES) - 3)}, index=NAMES)
    figure = charts.change_bars(table, title="Change in $ and % for a_b^c", caption="c",
                                alt="a", synthetic=False)
    assert figure.png.startswith(b"\x89PNG")
    labels = {t.get_text().strip() for t in drawn["labels"]}
    assert labels == {n.strip() for n in NAMES}
    assert all(not t.get_parse_math() for t in drawn["labels"])
    assert drawn["title"] == "Change in $ and % for a_b^c"


# --------------------------------------------------------------------------- provenance


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo_with_notebook(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    (repo / ".gitattributes").write_text("*.ipynb filter=nbstripout\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1)", id="0")]
    nbformat.write(nb, repo / "chapter.ipynb")
    (repo / "code.py").write_text("x = 1\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "first")
    # the filter as `make install` sets it, but pointing at a program that is not there
    _git(repo, "config", "filter.nbstripout.clean", "/nonexistent/python -m nbstripout")
    _git(repo, "config", "filter.nbstripout.required", "true")
    return repo


def test_outputs_in_a_notebook_are_not_dirty_but_source_changes_are(repo_with_notebook):
    from smp_analysis.report.provenance import git_commit

    repo = repo_with_notebook
    head = _git(repo, "rev-parse", "HEAD").strip()
    assert git_commit(repo) == head
    nb = nbformat.read(repo / "chapter.ipynb", as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[0].execution_count = 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, repo / "chapter.ipynb")
    assert git_commit(repo) == head
    nb.cells[0].source = "print(2)"
    nbformat.write(nb, repo / "chapter.ipynb")
    assert git_commit(repo) == head + "+dirty"
    nb.cells[0].source = "print(1)"
    nbformat.write(nb, repo / "chapter.ipynb")
    (repo / "code.py").write_text("x = 2\n")
    assert git_commit(repo) == head + "+dirty"


def test_a_fresh_clone_is_not_dirty(tmp_path):
    from smp_analysis.report.provenance import git_commit

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(clone)], check=True)
    head = _git(clone, "rev-parse", "HEAD").strip()
    assert git_commit(clone) == head
    # as after `make install` (the filter installed) with every file's timestamp changed
    _git(clone, "config", "filter.nbstripout.clean",
         f"{PROJECT / '.venv' / 'bin' / 'python'} -m nbstripout")
    _git(clone, "config", "filter.nbstripout.required", "true")
    for path in clone.rglob("*.ipynb"):
        path.touch()
    assert git_commit(clone) == head


def test_committed_notebooks_are_what_nbstripout_makes_of_them():
    """The git filter's output (`nbstripout -t`) is byte for byte the committed notebook, so
    `git status` with the filter installed never sees a change in a fresh clone."""
    import sys

    for path in sorted((PROJECT / "notebooks").glob("*.ipynb")):
        filtered = subprocess.run([sys.executable, "-m", "nbstripout", "-t", str(path)],
                                  capture_output=True, check=True).stdout
        assert filtered == path.read_bytes(), f"{path.name}: run nbstripout on it and commit"


def test_joined_chapters_get_unique_stable_cell_ids():
    from smp_analysis.report.build import assemble

    def chapter(n: int):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Chapter {n}", id="0"),
                    nbformat.v4.new_code_cell("1", id="1")]
        return nb

    chapters = [("01_a.ipynb", chapter(1)), ("02_b.ipynb", chapter(2))]
    first, second = assemble(chapters), assemble(chapters)
    ids = [c.id for c in first.cells]
    assert len(set(ids)) == len(ids) == 4
    assert ids == [c.id for c in second.cells]
    nbformat.validate(first)


def test_the_same_chart_gives_the_same_png_bytes():
    """No timestamp or software version in the image: same inputs, byte-identical HTML."""
    from smp_analysis.report import charts

    table = pd.DataFrame({"percent_change": [-5.0, 3.0]}, index=["A", "B"])
    pngs = [charts.change_bars(table, title="t", caption="c", alt="a", synthetic=True).png
            for _ in range(2)]
    assert pngs[0] == pngs[1]
    assert b"tIME" not in pngs[0] and b"Software" not in pngs[0]
