"""`smp` explains itself: version, help with defaults and examples, exit codes, `smp init`,
plurals, and one clear line (not a DuckDB traceback) when another process holds the store."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from smp_analysis import cli
from smp_analysis.cli import main
from smp_analysis.params import load_params

PROJECT = Path(__file__).resolve().parents[1]


def _subcommands(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _subcommands(sub)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"smp {metadata.version('smp-analysis')}"


def test_the_version_is_looked_up_only_when_asked_for(monkeypatch, capsys):
    """Reading the package metadata costs every command 40 ms; only --version needs it."""
    from smp_analysis import cli_help

    asked = []
    monkeypatch.setattr(cli_help, "_version", lambda: asked.append(1) or "9.9")
    cli.build_parser().parse_args(["check-params", "p.yaml"])
    assert asked == []
    with pytest.raises(SystemExit):
        main(["--version"])
    assert asked == [1] and capsys.readouterr().out == "smp 9.9\n"


def test_every_option_of_every_command_has_help_and_shows_its_default():
    for parser in _subcommands(cli.build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction |
                          argparse._VersionAction):
                continue
            assert action.help, (parser.prog, action.dest)
        text = " ".join(parser.format_help().split())
        assert "exit codes:" in text, parser.prog
        for action in parser._actions:
            if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
                assert ("(default:" in (action.help or "")
                        or f"(default: {action.default})" in text), (parser.prog, action.dest)


def test_help_has_examples_and_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "smp appendix --params" in text
    for code in (cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_INPUT, cli.EXIT_BUSY,
                 cli.EXIT_INTERRUPTED):
        assert f"\n  {code} " in text
    readme = (PROJECT / "README.md").read_text()
    for code in (cli.EXIT_FAILED, cli.EXIT_INPUT, cli.EXIT_BUSY):
        assert f"| {code} |" in readme  # the README documents the same codes
    with pytest.raises(SystemExit):
        main(["appendix", "--help"])
    text = capsys.readouterr().out
    assert "(default: reports)" in text and "--pdf" in text and "examples:" in text


def test_bad_params_exit_2_with_one_clear_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assessment: 2015\n")
    assert main(["check-params", str(bad)]) == cli.EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("smp: ") and "Traceback" not in err and "bad.yaml" in err


def test_unexpected_errors_are_one_message_not_a_traceback(monkeypatch, capsys):
    def boom(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("SMP_DEBUG", raising=False)
    monkeypatch.setattr(cli, "_check_params", boom)
    assert main(["check-params", "x.yaml"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "SMP_DEBUG=1" in err and "Traceback" not in err


# ------------------------------------------------------------------------------ smp init
@pytest.fixture
def lookup(demo_dir) -> Path:
    return demo_dir / "geography" / "PoliceforceLSOA.csv"


def test_init_writes_the_params_of_the_shipped_maidstone_example(lookup, tmp_path, capsys):
    """From just the name and the last month, init writes what params/2015-16.yaml says for
    the Safer Maidstone Partnership (an independent, hand-written answer)."""
    out = tmp_path / "params" / "maidstone.yaml"
    code = main(["init", "maidstone", "--lookup", str(lookup), "--period-end", "2014-09",
                 "--out", str(out), "--partnership", "Safer Maidstone Partnership"])
    assert code == 0
    written = load_params(out, check_files=False)
    shipped = load_params(PROJECT / "params" / "2015-16.yaml", check_files=False)
    assert written.focus_area == shipped.focus_area
    assert written.comparison_area.police_force == shipped.comparison_area.police_force
    assert list(written.current.months) == list(shipped.current.months)
    assert written.current.name == shipped.current.name
    assert written.assessment == shipped.assessment
    assert written.partnership == shipped.partnership
    assert written.options.model_dump() == {**shipped.options.model_dump(), "recording_changes": []}
    assert Path(written.data.lsoa_lookup) == lookup.resolve()
    text = out.read_text()
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 10
    assert "smp check-params" in text and "docs/parameters.md" in text
    assert f"written to {out}" in capsys.readouterr().out


def test_init_by_code_and_refusal_to_overwrite(lookup, tmp_path, capsys):
    out = tmp_path / "p.yaml"
    assert main(["init", "E07000110", "--lookup", str(lookup), "--out", str(out)]) == 0
    first = out.read_text()
    assert main(["init", "E07000110", "--lookup", str(lookup), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == first
    assert main(["init", "Ashford", "--lookup", str(lookup), "--out", str(out), "--force"]) == 0
    assert load_params(out, check_files=False).focus_area.code == "E07000105"


def test_init_suggests_the_closest_district(lookup, tmp_path, capsys):
    assert main(["init", "Maidston", "--lookup", str(lookup), "--out",
                 str(tmp_path / "x.yaml")]) == cli.EXIT_INPUT
    err = capsys.readouterr().err
    assert "did you mean Maidstone (E07000110)?" in err
    assert not (tmp_path / "x.yaml").exists()


def test_init_lists_the_districts_of_a_force_and_all_with_list(lookup, capsys):
    assert main(["init", "KENT", "--lookup", str(lookup)]) == cli.EXIT_INPUT
    err = capsys.readouterr().err
    assert "police force, not a district" in err and "13 districts" in err
    assert "E07000110 Maidstone" in err
    assert main(["init", "--list", "--lookup", str(lookup)]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("13 districts in")


def test_init_on_the_real_england_and_wales_lookup(shared_data, tmp_path, capsys):
    lookup = shared_data / "geography" / "PoliceforceLSOA.csv"
    assert main(["init", "Northumbria", "--lookup", str(lookup)]) == cli.EXIT_INPUT
    assert "E08000021 Newcastle upon Tyne" in capsys.readouterr().err
    out = tmp_path / "nt.yaml"
    assert main(["init", "newcastle upon tyne", "--lookup", str(lookup), "--out", str(out),
                 "--period-end", "2022-12"]) == 0
    params = load_params(out, check_files=False)
    assert (params.focus_area.code, params.comparison_area.police_force) == (
        "E08000021", "Northumbria")
    assert (params.current.start, params.current.end) == (dt.date(2022, 1, 1),
                                                          dt.date(2022, 12, 31))
    assert params.assessment == "2023-24"


def test_init_without_a_lookup_says_where_to_get_one(tmp_path, capsys):
    assert main(["init", "Maidstone", "--lookup", str(tmp_path / "none.csv")]) == 2
    assert "smp demo-data" in capsys.readouterr().err


# ------------------------------------------------------------------ plurals in CLI output
def test_cli_source_writes_no_parenthesised_plurals():
    text = (PROJECT / "smp_analysis" / "cli.py").read_text()
    for bad in ("(s)", "(es)"):
        assert bad not in text


# ------------------------------------------------------------------ store held elsewhere
def _hold(store: Path, *, read_only: bool) -> subprocess.Popen:
    """Another process (like a notebook kernel) holding the store until killed."""
    code = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1], "
            "read_only=sys.argv[2] == '1'); print('ready', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(store), "1" if read_only else "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture
def small_params(demo_dir, tmp_path) -> Path:
    """A params file on two months of the demo county, with its own small store."""
    police = tmp_path / "police_uk"
    for month in ("2013-09", "2013-10"):
        shutil.copytree(demo_dir / "police_uk" / month, police / month)
    text = (PROJECT / "params" / "2015-16.yaml").read_text()
    text = text.replace("../data/smp-demo.duckdb", str(tmp_path / "store.duckdb"))
    text = text.replace("../data/demo/police_uk", str(police))
    text = text.replace("../data/demo", str(demo_dir))
    path = tmp_path / "small.yaml"
    path.write_text(text)
    return path


def test_readers_do_not_stop_an_up_to_date_build_and_a_needed_write_says_who_holds_it(
        small_params, tmp_path, demo_dir, capsys):
    from smp_analysis.pipeline import prepare_store
    from smp_analysis.store.lock import StoreBusy

    params = load_params(small_params)
    prepare_store(params)  # the store now holds every input
    reader = _hold(tmp_path / "store.duckdb", read_only=True)
    try:
        # nothing to write: a notebook reading the store does not stop the build
        assert main(["appendix", "--params", str(small_params), "--store-only"]) == 0
        capsys.readouterr()
        # a new month must be written: one line naming the process and what to do
        shutil.copytree(demo_dir / "police_uk" / "2013-11", tmp_path / "police_uk" / "2013-11")
        assert main(["appendix", "--params", str(small_params), "--store-only"]) == cli.EXIT_BUSY
        err = capsys.readouterr().err
        problem = [line for line in err.splitlines() if not line.startswith("  ")]  # progress
        assert len(problem) == 1 and problem[0].startswith("smp: ") and "Traceback" not in err
        assert f"PID {reader.pid}" in err and "Shut Down Kernel" in err
        with pytest.raises(StoreBusy):
            prepare_store(params)
    finally:
        reader.kill()
        reader.wait()
    assert main(["appendix", "--params", str(small_params), "--store-only"]) == 0


def test_a_notebook_opened_while_a_writer_holds_the_store_says_to_wait(small_params, tmp_path):
    from smp_analysis.pipeline import prepare_store
    from smp_analysis.report import Assessment
    from smp_analysis.report.context import NotReady

    prepare_store(load_params(small_params))
    writer = _hold(tmp_path / "store.duckdb", read_only=False)
    try:
        with pytest.raises(NotReady) as info:
            Assessment.open(small_params)
    finally:
        writer.kill()
        writer.wait()
    message = str(info.value)
    assert f"PID {writer.pid}" in message and "run this cell again" in message
    assert info.value._render_traceback_() == [message]  # a notebook shows just the sentence


def test_a_notebook_opened_before_the_store_exists_says_what_to_run(small_params):
    from smp_analysis.report import Assessment
    from smp_analysis.report.context import NotReady

    with pytest.raises(NotReady) as info:
        Assessment.open(small_params)
    message = str(info.value)
    assert "\n" not in message and message.endswith("cell again.")  # one sentence
    assert "has not been built yet" in message
    assert f"smp appendix --params {small_params.as_posix()}" in message


def test_a_notebook_opened_on_a_fresh_clone_says_to_make_the_demo(tmp_path, monkeypatch):
    """Before `make` wrote the demo data, the shipped params' inputs do not exist: one
    sentence naming the make target, not a list of nine missing files."""
    from smp_analysis.report import Assessment, context
    from smp_analysis.report.context import NotReady

    fresh = tmp_path / "clone"
    shutil.copytree(PROJECT / "params", fresh / "params")
    monkeypatch.setattr(context, "DEMO_DATA", fresh / "data" / "demo")
    with pytest.raises(NotReady) as info:
        Assessment.open(fresh / "params" / "2023-24.yaml")
    assert "make demo-store" in str(info.value) and "input files do not exist" in str(info.value)


def test_notice_renders_without_traceback_in_a_real_kernel(small_params, tmp_path):
    """What a notebook user sees: run a cell in a kernel (nbclient) and read its error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from smp_analysis.report import Assessment\n"
        f"Assessment.open({str(small_params)!r})")])
    client = NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    with pytest.raises(CellExecutionError):
        client.execute()
    error = nb.cells[0].outputs[-1]
    assert error.output_type == "error" and error.ename == "NotReady"
    assert len(error.traceback) == 1 and "smp appendix --params" in error.traceback[0]
    assert time.perf_counter() - start < 120


