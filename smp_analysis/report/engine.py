"""A papermill engine that runs notebooks in this process's IPython shell, reused.

Papermill's default engine starts a Jupyter kernel for every notebook, and each kernel imports
the library again (pandas, statsmodels, matplotlib, DuckDB: seconds each time). An appendix has
a dozen chapters and a county batch a dozen appendices, so the build runs chapters through this
engine instead, in a worker process that keeps one shell: the library is imported once, and the
:class:`~smp_analysis.report.context.Assessment` (with its cached topic results) is shared by
every chapter of an appendix. Papermill still injects the parameters, records timings and
raises :class:`papermill.PapermillExecutionError` when a cell fails; the executed notebooks are
the same as a kernel gives: streams (consecutive writes to one stream merged), ``display_data``
with every representation IPython's formatters give, ``execute_result`` for a cell's last
expression, and ``error`` outputs with IPython's traceback (or an exception's own
``_render_traceback_``); blank code cells are not executed and get no execution count.

Nothing of one notebook reaches the next: each starts from an empty user namespace, and after
each the matplotlib figures are closed and matplotlib's settings and the warning filters are
put back as they were. Use it from a process that does nothing else (the build's worker
processes): the shell installs IPython's ``display`` builtin and hooks process-wide.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import io
import sys
import warnings
from pathlib import Path

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine, papermill_engines

ENGINE_NAME = "smp-inprocess"


class _Outputs:
    """The outputs of the running cell, in the order a kernel would send them."""

    def __init__(self):
        self.items: list = []

    def stream(self, name: str, text: str) -> None:
        last = self.items[-1] if self.items else None
        if last is not None and last.output_type == "stream" and last.name == name:
            last.text += text
        else:
            self.items.append(nbformat.v4.new_output("stream", name=name, text=text))

    def display(self, data: dict, metadata: dict | None, kind: str = "display_data") -> None:
        # a kernel's messages carry bytes (a _repr_png_) as base64 text
        data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
                for k, v in data.items()}
        self.items.append(nbformat.v4.new_output(kind, data=data, metadata=dict(metadata or {})))

    def clear(self) -> None:
        self.items.clear()


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr while a cell runs."""

    def __init__(self, outputs: _Outputs, name: str):
        self.outputs, self.name = outputs, name

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self.outputs.stream(self.name, str(text))
        return len(text)

    def isatty(self) -> bool:
        return False


class _Publisher(DisplayPublisher):
    """``display()`` calls: one ``display_data`` output each."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                **kwargs) -> None:
        outputs = getattr(self.shell, "outputs", None)
        if outputs is not None:
            outputs.display(data, metadata)

    def clear_output(self, wait: bool = False) -> None:
        outputs = getattr(self.shell, "outputs", None)
        if outputs is not None:
            outputs.clear()


class _ResultHook(DisplayHook):
    """A cell's last expression: an ``execute_result`` output (no prompt printed)."""

    def quiet(self) -> bool:
        """A cell ending in ';' shows no result (the history, where IPython looks, is off)."""
        return self.semicolon_at_end_of_expression(getattr(self.shell, "source", ""))

    def start_displayhook(self) -> None:
        pass

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        outputs = getattr(self.shell, "outputs", None)
        if outputs is not None:
            outputs.display(format_dict, md_dict, kind="execute_result")

    def finish_displayhook(self) -> None:
        pass

    def flush(self) -> None:
        """Forget the cached results as IPython's ``DisplayHook.flush`` does, without its full
        garbage collection: the shell is reset twice a chapter, and a full collection of a heap
        holding pandas, SciPy and matplotlib took a quarter of a second each time (the worker
        freezes the imported modules' objects and collects once a chapter instead)."""
        import builtins

        for n in range(1, self.prompt_count + 1):
            self.shell.user_ns_hidden.pop(f"_{n}", None)
            self.shell.user_ns.pop(f"_{n}", None)
        history = self.shell.user_ns.get("_oh")
        if history is not None:
            history.clear()
        self._, self.__, self.___ = "", "", ""
        if "_" not in builtins.__dict__:
            self.shell.user_ns.update({"_": self._, "__": self.__, "___": self.___})


