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
from .disclosure import VICTIM_LEVEL_KINDS, protect, total

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
    suppression_threshold: int = 5

    def input_rows(self) -> tuple[pd.DataFrame, str]:
        """The input files as published, and the reconciliation line (see :func:`input_rows`)."""
        return input_rows(self.inputs, self.suppression_threshold)


ROW_COUNTS = ("rows_read", "rows_loaded", "rows_quarantined")


def input_rows(inputs: pd.DataFrame, threshold: int) -> tuple[pd.DataFrame, str]:
    """Row counts of every input file as text, and the line ``N rows read = L loaded + Q
    quarantined``. Counts of victim-level extracts (a quarantined row or two is a fact about a
    victim's record) pass disclosure control, read = loaded + quarantined protected together;
    the totals leave out any file with a suppressed count, so they cannot reveal it.

    >>> files = pd.DataFrame({"kind": ["police_uk", "incidents"], "rows_read": [900, 500],
    ...                       "rows_loaded": [899, 498], "rows_quarantined": [1, 2]})
    >>> shown, line = input_rows(files, 5)
    >>> shown["rows_quarantined"].tolist(), shown["rows_loaded"].tolist()
    (['1', '[c]'], ['899', '[c]'])
    >>> line  # doctest: +ELLIPSIS
    '900 rows read = 899 loaded + 1 quarantined (not counting 1 victim-level extract whose...'
    """
    shown = inputs.copy()
    complete = pd.Series(True, index=inputs.index)
    for column in ROW_COUNTS:
        shown[column] = [f"{int(v):,}" for v in inputs[column]]
    for i in inputs.index[inputs["kind"].isin(VICTIM_LEVEL_KINDS)]:
        counts = {c: int(inputs.at[i, c]) for c in ROW_COUNTS}
        p = protect(counts, [total("rows_read", ["rows_loaded", "rows_quarantined"])], threshold)
        for column in ROW_COUNTS:
            shown.at[i, column] = p.count(column)
        complete[i] = p.shown(*ROW_COUNTS)
    if not len(inputs):
        return shown, ""
    kept = inputs[complete]
    line = (f"{int(kept['rows_read'].sum()):,} rows read = {int(kept['rows_loaded'].sum()):,} "
            f"loaded + {int(kept['rows_quarantined'].sum()):,} quarantined")
    left_out = int((~complete).sum())
    if left_out:
        line += (f" (not counting {left_out} victim-level extract"
                 f"{'s' if left_out > 1 else ''} whose counts are not all published; [c] "
                 "marks a count withheld to protect confidentiality)")
    return shown, line


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


def scoped_inputs(con, params: AssessmentParams, forces) -> pd.DataFrame:
    """The input files this report draws on: police.uk files of `forces` (the forces of the
    report's areas) and the reference tables, boundaries, partner-indicator files and victim
    extracts its params name. A store
    shared with other assessments holds more; they are not this report's inputs."""
    frame = queries.input_files(con, forces)
    named = {kind for kind in ("lsoa_lookup", "census_population", "population_by_year",
                               "ward_lookup", "hospital_admissions", *VICTIM_LEVEL_KINDS)
             if getattr(params.data, kind, None) is not None}
    boundaries = params.data.boundaries
    if boundaries is not None:
        named |= {f"{level}_boundaries" for level in boundaries.files()}
    keep = (frame["kind"] == "police_uk") | frame["kind"].isin(named)
    indicators = frame["kind"] == "indicators"
    if params.data.indicators is not None:  # without the key the chapter uses every file
        indicators &= frame["path"].isin({str(Path(p).resolve()) for p in params.data.indicators})
    return frame[keep | indicators].reset_index(drop=True)


def collect(params: AssessmentParams, inputs: pd.DataFrame, *, project_dir: Path,
            run_at: dt.datetime | None = None, commit: str | None = None) -> Provenance:
    """The provenance of one appendix. `commit` is :func:`git_commit` of `project_dir` when
    already known (a batch asks git once, not once an appendix)."""
    source = params.source_file
    params_yaml = yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False)
    return Provenance(
        run_at=(run_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M:%S UTC"),
        params_yaml=params_yaml,
        params_sha256=sha256_of(source) if source else "",
        git_commit=commit if commit is not None else git_commit(project_dir),
        packages=package_versions(),
        inputs=inputs,
        synthetic=bool(inputs["synthetic"].any()) if len(inputs) else False,
        suppression_threshold=params.options.suppression_threshold,
    )
