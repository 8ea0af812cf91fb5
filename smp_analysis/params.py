"""Assessment parameters: one YAML file per assessment, validated once at the edge.

Everything below the CLI and the notebooks' first cell receives an :class:`AssessmentParams`
object; nothing deeper reads YAML. Relative paths in the file are resolved against the
directory that holds the file, so a params file works from any working directory.

Area codes (ONS GSS codes, LSOA codes) must be YAML *strings*: an unquoted ``0123`` is read
as the integer 83 by YAML, so numbers are rejected with a message that says to quote them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ParamsError, Problem
from .periods import ReportingPeriod

Code = Annotated[StrictStr, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(_Strict):
    code: Code
    name: StrictStr


class ComparisonArea(_Strict):
    """The areas the focus area is ranked among: every district in a police force area."""

    name: StrictStr
    police_force: StrictStr = Field(description="Police_force value in the LSOA lookup")
    districts: list[Code] | None = Field(
        None, description="local authority codes to compare; default: every district the "
        "LSOA lookup assigns to police_force (some real lookups leave the force blank)")


class PeriodParams(_Strict):
    start: dt.date
    end: dt.date
    name: StrictStr | None = None

    @model_validator(mode="after")
    def _ordered_whole_months(self) -> PeriodParams:
        self.to_period()  # raises ValueError with a clear message
        return self

    def to_period(self) -> ReportingPeriod:
        return ReportingPeriod(self.start, self.end, self.name)


class DataSources(_Strict):
    store: Path
    police_uk: list[Path] = Field(min_length=1)
    lsoa_lookup: Path
    census_population: Path
    population_by_year: Path | None = None
    ward_lookup: Path | None = None
    hospital_admissions: Path | None = None
    incidents: Path | None = Field(None, description="victim-level incident extract")
    marac_referrals: Path | None = Field(None, description="Marac referrals extract")
    pseudonym_key_file: Path | None = Field(
        None, description="key for pseudonymising victim IDs (SMP_PSEUDONYM_KEY overrides)")

    def input_paths(self) -> dict[str, Path]:
        """Every input that must exist, keyed by its parameter name (the store may not)."""
        paths = {f"data.police_uk[{i}]": p for i, p in enumerate(self.police_uk)}
        for key in ("lsoa_lookup", "census_population", "population_by_year", "ward_lookup",
                    "hospital_admissions", "incidents", "marac_referrals"):
            value = getattr(self, key)
            if value is not None:
                paths[f"data.{key}"] = value
        return paths


class Exclusion(_Strict):
    """Months left out of expected-volume baselines, with the reason shown in the report."""

    start: dt.date
    end: dt.date
    reason: StrictStr

    @model_validator(mode="after")
    def _ordered(self) -> Exclusion:
        ReportingPeriod(self.start, self.end)
        return self

    def months(self) -> list[str]:
        return [str(m) for m in ReportingPeriod(self.start, self.end).months]


class RecordingChange(_Strict):
    """A change in police recording practice, as data (date, crime types, source)."""

    date: dt.date
    crime_types: list[StrictStr] = Field(min_length=1)
    source: StrictStr
    uplift: float | tuple[float, float] | None = Field(
        None, description="published uplift (e.g. from compliance audits), if any")

    @field_validator("crime_types")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from .categories import POLICE_UK_TYPES

        unknown = [t for t in v if t not in POLICE_UK_TYPES]
        if unknown:
            raise ValueError(f"unknown crime type(s) {unknown}; use police.uk category names")
        return v


class Options(_Strict):
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level of tests")
    suppression_threshold: int = Field(
        5, ge=1, le=20, description="counts below this (and above 0) are shown as '<N'"
    )
    figure_format: Literal["png"] = "png"
    expected_method: Literal["farrington", "seasonal_mean"] = Field(
        "farrington", description="method for anticipated volumes")
    expected_years: int = Field(5, ge=1, le=10, description="years of history in baselines")
    baseline_exclusions: list[Exclusion] = Field(
        default_factory=list, description="months left out of expected-volume baselines")
    repeat_window_days: int = Field(365, ge=1, le=3650,
                                    description="look-back for repeat incidents and referrals")
    domestic_only: bool = Field(True, description="repeat measures on domestic incidents only")
    crimes_only: bool = Field(False, description="repeat measures on crimes only")
    recording_changes: list[RecordingChange] = Field(
        default_factory=list, description="recording-practice changes to adjust trends for")
    max_population_age_years: int = Field(
        3, ge=0, le=20, description="a population estimate more than this many years older "
        "than the assessment period is shown with a caveat")


class AssessmentParams(_Strict):
    """One Strategic Assessment: who, where, when, from which data."""

    assessment: StrictStr = Field(description="short id used in file names, e.g. 2015-16")
    title: StrictStr
    partnership: StrictStr
    focus_area: Area
    comparison_area: ComparisonArea
    period: PeriodParams
    previous_period: PeriodParams | None = None
    data: DataSources
    options: Options = Options()
    source_file: Path | None = Field(None, exclude=True)

    @field_validator("assessment")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", v):
            raise ValueError("use letters, digits, '-', '_' or '.' only (it names output files)")
        return v

    @model_validator(mode="after")
    def _previous_before_current(self) -> AssessmentParams:
        if self.previous_period is not None and self.previous_period.end >= self.period.start:
            raise ValueError("previous_period must end before period starts")
        return self

    @property
    def current(self) -> ReportingPeriod:
        return self.period.to_period()

    @property
    def previous(self) -> ReportingPeriod:
        if self.previous_period is not None:
            return self.previous_period.to_period()
        return self.current.preceding()


def load_params(path: str | Path, *, check_files: bool = True) -> AssessmentParams:
    """Read and validate a params YAML file; every problem is reported in one ParamsError."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(Problem(str(path), "parameters file not found"))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ParamsError(
            Problem(str(path), f"not valid YAML: {exc}", None if line is None else line + 1)
        ) from exc
    if not isinstance(raw, dict):
        raise ParamsError(Problem(str(path), "expected a mapping of keys to values"))
    raw = _resolve_paths(raw, path.parent)
    try:
        params = AssessmentParams.model_validate({**raw, "source_file": path})
    except ValidationError as exc:
        raise ParamsError([_problem(path, err) for err in exc.errors()]) from None
    if check_files:
        missing = [
            Problem(str(path), f"{key}: file or folder not found: {p}")
            for key, p in params.data.input_paths().items()
            if not p.exists()
        ]
        if missing:
            raise ParamsError(missing)
    return params


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    data = raw.get("data")
    if not isinstance(data, dict):
        return raw
    resolved: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            resolved[key] = str((base / value).resolve())
        elif isinstance(value, list):
            resolved[key] = [str((base / v).resolve()) if isinstance(v, str) else v for v in value]
        else:
            resolved[key] = value
    return {**raw, "data": resolved}


def _problem(path: Path, err: dict[str, Any]) -> Problem:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling against docs/parameters.md)"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "string_type" and isinstance(err.get("input"), int | float):
        message = (
            f"expected text but YAML read the number {err['input']!r}; "
            "quote codes, e.g. code: \"E07000110\""
        )
    elif "input" in err and not isinstance(err["input"], dict | list):
        message += f" (got {err['input']!r})"
    return Problem(str(path), f"{key}: {message}")
