"""Packaging and repository hygiene: dependencies agree, notebooks are paired, thin, stripped."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    pins = {}
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", spec).groups()
        pins[name.lower()] = version
    return pins


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((PROJECT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # packages not on conda-forge, from PyPI with the same pins
            for spec in dep.get("pip", []):
                if "==" in spec:
                    name, version = spec.split("==", 1)
                    pins[name.lower()] = version.split("#")[0].strip()
            continue
        if dep in ("pip",) or dep.startswith("python="):
            continue
        name, version = dep.split("=", 1)
        pins[CONDA_NAMES.get(name, name).lower()] = version
    return pins


def test_environment_yml_and_pyproject_list_the_same_pinned_dependencies():
    assert _conda_pins() == _pyproject_pins()


def test_every_runtime_dependency_is_pinned_exactly():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    loose = [d for d in project["dependencies"] if "==" not in d]
    assert loose == []


def test_constraints_agree_with_pyproject_pins():
    constraints = {}
    for line in (PROJECT / "constraints.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            constraints[name.lower().replace("_", "-")] = version.strip()
    for name, version in _pyproject_pins().items():
        assert constraints.get(name.replace("_", "-")) == version, name


NOTEBOOKS = sorted((PROJECT / "notebooks").glob("*.ipynb"))


def test_there_are_chapter_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_paired_with_an_identical_percent_script(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{path.name} has no jupytext-paired {script.name}"
    nb = nbformat.read(path, as_version=4)
    paired = jupytext.read(script)
    assert [c.source for c in nb.cells] == [c.source for c in paired.cells]
    assert "py:percent" in nb.metadata["jupytext"]["formats"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin(path):
    """Chapters call the library: no function/class definitions, loops or comprehensions."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    banned = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While,
              ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.Lambda)
    found = [type(n).__name__ for n in ast.walk(ast.parse(code)) if isinstance(n, banned)]
    assert found == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_first(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert tagged == [0]
    assert "params_file" in nb.cells[0].source


def test_gitattributes_strips_notebook_outputs():
    assert "*.ipynb filter=nbstripout" in (PROJECT / ".gitattributes").read_text()


LIBRARY = sorted((PROJECT / "smp_analysis").rglob("*.py"))


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(PROJECT)))
def test_no_library_module_is_over_500_lines(path):
    """One concept a module: a file past 500 lines is a sign it holds two."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def test_every_chapter_notebook_has_a_topic_module():
    """One topic = one module + one notebook: each chapter imports exactly one topic."""
    for path in sorted((PROJECT / "notebooks").glob("[0-9][0-9]_*.py")):
        imported = re.findall(r"^from smp_analysis\.topics import (\w+)$", path.read_text(),
                              re.MULTILINE)
        assert len(imported) == 1, path.name
        assert (PROJECT / "smp_analysis" / "topics" / f"{imported[0]}.py").exists()
