"""Shared fixtures.

Tests that read the real public files in ``../shared/data`` skip with a reason when that folder
is absent (a fresh user clone); CI sets SMP_REQUIRE_SHARED=1 so they fail instead of skipping.
The synthetic demo county and its store are built once per session in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        if os.environ.get("SMP_REQUIRE_SHARED"):
            pytest.fail(f"SMP_REQUIRE_SHARED is set but {path} is missing")
        pytest.skip(f"real public data not available: {path} is missing (fresh clone)")
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    from smp_analysis.demo import generate

    return generate(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="session")
def demo_params(demo_dir, tmp_path_factory) -> Path:
    """A params file for the 2015-16 assessment that points at the session's demo data."""
    folder = tmp_path_factory.mktemp("params")
    text = (PROJECT / "params" / "2015-16.yaml").read_text()
    text = text.replace("../data/smp-demo.duckdb", str(folder / "store.duckdb"))
    text = text.replace("../data/demo", str(demo_dir))
    path = folder / "2015-16.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def built_appendix(demo_params, tmp_path_factory):
    from smp_analysis.report.build import build_appendix

    out = tmp_path_factory.mktemp("reports")
    # in two worker processes (the default on two cores), whatever the machine: the HTML is
    # compared with a one-worker build (test_batch_scale.py)
    result = build_appendix(demo_params, out_dir=out, workers=2)
    return result


@pytest.fixture
def copy_of(tmp_path):
    def _copy(path: Path) -> Path:
        target = tmp_path / path.name
        shutil.copy(path, target)
        return target
    return _copy


@pytest.fixture(scope="session")
def one_chapter(tmp_path_factory) -> Path:
    """A one-chapter notebook folder: the overview summary (keeps batch builds cheap)."""
    folder = tmp_path_factory.mktemp("notebooks")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('params_file = "x"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "from smp_analysis.report import Assessment\n"
        "from smp_analysis.topics import overview\n"
        "sa = Assessment.open(params_file)\n"
        "display(overview.compute(sa).summary())"),
        nbformat.v4.new_markdown_cell("# Overview")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, folder / "01_overview.ipynb")
    return folder
