"""A papermill engine that runs notebooks in this process's IPython shell, reused.

Papermill's default engine starts a Jupyter kernel for every notebook, and each kernel imports
the library again (pandas, statsmodels, matplotlib, DuckDB: seconds each time). An appendix has
a dozen chapters and a county batch a dozen appendices, so the build runs chapters through this
engine instead, in a worker process that keeps one shell: the library is imported once, and the
:class:`~smp_analysis.report.context.Assessment` (with its cached topic results) is shared by
every chapter of an appendix. Papermill still injects the parameters, records timings and
raises :class:`papermill.PapermillExecutionError` when a cell fails; the executed notebooks are
the same as a kernel would give (display outputs, streams, errors with tracebacks).

Each notebook starts from an empty user namespace. Use it from a process that does nothing
else (the build's worker processes): the shell installs IPython's display hooks process-wide.
"""

from __future__ import annotations

import contextlib
import os
import traceback

import nbformat
from papermill.engines import Engine, papermill_engines

ENGINE_NAME = "smp-inprocess"


def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor")
    return shell


@contextlib.contextmanager
def _working_directory(path):
    if path is None:
        yield
        return
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_source(shell, source: str) -> tuple[list, BaseException | None]:
    """Run one cell's source; return its outputs (nbformat) and the exception, if any."""
    from IPython.utils.capture import capture_output

    with capture_output(stdout=True, stderr=True, display=True) as captured:
        result = shell.run_cell(source, store_history=False, silent=False)
    outputs = []
    if captured.stdout:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=captured.stdout))
    for rich in captured.outputs:
        outputs.append(nbformat.v4.new_output("display_data", data=rich.data,
                                              metadata=rich.metadata or {}))
    if captured.stderr:
        outputs.append(nbformat.v4.new_output("stream", name="stderr", text=captured.stderr))
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        outputs.append(nbformat.v4.new_output(
            "error", ename=type(error).__name__, evalue=str(error),
            traceback=traceback.format_exception(error)))
    return outputs, error


class InProcessEngine(Engine):
    """Papermill engine: execute code cells in this process's IPython shell, in order,
    stopping at the first error (as papermill's kernel engine does)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, cwd=None, **kwargs):
        shell = _shell()
        shell.reset(new_session=False)
        count = 0
        with _working_directory(cwd):
            for index, cell in enumerate(nb_man.nb.cells):
                nb_man.cell_start(cell, index)
                try:
                    if cell.cell_type != "code":
                        continue
                    count += 1
                    cell.outputs, error = run_source(shell, cell.source)
                    cell.execution_count = count
                    if error is not None:
                        nb_man.cell_exception(cell, cell_index=index, exception=error)
                        break
                finally:
                    nb_man.cell_complete(cell, cell_index=index)
        return nb_man.nb


papermill_engines.register(ENGINE_NAME, InProcessEngine)