class BuildShell(InteractiveShell):
    """An IPython shell whose outputs become notebook outputs, as a kernel's do."""

    displayhook_class = _ResultHook
    display_pub_class = _Publisher
    outputs: _Outputs | None = None
    source = ""  # the running cell's

    def _showtraceback(self, etype, evalue, stb) -> None:
        if self.outputs is not None:
            self.outputs.items.append(nbformat.v4.new_output(
                "error", ename=etype.__name__, evalue=str(evalue), traceback=list(stb)))
        else:  # pragma: no cover - outside a cell
            super()._showtraceback(etype, evalue, stb)


def shell() -> BuildShell:
    """The process's build shell (created on first use; no history file, no colours)."""
    from traitlets.config import Config

    if BuildShell.initialized():
        return BuildShell.instance()
    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryManager.hist_file = ":memory:"
    return BuildShell.instance(config=config, colors="nocolor")


def run_source(shell: BuildShell, source: str) -> tuple[list, BaseException | None]:
    """Run one cell's source; return its outputs (nbformat) and the exception, if any."""
    outputs = _Outputs()
    shell.outputs, shell.source = outputs, source
    try:
        with contextlib.redirect_stdout(_Stream(outputs, "stdout")), \
                contextlib.redirect_stderr(_Stream(outputs, "stderr")):
            result = shell.run_cell(source, store_history=False, silent=False)
    finally:
        shell.outputs = None
    return outputs.items, result.error_before_exec or result.error_in_exec


@contextlib.contextmanager
def isolated():
    """Undo what a notebook may change for the next one in this process: matplotlib figures
    (closed) and settings, and the warning filters."""
    import matplotlib

    settings = matplotlib.rcParams.copy()
    try:
        with warnings.catch_warnings():
            yield
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        with warnings.catch_warnings():  # rcParams warns about deprecated keys it restores
            warnings.simplefilter("ignore")
            matplotlib.rcParams.update(settings)


class InProcessEngine(Engine):
    """Papermill engine: execute code cells in this process's IPython shell, in order,
    stopping at the first error (as papermill's kernel engine does)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        # papermill has already changed to the notebook's working directory (cwd=)
        ip = shell()
        ip.reset(new_session=False)
        count = 0
        with isolated():
            for index, cell in enumerate(nb_man.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                nb_man.cell_start(cell, index)
                try:
                    count += 1
                    cell.execution_count = count
                    cell.outputs, error = run_source(ip, cell.source)
                    for output in cell.outputs:
                        if output.output_type == "execute_result":
                            output.execution_count = count
                    if error is not None:
                        nb_man.cell_exception(cell, cell_index=index, exception=error)
                        break
                finally:
                    nb_man.cell_complete(cell, cell_index=index)
        ip.reset(new_session=False)  # nothing of this notebook is kept alive until the next
        gc.collect()  # its figures and frames, once (a young heap: the imports are frozen)
        return nb_man.nb


papermill_engines.register(ENGINE_NAME, InProcessEngine)


def execute(notebook: str | Path, output: str | Path, *, parameters: dict,
            cwd: str | Path | None = None):
    """Run `notebook` with `parameters` (papermill injects them) in this process's shell and
    write the executed notebook to `output`, also when a cell fails (then
    :class:`papermill.PapermillExecutionError` is raised, as with a kernel)."""
    import papermill as pm

    return pm.execute_notebook(str(notebook), str(output), engine_name=ENGINE_NAME,
                               parameters=parameters, kernel_name="python3",
                               progress_bar=False, request_save_on_cell_execute=False,
                               cwd=None if cwd is None else str(cwd), log_output=False)
