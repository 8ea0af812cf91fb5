"""Assessment parameters: one YAML file per assessment, validated once at the edge.

Everything below the CLI and the notebooks' first cell receives an :class:`AssessmentParams`
object; nothing deeper reads YAML. Relative paths in the file are resolved against the
directory that holds the file, so a params file works from any working directory.

Area codes (ONS GSS codes, LSOA codes) must be YAML *strings*: an unquoted ``0123`` is read
as the integer 83 by YAML, so numbers are rejected with a message that says to quote them.

Before validation the YAML is checked for what a YAML loader lets through silently or turns into
a traceback: a key given twice (the second would win without a word) and a date that does not
exist (2023-02-30). Every problem names its key and line.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import InputError, ParamsError, Problem
from .params_priorities import PrioritiesParams, check_priority_names
from .params_yaml import _line_of, _read_yaml
from .periods import ReportingPeriod

MINIMUM_SUPPRESSION_THRESHOLD = 3
ADVISED_SUPPRESSION_THRESHOLD = 5


class ParamsWarning(UserWarning):
    """A valid but unusual parameter (e.g. a suppression threshold below 5)."""


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


# ---- places and patterns: boundary files and near-repeat options -------------------------
class Boundaries(_Strict):
    """Ward and/or LSOA boundary files for the maps (GeoJSON, GeoPackage or shapefile)."""

    wards: Path | None = None
    lsoas: Path | None = None
    ward_code_column: StrictStr | None = Field(
        None, description="column holding ward codes; default: found by name (WD23CD...)")
    lsoa_code_column: StrictStr | None = Field(
        None, description="column holding LSOA codes; default: found by name (LSOA11CD...)")

    def files(self) -> dict[str, Path]:
        """The boundary files given, keyed by level ('ward', 'lsoa')."""
        return {level: path for level, path in (("ward", self.wards), ("lsoa", self.lsoas))
                if path is not None}


class NearRepeatOptions(_Strict):
    """Knox near-repeat test (see docs/methods.md)."""

    crime_types: list[StrictStr] = Field(
        default_factory=lambda: ["Burglary"], description="police.uk crime types to test")
    distance_bands: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: [0, 200, 400, 600, 800, 1000],
        min_length=2, description="band edges in metres: [0, 200, 400] = 0-200 m, 200-400 m")
    same_place_band: bool = Field(
        True, description="add a first band for pairs at the same anonymised map point")
    months_apart: list[Annotated[int, Field(ge=0, le=24)]] = Field(
        default_factory=lambda: [0, 1, 2, 3], min_length=1,
        description="time bands in whole months (police.uk publishes only the month)")
    permutations: int = Field(999, ge=19, le=99_999)

    @field_validator("crime_types")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from .categories import POLICE_UK_TYPES

        unknown = [t for t in v if t not in POLICE_UK_TYPES]
        if unknown:
            raise ValueError(f"unknown crime type(s) {unknown}; use police.uk category names")
        return v

    @field_validator("distance_bands", "months_apart")
    @classmethod
    def _increasing(cls, v: list) -> list:
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("values must increase")
        return v
# ---- end places and patterns ---------------------------------------------------------------


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
    indicators: list[Path] | None = Field(
        None, description="partner-indicator files (docs/data_dictionary.md)")
    boundaries: Boundaries | None = Field(None, description="ward/LSOA boundary files for maps")

    def input_paths(self) -> dict[str, Path]:
        """Every input that must exist, keyed by its parameter name (the store may not)."""
        paths = {f"data.police_uk[{i}]": p for i, p in enumerate(self.police_uk)}
        paths.update({f"data.indicators[{i}]": p for i, p in enumerate(self.indicators or [])})
        for key in ("lsoa_lookup", "census_population", "population_by_year", "ward_lookup",
                    "hospital_admissions", "incidents", "marac_referrals"):
            value = getattr(self, key)
            if value is not None:
                paths[f"data.{key}"] = value
        if self.boundaries is not None:
            for level, path in self.boundaries.files().items():
                paths[f"data.boundaries.{level}s"] = path
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

    @field_validator("uplift")
    @classmethod
    def _interval_low_to_high(cls, v):
        if isinstance(v, tuple) and v[0] > v[1]:
            raise ValueError(f"an uplift interval is written low, high: [{v[1]}, {v[0]}] "
                             f"rather than [{v[0]}, {v[1]}]")
        return v

    @field_validator("crime_types")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from .categories import POLICE_UK_TYPES

        unknown = [t for t in v if t not in POLICE_UK_TYPES]
        if unknown:
            raise ValueError(f"unknown crime {'type' if len(unknown) == 1 else 'types'} "
                             f"{unknown}; use police.uk category names")
        return v


class Options(_Strict):
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level of tests")
    suppression_threshold: int = Field(
        5, le=20, description="victim-level counts from 1 to this minus 1 are suppressed "
        "(shown as [c]), with further cells hidden so they cannot be worked out"
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
    # ---- places and patterns
    near_repeat: NearRepeatOptions = NearRepeatOptions()
    top_fraction: float = Field(0.1, gt=0, le=0.5,
                                description="share of areas in the 'top' group (hotspots)")
    trend_years: int = Field(5, ge=3, le=10, description="years in the multi-year trends")
    max_population_age_years: int = Field(
        3, ge=0, le=20, description="a population estimate more than this many years older "
        "than the assessment period is shown with a caveat")

    @field_validator("suppression_threshold", mode="before")
    @classmethod
    def _threshold(cls, v: Any) -> int:
        # YAML reads `true` as a boolean that pydantic would take for 1 (no suppression)
        if isinstance(v, bool) or not isinstance(v, int) or v < MINIMUM_SUPPRESSION_THRESHOLD:
            raise ValueError(
                f"must be a whole number of at least {MINIMUM_SUPPRESSION_THRESHOLD} (5 or "
                "more is usual for victim data), e.g. suppression_threshold: 5")
        if v < ADVISED_SUPPRESSION_THRESHOLD:
            warnings.warn(
                f"options.suppression_threshold is {v}: counts of {v} and more about victims "
                f"will be published; ONS/GSS practice for such data is "
                f"{ADVISED_SUPPRESSION_THRESHOLD} or more", ParamsWarning, stacklevel=2)
        return v


class ComparisonGroup(_Strict):
    """A named group of areas with its own average, e.g. the Home Office most similar group
    or CIPFA nearest neighbours (codes as in the indicator files)."""

    name: StrictStr = Field(min_length=1)
    districts: list[Code] = Field(min_length=1)


class DateRange(_Strict):
    """A period of an indicator (any dates, as in the indicator files)."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


