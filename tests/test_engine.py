"""The in-process papermill engine (report/engine.py) and the shared assessments (sharing.py).

The engine runs in the build's worker process (never in this one: it installs IPython's hooks),
so these tests send notebooks there with worker.call. Its outputs are compared with what a real
Jupyter kernel gives for the same notebook."""

from __future__ import annotations

import os

import nbformat
import papermill as pm
import pytest
import yaml

from smp_analysis.report import engine, sharing, worker

CELLS = [
    "print('one')\nprint('two')\nimport sys\nprint('warned', file=sys.stderr)",
    "class Shown:\n"
    "    def _repr_html_(self):\n        return '<p>shown &amp; escaped</p>'\n"
    "    def _repr_png_(self):\n        return b'\\x89PNG\\r\\n\\x1a\\n fake'\n"
    "    def __repr__(self):\n        return 'Shown()'\n"
    "display(Shown())\nprint('after')",
    "   ",
    "value * 2",
    "value;",
]


def _notebook(folder, name: str, cells: list[str]) -> os.PathLike:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("value = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_markdown_cell("# Title"),
                *[nbformat.v4.new_code_cell(c) for c in cells]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


def _outputs(nb) -> list:
    """Every code cell's execution count and outputs, without the parts a kernel's messages
    add or time (transient, run times, papermill's metadata)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.outputs:
            item = {k: v for k, v in o.items() if k not in ("transient",)}
            if o.output_type == "stream":
                item["text"] = "".join(o.text)
            outputs.append(item)
        found.append((cell.execution_count, outputs))
    return found


@pytest.mark.slow
def test_executed_notebook_is_what_a_kernel_gives(tmp_path):
    source = _notebook(tmp_path, "chapter.ipynb", CELLS)
    pm.execute_notebook(str(source), str(tmp_path / "kernel.ipynb"), parameters={"value": 21},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                        extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    worker.call(engine.execute, source, tmp_path / "engine.ipynb", parameters={"value": 21},
                cwd=tmp_path)
    kernel = _outputs(nbformat.read(tmp_path / "kernel.ipynb", as_version=4))
    ours = _outputs(nbformat.read(tmp_path / "engine.ipynb", as_version=4))
    assert ours == kernel
    # what is compared is not empty: streams merged, every representation, the result
    assert ours[2][1][0] == {"output_type": "stream", "name": "stdout", "text": "one\ntwo\n"}
    assert set(ours[3][1][0]["data"]) == {"text/plain", "text/html", "image/png"}
    assert ours[5][1] == [{"output_type": "execute_result", "execution_count": 5,
                           "data": {"text/plain": "42"}, "metadata": {}}]
    assert ours[4] == (None, [])  # a blank cell is not executed


@pytest.mark.slow
def test_a_failing_cell_raises_and_the_notebook_keeps_the_error(tmp_path):
    class_with_own_traceback = (
        "class NotReady(RuntimeError):\n"
        "    def _render_traceback_(self):\n        return [str(self)]\n"
        "raise NotReady('run make demo-store first')")
    source = _notebook(tmp_path, "bad.ipynb", ["print('before')", class_with_own_traceback,
                                               "print('never')"])
    with pytest.raises(pm.PapermillExecutionError) as info:
        worker.call(engine.execute, source, tmp_path / "out.ipynb", parameters={},
                    cwd=tmp_path)
    assert info.value.ename == "NotReady" and info.value.evalue == "run make demo-store first"
    cells = [c for c in nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
             if c.cell_type == "code"]
    error = cells[-2].outputs[-1]
    assert error.output_type == "error" and error.traceback == ["run make demo-store first"]
    assert cells[-1].outputs == [] and cells[-1].execution_count is None
    # a syntax error is an error output too, with IPython's traceback
    source = _notebook(tmp_path, "syntax.ipynb", ["x = (1,"])
    with pytest.raises(pm.PapermillExecutionError) as info:
        worker.call(engine.execute, source, tmp_path / "syntax-out.ipynb", parameters={})
    assert info.value.ename == "SyntaxError"


@pytest.mark.slow
def test_nothing_leaks_from_one_notebook_to_the_next(tmp_path):
    first = _notebook(tmp_path, "first.ipynb", [
        "import os, warnings\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
        "leak = 1\nfig = plt.figure()\nmatplotlib.rcParams['lines.linewidth'] = 7\n"
        "warnings.simplefilter('error')\nprint(os.getpid())"])
    second = _notebook(tmp_path, "second.ipynb", [
        "import os, warnings\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
        "print(os.getpid())\n"
        "print('leak' in globals(), 'fig' in globals(), plt.get_fignums(),"
        " matplotlib.rcParams['lines.linewidth'],"
        " any(f[0] == 'error' and f[2] is Warning for f in warnings.filters))"])
    for nb in (first, second):
        worker.call(engine.execute, nb, tmp_path / f"out-{nb.name}", parameters={})
    pid_first = nbformat.read(tmp_path / "out-first.ipynb", as_version=4).cells[-1].outputs[0]
    text = nbformat.read(tmp_path / "out-second.ipynb", as_version=4).cells[-1].outputs[0].text
    pid, state = text.splitlines()
    assert pid == pid_first.text.strip() != str(os.getpid())  # same worker, not this process
    assert state.startswith("False False [] ") and state.endswith(" False")
    assert float(state.split()[3]) != 7


def _params(tmp_path, name: str = "a.yaml", title: str = "A") -> os.PathLike:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({
        "assessment": "a", "title": title, "partnership": "P",
        "focus_area": {"code": "E07000110", "name": "Maidstone"},
        "comparison_area": {"name": "Kent", "police_force": "Kent"},
        "period": {"start": "2014-04-01", "end": "2015-03-31"},
        "data": {"store": str(tmp_path / "store.duckdb"), "police_uk": [str(tmp_path)],
                 "lsoa_lookup": str(tmp_path / "lookup.csv"),
                 "census_population": str(tmp_path / "census.csv")}}))
    return path


class _Opened:
    """Stands for an Assessment: its topic results are what it adopted plus what it computed
    (the `computed` dict a test fills in)."""

    def __init__(self, params_file):
        self.params_file, self.closed = params_file, False
        self.adopted, self.computed = {}, {}

    def close(self):
        self.closed = True

    def adopt(self, results):
        self.adopted.update(results)

    def topic_results(self):
        return {**self.adopted, **self.computed}


def test_chapters_of_one_build_share_one_assessment_until_an_input_changes(tmp_path):
    params = _params(tmp_path)
    store = tmp_path / "store.duckdb"
    store.write_bytes(b"")
    # outside a build (an analyst's kernel) every open is a new assessment
    assert sharing.shared(params, _Opened) is not sharing.shared(params, _Opened)
    with sharing.shared_assessments():
        first = sharing.shared(params, _Opened)
        assert sharing.shared(str(params), _Opened) is first  # same file, however named
        params.write_text(params.read_text().replace("title: A", "title: B"))
        edited = sharing.shared(params, _Opened)
        assert edited is not first  # the params file changed
        os.utime(store, ns=(1, 1))
        assert sharing.shared(params, _Opened) is not edited  # the store changed
        other = sharing.shared(_params(tmp_path, "b.yaml"), _Opened)
        assert other is not first
    assert first.closed and edited.closed and other.closed  # no reader left on the store
    assert sharing.shared(params, _Opened) is not first  # sharing ends with the build


def test_topic_results_are_handed_to_the_same_appendix_in_another_block(tmp_path):
    """What one worker computed for a params file reaches the assessment another worker opens
    for the same file and store, and no other."""
    params, other = _params(tmp_path), _params(tmp_path, "b.yaml", title="B")
    (tmp_path / "store.duckdb").write_bytes(b"")
    with sharing.shared_assessments() as first_worker:
        sharing.shared(params, _Opened).computed["places"] = "hotspots"
    assert list(first_worker.values()) == [{"places": "hotspots"}]
    with sharing.shared_assessments(first_worker) as second_worker:
        same = sharing.shared(params, _Opened)
        same.computed["patterns"] = "seasons"
        assert same.adopted == {"places": "hotspots"}
        assert sharing.shared(other, _Opened).adopted == {}  # another params file
    assert sorted(second_worker[sharing.sharing_key(params)]) == ["patterns", "places"]


def test_nbformat_is_imported_without_the_slow_iri_parsers():
    """The workers import jsonschema (for nbformat) without rfc3987-syntax's parsers: notebooks
    still validate, and the package can still be imported later."""
    import subprocess
    import sys

    code = ("import importlib.util, sys\n"
            "from smp_analysis.report.worker import import_jsonschema_quickly\n"
            "import_jsonschema_quickly()\n"
            "import nbconvert, nbformat, papermill\n"
            "assert 'rfc3987_syntax' not in sys.modules\n"
            "nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')]))\n"
            "bad = nbformat.v4.new_notebook()\n"
            "bad.cells = [{'cell_type': 'nonsense', 'id': 'x', 'metadata': {}, 'source': ''}]\n"
            "assert not nbformat.validator.isvalid(bad)  # validation still checks\n"
            "if importlib.util.find_spec('rfc3987_syntax'):\n"
            "    import rfc3987_syntax\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_after_an_appendix_survivors_are_frozen_and_freed_once_they_die(monkeypatch):
    """A batch worker freezes what survives an appendix (later chapters' collections skip
    it) and collects everything again every UNFREEZE_EVERY appendices: a frozen cycle that
    has become garbage is freed then, not leaked."""
    import gc
    import weakref

    class Node:
        pass

    monkeypatch.setattr(worker, "_appendices", 0)
    monkeypatch.setattr(worker, "UNFREEZE_EVERY", 3)
    survivor = Node()
    survivor.itself = survivor  # a cycle: only the collector frees it
    alive = weakref.ref(survivor)
    try:
        worker.settle_heap()
        assert gc.get_freeze_count() > 0
        del survivor
        worker.settle_heap()
        assert alive() is not None  # frozen: not looked at
        worker.settle_heap()
        assert alive() is None
    finally:
        gc.unfreeze()
