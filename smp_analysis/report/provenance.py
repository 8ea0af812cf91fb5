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
from ..store import queries

VICTIM_KINDS = ("incidents", "marac_referrals")

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


def git_commit(directory: Path) -> str:
    """HEAD commit of the checkout holding `directory`, '+dirty' when it has local changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=directory, capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return head + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def scoped_inputs(con, params: AssessmentParams, forces) -> pd.DataFrame:
    """The input files this report draws on: police.uk files of `forces` (the forces of the
    report's areas) and the reference tables and victim extracts its params name. A store
    shared with other assessments holds more; they are not this report's inputs."""
    frame = queries.input_files(con, forces)
    named = {kind for kind in ("lsoa_lookup", "census_population", "population_by_year",
                               "ward_lookup", "hospital_admissions", *VICTIM_KINDS)
             if getattr(params.data, kind, None) is not None}
    keep = (frame["kind"] == "police_uk") | frame["kind"].isin(named)
    return frame[keep].reset_index(drop=True)


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