TARGET_NEEDS = {"best_n_average": "n", "value": "value", "comparison_average": "rule",
                "near_zero_difference": "tolerance"}


class TargetParams(_Strict):
    """An action-plan target for one partner indicator (docs/parameters.md, "targets")."""

    indicator: StrictStr = Field(min_length=1)
    kind: Literal["best_n_average", "half_the_difference", "comparison_average", "value",
                  "near_zero_difference"]
    baseline: DateRange = Field(description="the baseline period (as in the indicator file)")
    target_date: dt.date
    n: int | None = Field(None, ge=1, description="best_n_average: how many best areas")
    group: StrictStr | None = Field(
        None, description="comparison group name; default: the comparison area's districts")
    rule: Literal["reduce_to", "increase_to", "match", "maintain_under",
                  "maintain_over"] | None = None
    value: float | None = Field(None, description="value: the level to reach")
    tolerance: float | None = Field(
        None, ge=0, description="near_zero_difference: largest % difference (actual against "
        "predicted) that counts as near zero")
    measure: Literal["value", "count"] = Field(
        "value", description="value: the target applies to the indicator's value (rate, "
        "percentage); count: to its numerator (e.g. 140 visitors a year)")
    direction: Literal["lower", "higher"] | None = Field(
        None, description="which way is better; default: the indicator's polarity")
    description: StrictStr | None = None

    @model_validator(mode="after")
    def _complete(self) -> TargetParams:
        needed = TARGET_NEEDS.get(self.kind)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} target needs '{needed}'")
        if self.target_date <= self.baseline.end:
            raise ValueError("target_date must be after the end of the baseline period")
        return self


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
    comparison_groups: list[ComparisonGroup] = Field(default_factory=list)
    targets: list[TargetParams] = Field(default_factory=list)
    priorities: PrioritiesParams = PrioritiesParams()
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

    @model_validator(mode="after")
    def _groups_named_once_and_known(self) -> AssessmentParams:
        names = [g.name for g in self.comparison_groups]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"comparison_groups: name(s) {repeated} used more than once")
        for i, target in enumerate(self.targets):
            if target.group is not None and target.group not in names:
                known = ", ".join(repr(n) for n in names) or "none"
                raise ValueError(f"targets[{i}].group: unknown comparison group "
                                 f"{target.group!r}; comparison_groups defines {known}")
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
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise ParamsError(Problem(str(path), f"parameters file {what}"))
    raw, lines = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ParamsError(Problem(str(path), "expected a mapping of keys to values"))
    raw = _resolve_paths(raw, path.parent)
    try:
        params = AssessmentParams.model_validate({**raw, "source_file": path})
    except ValidationError as exc:
        raise ParamsError([_problem(path, err, lines) for err in exc.errors()]) from None
    if check_files:
        missing = [
            Problem(str(path), f"{key}: file or folder not found: {p}",
                    _line_of(lines, tuple(int(k) if k.isdigit() else k
                                          for k in key.replace("[", ".").rstrip("]").split("."))))
            for key, p in params.data.input_paths().items()
            if not p.exists()
        ]
        if missing:
            raise ParamsError(missing)
        _check_target_indicators(path, params, lines)
    return params


def _check_target_indicators(path: Path, params: AssessmentParams, lines: dict) -> None:
    """Every target, and every indicator the priorities name, is one the indicator files
    define (all problems at once)."""
    if not params.data.indicators:
        problems = check_priority_names(path, params, lines, None)
        if problems:
            raise ParamsError(problems)
        return
    from .sources.indicators import indicator_ids

    known: set[str] = set()
    problems = []
    for i, file in enumerate(params.data.indicators):
        try:
            known |= indicator_ids(file)
        except InputError as exc:
            problems += [Problem(str(path), f"data.indicators[{i}]: {p}") for p in exc.problems]
    if problems:
        raise ParamsError(problems)
    for i, target in enumerate(params.targets):
        if target.indicator not in known:
            listed = ", ".join(sorted(known)) or "no indicators"
            problems.append(Problem(str(path), f"targets[{i}].indicator: unknown indicator "
                                    f"{target.indicator!r}; the indicator files define {listed}"))
    problems += check_priority_names(path, params, lines, known)
    if problems:
        raise ParamsError(problems)


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
        elif key == "boundaries" and isinstance(value, dict):
            resolved[key] = {k: str((base / v).resolve()) if k in ("wards", "lsoas")
                             and isinstance(v, str) else v for k, v in value.items()}
        else:
            resolved[key] = value
    return {**raw, "data": resolved}


def _problem(path: Path, err: dict[str, Any], lines: dict[tuple, int] | None = None) -> Problem:
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
    return Problem(str(path), f"{key}: {message}", _line_of(lines or {}, tuple(err["loc"])))
