"""What a reviewer needs to trust a figure: inputs, their SHA-256, code version, packages, date."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from ..params import AssessmentParams
from ..sources._csv import sha256_of

PACKAGES = ("smp-analysis", "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
            "duckdb", "pandera", "pydantic", "papermill", "nbconvert", "pyarrow")


@dataclass(frozen=True)
class Provenance:
    run_at: str
    params_yaml: str
    params_sha256: str
    git_commit: str
    packages: dict[str, str]
    inputs: pd.DataFrame  # kind, path, sha256, rows_read, rows_loaded, rows_quarantined
    synthetic: bool


# git runs the nbstripout clean filter on notebooks when it checks them; the filter may be
# missing (a fresh clone before `make install`) or a different version. Cleanliness is decided
# without it: a notebook counts as changed only when its cells' sources changed, never for
# outputs, execution counts or metadata (which the filter strips on commit anyway).
GIT_WITHOUT_FILTERS = ["-c", "filter.nbstripout.clean=cat", "-c", "filter.nbstripout.smudge=cat",
                       "-c", "filter.nbstripout.required=false"]


def git_commit(directory: Path) -> str:
    """HEAD commit of the checkout holding `directory`, '+dirty' when tracked files differ
    from it (notebooks: only when a cell's source differs)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *GIT_WITHOUT_FILTERS, *args], cwd=directory,
                              capture_output=True, text=True, check=True, timeout=30).stdout

    try:
        head = git("rev-parse", "HEAD").strip()
        status = git("status", "--porcelain=v1", "-z", "--untracked-files=no")
        top = Path(git("rev-parse", "--show-toplevel").strip())
        changed = [p for p in _status_paths(status)
                   if not (p.endswith(".ipynb") and _same_notebook(git, top, p))]
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return head + ("+dirty" if changed else "")


def _status_paths(status: str) -> list[str]:
    """Paths of `git status --porcelain=v1 -z` (a rename's old path follows it: skipped)."""
    paths, entries = [], iter(status.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            next(entries, None)
    return paths


def _same_notebook(git, top: Path, path: str) -> bool:
    """True when the working notebook's cells have the committed sources (outputs aside)."""
    import nbformat

    try:
        committed = nbformat.reads(git("show", f"HEAD:{path}"), as_version=4)
        working = nbformat.read(top / path, as_version=4)
    except Exception:  # noqa: BLE001 - deleted, unreadable or not a notebook: changed
        return False

    def sources(nb) -> list[tuple[str, str]]:
        return [(c.cell_type, c.source) for c in nb.cells]

    return sources(committed) == sources(working)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def collect(params: AssessmentParams, inputs: pd.DataFrame, *, project_dir: Path,
            run_at: dt.datetime | None = None) -> Provenance:
    source = params.source_file
    params_yaml = yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False)
    return Provenance(
        run_at=(run_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M:%S UTC"),
        params_yaml=params_yaml,
        params_sha256=sha256_of(source) if source else "",
        git_commit=git_commit(project_dir),
        packages=package_versions(),
        inputs=inputs,
        synthetic=bool(inputs["synthetic"].any()) if len(inputs) else False,
    )