@pytest.mark.skipif(os.name != "posix", reason="reads /proc")
def test_lock_holder_is_described_from_its_command_line():
    from smp_analysis.store.lock import LockHolder

    assert LockHolder("/usr/bin/python3", os.getpid()).describe().startswith(
        f"PID {os.getpid()}, ")
    assert LockHolder("/usr/bin/python3", None).describe() == "python3"


def test_params_patterns_are_expanded_where_the_shell_does_not(tmp_path):
    """Windows' cmd and PowerShell pass `params/*.yaml` through as it is."""
    for name in ("b.yaml", "a.yaml"):
        (tmp_path / name).write_text("")
    assert cli._expand_globs([tmp_path / "*.yaml", Path("missing.yaml")]) == [
        tmp_path / "a.yaml", tmp_path / "b.yaml", Path("missing.yaml")]


@pytest.mark.slow
def test_build_reports_one_line_per_chapter(built_appendix, demo_params, tmp_path, caplog):
    """`make appendix` shows progress: the build logs each chapter as it finishes (and an
    appendix without tables still gets its, empty, tables as data)."""
    import logging

    import nbformat

    from smp_analysis.report.build import build_appendix

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("01_one", "02_two"):
        cells = [nbformat.v4.new_code_cell('params_file = ""'),
                 nbformat.v4.new_markdown_cell("# A chapter\n\nSome text.")]
        cells[0].metadata["tags"] = ["parameters"]
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                     "display_name": "Python 3"}
        nbformat.write(nb, notebooks / f"{name}.ipynb")
    here = os.getcwd()
    with caplog.at_level(logging.INFO, logger="smp_analysis.report.build"):
        result = build_appendix(demo_params, out_dir=tmp_path / "out", notebooks_dir=notebooks,
                                prepare=False)
    assert os.getcwd() == here  # papermill's cwd= changes, undone even when runs overlap
    done = sorted(r.getMessage() for r in caplog.records if " done in " in r.getMessage())
    assert len(done) == 2 and done[0].startswith("2015-16: 01_one done in ")
    assert any("(2 of 2 chapters)" in line for line in done)
    assert any("running 2 chapters" in r.getMessage() for r in caplog.records)
    assert list(result.tables.iterdir()) == [] and result.workbook.stat().st_size > 0


def test_smp_appendix_itself_imports_no_chart_page_or_solver_library():
    """`smp appendix` builds in worker processes; the command's own process needs none of
    matplotlib, seaborn, nbconvert or scipy (seconds of imports on a cold start)."""
    code = ("import sys\n"
            "import smp_analysis.cli_appendix\n"
            "from smp_analysis.report import build, runs, provenance\n"
            "print(sorted(m for m in ('matplotlib', 'seaborn', 'nbconvert', 'scipy')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
